import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

/// Runs a scenario's set-up and timeline against a simulator through the same operations as the
/// control API. `replay` uses a fresh in-process simulator; `live` loads into a running server,
/// where `at:` waits for the clock instead of moving it.
public final class ScenarioRunner {
    package let core: Engine
    package let live: Bool
    private var vars: [String: JSON] = [:]
    private var receivers: [String: WebhookReceiver] = [:]
    private var start = VirtualTime(milliseconds: 0)
    private var results: [ScenarioStepResult] = []
    private var index = 0

    package init(core: Engine, live: Bool) {
        self.core = core
        self.live = live
    }

    /// Loads a scenario into a running simulator (`serve --scenario`, `POST /__sim/scenarios`).
    package static func load(_ scenario: Scenario, core: Engine) -> Task<ScenarioResult, Never> {
        Task {
            let runner = ScenarioRunner(core: core, live: true)
            let result = await runner.run(scenario)
            core.recordScenario(result)
            return result
        }
    }

    package func stopReceivers() async {
        for r in receivers.values { await r.stop() }
    }

    package func run(_ scenario: Scenario) async -> ScenarioResult {
        let began = ContinuousClock.now
        start = core.now
        vars["start"] = .int(start.seconds)
        for region in Region.allCases {
            let apps = (try? core.withState { try $0.store(region).applications() }) ?? []
            var r: [String: JSON] = ["base_url": .optional(core.baseURLs.withLock { $0[region] })]
            if let v3 = apps.first(where: { $0.apiVersion == 3 }) {
                r["api_key"] = .optional(v3.apiKey)
                r["application_id"] = .string(v3.id)
                r["client_id"] = .string(v3.clientID)
                r["client_secret"] = .string(v3.clientSecret)
            }
            if let v2 = apps.first(where: { $0.apiVersion == 2 }) {
                r["v2"] = ["client_id": .string(v2.clientID), "client_secret": .string(v2.clientSecret)]
            }
            vars[region.rawValue] = .object(r)
        }
        if let setup = scenario.setup {
            for key in ["receivers", "webhooks", "mailboxes", "fixtures", "grants", "faults"] {
                for item in setup[key]?.items ?? [] {
                    let kind = ["receivers": "receiver", "mailboxes": "mailbox", "fixtures": "load_fixture", "grants": "grant",
                                "webhooks": "webhook", "faults": "fault"][key]!
                    await perform(kind, item, step: item)
                }
            }
        }
        for step in scenario.steps {
            guard let kind = step.keys.first(where: { Scenario.stepKeys[$0] != nil }), let body = step[kind] else { continue }
            if let at = step["at"]?.string.flatMap(Duration.init(parsing:)) {
                let target = start + at
                if live {
                    while core.now < target { try? await Task.sleep(for: .milliseconds(20)) }
                } else if target < core.now {
                    record(step, "at", false, "at \(at) is before the current virtual time")
                    continue
                } else {
                    await core.advance(to: target)
                }
            }
            await perform(kind, body, step: step)
        }
        return ScenarioResult(name: scenario.name, file: scenario.file, steps: results, wallTime: ContinuousClock.now - began)
    }

    private func record(_ step: ScenarioNode, _ kind: String, _ passed: Bool, _ detail: String) {
        index += 1
        results.append(ScenarioStepResult(index: index, line: step.line, kind: kind, offset: core.now - start, passed: passed,
                                          detail: passed ? detail : "line \(step.line): \(detail)"))
    }

    private func value(_ node: ScenarioNode?) throws -> JSON? {
        guard let node else { return nil }
        return try Variables.substitute(node.json, vars)
    }

    private func string(_ node: ScenarioNode?) throws -> String? {
        guard let v = try value(node) else { return nil }
        if case .string(let s) = v { return s }
        if case .int(let i) = v { return String(i) }
        return v.isNull ? nil : v.text
    }

    private func region(_ node: ScenarioNode) throws -> Region {
        guard let name = try string(node["region"]) else { return .us }
        guard let r = Region(rawValue: name) else { throw ScenarioFailure("region must be us or eu, got \(name)") }
        return r
    }

    // MARK: Steps

    private func perform(_ kind: String, _ body: ScenarioNode, step: ScenarioNode) async {
        do {
            let detail = try await execute(kind, body, step: step)
            record(step, kind, true, detail)
        } catch let f as ScenarioFailure {
            record(step, kind, false, f.description)
        } catch let e as NylasError {
            record(step, kind, false, "\(e.status) \(e.type): \(e.message)")
        } catch {
            record(step, kind, false, "\(error)")
        }
    }

