import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

@Suite("Migration: US → EU, v2 → v3, billing ledger, migration report")
struct MigrationTests {
    func headers(_ m: JSON) -> String? {
        m["headers"]?.arrayValue?.first { $0["name"]?.stringValue?.lowercased() == "message-id" }?["value"]?.stringValue
    }

    @Test("US → EU: three grants re-authenticated in the EU, every message joined by Message-ID, billing doubled during the move only")
    func regionMigration() async throws {
        let receiverUS = try await WebhookReceiver.start()
        let receiverEU = try await WebhookReceiver.start()
        defer { Task { await receiverUS.stop(); await receiverEU.stop() } }
        try await withSimulator { h in
            _ = try await h.call("POST", "/v3/webhooks", token: h.apiKey(.us), json: ["trigger_types": ["message.created", "grant.created"], "webhook_url": .string(receiverUS.url)])
            _ = try await h.call("POST", "/v3/webhooks", region: .eu, token: h.apiKey(.eu), json: ["trigger_types": ["message.created", "grant.created"], "webhook_url": .string(receiverEU.url)])
            let users = [("ana@gmail.com", "google"), ("ben@outlook.com", "microsoft"), ("cy@example.com", "imap")]
            var us: [GrantInfo] = []
            for (email, provider) in users {
                us.append(try h.sim.createGrant(.us, email: email, provider: provider))
                for i in 1...3 { _ = try h.sim.deliverMail(to: email, from: "sender\(i)@example.org", subject: "\(email) #\(i)") }
            }
            try await h.advance("10m")
            // Re-authenticate every user in the EU: new grant IDs.
            var eu: [GrantInfo] = []
            for (email, provider) in users { eu.append(try h.sim.createGrant(.eu, email: email, provider: provider)) }
            #expect(Set(us.map(\.id)).isDisjoint(with: Set(eu.map(\.id))))
            let during = try h.sim.billing()
            #expect(Set(during["current"]?["double_billed"]?.arrayValue?.compactMap(\.stringValue) ?? []) == Set(users.map(\.0)))
            for (a, b) in zip(us, eu) {
                let left = try await h.call("GET", "/v3/grants/\(a.id)/messages?fields=include_headers", token: a.accessToken).data?.arrayValue ?? []
                let right = try await h.call("GET", "/v3/grants/\(b.id)/messages?fields=include_headers", region: .eu, token: b.accessToken).data?.arrayValue ?? []
                #expect(left.count == 3 && right.count == 3)
                let byHeader = Dictionary(uniqueKeysWithValues: right.compactMap { m in headers(m).map { ($0, m) } })
                for m in left {
                    let match = try #require(byHeader[headers(m) ?? ""], "every US message has an EU counterpart")
                    // Seed 000: new IDs in the new region; seed 004: IMAP's are the Message-ID header itself.
                    if a.provider == "imap" {
                        #expect(match["id"] == m["id"], "IMAP: the Message-ID header, the same in each region")
                    } else {
                        #expect(match["id"] != m["id"], "different IDs in each region")
                    }
                    #expect(match["subject"] == m["subject"])
                }
                // US credentials are unknown in the EU.
                #expect(try await h.call("GET", "/v3/grants/\(a.id)", region: .eu, token: h.apiKey(.eu)).status == 404)
            }
            // Nothing configured in the US notifies for EU grants and vice versa.
            _ = await h.sim.nextDelivery(.eu) { $0.type == "grant.created" }
            let usGrants = Set(try h.sim.webhookDeliveries(.us).compactMap { $0.payload?["data"]?["object"]?["grant_id"]?.stringValue })
            let euGrants = Set(try h.sim.webhookDeliveries(.eu).compactMap { $0.payload?["data"]?["object"]?["grant_id"]?.stringValue })
            #expect(usGrants.isSubset(of: Set(us.map(\.id))))
            #expect(euGrants.isSubset(of: Set(eu.map(\.id))))
            // Revoke the old grants' tokens (reference §4.5): the tokens stop working at once, but the
            // grants stay, valid and billable (seed 000: billed twice until the old one is deactivated).
            for a in us {
                let r = try await h.call("POST", "/v3/connect/revoke?token=\(a.accessToken)", token: h.apiKey(.us))
                #expect(r.status == 200)
                #expect(try await h.call("GET", "/v3/grants/me", token: a.accessToken).status == 401)
                let grant = try await h.call("GET", "/v3/grants/\(a.id)", token: h.apiKey(.us))
                #expect(grant.data?["grant_status"]?.stringValue == "valid")
            }
            #expect(Set(try h.sim.billing()["current"]?["double_billed"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                    == Set(users.map(\.0)), "revoked but not deleted: still billed in both regions")
            // Deleting the old grants ends it; the ledger says why each period ended.
            for a in us {
                #expect(try await h.call("DELETE", "/v3/grants/\(a.id)", token: h.apiKey(.us)).status == 200)
            }
            let after = try h.sim.billing()
            #expect(after["current"]?["double_billed"]?.arrayValue?.isEmpty == true)
            let ended = after["ended"]?.arrayValue ?? []
            #expect(ended.count == 3 && ended.allSatisfy { $0["ended_by"]?.stringValue == "deleted" && $0["region"]?.stringValue == "us" })
            let thisMonth = try #require(after["months"]?.arrayValue?.last)
            #expect(thisMonth["double_billed"]?.arrayValue?.count == 3, "the month of the move is billed twice")
            await h.sim.advance(by: .seconds(32 * 86400))
            let nextMonth = try #require(try h.sim.billing()["months"]?.arrayValue?.last)
            #expect(nextMonth["double_billed"]?.arrayValue?.isEmpty == true)
            let euApp = nextMonth["applications"]?.arrayValue?.first { $0["region"]?.stringValue == "eu" }
            #expect(euApp?["billable_accounts"]?.intValue == 3)
            let control = try await h.call("GET", "/__sim/billing")
            #expect(control.json?["months"]?.arrayValue?.count == 2)
        }
    }

