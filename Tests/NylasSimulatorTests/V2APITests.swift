import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

@Suite("API v2: auth, accounts, deletion semantics, email, drafts, files, delta")
struct V2APITests {
    /// Native auth: `/connect/authorize` then `/connect/token`; returns (account id, token).
    func connect(_ h: SimHarness, email: String, provider: String = "gmail", region: Region = .us) async throws -> (String, String) {
        let v2 = h.sim.region(region).v2
        var settings: JSON = ["google_client_id": "a", "google_client_secret": "b", "google_refresh_token": "c"]
        if provider == "imap" {
            settings = ["imap_host": "imap.example.com", "imap_port": 993, "imap_username": .string(email), "imap_password": "p",
                        "smtp_host": "smtp.example.com", "smtp_port": 465]
        }
        let a = try await h.call("POST", "/connect/authorize", region: region, json: [
            "client_id": .string(v2.clientID), "name": "Test User", "email_address": .string(email), "provider": .string(provider),
            "settings": settings, "scopes": "email,calendar,contacts"])
        #expect(a.status == 200, "\(a.text)")
        let code = try #require(a.json?["code"]?.stringValue)
        let t = try await h.call("POST", "/connect/token", region: region,
                                 json: ["client_id": .string(v2.clientID), "client_secret": .string(v2.clientSecret), "code": .string(code)])
        #expect(t.status == 200, "\(t.text)")
        #expect(t.json?["object"]?.stringValue == "account")
        return (try #require(t.json?["account_id"]?.stringValue), try #require(t.json?["access_token"]?.stringValue))
    }

    func basic(_ secret: String) -> [String: String] { ["Authorization": "Basic " + Data("\(secret):".utf8).base64EncodedString()] }

    @Test("Hosted auth: authorize, code exchange, token forms, revoke")
    func hostedAuth() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let auth = try await h.call("GET", "/oauth/authorize?client_id=\(v2.clientID)&redirect_uri=http://localhost:3000/callback&response_type=code&scopes=email,calendar&login_hint=ben@gmail.com&state=xyz")
            #expect(auth.status == 302)
            let location = try #require(auth.headers["location"])
            let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
            #expect(location.contains("state=xyz"))
            let form = "client_id=\(v2.clientID)&client_secret=\(v2.clientSecret)&grant_type=authorization_code&code=\(code)"
            let t = try await h.raw("POST", "/oauth/token", body: Array(form.utf8), headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(t.status == 200, "\(t.text)")
            #expect(t.json?["provider"]?.stringValue == "gmail")
            #expect(t.json?["token_type"]?.stringValue == "bearer")
            let token = try #require(t.json?["access_token"]?.stringValue)
            let accountID = try #require(t.json?["account_id"]?.stringValue)
            #expect(accountID.count == 25)
            for headers in [["Authorization": "Bearer \(token)"], basic(token), ["Authorization": token]] {
                let me = try await h.call("GET", "/account", headers: headers)
                #expect(me.status == 200)
                #expect(me.json?["organization_unit"]?.stringValue == "label")
                #expect(me.json?["email_address"]?.stringValue == "ben@gmail.com")
            }
            let reused = try await h.raw("POST", "/oauth/token", body: Array(form.utf8), headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(reused.status == 400)
            #expect(reused.json?["type"]?.stringValue == "api_error")
            // v2 tokens do not expire.
            try await h.advance("30d")
            #expect(try await h.call("GET", "/account", headers: ["Authorization": "Bearer \(token)"]).status == 200)
            #expect(try await h.call("POST", "/oauth/revoke", headers: basic(token)).status == 200)
            let after = try await h.call("GET", "/account", headers: ["Authorization": "Bearer \(token)"])
            #expect(after.status == 401)
            #expect(after.json?["message"]?.stringValue == "Could not verify access credential.")
            // An EU client is unknown in the US.
            let eu = try await h.call("GET", "/oauth/authorize?client_id=\(h.sim.region(.eu).v2.clientID)&redirect_uri=http://localhost:3000/callback&response_type=code")
            #expect(eu.status == 400)
        }
    }

    @Test("v2 deletion is not v3 deletion: downgrade keeps the account and its data; delete removes it")
    func accountLifecycle() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let (id, token) = try await connect(h, email: "ann@example.com", provider: "imap")
            _ = try h.sim.deliverMail(to: "ann@example.com", from: "bob@example.org", subject: "Kept")
            try await h.advance("10m")
            let auth = ["Authorization": "Bearer \(token)"]
            #expect(try await h.call("GET", "/messages", headers: auth).json?.arrayValue?.count == 1)
            let list = try await h.call("GET", "/a/\(v2.clientID)/accounts", headers: basic(v2.clientSecret))
            #expect(list.json?.arrayValue?.first?["email"]?.stringValue == "ann@example.com")
            #expect(try await h.call("POST", "/a/\(v2.clientID)/accounts/\(id)/downgrade", headers: basic(v2.clientSecret)).json?["success"] == true)
            let blocked = try await h.call("GET", "/messages", headers: auth)
            #expect(blocked.status == 403)
            let info = try await h.call("GET", "/a/\(v2.clientID)/accounts/\(id)", headers: basic(v2.clientSecret))
            #expect(info.json?["billing_state"]?.stringValue == "cancelled")
            #expect(info.json?["sync_state"]?.stringValue == "stopped")
            _ = try await h.call("POST", "/a/\(v2.clientID)/accounts/\(id)/upgrade", headers: basic(v2.clientSecret))
            let back = try await h.call("GET", "/messages", headers: auth)
            #expect(back.status == 200)
            #expect(back.json?.arrayValue?.first?["subject"]?.stringValue == "Kept")
            let ti = try await h.call("POST", "/a/\(v2.clientID)/accounts/\(id)/token-info", json: ["access_token": .string(token)], headers: basic(v2.clientSecret))
            #expect(ti.json?["state"]?.stringValue == "valid")
            #expect(try await h.call("DELETE", "/a/\(v2.clientID)/accounts/\(id)", headers: basic(v2.clientSecret)).status == 200)
            let gone = try await h.call("GET", "/account", headers: auth)
            #expect(gone.status == 401 || gone.status == 404)
            #expect(try await h.call("GET", "/a/\(v2.clientID)/accounts/\(id)", headers: basic(v2.clientSecret)).status == 404)
            // Reconnecting after a delete gives a new account ID.
            let (again, _) = try await connect(h, email: "ann@example.com", provider: "imap")
            #expect(again != id)
        }
    }

    @Test("Messages: filters, views, offset paging, update, raw MIME; labels vs folders")
    func messages() async throws {
        try await withSimulator { h in
            let (_, token) = try await connect(h, email: "gabe@gmail.com")
            let auth = ["Authorization": "Bearer \(token)"]
            for i in 1...5 { _ = try h.sim.deliverMail(to: "gabe@gmail.com", from: "x\(i)@example.com", subject: "S\(i)") }
            #expect(try await h.call("GET", "/messages?view=count", headers: auth).json?["count"]?.intValue == 5)
            let ids = try await h.call("GET", "/messages?view=ids&limit=2&offset=1", headers: auth)
            #expect(ids.json?.arrayValue?.count == 2)
            #expect(try await h.call("GET", "/messages?offset=10", headers: auth).json?.arrayValue?.isEmpty == true)
            let fromX3 = try await h.call("GET", "/messages?from=x3@example.com", headers: auth)
            #expect(fromX3.json?.arrayValue?.count == 1, "\(fromX3.text.prefix(300))")
            #expect(try await h.call("GET", "/messages?in=inbox", headers: auth).json?.arrayValue?.count == 5)
            #expect(try await h.call("GET", "/messages?view=nope", headers: auth).status == 400)
            #expect(try await h.call("GET", "/messages?limit=5000", headers: auth).status == 400)
            let first = try #require(try await h.call("GET", "/messages?limit=1&view=expanded", headers: auth).json?.arrayValue?.first)
            #expect(first["labels"]?.arrayValue?.first?["name"]?.stringValue == "inbox")
            #expect(first["headers"]?["Message-Id"]?.stringValue?.hasPrefix("<") == true)
            let id = try #require(first["id"]?.stringValue)
            #expect(id.count == 25)
            let put = try await h.call("PUT", "/messages/\(id)", json: ["unread": false, "starred": true], headers: auth)
            #expect(put.json?["unread"]?.boolValue == false)
            #expect(try await h.call("PUT", "/messages/\(id)", json: ["unread": "no"], headers: auth).status == 400)
            #expect(try await h.call("PUT", "/messages/\(id)", json: ["folder_id": "x"], headers: auth).status == 404)
            #expect(try await h.call("PUT", "/messages/\(id)", json: ["label_ids": []], headers: auth).status == 400)
            let raw = try await h.call("GET", "/messages/\(id)", headers: auth.merging(["Accept": "message/rfc822"]) { a, _ in a })
            #expect(raw.headers["content-type"] == "message/rfc822")
            #expect(raw.text.contains("Subject:"))
            #expect(try await h.call("GET", "/folders", headers: auth).status == 404)
            #expect(try await h.call("GET", "/labels", headers: auth).json?.arrayValue?.isEmpty == false)
            #expect(try await h.call("GET", "/messages/nope", headers: auth).json?["type"]?.stringValue == "invalid_request_error")
            let threads = try await h.call("GET", "/threads", headers: auth)
            #expect(threads.json?.arrayValue?.count == 5)
            #expect(threads.json?.arrayValue?.first?["object"]?.stringValue == "thread")
        }
    }

    @Test("Send, versioned drafts (stale → 409), files, delta")
    func sendDraftsFilesDelta() async throws {
        try await withSimulator { h in
            let (_, token) = try await connect(h, email: "sue@gmail.com")
            let auth = ["Authorization": "Bearer \(token)"]
            let cursor = try #require(try await h.call("POST", "/delta/latest_cursor", headers: auth).json?["cursor"]?.stringValue)
            let sent = try await h.call("POST", "/send", json: ["to": [["email": "tom@example.com"]], "subject": "Direct", "body": "hi"], headers: auth)
            #expect(sent.status == 200, "\(sent.text)")
            #expect(sent.json?["object"]?.stringValue == "message")
            let noRecipients = try await h.call("POST", "/send", json: ["subject": "x"], headers: auth)
            #expect(noRecipients.status == 402)
            let d = try await h.call("POST", "/drafts", json: ["to": [["email": "tom@example.com"]], "subject": "Draft"], headers: auth)
            let draftID = try #require(d.json?["id"]?.stringValue)
            #expect(d.json?["version"]?.intValue == 0)
            let v1 = try await h.call("PUT", "/drafts/\(draftID)", json: ["subject": "Draft 2", "version": 0], headers: auth)
            #expect(v1.json?["version"]?.intValue == 1)
            let stale = try await h.call("PUT", "/drafts/\(draftID)", json: ["subject": "Draft 3", "version": 0], headers: auth)
            #expect(stale.status == 409)
            #expect(try await h.call("PUT", "/drafts/\(draftID)", json: ["subject": "x"], headers: auth).status == 400)
            let sentDraft = try await h.call("POST", "/send", json: ["draft_id": .string(draftID), "version": 1], headers: auth)
            #expect(sentDraft.json?["subject"]?.stringValue == "Draft 2")
            #expect(try await h.call("GET", "/drafts/\(draftID)", headers: auth).status == 404)
            // Files: multipart upload, download, delete.
            let boundary = "XyZ"
            let body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\nContent-Type: text/plain\r\n\r\nhello world\r\n--\(boundary)--\r\n"
            let up = try await h.raw("POST", "/files", body: Array(body.utf8),
                                     headers: auth.merging(["Content-Type": "multipart/form-data; boundary=\(boundary)"]) { a, _ in a })
            let file = try #require(up.json?.arrayValue?.first)
            #expect(file["size"]?.intValue == 11)
            let fid = try #require(file["id"]?.stringValue)
            #expect(try await h.call("GET", "/files/\(fid)/download", headers: auth).text == "hello world")
            let withFile = try await h.call("POST", "/send", json: ["to": [["email": "tom@example.com"]], "subject": "With file",
                                                                    "file_ids": [.string(fid)]], headers: auth)
            #expect(withFile.json?["files"]?.arrayValue?.first?["filename"]?.stringValue == "hello.txt")
            // Reference §6.5: a file that is an attachment of an existing message is not deleted.
            let refused = try await h.call("DELETE", "/files/\(fid)", headers: auth)
            #expect(refused.status == 400 && refused.json?["message"]?.stringValue == "Can't delete file that is attachment.", "\(refused.text)")
            #expect(try await h.call("GET", "/files/\(fid)", headers: auth).status == 200, "nothing was deleted")
            let sentAttachment = try #require(withFile.json?["files"]?.arrayValue?.first?["id"]?.stringValue)
            #expect(try await h.call("DELETE", "/files/\(sentAttachment)", headers: auth).status == 400)
            // GET /files lists the uploaded files and the attachments of messages.
            let files = try await h.call("GET", "/files", headers: auth).json?.arrayValue ?? []
            #expect(files.contains { $0["id"]?.stringValue == fid })
            #expect(files.contains { $0["id"]?.stringValue == sentAttachment && $0["message_ids"]?.arrayValue?.isEmpty == false })
            // A draft's files are full file objects with their IDs; a file not yet sent can be deleted.
            let up2 = try await h.raw("POST", "/files", body: Array(body.utf8),
                                      headers: auth.merging(["Content-Type": "multipart/form-data; boundary=\(boundary)"]) { a, _ in a })
            let fid2 = try #require(up2.json?.arrayValue?.first?["id"]?.stringValue)
            let draftWithFile = try await h.call("POST", "/drafts", json: ["subject": "Has a file", "file_ids": [.string(fid2)]], headers: auth)
            let draftFile = try #require(draftWithFile.json?["files"]?.arrayValue?.first)
            #expect(draftFile["id"]?.stringValue == fid2 && draftFile["object"]?.stringValue == "file" && draftFile["size"]?.intValue == 11,
                    "\(draftWithFile.text)")
            let draftID2 = try #require(draftWithFile.json?["id"]?.stringValue)
            #expect(try await h.call("DELETE", "/drafts/\(draftID2)", json: ["version": 0], headers: auth).status == 200)
            #expect(try await h.call("DELETE", "/files/\(fid2)", headers: auth).status == 200)
            // Delta: the sent messages appear after the cursor.
            let delta = try await h.call("GET", "/delta?cursor=\(cursor)", headers: auth)
            let deltas = delta.json?["deltas"]?.arrayValue ?? []
            #expect(deltas.contains { $0["object"]?.stringValue == "message" && $0["event"]?.stringValue == "create" })
            #expect(delta.json?["cursor_end"]?.stringValue != cursor)
            #expect(try await h.call("GET", "/delta?cursor=bogus", headers: auth).status == 400)
            #expect(try await h.call("GET", "/delta?cursor=\(cursor)&include_types=message&exclude_types=contact", headers: auth).status == 400)
            // Long-poll answers when a change arrives.
            let end = try #require(delta.json?["cursor_end"]?.stringValue)
            async let poll = h.call("GET", "/delta/longpoll?cursor=\(end)&timeout=60", headers: auth)
            try await Task.sleep(for: .milliseconds(100))
            _ = try h.sim.deliverMail(to: "sue@gmail.com", from: "z@example.com", subject: "Wake up")
            let woke = try await poll
            #expect(woke.json?["deltas"]?.arrayValue?.first?["attributes"]?["subject"]?.stringValue == "Wake up")
        }
    }

    /// Reference nylas-v2.md §6.12: the delta log covers every object type, and `include_types` /
    /// `exclude_types` select among them.
    @Test("Delta covers messages, threads, labels, drafts, files, contacts, events and calendars")
    func deltaEveryType() async throws {
        try await withSimulator { h in
            let (_, token) = try await connect(h, email: "all.types@gmail.com")
            let auth = ["Authorization": "Bearer \(token)"]
            let cursor = try #require(try await h.call("POST", "/delta/latest_cursor", headers: auth).json?["cursor"]?.stringValue)
            _ = try h.sim.deliverMail(to: "all.types@gmail.com", from: "a@example.org", subject: "Mail")
            let draft = try await h.call("POST", "/drafts", json: ["subject": "Draft"], headers: auth)
            let draftID = try #require(draft.json?["id"]?.stringValue)
            _ = try await h.call("PUT", "/drafts/\(draftID)", json: ["subject": "Draft 2", "version": 0], headers: auth)
            let boundary = "B"
            let body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhi\r\n--\(boundary)--\r\n"
            _ = try await h.raw("POST", "/files", body: Array(body.utf8), headers: auth.merging(["Content-Type": "multipart/form-data; boundary=B"]) { a, _ in a })
            _ = try await h.call("POST", "/labels", json: ["display_name": "Projects"], headers: auth)
            _ = try await h.call("POST", "/contacts", json: ["given_name": "Ada"], headers: auth)
            let calendars = try await h.call("GET", "/calendars", headers: auth).json?.arrayValue ?? []
            let writable = try #require(calendars.first { $0["read_only"] == false }?["id"]?.stringValue)
            _ = try await h.call("POST", "/events", json: ["calendar_id": .string(writable), "title": "Meet",
                                                           "when": ["start_time": 1767700000, "end_time": 1767703600]], headers: auth)
            _ = try await h.call("DELETE", "/drafts/\(draftID)", json: ["version": 1], headers: auth)
            let delta = try await h.call("GET", "/delta?cursor=\(cursor)", headers: auth)
            #expect(delta.status == 200, "\(delta.text)")
            let deltas = delta.json?["deltas"]?.arrayValue ?? []
            let kinds = Set(deltas.compactMap { $0["object"]?.stringValue })
            #expect(kinds.isSuperset(of: ["message", "thread", "label", "draft", "file", "contact", "event"]), "\(kinds)")
            #expect(deltas.filter { $0["object"] == "draft" }.compactMap { $0["event"]?.stringValue } == ["create", "modify", "delete"])
            #expect(deltas.first { $0["object"] == "file" }?["attributes"]?["filename"] == "a.txt")
            let onlyDrafts = try await h.call("GET", "/delta?cursor=\(cursor)&include_types=draft,file", headers: auth)
            #expect(Set(onlyDrafts.json?["deltas"]?.arrayValue?.compactMap { $0["object"]?.stringValue } ?? []) == ["draft", "file"])
            let noMail = try await h.call("GET", "/delta?cursor=\(cursor)&exclude_types=message,thread", headers: auth)
            #expect(noMail.json?["deltas"]?.arrayValue?.contains { ["message", "thread"].contains($0["object"]?.stringValue ?? "") } == false)
        }
    }
}