    private func execute(_ kind: String, _ body: ScenarioNode, step: ScenarioNode) async throws -> String {
        switch kind {
        case "log":
            return try string(body) ?? ""
        case "advance":
            guard let d = Duration(parsing: try string(body) ?? ""), d >= .zero, d <= Duration.longestAdvance else {
                throw ScenarioFailure("advance needs a duration such as 90s, 10m or 72h (at most 400 days), got '\(try string(body) ?? "")'")
            }
            if live { let target = core.now + d; await core.advance(to: target) } else { await core.advance(by: d) }
            return "clock +\(try string(body) ?? "")"
        case "request":
            return try await request(body, expect: step["expect"], save: step["save"])
        case "mailbox":
            let email = try string(body["email"]) ?? ""
            _ = try core.createMailbox(email: email, provider: try string(body["provider"]), name: try string(body["name"]))
            return "mailbox \(email)"
        case "load_fixture":
            let named = try string(body["path"])
            var path = try named ?? string(body) ?? ""
            // A scenario loaded into a running server reads only under its file root, like the control API.
            if live { path = try core.fileRoot.resolve(path, field: "path") }
            let n = try core.loadFixture(nil, path: path, mailbox: try string(body["mailbox"]), provider: try string(body["provider"])).loaded
            return "fixture \(path): \(n) messages"
        case "deliver":
            let fields = BodyFields((try value(body))?.objectValue ?? [:])
            let to = try fields.requiredString("to")
            let m = try NewMessage.parse(fields, now: core.now.seconds)
            let world = try core.deliverMail(to: to, m)
            let saves = try value(step["save"])?.objectValue ?? [:]
            for (name, path) in saves {
                vars[name] = JSONPath.get(world, path.stringValue ?? "") ?? .null
            }
            return "mail to \(to): \(m.subject)"
        case "change_mail":
            let f = BodyFields((try value(body))?.objectValue ?? [:])
            _ = try core.changeMail(mailbox: try f.requiredString("mailbox"), message: try f.requiredString("message"),
                                    unread: try f.bool("unread"), starred: try f.bool("starred"), folders: try f.stringArray("folders"),
                                    delete: try f.bool("delete") ?? false)
            return "mail changed in \(try f.requiredString("mailbox"))"
        case "password", "revoke":
            let mailbox = try string(body) ?? ""
            let expired = try core.invalidateCredentials(mailbox: mailbox)
            return "\(kind) \(mailbox): \(expired.count) grant(s) expired"
        case "outage":
            let f = BodyFields((try value(body))?.objectValue ?? [:])
            guard let d = try f.string("duration").flatMap(Duration.init(parsing:)) else { throw ScenarioFailure("outage needs a duration") }
            _ = core.addOutage(provider: try f.string("provider"), mailbox: try f.string("mailbox"), duration: d)
            let target = try f.string("provider") ?? f.string("mailbox") ?? "all"
            return "outage \(target) for \(try f.string("duration") ?? "")"
        case "fault":
            let rule = core.addFault(try FaultRule.parse(BodyFields((try value(body))?.objectValue ?? [:]), now: core.now))
            if let name = step["as"]?.string ?? body["as"]?.string { vars[name] = ["id": .string(rule.id)] }
            return "fault \(rule.id) on \(rule.path ?? rule.provider ?? "all requests")"
        case "remove_fault":
            let id = try string(body) ?? ""
            guard core.withState({ $0.faults.remove(id) }) else { throw ScenarioFailure("no fault rule \(id)") }
            return "fault \(id) removed"
        case "clear_faults":
            core.withState { $0.faults.removeAll() }
            return "faults cleared"
        case "receiver":
            return try await receiver(body)
        case "grant":
            return try await grant(body)
        case "expire_credentials":
            let f = BodyFields((try value(body))?.objectValue ?? [:])
            let id = try f.requiredString("grant")
            try core.expireCredentials(region: try region(body), grantID: id)
            return "grant \(id) credentials expired"
        case "webhook":
            return try await webhook(body)
        case "scheduler_configuration":
            let f = BodyFields((try value(body))?.objectValue ?? [:])
            let name = try f.requiredString("as")
            guard let configuration = try f.object("configuration") else { throw ScenarioFailure("scheduler_configuration needs configuration") }
            let created = try core.createSchedulerConfiguration(region: try region(body), grantID: try f.requiredString("grant"), configuration)
            vars[name] = created
            return "configuration \(created["id"]?.stringValue ?? "") as $\(name)"
        case "book":
            let f = BodyFields((try value(body))?.objectValue ?? [:])
            let name = try f.requiredString("as")
            let guest = BodyFields(try f.object("guest") ?? [:])
            guard let start = try f.int("start_time"), let end = try f.int("end_time") else { throw ScenarioFailure("book needs start_time and end_time") }
            let booking = try core.bookScheduler(region: try region(body), configurationID: try f.requiredString("configuration"),
                                                 SchedulerOperations.BookingInput(
                                                    start: start, end: end, guest: Participant(name: try guest.string("name") ?? "", email: try guest.requiredString("email"))))
            vars[name] = booking
            return "booking \(booking["booking_id"]?.stringValue ?? "") (\(booking["status"]?.stringValue ?? "")) as $\(name)"
        case "expect_webhooks":
            return try await expectWebhooks(body)
        default:
            throw ScenarioFailure("unknown step kind \(kind)")
        }
    }

