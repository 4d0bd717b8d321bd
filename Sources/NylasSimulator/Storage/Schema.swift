/// The versioned schemas of the simulator's databases. A migration is appended, never edited:
/// a database opened from `--data-dir` is brought up to date by running the ones it lacks.
enum Schema {
    /// Migrations of a region database, in order; index + 1 is the `user_version` after it.
    static let region: [String] = [
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE applications (
            id TEXT PRIMARY KEY,
            api_version INTEGER NOT NULL,
            client_id TEXT NOT NULL UNIQUE,
            client_secret TEXT NOT NULL,
            api_key TEXT UNIQUE,
            organization_id TEXT NOT NULL,
            environment TEXT NOT NULL,
            name TEXT NOT NULL,
            v2_application_id TEXT,
            settings BLOB,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE redirect_uris (
            id TEXT PRIMARY KEY,
            application_id TEXT NOT NULL,
            url TEXT NOT NULL,
            platform TEXT NOT NULL,
            settings BLOB,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX redirect_uris_app ON redirect_uris(application_id, url);
        CREATE TABLE connectors (
            application_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            name TEXT NOT NULL,
            settings BLOB,
            scope BLOB,
            active_credential_id TEXT,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (application_id, provider)
        );
        CREATE TABLE credentials (
            id TEXT PRIMARY KEY,
            application_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            name TEXT NOT NULL,
            credential_type TEXT NOT NULL,
            data BLOB,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX credentials_app ON credentials(application_id, provider);
        CREATE TABLE grants (
            id TEXT PRIMARY KEY,
            application_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            email TEXT NOT NULL,
            name TEXT,
            grant_status TEXT NOT NULL,
            scope BLOB,
            settings BLOB,
            state TEXT,
            provider_user_id TEXT,
            account_id TEXT,
            external_id TEXT,
            credential_id TEXT,
            ip TEXT,
            user_agent TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX grants_app_email ON grants(application_id, email);
        CREATE INDEX grants_app_created ON grants(application_id, created_at);
        CREATE TABLE tokens (
            token TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            application_id TEXT NOT NULL,
            grant_id TEXT,
            parent TEXT,
            expires_at INTEGER,
            used INTEGER NOT NULL DEFAULT 0,
            revoked INTEGER NOT NULL DEFAULT 0,
            data BLOB,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX tokens_grant ON tokens(grant_id);
        CREATE TABLE journal (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            request_id TEXT NOT NULL,
            time INTEGER NOT NULL,
            surface TEXT NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            query TEXT NOT NULL,
            status INTEGER NOT NULL,
            application_id TEXT,
            grant_id TEXT,
            duration_us INTEGER NOT NULL,
            request_body BLOB,
            response_body BLOB
        );
        """,
        """
        CREATE TABLE webhooks (
            id TEXT PRIMARY KEY,
            application_id TEXT NOT NULL,
            api_version INTEGER NOT NULL,
            description TEXT,
            trigger_types BLOB NOT NULL,
            webhook_url TEXT NOT NULL,
            secret TEXT NOT NULL,
            status TEXT NOT NULL,
            notification_email_addresses BLOB,
            compressed_delivery INTEGER NOT NULL DEFAULT 0,
            status_updated_at INTEGER NOT NULL,
            failing_since INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX webhooks_app ON webhooks(application_id, api_version);
        CREATE TABLE deliveries (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            notification_id TEXT NOT NULL,
            webhook_id TEXT NOT NULL,
            application_id TEXT NOT NULL,
            grant_id TEXT,
            type TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            time INTEGER NOT NULL,
            url TEXT NOT NULL,
            status INTEGER,
            error TEXT,
            latency_us INTEGER NOT NULL,
            signature TEXT NOT NULL,
            body BLOB,
            outcome TEXT NOT NULL,
            next_attempt_at INTEGER
        );
        CREATE INDEX deliveries_webhook ON deliveries(webhook_id, seq);
        CREATE TABLE notification_emails (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            webhook_id TEXT NOT NULL,
            time INTEGER NOT NULL,
            recipients BLOB NOT NULL,
            subject TEXT NOT NULL
        );
        """,
    ]

    /// Migrations of the provider-world database.
    static let world: [String] = [
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE mailboxes (
            email TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            name TEXT NOT NULL,
            password TEXT,
            credentials_valid INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL
        );
        """,
    ]

    /// Brings `db` up to the newest version of `migrations`.
    static func migrate(_ db: SQLiteDatabase, _ migrations: [String]) throws {
        let version = try db.first("PRAGMA user_version")?.int("user_version") ?? 0
        guard version < migrations.count else { return }
        try db.transaction {
            for i in version..<migrations.count {
                try db.execute(migrations[i])
            }
            try db.execute("PRAGMA user_version = \(migrations.count)")
        }
    }
}
