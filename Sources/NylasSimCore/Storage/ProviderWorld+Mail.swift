import Foundation

/// A message as the provider holds it, before any Nylas ID is given to it.
package struct WorldMessage: Sendable, Equatable {
    package var id: Int64
    package var mailbox: String
    package var messageIDHeader: String
    package var inReplyTo: String?
    package var references: [String]
    package var threadKey: String
    package var subject: String
    package var from: [Participant]
    package var to: [Participant]
    package var cc: [Participant]
    package var bcc: [Participant]
    package var replyTo: [Participant]
    package var body: String
    package var date: Int
    package var unread: Bool
    package var starred: Bool
    /// World folder keys (`INBOX`, `SENT`, a label name...).
    package var folders: [String]
    /// Custom headers beyond the standard ones.
    package var headers: [(String, String)]
    package var attachments: [WorldAttachment]
    package var deleted: Bool
    package var availableAt: VirtualTime
    package var version: Int

    package static func == (a: WorldMessage, b: WorldMessage) -> Bool { a.id == b.id && a.version == b.version }

    /// The RFC 5322 headers Nylas returns with `fields=include_headers`.
    package var allHeaders: [(String, String)] {
        func addr(_ list: [Participant]) -> String {
            list.map { $0.name.isEmpty ? $0.email : "\"\($0.name)\" <\($0.email)>" }.joined(separator: ", ")
        }
        var h: [(String, String)] = [("Message-ID", messageIDHeader), ("Subject", subject), ("From", addr(from)),
                                     ("To", addr(to)), ("Date", RFC5322.date(date))]
        if !cc.isEmpty { h.append(("Cc", addr(cc))) }
        if let inReplyTo { h.append(("In-Reply-To", inReplyTo)) }
        if !references.isEmpty { h.append(("References", references.joined(separator: " "))) }
        h.append(("MIME-Version", "1.0"))
        return h + headers
    }
}

/// An attachment's metadata; the bytes stay in the world's `attachments` table.
package struct WorldAttachment: Sendable, Equatable {
    package var id: Int64
    package var filename: String
    package var contentType: String
    package var size: Int
    package var contentID: String?
    package var isInline: Bool

    package var json: JSON {
        ["wid": .int(Int(id)), "filename": .string(filename), "content_type": .string(contentType), "size": .int(size),
         "content_id": .optional(contentID), "is_inline": .bool(isInline)]
    }

    package init(id: Int64, filename: String, contentType: String, size: Int, contentID: String?, isInline: Bool) {
        self.id = id
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.contentID = contentID
        self.isInline = isInline
    }

    package init?(_ j: JSON) {
        guard let id = j["wid"]?.intValue else { return nil }
        self.init(id: Int64(id), filename: j["filename"]?.stringValue ?? "", contentType: j["content_type"]?.stringValue ?? "",
                  size: j["size"]?.intValue ?? 0, contentID: j["content_id"]?.stringValue, isInline: j["is_inline"]?.boolValue ?? false)
    }
}

/// A new message entering a mailbox (mail arriving, a send, a fixture).
package struct NewMessage: Sendable {
    /// The largest body a test may ask to be padded to (`body_size`): 25 MiB, Gmail's message limit.
    package static let largestPaddedBody = 25 * 1024 * 1024
    /// The largest attachment generated from a `size` alone: 50 MiB.
    package static let largestGeneratedAttachment = 50 * 1024 * 1024

    package init(from: [Participant], to: [Participant], cc: [Participant] = [], bcc: [Participant] = [], replyTo: [Participant] = [], subject: String, body: String, date: Int, unread: Bool = true, starred: Bool = false, folders: [String] = [ProviderKind.inbox], headers: [(String, String)] = [], inReplyTo: String? = nil, messageIDHeader: String? = nil, attachments: [(filename: String, contentType: String, content: [UInt8], contentID: String?, isInline: Bool)] = []) {
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.replyTo = replyTo
        self.subject = subject
        self.body = body
        self.date = date
        self.unread = unread
        self.starred = starred
        self.folders = folders
        self.headers = headers
        self.inReplyTo = inReplyTo
        self.messageIDHeader = messageIDHeader
        self.attachments = attachments
    }

    package var from: [Participant]
    package var to: [Participant]
    package var cc: [Participant] = []
    package var bcc: [Participant] = []
    package var replyTo: [Participant] = []
    package var subject: String
    package var body: String
    package var date: Int
    package var unread = true
    package var starred = false
    package var folders: [String] = [ProviderKind.inbox]
    package var headers: [(String, String)] = []
    package var inReplyTo: String?
    package var messageIDHeader: String?
    package var attachments: [(filename: String, contentType: String, content: [UInt8], contentID: String?, isInline: Bool)] = []
}

package enum RFC5322 {
    /// `Wed, 25 Jan 2023 10:18:39 +0000`, without a `DateFormatter` (see `DateText`).
    package static func date(_ unix: Int) -> String { DateText.rfc5322(unixSeconds: unix) }
}

