import Foundation
import NylasSimAPI
import NylasSimControl
import NylasSimCore
#if canImport(Glibc)
import Glibc
#endif

/// `nylas-sim drift FILE`: replays a recording (`nylas-sim proxy`) in order against a fresh
/// simulator set up to match it, and reports per operation where the simulator answers differently:
/// status class, error type, response shape (keys, types, nullability, array vs object, pagination
/// fields) and notable headers. Values are never compared: IDs, times and texts differ by nature.
public enum DriftCheck {
    public struct Difference: Sendable {
        public let operation: String
        public let exchange: Int
        /// `status`, `error_type`, `missing_key` (the simulator lacks it), `extra_key` (only the simulator has
        /// it), `type`, `nullability`, `array_object`, `pagination`, `header`.
        public let kind: String
        public let field: String
        public let recorded: String
        public let simulator: String
        public var allowed = false

        var json: JSON {
            ["operation": .string(operation), "exchange": .int(exchange), "kind": .string(kind), "field": .string(field),
             "recorded": .string(recorded), "simulator": .string(simulator), "allowed": .bool(allowed)]
        }
        var text: String { "\(kind) \(field.isEmpty ? "" : field + " ")recorded \(recorded), simulator \(simulator)\(allowed ? " (allowed)" : "")" }
    }

    /// An allow-list entry: glob patterns on the operation, kind and field.
    public struct AllowRule: Sendable {
        public let operation: String
        public let kind: String
        public let field: String
        public let reason: String

        func matches(_ d: Difference) -> Bool {
            glob(operation, d.operation) && glob(kind, d.kind) && glob(field, d.field)
        }

        /// Reads `[{operation, kind?, field?, reason?}]` from a JSON file.
        public static func load(path: String) throws -> [AllowRule] {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard case .array(let items)? = try? JSON.parse(Array(text.utf8)) else {
                throw NylasError.invalidRequest("\(path): expected a JSON array of {operation, kind, field, reason} rules")
            }
            return items.map { r in
                AllowRule(operation: r["operation"]?.stringValue ?? "*", kind: r["kind"]?.stringValue ?? "*",
                          field: r["field"]?.stringValue ?? "*", reason: r["reason"]?.stringValue ?? "")
            }
        }
    }

    public struct Report: Sendable {
        public var exchanges = 0
        public var replayed = 0
        public var skipped: [(exchange: Int, operation: String, reason: String)] = []
        public var operations: [String] = []
        public var differences: [Difference] = []
        public var unallowed: [Difference] { differences.filter { !$0.allowed } }

        public var json: JSON {
            var ops: [JSON] = []
            for op in operations {
                let diffs = differences.filter { $0.operation == op }
                ops.append(["operation": .string(op), "differences": .array(diffs.map(\.json))])
            }
            return ["exchanges": .int(exchanges), "replayed": .int(replayed),
                    "skipped": .array(skipped.map { ["exchange": .int($0.exchange), "operation": .string($0.operation), "reason": .string($0.reason)] }),
                    "operations": .array(ops), "differences": .int(differences.count), "unallowed": .int(unallowed.count)]
        }

        public var text: String {
            var lines = ["Drift: \(replayed) of \(exchanges) recorded exchanges replayed, \(operations.count) operations, "
                         + "\(differences.count) differences (\(unallowed.count) not allowed)", ""]
            for op in operations {
                let diffs = differences.filter { $0.operation == op }
                lines.append("\(diffs.isEmpty ? "same" : diffs.allSatisfy(\.allowed) ? "allowed" : "DRIFT")\t\(op)")
                for d in diffs { lines.append("\t\(d.text)  [exchange \(d.exchange)]") }
            }
            if !skipped.isEmpty {
                lines.append("")
                lines.append("Not replayed:")
                for s in skipped { lines.append("\t#\(s.exchange) \(s.operation): \(s.reason)") }
            }
            return lines.joined(separator: "\n")
        }

        public var junit: String {
            func esc(_ s: String) -> String { HTML.escape(s) }
            var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            out += "<testsuite name=\"nylas-sim drift\" tests=\"\(operations.count)\" failures=\"\(Set(unallowed.map(\.operation)).count)\" skipped=\"0\">\n"
            for op in operations {
                let diffs = differences.filter { $0.operation == op && !$0.allowed }
                out += "  <testcase classname=\"drift\" name=\"\(esc(op))\""
                if diffs.isEmpty { out += "/>\n"; continue }
                out += ">\n    <failure message=\"\(diffs.count) differences\">\(esc(diffs.map(\.text).joined(separator: "\n")))</failure>\n  </testcase>\n"
            }
            return out + "</testsuite>\n"
        }
    }

