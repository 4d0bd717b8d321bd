import Foundation

/// Turns committed events into signed webhook POSTs: one notification per subscribed
/// destination, attempts on the scheduler, retries by the policy, health transitions,
/// everything recorded in the delivery journal.
package enum WebhookDispatcher {
    /// A notification on its way to one destination.
    package struct Notification: Sendable {
        package let id: String
        package let region: Region
        package let webhookID: String
        package let type: String
        package let source: String
        package let time: VirtualTime
        package let applicationID: String
        package let grantID: String?
        package let object: JSON
        package let apiVersion: Int
        package let firstAttemptAt: VirtualTime

        /// Its stored form (pending attempts).
        package var json: JSON {
            ["id": .string(id), "region": .string(region.rawValue), "webhook_id": .string(webhookID), "type": .string(type),
             "source": .string(source), "time": .int(Int(time.milliseconds)), "application_id": .string(applicationID),
             "grant_id": .optional(grantID), "object": object, "api_version": .int(apiVersion),
             "first_attempt_at": .int(Int(firstAttemptAt.milliseconds))]
        }

        package init(id: String, region: Region, webhookID: String, type: String, source: String, time: VirtualTime,
                     applicationID: String, grantID: String?, object: JSON, apiVersion: Int, firstAttemptAt: VirtualTime) {
            self.id = id
            self.region = region
            self.webhookID = webhookID
            self.type = type
            self.source = source
            self.time = time
            self.applicationID = applicationID
            self.grantID = grantID
            self.object = object
            self.apiVersion = apiVersion
            self.firstAttemptAt = firstAttemptAt
        }

        package init?(json j: JSON) {
            guard let id = j["id"]?.stringValue, let region = j["region"]?.stringValue.flatMap(Region.init(rawValue:)),
                  let webhookID = j["webhook_id"]?.stringValue, let type = j["type"]?.stringValue,
                  let applicationID = j["application_id"]?.stringValue, let time = j["time"]?.intValue,
                  let first = j["first_attempt_at"]?.intValue else { return nil }
            self.init(id: id, region: region, webhookID: webhookID, type: type, source: j["source"]?.stringValue ?? "",
                      time: VirtualTime(milliseconds: Int64(time)), applicationID: applicationID, grantID: j["grant_id"]?.stringValue,
                      object: j["object"] ?? .null, apiVersion: j["api_version"]?.intValue ?? 3,
                      firstAttemptAt: VirtualTime(milliseconds: Int64(first)))
        }
    }

    /// A `--data-dir` server restarted: the attempts that were due or waiting are scheduled again,
    /// in time order, each once (an attempt whose time has passed runs at once).
    package static func restore(_ s: EngineState) throws {
        for region in Region.allCases {
            for (attempt, due, json) in try s.store(region).pendingAttempts() {
                guard let n = Notification(json: json) else { continue }
                job(s, n, attempt: attempt, at: max(due, s.now))
            }
            for hook in try s.store(region).failingV2Webhooks() { scheduleHealthCheck(s, region: region, hook) }
        }
    }

    /// A v2 subscription whose receiver keeps failing: its notifications give up after about 20
    /// minutes, so no attempt is left to notice the 72 hours after which it is `failed` (reference
    /// v2 §7.4); this job does, unless a delivery succeeded meanwhile.
    static func scheduleHealthCheck(_ s: EngineState, region: Region, _ hook: WebhookRecord) {
        guard hook.apiVersion == 2, hook.status == .failing, let since = hook.failingSince else { return }
        let (id, failedAfter) = (hook.id, s.settings.webhooks.failedAfter)
        s.schedule(at: max(VirtualTime(seconds: since) + failedAfter, s.now), "webhook health \(id)") { core in
            try? core.transaction { s in
                let store = s.store(region)
                guard var hook = try store.webhook(id: id), hook.status == .failing, hook.failingSince == since else { return }
                hook.status = .failed
                hook.statusUpdatedAt = s.now.seconds
                try store.save(hook)
                try store.recordNotificationEmail(webhook: hook, time: s.now, subject: "Webhook destination \(hook.id) has failed")
            }
        }
    }

    /// Types that carry `data.grant_id` beside the object (§6.1).
    package static let grantAtDataLevel: Set<String> = [
        "message.send_success", "message.send_failed", "message.bounce_detected", "message.opened",
        "message.link_clicked", "thread.replied",
        "booking.created", "booking.pending", "booking.rescheduled", "booking.cancelled", "booking.reminder",
    ]

    /// The scope family a v2 account needs for notifications of `type`; nil when none is needed.
    package static func v2Scope(of type: String) -> String? {
        switch type.split(separator: ".").first {
        case "message", "thread": return "email"
        case "contact": return "contacts"
        case "calendar", "event": return "calendar"
        default: return nil
        }
    }

    /// v3 trigger → v2 trigger, for v2 subscriptions.
    package static let v2Triggers: [String: String] = [
        "grant.created": "account.connected", "grant.expired": "account.invalid", "grant.deleted": "account.stopped",
        "grant.updated": "account.running", "contact.updated": "contact.updated",
    ]

    /// The event handler installed on every simulator: schedules the first attempts.
    package static func handle(_ s: EngineState, _ event: SimEvent) {
        let store = s.store(event.region)
        // v2: an account's notifications need its scope (reference v2 §7.3): `email*` for
        // message and thread triggers, `contacts*` for contacts, `calendar*` for calendars and events.
        if event.apiVersion == 2, let needed = v2Scope(of: event.type), let id = event.grantID,
           let account = try? store.grant(id: id), !account.scope.contains(where: { $0.hasPrefix(needed) }) { return }
        guard let hooks = try? store.destinations(applicationID: event.applicationID, apiVersion: event.apiVersion) else { return }
        for hook in hooks where hook.status == .active || hook.status == .failing {
            var (type, object) = (event.type, event.object)
            if !hook.subscribes(to: event.type) {
                // Reference §6.3: `message.created.cleaned` subscribers get the message with its body
                // cleaned (Clean Conversations) and a `cleaning_status`.
                guard event.type == "message.created", hook.subscribes(to: "message.created.cleaned") else { continue }
                type = "message.created.cleaned"
                if let body = object["body"]?.stringValue { object["body"] = .string(Snippet.clean(body)) }
                object["cleaning_status"] = "success"
            }
            let notification = Notification(
                id: store.ids.uuid("notification"), region: event.region, webhookID: hook.id, type: type,
                source: event.source, time: event.time, applicationID: event.applicationID, grantID: event.grantID,
                object: object, apiVersion: event.apiVersion, firstAttemptAt: s.now)
            schedule(s, notification, attempt: 1, at: s.now)
        }
    }

    package static func schedule(_ s: EngineState, _ n: Notification, attempt: Int, at time: VirtualTime) {
        // Kept in the region's database until the chain ends, so that a restarted server sends it.
        try? s.store(n.region).savePendingAttempt(notificationID: n.id, webhookID: n.webhookID, attempt: attempt, due: time,
                                                  notification: n.json)
        job(s, n, attempt: attempt, at: time)
    }

    /// Puts one attempt on the scheduler.
    private static func job(_ s: EngineState, _ n: Notification, attempt: Int, at time: VirtualTime) {
        // The HTTP request goes out while the clock goes on; the attempt is planned and recorded in
        // queue order, as one after another, unless its receiver is slow (`JobsInFlight`).
        s.schedule(at: time, "webhook \(n.type) → \(n.webhookID) attempt \(attempt)",
                   overlap: JobOverlap(key: "\(n.region.rawValue) \(n.id)") { core in
                       prepareAttempt(core, n, attempt: attempt, at: time)
                   })
    }

    /// The body of attempt `attempt`, and the type it is delivered as.
    package static func payload(_ n: Notification, attempt: Int, policy: WebhookPolicy) -> (type: String, body: [UInt8]) {
        if n.apiVersion == 2 {
            let v2Type = v2Triggers[n.type] ?? n.type
            // A `job.*` notification names the type of the object the job acted on (reference v2 §7).
            let objectType = v2Type.hasPrefix("job.") ? (n.object["target_object"]?.stringValue ?? "message")
                : v2Type.split(separator: ".").first.map(String.init) ?? "account"
            let id = objectType == "account" ? (n.grantID ?? "") : (n.object["id"]?.stringValue ?? "")
            // v2 notifications carry no object; `message.created`/`.updated` carry its thread and date.
            var attributes = n.object["attributes"] ?? .null
            if v2Type == "message.created" || v2Type == "message.updated" {
                attributes = ["thread_id": n.object["thread_id"] ?? .null, "received_date": n.object["date"] ?? .null]
            }
            // Tracking notifications carry their counts and the send's `payload` as `metadata` (§7.1).
            let delta: JSON = ["date": .int(n.time.seconds), "object": .string(objectType), "type": .string(v2Type),
                               "object_data": ["namespace_id": .optional(n.grantID), "account_id": .optional(n.grantID),
                                               "object": .string(objectType), "id": .string(id),
                                               "attributes": attributes, "metadata": n.object["metadata"] ?? .null]]
            return (v2Type, (["deltas": [delta]] as JSON).bytes)
        }
        func envelope(_ type: String, _ object: JSON) -> [UInt8] {
            var object = object
            var data: JSON = ["application_id": .string(n.applicationID)]
            // Fields a trigger carries beside its object (`message.send_failed`: `reason`, `error`).
            if let extras = object[SimEvent.dataKey]?.objectValue {
                object[SimEvent.dataKey] = nil
                for (k, v) in extras { data[k] = v }
            }
            data["object"] = object
            if grantAtDataLevel.contains(n.type), let g = n.grantID { data["grant_id"] = .string(g) }
            let e: JSON = ["specversion": "1.0", "type": .string(type), "source": .string(n.source), "id": .string(n.id),
                           "time": .int(n.time.seconds), "webhook_delivery_attempt": .int(attempt), "data": data]
            return e.bytes
        }
        let full = envelope(n.type, n.object)
        if full.count > policy.truncateAbove, n.type.hasPrefix("message.") {
            var object = n.object
            object["body"] = nil
            return (n.type + ".truncated", envelope(n.type + ".truncated", object))
        }
        return (n.type, full)
    }

    /// The attempt's first step (under the lock): its request, or nil when the destination is gone
    /// or disabled. The returned work sends it and returns the step that records the outcome.
    package static func prepareAttempt(_ core: Engine, _ n: Notification, attempt: Int, at time: VirtualTime) -> JobOverlap.Work? {
        let plan: AttemptPlan? = core.withState { s in
            let store = s.store(n.region)
            guard let hook = try? store.webhook(id: n.webhookID), hook.status == .active || hook.status == .failing else {
                try? store.deletePendingAttempt(notificationID: n.id)
                return nil
            }
            let policy = s.settings.webhooks
            var secret = hook.secret
            if n.apiVersion == 2, let app = try? store.application(id: hook.applicationID) { secret = app.clientSecret }
            var (type, body) = payload(n, attempt: attempt, policy: policy)
            if let kind = hook.channel {
                // A notification channel: the same body, published to the topic (compressed as the channel says).
                var attributes: [String: String] = [:]
                if hook.compressed {
                    body = Gzip.compress(body)
                    attributes["content_encoding"] = "gzip"
                    if kind == .sns {
                        body = Array(Data(body).base64EncodedString().utf8)
                        attributes["content_encoding"] = "gzip+base64"
                    }
                }
                let publish = ChannelPublish(kind: kind, topic: hook.url, roleARN: hook.roleARN, body: body, attributes: attributes)
                return AttemptPlan(url: hook.url, headers: [:], body: body, signature: "", type: type, policy: policy, time: time,
                                   channel: publish, endpoints: s.settings.channels)
            }
            var headers = ["Content-Type": "application/json", "User-Agent": "NylasSimulator-Webhooks/1.0"]
            if hook.compressed, n.apiVersion == 3 {
                body = Gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            }
            let signature = WebhookSignature.sign(body, secret: secret)
            headers[n.apiVersion == 2 ? "X-Nylas-Signature" : "x-nylas-signature"] = signature
            return AttemptPlan(url: hook.url, headers: headers, body: body, signature: signature, type: type, policy: policy,
                               time: time, channel: nil, endpoints: nil)
        }
        guard let plan else { return nil }
        return { await sendAttempt(plan, n, attempt: attempt) }
    }

    package struct AttemptPlan: Sendable {
        package let url: String
        package let headers: [String: String]
        package let body: [UInt8]
        package let signature: String
        package let type: String
        package let policy: WebhookPolicy
        /// The virtual time the attempt is made: its outcome is recorded at this time.
        package let time: VirtualTime
        /// Set for a notification channel: the publish to make instead of the POST.
        package let channel: ChannelPublish?
        package let endpoints: ChannelEndpoints?
    }

    /// POSTs the attempt (no lock held) and returns the step that records its outcome.
    package static func sendAttempt(_ plan: AttemptPlan, _ n: Notification, attempt: Int) async -> JobOverlap.Finish {
        let started = ContinuousClock.now
        var status: Int?
        var failureReason: String?
        do {
            if let channel = plan.channel, let endpoints = plan.endpoints {
                status = try await channel.send(endpoints, timeout: plan.policy.attemptTimeout)
            } else {
                let response = try await HTTPClient(trustedCAFile: plan.policy.trustedCAFile)
                    .send("POST", plan.url, headers: plan.headers, body: plan.body, timeout: plan.policy.attemptTimeout)
                status = response.status
            }
        } catch let failure as HTTPClient.Failure {
            failureReason = failure.description
        } catch {
            failureReason = "\(error)"
        }
        let elapsed = (ContinuousClock.now - started).components
        let latency = Int(elapsed.seconds * 1_000_000 + elapsed.attoseconds / 1_000_000_000_000)
        return { [status, failureReason] core in
            recordAttempt(core, plan, n, attempt: attempt, status: status, failureReason: failureReason, latency: latency)
        }
    }

    /// Records the attempt's outcome, moves the destination's health, schedules the retry.
    package static func recordAttempt(_ core: Engine, _ plan: AttemptPlan, _ n: Notification, attempt: Int, status: Int?,
                              failureReason: String?, latency: Int) {
        let ok = status.map { (200..<300).contains($0) } ?? false
        try? core.transaction { s in
            let store = s.store(n.region)
            guard var hook = try store.webhook(id: n.webhookID) else { return }
            let now = plan.time
            var next: VirtualTime?
            if ok {
                if hook.status == .failing {
                    hook.status = .active
                    hook.failingSince = nil
                    hook.statusUpdatedAt = now.seconds
                    try store.save(hook)
                }
            } else {
                if hook.status == .active {
                    hook.status = .failing
                    hook.failingSince = now.seconds
                    hook.statusUpdatedAt = now.seconds
                    try store.recordNotificationEmail(webhook: hook, time: now, subject: "Webhook destination \(hook.id) is failing")
                    scheduleHealthCheck(s, region: n.region, hook)
                } else if hook.status == .failing, let since = hook.failingSince,
                          Int64(now.seconds - since) * 1000 >= plan.policy.failedAfter.milliseconds {
                    hook.status = .failed
                    hook.statusUpdatedAt = now.seconds
                    try store.recordNotificationEmail(webhook: hook, time: now, subject: "Webhook destination \(hook.id) has failed")
                }
                try store.save(hook)
                let delays = n.apiVersion == 2 ? plan.policy.v2RetryDelays : plan.policy.retryDelays
                if hook.status != .failed, attempt <= delays.count {
                    let due = n.firstAttemptAt + delays[attempt - 1]
                    next = max(due, now)
                    schedule(s, n, attempt: attempt + 1, at: next!)
                }
            }
            if next == nil { try store.deletePendingAttempt(notificationID: n.id) }
            let seq = try store.appendDelivery(
                notificationID: n.id, webhook: hook, grantID: n.grantID, type: plan.type, attempt: attempt, time: now,
                status: status, error: failureReason, latencyMicros: latency, signature: plan.signature, body: plan.body,
                outcome: ok ? "delivered" : "failed", nextAttemptAt: next, keepBytes: s.settings.deliveryJournalByteLimit)
            s.deliveryWaiters.notify(store: store, after: seq - 1)
        }
    }
}

/// Tests waiting for a delivery: checked and resumed under the state lock.
package final class DeliveryWaiters {
    private struct Waiter {
        package let id: Int
        package let region: Region?
        package let predicate: @Sendable (WebhookDelivery) -> Bool
        package let continuation: CheckedContinuation<WebhookDelivery?, Never>
    }
    private var waiters: [Waiter] = []
    private var nextID = 0

    package func add(region: Region?, predicate: @escaping @Sendable (WebhookDelivery) -> Bool,
             continuation: CheckedContinuation<WebhookDelivery?, Never>) -> Int {
        nextID += 1
        waiters.append(Waiter(id: nextID, region: region, predicate: predicate, continuation: continuation))
        return nextID
    }

    package func cancel(_ id: Int) {
        if let i = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: i).continuation.resume(returning: nil)
        }
    }

    package func notify(store: RegionStore, after: Int) {
        guard !waiters.isEmpty, let new = try? store.deliveries(afterSequence: after) else { return }
        for delivery in new {
            waiters.removeAll { w in
                guard w.region == nil || w.region == store.region, w.predicate(delivery) else { return false }
                w.continuation.resume(returning: delivery)
                return true
            }
        }
    }
}
