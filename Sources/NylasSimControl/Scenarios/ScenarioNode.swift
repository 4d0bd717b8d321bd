import Foundation
import Yams
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

/// A YAML value with the line it came from, so that every scenario error names its line.
package indirect enum ScenarioNode: Sendable {
    case scalar(JSON, line: Int)
    case mapping([(String, ScenarioNode)], line: Int)
    case sequence([ScenarioNode], line: Int)

    package var line: Int {
        switch self {
        case .scalar(_, let l), .mapping(_, let l), .sequence(_, let l): return l
        }
    }

    package subscript(_ key: String) -> ScenarioNode? {
        if case .mapping(let pairs, _) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    package var keys: [String] { if case .mapping(let p, _) = self { return p.map(\.0) } else { return [] } }
    package var items: [ScenarioNode]? { if case .sequence(let s, _) = self { return s } else { return nil } }

    /// The plain JSON value (lines dropped).
    package var json: JSON {
        switch self {
        case .scalar(let v, _): return v
        case .mapping(let pairs, _): return .object(Dictionary(pairs.map { ($0.0, $0.1.json) }, uniquingKeysWith: { _, b in b }))
        case .sequence(let items, _): return .array(items.map(\.json))
        }
    }

    package var string: String? {
        if case .scalar(let v, _) = self {
            switch v {
            case .string(let s): return s
            case .int(let i): return String(i)
            case .double(let d): return String(d)
            case .bool(let b): return String(b)
            default: return nil
            }
        }
        return nil
    }

    /// Parses YAML text, throwing a `ScenarioError` with the line of a syntax error.
    package static func parse(_ text: String, file: String) throws -> ScenarioNode {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScenarioError(file: file, line: 1, message: "the file is empty")
            }
            return convert(node)
        } catch let e as ScenarioError {
            throw e
        } catch let e as YamlError {
            throw ScenarioError(file: file, line: e.line ?? 1, message: "YAML syntax error: \(e.problem)")
        } catch {
            throw ScenarioError(file: file, line: 1, message: "YAML error: \(error)")
        }
    }

    private static func convert(_ node: Node) -> ScenarioNode {
        let line = node.mark?.line ?? 0
        switch node {
        case .scalar(let s):
            let value: JSON
            if s.style == .plain {
                let t = s.string
                if t.isEmpty || t == "~" || t == "null" { value = .null }
                else if ["true", "True", "TRUE"].contains(t) { value = .bool(true) }
                else if ["false", "False", "FALSE"].contains(t) { value = .bool(false) }
                else if let i = Int(t) { value = .int(i) }
                else if let d = Double(t), t.contains(".") { value = .double(d) }
                else { value = .string(t) }
            } else {
                value = .string(s.string)
            }
            return .scalar(value, line: line)
        case .mapping(let m):
            return .mapping(m.map { (k, v) in (k.string ?? "", convert(v)) }, line: line)
        case .sequence(let seq):
            return .sequence(seq.map(convert), line: line)
        case .alias:
            return .scalar(.string("*alias"), line: line)
        }
    }
}

extension YamlError {
    package var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    package var problem: String {
        switch self {
        case .scanner(_, let p, _, _), .parser(_, let p, _, _), .composer(_, let p, _, _): return p
        default: return "\(self)"
        }
    }
}

/// A problem in a scenario file, with its line.
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String
    public var description: String { "\(file):\(line): \(message)" }
}
