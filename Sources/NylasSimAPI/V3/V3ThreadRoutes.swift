import Foundation
import NylasSimCore

/// `/v3/grants/{grant_id}/threads` (§4.10): threads derived from the grant's messages and drafts.
package enum V3ThreadRoutes {
    package static let base = "/v3/grants/{grant_id}/threads"

    package static func register(_ r: inout Router) {
        r.add("GET", base, .v3, list)
        r.add("GET", base + "/{thread_id}", .v3, get)
        r.add("PUT", base + "/{thread_id}", .v3, update)
        r.add("DELETE", base + "/{thread_id}", .v3, delete)
    }

    /// `GET base`
    @Sendable static func list(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.rejectV2Parameters()
        let q = ctx.query
        let limit = try ctx.limit(default: 20, max: 50)
        let cursor = try q["page_token"].map { t throws(NylasError) -> (latest: Int, id: String) in
            let parts = try PageToken.parse(t, count: 2)
            guard let date = Int(parts[0]) else { throw NylasError.invalidRequest("Invalid page_token") }
            return (date, parts[1])
        }
        return try ctx.read { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            var filter = ThreadFilter(messages: try ctx.v3MessageFilter(grant: grant, store: store))
            filter.latestAfter = try q.int("latest_message_after")
            filter.latestBefore = try q.int("latest_message_before")
            // The same page of the same mail is kept rendered (the key is the whole query); a page
            // rendered anew takes each thread's rendering kept since its messages last changed, and
            // reads the members of the others in one statement.
            return try ctx.keptPage(store, key: "threads\u{1}\(grant.id)\u{1}\(q.encoded)", render: {
                let select = ctx.query.list("select").joined(separator: ",")
                let rows = try store.threads(grantID: grant.id, matching: filter, after: cursor, limit: limit + 1)
                let page = rows.prefix(limit)
                var members: [String: [RegionStore.ThreadMember]]?
                let items = try page.compactMap { t in
                    try store.keptThread(key: "thread-item\u{1}\(grant.id)\u{1}\(t.threadID)\u{1}\(select)", grantID: grant.id,
                                         threadID: t.threadID, render: {
                        if members == nil { members = try store.threadMembers(grantID: grant.id, threadIDs: page.map(\.threadID)) }
                        let own = members?[t.threadID] ?? []
                        return try thread(store, grant, t.threadID, members: own).map { (ctx.selecting($0).bytes, own.map(\.row)) }
                    })
                }
                let next = rows.count > limit ? page.last.map { PageToken.make([String($0.latest), $0.threadID]) } : nil
                return (items, next)
            })
        }
    }

    /// `GET base + "/{thread_id}"`
    @Sendable static func get(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.read { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            let id = try ctx.objectID("thread_id", kind: "thread", grant: grant, store: store)
            guard let answer = try ctx.keptThreadAnswer(store, key: "thread\u{1}\(grant.id)\u{1}\(id)\u{1}\(ctx.query.encoded)",
                                                        grantID: grant.id, threadID: id, render: {
                let members = try store.threadMembers(grantID: grant.id, threadIDs: [id])[id] ?? []
                return try thread(store, grant, id, members: members).map { (["data": ctx.selecting($0)], members.map(\.row)) }
            }) else {
                throw NylasError.notFound("Thread not found: \(ctx.param("thread_id"))")
            }
            return answer
        }
    }

    /// `PUT base + "/{thread_id}"`
    @Sendable static func update(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        try body.rejectUnknown(["unread", "starred", "folders"])
        let unread = try body.bool("unread")
        let starred = try body.bool("starred")
        let folders = try body.stringArray("folders")
        return ctx.data(try ctx.write { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            let messages = try store.messages(grantID: grant.id, threadID: ctx.param("thread_id"))
            guard !messages.isEmpty else { throw NylasError.notFound("Thread not found: \(ctx.param("thread_id"))") }
            let keys = try folders.map { try MessageOperations.folderKeys($0, grant: grant, store: store) }
            for m in messages {
                _ = try MessageOperations.change(s, ctx.region, grant, m, unread: unread, starred: starred, folderKeys: keys, metadata: nil)
            }
            return ctx.selecting(try thread(store, grant, ctx.param("thread_id")) ?? .null)
        })
    }

    /// `DELETE base + "/{thread_id}"`
    @Sendable static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            let messages = try store.messages(grantID: grant.id, threadID: ctx.param("thread_id"))
            guard !messages.isEmpty else { throw NylasError.notFound("Thread not found: \(ctx.param("thread_id"))") }
            for m in messages {
                _ = try MessageOperations.change(s, ctx.region, grant, m, unread: nil, starred: nil,
                                                    folderKeys: [ProviderKind.trash], metadata: nil)
            }
        }
        return ctx.done()
    }

    /// The thread object (§5.4), derived from its messages and drafts.
    package static func thread(_ store: RegionStore, _ grant: GrantRecord, _ id: String) throws -> JSON? {
        try thread(store, grant, id, members: store.threadMembers(grantID: grant.id, threadIDs: [id])[id] ?? [])
    }

    /// The thread of `messages` (its members, oldest first, as `RegionStore.threadMembers` reads
    /// them); only the latest is read whole, for `latest_draft_or_message`.
    static func thread(_ store: RegionStore, _ grant: GrantRecord, _ id: String,
                       members messages: [RegionStore.ThreadMember]) throws -> JSON? {
        guard let first = messages.first, let latest = try store.message(grantID: grant.id, id: messages.last!.id) else { return nil }
        let drafts = try store.draftObjects(grantID: grant.id, threadID: id)
        var participants: [Participant] = []
        for m in messages { for p in m.from + m.to + m.cc + m.bcc where !participants.contains(where: { $0.email.lowercased() == p.email.lowercased() }) { participants.append(p) } }
        var folders: [String] = []
        for m in messages { for f in m.folders where !folders.contains(f) { folders.append(f) } }
        let received = messages.filter { !$0.from.contains { $0.email.lowercased() == grant.email.lowercased() } }
        let sent = messages.filter { $0.from.contains { $0.email.lowercased() == grant.email.lowercased() } }
        var latestObject = latest.json()
        if let d = drafts.last, (d["created_at"]?.intValue ?? 0) > latest.date { latestObject = d }
        var o: JSON = [
            "id": .string(id), "grant_id": .string(grant.id), "object": "thread",
            "has_drafts": .bool(!drafts.isEmpty), "starred": .bool(messages.contains { $0.starred }),
            "unread": .bool(messages.contains { $0.unread }), "has_attachments": .bool(messages.contains { $0.hasAttachments }),
            "message_ids": .strings(messages.map(\.id)), "draft_ids": .strings(drafts.compactMap { $0["id"]?.stringValue }),
            "folders": .strings(folders), "participants": Participant.json(participants), "subject": .string(first.subject),
            "snippet": .string(latest.snippet), "earliest_message_date": .int(first.date), "latest_draft_or_message": latestObject,
        ]
        if let r = received.last { o["latest_message_received_date"] = .int(r.date) }
        if let s = sent.last { o["latest_message_sent_date"] = .int(s.date) }
        return o
    }
}
