import Foundation

/// One scripted failure: which requests it matches, how often, and what it does instead.
///
/// Every failure the simulator can inject goes through this one type: an HTTP status with the
/// Nylas-shaped error body of that status, `Retry-After`, added latency, a dropped connection,
/// or a provider-side outage.
public struct FaultRule: Sendable, Equatable {
    /// The longest `latency` a rule may add: it is waited in real time.
    package static let longestLatency: Duration = .seconds(600)
    public var id: String = ""
    // MARK: Match
    public var region: Region?
    /// `v3`, `v2` (or nil for both).
    public var api: APISurface?
    public var method: String?
    /// A path pattern: `*` matches one segment, `**` any number, e.g. `/v3/grants/*/messages/**`.
    public var path: String?
    public var applicationID: String?
    public var grantID: String?
    /// The provider of the grant in the path (`google`, `imap`...).
    public var provider: String?
    // MARK: How often
    /// Only the first N matching requests.
    public var count: Int?
    /// Each matching request with this probability (drawn from the seeded generator).
    public var probability: Double?
    /// Active from this virtual time (inclusive)...
    public var from: VirtualTime?
    /// ...until this one (exclusive).
    public var until: VirtualTime?
    // MARK: Action
    public var status: Int?
    public var errorType: String?
    public var message: String?
    public var retryAfter: Int?
    /// Wall-clock latency added before answering.
    public var latency: Duration?
    /// Close the connection without an answer.
    public var drop: Bool = false
    /// Start a provider outage of this length (for the grant's provider, or `provider`).
    public var outage: Duration?
    /// A Notetaker bot's meeting goes wrong instead of an HTTP request: `entry_denied` (the host
    /// refuses the bot at admission), `meeting_ended` (the meeting ends `after` the bot got in),
    /// `media_error` (processing fails). Matched by `region`, `grant_id` and the rest.
    public var notetaker: String?
    /// For `meeting_ended`: how long after admission (default at once).
    public var after: Duration?

    /// How many requests the rule has hit so far.
    public internal(set) var hits: Int = 0

    public init() {}

    /// The error this rule answers with, if it answers with a status.
    package var error: NylasError? {
        guard let status else { return nil }
        let (type, text): (String, String)
        switch status {
        case 400: (type, text) = ("invalid_request_error", "Bad request")
        case 401: (type, text) = ("unauthorized", "Unauthorized")
        case 403: (type, text) = ("grant.access_denied", "Forbidden")
        case 404: (type, text) = ("not_found_error", "requested object not found")
        case 409: (type, text) = ("conflict", "Conflict")
        case 429: (type, text) = ("rate_limit_error", "Too many requests, please try again shortly.")
        case 500: (type, text) = ("api.internal_error", "Internal error, contact administrator.")
        case 502: (type, text) = ("provider_error", "Bad gateway")
        case 503: (type, text) = ("service_unavailable", "Service temporarily unavailable")
        case 504: (type, text) = ("provider_error", "Provider request timed out.")
        default: (type, text) = (status >= 500 ? "api_error" : "invalid_request_error", "Injected failure")
        }
        var headers: [String: String] = [:]
        if let retryAfter { headers["Retry-After"] = String(retryAfter) }
        return NylasError(status: status, type: errorType ?? type, message: message ?? text,
                          v2Type: status >= 500 || status == 429 ? "api_error" : "invalid_request_error", headers: headers)
    }

