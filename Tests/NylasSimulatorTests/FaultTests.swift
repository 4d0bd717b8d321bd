import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

@Suite("Faults: one engine for every failure; provider rate limits")
struct FaultTests {
    @Test("First N matching requests fail with the Nylas body of that status and Retry-After")
    func countedStatus() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "f@gmail.com")
            let r = try await h.call("POST", "/__sim/faults", json: ["path": "/v3/grants/*/messages", "method": "GET",
                                                                   "status": 429, "retry_after": 30, "count": 2])
            #expect(r.status == 201)
            for _ in 0..<2 {
                let x = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken)
                #expect(x.status == 429)
                #expect(x.errorType == "rate_limit_error")
                #expect(x.headers["retry-after"] == "30")
            }
            let ok = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken)
            #expect(ok.status == 200)
            let other = try await h.call("GET", "/v3/grants/\(g.id)", token: h.apiKey)
            #expect(other.status == 200)
            let rules = try await h.call("GET", "/__sim/faults")
            #expect(rules.json?["data"]?.arrayValue?.first?["hits"]?.intValue == 2)
        }
    }

    @Test("Faults by region, API version, provider, time window; v2 bodies; drop and latency")
    func matching() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "m@example.com", provider: "imap")
            _ = try await h.call("POST", "/__sim/faults", json: ["region": "eu", "status": 500])
            #expect(try await h.call("GET", "/v3/grants", token: h.apiKey).status == 200)
            #expect(try await h.call("GET", "/v3/grants", region: .eu, token: h.apiKey(.eu)).status == 500)
            _ = try await h.call("DELETE", "/__sim/faults")
            _ = try await h.call("POST", "/__sim/faults", json: ["api": "v2", "status": 503])
            let v2 = try await h.call("GET", "/a/\(h.sim.region(.us).v2.clientID)/webhooks")
            #expect(v2.status == 503)
            #expect(v2.json?["type"]?.stringValue == "api_error")
            #expect(v2.json?["message"] != nil)
            _ = try await h.call("DELETE", "/__sim/faults")
            _ = try await h.call("POST", "/__sim/faults", json: ["provider": "imap", "status": 504, "from": "10m", "until": "20m"])
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken).status == 200)
            try await h.advance("15m")
            let during = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken)
            #expect(during.status == 504)
            #expect(during.errorType == "provider_error")
            try await h.advance("10m")
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken).status == 200)
            _ = try await h.call("DELETE", "/__sim/faults")
            _ = try await h.call("POST", "/__sim/faults", json: ["path": "/v3/grants", "drop": true, "count": 1])
            await #expect(throws: (any Error).self) { _ = try await h.call("GET", "/v3/grants", token: h.apiKey) }
            #expect(try await h.call("GET", "/v3/grants", token: h.apiKey).status == 200, "the server keeps serving")
            let bad = try await h.call("POST", "/__sim/faults", json: ["path": "/x"])
            #expect(bad.status == 400)
        }
    }

    @Test("A probability with the seed draws the same failures every run")
    func probabilityIsSeeded() async throws {
        func run() async throws -> [Int] {
            try await withSimulator(seed: "dice") { h in
                _ = try await h.call("POST", "/__sim/faults", json: ["path": "/v3/grants", "status": 500, "probability": 0.5])
                var out: [Int] = []
                for _ in 0..<20 { out.append(try await h.call("GET", "/v3/grants", token: h.apiKey).status) }
                return out
            }
        }
        let a = try await run()
        let b = try await run()
        #expect(a == b)
        #expect(a.contains(500) && a.contains(200))
    }

    @Test("A burst over Google's per-user limit gets 429 with Retry-After; the window resets")
    func providerRateLimit() async throws {
        try await withSimulator(configure: { $0.settings.providerRateLimits["google"] = ProviderRateLimit(requests: 5, window: .seconds(60)) }) { h in
            let g = try h.sim.createGrant(email: "burst@gmail.com", provider: "google")
            var statuses: [Int] = []
            var retryAfter: String?
            for _ in 0..<7 {
                let r = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken)
                statuses.append(r.status)
                if r.status == 429 { retryAfter = r.headers["retry-after"] }
            }
            #expect(statuses == [200, 200, 200, 200, 200, 429, 429])
            #expect(retryAfter == "60")
            try await h.advance("61s")
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken).status == 200)
        }
    }

    @Test("Every way of naming a grant counts against the same provider window")
    func providerRateLimitByAnyName() async throws {
        try await withSimulator(configure: { $0.settings.providerRateLimits["google"] = ProviderRateLimit(requests: 6, window: .seconds(60)) }) { h in
            let g = try h.sim.createGrant(email: "names@gmail.com", provider: "google")
            var statuses: [Int] = []
            // By ID, by address (API key), `email:`, `grant:`, `me` (access token), then by address again.
            let calls: [(String, String)] = [(g.id, h.apiKey), ("names@gmail.com", h.apiKey), ("email:names@gmail.com", h.apiKey),
                                             ("grant:\(g.id)", h.apiKey), ("me", g.accessToken), ("NAMES@gmail.com", h.apiKey),
                                             ("names@gmail.com", h.apiKey), (g.id, g.accessToken)]
            for (name, token) in calls {
                statuses.append(try await h.call("GET", "/v3/grants/\(name)/messages", token: token).status)
            }
            #expect(statuses == [200, 200, 200, 200, 200, 200, 429, 429], "\(statuses)")
        }
    }

    @Test("A fault rule can start a provider outage")
    func outageAction() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "out@gmail.com", provider: "google")
            var rule = FaultRule()
            rule.provider = "google"
            rule.outage = .seconds(600)
            rule.count = 1
            h.sim.addFault(rule)
            let first = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken)
            #expect(first.status == 504)
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/folders", token: g.accessToken).status == 504)
            await h.sim.advance(by: .seconds(601))
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/folders", token: g.accessToken).status == 200)
        }
    }
}