    private func receiver(_ body: ScenarioNode) async throws -> String {
        let name = try string(body["name"]) ?? (try string(body)) ?? "receiver"
        if receivers[name] == nil {
            let r = try await WebhookReceiver.start()
            receivers[name] = r
            vars[name] = ["url": .string(r.url)]
        }
        let r = receivers[name]!
        if let respond = try string(body["respond"]) {
            let behaviour: WebhookReceiver.Behaviour
            if respond == "ok" { behaviour = .ok } else if respond == "drop" { behaviour = .drop } else if let code = Int(respond) {
                behaviour = .status(code)
            } else if respond.hasPrefix("delay "), let d = Duration(parsing: String(respond.dropFirst(6))) {
                behaviour = .delay(d)
            } else {
                throw ScenarioFailure("respond must be ok, drop, a status code or 'delay <duration>'")
            }
            let times = try value(body["times"])?.intValue
            r.script(behaviour, times: times)
            return "receiver \(name) answers \(respond)\(times.map { " \($0) times" } ?? "")"
        }
        return "receiver \(name) at \(r.url)"
    }

    private func grant(_ body: ScenarioNode) async throws -> String {
        let f = BodyFields((try value(body))?.objectValue ?? [:])
        let name = try f.requiredString("as")
        let email = try f.requiredString("email")
        let region = try region(body)
        let provider = try f.string("provider")
        if try f.string("via") == "oauth" {
            let clientID = vars[region.rawValue]?["client_id"]?.stringValue ?? ""
            let redirect = SimulatorConfig.defaultCallbackURI
            var target = "/v3/connect/auth?client_id=\(clientID)&redirect_uri=\(QueryParameters.encode(redirect))&response_type=code&access_type=offline&login_hint=\(QueryParameters.encode(email))"
            if let provider { target += "&provider=\(provider)" }
            let auth = await core.handle(SimRequest(method: "GET", target: target), region: region)
            guard auth.status == 302, let location = auth.headers["Location"], let code = URLComponents(string: location)?
                .queryItems?.first(where: { $0.name == "code" })?.value else {
                throw ScenarioFailure("hosted auth failed: \(auth.status) \(auth.text)")
            }
            let body: JSON = ["grant_type": "authorization_code", "client_id": .string(clientID), "code": .string(code),
                              "redirect_uri": .string(redirect),
                              "client_secret": vars[region.rawValue]?["api_key"] ?? .null]
            let token = await core.handle(SimRequest(method: "POST", target: "/v3/connect/token",
                                                     headers: ["Content-Type": "application/json"], body: body.bytes), region: region)
            guard token.status == 200, let t = token.json else { throw ScenarioFailure("token exchange failed: \(token.text)") }
            vars[name] = ["id": t["grant_id"] ?? .null, "email": .string(email), "access_token": t["access_token"] ?? .null,
                          "refresh_token": t["refresh_token"] ?? .null, "provider": t["provider"] ?? .null]
        } else {
            let o = try core.createGrantDirectly(region: region, applicationID: try f.string("application"), email: email,
                                                 provider: provider, scope: try f.stringArray("scope"), name: try f.string("name"))
            vars[name] = ["id": o["id"] ?? .null, "email": o["email"] ?? .null, "access_token": o["access_token"] ?? .null,
                          "refresh_token": o["refresh_token"] ?? .null, "provider": o["provider"] ?? .null]
        }
        return "grant $\(name) = \(vars[name]?["id"]?.stringValue ?? "?") (\(email), \(region.rawValue))"
    }

