import CSQLite
import Foundation

/// Direct SQLite access for the bulk loader and `EXPLAIN QUERY PLAN`: the simulator's own wrapper
/// is internal, so the benchmark opens the data files itself (only while no simulator has them open,
/// or read-only).
final class Lite {
    private var db: OpaquePointer?

    init(_ path: String, readOnly: Bool = false) throws {
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        guard sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK else {
            throw BenchError("cannot open \(path): \(String(cString: sqlite3_errmsg(db)))")
        }
    }

    deinit { sqlite3_close_v2(db) }

    func exec(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(db, sql, nil, nil, &err) == SQLITE_OK else {
            let m = err.map { String(cString: $0) } ?? "?"
            sqlite3_free(err)
            throw BenchError("SQL failed: \(m)\n\(sql.prefix(400))")
        }
    }

    /// Runs a query with text/integer parameters and returns the rows as strings.
    func rows(_ sql: String, _ params: [Any] = []) throws -> [[String]] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else {
            throw BenchError("prepare failed: \(String(cString: sqlite3_errmsg(db)))\n\(sql)")
        }
        defer { sqlite3_finalize(stmt) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, p) in params.enumerated() {
            switch p {
            case let n as Int: sqlite3_bind_int64(stmt, Int32(i + 1), Int64(n))
            case let s as String: sqlite3_bind_text(stmt, Int32(i + 1), s, -1, transient)
            default: sqlite3_bind_null(stmt, Int32(i + 1))
            }
        }
        var out: [[String]] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw BenchError("step failed: \(String(cString: sqlite3_errmsg(db)))") }
            var row: [String] = []
            for c in 0..<sqlite3_column_count(stmt) {
                row.append(sqlite3_column_text(stmt, c).map { String(cString: $0) } ?? "NULL")
            }
            out.append(row)
        }
        return out
    }

    func scalar(_ sql: String, _ params: [Any] = []) throws -> String? { try rows(sql, params).first?.first }

    /// Runs `sql` `repeats` times (after one warm-up) and returns the median wall time in ms.
    func time(_ sql: String, _ params: [Any], repeats: Int) throws -> Double {
        _ = try rows(sql, params)
        var samples: [Double] = []
        for _ in 0..<repeats { samples.append(try measure { _ = try rows(sql, params) }.ms) }
        return Stats(samples).median
    }
}
