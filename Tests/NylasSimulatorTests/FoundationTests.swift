import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

@Suite("Foundation: regions, errors, control API, persistence, TLS")
struct FoundationTests {
    @Test("A region's API key is unknown in the other region; the Host header routes")
    func regionIsolation() async throws {
        try await withSimulator { h in
            let us = try await h.call("GET", "/v3/grants", token: h.apiKey(.us))
            #expect(us.status == 200)
            let eu = try await h.call("GET", "/v3/grants", region: .eu, token: h.apiKey(.us))
            #expect(eu.status == 401)
            #expect(eu.errorType == "unauthorized")
            #expect(eu.json?["request_id"]?.stringValue?.count == 36)
            // The US listener with the EU host name is the EU region.
            let routed = try await h.call("GET", "/v3/grants", token: h.apiKey(.us), headers: ["Host": "api.eu.nylas.com"])
            #expect(routed.status == 401)
            let routedEU = try await h.call("GET", "/v3/grants", token: h.apiKey(.eu), headers: ["Host": "ireland.api.nylas.com"])
            #expect(routedEU.status == 200)
            let v2Host = try await h.call("GET", "/v3/grants", region: .eu, token: h.apiKey(.us), headers: ["Host": "api.nylas.com"])
            #expect(v2Host.status == 200)
        }
    }

    @Test("Two simulators in one process share nothing")
    func simulatorsAreIsolated() async throws {
        try await withSimulator(seed: nil) { a in
            try await withSimulator(seed: nil) { b in
                #expect(a.sim.baseURL(.us) != b.sim.baseURL(.us))
                #expect(a.apiKey != b.apiKey)
                let grant = try a.sim.createGrant(email: "alice@gmail.com")
                let inA = try await a.call("GET", "/v3/grants/\(grant.id)", token: a.apiKey)
                #expect(inA.status == 200)
                let inB = try await b.call("GET", "/v3/grants", token: b.apiKey)
                #expect(inB.data?.arrayValue?.count == 0)
                let crossKey = try await b.call("GET", "/v3/grants", token: a.apiKey)
                #expect(crossKey.status == 401)
            }
        }
    }

    @Test("A seeded run produces the same IDs and credentials twice")
    func seededRunsRepeat() async throws {
        func run() async throws -> [String] {
            try await withSimulator(seed: "repeat-me") { h in
                let g1 = try await h.call("POST", "/__sim/grants", json: ["email": "a@gmail.com"])
                let g2 = try await h.call("POST", "/__sim/grants", json: ["email": "b@example.com", "region": "eu"])
                let uri = try await h.call("POST", "/v3/applications/redirect-uris", token: h.apiKey,
                                           json: ["url": "https://app.example.com/cb"])
                return [h.apiKey, h.apiKey(.eu), h.sim.region(.us).v2.clientID,
                        g1.json?["id"]?.stringValue ?? "", g1.json?["access_token"]?.stringValue ?? "",
                        g2.json?["id"]?.stringValue ?? "", uri.data?["id"]?.stringValue ?? "", h.sim.now.description]
            }
        }
        let first = try await run()
        let second = try await run()
        #expect(first == second)
        #expect(!first.contains(""))
        // Regions have their own namespaces.
        #expect(first[0] != first[1])
    }

    @Test("Seeded IDs are the uuid5 names documented in the README")
    func seededIDsMatchUUID5() throws {
        var ids = IDGenerator(seed: "s", namespace: "region:us")
        let id = ids.uuid("grant")
        // uuid5(uuid5(NAMESPACE_URL, "nylas-sim:s:region:us"), "grant:1") computed with Python's uuid module.
        #expect(id == "525fcfbb-d606-5ae5-bc04-c3096d798daf")
        var again = IDGenerator(seed: "s", namespace: "region:us")
        #expect(again.uuid("grant") == id)
        var random = IDGenerator(seed: nil, namespace: "region:us")
        #expect(random.uuid("grant") != random.uuid("grant"))
    }

