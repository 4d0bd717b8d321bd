import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

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
        var behaviour: Behaviour = .ok
        var scripted: [Behaviour] = []
        var challengeBehaviour: Behaviour = .ok
        var secrets: [String] = []
        var received: [Received] = []
        var challenges: [String] = []
    }

    private let state = Mutex(State())
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    /// The URL to register as `webhook_url` / `callback_url`.
    public let url: String

    private init(url: String, group: ServiceGroup, task: Task<Void, any Error>) {
        self.url = url
        self.group = group
        self.task = task
    }

    /// Starts a receiver on a free loopback port.
    public static func start(host: String = "127.0.0.1", port: Int = 0) async throws -> WebhookReceiver {
        let box = ReceiverBox()
        let responder = CallbackResponder<ChannelRequestContext> { request, context in
            guard let receiver = box.receiver.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await receiver.answer(request, context)
        }
        let started = ReceiverStart()
        var logger = Logger(label: "nylas-sim.webhook-receiver")
        logger.logLevel = .critical
        let app = Application(
            responder: responder, configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in started.value.withLock { $0?.resume(returning: channel.localAddress?.port ?? port); $0 = nil } },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let taskBox = ReceiverTask()
        let bound = try await withCheckedThrowingContinuation { continuation in
            started.value.withLock { $0 = continuation }
            let task = Task {
                do { try await group.run() } catch {
                    started.value.withLock { $0?.resume(throwing: error); $0 = nil }
                    throw error
                }
            }
            taskBox.value.withLock { $0 = task }
        }
        let receiver = WebhookReceiver(url: "http://\(host):\(bound)/webhook", group: group, task: taskBox.value.withLock { $0! })
        box.receiver.withLock { $0 = receiver }
        return receiver
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
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

    private func answer(_ request: Request, _ context: ChannelRequestContext) async throws -> Response {
        if request.method == .get, let challenge = request.uri.queryParameters["challenge"].map(String.init) {
            let behaviour = state.withLock { s in
                s.challenges.append(challenge)
                return s.challengeBehaviour
            }
            return try await respond(behaviour, context, body: challenge)
        }
        var req = request
        let buffer = try await req.collectBody(upTo: 64 * 1024 * 1024)
        let body = Array(buffer.readableBytesView)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let behaviour = state.withLock { s -> Behaviour in
            let b = s.scripted.isEmpty ? s.behaviour : s.scripted.removeFirst()
            let signature = headers["x-nylas-signature"]
            let valid: Bool? = s.secrets.isEmpty ? nil
                : signature.map { sig in s.secrets.contains { WebhookSignature.verify(body, signature: sig, secret: $0) } } ?? false
            s.received.append(Received(headers: headers, body: body, signatureValid: valid, answeredWith: b))
            return b
        }
        return try await respond(behaviour, context, body: "")
    }

    private func respond(_ behaviour: Behaviour, _ context: ChannelRequestContext, body: String) async throws -> Response {
        switch behaviour {
        case .ok:
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: body)))
        case .status(let code):
            return Response(status: .init(code: code), body: .init(byteBuffer: ByteBuffer(string: "failure")))
        case .delay(let d):
            try await Task.sleep(for: d)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: body)))
        case .drop:
            context.channel.close(mode: .all, promise: nil)
            throw CancellationError()
        }
    }
}

/// A request context that keeps the channel, so that a dropped connection can be closed.
struct ChannelRequestContext: Hummingbird.RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

private final class ReceiverBox: Sendable { let receiver = Mutex<WebhookReceiver?>(nil) }
private final class ReceiverStart: Sendable { let value = Mutex<CheckedContinuation<Int, any Error>?>(nil) }
private final class ReceiverTask: Sendable { let value = Mutex<Task<Void, any Error>?>(nil) }
