import Foundation

/// Which API a route belongs to; decides the shape of its error bodies.
public enum APISurface: String, Sendable, Codable {
    case v3, v2, control
}

/// One HTTP request as the simulator sees it, whichever listener (or none) it came through.
public struct SimRequest: Sendable {
    public var method: String
    /// The path without its query, still percent-encoded.
    public var path: String
    public var query: QueryParameters
    /// Header names are lowercased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, target: String, headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method.utf8.contains(where: { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) ? method.uppercased() : method
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            self.path = String(target[..<q])
            self.query = QueryParameters(String(target[target.index(after: q)...]))
        } else {
            self.path = target
            self.query = QueryParameters("")
        }
        if headers.keys.allSatisfy({ !$0.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) }) {
            self.headers = headers
        } else {
            var lowered: [String: String] = [:]
            lowered.reserveCapacity(headers.count)
            for (k, v) in headers { lowered[k.lowercased()] = v }
            self.headers = lowered
        }
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The same request with another Content-Type.
    package func withContentType(_ type: String) -> SimRequest {
        var r = self
        r.headers["content-type"] = type
        return r
    }

    /// The media type of the body, lowercased, without parameters.
    package var contentType: String? {
        header("content-type").map { $0.split(separator: ";").first.map(String.init)?.trimmingWhitespaces().lowercased() ?? "" }
    }
}

/// One HTTP response.
/// Where a streamed body goes: each write is one chunk on the wire.
public protocol ResponseStreamSink: Sendable {
    /// Sends `bytes` as one chunk; false once the client has gone.
    func write(_ bytes: [UInt8]) async -> Bool
}

public struct SimResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    /// Close the connection instead of answering (a fault rule's `drop`).
    public var dropConnection = false
    /// A body produced while the connection stays open, sent chunked after `body` (v2's
    /// `/delta/streaming`): the listener calls it once the head is out and ends the response when
    /// it returns.
    public var stream: (@Sendable (any ResponseStreamSink) async -> Void)?

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    package static func json(_ value: JSON, status: Int = 200, headers: [String: String] = [:]) -> SimResponse {
        var h = headers
        h["Content-Type"] = "application/json; charset=utf-8"
        return SimResponse(status: status, headers: h, body: value.bytes)
    }

    package static func redirect(_ location: String) -> SimResponse {
        SimResponse(status: 302, headers: ["Location": location], body: [])
    }

    public var json: JSON? { try? JSON.parse(body) }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A URL query string: repeated keys and comma lists both count as lists.
public struct QueryParameters: Sendable {
    public private(set) var pairs: [(String, String)]

    public init(_ raw: String) {
        pairs = []
        guard !raw.isEmpty else { return }
        for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = QueryParameters.decode(kv[0])
            let value = kv.count > 1 ? QueryParameters.decode(kv[1]) : ""
            pairs.append((key, value))
        }
    }

    /// A key or value as form encoding spells it: `+` is a space, `%XX` a byte. A malformed `%`
    /// escape or bytes that are not UTF-8 leave the escapes as they are (only `+` decoded), as
    /// Foundation's `removingPercentEncoding` did. On bytes: it runs for every request.
    package static func decode(_ s: Substring) -> String {
        let utf8 = s.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "%") }) else { return String(s) }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var escapes = true
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let b = utf8[i]
            utf8.formIndex(after: &i)
            if b == UInt8(ascii: "+") {
                out.append(0x20)
            } else if b == UInt8(ascii: "%") {
                guard i != utf8.endIndex, let high = hexValue(utf8[i]) else { escapes = false; break }
                utf8.formIndex(after: &i)
                guard i != utf8.endIndex, let low = hexValue(utf8[i]) else { escapes = false; break }
                utf8.formIndex(after: &i)
                out.append(high << 4 | low)
            } else {
                out.append(b)
            }
        }
        if escapes, let decoded = String(validating: out, as: UTF8.self) { return decoded }
        return String(decoding: utf8.map { $0 == UInt8(ascii: "+") ? 0x20 : $0 }, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    public var keys: [String] { pairs.map(\.0) }
    public subscript(_ key: String) -> String? { pairs.first { $0.0 == key }?.1 }
    public func has(_ key: String) -> Bool { pairs.contains { $0.0 == key } }

    /// Every value of `key`, with comma-separated values split.
    public func list(_ key: String) -> [String] {
        pairs.filter { $0.0 == key }.flatMap { $0.1.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty }
    }

    /// Every raw value of `key`, unsplit.
    public func all(_ key: String) -> [String] { pairs.filter { $0.0 == key }.map(\.1) }

    /// A list filter: every value of `key` (comma lists split), at most `max` of them.
    package func list(_ key: String, max: Int) throws(NylasError) -> [String] {
        let values = list(key)
        try InputLimits.check(values.count, max, key, "values")
        return values
    }

    /// Every raw value of `key`, at most `max` of them.
    package func all(_ key: String, max: Int) throws(NylasError) -> [String] {
        let values = all(key)
        try InputLimits.check(values.count, max, key, "values")
        return values
    }

    /// A boolean: `true`/`false` in any case (the Python SDK sends `True`/`False`), `1`/`0`.
    package func bool(_ key: String) throws(NylasError) -> Bool? {
        guard let v = self[key] else { return nil }
        switch v.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw NylasError.invalidRequest("Invalid value for query parameter \(key): expected a boolean, got '\(v)'")
        }
    }

    /// An integer within `range`.
    package func int(_ key: String, in range: ClosedRange<Int>? = nil) throws(NylasError) -> Int? {
        guard let v = self[key] else { return nil }
        guard let n = Int(v) else {
            throw NylasError.invalidRequest("Invalid value for query parameter \(key): expected an integer, got '\(v)'")
        }
        if let range, !range.contains(n) {
            throw NylasError.invalidRequest("Invalid value for query parameter \(key): must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return n
    }

    /// Encodes the parameters back into a query string.
    public var encoded: String {
        pairs.map { "\(QueryParameters.encode($0.0))=\(QueryParameters.encode($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes all but RFC 3986's unreserved characters (on bytes: every request's journal
    /// row and kept-answer key pay for it; a `CharacterSet` was built per call).
    package static func encode(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(b)
            default:
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
