import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

/// A scenario replay file: a seed, a set-up and a timeline of steps with expectations.
public struct Scenario: Sendable {
    public let file: String
    public let name: String
    public let description: String
    public let seed: String
    public let clock: ClockState.Mode
    package let root: ScenarioNode
    package let setup: ScenarioNode?
    package let steps: [ScenarioNode]
    /// The number of timeline steps.
    public var stepCount: Int { steps.count }

    /// The step kinds and the keys each accepts (`at`, `name` are accepted everywhere).
    package static let stepKeys: [String: Set<String>] = [
        "request": ["expect", "save"],
        "advance": [],
        "deliver": ["save"],
        "change_mail": [],
        "password": [],
        "revoke": [],
        "outage": [],
        "fault": ["as"],
        "remove_fault": [],
        "clear_faults": [],
        "receiver": [],
        "expect_webhooks": [],
        "grant": [],
        "expire_credentials": [],
        "webhook": [],
        "load_fixture": [],
        "log": [],
        "scheduler_configuration": [],
        "book": [],
    ]
    package static let topKeys: Set<String> = ["name", "description", "seed", "clock", "setup", "steps", "applications"]
    package static let setupKeys: Set<String> = ["mailboxes", "receivers", "grants", "webhooks", "faults", "fixtures"]

