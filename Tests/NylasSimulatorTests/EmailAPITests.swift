import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

/// The v3 email API (reference §3, §4.8–§4.12, §5.1–§5.6, §7, §8) over real sockets: message
/// filters and pagination, get/update/delete, JSON and multipart sends, scheduled sends, drafts,
/// threads, folders, attachments, v2 habits, Microsoft IDs and mailbox fixtures.
@Suite("v3 email: messages, send, schedules, drafts, threads, folders, attachments, fixtures", .serialized)
struct EmailAPITests {
    static let fixturePath: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/mailbox.json").path
    }()

    // MARK: Helpers

    /// Percent-encodes a path segment as the Python SDK does (`quote(id, safe='')`).
    func enc(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// Mail arriving in `mailbox` from outside; returns the world message (with `message_id_header`).
    @discardableResult
    func deliver(_ h: SimHarness, to mailbox: String, _ fields: [String: JSON]) async throws -> JSON {
        var body = fields
        if body["to"] == nil { body["to"] = [.string(mailbox)] }
        let r = try await h.call("POST", "/__sim/providers/mailboxes/\(mailbox)/messages", json: .object(body))
        #expect(r.status == 201, "\(r.text)")
        return r.json ?? .null
    }

    func list(_ h: SimHarness, _ g: GrantInfo, _ query: String = "", path: String = "messages") async throws -> HTTPClient.Response {
        try await h.call("GET", "/v3/grants/\(g.id)/\(path)\(query.isEmpty ? "" : "?" + query)", token: g.accessToken)
    }

    /// Subjects of a message list, in order.
    func subjects(_ h: SimHarness, _ g: GrantInfo, _ query: String) async throws -> [String] {
        let r = try await list(h, g, query)
        #expect(r.status == 200, "\(query): \(r.text)")
        return r.data?.arrayValue?.compactMap { $0["subject"]?.stringValue } ?? []
    }

    func ids(_ r: HTTPClient.Response) -> [String] { r.data?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [] }

    /// A multipart/form-data body.
    func multipart(_ parts: [(name: String, filename: String?, type: String?, body: [UInt8])], boundary: String = "simBoundary42") -> [UInt8] {
        multipartBody(parts, boundary: boundary)
    }

    /// A Gmail grant with four known messages (dates now-4000 ... now-1000):
    /// 1 "Quarterly Report" alice→owner cc carol, unread, INBOX
    /// 2 "lunch plans" bob→owner bcc dave, read, starred, INBOX + Work
    /// 3 "Re: quarterly report" owner→alice, reply to 1, read, SENT, one attachment
    /// 4 "Invoice 42" eve→owner, unread, INBOX, one attachment, metadata key1=project-x (set through the API)
    struct Seeded {
        var grant: GrantInfo
        var ids: [String: String]  // by short name: q1, lunch, re, invoice
        var threadOfQ1: String
        var workFolder: String
        var dates: [String: Int]
    }

    func seed(_ h: SimHarness, email: String = "owner@gmail.com") async throws -> Seeded {
        let g = try h.sim.createGrant(email: email, provider: "google")
        let folder = try await h.call("POST", "/v3/grants/\(g.id)/folders", token: g.accessToken, json: ["name": "Work"])
        #expect(folder.status == 200, "\(folder.text)")
        let work = try #require(folder.data?["id"]?.stringValue)
        let workKey = try h.sim.core.withState { s in try s.store(.us).folder(grantID: g.id, id: work)!.worldKey }
        let now = h.sim.now.seconds
        let q1 = try await deliver(h, to: email, [
            "from": ["name": "Alice Adams", "email": "alice@example.org"], "cc": [["name": "Carol", "email": "carol@example.net"]],
            "subject": "Quarterly Report", "body": "<p>Numbers attached soon</p>", "date": .int(now - 4000)])
        _ = try await deliver(h, to: email, [
            "from": ["name": "Bob", "email": "bob@example.com"], "bcc": ["dave@example.com"], "subject": "lunch plans",
            "body": "<p>Tacos?</p>", "date": .int(now - 3000), "unread": false, "starred": true, "folders": ["INBOX", .string(workKey)]])
        _ = try await deliver(h, to: email, [
            "from": ["name": "Owner", "email": .string(email)], "to": ["alice@example.org"], "subject": "Re: quarterly report",
            "body": "<p>See the sheet</p>", "date": .int(now - 2000), "unread": false, "folders": ["SENT"],
            "in_reply_to": .string(q1["message_id_header"]?.stringValue ?? ""),
            "attachments": [["filename": "sheet.csv", "content_type": "text/csv", "content": "a,b\n1,2\n"]]])
        _ = try await deliver(h, to: email, [
            "from": ["name": "Eve", "email": "eve@example.org"], "subject": "Invoice 42", "body": "<p>Please pay the invoice</p>",
            "date": .int(now - 1000),
            "attachments": [["filename": "invoice.pdf", "content_type": "application/pdf", "content_base64": "JVBERi0xLjQKJcfs"]]])
        let all = try await list(h, g)
        #expect(all.status == 200)
        var byName: [String: String] = [:]
        var dates: [String: Int] = [:]
        let names = ["Quarterly Report": "q1", "lunch plans": "lunch", "Re: quarterly report": "re", "Invoice 42": "invoice"]
        for m in all.data?.arrayValue ?? [] {
            if let s = m["subject"]?.stringValue, let n = names[s] {
                byName[n] = m["id"]?.stringValue
                dates[n] = m["date"]?.intValue
            }
        }
        #expect(byName.count == 4)
        let put = try await h.call("PUT", "/v3/grants/\(g.id)/messages/\(byName["invoice"]!)", token: g.accessToken,
                                   json: ["metadata": ["key1": "project-x"]])
        #expect(put.status == 200, "\(put.text)")
        let q1Message = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(byName["q1"]!)", token: g.accessToken)
        return Seeded(grant: g, ids: byName, threadOfQ1: q1Message.data?["thread_id"]?.stringValue ?? "", workFolder: work, dates: dates)
    }

    // MARK: Filters

    @Test("Every message filter of the reference, Python booleans, repeated keys and comma lists")
    func filters() async throws {
        try await withSimulator { h in
            let s = try await seed(h)
            let g = s.grant
            // Newest first.
            #expect(try await subjects(h, g, "") == ["Invoice 42", "Re: quarterly report", "lunch plans", "Quarterly Report"])
            // subject: partial, case-insensitive.
            #expect(try await subjects(h, g, "subject=QUARTERLY%20report") == ["Re: quarterly report", "Quarterly Report"])
            #expect(try await subjects(h, g, "subject=unch") == ["lunch plans"])
            #expect(try await subjects(h, g, "subject=nothing-like-this").isEmpty)
            // any_email: any participant field; repeated keys and comma lists; whole addresses only.
            #expect(try await subjects(h, g, "any_email=carol@example.net") == ["Quarterly Report"])
            #expect(try await subjects(h, g, "any_email=dave@example.com") == ["lunch plans"])
            #expect(try await subjects(h, g, "any_email=bob@example.com,eve@example.org") == ["Invoice 42", "lunch plans"])
            #expect(try await subjects(h, g, "any_email=bob@example.com&any_email=eve@example.org") == ["Invoice 42", "lunch plans"])
            #expect(try await subjects(h, g, "any_email=ALICE@example.org") == ["Re: quarterly report", "Quarterly Report"])
            #expect(try await subjects(h, g, "any_email=ob@example.com").isEmpty, "any_email matches whole addresses, not substrings")
            let tooMany = (0..<26).map { "u\($0)@example.com" }.joined(separator: ",")
            #expect(try await list(h, g, "any_email=\(tooMany)").status == 400)
            // to / from / cc / bcc.
            #expect(try await subjects(h, g, "to=alice@example.org") == ["Re: quarterly report"])
            #expect(try await subjects(h, g, "to=owner@gmail.com") == ["Invoice 42", "lunch plans", "Quarterly Report"])
            #expect(try await subjects(h, g, "from=alice@example.org") == ["Quarterly Report"])
            #expect(try await subjects(h, g, "from=Alice@Example.org") == ["Quarterly Report"])
            #expect(try await subjects(h, g, "cc=carol@example.net") == ["Quarterly Report"])
            #expect(try await subjects(h, g, "bcc=dave@example.com") == ["lunch plans"])
            // in: folder IDs.
            #expect(try await subjects(h, g, "in=\(s.workFolder)") == ["lunch plans"])
            #expect(try await subjects(h, g, "in=INBOX") == ["Invoice 42", "lunch plans", "Quarterly Report"])
            #expect(try await subjects(h, g, "in=SENT") == ["Re: quarterly report"])
            let unknownFolder = try await list(h, g, "in=Label_does_not_exist")
            #expect(unknownFolder.status == 404)
            #expect(unknownFolder.errorType == "not_found_error")
            // unread / starred: Python's True/False, JS true/false.
            #expect(try await subjects(h, g, "unread=True") == ["Invoice 42", "Quarterly Report"])
            #expect(try await subjects(h, g, "unread=false") == ["Re: quarterly report", "lunch plans"])
            #expect(try await subjects(h, g, "starred=True") == ["lunch plans"])
            #expect(try await subjects(h, g, "starred=False&unread=False") == ["Re: quarterly report"])
            #expect(try await list(h, g, "unread=maybe").status == 400)
            // thread_id.
            #expect(try await subjects(h, g, "thread_id=\(s.threadOfQ1)") == ["Re: quarterly report", "Quarterly Report"])
            // received_before / received_after (unix seconds, exclusive).
            #expect(try await subjects(h, g, "received_before=\(s.dates["lunch"]!)") == ["Quarterly Report"])
            #expect(try await subjects(h, g, "received_after=\(s.dates["lunch"]!)") == ["Invoice 42", "Re: quarterly report"])
            #expect(try await subjects(h, g, "received_after=\(s.dates["q1"]!)&received_before=\(s.dates["invoice"]!)")
                    == ["Re: quarterly report", "lunch plans"])
            #expect(try await list(h, g, "received_before=yesterday").status == 400)
            // has_attachment.
            #expect(try await subjects(h, g, "has_attachment=True") == ["Invoice 42", "Re: quarterly report"])
            #expect(try await subjects(h, g, "has_attachment=false") == ["lunch plans", "Quarterly Report"])
            // fields=include_headers adds headers; standard has none.
            let plain = try await list(h, g, "subject=Re:")
            #expect(plain.data?.arrayValue?.first?["headers"] == nil)
            let withHeaders = try await list(h, g, "fields=include_headers&subject=Re:")
            let headers = withHeaders.data?.arrayValue?.first?["headers"]?.arrayValue ?? []
            let names = Set(headers.compactMap { $0["name"]?.stringValue })
            #expect(names.isSuperset(of: ["Message-ID", "In-Reply-To", "References", "Subject", "From", "To", "Date"]), "\(names)")
            let basic = try await list(h, g, "fields=include_basic_headers&subject=Re:")
            #expect(Set(basic.data?.arrayValue?.first?["headers"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
                    == ["Message-ID", "In-Reply-To", "References"])
            #expect(try await list(h, g, "fields=everything").status == 400)
            // search_query_native.
            #expect(try await subjects(h, g, "search_query_native=invoice") == ["Invoice 42"])
            #expect(try await subjects(h, g, "search_query_native=tacos") == ["lunch plans"])
            // metadata_pair.
            #expect(try await subjects(h, g, "metadata_pair=key1:project-x") == ["Invoice 42"])
            #expect(try await subjects(h, g, "metadata_pair=key1:other").isEmpty)
            #expect(try await list(h, g, "metadata_pair=no-colon").status == 400)
            // select: only those top-level keys; repeated and comma forms.
            for q in ["select=id,subject", "select=id&select=subject"] {
                let sel = try await list(h, g, q)
                #expect(sel.status == 200)
                for m in sel.data?.arrayValue ?? [] {
                    #expect(Set(m.objectValue?.keys.map { $0 } ?? []) == ["id", "subject"], "\(q): \(m)")
                }
            }
            let one = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(s.ids["q1"]!)?select=id,unread", token: g.accessToken)
            #expect(Set(one.data?.objectValue?.keys.map { $0 } ?? []) == ["id", "unread"])
            // Filters combine with AND.
            #expect(try await subjects(h, g, "in=INBOX&unread=true&has_attachment=true") == ["Invoice 42"])
        }
    }

    // MARK: Pagination

    @Test("Pagination: empty list, exact last page, a full walk in date order, stable under inserts, bad tokens and limits")
    func pagination() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "pager@gmail.com", provider: "google")
            let empty = try await list(h, g)
            #expect(empty.status == 200)
            #expect(empty.data?.arrayValue?.isEmpty == true)
            #expect(empty.json?["next_cursor"] == nil || empty.json?["next_cursor"]?.isNull == true)
            let now = h.sim.now.seconds
            for i in 0..<4 {
                try await deliver(h, to: "pager@gmail.com", ["from": "x@example.com", "subject": .string("P\(i)"), "date": .int(now - 100 + i)])
            }
            let p1 = try await list(h, g, "limit=2")
            #expect(p1.data?.arrayValue?.compactMap { $0["subject"]?.stringValue } == ["P3", "P2"])
            let cursor = try #require(p1.json?["next_cursor"]?.stringValue)
            let p2 = try await list(h, g, "limit=2&page_token=\(enc(cursor))")
            #expect(p2.data?.arrayValue?.compactMap { $0["subject"]?.stringValue } == ["P1", "P0"])
            #expect(p2.json?["next_cursor"] == nil, "an exactly full last page has no next_cursor")
            for bad in ["not-a-token", "Zm9v", enc("!!!")] {
                let r = try await list(h, g, "page_token=\(bad)")
                #expect(r.status == 400, "page_token=\(bad): \(r.text)")
                #expect(r.errorType == "invalid_request_error")
            }
            for bad in ["201", "0", "-1", "ten"] {
                #expect(try await list(h, g, "limit=\(bad)").status == 400, "limit=\(bad)")
            }
            #expect(try await list(h, g, "limit=200").status == 200)
        }
    }

    @Test("Walking the 300-message fixture page by page returns every message once, newest first, even with mail arriving")
    func walkFixture() async throws {
        try await withSimulator { h in
            let loaded = try h.sim.loadFixture(path: Self.fixturePath)
            #expect(loaded == 300)
            let g = try h.sim.createGrant(email: "avery.quinn@gmail.com", provider: "google")
            var seen: [String] = []
            var dates: [Int] = []
            var token: String?
            var pages = 0
            repeat {
                let r = try await list(h, g, "limit=37" + (token.map { "&page_token=\(enc($0))" } ?? ""))
                #expect(r.status == 200, "\(r.text)")
                let page = r.data?.arrayValue ?? []
                seen += page.compactMap { $0["id"]?.stringValue }
                dates += page.compactMap { $0["date"]?.intValue }
                token = r.json?["next_cursor"]?.stringValue
                pages += 1
                if pages == 2 {
                    // New mail between pages: newer than everything listed, so later pages don't show it.
                    try await deliver(h, to: "avery.quinn@gmail.com", ["from": "late@example.com", "subject": "Arrived mid-walk"])
                }
            } while token != nil && pages < 50
            #expect(pages == 9)
            #expect(seen.count == 300)
            #expect(Set(seen).count == 300)
            #expect(dates == dates.sorted(by: >))
            let total = try await list(h, g, "limit=200")
            #expect(total.data?.arrayValue?.first?["subject"]?.stringValue == "Arrived mid-walk")
        }
    }

    // MARK: One message

    @Test("Get, update (unread, starred, folders, metadata) and delete (to Trash, then for good; hard_delete)")
    func getUpdateDelete() async throws {
        try await withSimulator { h in
            let s = try await seed(h)
            let g = s.grant
            let base = "/v3/grants/\(g.id)/messages"
            let got = try await h.call("GET", "\(base)/\(s.ids["q1"]!)", token: g.accessToken)
            #expect(got.status == 200)
            let m = try #require(got.data)
            #expect(m["object"]?.stringValue == "message")
            #expect(m["grant_id"]?.stringValue == g.id)
            #expect(m["from"]?.arrayValue?.first?["email"]?.stringValue == "alice@example.org")
            #expect(m["from"]?.arrayValue?.first?["name"]?.stringValue == "Alice Adams")
            #expect(m["snippet"]?.stringValue == "Numbers attached soon")
            #expect(m["folders"]?.arrayValue == ["INBOX"])
            for key in ["id", "thread_id", "subject", "to", "cc", "bcc", "reply_to", "date", "unread", "starred", "body", "attachments"] {
                #expect(m[key] != nil, "missing \(key)")
            }
            #expect(try await h.call("GET", "\(base)/nope", token: g.accessToken).status == 404)

            let put = try await h.call("PUT", "\(base)/\(s.ids["q1"]!)", token: g.accessToken,
                                       json: ["unread": false, "starred": true, "folders": ["INBOX", .string(s.workFolder)],
                                              "metadata": ["key2": "blue"]])
            #expect(put.status == 200, "\(put.text)")
            #expect(put.data?["unread"]?.boolValue == false)
            #expect(put.data?["starred"]?.boolValue == true)
            #expect(put.data?["folders"]?.arrayValue == ["INBOX", .string(s.workFolder)])
            #expect(put.data?["metadata"]?["key2"]?.stringValue == "blue")
            let again = try await h.call("GET", "\(base)/\(s.ids["q1"]!)", token: g.accessToken)
            #expect(again.data?["unread"]?.boolValue == false)
            #expect(again.data?["starred"]?.boolValue == true)
            #expect(again.data?["metadata"]?["key2"]?.stringValue == "blue")
            // Omitted fields stay; the provider's world follows.
            let partial = try await h.call("PUT", "\(base)/\(s.ids["q1"]!)", token: g.accessToken, json: ["unread": true])
            #expect(partial.data?["starred"]?.boolValue == true)
            #expect(partial.data?["metadata"]?["key2"]?.stringValue == "blue")
            let world = try await h.call("GET", "/__sim/providers/mailboxes/owner@gmail.com/messages")
            let q1World = world.json?["data"]?.arrayValue?.first { $0["subject"]?.stringValue == "Quarterly Report" }
            #expect(q1World?["unread"]?.boolValue == true)
            #expect(q1World?["starred"]?.boolValue == true)
            // Bad updates.
            let unknownFolder = try await h.call("PUT", "\(base)/\(s.ids["q1"]!)", token: g.accessToken, json: ["folders": ["Label_missing"]])
            #expect(unknownFolder.status == 404)
            #expect(try await h.call("PUT", "\(base)/\(s.ids["q1"]!)", token: g.accessToken, json: ["unread": "yes"]).status == 400)
            #expect(try await h.call("PUT", "\(base)/\(s.ids["q1"]!)", token: g.accessToken, json: ["subject": "x"]).status == 400)
            #expect(try await h.call("PUT", "\(base)/nope", token: g.accessToken, json: ["unread": true]).status == 404)

            // Delete: to Trash first, then for good.
            let del = try await h.call("DELETE", "\(base)/\(s.ids["lunch"]!)", token: g.accessToken)
            #expect(del.status == 200)
            #expect(del.json?["request_id"]?.stringValue != nil)
            let trashed = try await h.call("GET", "\(base)/\(s.ids["lunch"]!)", token: g.accessToken)
            #expect(trashed.data?["folders"]?.arrayValue == ["TRASH"])
            #expect(try await subjects(h, g, "in=TRASH") == ["lunch plans"])
            #expect(try await h.call("DELETE", "\(base)/\(s.ids["lunch"]!)", token: g.accessToken).status == 200)
            #expect(try await h.call("GET", "\(base)/\(s.ids["lunch"]!)", token: g.accessToken).status == 404)
            // hard_delete (Python sends True).
            #expect(try await h.call("DELETE", "\(base)/\(s.ids["invoice"]!)?hard_delete=True", token: g.accessToken).status == 200)
            #expect(try await h.call("GET", "\(base)/\(s.ids["invoice"]!)", token: g.accessToken).status == 404)
            #expect(try await h.call("DELETE", "\(base)/\(s.ids["invoice"]!)", token: g.accessToken).status == 404)
            #expect(try await subjects(h, g, "") == ["Re: quarterly report", "Quarterly Report"])
        }
    }

    // MARK: Send

    @Test("Send JSON with an attachment, reply threading, validation and the 3 MB JSON limit")
    func sendJSON() async throws {
        try await withSimulator { h in
            let s = try await seed(h)
            let g = s.grant
            let content: [UInt8] = Array("hello attachment".utf8)
            let r = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken, json: [
                "to": [["name": "Zed", "email": "zed@example.com"]], "subject": "Report attached", "body": "<b>See file</b>",
                "attachments": [["filename": "hello.txt", "content_type": "text/plain", "content": .string(Data(content).base64EncodedString())]]])
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json?["request_id"]?.stringValue != nil)
            #expect(r.json?["grant_id"]?.stringValue == g.id)
            let sent = try #require(r.data)
            #expect(sent["object"]?.stringValue == "message")
            #expect(sent["schedule_id"]?.stringValue == "")
            #expect(sent["from"]?.arrayValue?.first?["email"]?.stringValue == "owner@gmail.com")
            #expect(sent["to"]?.arrayValue?.first?["email"]?.stringValue == "zed@example.com")
            let att = try #require(sent["attachments"]?.arrayValue?.first)
            #expect(att["filename"]?.stringValue == "hello.txt")
            #expect(att["content_type"]?.stringValue == "text/plain")
            #expect(att["size"]?.intValue == content.count)
            let id = try #require(sent["id"]?.stringValue)
            let listed = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(id)", token: g.accessToken)
            #expect(listed.status == 200)
            #expect(listed.data?["folders"]?.arrayValue == ["SENT"])
            #expect(listed.data?["unread"]?.boolValue == false)
            let download = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(att["id"]!.stringValue!))/download?message_id=\(id)",
                                            token: g.accessToken)
            #expect(download.body == content)

            // A reply joins the thread of the message it answers and names it in In-Reply-To.
            let reply = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken, json: [
                "to": [["email": "alice@example.org"]], "subject": "Re: Quarterly Report", "body": "Done",
                "reply_to_message_id": .string(s.ids["q1"]!)])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.data?["thread_id"]?.stringValue == s.threadOfQ1)
            #expect(reply.data?["reply_to_message_id"]?.stringValue == s.ids["q1"])
            let replyID = try #require(reply.data?["id"]?.stringValue)
            let withHeaders = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(replyID)?fields=include_headers", token: g.accessToken)
            let q1Headers = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(s.ids["q1"]!)?fields=include_headers", token: g.accessToken)
            func header(_ r: HTTPClient.Response, _ name: String) -> String? {
                r.data?["headers"]?.arrayValue?.first { $0["name"]?.stringValue == name }?["value"]?.stringValue
            }
            #expect(header(withHeaders, "In-Reply-To") != nil)
            #expect(header(withHeaders, "In-Reply-To") == header(q1Headers, "Message-ID"))
            let thread = try await h.call("GET", "/v3/grants/\(g.id)/threads/\(s.threadOfQ1)", token: g.accessToken)
            #expect(thread.data?["message_ids"]?.arrayValue?.contains(.string(replyID)) == true)

            // Validation.
            let badEmail = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken,
                                            json: ["to": [["email": "not-an-address"]], "subject": "x"])
            #expect(badEmail.status == 400)
            #expect(badEmail.errorType == "invalid_request_error")
            #expect(badEmail.json?["error"]?["message"]?.stringValue?.contains("not-an-address") == true)
            #expect(try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken,
                                     json: ["subject": "nobody"]).status == 400)
            #expect(try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken,
                                     json: ["to": [["email": "a@example.com"]], "reply_to_message_id": "nope"]).status == 400)
            let big = [UInt8](repeating: 0x41, count: 3 * 1024 * 1024 + 10)
            let tooBig = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken, json: [
                "to": [["email": "zed@example.com"]], "subject": "big",
                "attachments": [["filename": "big.bin", "content_type": "application/octet-stream",
                                 "content": .string(Data(big).base64EncodedString())]]])
            #expect(tooBig.status == 413, "\(tooBig.text.prefix(300))")
            #expect(tooBig.json?["request_id"] != nil)
            #expect(tooBig.json?["error"]?["message"] != nil)
            // Nothing was sent by the failures.
            #expect(Set(try await subjects(h, g, "in=SENT")) == ["Re: Quarterly Report", "Report attached", "Re: quarterly report"])
        }
    }

    @Test("Send multipart: a message part and file parts, more than 3 MB, malformed bodies refused")
    func sendMultipart() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "multi@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/messages/send"
            let message = JSON.object(["to": [["email": "zed@example.com"]], "subject": "Multipart", "body": "files inside"])
            let file = [UInt8]((0..<(3_500_000)).map { UInt8($0 % 251) })
            let body = multipart([("message", nil, "application/json", message.bytes),
                                  ("file0", "data.bin", "application/octet-stream", file),
                                  ("file1", "note.txt", "text/plain", Array("note".utf8))])
            let r = try await h.raw("POST", path, token: g.accessToken, body: body,
                                    headers: ["Content-Type": "multipart/form-data; boundary=simBoundary42"])
            #expect(r.status == 200, "\(r.text.prefix(500))")
            let atts = r.data?["attachments"]?.arrayValue ?? []
            #expect(atts.map { $0["filename"]?.stringValue } == ["data.bin", "note.txt"])
            #expect(atts.first?["size"]?.intValue == file.count)
            #expect(atts.first?["content_type"]?.stringValue == "application/octet-stream")
            let id = try #require(r.data?["id"]?.stringValue)
            let aid = try #require(atts.first?["id"]?.stringValue)
            let dl = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(aid))/download?message_id=\(id)", token: g.accessToken)
            #expect(dl.status == 200)
            #expect(dl.body == file)

            // Malformed: no message part, no closing boundary, no boundary, bad JSON in the message part.
            let noMessage = multipart([("file0", "a.txt", "text/plain", Array("a".utf8))])
            #expect(try await h.raw("POST", path, token: g.accessToken, body: noMessage,
                                    headers: ["Content-Type": "multipart/form-data; boundary=simBoundary42"]).status == 400)
            var truncated = multipart([("message", nil, "application/json", message.bytes)])
            truncated.removeLast(30)
            #expect(try await h.raw("POST", path, token: g.accessToken, body: truncated,
                                    headers: ["Content-Type": "multipart/form-data; boundary=simBoundary42"]).status == 400)
            #expect(try await h.raw("POST", path, token: g.accessToken, body: Array("garbage".utf8),
                                    headers: ["Content-Type": "multipart/form-data"]).status == 400)
            let badJSON = multipart([("message", nil, "application/json", Array("{not json".utf8))])
            let r4 = try await h.raw("POST", path, token: g.accessToken, body: badJSON,
                                     headers: ["Content-Type": "multipart/form-data; boundary=simBoundary42"])
            #expect(r4.status == 400)
            #expect(r4.json?["error"]?["type"]?.stringValue == "invalid_request_error")
            #expect(try await subjects(h, g, "") == ["Multipart"])
        }
    }

    // MARK: Scheduled send

    @Test("send_at: pending until the clock passes it, then sent with message.send_success; cancel → 202, never sent")
    func scheduledSend() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let hook = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                        json: ["trigger_types": ["message.send_success"], "webhook_url": .string(receiver.url)])
            #expect(hook.status == 200)
            var g = try h.sim.createGrant(email: "later@gmail.com", provider: "google")
            let now = h.sim.now.seconds
            let send = "/v3/grants/\(g.id)/messages/send"
            let r = try await h.call("POST", send, token: g.accessToken, json: [
                "to": [["email": "zed@example.com"]], "subject": "Scheduled", "body": "later", "send_at": .int(now + 3600)])
            #expect(r.status == 202, "\(r.text)")
            let scheduleID = try #require(r.data?["schedule_id"]?.stringValue)
            #expect(!scheduleID.isEmpty)
            #expect(r.data?["send_at"]?.intValue == now + 3600)
            let r2 = try await h.call("POST", send, token: g.accessToken, json: [
                "to": [["email": "zed@example.com"]], "subject": "Cancelled", "body": "never", "send_at": .int(now + 7200)])
            let cancelID = try #require(r2.data?["schedule_id"]?.stringValue)
            // Not too soon, not too far.
            #expect(try await h.call("POST", send, token: g.accessToken, json: [
                "to": [["email": "zed@example.com"]], "send_at": .int(now + 10)]).status == 400)
            #expect(try await h.call("POST", send, token: g.accessToken, json: [
                "to": [["email": "zed@example.com"]], "send_at": .int(now + 31 * 86400)]).status == 400)

            let schedules = try await h.call("GET", "/v3/grants/\(g.id)/messages/schedules", token: g.accessToken)
            #expect(schedules.status == 200)
            #expect(schedules.json?["request_id"] != nil)
            let items = schedules.data?.arrayValue ?? []
            #expect(Set(items.compactMap { $0["schedule_id"]?.stringValue }) == [scheduleID, cancelID])
            #expect(items.allSatisfy { $0["status"]?["code"]?.stringValue == "pending" })
            let one = try await h.call("GET", "/v3/grants/\(g.id)/messages/schedules/\(scheduleID)", token: g.accessToken)
            #expect(one.data?["status"]?["code"]?.stringValue == "pending")
            #expect(one.data?["status"]?["description"]?.stringValue == "schedule send awaiting send at time")
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/messages/schedules/nope", token: g.accessToken).status == 404)

            let cancel = try await h.call("DELETE", "/v3/grants/\(g.id)/messages/schedules/\(cancelID)", token: g.accessToken)
            #expect(cancel.status == 202)
            #expect(cancel.data?["message"]?.stringValue == "requested cancelation for workflow")
            #expect(try await subjects(h, g, "").isEmpty)

            try await h.advance("59m")
            // The grant's access token lives one hour: from here on, the API key.
            g = GrantInfo(id: g.id, email: g.email, provider: g.provider, accessToken: h.apiKey, refreshToken: nil)
            #expect(try await subjects(h, g, "").isEmpty)
            try await h.advance("2m")
            let delivery = try #require(await h.sim.nextDelivery { $0.type == "message.send_success" })
            #expect(delivery.payload?["data"]?["object"]?["schedule_id"]?.stringValue == scheduleID)
            #expect(delivery.payload?["data"]?["grant_id"]?.stringValue == g.id)
            #expect(delivery.payload?["data"]?["object"]?["subject"]?.stringValue == "Scheduled")
            #expect(delivery.payload?["source"]?.stringValue == "/nylas/send")
            #expect(try await subjects(h, g, "in=SENT") == ["Scheduled"])
            let done = try await h.call("GET", "/v3/grants/\(g.id)/messages/schedules/\(scheduleID)", token: g.accessToken)
            #expect(done.data?["status"]?["code"]?.stringValue == "success")
            #expect(done.data?["close_time"]?.intValue != nil)

            try await h.advance("3h")
            #expect(try await subjects(h, g, "") == ["Scheduled"], "the cancelled send never goes out")
            let cancelled = try await h.call("GET", "/v3/grants/\(g.id)/messages/schedules/\(cancelID)", token: g.accessToken)
            #expect(cancelled.data?["status"]?["code"]?.stringValue == "cancelled")
            #expect(try h.sim.webhookDeliveries().filter { $0.type == "message.send_success" }.count == 1)
        }
    }

    // MARK: Drafts

    @Test("Drafts: create, get, update (partial), list, send, delete")
    func drafts() async throws {
        try await withSimulator { h in
            let s = try await seed(h)
            let g = s.grant
            let base = "/v3/grants/\(g.id)/drafts"
            let c = try await h.call("POST", base, token: g.accessToken, json: [
                "to": [["name": "Zed", "email": "zed@example.com"]], "subject": "Draft one", "body": "first words",
                "reply_to_message_id": .string(s.ids["q1"]!)])
            #expect(c.status == 200, "\(c.text)")
            let d = try #require(c.data)
            let id = try #require(d["id"]?.stringValue)
            #expect(d["object"]?.stringValue == "draft")
            #expect(d["grant_id"]?.stringValue == g.id)
            #expect(d["folders"]?.arrayValue == ["DRAFT"])
            #expect(d["thread_id"]?.stringValue == s.threadOfQ1)
            let got = try await h.call("GET", "\(base)/\(id)", token: g.accessToken)
            #expect(got.data?["subject"]?.stringValue == "Draft one")
            let upd = try await h.call("PUT", "\(base)/\(id)", token: g.accessToken, json: ["subject": "Draft one, edited"])
            #expect(upd.status == 200, "\(upd.text)")
            #expect(upd.data?["subject"]?.stringValue == "Draft one, edited")
            #expect(upd.data?["body"]?.stringValue == "first words", "fields left out stay as they were")
            #expect(upd.data?["to"]?.arrayValue?.first?["email"]?.stringValue == "zed@example.com")
            let second = try await h.call("POST", base, token: g.accessToken, json: ["to": [["email": "amy@example.com"]], "subject": "Draft two"])
            let id2 = try #require(second.data?["id"]?.stringValue)
            let listed = try await h.call("GET", base, token: g.accessToken)
            #expect(Set(ids(listed)) == [id, id2])
            #expect(listed.data?.arrayValue?.allSatisfy { $0["object"]?.stringValue == "draft" } == true)
            let filtered = try await h.call("GET", "\(base)?subject=TWO", token: g.accessToken)
            #expect(ids(filtered) == [id2])
            // The thread knows about its draft.
            let thread = try await h.call("GET", "/v3/grants/\(g.id)/threads/\(s.threadOfQ1)", token: g.accessToken)
            #expect(thread.data?["has_drafts"]?.boolValue == true)
            #expect(thread.data?["draft_ids"]?.arrayValue == [.string(id)])
            // Send: a message in the draft's thread; the draft is gone.
            let sent = try await h.call("POST", "\(base)/\(id)", token: g.accessToken)
            #expect(sent.status == 200, "\(sent.text)")
            #expect(sent.data?["object"]?.stringValue == "message")
            #expect(sent.data?["subject"]?.stringValue == "Draft one, edited")
            #expect(sent.data?["thread_id"]?.stringValue == s.threadOfQ1)
            #expect(try await h.call("GET", "\(base)/\(id)", token: g.accessToken).status == 404)
            #expect(try await subjects(h, g, "in=SENT").first == "Draft one, edited")
            // Delete.
            #expect(try await h.call("DELETE", "\(base)/\(id2)", token: g.accessToken).status == 200)
            #expect(try await h.call("GET", "\(base)/\(id2)", token: g.accessToken).status == 404)
            #expect(try await h.call("DELETE", "\(base)/\(id2)", token: g.accessToken).status == 404)
            #expect(ids(try await h.call("GET", base, token: g.accessToken)).isEmpty)
            #expect(try await h.call("POST", base, token: g.accessToken, json: ["to": [["email": "bad"]]]).status == 400)
        }
    }

    // MARK: Threads

    @Test("Threads: list, get with derived fields, update every message, delete to Trash")
    func threads() async throws {
        try await withSimulator { h in
            let s = try await seed(h)
            let g = s.grant
            let base = "/v3/grants/\(g.id)/threads"
            let listed = try await h.call("GET", base, token: g.accessToken)
            #expect(listed.status == 200)
            let threads = listed.data?.arrayValue ?? []
            #expect(threads.count == 3)
            #expect(threads.first?["id"]?.stringValue != s.threadOfQ1, "newest thread first (the invoice)")
            #expect(threads.map { $0["subject"]?.stringValue } == ["Invoice 42", "Quarterly Report", "lunch plans"])
            let r = try await h.call("GET", "\(base)/\(s.threadOfQ1)", token: g.accessToken)
            #expect(r.status == 200)
            let t = try #require(r.data)
            #expect(t["object"]?.stringValue == "thread")
            #expect(t["grant_id"]?.stringValue == g.id)
            #expect(t["message_ids"]?.arrayValue == [.string(s.ids["q1"]!), .string(s.ids["re"]!)])
            #expect(t["subject"]?.stringValue == "Quarterly Report")
            #expect(t["unread"]?.boolValue == true)
            #expect(t["starred"]?.boolValue == false)
            #expect(t["has_attachments"]?.boolValue == true)
            #expect(t["has_drafts"]?.boolValue == false)
            #expect(t["draft_ids"]?.arrayValue == [])
            #expect(t["earliest_message_date"]?.intValue == s.dates["q1"])
            #expect(t["latest_message_received_date"]?.intValue == s.dates["q1"])
            #expect(t["latest_message_sent_date"]?.intValue == s.dates["re"])
            #expect(Set(t["folders"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["INBOX", "SENT"])
            #expect(Set(t["participants"]?.arrayValue?.compactMap { $0["email"]?.stringValue } ?? [])
                    == ["alice@example.org", "owner@gmail.com", "carol@example.net"])
            #expect(t["latest_draft_or_message"]?["object"]?.stringValue == "message")
            #expect(t["latest_draft_or_message"]?["id"]?.stringValue == s.ids["re"])
            #expect(t["snippet"]?.stringValue == "See the sheet")
            // Filters reuse the message filters.
            let unread = try await h.call("GET", "\(base)?unread=True", token: g.accessToken)
            #expect(Set(ids(unread)) == [s.threadOfQ1, try #require(threads.first?["id"]?.stringValue)])
            let paged = try await h.call("GET", "\(base)?limit=2", token: g.accessToken)
            #expect(paged.data?.arrayValue?.count == 2)
            let cursor = try #require(paged.json?["next_cursor"]?.stringValue)
            let rest = try await h.call("GET", "\(base)?limit=2&page_token=\(enc(cursor))", token: g.accessToken)
            #expect(rest.data?.arrayValue?.map { $0["subject"]?.stringValue } == ["lunch plans"])
            #expect(rest.json?["next_cursor"] == nil)
            #expect(try await h.call("GET", "\(base)?limit=51", token: g.accessToken).status == 400)
            #expect(try await h.call("GET", "\(base)?limit=50", token: g.accessToken).status == 200)
            // Update applies to every message.
            let upd = try await h.call("PUT", "\(base)/\(s.threadOfQ1)", token: g.accessToken, json: ["unread": false, "starred": true])
            #expect(upd.status == 200, "\(upd.text)")
            #expect(upd.data?["unread"]?.boolValue == false)
            #expect(upd.data?["starred"]?.boolValue == true)
            for key in ["q1", "re"] {
                let m = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(s.ids[key]!)", token: g.accessToken)
                #expect(m.data?["starred"]?.boolValue == true)
                #expect(m.data?["unread"]?.boolValue == false)
            }
            #expect(try await h.call("PUT", "\(base)/\(s.threadOfQ1)", token: g.accessToken, json: ["folders": ["nope"]]).status == 404)
            #expect(try await h.call("GET", "\(base)/nope", token: g.accessToken).status == 404)
            // Delete moves every message to Trash.
            #expect(try await h.call("DELETE", "\(base)/\(s.threadOfQ1)", token: g.accessToken).status == 200)
            #expect(Set(try await subjects(h, g, "in=TRASH")) == ["Quarterly Report", "Re: quarterly report"])
            let after = try await h.call("GET", "\(base)/\(s.threadOfQ1)", token: g.accessToken)
            #expect(after.data?["folders"]?.arrayValue == ["TRASH"])
            #expect(try await h.call("DELETE", "\(base)/nope", token: g.accessToken).status == 404)
        }
    }

    // MARK: Folders

    @Test("Folders: create, list, get, rename, delete; system folders refused; counts")
    func folders() async throws {
        try await withSimulator { h in
            let s = try await seed(h)
            let g = s.grant
            let base = "/v3/grants/\(g.id)/folders"
            let listed = try await h.call("GET", base, token: g.accessToken)
            #expect(listed.status == 200)
            let all = listed.data?.arrayValue ?? []
            let inbox = try #require(all.first { $0["id"]?.stringValue == "INBOX" })
            #expect(inbox["system_folder"]?.boolValue == true)
            #expect(inbox["object"]?.stringValue == "folder")
            #expect(inbox["total_count"]?.intValue == 3)
            #expect(inbox["unread_count"]?.intValue == 2)
            #expect(all.contains { $0["name"]?.stringValue == "Work" && $0["id"]?.stringValue == s.workFolder })
            let created = try await h.call("POST", base, token: g.accessToken, json: ["name": "Projects/2026"])
            #expect(created.status == 200, "\(created.text)")
            let id = try #require(created.data?["id"]?.stringValue)
            #expect(created.data?["name"]?.stringValue == "Projects/2026")
            #expect(created.data?["system_folder"]?.boolValue == false)
            #expect(created.data?["grant_id"]?.stringValue == g.id)
            #expect(try await h.call("POST", base, token: g.accessToken, json: ["name": "Projects/2026"]).status == 409)
            #expect(try await h.call("POST", base, token: g.accessToken, json: [:]).status == 400)
            let got = try await h.call("GET", "\(base)/\(enc(id))", token: g.accessToken)
            #expect(got.data?["name"]?.stringValue == "Projects/2026")
            #expect(got.data?["total_count"]?.intValue == 0)
            let renamed = try await h.call("PUT", "\(base)/\(enc(id))", token: g.accessToken, json: ["name": "Projects"])
            #expect(renamed.status == 200)
            #expect(renamed.data?["name"]?.stringValue == "Projects")
            #expect(try await h.call("GET", "\(base)/\(enc(id))", token: g.accessToken).data?["name"]?.stringValue == "Projects")
            // System folders stay.
            let delInbox = try await h.call("DELETE", "\(base)/INBOX", token: g.accessToken)
            #expect(delInbox.status == 400)
            #expect(delInbox.errorType == "invalid_request_error")
            #expect(try await h.call("PUT", "\(base)/SENT", token: g.accessToken, json: ["name": "Outbox"]).status == 400)
            // Delete a custom folder.
            #expect(try await h.call("DELETE", "\(base)/\(enc(id))", token: g.accessToken).status == 200)
            #expect(try await h.call("GET", "\(base)/\(enc(id))", token: g.accessToken).status == 404)
            #expect(try await h.call("DELETE", "\(base)/\(enc(id))", token: g.accessToken).status == 404)
            let after = try await h.call("GET", base, token: g.accessToken)
            #expect(after.data?.arrayValue?.count == all.count)
            #expect(try await h.call("GET", "\(base)?limit=201", token: g.accessToken).status == 400)
        }
    }

    // MARK: Attachments

    @Test("Attachment metadata and download: content type, length, disposition, errors")
    func attachments() async throws {
        try await withSimulator { h in
            let s = try await seed(h)
            let g = s.grant
            let m = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(s.ids["invoice"]!)", token: g.accessToken)
            let a = try #require(m.data?["attachments"]?.arrayValue?.first)
            let aid = try #require(a["id"]?.stringValue)
            #expect(a["wid"] == nil, "internal fields stay inside")
            let meta = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(aid))?message_id=\(s.ids["invoice"]!)", token: g.accessToken)
            #expect(meta.status == 200, "\(meta.text)")
            #expect(meta.data?["id"]?.stringValue == aid)
            #expect(meta.data?["grant_id"]?.stringValue == g.id)
            #expect(meta.data?["filename"]?.stringValue == "invoice.pdf")
            #expect(meta.data?["content_type"]?.stringValue == "application/pdf")
            #expect(meta.data?["size"]?.intValue == 12)
            #expect(meta.data?["is_inline"]?.boolValue == false)
            #expect(meta.data?["content_disposition"]?.stringValue == "attachment; filename=\"invoice.pdf\"")
            let dl = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(aid))/download?message_id=\(s.ids["invoice"]!)",
                                      token: g.accessToken)
            #expect(dl.status == 200)
            #expect(dl.body == Array(Data(base64Encoded: "JVBERi0xLjQKJcfs")!))
            #expect(dl.headers["content-type"] == "application/octet-stream")  // the MIME type is in the metadata
            #expect(dl.headers["content-length"] == "12")
            #expect(dl.headers["content-disposition"] == "attachment; filename=\"invoice.pdf\"")
            // Errors are JSON envelopes.
            let noMessage = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(aid))", token: g.accessToken)
            #expect(noMessage.status == 400)
            #expect(noMessage.json?["request_id"] != nil)
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/attachments/nope?message_id=\(s.ids["invoice"]!)", token: g.accessToken).status == 404)
            let wrongMessage = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(aid))/download?message_id=\(s.ids["q1"]!)",
                                                token: g.accessToken)
            #expect(wrongMessage.status == 404)
            #expect(wrongMessage.headers["content-type"]?.hasPrefix("application/json") == true)
            let noDl = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(aid))/download?message_id=nope", token: g.accessToken)
            #expect(noDl.status == 404)
        }
    }

    // MARK: v2 habits

    @Test("v2 parameters are refused naming the replacement; /v3/messages names the grant-scoped path")
    func v2Habits() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "habits@gmail.com", provider: "google")
            for (param, hint) in [("not_in=trash", "in="), ("view=count", "select"), ("offset=10", "page_token"), ("labels=inbox", "folders")] {
                for path in ["messages", "threads"] {
                    let r = try await list(h, g, param, path: path)
                    #expect(r.status == 400, "\(path)?\(param)")
                    #expect(r.errorType == "invalid_request_error")
                    let message = r.json?["error"]?["message"]?.stringValue ?? ""
                    #expect(message.contains(String(param.split(separator: "=")[0])), "\(message)")
                    #expect(message.contains(hint), "\(param): \(message)")
                }
            }
            for path in ["messages", "threads", "drafts", "folders"] {
                let r = try await h.call("GET", "/v3/\(path)", token: h.apiKey)
                #expect(r.status == 404)
                #expect(r.errorType == "not_found_error")
                #expect(r.json?["error"]?["message"]?.stringValue?.contains("/v3/grants/{grant_id}/\(path)") == true, "\(r.text)")
            }
            let send = try await h.call("POST", "/v3/send", token: h.apiKey, json: ["to": [["email": "a@example.com"]]])
            #expect(send.status == 404)
            #expect(send.json?["error"]?["message"]?.stringValue?.contains("/v3/grants/{grant_id}/messages/send") == true)
        }
    }

    // MARK: Microsoft IDs

    @Test("Microsoft IDs with characters to URL-encode work in every path")
    func microsoftIDs() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "mia@outlook.com", provider: "microsoft")
            try await deliver(h, to: "mia@outlook.com", [
                "from": "sender@example.com", "subject": "Graph IDs", "body": "hi",
                "attachments": [["filename": "a.txt", "content_type": "text/plain", "content": "abc"]]])
            let listed = try await list(h, g)
            let m = try #require(listed.data?.arrayValue?.first)
            let id = try #require(m["id"]?.stringValue)
            #expect(id.contains("=") && id.contains("-") && id.contains("_"), "\(id)")
            #expect(enc(id) != id)
            let base = "/v3/grants/\(g.id)"
            let got = try await h.call("GET", "\(base)/messages/\(enc(id))", token: g.accessToken)
            #expect(got.status == 200)
            #expect(got.data?["id"]?.stringValue == id)
            #expect(got.data?["folders"]?.arrayValue?.count == 1)
            #expect(got.data?["attachments"]?.arrayValue?.first?["content_disposition"] == nil)
            let put = try await h.call("PUT", "\(base)/messages/\(enc(id))", token: g.accessToken, json: ["starred": true])
            #expect(put.status == 200)
            let threadID = try #require(m["thread_id"]?.stringValue)
            #expect(try await h.call("GET", "\(base)/threads/\(enc(threadID))", token: g.accessToken).status == 200)
            #expect(try await subjects(h, g, "thread_id=\(enc(threadID))") == ["Graph IDs"])
            let aid = try #require(m["attachments"]?.arrayValue?.first?["id"]?.stringValue)
            let dl = try await h.call("GET", "\(base)/attachments/\(enc(aid))/download?message_id=\(enc(id))", token: g.accessToken)
            #expect(dl.status == 200)
            #expect(dl.text == "abc")
            let folders = try await h.call("GET", "\(base)/folders", token: g.accessToken)
            let inbox = try #require(folders.data?.arrayValue?.first { $0["name"]?.stringValue == "Inbox" }?["id"]?.stringValue)
            #expect(inbox != "INBOX")
            #expect(try await subjects(h, g, "in=\(enc(inbox))") == ["Graph IDs"])
            #expect(try await h.call("GET", "\(base)/folders/\(enc(inbox))", token: g.accessToken).status == 200)
            // A Microsoft message lives in exactly one folder.
            #expect(try await h.call("PUT", "\(base)/messages/\(enc(id))", token: g.accessToken,
                                     json: ["folders": [.string(inbox), .string(inbox)]]).status == 400)
            // Reply threading with an encoded ID.
            let reply = try await h.call("POST", "\(base)/messages/send", token: g.accessToken,
                                         json: ["to": [["email": "sender@example.com"]], "subject": "Re: Graph IDs", "reply_to_message_id": .string(id)])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.data?["thread_id"]?.stringValue == threadID)
            #expect(try await h.call("DELETE", "\(base)/messages/\(enc(id))?hard_delete=true", token: g.accessToken).status == 200)
            #expect(try await h.call("GET", "\(base)/messages/\(enc(id))", token: g.accessToken).status == 404)
        }
    }

    // MARK: Fixtures

    @Test("The mailbox fixture through the control API: counts, threads, folders, idempotent, bad input → 400")
    func fixtureControlAPI() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "avery.quinn@gmail.com", provider: "google")
            let started = ContinuousClock.now
            let r = try await h.call("POST", "/__sim/fixtures", json: ["path": .string(Self.fixturePath)])
            let elapsed = ContinuousClock.now - started
            print("fixture load (control API, debug build, one connected grant): \(elapsed)")
            #expect(r.status == 201, "\(r.text)")
            #expect(r.json?["messages"]?.intValue == 300)
            #expect(r.json?["mailbox"]?.stringValue == "avery.quinn@gmail.com")
            #expect(r.json?["provider"]?.stringValue == "google")
            #expect(r.json?["folders_added"]?.intValue == 6)
            let threadCount = try #require(r.json?["threads"]?.intValue)
            #expect(threadCount > 50 && threadCount < 300)
            // The connected grant saw everything at once (push).
            var ids: Set<String> = []
            var threadIDs: Set<String> = []
            var token: String?
            repeat {
                let page = try await list(h, g, "limit=200" + (token.map { "&page_token=\(enc($0))" } ?? ""))
                for m in page.data?.arrayValue ?? [] {
                    ids.insert(m["id"]?.stringValue ?? "")
                    threadIDs.insert(m["thread_id"]?.stringValue ?? "")
                }
                token = page.json?["next_cursor"]?.stringValue
            } while token != nil
            #expect(ids.count == 300)
            #expect(threadIDs.count == threadCount)
            // Threads exist with several messages.
            let threads = try await h.call("GET", "/v3/grants/\(g.id)/threads?limit=50", token: g.accessToken)
            let long = try #require(threads.data?.arrayValue?.first { ($0["message_ids"]?.arrayValue?.count ?? 0) >= 3 })
            #expect(long["latest_draft_or_message"]?["object"]?.stringValue == "message")
            // Custom labels, unread and starred, attachments.
            let folders = try await h.call("GET", "/v3/grants/\(g.id)/folders", token: g.accessToken)
            let names = Set(folders.data?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
            #expect(names.isSuperset(of: ["Work", "Travel", "Receipts", "Archive", "INBOX", "SENT"]))
            let fixture = try #require(try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixturePath)))).objectValue)
            let messages = fixture["messages"]?.arrayValue ?? []
            func count(_ q: String) async throws -> Int { (try await list(h, g, "limit=200&\(q)")).data?.arrayValue?.count ?? -1 }
            #expect(try await count("unread=true") == messages.filter { $0["unread"]?.boolValue == true }.count)
            #expect(try await count("starred=true") == messages.filter { $0["starred"]?.boolValue == true }.count)
            #expect(try await count("has_attachment=true") == messages.filter { !($0["attachments"]?.arrayValue?.isEmpty ?? true) }.count)
            #expect(try await count("in=SENT") == messages.filter { $0["folders"]?.arrayValue?.contains("SENT") == true }.count)
            // Loading again adds nothing.
            let again = try await h.call("POST", "/__sim/fixtures", json: ["path": .string(Self.fixturePath)])
            #expect(again.status == 201)
            #expect(again.json?["messages"]?.intValue == 0)
            #expect(again.json?["skipped"]?.intValue == 300)
            // Inline fixtures, and bad ones: 400, nothing half-loaded.
            let inline = try await h.call("POST", "/__sim/fixtures", json: [
                "mailbox": "inline@example.com", "provider": "imap", "folders": [["key": "Projects", "name": "Projects"]],
                "messages": [["message_id": "<one@x>", "from": ["email": "a@example.com"], "subject": "One", "date": 1_760_000_000, "folders": ["Projects"]],
                             ["message_id": "<two@x>", "from": ["email": "b@example.com"], "subject": "Re: One", "date": 1_760_000_100,
                              "in_reply_to": "<one@x>"]]])
            #expect(inline.status == 201, "\(inline.text)")
            #expect(inline.json?["messages"]?.intValue == 2)
            #expect(inline.json?["threads"]?.intValue == 1)
            let bad: [JSON] = [
                ["path": "/does/not/exist.json"],
                ["mailbox": "x@example.com"],
                ["mailbox": "not-an-address", "messages": []],
                ["mailbox": "x@example.com", "provider": "zoom", "messages": []],
                ["mailbox": "x@example.com", "messages": "many"],
                ["mailbox": "x@example.com", "messages": [42]],
                ["mailbox": "x@example.com", "messages": [["subject": 7]]],
                ["mailbox": "x@example.com", "messages": [["date": "yesterday"]]],
                ["mailbox": "x@example.com", "messages": [["folders": ["NOPE"]]]],
                ["mailbox": "x@example.com", "messages": [["message_id": "<d@x>"], ["message_id": "<d@x>"]]],
                ["mailbox": "x@example.com", "messages": [["attachments": [["content_base64": "***"]]]]],
                ["mailbox": "x@example.com", "folders": [["name": "no key"]], "messages": []],
                ["mailbox": "avery.quinn@gmail.com", "provider": "imap", "messages": []],
            ]
            for b in bad {
                let e = try await h.call("POST", "/__sim/fixtures", json: b)
                #expect(e.status == 400 || (e.status == 409 && b["provider"]?.stringValue == "imap"), "\(b): \(e.status) \(e.text)")
                #expect(e.json?["error"]?["message"]?.stringValue != nil, "\(b)")
            }
            #expect(try await h.call("POST", "/__sim/fixtures", json: ["mailbox": "x@example.com", "messages": [["folders": ["NOPE"]]]])
                .json?["error"]?["message"]?.stringValue?.contains("NOPE") == true)
            let boxes = try await h.call("GET", "/__sim/providers/mailboxes")
            #expect(boxes.json?["data"]?.arrayValue?.contains { $0["email"]?.stringValue == "x@example.com" } == false,
                    "a failed load leaves nothing behind")
            let raw = try await h.raw("POST", "/__sim/fixtures", body: Array("{\"messages\": [".utf8), headers: ["Content-Type": "application/json"])
            #expect(raw.status == 400)
        }
    }

    @Test("The mailbox fixture through the Swift API: another owner, another provider, grants created afterwards")
    func fixtureSwiftAPI() async throws {
        try await withSimulator { h in
            let started = ContinuousClock.now
            let loaded = try h.sim.loadFixture(path: Self.fixturePath, mailbox: "robin@gmail.com")
            print("fixture load (Swift API, debug build, no grant): \(ContinuousClock.now - started)")
            #expect(loaded == 300)
            #expect(try h.sim.loadFixture(path: Self.fixturePath, mailbox: "robin@gmail.com") == 0)
            let g = try h.sim.createGrant(email: "robin@gmail.com", provider: "google")
            let sent = try await list(h, g, "in=SENT&limit=200")
            #expect(sent.data?.arrayValue?.isEmpty == false)
            #expect(sent.data?.arrayValue?.allSatisfy { $0["from"]?.arrayValue?.first?["email"]?.stringValue == "robin@gmail.com" } == true,
                    "the owner address is replaced everywhere")
            #expect(try await list(h, g, "any_email=avery.quinn@gmail.com").data?.arrayValue?.isEmpty == true)
            let threads = try await h.call("GET", "/v3/grants/\(g.id)/threads?limit=50", token: g.accessToken)
            #expect(threads.data?.arrayValue?.count == 50)
            #expect(threads.json?["next_cursor"]?.stringValue != nil)
            // As a Microsoft mailbox every message keeps one folder.
            #expect(try h.sim.loadFixture(path: Self.fixturePath, mailbox: "robin@outlook.com", provider: "microsoft") == 300)
            let ms = try h.sim.createGrant(email: "robin@outlook.com", provider: "microsoft")
            let msList = try await list(h, ms, "limit=200")
            #expect(msList.data?.arrayValue?.allSatisfy { $0["folders"]?.arrayValue?.count == 1 } == true)
            // An IMAP grant created before a load sees it at its next sync.
            let imap = try h.sim.createGrant(email: "ivy@example.com", provider: "imap")
            #expect(try h.sim.loadFixture(path: Self.fixturePath, mailbox: "ivy@example.com", provider: "imap") == 300)
            #expect(try await list(h, imap).data?.arrayValue?.isEmpty == true)
            try await h.advance("10m")
            #expect(try await list(h, imap, "limit=200").data?.arrayValue?.count == 200)
            // Errors are NylasErrors, not crashes.
            #expect(throws: NylasError.self) { try h.sim.loadFixture(path: "/no/such/fixture.json") }
            do {
                try h.sim.loadFixture(["mailbox": "x@example.com", "messages": [["folders": ["NOPE"]]]])
                Issue.record("a bad fixture loaded")
            } catch let e as NylasError {
                #expect(e.status == 400)
            }
            #expect(try h.sim.loadFixture(["mailbox": "tiny@example.com", "messages": [["subject": "Only one"]]]) == 1)
        }
    }
}