    // MARK: Replay

    /// Replays `exchanges` against a fresh simulator and compares.
    public static func run(_ exchanges: [DriftExchange], allow: [AllowRule] = []) async throws -> Report {
        var options = SimulatorOptions(seed: "drift")
        options.ports = [.us: 0, .eu: 0]
        let sim = try await Simulator.start(options)
        defer { Task { await sim.shutdown() } }
        var report = Report()
        report.exchanges = exchanges.count
        var ids = IDMap()
        // The mail and events the recording saw, as fixtures (texts scrubbed), so that lists have
        // items to compare; then the grants it shows, with their e-mail and provider.
        for f in DriftFixtures.fixtures(exchanges, grants: recordedGrants(exchanges)) {
            if f.kind == "mailbox" { _ = try? sim.loadFixture(f.fixture) } else { _ = try? sim.loadCalendarFixture(f.fixture) }
        }
        var tokens: [String: String] = [:]
        for (recorded, info) in grants(in: exchanges) {
            let g = try sim.createGrant(email: info.email, provider: info.provider)
            ids.map[recorded] = g.id
            tokens[g.id] = g.accessToken
        }
        let apiKey = sim.region(.us).v3.apiKey
        let v2 = sim.region(.us).v2
        var seen = Set<String>()
        // IDs only answers that were not replayed know: a request naming one is not replayed either.
        var orphans = Set<String>()
        for (n, e) in exchanges.enumerated() {
            let index = n + 1
            let operation = template(e.method, e.path, ids: ids)
            if !seen.contains(operation) { seen.insert(operation); report.operations.append(operation) }
            if let reason = unreplayable(e) ?? dependsOnSkipped(e, orphans) {
                report.skipped.append((index, operation, reason))
                collectIDs(e.responseBody, into: &orphans)
                continue
            }
            var headers: [String: String] = [:]
            for (k, v) in e.requestHeaders where !["authorization", "x-request-id", "user-agent", "accept-encoding"].contains(k) { headers[k] = v }
            let path = ids.substitute(in: e.path)
            switch e.requestHeaders["authorization"] {
            case "Bearer <api-key>"?: headers["authorization"] = "Bearer \(apiKey)"
            case "Bearer <access-token>"?, "Bearer <token>"?:
                let grant = grantSegment(path).flatMap { tokens[$0] } ?? tokens.values.sorted().first
                if let grant { headers["authorization"] = "Bearer \(grant)" }
            case "Basic <client-secret>"?:
                headers["authorization"] = "Basic " + Data("\(v2.clientSecret):".utf8).base64EncodedString()
            case "Bearer <rejected-token>"?:
                headers["authorization"] = "Bearer nyk_v0_refused_in_the_recording"
            default: break
            }
            let query = ids.substitute(in: e.query)
            var body: [UInt8] = []
            if !e.requestBody.isNull { body = ids.substitute(in: e.requestBody).bytes }
            let request = SimRequest(method: e.method, target: path + (query.isEmpty ? "" : "?" + query), headers: headers, body: body)
            let answer = await sim.send(request, region: .us)
            report.replayed += 1
            let simBody = (try? JSON.parse(answer.body)) ?? .null
            var diffs = compare(e, status: answer.status, headers: answer.headers, body: simBody, operation: operation, exchange: index)
            for i in diffs.indices where allow.contains(where: { $0.matches(diffs[i]) }) { diffs[i].allowed = true }
            for d in diffs where !report.differences.contains(where: { $0.operation == d.operation && $0.kind == d.kind && $0.field == d.field }) {
                report.differences.append(d)
            }
            if (200..<300).contains(e.status), (200..<300).contains(answer.status) { ids.learn(recorded: e.responseBody, simulator: simBody) }
        }
        return report
    }

    /// The grants of a recording with the e-mail and provider it shows (for fixtures).
    public static func recordedGrants(_ exchanges: [DriftExchange]) -> [(id: String, email: String, provider: String)] {
        grants(in: exchanges).map { ($0.0, $0.1.email, $0.1.provider) }
    }

    /// What cannot be replayed from a redacted recording.
    static func unreplayable(_ e: DriftExchange) -> String? {
        if e.path.hasPrefix("/v3/connect/") || e.path.hasPrefix("/oauth/") || e.path.hasPrefix("/connect/") {
            return "an OAuth exchange: its codes and tokens are redacted"
        }
        if e.requestBody["bytes"] != nil { return "a binary or multipart request body (recorded by size only)" }
        if e.requestBody["form"] != nil { return "a form-encoded body with redacted fields" }
        return nil
    }

