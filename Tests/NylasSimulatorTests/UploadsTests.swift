import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

/// Attachment upload sessions (§4.12) and smart compose (§4.8) over real sockets: the upload
/// round trip to a sent message, every refusal (which changes nothing), expiry on the virtual
/// clock, and both smart-compose forms with their JSON and event-stream answers.
@Suite("v3 attachment upload sessions and smart compose", .serialized)
struct UploadsTests {
    // MARK: Helpers

    func enc(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// `POST …/attachment-uploads`; the session object on 201.
    func createSession(_ h: SimHarness, _ g: GrantInfo, _ body: JSON) async throws -> HTTPClient.Response {
        try await h.call("POST", "/v3/grants/\(g.id)/attachment-uploads", token: g.accessToken, json: body)
    }

    func session(_ h: SimHarness, _ g: GrantInfo, filename: String = "report.pdf", type: String = "application/pdf",
                 size: Int? = nil) async throws -> JSON {
        var body: JSON = ["filename": .string(filename), "content_type": .string(type)]
        if let size { body["size"] = .int(size) }
        let r = try await createSession(h, g, body)
        #expect(r.status == 201, "\(r.text)")
        return try #require(r.data)
    }

    func put(_ h: SimHarness, _ url: String, _ bytes: [UInt8]) async throws -> HTTPClient.Response {
        try await h.client.send("PUT", url, headers: ["Content-Type": "application/octet-stream"], body: bytes)
    }

    func complete(_ h: SimHarness, _ g: GrantInfo, _ id: String) async throws -> HTTPClient.Response {
        try await h.call("POST", "/v3/grants/\(g.id)/attachment-uploads/\(id)/complete", token: g.accessToken)
    }

    /// A ready session holding `bytes`.
    func ready(_ h: SimHarness, _ g: GrantInfo, _ bytes: [UInt8], filename: String = "big.bin") async throws -> String {
        let s = try await session(h, g, filename: filename, type: "application/octet-stream", size: bytes.count)
        #expect(try await put(h, s["url"]!.stringValue!, bytes).status == 200)
        #expect(try await complete(h, g, s["attachment_id"]!.stringValue!).status == 200)
        return s["attachment_id"]!.stringValue!
    }

    /// The stored session row (status and bytes), straight from the region database.
    func row(_ h: SimHarness, _ id: String) throws -> (status: String, size: Int?)? {
        try h.sim.core.withState { s in
            try s.store(.us).db.first("SELECT status, length(content) AS n FROM attachment_uploads WHERE id = ?", id)
                .map { ($0.string("status"), $0.optionalInt("n")) }
        }
    }

    func sessionCount(_ h: SimHarness) throws -> Int {
        try h.sim.core.withState { s in try s.store(.us).db.first("SELECT COUNT(*) AS n FROM attachment_uploads")?.int("n") ?? 0 }
    }

    func allMessages(_ h: SimHarness, _ g: GrantInfo) async throws -> Int {
        let r = try await h.call("GET", "/v3/grants/\(g.id)/messages?limit=200", token: g.accessToken)
        #expect(r.status == 200, "\(r.text)")
        return r.data?.arrayValue?.count ?? -1
    }

    // MARK: Upload sessions

    @Test("Create, PUT to the pre-signed URL, complete, send with {id}: the sent attachment downloads with the same bytes")
    func roundTrip() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "mia@outlook.com", provider: "microsoft")
            let bytes: [UInt8] = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let now = h.sim.now.seconds
            let r = try await createSession(h, g, ["filename": "deck.pdf", "content_type": "application/pdf", "size": .int(bytes.count)])
            #expect(r.status == 201, "\(r.text)")
            #expect(r.json?["request_id"]?.stringValue?.isEmpty == false)
            let s = try #require(r.data)
            let id = try #require(s["attachment_id"]?.stringValue)
            #expect(UUID(uuidString: id) != nil)
            #expect(s["method"]?.stringValue == "PUT")
            #expect(s["headers"] == .object([:]))
            #expect(s["expires_at"]?.stringValue == V3UploadRoutes.rfc3339(now + 3600))
            #expect(s["expires_at"]?.stringValue?.hasSuffix("Z") == true)
            #expect(s["max_size"]?.intValue == 157_286_400)
            #expect(s["size"]?.intValue == bytes.count)
            #expect(s["content_type"]?.stringValue == "application/pdf")
            #expect(s["filename"]?.stringValue == "deck.pdf")
            #expect(s["grant_id"]?.stringValue == g.id)
            let url = try #require(s["url"]?.stringValue)
            #expect(url.hasPrefix(h.sim.baseURL(.us).absoluteString + "/__sim/uploads/\(id)?signature="), "\(url)")
            #expect(try row(h, id)?.status == "uploading")

