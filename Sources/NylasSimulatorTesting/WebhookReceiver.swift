import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import NylasSimCore

/// A webhook receiver for tests: a real local HTTP server that answers challenges, checks
/// signatures, records every notification, and can be scripted to fail.
///
/// ```swift
/// let receiver = try await WebhookReceiver.start()
/// receiver.script(.status(503))          // down until told otherwise
/// receiver.script(.ok)                   // back up
/// receiver.script(.drop, times: 2)       // drop the next two connections
/// ```
public final class WebhookReceiver: Sendable {
    /// How the receiver answers a notification.
    public enum Behaviour: Sendable, Equatable {
        /// 200 OK.
        case ok
        /// Another status.
        case status(Int)
        /// Answer 200 after this much wall time (longer than the attempt timeout reads as no answer).
        case delay(Duration)
        /// Close the connection without answering.
        case drop
    }

    /// One notification received.
    public struct Received: Sendable {
        public let headers: [String: String]
        /// The raw bytes as received (gzip when compressed delivery is on).
        public let body: [UInt8]
        /// Whether `x-nylas-signature` matched one of the trusted secrets (nil when none is trusted).
        public let signatureValid: Bool?
        /// How the receiver answered.
        public let answeredWith: Behaviour

        /// The notification JSON, decompressed when needed.
        public var payload: JSON? { try? JSON.parse(Gzip.isGzip(body) ? Gzip.decompress(body) : body) }
        public var type: String? { payload?["type"]?.stringValue ?? payload?["deltas"]?.arrayValue?.first?["type"]?.stringValue }
    }

    private struct State {
        package var behaviour: Behaviour = .ok
        package var scripted: [Behaviour] = []
        package var challengeBehaviour: Behaviour = .ok
        package var secrets: [String] = []
        package var received: [Received] = []
        package var challenges: [String] = []
    }

    private let state = Mutex(State())
    private let channel: any Channel
    private let connections: ReceiverConnections
    /// The URL to register as `webhook_url` / `callback_url`.
    public let url: String

    private init(url: String, channel: any Channel, connections: ReceiverConnections) {
        self.url = url
        self.channel = channel
        self.connections = connections
    }

    /// Starts a receiver on a free loopback port (or `port`).
    public static func start(host: String = "127.0.0.1", port: Int = 0) async throws -> WebhookReceiver {
        let box = ReceiverBox()
        let connections = ReceiverConnections()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                connections.insert(channel)
                channel.closeFuture.whenComplete { _ in connections.remove(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try sync.addHandler(ReceiverHTTPHandler(box: box))
                }
            }
            .bind(host: host, port: port)
            .get()
        let bound = channel.localAddress?.port ?? port
        let urlHost = host.contains(":") ? "[\(host)]" : host
        let receiver = WebhookReceiver(url: "http://\(urlHost):\(bound)/webhook", channel: channel, connections: connections)
        box.receiver.withLock { $0 = receiver }
        return receiver
    }

    /// Stops accepting, then closes the open connections.
    public func stop() async {
        try? await channel.close()
        for connection in connections.all() { try? await connection.close() }
    }

    // MARK: Scripting

    /// Answers every notification with `behaviour` from now on, or only the next `times` ones.
    public func script(_ behaviour: Behaviour, times: Int? = nil) {
        state.withLock { s in
            if let times { s.scripted += Array(repeating: behaviour, count: times) } else { s.behaviour = behaviour; s.scripted = [] }
        }
    }

    /// How challenges are answered (`.ok` echoes the value; anything else fails verification).
    public func scriptChallenge(_ behaviour: Behaviour) { state.withLock { $0.challengeBehaviour = behaviour } }

    /// Secrets signatures are checked against (a v3 destination's secret, or a v2 client secret).
    public func trust(secret: String) { state.withLock { $0.secrets.append(secret) } }

    // MARK: What arrived

    public var received: [Received] { state.withLock { $0.received } }
    public var challenges: [String] { state.withLock { $0.challenges } }

    // MARK: Answering

    /// What to answer a request: a challenge (`GET ?challenge=`) is echoed, a notification recorded.
    fileprivate func behaviour(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8]) -> (Behaviour, String) {
        if method == .GET, let challenge = URLComponents(string: uri)?.queryItems?.first(where: { $0.name == "challenge" })?.value {
            let behaviour = state.withLock { s in
                s.challenges.append(challenge)
                return s.challengeBehaviour
            }
            return (behaviour, challenge)
        }
        var fields: [String: String] = [:]
        for field in headers {
            let name = field.name.lowercased()
            fields[name] = fields[name].map { "\($0), \(field.value)" } ?? field.value
        }
        let behaviour = state.withLock { s -> Behaviour in
            let b = s.scripted.isEmpty ? s.behaviour : s.scripted.removeFirst()
            let signature = fields["x-nylas-signature"]
            let valid: Bool? = s.secrets.isEmpty ? nil
                : signature.map { sig in s.secrets.contains { WebhookSignature.verify(body, signature: sig, secret: $0) } } ?? false
            s.received.append(Received(headers: fields, body: body, signatureValid: valid, answeredWith: b))
            return b
        }
        return (behaviour, "")
    }
}

/// One connection of a receiver: collects each request (up to 64 MiB), asks the receiver how to
/// answer, and answers, after a delay, with a status, or by closing the connection.
private final class ReceiverHTTPHandler: ChannelInboundHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias OutboundOut = HTTPServerResponsePart

    private static let maxBody = 64 * 1024 * 1024
    private let box: ReceiverBox
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    package init(box: ReceiverBox) { self.box = box }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
        case .body(let chunk):
            guard body.count + chunk.readableBytes <= Self.maxBody else {
                context.close(promise: nil)
                return
            }
            body.append(contentsOf: chunk.readableBytesView)
        case .end:
            guard let head, let receiver = box.receiver.withLock({ $0 }) else {
                context.close(promise: nil)
                return
            }
            self.head = nil
            let (behaviour, text) = receiver.behaviour(method: head.method, uri: head.uri, headers: head.headers, body: body)
            body = []
            let keepAlive = head.isKeepAlive
            switch behaviour {
            case .ok: write(context, status: 200, text: text, version: head.version, keepAlive: keepAlive)
            case .status(let code): write(context, status: code, text: "failure", version: head.version, keepAlive: keepAlive)
            case .drop: context.close(promise: nil)
            case .delay(let d):
                let parts = d.components
                let delay = TimeAmount.nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: delay) {
                    let (handler, context) = bound.value
                    handler.write(context, status: 200, text: text, version: head.version, keepAlive: keepAlive)
                }
            }
        }
    }

    private func write(_ context: ChannelHandlerContext, status: Int, text: String, version: HTTPVersion, keepAlive: Bool) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status),
                                                             headers: headers))), promise: nil)
        if !text.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

private final class ReceiverBox: Sendable { let receiver = Mutex<WebhookReceiver?>(nil) }

/// The open connections of a receiver, closed when it stops.
private final class ReceiverConnections: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
    package func insert(_ c: any Channel) { channels.withLock { $0[ObjectIdentifier(c)] = c } }
    package func remove(_ c: any Channel) { channels.withLock { $0[ObjectIdentifier(c)] = nil } }
    package func all() -> [any Channel] { channels.withLock { Array($0.values) } }
}
