import Foundation

/// One row of a v2 account's delta log.
package struct V2DeltaRow: Sendable {
    package var seq: Int
    package var object: String
    package var event: String
    package var objectID: String
    package var attributes: JSON
}

/// An uploaded v2 file, without its bytes.
package struct V2FileSummary: Sendable {
    package var id: String
    package var filename: String
    package var contentType: String
    package var size: Int
}

/// Which of a v2 account's messages a list or a search wants (v2 semantics: an exact subject,
/// `any_email` as a substring, folders by ID, name or role, `filename`, the search words of `q`).
package struct V2MessageFilter: Sendable {
    package init(subject: String? = nil, anyEmail: [String] = [], from: String? = nil, to: String? = nil, cc: String? = nil, bcc: String? = nil, inFolder: String? = nil, notInFolder: String? = nil, unread: Bool? = nil, starred: Bool? = nil, threadID: String? = nil, receivedBefore: Int? = nil, receivedAfter: Int? = nil, lastMessageBefore: Int? = nil, lastMessageAfter: Int? = nil, hasAttachment: Bool? = nil, filename: String? = nil, search: [(field: String?, text: String)] = []) {
        self.subject = subject
        self.anyEmail = anyEmail
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.inFolder = inFolder
        self.notInFolder = notInFolder
        self.unread = unread
        self.starred = starred
        self.threadID = threadID
        self.receivedBefore = receivedBefore
        self.receivedAfter = receivedAfter
        self.lastMessageBefore = lastMessageBefore
        self.lastMessageAfter = lastMessageAfter
        self.hasAttachment = hasAttachment
        self.filename = filename
        self.search = search
    }

    package var subject: String?
    package var anyEmail: [String] = []
    package var from: String?, to: String?, cc: String?, bcc: String?
    /// Resolved folder IDs (a name that matches nothing resolves to an ID no message has).
    package var inFolder: String?, notInFolder: String?
    package var unread: Bool?, starred: Bool?
    package var threadID: String?
    package var receivedBefore: Int?, receivedAfter: Int?
    package var lastMessageBefore: Int?, lastMessageAfter: Int?
    package var hasAttachment: Bool?
    package var filename: String?
    /// The words of a search query, each narrowed to `from`, `to`, `cc` or `subject`, or anywhere (nil).
    package var search: [(field: String?, text: String)] = []
}

extension RegionStore {
    // MARK: - Messages and threads

    private static func whereClause(grantID: String, _ q: V2MessageFilter) -> SQLFilter {
        var f = SQLFilter()
        f.add("m.grant_id = ?", grantID)
        if let subject = q.subject { f.add("m.subject = ?", subject) }
        if !q.anyEmail.isEmpty {
            f.clauses.append("(" + q.anyEmail.map { _ in "m.participants LIKE ?" }.joined(separator: " OR ") + ")")
            f.binds.append(contentsOf: q.anyEmail.map { "%\($0)%" } as [any SQLBindable])
        }
        for (role, email) in [q.from, q.to, q.cc, q.bcc].enumerated() {
            if let email { f.addAddress(grantID: grantID, role: role, email) }
        }
        for (folder, negate) in [(q.inFolder, false), (q.notInFolder, true)] {
            guard let folder else { continue }
            f.add("m.id \(negate ? "NOT " : "")IN (SELECT message_id FROM message_folders WHERE grant_id = ? AND folder_id = ?)", grantID, folder)
        }
        if let unread = q.unread { f.add("m.unread = ?", unread) }
        if let starred = q.starred { f.add("m.starred = ?", starred) }
        if let thread = q.threadID { f.add("m.thread_id = ?", thread) }
        if let n = q.receivedBefore { f.add("m.date < ?", n) }
        if let n = q.receivedAfter { f.add("m.date > ?", n) }
        if let has = q.hasAttachment { f.add("m.has_attachments = ?", has) }
        if let filename = q.filename { f.add("CAST(m.attachments AS TEXT) LIKE ?", "%\"filename\":\"\(filename)\"%") }
        if let n = q.lastMessageBefore { f.add("m.date < ?", n) }
        if let n = q.lastMessageAfter { f.add("m.date > ?", n) }
        for (field, text) in q.search {
            let like = "%" + SQLFilter.likeEscape(text) + "%"
            switch field {
            case "from": f.add("CAST(m.from_json AS TEXT) LIKE ? ESCAPE '\\'", like)
            case "to": f.add("CAST(m.to_json AS TEXT) LIKE ? ESCAPE '\\'", like)
            case "cc": f.add("CAST(m.cc_json AS TEXT) LIKE ? ESCAPE '\\'", like)
            case "subject": f.add("m.subject LIKE ? ESCAPE '\\'", like)
            default: f.add("(m.subject LIKE ? ESCAPE '\\' OR sim_value(m.body) LIKE ? ESCAPE '\\' OR m.participants LIKE ? ESCAPE '\\')", like, like, like)
            }
        }
        return f
    }

    /// A page of the account's messages, newest first.
    package func v2Messages(grantID: String, matching filter: V2MessageFilter, limit: Int, offset: Int) throws -> [MessageRecord] {
        let f = Self.whereClause(grantID: grantID, filter)
        return try db.query("SELECT m.* FROM messages m WHERE \(f.sql) ORDER BY m.date DESC, m.id DESC LIMIT ? OFFSET ?",
                            f.binds + [limit, offset]).map(MessageRecord.init)
    }

    package func v2MessageCount(grantID: String, matching filter: V2MessageFilter) throws -> Int {
        let f = Self.whereClause(grantID: grantID, filter)
        return try db.query("SELECT COUNT(*) AS n FROM messages m WHERE \(f.sql)", f.binds).first?.int("n") ?? 0
    }

