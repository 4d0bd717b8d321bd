import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

/// The control API under `/__sim/`: state, clock, reset, request journal, test set-up.
package enum ControlRoutes {
    /// Registers every control route: `/__sim/` state, clock, test set-up, providers, fixtures,
    /// faults, webhooks, scenarios, reports and the dashboard.
    package static func registerAll(_ router: inout Router) {
        registerCore(&router)
        registerCalendar(&router)
        registerWebhooks(&router)
        registerProviders(&router)
        registerFixtures(&router)
        registerFaults(&router)
        registerScenarios(&router)
        registerMigration(&router)
        registerScheduler(&router)
        registerDashboard(&router)
    }

    /// `GET "/__sim/state"`
    @Sendable static func getState(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.core.stateJSON())
    }

    /// `GET "/__sim/clock"`
    @Sendable static func getClock(_ ctx: RequestContext) async throws -> SimResponse {
        .json(ctx.core.withState { $0.clock.json })
    }

    /// `POST "/__sim/reset"`
    @Sendable static func postReset(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.core.withState { try $0.reset() }
        return .json(try ctx.core.stateJSON())
    }

    /// `GET "/__sim/jobs"`
    @Sendable static func listJobs(_ ctx: RequestContext) async throws -> SimResponse {
        let jobs = ctx.core.withState { s in
            s.jobs.pending.map { JSON.object(["id": .int($0.id), "due": .string($0.due.description), "label": .string($0.label)]) }
        }
        return .json(["data": .array(jobs)])
    }

    /// `GET "/__sim/requests"`
    @Sendable static func listRequests(_ ctx: RequestContext) async throws -> SimResponse {
        let q = ctx.query
        var filter = JournalFilter()
        if let r = q["region"] {
            guard let region = Region(rawValue: r) else { throw NylasError.invalidValue("region", "expected us or eu") }
            filter.region = region
        }
        if let a = q["api"] {
            guard let s = APISurface(rawValue: a), s != .control else { throw NylasError.invalidValue("api", "expected v3 or v2") }
            filter.surface = s
        }
        filter.method = q["method"]
        filter.pathPrefix = q["path"]
        filter.status = try q.int("status", in: 100...599)
        filter.applicationID = q["application_id"]
        filter.grantID = q["grant_id"]
        filter.afterSequence = try q.int("after")
        filter.limit = try q.int("limit", in: 1...100_000) ?? 1000
        let bodies = try q.bool("bodies") ?? false
        let entries = try ctx.core.journal(filter)
        return .json(["data": .array(entries.map { $0.json(includeBodies: bodies) })])
    }

    /// `GET "/__sim/mailboxes"`
    @Sendable static func listMailboxes(_ ctx: RequestContext) async throws -> SimResponse {
        let boxes = try ctx.core.withState { try $0.world.mailboxes().map(\.json) }
        return .json(["data": .array(boxes)])
    }

    /// `POST "/__sim/oauth/consent"`
    @Sendable static func postConsent(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let mode = try body.requiredString("mode")
        guard ["approve", "deny", "page"].contains(mode) else {
            throw NylasError.invalidValue("mode", "expected approve, deny or page")
        }
        ctx.core.withState { $0.consent.mode = mode }
        return .json(["mode": .string(mode)])
    }

    /// `POST "/__sim/grants"`
    @Sendable static func postGrants(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let region = try ControlRoutes.region(body)
        let created = try ctx.core.createGrantDirectly(
            region: region, applicationID: try body.string("application_id"), email: try body.requiredString("email"),
            provider: try body.string("provider"), scope: try body.stringArray("scope"), name: try body.string("name"))
        return .json(created, status: 201)
    }

    /// `POST "/__sim/grants/{grant_id}/expire-credentials"`
    @Sendable static func postExpireCredentials(_ ctx: RequestContext) async throws -> SimResponse {
        let region = try ControlRoutes.region(try ctx.body(allowEmpty: true), query: ctx.query)
        try ctx.core.expireCredentials(region: region, grantID: ctx.param("grant_id"))
        return .json(["grant_id": .string(ctx.param("grant_id")), "grant_status": "invalid"])
    }

    private static func registerCore(_ r: inout Router) {
        r.add("GET", "/__sim/state", .control, getState)
        r.add("GET", "/__sim/clock", .control, getClock)
        r.add("POST", "/__sim/clock", .control, moveClock)
        r.add("POST", "/__sim/reset", .control, postReset)
        r.add("GET", "/__sim/jobs", .control, listJobs)
        r.add("GET", "/__sim/requests", .control, listRequests)
        r.add("GET", "/__sim/mailboxes", .control, listMailboxes)
        r.add("POST", "/__sim/oauth/consent", .control, postConsent)
        r.add("POST", "/__sim/grants", .control, postGrants)
        r.add("POST", "/__sim/grants/{grant_id}/expire-credentials", .control, postExpireCredentials)
    }

    /// `POST /__sim/clock`: `mode`, `rate`, then `advance` (a duration) or `to` (an instant).
    /// Every number is checked before anything changes: a value out of range is a 400 naming its field.
    @Sendable package static func moveClock(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body(allowEmpty: true)
        var mode: ClockState.Mode?
        if let modeName = try body.string("mode") {
            guard let m = ClockState.Mode(rawValue: modeName) else {
                throw NylasError.invalidValue("mode", "expected 'manual' or 'running'")
            }
            mode = m
        }
        var rate: Double?
        if let v = body.raw("rate") {
            guard let d = v.doubleValue else { throw NylasError.wrongType("rate", expected: "number", got: v) }
            guard ClockState.rates.contains(d) else {
                throw NylasError.invalidValue("rate", "expected a number from 0 to \(Int(ClockState.rates.upperBound))")
            }
            rate = d
        }
        var advance: Duration?
        if let v = body.raw("advance") {
            switch v {
            case .int, .double:
                guard let d = Duration(checkedSeconds: v.doubleValue ?? .nan) else {
                    throw NylasError.invalidValue("advance", "expected at most \(Duration.longestAccepted.milliseconds / 1000) seconds")
                }
                advance = d
            case .string(let s):
                guard let d = Duration(parsing: s) else {
                    throw NylasError.invalidValue("advance", "expected a duration such as 90s, 10m, 72h (at most 10,000 years)")
                }
                advance = d
            default: throw NylasError.wrongType("advance", expected: "duration string or seconds", got: v)
            }
            guard advance! >= .zero else { throw NylasError.invalidValue("advance", "the clock never moves backwards") }
            guard advance! <= Duration.longestAdvance else {
                throw NylasError.invalidValue("advance", "at most 400 days in one call (every job due on the way runs); move the clock in several calls")
            }
        }
        var to: VirtualTime?
        if let v = body.raw("to") {
            switch v {
            case .int(let n) where VirtualTime.isRepresentable(seconds: n): to = VirtualTime(seconds: n)
            case .string(let s): to = VirtualTime(parsing: s)
            default: to = nil
            }
            guard let time = to else {
                throw NylasError.invalidValue("to", "expected an ISO 8601 time or Unix seconds between years 1 and 9999")
            }
            let now = ctx.core.now
            guard time >= now else { throw NylasError.invalidValue("to", "the clock never moves backwards") }
            guard time - now <= Duration.longestAdvance else {
                throw NylasError.invalidValue("to", "at most 400 days ahead in one call (every job due on the way runs); move the clock in several calls")
            }
        }
        if let mode {
            ctx.core.setClockMode(mode, rate: rate)
        } else if let rate {
            ctx.core.setClockMode(ctx.core.withState { $0.clock.mode }, rate: rate)
        }
        if let advance { await ctx.core.advance(by: advance) }
        if let to { await ctx.core.advance(to: to) }
        return .json(ctx.core.withState { $0.clock.json })
    }

    /// The `region` of a control call (body or query); US when absent.
    package static func region(_ body: BodyFields, query: QueryParameters? = nil) throws(NylasError) -> Region {
        guard let name = try body.string("region") ?? query?["region"] else { return .us }
        guard let region = Region(rawValue: name.lowercased()) else { throw NylasError.invalidValue("region", "expected us or eu") }
        return region
    }
}