    static func dependsOnSkipped(_ e: DriftExchange, _ orphans: Set<String>) -> String? {
        guard !orphans.isEmpty else { return nil }
        let text = e.path + "?" + e.query + String(decoding: e.requestBody.bytes, as: UTF8.self)
        guard let id = orphans.first(where: { text.contains($0) }) else { return nil }
        return "names \(id), which only an answer that was not replayed gave"
    }

    static func collectIDs(_ j: JSON, into set: inout Set<String>) {
        switch j {
        case .object(let o):
            for (k, v) in o {
                if k == "id" || k.hasSuffix("_id"), let s = v.stringValue, s.count >= 6 { set.insert(s) } else { collectIDs(v, into: &set) }
            }
        case .array(let a): for v in a { collectIDs(v, into: &set) }
        default: break
        }
    }

    /// The grants a recording names, with the e-mail and provider it shows for them.
    static func grants(in exchanges: [DriftExchange]) -> [(String, (email: String, provider: String))] {
        var order: [String] = []
        var info: [String: (email: String, provider: String)] = [:]
        func note(_ id: String) { if !order.contains(id) { order.append(id) } }
        func scan(_ j: JSON) {
            switch j {
            case .object(let o):
                if let id = o["id"]?.stringValue, let email = o["email"]?.stringValue, let provider = o["provider"]?.stringValue,
                   o["grant_status"] != nil {
                    note(id)
                    info[id] = (email, provider)
                }
                o.values.forEach(scan)
            case .array(let a): a.forEach(scan)
            default: break
            }
        }
        for e in exchanges {
            if let g = grantSegment(e.path) { note(g) }
            scan(e.responseBody)
        }
        return order.enumerated().map { i, id in
            (id, info[id] ?? ("grant\(i + 1)@drift.example.com", "google"))
        }
    }

    static func grantSegment(_ path: String) -> String? {
        let parts = path.split(separator: "/")
        guard parts.count >= 3, parts[0] == "v3", parts[1] == "grants", parts[2] != "me" else { return nil }
        return String(parts[2])
    }

    /// `GET /v3/grants/{grant_id}/messages/{id}`: IDs (known ones, or long tokens with digits) become placeholders.
    static func template(_ method: String, _ path: String, ids: IDMap) -> String {
        let parts = path.split(separator: "/").map(String.init)
        var out: [String] = []
        for (i, p) in parts.enumerated() {
            let looksLikeID = ids.map[p] != nil || ids.map.values.contains(p) || (p.count >= 10 && p.contains { $0.isNumber })
                || (p.contains("@") && i > 0)
            if looksLikeID, i > 0 {
                out.append(parts[i - 1] == "grants" ? "{grant_id}" : "{id}")
            } else {
                out.append(p)
            }
        }
        return method + " /" + out.joined(separator: "/")
    }

    // MARK: Comparison

    static let notableHeaders = ["content-type", "retry-after", "idempotent-response", "location"]
    static let paginationKeys: Set<String> = ["next_cursor", "prev_cursor", "limit", "offset", "next_page_number"]

    static func compare(_ e: DriftExchange, status: Int, headers: [String: String], body: JSON, operation: String, exchange: Int) -> [Difference] {
        var out: [Difference] = []
        func add(_ kind: String, _ field: String, _ r: String, _ s: String) {
            out.append(Difference(operation: operation, exchange: exchange, kind: kind, field: field, recorded: r, simulator: s))
        }
        if e.status / 100 != status / 100 { add("status", "", String(e.status), String(status)) }
        let recordedError = e.responseBody["error"]?["type"]?.stringValue ?? e.responseBody["type"]?.stringValue
        let simError = body["error"]?["type"]?.stringValue ?? body["type"]?.stringValue
        if e.status >= 400, status >= 400, recordedError != simError {
            add("error_type", "error.type", recordedError ?? "none", simError ?? "none")
        }
        for h in notableHeaders {
            let r = e.responseHeaders[h].map { $0.split(separator: ";").first.map(String.init) ?? $0 }
            let s = headers.first { $0.key.lowercased() == h }.map { $0.value.split(separator: ";").first.map(String.init) ?? $0.value }
            if h == "content-type" ? (r != nil && s != nil && r?.lowercased() != s?.lowercased()) : ((r == nil) != (s == nil)) {
                add("header", h, r ?? "absent", s ?? "absent")
            }
        }
        if (200..<300).contains(e.status), (200..<300).contains(status), e.responseBody["bytes"] == nil {
            shape(e.responseBody, body, "", &out, operation: operation, exchange: exchange)
            // A full recorded page had more after it; the replay holds only what the recording saw,
            // so a missing cursor there says nothing.
            let limit = QueryParameters(e.query)["limit"].flatMap(Int.init)
            let recordedCount = e.responseBody["data"]?.arrayValue?.count
            if let limit, recordedCount == limit, body["data"]?.arrayValue?.count == limit {
                out.removeAll { $0.kind == "pagination" && $0.recorded != "absent" && $0.simulator == "absent" }
            }
        }
        return out
    }