extension ProviderWorld {
    private func message(_ row: SQLRow) -> WorldMessage {
        let headerPairs: [(String, String)] = (row.json("headers").arrayValue ?? []).compactMap { h in
            guard let n = h["name"]?.stringValue, let v = h["value"]?.stringValue else { return nil }
            return (n, v)
        }
        return WorldMessage(
            id: Int64(row.int("id")), mailbox: row.string("mailbox"), messageIDHeader: row.string("message_id_header"),
            inReplyTo: row.optionalString("in_reply_to"), references: row.json("refs").arrayValue?.compactMap(\.stringValue) ?? [],
            threadKey: row.string("thread_key"), subject: row.string("subject"), from: Participant.list(row.json("from_json")),
            to: Participant.list(row.json("to_json")), cc: Participant.list(row.json("cc_json")),
            bcc: Participant.list(row.json("bcc_json")), replyTo: Participant.list(row.json("reply_to_json")),
            body: row.string("body"), date: row.int("date"), unread: row.bool("unread"), starred: row.bool("starred"),
            folders: row.json("folders").arrayValue?.compactMap(\.stringValue) ?? [], headers: headerPairs,
            attachments: (row.json("attachments").arrayValue ?? []).compactMap(WorldAttachment.init),
            deleted: row.bool("deleted"), availableAt: VirtualTime(milliseconds: Int64(row.int("available_at"))),
            version: row.int("version"))
    }

    package func message(id: Int64) throws -> WorldMessage? {
        try db.first("SELECT * FROM messages WHERE id = ?", id).map(message)
    }

    package func message(mailbox: String, header: String) throws -> WorldMessage? {
        try db.first("SELECT * FROM messages WHERE mailbox = ? AND message_id_header = ? AND deleted = 0", mailbox, header).map(message)
    }

    /// Every live message of a mailbox (for initial syncs and fixtures).
    package func messages(mailbox: String) throws -> [WorldMessage] {
        try db.query("SELECT * FROM messages WHERE mailbox = ? AND deleted = 0 ORDER BY id", mailbox.lowercased()).map(message)
    }

    package func folders(mailbox: String) throws -> [(key: String, name: String, system: Bool, attributes: [String], parent: String?, colors: JSON)] {
        try db.query("SELECT * FROM folders WHERE mailbox = ? ORDER BY system DESC, rowid", mailbox.lowercased()).map {
            ($0.string("key"), $0.string("name"), $0.bool("system"), $0.json("attributes").arrayValue?.compactMap(\.stringValue) ?? [],
             $0.optionalString("parent"), $0.json("colors"))
        }
    }

    /// Sets a label's colours (`{"background_color", "text_color"}`; keys absent keep theirs).
    package func setFolderColors(mailbox: String, key: String, _ colors: JSON, time: VirtualTime) throws {
        var current = try db.first("SELECT colors FROM folders WHERE mailbox = ? AND key = ?", mailbox, key)?.json("colors") ?? .null
        if current.isNull { current = [:] }
        for (k, v) in colors.objectValue ?? [:] { current[k] = v }
        try db.run("UPDATE folders SET colors = ? WHERE mailbox = ? AND key = ?", current, mailbox, key)
        try recordChange(mailbox: mailbox, kind: "folder", object: 0, time: time)
    }

    package func addFolder(mailbox: String, key: String, name: String, parent: String?, time: VirtualTime) throws {
        try db.run("INSERT INTO folders(mailbox, key, name, system, attributes, parent) VALUES(?,?,?,0,?,?)",
                   mailbox, key, name, JSON.array([]), parent)
        try recordChange(mailbox: mailbox, kind: "folder", object: 0, time: time)
    }

    package func renameFolder(mailbox: String, key: String, name: String, time: VirtualTime) throws {
        try db.run("UPDATE folders SET name = ? WHERE mailbox = ? AND key = ?", name, mailbox, key)
        try recordChange(mailbox: mailbox, kind: "folder", object: 0, time: time)
    }

    package func deleteFolder(mailbox: String, key: String, time: VirtualTime) throws {
        try db.run("DELETE FROM folders WHERE mailbox = ? AND key = ?", mailbox, key)
        try recordChange(mailbox: mailbox, kind: "folder", object: 0, time: time)
    }

    package func recordChange(mailbox: String, kind: String, object: Int64, time: VirtualTime) throws {
        try db.run("INSERT INTO changes(mailbox, kind, object, time) VALUES(?,?,?,?)", mailbox, kind, object, time.milliseconds)
        if lastChangesValid.generation == db.lookupGeneration { lastChanges[mailbox] = Int(db.lastInsertRowID) }
    }

    /// Changes of a mailbox after `seq`, oldest first.
    package func changes(mailbox: String, after seq: Int) throws -> [(seq: Int, kind: String, object: Int64)] {
        try db.query("SELECT seq, kind, object FROM changes WHERE mailbox = ? AND seq > ? ORDER BY seq", mailbox, seq).map {
            ($0.int("seq"), $0.string("kind"), Int64($0.int("object")))
        }
    }