    /// A page of the IDs of the threads any of whose messages match, most recent (by their latest
    /// message, `thread_latest`) first.
    package func v2ThreadIDs(grantID: String, matching filter: V2MessageFilter, limit: Int, offset: Int) throws -> [String] {
        let f = Self.whereClause(grantID: grantID, filter)
        return try db.query("""
            SELECT t.thread_id AS id FROM thread_latest t WHERE t.grant_id = ?
                AND t.thread_id IN (SELECT m.thread_id FROM messages m WHERE \(f.sql))
            ORDER BY t.latest DESC, t.thread_id DESC LIMIT ? OFFSET ?
            """, [grantID] + f.binds + [limit, offset]).map { $0.string("id") }
    }

    package func v2ThreadCount(grantID: String, matching filter: V2MessageFilter) throws -> Int {
        let f = Self.whereClause(grantID: grantID, filter)
        return try db.query("SELECT COUNT(DISTINCT m.thread_id) AS n FROM messages m WHERE \(f.sql)", f.binds).first?.int("n") ?? 0
    }

    // MARK: - Files

    package func insertV2File(accountID: String, id: String, filename: String, contentType: String, content: [UInt8], now: Int) throws {
        try db.run("INSERT INTO v2_files(account_id, id, filename, content_type, content, created_at) VALUES(?,?,?,?,?,?)",
                   accountID, id, filename, contentType, SQLValue.blob(content), now)
    }

    /// The account's uploaded files, oldest first.
    package func v2Files(accountID: String) throws -> [V2FileSummary] {
        try db.query("SELECT id, filename, content_type, length(content) AS size FROM v2_files WHERE account_id = ? ORDER BY created_at, rowid",
                     accountID).map { V2FileSummary(id: $0.string("id"), filename: $0.string("filename"),
                                                    contentType: $0.string("content_type"), size: $0.int("size")) }
    }

    /// An uploaded file with its bytes.
    package func v2File(accountID: String, id: String) throws -> (filename: String, contentType: String, content: [UInt8])? {
        try db.first("SELECT * FROM v2_files WHERE account_id = ? AND id = ?", accountID, id).map {
            ($0.string("filename"), $0.string("content_type"), $0["content"].blob ?? [])
        }
    }

    /// The uploaded files named by `out` became attachments of the sent message `messageID`.
    package func markV2FilesAttached(accountID: String, _ out: OutgoingMessage, messageID: String) throws {
        for id in out.files.compactMap(\.fileID) {
            try db.run("UPDATE v2_files SET message_id = ? WHERE account_id = ? AND id = ?", messageID, accountID, id)
        }
    }

    /// Whether the uploaded file `id` is an attachment of a sent message.
    package func v2FileIsAttached(accountID: String, id: String) throws -> Bool {
        try db.first("SELECT message_id FROM v2_files WHERE account_id = ? AND id = ? AND message_id IS NOT NULL", accountID, id) != nil
    }

    package func deleteV2File(accountID: String, id: String) throws {
        try db.run("DELETE FROM v2_files WHERE account_id = ? AND id = ?", accountID, id)
    }

    /// The attachment `id` as a message of the grant lists it (its `attachments` item).
    package func attachmentMetadata(grantID: String, id: String) throws -> JSON? {
        guard let row = try db.first("SELECT attachments FROM messages WHERE grant_id = ? AND CAST(attachments AS TEXT) LIKE ?",
                                     grantID, "%\"\(id)\"%") else { return nil }
        return row.json("attachments").arrayValue?.first { $0["id"]?.stringValue == id }
    }

    // MARK: - Deltas

    /// The last delta sequence number of the account (0 when none), or the last before `time` (milliseconds).
    package func lastV2DeltaSeq(accountID: String, before time: Int64? = nil) throws -> Int {
        if let time {
            return try db.first("SELECT COALESCE(MAX(seq), 0) AS s FROM v2_deltas WHERE account_id = ? AND time < ?", accountID, time)?
                .int("s") ?? 0
        }
        return try db.first("SELECT COALESCE(MAX(seq), 0) AS s FROM v2_deltas WHERE account_id = ?", accountID)?.int("s") ?? 0
    }

    /// Up to `limit` deltas after `seq`, in order.
    package func v2Deltas(accountID: String, after seq: Int, limit: Int) throws -> [V2DeltaRow] {
        try db.query("SELECT * FROM v2_deltas WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?", accountID, seq, limit).map {
            V2DeltaRow(seq: $0.int("seq"), object: $0.string("object"), event: $0.string("event"), objectID: $0.string("object_id"),
                       attributes: $0.json("attributes"))
        }
    }

    package func appendV2Delta(accountID: String, object: String, event: String, objectID: String, attributes: JSON, time: Int64) throws {
        try db.run("INSERT INTO v2_deltas(account_id, object, event, object_id, attributes, time) VALUES(?,?,?,?,?,?)",
                   accountID, object, event, objectID, attributes, time)
    }

    // MARK: - Tokens

    /// Revokes one v2 access token.
    package func revokeToken(_ token: String) throws {
        try db.run("UPDATE tokens SET revoked = 1 WHERE token = ?", token)
    }

    /// Revokes every v2 token of the account but `keep`.
    package func revokeV2Tokens(accountID: String, except keep: String?) throws {
        try db.run("UPDATE tokens SET revoked = 1 WHERE grant_id = ? AND kind = 'v2' AND token != ?", accountID, keep ?? "")
    }

    /// Whether the account still has a v2 token that works.
    package func hasLiveV2Token(accountID: String) throws -> Bool {
        try db.first("SELECT token FROM tokens WHERE grant_id = ? AND kind = 'v2' AND revoked = 0", accountID) != nil
    }
}
