import Foundation

/// The world outside Nylas: simulated mailboxes keyed by email address, the same for every
/// region, as a real Gmail mailbox is.
package final class ProviderWorld {
    package let db: SQLiteDatabase
    package var ids: IDGenerator
    /// The counter as last written (or read): `saveCounter` writes only when it moved.
    private var savedCounter: Int
    /// Each mailbox's newest change (`lastChange`: every sync tick asks), kept while
    /// `db.lookupGeneration` (rollbacks, invalidations) and, for a file, `PRAGMA data_version`
    /// stand still; `recordChange` writes through.
    var lastChanges: [String: Int] = [:]
    var lastChangesValid = (generation: -1, dataVersion: -1)

    package init(path: String?, seed: String?) throws {
        db = try SQLiteDatabase(path: path)
        try Schema.migrate(db, Schema.world)
        let counter = Int(try db.first("SELECT value FROM meta WHERE key = 'id_counter'")?.string("value") ?? "0") ?? 0
        ids = IDGenerator(seed: seed, namespace: "world", counter: counter)
        savedCounter = counter
    }

    package func saveCounter() throws {
        guard ids.counter != savedCounter else { return }
        try db.run("INSERT INTO meta(key, value) VALUES('id_counter', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   String(ids.counter))
        savedCounter = ids.counter
    }

    /// Keeps the virtual clock (time, mode and rate) with the data, so that a restarted server resumes it.
    package func saveClock(_ clock: ClockState) throws {
        let value: JSON = ["ms": .int(Int(clock.now.milliseconds)), "mode": .string(clock.mode.rawValue), "rate": .double(clock.rate)]
        try db.run("INSERT INTO meta(key, value) VALUES('clock', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", value.text)
    }

    /// The clock saved with the data, if any.
    package func savedClock() throws -> (time: VirtualTime, mode: ClockState.Mode, rate: Double)? {
        guard let text = try db.first("SELECT value FROM meta WHERE key = 'clock'")?.string("value"), let j = JSON.parse(string: text),
              let ms = j["ms"]?.intValue, let mode = j["mode"]?.stringValue.flatMap(ClockState.Mode.init(rawValue:)),
              let rate = j["rate"]?.doubleValue, ClockState.rates.contains(rate) else { return nil }
        return (VirtualTime(milliseconds: Int64(ms)), mode, rate)
    }

    package func wipe() throws {
        for table in ["mailboxes", "meta", "folders", "messages", "attachments", "changes", "room_resources"] {
            try db.run("DELETE FROM \(table)")
        }
        db.invalidateLookups()  // a DELETE without a condition is not reported row by row
        ids = IDGenerator(seed: ids.seed, namespace: "world", counter: 0)
        savedCounter = -1
    }

    package struct Mailbox: Sendable, Equatable {
        /// Its provider, typed.
        package var kind: ProviderKind { ProviderKind(provider) }

        package var email: String
        package var provider: String
        package var name: String
        package var credentialsValid: Bool
        package var createdAt: Int

        package var json: JSON {
            ["email": .string(email), "provider": .string(provider), "name": .string(name),
             "credentials_valid": .bool(credentialsValid), "created_at": .int(createdAt)]
        }
    }

    package func mailbox(_ email: String) throws -> Mailbox? {
        try db.first("SELECT * FROM mailboxes WHERE email = ?", email.lowercased()).map {
            Mailbox(email: $0.string("email"), provider: $0.string("provider"), name: $0.string("name"),
                    credentialsValid: $0.bool("credentials_valid"), createdAt: $0.int("created_at"))
        }
    }

    package func mailboxes() throws -> [Mailbox] {
        try db.query("SELECT * FROM mailboxes ORDER BY email").map {
            Mailbox(email: $0.string("email"), provider: $0.string("provider"), name: $0.string("name"),
                    credentialsValid: $0.bool("credentials_valid"), createdAt: $0.int("created_at"))
        }
    }

    /// The mailbox of `email`, created with `provider` when it does not exist yet.
    @discardableResult
    package func ensureMailbox(_ email: String, provider: String, name: String? = nil, password: String? = nil, now: Int) throws -> Mailbox {
        if let existing = try mailbox(email) { return existing }
        let local = email.split(separator: "@").first.map(String.init) ?? email
        let display = name ?? local.split(separator: ".").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
        try db.run("INSERT INTO mailboxes(email, provider, name, password, credentials_valid, created_at) VALUES(?,?,?,?,1,?)",
                   email.lowercased(), provider, display, password, now)
        for folder in ProviderKind(provider).systemFolders {
            try db.run("INSERT INTO folders(mailbox, key, name, system, attributes) VALUES(?,?,?,1,?)",
                       email.lowercased(), folder.key, folder.name, JSON.strings(folder.attributes))
        }
        return Mailbox(email: email.lowercased(), provider: provider, name: display, credentialsValid: true, createdAt: now)
    }

    package func setCredentialsValid(_ email: String, _ valid: Bool) throws {
        try db.run("UPDATE mailboxes SET credentials_valid = ? WHERE email = ?", valid, email.lowercased())
    }
}
