import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

@Suite("Provider world and sync: push vs IMAP, sent delay, credentials, outages, regions")
struct ProviderSyncTests {
    func deliver(_ h: SimHarness, to: String, subject: String, from: String = "alice@example.org") async throws -> JSON {
        let r = try await h.call("POST", "/__sim/providers/mailboxes/\(to)/messages",
                                 json: ["from": ["name": "Alice", "email": .string(from)], "to": [.string(to)],
                                        "subject": .string(subject), "body": "<p>Hello there</p>"])
        #expect(r.status == 201, "\(r.text)")
        return r.json ?? .null
    }

    func messages(_ h: SimHarness, _ grant: GrantInfo, region: Region = .us, query: String = "") async throws -> [JSON] {
        let r = try await h.call("GET", "/v3/grants/\(grant.id)/messages\(query)", region: region, token: grant.accessToken)
        #expect(r.status == 200, "\(r.text)")
        return r.data?.arrayValue ?? []
    }

    @Test("IMAP mail at minute 3 is invisible at minute 9, visible and notified at minute 10; Gmail sees it at once")
    func imapTenMinuteSync() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let hook = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                        json: ["trigger_types": ["message.created", "grant.imap_sync_completed"], "webhook_url": .string(receiver.url)])
            #expect(hook.status == 200)
            let imap = try h.sim.createGrant(email: "ivan@example.com", provider: "imap")
            let gmail = try h.sim.createGrant(email: "gina@gmail.com", provider: "google")
            _ = try #require(await h.sim.nextDelivery { $0.type == "grant.imap_sync_completed" })
            try await h.advance("3m")
            _ = try await deliver(h, to: "ivan@example.com", subject: "For IMAP")
            _ = try await deliver(h, to: "gina@gmail.com", subject: "For Gmail")
            let gmailNow = try await messages(h, gmail)
            #expect(gmailNow.map { $0["subject"]?.stringValue } == ["For Gmail"])
            let realtime = try #require(await h.sim.nextDelivery { $0.type == "message.created" })
            #expect(realtime.payload?["source"]?.stringValue == "/google/emails/realtime")
            try await h.advance("6m")
            #expect(try await messages(h, imap).isEmpty)
            #expect(try h.sim.webhookDeliveries().filter { $0.type == "message.created" }.count == 1)
            try await h.advance("1m")
            let imapNow = try await messages(h, imap)
            #expect(imapNow.map { $0["subject"]?.stringValue } == ["For IMAP"])
            let incremental = try #require(await h.sim.nextDelivery { $0.payload?["source"]?.stringValue == "/imap/emails/incremental" })
            #expect(incremental.payload?["data"]?["object"]?["subject"]?.stringValue == "For IMAP")
            #expect(incremental.payload?["data"]?["object"]?["body"]?.stringValue == "<p>Hello there</p>")
        }
    }

    @Test("An IMAP send is in the send response at once and in lists only after the delay")
    func imapSentDelay() async throws {
        try await withSimulator { h in
            let imap = try h.sim.createGrant(email: "sam@example.com", provider: "imap")
            let sent = try await h.call("POST", "/v3/grants/\(imap.id)/messages/send", token: imap.accessToken,
                                        json: ["to": [["email": "bob@example.net"]], "subject": "Delayed", "body": "hi"])
            #expect(sent.status == 200, "\(sent.text)")
            let id = try #require(sent.data?["id"]?.stringValue)
            #expect(sent.json?["grant_id"]?.stringValue == imap.id)
            #expect(try await messages(h, imap).isEmpty)
            try await h.advance("10m")
            let listed = try await messages(h, imap)
            #expect(listed.map { $0["id"]?.stringValue } == [id], "the later message keeps the ID of the send response")
            #expect(listed.first?["unread"]?.boolValue == false)
            // A Gmail send shows up at once.
            let gmail = try h.sim.createGrant(email: "gsend@gmail.com", provider: "google")
            let s2 = try await h.call("POST", "/v3/grants/\(gmail.id)/messages/send", token: gmail.accessToken,
                                      json: ["to": [["email": "bob@example.net"]], "subject": "Fast", "body": "hi"])
            let listedG = try await messages(h, gmail)
            #expect(listedG.map { $0["id"]?.stringValue } == [s2.data?["id"]?.stringValue])
            #expect(listedG.first?["id"]?.stringValue == listedG.first?["thread_id"]?.stringValue, "Gmail: a thread's ID is its first message's")
            #expect(listedG.first?["id"]?.stringValue?.count == 16)
        }
    }

    @Test("Expired credentials: invalid, real error, re-auth, nothing lost or doubled")
    func credentialExpiry() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            _ = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                 json: ["trigger_types": ["message.created", "grant.expired", "grant.updated"], "webhook_url": .string(receiver.url)])
            let g = try h.sim.createGrant(email: "carla@gmail.com", provider: "google")
            _ = try await deliver(h, to: "carla@gmail.com", subject: "Before")
            try await h.advance("1m")
            let r = try await h.call("POST", "/__sim/providers/mailboxes/carla@gmail.com/password")
            #expect(r.json?["expired_grants"]?.arrayValue?.count == 1)
            _ = try #require(await h.sim.nextDelivery { $0.type == "grant.expired" })
            let denied = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: h.apiKey)
            #expect(denied.status == 401)
            #expect(denied.errorType == "grant.invalid")
            let status = try await h.call("GET", "/v3/grants/\(g.id)", token: h.apiKey)
            #expect(status.data?["grant_status"]?.stringValue == "invalid")
            _ = try await deliver(h, to: "carla@gmail.com", subject: "During 1")
            _ = try await deliver(h, to: "carla@gmail.com", subject: "During 2")
            let again = try h.sim.createGrant(email: "carla@gmail.com", provider: "google")
            #expect(again.id == g.id, "re-authenticating a live grant keeps its ID")
            let updated = try #require(await h.sim.nextDelivery { $0.type == "grant.updated" })
            #expect(updated.payload?["data"]?["object"]?["reauthentication_flag"]?.boolValue == true)
            let list = try await messages(h, again)
            #expect(Set(list.compactMap { $0["subject"]?.stringValue }) == ["Before", "During 1", "During 2"])
            // Seed 002: no replay after re-authentication. What arrived while the grant was invalid
            // is there, unnotified: a client backfills with GET between grant.expired and grant.updated.
            await h.sim.advance(by: .seconds(3600))
            let created = try h.sim.webhookDeliveries().filter { $0.type == "message.created" }
            #expect(created.map { $0.payload?["data"]?["object"]?["subject"]?.stringValue } == ["Before"])
            let expired = try #require(try h.sim.webhookDeliveries().first { $0.type == "grant.expired" })
            let fresh = GrantInfo(id: again.id, email: again.email, provider: again.provider, accessToken: h.apiKey, refreshToken: nil)
            let backfill = try await messages(h, fresh, query: "?received_after=\(expired.time.seconds - 1)&received_before=\(updated.time.seconds + 1)")
            #expect(Set(backfill.compactMap { $0["subject"]?.stringValue }) == ["During 1", "During 2"])
        }
    }

    @Test("No historical webhooks: what a grant finds at authentication is there, unnotified (seeds 002, 004)")
    func noHistoricalNotifications() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            _ = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                 json: ["trigger_types": ["message.created", "grant.created", "event.created", "contact.updated"],
                                        "webhook_url": .string(receiver.url)])
            _ = try await deliver(h, to: "old@gmail.com", subject: "Old mail")
            _ = try await deliver(h, to: "old@example.net", subject: "Old IMAP mail")
            let gmail = try h.sim.createGrant(email: "old@gmail.com", provider: "google")
            let imap = try h.sim.createGrant(email: "old@example.net", provider: "imap")
            _ = try #require(await h.sim.nextDelivery { $0.type == "grant.created" && $0.grantID == imap.id })
            #expect(try await messages(h, gmail).map { $0["subject"]?.stringValue } == ["Old mail"])
            #expect(try await messages(h, imap).map { $0["subject"]?.stringValue } == ["Old IMAP mail"])
            _ = try await deliver(h, to: "old@gmail.com", subject: "New mail")
            _ = try #require(await h.sim.nextDelivery { $0.type == "message.created" })
            await h.sim.advance(by: .seconds(1200))
            let created = try h.sim.webhookDeliveries().filter { $0.type == "message.created" }
            #expect(created.map { $0.payload?["data"]?["object"]?["subject"]?.stringValue } == ["New mail"])
        }
    }

    @Test("notifyHistoricalSync: the earlier behaviour, a notification per object found, as a setting")
    func historicalNotificationsSetting() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator(configure: { $0.settings.notifyHistoricalSync = true }) { h in
            _ = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                 json: ["trigger_types": ["message.created"], "webhook_url": .string(receiver.url)])
            _ = try await deliver(h, to: "replay@gmail.com", subject: "Old")
            let g = try h.sim.createGrant(email: "replay@gmail.com", provider: "google")
            _ = try #require(await h.sim.nextDelivery { $0.payload?["data"]?["object"]?["subject"]?.stringValue == "Old" })
            _ = try await h.call("POST", "/__sim/providers/mailboxes/replay@gmail.com/password")
            _ = try await deliver(h, to: "replay@gmail.com", subject: "While invalid")
            _ = try h.sim.createGrant(email: "replay@gmail.com", provider: "google")
            let replayed = try #require(await h.sim.nextDelivery { $0.payload?["data"]?["object"]?["subject"]?.stringValue == "While invalid" })
            #expect(replayed.grantID == g.id)
        }
    }

    @Test("The same mailbox in US and EU: IMAP IDs are the Message-ID header in both, Google IDs differ")
    func regionsShareTheWorld() async throws {
        try await withSimulator { h in
            _ = try await deliver(h, to: "dana@example.com", subject: "Shared")
            let us = try h.sim.createGrant(.us, email: "dana@example.com", provider: "imap")
            let eu = try h.sim.createGrant(.eu, email: "dana@example.com", provider: "imap")
            #expect(us.id != eu.id)
            let a = try await messages(h, us, query: "?fields=include_headers")
            let b = try await messages(h, eu, region: .eu, query: "?fields=include_headers")
            #expect(a.count == 1 && b.count == 1)
            func header(_ m: JSON?) -> String? {
                m?["headers"]?.arrayValue?.first { $0["name"]?.stringValue == "Message-ID" }?["value"]?.stringValue
            }
            #expect(header(a.first) != nil)
            #expect(header(a.first) == header(b.first))
            // Seed 004: an IMAP message's ID is its full Message-ID header (URL-safe base64), so the
            // same mailbox gives the same ID in both regions; Google's IDs are the region's own.
            let messageID = try #require(header(a.first))
            #expect(a.first?["id"]?.stringValue == Base64URL.encode(Array(messageID.utf8)))
            #expect(a.first?["id"] == b.first?["id"])
            #expect(Base64URL.decode(a.first?["thread_id"]?.stringValue ?? "").map { String(decoding: $0, as: UTF8.self) } == messageID,
                    "a thread's ID is its first message's Message-ID")
            _ = try await deliver(h, to: "dana@gmail.com", subject: "Google")
            let gus = try h.sim.createGrant(.us, email: "dana@gmail.com", provider: "google")
            let geu = try h.sim.createGrant(.eu, email: "dana@gmail.com", provider: "google")
            let gmailUS = try await messages(h, gus), gmailEU = try await messages(h, geu, region: .eu)
            #expect(gmailUS.first?["id"] != nil && gmailUS.first?["id"] != gmailEU.first?["id"])
            // A change through one grant reaches the other at its next sync, under its own ID.
            let id = try #require(a.first?["id"]?.stringValue)
            let put = try await h.call("PUT", "/v3/grants/\(us.id)/messages/\(id)", token: us.accessToken, json: ["unread": false])
            #expect(put.data?["unread"]?.boolValue == false)
            #expect(try await messages(h, eu, region: .eu).first?["unread"]?.boolValue == true)
            try await h.advance("10m")
            #expect(try await messages(h, eu, region: .eu).first?["unread"]?.boolValue == false)
        }
    }

    @Test("A provider outage answers 504 and IMAP syncs catch up afterwards")
    func outage() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "olga@example.com", provider: "imap")
            let o = try await h.call("POST", "/__sim/providers/outages", json: ["provider": "imap", "duration": "25m"])
            #expect(o.status == 201)
            let r = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken)
            #expect(r.status == 504)
            #expect(r.errorType == "provider_error")
            _ = try await deliver(h, to: "olga@example.com", subject: "During outage")
            try await h.advance("20m")
            try await h.advance("10m")
            #expect(try await messages(h, g).map { $0["subject"]?.stringValue } == ["During outage"])
        }
    }
}
