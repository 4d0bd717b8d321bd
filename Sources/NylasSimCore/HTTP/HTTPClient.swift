import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
#if TLS
import NIOSSL
#endif

/// A small HTTP/1.1 client on SwiftNIO: one request per connection, a hard deadline, HTTPS with
/// a CA the caller names. The simulator sends webhooks and challenges with it; tests use it to
/// talk to a simulator over real sockets.
public struct HTTPClient: Sendable {
    public struct Response: Sendable {
        public let status: Int
        /// Header names lowercased.
        public let headers: [String: String]
        public let body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }
        public var json: JSON? { try? JSON.parse(body) }
    }

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case invalidURL(String)
        case timeout
        case connection(String)

        public var description: String {
            switch self {
            case .invalidURL(let u): "invalid URL \(u)"
            case .timeout: "no answer within the timeout"
            case .connection(let e): "connection failed: \(e)"
            }
        }
    }

    /// Trusted CA certificates (PEM file) for HTTPS, in addition to the system's.
    public var trustedCAFile: String?

    public init(trustedCAFile: String? = nil) { self.trustedCAFile = trustedCAFile }

    /// Sends one request and returns the whole response, or throws on timeout or connection failure.
    public func send(_ method: String, _ url: String, headers: [String: String] = [:], body: [UInt8] = [],
                     timeout: Duration = .seconds(10)) async throws -> Response {
        guard let components = URLComponents(string: url), let host = components.host,
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw Failure.invalidURL(url)
        }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let q = components.percentEncodedQuery { target += "?" + q }
        #if TLS
        let tlsContext: NIOSSLContext? = try scheme == "https" ? {
            var config = TLSConfiguration.makeClientConfiguration()
            if let ca = trustedCAFile { config.trustRoots = .file(ca) }
            return try NIOSSLContext(configuration: config)
        }() : nil
        #else
        // Built without the `TLS` trait: plain HTTP only.
        if scheme == "https" { throw Failure.connection("HTTPS needs the package's TLS trait (built without it)") }
        #endif
        let serverName = host.first?.isNumber == true || host.contains(":") ? nil : host
        var fields = headers.map { ($0.key, $0.value) }
        if !headers.keys.contains(where: { $0.lowercased() == "host" }) {
            fields.append(("Host", components.port.map { "\(host):\($0)" } ?? host))
        }
        fields.append(("Content-Length", String(body.count)))
        fields.append(("Connection", "close"))
        let headHeaders = HTTPHeaders(fields)
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target, headers: headHeaders)
        let bodyBytes = body

        return try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask {
                let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
                let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(.milliseconds(Int64(timeout.milliseconds)))
                let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>> = { channel in
                    channel.eventLoop.makeCompletedFuture {
                        #if TLS
                        if let tlsContext {
                            let handler = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName)
                            try channel.pipeline.syncOperations.addHandler(handler)
                        }
                        #endif
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
                do {
                    // An IP literal connects directly: no resolver, no Happy Eyeballs. If that fails, the
                    // connection is tried again as a host name, whose error is the one reported.
                    if let address = Self.ipAddress(host, port: port),
                       let direct = try? await bootstrap.connect(to: address, channelInitializer: initializer) {
                        channel = direct
                    } else {
                        channel = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
                    }
                } catch {
                    throw Failure.connection("\(error)")
                }
                return try await channel.executeThenClose { inbound, outbound in
                    // One write for the whole request: the server may answer (and, with `Connection: close`,
                    // close) as soon as it has the head and body, so a separate later `.end` could hit a closed channel.
                    var parts: [HTTPClientRequestPart] = [.head(head)]
                    if !bodyBytes.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: bodyBytes)))) }
                    parts.append(.end(nil))
                    // A receiver that answers before reading everything may close first: its answer still counts.
                    var writeError: (any Error)?
                    do { try await outbound.write(contentsOf: parts) } catch { writeError = error }
                    var status = 0
                    var headers: [String: String] = [:]
                    var data: [UInt8] = []
                    for try await part in inbound {
                        switch part {
                        case .head(let h):
                            status = Int(h.status.code)
                            for (name, value) in h.headers { headers[name.lowercased()] = value }
                        case .body(let buffer):
                            data.append(contentsOf: buffer.readableBytesView)
                        case .end:
                            return Response(status: status, headers: headers, body: data)
                        }
                    }
                    guard status != 0 else {
                        throw Failure.connection(writeError.map { "\($0)" } ?? "connection closed before a response")
                    }
                    return Response(status: status, headers: headers, body: data)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else { throw Failure.timeout }
            return response
        }
    }

    /// The socket address of a host that is an IPv4 or IPv6 literal, nil for a name.
    package static func ipAddress(_ host: String, port: Int) -> SocketAddress? {
        var literal = host
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }
        guard let first = literal.first, first.isHexDigit || first == ":" else { return nil }
        return try? SocketAddress(ipAddress: literal, port: port)
    }

    /// Sends a JSON body (or none) and returns the response.
    public func json(_ method: String, _ url: String, _ body: JSON? = nil, headers: [String: String] = [:],
                     timeout: Duration = .seconds(10)) async throws -> Response {
        var h = headers
        if body != nil { h["Content-Type"] = "application/json" }
        return try await send(method, url, headers: h, body: body?.bytes ?? [], timeout: timeout)
    }
}
