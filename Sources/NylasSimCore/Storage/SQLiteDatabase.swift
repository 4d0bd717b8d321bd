import CSQLite
import Foundation
import Synchronization

/// A value bound to or read from a SQLite statement.
package enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
    /// Bound only: text or bytes that a database with `LargeValues` keeps there when they reach
    /// `LargeValues.threshold` (its row holds a reference); read back as `.text` or `.blob`.
    case largeText(String)
    case largeBlob([UInt8])

    package var string: String? {
        switch self {
        case .text(let s), .largeText(let s): return s
        default: return nil
        }
    }
    package var int: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int64(d)
        default: return nil
        }
    }
    package var blob: [UInt8]? {
        switch self {
        case .blob(let b), .largeBlob(let b): return b
        case .text(let s), .largeText(let s): return Array(s.utf8)
        default: return nil
        }
    }
}

/// Anything that binds as a statement parameter.
package protocol SQLBindable { var sqlValue: SQLValue { get } }
extension String: SQLBindable { package var sqlValue: SQLValue { .text(self) } }
extension Int: SQLBindable { package var sqlValue: SQLValue { .int(Int64(self)) } }
extension Int64: SQLBindable { package var sqlValue: SQLValue { .int(self) } }
extension Bool: SQLBindable { package var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension Double: SQLBindable { package var sqlValue: SQLValue { .double(self) } }
extension SQLValue: SQLBindable { package var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    package var sqlValue: SQLValue { self?.sqlValue ?? .null }
}
extension JSON: SQLBindable { package var sqlValue: SQLValue { .blob(bytes) } }

/// The column names of a result, shared by all its rows (a name that appears twice means its
/// last column, as a dictionary built column by column would).
package final class SQLColumns: Sendable {
    package let names: [String]
    package let index: [String: Int]
    /// The names as C strings, to check a cached layout against a statement's columns.
    fileprivate let cNames: [[CChar]]

    package init(_ names: [String]) {
        self.names = names
        var index: [String: Int] = [:]
        index.reserveCapacity(names.count)
        for (i, name) in names.enumerated() { index[name] = i }
        self.index = index
        cNames = names.map { Array($0.utf8CString) }
    }
}

/// One result row, by column name.
package struct SQLRow {
    package let layout: SQLColumns
    package let values: [SQLValue]

    /// The row as a dictionary by column name.
    package var columns: [String: SQLValue] {
        var out: [String: SQLValue] = [:]
        for (name, i) in layout.index { out[name] = values[i] }
        return out
    }

    private func value(_ name: String) -> SQLValue? { layout.index[name].map { values[$0] } }

    package subscript(_ name: String) -> SQLValue { value(name) ?? .null }
    package func string(_ name: String) -> String { value(name)?.string ?? "" }
    package func optionalString(_ name: String) -> String? { value(name)?.string }
    package func int(_ name: String) -> Int { Int(value(name)?.int ?? 0) }
    package func optionalInt(_ name: String) -> Int? { value(name)?.int.map { Int($0) } }
    package func bool(_ name: String) -> Bool { (value(name)?.int ?? 0) != 0 }
    package func json(_ name: String) -> JSON {
        guard let bytes = value(name)?.blob, !bytes.isEmpty else { return .null }
        return (try? JSON.parse(bytes)) ?? .null
    }
}

package struct SQLiteError: Error, CustomStringConvertible {
    package let code: Int32
    package let message: String
    package var description: String { "SQLite error \(code): \(message)" }
}

/// A SQLite connection with a prepared-statement cache.
///
/// Not thread-safe by itself: the simulator keeps every connection behind its state lock.
package final class SQLiteDatabase {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// The column layout last read from each cached statement.
    private var layouts: [OpaquePointer: SQLColumns] = [:]
    private var savepointDepth = 0
    package let path: String?
    /// Where large values bound as `.largeText`/`.largeBlob` are kept (nil: in the row).
    package var large: LargeValues?
    /// Moves on every write to `applications`, `connectors`, `grants`, `platform_objects` or `tokens` (SQLite's update hook), on
    /// every rollback and on `invalidateLookups()`: what `RegionStore` read from those tables
    /// before is still current while it has not moved.
    package private(set) var lookupGeneration = 0
    /// Moves with every change to a row of `messages`, `message_folders`, `folders` or `drafts` (and
    /// with `lookupGeneration`'s rollbacks and invalidations): what `RegionStore.keptMail` keeps is
    /// valid while it stands still.
    package private(set) var mailGeneration = 0
    /// The rowids of `messages` rows inserted, updated or deleted since `takeMessageRowChanges()`:
    /// what an answer that shows one message depends on. Past 4,096 of them they are dropped and
    /// `mailEpoch` moves instead.
    private var messageRowChanges: [Int64] = []
    /// Moves with rollbacks and invalidations (`invalidateLookups`), and when row changes pile up
    /// unread: nothing kept from the mail tables before is known to be current.
    package private(set) var mailEpoch = 0
    /// The threads (`grant_id` and `thread_id` joined by U+0001) that a message joined or whose
    /// drafts changed since `takeThreadChanges()`: what a thread shows beyond the rows of its
    /// messages. `sim_thread_changed(grant_id, thread_id)` adds one; `RegionStore`'s temporary
    /// triggers call it. A message's `thread_id` never changes once stored. Past 4,096 of them
    /// they are dropped and `mailEpoch` moves instead.
    private var threadChanges: [String] = []

    /// SQLite's process-wide settings, made once before the process opens its first database
    /// (SQLite refuses them once in use, and then stays as the application set it): memory
    /// statistics off, so that an allocation takes no process-wide mutex, and the page cache
    /// wrapper (`PageCache`). Whether the statistics are off: `memoryStatisticsOff`.
    private static let configured: Bool = {
        let statisticsOff = nylas_sim_sqlite3_memstatus_off() == SQLITE_OK
        _ = PageCache.installed
        return statisticsOff
    }()

    /// Whether SQLite keeps no memory statistics (false when it was initialized before the
    /// simulator's first database).
    package static var memoryStatisticsOff: Bool { configured }

    /// The bytes SQLite counts as allocated (`sqlite3_memory_used`): zero while it keeps no statistics.
    package static var countedMemoryBytes: Int64 { sqlite3_memory_used() }

    /// Opens a database file, or a private in-memory database when `path` is nil.
    package init(path: String?) throws {
        self.path = path
        _ = Self.configured
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path ?? ":memory:", &handle, flags, nil)
        guard rc == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw SQLiteError(code: rc, message: message)
        }
        if path != nil {
            // A file another connection is still closing (a simulator restarted in the same
            // process, `nylas-sim report` beside a server) is waited for, not refused as busy.
            sqlite3_busy_timeout(handle, 5000)
            // WAL with synchronous=FULL: a write acknowledged over HTTP survives a crash.
            try execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        }
        // secure_delete off: the system library's build turns it on, which zeroes every freed cell
        // and page of test data that no one else can read.
        try execute("PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY; PRAGMA secure_delete=OFF;")
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_update_hook(handle, { context, _, _, table, rowid in
            guard let context, let table else { return }
            if SQLiteDatabase.isLookupTable(table) {
                Unmanaged<SQLiteDatabase>.fromOpaque(context).takeUnretainedValue().lookupGeneration &+= 1
            } else if SQLiteDatabase.isMailTable(table) {
                let db = Unmanaged<SQLiteDatabase>.fromOpaque(context).takeUnretainedValue()
                db.mailGeneration &+= 1
                if strcmp(table, "messages") == 0 {
                    if db.messageRowChanges.count < 4096 {
                        db.messageRowChanges.append(rowid)
                    } else {
                        db.messageRowChanges.removeAll(keepingCapacity: true)
                        db.mailEpoch &+= 1
                    }
                }
            }
        }, context)
        if SQLProfile.enabled {
            sqlite3_trace_v2(handle, UInt32(SQLITE_TRACE_PROFILE), { _, _, stmt, nanos in
                guard let stmt, let nanos, let sql = sqlite3_sql(OpaquePointer(stmt)) else { return 0 }
                SQLProfile.add(String(cString: sql), nanoseconds: nanos.load(as: Int64.self))
                return 0
            }, nil)
        }
        sqlite3_rollback_hook(handle, { context in
            guard let context else { return }
            Unmanaged<SQLiteDatabase>.fromOpaque(context).takeUnretainedValue().invalidateLookups()
        }, context)
        // `sim_value(x)`: the value a large-value reference stands for, or `x` itself.
        sqlite3_create_function_v2(handle, "sim_value", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, context, { fn, _, args in
            guard let fn, let args, let arg = args[0], let context = sqlite3_user_data(fn) else { return }
            let db = Unmanaged<SQLiteDatabase>.fromOpaque(context).takeUnretainedValue()
            let type = sqlite3_value_type(arg)
            if let large = db.large, type == SQLITE_BLOB || type == SQLITE_TEXT {
                let n = Int(sqlite3_value_bytes(arg))
                let p = type == SQLITE_BLOB ? sqlite3_value_blob(arg) : UnsafeRawPointer(sqlite3_value_text(arg))
                if n == LargeValues.referenceLength, let p, let value = large.value(UnsafeRawBufferPointer(start: p, count: n)) {
                    switch value {
                    case .text(let s): SQLiteDatabase.resultText(fn, s)
                    case .bytes(let b): b.withUnsafeBytes { _ = sqlite3_result_blob64(fn, $0.baseAddress, UInt64($0.count), SQLiteDatabase.transient) }
                    }
                    return
                }
            }
            sqlite3_result_value(fn, arg)
        }, nil, nil, nil)
        // `sim_thread_changed(grant_id, thread_id)`: records a thread change (`threadChanges`).
        sqlite3_create_function_v2(handle, "sim_thread_changed", 2, SQLITE_UTF8, context, { fn, _, args in
            guard let fn, let args, let context = sqlite3_user_data(fn) else { return }
            let db = Unmanaged<SQLiteDatabase>.fromOpaque(context).takeUnretainedValue()
            sqlite3_result_null(fn)
            guard let grant = sqlite3_value_text(args[0]), let thread = sqlite3_value_text(args[1]) else { return }
            if db.threadChanges.count < 4096 {
                db.threadChanges.append(SQLiteDatabase.threadKey(grantID: String(cString: grant), threadID: String(cString: thread)))
            } else {
                db.threadChanges.removeAll(keepingCapacity: true)
                db.mailEpoch &+= 1
            }
        }, nil, nil, nil)
    }

    private static func resultText(_ fn: OpaquePointer, _ s: String) {
        var s = s
        s.withUTF8 { p in
            sqlite3_result_text64(fn, UnsafeRawPointer(p.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self),
                                  UInt64(p.count), SQLiteDatabase.transient, UInt8(SQLITE_UTF8))
        }
    }

    /// The tables whose rows `RegionStore` keeps looked up (`lookupGeneration`).
    private static func isLookupTable(_ name: UnsafePointer<CChar>) -> Bool {
        switch name[0] {
        case 0x61: return strcmp(name, "applications") == 0  // a
        case 0x63: return strcmp(name, "connectors") == 0  // c
        case 0x67: return strcmp(name, "grants") == 0  // g
        case 0x70: return strcmp(name, "platform_objects") == 0  // p
        case 0x74: return strcmp(name, "tokens") == 0  // t
        default: return false
        }
    }

    /// The tables that mail answers are rendered from (`mailGeneration`).
    private static func isMailTable(_ name: UnsafePointer<CChar>) -> Bool {
        switch name[0] {
        case 0x64: return strcmp(name, "drafts") == 0  // d
        case 0x66: return strcmp(name, "folders") == 0  // f
        case 0x6D: return strcmp(name, "messages") == 0 || strcmp(name, "message_folders") == 0  // m
        default: return false
        }
    }

    /// Forgets the looked-up rows (for writes the update hook does not see: `DELETE FROM t`
    /// without a condition empties a table without reporting its rows).
    package func invalidateLookups() {
        lookupGeneration &+= 1
        mailGeneration &+= 1
        mailEpoch &+= 1
        messageRowChanges.removeAll(keepingCapacity: true)
        threadChanges.removeAll(keepingCapacity: true)
    }

    /// The rowids of `messages` changed since the last call (see `messageRowChanges`).
    package func takeMessageRowChanges() -> [Int64] {
        guard !messageRowChanges.isEmpty else { return [] }
        defer { messageRowChanges.removeAll(keepingCapacity: true) }
        return messageRowChanges
    }

    /// How `threadChanges` names a thread (and `RegionStore` the thread of a kept answer).
    package static func threadKey(grantID: String, threadID: String) -> String { grantID + "\u{1}" + threadID }

    /// The threads changed since the last call (see `threadChanges`).
    package func takeThreadChanges() -> [String] {
        guard !threadChanges.isEmpty else { return [] }
        defer { threadChanges.removeAll(keepingCapacity: true) }
        return threadChanges
    }

    /// `PRAGMA data_version`: moves when another connection (another process) commits to this
    /// database file.
    package func dataVersion() throws -> Int {
        try first("PRAGMA data_version")?.int("data_version") ?? 0
    }

    /// Whether no transaction or savepoint is open.
    package var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    /// The rowid of the last row inserted by this connection.
    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Fills this (new, in-memory) database with a copy of `source`, page for page (backup API).
    package func copy(from source: SQLiteDatabase) throws {
        guard let backup = sqlite3_backup_init(handle, "main", source.handle, "main") else { throw error(sqlite3_errcode(handle)) }
        let rc = sqlite3_backup_step(backup, -1)
        sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE else { throw error(rc) }
        invalidateLookups()
    }

    /// Runs `body` (a write outside any transaction) with `synchronous=NORMAL` on a file-backed
    /// database: in WAL mode its commit skips the fsync of the log. The write still survives a
    /// crash of the process (the operating system holds it), and the next `FULL` commit syncs it
    /// to disk with its own; only a power loss before then can lose it.
    package func withRelaxedSync<T>(_ body: () throws -> T) throws -> T {
        guard path != nil, sqlite3_get_autocommit(handle) != 0 else { return try body() }
        try execute("PRAGMA synchronous=NORMAL")
        defer { try? execute("PRAGMA synchronous=FULL") }
        return try body()
    }

    package func close() {
        if SQLProfile.enabled, handle != nil { SQLProfile.report() }
        if let handle {
            sqlite3_update_hook(handle, nil, nil)
            sqlite3_rollback_hook(handle, nil, nil)
        }
        for (_, stmt) in statements { sqlite3_finalize(stmt) }
        statements.removeAll()
        layouts.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    deinit { close() }

    package var isOpen: Bool { handle != nil }

    private func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed")
    }

    /// Runs one or more statements without parameters (schema, pragmas, `BEGIN`/`COMMIT`).
    /// A single statement (no `;`) is prepared once and kept: a transaction's `BEGIN` and
    /// `COMMIT` on every database no longer parse SQL each time.
    package func execute(_ sql: String) throws {
        if !sql.utf8.contains(UInt8(ascii: ";")) {
            let stmt = try prepared(sql)
            var rc = sqlite3_step(stmt)
            while rc == SQLITE_ROW { rc = sqlite3_step(stmt) }
            sqlite3_reset(stmt)
            guard rc == SQLITE_DONE else { throw error(rc) }
            return
        }
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? "error"
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: message)
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let stmt = statements[sql] {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
            return stmt
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc) }
        statements[sql] = stmt
        return stmt
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func bind(_ stmt: OpaquePointer, _ values: [any SQLBindable]) throws {
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            switch v.sqlValue {
            case .null: sqlite3_bind_null(stmt, idx)
            case .int(let n): sqlite3_bind_int64(stmt, idx, n)
            case .double(let d): sqlite3_bind_double(stmt, idx, d)
            case .text(let s): Self.bindText(stmt, idx, s)
            case .blob(let b): Self.bindBlob(stmt, idx, b)
            case .largeText(let s):
                if let large, s.utf8.count >= LargeValues.threshold {
                    Self.bindBlob(stmt, idx, try large.reference(for: .text(s)))
                } else {
                    Self.bindText(stmt, idx, s)
                }
            case .largeBlob(let b):
                if let large, b.count >= LargeValues.threshold {
                    Self.bindText(stmt, idx, String(decoding: try large.reference(for: .bytes(b)), as: UTF8.self))
                } else {
                    Self.bindBlob(stmt, idx, b)
                }
            }
        }
    }

    /// Binds the string's own bytes (no C-string copy; a NUL inside is kept).
    private static func bindText(_ stmt: OpaquePointer, _ idx: Int32, _ s: String) {
        var s = s
        s.withUTF8 { p in
            _ = sqlite3_bind_text64(stmt, idx, UnsafeRawPointer(p.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self),
                                    UInt64(p.count), transient, UInt8(SQLITE_UTF8))
        }
    }

    private static func bindBlob(_ stmt: OpaquePointer, _ idx: Int32, _ b: [UInt8]) {
        b.withUnsafeBytes { raw in
            _ = sqlite3_bind_blob64(stmt, idx, raw.baseAddress, UInt64(raw.count), transient)
        }
    }

    /// Runs a statement that returns no rows; returns the number of changed rows.
    @discardableResult
    package func run(_ sql: String, _ values: any SQLBindable...) throws -> Int {
        try run(sql, values)
    }

    @discardableResult
    package func run(_ sql: String, _ values: [any SQLBindable]) throws -> Int {
        let stmt = try prepared(sql)
        try bind(stmt, values)
        var rc = sqlite3_step(stmt)
        while rc == SQLITE_ROW { rc = sqlite3_step(stmt) }
        sqlite3_reset(stmt)
        guard rc == SQLITE_DONE else { throw error(rc) }
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query and returns every row.
    package func query(_ sql: String, _ values: any SQLBindable...) throws -> [SQLRow] {
        try query(sql, values)
    }

    package func query(_ sql: String, _ values: [any SQLBindable]) throws -> [SQLRow] {
        let stmt = try prepared(sql)
        try bind(stmt, values)
        var rows: [SQLRow] = []
        let count = sqlite3_column_count(stmt)
        var layout: SQLColumns?
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { sqlite3_reset(stmt); throw error(rc) }
            if layout == nil { layout = columns(of: stmt, count: count) }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for i in 0..<count {
                let value: SQLValue
                switch sqlite3_column_type(stmt, i) {
                case SQLITE_INTEGER: value = .int(sqlite3_column_int64(stmt, i))
                case SQLITE_FLOAT: value = .double(sqlite3_column_double(stmt, i))
                case SQLITE_TEXT:
                    let p = sqlite3_column_text(stmt, i)
                    let raw = UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i)))
                    if raw.count == LargeValues.referenceLength, let large, Self.declared(stmt, i, "BLOB"),
                       case .bytes(let b)? = large.value(raw) {
                        value = .blob(b)
                    } else {
                        value = .text(String(decoding: raw, as: UTF8.self))
                    }
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(stmt, i))
                    if n > 0, let p = sqlite3_column_blob(stmt, i) {
                        let raw = UnsafeRawBufferPointer(start: p, count: n)
                        if n == LargeValues.referenceLength, let large, Self.declared(stmt, i, "TEXT"),
                           case .text(let s)? = large.value(raw) {
                            value = .text(s)
                        } else {
                            value = .blob(Array(raw))
                        }
                    } else {
                        value = .blob([])
                    }
                default: value = .null
                }
                values.append(value)
            }
            rows.append(SQLRow(layout: layout!, values: values))
        }
        sqlite3_reset(stmt)
        return rows
    }

    /// Whether result column `i` is a table column declared `type` (where a reference of the
    /// other storage class stands for a large value).
    private static func declared(_ stmt: OpaquePointer, _ i: Int32, _ type: String) -> Bool {
        guard let decl = sqlite3_column_decltype(stmt, i) else { return false }
        return strcasecmp(decl, type) == 0
    }

    /// The statement's column names: the cached layout while the names are still the same
    /// (a schema change re-prepares a statement and may change them).
    private func columns(of stmt: OpaquePointer, count: Int32) -> SQLColumns {
        if let cached = layouts[stmt], cached.cNames.count == Int(count),
           (0..<count).allSatisfy({ i in cached.cNames[Int(i)].withUnsafeBufferPointer { strcmp(sqlite3_column_name(stmt, i), $0.baseAddress!) == 0 } }) {
            return cached
        }
        let layout = SQLColumns((0..<count).map { String(cString: sqlite3_column_name(stmt, $0)) })
        layouts[stmt] = layout
        return layout
    }

    package func first(_ sql: String, _ values: any SQLBindable...) throws -> SQLRow? {
        try query(sql, values).first
    }

    /// Runs `body` inside a savepoint: everything it wrote is rolled back when it throws.
    package func transaction<T>(_ body: () throws -> T) throws -> T {
        savepointDepth += 1
        let name = "sp\(savepointDepth)"
        defer { savepointDepth -= 1 }
        try execute("SAVEPOINT \(name)")
        do {
            let result = try body()
            try execute("RELEASE \(name)")
            return result
        } catch {
            try? execute("ROLLBACK TO \(name); RELEASE \(name)")
            invalidateLookups()
            throw error
        }
    }

    /// The bytes of the connection's page caches (`SQLITE_DBSTATUS_CACHE_USED`).
    package func cacheBytes() -> Int {
        var current: Int32 = 0, highest: Int32 = 0
        sqlite3_db_status(handle, SQLITE_DBSTATUS_CACHE_USED, &current, &highest, 0)
        return Int(current)
    }

    /// `PRAGMA integrity_check` result ("ok" when healthy).
    package func integrityCheck() throws -> String {
        try query("PRAGMA integrity_check").first?.string("integrity_check") ?? "unknown"
    }
}

