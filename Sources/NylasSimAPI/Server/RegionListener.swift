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
/// and the answer goes out as one buffer, head and body together, encoded here.
///
/// It sits right after NIO's request decoder and does the rest of the server's HTTP work itself:
/// pipelined requests wait in order while one is answered (reads pause meanwhile), a request the
/// decoder cannot parse gets `400 Bad Request` and a close, and a streamed answer goes out chunked.
/// One handler instead of NIO's pipelining, error, header-validation, encoder and idle handlers
/// saves each answer four hops and five writes through the pipeline.
package final class SimulatorHTTPHandler: ChannelDuplexHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private enum State {
        /// Waiting for a request head.
        case idle
        /// A head has arrived; its body is being collected.
        case receiving
        /// The request is with the core, or its answer is going out: what arrives now waits.
        case answering
    }

    private let core: Engine
    private let region: Region
    private let hosts: HostAllowList
    /// The connection's head timer, told when a head has arrived and when the answer went out.
    private let headTimeout: HeadTimeoutHandler?
    private let maxBodyBytes: Int
    private let bodyTimeout: TimeAmount

    private var state = State.idle
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var timer: Scheduled<Void>?
    /// Request parts that arrived while an answer was in progress (pipelining), taken in order.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    /// A read the channel asked for while an answer was in progress, issued once it is out.
    private var readPending = false
    /// The decoder failed on a request behind the one being answered: the requests before it are
    /// answered, then it gets its 400.
    private var parseFailed = false

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
        let part = unwrapInboundIn(data)
        if state == .answering {
            queued.append(part)
        } else {
            receive(context, part)
        }
    }

    /// Holds reads while an answer is in progress, so a pipelining client waits in its socket.
    package func read(context: ChannelHandlerContext) {
        if state == .answering {
            readPending = true
        } else {
            context.read()
        }
    }

    private func receive(_ context: ChannelHandlerContext, _ part: HTTPServerRequestPart) {
        switch part {
        case .head(let h):
            state = .receiving
            head = h
            body = nil
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
                    var line = context.channel.allocator.buffer(capacity: 32)
                    line.writeString("HTTP/\(h.version.major).\(h.version.minor) 100 Continue\r\n\r\n")
                    context.writeAndFlush(wrapOutboundOut(line), promise: nil)
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
            guard let head else { return }
            self.head = nil
            answer(context, head: head, body: body.map { Array($0.readableBytesView) } ?? [], failure: nil)
            body = nil
        }
    }

    /// Answers the request in progress with `failure` before its body has ended; the rest of the
    /// body is never read, and the connection closes after the answer.
    private func answerEarly(_ context: ChannelHandlerContext, _ failure: NylasError) {
        guard let head, state == .receiving else { return }
        timer?.cancel()
        timer = nil
        self.head = nil
        body = nil
        answer(context, head: head, body: [], failure: failure)
    }

    private func answer(_ context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8], failure: NylasError?) {
        state = .answering
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
        if response.dropConnection {
            context.close(promise: nil)
            return
        }
        let allocator = context.channel.allocator
        guard let stream = response.stream else {
            headTimeout?.requestAnswered()
            let buffer = Self.encode(response, version: version, keepAlive: keepAlive, chunked: false, allocator: allocator)
            if keepAlive {
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
                answered(context)
            } else {
                writeThenClose(context, buffer)
            }
            return
        }
        // No Content-Length: the body goes out chunked, each write of the stream a chunk (an
        // HTTP/1.0 client, which knows no chunks, reads it to the close).
        let chunked = version.major > 1 || version.minor >= 1
        let keepAlive = keepAlive && chunked
        context.writeAndFlush(wrapOutboundOut(Self.encode(response, version: version, keepAlive: keepAlive, chunked: chunked,
                                                           allocator: allocator)), promise: nil)
        let channel = context.channel
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        Task {
            await stream(ChannelStreamSink(channel: channel, chunked: chunked))
            if chunked { try? await channel.writeAndFlush(ChannelStreamSink.lastChunk) }
            if !keepAlive {
                try? await channel.close()
                return
            }
            channel.eventLoop.execute {
                let (handler, context) = loopBound.value
                guard context.channel.isActive else { return }
                handler.headTimeout?.requestAnswered()
                handler.answered(context)
            }
        }
    }

    /// The answer is out and the connection stays: the requests that waited are taken in order.
    private func answered(_ context: ChannelHandlerContext) {
        state = .idle
        while state != .answering, let part = queued.popFirst() {
            receive(context, part)
        }
        if state != .answering, parseFailed {
            badRequest(context)
        } else if state != .answering, readPending {
            readPending = false
            context.read()
        }
    }

    /// The whole answer (or, chunked, its head and first chunk) as bytes on the wire.
    static func encode(_ response: SimResponse, version: HTTPVersion, keepAlive: Bool, chunked: Bool,
                       allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 160 + response.headers.count * 48 + response.body.count)
        buffer.writeStaticString("HTTP/")
        buffer.writeString(String(version.major))
        buffer.writeStaticString(".")
        buffer.writeString(String(version.minor))
        buffer.writeStaticString(" ")
        buffer.writeString(String(response.status))
        buffer.writeStaticString(" ")
        buffer.writeString(HTTPResponseStatus(statusCode: response.status).reasonPhrase)
        buffer.writeStaticString("\r\n")
        for (name, value) in response.headers where Self.sendable(name, value) {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if !keepAlive { buffer.writeStaticString("Connection: close\r\n") }
        if chunked {
            buffer.writeStaticString("Transfer-Encoding: chunked\r\n\r\n")
            if !response.body.isEmpty { ChannelStreamSink.writeChunk(response.body, to: &buffer) }
        } else {
            // A 1xx or 204 answer has no body and says no length (RFC 9110 §8.6).
            if response.status >= 200, response.status != 204 {
                buffer.writeStaticString("Content-Length: ")
                buffer.writeString(String(response.body.count))
                buffer.writeStaticString("\r\n")
            }
            buffer.writeStaticString("\r\n")
            buffer.writeBytes(response.body)
        }
        return buffer
    }

    /// A header this encoder writes as given: not one of the framing headers it sets itself, and
    /// with no byte that would end the line or the name early (a value never splits the answer).
    private static func sendable(_ name: String, _ value: String) -> Bool {
        if name.isEmpty || name.utf8.contains(where: { $0 <= 32 || $0 == 58 || $0 == 127 }) { return false }
        if value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) { return false }
        switch name.utf8.count {
        case 10: return name.lowercased() != "connection"
        case 14: return name.lowercased() != "content-length"
        case 17: return name.lowercased() != "transfer-encoding"
        default: return true
        }
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.close(promise: nil)
            return
        }
        // A request the decoder could not parse: 400 and the close, once the answers to the
        // requests before it are out. Nothing after it is read.
        if state == .answering {
            parseFailed = true
        } else {
            badRequest(context)
        }
    }

    private func badRequest(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        state = .answering
        queued.removeAll()
        guard context.channel.isActive else { return }
        var buffer = context.channel.allocator.buffer(capacity: 80)
        buffer.writeStaticString("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        writeThenClose(context, buffer)
    }

    /// Sends the last bytes of the connection, then closes it.
    private func writeThenClose(_ context: ChannelHandlerContext, _ buffer: ByteBuffer) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }

    package func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        queued.removeAll()
        context.fireChannelInactive()
    }
}

