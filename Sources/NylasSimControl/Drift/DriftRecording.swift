import Foundation
import NylasSimCore

/// One recorded exchange of a client with real Nylas (or any upstream): a line of the JSON Lines
/// recording written by `nylas-sim proxy`, secrets redacted.
public struct DriftExchange: Sendable {
    public var time: String
    public var method: String
    public var path: String
    public var query: String
    public var requestHeaders: [String: String]
    public var requestBody: JSON
    public var status: Int
    public var responseHeaders: [String: String]
    public var responseBody: JSON

    var json: JSON {
        ["time": .string(time), "method": .string(method), "path": .string(path), "query": .string(query),
         "request_headers": .object(requestHeaders.mapValues(JSON.string)), "request_body": requestBody,
         "status": .int(status), "response_headers": .object(responseHeaders.mapValues(JSON.string)), "response_body": responseBody]
    }

    init(time: String, method: String, path: String, query: String, requestHeaders: [String: String], requestBody: JSON,
         status: Int, responseHeaders: [String: String], responseBody: JSON) {
        self.time = time
        self.method = method
        self.path = path
        self.query = query
        self.requestHeaders = requestHeaders
        self.requestBody = requestBody
        self.status = status
        self.responseHeaders = responseHeaders
        self.responseBody = responseBody
    }

    init?(json j: JSON) {
        guard let method = j["method"]?.stringValue, let path = j["path"]?.stringValue, let status = j["status"]?.intValue else { return nil }
        func headers(_ key: String) -> [String: String] { (j[key]?.objectValue ?? [:]).compactMapValues(\.stringValue) }
        self.init(time: j["time"]?.stringValue ?? "", method: method, path: path, query: j["query"]?.stringValue ?? "",
                  requestHeaders: headers("request_headers"), requestBody: j["request_body"] ?? .null, status: status,
                  responseHeaders: headers("response_headers"), responseBody: j["response_body"] ?? .null)
    }

    /// Reads a recording: one exchange per line (blank lines skipped).
    public static func load(path: String) throws -> [DriftExchange] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out: [DriftExchange] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let j = try? JSON.parse(Array(line.utf8)), let e = DriftExchange(json: j) else {
                throw NylasError.invalidRequest("\(path):\(n + 1): not a recorded exchange")
            }
            out.append(e)
        }
        return out
    }
}

/// What a recording keeps of secrets: nothing. Every credential is replaced by a placeholder that
/// says what kind it was (the drift check needs to know an API key from an access token), every
/// secret-looking field and query parameter by `[REDACTED]`, signed URLs lose their query.
public enum DriftRedaction {
    /// Body and query keys whose values are secrets.
    static let secretKeys: Set<String> = [
        "api_key", "access_token", "refresh_token", "id_token", "client_secret", "password", "imap_password", "smtp_password",
        "secret", "webhook_secret", "code", "code_verifier", "token", "google_refresh_token", "google_client_secret",
        "microsoft_refresh_token", "microsoft_client_secret", "credential", "private_key", "signature", "salt", "session_id",
    ]

    /// The placeholder for a bearer token: its kind by Nylas's prefixes.
    static func bearerPlaceholder(_ token: String) -> String {
        if token.hasPrefix("nyk_") { return "Bearer <api-key>" }
        if token.hasPrefix("nyat_") || token.hasPrefix("nyrt_") { return "Bearer <access-token>" }
        return token.count > 40 ? "Bearer <access-token>" : "Bearer <token>"
    }

    static func headers(_ h: [String: String]) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in h {
            let name = k.lowercased()
            switch name {
            case "authorization":
                if v.lowercased().hasPrefix("bearer ") { out[name] = bearerPlaceholder(String(v.dropFirst(7)).trimmingCharacters(in: .whitespaces)) }
                else if v.lowercased().hasPrefix("basic ") { out[name] = "Basic <client-secret>" }
                else { out[name] = "<redacted>" }
            case "cookie", "set-cookie", "basicv2", "x-nylas-signature", "x-nylas-kid", "x-nylas-nonce", "x-amz-security-token", "proxy-authorization":
                out[name] = "<redacted>"
            case "host", "content-length", "connection", "transfer-encoding", "keep-alive": continue
            default: out[name] = v
            }
        }
        return out
    }

    static func query(_ q: String) -> String {
        guard !q.isEmpty else { return q }
        return QueryParameters(q).pairs.map { k, v in
            let value = secretKeys.contains(k.lowercased()) || k.lowercased().contains("secret") || k.lowercased().contains("token") && k != "page_token"
                ? "[REDACTED]" : v
            return "\(QueryParameters.encode(k))=\(QueryParameters.encode(value))"
        }.joined(separator: "&")
    }

    /// A URL with a signature in its query keeps only its path.
    static func url(_ s: String) -> String {
        guard s.hasPrefix("http"), let q = s.firstIndex(of: "?") else { return s }
        let query = s[q...].lowercased()
        if query.contains("signature") || query.contains("x-amz-") || query.contains("x-goog-") || query.contains("token=") || query.contains("sig=") {
            return String(s[..<q]) + "?[REDACTED]"
        }
        return s
    }

    /// The body with secrets redacted; with `shapeOnly`, message text reduced to its length.
    static func body(_ j: JSON, shapeOnly: Bool) -> JSON {
        switch j {
        case .object(let o):
            var out: [String: JSON] = [:]
            for (k, v) in o {
                let key = k.lowercased()
                if secretKeys.contains(key) || key.hasSuffix("_secret") || key.hasSuffix("_password") || key.hasSuffix("_token") && key != "page_token" && key != "next_cursor" {
                    out[k] = v.isNull ? .null : .string("[REDACTED]")
                } else if shapeOnly, ["body", "snippet", "content", "description", "text", "html"].contains(key), case .string(let s) = v {
                    out[k] = .string("[\(key) \(s.utf8.count) bytes]")
                } else {
                    out[k] = body(v, shapeOnly: shapeOnly)
                }
            }
            return .object(out)
        case .array(let a): return .array(a.map { body($0, shapeOnly: shapeOnly) })
        case .string(let s): return .string(url(s))
        default: return j
        }
    }

    /// A request or response body as recorded: JSON redacted, text kept if short, binary by size.
    static func payload(_ bytes: [UInt8], contentType: String?, shapeOnly: Bool) -> JSON {
        if bytes.isEmpty { return .null }
        if let j = try? JSON.parse(bytes) { return body(j, shapeOnly: shapeOnly) }
        let type = (contentType ?? "").lowercased()
        if type.hasPrefix("application/x-www-form-urlencoded") {
            return ["form": .string(query(String(decoding: bytes, as: UTF8.self)))]
        }
        return ["bytes": .int(bytes.count), "content_type": .optional(contentType)]
    }
}