extension Engine {
    /// The request journal of both regions (or one), in order.
    package func journal(_ filter: JournalFilter) throws -> [JournalEntry] {
        try withState { s in
            var out: [JournalEntry] = []
            for region in Region.allCases where filter.region == nil || filter.region == region {
                out += try s.store(region).journal(filter)
            }
            return out.sorted { ($0.time, $0.region, $0.sequence) < ($1.time, $1.region, $1.sequence) }
        }
    }

    /// `GET /__sim/state`: regions, applications with credentials, grants, mailboxes, clock.
    package func stateJSON() throws -> JSON {
        let urls = baseURLs.withLock { $0 }
        return try withState { s in
            var regions: [String: JSON] = [:]
            for region in Region.allCases {
                let store = s.store(region)
                let apps = try store.applications().map { app -> JSON in
                    var o: JSON = ["api_version": .int(app.apiVersion), "name": .string(app.name),
                                   "client_id": .string(app.clientID), "client_secret": .string(app.clientSecret),
                                   "environment": .string(app.environment)]
                    if app.apiVersion == 3 {
                        o["application_id"] = .string(app.id)
                        o["api_key"] = .optional(app.apiKey)
                        o["organization_id"] = .string(app.organizationID)
                        o["v2_application_id"] = .optional(app.v2ApplicationID)
                        o["callback_uris"] = .strings(try store.redirectURIs(applicationID: app.id).map(\.url))
                        o["connectors"] = .strings(try store.connectors(applicationID: app.id).map(\.provider))
                    }
                    return o
                }
                let grants = try store.allGrants().map { g -> JSON in
                    var o = g.json
                    o["application_id"] = .string(g.applicationID)
                    return o
                }
                var r: JSON = ["applications": .array(apps), "grants": .array(grants)]
                if let url = urls[region] { r["base_url"] = .string(url) }
                regions[region.rawValue] = r
            }
            return ["clock": s.clock.json, "regions": .object(regions),
                    "mailboxes": .array(try s.world.mailboxes().map(\.json))]
        }
    }
}
