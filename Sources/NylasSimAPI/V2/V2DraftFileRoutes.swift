import Foundation
import NylasSimCore

/// v2 drafts (versioned), files, and the delta endpoints.
package enum V2DraftFileRoutes {
    package static func register(_ r: inout Router) {
        // MARK: Drafts
        r.add("GET", "/drafts", .v2, listDrafts)
        r.add("GET", "/drafts/{id}", .v2, getDraft)
        r.add("POST", "/drafts", .v2, postDrafts)
        r.add("PUT", "/drafts/{id}", .v2, putDraft)
        r.add("DELETE", "/drafts/{id}", .v2, deleteDraft)

        // MARK: Files
        r.add("POST", "/files", .v2, postFiles)
        r.add("GET", "/files", .v2, listFiles)
        r.add("GET", "/files/{id}", .v2, getFile)
        r.add("GET", "/files/{id}/download", .v2, getDownload)
        r.add("DELETE", "/files/{id}", .v2, deleteFile)

        // MARK: Delta
        r.add("POST", "/delta/latest_cursor", .v2, postLatestCursor)
        // The cursor just before the first change at or after `start` (unix seconds).
        r.add("POST", "/delta/generate_cursor", .v2, postGenerateCursor)
        r.add("GET", "/delta", .v2, getDelta)
        r.add("GET", "/delta/longpoll", .v2, getLongpoll)
        r.add("GET", "/delta/streaming", .v2, getStreaming)
    }

    /// `GET "/drafts"`
    @Sendable static func listDrafts(_ ctx: RequestContext) async throws -> SimResponse {
        let (limit, offset) = try ctx.query.v2Paging()
        return .json(.array(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            var all = try store.draftObjects(grantID: account.id)
            // `thread_id` (a message filter drafts share; the SDK's `Thread.drafts`).
            if let thread = ctx.query["thread_id"] { all = all.filter { $0["thread_id"]?.stringValue == thread } }
            return Array(all.dropFirst(offset).prefix(limit))
        }))
    }

    /// `GET "/drafts/{id}"`
    @Sendable static func getDraft(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            return try draft(store, account, ctx.param("id")).json
        })
    }

    /// `POST "/drafts"`
    @Sendable static func postDrafts(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return .json(try ctx.write { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let out = try V2MessageInput.parse(body, account, s, store)
            // A reply draft belongs to the thread of the message it replies to (see `outgoing`).
            let threadID = try out.replyToMessageID.flatMap { try store.message(grantID: account.id, id: $0)?.threadID }
            return try save(s, store, account, id: store.ids.base36("v2-draft"), out, version: 0,
                            threadID: threadID, created: s.now.seconds)
        })
    }

    /// `PUT "/drafts/{id}"`
    @Sendable static func putDraft(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return .json(try ctx.write { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            // A sent message is not a draft (reference v2 l. 305).
            if try store.draft(grantID: account.id, id: ctx.param("id")) == nil, try store.message(grantID: account.id, id: ctx.param("id")) != nil {
                throw NylasError.invalidRequest("Message \(ctx.param("id")) is not a draft")
            }
            let d = try draft(store, account, ctx.param("id"))
            guard let version = try body.int("version") else { throw NylasError.invalidRequest("Must specify draft version") }
            guard version == d.version else {
                throw NylasError(status: 409, type: "invalid_request_error",
                                 message: "Draft \(d.id).\(version) has already been updated to version \(d.version)")
            }
            var merged = d.out
            try V2MessageInput.merge(body, into: &merged, account, s, store)
            return try save(s, store, account, id: d.id, merged, version: d.version + 1,
                            threadID: d.json["thread_id"]?.stringValue, created: d.createdAt)
        })
    }

    /// `DELETE "/drafts/{id}"`
    @Sendable static func deleteDraft(_ ctx: RequestContext) async throws -> SimResponse {
        let version = try ctx.body(allowEmpty: true).int("version")
        try ctx.write { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let d = try draft(store, account, ctx.param("id"))
            guard let version else { throw NylasError.invalidRequest("Must specify draft version") }
            guard version == d.version else {
                throw NylasError(status: 409, type: "invalid_request_error",
                                 message: "Draft \(d.id).\(version) has already been updated to version \(d.version)")
            }
            try store.deleteDraft(grantID: account.id, id: d.id)
            try store.appendV2Delta(accountID: account.id, object: "draft", event: "delete", objectID: d.id, attributes: .null,
                                    time: s.now.milliseconds)
        }
        return SimResponse(status: 200)
    }

    /// `POST "/files"`
    @Sendable static func postFiles(_ ctx: RequestContext) async throws -> SimResponse {
        let form = try MultipartForm(ctx.request)
        guard !form.parts.isEmpty else { throw NylasError.invalidRequest("No file part in the upload") }
        return .json(.array(try ctx.write { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            return try form.parts.map { part in
                let id = store.ids.base36("v2-file")
                let type = part.contentType ?? "application/octet-stream"
                try store.insertV2File(accountID: account.id, id: id, filename: part.filename ?? part.name, contentType: type,
                                       content: part.body, now: s.now.seconds)
                let file = fileJSON(id: id, account: account, filename: part.filename ?? part.name, type: type, size: part.body.count)
                try store.appendV2Delta(accountID: account.id, object: "file", event: "create", objectID: id, attributes: file,
                                        time: s.now.milliseconds)
                return file
            }
        }))
    }

    /// `GET "/files"`
    @Sendable static func listFiles(_ ctx: RequestContext) async throws -> SimResponse {
        let (limit, offset) = try ctx.query.v2Paging()
        let view = try ctx.query.v2View(expanded: false)
        return .json(try ctx.read { s, store -> JSON in
            let (account, _) = try ctx.v2Account(s, store)
            var files: [JSON]
            if let messageID = ctx.query["message_id"] {
                // `message_id` (v2 §6.5; the SDK's `Message.attachments`): the files attached to one message.
                guard let m = try store.message(grantID: account.id, id: messageID) else { return [] }
                files = m.attachments.map { attachmentFile($0, of: m, account: account) }
            } else {
                // Uploaded files, then the attachments of the account's messages (files too, §6.5).
                files = try store.v2Files(accountID: account.id).map {
                    fileJSON(id: $0.id, account: account, filename: $0.filename, type: $0.contentType, size: $0.size)
                }
                for m in try store.messagesWithAttachments(grantID: account.id) {
                    files += m.attachments.map { attachmentFile($0, of: m, account: account) }
                }
            }
            if let name = ctx.query["filename"] { files = files.filter { $0["filename"]?.stringValue == name } }
            if let type = ctx.query["content_type"] { files = files.filter { $0["content_type"]?.stringValue == type } }
            // `view=count` and `view=ids`, as on the other v2 lists (reference v2 §6.5).
            if view == "count" { return ["count": .int(files.count)] }
            let page = Array(files.dropFirst(offset).prefix(limit))
            if view == "ids" { return .array(page.compactMap { $0["id"] }) }
            return .array(page)
        })
    }

    /// `Content-Disposition` with the filename as is when it is plain ASCII, RFC 2047-encoded
    /// (`=?utf-8?B?…?=`) when it is not, as Nylas v2 sends it.
    static func disposition(_ filename: String) -> String {
        if filename.unicodeScalars.allSatisfy({ $0.isASCII && $0 != "\"" }) { return "attachment; filename=\(filename)" }
        return "attachment; filename=\"=?utf-8?B?\(Data(filename.utf8).base64EncodedString())?=\""
    }

    /// `GET "/files/{id}"`
    @Sendable static func getFile(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let f = try V2Files.file(s, store, account, ctx.param("id"))
            return fileJSON(id: f.id, account: account, filename: f.filename, type: f.type, size: f.content.count)
        })
    }

    /// `GET "/files/{id}/download"`
    @Sendable static func getDownload(_ ctx: RequestContext) async throws -> SimResponse {
        let f = try ctx.read { s, store in try V2Files.file(s, store, try ctx.v2Account(s, store).0, ctx.param("id")) }
        return SimResponse(status: 200, headers: ["Content-Type": "application/octet-stream",
                                                  "Content-Disposition": disposition(f.filename),
                                                  "Content-Length": String(f.content.count)], body: f.content)
    }

    /// `DELETE "/files/{id}"`
    @Sendable static func deleteFile(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            _ = try V2Files.file(s, store, account, ctx.param("id"))
            // An attachment of an existing message is not deleted (reference §6.5).
            guard try store.v2File(accountID: account.id, id: ctx.param("id")) != nil,
                  try !store.v2FileIsAttached(accountID: account.id, id: ctx.param("id")) else {
                throw NylasError.invalidRequest("Can't delete file that is attachment.")
            }
            try store.deleteV2File(accountID: account.id, id: ctx.param("id"))
        }
        return .json([:])
    }

    /// `GET /delta`
    @Sendable static func getDelta(_ ctx: RequestContext) async throws -> SimResponse { .json(try deltas(ctx)) }

    /// `GET /delta/longpoll`
    @Sendable static func getLongpoll(_ ctx: RequestContext) async throws -> SimResponse { .json(try await waitForDeltas(ctx)) }

    /// `POST "/delta/latest_cursor"`
    @Sendable static func postLatestCursor(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let seq = try store.lastV2DeltaSeq(accountID: account.id)
            return ["cursor": .string(cursor(seq))]
        })
    }

    /// `POST "/delta/generate_cursor"`
    @Sendable static func postGenerateCursor(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body(allowEmpty: true)
        guard let start = try body.int("start") else { throw NylasError.missingField("start") }
        return .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let seq = try store.lastV2DeltaSeq(accountID: account.id, before: Int64(start) * 1000)
            return ["cursor": .string(cursor(seq))]
        })
    }

    /// `GET "/delta/streaming"`
    /// Sent chunked while the connection lasts (reference v2 §6.12): each delta as one line as it
    /// is committed, a bare `\n` each idle second, until `timeout` (default 1800 s; virtual time
    /// with the manual clock, wall time with the running clock).
    @Sendable static func getStreaming(_ ctx: RequestContext) async throws -> SimResponse {
        // Checked before the answer starts: the cursor, the filters, the account.
        let first = try deltas(ctx)
        let timeout = Duration.seconds(Int(ctx.query["timeout"] ?? "1800") ?? 1800)
        var response = SimResponse(status: 200, headers: ["Content-Type": "text/event-stream"])
        // The stream's times start now, before the head goes out and the client can move the clock.
        let started = WaitClock(ctx.core)
        response.stream = { sink in
            var page = first
            var lastWrite = started
            while true {
                let items = page["deltas"]?.arrayValue ?? []
                if !items.isEmpty {
                    guard await sink.write(Array((items.map(\.text).joined(separator: "\n") + "\n").utf8)) else { return }
                    lastWrite = WaitClock(ctx.core)
                } else if lastWrite.elapsed >= .seconds(1) {
                    guard await sink.write([UInt8(ascii: "\n")]) else { return }
                    lastWrite = WaitClock(ctx.core)
                }
                if started.elapsed >= timeout { return }
                try? await Task.sleep(for: .milliseconds(20))
                guard let cursor = page["cursor_end"]?.stringValue, let next = try? deltas(ctx, cursor: cursor) else { return }
                page = next
            }
        }
        return response
    }

    // MARK: Helpers

    package static func cursor(_ seq: Int) -> String { "c" + String(seq, radix: 36).leftPad(12) }

    package static func parseCursor(_ c: String) throws(NylasError) -> Int {
        if c == "0" { return 0 }
        guard c.hasPrefix("c"), let n = Int(c.dropFirst().drop(while: { $0 == "0" }).isEmpty ? "0" : String(c.dropFirst().drop(while: { $0 == "0" })), radix: 36) else {
            throw NylasError.invalidRequest("Invalid cursor parameter")
        }
        return n
    }

    package static func deltas(_ ctx: RequestContext, cursor given: String? = nil) throws -> JSON {
        guard let c = given ?? ctx.query["cursor"] else { throw NylasError.missingField("cursor") }
        let start = try parseCursor(c)
        // `includeTypes`/`excludeTypes` are the SDKs' spellings of the same filters (reference v2 §6.12).
        let include = try ctx.query.list("include_types", max: InputLimits.filterValues) + ctx.query.list("includeTypes", max: InputLimits.filterValues)
        let exclude = try ctx.query.list("exclude_types", max: InputLimits.filterValues) + ctx.query.list("excluded_types", max: InputLimits.filterValues)
            + ctx.query.list("excludeTypes", max: InputLimits.filterValues)
        if !include.isEmpty, !exclude.isEmpty {
            throw NylasError.invalidRequest("Invalid Request. Cannot specify both include_types and exclude_types")
        }
        return try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let rows = try store.v2Deltas(accountID: account.id, after: start, limit: 100)
            var items: [JSON] = []
            for row in rows {
                if !include.isEmpty, !include.contains(row.object) { continue }
                if exclude.contains(row.object) { continue }
                var d: JSON = ["id": .string(row.objectID), "object": .string(row.object), "event": .string(row.event),
                               "cursor": .string(cursor(row.seq))]
                if row.event != "delete" { d["attributes"] = row.attributes }
                // Successive modifies of one object in a page collapse into the latest (reference v2 §6.12).
                if row.event == "modify", let last = items.lastIndex(where: { $0["id"]?.stringValue == row.objectID && $0["object"]?.stringValue == row.object }),
                   items[last]["event"]?.stringValue == "modify" {
                    items.remove(at: last)
                }
                items.append(d)
            }
            let end = rows.last.map { cursor($0.seq) } ?? cursor(start)
            return ["cursor_start": .string(cursor(start)), "cursor_end": .string(end), "deltas": .array(items)]
        }
    }

    /// Long-poll: answers when a change arrives or the timeout passes (virtual time with the manual
    /// clock, wall time with the running clock).
    package static func waitForDeltas(_ ctx: RequestContext) async throws -> JSON {
        let timeout = Duration.seconds(Int(ctx.query["timeout"] ?? "120") ?? 120)
        let started = WaitClock(ctx.core)
        while true {
            let page = try deltas(ctx)
            if page["deltas"]?.arrayValue?.isEmpty == false { return page }
            if started.elapsed >= timeout || ContinuousClock.now - started.wall > .seconds(600) { return page }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Time since a moment, as the delta waits count it: virtual time with the manual clock, wall
    /// time with the running clock.
    struct WaitClock {
        let core: Engine
        let virtual: VirtualTime
        let wall: ContinuousClock.Instant

        init(_ core: Engine) {
            self.core = core
            virtual = core.now
            wall = ContinuousClock.now
        }

        var elapsed: Duration {
            core.withState { $0.clock.mode == .manual } ? .milliseconds(core.now.milliseconds - virtual.milliseconds)
                : ContinuousClock.now - wall
        }
    }

    package static func save(_ s: EngineState, _ store: RegionStore, _ account: GrantRecord, id: String, _ out: OutgoingMessage,
                     version: Int, threadID: String?, created: Int) throws -> JSON {
        let object: JSON = [
            "id": .string(id), "object": "draft", "account_id": .string(account.id), "thread_id": .optional(threadID),
            "subject": .string(out.subject), "from": Participant.json(out.from.isEmpty ? [Participant(name: account.name ?? "", email: account.email)] : out.from),
            "to": Participant.json(out.to), "cc": Participant.json(out.cc), "bcc": Participant.json(out.bcc),
            "reply_to": Participant.json(out.replyTo), "body": .string(out.body), "snippet": .string(Snippet.make(out.body)),
            "date": .int(s.now.seconds), "unread": false, "starred": false, "version": .int(version),
            "reply_to_message_id": .optional(out.replyToMessageID), "metadata": .object(out.metadata),
            // Full file objects (reference §6.4): the files named by `file_ids`, with their IDs.
            "files": .array(out.files.map { fileJSON(id: $0.fileID ?? "", account: account, filename: $0.filename, type: $0.contentType,
                                                     size: $0.content.count) }),
        ]
        try store.saveDraft(grantID: account.id, id: id, message: out, object: object, createdAt: created, now: s.now.seconds)
        // Drafts are in the delta log like every other object (reference §6.12).
        try store.appendV2Delta(accountID: account.id, object: "draft", event: version == 0 ? "create" : "modify", objectID: id,
                                attributes: object, time: s.now.milliseconds)
        return object
    }


    package static func draft(_ store: RegionStore, _ account: GrantRecord, _ id: String) throws -> DraftRecord {
        guard let d = try store.draft(grantID: account.id, id: id) else { throw NylasError.notFound("Couldn't find draft \(id)") }
        return d
    }

    /// A message's attachment as a v2 file object (§6.5: with `message_ids` and `content_id`).
    package static func attachmentFile(_ a: JSON, of m: MessageRecord, account: GrantRecord) -> JSON {
        var o = fileJSON(id: a["id"]?.stringValue ?? "", account: account, filename: a["filename"]?.stringValue ?? "",
                         type: a["content_type"]?.stringValue ?? "application/octet-stream", size: a["size"]?.intValue ?? 0)
        o["message_ids"] = .strings([m.id])
        o["content_id"] = a["content_id"] ?? .null
        o["content_disposition"] = .string((a["is_inline"]?.boolValue ?? false) ? "inline" : "attachment")
        return o
    }

    package static func fileJSON(id: String, account: GrantRecord, filename: String, type: String, size: Int) -> JSON {
        ["id": .string(id), "object": "file", "account_id": .string(account.id), "content_type": .string(type),
         "filename": .string(filename), "size": .int(size), "content_id": .null, "content_disposition": "attachment"]
    }

}

extension String {
    package func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
