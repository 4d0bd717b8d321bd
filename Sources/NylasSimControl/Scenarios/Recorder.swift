import Foundation
import Synchronization
import Yams
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

/// Records a run's API requests and responses as a scenario file (`serve --record FILE`): each
/// request becomes a step at its virtual time that expects the same status and body, so a replay
/// against a fresh simulator with the same seed shows, step by step, whatever changed.
public final class RequestRecorder: Sendable {
    package struct Entry: Sendable {
        package let offset: Duration
        package let region: Region
        package let method: String
        package let target: String
        package let authorization: String?
        package let contentType: String?
        package let body: [UInt8]
        package let status: Int
        package let response: [UInt8]
    }

    private let entries = Mutex<[Entry]>([])
    package let start: VirtualTime

    package init(start: VirtualTime) { self.start = start }

    package func append(_ request: SimRequest, _ response: SimResponse, region: Region, now: VirtualTime) {
        var target = request.path
        if !request.query.pairs.isEmpty { target += "?" + request.query.encoded }
        let entry = Entry(offset: now - start, region: region, method: request.method, target: target,
                          authorization: request.header("authorization"), contentType: request.contentType,
                          body: request.body, status: response.status, response: response.body)
        entries.withLock { $0.append(entry) }
    }

    /// The recorded run as scenario YAML.
    public func scenarioYAML(name: String, seed: String) -> String {
        var steps: [[String: Any]] = []
        for e in entries.withLock({ $0 }) {
            var request: [String: Any] = ["method": e.method, "path": e.target]
            if e.region != .us { request["region"] = e.region.rawValue }
            if let auth = e.authorization {
                if auth.lowercased().hasPrefix("bearer ") {
                    request["as"] = String(auth.dropFirst(7))
                } else if auth.lowercased().hasPrefix("basic "),
                          let decoded = Data(base64Encoded: String(auth.dropFirst(6))).flatMap({ String(data: $0, encoding: .utf8) }) {
                    request["as"] = "basic:" + (decoded.split(separator: ":").first.map(String.init) ?? "")
                } else {
                    request["as"] = auth
                }
            } else {
                request["as"] = "none"
            }
            if !e.body.isEmpty {
                if let json = try? JSON.parse(e.body), e.contentType == "application/json" || e.contentType == nil {
                    request["body"] = yamlValue(json)
                } else {
                    request["raw"] = String(decoding: e.body, as: UTF8.self)
                    if let type = e.contentType { request["headers"] = ["Content-Type": type] }
                }
            }
            var expect: [String: Any] = ["status": e.status]
            if let json = try? JSON.parse(e.response) { expect["body_equals"] = yamlValue(json) }
            let ms = e.offset.milliseconds
            steps.append(["at": "\(ms)ms", "request": request, "expect": expect])
        }
        let doc: [String: Any] = ["name": name, "description": "Recorded by nylas-sim serve --record", "seed": seed,
                                  "clock": "manual", "steps": steps]
        return (try? Yams.dump(object: doc, sortKeys: true)) ?? ""
    }

    private func yamlValue(_ j: JSON) -> Any {
        switch j {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .array(let a): return a.map(yamlValue)
        case .object(let o): return o.mapValues(yamlValue)
        }
    }
}

