import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

@Suite("Scenarios: the library replays, broken ones fail clearly, bad files name their line")
struct ScenarioTests {
    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    static var library: [String] {
        let dir = root.appendingPathComponent("scenarios")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.sorted().map { dir.appendingPathComponent($0).path }
    }

    @Test("Every scenario of the library passes", arguments: ScenarioTests.library)
    func libraryPasses(_ file: String) async throws {
        let result = try await ScenarioRunner.replay(try Scenario.load(path: file))
        #expect(result.passed, "\(result.timeline)")
        #expect(result.steps.count > 3)
    }

    @Test("The library is not empty")
    func libraryExists() { #expect(ScenarioTests.library.count >= 11) }

    @Test("A broken copy fails naming the step, the expectation and the actual value")
    func brokenScenario() async throws {
        let original = try String(contentsOfFile: ScenarioTests.root.appendingPathComponent("scenarios/access-token-expiry.yaml").path, encoding: .utf8)
        let broken = original.replacingOccurrences(of: "expect: {status: 401, body: {error.type: unauthorized}}",
                                                   with: "expect: {status: 200, body: {error.type: unauthorized}}")
        #expect(broken != original)
        let result = try await ScenarioRunner.replay(try Scenario.parse(broken, file: "broken.yaml"))
        #expect(!result.passed)
        let failure = try #require(result.failures.first)
        #expect(failure.kind == "request")
        #expect(failure.detail.contains("line 19"))
        #expect(failure.detail.contains("expect (line 21)"))
        #expect(failure.detail.contains("expected status 200, got 401"))
        #expect(result.timeline.contains("FAIL"))
        let xml = ScenarioReport.junit([result])
        #expect(xml.contains("<failure message="))
    }

    @Test("Bad files give line-numbered errors, never a crash")
    func badFiles() throws {
        func error(_ text: String) -> ScenarioError? {
            do { _ = try Scenario.parse(text, file: "bad.yaml"); return nil } catch let e as ScenarioError { return e } catch { return nil }
        }
        let syntax = error("name: x\nsteps:\n  - request: {method: GET\n")
        #expect(syntax?.line == 4 || syntax?.line == 3)
        #expect(syntax?.message.contains("YAML syntax error") == true)
        let unknownKind = error("name: x\nsteps:\n  - advance: 1m\n  - teleport: here\n")
        #expect(unknownKind?.line == 4)
        #expect(unknownKind?.message.contains("unknown step kind") == true)
        let wrongType = error("name: x\nsteps:\n  - advance: soon\n")
        #expect(wrongType?.line == 3)
        let badStatus = error("name: x\nsteps:\n  - request: {method: GET, path: /v3/grants}\n    expect: {status: ok}\n")
        #expect(badStatus?.line == 4)
        #expect(badStatus?.message.contains("expect.status") == true)
        let unknownVariable = error("name: x\nsteps:\n  - advance: 1m\n  - request: {method: GET, path: /v3/grants/$nobody.id}\n")
        #expect(unknownVariable?.line == 4)
        #expect(unknownVariable?.message.contains("$nobody.id") == true)
        let notMapping = error("- just\n- a list\n")
        #expect(notMapping != nil)
        #expect(error("") != nil)
    }

    @Test("Record and replay: a recorded run replays with the same responses")
    func recordReplay() async throws {
        let sim = try await Simulator.start(SimulatorOptions(seed: "recorded"))
        let recorder = sim.startRecording()
        let key = sim.region(.us).v3.apiKey
        let g = try sim.createGrant(email: "rec@gmail.com")
        _ = await sim.send(SimRequest(method: "GET", target: "/v3/grants?limit=5", headers: ["Authorization": "Bearer \(key)"]))
        _ = await sim.send(SimRequest(method: "GET", target: "/v3/grants/\(g.id)", headers: ["Authorization": "Bearer \(key)"]))
        _ = await sim.send(SimRequest(method: "POST", target: "/v3/connectors", headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
                                      body: Array(#"{"provider": "zoom", "settings": {"client_id": "a", "client_secret": "b"}}"#.utf8)))
        _ = await sim.send(SimRequest(method: "GET", target: "/v3/grants/nope", headers: ["Authorization": "Bearer \(key)"]))
        let yaml = recorder.scenarioYAML(name: "recorded", seed: "recorded")
        await sim.shutdown()
        #expect(yaml.contains("body_equals"))
        // The grant was created outside the API: replay needs it too, so the recorded file gets a set-up step.
        let withSetup = yaml.replacingOccurrences(of: "steps:\n", with: "steps:\n- grant: {as: g, email: rec@gmail.com}\n")
        let result = try await ScenarioRunner.replay(try Scenario.parse(withSetup, file: "recorded.yaml"))
        #expect(result.passed, "\(result.timeline)")
        // A changed response is reported as a diff of the paths that differ.
        let tampered = withSetup.replacingOccurrences(of: "rec@gmail.com", with: "other@gmail.com", options: [], range: withSetup.range(of: "steps:\n- grant").map { $0.upperBound..<withSetup.endIndex })
        let bad = try await ScenarioRunner.replay(try Scenario.parse(tampered, file: "tampered.yaml"))
        #expect(!bad.passed)
        #expect(bad.failures.contains { $0.detail.contains("body differs") })
    }
}