    package static func matches(pattern: String, path parts: [String]) -> Bool {
        let p = pattern.split(separator: "/").map(String.init)
        func go(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == parts.count }
            if p[i] == "**" {
                for k in j...parts.count where go(i + 1, k) { return true }
                return false
            }
            guard j < parts.count else { return false }
            if p[i] == "*" || (p[i].hasPrefix("{") && p[i].hasSuffix("}")) || p[i] == parts[j] { return go(i + 1, j + 1) }
            return false
        }
        return go(0, 0)
    }

    // MARK: JSON

    /// Reads a rule from the control API or a scenario (durations as `30m`, times as offsets or ISO 8601).
    package static func parse(_ b: BodyFields, now: VirtualTime) throws(NylasError) -> FaultRule {
        var r = FaultRule()
        if let region = try b.string("region") {
            guard let reg = Region(rawValue: region) else { throw NylasError.invalidValue("region", "expected us or eu") }
            r.region = reg
        }
        if let api = try b.string("api") {
            guard let s = APISurface(rawValue: api), s != .control else { throw NylasError.invalidValue("api", "expected v3 or v2") }
            r.api = s
        }
        r.method = try b.string("method")?.uppercased()
        r.path = try b.string("path")
        r.applicationID = try b.string("application_id")
        r.grantID = try b.string("grant_id")
        r.provider = try b.string("provider")
        r.count = try b.int("count")
        if let c = r.count, c < 1 { throw NylasError.invalidValue("count", "must be at least 1") }
        if let p = b.raw("probability") {
            guard let d = p.doubleValue, (0...1).contains(d) else { throw NylasError.wrongType("probability", expected: "number between 0 and 1", got: p) }
            r.probability = d
        }
        func time(_ key: String) throws(NylasError) -> VirtualTime? {
            guard let v = b.raw(key) else { return nil }
            if case .string(let s) = v {
                if let d = Duration(parsing: s) { return now + d }
                if let t = VirtualTime(parsing: s) { return t }
            }
            if let n = v.intValue, let d = Duration(checkedSeconds: Double(n)) { return now + d }
            throw NylasError.invalidValue(key, "expected an offset such as 10m, seconds, or an ISO 8601 time")
        }
        r.from = try time("from")
        r.until = try time("until")
        if let text = try b.string("duration") {
            guard let d = Duration(parsing: text), d >= .zero else {
                throw NylasError.invalidValue("duration", "expected a duration such as 30m (at most 10,000 years)")
            }
            r.until = (r.from ?? now) + d
        }
        r.status = try b.int("status")
        if let s = r.status, !(400...599).contains(s) { throw NylasError.invalidValue("status", "expected an error status 400-599") }
        r.errorType = try b.string("error_type")
        r.message = try b.string("message")
        r.retryAfter = try b.int("retry_after")
        if let ra = r.retryAfter, !(0...31_536_000).contains(ra) {
            throw NylasError.invalidValue("retry_after", "expected seconds from 0 to 31536000")
        }
        if let l = b.raw("latency") {
            switch l {
            case .string(let s): guard let d = Duration(parsing: s) else { throw NylasError.invalidValue("latency", "expected a duration such as 500ms") }; r.latency = d
            default: guard let ms = l.intValue else { throw NylasError.wrongType("latency", expected: "duration", got: l) }; r.latency = .milliseconds(ms)
            }
            // Latency is waited in real time by the request that meets it.
            guard let latency = r.latency, latency >= .zero, latency <= FaultRule.longestLatency else {
                throw NylasError.invalidValue("latency", "expected a duration from 0 to 10m")
            }
        }
        r.drop = try b.bool("drop") ?? false
        if let o = try b.string("outage") {
            guard let d = Duration(parsing: o), d >= .zero else { throw NylasError.invalidValue("outage", "expected a duration such as 30m") }
            r.outage = d
        }
        if let n = try b.string("notetaker") {
            guard ["entry_denied", "meeting_ended", "media_error"].contains(n) else {
                throw NylasError.invalidValue("notetaker", "expected entry_denied, meeting_ended or media_error")
            }
            r.notetaker = n
        }
        if let a = try b.string("after") {
            guard let d = Duration(parsing: a), d >= .zero, d <= .seconds(86400) else { throw NylasError.invalidValue("after", "expected a duration such as 15m, at most 24h") }
            r.after = d
        }
        if r.status == nil, r.latency == nil, !r.drop, r.outage == nil, r.notetaker == nil {
            throw NylasError.invalidRequest("A fault rule needs an action: status, latency, drop, outage or notetaker")
        }
        return r
    }

    package var json: JSON {
        var o: [String: JSON] = ["id": .string(id), "hits": .int(hits), "drop": .bool(drop)]
        o["region"] = .optional(region?.rawValue)
        o["api"] = .optional(api?.rawValue)
        o["method"] = .optional(method)
        o["path"] = .optional(path)
        o["application_id"] = .optional(applicationID)
        o["grant_id"] = .optional(grantID)
        o["provider"] = .optional(provider)
        o["count"] = .optional(count)
        o["probability"] = probability.map(JSON.double) ?? .null
        o["from"] = .optional(from?.description)
        o["until"] = .optional(until?.description)
        o["status"] = .optional(status)
        o["error_type"] = .optional(errorType)
        o["retry_after"] = .optional(retryAfter)
        o["latency_ms"] = latency.map { .int(Int($0.milliseconds)) } ?? .null
        o["outage"] = .optional(outage.map { "\($0.milliseconds / 1000)s" })
        if let notetaker { o["notetaker"] = .string(notetaker); o["after"] = .optional(after.map { "\($0.milliseconds / 1000)s" }) }
        return .object(o)
    }
}

