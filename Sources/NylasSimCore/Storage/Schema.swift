/// The versioned schemas of the simulator's databases. A migration is appended, never edited:
/// a database opened from `--data-dir` is brought up to date by running the ones it lacks.
package enum Schema {
    /// Migrations of a region database, in order; index + 1 is the `user_version` after it.
    package static let region: [String] = [
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
        """
        CREATE TABLE object_ids (
            grant_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            world_key TEXT NOT NULL,
            id TEXT NOT NULL,
            PRIMARY KEY (grant_id, kind, world_key)
        );
        CREATE UNIQUE INDEX object_ids_reverse ON object_ids(grant_id, kind, id);
        CREATE TABLE messages (
            grant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            world_id INTEGER NOT NULL,
            thread_id TEXT NOT NULL,
            subject TEXT NOT NULL,
            from_json BLOB, to_json BLOB, cc_json BLOB, bcc_json BLOB, reply_to_json BLOB,
            body TEXT NOT NULL,
            snippet TEXT NOT NULL,
            date INTEGER NOT NULL,
            unread INTEGER NOT NULL,
            starred INTEGER NOT NULL,
            folders BLOB NOT NULL,
            attachments BLOB,
            headers BLOB,
            metadata BLOB,
            message_id_header TEXT NOT NULL,
            participants TEXT NOT NULL,
            has_attachments INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (grant_id, id)
        );
        CREATE INDEX messages_date ON messages(grant_id, date DESC, id DESC);
        CREATE INDEX messages_thread ON messages(grant_id, thread_id, date);
        CREATE INDEX messages_world ON messages(grant_id, world_id);
        CREATE INDEX messages_unread ON messages(grant_id, unread, date DESC, id DESC);
        CREATE TABLE message_folders (
            grant_id TEXT NOT NULL,
            folder_id TEXT NOT NULL,
            date INTEGER NOT NULL,
            message_id TEXT NOT NULL,
            PRIMARY KEY (grant_id, folder_id, date, message_id)
        );
        CREATE INDEX message_folders_message ON message_folders(grant_id, message_id);
        CREATE TABLE folders (
            grant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            world_key TEXT NOT NULL,
            name TEXT NOT NULL,
            system_folder INTEGER NOT NULL,
            attributes BLOB,
            parent_id TEXT,
            PRIMARY KEY (grant_id, id)
        );
        CREATE TABLE drafts (
            grant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            data BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (grant_id, id)
        );
        CREATE TABLE schedules (
            grant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            send_at INTEGER NOT NULL,
            status TEXT NOT NULL,
            message BLOB NOT NULL,
            job_id INTEGER,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (grant_id, id)
        );
        CREATE INDEX grants_email ON grants(email COLLATE NOCASE);
        CREATE TABLE sync_state (
            grant_id TEXT PRIMARY KEY,
            cursor INTEGER NOT NULL,
            last_sync_at INTEGER
        );
        """,
        // Calendars, events and contacts as each grant sees them (their own IDs, Nylas-side metadata).
        """
        CREATE TABLE calendars (
            grant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            world_id INTEGER NOT NULL,
            is_primary INTEGER NOT NULL,
            read_only INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (grant_id, id)
        );
        CREATE INDEX calendars_world ON calendars(grant_id, world_id);
        CREATE TABLE events (
            grant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            world_id INTEGER NOT NULL,
            calendar_id TEXT NOT NULL,
            ical_uid TEXT NOT NULL,
            master_event_id TEXT,
            original_start INTEGER,
            recurring INTEGER NOT NULL DEFAULT 0,
            start_time INTEGER NOT NULL,
            end_time INTEGER NOT NULL,
            status TEXT NOT NULL,
            data BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (grant_id, id)
        );
        CREATE INDEX events_world ON events(grant_id, world_id);
        CREATE INDEX events_calendar ON events(grant_id, calendar_id, start_time);
        CREATE INDEX events_master ON events(grant_id, master_event_id);
        CREATE TABLE contacts (
            grant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            world_id INTEGER NOT NULL,
            data BLOB NOT NULL,
            emails TEXT NOT NULL,
            phones TEXT NOT NULL,
            source TEXT NOT NULL,
            groups TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (grant_id, id)
        );
        CREATE INDEX contacts_world ON contacts(grant_id, world_id);
        CREATE TABLE contact_groups (
            grant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            world_key TEXT NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (grant_id, id)
        );
        CREATE TABLE calendar_sync_state (
            grant_id TEXT PRIMARY KEY,
            cursor INTEGER NOT NULL
        );
        CREATE TRIGGER grants_purge_calendar_data AFTER DELETE ON grants BEGIN
            DELETE FROM calendars WHERE grant_id = OLD.id;
            DELETE FROM events WHERE grant_id = OLD.id;
            DELETE FROM contacts WHERE grant_id = OLD.id;
            DELETE FROM contact_groups WHERE grant_id = OLD.id;
            DELETE FROM calendar_sync_state WHERE grant_id = OLD.id;
        END;
        """,
    ]

    /// Region migrations added after `v2Region` (they run after it, see `regionAll`). Appended to, never edited.
    package static let regionLater: [String] = [
        // Attachment upload sessions (§4.12) and their uploaded bytes.
        """
        CREATE TABLE attachment_uploads (
            id TEXT PRIMARY KEY,
            grant_id TEXT NOT NULL,
            filename TEXT NOT NULL,
            content_type TEXT NOT NULL,
            declared_size INTEGER NOT NULL,
            status TEXT NOT NULL,
            secret TEXT NOT NULL,
            content BLOB,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX attachment_uploads_grant ON attachment_uploads(grant_id);
        CREATE TRIGGER grants_purge_attachment_uploads AFTER DELETE ON grants BEGIN
            DELETE FROM attachment_uploads WHERE grant_id = OLD.id;
        END;
        """,
        // Webhook attempts due (first ones and retries), restored as jobs after a restart.
        """
        CREATE TABLE pending_attempts (
            notification_id TEXT PRIMARY KEY,
            webhook_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            due INTEGER NOT NULL,
            notification BLOB NOT NULL
        );
        """,
        // Why a billable connection ended (deleted, expired, v2 revoked, downgraded, cancelled).
        "ALTER TABLE connections ADD COLUMN ended_by TEXT;",
        // The sent message an uploaded v2 file became an attachment of (it can no longer be deleted).
        "ALTER TABLE v2_files ADD COLUMN message_id TEXT;",
        // Scheduler: configurations, sessions and bookings (issue 20).
        """
        CREATE TABLE scheduler_configurations (
            id TEXT PRIMARY KEY,
            application_id TEXT NOT NULL,
            grant_id TEXT NOT NULL,
            slug TEXT,
            data BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX scheduler_configurations_grant ON scheduler_configurations(grant_id, created_at, id);
        CREATE UNIQUE INDEX scheduler_configurations_slug ON scheduler_configurations(application_id, slug) WHERE slug IS NOT NULL;
        CREATE TABLE scheduler_sessions (
            id TEXT PRIMARY KEY,
            configuration_id TEXT NOT NULL,
            application_id TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX scheduler_sessions_configuration ON scheduler_sessions(configuration_id);
        CREATE TABLE scheduler_bookings (
            id TEXT PRIMARY KEY,
            configuration_id TEXT NOT NULL,
            application_id TEXT NOT NULL,
            status TEXT NOT NULL,
            data BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX scheduler_bookings_configuration ON scheduler_bookings(configuration_id);
        CREATE TABLE scheduler_group_events (
            configuration_id TEXT NOT NULL,
            grant_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            calendar_id TEXT NOT NULL,
            capacity INTEGER NOT NULL,
            PRIMARY KEY (configuration_id, event_id)
        );
        CREATE TRIGGER grants_purge_scheduler_configurations AFTER DELETE ON grants BEGIN
            DELETE FROM scheduler_configurations WHERE grant_id = OLD.id;
        END;
        """,
        // Notetaker bots (grant-scoped or standalone) and their history (issue 21).
        """
        CREATE TABLE notetakers (
            id TEXT PRIMARY KEY,
            application_id TEXT NOT NULL,
            grant_id TEXT,
            state TEXT NOT NULL,
            join_time INTEGER NOT NULL,
            name TEXT NOT NULL,
            data BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX notetakers_application ON notetakers(application_id, grant_id, created_at);
        CREATE TABLE notetaker_history (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            notetaker_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            event_type TEXT NOT NULL,
            data BLOB NOT NULL
        );
        CREATE INDEX notetaker_history_notetaker ON notetaker_history(notetaker_id, seq);
        """,
        // The tracking options a message was sent with (`fields=include_tracking_options`).
        "ALTER TABLE messages ADD COLUMN tracking_options BLOB;",
        // Platform objects (issue 22): templates, workflows, signatures, lists and their items, rules,
        // policies, domains, workspaces, API keys, notification channels and migration jobs, one table
        // keyed by kind. `parent_id` ties an item to its list; `grant_id` scopes grant-level objects.
        """
        CREATE TABLE platform_objects (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            application_id TEXT NOT NULL,
            grant_id TEXT,
            parent_id TEXT,
            data BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (kind, id)
        );
        CREATE INDEX platform_objects_owner ON platform_objects(kind, application_id, grant_id, created_at);
        CREATE INDEX platform_objects_parent ON platform_objects(kind, parent_id);
        CREATE TRIGGER grants_purge_platform_objects AFTER DELETE ON grants BEGIN
            DELETE FROM platform_objects WHERE grant_id = OLD.id;
        END;
        """,
        // Notification channels (Pub/Sub, SNS) are destinations of the one dispatcher: a webhooks row
        // with its kind in `channel` (NULL for an HTTP webhook), its topic in `webhook_url`.
        "ALTER TABLE webhooks ADD COLUMN channel TEXT; ALTER TABLE webhooks ADD COLUMN role_arn TEXT;",
        // A folder's colours as the grant last synced them (Google labels).
        "ALTER TABLE folders ADD COLUMN colors BLOB;",
        // A draft's thread, so that a thread finds its drafts by index, not by reading every draft.
        """
        ALTER TABLE drafts ADD COLUMN thread_id TEXT;
        UPDATE drafts SET thread_id = json_extract(CAST(sim_value(data) AS TEXT), '$.object.thread_id');
        CREATE INDEX drafts_thread ON drafts(grant_id, thread_id);
        """,
        // When each ID was minted: a v2 object's creation time (`start_from_timestamp` of translate).
        "ALTER TABLE object_ids ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;",
        // Tracked sent messages (opens and links): their token, counts and recent hits.
        """
        CREATE TABLE tracking (token TEXT PRIMARY KEY, grant_id TEXT NOT NULL, message_id TEXT NOT NULL,
                               message_id_header TEXT NOT NULL, data BLOB NOT NULL);
        CREATE INDEX tracking_header ON tracking(grant_id, message_id_header);
        """,
        // Each thread's latest message date, kept by triggers: the unfiltered thread list reads a
        // page of it by index instead of grouping all of a grant's messages.
        """
        CREATE TABLE thread_latest (
            grant_id TEXT NOT NULL,
            thread_id TEXT NOT NULL,
            latest INTEGER NOT NULL,
            PRIMARY KEY (grant_id, thread_id)
        ) WITHOUT ROWID;
        CREATE INDEX thread_latest_order ON thread_latest(grant_id, latest DESC, thread_id DESC);
        INSERT INTO thread_latest SELECT grant_id, thread_id, MAX(date) FROM messages GROUP BY grant_id, thread_id;
        CREATE TRIGGER messages_thread_latest_insert AFTER INSERT ON messages BEGIN
            INSERT INTO thread_latest VALUES (NEW.grant_id, NEW.thread_id, NEW.date)
                ON CONFLICT (grant_id, thread_id) DO UPDATE SET latest = max(latest, excluded.latest);
        END;
        CREATE TRIGGER messages_thread_latest_delete AFTER DELETE ON messages BEGIN
            DELETE FROM thread_latest WHERE grant_id = OLD.grant_id AND thread_id = OLD.thread_id;
            INSERT INTO thread_latest SELECT grant_id, thread_id, MAX(date) FROM messages
                WHERE grant_id = OLD.grant_id AND thread_id = OLD.thread_id GROUP BY grant_id, thread_id;
        END;
        CREATE TRIGGER messages_thread_latest_update AFTER UPDATE OF grant_id, thread_id, date ON messages BEGIN
            DELETE FROM thread_latest WHERE (grant_id = OLD.grant_id AND thread_id = OLD.thread_id)
                OR (grant_id = NEW.grant_id AND thread_id = NEW.thread_id);
            INSERT INTO thread_latest SELECT grant_id, thread_id, MAX(date) FROM messages
                WHERE (grant_id = OLD.grant_id AND thread_id = OLD.thread_id) OR (grant_id = NEW.grant_id AND thread_id = NEW.thread_id)
                GROUP BY grant_id, thread_id;
        END;
        """,
        // Each message's addresses by role (0 from, 1 to, 2 cc, 3 bcc), lower-cased, with its date,
        // kept by triggers: the `from`/`to`/`cc`/`bcc` filters read an address's messages newest
        // first by index instead of scanning the participants' JSON of every message.
        """
        CREATE TABLE message_addresses (
            grant_id TEXT NOT NULL,
            role INTEGER NOT NULL,
            email TEXT NOT NULL,
            date INTEGER NOT NULL,
            message_id TEXT NOT NULL,
            PRIMARY KEY (grant_id, role, email, date, message_id)
        ) WITHOUT ROWID;
        CREATE INDEX message_addresses_message ON message_addresses(grant_id, message_id);
        \(addressRows(of: "m", from: "messages m, "))
        CREATE TRIGGER messages_addresses_insert AFTER INSERT ON messages BEGIN
            \(addressRows(of: "NEW"))
        END;
        CREATE TRIGGER messages_addresses_delete AFTER DELETE ON messages BEGIN
            DELETE FROM message_addresses WHERE grant_id = OLD.grant_id AND message_id = OLD.id;
        END;
        CREATE TRIGGER messages_addresses_update AFTER UPDATE OF grant_id, id, date, from_json, to_json, cc_json, bcc_json ON messages BEGIN
            DELETE FROM message_addresses WHERE grant_id = OLD.grant_id AND message_id = OLD.id;
            \(addressRows(of: "NEW"))
        END;
        """,
        // An application's grants of an address, as a new grant of that address asks (a lookup,
        // not a walk over every grant of the application: 1.2 ms each at 10,000 grants).
        """
        CREATE INDEX grants_app_email_nocase ON grants(application_id, email COLLATE NOCASE, created_at);
        """,
    ]

    /// The statement that stores the addresses of the messages row `row` (`NEW` in a trigger, or an
    /// alias of `messages` named in `from`) in `message_addresses`, one row per role and address.
    private static func addressRows(of row: String, from: String = "") -> String {
        let roles = ["from_json", "to_json", "cc_json", "bcc_json"].enumerated().map { role, column in
            """
            SELECT \(row).grant_id, \(role), lower(json_extract(value, '$.email')), \(row).date, \(row).id
                FROM \(from)json_each(CAST(\(row).\(column) AS TEXT)) WHERE json_extract(value, '$.email') IS NOT NULL
            """
        }
        return "INSERT OR IGNORE INTO message_addresses " + roles.joined(separator: " UNION ALL ") + ";"
    }

    /// Migrations of the provider-world database.
    package static let world: [String] = [
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
        """
        CREATE TABLE folders (
            mailbox TEXT NOT NULL,
            key TEXT NOT NULL,
            name TEXT NOT NULL,
            system INTEGER NOT NULL DEFAULT 0,
            attributes BLOB,
            parent TEXT,
            PRIMARY KEY (mailbox, key)
        );
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            mailbox TEXT NOT NULL,
            message_id_header TEXT NOT NULL,
            in_reply_to TEXT,
            refs BLOB,
            thread_key TEXT NOT NULL,
            subject TEXT NOT NULL,
            from_json BLOB, to_json BLOB, cc_json BLOB, bcc_json BLOB, reply_to_json BLOB,
            body TEXT NOT NULL,
            date INTEGER NOT NULL,
            unread INTEGER NOT NULL,
            starred INTEGER NOT NULL,
            folders BLOB NOT NULL,
            headers BLOB,
            attachments BLOB,
            deleted INTEGER NOT NULL DEFAULT 0,
            available_at INTEGER NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX messages_mailbox ON messages(mailbox, id);
        CREATE INDEX messages_header ON messages(mailbox, message_id_header);
        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            filename TEXT NOT NULL,
            content_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            content_id TEXT,
            inline INTEGER NOT NULL DEFAULT 0,
            content BLOB
        );
        CREATE TABLE changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            mailbox TEXT NOT NULL,
            kind TEXT NOT NULL,
            object INTEGER NOT NULL,
            time INTEGER NOT NULL
        );
        CREATE INDEX changes_mailbox ON changes(mailbox, seq);
        """,
        // Calendars, events (masters, exceptions, singles) and contacts of each mailbox.
        """
        CREATE TABLE calendars (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            mailbox TEXT NOT NULL,
            role TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            location TEXT,
            timezone TEXT,
            hex_color TEXT,
            hex_foreground_color TEXT,
            read_only INTEGER NOT NULL DEFAULT 0,
            is_owned_by_user INTEGER NOT NULL DEFAULT 1,
            deleted INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX calendars_mailbox ON calendars(mailbox, id);
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            mailbox TEXT NOT NULL,
            calendar INTEGER NOT NULL,
            ical_uid TEXT NOT NULL,
            master INTEGER,
            original_start INTEGER,
            data BLOB NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX events_mailbox ON events(mailbox, calendar, id);
        CREATE INDEX events_uid ON events(ical_uid);
        CREATE INDEX events_master ON events(master, original_start);
        CREATE TABLE contacts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            mailbox TEXT NOT NULL,
            data BLOB NOT NULL,
            picture BLOB,
            deleted INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX contacts_mailbox ON contacts(mailbox, id);
        CREATE TABLE contact_groups (
            mailbox TEXT NOT NULL,
            key TEXT NOT NULL,
            name TEXT NOT NULL,
            group_type TEXT NOT NULL,
            path TEXT,
            PRIMARY KEY (mailbox, key)
        );
        CREATE TRIGGER mailboxes_purge_calendar_data AFTER DELETE ON mailboxes BEGIN
            DELETE FROM calendars WHERE mailbox = OLD.email;
            DELETE FROM events WHERE mailbox = OLD.email;
            DELETE FROM contacts WHERE mailbox = OLD.email;
            DELETE FROM contact_groups WHERE mailbox = OLD.email;
        END;
        """,
        // Room resources of a Google Workspace or Microsoft 365 directory, by email domain.
        """
        CREATE TABLE room_resources (
            email TEXT PRIMARY KEY,
            domain TEXT NOT NULL,
            name TEXT NOT NULL,
            capacity INTEGER,
            building TEXT,
            floor_name TEXT,
            floor_number INTEGER,
            floor_section TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX room_resources_domain ON room_resources(domain, email);
        """,
        // A Google label's colours (`background_color`, `text_color`), set through the API or the user's client.
        "ALTER TABLE folders ADD COLUMN colors BLOB;",
    ]

    /// Brings `db` up to the newest version of `migrations`.
    package static func migrate(_ db: SQLiteDatabase, _ migrations: [String]) throws {
        let version = try db.first("PRAGMA user_version")?.int("user_version") ?? 0
        guard version < migrations.count else { return }
        // A new in-memory database: a copy of the migrated template (the same pages).
        if db.path == nil, version == 0 { return try SchemaTemplate.fill(db, migrations) }
        try runMigrations(db, migrations, from: version)
    }

    /// Runs the migrations after `version` and sets `user_version`, in one transaction.
    package static func runMigrations(_ db: SQLiteDatabase, _ migrations: [String], from version: Int) throws {
        try db.transaction {
            for i in version..<migrations.count {
                try db.execute(migrations[i])
            }
            try db.execute("PRAGMA user_version = \(migrations.count)")
        }
    }
}
