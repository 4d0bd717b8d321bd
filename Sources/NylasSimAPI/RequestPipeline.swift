import Foundation
import NylasSimCore

/// The path of every request through the API layer: route, control-API guard, scripted faults and
/// provider rate limits, the handler, the Nylas error body of the surface, the journal row.
package struct RequestPipeline: Sendable {
    package let router: Router
    /// v2 requests under way per token, for v2's concurrency limits.
    let concurrency = ConcurrencyLimits()

    package init(router: Router) { self.router = router }

    /// Answers one request for `region`: routing, handler, error rendering, journal.
    package func answer(_ core: Engine, _ request: SimRequest, region: Region, failure: NylasError? = nil) async -> SimResponse {
        let started = ContinuousClock.now
        let parts = Router.segments(of: request.path)
        let resolution = router.resolve(method: request.method, parts: parts)
        // One turn of the lock: the request ID, then scripted faults and provider rate limits.
        var intercepted: FaultAction?
        var rateLimits: NylasRateLimits?
        let requestID = core.withState { s in
            rateLimits = s.settings.nylasRateLimits
            let id = s.store(region).ids.uuid("request")
            if failure == nil, case .found(let route, let params) = resolution, route.surface != .control {
                intercepted = interceptions(s, request, region: region, surface: route.surface, parts: parts, pattern: route.pattern,
                                            params: params)
            }
            return id
        }
        let notes = RequestNotes()
        var surface = Router.surface(forPath: parts)
        var response: SimResponse
        do {
            if let failure { throw failure }
            switch resolution {
            case .found(let route, let params):
                surface = route.surface
                if surface == .control, let refused = ControlGuard.check(request, token: core.controlToken) { throw refused }
                if let action = intercepted {
                    if let latency = action.latency { try? await Task.sleep(for: latency) }
                    if action.drop {
                        var dropped = SimResponse(status: 0)
                        dropped.dropConnection = true
                        record(core, request, dropped, region: region, surface: surface, requestID: requestID, notes: notes, micros: 0)
                        return dropped
                    }
                    if let error = action.error { throw error }
                }
                var held: String?
                if surface == .v2, let limits = rateLimits,
                   let (key, limit) = ConcurrencyLimits.group(request, parts: parts, limits: limits) {
                    guard concurrency.enter(key, limit: limit) else {
                        throw NylasError.nylasRateLimited("Too many concurrent requests, please try again shortly.",
                                                          headers: ["X-RateLimit-Limit": String(limit), "X-RateLimit-Reset": "1"])
                    }
                    held = key
                }
                defer { if let held { concurrency.leave(held) } }
                let context = RequestContext(core: core, request: request, region: region, params: params,
                                             surface: surface, requestID: requestID, notes: notes)
                response = try await route.handler(context)
                // A streamed answer holds its place until its stream ends.
                if let key = held, let stream = response.stream {
                    held = nil
                    let place = ConcurrencyLimits.Place(concurrency, key)
                    response.stream = { sink in
                        await stream(sink)
                        withExtendedLifetime(place) {}
                    }
                }
            case .wrongMethod(let s):
                surface = s
                throw NylasError.methodNotAllowed(request.method, request.path)
            case .notFound(let s):
                surface = s
                throw APIRoutes.notFoundError(method: request.method, parts: parts, surface: s)
            }
        } catch let error as NylasError {
            response = SimResponse.json(error.body(surface: surface, requestID: requestID), status: error.status,
                                        headers: error.headers)
        } catch {
            core.logger.error("unexpected error", metadata: ["path": "\(request.path)", "error": "\(error)"])
            let e = NylasError.internal("Internal error, contact administrator.")
            response = SimResponse.json(e.body(surface: surface, requestID: requestID), status: 500)
        }
        response.headers["x-request-id"] = requestID
        if surface == .v2 {
            response.headers["Nylas-API-Version"] = "2.5"
            // A v2 429 names the limit and the seconds until it resets (reference v2 §4.4): 50 per
            // second per account token, 500 per application.
            if response.status == 429, response.headers["X-RateLimit-Limit"] == nil {
                let account = request.header("authorization")?.lowercased().hasPrefix("bearer") ?? false
                response.headers["X-RateLimit-Limit"] = account ? "50" : "500"
                response.headers["X-RateLimit-Reset"] = response.headers["Retry-After"] ?? "1"
            }
        }
        if surface == .v3 { Self.v3Headers(request, parts: parts, requestID: requestID, &response) }
        if request.method == "HEAD" {
            response.body = []
            response.stream = nil
        }
        let elapsed = (ContinuousClock.now - started).components
        let micros = Int(elapsed.seconds * 1_000_000 + elapsed.attoseconds / 1_000_000_000_000)
        record(core, request, response, region: region, surface: surface, requestID: requestID, notes: notes, micros: micros)
        return response
    }

    /// What every v3 answer carries (reference §2.4): `x-fastly-id`; on a grant's data call,
    /// `Nylas-Provider-Request-Count` (the simulated provider is called once); and (§1) gzip for a
    /// JSON answer of 200 bytes or more when the client accepts it.
    static func v3Headers(_ request: SimRequest, parts: [String], requestID: String, _ response: inout SimResponse) {
        response.headers["x-fastly-id"] = fastlyID(requestID)
        let dataCall = parts.count >= 4 && parts[0] == "v3" && parts[1] == "grants"
        if dataCall, response.status < 500 { response.headers["Nylas-Provider-Request-Count"] = "1" }
        guard response.body.count >= 200,
              response.headers["Content-Encoding"] == nil,
              (response.headers["Content-Type"] ?? "").hasPrefix("application/json"),
              let accept = request.header("accept-encoding")?.lowercased(),
              accept.split(separator: ",").contains(where: { part in
                  let t = part.trimmingCharacters(in: .whitespaces)
                  return t == "gzip" || (t.hasPrefix("gzip;") && !t.replacingOccurrences(of: " ", with: "").hasSuffix("q=0"))
              }) else { return }
        response.body = Gzip.compress(response.body)
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
    }

    /// `S` and the first 20 letters and digits of the request ID, upper-cased (on bytes: every v3
    /// answer pays for it).
    static func fastlyID(_ requestID: String) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "S")]
        bytes.reserveCapacity(21)
        for b in requestID.utf8 where b != UInt8(ascii: "-") {
            bytes.append(b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") ? b - 32 : b)
            if bytes.count == 21 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the journal entry.
    private func record(_ core: Engine, _ request: SimRequest, _ response: SimResponse, region: Region, surface: APISurface,
                        requestID: String, notes: RequestNotes, micros: Int) {
        core.logger.info("\(request.method) \(request.path) \(response.status)",
                    metadata: ["region": "\(region.rawValue)", "us": "\(micros)"])
        guard surface != .control else { return }
        if let observe = core.requestObserver.withLock({ $0 }) { observe(request, response, region, core.now) }
        core.withState { s in
            try? s.store(region).appendJournal(
                requestID: requestID, time: s.now, surface: surface, method: request.method, path: request.path,
                query: request.query.encoded, status: response.status, applicationID: notes.application,
                grantID: notes.grant, micros: micros, requestBody: request.body, responseBody: response.body,
                keep: s.settings.journalLimit, keepBytes: s.settings.journalByteLimit)
        }
    }

    /// Scripted faults and provider rate limits, checked before the handler runs.
    private func interceptions(_ s: EngineState, _ request: SimRequest, region: Region, surface: APISurface, parts: [String],
                               pattern: String, params: [String: String]) -> FaultAction? {
        let store = s.store(region)
        var grant: GrantRecord?
        // The caller's application and token, read only when needed (a grant named otherwise than by ID, or faults).
        var caller: (applicationID: String?, tokenGrantID: String?)?
        func callerOf() -> (applicationID: String?, tokenGrantID: String?) {
            if let caller { return caller }
            var found: (applicationID: String?, tokenGrantID: String?) = (nil, nil)
            if let auth = request.header("authorization"), auth.lowercased().hasPrefix("bearer ") {
                let bearer = String(auth.dropFirst(7))
                if let app = (try? store.application(apiKey: bearer)) ?? nil {
                    found = (app.id, nil)
                } else if let token = (try? store.token(bearer)) ?? nil {
                    found = (token.applicationID, token.grantID)
                }
            }
            caller = found
            return found
        }
        if let gid = params["grant_id"] {
            grant = (try? store.grant(id: gid.hasPrefix("grant:") ? String(gid.dropFirst(6)) : gid)) ?? nil
            // A grant named by e-mail, external ID or `me` counts against the same provider window.
            if grant == nil, let appID = callerOf().applicationID {
                grant = (try? store.grant(identifier: gid, applicationID: appID, tokenGrantID: callerOf().tokenGrantID)) ?? nil
            }
        }
        if !s.faults.isEmpty {
            let appID = grant?.applicationID ?? callerOf().applicationID
            if let (rule, action) = s.faults.evaluate(region: region, surface: surface, method: request.method, parts: parts,
                                                      applicationID: appID, grantID: grant?.id, provider: grant?.provider,
                                                      now: s.now) {
                if let outage = rule.outage {
                    s.outages.append(ProviderOutage(provider: rule.provider ?? grant?.provider, mailbox: nil, start: s.now,
                                                    end: s.now + outage))
                }
                if action.error != nil || action.drop || action.latency != nil { return action }
            }
        }
        if let limits = s.settings.nylasRateLimits,
           let refused = RateLimits.check(s, limits, request, surface: surface, parts: parts, pattern: pattern, grant: grant,
                                          applicationID: { grant?.applicationID ?? callerOf().applicationID }) {
            return FaultAction(error: refused, latency: nil, drop: false)
        }
        // Provider rate limits apply to data calls of a grant.
        guard let grant, parts.count > 3, let limit = s.settings.providerRateLimits[grant.provider] else { return nil }
        guard let left = s.consume("\(grant.provider)|\(grant.email.lowercased())", limit, in: &s.providerUsage) else { return nil }
        var error = NylasError.rateLimited(retryAfter: RateLimits.seconds(left))
        error.message = "Too many requests, please try again shortly. The \(grant.provider) provider limit is \(limit.requests) requests per \(limit.window.milliseconds / 1000) seconds for this mailbox."
        return FaultAction(error: error, latency: nil, drop: false)
    }
}
