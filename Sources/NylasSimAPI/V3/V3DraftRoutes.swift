import Foundation
import NylasSimCore

/// `/v3/grants/{grant_id}/drafts` (§4.9): CRUD, JSON and multipart, and sending a draft.
package enum V3DraftRoutes {
    package static let base = "/v3/grants/{grant_id}/drafts"

    package static func register(_ r: inout Router) {
        r.add("GET", base, .v3, list)
        r.add("POST", base, .v3, create)
        r.add("GET", base + "/{draft_id}", .v3, get)
        r.add("PUT", base + "/{draft_id}", .v3, update)
        r.add("DELETE", base + "/{draft_id}", .v3, delete)
        r.add("POST", base + "/{draft_id}", .v3, send)
    }

    /// `GET base`
    @Sendable static func list(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.rejectV2Parameters()
        let q = ctx.query
        let limit = try ctx.limit(default: 50, max: 200)
        let offset = try q["page_token"].map { t throws(NylasError) -> Int in
            guard let n = Int(try PageToken.parse(t, count: 1)[0]) else { throw NylasError.invalidRequest("Invalid page_token") }
            return n
        } ?? 0
        let pairs = try CalendarAccess.metadataPairs(q)
        let (items, next) = try ctx.read { s, store -> ([JSON], String?) in
            let grant = try ctx.dataGrant(s, store, mail: true)
            var all = try store.draftObjects(grantID: grant.id)
            if let subject = q["subject"]?.lowercased() { all = all.filter { ($0["subject"]?.stringValue ?? "").lowercased().contains(subject) } }
            for key in ["to", "cc", "bcc"] {
                for email in try q.list(key, max: InputLimits.filterValues) { all = all.filter { Participant.list($0[key]).contains { $0.email.lowercased() == email.lowercased() } } }
            }
            let any = try q.list("any_email", max: InputLimits.anyEmail).map { $0.lowercased() }
            if !any.isEmpty {
                all = all.filter { d in (Participant.list(d["to"]) + Participant.list(d["cc"]) + Participant.list(d["bcc"])).contains { any.contains($0.email.lowercased()) } }
            }
            if let starred = try q.bool("starred") { all = all.filter { $0["starred"]?.boolValue == starred } }
            if let thread = q["thread_id"] { all = all.filter { $0["thread_id"]?.stringValue == thread } }
            if let has = try q.bool("has_attachment") { all = all.filter { ($0["attachments"]?.arrayValue?.isEmpty == false) == has } }
            if !pairs.isEmpty { all = all.filter { CalendarAccess.matches($0["metadata"]?.objectValue ?? [:], pairs) } }
            let page = Array(all.dropFirst(offset).prefix(limit))
            let next = offset + limit < all.count ? PageToken.make([String(offset + limit)]) : nil
            return (page.map { ctx.selecting($0) }, next)
        }
        return ctx.list(items, nextCursor: next)
    }

    /// `POST base`
    @Sendable static func create(_ ctx: RequestContext) async throws -> SimResponse {
        var out = try ctx.v3OutgoingMessage()
        return ctx.data(try ctx.write { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            try out.applySignature(store, grantID: grant.id)
            let id = try store.mintID(grant: grant, kind: "draft", worldKey: "draft:" + store.ids.base36("draft-key", length: 12))
            return try Drafts.save(s, store, grant, id: id, out, created: s.now.seconds)
        })
    }

    /// `GET base + "/{draft_id}"`
    @Sendable static func get(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            return ctx.selecting(try draft(store, grant, try ctx.objectID("draft_id", kind: "draft", grant: grant, store: store)).json)
        })
    }

    /// `PUT base + "/{draft_id}"`
    @Sendable static func update(_ ctx: RequestContext) async throws -> SimResponse {
        let update = try ctx.v3OutgoingMessage()
        let raw = ctx.request.header("content-type")?.lowercased().hasPrefix("multipart/") == true ? nil : try? ctx.body()
        return ctx.data(try ctx.write { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            let existing = try draft(store, grant, ctx.param("draft_id"))
            var merged = existing.out
            let given = raw?.values ?? [:]
            if given["to"] != nil { merged.to = update.to }
            if given["cc"] != nil { merged.cc = update.cc }
            if given["bcc"] != nil { merged.bcc = update.bcc }
            if given["reply_to"] != nil { merged.replyTo = update.replyTo }
            if given["from"] != nil { merged.from = update.from }
            if given["subject"] != nil { merged.subject = update.subject }
            if given["body"] != nil { merged.body = update.body }
            if given["starred"] != nil { merged.starred = update.starred }
            if given["metadata"] != nil { merged.metadata = update.metadata }
            if given["tracking_options"] != nil { merged.trackingOptions = update.trackingOptions }
            if given["reply_to_message_id"] != nil { merged.replyToMessageID = update.replyToMessageID }
            if given["attachments"] != nil || raw == nil { merged.files = update.files }
            if raw == nil { merged = update }
            return ctx.selecting(try Drafts.save(s, store, grant, id: existing.id, merged, created: existing.createdAt))
        })
    }

    /// `DELETE base + "/{draft_id}"`
    @Sendable static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            _ = try draft(store, grant, ctx.param("draft_id"))
            try store.deleteDraft(grantID: grant.id, id: ctx.param("draft_id"))
        }
        return ctx.done()
    }

    /// `POST base + "/{draft_id}"`
    @Sendable static func send(_ ctx: RequestContext) async throws -> SimResponse {
        // An optional body: `signature_id` adds a signature at send time.
        let signature = try ctx.body(allowEmpty: true).string("signature_id")
        // One write, as a message send: checks and outbound rules (a blocked send commits only its evaluation), the send.
        let sent = try ctx.write { s, store -> JSON? in
            let grant = try ctx.dataGrant(s, store, mail: true)
            let d = try draft(store, grant, ctx.param("draft_id"))
            var out = d.out
            let verdict = try ctx.outboundVerdict(s, grant, out)
            if verdict?.blocked == true { return nil }
            out.signatureID = signature
            try out.applySignature(store, grantID: grant.id)
            let record = try MailSender.send(s, region: ctx.region, grant: grant, out)
            if let verdict { try OutboundRules.save(s, region: ctx.region, grant: grant, verdict, messageID: record.id) }
            try store.deleteDraft(grantID: grant.id, id: d.id)
            return MailSender.response(record, out)
        }
        guard let sent else { throw RequestContext.blockedSend }
        return ctx.data(sent)
    }

    package static func draft(_ store: RegionStore, _ grant: GrantRecord, _ id: String) throws -> DraftRecord {
        guard let d = try store.draft(grantID: grant.id, id: id) else { throw NylasError.notFound("Draft not found: \(id)") }
        return d
    }
}