/// A statement profile for finding slow SQL: with `NYLAS_SIM_SQL_PROFILE=1` in the environment, every
/// statement's run time is added up by its text, and the 30 costliest go to standard error when a
/// database closes. Off (no trace callback at all) otherwise.
enum SQLProfile {
    static let enabled = ProcessInfo.processInfo.environment["NYLAS_SIM_SQL_PROFILE"] == "1"
    private static let totals = Mutex<[String: (count: Int, nanoseconds: Int64)]>([:])

    static func add(_ sql: String, nanoseconds: Int64) {
        totals.withLock { t in
            let old = t[sql] ?? (0, 0)
            t[sql] = (old.count + 1, old.nanoseconds + nanoseconds)
        }
    }

    static func report() {
        let rows = totals.withLock { t in defer { t.removeAll() }; return t.sorted { $0.value.nanoseconds > $1.value.nanoseconds } }
        var out = "SQL profile (total ms, runs, µs per run, statement):\n"
        for (sql, v) in rows.prefix(30) {
            let flat = sql.split(whereSeparator: { $0 == "\n" }).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            out += String(format: "%10.1f %9d %8.1f  ", Double(v.nanoseconds) / 1e6, v.count, Double(v.nanoseconds) / 1e3 / Double(v.count))
            out += String(flat.prefix(220)) + "\n"
        }
        FileHandle.standardError.write(Data(out.utf8))
    }
}
