import Foundation

/// The reads of the dashboard: summaries without bodies, one row with its bodies.
extension RegionStore {
    /// Every live access token of a grant, oldest first.
    package func liveAccessTokens() throws -> [TokenRecord] {
        try db.query("SELECT * FROM tokens WHERE kind = 'access' AND revoked = 0 AND grant_id IS NOT NULL ORDER BY created_at, rowid")
            .map { TokenRecord(row: $0) }
    }

    /// The newest delivery attempts, without their bodies (`body_bytes` says how long each was).
    package func recentDeliveryRows(limit: Int) throws -> [SQLRow] {
        try db.query("""
            SELECT seq, notification_id, webhook_id, application_id, grant_id, type, attempt, time, url, status, error,
                latency_us, signature, outcome, next_attempt_at, length(body) AS body_bytes
            FROM deliveries ORDER BY seq DESC LIMIT ?
            """, limit)
    }

    package func deliveryRow(seq: Int) throws -> SQLRow? {
        try db.first("SELECT * FROM deliveries WHERE seq = ?", seq)
    }
}

extension ProviderWorld {
    /// How many messages each mailbox holds.
    package func messageCountsByMailbox() throws -> [(String, Int)] {
        try db.query("SELECT mailbox, COUNT(*) AS n FROM messages WHERE deleted = 0 GROUP BY mailbox").map { ($0.string("mailbox"), $0.int("n")) }
    }

    /// The newest messages of the world (mailbox, subject, sender, date, unread).
    package func recentMessageRows(limit: Int) throws -> [SQLRow] {
        try db.query("SELECT mailbox, subject, from_json, date, unread FROM messages WHERE deleted = 0 ORDER BY id DESC LIMIT ?", limit)
    }
}
