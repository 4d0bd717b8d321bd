import Foundation

/// Empty databases of each schema, migrated once per process: a new in-memory database is
/// filled from its template with the backup API (a copy of the pages) instead of running the
/// DDL again — three databases per simulator start.
package enum SchemaTemplate {
    private final class Entry {
        package let migrations: [String]
        package let db: SQLiteDatabase
        package init(migrations: [String], db: SQLiteDatabase) {
            self.migrations = migrations
            self.db = db
        }
    }

    /// By the last migration of the list (the region and world schemas differ there); the whole
    /// list is compared on a hit.
    /// Reached only while holding `lock`.
    private nonisolated(unsafe) static var templates: [String: Entry] = [:]
    private static let lock = NSLock()

    /// Fills `db` (new, in memory, empty) with the schema of `migrations` at their last version.
    package static func fill(_ db: SQLiteDatabase, _ migrations: [String]) throws {
        guard let last = migrations.last else { return }
        lock.lock()
        defer { lock.unlock() }
        do {
            let entry: Entry
            if let found = templates[last], found.migrations == migrations {
                entry = found
            } else {
                let template = try SQLiteDatabase(path: nil)
                try Schema.runMigrations(template, migrations, from: 0)
                entry = Entry(migrations: migrations, db: template)
                templates[last] = entry
            }
            try db.copy(from: entry.db)
        }
    }
}
