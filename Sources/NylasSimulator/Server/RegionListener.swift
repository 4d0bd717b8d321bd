import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HTTPTypes
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// Adapts Hummingbird requests to the simulator core: region by listener (or `Host`),
/// body collected up to the limit, response written back.
struct SimulatorResponder: HTTPResponder {
    typealias Context = ChannelRequestContext

    let core: SimulatorCore
    let region: Region
    let maxBodyBytes: Int
    /// A request body that has not arrived in full within this wall time is cut off.
    let bodyTimeout: Duration

    func respond(to request: Request, context: Context) async throws -> Response {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        let host = request.head.authority ?? headers["host"] ?? ""
        let region = Region.forHost(host) ?? self.region
        var failure: NylasError?
        var body: [UInt8] = []
        let length = headers["content-length"].flatMap(Int.init)
        if let length, length > maxBodyBytes {
            failure = .payloadTooLarge(limit: maxBodyBytes)
        } else if length == 0 || (headers["content-length"] == nil && headers["transfer-encoding"] == nil) {
            // No body (HTTP/1.1: neither a length nor chunks): nothing to wait for.
        } else {
            let limit = maxBodyBytes
            do {
                body = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                    group.addTask {
                        var req = request
                        let buffer = try await req.collectBody(upTo: limit)
                        return Array(buffer.readableBytesView)
                    }
                    group.addTask {
                        try await Task.sleep(for: bodyTimeout)
                        return nil
                    }
                    let first = try await group.next()!
                    group.cancelAll()
                    guard let bytes = first else { throw BodyTimeout() }
                    return bytes
                }
            } catch is NIOTooManyBytesError {
                failure = .payloadTooLarge(limit: maxBodyBytes)
            } catch is BodyTimeout {
                failure = NylasError(status: 408, type: "invalid_request_error", message: "Request body not received in time")
            }
        }
        let sim = SimRequest(method: request.method.rawValue, target: request.uri.string, headers: headers, body: body)
        var response = await core.handle(sim, region: region, failure: failure)
        if response.dropConnection {
            context.channel.close(mode: .all, promise: nil)
            throw CancellationError()
        }
        if failure != nil { response.headers["Connection"] = "close" }
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let n = HTTPField.Name(name) { fields[n] = value }
        }
        return Response(status: .init(code: response.status), headers: fields,
                        body: .init(byteBuffer: ByteBuffer(bytes: response.body)))
    }

    private struct BodyTimeout: Error {}
}

/// One region's HTTP(S) listener, running until stopped.
final class RegionListener: Sendable {
    let region: Region
    let port: Int
    let baseURL: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(region: Region, port: Int, baseURL: String, group: ServiceGroup, task: Task<Void, any Error>) {
        self.region = region
        self.port = port
        self.baseURL = baseURL
        self.group = group
        self.task = task
    }

    static func start(core: SimulatorCore, region: Region, host: String, port: Int, tls: TLSConfiguration?,
                      maxBodyBytes: Int, bodyTimeout: Duration = .seconds(30), logger: Logger) async throws -> RegionListener {
        let responder = SimulatorResponder(core: core, region: region, maxBodyBytes: maxBodyBytes, bodyTimeout: bodyTimeout)
        let started = StartSignal()
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(120)))
        let app = Application(
            responder: responder,
            server: try tls.map { try HTTPServerBuilder.tls(http1, tlsConfiguration: $0) } ?? http1,
            configuration: .init(address: .hostname(host, port: port), serverName: nil, reuseAddress: true),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                started.value.withLock { $0?.resume(returning: bound); $0 = nil }
            },
            logger: serverLogger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: serverLogger))
        let taskBox = TaskBox()
        let bound = try await withCheckedThrowingContinuation { continuation in
            started.value.withLock { $0 = continuation }
            let task = Task {
                do {
                    try await group.run()
                } catch {
                    started.value.withLock { $0?.resume(throwing: error); $0 = nil }
                    throw error
                }
                started.value.withLock { $0?.resume(throwing: CancellationError()); $0 = nil }
            }
            taskBox.value.withLock { $0 = task }
        }
        let task = taskBox.value.withLock { $0! }
        let scheme = tls == nil ? "http" : "https"
        let urlHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : (host.contains(":") ? "[\(host)]" : host)
        return RegionListener(region: region, port: bound, baseURL: "\(scheme)://\(urlHost):\(bound)", group: group, task: task)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

private final class StartSignal: Sendable {
    let value = Mutex<CheckedContinuation<Int, any Error>?>(nil)
}

private final class TaskBox: Sendable {
    let value = Mutex<Task<Void, any Error>?>(nil)
}
