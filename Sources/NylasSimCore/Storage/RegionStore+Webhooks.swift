import Foundation

/// How webhook deliveries are retried and when a destination's health changes.
///
/// The default follows the seeds: **5 retries over 72 hours**. A failed first attempt is
/// retried 20 minutes, 2 hours, 8 hours, 24 hours and 72 hours after it (6 attempts in all).
/// A failed attempt turns an `active` destination `failing`; a success turns it `active` again;
/// a destination still failing 72 hours after it started failing becomes `failed` and receives
/// nothing more until it is set `active` again. Missed notifications are never replayed.
public struct WebhookPolicy: Sendable, Equatable {
    /// Delays of the retries, measured from the first attempt.
    public var retryDelays: [Duration] = [.seconds(20 * 60), .seconds(2 * 3600), .seconds(8 * 3600), .seconds(24 * 3600), .seconds(72 * 3600)]
    /// Delays of a v2 notification's retries, from its first attempt: exponential backoff over
    /// about 20 minutes, 5 attempts in all, then the notification is dropped (reference v2 §
    /// webhooks: "retried with exponential backoff over ~20 minutes; after 5 failed attempts that
    /// notification is dropped").
    public var v2RetryDelays: [Duration] = [.seconds(60), .seconds(3 * 60), .seconds(8 * 60), .seconds(20 * 60)]
    /// Wall time a receiver has to answer an attempt (10 s, as Nylas); a receiver that does not
    /// answer in time fails the attempt.
    public var attemptTimeout: Duration = .seconds(10)
    /// Attempts are sent concurrently (at most 32 at once, one at a time per notification) while
    /// the clock goes on. Those answered within this wall time are recorded in the order they were
    /// due, as if sent one after another; a slower receiver is recorded when it answers, at the
    /// virtual time of its attempt, and holds nothing else back.
    public var orderWindow: Duration = .seconds(2)
    /// Wall time a receiver has to answer the challenge when a destination is created.
    public var challengeTimeout: Duration = .seconds(10)
    /// Virtual time a destination may stay `failing` before it becomes `failed`.
    public var failedAfter: Duration = .seconds(72 * 3600)
    /// A `message.*` notification above this many bytes is sent `.truncated`, without the body.
    public var truncateAbove: Int = 1_000_000
    /// Trusted CA for HTTPS receivers.
    public var trustedCAFile: String?

    public init() {}
}

/// A webhook destination (v3) or subscription (v2).
/// A destination's delivery state: `failing` after a failed attempt, `failed` once retries ran out
/// (deliveries stop), `pause` when the owner paused it.
package enum WebhookStatus: String, Sendable, SQLBindable {
    case active, failing, failed, pause
    package var sqlValue: SQLValue { .text(rawValue) }
}

