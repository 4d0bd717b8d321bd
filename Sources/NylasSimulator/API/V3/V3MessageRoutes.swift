import Foundation

/// `/v3/grants/{grant_id}/messages` (reference §4.8): list with filters and keyset pagination,
/// get, update, delete, send (JSON and multipart), scheduled sends, clean.
enum V3MessageRoutes {
    static let base = "/v3/grants/{grant_id}/messages"
    static let fieldsValues: Set<String> = ["standard", "include_headers", "include_basic_headers", "include_tracking_options", "raw_mime"]

    static func register(_ r: inout Router) {
        r.add("GET", base, .v3, list)
        r.add("POST", base + "/send", .v3, send)
        r.add("GET", base + "/schedules", .v3, listSchedules)
        r.add("GET", base + "/schedules/{schedule_id}", .v3, getSchedule)
        r.add("DELETE", base + "/schedules/{schedule_id}", .v3, cancelSchedule)
        r.add("PUT", base + "/clean", .v3, clean)
        r.add("GET", base + "/{message_id}", .v3, get)
        r.add("PUT", base + "/{message_id}", .v3, update)
        r.add("DELETE", base + "/{message_id}", .v3, delete)
    }

    // MARK: List

    @Sendable static func list(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.rejectV2Parameters()
        let q = ctx.query
        let limit = try ctx.limit(default: 50, max: 200)
        let fields = q["fields"] ?? "standard"
        guard fieldsValues.contains(fields) else { throw NylasError.invalidValue("fields", "unknown value '\(fields)'") }
        let anyEmail = q.list("any_email")
        if anyEmail.count > 25 { throw NylasError.invalidValue("any_email", "at most 25 addresses") }
        let token = try q["page_token"].map { t throws(NylasError) in try PageToken.parse(t, count: 2) }
        let (items, next) = try ctx.read { s, store -> ([JSON], String?) in
            let grant = try ctx.dataGrant(s, store, mail: true)
            var f = try filter(ctx, grant: grant, store: store)
            if !anyEmail.isEmpty { anyEmailClause(&f, anyEmail) }
            if let token {
                guard let date = Int(token[0]) else { throw NylasError.invalidRequest("Invalid page_token") }
                // A row value, not `m.date < ? OR (m.date = ? AND m.id < ?)`: the same rows, but SQLite
                // seeks the (…, date, id) index to the cursor instead of walking it from the top.
                f.add("(m.date, m.id) < (?, ?)", date, token[1])
            }
            let rows = try store.db.query("SELECT m.* FROM messages m WHERE \(f.sql) ORDER BY m.date DESC, m.id DESC LIMIT ?",
                                          f.binds + [limit + 1])
            let records = rows.prefix(limit).map(MessageRecord.init)
            let next = rows.count > limit ? records.last.map { PageToken.make([String($0.date), $0.id]) } : nil
            return (records.map { ctx.selecting(render($0, fields: fields)) }, next)
        }
        return ctx.list(items, nextCursor: next)
    }