/// Closes a connection whose request head has begun but not ended in time, or that has sat idle
/// between requests for `idleTimeout`. It sits before the HTTP decoder, so it sees the raw bytes:
/// the first byte of a request starts the timer, the decoded head (told by `SimulatorHTTPHandler`)
/// stops it, the answer (a streamed one once its stream ends) re-arms it for the next one.
package final class HeadTimeoutHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ByteBuffer

    private enum State { case idle, awaitingHead, inRequest }
    private let timeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var state = State.idle
    /// When the head in progress began (its first byte).
    private var headStarted = NIODeadline.now()
    /// When the connection last went idle (opened, or its last answer went out).
    private var idleSince = NIODeadline.now()
    /// One repeating check per connection, not a timer per request: a request only notes a time.
    private var check: RepeatedTask?

    package init(timeout: Duration, idleTimeout: Duration = .seconds(120)) {
        func amount(_ d: Duration) -> TimeAmount {
            let parts = d.components
            return .nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
        }
        self.timeout = amount(timeout)
        self.idleTimeout = amount(idleTimeout)
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        idleSince = .now()
        let interval = TimeAmount.nanoseconds(max(min(timeout, idleTimeout).nanoseconds / 4, 100_000_000))
        let bound = NIOLoopBound((self, context.channel), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, channel) = bound.value
            let now = NIODeadline.now()
            switch handler.state {
            case .awaitingHead where now - handler.headStarted >= handler.timeout,
                 .idle where now - handler.idleSince >= handler.idleTimeout:
                channel.close(promise: nil)
            default:
                break
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
        if state == .inRequest {
            state = .idle
            idleSince = .now()
        }
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
                    try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
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
    /// Each write framed as an HTTP/1.1 chunk (otherwise, for HTTP/1.0, sent as is).
    let chunked: Bool

    /// The chunk that ends a chunked body.
    static let lastChunk = ByteBuffer(string: "0\r\n\r\n")

    static func writeChunk(_ bytes: [UInt8], to buffer: inout ByteBuffer) {
        buffer.writeString(String(bytes.count, radix: 16))
        buffer.writeStaticString("\r\n")
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    func write(_ bytes: [UInt8]) async -> Bool {
        guard channel.isActive else { return false }
        guard !bytes.isEmpty else { return true }  // an empty chunk would end the body
        var buffer = channel.allocator.buffer(capacity: bytes.count + 12)
        if chunked { Self.writeChunk(bytes, to: &buffer) } else { buffer.writeBytes(bytes) }
        do {
            try await channel.writeAndFlush(buffer)
            return true
        } catch {
            return false
        }
    }
}
