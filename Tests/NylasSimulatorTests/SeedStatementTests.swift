import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimControl
import NylasSimulatorTesting

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

    /// 002 l. 220–239 and 004 l. 51: triggers v3 keeps or adds, each fired by the change it names.
    @Test("Triggers fire: message.updated, calendar.updated, calendar.deleted, folder.created, message.send_failed (002-73, 75, 76, 85; 004-17)")
    func triggersFire() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let hook = try await h.call("POST", "/v3/webhooks", token: h.apiKey, json: [
                "trigger_types": ["message.updated", "calendar.updated", "calendar.deleted", "folder.created", "message.send_failed"],
                "webhook_url": .string(receiver.url)])
            #expect(hook.status == 200, "\(hook.text)")
            let g = try h.sim.createGrant(email: "triggers@gmail.com", provider: "google")
            // message.updated: the user reads the mail in their own client.
            let delivered = try await h.call("POST", "/__sim/providers/mailboxes/triggers@gmail.com/messages",
                                             json: ["from": ["email": "a@example.org"], "subject": "Read me"])
            let worldID = try #require(delivered.json?["world_id"]?.intValue ?? delivered.json?["id"]?.intValue, "\(delivered.text)")
            _ = try await h.call("PATCH", "/__sim/providers/mailboxes/triggers@gmail.com/messages/\(worldID)", json: ["unread": false])
            let updated = try #require(await h.sim.nextDelivery { $0.type == "message.updated" }, "002-73")
            #expect(updated.payload?["data"]?["object"]?["unread"]?.boolValue == false)
            // calendar.updated and calendar.deleted.
            let cal = try await h.call("POST", "/v3/grants/\(g.id)/calendars", token: h.apiKey, json: ["name": "Team"])
            let calID = try #require(cal.data?["id"]?.stringValue)
            _ = try await h.call("PUT", "/v3/grants/\(g.id)/calendars/\(calID)", token: h.apiKey, json: ["name": "Team B"])
            let calUpdated = try #require(await h.sim.nextDelivery { $0.type == "calendar.updated" }, "002-75")
            #expect(calUpdated.payload?["data"]?["object"]?["name"]?.stringValue == "Team B")
            _ = try await h.call("DELETE", "/v3/grants/\(g.id)/calendars/\(calID)", token: h.apiKey)
            let calDeleted = try #require(await h.sim.nextDelivery { $0.type == "calendar.deleted" }, "002-76")
            #expect(calDeleted.payload?["data"]?["object"]?["id"]?.stringValue == calID)
            // folder.created.
            _ = try await h.call("POST", "/v3/grants/\(g.id)/folders", token: h.apiKey, json: ["name": "Receipts"])
            let folder = try #require(await h.sim.nextDelivery { $0.type == "folder.created" }, "004-17")
            #expect(folder.payload?["data"]?["object"]?["name"]?.stringValue == "Receipts")
            // message.send_failed, for scheduled messages: the grant's credentials expire before send_at.
            let scheduled = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "x@example.com"]], "subject": "Later", "send_at": .int(h.sim.now.seconds + 600)])
            #expect(scheduled.status == 202, "\(scheduled.text)")
            try h.sim.expireCredentials(grantID: g.id)
            let failed = try #require(await h.sim.advanceUntilDelivery(within: .seconds(3600)) { $0.type == "message.send_failed" }, "002-85")
            #expect(failed.payload?["data"]?["object"]?["schedule_id"] == scheduled.json?["schedule_id"])
        }
    }

    /// 004 l. 68 and l. 72: the reply's `from` is what the payload says (an alias), and custom
    /// headers can be set on a send.
    @Test("A send takes a from alias and custom headers (004-23, 004-27)")
    func fromAliasAndHeaders() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "owner@gmail.com", provider: "google")
            let sent = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "x@example.com"]], "subject": "Alias", "from": [["name": "Support", "email": "support@owner-company.com"]],
                "custom_headers": [["name": "X-Ticket", "value": "T-42"]]])
            #expect(sent.status == 200, "\(sent.text)")
            #expect(sent.data?["from"] == [["name": "Support", "email": "support@owner-company.com"]], "004-23")
            let id = try #require(sent.data?["id"]?.stringValue)
            let read = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(id)?fields=include_headers", token: h.apiKey)
            #expect(read.data?["from"]?.arrayValue?.first?["email"]?.stringValue == "support@owner-company.com")
            #expect(read.data?["headers"]?.arrayValue?.contains { $0["name"] == "X-Ticket" && $0["value"] == "T-42" } == true,
                    "004-27: \(read.text.prefix(600))")
        }
    }

    /// 004 l. 85: "There is no lookup to translate folder names to IDs on /message or /threads".
    @Test("A folder name where an ID belongs finds nothing (004-32)")
    func folderNamesAreNotIDs() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "names@outlook.com", provider: "microsoft")
            let byName = try await h.call("GET", "/v3/grants/\(g.id)/messages?in=Inbox", token: h.apiKey)
            #expect(byName.status == 404 && byName.text.contains("Inbox"), "\(byName.text)")
            let folders = try await h.call("GET", "/v3/grants/\(g.id)/folders", token: h.apiKey).data?.arrayValue ?? []
            let inbox = try #require(folders.first { $0["name"] == "Inbox" }?["id"]?.stringValue)
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/messages?in=\(QueryParameters.encode(inbox))", token: h.apiKey).status == 200)
        }
    }

    /// 002 l. 286: v3 recurring events take no separate recurrence time zone (the v2 object form).
    @Test("The v2 recurrence object with its own timezone is refused by v3 (002-101)")
    func recurrenceTimezoneRefused() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "rec@gmail.com", provider: "google")
            let r = try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=primary", token: h.apiKey, json: [
                "title": "Daily", "when": ["start_time": 1767300000, "end_time": 1767303600],
                "recurrence": ["rrule": ["RRULE:FREQ=DAILY"], "timezone": "America/New_York"]])
            #expect(r.status == 400 && r.text.contains("recurrence"), "\(r.text)")
            let ok = try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=primary", token: h.apiKey, json: [
                "title": "Daily", "when": ["start_time": 1767300000, "end_time": 1767303600, "start_timezone": "America/New_York"],
                "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"]])
            #expect(ok.status == 200, "\(ok.text)")
        }
    }

    /// 002 l. 130: "You can now use each connector to configure default scopes for each provider."
    @Test("A connector's scopes are the default of a grant authorized without scope (002-36)")
    func connectorDefaultScopes() async throws {
        try await withSimulator { h in
            let app = h.sim.region(.us).v3
            let scope = ["https://www.googleapis.com/auth/gmail.readonly", "openid"]
            let patched = try await h.call("PATCH", "/v3/connectors/google", token: h.apiKey, json: ["scope": .strings(scope)])
            #expect(patched.status == 200, "\(patched.text)")
            let redirect = "https://app.example.com/callback"
            _ = try await h.call("POST", "/v3/applications/redirect-uris", token: h.apiKey, json: ["url": .string(redirect)])
            let auth = try await h.call("GET", "/v3/connect/auth?client_id=\(app.clientID)&redirect_uri=\(QueryParameters.encode(redirect))&response_type=code&provider=google&login_hint=scoped@gmail.com")
            let location = try #require(auth.headers["location"], "\(auth.text)")
            let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
            let token = try await h.call("POST", "/v3/connect/token", json: [
                "client_id": .string(app.clientID), "client_secret": .string(app.apiKey), "grant_type": "authorization_code",
                "code": .string(code), "redirect_uri": .string(redirect)])
            #expect(token.json?["scope"]?.stringValue == scope.joined(separator: " "), "\(token.text)")
            let grant = try await h.call("GET", "/v3/grants/\(token.json?["grant_id"]?.stringValue ?? "")", token: h.apiKey)
            #expect(grant.data?["scope"]?.arrayValue?.compactMap(\.stringValue) == scope)
        }
    }

    /// 000 l. 105–115, the v2 half of a region move: new account and object IDs in the new region,
    /// the same mail re-synced there, and webhooks configured per region.
    @Test("v2 across regions: new account and message IDs, the mail re-synced, webhooks per region (000-21, 22, 25)")
    func v2AcrossRegions() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            func connect(_ region: Region) async throws -> (String, String) {
                let v2 = h.sim.region(region).v2
                let a = try await h.call("POST", "/connect/authorize", region: region, json: [
                    "client_id": .string(v2.clientID), "name": "Mo", "email_address": "mo@gmail.com", "provider": "gmail",
                    "settings": ["google_client_id": "a", "google_client_secret": "b", "google_refresh_token": "c"], "scopes": "email"])
                let t = try await h.call("POST", "/connect/token", region: region, json: [
                    "client_id": .string(v2.clientID), "client_secret": .string(v2.clientSecret), "code": a.json?["code"] ?? .null])
                return (try #require(t.json?["account_id"]?.stringValue), try #require(t.json?["access_token"]?.stringValue))
            }
            _ = try h.sim.deliverMail(to: "mo@gmail.com", from: "a@example.org", subject: "Before the move")
            let (usAccount, usToken) = try await connect(.us)
            let (euAccount, euToken) = try await connect(.eu)
            #expect(usAccount != euAccount, "000-21")
            let usMail = try await h.call("GET", "/messages", region: .us, headers: ["Authorization": "Bearer \(usToken)"]).json?.arrayValue ?? []
            let euMail = try await h.call("GET", "/messages", region: .eu, headers: ["Authorization": "Bearer \(euToken)"]).json?.arrayValue ?? []
            #expect(usMail.map { $0["subject"] } == euMail.map { $0["subject"] } && euMail.count == 1, "000-22: the mail is re-synced")
            let usIDs = Set(usMail.compactMap { $0["id"]?.stringValue }), euIDs = Set(euMail.compactMap { $0["id"]?.stringValue })
            #expect(!usIDs.isEmpty && usIDs.isDisjoint(with: euIDs), "000-22: new IDs")
            // 000-25: a v2 webhook set up in the US hears nothing of the EU account.
            let v2 = h.sim.region(.us).v2
            let basic = ["Authorization": "Basic " + Data("\(v2.clientSecret):".utf8).base64EncodedString()]
            let hook = try await h.call("POST", "/a/\(v2.clientID)/webhooks", json: ["callback_url": .string(receiver.url),
                                                                                   "triggers": ["message.created"], "state": "active"], headers: basic)
            #expect(hook.status == 200, "\(hook.text)")
            _ = try h.sim.deliverMail(to: "mo@gmail.com", from: "b@example.org", subject: "After")
            _ = try #require(await h.sim.nextDelivery(.us) { $0.type == "message.created" })
            await h.sim.settle()
            #expect(try h.sim.webhookDeliveries(.eu).isEmpty, "nothing configured in the EU")
            #expect(try h.sim.webhookDeliveries(.us).allSatisfy { $0.grantID == usAccount })
        }
    }

    /// 004 l. 72: "Fetching or sending RAW messages is not supported. Instead, use the option
    /// fields=include_headers."
    @Test("Raw messages: neither fetched nor sent by default; rawMIMEReads serves the reference's raw_mime (004-25)")
    func rawMessages() async throws {
        for allowed in [false, true] {
            try await withSimulator(configure: { $0.settings.rawMIMEReads = allowed }) { h in
                let g = try h.sim.createGrant(email: "raw@gmail.com", provider: "google")
                _ = try h.sim.deliverMail(to: "raw@gmail.com", from: "a@example.org", subject: "Raw")
                let list = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: h.apiKey)
                let id = try #require(list.data?.arrayValue?.first?["id"]?.stringValue)
                let raw = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(id)?fields=raw_mime", token: h.apiKey)
                if allowed {
                    #expect(raw.status == 200 && raw.data?["raw_mime"]?.stringValue?.isEmpty == false, "\(raw.text)")
                } else {
                    #expect(raw.status == 400 && raw.text.contains("include_headers"), "\(raw.text)")
                    let listRaw = try await h.call("GET", "/v3/grants/\(g.id)/messages?fields=raw_mime", token: h.apiKey)
                    #expect(listRaw.status == 400)
                }
                let headers = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(id)?fields=include_headers", token: h.apiKey)
                #expect(headers.data?["headers"]?.arrayValue?.isEmpty == false)
                let send = try await h.raw("POST", "/v3/grants/\(g.id)/messages/send?type=mime", token: h.apiKey,
                                           body: Array("From: raw@gmail.com\r\nTo: x@example.com\r\n\r\nhi".utf8),
                                           headers: ["Content-Type": "message/rfc822"])
                #expect(send.status == 400 || send.status == 415, "\(send.status) \(send.text)")
            }
        }
    }

    /// 002 l. 239: "message.bounce_detected to check for bounces".
    @Test("A send to an address that cannot exist bounces: the notice arrives and message.bounce_detected fires (002-86)")
    func bounceDetected() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            _ = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                 json: ["trigger_types": ["message.bounce_detected", "message.created"], "webhook_url": .string(receiver.url)])
            let g = try h.sim.createGrant(email: "sender@gmail.com", provider: "google")
            let sent = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "ok@example.com"], ["email": "nobody@nowhere.invalid"]], "subject": "Quarterly numbers"])
            #expect(sent.status == 200, "\(sent.text)")
            await h.sim.advance(by: .seconds(30))
            #expect(try h.sim.webhookDeliveries().allSatisfy { $0.type != "message.bounce_detected" }, "not before a minute")
            let bounce = try #require(await h.sim.advanceUntilDelivery(within: .seconds(120)) { $0.type == "message.bounce_detected" })
            let data = try #require(bounce.payload?["data"])
            #expect(bounce.payload?["source"]?.stringValue == "/nylas/send")
            #expect(data["grant_id"]?.stringValue == g.id)
            #expect(data["object"]?["bounced_addresses"] == ["nobody@nowhere.invalid"])
            #expect(data["object"]?["code"]?.stringValue == "550")
            #expect(data["object"]?["origin"]?["id"] == sent.data?["id"])
            #expect(data["object"]?["origin"]?["subject"]?.stringValue == "Quarterly numbers")
            let inbox = try await h.call("GET", "/v3/grants/\(g.id)/messages?in=INBOX", token: h.apiKey)
            #expect(inbox.data?.arrayValue?.first?["subject"]?.stringValue == "Delivery Status Notification (Failure)")
            // A send without such an address does not bounce.
            _ = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey, json: ["to": [["email": "ok@example.com"]], "subject": "Fine"])
            await h.sim.advance(by: .seconds(600))
            #expect(try h.sim.webhookDeliveries().filter { $0.type == "message.bounce_detected" }.count == 1)
        }
    }
}
