import Foundation
import Synchronization
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

/// The fast paths of the performance work give the answers the plain paths gave: stored snippets,
/// row-value keyset pages, batched IMAP ticks, overlapping webhook attempts.
@Suite("Performance paths keep behaviour")
struct PerformancePathTests {
    static var fixturePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/mailbox.json").path
    }

    @Test("A minted ID's text is the lowercase 8-4-4-4-12 form of its bytes, seeded or random")
    func idFormat() {
        var seeded = IDGenerator(seed: "format", namespace: "us")
        var random = IDGenerator(seed: nil, namespace: "us")
        var edges: [uuid_t] = [(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                               (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255),
                               IDGenerator.urlNamespace]
        for _ in 0..<500 {
            edges.append(IDGenerator.sha1(namespace: IDGenerator.urlNamespace, name: seeded.uuid("x")))
            edges.append(IDGenerator.random())
        }
        for u in edges {
            #expect(IDGenerator.format(u) == UUID(uuid: u).uuidString.lowercased())
        }
        #expect(IDGenerator.format(IDGenerator.urlNamespace) == "6ba7b811-9dad-11d1-80b4-00c04fd430c8")
        let id = random.uuid("request")
        #expect(id.count == 36 && UUID(uuidString: id) != nil && id == id.lowercased())
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

    @Test("A message's kept rendering follows every change: API writes, provider sync, options, deletes, rollbacks")
    func renderedMessageFollowsChanges() async throws {
        try await withSimulator { h in
            let grant = try h.sim.createGrant(email: "kept@gmail.com", provider: "google")
            try h.sim.deliverMail(to: "kept@gmail.com", from: "a@example.com", subject: "Kept", body: "<p>kept body</p>")
            let list = try await h.call("GET", "/v3/grants/\(grant.id)/messages", token: grant.accessToken)
            let id = try #require(list.data?.arrayValue?.first?["id"]?.stringValue)
            let path = "/v3/grants/\(grant.id)/messages/\(id)"
            let first = try await h.call("GET", path, token: grant.accessToken)
            let second = try await h.call("GET", path, token: grant.accessToken)
            #expect(first.status == 200 && second.status == 200)
            #expect(first.data == second.data)
            #expect(first.json?["request_id"] != second.json?["request_id"], "each answer has its own request ID")
            // The spliced answer is byte for byte what serializing the object gives.
            let parsed = try #require(second.json)
            #expect(second.body == parsed.bytes)
            #expect(second.data?["unread"]?.boolValue == true)
            // An API write.
            let put = try await h.call("PUT", path, token: grant.accessToken, json: ["unread": false, "starred": true])
            #expect(put.status == 200)
            let afterPut = try await h.call("GET", path, token: grant.accessToken)
            #expect(afterPut.data?["unread"]?.boolValue == false)
            #expect(afterPut.data?["starred"]?.boolValue == true)
            // Options are part of the key.
            let selected = try await h.call("GET", path + "?select=id,subject", token: grant.accessToken)
            #expect(selected.data?.objectValue.map { Set($0.keys) } == ["id", "subject"])
            let headers = try await h.call("GET", path + "?fields=include_headers", token: grant.accessToken)
            #expect(headers.data?["headers"] != nil)
            #expect(try await h.call("GET", path, token: grant.accessToken).data?["headers"] == nil)
            // A change made in the provider's world reaches the grant at its sync.
            let world = try await h.call("PATCH", "/__sim/providers/mailboxes/kept@gmail.com/messages/\(try worldID(h, id))",
                                         json: ["unread": true])
            #expect(world.status == 200, "\(world.text)")
            try await h.advance("2m")
            let synced = try await h.call("GET", path, token: grant.accessToken)
            #expect(synced.data?["unread"]?.boolValue == true)
            // A write that is refused changes nothing, and the rendering stays what it was.
            let bad = try await h.call("PUT", path, token: grant.accessToken, json: ["folders": ["no-such-folder"]])
            #expect(bad.status == 400 || bad.status == 404)
            #expect(try await h.call("GET", path, token: grant.accessToken).data == synced.data)
            // Deleted for good: 404, not the kept answer.
            #expect(try await h.call("DELETE", path + "?hard_delete=true", token: grant.accessToken).status == 200)
            let gone = try await h.call("GET", path, token: grant.accessToken)
            #expect(gone.status == 404, "\(gone.text)")
        }
    }

    @Test("A message's kept answer outlives writes to other messages, and only those")
    func keptMessageByRow() async throws {
        try await withSimulator { h in
            let grant = try h.sim.createGrant(email: "rows@gmail.com", provider: "google")
            for i in 0..<3 { try h.sim.deliverMail(to: "rows@gmail.com", from: "a@example.com", subject: "Row \(i)", body: "<p>\(i)</p>") }
            let list = try await h.call("GET", "/v3/grants/\(grant.id)/messages", token: grant.accessToken)
            let ids = try #require(list.data?.arrayValue?.compactMap { $0["id"]?.stringValue })
            #expect(ids.count == 3)
            let base = "/v3/grants/\(grant.id)/messages/"
            let kept = { h.sim.core.withState { $0.store(.us).keptMailSize.answers } }
            for id in ids { #expect(try await h.call("GET", base + id, token: grant.accessToken).status == 200) }
            // The list, its three items, the three messages' answers.
            #expect(kept() == 7)
            // A write to the second message drops its answer, its item and the list, not the others.
            #expect(try await h.call("PUT", base + ids[1], token: grant.accessToken, json: ["starred": true]).status == 200)
            let first = try await h.call("GET", base + ids[0], token: grant.accessToken)
            #expect(kept() == 4, "the first and third answers and items are still kept")
            #expect(first.data?["starred"]?.boolValue == false)
            let second = try await h.call("GET", base + ids[1], token: grant.accessToken)
            #expect(second.data?["starred"]?.boolValue == true)
            #expect(kept() == 5)
            // A new message (a send) changes no kept message; a rollback drops everything.
            let sent = try await h.call("POST", "/v3/grants/\(grant.id)/messages/send", token: grant.accessToken,
                                        json: ["to": [["email": "b@example.com"]], "subject": "New", "body": "new"])
            #expect(sent.status == 200, "\(sent.text)")
            #expect(try await h.call("GET", base + ids[2], token: grant.accessToken).status == 200)
            #expect(kept() == 5)
            h.sim.core.withState { s in
                try? s.store(.us).db.transaction { () throws -> Void in
                    try s.store(.us).db.run("UPDATE messages SET subject = 'Rolled back' WHERE grant_id = ?", grant.id)
                    throw NylasError.invalidRequest("roll back")
                }
            }
            let afterRollback = try await h.call("GET", base + ids[0], token: grant.accessToken)
            #expect(afterRollback.data?["subject"]?.stringValue == first.data?["subject"]?.stringValue)
            #expect(kept() == 1)
        }
    }

    @Test("A page built from kept message renderings is byte for byte the page rendered whole")
    func pageFromKeptItems() async throws {
        try await withSimulator { h in
            _ = try h.sim.loadFixture(path: Self.fixturePath)
            let g = try h.sim.createGrant(email: "avery.quinn@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)/messages"
            for query in ["?limit=7", "?limit=7&select=id,subject,unread", "?limit=5&fields=include_headers", "?limit=3&unread=true"] {
                // The messages first (their item renderings are kept by the GETs of the page's first load).
                let page = try await h.call("GET", base + query, token: g.accessToken)
                #expect(page.status == 200, "\(page.text)")
                let parsed = try #require(page.json)
                #expect(page.body == parsed.bytes, "\(query): the page is what serializing it gives")
                // Change one message: the page is built again, from the other items as kept and this one anew.
                let items = try #require(page.data?.arrayValue)
                let id = try #require(items.first?["id"]?.stringValue)
                let starred = items.first?["starred"]?.boolValue
                #expect(try await h.call("PUT", "\(base)/\(id)", token: g.accessToken, json: ["starred": .bool(!(starred ?? false))]).status == 200)
                let again = try await h.call("GET", base + query, token: g.accessToken)
                let reparsed = try #require(again.json)
                #expect(again.body == reparsed.bytes)
                let againItems = try #require(again.data?.arrayValue)
                #expect(againItems.count == items.count)
                if starred != nil { #expect(againItems.first?["starred"]?.boolValue == !(starred ?? false)) }
                #expect(Array(againItems.dropFirst()) == Array(items.dropFirst()))
                #expect(again.json?["next_cursor"] == page.json?["next_cursor"])
                // Each item is what the message's own GET answers with the same options.
                let options = query.split(separator: "&").filter { !$0.hasPrefix("?limit") && !$0.hasPrefix("limit") && !$0.hasPrefix("unread") }
                    .joined(separator: "&")
                for item in againItems.prefix(3) {
                    let one = try await h.call("GET", "\(base)/\(item["id"]?.stringValue ?? "")" + (options.isEmpty ? "" : "?" + options),
                                               token: g.accessToken)
                    #expect(one.data == item, "\(query)")
                }
            }
        }
    }

    @Test("A thread's kept answer follows its messages, a reply joining it and its drafts, and outlives other writes")
    func keptThreadByRows() async throws {
        try await withSimulator { h in
            let grant = try h.sim.createGrant(email: "threads@gmail.com", provider: "google")
            try h.sim.deliverMail(to: "threads@gmail.com", from: "a@example.com", subject: "First", body: "<p>one</p>")
            try h.sim.deliverMail(to: "threads@gmail.com", from: "b@example.com", subject: "Second", body: "<p>two</p>")
            let base = "/v3/grants/\(grant.id)"
            let page = try await h.call("GET", base + "/threads", token: grant.accessToken)
            let threads = try #require(page.data?.arrayValue)
            #expect(threads.count == 2)
            let (t1, t2) = (threads[0], threads[1])
            let id1 = try #require(t1["id"]?.stringValue), id2 = try #require(t2["id"]?.stringValue)
            let kept = { h.sim.core.withState { $0.store(.us).keptMailSize.answers } }
            _ = try await h.call("GET", base + "/threads/\(id1)", token: grant.accessToken)
            _ = try await h.call("GET", base + "/threads/\(id2)", token: grant.accessToken)
            #expect(kept() == 5, "the page, its two items, the two threads")
            // A write to a message of the second thread leaves the first thread's answers.
            let m2 = try #require(t2["message_ids"]?.arrayValue?.first?.stringValue)
            #expect(try await h.call("PUT", base + "/messages/\(m2)", token: grant.accessToken, json: ["starred": true]).status == 200)
            let again1 = try await h.call("GET", base + "/threads/\(id1)", token: grant.accessToken)
            #expect(kept() == 2, "the first thread's item and answer")
            #expect(again1.data == (try await h.call("GET", base + "/threads/\(id1)", token: grant.accessToken)).data)
            #expect(try await h.call("GET", base + "/threads/\(id2)", token: grant.accessToken).data?["starred"]?.boolValue == true)
            // A reply joins the first thread: its answers go, the second thread's stays, and the new one shows it.
            let m1 = try #require(t1["message_ids"]?.arrayValue?.first?.stringValue)
            let reply = try await h.call("POST", base + "/messages/send", token: grant.accessToken,
                                         json: ["to": [["email": "a@example.com"]], "subject": "Re: First", "body": "reply",
                                                "reply_to_message_id": .string(m1)])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.data?["thread_id"]?.stringValue == id1)
            #expect(kept() == 1, "the second thread's answer outlives a reply to the first")
            let joined = try await h.call("GET", base + "/threads/\(id1)", token: grant.accessToken)
            #expect(joined.data?["message_ids"]?.arrayValue?.count == 2)
            // A draft on the thread: has_drafts follows.
            let draft = try await h.call("POST", base + "/drafts", token: grant.accessToken,
                                         json: ["to": [["email": "a@example.com"]], "subject": "Re: First", "body": "draft",
                                                "reply_to_message_id": .string(m1)])
            #expect(draft.status == 200, "\(draft.text)")
            let drafted = try await h.call("GET", base + "/threads/\(id1)", token: grant.accessToken)
            #expect(drafted.data?["has_drafts"]?.boolValue == true)
            #expect(kept() == 2, "the second thread's answer and the first's new one")
            // A draft on the second thread drops its answer, and only that one.
            let m2draft = try await h.call("POST", base + "/drafts", token: grant.accessToken,
                                           json: ["subject": "Re: Second", "body": "d", "reply_to_message_id": .string(m2)])
            #expect(m2draft.status == 200, "\(m2draft.text)")
            #expect(kept() == 1, "the first thread's answer")
            #expect(try await h.call("GET", base + "/threads/\(id2)", token: grant.accessToken).data?["has_drafts"]?.boolValue == true)
            let m2draftID = try #require(m2draft.data?["id"]?.stringValue)
            #expect(try await h.call("DELETE", base + "/drafts/\(m2draftID)", token: grant.accessToken).status == 200)
            #expect(try await h.call("GET", base + "/threads/\(id2)", token: grant.accessToken).data?["has_drafts"]?.boolValue == false)
            // Listed and alone, the same thread.
            let listed = try await h.call("GET", base + "/threads", token: grant.accessToken)
            var item = listed.data?.arrayValue?.first { $0["id"]?.stringValue == id1 } ?? .null
            item["request_id"] = nil
            #expect(item == drafted.data)
            #expect(listed.body == (try #require(listed.json)).bytes)
        }
    }

    @Test("Kept mail answers stay under their bound: none of 64 KiB or more, at most 8 MiB in all")
    func keptMailBound() async throws {
        try await withSimulator(configure: { $0.settings.nylasRateLimits = nil }) { h in
            let grant = try h.sim.createGrant(email: "bound@gmail.com", provider: "google")
            for i in 0 ..< 200 {
                try h.sim.deliverMail(to: "bound@gmail.com", from: "a@example.com", subject: "Large \(i)",
                                      body: String(repeating: "x", count: 60_000))
            }
            try h.sim.deliverMail(to: "bound@gmail.com", from: "a@example.com", subject: "Too large",
                                  body: String(repeating: "y", count: 70_000))
            var ids: [String] = []
            var token: String?
            repeat {
                let page = try await h.call("GET", "/v3/grants/\(grant.id)/messages?limit=50&select=id" + (token.map { "&page_token=\($0)" } ?? ""),
                                            token: grant.accessToken)
                ids += (page.data?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
                token = page.json?["next_cursor"]?.stringValue
            } while token != nil
            #expect(ids.count == 201)
            var peak = 0
            for id in ids {
                let r = try await h.call("GET", "/v3/grants/\(grant.id)/messages/\(id)", token: grant.accessToken)
                #expect(r.status == 200)
                let size = h.sim.core.withState { $0.store(.us).keptMailSize }
                peak = max(peak, size.bytes)
                #expect(size.bytes <= (8 << 20) + 64 * 1024)
            }
            #expect(peak > 4 << 20, "answers under 64 KiB are kept (peak \(peak) bytes)")
            // The answer of 64 KiB or more is rendered each time and never kept.
            let large = try #require(ids.first { id in
                (try? h.sim.core.withState { try $0.store(.us).db.first("SELECT subject FROM messages WHERE id = ?", id)?.string("subject") }) == "Too large"
            })
            let before = h.sim.core.withState { $0.store(.us).keptMailSize }
            let r = try await h.call("GET", "/v3/grants/\(grant.id)/messages/\(large)", token: grant.accessToken)
            #expect(r.body.count > 70_000)
            #expect(h.sim.core.withState { $0.store(.us).keptMailSize }.answers == before.answers)
        }
    }

    /// The provider-world row of a synced message (its ID in the control API).
    private func worldID(_ h: SimHarness, _ messageID: String) throws -> Int {
        try h.sim.core.withState { s in
            try s.store(.us).db.first("SELECT world_id FROM messages WHERE id = ?", messageID)?.int("world_id") ?? -1
        }
    }

    @Test("A thread lists its own drafts only, found by their thread")
    func threadDrafts() async throws {
        try await withSimulator { h in
            let grant = try h.sim.createGrant(email: "drafter@gmail.com", provider: "google")
            try h.sim.deliverMail(to: "drafter@gmail.com", from: "a@example.com", subject: "One", body: "1")
            try h.sim.deliverMail(to: "drafter@gmail.com", from: "b@example.com", subject: "Two", body: "2")
            let list = try await h.call("GET", "/v3/grants/\(grant.id)/messages", token: grant.accessToken)
            let messages = list.data?.arrayValue ?? []
            #expect(messages.count == 2)
            var draftOf: [String: [String]] = [:]
            for (i, m) in messages.enumerated() {
                for n in 0 ..< i + 1 {
                    try await h.advance("1m")  // drafts made later than the mail and than each other
                    let d = try await h.call("POST", "/v3/grants/\(grant.id)/drafts", token: grant.accessToken, json: [
                        "to": [["email": "x@example.com"]], "subject": .string("Re \(n)"),
                        "reply_to_message_id": m["id"] ?? .null])
                    #expect(d.status == 200, "\(d.text)")
                    draftOf[m["thread_id"]?.stringValue ?? "", default: []].append(d.data?["id"]?.stringValue ?? "")
                }
            }
            #expect(draftOf.count == 2)
            for (thread, drafts) in draftOf {
                let t = try await h.call("GET", "/v3/grants/\(grant.id)/threads/\(thread)", token: grant.accessToken)
                #expect(t.data?["has_drafts"]?.boolValue == true)
                #expect(t.data?["draft_ids"]?.arrayValue?.compactMap(\.stringValue) == drafts, "oldest first")
                #expect(t.data?["latest_draft_or_message"]?["id"]?.stringValue == drafts.last)
            }
            let threads = try await h.call("GET", "/v3/grants/\(grant.id)/threads", token: grant.accessToken)
            #expect(threads.data?.arrayValue?.map { $0["draft_ids"]?.arrayValue?.count ?? 0 }.sorted() == [1, 2])
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

    @Test("A tick's kept poll state and a mailbox's kept last change follow cursors, grant writes, purges and rollbacks")
    func keptPollStates() async throws {
        struct Boom: Error {}
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "poller@example.com", provider: "imap")
            try h.sim.core.withState { s in
                let store = s.store(.us)
                // What the kept value is, then what the tables say (read again after forgetting).
                func kept() throws -> (RegionStore.PollState?, RegionStore.PollState?) {
                    let kept = try store.pollState(grantID: g.id)
                    store.db.invalidateLookups()
                    return (kept, try store.pollState(grantID: g.id))
                }
                func last() throws -> (Int, Int) {
                    let kept = try s.world.lastChange(mailbox: "poller@example.com")
                    s.world.db.invalidateLookups()
                    return (kept, try s.world.lastChange(mailbox: "poller@example.com"))
                }
                var (k, t) = try kept()
                #expect(k != nil && k == t && k?.status == "valid")
                _ = try store.pollState(grantID: g.id)  // kept again
                try store.setSyncCursor(grantID: g.id, cursor: 7, time: s.now)
                try store.setCalendarSyncCursor(grantID: g.id, cursor: 9)
                (k, t) = try kept()
                #expect(k == t && k?.mailCursor == 7 && k?.calendarCursor == 9)
                // A savepoint rolled back, then a whole transaction rolled back.
                _ = try store.pollState(grantID: g.id)
                _ = try? store.db.transaction { try store.setSyncCursor(grantID: g.id, cursor: 11, time: s.now); throw Boom() }
                (k, t) = try kept()
                #expect(k == t && k?.mailCursor == 7)
                _ = try store.pollState(grantID: g.id)
                _ = try? s.transaction { try store.setCalendarSyncCursor(grantID: g.id, cursor: 12); throw Boom() }
                (k, t) = try kept()
                #expect(k == t && k?.calendarCursor == 9)
                // The grant's own row, then a purge of its sync state.
                _ = try store.pollState(grantID: g.id)
                var grant = try #require(try store.grant(id: g.id))
                grant.status = .invalid
                try store.save(grant)
                (k, t) = try kept()
                #expect(k == t && k?.status == "invalid")
                _ = try store.pollState(grantID: g.id)
                try store.purgeGrantData(grantID: g.id)
                (k, t) = try kept()
                #expect(k == t && k?.mailCursor == nil)

                var (l, u) = try last()
                #expect(l == u)
                _ = try s.world.lastChange(mailbox: "poller@example.com")
                try s.world.recordChange(mailbox: "poller@example.com", kind: "message", object: 1, time: s.now)
                (l, u) = try last()
                #expect(l == u && l > 0)
                let before = l
                _ = try s.world.lastChange(mailbox: "poller@example.com")
                _ = try? s.world.db.transaction {
                    try s.world.recordChange(mailbox: "poller@example.com", kind: "message", object: 2, time: s.now)
                    #expect(try s.world.lastChange(mailbox: "poller@example.com") > before)
                    throw Boom()
                }
                (l, u) = try last()
                #expect(l == u && l == before)
            }
        }
    }

    @Test("The page cache passes on every truncate that drops pages: rolled-back growth, rebalances and savepoints leave sound data")
    func pageCacheTruncates() throws {
        struct Boom: Error {}
        let db = try SQLiteDatabase(path: nil)
        #expect(PageCache.installed)
        try db.execute("CREATE TABLE t(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID")
        // Growth rolled back: the pages past the database's end leave the cache (a truncate passed on).
        let before = db.cacheBytes()
        try db.execute("BEGIN")
        for i in 0 ..< 2_000 { _ = try db.run("INSERT INTO t(k, v) VALUES(?, ?)", "g\(i)", String(repeating: "x", count: 500)) }
        let grown = db.cacheBytes()
        try db.execute("ROLLBACK")
        #expect(grown > before + 1_000_000)
        #expect(db.cacheBytes() < before + 64 * 1024)
        var state: UInt64 = 7  // SplitMix64: the same keys every run
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var expected: [String: String] = [:]
        for round in 0 ..< 40 {
            // Random keys split pages all over the tree (rebalances move pages through temporary numbers).
            var batch: [String: String] = [:]
            for i in 0 ..< 300 { batch["k\(next() % 100_000)"] = String(repeating: "v\(round)-\(i)", count: 8) }
            let rollBack = round % 3 == 1
            try db.execute("BEGIN")
            do {
                try db.transaction {
                    for (k, v) in batch { _ = try db.run("INSERT OR REPLACE INTO t(k, v) VALUES(?, ?)", k, v) }
                    if round % 5 == 2 { throw Boom() }  // a savepoint rolled back: the growth is undone
                }
            } catch is Boom {}
            if rollBack {
                try db.execute("ROLLBACK")  // the database shrinks back: the pages past its end must go
            } else {
                try db.execute("COMMIT")
                if round % 5 != 2 { expected.merge(batch) { $1 } }
            }
        }
        #expect(try db.integrityCheck() == "ok")
        let rows = try db.query("SELECT k, v FROM t")
        #expect(rows.count == expected.count)
        #expect(Dictionary(uniqueKeysWithValues: rows.map { ($0.string("k"), $0.string("v")) }) == expected)
    }

    @Test("SQLite counts no allocations (no process-wide mutex on each) and leaves freed cells as they are")
    func sqliteSettings() throws {
        let db = try SQLiteDatabase(path: nil)
        #expect(SQLiteDatabase.memoryStatisticsOff)
        try db.execute("CREATE TABLE t(v TEXT NOT NULL)")
        for i in 0 ..< 500 { _ = try db.run("INSERT INTO t(v) VALUES(?)", String(repeating: "x", count: 100 + i)) }
        try db.execute("DELETE FROM t WHERE rowid % 2 = 0")
        // With the statistics on, every allocation of a connection is counted here.
        #expect(SQLiteDatabase.countedMemoryBytes == 0)
        #expect(try db.first("PRAGMA secure_delete")?.optionalInt("secure_delete") == 0)
        #expect(try db.first("SELECT COUNT(*) AS n FROM t")?.int("n") == 250)
    }

    @Test("Jobs in flight finish in order, with one order-deadline wake-up asleep at a time, not one per wait")
    func jobsInFlightWakeUps() async throws {
        try await withSimulator { h in
            let engine = h.sim.core
            let finished = Mutex<[Int]>([])
            // 64 jobs whose work returns about in reverse order (the last one's first), in turns of
            // the scheduler, not in wall time.
            await withTaskGroup(of: JobsInFlight.Completion.self) { group in
                var inFlight = JobsInFlight(orderWindow: .seconds(60))
                for i in 0 ..< 64 {
                    inFlight.start({
                        for _ in 0 ..< 4 * (64 - i) { await Task.yield() }
                        return { _ in finished.withLock { $0.append(i) } }
                    }, key: "job-\(i)", due: VirtualTime(milliseconds: 0), in: &group)
                }
                var mostAsleep = 0
                while !inFlight.isEmpty {
                    await inFlight.receive(&group, engine)
                    mostAsleep = max(mostAsleep, inFlight.wakeUpCount)
                }
                #expect(mostAsleep <= 1, "wake-ups asleep at once: \(mostAsleep)")
                group.cancelAll()
            }
            #expect(finished.withLock { $0 } == Array(0 ..< 64))
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

    @Test("Cached token and grant lookups follow every write: revoke, expiry, re-authentication, deletion, region, rollback")
    func lookupCacheFollowsWrites() async throws {
        try await withSimulator { h in
            let sim = h.sim
            func get(_ path: String, _ token: String, region: Region = .us) async -> Int {
                await sim.send(SimRequest(method: "GET", target: path, headers: ["Authorization": "Bearer \(token)"]), region: region).status
            }
            let g = try sim.createGrant(email: "cache.owner@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/messages?limit=1"
            #expect(await get(path, g.accessToken) == 200)
            #expect(await get(path, h.apiKey) == 200)
            // Region isolation: the same token and grant are unknown in the EU, before and after.
            #expect(await get(path, g.accessToken, region: .eu) == 401)
            #expect(await get(path, h.apiKey(.eu), region: .eu) == 404)
            // Expiry on the virtual clock, with the token's lookup cached.
            await sim.advance(by: .seconds(3601))
            #expect(await get(path, g.accessToken) == 401)
            // A new token, cached, then revoked.
            let g2 = try sim.createGrant(email: "second.owner@gmail.com", provider: "google")
            let path2 = "/v3/grants/\(g2.id)/messages?limit=1"
            #expect(await get(path2, g2.accessToken) == 200)
            let revoke = await sim.send(SimRequest(method: "POST", target: "/v3/connect/revoke?token=\(g2.accessToken)"))
            #expect(revoke.status == 200, "\(revoke.text)")
            #expect(await get(path2, g2.accessToken) == 401)
            // Invalid credentials, then the grant deleted.
            try sim.expireCredentials(grantID: g.id)
            #expect(await get(path, h.apiKey) == 401)
            let deleted = await sim.send(SimRequest(method: "DELETE", target: "/v3/grants/\(g.id)",
                                                    headers: ["Authorization": "Bearer \(h.apiKey)"]))
            #expect(deleted.status == 200, "\(deleted.text)")
            #expect(await get(path, h.apiKey) == 404)
            // A rolled-back write to the grants table leaves no stale lookup behind.
            let g3 = try sim.createGrant(email: "rollback.owner@gmail.com", provider: "google")
            #expect(await get("/v3/grants/\(g3.id)/messages?limit=1", h.apiKey) == 200)
            struct Abort: Error {}
            #expect(throws: Abort.self) {
                try sim.core.transaction { s in
                    _ = try s.store(.us).db.run("UPDATE grants SET grant_status = 'invalid' WHERE id = ?", g3.id)
                    #expect(try s.store(.us).grant(id: g3.id)?.status == .invalid)
                    throw Abort()
                }
            }
            #expect(try sim.core.withState { try $0.store(.us).grant(id: g3.id)?.status } == .valid)
            #expect(await get("/v3/grants/\(g3.id)/messages?limit=1", h.apiKey) == 200)
            // A reset empties the tables without reporting rows: nothing cached survives it.
            try sim.reset()
            #expect(await get("/v3/grants/\(g3.id)/messages?limit=1", g3.accessToken) == 401)
        }
    }

    @Test("The journal of an in-memory simulator keeps the most recent requests (journalLimit)")
    func journalRing() async throws {
        try await withSimulator(configure: { $0.settings.journalLimit = 300 }) { h in
            let auth = ["Authorization": "Bearer \(h.apiKey)"]
            for i in 0..<1000 {
                _ = await h.sim.send(SimRequest(method: "GET", target: "/v3/grants?limit=1&n=\(i)", headers: auth))
            }
            var filter = JournalFilter()
            filter.limit = 10_000
            let entries = try h.sim.requests(filter)
            #expect(entries.count <= 300 && entries.count >= 300 - 255, "\(entries.count)")
            #expect(entries.last?.query.contains("n=999") == true)
            let sequences = entries.map(\.sequence)
            #expect(sequences == Array(sequences.first!...sequences.last!))
        }
        // Without a limit, every request is kept.
        try await withSimulator(configure: { $0.settings.journalLimit = nil }) { h in
            let auth = ["Authorization": "Bearer \(h.apiKey)"]
            for _ in 0..<600 { _ = await h.sim.send(SimRequest(method: "GET", target: "/v3/grants", headers: auth)) }
            var filter = JournalFilter()
            filter.limit = 10_000
            let count = try h.sim.requests(filter).count
            #expect(count == 600)
        }
    }

    @Test("The in-memory journal ring: exact bounds, rising sequences, filters and lookups as the table gave")
    func journalRingSelects() async throws {
        try await withSimulator(configure: { $0.settings.journalLimit = 50 }) { h in
            let auth = ["Authorization": "Bearer \(h.apiKey)"]
            for i in 0..<120 {
                _ = await h.sim.send(SimRequest(method: i % 3 == 0 ? "POST" : "GET", target: "/v3/grants?n=\(i)", headers: auth,
                                                body: Array("{\"i\":\(i)}".utf8)))
            }
            var all = JournalFilter()
            all.limit = .max
            let entries = try h.sim.core.withState { try $0.store(.us).journal(all) }
            #expect(entries.count == 50)
            #expect(entries.map(\.sequence) == Array(71...120))
            #expect(entries.last?.query == "n=119")
            var posts = JournalFilter()
            posts.method = "post"
            posts.afterSequence = 100
            posts.limit = 3
            let somePosts = try h.sim.core.withState { try $0.store(.us).journal(posts) }
            #expect(somePosts.map(\.sequence) == [103, 106, 109])
            #expect(somePosts.first.map { String(decoding: $0.requestBody, as: UTF8.self) } == "{\"i\":102}")
            let newest = try h.sim.core.withState { try $0.store(.us).journal(posts, newestFirst: true) }
            #expect(newest.map(\.sequence) == [118, 115, 112])
            var prefix = JournalFilter()
            prefix.pathPrefix = "/v3/gr"
            prefix.status = 200
            prefix.limit = .max
            #expect(try h.sim.core.withState { try $0.store(.us).journal(prefix) }.count == entries.filter { $0.status == 200 }.count)
            #expect(try h.sim.core.withState { try $0.store(.us).journalEntry(sequence: 80) }?.query == "n=79")
            #expect(try h.sim.core.withState { try $0.store(.us).journalEntry(sequence: 70) } == nil)
            // A reset empties the ring; sequences go on.
            try h.sim.reset()
            _ = await h.sim.send(SimRequest(method: "GET", target: "/v3/grants", headers: auth))
            let after = try h.sim.core.withState { try $0.store(.us).journal(all) }
            #expect(after.count == 1 && after.first!.sequence > 120)
        }
    }

    @Test("Threads read without bodies show what their whole messages give, listed and one by one")
    func threadMembers() async throws {
        try await withSimulator { h in
            _ = try h.sim.loadFixture(path: Self.fixturePath)
            let g = try h.sim.createGrant(email: "avery.quinn@gmail.com", provider: "google")
            let page = try await h.call("GET", "/v3/grants/\(g.id)/threads?limit=50", token: g.accessToken)
            let threads = try #require(page.data?.arrayValue)
            #expect(threads.count > 10)
            var withAttachments = 0
            for t in threads {
                let id = try #require(t["id"]?.stringValue)
                let whole = try h.sim.core.withState { try $0.store(.us).messages(grantID: g.id, threadID: id) }
                #expect(t["message_ids"] == .strings(whole.map(\.id)))
                #expect(t["has_attachments"]?.boolValue == whole.contains { !$0.attachments.isEmpty })
                #expect(t["unread"]?.boolValue == whole.contains { $0.unread })
                #expect(t["starred"]?.boolValue == whole.contains { $0.starred })
                #expect(t["subject"]?.stringValue == whole.first?.subject)
                #expect(t["snippet"]?.stringValue == whole.last?.snippet)
                #expect(t["earliest_message_date"]?.intValue == whole.first?.date)
                var folders: [String] = []
                for m in whole { for f in m.folders where !folders.contains(f) { folders.append(f) } }
                #expect(t["folders"] == .strings(folders))
                let emails = Set(whole.flatMap { ($0.from + $0.to + $0.cc + $0.bcc).map { $0.email.lowercased() } })
                #expect(Set(t["participants"]?.arrayValue?.compactMap { $0["email"]?.stringValue?.lowercased() } ?? []) == emails)
                #expect(t["latest_draft_or_message"]?["body"]?.stringValue == whole.last?.body)
                if t["has_attachments"]?.boolValue == true { withAttachments += 1 }
                let one = try await h.call("GET", "/v3/grants/\(g.id)/threads/\(id)", token: g.accessToken)
                var listed = t, alone = one.data ?? .null
                listed["request_id"] = nil
                alone["request_id"] = nil
                #expect(alone == listed)
            }
            #expect(withAttachments > 0, "the fixture has threads with attachments")
        }
    }

    /// What `message_addresses` and `thread_latest` must hold, computed from the messages themselves.
    static func expectedIndexes(_ db: SQLiteDatabase) throws -> (addresses: Set<String>, latest: Set<String>) {
        var addresses = Set<String>()
        for m in try db.query("SELECT * FROM messages").map(MessageRecord.init) {
            for (role, list) in [m.from, m.to, m.cc, m.bcc].enumerated() {
                for p in list { addresses.insert("\(m.grantID)|\(role)|\(p.email.lowercased())|\(m.date)|\(m.id)") }
            }
        }
        let latest = try db.query("SELECT grant_id, thread_id, MAX(date) AS d FROM messages GROUP BY grant_id, thread_id")
            .map { "\($0.string("grant_id"))|\($0.string("thread_id"))|\($0.int("d"))" }
        return (addresses, Set(latest))
    }

    static func storedIndexes(_ db: SQLiteDatabase) throws -> (addresses: Set<String>, latest: Set<String>) {
        let addresses = try db.query("SELECT * FROM message_addresses")
            .map { "\($0.string("grant_id"))|\($0.int("role"))|\($0.string("email"))|\($0.int("date"))|\($0.string("message_id"))" }
        let latest = try db.query("SELECT * FROM thread_latest")
            .map { "\($0.string("grant_id"))|\($0.string("thread_id"))|\($0.int("latest"))" }
        return (Set(addresses), Set(latest))
    }

    @Test("Address filters page from the address index: each matching message once, newest first, with other filters")
    func addressPages() async throws {
        try await withSimulator { h in
            _ = try h.sim.loadFixture(path: Self.fixturePath)
            let g = try h.sim.createGrant(email: "avery.quinn@gmail.com", provider: "google")
            let all = try h.sim.core.withState { try $0.store(.us).db.query("SELECT * FROM messages WHERE grant_id = ?", g.id) }
                .map(MessageRecord.init)
                .sorted { ($0.date, $0.id) > ($1.date, $1.id) }
            func page(_ query: String, limit: Int) async throws -> [String] {
                var ids: [String] = []
                var token: String?
                repeat {
                    let r = try await h.call("GET", "/v3/grants/\(g.id)/messages?\(query)&limit=\(limit)" + (token.map { "&page_token=\($0)" } ?? ""),
                                             token: g.accessToken)
                    #expect(r.status == 200, "\(query): \(r.text)")
                    ids += r.data?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                    token = r.json?["next_cursor"]?.stringValue
                } while token != nil
                return ids
            }
            let senders = Array(Set(all.flatMap { $0.from.map { $0.email.lowercased() } })).sorted().prefix(6)
            let recipients = Array(Set(all.flatMap { $0.to.map { $0.email.lowercased() } })).sorted().prefix(4)
            #expect(senders.count == 6 && recipients.count == 4)
            var nonEmpty = 0
            for sender in senders {
                let expected = all.filter { $0.from.contains { $0.email.lowercased() == sender } }.map(\.id)
                #expect(try await page("from=\(sender.uppercased())", limit: 2) == expected, "from \(sender)")
                let unread = all.filter { $0.unread && $0.from.contains { $0.email.lowercased() == sender } }.map(\.id)
                #expect(try await page("from=\(sender)&unread=true", limit: 1) == unread, "unread from \(sender)")
                if !expected.isEmpty { nonEmpty += 1 }
                for recipient in recipients {
                    let both = all.filter { m in
                        m.from.contains { $0.email.lowercased() == sender } && m.to.contains { $0.email.lowercased() == recipient }
                    }.map(\.id)
                    #expect(try await page("to=\(recipient)&from=\(sender)", limit: 3) == both, "\(sender) to \(recipient)")
                }
            }
            #expect(nonEmpty == 6)
            for recipient in recipients {
                let expected = all.filter { $0.to.contains { $0.email.lowercased() == recipient } }.map(\.id)
                #expect(try await page("to=\(recipient)", limit: 5) == expected, "to \(recipient)")
            }
        }
    }

    @Test("The address and thread-latest tables the triggers keep match the messages through sends, deletes, a grant's deletion and a migration")
    func triggerKeptIndexes() async throws {
        try await withSimulator { h in
            _ = try h.sim.loadFixture(path: Self.fixturePath)
            let g = try h.sim.createGrant(email: "avery.quinn@gmail.com", provider: "google")
            let other = try h.sim.createGrant(email: "jordan.lee@outlook.com", provider: "microsoft")
            func check(_ what: String) throws {
                let (expected, stored) = try h.sim.core.withState { s in
                    (try Self.expectedIndexes(s.store(.us).db), try Self.storedIndexes(s.store(.us).db))
                }
                #expect(stored.addresses == expected.addresses, "\(what): addresses")
                #expect(stored.latest == expected.latest, "\(what): thread latest")
                #expect(!expected.addresses.isEmpty && !expected.latest.isEmpty, "\(what)")
            }
            try check("after the sync")
            // A reply joins its thread and moves its latest date; a new message starts a thread.
            let page = try await h.call("GET", "/v3/grants/\(g.id)/messages?limit=3", token: g.accessToken)
            let first = try #require(page.data?.arrayValue?.first?["id"]?.stringValue)
            for body: JSON in [["to": [["email": "Dana.Reed@Example.com"]], "cc": [["email": "x@y.org"]], "subject": "New", "body": "n"],
                               ["to": [["email": "r@example.com"]], "subject": "Re", "body": "r", "reply_to_message_id": .string(first)]] {
                let sent = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken, json: body)
                #expect(sent.status == 200)
            }
            try await h.advance("15m")
            try check("after two sends")
            let dana = try await h.call("GET", "/v3/grants/\(g.id)/messages?to=dana.reed@EXAMPLE.com", token: g.accessToken)
            #expect(dana.data?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/messages?to=dana.reed@example", token: g.accessToken).data?.arrayValue?.count == 0,
                    "a part of an address is not the address")
            // A filtered thread list: the threads with any unread message, by their latest message.
            var unread: [JSON] = []
            var token: String?
            repeat {
                let page = try await h.call("GET", "/v3/grants/\(g.id)/threads?unread=true&limit=7" + (token.map { "&page_token=\($0)" } ?? ""),
                                            token: g.accessToken)
                unread += try #require(page.data?.arrayValue)
                token = page.json?["next_cursor"]?.stringValue
            } while token != nil
            let mine = try h.sim.core.withState { try $0.store(.us).db.query("SELECT * FROM messages WHERE grant_id = ?", g.id) }
                .map(MessageRecord.init)
            let byThread = Dictionary(grouping: mine, by: \.threadID)
            #expect(Set(unread.compactMap { $0["id"]?.stringValue }) == Set(byThread.filter { $0.value.contains(where: \.unread) }.keys))
            // A thread's latest message, received or sent, orders the list.
            let dates = unread.map { max($0["latest_message_received_date"]?.intValue ?? 0, $0["latest_message_sent_date"]?.intValue ?? 0) }
            #expect(dates == dates.sorted(by: >) && !dates.isEmpty)
            for (t, date) in zip(unread, dates) { #expect(date == byThread[t["id"]?.stringValue ?? ""]?.map(\.date).max()) }
            // Deleting messages (the store's delete, as a provider deletion is synced) and a grant.
            try h.sim.core.withState { s in
                let store = try s.store(.us)
                for m in try store.db.query("SELECT grant_id, id FROM messages WHERE grant_id = ? LIMIT 7", g.id) {
                    try store.deleteMessage(grantID: m.string("grant_id"), id: m.string("id"))
                }
            }
            try check("after deletes")
            let deleted = try await h.call("DELETE", "/v3/grants/\(other.id)", token: h.apiKey)
            #expect(deleted.status == 200)
            try check("after a grant's deletion")
            let left = try h.sim.core.withState { s in
                try s.store(.us).db.query("SELECT COUNT(*) AS n FROM message_addresses WHERE grant_id = ?", other.id).first?.int("n")
            }
            #expect(left == 0)
            // A file database from before the two tables is brought up to date with them filled.
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trigger-kept-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let file = try SQLiteDatabase(path: dir.appendingPathComponent("region.sqlite").path)
            let before = Schema.regionAll.count - 2
            try Schema.runMigrations(file, Array(Schema.regionAll.prefix(before)), from: 0)
            let rows = try h.sim.core.withState { try $0.store(.us).db.query("SELECT * FROM messages") }
            let columns = rows[0].layout.names
            try file.transaction {
                for row in rows {
                    try file.run("INSERT INTO messages(\(columns.joined(separator: ","))) VALUES(\(columns.map { _ in "?" }.joined(separator: ",")))",
                                 columns.map { row[$0] })
                }
            }
            try Schema.runMigrations(file, Schema.regionAll, from: before)
            let (expected, stored) = (try Self.expectedIndexes(file), try Self.storedIndexes(file))
            #expect(stored.addresses == expected.addresses && stored.latest == expected.latest)
            #expect(expected.addresses.count > 100)
        }
    }

    @Test("E-mail addresses are checked on bytes as they were on characters")
    func emailCheck() {
        func characters(_ s: String) -> Bool {
            let parts = s.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else { return false }
            return !s.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," })
        }
        let samples = ["a@b.c", "a@b", "@b.c", "a@.c", "a@c.", "a@b@c.d", "a b@c.d", "a@b.c\t", "<a@b.c>", "a,b@c.d", "a.@b.c",
                       "ä@bé.fr", "a@b.c\u{A0}", "a\u{2028}@b.c", "a@b.c\r\n", "", "@", "a@", ".@b.c", "a@b..c", "x@y.z.", "q@\u{85}.e"]
        for s in samples { #expect(EmailAddress.isValid(s) == characters(s), "\(s.debugDescription)") }
        #expect(samples.filter(EmailAddress.isValid).count >= 4)
    }

    @Test("Query strings are decoded on bytes as Foundation's percent decoding did")
    func queryDecoding() {
        func foundation(_ s: Substring) -> String {
            let plus = s.replacingOccurrences(of: "+", with: " ")
            return plus.removingPercentEncoding ?? plus
        }
        var samples = ["", "plain", "a+b", "a%20b", "%41%62", "%e2%82%ac", "%E2%82%AC+x", "100%", "%4", "%zz", "%%41", "a%2Bb+c",
                       "%FF", "%C3%28", "%F0%9F%98%80", "caf%C3%A9", "x%00y", "é+%C3%A9", "%2", "+%+", "a=b", "%3D%26"]
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab+%0Ff9é=")
        for _ in 0..<2000 { samples.append(String((0..<Int.random(in: 0...9, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })) }
        for s in samples {
            let expected = foundation(Substring(s))
            // Foundation on Linux repairs some bytes that are not UTF-8 (`%a9` → U+FFFD) and refuses
            // others (`%FF`); the decoder refuses them all, leaving the escapes.
            if expected.contains("\u{FFFD}") {
                #expect(QueryParameters.decode(Substring(s)) == s.replacingOccurrences(of: "+", with: " "), "\(s.debugDescription)")
            } else {
                #expect(QueryParameters.decode(Substring(s)) == expected, "\(s.debugDescription)")
            }
        }
        let q = QueryParameters("from=a%40b.com&subject=Hello+World&x=%zz&in=INBOX,SENT")
        #expect(q["from"] == "a@b.com" && q["subject"] == "Hello World" && q["x"] == "%zz" && q.list("in") == ["INBOX", "SENT"])
    }

    @Test("URL-safe base64 on bytes answers what Foundation's base64 gives")
    func base64URL() {
        var generator = SystemRandomNumberGenerator()
        for n in 0..<70 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let foundation = Data(bytes).base64EncodedString()
            let expected = foundation.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .trimmingCharacters(in: CharacterSet(charactersIn: "="))
            #expect(Base64URL.encode(bytes) == expected)
            #expect(Base64URL.decode(expected) == bytes)
            #expect(Base64URL.decode(foundation) == bytes, "padded standard alphabet")
        }
        #expect(Base64URL.decode("PDdhZW0=") == Array("<7aem".utf8))
        for bad in ["a", "ab$c", "ab=c", "abcde", "ab===", "a b"] { #expect(Base64URL.decode(bad) == nil, "\(bad)") }
    }

    /// The snippet as it was computed before the ASCII path (characters, `isWhitespace`).
    static func referenceSnippet(_ body: String) -> String {
        var out = ""
        var inTag = false
        for c in body {
            if c == "<" { inTag = true; continue }
            if c == ">" { inTag = false; out.append(" "); continue }
            if !inTag { out.append(c) }
        }
        return String(out.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ").prefix(100))
    }

    @Test("Snippets, cut as they are built, equal the snippets computed on whole bodies (ASCII or not)")
    func asciiSnippet() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["<p>", "</p>", "<", ">", " ", "  ", "\t", "\r\n", "\n", "\u{0B}", "\u{0C}", "\r", "\u{1C}", "\u{1F}", "\u{7F}",
                      "word", "a", "Hello,", "x<y", "a>b", "<br/>", "\u{00}",
                      // Non-ASCII: the general path, and the cut after 100 characters (a combining mark
                      // right after the cut belongs to the 100th character).
                      "é", "e\u{0301}", "\u{0301}", "\u{00A0}", "\u{2003}", "日本", "👍🏽"]
        for n in 0..<20_000 {
            var body = ""
            let count = n < 10_000 ? Int.random(in: 0...12, using: &rng) : Int.random(in: 30...160, using: &rng)
            for _ in 0..<count {
                if Bool.random(using: &rng) {
                    body += pieces.randomElement(using: &rng)!
                } else {
                    body.unicodeScalars.append(Unicode.Scalar(UInt8.random(in: 0...127, using: &rng)))
                }
            }
            #expect(Snippet.make(body) == Self.referenceSnippet(body), "\(Array(body.utf8))")
        }
        for body in ["", " ", "<p>Hi</p>", "é<p>x</p>", String(repeating: "ab ", count: 60), String(repeating: "x", count: 99) + " y",
                     String(repeating: "x", count: 100) + " y", "\r\n<b>bold</b>\r\n",
                     String(repeating: "x", count: 100) + "\u{0301}", String(repeating: "x", count: 100) + "é" + String(repeating: "z", count: 50),
                     String(repeating: "é ", count: 80), "<p>" + String(repeating: "y", count: 1_000_000) + "</p>",
                     "é" + String(repeating: "word <b>x</b> ", count: 2_000), String(repeating: "e\u{0301} ", count: 5_000),
                     "<p>" + String(repeating: " ", count: 5_000) + "é" + String(repeating: "<i></i>", count: 3_000) + "tail"] {
            #expect(Snippet.make(body) == Self.referenceSnippet(body))
        }
        #expect(Snippet.makeASCII("é") == nil)
    }

    @Test("Trimming whitespace without Foundation when there is nothing to trim gives Foundation's answer")
    func trimmingWhitespaces() {
        for text in ["", " ", "\t", "abc", " abc", "abc ", "\tabc\t", "a b", "\u{00A0}abc", "abc\u{3000}", "é", " é ", "\nabc\n",
                     "nyk_v0_abc", "application/json", "\u{2003}x"] {
            #expect(text.trimmingWhitespaces() == text.trimmingCharacters(in: .whitespaces), "\(Array(text.utf8))")
            #expect(text[...].trimmingWhitespaces() == text.trimmingCharacters(in: .whitespaces))
        }
    }
}