    /// The WHERE clause of the message filters shared by messages and threads.
    static func filter(_ ctx: RequestContext, grant: GrantRecord, store: RegionStore) throws -> SQLFilter {
        let q = ctx.query
        var f = SQLFilter()
        f.add("m.grant_id = ?", grant.id)
        if let subject = q["subject"] { f.add("m.subject LIKE ? ESCAPE '\\'", "%" + likeEscape(subject) + "%") }
        for (key, column) in [("from", "from_json"), ("to", "to_json"), ("cc", "cc_json"), ("bcc", "bcc_json")] {
            // The participant columns are JSON blobs: SQLite's LIKE never matches a BLOB, so compare their text.
            for email in q.list(key) { f.add("CAST(m.\(column) AS TEXT) LIKE ? ESCAPE '\\'", "%\"email\":\"" + likeEscape(email) + "\"%") }
        }
        for folder in q.list("in") {
            let id: String
            if let found = try store.folder(grantID: grant.id, id: folder) {
                id = found.id
            } else if let byName = try store.folders(grantID: grant.id).first(where: { $0.name.lowercased() == folder.lowercased() }),
                      grant.provider == "google" {
                id = byName.id
            } else {
                throw NylasError.notFound("Folder not found: \(folder)")
            }
            f.add("m.id IN (SELECT message_id FROM message_folders WHERE grant_id = ? AND folder_id = ?)", grant.id, id)
        }
        if let unread = try q.bool("unread") { f.add("m.unread = ?", unread) }
        if let starred = try q.bool("starred") { f.add("m.starred = ?", starred) }
        if let thread = q["thread_id"] { f.add("m.thread_id = ?", thread) }
        if let before = try q.int("received_before") { f.add("m.date < ?", before) }
        if let after = try q.int("received_after") { f.add("m.date > ?", after) }
        if let has = try q.bool("has_attachment") { f.add("m.has_attachments = ?", has) }
        if let native = q["search_query_native"] {
            let terms = native.split(separator: " ").map { String($0) }.filter { !$0.contains(":") }
            for t in terms { f.add("(m.subject LIKE ? OR m.body LIKE ?)", "%\(t)%", "%\(t)%") }
        }
        for pair in q.all("metadata_pair") {
            let kv = pair.split(separator: ":", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw NylasError.invalidValue("metadata_pair", "expected key:value, got '\(pair)'") }
            f.add("json_extract(CAST(m.metadata AS TEXT), ?) = ?", "$.\"\(kv[0])\"", kv[1])
        }
        return f
    }

