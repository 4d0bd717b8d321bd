import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimControl

/// Statements of the seed documents that each take one request or one look at the migration
/// catalog to check; `docs/SEED-MAP.md` names each row's test. The ID in each case is the row's.
@Suite("Seed statements, one request each")
struct SeedStatementTests {
    /// 002 l. 170–182 and l. 106–107: endpoints v3 removed or renamed; the migration report must
    /// say so for a journal that calls them.
    @Test("Removed and renamed v2 endpoints are listed so in the migration catalog (002-26, 27, 52–59, 141)")
    func removedEndpoints() {
        let expected: [(String, String, String, String)] = [
            ("002-26", "GET", "/a/{client_id}", "removed"),
            ("002-27", "PUT", "/a/{client_id}", "removed"),
            ("002-52", "POST", "/a/{client_id}/accounts/{id}/downgrade", "removed"),
            ("002-53", "POST", "/a/{client_id}/accounts/{id}/upgrade", "removed"),
            ("002-54", "POST", "/a/{client_id}/accounts/{id}/revoke-all", "removed"),
            ("002-55", "POST", "/a/{client_id}/accounts/{id}/token-info", "removed"),
            ("002-56", "POST", "/oauth/revoke", "renamed"),
            ("002-57", "GET", "/account", "removed"),
            ("002-58", "POST", "/connect/authorize", "removed"),
            ("002-59", "POST", "/connect/token", "renamed"),
            ("002-141", "GET", "/files", "removed"),
            ("002-141", "POST", "/files", "removed"),
            ("002-141", "DELETE", "/files/{id}", "removed"),
        ]
        for (row, method, pattern, status) in expected {
            let entry = MigrationReport.catalog.first { $0.method == method && $0.pattern == pattern }
            #expect(entry?.status == status, "\(row): \(method) \(pattern) is \(entry?.status ?? "absent")")
        }
    }

    @Test("v3 answers the removed paths with a 404 that names the replacement (002-14, 002-57)")
    func removedPaths() async throws {
        try await withSimulator { h in
            let components = try await h.call("GET", "/v3/components", token: h.apiKey)
            #expect(components.status == 404 && components.text.contains("removed"), "002-14: \(components.text)")
            let account = try await h.call("GET", "/v3/account", token: h.apiKey)
            #expect(account.status == 404 && account.text.contains("/v3/grants/me"), "002-57: \(account.text)")
        }
    }

    @Test("v3 creates no application through the API (002-24)")
    func noApplicationCreation() async throws {
        try await withSimulator { h in
            let before = try await h.call("GET", "/__sim/state").json?["regions"]?["us"]?["applications"]?.arrayValue?.count
            let r = try await h.call("POST", "/v3/applications", token: h.apiKey, json: ["name": "Another"])
            #expect(!(200..<300).contains(r.status), "\(r.status) \(r.text)")
            #expect(r.json?["error"]?["type"] != nil)
            #expect(try await h.call("GET", "/__sim/state").json?["regions"]?["us"]?["applications"]?.arrayValue?.count == before)
        }
    }

    @Test("v3 ignores the Nylas-API-Version header (002-4)")
    func apiVersionHeaderIgnored() async throws {
        try await withSimulator { h in
            _ = try h.sim.createGrant(email: "ver@gmail.com")
            let plain = try await h.call("GET", "/v3/grants", token: h.apiKey)
            for version in ["2.0", "2.7", "3.0", "nonsense"] {
                let r = try await h.call("GET", "/v3/grants", token: h.apiKey, headers: ["Nylas-API-Version": version])
                #expect(r.status == 200 && r.data == plain.data, "\(version): \(r.text)")
            }
        }
    }

    @Test("v2 triggers removed in v3 are refused on a v3 destination (002-87 to 002-92)")
    func removedTriggers() async throws {
        try await withSimulator { h in
            for (row, trigger) in [("002-87", "account.running"), ("002-88", "account.stopped"), ("002-89", "account.invalid"),
                                   ("002-90", "account.sync_error"), ("002-91", "job.successful"), ("002-92", "job.failed")] {
                let r = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                         json: ["trigger_types": [.string(trigger)], "webhook_url": "https://example.com/hook"])
                #expect(r.status == 400 && r.text.contains(trigger), "\(row): \(r.text)")
            }
            #expect(try await h.call("GET", "/v3/webhooks", token: h.apiKey).data?.arrayValue?.isEmpty == true, "nothing was created")
        }
    }

    @Test("Deprecated v2 parts of GET calls: the filename parameter is refused; no events or cids property (002-123 to 125)")
    func deprecatedParts() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "dep@gmail.com", provider: "google")
            _ = try h.sim.deliverMail(to: "dep@gmail.com", from: "a@example.org", subject: "Hello")
            let filename = try await h.call("GET", "/v3/grants/\(g.id)/messages?filename=report.pdf", token: h.apiKey)
            #expect(filename.status == 400 && filename.text.contains("filename"), "002-123: \(filename.text)")
            let list = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: h.apiKey)
            let message = try #require(list.data?.arrayValue?.first?.objectValue)
            #expect(message["events"] == nil, "002-124")
            #expect(message["cids"] == nil, "002-125")
        }
    }
}
