import Foundation
import NylasSimCore

/// v2 webhook subscriptions under `/a/{client_id}/webhooks` (v2 reference §6.14), with app Basic auth.
package enum V2WebhookRoutes {
    package static let triggers: Set<String> = [
        "account.connected", "account.running", "account.stopped", "account.invalid", "account.sync_error",
        "message.created", "message.updated", "message.opened", "message.link_clicked", "message.bounced", "thread.replied",
        "contact.created", "contact.updated", "contact.deleted", "calendar.created", "calendar.updated", "calendar.deleted",
        "event.created", "event.updated", "event.deleted", "job.successful", "job.failed", "job.cancelled", "job.delayed",
    ]

    package static func register(_ r: inout Router) {
        r.add("GET", "/a/{client_id}/webhooks", .v2, listWebhooks)
        r.add("POST", "/a/{client_id}/webhooks", .v2, postWebhooks)
        r.add("GET", "/a/{client_id}/webhooks/{id}", .v2, getWebhook)
        r.add("PUT", "/a/{client_id}/webhooks/{id}", .v2, putWebhook)
        r.add("DELETE", "/a/{client_id}/webhooks/{id}", .v2, deleteWebhook)
        r.add("GET", "/a/{client_id}/ip_addresses", .v2, listIpAddresses)
    }

    /// `GET "/a/{client_id}/webhooks"`
    @Sendable static func listWebhooks(_ ctx: RequestContext) async throws -> SimResponse {
        .json(.array(try ctx.read { _, store in
            let app = try ctx.requireV2Application(store)
            return try store.webhooks(applicationID: app.id, apiVersion: 2).map(\.v2JSON)
        }))
    }

    /// `POST "/a/{client_id}/webhooks"`
    @Sendable static func postWebhooks(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let url = try WebhookURL.validated(try body.requiredString("callback_url"), field: "callback_url")
        guard let list = try body.stringArray("triggers"), !list.isEmpty else { throw NylasError.missingField("triggers") }
        if let bad = list.first(where: { !triggers.contains($0) }) {
            throw NylasError.invalidValue("triggers", "unknown trigger '\(bad)'")
        }
        let state = try body.string("state") ?? "active"
        guard ["active", "inactive"].contains(state) else { throw NylasError.invalidValue("state", "expected active or inactive") }
        let app = try ctx.read { _, store in try ctx.requireV2Application(store) }
        if try ctx.read({ _, store in try store.webhooks(applicationID: app.id, apiVersion: 2).contains { $0.url == url } }) {
            throw NylasError.invalidRequest("A webhook for \(url) already exists")
        }
        do { try await WebhookChallenge.verify(url, ctx.core) } catch let e as NylasError {
            throw NylasError(status: 400, type: "invalid_request_error", message: "Webhook callback URL verification failed: \(e.message)")
        }
        return .json(try ctx.write { s, store in
            var hook = WebhookRecord(id: store.ids.base36("v2-webhook"), applicationID: app.id, apiVersion: 2,
                                     description: nil, triggerTypes: list, url: url, secret: app.clientSecret,
                                     emails: [], compressed: false, now: s.now.seconds)
            if state == "inactive" { hook.status = .pause }
            try store.save(hook)
            return hook.v2JSON
        })
    }

    /// `GET "/a/{client_id}/webhooks/{id}"`
    @Sendable static func getWebhook(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.read { _, store in try hook(ctx, store).v2JSON })
    }

    /// `PUT "/a/{client_id}/webhooks/{id}"`
    @Sendable static func putWebhook(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        guard let state = try body.string("state"), ["active", "inactive"].contains(state) else {
            throw NylasError.invalidValue("state", "only state (active or inactive) can be changed")
        }
        let existing = try ctx.read { _, store in try hook(ctx, store) }
        if state == "active", existing.status != .active {
            try await WebhookChallenge.verify(existing.url, ctx.core)
        }
        return .json(try ctx.write { s, store in
            var h = try hook(ctx, store)
            let newStatus: WebhookStatus = state == "inactive" ? .pause : .active
            if newStatus != h.status {
                h.status = newStatus
                h.failingSince = nil
                h.statusUpdatedAt = s.now.seconds
            }
            h.updatedAt = s.now.seconds
            try store.save(h)
            return h.v2JSON
        })
    }

    /// `DELETE "/a/{client_id}/webhooks/{id}"`
    @Sendable static func deleteWebhook(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { _, store in _ = try store.deleteWebhook(id: try hook(ctx, store).id) }
        return .json([:])
    }

    /// `GET "/a/{client_id}/ip_addresses"`
    @Sendable static func listIpAddresses(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.read { s, store in
            _ = try ctx.requireV2Application(store)
            return ["ip_addresses": ["127.0.0.1"], "updated_at": .int(s.startTime.seconds)]
        })
    }

    package static func hook(_ ctx: RequestContext, _ store: RegionStore) throws -> WebhookRecord {
        let app = try ctx.requireV2Application(store)
        guard let h = try store.webhook(id: ctx.param("id")), h.applicationID == app.id, h.apiVersion == 2 else {
            throw NylasError.notFound("Couldn't find webhook \(ctx.param("id"))")
        }
        return h
    }
}
