import Foundation
import Testing
@testable import NylasSimAPI
@testable import NylasSimCore
@testable import NylasSimControl
@testable import NylasSimulator
import NylasSimulatorTesting

/// The drift check over real sockets: a client's traffic recorded through the proxy against an
/// upstream (a simulator behind a server that plants differences in some answers), the recording's
/// secrets redacted, then replayed against a fresh simulator; the report must name each planted
/// difference, and nothing else.
@Suite("Drift: record through the proxy, redact, replay, report")
struct DriftTests {
    /// A simulator behind a listener whose answers `plant` may change.
    final class Upstream: Sendable {
        let sim: Simulator
        let listener: RegionListener
        let core: Engine
        var url: String { listener.baseURL }

        init(sim: Simulator, plant: @escaping @Sendable (SimRequest, inout SimResponse) -> Void) async throws {
            self.sim = sim
            core = try Engine(options: SimulatorOptions(seed: "upstream-front")) { [sim] _, request, _, _ in
                var answer = await sim.send(request, region: .us)
                plant(request, &answer)
                return answer
            }
            listener = try await RegionListener.start(core: core, region: .us, host: "127.0.0.1", port: 0, tls: nil,
                                                      hosts: HostAllowList(extra: []), maxBodyBytes: 64 * 1024 * 1024)
        }

        func stop() async {
            await listener.stop()
            core.stopDriver()
        }
    }

    /// Edits the JSON body of an answer.
    static func edit(_ r: inout SimResponse, _ change: (inout JSON) -> Void) {
        guard var j = try? JSON.parse(r.body) else { return }
        change(&j)
        r.body = j.bytes
        r.headers["Content-Length"] = nil
    }

    /// The planted differences: (operation, kind, field).
    static let planted: Set<String> = [
        "GET /v3/grants/{grant_id}/messages|extra_key|data[].snippet",
        "GET /v3/grants/{grant_id}/folders|missing_key|data[].color_code",
        "GET /v3/grants/{grant_id}/calendars|status|",
        "POST /v3/grants/{grant_id}/messages/send|type|data.date",
        "GET /v3/grants/{grant_id}/threads|pagination|next_cursor",
        "GET /v3/grants/{grant_id}/contacts|header|retry-after",
    ]

    static func plant(_ req: SimRequest, _ r: inout SimResponse) {
        let p = req.path
        if req.method == "GET", p.hasSuffix("/messages") {
            edit(&r) { j in j["data"] = .array((j["data"]?.arrayValue ?? []).map { var m = $0; m["snippet"] = nil; return m }) }
        } else if req.method == "GET", p.hasSuffix("/folders") {
            edit(&r) { j in j["data"] = .array((j["data"]?.arrayValue ?? []).map { var f = $0; f["color_code"] = "#0F0"; return f }) }
        } else if req.method == "GET", p.hasSuffix("/calendars") {
            r = .json(["request_id": "x", "error": ["type": "provider_error", "message": "Provider request timed out."]], status: 503)
        } else if req.method == "POST", p.hasSuffix("/messages/send") {
            edit(&r) { j in j["data"]?["date"] = .string("2026-01-01T09:00:00Z") }
        } else if req.method == "GET", p.hasSuffix("/threads") {
            edit(&r) { j in j["next_cursor"] = "abc" }
        } else if req.method == "GET", p.hasSuffix("/contacts") {
            r.headers["Retry-After"] = "5"
        }
    }

    @Test("Proxy, redaction, replay with ID mapping: the report names each planted difference and nothing else")
    func plantedDifferences() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        var options = SimulatorOptions(seed: "upstream")
        options.ports = [.us: 0, .eu: 0]
        let upstreamSim = try await Simulator.start(options)
        let upstream = try await Upstream(sim: upstreamSim, plant: Self.plant)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drift-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let recording = dir + "/recording.jsonl"
        let proxy = try await DriftProxy.start(DriftProxy.Options(upstream: upstream.url, recordPath: recording))
        let client = HTTPClient()
        let key = upstreamSim.region(.us).v3.apiKey
        let grant = try upstreamSim.createGrant(email: "ann@gmail.com", provider: "google")
        let ms = try upstreamSim.createGrant(email: "max@outlook.com", provider: "microsoft")
        for i in 1...3 { _ = try upstreamSim.deliverMail(to: "ann@gmail.com", from: "friend\(i)@example.com", subject: "Hello \(i)", body: "<p>Hi \(i)</p>") }
        func call(_ method: String, _ path: String, token: String? = nil, json: JSON? = nil) async throws -> HTTPClient.Response {
            try await client.json(method, proxy.baseURL + path, json, headers: ["Authorization": "Bearer \(token ?? key)"])
        }
        let base = "/v3/grants/\(grant.id)"