    /// Reads and validates a scenario file.
    public static func load(path: String) throws -> Scenario {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ScenarioError(file: path, line: 0, message: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> Scenario {
        let root = try ScenarioNode.parse(text, file: file)
        let errors = validate(root, file: file)
        if let first = errors.first { throw first }
        return Scenario(file: file, name: root["name"]?.string ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent,
                        description: root["description"]?.string ?? "", seed: root["seed"]?.string ?? "scenario",
                        clock: ClockState.Mode(rawValue: root["clock"]?.string ?? "manual") ?? .manual, root: root,
                        setup: root["setup"], steps: root["steps"]?.items ?? [])
    }

    /// Every problem of a parsed file, each with its line.
    package static func validate(_ root: ScenarioNode, file: String) -> [ScenarioError] {
        var errors: [ScenarioError] = []
        func fail(_ node: ScenarioNode, _ message: String) { errors.append(ScenarioError(file: file, line: node.line, message: message)) }
        guard case .mapping = root else {
            return [ScenarioError(file: file, line: root.line, message: "a scenario is a mapping with name, seed, setup and steps")]
        }
        for key in root.keys where !topKeys.contains(key) { fail(root[key]!, "unknown top-level key '\(key)'") }
        if root["name"]?.string == nil { fail(root, "missing 'name'") }
        if let clock = root["clock"], !["manual", "running"].contains(clock.string ?? "") { fail(clock, "clock must be manual or running") }
        var defined: Set<String> = ["us", "eu", "start"]
        if let setup = root["setup"] {
            guard case .mapping = setup else { fail(setup, "setup must be a mapping"); return errors }
            for key in setup.keys where !setupKeys.contains(key) { fail(setup[key]!, "unknown setup key '\(key)'") }
            for key in ["mailboxes", "receivers", "grants", "webhooks", "faults", "fixtures"] {
                guard let list = setup[key] else { continue }
                guard let items = list.items else { fail(list, "setup.\(key) must be a list"); continue }
                for item in items {
                    guard case .mapping = item else { fail(item, "each entry of setup.\(key) must be a mapping"); continue }
                    checkVariables(item, defined: defined, fail: fail)
                    if let name = item["as"]?.string ?? item["name"]?.string { defined.insert(name) }
                }
            }
        }
        guard let stepsNode = root["steps"] else { fail(root, "missing 'steps'"); return errors }
        guard let steps = stepsNode.items else { fail(stepsNode, "steps must be a list"); return errors }
        for step in steps {
            guard case .mapping = step else { fail(step, "a step is a mapping such as {request: ...} or {advance: 10m}"); continue }
            let kinds = step.keys.filter { stepKeys[$0] != nil }
            guard kinds.count == 1, let kind = kinds.first else {
                fail(step, kinds.isEmpty ? "unknown step kind: expected one of \(stepKeys.keys.sorted().joined(separator: ", "))"
                                         : "a step has exactly one kind, found \(kinds.joined(separator: ", "))")
                continue
            }
            let allowed = stepKeys[kind]!.union([kind, "at", "name"])
            for key in step.keys where !allowed.contains(key) { fail(step[key]!, "unknown key '\(key)' in a \(kind) step") }
            if let at = step["at"], at.string.flatMap(Duration.init(parsing:)) == nil {
                fail(at, "at must be a virtual-time offset such as 10m or 72h")
            }
            checkVariables(step, defined: defined, fail: fail)
            let body = step[kind]!
            switch kind {
            case "advance":
                if body.string.flatMap(Duration.init(parsing:)) == nil { fail(body, "advance takes a duration such as 10m") }
            case "request":
                guard case .mapping = body else { fail(body, "request must be a mapping with method and path"); continue }
                if body["method"]?.string == nil { fail(body, "request needs a method") }
                if body["path"]?.string == nil { fail(body, "request needs a path") }
                if let expect = step["expect"] {
                    if case .mapping = expect {} else { fail(expect, "expect must be a mapping") }
                    if let status = expect["status"], case .scalar(let v, _) = status, v.intValue == nil { fail(status, "expect.status must be an integer") }
                }
                if let save = step["save"] { for name in save.keys { defined.insert(name) } }
            case "deliver":
                if body["to"]?.string == nil { fail(body, "deliver needs to") }
                if let save = step["save"] { for name in save.keys { defined.insert(name) } }
            case "grant", "webhook":
                if body["as"]?.string == nil { fail(body, "\(kind) needs as: <variable name>") }
                if kind == "grant", body["email"]?.string == nil { fail(body, "grant needs email") }
                if let name = body["as"]?.string { defined.insert(name) }
            case "fault":
                if let name = step["as"]?.string { defined.insert(name) }
            case "expect_webhooks":
                guard case .mapping = body else { fail(body, "expect_webhooks must be a mapping"); continue }
                for key in ["count", "attempt"] {
                    if let v = body[key], case .scalar(let j, _) = v, j.intValue == nil { fail(v, "\(key) must be an integer") }
                }
                if let w = body["within"], w.string.flatMap(Duration.init(parsing:)) == nil { fail(w, "within must be a duration") }
            case "receiver":
                if body["name"]?.string == nil, body.string == nil { fail(body, "receiver needs name") }
            case "scheduler_configuration":
                if body["as"]?.string == nil { fail(body, "scheduler_configuration needs as: <variable name>") }
                if body["grant"]?.string == nil { fail(body, "scheduler_configuration needs grant") }
                if body["configuration"] == nil { fail(body, "scheduler_configuration needs configuration") }
                if let name = body["as"]?.string { defined.insert(name) }
            case "book":
                if body["as"]?.string == nil { fail(body, "book needs as: <variable name>") }
                for key in ["configuration", "start_time", "end_time", "guest"] where body[key] == nil { fail(body, "book needs \(key)") }
                if let name = body["as"]?.string { defined.insert(name) }
            default: break
            }
        }
        return errors
    }

    /// Reports `$name` references to variables not defined earlier in the file.
    package static func checkVariables(_ node: ScenarioNode, defined: Set<String>, fail: (ScenarioNode, String) -> Void) {
        switch node {
        case .scalar(let v, _):
            guard case .string(let s) = v else { return }
            for ref in Variables.references(in: s) {
                let head = String(ref.split(separator: ".").first ?? "")
                if !defined.contains(ref), !defined.contains(head) { fail(node, "unknown variable $\(ref)") }
            }
        case .mapping(let pairs, _):
            for (k, v) in pairs where !(k == "save") { checkVariables(v, defined: defined, fail: fail) }
        case .sequence(let items, _):
            for i in items { checkVariables(i, defined: defined, fail: fail) }
        }
    }
}

/// `$name`, `$name.field` and `${name.field}` references inside scenario strings.
package enum Variables {
    package static func references(in s: String) -> [String] {
        var out: [String] = []
        var i = s.startIndex
        while let dollar = s[i...].firstIndex(of: "$") {
            var j = s.index(after: dollar)
            if j < s.endIndex, s[j] == "{" {
                guard let close = s[j...].firstIndex(of: "}") else { break }
                out.append(String(s[s.index(after: j)..<close]))
                i = s.index(after: close)
                continue
            }
            let start = j
            while j < s.endIndex, s[j].isLetter || s[j].isNumber || s[j] == "_" || s[j] == "." { j = s.index(after: j) }
            var name = String(s[start..<j])
            while name.hasSuffix(".") { name.removeLast() }
            if !name.isEmpty { out.append(name) }
            i = j
            if i >= s.endIndex { break }
        }
        return out
    }

    /// Replaces references in every string of `value`; a string that is one whole reference takes the value itself.
    package static func substitute(_ value: JSON, _ vars: [String: JSON]) throws -> JSON {
        switch value {
        case .string(let s):
            let refs = references(in: s)
            if refs.isEmpty { return value }
            if refs.count == 1, s == "$\(refs[0])" || s == "${\(refs[0])}" { return try lookup(refs[0], vars) }
            var out = s
            for ref in refs.sorted(by: { $0.count > $1.count }) {
                let v = try lookup(ref, vars)
                let text = v.stringValue ?? v.text
                out = out.replacingOccurrences(of: "${\(ref)}", with: text).replacingOccurrences(of: "$\(ref)", with: text)
            }
            return .string(out)
        case .array(let a): return .array(try a.map { try substitute($0, vars) })
        case .object(let o): return .object(try o.mapValues { try substitute($0, vars) })
        default: return value
        }
    }

    package static func lookup(_ ref: String, _ vars: [String: JSON]) throws -> JSON {
        if let v = vars[ref] { return v }
        let parts = ref.split(separator: ".").map(String.init)
        guard var v = vars[parts[0]] else { throw ScenarioFailure("unknown variable $\(ref)") }
        for p in parts.dropFirst() {
            if let i = Int(p), let a = v.arrayValue, i < a.count { v = a[i] } else if let next = v[p] { v = next } else {
                throw ScenarioFailure("variable $\(ref) has no field \(p)")
            }
        }
        return v
    }
}

/// A failed step.
package struct ScenarioFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ d: String) { description = d }
}

/// Dotted paths into JSON (`data.0.subject`).
package enum JSONPath {
    package static func get(_ root: JSON, _ path: String) -> JSON? {
        var v = root
        for p in path.split(separator: ".").map(String.init) where !p.isEmpty {
            if let i = Int(p), let a = v.arrayValue {
                guard i < a.count else { return nil }
                v = a[i]
            } else if let next = v[p] {
                v = next
            } else {
                return nil
            }
        }
        return v
    }

    /// Paths where two values differ (for replay diffs).
    package static func diff(_ a: JSON, _ b: JSON, path: String = "") -> [String] {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            return Set(x.keys).union(y.keys).sorted().flatMap { k in
                diff(x[k] ?? .null, y[k] ?? .null, path: path.isEmpty ? k : "\(path).\(k)")
            }
        case (.array(let x), .array(let y)) where x.count == y.count:
            return zip(x, y).enumerated().flatMap { diff($1.0, $1.1, path: "\(path).\($0)") }
        default:
            return a == b ? [] : ["\(path.isEmpty ? "(root)" : path): expected \(a.text), got \(b.text)"]
        }
    }
}
