/// Migrations of the v2 surface, applied after `Schema.region`: v2 accounts live in the
/// `grants` table (so one sync engine serves both API versions), with their own states.
extension Schema {
    package static let v2Region: [String] = [
        """
        ALTER TABLE grants ADD COLUMN api_version INTEGER NOT NULL DEFAULT 3;
        ALTER TABLE grants ADD COLUMN sync_state TEXT;
        ALTER TABLE grants ADD COLUMN billing_state TEXT;
        ALTER TABLE grants ADD COLUMN metadata BLOB;
        CREATE TABLE v2_files (
            account_id TEXT NOT NULL,
            id TEXT NOT NULL,
            filename TEXT NOT NULL,
            content_type TEXT NOT NULL,
            content BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (account_id, id)
        );
        CREATE TABLE v2_deltas (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            account_id TEXT NOT NULL,
            object TEXT NOT NULL,
            event TEXT NOT NULL,
            object_id TEXT NOT NULL,
            attributes BLOB,
            time INTEGER NOT NULL
        );
        CREATE INDEX v2_deltas_account ON v2_deltas(account_id, seq);
        """,
        """
        CREATE TABLE connections (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            application_id TEXT NOT NULL,
            api_version INTEGER NOT NULL,
            grant_id TEXT NOT NULL,
            email TEXT NOT NULL,
            connected_at INTEGER NOT NULL,
            disconnected_at INTEGER
        );
        CREATE INDEX connections_grant ON connections(grant_id);
        """,
    ]

    /// Every migration of a region database, in order.
    package static var regionAll: [String] { region + v2Region + regionLater }
}
