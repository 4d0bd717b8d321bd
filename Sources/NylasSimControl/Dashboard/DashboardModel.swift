import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

/// The dashboard's view model: plain dictionaries and arrays for the Mustache templates.
///
/// It reads the same state as the control API (`stateJSON()` for the regions, the webhook
/// journal, the request journal, the fault rules, the scenario results, the pending jobs),
/// with everything formatted for display and every secret masked unless `reveal` is set.
/// Every key a template reads is always present, so that a missing value never falls back
/// to a key of an enclosing section.
package enum DashboardModel {
    /// What the page was asked for: revealed secrets and the request journal's filters.
    package struct Options {
        package var reveal = false
        package var region = ""
        package var api = ""
        package var status = ""
        package var grantID = ""

        package init(_ q: QueryParameters) {
            reveal = ["1", "true", "yes"].contains((q["reveal"] ?? "").lowercased())
            region = q["region"]?.lowercased() ?? ""
            api = q["api"]?.lowercased() ?? ""
            status = q["status"]?.trimmingCharacters(in: .whitespaces) ?? ""
            grantID = q["grant_id"]?.trimmingCharacters(in: .whitespaces) ?? ""
        }
    }

    package typealias HookRow = (region: Region, hook: WebhookRecord, deliveries: [WebhookDelivery])
    package typealias JournalRow = (region: Region, entry: JournalEntry)

    package static let journalLimit = 100
    package static let deliveryLimit = 600
    package static let notificationsPerDestination = 12

    package static func build(core: Engine, options: Options) throws -> [String: Any] {
        let state = try core.stateJSON()
        let (filter, initialError) = journalFilter(options)
        var filterError = initialError
        var model: [String: Any] = ["reveal": options.reveal]
        // Under the state lock: read. Bodies are formatted after it is released.
        let (now, hookRows, entryRows) = try core.withState { s throws -> (VirtualTime, [HookRow], [JournalRow]) in
            let now = s.now
            model["now"] = DashboardFormat.time(now)
            model["clock"] = clock(s.clock)
            model["regions"] = try Region.allCases.map { try region($0, state: state, store: s.store($0), now: now, reveal: options.reveal) }
            let boxes = try mailboxes(s.world)
            model["mailboxes"] = boxes
            model["has_mailboxes"] = !boxes.isEmpty
            let rules = s.faults.rules.map(fault)
            model["faults"] = rules
            model["has_faults"] = !rules.isEmpty
            let bots = try notetakerRows(s)
            model["notetakers"] = bots
            model["has_notetakers"] = !bots.isEmpty
            let scheduler = try schedulerRows(s, now: now)
            model["scheduler"] = scheduler
            model["has_scheduler"] = !scheduler.isEmpty
            let results = s.scenarioResults.map { scenario($0) }
            model["scenarios"] = results
            model["has_scenarios"] = !results.isEmpty
            let pending = s.jobs.pending
            let jobs = pending.prefix(40).map { job -> [String: Any] in
                ["label": job.label, "due": DashboardFormat.time(job.due), "in": DashboardFormat.relative(job.due, now: now)]
            }
            model["jobs"] = Array(jobs)
            model["has_jobs"] = !jobs.isEmpty
            model["job_count"] = pending.count
            var rows: [JournalRow] = []
            if filterError == nil {
                do { rows = try journalRows(s, filter: filter) } catch { filterError = "\(error)" }
            }
            return (now, try webhookRows(s), rows)
        }
        let hooks = webhooks(hookRows, now: now, reveal: options.reveal)
        model["webhooks"] = hooks
        model["has_webhooks"] = !hooks.isEmpty
        let entries = journal(entryRows, reveal: options.reveal)
        model["journal"] = entries
        model["has_journal"] = !entries.isEmpty
        model["journal_count"] = entries.count
        model["journal_limit"] = journalLimit
        model["filter"] = filterModel(options, error: filterError)
        return model
    }

    // MARK: Clock

    package static let advances: [(label: String, value: String)] = [("+10 min", "10m"), ("+1 hour", "1h"), ("+1 day", "24h"), ("+72 hours", "72h")]

    package static func clock(_ c: ClockState) -> [String: Any] {
        let rate = c.rate.rounded() == c.rate ? String(Int(c.rate)) : String(c.rate)
        return ["time": DashboardFormat.time(c.now), "iso": c.now.description, "unix": c.now.seconds, "mode": c.mode.rawValue,
                "running": c.mode == .running, "rate": rate,
                "advances": advances.map { ["label": $0.label, "value": $0.value] as [String: Any] }]
    }

    // MARK: Regions

    package static func region(_ region: Region, state: JSON, store: RegionStore, now: VirtualTime, reveal: Bool) throws -> [String: Any] {
        let r = state["regions"]?[region.rawValue]
        let name = region.rawValue
        let apps = (r?["applications"]?.arrayValue ?? []).map { app -> [String: Any] in
            let clientID = app["client_id"]?.stringValue ?? ""
            var secrets = [DashboardFormat.secret("client_secret", ref: "app:\(name):\(clientID):client_secret",
                                                  value: app["client_secret"]?.stringValue ?? "", reveal: reveal)]
            if let key = app["api_key"]?.stringValue {
                secrets.append(DashboardFormat.secret("api_key", ref: "app:\(name):\(clientID):api_key", value: key, reveal: reveal))
            }
            let connectors = (app["connectors"]?.arrayValue ?? []).compactMap(\.stringValue)
            let callbacks = (app["callback_uris"]?.arrayValue ?? []).compactMap(\.stringValue)
            return ["name": app["name"]?.stringValue ?? "", "api_version": app["api_version"]?.intValue ?? 3,
                    "application_id": app["application_id"]?.stringValue ?? "", "client_id": clientID,
                    "has_application_id": app["application_id"]?.stringValue != nil,
                    "environment": app["environment"]?.stringValue ?? "", "secrets": secrets,
                    "connectors": connectors, "has_connectors": !connectors.isEmpty,
                    "callback_uris": callbacks, "has_callback_uris": !callbacks.isEmpty]
        }
        let tokens = try accessTokens(store)
        let grants = (r?["grants"]?.arrayValue ?? []).map { g -> [String: Any] in
            let id = g["id"]?.stringValue ?? ""
            let status = g["grant_status"]?.stringValue ?? ""
            var o: [String: Any] = [
                "id": id, "email": g["email"]?.stringValue ?? "", "provider": g["provider"]?.stringValue ?? "",
                "status": status, "status_class": DashboardFormat.healthClass(status), "name": g["name"]?.stringValue ?? "",
                "has_name": !(g["name"]?.stringValue ?? "").isEmpty,
                "application_id": g["application_id"]?.stringValue ?? "",
                "created": g["created_at"]?.intValue.map(DashboardFormat.time(unix:)) ?? "",
                "has_token": false, "token": false,
            ]
            if let t = tokens[id], let expires = t.expiresAt {
                o["has_token"] = true
                o["token"] = ["secret": DashboardFormat.secret("access_token", ref: "token:\(name):\(id):access", value: t.token, reveal: reveal),
                              "expires": DashboardFormat.time(expires), "expired": expires <= now,
                              "countdown": expires <= now ? "expired \(DashboardFormat.duration(now.milliseconds - expires.milliseconds)) ago"
                                  : "expires in \(DashboardFormat.duration(expires.milliseconds - now.milliseconds))"] as [String: Any]
            }
            return o
        }
        return ["region": name, "label": name.uppercased(), "base_url": r?["base_url"]?.stringValue ?? "",
                "applications": apps, "grants": grants, "has_grants": !grants.isEmpty, "grant_count": grants.count]
    }

    /// The newest live access token of each grant.
    package static func accessTokens(_ store: RegionStore) throws -> [String: TokenRecord] {
        var out: [String: TokenRecord] = [:]
        for t in try store.liveAccessTokens() {
            if let g = t.grantID { out[g] = t }
        }
        return out
    }

    // MARK: Provider world

    package static func mailboxes(_ world: ProviderWorld) throws -> [[String: Any]] {
        var counts: [String: Int] = [:]
        for (mailbox, n) in try world.messageCountsByMailbox() { counts[mailbox] = n }
        var recent: [String: [[String: Any]]] = [:]
        for row in try world.recentMessageRows(limit: 300) {
            let box = row.string("mailbox")
            guard recent[box, default: []].count < 5 else { continue }
            let from = Participant.list(row.json("from_json")).map { $0.name.isEmpty ? $0.email : "\($0.name) <\($0.email)>" }
            recent[box, default: []].append(["subject": row.string("subject"), "from": from.joined(separator: ", "),
                                             "date": DashboardFormat.time(unix: row.int("date")), "unread": row.bool("unread")])
        }
        return try world.mailboxes().map { m in
            let messages = recent[m.email] ?? []
            return ["email": m.email, "provider": m.provider, "name": m.name, "credentials_valid": m.credentialsValid,
                    "message_count": counts[m.email] ?? 0, "messages": messages, "has_messages": !messages.isEmpty]
        }
    }

    // MARK: Webhooks

    /// Every destination with its recent deliveries (read under the lock).
    package static func webhookRows(_ s: EngineState) throws -> [HookRow] {
        var out: [HookRow] = []
        for region in Region.allCases {
            let store = s.store(region)
            let hooks = try store.allWebhooks()
            guard !hooks.isEmpty else { continue }
            // Without the bodies: the page fetches one when it is opened (`/__sim/ui/delivery`).
            let recent = try store.recentDeliveryRows(limit: deliveryLimit).map { WebhookDelivery(row: $0, region: region) }.reversed()
            var byHook: [String: [WebhookDelivery]] = [:]
            for d in recent { byHook[d.webhookID, default: []].append(d) }
            out += hooks.map { (region, $0, byHook[$0.id] ?? []) }
        }
        return out
    }

    package static func webhooks(_ rows: [HookRow], now: VirtualTime,
                         reveal: Bool) -> [[String: Any]] {
        rows.map { region, h, deliveries in
            let notes = notifications(deliveries, now: now, reveal: reveal)
            var o: [String: Any] = [
                "id": h.id, "region": region.rawValue, "api_version": h.apiVersion, "url": h.url, "status": h.status.rawValue,
                "status_class": DashboardFormat.healthClass(h.status.rawValue), "description": h.description ?? "",
                "has_description": !(h.description ?? "").isEmpty,
                "triggers": h.triggerTypes.joined(separator: ", "), "application_id": h.applicationID,
                "status_since": DashboardFormat.time(unix: h.statusUpdatedAt),
                "secret": DashboardFormat.secret("secret", ref: "webhook:\(region.rawValue):\(h.id):secret", value: h.secret, reveal: reveal),
                "notifications": notes, "has_notifications": !notes.isEmpty, "notification_count": notes.count,
                "failing_since": "", "is_failing": false,
            ]
            if let since = h.failingSince {
                o["failing_since"] = DashboardFormat.time(unix: since)
                o["is_failing"] = true
            }
            return o
        }
    }

    /// A destination's notifications, newest first, each with its attempts on a time axis.
    package static func notifications(_ deliveries: [WebhookDelivery], now: VirtualTime, reveal: Bool) -> [[String: Any]] {
        var order: [String] = []
        var groups: [String: [WebhookDelivery]] = [:]
        for d in deliveries {
            if groups[d.notificationID] == nil { order.append(d.notificationID) }
            groups[d.notificationID, default: []].append(d)
        }
        return order.reversed().prefix(notificationsPerDestination).map { id in
            timeline(id, attempts: groups[id]!.sorted { $0.attempt < $1.attempt }, now: now, reveal: reveal)
        }
    }

    /// One notification: its attempts placed on an axis from the first attempt to the last one or
    /// the retry still pending, on a square-root scale so that +20m and +72h both stay readable.
    package static func timeline(_ id: String, attempts: [WebhookDelivery], now: VirtualTime, reveal: Bool) -> [String: Any] {
        let first = attempts[0]
        let last = attempts[attempts.count - 1]
        let start = first.time
        let pendingAt = last.succeeded ? nil : last.nextAttemptAt
        let end = max(last.time, pendingAt ?? last.time)
        let span = Double(end.milliseconds - start.milliseconds)
        func position(_ t: VirtualTime) -> String {
            guard span > 0 else { return "0" }
            let p = (Double(t.milliseconds - start.milliseconds) / span).squareRoot() * 100
            return String(format: "%.2f", min(100, max(0, p)))
        }
        let outcome = attempts.contains(where: \.succeeded) ? "delivered" : (pendingAt != nil ? "retrying" : "failed")
        let rows = attempts.map { d -> [String: Any] in
            let offset = DashboardFormat.offset(d.time.milliseconds - start.milliseconds)
            let result = d.status.map(String.init) ?? (d.error ?? "no answer")
            return ["attempt": d.attempt, "time": DashboardFormat.time(d.time), "offset": offset, "left": position(d.time),
                    "result": result, "result_class": d.succeeded ? "ok" : "bad", "outcome": d.outcome,
                    "short": d.status.map(String.init) ?? "ERR", "error": d.error ?? "", "has_error": d.error != nil,
                    "latency": String(format: "%.1f ms", Double(d.latencyMicroseconds) / 1000), "signature": d.signature,
                    "src": "/__sim/ui/delivery?region=\(d.region.rawValue)&seq=\(d.sequence)",
                    "key": "\(d.region.rawValue)-\(d.notificationID)-\(d.attempt)",
                    "next": d.nextAttemptAt.map(DashboardFormat.time) ?? ""]
        }
        var o: [String: Any] = [
            "id": id, "type": first.type, "grant_id": first.grantID ?? "", "attempt_count": attempts.count,
            "attempts_label": attempts.count == 1 ? "1 attempt" : "\(attempts.count) attempts",
            "outcome": outcome, "outcome_class": DashboardFormat.healthClass(outcome), "first_at": DashboardFormat.time(start),
            "span": DashboardFormat.offset(end.milliseconds - start.milliseconds), "attempts": rows,
            "has_pending": false, "pending": false, "key": "\(first.region.rawValue)-\(id)",
        ]
        if let pendingAt {
            o["has_pending"] = true
            o["pending"] = ["at": DashboardFormat.time(pendingAt), "left": position(pendingAt),
                            "offset": DashboardFormat.offset(pendingAt.milliseconds - start.milliseconds),
                            "in": DashboardFormat.relative(pendingAt, now: now), "attempt": last.attempt + 1] as [String: Any]
        }
        return o
    }

    // MARK: Request journal

    package static func journalFilter(_ o: Options) -> (JournalFilter, String?) {
        var f = JournalFilter()
        if !o.region.isEmpty {
            guard let r = Region(rawValue: o.region) else { return (f, "region: expected us or eu") }
            f.region = r
        }
        if !o.api.isEmpty {
            guard let a = APISurface(rawValue: o.api), a != .control else { return (f, "api: expected v3 or v2") }
            f.surface = a
        }
        if !o.status.isEmpty {
            guard let n = Int(o.status), (100...599).contains(n) else { return (f, "status: expected an HTTP status, 100 to 599") }
            f.status = n
        }
        if !o.grantID.isEmpty { f.grantID = o.grantID }
        f.limit = journalLimit
        return (f, nil)
    }

    package static func filterModel(_ o: Options, error: String?) -> [String: Any] {
        func options(_ values: [(String, String)], _ selected: String) -> [[String: Any]] {
            values.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == selected] }
        }
        return ["regions": options([("", "any region"), ("us", "US"), ("eu", "EU")], o.region),
                "apis": options([("", "any API"), ("v3", "v3"), ("v2", "v2")], o.api),
                "status": o.status, "grant_id": o.grantID, "reveal": o.reveal,
                "active": !(o.region.isEmpty && o.api.isEmpty && o.status.isEmpty && o.grantID.isEmpty),
                "error": error ?? "", "has_error": error != nil]
    }

    /// The newest journal rows matching `filter`, newest first (read under the lock).
    package static func journalRows(_ s: EngineState, filter: JournalFilter) throws -> [JournalRow] {
        var entries: [JournalRow] = []
        for region in Region.allCases where filter.region == nil || filter.region == region {
            // Without the bodies: the page fetches them when an entry is opened (`/__sim/ui/request`).
            entries += try s.store(region).journal(filter, newestFirst: true).map { (region, $0) }
        }
        entries.sort { ($0.entry.time, $0.region.rawValue, $0.entry.sequence) > ($1.entry.time, $1.region.rawValue, $1.entry.sequence) }
        return Array(entries.prefix(filter.limit))
    }

    package static func journal(_ rows: [JournalRow], reveal: Bool) -> [[String: Any]] {
        rows.map { e in
            let row = e.entry
            let status = row.status
            let query = row.query
            let shownQuery = reveal ? query : DashboardFormat.redact(query: query)
            return ["seq": row.sequence, "region": e.region.rawValue, "api": row.surface.rawValue,
                    "time": DashboardFormat.time(row.time),
                    "method": row.method, "path": row.path, "query": shownQuery, "has_query": !query.isEmpty,
                    "status": status == 0 ? "dropped" : String(status), "status_class": DashboardFormat.statusClass(status == 0 ? nil : status),
                    "grant_id": row.grantID ?? "", "application_id": row.applicationID ?? "",
                    "duration": String(format: "%.1f ms", Double(row.durationMicroseconds) / 1000),
                    "request_id": row.requestID, "request_bytes": row.requestBody.count,
                    "response_bytes": row.responseBody.count,
                    "src": "/__sim/ui/request?region=\(e.region.rawValue)&seq=\(row.sequence)",
                    "key": "\(e.region.rawValue)-\(row.sequence)"]
        }
    }

    /// One journal entry's bodies, for display (`GET /__sim/ui/request`).
    package static func requestBodies(core: Engine, region: Region, seq: Int, reveal: Bool) throws -> JSON {
        let row = try core.withState { s in try s.store(region).journalEntry(sequence: seq) }
        guard let row else { throw NylasError.notFound("No request \(seq) in the \(region.rawValue) journal") }
        let query = row.query
        return ["region": .string(region.rawValue), "seq": .int(seq), "request_id": .string(row.requestID),
                "method": .string(row.method), "path": .string(row.path),
                "query": .string(reveal ? query : DashboardFormat.redact(query: query)), "status": .int(row.status),
                "request_body": .string(DashboardFormat.body(row.requestBody, reveal: reveal)),
                "response_body": .string(DashboardFormat.body(row.responseBody, reveal: reveal))]
    }

    /// One delivery attempt's body, for display (`GET /__sim/ui/delivery`).
    package static func deliveryBody(core: Engine, region: Region, seq: Int, reveal: Bool) throws -> JSON {
        let row = try core.withState { s in try s.store(region).deliveryRow(seq: seq) }
        guard let row else { throw NylasError.notFound("No delivery \(seq) in the \(region.rawValue) journal") }
        let d = WebhookDelivery(row: row, region: region)
        return ["region": .string(region.rawValue), "seq": .int(seq), "notification_id": .string(d.notificationID),
                "attempt": .int(d.attempt), "signature": .string(d.signature),
                "body": .string(d.payload.map { DashboardFormat.body($0, reveal: reveal) } ?? DashboardFormat.body(d.body, reveal: reveal))]
    }

    // MARK: Faults, scenarios

    package static let faultConditions = ["region", "api", "method", "path", "application_id", "grant_id", "provider", "count",
                                  "probability", "from", "until"]
    package static let faultActions = ["status", "error_type", "retry_after", "latency_ms", "drop", "outage"]

    package static func fault(_ rule: FaultRule) -> [String: Any] {
        let j = rule.json
        func pairs(_ keys: [String]) -> [[String: Any]] {
            keys.compactMap { k -> [String: Any]? in
                guard let v = j[k], !v.isNull, v != .bool(false) else { return nil }
                return ["k": k, "v": v.stringValue ?? v.text]
            }
        }
        let conditions = pairs(faultConditions)
        return ["id": j["id"]?.stringValue ?? "", "hits": j["hits"]?.intValue ?? 0, "conditions": conditions,
                "has_conditions": !conditions.isEmpty, "actions": pairs(faultActions)]
    }

    package static func scenario(_ r: ScenarioResult) -> [String: Any] {
        let passed = r.steps.filter(\.passed).count
        let steps = r.steps.map { st -> [String: Any] in
            ["index": st.index, "line": st.line, "kind": st.kind, "offset": DashboardFormat.offset(st.offset.milliseconds),
             "passed": st.passed, "detail": st.detail]
        }
        let progress = r.steps.isEmpty ? "100" : String(format: "%.1f", Double(passed) / Double(r.steps.count) * 100)
        return ["name": r.name, "file": r.file, "passed": r.passed, "passed_count": passed, "step_count": r.steps.count,
                "progress": progress, "steps": steps, "wall_ms": Int(r.wallTime.milliseconds), "key": "scenario-\(r.name)-\(r.file)"]
    }
}

