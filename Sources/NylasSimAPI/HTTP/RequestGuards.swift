import Foundation
import NylasSimCore

/// The `Host` names a listener answers. A web page can make a browser send requests to the
/// simulator under a name it controls (DNS rebinding: `evil.example` resolving to 127.0.0.1);
/// answering only the names below keeps such a page from reading `/__sim/state` with its
/// API keys and client secrets.
///
/// Always answered: `localhost` and `*.localhost`, IP address literals (a rebinding attack needs
/// a name), this machine's host name, and the Nylas API host names the router maps to regions.
/// Others only when configured (`SimulatorOptions.allowedHosts`, `serve --allowed-host`).
package struct HostAllowList: Sendable {
    private let extra: Set<String>
    private let machineName: String?

    package init(extra: [String]) {
        self.extra = Set(extra.map { HostAllowList.name(of: $0) })
        var buffer = [CChar](repeating: 0, count: 256)
        machineName = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased() : nil
    }

    /// Whether a request with this `Host` header is answered (nil: no header, as HTTP/1.0 allows).
    /// On every request: works on the header's UTF-8 bytes, without Foundation's string walks.
    package func allows(_ header: String?) -> Bool {
        guard let header else { return true }
        let name = Self.name(of: header)
        if name.isEmpty { return false }
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        if Self.isIPLiteral(name) { return true }
        if Region.forHost(name) != nil { return true }
        if let machineName, name == machineName { return true }
        return extra.contains(name)
    }

    /// The host name of a `Host` header or an origin's authority: lower-cased, without port, brackets or a final dot.
    package static func name(of header: String) -> String {
        var bytes = Array(header.utf8)
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        var start = 0
        while start < bytes.count, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        var end = bytes.count
        if start < end, bytes[start] == UInt8(ascii: "[") {
            guard let close = bytes[start...].firstIndex(of: UInt8(ascii: "]")) else { return "" }
            start += 1
            end = close
        } else if let colon = bytes[start...].firstIndex(of: UInt8(ascii: ":")) {
            end = colon
        }
        if end > start, bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
        guard end > start else { return "" }
        for i in start..<end where bytes[i] >= 0x41 && bytes[i] <= 0x5A { bytes[i] += 0x20 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private static func isIPLiteral(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}

/// Checks every `/__sim/` request passes before its handler: the control token when one is set,
/// no foreign browser origin, and a JSON body, so that no web page can drive the simulator with a
/// request a browser sends without asking (a `text/plain` or form POST needs no CORS preflight).
package enum ControlGuard {
    /// `nil` when the request may go on, else the error that answers it.
    package static func check(_ request: SimRequest, token: String?) -> NylasError? {
        if let origin = request.header("origin"), !isSameOrigin(origin, host: request.header("host")) {
            return NylasError.forbidden("The control API answers only pages of its own origin; \(origin) is another")
        }
        if let token {
            let given = request.header("x-sim-control-token")
                ?? request.header("authorization").map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : $0 }
                ?? (acceptsQueryToken(request) ? request.query["token"] : nil)
            guard let given, constantTimeEquals(given, token) else {
                return NylasError.unauthorized("The control API requires the control token (--control-token)")
            }
            return nil
        }
        // Without a token: a request that carries a body (or says what its body is) must say JSON.
        guard request.method != "GET", request.method != "HEAD" else { return nil }
        let type = request.header("content-type")
        guard !request.body.isEmpty || type != nil else { return nil }
        let mediaType = type?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard mediaType == "application/json" else {
            return NylasError.unsupportedMediaType(
                "The control API takes application/json bodies (or a control token); got \(type ?? "no Content-Type")")
        }
        return nil
    }

    /// Whether `origin` (`scheme://host[:port]`) names the listener the request came to.
    package static func isSameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, let range = origin.range(of: "://") else { return false }
        let scheme = origin[..<range.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return false }
        let authority = origin[range.upperBound...].lowercased()
        let defaultPort = scheme == "https" ? ":443" : ":80"
        let h = host.lowercased()
        return authority == h || authority == h + defaultPort || authority + defaultPort == h
    }

    /// Compares two secrets in time that depends on their lengths only, not on where they differ.
    package static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }

    /// `?token=` stands in for the control-token header on the dashboard's own GET routes only,
    /// so that a browser can open the page; every other control route still needs the header.
    package static func acceptsQueryToken(_ request: SimRequest) -> Bool {
        guard request.method == "GET" || request.method == "HEAD" else { return false }
        let parts = Router.segments(of: request.path)
        return parts.count >= 2 && parts[0] == "__sim" && parts[1] == "ui"
    }
}