    @Test("Bad input answers Nylas-shaped 4xx errors and changes nothing")
    func badInput() async throws {
        try await withSimulator { h in
            let key = h.apiKey
            let before = try await h.call("GET", "/v3/connectors", token: key).data?.arrayValue?.count
            let malformed = try await h.raw("POST", "/v3/connectors", token: key, body: Array("{bad".utf8),
                                            headers: ["Content-Type": "application/json"])
            #expect(malformed.status == 400)
            #expect(malformed.errorType == "invalid_request_error")
            let wrongType = try await h.call("POST", "/v3/connectors", token: key, json: ["provider": 5])
            #expect(wrongType.status == 400)
            #expect(wrongType.json?["error"]?["message"]?.stringValue?.contains("provider") == true)
            let missing = try await h.call("POST", "/v3/connectors", token: key, json: ["settings": [:]])
            #expect(missing.status == 400)
            #expect(missing.json?["error"]?["message"]?.stringValue?.contains("provider") == true)
            let noAuth = try await h.call("GET", "/v3/connectors")
            #expect(noAuth.status == 401)
            let badScheme = try await h.call("GET", "/v3/connectors", headers: ["Authorization": "Basic abc"])
            #expect(badScheme.status == 401)
            let unknownRoute = try await h.call("GET", "/v3/nothing/here", token: key)
            #expect(unknownRoute.status == 404)
            #expect(unknownRoute.errorType == "not_found_error")
            let v2Route = try await h.call("GET", "/nothing")
            #expect(v2Route.status == 404)
            #expect(v2Route.json?["type"]?.stringValue == "invalid_request_error")
            #expect(v2Route.json?["message"] != nil)
            let unknownID = try await h.call("GET", "/v3/grants/00000000-0000-0000-0000-000000000000", token: key)
            #expect(unknownID.status == 404)
            #expect(unknownID.errorType == "grant.not_found")
            let wrongMethod = try await h.call("PUT", "/v3/connectors", token: key)
            #expect(wrongMethod.status == 405)
            // A second google connector fails and leaves the list as it was.
            let conflict = try await h.call("POST", "/v3/connectors", token: key,
                                            json: ["provider": "google", "settings": ["client_id": "a", "client_secret": "b"]])
            #expect(conflict.status == 409)
            let after = try await h.call("GET", "/v3/connectors", token: key).data?.arrayValue?.count
            #expect(before == after)
            #expect(malformed.headers["x-request-id"] != nil)
        }
    }

    @Test("A body over the limit is a Nylas-shaped 413")
    func oversizedBody() async throws {
        try await withSimulator(configure: { $0.settings.maxBodyBytes = 1024 }) { h in
            let big = [UInt8](repeating: UInt8(ascii: "a"), count: 4096)
            let r = try await h.raw("POST", "/v3/connectors", token: h.apiKey, body: big,
                                    headers: ["Content-Type": "application/json"])
            #expect(r.status == 413)
            #expect(r.errorType == "invalid_request_error")
            let ok = try await h.call("GET", "/v3/connectors", token: h.apiKey)
            #expect(ok.status == 200)
        }
    }

    @Test("The clock moves only when advanced; jobs run in time order")
    func schedulerOrder() async throws {
        try await withSimulator { h in
            let start = h.sim.now
            let log = Log()
            h.sim.core.withState { s in
                for (i, minutes) in [30, 10, 20, 10, 70].enumerated() {
                    s.schedule(at: start + .seconds(minutes * 60), "test-\(i)") { core in
                        await log.append("\(minutes)m#\(i)@\(core.now.milliseconds - start.milliseconds)")
                    }
                }
            }
            await h.sim.advance(by: .seconds(3600))
            #expect(await log.items == ["10m#1@600000", "10m#3@600000", "20m#2@1200000", "30m#0@1800000"])
            #expect(h.sim.now == start + .seconds(3600))
            let r = try await h.call("GET", "/__sim/jobs")
            #expect(r.json?["data"]?.arrayValue?.count == 1)
            try await h.advance("10m")
            #expect(await log.items.count == 5)
        }
    }

