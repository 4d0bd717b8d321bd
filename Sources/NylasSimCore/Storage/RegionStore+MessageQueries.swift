import Foundation

extension RegionStore {
    /// The WHERE clause of a message filter over `messages m`.
    package static func whereClause(grantID: String, _ filter: MessageFilter) -> SQLFilter {
        var f = SQLFilter()
        f.add("m.grant_id = ?", grantID)
        if let subject = filter.subject { f.add("m.subject LIKE ? ESCAPE '\\'", "%" + SQLFilter.likeEscape(subject) + "%") }
        for (role, emails) in [filter.from, filter.to, filter.cc, filter.bcc].enumerated() {
            for email in emails { f.addAddress(grantID: grantID, role: role, email) }
        }
        for folder in filter.folderIDs {
            f.add("m.id IN (SELECT message_id FROM message_folders WHERE grant_id = ? AND folder_id = ?)", grantID, folder)
        }
        if let unread = filter.unread { f.add("m.unread = ?", unread) }
        if let starred = filter.starred { f.add("m.starred = ?", starred) }
        if let thread = filter.threadID { f.add("m.thread_id = ?", thread) }
        if let before = filter.receivedBefore { f.add("m.date < ?", before) }
        if let after = filter.receivedAfter { f.add("m.date > ?", after) }
        if let has = filter.hasAttachment { f.add("m.has_attachments = ?", has) }
        for t in filter.searchTerms { f.add("(m.subject LIKE ? OR sim_value(m.body) LIKE ?)", "%\(t)%", "%\(t)%") }
        for (key, value) in filter.metadata { f.add("json_extract(CAST(m.metadata AS TEXT), ?) = ?", "$.\"\(key)\"", value) }
        if !filter.anyEmail.isEmpty { f.addAnyEmail(filter.anyEmail) }
        return f
    }

    /// A page of the grant's messages matching `filter`, newest first, after the cursor `(date, id)`;
    /// `limit + 1` rows are asked for so the caller knows whether another page follows.
    package func messages(grantID: String, matching filter: MessageFilter, after cursor: (date: Int, id: String)?, limit: Int) throws -> [MessageRecord] {
        try page("m.*", grantID: grantID, matching: filter, after: cursor, limit: limit).map(MessageRecord.init)
    }

    /// The same page as `messages(grantID:matching:after:limit:)`, as each row's rowid, ID and date
    /// (the rows themselves are read only for what is not kept rendered: `keptMessage`).
    package func messagePage(grantID: String, matching filter: MessageFilter, after cursor: (date: Int, id: String)?,
                             limit: Int) throws -> [(row: Int64, id: String, date: Int)] {
        try page("m.rowid AS sim_row, m.id AS id, m.date AS date", grantID: grantID, matching: filter, after: cursor, limit: limit)
            .map { (Int64($0.int("sim_row")), $0.string("id"), $0.int("date")) }
    }

    private func page(_ columns: String, grantID: String, matching filter: MessageFilter, after cursor: (date: Int, id: String)?,
                      limit: Int) throws -> [SQLRow] {
        var rest = filter
        if let (role, email) = rest.takeFirstAddress() {
            // An address filter drives the page: that address's rows of `message_addresses` are in
            // (date, ID) order, so the page is read from its index and joined to the messages
            // (CROSS JOIN fixes that order), however few of the grant's messages it names.
            var f = Self.whereClause(grantID: grantID, rest)
            if let cursor { f.add("(a.date, a.message_id) < (?, ?)", cursor.date, cursor.id) }
            return try db.query("""
                SELECT \(columns) FROM message_addresses a CROSS JOIN messages m ON m.grant_id = a.grant_id AND m.id = a.message_id
                WHERE a.grant_id = ? AND a.role = ? AND a.email = lower(?) AND \(f.sql)
                ORDER BY a.date DESC, a.message_id DESC LIMIT ?
                """, [grantID, role, email] + f.binds + [limit])
        }
        var f = Self.whereClause(grantID: grantID, filter)
        if let cursor {
            // A row value, not `m.date < ? OR (m.date = ? AND m.id < ?)`: the same rows, but SQLite
            // seeks the (…, date, id) index to the cursor instead of walking it from the top.
            f.add("(m.date, m.id) < (?, ?)", cursor.date, cursor.id)
        }
        return try db.query("SELECT \(columns) FROM messages m WHERE \(f.sql) ORDER BY m.date DESC, m.id DESC LIMIT ?", f.binds + [limit])
    }

    /// A page of the grant's threads (ID and latest message date) matching `filter`, most recent
    /// first, after the cursor `(latest, thread_id)`. A thread matches when any of its messages
    /// matches the message filter; its latest date is that of its latest message, matching or not,
    /// read from `thread_latest` (kept by the triggers of `messages`).
    package func threads(grantID: String, matching filter: ThreadFilter, after cursor: (latest: Int, id: String)?,
                 limit: Int) throws -> [(threadID: String, latest: Int)] {
        var f = SQLFilter()
        f.add("t.grant_id = ?", grantID)
        if let after = filter.latestAfter { f.add("t.latest > ?", after) }
        if let before = filter.latestBefore { f.add("t.latest < ?", before) }
        if let cursor { f.add("(t.latest, t.thread_id) < (?, ?)", cursor.latest, cursor.id) }
        let messages = Self.whereClause(grantID: grantID, filter.messages)
        if messages.clauses.count > 1 {  // more than the grant
            f.clauses.append("t.thread_id IN (SELECT m.thread_id FROM messages m WHERE \(messages.sql))")
            f.binds += messages.binds
        }
        return try db.query("""
            SELECT t.thread_id AS thread_id, t.latest AS latest FROM thread_latest t WHERE \(f.sql)
            ORDER BY t.latest DESC, t.thread_id DESC LIMIT ?
            """, f.binds + [limit]).map { ($0.string("thread_id"), $0.int("latest")) }
    }
}

private extension MessageFilter {
    /// Removes and returns the first address filter (its role: 0 from, 1 to, 2 cc, 3 bcc).
    mutating func takeFirstAddress() -> (role: Int, email: String)? {
        if !from.isEmpty { return (0, from.removeFirst()) }
        if !to.isEmpty { return (1, to.removeFirst()) }
        if !cc.isEmpty { return (2, cc.removeFirst()) }
        if !bcc.isEmpty { return (3, bcc.removeFirst()) }
        return nil
    }
}