    private func webhook(_ body: ScenarioNode) async throws -> String {
        let f = BodyFields((try value(body))?.objectValue ?? [:])
        let name = try f.requiredString("as")
        let region = try region(body)
        let receiverName = try f.requiredString("receiver")
        guard let receiver = receivers[receiverName] else { throw ScenarioFailure("no receiver named \(receiverName)") }
        var payload: [String: JSON] = ["trigger_types": .strings(try f.stringArray("trigger_types") ?? ["message.created"]),
                                       "webhook_url": .string(receiver.url)]
        if let c = try f.bool("compressed_delivery") { payload["compressed_delivery"] = .bool(c) }
        let key = vars[region.rawValue]?["api_key"]?.stringValue ?? ""
        let r = await core.handle(SimRequest(method: "POST", target: "/v3/webhooks",
                                             headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
                                             body: JSON.object(payload).bytes), region: region)
        guard r.status == 200, let data = r.json?["data"] else { throw ScenarioFailure("webhook creation failed: \(r.status) \(r.text)") }
        let secret = data["webhook_secret"]?.stringValue ?? ""
        receiver.trust(secret: secret)
        vars[name] = ["id": data["id"] ?? .null, "secret": .string(secret)]
        return "webhook $\(name) = \(data["id"]?.stringValue ?? "") → \(receiverName)"
    }

    private func request(_ body: ScenarioNode, expect: ScenarioNode?, save: ScenarioNode?) async throws -> String {
        let method = (try string(body["method"]) ?? "GET").uppercased()
        let path = try string(body["path"]) ?? "/"
        let region = try region(body)
        var headers: [String: String] = [:]
        for (k, v) in (try value(body["headers"]))?.objectValue ?? [:] { headers[k] = v.stringValue ?? v.text }
        let credential = try string(body["as"]) ?? "api_key"
        switch credential {
        case "api_key": headers["Authorization"] = "Bearer \(vars[region.rawValue]?["api_key"]?.stringValue ?? "")"
        case "none": break
        default:
            if credential.hasPrefix("basic:") {
                headers["Authorization"] = "Basic " + Data("\(credential.dropFirst(6)):".utf8).base64EncodedString()
            } else {
                headers["Authorization"] = "Bearer \(credential)"
            }
        }
        var bytes: [UInt8] = []
        if let json = try value(body["body"]) {
            bytes = json.bytes
            headers["Content-Type"] = headers["Content-Type"] ?? "application/json"
        } else if let form = try value(body["form"])?.objectValue {
            bytes = Array(form.keys.sorted().map { "\($0)=\(QueryParameters.encode(form[$0]!.stringValue ?? form[$0]!.text))" }
                .joined(separator: "&").utf8)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        } else if let raw = try string(body["raw"]) {
            bytes = Array(raw.utf8)
        }
        let response = await core.handle(SimRequest(method: method, target: path, headers: headers, body: bytes), region: region)
        let json = response.json
        var problems: [String] = []
        if let expect {
            if let status = try value(expect["status"])?.intValue, status != response.status {
                problems.append("expected status \(status), got \(response.status) \(String(response.text.prefix(300)))")
            }
            for (path, expected) in (try value(expect["body"]))?.objectValue ?? [:] {
                let actual = json.flatMap { JSONPath.get($0, path) }
                if let problem = Matcher.check(expected, actual) { problems.append("body \(path): \(problem)") }
            }
            if let whole = try value(expect["body_equals"]) {
                let diff = JSONPath.diff(whole, json ?? .null)
                if !diff.isEmpty { problems.append("body differs: " + diff.prefix(10).joined(separator: "; ")) }
            }
            for (name, expected) in (try value(expect["headers"]))?.objectValue ?? [:] {
                let actual = response.headers.first { $0.key.lowercased() == name.lowercased() }?.value
                if actual != expected.stringValue { problems.append("header \(name): expected \(expected.text), got \(actual ?? "none")") }
            }
        }
        if !problems.isEmpty {
            throw ScenarioFailure("\(method) \(path): expect (line \(expect?.line ?? 0)): " + problems.joined(separator: "; "))
        }
        for (name, p) in (try value(save))?.objectValue ?? [:] {
            guard let pathText = p.stringValue else { continue }
            if pathText == "status" { vars[name] = .int(response.status); continue }
            if pathText.hasPrefix("header:") {
                vars[name] = .optional(response.headers.first { $0.key.lowercased() == pathText.dropFirst(7).lowercased() }?.value)
                continue
            }
            guard let v = json.flatMap({ JSONPath.get($0, pathText) }) else {
                throw ScenarioFailure("\(method) \(path): nothing at \(pathText) to save as $\(name)")
            }
            vars[name] = v
        }
        return "\(method) \(path) → \(response.status)"
    }

