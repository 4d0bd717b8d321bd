import Foundation

/// A message as one grant sees it: the copy its last sync took of the provider's message, under
/// that grant's own IDs.
package struct MessageRecord: Sendable {
    package var grantID: String
    package var id: String
    package var worldID: Int64
    package var threadID: String
    package var subject: String
    package var from: [Participant]
    package var to: [Participant]
    package var cc: [Participant]
    package var bcc: [Participant]
    package var replyTo: [Participant]
    package var body: String { didSet { storedSnippet = nil } }
    /// The `snippet` column of the row this record was read from: `Snippet.make(body)` as `save`
    /// wrote it, so reading it saves recomputing it for every message rendered. Dropped when
    /// `body` changes.
    private var storedSnippet: String?
    package var date: Int
    package var unread: Bool
    package var starred: Bool
    package var folders: [String]
    /// API attachment objects (with `id`, `grant_id`, `wid` kept internally).
    package var attachments: [JSON]
    /// The header lines. A record read from a row parses its `headers` column only when they are
    /// asked for (`fields=include_headers`, raw MIME, v2 rendering), not for every message read.
    package var headers: [(String, String)] {
        get { storedHeaders ?? Self.headers(fromColumn: headerColumn) }
        set { storedHeaders = newValue }
    }
    private var storedHeaders: [(String, String)]?
    private var headerColumn: [UInt8] = []
    package var metadata: [String: JSON]
    /// The `tracking_options` it was sent with (`fields=include_tracking_options` shows them).
    package var trackingOptions: JSON?
    package var messageIDHeader: String
    package var createdAt: Int
    package var updatedAt: Int

    package init(row: SQLRow) {
        grantID = row.string("grant_id")
        id = row.string("id")
        worldID = Int64(row.int("world_id"))
        threadID = row.string("thread_id")
        subject = row.string("subject")
        from = Participant.list(row.json("from_json"))
        to = Participant.list(row.json("to_json"))
        cc = Participant.list(row.json("cc_json"))
        bcc = Participant.list(row.json("bcc_json"))
        replyTo = Participant.list(row.json("reply_to_json"))
        body = row.string("body")
        storedSnippet = row.string("snippet")
        date = row.int("date")
        unread = row.bool("unread")
        starred = row.bool("starred")
        folders = row.json("folders").arrayValue?.compactMap(\.stringValue) ?? []
        attachments = row.json("attachments").arrayValue ?? []
        headerColumn = row["headers"].blob ?? []
        metadata = row.json("metadata").objectValue ?? [:]
        messageIDHeader = row.string("message_id_header")
        let tracking = row.json("tracking_options")
        trackingOptions = tracking.isNull ? nil : tracking
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    private static func headers(fromColumn bytes: [UInt8]) -> [(String, String)] {
        guard !bytes.isEmpty else { return [] }
        return ((try? JSON.parse(bytes))?.arrayValue ?? []).compactMap { h in
            guard let n = h["name"]?.stringValue, let v = h["value"]?.stringValue else { return nil }
            return (n, v)
        }
    }

    package init(grantID: String, id: String, threadID: String, world m: WorldMessage, folders: [String], attachments: [JSON], now: Int) {
        self.grantID = grantID
        self.id = id
        self.worldID = m.id
        self.threadID = threadID
        subject = m.subject
        from = m.from
        to = m.to
        cc = m.cc
        bcc = m.bcc
        replyTo = m.replyTo
        body = m.body
        date = m.date
        unread = m.unread
        starred = m.starred
        self.folders = folders
        self.attachments = attachments
        storedHeaders = m.allHeaders
        metadata = [:]
        messageIDHeader = m.messageIDHeader
        createdAt = now
        updatedAt = now
    }

    package var snippet: String { storedSnippet ?? Snippet.make(body) }

    /// The v3 message object (§5.2).
    package func json(includeHeaders: Bool = false) -> JSON {
        var o: JSON = [
            "id": .string(id), "grant_id": .string(grantID), "object": "message", "thread_id": .string(threadID),
            "subject": .string(subject), "from": Participant.json(from), "to": Participant.json(to), "cc": Participant.json(cc),
            "bcc": Participant.json(bcc), "reply_to": Participant.json(replyTo), "date": .int(date), "created_at": .int(createdAt),
            "unread": .bool(unread), "starred": .bool(starred), "snippet": .string(snippet), "body": .string(body),
            "folders": .strings(folders), "attachments": .array(attachments.map(MessageRecord.publicAttachment)),
            "metadata": .object(metadata),
        ]
        if includeHeaders {
            o["headers"] = .array(headers.map { ["name": .string($0.0), "value": .string($0.1)] })
        }
        return o
    }

    package static func publicAttachment(_ a: JSON) -> JSON {
        guard case .object(var o) = a else { return a }
        o["wid"] = nil
        o["ical_uid"] = nil
        return .object(o)
    }

    package var participantsText: String {
        (from + to + cc + bcc).map { $0.email.lowercased() }.joined(separator: " ")
    }
}

package enum Snippet {
    /// The first ~100 characters of the body without tags.
    ///
    /// The text without tags, its runs of white space made one space, cut at 100 characters. It is
    /// computed on a prefix of the body first (4,096 characters, then 16 times more), kept when
    /// that prefix already gives more than 100: what follows cannot change the first 100, so a body
    /// of megabytes costs what its first lines do.
    package static func make(_ body: String) -> String {
        if let ascii = makeASCII(body) { return ascii }
        var size = 4096
        while true {
            let part = body.prefix(size)
            let text = collapsed(part)
            if part.endIndex == body.endIndex || text.count > 101 { return String(text.prefix(100)) }
            size *= 16
        }
    }

    /// The text of `body` without tags (each one a space), its white space collapsed.
    private static func collapsed(_ body: Substring) -> String {
        var out = ""
        var inTag = false
        for c in body {
            if c == "<" { inTag = true; continue }
            if c == ">" { inTag = false; out.append(" "); continue }
            if !inTag { out.append(c) }
        }
        return out.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// `make` of an all-ASCII body, on bytes: there every character is one byte (a CR LF pair is
    /// one character, but whitespace either way), and the whitespace characters are tab, LF, VT,
    /// FF, CR and space. Nil when a non-ASCII byte comes before the snippet is complete, or right
    /// after it (it could combine with its last character): `make` decides then.
    package static func makeASCII(_ body: String) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(100)
        var inTag = false
        var pendingSpace = false
        for byte in body.utf8 {
            // Complete: the rest of the body cannot change it.
            if out.count >= 100 { return byte < 0x80 ? String(decoding: out, as: UTF8.self) : nil }
            guard byte < 0x80 else { return nil }
            var c = byte
            if c == UInt8(ascii: "<") { inTag = true; continue }
            if c == UInt8(ascii: ">") { inTag = false; c = 0x20 } else if inTag { continue }
            if c == 0x20 || (c >= 0x09 && c <= 0x0D) {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace {
                out.append(0x20)
                pendingSpace = false
                if out.count == 100 { continue }
            }
            out.append(c)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A folder as one grant sees it.
package struct FolderRecord: Sendable {
    package var grantID: String
    package var id: String
    package var worldKey: String
    package var name: String
    package var systemFolder: Bool
    package var attributes: [String]
    package var parentID: String?
    /// Google label colours, when set.
    package var colors: JSON = .null

    package func json(provider: String, unread: Int, total: Int, children: Int = 0) -> JSON {
        var o: JSON = ["id": .string(id), "grant_id": .string(grantID), "object": "folder", "name": .string(name),
                       "system_folder": .bool(systemFolder), "attributes": .strings(attributes),
                       "unread_count": .int(unread), "total_count": .int(total)]
        if let parentID { o["parent_id"] = .string(parentID) }
        if ProviderKind(provider) == .google {
            o["background_color"] = colors["background_color"] ?? "#999999"
            o["text_color"] = colors["text_color"] ?? "#ffffff"
        }
        if ProviderKind(provider) == .microsoft || ProviderKind(provider) == .ews { o["child_count"] = .int(children) }
        return o
    }
}

extension RegionStore {
    // MARK: IDs

    package func objectID(grantID: String, kind: String, worldKey: String) throws -> String? {
        try db.first("SELECT id FROM object_ids WHERE grant_id = ? AND kind = ? AND world_key = ?", grantID, kind, worldKey)?.string("id")
    }

    package func worldKey(grantID: String, kind: String, id: String) throws -> String? {
        try db.first("SELECT world_key FROM object_ids WHERE grant_id = ? AND kind = ? AND id = ?", grantID, kind, id)?.string("world_key")
    }

    package func saveObjectID(grantID: String, kind: String, worldKey: String, id: String) throws {
        try db.run("INSERT OR IGNORE INTO object_ids(grant_id, kind, world_key, id, created_at) VALUES(?,?,?,?,?)",
                   grantID, kind, worldKey, id, clock().seconds)
    }

    /// The ID a grant gives a provider object, minted on first sight in the provider's style (§7).
    package func mintID(grant: GrantRecord, kind: String, worldKey: String, hint: String? = nil) throws -> String {
        if let existing = try objectID(grantID: grant.id, kind: kind, worldKey: worldKey) { return existing }
        let provider = ProviderKind(grant.provider)
        let id: String
        if grant.apiVersion == 2 {
            // v2 object IDs are opaque Nylas IDs minted per region, whatever the provider.
            id = ids.base36("v2-\(kind)")
            try saveObjectID(grantID: grant.id, kind: kind, worldKey: worldKey, id: id)
            return id
        }
        switch (kind, grant.provider) {
        case ("message", "google"), ("draft", "google"): id = ids.hex("gmail-message", length: 16)
        case ("thread", "google"): id = hint ?? ids.hex("gmail-thread", length: 16)
        case ("folder", "google"): id = hint ?? "Label_\(Int(ids.hex("label", length: 6), radix: 16)! % 100000)"
        case (_, "microsoft"):
            let prefix = ["message": "AAMkAGI2TG93AAA", "draft": "AAMkAGI2TG93AAA", "thread": "AAQkAGI2TAAQ",
                          "folder": "AAMkAGI2TUAAAEM", "attachment": "AAMkAGI2TAttBB"][kind] ?? "AAMkAG"
            id = prefix + ids.base62("graph-\(kind)", length: 40) + "-" + ids.base62("graph-\(kind)-tail", length: 6) + "_" + "AAA="
        case ("folder", "imap"), ("folder", "icloud"), ("folder", "yahoo"):
            // Reference v2 §8.2: an IMAP folder's v3 ID is base64 of `v0:<grant_id>:<folder name>`.
            id = Data("v0:\(grant.id):\(hint ?? worldKey)".utf8).base64EncodedString()
        case ("folder", _): id = hint ?? worldKey
        case ("attachment", _) where provider.isIMAPFamily: id = hint ?? ids.base62("attachment", length: 24)
        case ("message", _) where provider.isIMAPFamily, ("thread", _) where provider.isIMAPFamily:
            // Seed 004: "with IMAP … we use the full Header Message IDs": the message's own
            // `Message-ID` (a thread's, its first message's), in URL-safe base64 so that it fits a
            // path. The same mailbox gives the same IDs to every application, in either region.
            id = Base64URL.encode(Array((hint ?? worldKey).utf8))
        default: id = ids.base36("\(kind)-id", length: 25)
        }
        try saveObjectID(grantID: grant.id, kind: kind, worldKey: worldKey, id: id)
        return id
    }

    // MARK: Messages

    package func message(grantID: String, id: String) throws -> MessageRecord? {
        try db.first("SELECT * FROM messages WHERE grant_id = ? AND id = ?", grantID, id).map(MessageRecord.init)
    }

    /// A message and the rowid of its row (what `keptMessage` keeps an answer by).
    package func messageAndRow(grantID: String, id: String) throws -> (message: MessageRecord, row: Int64)? {
        try db.first("SELECT rowid AS sim_row, * FROM messages WHERE grant_id = ? AND id = ?", grantID, id).map {
            (MessageRecord(row: $0), Int64($0.int("sim_row")))
        }
    }

    package func message(grantID: String, worldID: Int64) throws -> MessageRecord? {
        try db.first("SELECT * FROM messages WHERE grant_id = ? AND world_id = ?", grantID, worldID).map(MessageRecord.init)
    }

    package func save(_ m: MessageRecord) throws {
        try db.run("""
            INSERT INTO messages(grant_id, id, world_id, thread_id, subject, from_json, to_json, cc_json, bcc_json, reply_to_json,
                body, snippet, date, unread, starred, folders, attachments, headers, metadata, message_id_header, participants,
                has_attachments, created_at, updated_at, tracking_options) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(grant_id, id) DO UPDATE SET subject = excluded.subject, body = excluded.body, snippet = excluded.snippet,
                unread = excluded.unread, starred = excluded.starred, folders = excluded.folders, metadata = excluded.metadata,
                attachments = excluded.attachments, updated_at = excluded.updated_at,
                tracking_options = COALESCE(excluded.tracking_options, tracking_options)
            """, m.grantID, m.id, m.worldID, m.threadID, m.subject, Participant.json(m.from), Participant.json(m.to),
            Participant.json(m.cc), Participant.json(m.bcc), Participant.json(m.replyTo), SQLValue.largeText(m.body), m.snippet, m.date, m.unread,
            m.starred, JSON.strings(m.folders), JSON.array(m.attachments),
            JSON.array(m.headers.map { ["name": .string($0.0), "value": .string($0.1)] }), JSON.object(m.metadata),
            m.messageIDHeader, m.participantsText, !m.attachments.isEmpty, m.createdAt, m.updatedAt, m.trackingOptions.map(\.sqlValue) ?? SQLValue.null)
        try db.run("DELETE FROM message_folders WHERE grant_id = ? AND message_id = ?", m.grantID, m.id)
        for folder in Set(m.folders) {
            try db.run("INSERT OR IGNORE INTO message_folders(grant_id, folder_id, date, message_id) VALUES(?,?,?,?)",
                       m.grantID, folder, m.date, m.id)
        }
    }

    package func deleteMessage(grantID: String, id: String) throws {
        try db.run("DELETE FROM messages WHERE grant_id = ? AND id = ?", grantID, id)
        try db.run("DELETE FROM message_folders WHERE grant_id = ? AND message_id = ?", grantID, id)
    }

    /// The grant's messages that carry attachments, oldest first (v2 lists their attachments as files).
    package func messagesWithAttachments(grantID: String) throws -> [MessageRecord] {
        try db.query("SELECT * FROM messages WHERE grant_id = ? AND has_attachments = 1 ORDER BY date, id", grantID).map(MessageRecord.init)
    }

    /// What a thread shows of each of its messages: read without bodies, headers or metadata.
    package struct ThreadMember: Sendable {
        /// The rowid of its row (what a kept thread is dropped by).
        package let row: Int64
        package let id: String
        package let subject: String
        package let from, to, cc, bcc: [Participant]
        package let date: Int
        package let unread, starred, hasAttachments: Bool
        package let folders: [String]
    }

    /// The messages of each of `threadIDs` (those with any), oldest first, in one statement.
    package func threadMembers(grantID: String, threadIDs: [String]) throws -> [String: [ThreadMember]] {
        guard !threadIDs.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: threadIDs.count).joined(separator: ",")
        let rows = try db.query("""
            SELECT rowid AS sim_row, id, thread_id, subject, from_json, to_json, cc_json, bcc_json, date, unread, starred,
                folders, length(attachments) > 2 AS any_attachment
            FROM messages WHERE grant_id = ? AND thread_id IN (\(marks)) ORDER BY thread_id, date, id
            """, [grantID] + threadIDs)
        var out: [String: [ThreadMember]] = [:]
        for row in rows {
            out[row.string("thread_id"), default: []].append(ThreadMember(
                row: Int64(row.int("sim_row")), id: row.string("id"), subject: row.string("subject"), from: Participant.list(row.json("from_json")),
                to: Participant.list(row.json("to_json")), cc: Participant.list(row.json("cc_json")),
                bcc: Participant.list(row.json("bcc_json")), date: row.int("date"), unread: row.bool("unread"),
                starred: row.bool("starred"), hasAttachments: row.bool("any_attachment"),
                folders: row.json("folders").arrayValue?.compactMap(\.stringValue) ?? []))
        }
        return out
    }

    package func messages(grantID: String, threadID: String) throws -> [MessageRecord] {
        try db.query("SELECT * FROM messages WHERE grant_id = ? AND thread_id = ? ORDER BY date, id", grantID, threadID)
            .map(MessageRecord.init)
    }

    // MARK: Folders

    private func folder(_ row: SQLRow) -> FolderRecord {
        FolderRecord(grantID: row.string("grant_id"), id: row.string("id"), worldKey: row.string("world_key"),
                     name: row.string("name"), systemFolder: row.bool("system_folder"),
                     attributes: row.json("attributes").arrayValue?.compactMap(\.stringValue) ?? [],
                     parentID: row.optionalString("parent_id"), colors: row.json("colors"))
    }

    package func folders(grantID: String) throws -> [FolderRecord] {
        try db.query("SELECT * FROM folders WHERE grant_id = ? ORDER BY system_folder DESC, rowid", grantID).map(folder)
    }

    package func folder(grantID: String, id: String) throws -> FolderRecord? {
        try db.first("SELECT * FROM folders WHERE grant_id = ? AND id = ?", grantID, id).map(folder)
    }

    package func folder(grantID: String, worldKey: String) throws -> FolderRecord? {
        try db.first("SELECT * FROM folders WHERE grant_id = ? AND world_key = ?", grantID, worldKey).map(folder)
    }

    package func save(_ f: FolderRecord) throws {
        try db.run("""
            INSERT INTO folders(grant_id, id, world_key, name, system_folder, attributes, parent_id, colors) VALUES(?,?,?,?,?,?,?,?)
            ON CONFLICT(grant_id, id) DO UPDATE SET name = excluded.name, parent_id = excluded.parent_id, colors = excluded.colors
            """, f.grantID, f.id, f.worldKey, f.name, f.systemFolder, JSON.strings(f.attributes), f.parentID, f.colors)
    }

    package func deleteFolder(grantID: String, id: String) throws {
        try db.run("DELETE FROM folders WHERE grant_id = ? AND id = ?", grantID, id)
    }

    package func folderCounts(grantID: String, folderID: String) throws -> (unread: Int, total: Int) {
        let row = try db.first("""
            SELECT COUNT(*) AS total, COALESCE(SUM(m.unread), 0) AS unread FROM message_folders f
            JOIN messages m ON m.grant_id = f.grant_id AND m.id = f.message_id WHERE f.grant_id = ? AND f.folder_id = ?
            """, grantID, folderID)
        return (row?.int("unread") ?? 0, row?.int("total") ?? 0)
    }

    // MARK: Sync state

    package func syncCursor(grantID: String) throws -> (cursor: Int, pending: [Int64])? {
        guard let row = try db.first("SELECT cursor, last_sync_at FROM sync_state WHERE grant_id = ?", grantID) else { return nil }
        return (row.int("cursor"), [])
    }

    package func setSyncCursor(grantID: String, cursor: Int, time: VirtualTime) throws {
        try db.run("""
            INSERT INTO sync_state(grant_id, cursor, last_sync_at) VALUES(?,?,?)
            ON CONFLICT(grant_id) DO UPDATE SET cursor = excluded.cursor, last_sync_at = excluded.last_sync_at
            """, grantID, cursor, time.milliseconds)
        keepPolled(grantID: grantID) { $0.mailCursor = cursor }
    }

    /// Removes everything a grant's sync produced (the grant was deleted).
    package func purgeGrantData(grantID: String) throws {
        for table in ["object_ids", "messages", "message_folders", "folders", "drafts", "schedules", "sync_state"] {
            try db.run("DELETE FROM \(table) WHERE grant_id = ?", grantID)
        }
        lookups.pollStates[grantID] = nil
    }
}

extension RegionStore {
    /// The newest message of a grant whose subject starts with `subjectPrefix`, sent by `from`.
    package func latestMessageID(grantID: String, subjectPrefix: String, from: String) throws -> String? {
        try db.first("""
            SELECT id FROM messages WHERE grant_id = ? AND substr(subject, 1, length(?)) = ? AND CAST(from_json AS TEXT) LIKE ?
            ORDER BY date DESC, id DESC LIMIT 1
            """, grantID, subjectPrefix, subjectPrefix, "%\"" + from + "\"%")?.string("id")
    }
}