package struct WebhookRecord: Sendable, Equatable {
    package var id: String
    package var applicationID: String
    package var apiVersion: Int
    package var description: String?
    package var triggerTypes: [String]
    package var url: String
    package var secret: String
    package var status: WebhookStatus
    package var emails: [String]
    package var compressed: Bool
    package var statusUpdatedAt: Int
    package var failingSince: Int?
    package var createdAt: Int
    package var updatedAt: Int
    /// `pubsub` or `sns` for a notification channel (its topic is `url`); nil for an HTTP webhook.
    package var channel: ChannelPublish.Kind?
    /// The IAM role an SNS channel publishes as.
    package var roleARN: String?

    package init(row: SQLRow) {
        id = row.string("id")
        applicationID = row.string("application_id")
        apiVersion = row.int("api_version")
        description = row.optionalString("description")
        triggerTypes = row.json("trigger_types").arrayValue?.compactMap(\.stringValue) ?? []
        url = row.string("webhook_url")
        secret = row.string("secret")
        status = WebhookStatus(rawValue: row.string("status")) ?? .active
        emails = row.json("notification_email_addresses").arrayValue?.compactMap(\.stringValue) ?? []
        compressed = row.bool("compressed_delivery")
        statusUpdatedAt = row.int("status_updated_at")
        failingSince = row.optionalInt("failing_since")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
        channel = row.optionalString("channel").flatMap(ChannelPublish.Kind.init(rawValue:))
        roleARN = row.optionalString("role_arn")
    }

    package init(id: String, applicationID: String, apiVersion: Int, description: String?, triggerTypes: [String], url: String,
         secret: String, emails: [String], compressed: Bool, now: Int) {
        self.id = id
        self.applicationID = applicationID
        self.apiVersion = apiVersion
        self.description = description
        self.triggerTypes = triggerTypes
        self.url = url
        self.secret = secret
        self.status = .active
        self.emails = emails
        self.compressed = compressed
        self.statusUpdatedAt = now
        self.createdAt = now
        self.updatedAt = now
    }

    /// The v3 destination object (§5.11); the secret only when asked (create, rotate).
    package func json(withSecret: Bool = false) -> JSON {
        var o: JSON = [
            "id": .string(id), "description": .string(description ?? ""), "trigger_types": .strings(triggerTypes),
            "webhook_url": .string(url), "status": .string(status.rawValue), "notification_email_addresses": .strings(emails),
            "compressed_delivery": .bool(compressed), "status_updated_at": .int(statusUpdatedAt),
            "created_at": .int(createdAt), "updated_at": .int(updatedAt),
        ]
        if withSecret { o["webhook_secret"] = .string(secret) }
        return o
    }

    /// The notification channel object (`/v3/channels/pubsub`, `/v3/channels/sns`).
    package var channelJSON: JSON {
        var o: JSON = [
            "id": .string(id), "description": .string(description ?? ""), "trigger_types": .strings(triggerTypes),
            "topic": .string(url), "status": .string(status.rawValue), "notification_email_addresses": .strings(emails),
            "compressed_delivery": .bool(compressed), "status_updated_at": .int(statusUpdatedAt),
            "created_at": .int(createdAt), "updated_at": .int(updatedAt),
        ]
        if channel == .sns { o["role_arn"] = .optional(roleARN) }
        return o
    }

    /// The v2 webhook object (v2 §6.14); `pause` reads as `inactive`.
    package var v2JSON: JSON {
        ["id": .string(id), "application_id": .string(applicationID), "callback_url": .string(url),
         "state": .string(status == .pause ? "inactive" : status.rawValue), "triggers": .strings(triggerTypes), "version": "2.0"]
    }

    /// Whether a notification of `type` goes to this destination.
    package func subscribes(to type: String) -> Bool {
        triggerTypes.contains(type)
    }
}

/// One delivery attempt, as the journal records it.
public struct WebhookDelivery: Sendable {
    public let sequence: Int
    public let notificationID: String
    public let webhookID: String
    public let region: Region
    public let applicationID: String
    public let grantID: String?
    /// The delivered type (with `.truncated` when it was cut).
    public let type: String
    public let attempt: Int
    public let time: VirtualTime
    public let url: String
    /// The receiver's HTTP status, nil when it did not answer.
    public let status: Int?
    /// Why the attempt failed without a status (refused, timeout).
    public let error: String?
    public let latencyMicroseconds: Int
    /// The `x-nylas-signature` header sent.
    public let signature: String
    /// The exact bytes sent (gzip-compressed when the destination asked for it).
    public let body: [UInt8]
    /// `delivered` or `failed`.
    public let outcome: String
    /// When the next attempt of this notification is due, if one is.
    public let nextAttemptAt: VirtualTime?

    public var succeeded: Bool { outcome == "delivered" }
    /// The notification JSON (uncompressed).
    public var payload: JSON? { (try? JSON.parse(Gzip.isGzip(body) ? Gzip.decompress(body) : body)) }

    package init(row: SQLRow, region: Region) {
        sequence = row.int("seq")
        notificationID = row.string("notification_id")
        webhookID = row.string("webhook_id")
        self.region = region
        applicationID = row.string("application_id")
        grantID = row.optionalString("grant_id")
        type = row.string("type")
        attempt = row.int("attempt")
        time = VirtualTime(milliseconds: Int64(row.int("time")))
        url = row.string("url")
        status = row.optionalInt("status")
        error = row.optionalString("error")
        latencyMicroseconds = row.int("latency_us")
        signature = row.string("signature")
        body = row["body"].blob ?? []
        outcome = row.string("outcome")
        nextAttemptAt = row.optionalInt("next_attempt_at").map { VirtualTime(milliseconds: Int64($0)) }
    }