    /// `any_email`: whole addresses among the space-separated participants (not substrings).
    static func anyEmailClause(_ f: inout SQLFilter, _ emails: [String]) {
        f.clauses.append("(" + emails.map { _ in "(' ' || m.participants || ' ') LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")")
        f.binds.append(contentsOf: emails.map { "% \(likeEscape($0.lowercased())) %" } as [any SQLBindable])
    }

    static func likeEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    static func render(_ m: MessageRecord, fields: String) -> JSON {
        switch fields {
        case "include_headers": return m.json(includeHeaders: true)
        case "include_basic_headers":
            var o = m.json()
            o["headers"] = .array(m.headers.filter { ["message-id", "in-reply-to", "references"].contains($0.0.lowercased()) }
                .map { ["name": .string($0.0), "value": .string($0.1)] })
            return o
        case "raw_mime":
            return ["id": .string(m.id), "grant_id": .string(m.grantID), "object": "message",
                    "raw_mime": .string(Base64URL.encode(Array(MIME.render(m).utf8)))]
        default: return m.json()
        }
    }

    // MARK: One message

    static func message(_ ctx: RequestContext, _ s: SimulatorState, _ store: RegionStore) throws -> (GrantRecord, MessageRecord) {
        let grant = try ctx.dataGrant(s, store, mail: true)
        let id = try ctx.objectID("message_id", kind: "message", grant: grant, store: store)
        guard let m = try store.message(grantID: grant.id, id: id) else {
            throw NylasError.notFound("Message not found: \(ctx.param("message_id"))")
        }
        return (grant, m)
    }

    @Sendable static func get(_ ctx: RequestContext) async throws -> SimResponse {
        let fields = ctx.query["fields"] ?? "standard"
        guard fieldsValues.contains(fields) else { throw NylasError.invalidValue("fields", "unknown value '\(fields)'") }
        return ctx.data(try ctx.read { s, store in ctx.selecting(render(try message(ctx, s, store).1, fields: fields)) })
    }

    @Sendable static func update(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        try body.rejectUnknown(["unread", "starred", "folders", "metadata"])
        let unread = try body.bool("unread")
        let starred = try body.bool("starred")
        let folders = try body.stringArray("folders")
        let metadata = try body.object("metadata")
        return ctx.data(try ctx.write { s, store in
            let (grant, m) = try message(ctx, s, store)
            var keys: [String]?
            if let folders {
                if !ProviderKind(grant.provider).multipleFolders, folders.count != 1 {
                    throw NylasError.invalidValue("folders", "a \(grant.provider) message is in exactly one folder")
                }
                keys = try folders.map { id throws -> String in
                    guard let f = try store.folder(grantID: grant.id, id: id) else { throw NylasError.notFound("Folder not found: \(id)") }
                    return f.worldKey
                }
            }
            return try applyChange(s, ctx.region, grant, m, unread: unread, starred: starred, folderKeys: keys, metadata: metadata).json()
        })
    }

    /// A change made through a grant: the provider first, then this grant's copy and event, then other grants.
    static func applyChange(_ s: SimulatorState, _ region: Region, _ grant: GrantRecord, _ m: MessageRecord, unread: Bool?,
                            starred: Bool?, folderKeys: [String]?, metadata: [String: JSON]?) throws -> MessageRecord {
        let store = s.store(region)
        try s.world.update(m.worldID, unread: unread, starred: starred, folders: folderKeys, time: s.now)
        var copy = m
        if let unread { copy.unread = unread }
        if let starred { copy.starred = starred }
        if let folderKeys {
            copy.folders = try folderKeys.compactMap { try store.folder(grantID: grant.id, worldKey: $0)?.id }
        }
        if let metadata { copy.metadata = metadata }
        copy.updatedAt = s.now.seconds
        try store.save(copy)
        let provider = ProviderKind(grant.provider)
        SyncEngine.emit(s, region, grant, "message.updated", copy.json(), provider.emailSource(provider.isPush ? .realtime : .incremental))
        try SyncEngine.mailboxChanged(s, mailbox: grant.email)
        return copy
    }

    @Sendable static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        let hard = try ctx.query.bool("hard_delete") ?? false
        try ctx.write { s, store in
            let (grant, m) = try message(ctx, s, store)
            let provider = ProviderKind(grant.provider)
            let source = provider.emailSource(provider.isPush ? .realtime : .incremental)
            let inTrash = try m.folders.contains { try store.folder(grantID: grant.id, id: $0)?.worldKey == ProviderKind.trash }
            if hard || inTrash {
                try s.world.delete(m.worldID, time: s.now)
                try store.deleteMessage(grantID: grant.id, id: m.id)
                SyncEngine.emit(s, region: ctx.region, grant: grant, type: "message.deleted",
                                object: ["id": .string(m.id), "grant_id": .string(grant.id), "object": "message"], source: source)
                try SyncEngine.mailboxChanged(s, mailbox: grant.email)
            } else {
                _ = try applyChange(s, ctx.region, grant, m, unread: nil, starred: nil, folderKeys: [ProviderKind.trash], metadata: nil)
            }
        }
        return ctx.done()
    }

    // MARK: Send