    private func expectWebhooks(_ body: ScenarioNode) async throws -> String {
        let f = BodyFields((try value(body))?.objectValue ?? [:])
        let type = try f.string("type")
        let count = try f.int("count")
        let attempt = try f.int("attempt")
        let outcome = try f.string("outcome")
        let status = try f.int("status")
        let within = try f.string("within").flatMap(Duration.init(parsing:)) ?? .zero
        let receiverURL = try f.string("receiver").map { name -> String in
            guard let r = receivers[name] else { throw ScenarioFailure("no receiver named \(name)") }
            return r.url
        }
        @Sendable func matches(_ d: WebhookDelivery) -> Bool {
            if let type, d.type != type, !d.type.hasPrefix(type + ".") { return false }
            if let attempt, d.attempt != attempt { return false }
            if let outcome, d.outcome != outcome { return false }
            if let status, d.status != status { return false }
            if let receiverURL, d.url != receiverURL { return false }
            return true
        }
        let deadline = core.now + within
        var found: [WebhookDelivery] = []
        while true {
            await core.runDueJobs()
            found = try core.deliveries().filter(matches)
            if let count { if found.count >= count { break } } else if !found.isEmpty { break }
            let next = core.withState { $0.jobs.nextDue }
            guard let next, next <= deadline else {
                if core.now < deadline { await core.advance(to: deadline) }
                found = try core.deliveries().filter(matches)
                break
            }
            await core.advance(to: max(next, core.now))
        }
        let describe = [type.map { "type \($0)" }, attempt.map { "attempt \($0)" }, outcome, status.map { "status \($0)" }]
            .compactMap { $0 }.joined(separator: ", ")
        if let count, found.count != count {
            throw ScenarioFailure("expected \(count) webhook deliveries (\(describe)), got \(found.count)")
        }
        if count == nil, found.isEmpty { throw ScenarioFailure("expected a webhook delivery (\(describe)), got none") }
        return "\(found.count) deliveries (\(describe))"
    }
}

/// Expected values in `expect.body`: a plain value (equality) or a matcher object.
package enum Matcher {
    package static let keys: Set<String> = ["exists", "contains", "length", "not", "gt", "lt", "matches_type"]

    package static func check(_ expected: JSON, _ actual: JSON?) -> String? {
        if case .object(let o) = expected, !o.isEmpty, Set(o.keys).isSubset(of: keys) {
            if let e = o["exists"]?.boolValue, e != (actual != nil && actual != .null) {
                return e ? "expected a value, got none" : "expected no value, got \(actual!.text)"
            }
            if let c = o["contains"] {
                let text = actual?.stringValue ?? actual?.text ?? ""
                if let arr = actual?.arrayValue { if !arr.contains(c) { return "expected to contain \(c.text), got \(actual!.text)" } }
                else if !text.contains(c.stringValue ?? c.text) { return "expected to contain \(c.text), got \(actual?.text ?? "none")" }
            }
            if let n = o["length"]?.intValue {
                let len = actual?.arrayValue?.count ?? actual?.stringValue?.count ?? actual?.objectValue?.count
                if len != n { return "expected length \(n), got \(len.map(String.init) ?? "none")" }
            }
            if let n = o["not"], actual == n { return "expected anything but \(n.text)" }
            if let g = o["gt"]?.doubleValue, !((actual?.doubleValue ?? -.infinity) > g) { return "expected > \(g), got \(actual?.text ?? "none")" }
            if let l = o["lt"]?.doubleValue, !((actual?.doubleValue ?? .infinity) < l) { return "expected < \(l), got \(actual?.text ?? "none")" }
            return nil
        }
        guard let actual else { return "expected \(expected.text), got nothing" }
        if actual == expected { return nil }
        if let a = actual.doubleValue, let e = expected.doubleValue, a == e { return nil }
        return "expected \(expected.text), got \(actual.text)"
    }
}

extension Engine {
    /// Keeps the outcome of scenarios loaded into a running server.
    package func recordScenario(_ result: ScenarioResult) {
        withState { $0.scenarioResults.append(result) }
    }
}
