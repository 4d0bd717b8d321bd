import Foundation
import NylasSimCore

/// `/v3/webhooks` (reference §4.16): destinations, challenge, rotate, IPs, mock payloads, test events.
package enum V3WebhookRoutes {
    /// Subscribable trigger types (§6.2).
    package static let triggerTypes = WebhookTriggers.v3

    package static let mockTypes: Set<String> = [
        "calendar.created", "calendar.updated", "calendar.deleted", "event.created", "event.updated", "event.deleted",
        "grant.created", "grant.updated", "grant.deleted", "grant.expired", "message.send_success", "message.send_failed",
        "message.bounce_detected", "message.created", "message.created.truncated", "message.created.cleaned",
        "message.updated", "message.updated.truncated", "contact.updated", "contact.deleted", "folder.created",
        "folder.updated", "folder.deleted", "message.opened", "message.link_clicked", "thread.replied",
    ]

    package static func notFound(_ id: String) -> NylasError {
        NylasError(status: 400, type: "70000", message: "destination.id.not.found : record not found")
    }

    package static func register(_ r: inout Router) {
        r.add("GET", "/v3/webhooks", .v3, listWebhooks)
        r.add("POST", "/v3/webhooks", .v3, postWebhooks)
        r.add("GET", "/v3/webhooks/ip-addresses", .v3, listIpAddresses)
        r.add("GET", "/v3/webhooks/{id}", .v3, getWebhook)
        r.add("PUT", "/v3/webhooks/{id}", .v3, putWebhook)
        r.add("DELETE", "/v3/webhooks/{id}", .v3, deleteWebhook)
        r.add("POST", "/v3/webhooks/rotate-secret/{id}", .v3, rotate)
        r.add("PUT", "/v3/webhooks/{id}/rotate-secret", .v3, rotate)
        r.add("POST", "/v3/webhooks/mock-payload", .v3, postMockPayload)
        r.add("POST", "/v3/webhooks/send-test-event", .v3, postSendTestEvent)
    }

    /// `GET "/v3/webhooks"`
    @Sendable static func listWebhooks(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let app = try ctx.requireAPIKey(s, store)
            return .array(try store.webhooks(applicationID: app.id, apiVersion: 3).map { $0.json() })
        })
    }

    /// `POST "/v3/webhooks"`
    @Sendable static func postWebhooks(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let triggers = try validTriggers(body, required: true)!
        let url = try WebhookURL.validated(try body.requiredString("webhook_url"), field: "webhook_url")
        let description = try body.string("description")
        let emails = try body.stringArray("notification_email_addresses") ?? []
        let compressed = try body.bool("compressed_delivery") ?? false
        let app = try ctx.read { s, store in try ctx.requireAPIKey(s, store) }
        try await WebhookChallenge.verify(url, ctx.core)
        return ctx.data(try ctx.write { s, store in
            let hook = WebhookRecord(id: store.ids.base62("webhook", length: 26), applicationID: app.id, apiVersion: 3,
                                     description: description, triggerTypes: triggers, url: url,
                                     secret: store.ids.base62("webhook-secret", length: 40), emails: emails,
                                     compressed: compressed, now: s.now.seconds)
            try store.save(hook)
            return hook.json(withSecret: true)
        })
    }

    /// `GET "/v3/webhooks/ip-addresses"`
    @Sendable static func listIpAddresses(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            _ = try ctx.requireAPIKey(s, store)
            return ["ip_addresses": ["127.0.0.1"], "updated_at": .int(s.startTime.seconds)]
        })
    }

    /// `GET "/v3/webhooks/{id}"`
    @Sendable static func getWebhook(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            try hook(ctx, s, store).json()
        })
    }

    /// `PUT "/v3/webhooks/{id}"`
    @Sendable static func putWebhook(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        try body.rejectUnknown(["trigger_types", "webhook_url", "description", "notification_email_addresses",
                                "compressed_delivery", "status"])
        // Empty fields in the request do not overwrite existing fields (§4.16, spec PUT).
        let triggers = try validTriggers(body, required: false)
        var url: String?
        if let u = try body.string("webhook_url"), !u.isEmpty { url = try WebhookURL.validated(u, field: "webhook_url") }
        var status: WebhookStatus?
        if let given = try body.string("status"), !given.isEmpty {
            guard let s = WebhookStatus(rawValue: given), s == .active || s == .pause else {
                throw NylasError.invalidValue("status", "expected active or pause")
            }
            status = s
        }
        let existing = try ctx.read { s, store in try hook(ctx, s, store) }
        if let url, url != existing.url { try await WebhookChallenge.verify(url, ctx.core) }
        return ctx.data(try ctx.write { s, store in
            var h = try hook(ctx, s, store)
            if let triggers, !triggers.isEmpty { h.triggerTypes = triggers }
            if let url { h.url = url }
            if let d = try body.string("description"), !d.isEmpty { h.description = d }
            if let e = try body.stringArray("notification_email_addresses"), !e.isEmpty { h.emails = e }
            if let c = try body.bool("compressed_delivery") { h.compressed = c }
            if let status, status != h.status {
                h.status = status
                h.failingSince = nil
                h.statusUpdatedAt = s.now.seconds
            }
            h.updatedAt = s.now.seconds
            try store.save(h)
            return h.json()
        })
    }

    /// `DELETE "/v3/webhooks/{id}"`
    @Sendable static func deleteWebhook(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let h = try hook(ctx, s, store)
            _ = try store.deleteWebhook(id: h.id)
        }
        return ctx.data(["status": "success"])
    }

    @Sendable static func rotate(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.write { s, store in
            var h = try hook(ctx, s, store)
            h.secret = store.ids.base62("webhook-secret", length: 40)
            h.updatedAt = s.now.seconds
            try store.save(h)
            return h.json(withSecret: true)
        })
    }

    /// `POST "/v3/webhooks/mock-payload"`
    @Sendable static func postMockPayload(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let type = try body.requiredString("trigger_type")
        guard mockTypes.contains(type) else { throw NylasError.invalidValue("trigger_type", "unsupported trigger type '\(type)'") }
        let app = try ctx.read { s, store in try ctx.requireAPIKey(s, store) }
        return ctx.data(MockPayloads.notification(type, applicationID: app.id, now: ctx.core.now))
    }

    /// `POST "/v3/webhooks/send-test-event"`
    @Sendable static func postSendTestEvent(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let type = try body.requiredString("trigger_type")
        guard mockTypes.contains(type) else { throw NylasError.invalidValue("trigger_type", "unsupported trigger type '\(type)'") }
        let url = try WebhookURL.validated(try body.requiredString("webhook_url"), field: "webhook_url")
        let (app, policy) = try ctx.read { s, store in (try ctx.requireAPIKey(s, store), s.settings.webhooks) }
        let payload = MockPayloads.notification(type, applicationID: app.id, now: ctx.core.now).bytes
        let signature = WebhookSignature.sign(payload, secret: "mock-webhook-secret")
        do {
            let response = try await HTTPClient(trustedCAFile: policy.trustedCAFile).send(
                "POST", url, headers: ["Content-Type": "application/json", "x-nylas-signature": signature],
                body: payload, timeout: policy.attemptTimeout)
            guard (200..<300).contains(response.status) else {
                throw NylasError(status: 400, type: "70005", message: "unable.send.test_event : status is not ok, got \(response.status)")
            }
        } catch let e as NylasError {
            throw e
        } catch {
            throw NylasError(status: 400, type: "70005", message: "unable.send.test_event : \(error)")
        }
        return ctx.data("success")
    }

    package static func hook(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore) throws -> WebhookRecord {
        let app = try ctx.requireAPIKey(s, store)
        guard let h = try store.webhook(id: ctx.param("id")), h.applicationID == app.id, h.apiVersion == 3, h.channel == nil else {
            throw notFound(ctx.param("id"))
        }
        return h
    }

    package static func validTriggers(_ body: BodyFields, required: Bool) throws(NylasError) -> [String]? {
        guard let triggers = try body.stringArray("trigger_types") else {
            if required { throw NylasError.missingField("trigger_types") }
            return nil
        }
        if required, triggers.isEmpty { throw NylasError.invalidValue("trigger_types", "at least one trigger type is required") }
        if let bad = triggers.first(where: { !triggerTypes.contains($0) }) {
            throw NylasError.invalidValue("trigger_types", "unknown trigger type '\(bad)'")
        }
        return triggers
    }

}

