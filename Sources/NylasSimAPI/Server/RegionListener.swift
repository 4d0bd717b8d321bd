import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
#if TLS
import NIOSSL
/// The listeners' TLS set-up (the `TLS` trait's NIOSSL configuration).
package typealias ServerTLS = TLSConfiguration
#else
/// Built without the `TLS` trait: listeners serve plain HTTP; no value of this type exists.
package enum ServerTLS: Sendable {}
#endif
import Synchronization
import NylasSimCore

/// One connection's HTTP/1.1 exchange with the simulator core: the request head and body are
/// collected on the event loop (up to the size limit, within the body timeout), the core answers,
/// and the answer is written back. NIO's pipelining handler keeps answers in request order.
package final class SimulatorHTTPHandler: ChannelInboundHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias OutboundOut = HTTPServerResponsePart

    private let core: Engine
    private let region: Region
    private let hosts: HostAllowList
    /// The connection's head timer, told when a head has arrived and when the answer went out.
    private let headTimeout: HeadTimeoutHandler?
    private let maxBodyBytes: Int
    private let bodyTimeout: TimeAmount

    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var timer: Scheduled<Void>?
    /// The request was answered before its body ended (too large, too slow): the rest of it is
    /// ignored and the connection closes after the answer.
    private var answeredEarly = false

    package init(core: Engine, region: Region, hosts: HostAllowList, headTimeout: HeadTimeoutHandler? = nil, maxBodyBytes: Int,
                 bodyTimeout: Duration) {
        self.core = core
        self.region = region
        self.hosts = hosts
        self.headTimeout = headTimeout
        self.maxBodyBytes = maxBodyBytes
        let parts = bodyTimeout.components
        self.bodyTimeout = .nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = nil
            answeredEarly = false
            headTimeout?.headReceived()
            let length = h.headers.first(name: "content-length").flatMap(Int.init)
            let codings = h.headers[canonicalForm: "transfer-encoding"].map { $0.lowercased() }
            if !codings.isEmpty, codings != ["chunked"] {
                // `gzip, chunked` and the like: the body would be read as if only chunked.
                answerEarly(context, NylasError.invalidRequest(
                    "Transfer-Encoding \(codings.joined(separator: ", ")) is not supported: send the body as is, or chunked"))
            } else if let length, length > maxBodyBytes {
                answerEarly(context, .payloadTooLarge(limit: maxBodyBytes))
            } else if (length ?? 0) > 0 || h.headers.contains(name: "transfer-encoding") {
                // A client that waits for leave to send its body (curl does above 1 MiB) gets it.
                if h.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .continue))),
                                          promise: nil)
                }
                // A body is coming: it has `bodyTimeout` to arrive in full.
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                timer = context.eventLoop.scheduleTask(in: bodyTimeout) {
                    let (handler, context) = loopBound.value
                    handler.answerEarly(context, NylasError(status: 408, type: "invalid_request_error",
                                                            message: "Request body not received in time"))
                }
            }
        case .body(var chunk):
            guard !answeredEarly else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > maxBodyBytes {
                answerEarly(context, .payloadTooLarge(limit: maxBodyBytes))
            } else if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            timer?.cancel()
            timer = nil
            guard !answeredEarly, let head else { return }
            self.head = nil
            answer(context, head: head, body: body.map { Array($0.readableBytesView) } ?? [], failure: nil)
            body = nil
        }
    }

    /// Answers the request in progress with `failure` before its body has ended; the connection
    /// closes after the answer.
    private func answerEarly(_ context: ChannelHandlerContext, _ failure: NylasError) {
        guard let head, !answeredEarly else { return }
        timer?.cancel()
        timer = nil
        answeredEarly = true
        body = nil
        answer(context, head: head, body: [], failure: failure)
    }

    private func answer(_ context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8], failure: NylasError?) {
        var headers: [String: String] = [:]
        for field in head.headers {
            let name = field.name.lowercased()
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        let region = Region.forHost(headers["host"] ?? "") ?? self.region
        let request = SimRequest(method: head.method.rawValue, target: head.uri, headers: headers, body: body)
        let core = self.core
        var failure = failure
        if failure == nil {
            if headers["host"] == nil, head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1) {
                failure = NylasError.invalidRequest("An HTTP/1.1 request needs a Host header")
            } else if !hosts.allows(headers["host"]) {
                failure = NylasError.forbidden(
                    "Host \(headers["host"] ?? "") is not a name of this simulator (serve --allowed-host adds one)")
            }
        }
        let keepAlive = head.isKeepAlive && failure == nil
        let promise = context.eventLoop.makePromise(of: SimResponse.self)
        if body.count >= BulkExecutor.threshold {
            // A large body is parsed, handled and rendered on a thread of its own, not on this
            // connection's event loop, whose other connections would wait for it.
            Task(executorPreference: BulkExecutor.shared) {
                promise.succeed(await core.handle(request, region: region, failure: failure))
            }
        } else {
            promise.completeWithTask { await core.handle(request, region: region, failure: failure) }
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { response in
            let (handler, context) = loopBound.value
            handler.write(context, response, version: head.version, keepAlive: keepAlive)
        }
    }

    private func write(_ context: ChannelHandlerContext, _ response: SimResponse, version: HTTPVersion, keepAlive: Bool) {
        guard context.channel.isActive else { return }  // a streamed body's closure is dropped unrun
        headTimeout?.requestAnswered()
        if response.dropConnection {
            context.close(promise: nil)
            return
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(response.headers.count + 2)
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        if let stream = response.stream {
            // No Content-Length: the encoder sends the body chunked, each write a chunk.
            headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
            let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if !response.body.isEmpty {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
            }
            context.flush()
            let channel = context.channel
            Task {
                await stream(ChannelStreamSink(channel: channel))
                try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
                if !keepAlive { try? await channel.close() }
            }
            return
        }
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, head == nil {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Closes a connection whose request head has begun but not ended in time. It sits before the
/// HTTP decoder, so it sees the raw bytes: the first byte of a request starts the timer, the
/// decoded head (told by `SimulatorHTTPHandler`) stops it, the answer re-arms it for the next one.
package final class HeadTimeoutHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ByteBuffer

    private enum State { case idle, awaitingHead, inRequest }
    private let timeout: TimeAmount
    private var state = State.idle
    /// When the head in progress began (its first byte).
    private var headStarted = NIODeadline.now()
    /// One repeating check per connection, not a timer per request: a request only notes a time.
    private var check: RepeatedTask?

    package init(timeout: Duration) {
        let parts = timeout.components
        self.timeout = .nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        let interval = TimeAmount.nanoseconds(max(timeout.nanoseconds / 4, 100_000_000))
        let bound = NIOLoopBound((self, context.channel), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, channel) = bound.value
            if handler.state == .awaitingHead, NIODeadline.now() - handler.headStarted >= handler.timeout {
                channel.close(promise: nil)
            }
        }
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if state == .idle {
            state = .awaitingHead
            headStarted = .now()
        }
        context.fireChannelRead(data)
    }

    /// The decoder delivered a whole head.
    package func headReceived() {
        state = .inRequest
    }

    /// The answer is on its way: the next byte starts the next request.
    package func requestAnswered() {
        if state == .inRequest { state = .idle }
    }

    package func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        context.fireChannelInactive()
    }
}

/// One region's HTTP(S) listener on NIO, running until stopped.
package final class RegionListener: Sendable {
    package let region: Region
    package let port: Int
    package let baseURL: String
    private let channel: any Channel
    private let connections: ConnectionSet

    private init(region: Region, port: Int, baseURL: String, channel: any Channel, connections: ConnectionSet) {
        self.region = region
        self.port = port
        self.baseURL = baseURL
        self.channel = channel
        self.connections = connections
    }

    package static func start(core: Engine, region: Region, host: String, port: Int, tls: ServerTLS?,
                               hosts: HostAllowList, headTimeout: Duration = .seconds(30), maxBodyBytes: Int, bodyTimeout: Duration = .seconds(30)) async throws -> RegionListener {
        #if TLS
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        #endif
        let connections = ConnectionSet()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                connections.insert(channel)
                channel.closeFuture.whenComplete { _ in connections.remove(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    #if TLS
                    if let sslContext { try sync.addHandler(NIOSSLServerHandler(context: sslContext)) }
                    #endif
                    let headTimer = HeadTimeoutHandler(timeout: headTimeout)
                    try sync.addHandler(headTimer)
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try sync.addHandler(IdleStateHandler(allTimeout: .seconds(120)))
                    try sync.addHandler(SimulatorHTTPHandler(core: core, region: region, hosts: hosts, headTimeout: headTimer,
                                                             maxBodyBytes: maxBodyBytes,
                                                             bodyTimeout: bodyTimeout))
                }
            }
            .bind(host: host, port: port)
            .get()
        let bound = channel.localAddress?.port ?? port
        let scheme = tls == nil ? "http" : "https"
        let urlHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : (host.contains(":") ? "[\(host)]" : host)
        return RegionListener(region: region, port: bound, baseURL: "\(scheme)://\(urlHost):\(bound)", channel: channel,
                              connections: connections)
    }

    /// Stops accepting, then closes the open connections.
    package func stop() async {
        try? await channel.close()
        for connection in connections.all() { try? await connection.close() }
    }
}

/// The open connections of a listener, closed when it stops.
private final class ConnectionSet: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
    package func insert(_ c: any Channel) { channels.withLock { $0[ObjectIdentifier(c)] = c } }
    package func remove(_ c: any Channel) { channels.withLock { $0[ObjectIdentifier(c)] = nil } }
    package func all() -> [any Channel] { channels.withLock { Array($0.values) } }
}

/// The executor of requests with large bodies (`threshold` bytes and more): one thread of its own,
/// so that parsing and rendering megabytes never holds an event loop that other connections use.
package final class BulkExecutor: TaskExecutor, @unchecked Sendable {
    package static let shared = BulkExecutor()
    /// 1 MiB.
    package static let threshold = 1 << 20
    private let queue = DispatchQueue(label: "nylas-sim.bulk-requests")

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}

/// A streamed body's chunks, written to the connection from any task.
struct ChannelStreamSink: ResponseStreamSink {
    let channel: any Channel

    func write(_ bytes: [UInt8]) async -> Bool {
        guard channel.isActive else { return false }
        do {
            try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes))))
            return true
        } catch {
            return false
        }
    }
}