    @Sendable static func send(_ ctx: RequestContext) async throws -> SimResponse {
        if ctx.query["type"] == "mime" {
            throw NylasError.invalidRequest("Raw MIME sending is not supported: send a JSON or multipart message and set custom_headers")
        }
        let out = try OutgoingMessage.parse(ctx)
        let key = ctx.request.header("idempotency-key")
        if let key, key.count > 256 {
            throw NylasError(status: 400, type: "api.invalid_idempotency_key", message: "Idempotency-Key must be 256 characters or fewer.")
        }
        return try ctx.write { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            if let key {
                let fingerprint = ctx.request.body
                if let cached = s.idempotency["\(grant.id)|\(key)"] {
                    guard cached.request == fingerprint else {
                        throw NylasError(status: 409, type: "api.invalid_idempotent_request",
                                         message: "The Idempotency-Key was already used with a different request")
                    }
                    return cached.response
                }
            }
            let response: SimResponse
            if let sendAt = out.sendAt {
                let now = s.now.seconds
                guard sendAt >= now + 60, sendAt <= now + 30 * 86400 else {
                    throw NylasError.invalidValue("send_at", "must be at least 60 seconds and at most 30 days in the future")
                }
                if out.useDraft, !["google", "microsoft"].contains(grant.provider) {
                    throw NylasError.invalidValue("use_draft", "only Google and Microsoft grants keep scheduled messages in Drafts")
                }
                let schedule = try Schedules.create(s, region: ctx.region, grant: grant, out)
                var o: JSON = ["grant_id": .string(grant.id), "object": "message", "schedule_id": .string(schedule),
                               "send_at": .int(sendAt), "use_draft": .bool(out.useDraft), "subject": .string(out.subject),
                               "to": Participant.json(out.to), "cc": Participant.json(out.cc), "bcc": Participant.json(out.bcc),
                               "from": Participant.json(out.from.isEmpty ? [Participant(name: grant.name ?? "", email: grant.email)] : out.from),
                               "body": .string(out.body), "attachments": []]
                if let r = out.replyToMessageID { o["reply_to_message_id"] = .string(r) }
                response = .json(["request_id": .string(ctx.requestID), "grant_id": .string(grant.id), "schedule_id": .string(schedule),
                                  "data": o], status: 202)
            } else {
                let record = try MailSender.send(s, region: ctx.region, grant: grant, out)
                response = .json(["request_id": .string(ctx.requestID), "grant_id": .string(grant.id),
                                  "data": MailSender.response(record, out)])
            }
            if let key { s.idempotency["\(grant.id)|\(key)"] = (ctx.request.body, response) }
            return response
        }
    }

    // MARK: Schedules

    @Sendable static func listSchedules(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(.array(try ctx.read { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            return try Schedules.all(store, grantID: grant.id)
        }))
    }

    @Sendable static func getSchedule(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            guard let sch = try Schedules.one(store, grantID: grant.id, id: ctx.param("schedule_id")) else {
                throw NylasError.notFound("Schedule not found: \(ctx.param("schedule_id"))")
            }
            return sch
        })
    }

    @Sendable static func cancelSchedule(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            try Schedules.cancel(s, store, grantID: grant.id, id: ctx.param("schedule_id"))
        }
        return ctx.data(["message": "requested cancelation for workflow"], status: 202)
    }

    // MARK: Clean

    @Sendable static func clean(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        guard let ids = try body.stringArray("message_id"), !ids.isEmpty else { throw NylasError.missingField("message_id") }
        if ids.count > 20 { throw NylasError.invalidValue("message_id", "at most 20 messages") }
        return ctx.data(.array(try ctx.read { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            return try ids.map { id throws -> JSON in
                guard let m = try store.message(grantID: grant.id, id: id) else { throw NylasError.notFound("Message not found: \(id)") }
                var o = m.json()
                o["conversation"] = .string(Snippet.make(m.body).isEmpty ? "" : Snippet.clean(m.body))
                return o
            }
        }))
    }
}

extension SyncEngine {
    static func emit(_ s: SimulatorState, region: Region, grant: GrantRecord, type: String, object: JSON, source: String) {
        emit(s, region, grant, type, object, source)
    }
}

extension Snippet {
    /// The whole body as plain text (Clean Conversations, simplified).
    static func clean(_ body: String) -> String {
        var out = ""
        var inTag = false
        for c in body {
            if c == "<" { inTag = true; continue }
            if c == ">" { inTag = false; out.append(" "); continue }
            if !inTag { out.append(c) }
        }
        return out.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}

/// RFC 822 rendering for `fields=raw_mime`.
enum MIME {
    static func render(_ m: MessageRecord) -> String {
        var lines = m.headers.map { "\($0.0): \($0.1)" }
        lines.append("Content-Type: text/html; charset=utf-8")
        lines.append("")
        lines.append(m.body)
        return lines.joined(separator: "\r\n")
    }
}