            // The bytes go to the URL with no Authorization header.
            let up = try await put(h, url, bytes)
            #expect(up.status == 200, "\(up.text)")
            #expect(try row(h, id)?.size == bytes.count)

            let done = try await complete(h, g, id)
            #expect(done.status == 200, "\(done.text)")
            #expect(done.json?["request_id"]?.stringValue?.isEmpty == false)
            #expect(done.data == ["attachment_id": .string(id), "grant_id": .string(g.id), "status": "ready"])
            #expect(try row(h, id)?.status == "ready")

            // Send, with one inline attachment besides the uploaded one.
            let sent = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken, json: [
                "to": [["email": "zed@example.com"]], "subject": "The deck", "body": "Attached",
                "attachments": [["id": .string(id)],
                                ["filename": "note.txt", "content_type": "text/plain", "content": .string(Data("hi".utf8).base64EncodedString())]]])
            #expect(sent.status == 200, "\(sent.text)")
            let message = try #require(sent.data)
            let mid = try #require(message["id"]?.stringValue)
            let atts = message["attachments"]?.arrayValue ?? []
            #expect(atts.count == 2)
            let att = try #require(atts.first { $0["filename"]?.stringValue == "deck.pdf" })
            #expect(att["content_type"]?.stringValue == "application/pdf")
            #expect(att["size"]?.intValue == bytes.count)
            let aid = try #require(att["id"]?.stringValue)
            let dl = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(aid))/download?message_id=\(enc(mid))", token: g.accessToken)
            #expect(dl.status == 200, "\(dl.text)")
            #expect(dl.body == bytes)
            let meta = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(aid))?message_id=\(enc(mid))", token: g.accessToken)
            #expect(meta.data?["filename"]?.stringValue == "deck.pdf")
            #expect(meta.data?["size"]?.intValue == bytes.count)

            // A draft takes the same reference (until the session expires), and sends it.
            let draft = try await h.call("POST", "/v3/grants/\(g.id)/drafts", token: g.accessToken, json: [
                "to": [["email": "zed@example.com"]], "subject": "Draft deck", "attachments": [["id": .string(id)]]])
            #expect(draft.status == 200, "\(draft.text)")
            let datt = try #require(draft.data?["attachments"]?.arrayValue?.first)
            #expect(datt["filename"]?.stringValue == "deck.pdf")
            #expect(datt["size"]?.intValue == bytes.count)
            let did = try #require(draft.data?["id"]?.stringValue)
            let dsent = try await h.call("POST", "/v3/grants/\(g.id)/drafts/\(enc(did))", token: g.accessToken)
            #expect(dsent.status == 200, "\(dsent.text)")
            let dmid = try #require(dsent.data?["id"]?.stringValue)
            let daid = try #require(dsent.data?["attachments"]?.arrayValue?.first?["id"]?.stringValue)
            let ddl = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(daid))/download?message_id=\(enc(dmid))", token: g.accessToken)
            #expect(ddl.body == bytes)
        }
    }

    @Test("Create: Microsoft only (401 naming Microsoft), filename and content_type required, size within 1...150 MB; refusals store nothing")
    func createErrors() async throws {
        try await withSimulator { h in
            let ms = try h.sim.createGrant(email: "mia@outlook.com", provider: "microsoft")
            for provider in ["google", "imap", "yahoo", "icloud", "ews"] {
                let g = try h.sim.createGrant(email: "user-\(provider)@example.com", provider: provider)
                let r = try await createSession(h, g, ["filename": "a.pdf", "content_type": "application/pdf"])
                #expect(r.status == 401, "\(provider): \(r.text)")
                #expect(r.json?["error"]?["message"]?.stringValue?.contains("Microsoft") == true, "\(r.text)")
            }
            let bad: [(JSON, String)] = [
                (["content_type": "application/pdf"], "filename"),
                (["filename": "", "content_type": "application/pdf"], "filename"),
                (["filename": "a.pdf"], "content_type"),
                (["filename": 5, "content_type": "application/pdf"], "filename"),
                (["filename": "a.pdf", "content_type": "application/pdf", "size": 0], "size"),
                (["filename": "a.pdf", "content_type": "application/pdf", "size": -3], "size"),
                (["filename": "a.pdf", "content_type": "application/pdf", "size": 157_286_401], "157286400"),
                (["filename": "a.pdf", "content_type": "application/pdf", "size": "12"], "size"),
            ]
            for (body, named) in bad {
                let r = try await createSession(h, ms, body)
                #expect(r.status == 400, "\(body): \(r.text)")
                #expect(r.json?["error"]?["message"]?.stringValue?.contains(named) == true, "\(body): \(r.text)")
            }
            let raw = try await h.raw("POST", "/v3/grants/\(ms.id)/attachment-uploads", token: ms.accessToken, body: Array("{nope".utf8),
                                      headers: ["Content-Type": "application/json"])
            #expect(raw.status == 400)
            #expect(try sessionCount(h) == 0)

            // size is optional: 0 in the answer, the size check skipped at complete.
            let s = try await session(h, ms)
            #expect(s["size"]?.intValue == 0)
            #expect(try await put(h, s["url"]!.stringValue!, [1, 2, 3]).status == 200)
            #expect(try await complete(h, ms, s["attachment_id"]!.stringValue!).status == 200)
            // Exactly the maximum is allowed.
            #expect(try await createSession(h, ms, ["filename": "max.bin", "content_type": "x/y", "size": 157_286_400]).status == 201)
        }
    }

    @Test("PUT: a wrong or missing signature is 403, an unknown session 404, over max_size 413, a ready session 409; none changes the session")
    func uploadErrors() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "mia@outlook.com", provider: "microsoft")
            let s = try await session(h, g, size: 4)
            let id = s["attachment_id"]!.stringValue!
            let url = s["url"]!.stringValue!
            let base = String(url.prefix { $0 != "?" })

            let wrong = try await put(h, base + "?signature=" + String(repeating: "0", count: 64), [1, 2, 3, 4])
            #expect(wrong.status == 403, "\(wrong.text)")
            #expect(wrong.json?["error"]?["message"]?.stringValue?.contains("signature") == true)
            #expect(try await put(h, base, [1, 2, 3, 4]).status == 403)
            // The signature of one session does not open another.
            let other = try await session(h, g, size: 4)
            let otherSig = String(other["url"]!.stringValue!.split(separator: "?")[1])
            #expect(try await put(h, base + "?" + otherSig, [1, 2, 3, 4]).status == 403)
            let unknown = try await put(h, h.url(.us, "/__sim/uploads/00000000-0000-0000-0000-000000000000?signature=x"), [1])
            #expect(unknown.status == 404, "\(unknown.text)")
            #expect(try row(h, id)?.size == nil)
            #expect(try row(h, id)?.status == "uploading")

            // Over 150 MB: the session's own limit (in process; the listener's default body limit is 25 MB).
            let huge = SimRequest(method: "PUT", target: String(url.dropFirst(h.sim.baseURL(.us).absoluteString.count)),
                                  body: [UInt8](repeating: 0, count: V3UploadRoutes.maxSize + 1))
            let tooBig = await h.sim.send(huge)
            #expect(tooBig.status == 413, "\(tooBig.text)")
            #expect(try row(h, id)?.size == nil)

            // A second PUT replaces the first; after complete the URL is closed.
            #expect(try await put(h, url, [9, 9]).status == 200)
            #expect(try await put(h, url, [1, 2, 3, 4]).status == 200)
            #expect(try await complete(h, g, id).status == 200)
            let late = try await put(h, url, [5, 5, 5, 5, 5])
            #expect(late.status == 409, "\(late.text)")
            #expect(try row(h, id)?.size == 4)
        }
    }

    @Test("Complete: 404 unknown or another grant's, 422 nothing uploaded (still uploading), 422 size mismatch (then failed: 409), 409 twice")
    func completeErrors() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "mia@outlook.com", provider: "microsoft")
            let g2 = try h.sim.createGrant(email: "noa@outlook.com", provider: "microsoft")
            let unknown = try await complete(h, g, "00000000-0000-0000-0000-000000000000")
            #expect(unknown.status == 404, "\(unknown.text)")

            let s = try await session(h, g, size: 5)
            let id = s["attachment_id"]!.stringValue!
            let url = s["url"]!.stringValue!
            let foreign = try await complete(h, g2, id)
            #expect(foreign.status == 404)
            let early = try await complete(h, g, id)
            #expect(early.status == 422, "\(early.text)")
            #expect(try row(h, id)?.status == "uploading")

            // A JSON `{}` body (what the Python SDK sends) and an empty body are both accepted.
            #expect(try await put(h, url, [1, 2, 3, 4, 5]).status == 200)
            let ok = try await h.call("POST", "/v3/grants/\(g.id)/attachment-uploads/\(id)/complete", token: g.accessToken, json: [:])
            #expect(ok.status == 200, "\(ok.text)")
            let twice = try await complete(h, g, id)
            #expect(twice.status == 409, "\(twice.text)")
            #expect(twice.json?["error"]?["message"]?.stringValue == "upload session is already complete")

            let m = try await session(h, g, size: 10)
            let mid = m["attachment_id"]!.stringValue!
            #expect(try await put(h, m["url"]!.stringValue!, [1, 2, 3]).status == 200)
            let mismatch = try await complete(h, g, mid)
            #expect(mismatch.status == 422, "\(mismatch.text)")
            #expect(mismatch.json?["error"]?["message"]?.stringValue?.contains("does not match") == true)
            #expect(try row(h, mid)?.status == "failed")
            #expect(try await complete(h, g, mid).status == 409)
            #expect(try await put(h, m["url"]!.stringValue!, Array(repeating: 0, count: 10)).status == 409)
        }
    }

    @Test("Expiry on the virtual clock: PUT and complete answer 410 an hour on, and a ready session can no longer be sent")
    func expiry() async throws {
        try await withSimulator { h in
            // The application's API key: a grant's access token itself expires after an hour.
            let created = try h.sim.createGrant(email: "mia@outlook.com", provider: "microsoft")
            let g = GrantInfo(id: created.id, email: created.email, provider: created.provider, accessToken: h.apiKey, refreshToken: nil)
            let open = try await session(h, g, size: 3)
            let openID = open["attachment_id"]!.stringValue!
            let readyID = try await ready(h, g, [1, 2, 3])

            await h.sim.advance(by: .seconds(3599))
            #expect(try await put(h, open["url"]!.stringValue!, [1, 2, 3]).status == 200)

            await h.sim.advance(by: .seconds(2))
            let late = try await put(h, open["url"]!.stringValue!, [1, 2, 3])
            #expect(late.status == 410, "\(late.text)")
            let done = try await complete(h, g, openID)
            #expect(done.status == 410, "\(done.text)")
            #expect(done.json?["error"]?["message"]?.stringValue == "upload session has expired")

            let before = try await allMessages(h, g)
            let send = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken, json: [
                "to": [["email": "zed@example.com"]], "subject": "Too late", "attachments": [["id": .string(readyID)]]])
            #expect(send.status == 400, "\(send.text)")
            #expect(send.json?["error"]?["message"]?.stringValue?.contains(readyID) == true)
            #expect(send.json?["error"]?["message"]?.stringValue?.contains("expired") == true)
            #expect(try await allMessages(h, g) == before)

            // A new session starts a fresh hour from the advanced clock.
            let fresh = try await session(h, g)
            #expect(fresh["expires_at"]?.stringValue == V3UploadRoutes.rfc3339(h.sim.now.seconds + 3600))
        }
    }

    @Test("Send and drafts refuse {id} of an unknown, unfinished, failed or other grant's session, naming it, and send nothing")
    func sendErrors() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "mia@outlook.com", provider: "microsoft")
            let g2 = try h.sim.createGrant(email: "noa@outlook.com", provider: "microsoft")
            let unfinished = try await session(h, g, size: 2)["attachment_id"]!.stringValue!
            let foreign = try await ready(h, g2, [4, 2])
            let failedSession = try await session(h, g, size: 9)
            #expect(try await put(h, failedSession["url"]!.stringValue!, [1]).status == 200)
            #expect(try await complete(h, g, failedSession["attachment_id"]!.stringValue!).status == 422)
            let good = try await ready(h, g, [7, 7, 7])
            let before = try await allMessages(h, g)
            for bad in ["6d1f3b51-0000-4000-8000-000000000000", unfinished, foreign, failedSession["attachment_id"]!.stringValue!] {
                let send = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken, json: [
                    "to": [["email": "zed@example.com"]], "subject": "Nope", "attachments": [["id": .string(good)], ["id": .string(bad)]]])
                #expect(send.status == 400, "\(send.text)")
                let message = send.json?["error"]?["message"]?.stringValue ?? ""
                #expect(message.contains(bad) && message.contains("attachments[1].id"), "\(message)")
                let draft = try await h.call("POST", "/v3/grants/\(g.id)/drafts", token: g.accessToken, json: [
                    "subject": "Nope", "attachments": [["id": .string(bad)]]])
                #expect(draft.status == 400, "\(draft.text)")
            }
            #expect(try await allMessages(h, g) == before)
            let drafts = try await h.call("GET", "/v3/grants/\(g.id)/drafts", token: g.accessToken)
            #expect(drafts.data?.arrayValue?.isEmpty == true)
            #expect(try row(h, good)?.status == "ready")
            #expect(try row(h, unfinished)?.status == "uploading")
        }
    }

    // MARK: Smart compose

    @Test("Smart compose: a deterministic suggestion from the prompt, for grants of every provider")
    func compose() async throws {
        try await withSimulator { h in
            var first: String?
            for provider in ["microsoft", "google", "imap", "yahoo", "icloud", "ews"] {
                let g = try h.sim.createGrant(email: "writer-\(provider)@example.com", provider: provider)
                let r = try await h.call("POST", "/v3/grants/\(g.id)/messages/smart-compose", token: g.accessToken,
                                         json: ["prompt": "tell the team   the launch moved to Friday"])
                #expect(r.status == 200, "\(provider): \(r.text)")
                #expect(r.json?["request_id"]?.stringValue?.isEmpty == false)
                let suggestion = try #require(r.data?["suggestion"]?.stringValue)
                #expect(suggestion.contains("Tell the team the launch moved to Friday."), "\(suggestion)")
                #expect(r.data?.objectValue?.keys.sorted() == ["suggestion"])
                if let first { #expect(suggestion == first) } else { first = suggestion }
            }
            #expect(first == """
                Hello,

                I am writing about the following: Tell the team the launch moved to Friday.

                Please let me know if you have any questions.

                Best regards,
                [Your Name]
                """)
        }
    }

    @Test("Smart compose reply: quotes the subject and greets the sender; 404 for an unknown message")
    func reply() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "mia@outlook.com", provider: "microsoft")
            try h.sim.deliverMail(to: "mia@outlook.com", from: "jordan@example.com", subject: "Budget review", body: "Can we meet?")
            await h.sim.settle()
            let list = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken)
            let mid = try #require(list.data?.arrayValue?.first?["id"]?.stringValue)
            let r = try await h.call("POST", "/v3/grants/\(g.id)/messages/\(enc(mid))/smart-compose", token: g.accessToken,
                                     json: ["prompt": "accept and propose Tuesday at 10"])
            #expect(r.status == 200, "\(r.text)")
            let suggestion = try #require(r.data?["suggestion"]?.stringValue)
            #expect(suggestion == """
                Hi jordan@example.com,

                Thank you for your message about "Budget review". Accept and propose Tuesday at 10.

                Best regards,
                [Your Name]
                """)
            let again = try await h.call("POST", "/v3/grants/\(g.id)/messages/\(enc(mid))/smart-compose", token: g.accessToken,
                                         json: ["prompt": "accept and propose Tuesday at 10"])
            #expect(again.data?["suggestion"]?.stringValue == suggestion)

            let missing = try await h.call("POST", "/v3/grants/\(g.id)/messages/nope-123/smart-compose", token: g.accessToken,
                                           json: ["prompt": "hi"])
            #expect(missing.status == 404, "\(missing.text)")
        }
    }

    @Test("Smart compose refuses a missing, empty, non-string or over-1000-character prompt with a 400 naming prompt")
    func composeErrors() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "writer@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/messages/smart-compose"
            let bodies: [JSON] = [[:], ["prompt": ""], ["prompt": .null], ["prompt": 42], ["prompt": ["a"]],
                                  ["prompt": .string(String(repeating: "é", count: 1001))], ["text": "hello"]]
            for body in bodies {
                let r = try await h.call("POST", path, token: g.accessToken, json: body)
                #expect(r.status == 400, "\(body): \(r.text)")
                #expect(r.json?["error"]?["message"]?.stringValue?.contains("prompt") == true, "\(body): \(r.text)")
            }
            let empty = try await h.raw("POST", path, token: g.accessToken, body: [])
            #expect(empty.status == 400)
            #expect(empty.errorType == "prompt_required_error")
            let exact = try await h.call("POST", path, token: g.accessToken, json: ["prompt": .string(String(repeating: "é", count: 1000))])
            #expect(exact.status == 200)
            let noAuth = try await h.call("POST", path, json: ["prompt": "hi"])
            #expect(noAuth.status == 401)
        }
    }

    @Test("Smart compose with Accept: text/event-stream answers the same suggestion in a few data: chunks")
    func composeStream() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "writer@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/messages/smart-compose"
            let plain = try await h.call("POST", path, token: g.accessToken, json: ["prompt": "thank Sam for the notes"])
            let expected = try #require(plain.data?["suggestion"]?.stringValue)
            let r = try await h.call("POST", path, token: g.accessToken, json: ["prompt": "thank Sam for the notes"],
                                     headers: ["Accept": "text/event-stream"])
            #expect(r.status == 200)
            #expect(r.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            let events = r.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.count >= 2 && events.count <= 4, "\(r.text)")
            var joined = ""
            for e in events {
                #expect(e.hasPrefix("data: "), "\(e)")
                let payload = try #require(JSON.parse(string: String(e.dropFirst(6))))
                joined += try #require(payload["suggestion"]?.stringValue)
            }
            #expect(joined == expected)
        }
    }
}
