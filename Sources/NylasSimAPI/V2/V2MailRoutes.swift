import Foundation
import NylasSimCore

/// v2 email: messages, threads, send, versioned drafts, files, folders and labels (v2 reference §6.1–§6.6).
package enum V2MailRoutes {
    package static func register(_ r: inout Router) {
        r.add("GET", "/messages", .v2, listMessages)
        r.add("GET", "/messages/search", .v2, searchMessages)
        r.add("GET", "/messages/{id}", .v2, getMessage)
        r.add("PUT", "/messages/{id}", .v2, updateMessage)
        r.add("GET", "/threads", .v2, listThreads)
        r.add("GET", "/threads/search", .v2, searchThreads)
        r.add("GET", "/threads/{id}", .v2, getThread)
        r.add("PUT", "/threads/{id}", .v2, updateThread)
        r.add("DELETE", "/threads/{id}", .v2, deleteThread)
        r.add("POST", "/send", .v2, send)
    }

    /// The message filters of v2 (`in` and `not_in` take an ID, a name or a display name).
    package static func filter(_ q: QueryParameters, _ account: GrantRecord, _ store: RegionStore) throws -> V2MessageFilter {
        var f = V2MessageFilter()
        f.subject = q["subject"]
        f.anyEmail = try q.list("any_email", max: InputLimits.anyEmail).map { $0.lowercased() }
        f.from = q["from"]
        f.to = q["to"]
        f.cc = q["cc"]
        f.bcc = q["bcc"]
        func folder(_ target: String) throws -> String {
            let match = try store.folders(grantID: account.id).first { f in
                f.id == target || f.name.lowercased() == target.lowercased() || V2Render.roles[f.worldKey] == target.lowercased()
            }
            return match?.id ?? "\u{0}none"
        }
        f.inFolder = try q["in"].map(folder)
        f.notInFolder = try q["not_in"].map(folder)
        f.unread = try q.v2Bool("unread")
        f.starred = try q.v2Bool("starred")
        f.threadID = q["thread_id"]
        f.receivedBefore = q["received_before"].flatMap { Int($0) }
        f.receivedAfter = q["received_after"].flatMap { Int($0) }
        f.hasAttachment = try q.v2Bool("has_attachment")
        f.filename = q["filename"]
        return f
    }

    /// Provider-side search (`q`, v2 §6.1/§6.2; removed in v3 for `search_query_native`): every word
    /// (or "quoted phrase") must appear in the subject, the body or a participant's address;
    /// `from:`, `to:`, `cc:` and `subject:` narrow a word to that field, as Gmail and IMAP do.
    package static func searchFilter(_ q: QueryParameters) throws(NylasError) -> V2MessageFilter {
        guard let query = q["q"], !query.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw NylasError.invalidRequest("GET HTTP method must include query url parameter")
        }
        var f = V2MessageFilter()
        f.search = searchWords(query).map { word in
            let parts = word.split(separator: ":", maxSplits: 1).map(String.init)
            let field = parts.count == 2 ? parts[0].lowercased() : ""
            if ["from", "to", "cc", "subject"].contains(field) { return (field, parts[1]) }
            return (nil, word)
        }
        return f
    }

    /// The words of a search query; a double-quoted phrase is one word.
    package static func searchWords(_ query: String) -> [String] {
        var words: [String] = [], current = "", quoted = false
        for c in query {
            if c == "\"" { quoted.toggle(); continue }
            if c == " " && !quoted {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    @Sendable package static func searchMessages(_ ctx: RequestContext) async throws -> SimResponse {
        let (limit, offset) = try ctx.query.v2Paging()
        return .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let rows = try store.v2Messages(grantID: account.id, matching: try searchFilter(ctx.query), limit: limit, offset: offset)
            return .array(try rows.map { try V2Render.message($0, store, account: account) })
        })
    }

    @Sendable package static func searchThreads(_ ctx: RequestContext) async throws -> SimResponse {
        let (limit, offset) = try ctx.query.v2Paging()
        let view = try ctx.query.v2View()
        return .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let ids = try store.v2ThreadIDs(grantID: account.id, matching: try searchFilter(ctx.query), limit: limit, offset: offset)
            return .array(try ids.compactMap { try thread(store, account, $0, expanded: view == "expanded") })
        })
    }

    @Sendable package static func listMessages(_ ctx: RequestContext) async throws -> SimResponse {
        let (limit, offset) = try ctx.query.v2Paging()
        let view = try ctx.query.v2View()
        return .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let f = try filter(ctx.query, account, store)
            if view == "count" { return ["count": .int(try store.v2MessageCount(grantID: account.id, matching: f))] }
            let rows = try store.v2Messages(grantID: account.id, matching: f, limit: limit, offset: offset)
            if view == "ids" { return .strings(rows.map(\.id)) }
            return .array(try rows.map { try V2Render.message($0, store, account: account, expanded: view == "expanded") })
        })
    }

    package static func message(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore) throws -> (GrantRecord, MessageRecord) {
        let (account, _) = try ctx.v2Account(s, store)
        // The v2 engine parses IDs (`int(id, 36)`; the simulator's IMAP IDs add `-` and `_`): anything else is 400.
        let id = ctx.param("id")
        guard !id.isEmpty, id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }) else {
            throw NylasError.invalidRequest("Invalid id: \(id)")
        }
        guard let m = try store.message(grantID: account.id, id: ctx.param("id")) else {
            throw NylasError.notFound("Couldn't find message \(ctx.param("id"))")
        }
        return (account, m)
    }

    @Sendable package static func getMessage(_ ctx: RequestContext) async throws -> SimResponse {
        let view = try ctx.query.v2View()
        let raw = ctx.request.header("accept")?.lowercased().contains("message/rfc822") == true
        return try ctx.read { s, store in
            // Several IDs, comma-separated: an array of those found (v2 §5 "Multiple IDs").
            if ctx.param("id").contains(","), !raw {
                let (account, _) = try ctx.v2Account(s, store)
                let found = try ctx.param("id").split(separator: ",").compactMap { try store.message(grantID: account.id, id: String($0)) }
                guard !found.isEmpty else { throw NylasError.notFound("Couldn't find message \(ctx.param("id"))") }
                return .json(.array(try found.map { try V2Render.message($0, store, account: account, expanded: view == "expanded") }))
            }
            let (account, m) = try message(ctx, s, store)
            if raw {
                return SimResponse(status: 200, headers: ["Content-Type": "message/rfc822"], body: Array(MIME.render(m).utf8))
            }
            return .json(try V2Render.message(m, store, account: account, expanded: view == "expanded"))
        }
    }

    /// Resolves `folder_id` / `label_ids` of a v2 update into world folder keys.
    package static func placement(_ body: BodyFields, _ account: GrantRecord, _ store: RegionStore) throws -> [String]? {
        let isLabel = account.kind == .google
        if isLabel, body.has("folder_id") || body.has("folder") {
            throw NylasError.notFound("GMail accounts don't support folders")
        }
        if !isLabel, body.has("label_ids") || body.has("labels") {
            throw NylasError.notFound("Non-GMail accounts don't support labels")
        }
        if isLabel, let ids = try body.stringArray("label_ids") ?? body.stringArray("labels") {
            if ids.isEmpty { throw NylasError.invalidRequest("Removing all labels is not allowed.") }
            return try ids.map { id throws -> String in
                guard let f = try store.folder(grantID: account.id, id: id) else { throw NylasError.invalidRequest("The label \(id) does not exist") }
                return f.worldKey
            }
        }
        if !isLabel, body.has("folder_id") || body.has("folder") {
            guard let id = try body.string("folder_id") ?? body.string("folder") else {
                throw NylasError.invalidRequest("Removing all folders is not allowed.")
            }
            guard let f = try store.folder(grantID: account.id, id: id) else { throw NylasError.invalidRequest("The folder \(id) does not exist") }
            return [f.worldKey]
        }
        return nil
    }

    @Sendable package static func updateMessage(_ ctx: RequestContext) async throws -> SimResponse {
        if ctx.request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { throw NylasError.invalidRequest("Empty request body") }
        let body = try ctx.body()
        for key in ["unread", "starred"] where body.has(key) {
            guard body.raw(key)?.boolValue != nil else { throw NylasError.invalidRequest("\"\(key)\" must be true or false") }
        }
        return .json(try ctx.write { s, store in
            let (account, m) = try message(ctx, s, store)
            let keys = try placement(body, account, store)
            // Reference v2 §4 (l. 274): the `sent` and `drafts` labels cannot be added or removed.
            if let keys, account.kind == .google {
                let current = Set(try m.folders.compactMap { try store.folder(grantID: account.id, id: $0)?.worldKey })
                for system in [ProviderKind.sent, ProviderKind.drafts] where current.contains(system) != keys.contains(system) {
                    throw NylasError.invalidRequest("The \(system == ProviderKind.sent ? "sent" : "drafts") label cannot be added or removed.")
                }
            }
            let updated = try MessageOperations.change(s, ctx.region, account, m, unread: try body.bool("unread"), starred: try body.bool("starred"),
                                                          folderKeys: keys, metadata: try body.metadata())
            return try V2Render.message(updated, store, account: account)
        })
    }

    /// `DELETE /threads/{id}`: the v2 engine does not implement it (reference v2 l. 293).
    @Sendable static func deleteThread(_ ctx: RequestContext) async throws -> SimResponse {
        _ = try ctx.read { s, store in try ctx.v2Account(s, store) }
        throw NylasError(status: 501, type: "api_error", message: "Deleting a thread is not implemented.")
    }

    // MARK: Threads

    package static func thread(_ store: RegionStore, _ account: GrantRecord, _ id: String, expanded: Bool) throws -> JSON? {
        let messages = try store.messages(grantID: account.id, threadID: id)
        guard let first = messages.first, let last = messages.last else { return nil }
        var participants: [Participant] = []
        for m in messages { for p in m.from + m.to + m.cc where !participants.contains(where: { $0.email.lowercased() == p.email.lowercased() }) { participants.append(p) } }
        var folderIDs: [String] = []
        for m in messages { for f in m.folders where !folderIDs.contains(f) { folderIDs.append(f) } }
        let sent = messages.filter { $0.from.contains { $0.email.lowercased() == account.email.lowercased() } }
        let received = messages.filter { !$0.from.contains { $0.email.lowercased() == account.email.lowercased() } }
        let cats = try V2Render.categories(folderIDs, store, account: account)
        var o: JSON = [
            "id": .string(id), "object": "thread", "account_id": .string(account.id), "subject": .string(first.subject),
            "participants": Participant.json(participants), "first_message_timestamp": .int(first.date),
            "last_message_timestamp": .int(last.date), "last_message_received_timestamp": .optional(received.last?.date),
            "last_message_sent_timestamp": .optional(sent.last?.date), "snippet": .string(last.snippet),
            "unread": .bool(messages.contains { $0.unread }), "starred": .bool(messages.contains { $0.starred }),
            "has_attachments": .bool(messages.contains { !$0.attachments.isEmpty }), "version": .int(messages.count - 1),
        ]
        o[account.kind == .google ? "labels" : "folders"] = .array(cats)
        // The thread's drafts (replies saved with its `thread_id` or to one of its messages).
        let drafts = try store.draftObjectsByCreation(grantID: account.id).filter { $0["thread_id"]?.stringValue == id }
        if expanded {
            o["messages"] = .array(try messages.map { try V2Render.message($0, store, account: account).removing("body").removing("events") })
            o["drafts"] = .array(drafts.map { $0.removing("body") })
        } else {
            o["message_ids"] = .strings(messages.map(\.id))
            o["draft_ids"] = .strings(drafts.compactMap { $0["id"]?.stringValue })
        }
        return o
    }

    @Sendable package static func listThreads(_ ctx: RequestContext) async throws -> SimResponse {
        let (limit, offset) = try ctx.query.v2Paging()
        let view = try ctx.query.v2View()
        return .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            var f = try filter(ctx.query, account, store)
            // As v2 did: these narrow the messages considered, like received_before/after.
            f.lastMessageBefore = ctx.query["last_message_before"].flatMap { Int($0) }
            f.lastMessageAfter = ctx.query["last_message_after"].flatMap { Int($0) }
            let rows = try store.v2ThreadIDs(grantID: account.id, matching: f, limit: limit, offset: offset)
            if view == "count" { return ["count": .int(try store.v2ThreadCount(grantID: account.id, matching: f))] }
            if view == "ids" { return .strings(rows) }
            return .array(try rows.compactMap { try thread(store, account, $0, expanded: view == "expanded") })
        })
    }

    @Sendable package static func getThread(_ ctx: RequestContext) async throws -> SimResponse {
        let view = try ctx.query.v2View()
        return .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            guard let t = try thread(store, account, ctx.param("id"), expanded: view == "expanded") else {
                throw NylasError.notFound("Couldn't find thread \(ctx.param("id"))")
            }
            return t
        })
    }

    @Sendable package static func updateThread(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        if let bad = body.values.keys.sorted().first(where: { !["unread", "starred", "folder_id", "folder", "label_ids", "labels"].contains($0) }) {
            throw NylasError.invalidRequest("Unexpected attribute: \(bad)")
        }
        return .json(try ctx.write { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let messages = try store.messages(grantID: account.id, threadID: ctx.param("id"))
            guard !messages.isEmpty else { throw NylasError.notFound("Couldn't find thread \(ctx.param("id"))") }
            let keys = try placement(body, account, store)
            for m in messages {
                let isSent = m.from.contains { $0.email.lowercased() == account.email.lowercased() }
                _ = try MessageOperations.change(s, ctx.region, account, m, unread: try body.bool("unread"), starred: try body.bool("starred"),
                                                    folderKeys: isSent && account.kind != .google ? nil : keys, metadata: nil)
            }
            return try thread(store, account, ctx.param("id"), expanded: false) ?? .null
        })
    }

    // MARK: Send

    @Sendable package static func send(_ ctx: RequestContext) async throws -> SimResponse {
        if ctx.request.contentType == "message/rfc822" {
            let out = try MIMEParser.parse(ctx.request.body)
            return .json(try ctx.write { s, store in
                let (account, _) = try ctx.v2Account(s, store)
                let record = try MailSender.send(s, region: ctx.region, grant: account, out)
                try store.markV2FilesAttached(accountID: account.id, out, messageID: record.id)
                return try V2Render.message(record, store, account: account)
            })
        }
        let body = try ctx.body()
        // A recipient the provider cannot take is a 402 in v2 (reference v2 l. 196: "not payment").
        for key in ["to", "cc", "bcc"] {
            for r in try body.array(key) ?? [] {
                if let email = r["email"]?.stringValue, !EmailAddress.isValid(email) {
                    throw NylasError(status: 402, type: "api_error", message: "Invalid character in recipient address")
                }
            }
        }
        return .json(try ctx.write { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            var out: OutgoingMessage
            if let draftID = try body.string("draft_id") {
                guard let draft = try store.draft(grantID: account.id, id: draftID) else {
                    throw NylasError.notFound("Couldn't find draft \(draftID)")
                }
                guard let version = try body.int("version") else { throw NylasError.invalidRequest("Must specify draft version") }
                guard version == draft.version else {
                    throw NylasError(status: 409, type: "invalid_request_error",
                                     message: "Draft \(draftID).\(version) has already been updated to version \(draft.version)")
                }
                out = draft.out
                try store.deleteDraft(grantID: account.id, id: draftID)
            } else {
                out = try V2MessageInput.parse(body, account, s, store)
            }
            if (out.to + out.cc + out.bcc).isEmpty {
                throw NylasError(status: 402, type: "api_error", message: "Sending to all recipients failed", v2Type: "api_error")
            }
            let record = try MailSender.send(s, region: ctx.region, grant: account, out)
            try store.markV2FilesAttached(accountID: account.id, out, messageID: record.id)
            return try V2Render.message(record, store, account: account)
        })
    }
}