    package func json(includeBody: Bool) -> JSON {
        var o: JSON = [
            "seq": .int(sequence), "notification_id": .string(notificationID), "webhook_id": .string(webhookID),
            "region": .string(region.rawValue), "application_id": .string(applicationID), "grant_id": .optional(grantID),
            "type": .string(type), "attempt": .int(attempt), "time": .string(time.description), "time_unix": .int(time.seconds),
            "url": .string(url), "status": .optional(status), "error": .optional(error),
            "latency_us": .int(latencyMicroseconds), "signature": .string(signature), "outcome": .string(outcome),
            "next_attempt_at": .optional(nextAttemptAt?.description),
        ]
        if includeBody { o["body"] = payload ?? .string(String(decoding: body, as: UTF8.self)) }
        return o
    }
}

extension RegionStore {
    /// An application's HTTP webhook destinations (v3) or subscriptions (v2).
    package func webhooks(applicationID: String, apiVersion: Int) throws -> [WebhookRecord] {
        try db.query("SELECT * FROM webhooks WHERE application_id = ? AND api_version = ? AND channel IS NULL ORDER BY created_at, id",
                     applicationID, apiVersion).map(WebhookRecord.init)
    }

    /// An application's notification channels of one kind.
    package func channels(applicationID: String, kind: ChannelPublish.Kind) throws -> [WebhookRecord] {
        try db.query("SELECT * FROM webhooks WHERE application_id = ? AND channel = ? ORDER BY created_at, id",
                     applicationID, kind.rawValue).map(WebhookRecord.init)
    }

    /// Every destination an event of the application goes to: webhooks and channels.
    package func destinations(applicationID: String, apiVersion: Int) throws -> [WebhookRecord] {
        try db.query("SELECT * FROM webhooks WHERE application_id = ? AND api_version = ? ORDER BY created_at, id",
                     applicationID, apiVersion).map(WebhookRecord.init)
    }

    package func allWebhooks() throws -> [WebhookRecord] {
        try db.query("SELECT * FROM webhooks ORDER BY created_at, id").map(WebhookRecord.init)
    }

    /// The v2 subscriptions now `failing` (their health checks are jobs, restored after a restart).
    package func failingV2Webhooks() throws -> [WebhookRecord] {
        try db.query("SELECT * FROM webhooks WHERE api_version = 2 AND status = 'failing'").map(WebhookRecord.init)
    }

    package func webhook(id: String) throws -> WebhookRecord? {
        try db.first("SELECT * FROM webhooks WHERE id = ?", id).map(WebhookRecord.init)
    }

    package func save(_ w: WebhookRecord) throws {
        try db.run("""
            INSERT INTO webhooks(id, application_id, api_version, description, trigger_types, webhook_url, secret, status,
                notification_email_addresses, compressed_delivery, status_updated_at, failing_since, created_at, updated_at,
                channel, role_arn)
            VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(id) DO UPDATE SET description = excluded.description, trigger_types = excluded.trigger_types,
                webhook_url = excluded.webhook_url, secret = excluded.secret, status = excluded.status,
                notification_email_addresses = excluded.notification_email_addresses,
                compressed_delivery = excluded.compressed_delivery, status_updated_at = excluded.status_updated_at,
                failing_since = excluded.failing_since, updated_at = excluded.updated_at, role_arn = excluded.role_arn
            """, w.id, w.applicationID, w.apiVersion, w.description, JSON.strings(w.triggerTypes), w.url, w.secret, w.status,
            JSON.strings(w.emails), w.compressed, w.statusUpdatedAt, w.failingSince, w.createdAt, w.updatedAt,
            w.channel?.rawValue, w.roleARN)
    }

    package func deleteWebhook(id: String) throws -> Bool {
        try db.run("DELETE FROM webhooks WHERE id = ?", id) > 0
    }