/// What a matching rule asks the request path to do.
package struct FaultAction: Sendable {
    package init(error: NylasError? = nil, latency: Duration? = nil, drop: Bool) {
        self.error = error
        self.latency = latency
        self.drop = drop
    }

    package var error: NylasError?
    package var latency: Duration?
    package var drop: Bool
}

/// The fault engine: the active rules, evaluated for every API request before its handler.
package struct FaultEngine {
    package private(set) var rules: [FaultRule] = []
    private var nextID = 1
    private var random: SeededRandom

    package init(seed: String?) { random = SeededRandom(seed: seed ?? "\(UInt64.random(in: 0...UInt64.max))") }

    package var isEmpty: Bool { rules.isEmpty }

    package mutating func add(_ rule: FaultRule) -> FaultRule {
        var r = rule
        r.id = "fault-\(nextID)"
        nextID += 1
        rules.append(r)
        return r
    }

    package mutating func remove(_ id: String) -> Bool {
        let before = rules.count
        rules.removeAll { $0.id == id }
        return rules.count != before
    }

    package mutating func removeAll() { rules.removeAll() }

    /// The first Notetaker rule of `kinds` for a bot of `grantID` at `now`, counting the hit.
    package mutating func evaluateNotetaker(region: Region, grantID: String?, kinds: Set<String>, now: VirtualTime) -> FaultRule? {
        for i in rules.indices {
            let r = rules[i]
            guard let kind = r.notetaker, kinds.contains(kind) else { continue }
            if let x = r.region, x != region { continue }
            if let x = r.grantID, x != grantID { continue }
            if let from = r.from, now < from { continue }
            if let until = r.until, now >= until { continue }
            if let c = r.count, r.hits >= c { continue }
            if let p = r.probability, random.nextDouble() >= p { continue }
            rules[i].hits += 1
            return rules[i]
        }
        return nil
    }

    /// The action of the first rule that matches, counting the hit.
    package mutating func evaluate(region: Region, surface: APISurface, method: String, parts: [String], applicationID: String?,
                           grantID: String?, provider: String?, now: VirtualTime) -> (FaultRule, FaultAction)? {
        for i in rules.indices {
            let r = rules[i]
            if r.notetaker != nil { continue }
            if let x = r.region, x != region { continue }
            if let x = r.api, x != surface { continue }
            if let x = r.method, x != method { continue }
            if let x = r.path, !FaultRule.matches(pattern: x, path: parts) { continue }
            if let x = r.applicationID, x != applicationID { continue }
            if let x = r.grantID, x != grantID { continue }
            if let x = r.provider, x != provider { continue }
            if let from = r.from, now < from { continue }
            if let until = r.until, now >= until { continue }
            if let c = r.count, r.hits >= c { continue }
            if let p = r.probability, random.nextDouble() >= p { continue }
            rules[i].hits += 1
            return (rules[i], FaultAction(error: r.error, latency: r.latency, drop: r.drop))
        }
        return nil
    }
}

/// A deterministic generator (SplitMix64) seeded from a string: the same seed draws the same faults.
package struct SeededRandom {
    private var state: UInt64

    package init(seed: String) {
        var h: UInt64 = 0xcbf29ce484222325
        for b in seed.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        state = h
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }

    package mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
