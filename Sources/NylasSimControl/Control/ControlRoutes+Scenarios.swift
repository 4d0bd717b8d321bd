import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

extension ControlRoutes {
    /// `/__sim/scenarios`: load a scenario into the running server, and see how loaded ones went.
    package static func registerScenarios(_ r: inout Router) {
        r.add("POST", "/__sim/scenarios", .control, postScenarios)
        r.add("GET", "/__sim/scenarios", .control, listScenarios)
    }

    /// `POST "/__sim/scenarios"`
    @Sendable static func postScenarios(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let scenario: Scenario
        do {
            if let path = try body.string("path") {
                scenario = try Scenario.load(path: try ctx.core.fileRoot.resolve(path, field: "path"))
            } else if let yaml = try body.string("yaml") {
                scenario = try Scenario.parse(yaml, file: "request")
            } else {
                throw NylasError.invalidRequest("Give {\"path\": \"scenarios/x.yaml\"} or {\"yaml\": \"...\"}")
            }
        } catch let e as ScenarioError {
            throw NylasError.invalidRequest("Invalid scenario: \(e.description)")
        }
        guard ctx.core.isRunning.withLock({ $0 }) else { throw NylasError.invalidRequest("The simulator is shutting down") }
        let task = ScenarioRunner.load(scenario, core: ctx.core)
        if try body.bool("wait") ?? false {
            let result = await task.value
            return .json(ScenarioReport.json(result))
        }
        return .json(["name": .string(scenario.name), "status": "loaded", "steps": .int(scenario.steps.count)], status: 202)
    }

    /// `GET "/__sim/scenarios"`
    @Sendable static func listScenarios(_ ctx: RequestContext) async throws -> SimResponse {
        .json(["data": .array(ctx.core.withState { $0.scenarioResults.map(ScenarioReport.json) })])
    }
}

/// Scenario results as JSON and JUnit XML.
public enum ScenarioReport {
    package static func json(_ r: ScenarioResult) -> JSON {
        ["name": .string(r.name), "file": .string(r.file), "passed": .bool(r.passed),
         "wall_ms": .int(Int(r.wallTime.milliseconds)),
         "steps": .array(r.steps.map { ["index": .int($0.index), "line": .int($0.line), "kind": .string($0.kind),
                                         "offset_s": .int(Int($0.offset.milliseconds / 1000)), "passed": .bool($0.passed),
                                         "detail": .string($0.detail)] })]
    }

    /// JUnit XML: a test suite per scenario, a test case per step.
    public static func junit(_ results: [ScenarioResult]) -> String {
        func esc(_ s: String) -> String { HTML.escape(s) }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        for r in results {
            let secs = Double(r.wallTime.milliseconds) / 1000
            out += "  <testsuite name=\"\(esc(r.name))\" tests=\"\(r.steps.count)\" failures=\"\(r.failures.count)\" time=\"\(secs)\">\n"
            for s in r.steps {
                out += "    <testcase classname=\"\(esc(r.name))\" name=\"\(s.index) \(esc(s.kind)) (line \(s.line))\""
                if s.passed { out += "/>\n" } else {
                    out += ">\n      <failure message=\"\(esc(s.detail))\"/>\n    </testcase>\n"
                }
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }
}