    @discardableResult
    package func appendDelivery(notificationID: String, webhook: WebhookRecord, grantID: String?, type: String, attempt: Int,
                        time: VirtualTime, status: Int?, error: String?, latencyMicros: Int, signature: String,
                        body: [UInt8], outcome: String, nextAttemptAt: VirtualTime?, keepBytes: Int? = nil) throws -> Int {
        try db.run("""
            INSERT INTO deliveries(notification_id, webhook_id, application_id, grant_id, type, attempt, time, url, status,
                error, latency_us, signature, body, outcome, next_attempt_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """, notificationID, webhook.id, webhook.applicationID, grantID, type, attempt, time.milliseconds, webhook.url,
            status, error, latencyMicros, signature, SQLValue.blob(body), outcome, nextAttemptAt.map { $0.milliseconds })
        let seq = Int(db.lastInsertRowID)
        // In memory, at most `keepBytes` of attempts, counted as rows come and go (measured once):
        // past it, the oldest rows go 64 at a time.
        if let keepBytes, db.path == nil {
            if let bytes = deliveryBytes {
                deliveryBytes = bytes + Self.deliveryRowOverhead + body.count + webhook.url.utf8.count + signature.utf8.count
            } else {
                deliveryBytes = try deliveryBytes(upTo: Int.max)
            }
            // Past the limit, down to 1/64 below it: a trim every few hundred rows, not one per row.
            let target = keepBytes - keepBytes / 64
            if let total = deliveryBytes, total > keepBytes {
                while let bytes = deliveryBytes, bytes > target {
                    // The fewest oldest rows (64 at most per step) that bring it under the target.
                    let oldest = try db.query("""
                        SELECT seq, length(body) + length(url) + length(signature) + ? AS n FROM deliveries ORDER BY seq LIMIT 64
                        """, Self.deliveryRowOverhead)
                    guard !oldest.isEmpty else { break }
                    var freed = 0, cut = 0
                    for row in oldest {
                        freed += row.int("n")
                        cut = row.int("seq")
                        if bytes - freed <= target { break }
                    }
                    deliveryBytes = bytes - freed
                    try db.run("DELETE FROM deliveries WHERE seq <= ?", cut)
                }
            }
        }
        return seq
    }

    /// What a delivery row costs beside its body, URL and signature.
    static let deliveryRowOverhead = 200

    private func deliveryBytes(upTo seq: Int) throws -> Int {
        try db.first("""
            SELECT COALESCE(SUM(length(body) + length(url) + length(signature)), 0) + COUNT(*) * ? AS n FROM deliveries WHERE seq <= ?
            """, Self.deliveryRowOverhead, seq)?.int("n") ?? 0
    }

    package func deliveries(webhookID: String? = nil, afterSequence: Int = 0, limit: Int = 10_000) throws -> [WebhookDelivery] {
        if let webhookID {
            return try db.query("SELECT * FROM deliveries WHERE webhook_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                                webhookID, afterSequence, limit).map { WebhookDelivery(row: $0, region: region) }
        }
        return try db.query("SELECT * FROM deliveries WHERE seq > ? ORDER BY seq LIMIT ?", afterSequence, limit)
            .map { WebhookDelivery(row: $0, region: region) }
    }

    package func recordNotificationEmail(webhook: WebhookRecord, time: VirtualTime, subject: String) throws {
        guard !webhook.emails.isEmpty else { return }
        try db.run("INSERT INTO notification_emails(webhook_id, time, recipients, subject) VALUES(?,?,?,?)",
                   webhook.id, time.milliseconds, JSON.strings(webhook.emails), subject)
    }

    package func notificationEmails() throws -> [JSON] {
        try db.query("SELECT * FROM notification_emails ORDER BY seq").map {
            ["webhook_id": .string($0.string("webhook_id")),
             "time": .string(VirtualTime(milliseconds: Int64($0.int("time"))).description),
             "recipients": $0.json("recipients"), "subject": .string($0.string("subject")), "region": .string(region.rawValue)]
        }
    }
}

extension RegionStore {
    /// The next attempt of a notification (first or retry): replaces the one before.
    package func savePendingAttempt(notificationID: String, webhookID: String, attempt: Int, due: VirtualTime, notification: JSON) throws {
        try db.run("""
            INSERT INTO pending_attempts(notification_id, webhook_id, attempt, due, notification) VALUES(?,?,?,?,?)
            ON CONFLICT(notification_id) DO UPDATE SET attempt = excluded.attempt, due = excluded.due
            """, notificationID, webhookID, attempt, due.milliseconds, notification)
    }

    /// The notification's chain ended: delivered, given up, or its destination gone.
    package func deletePendingAttempt(notificationID: String) throws {
        try db.run("DELETE FROM pending_attempts WHERE notification_id = ?", notificationID)
    }

    /// Every attempt waiting, in time order.
    package func pendingAttempts() throws -> [(attempt: Int, due: VirtualTime, notification: JSON)] {
        try db.query("SELECT attempt, due, notification FROM pending_attempts ORDER BY due, rowid").map {
            ($0.int("attempt"), VirtualTime(milliseconds: Int64($0.int("due"))), $0.json("notification"))
        }
    }
}