    /// The `seq` of a mailbox's newest change (0: none).
    package func lastChange(mailbox: String) throws -> Int {
        let valid = (generation: db.lookupGeneration, dataVersion: db.path == nil ? 0 : try db.dataVersion())
        if lastChangesValid != valid || lastChanges.count >= 65_536 {
            lastChanges.removeAll(keepingCapacity: true)
            lastChangesValid = valid
        }
        if let kept = lastChanges[mailbox] { return kept }
        let seq = try db.first("SELECT COALESCE(MAX(seq), 0) AS s FROM changes WHERE mailbox = ?", mailbox)?.int("s") ?? 0
        lastChanges[mailbox] = seq
        return seq
    }

    /// Puts a new message into a mailbox, threading it by `In-Reply-To`/`References`/subject.
    @discardableResult
    package func insert(_ m: NewMessage, mailbox: String, time: VirtualTime, availableAt: VirtualTime? = nil) throws -> WorldMessage {
        let domain = mailbox.split(separator: "@").last.map(String.init) ?? "example.com"
        let header = m.messageIDHeader ?? "<\(ids.base36("message-id", length: 24))@\(domain == "gmail.com" ? "mail.gmail.com" : domain)>"
        var references: [String] = []
        var threadKey = header
        if let parentHeader = m.inReplyTo, let parent = try message(mailbox: mailbox, header: parentHeader) {
            threadKey = parent.threadKey
            references = parent.references + [parent.messageIDHeader]
        } else if let parentHeader = m.inReplyTo {
            references = [parentHeader]
            // The parent lives elsewhere: join a thread that already references it, if any.
            if let row = try db.first("SELECT thread_key FROM messages WHERE mailbox = ? AND (in_reply_to = ? OR message_id_header = ?) LIMIT 1",
                                      mailbox, parentHeader, parentHeader) {
                threadKey = row.string("thread_key")
            }
        }
        var attachments: [WorldAttachment] = []
        for a in m.attachments {
            try db.run("INSERT INTO attachments(filename, content_type, size, content_id, inline, content) VALUES(?,?,?,?,?,?)",
                       a.filename, a.contentType, a.content.count, a.contentID, a.isInline, SQLValue.largeBlob(a.content))
            let id = db.lastInsertRowID
            attachments.append(WorldAttachment(id: id, filename: a.filename, contentType: a.contentType, size: a.content.count,
                                               contentID: a.contentID, isInline: a.isInline))
        }
        let available = availableAt ?? time
        try db.run("""
            INSERT INTO messages(mailbox, message_id_header, in_reply_to, refs, thread_key, subject, from_json, to_json, cc_json,
                bcc_json, reply_to_json, body, date, unread, starred, folders, headers, attachments, available_at)
            VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """, mailbox, header, m.inReplyTo, JSON.strings(references), threadKey, m.subject, Participant.json(m.from),
            Participant.json(m.to), Participant.json(m.cc), Participant.json(m.bcc), Participant.json(m.replyTo), SQLValue.largeText(m.body), m.date,
            m.unread, m.starred, JSON.strings(m.folders),
            JSON.array(m.headers.map { ["name": .string($0.0), "value": .string($0.1)] }),
            JSON.array(attachments.map(\.json)), available.milliseconds)
        let id = db.lastInsertRowID
        try recordChange(mailbox: mailbox, kind: "message", object: id, time: available)
        // The row as inserted (the columns' defaults: not deleted, version 1), without reading a body
        // of megabytes back.
        return WorldMessage(id: id, mailbox: mailbox, messageIDHeader: header, inReplyTo: m.inReplyTo, references: references,
                            threadKey: threadKey, subject: m.subject, from: m.from, to: m.to, cc: m.cc, bcc: m.bcc, replyTo: m.replyTo,
                            body: m.body, date: m.date, unread: m.unread, starred: m.starred, folders: m.folders, headers: m.headers,
                            attachments: attachments, deleted: false, availableAt: available, version: 1)
    }

    /// Changes flags or folders of a message, as the user's own mail client (or a grant) does.
    package func update(_ id: Int64, unread: Bool? = nil, starred: Bool? = nil, folders: [String]? = nil, time: VirtualTime) throws {
        guard var m = try message(id: id), !m.deleted else { return }
        if let unread { m.unread = unread }
        if let starred { m.starred = starred }
        if let folders { m.folders = folders }
        try db.run("UPDATE messages SET unread = ?, starred = ?, folders = ?, version = version + 1 WHERE id = ?",
                   m.unread, m.starred, JSON.strings(m.folders), id)
        try recordChange(mailbox: m.mailbox, kind: "message", object: id, time: time)
    }

    package func delete(_ id: Int64, time: VirtualTime) throws {
        guard let m = try message(id: id), !m.deleted else { return }
        try db.run("UPDATE messages SET deleted = 1, version = version + 1 WHERE id = ?", id)
        try recordChange(mailbox: m.mailbox, kind: "message", object: id, time: time)
    }

    package func attachmentContent(_ id: Int64) throws -> [UInt8]? {
        try db.first("SELECT content FROM attachments WHERE id = ?", id)?["content"].blob
    }
}