    @Test("Advancing 72 hours over thousands of jobs takes milliseconds")
    func manyJobs() async throws {
        try await withSimulator { h in
            let counter = Log()
            let start = h.sim.now
            h.sim.core.withState { s in
                for i in 0..<5000 {
                    s.schedule(at: start + .seconds(i * 50), "job") { _ in await counter.append("") }
                }
            }
            let began = ContinuousClock.now
            await h.sim.advance(by: .seconds(72 * 3600))
            let elapsed = ContinuousClock.now - began
            #expect(await counter.items.count == 5000)
            #expect(elapsed < .seconds(5))
        }
    }

    @Test("Control API: clock, state, journal, reset")
    func controlAPI() async throws {
        try await withSimulator { h in
            let clock = try await h.call("GET", "/__sim/clock")
            #expect(clock.json?["mode"]?.stringValue == "manual")
            let moved = try await h.call("POST", "/__sim/clock", json: ["advance": "1h30m"])
            #expect(moved.json?["now_unix"]?.intValue == (clock.json?["now_unix"]?.intValue ?? 0) + 5400)
            let back = try await h.call("POST", "/__sim/clock", json: ["to": 0])
            #expect(back.status == 400)
            // JSON sent as a form (`curl -d '{…}'` without a header) is what a web page can send
            // without a CORS preflight: without a control token it is refused and moves nothing.
            let form = ["Content-Type": "application/x-www-form-urlencoded"]
            let curlStyle = try await h.raw("POST", "/__sim/clock", body: Array(#"{"advance": "30m"}"#.utf8), headers: form)
            #expect(curlStyle.status == 415, "\(curlStyle.text)")
            let after = try await h.call("GET", "/__sim/clock")
            #expect(after.json?["now_unix"]?.intValue == (clock.json?["now_unix"]?.intValue ?? 0) + 5400)
            let state = try await h.call("GET", "/__sim/state")
            #expect(state.json?["regions"]?["us"]?["applications"]?.arrayValue?.count == 2)
            #expect(state.json?["regions"]?["eu"]?["base_url"]?.stringValue == h.sim.baseURL(.eu).absoluteString)
            _ = try await h.call("GET", "/v3/grants", token: h.apiKey)
            _ = try await h.call("GET", "/v3/grants", region: .eu, token: "nope")
            let journal = try await h.call("GET", "/__sim/requests?status=401")
            let entries = journal.json?["data"]?.arrayValue ?? []
            #expect(entries.count == 1)
            #expect(entries.first?["region"]?.stringValue == "eu")
            let all = try await h.call("GET", "/__sim/requests?region=us&api=v3")
            #expect(all.json?["data"]?.arrayValue?.first?["application_id"]?.stringValue == h.sim.region(.us).v3.applicationID)
            _ = try h.sim.createGrant(email: "x@gmail.com")
            let reset = try await h.call("POST", "/__sim/reset")
            #expect(reset.json?["regions"]?["us"]?["grants"]?.arrayValue?.count == 0)
            #expect(h.apiKey == reset.json?["regions"]?["us"]?["applications"]?.arrayValue?.first?["api_key"]?.stringValue)
            let v3Form = try await h.raw("POST", "/v3/connectors", token: h.apiKey, body: Array(#"{"provider": "zoom"}"#.utf8), headers: form)
            #expect(v3Form.status == 415, "\(v3Form.text)")
        }
    }

    @Test("A --data-dir simulator keeps its state across a restart")
    func persistence() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nylas-sim-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (key, grantID) = try await withSimulator(seed: "persist", configure: { $0.dataDirectory = dir }) { h in
            let g = try h.sim.createGrant(email: "keep@gmail.com")
            return (h.apiKey, g.id)
        }
        try await withSimulator(seed: "persist", configure: { $0.dataDirectory = dir }) { h in
            #expect(h.apiKey == key)
            let r = try await h.call("GET", "/v3/grants/\(grantID)", token: key)
            #expect(r.status == 200)
            #expect(r.data?["email"]?.stringValue == "keep@gmail.com")
            // The ID counter was kept: a new grant gets a new ID, not the first one again.
            let g2 = try h.sim.createGrant(email: "new@gmail.com")
            #expect(g2.id != grantID)
            // A file keeps its journal in its table, across the restart, read as the ring is read.
            var grantReads = JournalFilter()
            grantReads.pathPrefix = "/v3/grants/\(grantID)"
            grantReads.method = "get"
            let entries = try h.sim.core.withState { try $0.store(.us).journal(grantReads) }
            #expect(entries.count == 1 && entries.first?.status == 200)
            #expect(h.sim.core.withState { $0.store(.us).journalRing == nil })
            #expect(try await h.call("GET", "/v3/grants", token: key).status == 200)
            var all = JournalFilter()
            all.limit = 2
            let newest = try h.sim.core.withState { try $0.store(.us).journal(all, newestFirst: true) }
            #expect(newest.map(\.path) == ["/v3/grants", "/v3/grants/\(grantID)"])
            #expect(newest.count == 2 && newest[0].sequence > newest[1].sequence)
            let seq = try #require(entries.first?.sequence)
            #expect(try h.sim.core.withState { try $0.store(.us).journalEntry(sequence: seq) }?.path == "/v3/grants/\(grantID)")
        }
        #expect(FileManager.default.fileExists(atPath: dir + "/us.sqlite"))
    }

    #if TLS
    @Test("TLS with the generated local CA")
    func tls() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nylas-sim-tls-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withSimulator(configure: { $0.tlsDirectory = dir }) { h in
            #expect(h.sim.baseURL(.us).scheme == "https")
            let trusting = HTTPClient(trustedCAFile: dir + "/ca.pem")
            let r = try await trusting.send("GET", h.sim.baseURL(.us).absoluteString + "/v3/grants",
                                            headers: ["Authorization": "Bearer \(h.apiKey)"])
            #expect(r.status == 200)
            let viaName = try await trusting.send("GET", "https://localhost:\(h.sim.baseURL(.eu).port!)/__sim/clock")
            #expect(viaName.status == 200)
            await #expect(throws: (any Error).self) {
                _ = try await HTTPClient().send("GET", h.sim.baseURL(.us).absoluteString + "/__sim/clock")
            }
        }
        // The CA is generated once and reused.
        let first = try String(contentsOfFile: dir + "/ca.pem", encoding: .utf8)
        _ = try LocalCertificateAuthority.ensure(directory: dir)
        #expect(try String(contentsOfFile: dir + "/ca.pem", encoding: .utf8) == first)
    }
    #endif

    @Test("SHA-256 and HMAC-SHA-256 give the NIST and RFC 4231 test vectors")
    func digests() {
        #expect(Digest.hex(Digest.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.hex(Digest.sha256([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.hex(Digest.sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(Digest.hex(Digest.sha256([UInt8](repeating: 0x61, count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(Digest.hex(Digest.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(Digest.hex(Digest.hmacSHA256(key: [UInt8](repeating: 0xaa, count: 131),
                                             Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test("The fixtures shipped with the library load by name, from the package's resources")
    func bundledFixtures() async throws {
        try await withSimulator { h in
            let mail = try h.sim.loadFixture(.mailbox, mailbox: "bundle@gmail.com")
            #expect((mail["messages"]?.intValue ?? 0) > 50, "\(mail)")
            #expect(try h.sim.loadFixture(.mailbox, mailbox: "bundle@gmail.com")["messages"]?.intValue == 0)
            let cal = try h.sim.loadFixture(.calendar, mailbox: "bundle@gmail.com")
            #expect((cal["events"]?.intValue ?? 0) > 0, "\(cal)")
            #expect(BundledFixture.mailbox.url.path.hasSuffix("mailbox.json"))
        }
    }

    @Test("Requests without a socket give the same answers")
    func inMemoryRequests() async throws {
        try await withSimulator { h in
            let r = await h.sim.send(SimRequest(method: "GET", target: "/v3/grants", headers: ["Authorization": "Bearer \(h.apiKey)"]))
            #expect(r.status == 200)
            #expect(r.json?["data"]?.arrayValue?.isEmpty == true)
        }
    }
}

actor Log {
    var items: [String] = []
    func append(_ s: String) { items.append(s) }
}