        // The client's session, through the proxy.
        #expect(try await call("GET", "/v3/grants").status == 200)
        let listed = try await call("GET", "\(base)/messages?limit=10")
        #expect(listed.status == 200)
        let first = try #require(listed.json?["data"]?.arrayValue?.first?["id"]?.stringValue)
        #expect(try await call("GET", "\(base)/messages/\(first)").status == 200)
        #expect(try await call("PUT", "\(base)/messages/\(first)", json: ["unread": false]).status == 200)
        #expect(try await call("GET", "\(base)/messages/nosuchmessage").status == 404)
        #expect(try await call("GET", "\(base)/folders").status == 200)
        #expect(try await call("GET", "\(base)/calendars").status == 503)
        #expect(try await call("GET", "\(base)/threads").status == 200)
        #expect(try await call("GET", "\(base)/contacts").status == 200)
        #expect(try await call("GET", "/v3/grants/me", token: grant.accessToken).status == 200)
        let draft = try await call("POST", "\(base)/drafts", json: ["subject": "Plan", "body": "Draft", "to": [["email": "bo@example.com"]]])
        let draftID = try #require(draft.json?["data"]?["id"]?.stringValue)
        #expect(try await call("GET", "\(base)/drafts/\(draftID)").status == 200)
        let sent = try await call("POST", "\(base)/messages/send", json: ["subject": "Sent", "body": "Body", "to": [["email": "bo@example.com"]]])
        #expect(sent.status == 200)
        let hook = try await call("POST", "/v3/webhooks", json: ["trigger_types": ["message.created"], "webhook_url": .string(receiver.url)])
        let secret = try #require(hook.json?["data"]?["webhook_secret"]?.stringValue, "\(hook.text)")
        let upload = try await call("POST", "/v3/grants/\(ms.id)/attachment-uploads", json: ["filename": "a.pdf", "content_type": "application/pdf", "size": 10])
        let signedURL = try #require(upload.json?["data"]?["url"]?.stringValue, "\(upload.text)")

        // A large upload and a binary answer pass through unchanged.
        let big = [UInt8](repeating: 0x41, count: 3 * 1024 * 1024)
        let boundary = "driftBoundary"
        let form = multipartBody([
            (name: "message", filename: nil, type: "application/json",
             body: (["subject": "Big", "to": [["email": "bo@example.com"]]] as JSON).bytes),
            (name: "file0", filename: "big.bin", type: "application/octet-stream", body: big)], boundary: boundary)
        let bigSent = try await client.send("POST", proxy.baseURL + "\(base)/messages/send",
                                            headers: ["Authorization": "Bearer \(key)", "Content-Type": "multipart/form-data; boundary=\(boundary)"], body: form)
        #expect(bigSent.status == 200, "\(bigSent.text.prefix(300))")
        let attachment = try #require(bigSent.json?["data"]?["attachments"]?.arrayValue?.first)
        #expect(attachment["size"]?.intValue == big.count)
        let download = try await client.send("GET", proxy.baseURL + "\(base)/attachments/\(attachment["id"]!.stringValue!)/download?message_id=\(bigSent.json!["data"]!["id"]!.stringValue!)",
                                             headers: ["Authorization": "Bearer \(key)"])
        #expect(download.status == 200 && download.body == big)
        await proxy.stop()

        // No secret of the session survives in the recording.
        let text = try String(contentsOfFile: recording, encoding: .utf8)
        for value in [key, grant.accessToken, secret, String(signedURL.split(separator: "?").last ?? "")] {
            #expect(!text.contains(value), "a secret survived: \(value.prefix(12))…")
        }
        #expect(text.contains("Bearer <api-key>") && text.contains("Bearer <access-token>"))
        let exchanges = try DriftExchange.load(path: recording)
        #expect(exchanges.count == 17)
        #expect(exchanges.contains { $0.requestBody["bytes"]?.intValue == form.count })

        // Replay: each planted difference, and nothing else.
        let report = try await DriftCheck.run(exchanges)
        let found = Set(report.differences.map { "\($0.operation)|\($0.kind)|\($0.field)" })
        #expect(found == Self.planted, "\(report.text)")
        #expect(report.skipped.count == 2, "\(report.skipped)")  // the multipart send, and the download of its attachment
        #expect(report.junit.contains("<testcase classname=\"drift\" name=\"GET /v3/grants/{grant_id}/folders\">"))
        // An allow-list silences what it names.
        let allowed = try await DriftCheck.run(exchanges, allow: [DriftCheck.AllowRule(operation: "*", kind: "*", field: "*", reason: "all")])
        #expect(allowed.unallowed.isEmpty && allowed.differences.count == Self.planted.count)

        // The recording's mail becomes a fixture that loads.
        let written = try DriftFixtures.emit(exchanges, grants: DriftCheck.recordedGrants(exchanges), to: dir + "/fixtures")
        #expect(written == [dir + "/fixtures/ann@gmail.com.mailbox.json"])
        let fixture = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: written[0]))))
        #expect(!String(decoding: fixture.bytes, as: UTF8.self).contains("Hello"))  // texts scrubbed
        let fresh = try await Simulator.start(SimulatorOptions(seed: "fixture"))
        #expect(try fresh.loadFixture(fixture) == 3)
        await fresh.shutdown()
        await upstream.stop()
        await upstreamSim.shutdown()
    }

    @Test("Redaction: tokens, secrets, passwords and signed URLs in headers, queries and bodies")
    func redaction() {
        let h = DriftRedaction.headers(["Authorization": "Bearer nyk_v0_abc", "Cookie": "a=b", "X-Request-Id": "1"])
        #expect(h == ["authorization": "Bearer <api-key>", "cookie": "<redacted>", "x-request-id": "1"])
        #expect(DriftRedaction.headers(["authorization": "Basic Zm9vOg=="])["authorization"] == "Basic <client-secret>")
        #expect(DriftRedaction.query("client_secret=s&limit=5&page_token=abc") == "client_secret=%5BREDACTED%5D&limit=5&page_token=abc")
        let body = DriftRedaction.body(["refresh_token": "nyrt_x", "settings": ["imap_password": "p", "imap_host": "h"],
                                        "url": "https://x.example/f?X-Amz-Signature=zz", "body": "Hello"], shapeOnly: true)
        #expect(body["refresh_token"]?.stringValue == "[REDACTED]" && body["settings"]?["imap_password"]?.stringValue == "[REDACTED]")
        #expect(body["settings"]?["imap_host"]?.stringValue == "h")
        #expect(body["url"]?.stringValue == "https://x.example/f?[REDACTED]")
        #expect(body["body"]?.stringValue == "[body 5 bytes]")
    }
}
