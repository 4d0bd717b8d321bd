import Foundation
import NylasSimCore

/// A route handler: the request in context, a response out, or a `NylasError`.
package typealias RouteHandler = @Sendable (RequestContext) async throws -> SimResponse

/// One route: a method and a path pattern such as `/v3/grants/{grant_id}/messages`.
package struct Route: Sendable {
    package enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    package let method: String
    package let pattern: String
    package let segments: [Segment]
    package let surface: APISurface
    package let handler: RouteHandler

    package init(_ method: String, _ pattern: String, surface: APISurface, handler: @escaping RouteHandler) {
        self.method = method
        self.pattern = pattern
        self.surface = surface
        self.handler = handler
        self.segments = pattern.split(separator: "/").map { part in
            if part.hasPrefix("{"), part.hasSuffix("}") { return .parameter(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
    }

    /// The decoded path parameters when `path` matches this route's pattern.
    package func match(_ parts: [String]) -> [String: String]? {
        guard parts.count == segments.count else { return nil }
        for (segment, part) in zip(segments, parts) {
            if case .literal(let s) = segment, s != part { return nil }
        }
        var params: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            if case .parameter(let name) = segment { params[name] = part }
        }
        return params
    }
}

/// The one router of the simulator: v3, v2 and control routes for every region.
package struct Router: Sendable {
    package init() {}

    private var routes: [Route] = []
    /// Routes indexed by their segment count and first literal, for a short scan.
    private var index: [String: [Int]] = [:]

    package mutating func add(_ method: String, _ pattern: String, _ surface: APISurface, _ handler: @escaping RouteHandler) {
        let route = Route(method, pattern, surface: surface, handler: handler)
        routes.append(route)
        let key = Self.key(route.segments.count, first: route.segments.first)
        // Most specific first: at the first segment where two patterns differ, a literal comes
        // before a parameter, so the first match is the one a trie would pick, whatever the order
        // of registration (`/messages/schedules` before `/messages/{message_id}`).
        let all = routes
        var bucket = index[key] ?? []
        bucket.append(all.count - 1)
        bucket.sort { a, b in Self.moreSpecific(all[a], than: all[b]) }
        index[key] = bucket
    }

    private static func moreSpecific(_ a: Route, than b: Route) -> Bool {
        for (x, y) in zip(a.segments, b.segments) {
            switch (x, y) {
            case (.literal, .parameter): return true
            case (.parameter, .literal): return false
            default: continue
            }
        }
        return false
    }

    /// Pairs of routes that would answer the same requests: the same method and the same pattern
    /// but for parameter names. Neither could win, so `APIRoutes.build()` refuses them.
    package var conflicts: [(String, String)] {
        var seen: [String: String] = [:]
        var out: [(String, String)] = []
        for route in routes {
            let shape = route.method + " " + route.segments.map { segment -> String in
                if case .literal(let s) = segment { return s }
                return "{}"
            }.joined(separator: "/")
            if let earlier = seen[shape] {
                out.append((earlier, route.method + " " + route.pattern))
            } else {
                seen[shape] = route.method + " " + route.pattern
            }
        }
        return out
    }

    private static func key(_ count: Int, first: Route.Segment?) -> String {
        if case .literal(let s) = first { return "\(count):\(s)" }
        return "\(count):*"
    }

    package enum Resolution {
        case found(Route, [String: String])
        case wrongMethod(APISurface)
        case notFound(APISurface)
    }

    /// Splits a raw path into percent-decoded segments.
    package static func segments(of path: String) -> [String] {
        // On bytes: splitting on Characters would walk grapheme clusters.
        path.utf8.split(separator: UInt8(ascii: "/")).map { part in
            let segment = String(Substring(part))
            // Only a segment with a `%` has anything to decode.
            return part.contains(UInt8(ascii: "%")) ? segment.removingPercentEncoding ?? segment : segment
        }
    }

    package static func surface(forPath parts: [String]) -> APISurface {
        switch parts.first {
        case "v3": return .v3
        case "__sim": return .control
        default: return .v2
        }
    }

    package func resolve(method: String, parts: [String]) -> Resolution {
        let candidates = (index[Self.key(parts.count, first: parts.first.map { .literal($0) })] ?? [])
            + (index[Self.key(parts.count, first: nil)] ?? [])
        var pathMatched: Route?
        for i in candidates {
            let route = routes[i]
            guard let params = route.match(parts) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") { return .found(route, params) }
            pathMatched = route
        }
        if let pathMatched { return .wrongMethod(pathMatched.surface) }
        return .notFound(Self.surface(forPath: parts))
    }

    /// Every registered route (for documentation and the control API).
    package var all: [(method: String, pattern: String, surface: APISurface)] {
        routes.map { ($0.method, $0.pattern, $0.surface) }
    }
}