/// The endpoint verification of a new (or moved) destination: `GET <url>?challenge=<value>`
/// must answer 200 with exactly the value, in time.
package enum WebhookChallenge {
    package static func verify(_ url: String, _ core: Engine) async throws {
        let (challenge, policy) = core.withState { s in
            (s.world.ids.base62("challenge", length: 24), s.settings.webhooks)
        }
        let target = url + (url.contains("?") ? "&" : "?") + "challenge=" + challenge
        do {
            let response = try await HTTPClient(trustedCAFile: policy.trustedCAFile)
                .send("GET", target, timeout: policy.challengeTimeout)
            guard response.status == 200 else {
                throw NylasError(status: 400, type: "70005", message: "unable.verify.webhook_url : status is not ok, got \(response.status)")
            }
            guard response.text == challenge else {
                throw NylasError(status: 400, type: "70005", message: "unable.verify.webhook_url : challenge value mismatch")
            }
        } catch let e as NylasError {
            throw e
        } catch {
            throw NylasError(status: 400, type: "70005", message: "unable.verify.webhook_url : \(error)")
        }
    }
}

/// Sample notifications for `mock-payload` and `send-test-event`, shaped as §6.7 describes.
package enum MockPayloads {
    package static func notification(_ type: String, applicationID: String, now: VirtualTime) -> JSON {
        let grantID = "00000000-0000-4000-8000-000000000000"
        let family = type.split(separator: ".").first.map(String.init) ?? ""
        let deleted = type.hasSuffix(".deleted")
        var object: JSON
        var extra: [String: JSON] = [:]
        var source = "/google/emails/realtime"
        switch family {
        case "grant":
            source = "/nylas/system"
            object = ["grant_id": .string(grantID), "integration_id": .string(applicationID), "provider": "google",
                      "email": "nyla@example.com"]
            switch type {
            case "grant.created":
                object["code"] = 25012
                object["login_id"] = "mock-login-id"
            case "grant.updated":
                object["code"] = 25014
                object["reauthentication_flag"] = false
            case "grant.deleted":
                object["code"] = 25013
            default: // grant.expired
                object["code"] = 25009
                object["grant_updated_at"] = .int(now.seconds)
            }
        case "calendar":
            source = "/google/calendar/realtime"
            object = deleted
                ? ["id": "mock-calendar-id", "grant_id": .string(grantID), "object": "calendar"]
                : ["id": "mock-calendar-id", "grant_id": .string(grantID), "object": "calendar", "name": "Mock calendar",
                   "read_only": false, "is_owned_by_user": true, "is_primary": false, "timezone": "UTC"]
        case "event":
            source = "/google/events/realtime"
            object = deleted
                ? ["id": "mock-event-id", "grant_id": .string(grantID), "calendar_id": "mock-calendar-id", "object": "event"]
                : ["id": "mock-event-id", "grant_id": .string(grantID), "calendar_id": "mock-calendar-id", "object": "event",
                   "busy": true, "title": "Mock event", "participants": [], "ical_uid": "mock-ical-uid@example.com",
                   "when": ["object": "timespan", "start_time": .int(now.seconds), "end_time": .int(now.seconds + 3600),
                            "start_timezone": "UTC", "end_timezone": "UTC"]]
        case "contact":
            source = "/google/contacts/incremental"
            object = deleted
                ? ["id": "mock-contact-id", "grant_id": .string(grantID), "object": "contact"]
                : ["id": "mock-contact-id", "grant_id": .string(grantID), "object": "contact", "given_name": "Nyla",
                   "emails": [["email": "nyla@example.com", "type": "work"]]]
        case "folder":
            object = ["id": "mock-folder-id", "grant_id": .string(grantID), "object": "folder", "name": "Mock folder", "system_folder": false]
        case "thread":
            source = "/com/nylas/tracking"
            object = ["object": "thread", "grant_id": .string(grantID), "thread_id": "mock-thread-id", "message_id": "mock-message-id",
                      "root_message_id": "mock-root-message-id", "reply_to_message_id": "mock-reply-to-message-id",
                      "label": "Mock tracking label", "reply_data": ["count": 1], "from_self": false,
                      "sender_app_id": .string(applicationID), "timestamp": .int(now.seconds)]
        default:
            if type.hasPrefix("message.send") || type.hasPrefix("message.bounce") { source = "/nylas/send" }
            switch type {
            case "message.opened", "message.link_clicked":
                source = "/com/nylas/tracking"
                object = ["object": "message", "grant_id": .string(grantID), "message_id": "mock-message-id",
                          "label": "Mock tracking label", "sender_app_id": .string(applicationID), "timestamp": .int(now.seconds)]
                if type == "message.opened" {
                    object["message_data"] = ["count": 1, "timestamp": .int(now.seconds)]
                    object["recents"] = [["ip": "127.0.0.1", "opened_id": 0, "timestamp": .int(now.seconds),
                                          "user_agent": "Mozilla/5.0"]]
                } else {
                    object["link_data"] = [["count": 1, "url": "https://www.nylas.com"]]
                    object["recents"] = [["click_id": "0", "ip": "127.0.0.1", "link_index": "0",
                                          "timestamp": .int(now.seconds), "user_agent": "Mozilla/5.0"]]
                }
            case "message.bounce_detected":
                object = ["bounce_reason": "Mock bounce: the mailbox does not exist",
                          "bounce_date": .string(rfc2822(now)), "bounced_addresses": ["nobody@example.com"],
                          "type": "mailbox_unavailable", "code": "550", "grant_id": .string(grantID),
                          "origin": ["to": ["nobody@example.com"], "from": "nyla@example.com", "cc": [], "bcc": [],
                                     "subject": "Mock message", "mime_id": "<mock-mime-id@mailer.nylas.com>",
                                     "id": "mock-message-id", "original_send_at": .int(now.seconds - 60)]]
            case "message.deleted":
                object = ["id": "mock-message-id", "grant_id": .string(grantID), "object": "message"]
            default:
                var m: JSON = ["id": "mock-message-id", "grant_id": .string(grantID), "object": "message", "thread_id": "mock-thread-id",
                               "subject": "Mock message", "from": [["name": "Nyla", "email": "nyla@example.com"]],
                               "to": [["name": "Jon", "email": "jon@example.com"]], "cc": [], "bcc": [], "reply_to": [],
                               "date": .int(now.seconds), "unread": true, "starred": false, "snippet": "Hello from the simulator",
                               "folders": ["INBOX"], "attachments": []]
                if !type.hasSuffix(".truncated"), !type.hasPrefix("message.send") { m["body"] = "<p>Hello from the simulator</p>" }
                object = m
                if type == "message.send_failed" {
                    extra["reason"] = "Mock send failure"
                    extra["error"] = ["type": "provider_error", "message": "the provider rejected the message", "status_code": 422]
                }
            }
        }
        var data: JSON = ["application_id": .string(applicationID), "object": object]
        if WebhookDispatcher.grantAtDataLevel.contains(type) { data["grant_id"] = .string(grantID) }
        for (k, v) in extra { data[k] = v }
        return ["specversion": "1.0", "type": .string(type), "source": .string(source), "id": "mock-notification-id",
                "time": .int(now.seconds), "webhook_delivery_attempt": 1, "data": data]
    }

    /// `Wed, 25 Jan 2023 10:18:39 +0000` (the `bounce_date` form).
    package static func rfc2822(_ time: VirtualTime) -> String { DateText.rfc5322(unixSeconds: time.seconds) }
}
