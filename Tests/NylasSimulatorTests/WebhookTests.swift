import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

@Suite("Webhooks: challenge, signed delivery, retries over 72 hours, health")
struct WebhookTests {
    /// Creates a v3 destination for `triggers` pointing at `receiver`; returns (id, secret).
    func createDestination(_ h: SimHarness, _ receiver: WebhookReceiver, triggers: [String],
                           extra: [String: JSON] = [:]) async throws -> (String, String) {
        var body: [String: JSON] = ["trigger_types": .strings(triggers), "webhook_url": .string(receiver.url),
                                    "notification_email_addresses": ["ops@example.com"]]
        for (k, v) in extra { body[k] = v }
        let r = try await h.call("POST", "/v3/webhooks", token: h.apiKey, json: .object(body))
        #expect(r.status == 200, "\(r.text)")
        let id = try #require(r.data?["id"]?.stringValue)
        let secret = try #require(r.data?["webhook_secret"]?.stringValue)
        receiver.trust(secret: secret)
        return (id, secret)
    }

    @Test("The challenge must be echoed, or nothing is created")
    func challenge() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let (id, _) = try await createDestination(h, receiver, triggers: ["grant.created"])
            #expect(receiver.challenges.count == 1)
            let got = try await h.call("GET", "/v3/webhooks/\(id)", token: h.apiKey)
            #expect(got.data?["webhook_secret"] == nil)
            #expect(got.data?["status"]?.stringValue == "active")
            for key in ["id", "trigger_types", "webhook_url", "status", "notification_email_addresses", "status_updated_at", "created_at", "updated_at"] {
                #expect(got.data?[key] != nil, "missing \(key)")
            }
            receiver.scriptChallenge(.status(404))
            let failed = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                          json: ["trigger_types": ["grant.created"], "webhook_url": .string(receiver.url + "?x=1")])
            #expect(failed.status == 400)
            #expect(failed.errorType == "70005")
            #expect(failed.json?["error"]?["message"]?.stringValue == "unable.verify.webhook_url : status is not ok, got 404")
            receiver.scriptChallenge(.drop)
            let dropped = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                           json: ["trigger_types": ["grant.created"], "webhook_url": .string(receiver.url)])
            #expect(dropped.status == 400)
            let list = try await h.call("GET", "/v3/webhooks", token: h.apiKey)
            #expect(list.data?.arrayValue?.count == 1)
            // A URL change is verified again.
            let moved = try await h.call("PUT", "/v3/webhooks/\(id)", token: h.apiKey, json: ["webhook_url": "http://127.0.0.1:1/hook"])
            #expect(moved.status == 400)
            let unknown = try await h.call("GET", "/v3/webhooks/nope", token: h.apiKey)
            #expect(unknown.status == 400)
            #expect(unknown.errorType == "70000")
        }
    }

    @Test("A notification is a signed CloudEvent carrying the whole object")
    func signedDelivery() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let (id, secret) = try await createDestination(h, receiver, triggers: ["grant.created", "grant.deleted"])
            let grant = try h.sim.createGrant(email: "nyla@gmail.com")
            let delivery = try #require(await h.sim.nextDelivery { $0.type == "grant.created" })
            #expect(delivery.succeeded)
            #expect(delivery.attempt == 1)
            #expect(delivery.webhookID == id)
            #expect(WebhookSignature.sign(delivery.body, secret: secret) == delivery.signature)
            let got = try #require(receiver.received.first)
            #expect(got.signatureValid == true)
            #expect(got.headers["x-nylas-signature"] == delivery.signature)
            let p = try #require(got.payload)
            #expect(p["specversion"]?.stringValue == "1.0")
            #expect(p["type"]?.stringValue == "grant.created")
            #expect(p["source"]?.stringValue == "/nylas/system")
            #expect(p["webhook_delivery_attempt"]?.intValue == 1)
            #expect(p["time"]?.intValue == h.sim.now.seconds)
            #expect(p["data"]?["application_id"]?.stringValue == h.sim.region(.us).v3.applicationID)
            #expect(p["data"]?["object"]?["grant_id"]?.stringValue == grant.id)
            #expect(p["data"]?["object"]?["code"]?.intValue == 25012)
            // A destination not subscribed to a type gets nothing of it.
            try h.sim.expireCredentials(grantID: grant.id)
            _ = try await h.call("DELETE", "/v3/grants/\(grant.id)", token: h.apiKey)
            let deleted = try #require(await h.sim.nextDelivery { $0.type == "grant.deleted" })
            #expect(deleted.payload?["data"]?["object"]?["code"]?.intValue == 25013)
            #expect(try h.sim.webhookDeliveries().contains { $0.type == "grant.expired" } == false)
            // The EU region's applications hear nothing of the US.
            #expect(try h.sim.webhookDeliveries(.eu).isEmpty)
        }
    }

    @Test("A receiver down for two days gets 5 retries at the documented times, then recovers")
    func retriesThenRecovery() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let (id, _) = try await createDestination(h, receiver, triggers: ["grant.created"])
            receiver.script(.status(503))
            let start = h.sim.now
            _ = try h.sim.createGrant(email: "down@gmail.com")
            _ = try #require(await h.sim.nextDelivery { $0.attempt == 1 })
            let status1 = try await h.call("GET", "/v3/webhooks/\(id)", token: h.apiKey)
            #expect(status1.data?["status"]?.stringValue == "failing")
            await h.sim.advance(by: .seconds(48 * 3600))
            receiver.script(.ok)
            await h.sim.advance(by: .seconds(30 * 3600))
            let attempts = try h.sim.webhookDeliveries(webhookID: id)
            #expect(attempts.map(\.attempt) == [1, 2, 3, 4, 5, 6])
            let offsets = attempts.map { ($0.time - start).milliseconds / 1000 }
            #expect(offsets == [0, 1200, 7200, 28800, 86400, 259200])
            #expect(attempts.prefix(5).allSatisfy { $0.status == 503 && !$0.succeeded })
            #expect(attempts.last?.succeeded == true)
            #expect(attempts.map { $0.payload?["webhook_delivery_attempt"]?.intValue } == [1, 2, 3, 4, 5, 6])
            #expect(Set(attempts.map(\.notificationID)).count == 1)
            let after = try await h.call("GET", "/v3/webhooks/\(id)", token: h.apiKey)
            #expect(after.data?["status"]?.stringValue == "active")
            let emails = try await h.call("GET", "/__sim/webhooks/emails")
            #expect(emails.json?["data"]?.arrayValue?.count == 1)
        }
    }

    @Test("A receiver down for good: 6 attempts, then failed, and nothing replayed")
    func failedNoReplay() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let (id, _) = try await createDestination(h, receiver, triggers: ["grant.created"])
            receiver.script(.drop)
            _ = try h.sim.createGrant(email: "a@gmail.com")
            _ = try #require(await h.sim.nextDelivery { $0.attempt == 1 })
            await h.sim.advance(by: .seconds(73 * 3600))
            #expect(try h.sim.webhookDeliveries(webhookID: id).count == 6)
            #expect(try h.sim.webhookDeliveries(webhookID: id).allSatisfy { $0.error != nil && $0.status == nil })
            let failed = try await h.call("GET", "/v3/webhooks/\(id)", token: h.apiKey)
            #expect(failed.data?["status"]?.stringValue == "failed")
            receiver.script(.ok)
            _ = try h.sim.createGrant(email: "missed@gmail.com")
            await h.sim.advance(by: .seconds(3600))
            #expect(try h.sim.webhookDeliveries(webhookID: id).count == 6)
            let reactivated = try await h.call("PUT", "/v3/webhooks/\(id)", token: h.apiKey, json: ["status": "active"])
            #expect(reactivated.data?["status"]?.stringValue == "active")
            await h.sim.advance(by: .seconds(3600))
            #expect(try h.sim.webhookDeliveries(webhookID: id).count == 6, "missed notifications are never replayed")
            _ = try h.sim.createGrant(email: "after@gmail.com")
            let next = try #require(await h.sim.nextDelivery { $0.attempt == 1 && $0.succeeded })
            #expect(next.payload?["data"]?["object"]?["email"]?.stringValue == "after@gmail.com")
        }
    }

    @Test("An answer slower than the attempt timeout is a failure")
    func timeout() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator(configure: { $0.settings.webhooks.attemptTimeout = .milliseconds(750) }) { h in
            _ = try await createDestination(h, receiver, triggers: ["grant.created"])
            receiver.script(.delay(.seconds(4)), times: 1)
            _ = try h.sim.createGrant(email: "slow@gmail.com")
            let d = try #require(await h.sim.nextDelivery { $0.attempt == 1 })
            #expect(!d.succeeded)
            #expect(d.error == "no answer within the timeout")
            #expect(d.nextAttemptAt == d.time + .seconds(1200))
            let retried = try #require(await h.sim.advanceUntilDelivery(within: .seconds(3600)) { $0.attempt == 2 })
            #expect(retried.succeeded)
        }
    }

    @Test("A receiver that never answers holds back no other destination's attempts, at any instant")
    func slowReceiverHoldsNothing() async throws {
        let slow = try await WebhookReceiver.start()
        let fast = try await WebhookReceiver.start()
        defer { Task { await slow.stop(); await fast.stop() } }
        try await withSimulator(configure: {
            $0.settings.webhooks.attemptTimeout = .milliseconds(1500)
            $0.settings.webhooks.orderWindow = .milliseconds(300)
        }) { h in
            let (slowID, _) = try await createDestination(h, slow, triggers: ["grant.created"])
            let (fastID, _) = try await createDestination(h, fast, triggers: ["grant.created"])
            slow.script(.delay(.seconds(30)))
            fast.script(.status(503))
            let start = h.sim.now
            _ = try h.sim.createGrant(email: "both@gmail.com")
            _ = try #require(await h.sim.nextDelivery { $0.webhookID == slowID && $0.attempt == 1 })
            // Retries at 20 min, 2 h and 8 h for both: the fast destination's chain runs while each
            // of the slow one's attempts waits for its timeout.
            await h.sim.advance(by: .seconds(9 * 3600))
            let all = try h.sim.webhookDeliveries()
            let slowAttempts = all.filter { $0.webhookID == slowID }
            let fastAttempts = all.filter { $0.webhookID == fastID }
            #expect(slowAttempts.map(\.attempt) == [1, 2, 3, 4])
            #expect(fastAttempts.map(\.attempt) == [1, 2, 3, 4])
            // Each attempt is recorded at the virtual time it was made, however late it answered.
            for attempts in [slowAttempts, fastAttempts] {
                #expect(attempts.map { ($0.time - start).milliseconds / 1000 } == [0, 1200, 7200, 28800])
            }
            #expect(slowAttempts.allSatisfy { $0.error == "no answer within the timeout" })
            // The fast destination's attempts at 2 h and 8 h went out and were recorded while the slow
            // one's attempt at 20 min was still waiting: not one after another.
            let slowSecond = try #require(slowAttempts.first { $0.attempt == 2 })
            #expect(fastAttempts.filter { $0.attempt >= 3 }.allSatisfy { $0.sequence < slowSecond.sequence },
                    "\(all.map { "\($0.webhookID == slowID ? "slow" : "fast")#\($0.attempt)" })")
            let status = try await h.call("GET", "/v3/webhooks/\(fastID)", token: h.apiKey)
            #expect(status.data?["status"]?.stringValue == "failing")
        }
    }

    @Test("Over 1 MB a message notification is .truncated and loses its body")
    func truncation() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            _ = try await createDestination(h, receiver, triggers: ["message.created"])
            let appID = h.sim.region(.us).v3.applicationID
            let big = String(repeating: "x", count: 1_100_000)
            try h.sim.core.transaction { s in
                for (id, body) in [("small", "hello"), ("big", big)] {
                    s.emit(SimEvent(region: .us, applicationID: appID, grantID: "g", type: "message.created",
                                    object: ["id": .string(id), "grant_id": "g", "object": "message", "body": .string(body)],
                                    source: "/google/emails/realtime", time: s.now))
                }
            }
            let truncated = try #require(await h.sim.nextDelivery { $0.type == "message.created.truncated" })
            #expect(truncated.payload?["data"]?["object"]?["body"] == nil)
            #expect(truncated.payload?["data"]?["object"]?["id"]?.stringValue == "big")
            let small = try #require(await h.sim.nextDelivery { $0.type == "message.created" })
            #expect(small.payload?["data"]?["object"]?["body"]?.stringValue == "hello")
        }
    }

    @Test("Rotating the secret changes the signing key; compressed delivery signs the gzip bytes")
    func rotateAndCompress() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let (id, old) = try await createDestination(h, receiver, triggers: ["grant.created"], extra: ["compressed_delivery": true])
            let rotated = try await h.call("PUT", "/v3/webhooks/\(id)/rotate-secret", token: h.apiKey, json: [:])
            let new = try #require(rotated.data?["webhook_secret"]?.stringValue)
            #expect(new != old)
            let again = try await h.call("POST", "/v3/webhooks/rotate-secret/\(id)", token: h.apiKey, json: [:])
            let newest = try #require(again.data?["webhook_secret"]?.stringValue)
            _ = try h.sim.createGrant(email: "zip@gmail.com")
            let d = try #require(await h.sim.nextDelivery { $0.type == "grant.created" })
            #expect(Gzip.isGzip(d.body))
            #expect(d.signature == WebhookSignature.sign(d.body, secret: newest))
            #expect(d.signature != WebhookSignature.sign(d.body, secret: old))
            let got = try #require(receiver.received.last)
            #expect(got.headers["content-encoding"] == "gzip")
            #expect(got.payload?["type"]?.stringValue == "grant.created")
        }
    }

    @Test("IP addresses, mock payloads and test events")
    func utilities() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        receiver.trust(secret: "mock-webhook-secret")
        try await withSimulator { h in
            let ips = try await h.call("GET", "/v3/webhooks/ip-addresses", token: h.apiKey)
            #expect(ips.data?["ip_addresses"]?.arrayValue?.isEmpty == false)
            let mock = try await h.call("POST", "/v3/webhooks/mock-payload", token: h.apiKey, json: ["trigger_type": "event.created"])
            #expect(mock.data?["type"]?.stringValue == "event.created")
            #expect(mock.data?["data"]?["object"]?["when"]?["object"]?.stringValue == "timespan")
            let bad = try await h.call("POST", "/v3/webhooks/mock-payload", token: h.apiKey, json: ["trigger_type": "nope"])
            #expect(bad.status == 400)
            let test = try await h.call("POST", "/v3/webhooks/send-test-event", token: h.apiKey,
                                        json: ["trigger_type": "message.created", "webhook_url": .string(receiver.url)])
            #expect(test.data?.stringValue == "success")
            #expect(receiver.received.last?.signatureValid == true)
        }
    }

    @Test("v2 webhooks: app Basic auth, challenge, delta payload signed with the client secret")
    func v2Webhooks() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            receiver.trust(secret: v2.clientSecret)
            let basic = "Basic " + Data("\(v2.clientSecret):".utf8).base64EncodedString()
            let unauthorized = try await h.call("GET", "/a/\(v2.clientID)/webhooks")
            #expect(unauthorized.status == 401)
            #expect(unauthorized.json?["type"]?.stringValue == "invalid_request_error")
            let created = try await h.call("POST", "/a/\(v2.clientID)/webhooks", json: [
                "callback_url": .string(receiver.url), "triggers": ["account.connected", "message.created"], "state": "active",
            ], headers: ["Authorization": basic])
            #expect(created.status == 200, "\(created.text)")
            #expect(created.json?["version"]?.stringValue == "2.0")
            let id = try #require(created.json?["id"]?.stringValue)
            #expect(id.count == 25)
            let list = try await h.call("GET", "/a/\(v2.clientID)/webhooks", headers: ["Authorization": basic])
            #expect(list.json?.arrayValue?.count == 1)
            try h.sim.core.transaction { s in
                s.emit(SimEvent(region: .us, applicationID: v2.clientID, grantID: "acc123", type: "message.created",
                                object: ["id": "msg1", "object": "message", "thread_id": "t1", "date": 1, "subject": "Hi"],
                                source: "", time: s.now, apiVersion: 2))
            }
            let d = try #require(await h.sim.nextDelivery { _ in true })
            let delta = try #require(d.payload?["deltas"]?.arrayValue?.first)
            #expect(delta["type"]?.stringValue == "message.created")
            #expect(delta["object_data"]?["id"]?.stringValue == "msg1")
            #expect(delta["object_data"]?["attributes"] == ["thread_id": "t1", "received_date": 1], "v2 §7.1: message attributes")
            #expect(delta["object_data"]?["subject"] == nil, "v2 notifications never carry the object")
            #expect(receiver.received.last?.signatureValid == true)
            let off = try await h.call("PUT", "/a/\(v2.clientID)/webhooks/\(id)", json: ["state": "inactive"], headers: ["Authorization": basic])
            #expect(off.json?["state"]?.stringValue == "inactive")
            let gone = try await h.call("DELETE", "/a/\(v2.clientID)/webhooks/\(id)", headers: ["Authorization": basic])
            #expect(gone.status == 200)
            let ips = try await h.call("GET", "/a/\(v2.clientID)/ip_addresses", headers: ["Authorization": basic])
            #expect(ips.json?["ip_addresses"] != nil)
        }
    }
}
