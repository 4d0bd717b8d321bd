import Foundation

/// One region's database: applications, connectors, grants, accounts, tokens, webhooks,
/// the request journal. Each region has its own file (or in-memory database) and its own
/// ID namespace.
package final class RegionStore {
    package let region: Region
    package let db: SQLiteDatabase
    /// The request journal of an in-memory region, as values (nil for a file: its `journal` table).
    package let journalRing: JournalRing?
    /// The bytes the in-memory delivery journal holds (nil: not measured yet).
    package var deliveryBytes: Int?
    package var ids: IDGenerator
    /// The simulator's clock, for the times rows are stamped with (set by the engine state).
    package var clock: () -> VirtualTime = { VirtualTime(milliseconds: 0) }
    private var savedCounter: Int
    /// Applications, tokens and grants looked up by key, kept while those tables are unchanged.
    let lookups = Lookups()
    /// Mail answers as rendered, kept while the mail tables are unchanged (`keptMail`).
    private var kept = KeptMail(generation: -1, dataVersion: -1)

    private struct KeptMail {
        var generation: Int
        var dataVersion: Int
        /// `db.mailEpoch` when the answers by rows were kept.
        var epoch = -1
        /// Answers that show many rows (pages of messages or threads): valid for one `generation`.
        var answers: [String: [UInt8]] = [:]
        /// Answers that show one message or one thread: valid while the rows they show (`rows`)
        /// are unchanged, and, for a thread, while no message joined it and its drafts did not change.
        var byRows: [String: (rows: [Int64], bytes: [UInt8], thread: String?)] = [:]
        var keysByRow: [Int64: [String]] = [:]
        var keysByThread: [String: [String]] = [:]
        /// The bytes of the answers and keys kept.
        var bytes = 0
        static let limit = 1024
        static let maxBytes = 64 * 1024
        static let byteLimit = 8 << 20

        var count: Int { answers.count + byRows.count }

        mutating func dropLists(generation: Int) {
            for (key, value) in answers { bytes -= value.count + key.utf8.count }
            answers.removeAll(keepingCapacity: true)
            self.generation = generation
        }

        mutating func keep(_ key: String, rows: [Int64], bytes value: [UInt8], thread: String?) {
            byRows[key] = (rows, value, thread)
            for row in rows { keysByRow[row, default: []].append(key) }
            if let thread { keysByThread[thread, default: []].append(key) }
            bytes += value.count + key.utf8.count
        }

        mutating func remove(_ key: String) {
            guard let old = byRows.removeValue(forKey: key) else { return }
            bytes -= old.bytes.count + key.utf8.count
            for row in old.rows {
                keysByRow[row]?.removeAll { $0 == key }
                if keysByRow[row]?.isEmpty == true { keysByRow[row] = nil }
            }
            if let thread = old.thread {
                keysByThread[thread]?.removeAll { $0 == key }
                if keysByThread[thread]?.isEmpty == true { keysByThread[thread] = nil }
            }
        }

        mutating func drop(row: Int64) {
            for key in keysByRow[row] ?? [] { remove(key) }
        }

        mutating func drop(thread: String) {
            for key in keysByThread[thread] ?? [] { remove(key) }
        }
    }

    package init(region: Region, path: String?, seed: String?) throws {
        self.region = region
        db = try SQLiteDatabase(path: path)
        journalRing = path == nil ? JournalRing(region: region) : nil
        try Schema.migrate(db, Schema.regionAll)
        let counter = Int(try db.first("SELECT value FROM meta WHERE key = 'id_counter'")?.string("value") ?? "0") ?? 0
        ids = IDGenerator(seed: seed, namespace: "region:\(region.rawValue)", counter: counter)
        savedCounter = counter
        try watchThreads()
    }

    /// Persists the ID counter so that a restarted seeded server mints no ID twice.
    package func saveCounter() throws {
        guard ids.counter != savedCounter else { return }
        try db.run("INSERT INTO meta(key, value) VALUES('id_counter', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   String(ids.counter))
        savedCounter = ids.counter
    }

    /// Removes every row and restarts the ID counter (`POST /__sim/reset`).
    package func wipe() throws {
        for table in ["applications", "redirect_uris", "connectors", "credentials", "grants", "tokens", "journal", "meta",
                      "webhooks", "deliveries", "notification_emails", "object_ids", "messages", "message_folders",
                      "folders", "drafts", "schedules", "sync_state", "v2_files", "v2_deltas", "connections", "pending_attempts",
                      "scheduler_configurations", "scheduler_sessions", "scheduler_bookings", "scheduler_group_events",
                      "notetakers", "notetaker_history", "platform_objects", "tracking"] {
            try db.run("DELETE FROM \(table)")
        }
        db.invalidateLookups()
        journalRing?.removeAll()
        deliveryBytes = nil
        ids = IDGenerator(seed: ids.seed, namespace: "region:\(region.rawValue)", counter: 0)
        savedCounter = -1
        try saveCounter()
    }

    /// Rows of `applications`, `connectors`, `tokens` and `grants` by the key they were looked up with (the
    /// auth of every request reads them). Valid while `db.lookupGeneration` has not moved — any
    /// write to those tables, any rollback — and, for a file, while no other connection committed
    /// (`PRAGMA data_version`). Validity (expiry on the virtual clock, revocation, grant status)
    /// is checked by the callers on each request, from the rows.
    package final class Lookups {
        package var generation = -1
        package var dataVersion = -1
        package var appsByKey: [String: ApplicationRecord?] = [:]
        package var appsByID: [String: ApplicationRecord?] = [:]
        package var tokens: [String: TokenRecord?] = [:]
        package var grants: [String: GrantRecord?] = [:]
        /// By "application ID/provider".
        package var connectors: [String: Connector?] = [:]
        /// Every grant of a mailbox (the provider address as the caller spelled it).
        package var grantsByEmail: [String: [GrantRecord]?] = [:]
        /// An application's rules (`platform_objects` of kind `rule`), by application ID.
        package var rules: [String: [PlatformObject]?] = [:]
        /// What a sync tick reads of a grant (`pollState`), by grant ID: every IMAP grant is polled
        /// every 10 minutes. Its cursors are written through by `setSyncCursor` and
        /// `setCalendarSyncCursor`; the rest moves with `grants`. Not counted in `count`: it has
        /// its own limit, `pollLimit`.
        package var pollStates: [String: PollState] = [:]
        package static let pollLimit = 65_536
        /// Entries in all the tables.
        package var count = 0
        /// More entries than this (unknown keys tried one after another): start again.
        package static let limit = 4096

        package func reset(generation: Int, dataVersion: Int) {
            self.generation = generation
            self.dataVersion = dataVersion
            count = 0
            appsByKey.removeAll(keepingCapacity: true)
            appsByID.removeAll(keepingCapacity: true)
            tokens.removeAll(keepingCapacity: true)
            grants.removeAll(keepingCapacity: true)
            connectors.removeAll(keepingCapacity: true)
            grantsByEmail.removeAll(keepingCapacity: true)
            rules.removeAll(keepingCapacity: true)
            pollStates.removeAll(keepingCapacity: true)
        }
    }

    /// The lookups, emptied first if anything they hold may have changed.
    func currentLookups() throws -> Lookups {
        let dataVersion = db.path == nil ? 0 : try db.dataVersion()
        if lookups.generation != db.lookupGeneration || lookups.dataVersion != dataVersion || lookups.count > Lookups.limit {
            lookups.reset(generation: db.lookupGeneration, dataVersion: dataVersion)
        }
        return lookups
    }

    /// `load()` through the lookup table at `path` of the current lookups.
    package func cachedLookup<V>(_ path: ReferenceWritableKeyPath<Lookups, [String: V?]>, _ key: String,
                         _ load: () throws -> V?) throws -> V? {
        let cache = try currentLookups()
        if let hit = cache[keyPath: path][key] { return hit }
        let value = try load()
        cache[keyPath: path][key] = .some(value)
        cache.count += 1
        return value
    }

    /// A rendered mail answer (a thread, a page of messages or threads), by a key that names the
    /// request and every option its rendering depends on; `render` reads and renders it on a miss
    /// (nil: nothing to answer, not kept). Such answers are kept while no row of `messages`,
    /// `message_folders`, `folders` or `drafts` changed (any insert, update or delete moves
    /// `db.mailGeneration`, as do rollbacks) and, for a file, while no other connection committed;
    /// answers of 64 KiB or more are not kept, and past 1,024 answers or 8 MiB (with those of
    /// `keptMessage`) it starts again.
    package func keptMail(key: String, render: () throws -> [UInt8]?) throws -> [UInt8]? {
        try refreshKept()
        if let hit = kept.answers[key] { return hit }
        guard let bytes = try render() else { return nil }
        if bytes.count < KeptMail.maxBytes {
            kept.answers[key] = bytes
            kept.bytes += bytes.count + key.utf8.count
        }
        return bytes
    }

    /// An answer that shows one message (`GET …/messages/{id}`, an item of a page), kept while that
    /// message's row is unchanged: other writes to the mailbox leave it. `render` gives the bytes
    /// and the rowid of the row they show. Bounded with `keptMail`'s answers.
    package func keptMessage(key: String, render: () throws -> (bytes: [UInt8], row: Int64)?) throws -> [UInt8]? {
        try keptRows(key: key, thread: nil) { try render().map { ($0.bytes, [$0.row]) } }
    }

    /// An answer that shows the thread `threadID` of `grantID`, kept while the rows of its messages
    /// (`rows`) are unchanged, no message joined it and its drafts did not change (the temporary
    /// triggers of `watchThreads()`).
    package func keptThread(key: String, grantID: String, threadID: String,
                            render: () throws -> (bytes: [UInt8], rows: [Int64])?) throws -> [UInt8]? {
        try keptRows(key: key, thread: SQLiteDatabase.threadKey(grantID: grantID, threadID: threadID), render: render)
    }

    private func keptRows(key: String, thread: String?, render: () throws -> (bytes: [UInt8], rows: [Int64])?) throws -> [UInt8]? {
        try refreshKept()
        if let hit = kept.byRows[key] { return hit.bytes }
        guard let (bytes, rows) = try render() else { return nil }
        if bytes.count < KeptMail.maxBytes { kept.keep(key, rows: rows, bytes: bytes, thread: thread) }
        return bytes
    }

    /// Drops what the changes since the last look made stale: every page when any mail row
    /// changed; the answers that show a row that changed; a thread's answers when a message joined
    /// it or its drafts changed; everything after a rollback, an invalidation, another connection's
    /// commit, or past the bounds.
    private func refreshKept() throws {
        let dataVersion = db.path == nil ? 0 : try db.dataVersion()
        let changed = db.takeMessageRowChanges()
        let threads = db.takeThreadChanges()
        if kept.epoch != db.mailEpoch || kept.dataVersion != dataVersion || kept.count >= KeptMail.limit
            || kept.bytes >= KeptMail.byteLimit {
            kept = KeptMail(generation: db.mailGeneration, dataVersion: dataVersion)
            kept.epoch = db.mailEpoch
            return
        }
        if kept.generation != db.mailGeneration { kept.dropLists(generation: db.mailGeneration) }
        for row in changed { kept.drop(row: row) }
        for thread in threads { kept.drop(thread: thread) }
    }

    /// Temporary triggers (this connection's, not the file's schema) that report to
    /// `db.takeThreadChanges()` a message joining a thread and a change to a thread's drafts.
    private func watchThreads() throws {
        try db.execute("""
            CREATE TEMP TRIGGER sim_thread_message AFTER INSERT ON main.messages BEGIN
                SELECT sim_thread_changed(NEW.grant_id, NEW.thread_id);
            END;
            CREATE TEMP TRIGGER sim_thread_draft_insert AFTER INSERT ON main.drafts BEGIN
                SELECT sim_thread_changed(NEW.grant_id, NEW.thread_id);
            END;
            CREATE TEMP TRIGGER sim_thread_draft_update AFTER UPDATE ON main.drafts BEGIN
                SELECT sim_thread_changed(OLD.grant_id, OLD.thread_id), sim_thread_changed(NEW.grant_id, NEW.thread_id);
            END;
            CREATE TEMP TRIGGER sim_thread_draft_delete AFTER DELETE ON main.drafts BEGIN
                SELECT sim_thread_changed(OLD.grant_id, OLD.thread_id);
            END;
            """)
    }

    /// What the kept mail answers hold now, the changes since the last look applied: answers and
    /// bytes (for tests).
    package var keptMailSize: (answers: Int, bytes: Int) {
        try? refreshKept()
        return (kept.count, kept.bytes)
    }

    package var isEmpty: Bool { ((try? db.first("SELECT COUNT(*) AS n FROM applications")?.int("n")) ?? 0) == 0 }
}

// MARK: - Applications

extension RegionStore {
    package func applications() throws -> [ApplicationRecord] {
        try db.query("SELECT * FROM applications ORDER BY api_version DESC, created_at, id").map(ApplicationRecord.init)
    }

    package func application(id: String) throws -> ApplicationRecord? {
        try cachedLookup(\.appsByID, id) {
            try db.first("SELECT * FROM applications WHERE id = ?", id).map(ApplicationRecord.init)
        }
    }

    package func application(apiKey: String) throws -> ApplicationRecord? {
        try cachedLookup(\.appsByKey, apiKey) {
            try db.first("SELECT * FROM applications WHERE api_key = ?", apiKey).map(ApplicationRecord.init)
        }
    }

    package func application(clientID: String) throws -> ApplicationRecord? {
        try db.first("SELECT * FROM applications WHERE client_id = ?", clientID).map(ApplicationRecord.init)
    }

    package func application(clientSecret: String, apiVersion: Int) throws -> ApplicationRecord? {
        try db.first("SELECT * FROM applications WHERE client_secret = ? AND api_version = ?", clientSecret, apiVersion)
            .map(ApplicationRecord.init)
    }

    package func save(_ app: ApplicationRecord) throws {
        try db.run("""
            INSERT INTO applications(id, api_version, client_id, client_secret, api_key, organization_id, environment,
                name, v2_application_id, settings, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(id) DO UPDATE SET client_secret = excluded.client_secret, api_key = excluded.api_key,
                environment = excluded.environment, name = excluded.name, v2_application_id = excluded.v2_application_id,
                settings = excluded.settings, updated_at = excluded.updated_at
            """, app.id, app.apiVersion, app.clientID, app.clientSecret, app.apiKey, app.organizationID, app.environment,
            app.name, app.v2ApplicationID, app.settings, app.createdAt, app.updatedAt)
    }
}

// MARK: - Tokens

extension RegionStore {
    package func token(_ value: String) throws -> TokenRecord? {
        try cachedLookup(\.tokens, value) {
            try db.first("SELECT * FROM tokens WHERE token = ?", value).map(TokenRecord.init)
        }
    }

    package func insert(_ t: TokenRecord) throws {
        try db.run("""
            INSERT INTO tokens(token, kind, application_id, grant_id, parent, expires_at, used, revoked, data, created_at)
            VALUES(?,?,?,?,?,?,?,?,?,?)
            """, t.token, t.kind.rawValue, t.applicationID, t.grantID, t.parent, t.expiresAt.map { Int64($0.milliseconds) },
            t.used, t.revoked, t.data, t.createdAt)
    }

    package func markUsed(_ token: String) throws { try db.run("UPDATE tokens SET used = 1 WHERE token = ?", token) }

    /// Revokes a token, the tokens minted from it, and its parent refresh token.
    package func revoke(_ token: String) throws {
        try db.run("UPDATE tokens SET revoked = 1 WHERE token = ? OR parent = ?", token, token)
        if let parent = try self.token(token)?.parent {
            try db.run("UPDATE tokens SET revoked = 1 WHERE token = ? OR parent = ?", parent, parent)
        }
    }

    package func revokeTokens(grantID: String) throws {
        try db.run("UPDATE tokens SET revoked = 1 WHERE grant_id = ?", grantID)
    }
}
