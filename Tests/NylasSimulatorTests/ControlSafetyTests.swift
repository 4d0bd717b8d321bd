import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

/// The control API cannot be crashed by a number, opened by an empty token, or driven by a web
/// page of another origin or under another host name (DNS rebinding).
@Suite("Control API safety")
struct ControlSafetyTests {
    static func clockNow(_ h: SimHarness) async throws -> Int {
        let r = try await h.call("GET", "/__sim/clock")
        return try #require(r.json?["now_ms"]?.intValue)
    }

    @Test("Out-of-range clock moves are a 400 naming the field, and move nothing")
    func clockNumbers() async throws {
        try await withSimulator { h in
            let before = try await Self.clockNow(h)
            let cases: [(JSON, String)] = [
                (["advance": .double(1e300)], "advance"),
                (["advance": .double(9.3e15)], "advance"),
                (["advance": .int(Int(Int64.min))], "advance"),
                (["advance": .double(-1)], "advance"),
                (["advance": "1e300s"], "advance"),
                (["advance": "inf"], "advance"),
                (["advance": "nan"], "advance"),
                (["advance": "99999999999999999999h"], "advance"),
                (["to": .int(Int(Int64.max))], "to"),
                (["to": .int(Int(Int64.min))], "to"),
                (["to": "9223372036854775807"], "to"),
                (["rate": .double(1e300)], "rate"),
                (["rate": .double(-2)], "rate"),
                (["mode": "running", "rate": .double(1e12)], "rate"),
                (["rate": .double(10_001)], "rate"),
            ]
            for (body, field) in cases {
                let r = try await h.call("POST", "/__sim/clock", json: body)
                #expect(r.status == 400, "\(body.text): \(r.status) \(r.text)")
                #expect(r.text.contains(field), "\(body.text): the error names \(field): \(r.text)")
            }
            // The 19-digit integer as raw JSON text, not through a Swift Int.
            let raw = try await h.raw("POST", "/__sim/clock", body: Array(#"{"to": 9223372036854775807}"#.utf8),
                                      headers: ["Content-Type": "application/json"])
            #expect(raw.status == 400, "\(raw.text)")
            #expect(try await Self.clockNow(h) == before, "a refused request moved the clock")
            let mode = try await h.call("GET", "/__sim/clock")
            #expect(mode.json?["mode"]?.stringValue == "manual")
            // One move is at most 400 days (every job due on the way runs): the longest accepted one works.
            for (body, field) in [(["advance": "401d"], "advance"), (["to": "9999-12-31T00:00:00Z"], "to")] as [(JSON, String)] {
                let r = try await h.call("POST", "/__sim/clock", json: body)
                #expect(r.status == 400 && r.text.contains(field), "\(body.text): \(r.status) \(r.text)")
            }
            let ok = try await h.call("POST", "/__sim/clock", json: ["advance": "400d"])
            #expect(ok.status == 200, "\(ok.text)")
            #expect(try await Self.clockNow(h) == before + 400 * 86_400_000)
            let to = try await h.call("POST", "/__sim/clock", json: ["to": .int((before + 800 * 86_400_000) / 1000)])
            #expect(to.status == 200, "\(to.text)")
        }
    }

    @Test("Out-of-range fault rule numbers are refused")
    func faultNumbers() async throws {
        try await withSimulator { h in
            let cases: [(JSON, String)] = [
                (["status": 500, "latency": .int(Int.max)], "latency"),
                (["latency": "100000h"], "latency"),
                (["status": 500, "until": .int(Int.max)], "until"),
                (["status": 500, "duration": "1e300s"], "duration"),
                (["outage": "1e300s"], "outage"),
                (["status": 429, "retry_after": .int(Int.max)], "retry_after"),
            ]
            for (body, field) in cases {
                let r = try await h.call("POST", "/__sim/faults", json: body)
                #expect(r.status == 400, "\(body.text): \(r.status) \(r.text)")
                #expect(r.text.contains(field), "\(body.text): \(r.text)")
            }
            let list = try await h.call("GET", "/__sim/faults")
            #expect(list.json?["data"]?.arrayValue?.isEmpty == true, "\(list.text)")
        }
    }

    @Test("Mail from the provider side: generated sizes are bounded")
    func generatedSizes() async throws {
        try await withSimulator { h in
            _ = try await h.call("POST", "/__sim/providers/mailboxes", json: ["email": "fuzz@gmail.com"])
            let path = "/__sim/providers/mailboxes/fuzz@gmail.com/messages"
            let cases: [(JSON, String)] = [
                (["attachments": [["size": .int(543_351_821_272)]]], "attachments[0].size"),
                (["attachments": [["size": -1]]], "attachments[0].size"),
                (["body_size": .int(9_000_000_000_000_000)], "body_size"),
                (["body_size": -5], "body_size"),
            ]
            for (body, field) in cases {
                let r = try await h.call("POST", path, json: body)
                #expect(r.status == 400 && r.text.contains(field), "\(body.text): \(r.status) \(r.text)")
            }
            let outage = try await h.call("POST", "/__sim/providers/outages", json: ["duration": "-5"])
            #expect(outage.status == 400, "\(outage.text)")
            let ok = try await h.call("POST", path, json: ["attachments": [["size": 1024]], "body_size": 4096])
            #expect(ok.status == 200 || ok.status == 201, "\(ok.text)")
        }
    }

    @Test("Durations parse within range only")
    func durationParsing() {
        #expect(Duration(parsing: "72h") == .seconds(72 * 3600))
        #expect(Duration(parsing: "1e300") == nil)
        #expect(Duration(parsing: "inf") == nil)
        #expect(Duration(parsing: "-inf") == nil)
        #expect(Duration(parsing: "999999999999999d") == nil)
        #expect(VirtualTime(parsing: "9223372036854775807") == nil)
        #expect(VirtualTime(seconds: .max).milliseconds == VirtualTime.range.upperBound)
        #expect((VirtualTime(seconds: 0) + .seconds(Int64.max)).milliseconds == VirtualTime.range.upperBound)
        #expect((VirtualTime(seconds: 0) - .seconds(Int64.max)).milliseconds == VirtualTime.range.lowerBound)
    }

    @Test("An empty or blank control token refuses to start")
    func blankToken() async throws {
        for token in ["", " ", "\t\n"] {
            var options = SimulatorOptions(seed: "t")
            options.controlToken = token
            await #expect(throws: SimulatorOptions.Invalid.self) { _ = try await Simulator.start(options) }
        }
    }

    @Test("A token is compared whole: a prefix, an empty value or a longer one is refused")
    func tokenComparison() async throws {
        try await withSimulator(configure: { $0.controlToken = "secret-token" }) { h in
            for given in ["", "secret", "secret-token-", "secret-tokem", "Secret-token"] {
                let r = try await h.call("GET", "/__sim/state", headers: ["X-Sim-Control-Token": given])
                #expect(r.status == 401, "\(given): \(r.status)")
                let q = try await h.call("GET", "/__sim/ui?token=\(given)")
                #expect(q.status == 401, "?token=\(given): \(q.status)")
            }
            let r = try await h.call("GET", "/__sim/state", headers: ["X-Sim-Control-Token": "secret-token"])
            #expect(r.status == 200)
        }
        #expect(ControlGuard.constantTimeEquals("abc", "abc"))
        #expect(!ControlGuard.constantTimeEquals("abc", "abd"))
        #expect(!ControlGuard.constantTimeEquals("abc", "abcd"))
        #expect(!ControlGuard.constantTimeEquals("", "a"))
    }

    @Test("A request a browser sends without a preflight cannot change the state")
    func simpleRequests() async throws {
        try await withSimulator { h in
            let before = try await Self.clockNow(h)
            let plain = try await h.raw("POST", "/__sim/clock", body: Array(#"{"advance": "1h"}"#.utf8),
                                        headers: ["Content-Type": "text/plain"])
            #expect(plain.status == 415, "\(plain.text)")
            let form = try await h.raw("POST", "/__sim/grants", body: Array("email=victim%40gmail.com".utf8),
                                       headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(form.status == 415, "\(form.text)")
            let multipart = try await h.raw("POST", "/__sim/reset", body: Array("--b\r\n\r\n--b--".utf8),
                                            headers: ["Content-Type": "multipart/form-data; boundary=b"])
            #expect(multipart.status == 415, "\(multipart.text)")
            #expect(try await Self.clockNow(h) == before)
            let state = try await h.call("GET", "/__sim/state")
            #expect(state.json?["regions"]?["us"]?["grants"]?.arrayValue?.isEmpty == true)
            // A page of another origin is refused even with a JSON body.
            let foreign = try await h.call("POST", "/__sim/clock", json: ["advance": "1h"],
                                           headers: ["Origin": "http://evil.example"])
            #expect(foreign.status == 403, "\(foreign.text)")
            let foreignGet = try await h.call("GET", "/__sim/state", headers: ["Origin": "http://evil.example"])
            #expect(foreignGet.status == 403)
            #expect(try await Self.clockNow(h) == before)
            // The dashboard's own calls: same origin, JSON.
            let port = h.sim.baseURL(.us).port!
            let own = try await h.call("POST", "/__sim/clock", json: ["advance": "1h"],
                                       headers: ["Origin": "http://127.0.0.1:\(port)"])
            #expect(own.status == 200, "\(own.text)")
            #expect(try await Self.clockNow(h) == before + 3_600_000)
            // Bodyless calls (curl -X POST …/reset) need no Content-Type.
            let reset = try await h.raw("POST", "/__sim/reset", body: [])
            #expect(reset.status == 200, "\(reset.text)")
            // The API itself keeps its own content rules: JSON with charset is still JSON.
            let charset = try await h.raw("POST", "/__sim/clock", body: Array(#"{"advance": "1m"}"#.utf8),
                                          headers: ["Content-Type": "application/json; charset=utf-8"])
            #expect(charset.status == 200, "\(charset.text)")
        }
    }

    @Test("With a token, any content type is taken (the token proves the caller)")
    func tokenAllowsPlainBodies() async throws {
        try await withSimulator(configure: { $0.controlToken = "t0ken" }) { h in
            let r = try await h.raw("POST", "/__sim/clock", body: Array(#"{"advance": "1h"}"#.utf8),
                                    headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Sim-Control-Token": "t0ken"])
            #expect(r.status == 200, "\(r.text)")
        }
    }

    @Test("Only the simulator's own host names are answered (DNS rebinding)")
    func hostNames() async throws {
        try await withSimulator(configure: { $0.allowedHosts = ["sim.test"] }) { h in
            let port = h.sim.baseURL(.us).port!
            for host in ["evil.example", "evil.example:\(port)", "127.0.0.1.evil.example", "localhost.evil.example", ""] {
                let r = try await h.call("GET", "/__sim/state", headers: ["Host": host])
                #expect(r.status == 403 || r.status == 400, "Host \(host): \(r.status)")
                #expect(!r.text.contains(h.apiKey), "Host \(host) was served the API key")
                let api = try await h.call("GET", "/v3/applications", token: h.apiKey, headers: ["Host": host])
                #expect(api.status == 403 || api.status == 400, "Host \(host) on /v3: \(api.status)")
            }
            for host in ["127.0.0.1:\(port)", "localhost:\(port)", "LOCALHOST", "app.localhost:\(port)", "[::1]:\(port)",
                         "10.1.2.3", "api.us.nylas.com", "api.eu.nylas.com", "sim.test:\(port)"] {
                let r = try await h.call("GET", "/__sim/clock", headers: ["Host": host])
                #expect(r.status == 200, "Host \(host): \(r.status) \(r.text)")
            }
        }
    }

    @Test("HTTP/1.1 without Host is a 400; HTTP/1.0 without Host is served")
    func missingHost() async throws {
        try await withSimulator { h in
            let port = h.sim.baseURL(.us).port!
            let v11 = try await HostileInputTests.exchange(port: port, Array("GET /__sim/clock HTTP/1.1\r\n\r\n".utf8))
            #expect(v11.status == 400, "\(v11)")
            let v10 = try await HostileInputTests.exchange(port: port, Array("GET /__sim/clock HTTP/1.0\r\n\r\n".utf8))
            #expect(v10.status == 200, "\(v10)")
            let twice = try await HostileInputTests.exchange(
                port: port, Array("GET /__sim/state HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n".utf8))
            #expect(twice.status == 403 || twice.status == 400, "\(twice)")
        }
    }

    @Test("Files named in control requests are read only under the file root, and never echoed")
    func fileRoot() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nylas-sim-root-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data(#"{"mailbox": "inside@gmail.com", "messages": [{"subject": "Inside"}]}"#.utf8)
            .write(to: root.appendingPathComponent("box.json"))
        try await withSimulator(configure: { $0.fileRoot = root.path }) { h in
            for (route, path) in [("/__sim/scenarios", "/proc/self/cmdline"), ("/__sim/scenarios", "/etc/passwd"),
                                  ("/__sim/fixtures", "/etc/hostname"), ("/__sim/fixtures", "../../etc/passwd"),
                                  ("/__sim/fixtures/calendar", "/proc/self/environ")] {
                let r = try await h.call("POST", route, json: ["path": .string(path)])
                #expect(r.status == 400, "\(route) \(path): \(r.status) \(r.text)")
                #expect(r.text.contains("file root"), "\(route) \(path): \(r.text)")
                #expect(!r.text.contains("root:") && !r.text.contains("nylas-sim serve") && !r.text.contains("PATH="), "\(r.text)")
            }
            let ok = try await h.call("POST", "/__sim/fixtures", json: ["path": "box.json"])
            #expect(ok.status == 201, "\(ok.text)")
        }
    }

    @Test("A key given twice in a JSON body: the last value wins, as in Go's encoding/json")
    func duplicateKeys() async throws {
        #expect(try JSON.parse(Array(#"{"a": 1, "a": 2}"#.utf8))["a"]?.intValue == 2)
        #expect(try JSON.parse(Array(#"{"a": 1.5, "b": {"c": "x", "c": "y"}, "a": 2.5}"#.utf8))["a"]?.doubleValue == 2.5)
        #expect(try JSON.parse(Array(#"{"n": 1.0, "e": 1e3, "f": -0.25}"#.utf8)) == ["n": 1, "e": 1000, "f": .double(-0.25)])
        for bad in ["{\"a\": 1.}", "{\"a\": .5}", "{\"a\": 1e}", "{\"a\": 01}", "{\"a\": -}"] {
            #expect(throws: NylasError.self, "\(bad)") { try JSON.parse(Array(bad.utf8)) }
        }
        try await withSimulator { h in
            let before = try await Self.clockNow(h)
            let r = try await h.raw("POST", "/__sim/clock", body: Array(#"{"advance": "1h", "advance": "2h"}"#.utf8),
                                    headers: ["Content-Type": "application/json"])
            #expect(r.status == 200, "\(r.text)")
            #expect(try await Self.clockNow(h) == before + 2 * 3_600_000)
        }
    }
}
