import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
import NylasSimulatorTesting

/// The count limits of `InputLimits` over real sockets: each request one over a limit is a 400
/// naming the field and stores nothing; the request at the limit is accepted.
@Suite("Count limits on request input")
struct InputLimitTests {
    func recipients(_ n: Int) -> JSON { .array((0..<n).map { ["email": .string("r\($0)@example.com")] }) }

    func messageCount(_ h: SimHarness, _ g: GrantInfo) async throws -> Int {
        let r = try await h.call("GET", "/v3/grants/\(g.id)/messages?limit=200", token: g.accessToken)
        return r.data?.arrayValue?.count ?? -1
    }

    @Test("Recipients, reply-to, attachments and custom headers of a send")
    func sendLimits() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "limits@gmail.com", provider: "google")
            let before = try await messageCount(h, g)
            let path = "/v3/grants/\(g.id)/messages/send"
            let over: [(String, JSON)] = [
                ("to", ["to": recipients(300), "cc": recipients(150), "bcc": recipients(51)]),
                ("reply_to", ["to": recipients(1), "reply_to": recipients(21)]),
                ("attachments", ["to": recipients(1), "attachments": .array((0..<101).map { i in
                    ["filename": .string("f\(i).txt"), "content_type": "text/plain", "content": "aGk="] })]),
                ("custom_headers", ["to": recipients(1), "custom_headers": .array((0..<101).map { i in
                    ["name": .string("X-H\(i)"), "value": "v"] })]),
            ]
            for (field, body) in over {
                let r = try await h.call("POST", path, token: g.accessToken, json: body)
                #expect(r.status == 400, "\(field): \(r.text)")
                #expect(r.text.contains(field), "\(field): \(r.text)")
            }
            #expect(try await messageCount(h, g) == before, "a refused send stores nothing")
            let atLimit = try await h.call("POST", path, token: g.accessToken,
                                           json: ["to": recipients(300), "cc": recipients(150), "bcc": recipients(50), "subject": "500"])
            #expect(atLimit.status == 200, "\(atLimit.text)")
        }
    }

    @Test("Metadata: 50 pairs of at most 500 characters, on messages, events and contacts")
    func metadataLimits() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "meta@gmail.com", provider: "google")
            let sent = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken,
                                        json: ["to": recipients(1), "subject": "m"])
            let id = try #require(sent.data?["id"]?.stringValue)
            func metadata(_ n: Int, value: String = "v") -> JSON { .object(Dictionary(uniqueKeysWithValues: (0..<n).map { ("k\($0)", JSON.string(value)) })) }
            let tooMany = try await h.call("PUT", "/v3/grants/\(g.id)/messages/\(id)", token: g.accessToken, json: ["metadata": metadata(51)])
            #expect(tooMany.status == 400 && tooMany.text.contains("metadata"), "\(tooMany.text)")
            let tooLong = try await h.call("PUT", "/v3/grants/\(g.id)/messages/\(id)", token: g.accessToken,
                                           json: ["metadata": metadata(1, value: String(repeating: "x", count: 501))])
            #expect(tooLong.status == 400, "\(tooLong.text)")
            let stored = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(id)", token: g.accessToken)
            #expect(stored.data?["metadata"]?.objectValue?.isEmpty ?? true, "a refused update changes nothing")
            let ok = try await h.call("PUT", "/v3/grants/\(g.id)/messages/\(id)", token: g.accessToken, json: ["metadata": metadata(50)])
            #expect(ok.status == 200 && ok.data?["metadata"]?.objectValue?.count == 50, "\(ok.text.prefix(300))")
            let send = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken,
                                        json: ["to": recipients(1), "metadata": metadata(51)])
            #expect(send.status == 400, "\(send.text)")
            let contact = try await h.call("POST", "/v3/grants/\(g.id)/contacts", token: g.accessToken,
                                           json: ["given_name": "M", "metadata": metadata(51)])
            #expect(contact.status == 400, "\(contact.text)")
        }
    }

    @Test("Multipart bodies: at most a message and 100 files; the rest is not even read")
    func multipartParts() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "parts@gmail.com", provider: "google")
            func body(files: Int) -> [UInt8] {
                var out = Array("--b42\r\nContent-Disposition: form-data; name=\"message\"\r\nContent-Type: application/json\r\n\r\n{\"to\":[{\"email\":\"a@example.com\"}]}\r\n".utf8)
                for i in 0..<files {
                    out += Array("--b42\r\nContent-Disposition: form-data; name=\"file\(i)\"; filename=\"f\(i).txt\"\r\n\r\nx\r\n".utf8)
                }
                return out + Array("--b42--\r\n".utf8)
            }
            let path = "/v3/grants/\(g.id)/messages/send"
            let headers = ["Content-Type": "multipart/form-data; boundary=b42"]
            let over = try await h.raw("POST", path, token: g.accessToken, body: body(files: 100_000), headers: headers)
            #expect(over.status == 400 && over.text.contains("multipart"), "\(over.text)")
            let at = try await h.raw("POST", path, token: g.accessToken, body: body(files: 100), headers: headers)
            #expect(at.status == 200, "\(at.text.prefix(300))")
            #expect(at.data?["attachments"]?.arrayValue?.count == 100)
        }
    }

    @Test("List filters: any_email 25, other lists 50, metadata_pair 5")
    func listFilters() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "filters@gmail.com", provider: "google")
            func emails(_ n: Int) -> String { (0..<n).map { "a\($0)@example.com" }.joined(separator: ",") }
            let base = "/v3/grants/\(g.id)/messages?"
            for (query, ok) in [("any_email=\(emails(25))", true), ("any_email=\(emails(26))", false),
                                ("from=\(emails(50))", true), ("from=\(emails(51))", false),
                                (Array(repeating: "to=a@example.com", count: 51).joined(separator: "&"), false),
                                ((1...6).map { "metadata_pair=key1:v\($0)" }.joined(separator: "&"), false)] {
                let r = try await h.call("GET", base + query, token: g.accessToken)
                #expect(r.status == (ok ? 200 : 400), "\(query.prefix(60)): \(r.text.prefix(300))")
            }
            let v2 = try await h.call("GET", "/v3/grants/\(g.id)/drafts?any_email=\(emails(26))", token: g.accessToken)
            #expect(v2.status == 400, "\(v2.text)")
        }
    }
}
