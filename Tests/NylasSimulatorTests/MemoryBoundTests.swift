import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore

/// The in-memory journals are bounded by bytes, not only by count: a long run keeps its memory.
@Suite("Journals bounded by bytes")
struct MemoryBoundTests {
    static func journalBytes(_ h: SimHarness) -> (rows: Int, bytes: Int, lastPath: String) {
        h.sim.core.withState { s in
            var all = JournalFilter()
            all.limit = .max
            let entries = (try? s.store(.us).journal(all)) ?? []
            return (entries.count, entries.reduce(0) { $0 + $1.requestBody.count + $1.responseBody.count }, entries.last?.path ?? "")
        }
    }

    @Test("The request journal keeps the newest requests within its byte limit")
    func requestJournal() async throws {
        let limit = 300_000
        try await withSimulator(configure: { $0.settings.journalByteLimit = limit }) { h in
            // Whatever each answer (a long URI may be refused), every request is journaled with its body.
            for i in 0..<120 {
                let body = JSON.object(["url": .string("http://localhost:3000/\(i)/" + String(repeating: "x", count: 8_000)), "platform": "web"])
                let r = try await h.call("POST", "/v3/applications/redirect-uris", token: h.apiKey, json: body)
                #expect(r.status < 500, "\(r.status)")
            }
            _ = try await h.call("GET", "/v3/applications/last-one", token: h.apiKey)
            let j = Self.journalBytes(h)
            #expect(j.bytes <= limit, "journal holds \(j.bytes) bytes of bodies")
            #expect(j.rows > 10 && j.rows < 121, "\(j.rows) rows")
            #expect(j.lastPath == "/v3/applications/last-one")
        }
    }

    @Test("The delivery journal keeps the newest attempts within its byte limit, and retries still run")
    func deliveryJournal() async throws {
        let limit = 60_000
        try await withSimulator(configure: { $0.settings.deliveryJournalByteLimit = limit }) { h in
            let receiver = try await WebhookReceiver.start()
            receiver.script(.status(500))
            let hook = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                        json: ["trigger_types": ["message.created"], "webhook_url": .string(receiver.url)])
            #expect(hook.status == 200, "\(hook.text)")
            _ = try h.sim.createGrant(email: "bytes@gmail.com", provider: "google")
            for i in 0..<40 {
                try h.sim.deliverMail(to: "bytes@gmail.com", from: "a@example.com", subject: "Message \(i) " + String(repeating: "y", count: 2_000))
            }
            try await h.advance("73h")
            let (rows, bytes) = h.sim.core.withState { s -> (Int, Int) in
                let row = try? s.store(.us).db.first("SELECT COUNT(*) AS n, COALESCE(SUM(length(body)), 0) AS b FROM deliveries")
                return (row?.int("n") ?? 0, row?.int("b") ?? 0)
            }
            #expect(bytes <= limit, "\(bytes) bytes of delivery bodies kept")
            #expect(rows > 0 && rows < 240, "\(rows) rows")
            // The attempts went on although their old rows were dropped: 40 notifications, 1 + 5 retries
            // each, until the destination failed at 72 h (its last round stops after the first).
            #expect(receiver.received.count >= 201, "\(receiver.received.count) attempts received")
            #expect(rows < receiver.received.count)
            await receiver.stop()
        }
    }
}
