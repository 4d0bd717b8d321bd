import Foundation

/// One request in the journal.
public struct JournalEntry: Sendable {
    public let sequence: Int
    public let requestID: String
    public let time: VirtualTime
    public let region: Region
    public let surface: APISurface
    public let method: String
    public let path: String
    public let query: String
    public let status: Int
    public let applicationID: String?
    public let grantID: String?
    public let durationMicroseconds: Int
    public let requestBody: [UInt8]
    public let responseBody: [UInt8]

    package func json(includeBodies: Bool) -> JSON {
        var o: JSON = [
            "seq": .int(sequence), "request_id": .string(requestID), "time": .string(time.description),
            "time_unix": .int(time.seconds), "region": .string(region.rawValue), "api": .string(surface.rawValue),
            "method": .string(method), "path": .string(path), "query": .string(query), "status": .int(status),
            "application_id": .optional(applicationID), "grant_id": .optional(grantID),
            "duration_us": .int(durationMicroseconds),
        ]
        if includeBodies {
            o["request_body"] = .string(String(decoding: requestBody, as: UTF8.self))
            o["response_body"] = .string(String(decoding: responseBody, as: UTF8.self))
        }
        return o
    }
}

/// What to select from the journal.
public struct JournalFilter: Sendable {
    public var region: Region?
    public var surface: APISurface?
    public var method: String?
    public var pathPrefix: String?
    public var status: Int?
    public var applicationID: String?
    public var grantID: String?
    public var afterSequence: Int?
    public var limit: Int = 1000

    public init() {}
}

extension RegionStore {
    /// Bodies above this size are cut in the journal.
    package static let journalBodyLimit = 64 * 1024

    package func appendJournal(requestID: String, time: VirtualTime, surface: APISurface, method: String, path: String,
                       query: String, status: Int, applicationID: String?, grantID: String?, micros: Int,
                       requestBody: [UInt8], responseBody: [UInt8], keep: Int? = nil, keepBytes: Int? = nil) throws {
        let insert = {
            try self.db.run("""
                INSERT INTO journal(request_id, time, surface, method, path, query, status, application_id, grant_id,
                    duration_us, request_body, response_body) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)
                """, requestID, time.milliseconds, surface.rawValue, method, path, query, status, applicationID, grantID,
                micros, SQLValue.blob(Array(requestBody.prefix(Self.journalBodyLimit))),
                SQLValue.blob(Array(responseBody.prefix(Self.journalBodyLimit))))
        }
        // The journal row of a read is written without an fsync of its own (it reaches the disk
        // with the next durable commit); the rows of other requests stay fully synchronous.
        if method == "GET" || method == "HEAD" {
            try db.withRelaxedSync(insert)
        } else {
            try insert()
        }
        // In memory, the journal is a ring of the most recent `keep` requests: every 32nd row
        // drops the oldest, leaving between keep - 31 and keep rows (a file keeps every request).
        guard db.path == nil else { return }
        let seq = db.lastInsertRowID
        if let keep, keep > 0, seq > Int64(keep), seq % 32 == 0 {
            try dropJournal(upTo: Int(seq - Int64(keep) + 31))
        }
        // And of at most `keepBytes` bytes, counted as rows come and go (measured once): past it,
        // the oldest rows go down to 1/2048 below it (32 KiB of the default 64 MiB: a few dozen rows,
        // as small as a step of the count ring), so that no request pays for a large trim and the
        // requests waiting on the lock meanwhile are few.
        guard let keepBytes else { return }
        if let bytes = journalBytes {
            journalBytes = bytes + Self.journalRowOverhead + min(requestBody.count, Self.journalBodyLimit)
                + min(responseBody.count, Self.journalBodyLimit) + path.utf8.count + query.utf8.count
        } else {
            journalBytes = try journalBytes(upTo: Int.max)
        }
        guard let total = journalBytes, total > keepBytes else { return }
        let target = keepBytes - keepBytes / 2048
        while let bytes = journalBytes, bytes > target {
            // The fewest oldest rows (64 at most per step) that bring it under the target.
            let oldest = try db.query("""
                SELECT seq, length(request_body) + length(response_body) + length(path) + length(query) + ? AS n
                FROM journal ORDER BY seq LIMIT 64
                """, Self.journalRowOverhead)
            guard !oldest.isEmpty else { break }
            var freed = 0, cut = 0
            for row in oldest {
                freed += row.int("n")
                cut = row.int("seq")
                if bytes - freed <= target { break }
            }
            try dropJournal(upTo: cut)
        }
    }

    /// What a journal row costs beside its bodies, path and query (its other columns and index entries).
    static let journalRowOverhead = 160

    /// The bytes of the journal rows up to `seq`, as `journalBytes` counts them.
    private func journalBytes(upTo seq: Int) throws -> Int {
        try db.first("""
            SELECT COALESCE(SUM(length(request_body) + length(response_body) + length(path) + length(query)), 0)
                + COUNT(*) * ? AS n FROM journal WHERE seq <= ?
            """, Self.journalRowOverhead, seq)?.int("n") ?? 0
    }

    /// Drops the rows up to `seq`, keeping the byte count.
    private func dropJournal(upTo seq: Int) throws {
        if let bytes = journalBytes { journalBytes = bytes - (try journalBytes(upTo: seq)) }
        try db.run("DELETE FROM journal WHERE seq <= ?", seq)
    }

    package func journal(_ f: JournalFilter) throws -> [JournalEntry] {
        var clauses: [String] = []
        var binds: [any SQLBindable] = []
        if let s = f.surface { clauses.append("surface = ?"); binds.append(s.rawValue) }
        if let m = f.method { clauses.append("method = ?"); binds.append(m.uppercased()) }
        if let p = f.pathPrefix { clauses.append("substr(path, 1, ?) = ?"); binds.append(p.utf8.count); binds.append(p) }
        if let st = f.status { clauses.append("status = ?"); binds.append(st) }
        if let a = f.applicationID { clauses.append("application_id = ?"); binds.append(a) }
        if let g = f.grantID { clauses.append("grant_id = ?"); binds.append(g) }
        if let after = f.afterSequence { clauses.append("seq > ?"); binds.append(after) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        binds.append(f.limit)
        return try db.query("SELECT * FROM journal \(whereSQL) ORDER BY seq LIMIT ?", binds).map { row in
            JournalEntry(sequence: row.int("seq"), requestID: row.string("request_id"),
                         time: VirtualTime(milliseconds: Int64(row.int("time"))), region: region,
                         surface: APISurface(rawValue: row.string("surface")) ?? .v3, method: row.string("method"),
                         path: row.string("path"), query: row.string("query"), status: row.int("status"),
                         applicationID: row.optionalString("application_id"), grantID: row.optionalString("grant_id"),
                         durationMicroseconds: row.int("duration_us"), requestBody: row["request_body"].blob ?? [],
                         responseBody: row["response_body"].blob ?? [])
        }
    }
}
