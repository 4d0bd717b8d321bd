import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

/// Formatting for the dashboard: virtual times, durations, offsets, bodies, masked secrets.
package enum DashboardFormat {
    package static let mask = "••••••••"

    /// `2026-01-01 09:00:00` (UTC, no fraction).
    package static func time(_ t: VirtualTime) -> String {
        String(t.description.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    package static func time(unix: Int) -> String { time(VirtualTime(seconds: unix)) }

    /// A length of time in its two largest units: `3d 2h`, `5h 20m`, `20m 5s`, `45s`.
    package static func duration(_ ms: Int64) -> String {
        let total = abs(ms) / 1000
        let (d, h, m, s) = (total / 86400, (total / 3600) % 24, (total / 60) % 60, total % 60)
        if d > 0 { return h > 0 ? "\(d)d \(h)h" : "\(d)d" }
        if h > 0 { return m > 0 ? "\(h)h \(m)m" : "\(h)h" }
        if m > 0 { return s > 0 ? "\(m)m \(s)s" : "\(m)m" }
        return "\(s)s"
    }

    /// `in 20m` or `5m ago`, relative to now.
    package static func relative(_ t: VirtualTime, now: VirtualTime) -> String {
        let ms = t.milliseconds - now.milliseconds
        if ms == 0 { return "now" }
        return ms > 0 ? "in \(duration(ms))" : "\(duration(ms)) ago"
    }

    /// An offset from a notification's first attempt, in hours at most: `+0`, `+20m`, `+2h`, `+72h`, `+1h 30m`.
    package static func offset(_ ms: Int64) -> String {
        let total = max(0, ms) / 1000
        if total == 0 { return "+0" }
        let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60)
        var parts: [String] = []
        if h > 0 { parts.append("\(h)h") }
        if m > 0 { parts.append("\(m)m") }
        if s > 0, h == 0 { parts.append("\(s)s") }
        return "+" + parts.joined(separator: " ")
    }

    /// CSS class of an HTTP status.
    package static func statusClass(_ status: Int?) -> String {
        guard let status else { return "bad" }
        switch status {
        case 200..<300: return "ok"
        case 300..<400: return "info"
        case 400..<500: return "warn"
        default: return "bad"
        }
    }

    /// A grant's or a destination's status as a CSS class.
    package static func healthClass(_ status: String) -> String {
        switch status {
        case "valid", "active", "delivered", "passed": return "ok"
        case "failing", "retrying", "pause", "paused": return "warn"
        default: return "bad"
        }
    }

    // MARK: Secrets

    /// A masked secret: the value only when the page was asked to reveal secrets.
    package static func secret(_ label: String, ref: String, value: String, reveal: Bool) -> [String: Any] {
        ["label": label, "ref": ref, "revealed": reveal, "value": reveal ? value : ""]
    }

    /// Fields that hold credentials wherever they appear in a body or a query.
    package static let secretKeys: Set<String> = [
        "access_token", "refresh_token", "id_token", "api_key", "client_secret", "webhook_secret", "secret",
        "password", "code", "code_verifier", "token", "credentials", "private_key", "secret_key",
    ]

    package static func redact(_ value: JSON) -> JSON {
        switch value {
        case .object(let o):
            var out: [String: JSON] = [:]
            for (k, v) in o {
                if secretKeys.contains(k.lowercased()), case .string = v { out[k] = .string(mask) } else { out[k] = redact(v) }
            }
            return .object(out)
        case .array(let a): return .array(a.map(redact))
        default: return value
        }
    }

    /// A query string with credential parameters masked.
    package static func redact(query: String) -> String {
        guard !query.isEmpty else { return query }
        return query.split(separator: "&", omittingEmptySubsequences: false).map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, secretKeys.contains(kv[0].lowercased()) else { return String(pair) }
            return "\(kv[0])=\(mask)"
        }.joined(separator: "&")
    }

    // MARK: Bodies

    package static let bodyLimit = 16 * 1024

    /// A body for display: JSON pretty-printed with credentials masked (unless revealing), other text as is, cut at 16 KiB.
    package static func body(_ bytes: [UInt8], reveal: Bool) -> String {
        guard !bytes.isEmpty else { return "" }
        if let json = JSON.parse(string: String(decoding: bytes, as: UTF8.self)) {
            return cut(pretty(reveal ? json : redact(json)))
        }
        var text = String(decoding: bytes.prefix(bodyLimit), as: UTF8.self)
        // A form-encoded body: mask its credential fields like a query.
        if !reveal, text.contains("="), !text.contains(where: { $0 == "\n" || $0 == " " || $0 == "<" || $0 == "{" }) {
            text = redact(query: text)
        }
        return bytes.count > bodyLimit ? text + "\n… (\(bytes.count) bytes)" : text
    }

    package static func body(_ json: JSON, reveal: Bool) -> String { cut(pretty(reveal ? json : redact(json))) }

    private static func cut(_ s: String) -> String {
        s.utf8.count > bodyLimit ? String(decoding: Array(s.utf8.prefix(bodyLimit)), as: UTF8.self) + "\n… (cut)" : s
    }

    /// Two-space indented JSON with sorted keys.
    package static func pretty(_ value: JSON) -> String {
        var out: [UInt8] = []
        write(value, indent: 0, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func write(_ value: JSON, indent: Int, into out: inout [UInt8]) {
        let pad = { (n: Int) in [UInt8](repeating: 32, count: n * 2) }
        switch value {
        case .array(let a) where !a.isEmpty:
            out.append(contentsOf: "[\n".utf8)
            for (i, v) in a.enumerated() {
                out.append(contentsOf: pad(indent + 1))
                write(v, indent: indent + 1, into: &out)
                out.append(contentsOf: (i < a.count - 1 ? ",\n" : "\n").utf8)
            }
            out.append(contentsOf: pad(indent))
            out.append(UInt8(ascii: "]"))
        case .object(let o) where !o.isEmpty:
            out.append(contentsOf: "{\n".utf8)
            let keys = o.keys.sorted()
            for (i, k) in keys.enumerated() {
                out.append(contentsOf: pad(indent + 1))
                JSON.writeString(k, into: &out)
                out.append(contentsOf: ": ".utf8)
                write(o[k]!, indent: indent + 1, into: &out)
                out.append(contentsOf: (i < keys.count - 1 ? ",\n" : "\n").utf8)
            }
            out.append(contentsOf: pad(indent))
            out.append(UInt8(ascii: "}"))
        default:
            value.write(into: &out)
        }
    }
}