extension DashboardModel {
    /// One row per Scheduler configuration, with its bookings (newest 20).
    static func schedulerRows(_ s: EngineState, now: VirtualTime) throws -> [[String: Any]] {
        var rows: [[String: Any]] = []
        for region in Region.allCases {
            let store = s.store(region)
            let bookings = try store.allSchedulerBookings().reversed()
            for c in try store.allSchedulerConfigurations() {
                let own = bookings.filter { $0.configurationID == c.id }.prefix(20).map { b -> [String: Any] in
                    ["booking_id": b.id, "status": b.status, "start": DashboardFormat.time(VirtualTime(seconds: b.startTime)),
                     "guest": b.data["guest"]?["email"]?.stringValue ?? ""]
                }
                let method = c.data["availability"]?["availability_rules"]?["availability_method"]?.stringValue ?? "collective"
                let kind = SchedulerConfiguration.isGroup(c.data) ? "group" : method
                let row: [String: Any] = ["region": region.rawValue.uppercased(), "id": c.id, "name": c.data["name"]?.stringValue ?? "",
                                          "kind": kind, "slug": c.slug ?? "", "private": !c.isPublic, "bookings": Array(own)]
                rows.append(row)
            }
        }
        return rows
    }
}

extension DashboardModel {
    /// One row per Notetaker bot (newest 50), with the history of its states.
    static func notetakerRows(_ s: EngineState) throws -> [[String: Any]] {
        var rows: [[String: Any]] = []
        for region in Region.allCases {
            let store = s.store(region)
            for n in try store.allNotetakers().suffix(50).reversed() {
                let history = try store.notetakerHistory(notetakerID: n.id).map { e -> [String: Any] in
                    ["type": e.eventType, "time": DashboardFormat.time(VirtualTime(seconds: e.createdAt)),
                     "state": e.data["state"]?.stringValue ?? "", "reason": e.data["meeting_state"]?.stringValue ?? ""]
                }
                let row: [String: Any] = ["region": region.rawValue.uppercased(), "id": n.id, "name": n.name, "state": n.state,
                                          "provider": n.data["meeting_provider"]?.stringValue ?? "",
                                          "scope": n.grantID.map { "grant \($0)" } ?? "standalone",
                                          "join": DashboardFormat.time(VirtualTime(seconds: n.joinTime)), "history": history]
                rows.append(row)
            }
        }
        return rows
    }
}
