import Foundation
import NIOCore

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

/// The request journal of an in-memory region: the newest requests as values, oldest first, within
/// `journalLimit` entries and `journalByteLimit` bytes. Appending keeps the bodies' buffers as they
/// are (no copy, no SQL), and the oldest entries go one by one as new ones come, so no request pays
/// for a large trim. A file-backed region keeps every request in its `journal` table instead, where
/// another process (`nylas-sim report`) and a restarted server read it.
package final class JournalRing {
    let region: Region
    private var entries = CircularBuffer<JournalEntry>(initialCapacity: 1024)
    /// What the entries cost, as `RegionStore.journalRowOverhead` and the bodies, path and query count it.
    package private(set) var bytes = 0
    /// The sequence of the next entry (it goes on across a reset, as the table's AUTOINCREMENT does).
    private var nextSequence = 1

    init(region: Region) { self.region = region }

    package var count: Int { entries.count }

    func append(requestID: String, time: VirtualTime, surface: APISurface, method: String, path: String, query: String,
                status: Int, applicationID: String?, grantID: String?, micros: Int, requestBody: [UInt8],
                responseBody: [UInt8], keep: Int?, keepBytes: Int?) {
        let limit = RegionStore.journalBodyLimit
        let entry = JournalEntry(sequence: nextSequence, requestID: requestID, time: time, region: region, surface: surface,
                                 method: method, path: path, query: query, status: status, applicationID: applicationID,
                                 grantID: grantID, durationMicroseconds: micros,
                                 requestBody: requestBody.count > limit ? Array(requestBody.prefix(limit)) : requestBody,
                                 responseBody: responseBody.count > limit ? Array(responseBody.prefix(limit)) : responseBody)
        nextSequence += 1
        entries.append(entry)
        bytes += Self.cost(entry)
        while let keep, entries.count > max(keep, 0) { bytes -= Self.cost(entries.removeFirst()) }
        while let keepBytes, bytes > keepBytes, !entries.isEmpty { bytes -= Self.cost(entries.removeFirst()) }
    }

    private static func cost(_ e: JournalEntry) -> Int {
        RegionStore.journalRowOverhead + e.requestBody.count + e.responseBody.count + e.path.utf8.count + e.query.utf8.count
    }

    /// The entries `f` selects, oldest first (or newest first), at most `f.limit`.
    func select(_ f: JournalFilter, newestFirst: Bool) -> [JournalEntry] {
        let method = f.method?.uppercased()
        func matches(_ e: JournalEntry) -> Bool {
            (f.surface == nil || e.surface == f.surface) && (method == nil || e.method == method)
                && (f.pathPrefix.map { e.path.utf8.starts(with: $0.utf8) } ?? true) && (f.status == nil || e.status == f.status)
                && (f.applicationID == nil || e.applicationID == f.applicationID) && (f.grantID == nil || e.grantID == f.grantID)
                && (f.afterSequence.map { e.sequence > $0 } ?? true)
        }
        var out: [JournalEntry] = []
        guard f.limit > 0 else { return out }
        if newestFirst {
            for e in entries.reversed() where matches(e) {
                out.append(e)
                if out.count == f.limit { break }
            }
        } else {
            // Sequences rise by one from the oldest entry: start right after `afterSequence`.
            var start = 0
            if let after = f.afterSequence, let first = entries.first { start = min(max(after + 1 - first.sequence, 0), entries.count) }
            var i = entries.index(entries.startIndex, offsetBy: start)
            while i != entries.endIndex {
                if matches(entries[i]) {
                    out.append(entries[i])
                    if out.count == f.limit { break }
                }
                i = entries.index(after: i)
            }
        }
        return out
    }

    func entry(sequence: Int) -> JournalEntry? {
        guard let first = entries.first, sequence >= first.sequence, sequence - first.sequence < entries.count else { return nil }
        return entries[entries.index(entries.startIndex, offsetBy: sequence - first.sequence)]
    }

    func removeAll() {
        entries.removeAll(keepingCapacity: false)
        bytes = 0
    }
}

extension RegionStore {
    /// Bodies above this size are cut in the journal.
    package static let journalBodyLimit = 64 * 1024

    /// What a journal entry costs beside its bodies, path and query (its other fields and strings).
    static let journalRowOverhead = 160

    /// Journals one request: in the ring of an in-memory region (within `keep` entries and
    /// `keepBytes` bytes), in the `journal` table of a file (every request).
    package func appendJournal(requestID: String, time: VirtualTime, surface: APISurface, method: String, path: String,
                       query: String, status: Int, applicationID: String?, grantID: String?, micros: Int,
                       requestBody: [UInt8], responseBody: [UInt8], keep: Int? = nil, keepBytes: Int? = nil) throws {
        if let journalRing {
            journalRing.append(requestID: requestID, time: time, surface: surface, method: method, path: path, query: query,
                               status: status, applicationID: applicationID, grantID: grantID, micros: micros,
                               requestBody: requestBody, responseBody: responseBody, keep: keep, keepBytes: keepBytes)
            return
        }
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
    }

    /// The requests `f` selects, oldest first (or newest first), at most `f.limit`.
    package func journal(_ f: JournalFilter, newestFirst: Bool = false) throws -> [JournalEntry] {
        if let journalRing { return journalRing.select(f, newestFirst: newestFirst) }
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
        return try db.query("SELECT * FROM journal \(whereSQL) ORDER BY seq \(newestFirst ? "DESC" : "") LIMIT ?", binds)
            .map(journalEntry)
    }

    /// The request journaled as `seq`, if it is still kept.
    package func journalEntry(sequence seq: Int) throws -> JournalEntry? {
        if let journalRing { return journalRing.entry(sequence: seq) }
        return try db.first("SELECT * FROM journal WHERE seq = ?", seq).map(journalEntry)
    }

    private func journalEntry(_ row: SQLRow) -> JournalEntry {
        JournalEntry(sequence: row.int("seq"), requestID: row.string("request_id"),
                     time: VirtualTime(milliseconds: Int64(row.int("time"))), region: region,
                     surface: APISurface(rawValue: row.string("surface")) ?? .v3, method: row.string("method"),
                     path: row.string("path"), query: row.string("query"), status: row.int("status"),
                     applicationID: row.optionalString("application_id"), grantID: row.optionalString("grant_id"),
                     durationMicroseconds: row.int("duration_us"), requestBody: row["request_body"].blob ?? [],
                     responseBody: row["response_body"].blob ?? [])
    }
}
