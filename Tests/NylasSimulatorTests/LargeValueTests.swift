import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore

/// Bodies and attachment contents of 64 KiB or more live beside the databases (`LargeValues`):
/// one copy for the provider world and the region's view, read back whole, searchable, durable
/// with `--data-dir`, dropped when no row names them.
@Suite("Large values kept out of line")
struct LargeValueTests {
    static func storageClass(_ h: SimHarness, world: Bool, _ sql: String) -> String {
        h.sim.core.withState { s in
            let db = world ? s.world.db : s.store(.us).db
            return (try? db.first(sql)?.string("t")) ?? "none"
        }
    }

    static let largeBody = "<p>" + String(repeating: "lorem ipsum ", count: 20_000) + "needle-7c1 tail</p>"

    @Test("A 240 KB body is one copy for world and region, reads back whole, is found by search, keeps its metadata")
    func bodyOutOfLine() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "large.body@gmail.com", provider: "google")
            let sent = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken, json: [
                "to": [["email": "someone@example.com"]], "subject": "Large", "body": .string(Self.largeBody),
                "metadata": ["project": "big"]])
            #expect(sent.status == 200, "\(sent.text.prefix(300))")
            let id = try #require(sent.data?["id"]?.stringValue)
            // Both rows hold a reference, and the one value is kept once.
            #expect(Self.storageClass(h, world: true, "SELECT typeof(body) AS t FROM messages WHERE subject = 'Large'") == "blob")
            #expect(Self.storageClass(h, world: false, "SELECT typeof(body) AS t FROM messages WHERE subject = 'Large'") == "blob")
            #expect(h.sim.core.withState { $0.large.bytes } == Self.largeBody.utf8.count)

            let got = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(id)", token: g.accessToken)
            #expect(got.data?["body"]?.stringValue == Self.largeBody)
            #expect(got.data?["metadata"]?["project"]?.stringValue == "big")
            #expect(got.data?["snippet"]?.stringValue?.hasPrefix("lorem ipsum") == true)

            let found = try await h.call("GET", "/v3/grants/\(g.id)/messages?search_query_native=needle-7c1", token: g.accessToken)
            #expect(found.data?.arrayValue?.compactMap { $0["id"]?.stringValue } == [id])
            let none = try await h.call("GET", "/v3/grants/\(g.id)/messages?search_query_native=needle-absent", token: g.accessToken)
            #expect(found.status == 200 && none.data?.arrayValue?.isEmpty == true)

            // A change of flags saves the row again without keeping the body a second time.
            #expect(try await h.call("PUT", "/v3/grants/\(g.id)/messages/\(id)", token: g.accessToken, json: ["unread": true]).status == 200)
            #expect(h.sim.core.withState { $0.large.bytes } == Self.largeBody.utf8.count)
            // A small body stays in its row.
            _ = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken, json: [
                "to": [["email": "someone@example.com"]], "subject": "Small", "body": "short"])
            #expect(Self.storageClass(h, world: false, "SELECT typeof(body) AS t FROM messages WHERE subject = 'Small'") == "text")
        }
    }

    @Test("A value written by a transaction that rolled back is collected; the values rows name are kept")
    func collection() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "keep@gmail.com", provider: "google")
            try h.sim.deliverMail(to: "keep@gmail.com", from: "a@example.com", subject: "Kept", body: Self.largeBody)
            let kept = Self.largeBody.utf8.count
            #expect(h.sim.core.withState { $0.large.bytes } == kept)
            let other = Self.largeBody + "<p>another</p>"
            struct Abort: Error {}
            #expect(throws: Abort.self) {
                try h.sim.core.transaction { s in
                    _ = try s.world.insert(NewMessage(from: [Participant(name: "", email: "b@example.com")],
                                                      to: [Participant(name: "", email: "keep@gmail.com")],
                                                      subject: "Rolled back", body: other, date: s.now.seconds),
                                           mailbox: "keep@gmail.com", time: s.now)
                    throw Abort()
                }
            }
            #expect(h.sim.core.withState { $0.large.bytes } == kept + other.utf8.count)
            try h.sim.core.withState { try $0.collectLargeValues() }
            #expect(h.sim.core.withState { $0.large.bytes } == kept)
            let list = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken)
            #expect(list.data?.arrayValue?.first?["body"]?.stringValue == Self.largeBody)
        }
    }

    @Test("With --data-dir a large body and attachment survive a restart; a file no row names is removed at start")
    func durable() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nylas-sim-large-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let content = [UInt8]((0..<300_000).map { UInt8($0 % 253) })
        let (grantID, token, messageID, attachmentID) = try await withSimulator(seed: "large", configure: { $0.dataDirectory = dir }) { h in
            let g = try h.sim.createGrant(email: "durable@gmail.com", provider: "google")
            let sent = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: g.accessToken, json: [
                "to": [["email": "someone@example.com"]], "subject": "Durable", "body": .string(Self.largeBody),
                "attachments": [["filename": "data.bin", "content_type": "application/octet-stream",
                                 "content": .string(Data(content).base64EncodedString())]]])
            #expect(sent.status == 200, "\(sent.text.prefix(300))")
            return (g.id, g.accessToken, sent.data?["id"]?.stringValue ?? "", sent.data?["attachments"]?.arrayValue?.first?["id"]?.stringValue ?? "")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/large")
        #expect(files.count == 2, "\(files)")
        FileManager.default.createFile(atPath: dir + "/large/00000000-0000-0000-0000-000000000000", contents: Data("tstray".utf8))
        try await withSimulator(seed: "large", configure: { $0.dataDirectory = dir }) { h in
            let got = try await h.call("GET", "/v3/grants/\(grantID)/messages/\(messageID)", token: token)
            #expect(got.status == 200, "\(got.text.prefix(300))")
            #expect(got.data?["body"]?.stringValue == Self.largeBody)
            let enc = QueryParameters.encode(attachmentID)
            let dl = try await h.call("GET", "/v3/grants/\(grantID)/attachments/\(enc)/download?message_id=\(messageID)", token: token)
            #expect(dl.status == 200)
            #expect(dl.body == content)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/large/00000000-0000-0000-0000-000000000000"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/large").count == 2)
    }
}
