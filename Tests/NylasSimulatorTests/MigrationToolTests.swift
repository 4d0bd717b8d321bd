import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
import NylasSimulatorTesting

/// The v2 → v3 migration tools over real sockets: importing the linked v2 application, cloning one
/// account without re-authentication, and the snapshot and batch-clone jobs on the virtual clock.
@Suite("Migration tools: import a v2 application, clone accounts, batch jobs")
struct MigrationToolTests {
    /// A v2 account of the seeded v2 application through native auth: (account ID, v2 token).
    static func v2Account(_ h: SimHarness, email: String) async throws -> (String, String) {
        let v2 = h.sim.region(.us).v2
        let a = try await h.call("POST", "/connect/authorize", json: [
            "client_id": .string(v2.clientID), "name": "Migrating User", "email_address": .string(email), "provider": "gmail",
            "settings": ["google_client_id": "a", "google_client_secret": "b", "google_refresh_token": "c"]])
        let code = try #require(a.json?["code"]?.stringValue, "\(a.text)")
        let t = try await h.call("POST", "/connect/token", json: [
            "client_id": .string(v2.clientID), "client_secret": .string(v2.clientSecret), "code": .string(code)])
        return (try #require(t.json?["account_id"]?.stringValue, "\(t.text)"), try #require(t.json?["access_token"]?.stringValue))
    }

    static func link(_ h: SimHarness) async throws {
        let r = try await h.call("PATCH", "/v3/applications", token: h.apiKey, json: ["v2_application_id": .string(h.sim.region(.us).v2.clientID)])
        #expect(r.status == 200, "\(r.text)")
    }

    @Test("Clone: a v2 account becomes a v3 grant over the same mailbox, no re-authentication, the v2 account keeps working")
    func cloneOne() async throws {
        try await withSimulator { h in
            let (account, v2Token) = try await Self.v2Account(h, email: "mover@gmail.com")
            _ = try h.sim.deliverMail(to: "mover@gmail.com", from: "friend@example.com", subject: "Before the move")
            let path = "/v3/migration-tools/grants/\(account)/clone"
            let unlinked = try await h.call("POST", path, token: h.apiKey)
            #expect(unlinked.status == 400 && unlinked.text.contains("link"), "\(unlinked.text)")
            #expect(try await h.call("POST", path).status == 401)
            try await Self.link(h)
            let unknown = try await h.call("POST", "/v3/migration-tools/grants/nosuchaccount/clone", token: h.apiKey)
            #expect(unknown.status == 404 && unknown.errorType == "not_found_error", "\(unknown.text)")
            #expect(try await h.call("POST", path + "?allow_invalid_grant_creation=maybe", token: h.apiKey).status == 400)

            let cloned = try await h.call("POST", path, token: h.apiKey)
            #expect(cloned.status == 200, "\(cloned.text)")
            let grant = try #require(cloned.data?["id"]?.stringValue)
            #expect(cloned.data?["account_id"]?.stringValue == account)
            #expect(cloned.data?["provider"]?.stringValue == "google")
            #expect(cloned.data?["grant_status"]?.stringValue == "valid")
            #expect(cloned.data?["email"]?.stringValue == "mover@gmail.com")
            // The grant reads the mailbox at once; the v2 account still answers with its own token.
            let messages = try await h.call("GET", "/v3/grants/\(grant)/messages", token: h.apiKey)
            #expect(messages.data?.arrayValue?.contains { $0["subject"]?.stringValue == "Before the move" } == true, "\(messages.text)")
            #expect(try await h.call("GET", "/account", token: v2Token).status == 200)
            // Cloning again gives the same grant.
            #expect(try await h.call("POST", path, token: h.apiKey).data?["id"]?.stringValue == grant)
            // The billing ledger counts the mailbox once and names the clone.
            let ledger = try await h.call("GET", "/__sim/billing")
            #expect(ledger.json?["current"]?["double_billed"]?.arrayValue?.isEmpty == true, "\(ledger.text)")
            let migrated = ledger.json?["migrated_accounts"]?.arrayValue ?? []
            #expect(migrated.count == 1 && migrated.first?["grant_id"]?.stringValue == grant && migrated.first?["status"]?.stringValue == "success")
            let report = try await h.call("GET", "/__sim/migration-report?format=text")
            #expect(report.text.contains("\(account) mover@gmail.com: success → grant \(grant)"), "\(report.text)")
        }
    }

    @Test("Clone: an account whose credentials stopped working becomes a placeholder grant, or fails with placeholders off")
    func placeholder() async throws {
        try await withSimulator { h in
            let (account, _) = try await Self.v2Account(h, email: "stale@gmail.com")
            try await Self.link(h)
            _ = try h.sim.changePassword(of: "stale@gmail.com")
            let path = "/v3/migration-tools/grants/\(account)/clone"
            let refused = try await h.call("POST", path + "?allow_invalid_grant_creation=false", token: h.apiKey)
            #expect(refused.status == 400, "\(refused.text)")
            #expect(try await h.call("GET", "/v3/grants?email=stale@gmail.com", token: h.apiKey).data?.arrayValue?.isEmpty == true)
            let placeholder = try await h.call("POST", path, token: h.apiKey)
            #expect(placeholder.status == 200, "\(placeholder.text)")
            #expect(placeholder.data?["grant_status"]?.stringValue == "invalid")
            let grant = try #require(placeholder.data?["id"]?.stringValue)
            #expect(try await h.call("GET", "/v3/grants/\(grant)/messages", token: h.apiKey).status == 401)
            let ledger = try await h.call("GET", "/__sim/billing")
            #expect(ledger.json?["migrated_accounts"]?.arrayValue?.first?["status"]?.stringValue == "warning")
        }
    }

    @Test("Batch clone: a snapshot job, then the clone job on the virtual clock; counts, statuses, filters and modes")
    func batch() async throws {
        try await withSimulator { h in
            var accounts: [String] = []
            for email in ["one@gmail.com", "two@gmail.com", "three@gmail.com"] {
                accounts.append(try await Self.v2Account(h, email: email).0)
            }
            _ = try h.sim.changePassword(of: "three@gmail.com")
            #expect(try await h.call("POST", "/v3/migration-tools/snapshot-batch-clone", token: h.apiKey).status == 400)
            try await Self.link(h)
            let bad = try await h.call("POST", "/v3/migration-tools/snapshot-batch-clone", token: h.apiKey, json: ["mode": "sometimes"])
            #expect(bad.status == 400 && bad.errorType == "invalid_request_error", "\(bad.text)")
            #expect(try await h.call("POST", "/v3/migration-tools/snapshot-batch-clone", token: h.apiKey, json: ["providers": ["aol"]]).status == 400)
            #expect(try await h.call("POST", "/v3/migration-tools/snapshot-batch-clone", token: h.apiKey, json: ["limit": "ten"]).status == 400)
            #expect(try await h.call("GET", "/v3/migration-tools/jobs", token: h.apiKey).data?.arrayValue?.isEmpty == true)

            let started = try await h.call("POST", "/v3/migration-tools/snapshot-batch-clone", token: h.apiKey)
            #expect(started.status == 200, "\(started.text)")
            let snapshot = try #require(started.data?["snapshot_job"]?["job_id"]?.stringValue)
            let clone = try #require(started.data?["clone_job"]?["job_id"]?.stringValue)
            #expect(started.data?["snapshot_job"]?["status"]?.stringValue == "running")
            #expect(started.data?["clone_job"]?["status"]?.stringValue == "pending")
            #expect(started.data?["clone_job"]?["linked_job_id"]?.stringValue == snapshot)
            #expect(started.data?["clone_job"]?["_options"] == nil)

            func job(_ id: String) async throws -> JSON? {
                try await h.call("GET", "/v3/migration-tools/jobs", token: h.apiKey).data?.arrayValue?.first { $0["job_id"]?.stringValue == id }
            }
            try await h.advance("30s")
            #expect(try await job(snapshot)?["status"]?.stringValue == "completed")
            #expect(try await job(snapshot)?["count_all"]?.intValue == 3)
            #expect(try await job(clone)?["status"]?.stringValue == "running")
            #expect(try await h.call("GET", "/v3/grants?email=one@gmail.com", token: h.apiKey).data?.arrayValue?.isEmpty == true)
            try await h.advance("6s")
            let done = try #require(try await job(clone))
            #expect(done["status"]?.stringValue == "partial", "\(done)")
            #expect(done["count_all"]?.intValue == 3 && done["count_success"]?.intValue == 2 && done["count_warning"]?.intValue == 1
                    && done["count_failed"]?.intValue == 0, "\(done)")
            let grants = try await h.call("GET", "/v3/grants?limit=50", token: h.apiKey).data?.arrayValue ?? []
            let accountIDs = Set(grants.compactMap { $0["account_id"]?.stringValue })
            #expect(accountIDs.isSuperset(of: accounts))

            // Filters: by status and type; pending and running first when sorted by completion.
            let completed = try await h.call("GET", "/v3/migration-tools/jobs?status=completed&type=snapshot", token: h.apiKey)
            #expect(completed.data?.arrayValue?.map { $0["job_id"]?.stringValue } == [snapshot])
            #expect(try await h.call("GET", "/v3/migration-tools/jobs?status=finished", token: h.apiKey).status == 400)
            let again = try await h.call("POST", "/v3/migration-tools/snapshot-batch-clone", token: h.apiKey, json: ["mode": "only_new"])
            let newClone = try #require(again.data?["clone_job"]?["job_id"]?.stringValue)
            let sorted = try await h.call("GET", "/v3/migration-tools/jobs?sort_by_completion=true", token: h.apiKey)
            #expect(sorted.data?.arrayValue?.prefix(2).map { $0["status"]?.stringValue } == ["pending", "running"], "\(sorted.text)")
            try await h.advance("1m")
            let nothingNew = try #require(try await job(newClone))
            #expect(nothingNew["count_all"]?.intValue == 0 && nothingNew["status"]?.stringValue == "completed", "\(nothingNew)")
            // The other region has none of it.
            #expect(try await h.call("GET", "/v3/migration-tools/jobs", region: .eu, token: h.apiKey(.eu)).data?.arrayValue?.isEmpty == true)
            #expect(try await h.call("GET", "/v3/migration-tools/jobs", region: .eu, token: h.apiKey).status == 401)
        }
    }

