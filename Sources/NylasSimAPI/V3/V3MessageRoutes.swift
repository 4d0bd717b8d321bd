import Foundation
import NylasSimCore

/// `/v3/grants/{grant_id}/messages` (reference §4.8): list with filters and keyset pagination,
/// get, update, delete, send (JSON and multipart), scheduled sends, clean.
package enum V3MessageRoutes {
    package static let base = "/v3/grants/{grant_id}/messages"
    package static let fieldsValues: Set<String> = ["standard", "include_headers", "include_basic_headers", "include_tracking_options", "raw_mime"]

    package static func register(_ r: inout Router) {
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

    @Sendable package static func list(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.rejectV2Parameters()
        let limit = try ctx.limit(default: 50, max: 200)
        let fields = try messageFields(ctx)
        let cursor = try ctx.query["page_token"].map { t throws(NylasError) -> (date: Int, id: String) in
            let parts = try PageToken.parse(t, count: 2)
            guard let date = Int(parts[0]) else { throw NylasError.invalidRequest("Invalid page_token") }
            return (date, parts[1])
        }
        return try ctx.read { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            let filter = try ctx.v3MessageFilter(grant: grant, store: store)
            // The same page of the same mail is kept rendered (the key is the whole query); a page
            // rendered anew takes each message's rendering kept since its row last changed.
            let key = "messages\u{1}\(grant.id)\u{1}\(grant.provider)\u{1}\(ctx.request.query.encoded)"
            return try ctx.keptPage(store, key: key, render: {
                let options = "\(grant.provider)\u{1}\(fields)\u{1}\(ctx.query.list("select").joined(separator: ","))"
                let rows = try store.messagePage(grantID: grant.id, matching: filter, after: cursor, limit: limit + 1)
                let page = rows.prefix(limit)
                let next = rows.count > limit ? page.last.map { PageToken.make([String($0.date), $0.id]) } : nil
                let items = try page.compactMap { r in
                    try store.keptMessage(key: "item\u{1}\(grant.id)\u{1}\(r.id)\u{1}\(options)", render: {
                        try store.messageAndRow(grantID: grant.id, id: r.id).map { m, row in
                            (ctx.selecting(render(m, fields: fields, provider: grant.provider)).bytes, row)
                        }
                    })
                }
                return (items, next)
            })
        }
    }

    /// `fields`: one of `fieldsValues`. `raw_mime` is refused unless `SimulatorSettings.rawMIMEReads`:
    /// seed 004 says "Fetching or sending RAW messages is not supported" (use `include_headers`),
    /// while the v3 reference lists the value.
    package static func messageFields(_ ctx: RequestContext) throws -> String {
        let fields = ctx.query["fields"] ?? "standard"
        guard fieldsValues.contains(fields) else { throw NylasError.invalidValue("fields", "unknown value '\(fields)'") }
        if fields == "raw_mime", !ctx.core.withState({ $0.settings.rawMIMEReads }) {
            throw NylasError.invalidValue("fields", "raw messages are not supported: use fields=include_headers")
        }
        return fields
    }

    package static func render(_ m: MessageRecord, fields: String, provider: String? = nil) -> JSON {
        var o = renderFields(m, fields: fields)
        // `in_reply_to` is an EWS field (reference §5.2): the message's In-Reply-To header.
        if provider == "ews", fields != "raw_mime", let r = m.headers.first(where: { $0.0.lowercased() == "in-reply-to" })?.1 {
            o["in_reply_to"] = .string(r)
        }
        return o
    }

    private static func renderFields(_ m: MessageRecord, fields: String) -> JSON {
        switch fields {
        case "include_headers": return m.json(includeHeaders: true)
        case "include_basic_headers":
            var o = m.json()
            o["headers"] = .array(m.headers.filter { ["message-id", "in-reply-to", "references"].contains($0.0.lowercased()) }
                .map { ["name": .string($0.0), "value": .string($0.1)] })
            return o
        case "include_tracking_options":
            var o = m.json()
            if let t = m.trackingOptions { o["tracking_options"] = t }
            return o
        case "raw_mime":
            return ["id": .string(m.id), "grant_id": .string(m.grantID), "object": "message",
                    "raw_mime": .string(Base64URL.encode(Array(MIME.render(m).utf8)))]
        default: return m.json()
        }
    }

    // MARK: One message

    @Sendable package static func get(_ ctx: RequestContext) async throws -> SimResponse {
        let fields = try messageFields(ctx)
        return try ctx.read { s, store in
            // The grant, the caller's rights and the ID are checked on every request; the answer is
            // kept rendered until the message's row changes.
            let grant = try ctx.dataGrant(s, store, mail: true)
            let id = try ctx.objectID("message_id", kind: "message", grant: grant, store: store)
            let key = "message\u{1}\(grant.id)\u{1}\(id)\u{1}\(grant.provider)\u{1}\(ctx.request.query.encoded)"
            guard let answer = try ctx.keptMessageAnswer(store, key: key, render: {
                try store.messageAndRow(grantID: grant.id, id: id).map { m, row in
                    (["data": ctx.selecting(render(m, fields: fields, provider: grant.provider))], row)
                }
            }) else {
                throw NylasError.notFound("Message not found: \(ctx.param("message_id"))")
            }
            return answer
        }
    }

    @Sendable package static func update(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        try body.rejectUnknown(["unread", "starred", "folders", "metadata"])
        let unread = try body.bool("unread")
        let starred = try body.bool("starred")
        let folders = try body.stringArray("folders")
        let metadata = try body.metadata()
        return ctx.data(try ctx.write { s, store in
            let (grant, m) = try ctx.v3Message(s, store)
            let keys = try folders.map { try MessageOperations.folderKeys($0, grant: grant, store: store) }
            return ctx.selecting(try MessageOperations.change(s, ctx.region, grant, m, unread: unread, starred: starred, folderKeys: keys,
                                                              metadata: metadata).json())
        })
    }

    @Sendable package static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        let hard = try ctx.query.bool("hard_delete") ?? false
        try ctx.write { s, store in
            let (grant, m) = try ctx.v3Message(s, store)
            try MessageOperations.delete(s, ctx.region, grant, m, hard: hard)
        }
        return ctx.done()
    }

    // MARK: Send

    @Sendable package static func send(_ ctx: RequestContext) async throws -> SimResponse {
        if ctx.query["type"] == "mime" {
            throw NylasError.invalidRequest("Raw MIME sending is not supported: send a JSON or multipart message and set custom_headers")
        }
        let out = try ctx.v3OutgoingMessage()
        // `fields` of a synchronous send (reference §4.8): `include_headers` answers the message's headers.
        let fields = try messageFields(ctx)
        if out.useDraft, out.sendAt == nil {
            throw NylasError.invalidValue("use_draft", "only with send_at: a scheduled message may wait in Drafts")
        }
        let key = ctx.request.header("idempotency-key")
        if let key, key.count > 256 {
            throw NylasError(status: 400, type: "api.invalid_idempotency_key", message: "Idempotency-Key must be 256 characters or fewer.")
        }
        // The answer is built under the lock and written out after it: a 24 MiB body is serialized
        // while other requests go on.
        // One write: the scope and outbound rule checks (a blocked send commits only its
        // evaluation, and is answered 403 after), then the send.
        let result = try ctx.write { s, store -> (JSON, Int)? in
            let grant = try ctx.dataGrant(s, store, mail: true)
            let verdict = try ctx.outboundVerdict(s, grant, out)
            if verdict?.blocked == true { return nil }
            var out = out
            try out.applySignature(store, grantID: grant.id)
            if let key {
                let fingerprint = ctx.request.body
                if let cached = s.idempotency["\(grant.id)|\(key)"] {
                    guard cached.request == fingerprint else {
                        throw NylasError(status: 409, type: "api.invalid_idempotent_request",
                                         message: "The Idempotency-Key was already used with a different request")
                    }
                    return (cached.answer, cached.status)
                }
            }
            let response: (JSON, Int)
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
                response = (["request_id": .string(ctx.requestID), "grant_id": .string(grant.id), "schedule_id": .string(schedule),
                             "data": o], 202)
            } else {
                let record = try MailSender.send(s, region: ctx.region, grant: grant, out)
                if let verdict { try OutboundRules.save(s, region: ctx.region, grant: grant, verdict, messageID: record.id) }
                var data = MailSender.response(record, out)
                if fields == "include_headers" || fields == "include_basic_headers" { data["headers"] = render(record, fields: fields)["headers"] }
                response = (["request_id": .string(ctx.requestID), "grant_id": .string(grant.id), "data": data], 200)
            }
            if let key { s.idempotency["\(grant.id)|\(key)"] = (ctx.request.body, response.0, response.1) }
            return response
        }
        guard let (answer, status) = result else { throw RequestContext.blockedSend }
        return .json(answer, status: status)
    }

    // MARK: Schedules

    @Sendable package static func listSchedules(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(.array(try ctx.read { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            return try Schedules.all(store, grantID: grant.id)
        }))
    }

    @Sendable package static func getSchedule(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            guard let sch = try Schedules.one(store, grantID: grant.id, id: ctx.param("schedule_id")) else {
                throw NylasError.notFound("Schedule not found: \(ctx.param("schedule_id"))")
            }
            return sch
        })
    }

    @Sendable package static func cancelSchedule(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            try Schedules.cancel(s, store, grantID: grant.id, id: ctx.param("schedule_id"))
        }
        return ctx.data(["message": "requested cancelation for workflow"], status: 202)
    }

    // MARK: Clean

    @Sendable package static func clean(_ ctx: RequestContext) async throws -> SimResponse {
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