    @Test("v2 → v3: linked applications, account_id on the grant, v2 IDs on v3 GET, translate, deprecated endpoints, report")
    func v2ToV3() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            _ = try h.sim.deliverMail(to: "lee@gmail.com", from: "a@example.org", subject: "Old mail")
            let auth = try await h.call("POST", "/connect/authorize", json: [
                "client_id": .string(v2.clientID), "name": "Lee", "email_address": "lee@gmail.com", "provider": "gmail",
                "settings": ["google_client_id": "x", "google_client_secret": "y", "google_refresh_token": "z"]])
            let token = try await h.call("POST", "/connect/token", json: ["client_id": .string(v2.clientID), "client_secret": .string(v2.clientSecret),
                                                                          "code": auth.json?["code"] ?? .null])
            let accountID = try #require(token.json?["account_id"]?.stringValue)
            let v2Token = try #require(token.json?["access_token"]?.stringValue)
            let v2Messages = try await h.call("GET", "/messages?view=expanded", headers: ["Authorization": "Bearer \(v2Token)"])
            let v2Message = try #require(v2Messages.json?.arrayValue?.first)
            let v2ID = try #require(v2Message["id"]?.stringValue)
            _ = try await h.call("GET", "/labels", headers: ["Authorization": "Bearer \(v2Token)"])
            _ = try await h.call("GET", "/messages?not_in=spam&offset=0", headers: ["Authorization": "Bearer \(v2Token)"])
            _ = try await h.call("POST", "/delta/latest_cursor", headers: ["Authorization": "Bearer \(v2Token)"])
            // Link the v3 application to the v2 one, then authenticate the mailbox in v3.
            let link = try await h.call("PATCH", "/v3/applications", token: h.apiKey, json: ["v2_application_id": .string(v2.clientID)])
            #expect(link.data?["v2_application_id"]?.stringValue == v2.clientID)
            let grant = try h.sim.createGrant(email: "lee@gmail.com", provider: "google")
            let g = try await h.call("GET", "/v3/grants/\(grant.id)", token: h.apiKey)
            #expect(g.data?["account_id"]?.stringValue == accountID, "a migrated grant keeps the v2 account ID")
            let byAccount = try await h.call("GET", "/v3/grants?account_id=\(accountID)", token: h.apiKey)
            #expect(byAccount.data?.arrayValue?.map { $0["id"]?.stringValue } == [grant.id])
            // A v2 message ID works on v3 GET for the linked grant.
            let viaV2 = try await h.call("GET", "/v3/grants/\(grant.id)/messages/\(v2ID)", token: h.apiKey)
            #expect(viaV2.status == 200)
            #expect(viaV2.data?["subject"]?.stringValue == "Old mail")
            #expect(viaV2.data?["id"]?.stringValue != v2ID)
            // The same for threads and folders (labels): each v2 ID reaches its v3 object on GET.
            let v2Thread = try #require(v2Message["thread_id"]?.stringValue)
            let threadViaV2 = try await h.call("GET", "/v3/grants/\(grant.id)/threads/\(v2Thread)", token: h.apiKey)
            #expect(threadViaV2.status == 200, "\(threadViaV2.text)")
            #expect(threadViaV2.data?["message_ids"]?.arrayValue == [viaV2.data?["id"] ?? .null])
            let v2Labels = try await h.call("GET", "/labels", headers: ["Authorization": "Bearer \(v2Token)"])
            let v2Inbox = try #require(v2Labels.json?.arrayValue?.first { $0["name"]?.stringValue == "inbox" }?["id"]?.stringValue)
            let folderViaV2 = try await h.call("GET", "/v3/grants/\(grant.id)/folders/\(v2Inbox)", token: h.apiKey)
            #expect(folderViaV2.status == 200, "\(folderViaV2.text)")
            #expect(folderViaV2.data?["id"]?.stringValue == "INBOX")
            // Only on GET: a v2 ID on DELETE or PUT is an unknown ID, and nothing changes.
            let deleteViaV2 = try await h.call("DELETE", "/v3/grants/\(grant.id)/messages/\(v2ID)", token: h.apiKey)
            #expect(deleteViaV2.status == 404, "\(deleteViaV2.text)")
            let putViaV2 = try await h.call("PUT", "/v3/grants/\(grant.id)/threads/\(v2Thread)", token: h.apiKey, json: ["starred": true])
            #expect(putViaV2.status == 404, "\(putViaV2.text)")
            let unchanged = try await h.call("GET", "/v3/grants/\(grant.id)/messages/\(v2ID)", token: h.apiKey)
            #expect(unchanged.data?["starred"] == false)
            // Seed 004: "Metadata on V2 objects must be synced to a locally stored DB": v2 metadata is
            // not carried into v3.
            let tagged = try await h.call("PUT", "/messages/\(v2ID)", json: ["metadata": ["crm": "deal-7"]],
                                          headers: ["Authorization": "Bearer \(v2Token)"])
            #expect(tagged.json?["metadata"]?["crm"]?.stringValue == "deal-7", "\(tagged.text)")
            let inV3 = try await h.call("GET", "/v3/grants/\(grant.id)/messages/\(v2ID)", token: h.apiKey)
            #expect(inV3.data?["metadata"]?["crm"] == nil, "v2 metadata stays in v2")
            // Seed 004: "You can use V2 message_id as the reply_to_message value if your apps are linked."
            let reply = try await h.call("POST", "/v3/grants/\(grant.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "a@example.org"]], "subject": "Re: Old mail", "reply_to_message_id": .string(v2ID)])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.data?["thread_id"] == viaV2.data?["thread_id"], "the reply joins the v2 message's thread")
            let stranger = try await h.call("POST", "/v3/grants/\(grant.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "a@example.org"]], "subject": "x", "reply_to_message_id": "not-a-message"])
            #expect(stranger.status == 400, "\(stranger.text)")
            #expect(unchanged.data?["folders"]?.arrayValue?.contains("TRASH") == false)
            let translated = try await h.call("POST", "/v3/migration-tools/translate", token: h.apiKey,
                                              json: ["resource_type": "messages", "v2_account_id": .string(accountID), "nylas_ids": [.string(v2ID)]])
            #expect(translated.status == 200, "\(translated.text)")
            #expect(translated.data?["translations"]?.arrayValue?.first?["v3_resource_id"] == viaV2.data?["id"])
            // v2 endpoints under /v3 name their replacement.
            let delta = try await h.call("GET", "/v3/delta", token: h.apiKey)
            #expect(delta.status == 404)
            #expect(delta.json?["error"]?["message"]?.stringValue?.contains("webhooks") == true)
            let outbox = try await h.call("GET", "/v3/outbox", token: h.apiKey)
            #expect(outbox.json?["error"]?["message"]?.stringValue?.contains("send_at") == true)
            // The migration report lists what the v2 client called.
            let report = try await h.call("GET", "/__sim/migration-report")
            let endpoints = report.json?["endpoints"]?.arrayValue ?? []
            let names = Set(endpoints.compactMap { $0["v2"]?.stringValue })
            #expect(names.isSuperset(of: ["POST /connect/authorize", "POST /connect/token", "GET /messages", "GET /labels", "POST /delta/latest_cursor"]))
            let messages = try #require(endpoints.first { $0["v2"]?.stringValue == "GET /messages" })
            #expect(messages["v3"]?.stringValue == "GET /v3/grants/{grant_id}/messages")
            #expect(messages["parameters"]?.arrayValue?.contains { $0["name"]?.stringValue == "not_in" } == true)
            let changes = report.json?["behaviour_changes"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(changes.contains { $0.contains("folders") })
            #expect(changes.contains { $0.contains("webhooks") })
            let text = try await h.call("GET", "/__sim/migration-report?format=text")
            #expect(text.text.contains("REMOVED\tPOST /delta/latest_cursor"))
        }
    }
}
