import Foundation
import NylasSimAPI
import NylasSimCore
import Synchronization

/// `nylas-sim proxy`: a recording reverse proxy. A client pointed at it talks to the upstream (real
/// Nylas over HTTPS with the system's CAs, or any HTTP server) unchanged; each exchange is appended
/// to a JSON Lines file with every secret redacted (`DriftRedaction`). It runs on the simulator's own
/// listener (NIO, body limits, Host allow-list) with a forwarding answer instead of the router.
public final class DriftProxy: Sendable {
    public struct Options: Sendable {
        public var upstream: String
        public var recordPath: String
        public var host = "127.0.0.1"
        public var port = 0
        public var shapeOnly = false
        /// Wall time the upstream has to answer one request.
        public var timeout: Duration = .seconds(120)
        public var maxBodyBytes = 200 * 1024 * 1024
        /// Trusted CA for an HTTPS upstream beside the system's (tests).
        public var trustedCAFile: String?
        public init(upstream: String, recordPath: String) {
            self.upstream = upstream
            self.recordPath = recordPath
        }
    }

    private let listener: RegionListener
    private let core: Engine
    private let file: RecordingFile
    /// The proxy's base URL: point the client's API URL here.
    public var baseURL: String { listener.baseURL }

    private init(listener: RegionListener, core: Engine, file: RecordingFile) {
        self.listener = listener
        self.core = core
        self.file = file
    }

    public static func start(_ options: Options) async throws -> DriftProxy {
        guard let up = URL(string: options.upstream), let scheme = up.scheme, ["http", "https"].contains(scheme), up.host != nil else {
            throw NylasError.invalidRequest("--upstream must be an http:// or https:// URL")
        }
        FileManager.default.createFile(atPath: options.recordPath, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: options.recordPath) else {
            throw NylasError.invalidRequest("cannot write the recording to \(options.recordPath)")
        }
        let file = RecordingFile(handle)
        let upstream = options.upstream.hasSuffix("/") ? String(options.upstream.dropLast()) : options.upstream
        var simOptions = SimulatorOptions(seed: "proxy")
        simOptions.settings.maxBodyBytes = options.maxBodyBytes
        let core = try Engine(options: simOptions) { _, request, _, failure in
            if let failure { return SimResponse.json(failure.body(surface: .v3, requestID: "proxy"), status: failure.status) }
            return await forward(request, upstream: upstream, options: options, file: file)
        }
        let listener = try await RegionListener.start(core: core, region: .us, host: options.host, port: options.port, tls: nil,
                                                      hosts: HostAllowList(extra: []), maxBodyBytes: options.maxBodyBytes,
                                                      bodyTimeout: .seconds(300))
        return DriftProxy(listener: listener, core: core, file: file)
    }

    public func stop() async {
        await listener.stop()
        core.stopDriver()
        file.close()
    }

    /// Headers that belong to one hop, not to the exchange.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
                                        "host", "content-length"]

    static func forward(_ request: SimRequest, upstream: String, options: Options, file: RecordingFile) async -> SimResponse {
        let query = request.query.encoded
        let target = upstream + request.path + (query.isEmpty ? "" : "?" + query)
        let headers = request.headers.filter { !hopByHop.contains($0.key.lowercased()) }
        let response: HTTPClient.Response
        do {
            response = try await HTTPClient(trustedCAFile: options.trustedCAFile)
                .send(request.method, target, headers: headers, body: request.body, timeout: options.timeout)
        } catch {
            let e = NylasError(status: 502, type: "proxy_error", message: "The upstream did not answer: \(error)")
            return SimResponse.json(e.body(surface: .v3, requestID: "proxy"), status: 502)
        }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var requestHeaders = DriftRedaction.headers(headers)
        // A credential the upstream refused stays a refused one in the replay.
        if response.status == 401, requestHeaders["authorization"] != nil { requestHeaders["authorization"] = "Bearer <rejected-token>" }
        let exchange = DriftExchange(
            time: f.string(from: Date()), method: request.method, path: request.path,
            query: DriftRedaction.query(query), requestHeaders: requestHeaders,
            requestBody: DriftRedaction.payload(request.body, contentType: request.headers.first { $0.key.lowercased() == "content-type" }?.value,
                                                shapeOnly: options.shapeOnly),
            status: response.status, responseHeaders: DriftRedaction.headers(response.headers),
            responseBody: DriftRedaction.payload(response.body, contentType: response.headers["content-type"], shapeOnly: options.shapeOnly))
        let line = exchange.json.bytes + [0x0A]
        file.append(line)
        return SimResponse(status: response.status, headers: response.headers.filter { !hopByHop.contains($0.key) }, body: response.body)
    }
}

/// The recording, appended to one line at a time from concurrent requests.
final class RecordingFile: Sendable {
    private let handle: Mutex<FileHandle?>
    init(_ h: FileHandle) { handle = Mutex(h) }
    func append(_ bytes: [UInt8]) { handle.withLock { h in try? h?.write(contentsOf: Data(bytes)) } }
    func close() {
        handle.withLock { h in
            try? h?.close()
            h = nil
        }
    }
}