    static func kindName(_ j: JSON) -> String { j.typeName }

    static func shape(_ r: JSON, _ s: JSON, _ field: String, _ out: inout [Difference], operation: String, exchange: Int) {
        func add(_ kind: String, _ f: String, _ a: String, _ b: String) {
            out.append(Difference(operation: operation, exchange: exchange, kind: kind, field: f, recorded: a, simulator: b))
        }
        let (rk, sk) = (kindName(r), kindName(s))
        if rk != sk {
            if rk == "null" || sk == "null" { add("nullability", field, rk, sk) }
            else if Set([rk, sk]) == ["array", "object"] { add("array_object", field, rk, sk) }
            else { add("type", field, rk, sk) }
            return
        }
        switch (r, s) {
        case (.object(let a), .object(let b)):
            for key in Set(a.keys).union(b.keys).sorted() {
                let f = field.isEmpty ? key : field + "." + key
                let top = field.isEmpty || field == "data"
                switch (a[key], b[key]) {
                case (let x?, nil): add(top && paginationKeys.contains(key) ? "pagination" : "missing_key", f, kindName(x), "absent")
                case (nil, let y?): add(top && paginationKeys.contains(key) ? "pagination" : "extra_key", f, "absent", kindName(y))
                case (let x?, let y?): shape(x, y, f, &out, operation: operation, exchange: exchange)
                default: break
                }
            }
        case (.array(let a), .array(let b)):
            // Every element's keys count: a key that some recorded element has and no simulated one
            // (or the other way round) is a difference, whatever the order of the elements.
            if let x = union(a), let y = union(b) { shape(x, y, field + "[]", &out, operation: operation, exchange: exchange) }
        default: break
        }
    }

    /// The elements of an array merged into one: objects key by key (a key's first non-null value),
    /// anything else the first element.
    static func union(_ items: [JSON]) -> JSON? {
        guard let first = items.first else { return nil }
        guard case .object = first else { return first }
        var merged: [String: JSON] = [:]
        for case .object(let o) in items {
            for (k, v) in o {
                if let existing = merged[k] {
                    if existing.isNull, !v.isNull { merged[k] = v }
                    else if case .array(let a) = existing, case .array(let b) = v { merged[k] = .array(a + b) }
                    else if case .object = existing, case .object = v { merged[k] = union([existing, v]) ?? existing }
                } else {
                    merged[k] = v
                }
            }
        }
        return .object(merged)
    }
}

/// Recorded IDs and the simulator's, learnt as objects are created or listed.
struct IDMap {
    var map: [String: String] = [:]

    func substitute(in text: String) -> String {
        guard !map.isEmpty else { return text }
        var out = text
        for (recorded, sim) in map.sorted(by: { $0.key.count > $1.key.count }) where recorded.count >= 6 {
            out = out.replacingOccurrences(of: recorded, with: sim)
        }
        return out
    }

    func substitute(in j: JSON) -> JSON {
        switch j {
        case .string(let s): return .string(map[s] ?? s)
        case .array(let a): return .array(a.map(substitute(in:)))
        case .object(let o): return .object(o.mapValues(substitute(in:)))
        default: return j
        }
    }

    /// Pairs the IDs of two answers to the same request: `id` and `*_id` fields at the same place.
    mutating func learn(recorded: JSON, simulator: JSON) {
        switch (recorded, simulator) {
        case (.object(let a), .object(let b)):
            for (key, value) in a {
                guard let other = b[key] else { continue }
                if key == "id" || key.hasSuffix("_id") || key == "workspace_id", let r = value.stringValue, let s = other.stringValue,
                   r != s, map[r] == nil, !r.isEmpty {
                    map[r] = s
                } else {
                    learn(recorded: value, simulator: other)
                }
            }
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) { learn(recorded: x, simulator: y) }
        default: break
        }
    }
}

/// Globs as the shell has them (`*`, `?`, `[...]`).
func glob(_ pattern: String, _ text: String) -> Bool {
    fnmatch(pattern, text, 0) == 0
}
