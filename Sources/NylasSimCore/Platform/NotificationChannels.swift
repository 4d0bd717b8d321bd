import Foundation

/// Pub/Sub and SNS notification channels (`/v3/channels/pubsub`, `/v3/channels/sns`): destinations
/// of the one webhook dispatcher (same triggers, payloads, compression, retries and health), whose
/// attempts publish to a topic instead of POSTing to a URL. Their errors carry Nylas's numeric
/// codes (`70005` bad input, `70001`/`70000` unknown channel), as the description shows.
package enum NotificationChannels {
    static func badInput(_ what: String) -> NylasError {
        NylasError(status: 400, type: "70005", message: "invalid.input.format : \(what)")
    }

    static func notFound(_ code: String) -> NylasError {
        NylasError(status: 400, type: code, message: "destination.id.not.found : record not found")
    }

    static var triggerTypes: Set<String> { WebhookTriggers.v3 }

    static func triggers(_ body: BodyFields, required: Bool) throws(NylasError) -> [String]? {
        guard body.has("trigger_types") else {
            if required { throw badInput("trigger_types is required") }
            return nil
        }
        guard case .array(let items)? = body.values["trigger_types"], !items.isEmpty else {
            throw badInput("trigger_types must be a non-empty array of trigger types")
        }
        var out: [String] = []
        for item in items {
            guard let t = item.stringValue, triggerTypes.contains(t) else { throw badInput("trigger_types: unknown trigger type \(item)") }
            if !out.contains(t) { out.append(t) }
        }
        return out
    }

    static func string(_ body: BodyFields, _ key: String) throws(NylasError) -> String? {
        guard let v = body.values[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw badInput("\(key) must be a string") }
        return s
    }

    static func topic(_ kind: ChannelPublish.Kind, _ body: BodyFields, required: Bool) throws(NylasError) -> String? {
        guard let topic = try string(body, "topic") else {
            if required { throw badInput("topic is required") }
            return nil
        }
        switch kind {
        case .pubsub:
            guard PubSubPublisher.isTopic(topic) else { throw badInput("topic must be projects/<project>/topics/<topic>") }
        case .sns:
            guard topic.hasPrefix("arn:aws:sns:"), SNSPublisher.region(ofTopic: topic) != nil else {
                throw badInput("topic must be an Amazon SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)")
            }
        }
        return topic
    }

    static func roleARN(_ body: BodyFields, required: Bool) throws(NylasError) -> String? {
        guard let role = try string(body, "role_arn") else {
            if required { throw badInput("role_arn is required") }
            return nil
        }
        guard SNSPublisher.isRoleARN(role) else { throw badInput("role_arn must match arn:aws:iam::<account-id>:role/<role-name>") }
        return role
    }

    static func emails(_ body: BodyFields) throws(NylasError) -> [String]? {
        guard let v = body.values["notification_email_addresses"], !v.isNull else { return nil }
        guard case .array(let items) = v, let list = Optional(items.compactMap(\.stringValue)), list.count == items.count,
              list.allSatisfy({ $0.contains("@") }) else {
            throw badInput("notification_email_addresses must be an array of email addresses")
        }
        return list
    }

    static func bool(_ body: BodyFields, _ key: String) throws(NylasError) -> Bool? {
        guard let v = body.values[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw badInput("\(key) must be a boolean") }
        return b
    }

    package static func create(_ s: EngineState, region: Region, applicationID: String, kind: ChannelPublish.Kind,
                               _ body: BodyFields) throws -> WebhookRecord {
        let triggers = try triggers(body, required: true)!
        let topic = try topic(kind, body, required: true)!
        let role = kind == .sns ? try roleARN(body, required: true) : nil
        let store = s.store(region)
        var channel = WebhookRecord(id: store.ids.uuid("channel"), applicationID: applicationID, apiVersion: 3,
                                    description: try string(body, "description"), triggerTypes: triggers, url: topic,
                                    secret: store.ids.base62("webhook-secret", length: 40), emails: try emails(body) ?? [],
                                    compressed: try bool(body, "compressed_delivery") ?? false, now: s.now.seconds)
        channel.channel = kind
        channel.roleARN = role
        try store.save(channel)
        return channel
    }

    package static func channel(_ store: RegionStore, applicationID: String, kind: ChannelPublish.Kind, id: String,
                                code: String) throws -> WebhookRecord {
        guard let c = try store.webhook(id: id), c.applicationID == applicationID, c.channel == kind else { throw notFound(code) }
        return c
    }

    /// PUT: the fields given replace the channel's; `status` `active` restarts a paused, failing or failed channel.
    package static func update(_ s: EngineState, region: Region, applicationID: String, kind: ChannelPublish.Kind, id: String,
                               _ body: BodyFields) throws -> WebhookRecord {
        let store = s.store(region)
        var c = try channel(store, applicationID: applicationID, kind: kind, id: id, code: "70000")
        if let t = try triggers(body, required: false) { c.triggerTypes = t }
        if let t = try topic(kind, body, required: false) { c.url = t }
        if kind == .sns, let r = try roleARN(body, required: false) { c.roleARN = r }
        if body.has("description") { c.description = try string(body, "description") }
        if let e = try emails(body) { c.emails = e }
        if let b = try bool(body, "compressed_delivery") { c.compressed = b }
        if let status = try string(body, "status") {
            guard let st = ["active": WebhookStatus.active, "pause": .pause, "paused": .pause][status] else {
                throw badInput("status must be active or pause")
            }
            if st != c.status {
                c.status = st
                c.failingSince = nil
                c.statusUpdatedAt = s.now.seconds
            }
        }
        c.updatedAt = s.now.seconds
        try store.save(c)
        return c
    }

    package static func delete(_ s: EngineState, region: Region, applicationID: String, kind: ChannelPublish.Kind, id: String) throws {
        let store = s.store(region)
        let c = try channel(store, applicationID: applicationID, kind: kind, id: id, code: "70000")
        _ = try store.deleteWebhook(id: c.id)
    }
}

/// The trigger types of v3 destinations: webhooks and notification channels alike.
package enum WebhookTriggers {
    package static let v3: Set<String> = [
        "calendar.created", "calendar.updated", "calendar.deleted", "event.created", "event.updated", "event.deleted",
        "grant.created", "grant.updated", "grant.deleted", "grant.expired", "grant.imap_sync_completed",
        "message.send_success", "message.send_failed", "message.bounce_detected", "message.created",
        "message.created.cleaned", "message.updated", "message.deleted", "message.opened", "message.opened.legacy",
        "message.link_clicked", "message.link_clicked.legacy", "thread.replied", "thread.replied.legacy",
        "contact.updated", "contact.deleted", "folder.created", "folder.updated", "folder.deleted",
        "booking.created", "booking.pending", "booking.rescheduled", "booking.cancelled", "booking.reminder",
        "message.transactional.bounced", "message.transactional.complaint", "message.transactional.delivered",
        "message.transactional.rejected", "message.bounced", "message.complaint", "message.delivered", "message.rejected",
        "notetaker.created", "notetaker.updated", "notetaker.deleted", "notetaker.meeting_state", "notetaker.media",
        "message.created.truncated", "message.updated.truncated",
    ]
}
