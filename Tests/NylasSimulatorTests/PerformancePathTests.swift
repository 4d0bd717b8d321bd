import Foundation
import Testing
@testable import NylasSimulator

/// The fast paths of the performance work give the answers the plain paths gave: stored snippets,
/// row-value keyset pages, batched IMAP ticks, overlapping webhook attempts.
@Suite("Performance paths keep behaviour")
struct PerformancePathTests {
    static var fixturePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/mailbox.json").path
    }

    @Test("The stored snippet column is the snippet computed from the body, for every synced message")
    func storedSnippet() async throws {
        try await withSimulator { h in
            _ = try h.sim.loadFixture(path: Self.fixturePath)
            _ = try h.sim.createGrant(email: "avery.quinn@gmail.com", provider: "google")
            let rows = try h.sim.core.withState { try $0.store(.us).db.query("SELECT * FROM messages") }
            #expect(rows.count > 100)
            for row in rows {
                let record = MessageRecord(row: row)
                #expect(row.string("snippet") == Snippet.make(row.string("body")))
                #expect(record.snippet == Snippet.make(record.body))
            }
            var changed = MessageRecord(row: rows[0])
            changed.body = "<p>Another   body</p>"
            #expect(changed.snippet == "Another body")
        }
    }

    struct Key: Equatable {
        let date: Int
        let id: String
        init(_ o: JSON) {
            date = o["date"]?.intValue ?? 0
            id = o["id"]?.stringValue ?? ""
        }
    }

    @Test("Keyset pages (row value) list every message once, in date and ID order, with ties on the date")
    func keysetPages() async throws {
        try await withSimulator { h in
            let grant = try h.sim.createGrant(email: "pager@gmail.com", provider: "google")
            // Three messages per instant: ties on the date are ordered by ID.
            for i in 0 ..< 21 {
                try h.sim.deliverMail(to: "pager@gmail.com", from: "a@example.com", subject: "m\(i)", body: "b\(i)")
                if i % 3 == 2 { try await h.advance("1m") }
            }
            let all = try await h.call("GET", "/v3/grants/\(grant.id)/messages?limit=200", token: grant.accessToken)
            let expected: [Key] = (all.data?.arrayValue ?? []).map(Key.init)
            #expect(expected.count == 21)
            let ordered: [Key] = expected.sorted { a, b in a.date != b.date ? a.date > b.date : a.id > b.id }
            #expect(expected == ordered)
            for limit in [1, 2, 3, 4, 7] {
                var seen: [Key] = []
                var token: String?
                repeat {
                    let q = "limit=\(limit)" + (token.map { "&page_token=\($0)" } ?? "")
                    let page = try await h.call("GET", "/v3/grants/\(grant.id)/messages?\(q)", token: grant.accessToken)
                    #expect(page.status == 200)
                    seen += (page.data?.arrayValue ?? []).map(Key.init)
                    token = page.json?["next_cursor"]?.stringValue
                } while token != nil
                #expect(seen == expected, "limit \(limit)")
            }
            // Threads: one page at a time gives the one-page list.
            let threads = try await h.call("GET", "/v3/grants/\(grant.id)/threads?limit=50", token: grant.accessToken)
            let threadIDs = (threads.data?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            var paged: [String] = []
            var token: String?
            repeat {
                let q = "limit=2" + (token.map { "&page_token=\($0)" } ?? "")
                let page = try await h.call("GET", "/v3/grants/\(grant.id)/threads?\(q)", token: grant.accessToken)
                paged += (page.data?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
                token = page.json?["next_cursor"]?.stringValue
            } while token != nil
            #expect(!threadIDs.isEmpty)
            #expect(paged == threadIDs)
        }
    }

    @Test("IMAP grants polled at the same instant share one job, list one entry each, and sync in order")
    func batchedTicks() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let hook = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                        json: ["trigger_types": ["message.created"], "webhook_url": .string(receiver.url)])
            #expect(hook.status == 200)
            let grants = try (0 ..< 5).map { try h.sim.createGrant(email: "poll\($0)@example.com", provider: "imap") }
            let jobs = try await h.call("GET", "/__sim/jobs")
            let labels = (jobs.data?.arrayValue ?? []).compactMap { $0["label"]?.stringValue }.filter { $0.hasPrefix("imap sync ") }
            #expect(labels == grants.map { "imap sync \($0.id)" })
            try await h.advance("1m")
            for i in [3, 1, 4] { try h.sim.deliverMail(to: "poll\(i)@example.com", from: "x@example.org", subject: "to \(i)") }
            try await h.advance("8m")
            #expect(try h.sim.webhookDeliveries().isEmpty)
            try await h.advance("1m")
            let deliveries = try h.sim.webhookDeliveries()
            // In grant order (the order of their ticks), not in the order the mail arrived.
            #expect(deliveries.map(\.grantID) == [grants[1].id, grants[3].id, grants[4].id])
            // Next round: one entry per grant again, due ten minutes later.
            let again = try await h.call("GET", "/__sim/jobs")
            let next = (again.data?.arrayValue ?? []).filter { $0["label"]?.stringValue?.hasPrefix("imap sync ") == true }
            #expect(next.compactMap { $0["label"]?.stringValue } == grants.map { "imap sync \($0.id)" })
            // Idle ticks change nothing; new mail is still picked up at the next tick.
            try await h.advance("30m")
            #expect(try h.sim.webhookDeliveries().count == 3)
            try h.sim.deliverMail(to: "poll0@example.com", from: "x@example.org", subject: "later")
            try await h.advance("10m")
            #expect(try h.sim.webhookDeliveries().map(\.grantID).last == grants[0].id)
        }
    }

    @Test("Attempts to many destinations at one instant: each recorded once, in scheduling order")
    func overlappingAttempts() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            var hooks: [String] = []
            for i in 0 ..< 40 {
                let r = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                         json: ["trigger_types": ["grant.created"], "webhook_url": .string(receiver.url + "/d\(i)")])
                #expect(r.status == 200)
                hooks.append(r.data?["id"]?.stringValue ?? "")
            }
            _ = try h.sim.createGrant(email: "fan@gmail.com", provider: "google")
            await h.sim.settle()
            let first = try h.sim.webhookDeliveries()
            #expect(first.count == 40)
            // The order the attempts were scheduled in: the destinations by creation time, then ID.
            #expect(first.map(\.webhookID) == hooks.sorted())
            #expect(first.allSatisfy { $0.status == 200 && $0.attempt == 1 })
            #expect(first.map(\.sequence) == first.map(\.sequence).sorted())

            // Every destination failing: the retries keep their schedule, and each instant's
            // attempts are recorded in the same order.
            receiver.script(.status(500))
            _ = try h.sim.createGrant(email: "fan2@gmail.com", provider: "google")
            await h.sim.settle()
            let start = h.sim.now
            await h.sim.advance(by: .seconds(72 * 3600))
            let delays = h.sim.core.withState { $0.settings.webhooks.retryDelays }
            let failed = try h.sim.webhookDeliveries().filter { $0.status == 500 }
            #expect(failed.count == 40 * (delays.count + 1))
            let times = [start] + delays.map { start + $0 }
            for (i, time) in times.enumerated() {
                let at = failed.filter { $0.attempt == i + 1 }
                #expect(at.allSatisfy { $0.time == time }, "attempt \(i + 1)")
                #expect(at.map(\.webhookID) == hooks.sorted(), "attempt \(i + 1)")
            }
            #expect(failed.map(\.sequence) == failed.map(\.sequence).sorted())
        }
    }
}