    @Test("Import: the linked v2 application's redirect URIs, icon and webhooks (triggers renamed) land in the v3 application, once")
    func importApp() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let basic = ["Authorization": "Basic " + Data("\(v2.clientSecret):".utf8).base64EncodedString()]
            let put = try await h.call("PUT", "/a/\(v2.clientID)", json: ["redirect_uris": ["https://app.example.com/v2/callback"]], headers: basic)
            #expect(put.status == 200, "\(put.text)")
            let hook = try await h.call("POST", "/a/\(v2.clientID)/webhooks", json: [
                "callback_url": .string(receiver.url), "triggers": ["account.connected", "account.running", "message.bounced", "contact.created", "contact.updated"],
                "state": "active"], headers: basic)
            #expect(hook.status == 200, "\(hook.text)")
            #expect(try await h.call("POST", "/v3/migration-tools/import-v2-app", token: h.apiKey).status == 400)
            try await Self.link(h)
            let imported = try await h.call("POST", "/v3/migration-tools/import-v2-app", token: h.apiKey)
            #expect(imported.status == 200 && imported.data?.stringValue?.contains("imported successfully") == true, "\(imported.text)")
            _ = try await h.call("POST", "/v3/migration-tools/import-v2-app", token: h.apiKey)
            let app = try await h.call("GET", "/v3/applications", token: h.apiKey)
            let uris = app.data?["callback_uris"]?.arrayValue?.compactMap { $0["url"]?.stringValue } ?? []
            #expect(uris.filter { $0 == "https://app.example.com/v2/callback" }.count == 1, "\(app.text)")
            let hooks = try await h.call("GET", "/v3/webhooks", token: h.apiKey).data?.arrayValue ?? []
            let copies = hooks.filter { $0["webhook_url"]?.stringValue == receiver.url }
            #expect(copies.count == 1)
            #expect(copies.first?["trigger_types"]?.arrayValue?.compactMap(\.stringValue) == ["grant.created", "message.bounce_detected", "contact.updated"])
        }
    }
}
