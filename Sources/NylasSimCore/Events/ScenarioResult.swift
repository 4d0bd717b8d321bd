import Foundation

/// What one step of a scenario did (scenarios run in the control layer; their results are kept with the state).
/// What one step did.
public struct ScenarioStepResult: Sendable {
    public let index: Int
    public let line: Int
    public let kind: String
    /// Virtual time since the scenario started, when the step ran.
    public let offset: Duration
    public let passed: Bool
    public let detail: String

    package init(index: Int, line: Int, kind: String, offset: Duration, passed: Bool, detail: String) {
        self.index = index
        self.line = line
        self.kind = kind
        self.offset = offset
        self.passed = passed
        self.detail = detail
    }
}

/// The outcome of one scenario.
public struct ScenarioResult: Sendable {
    public let name: String
    public let file: String
    public let steps: [ScenarioStepResult]
    public let wallTime: Duration

    package init(name: String, file: String, steps: [ScenarioStepResult], wallTime: Duration) {
        self.name = name
        self.file = file
        self.steps = steps
        self.wallTime = wallTime
    }

    public var passed: Bool { steps.allSatisfy(\.passed) }
    public var failures: [ScenarioStepResult] { steps.filter { !$0.passed } }

    /// The readable timeline: virtual time, step, outcome.
    public var timeline: String {
        var lines = ["\(passed ? "PASS" : "FAIL") \(name) (\(file), \(wallTime.milliseconds) ms)"]
        for s in steps {
            let secs = Int(s.offset.milliseconds / 1000)
            let t = String(format: "+%02d:%02d:%02d", secs / 3600, (secs / 60) % 60, secs % 60)
            lines.append("  [\(t)] \(String(format: "%3d", s.index)) \(s.kind.padding(toLength: 16, withPad: " ", startingAt: 0)) \(s.passed ? "ok  " : "FAIL") \(s.detail)")
        }
        return lines.joined(separator: "\n")
    }
}

