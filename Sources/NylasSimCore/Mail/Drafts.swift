import Foundation

/// v3 drafts: what a draft holds and how it is stored (the v3 draft routes and a scheduled send
/// with `use_draft` save them here).
package enum Drafts {
    /// Saves `out` as the draft `id` of the grant, in its Drafts folder; returns the draft object.
    package static func save(_ s: EngineState, _ store: RegionStore, _ grant: GrantRecord, id: String, _ out: OutgoingMessage, created: Int) throws -> JSON {
        var threadID = ""
        if let ref = out.replyToMessageID {
            guard let parent = try store.message(grantID: grant.id, id: ref) else {
                throw NylasError.invalidValue("reply_to_message_id", "no message \(ref) in this grant")
            }
            threadID = parent.threadID
        }
        let draftsFolder = try store.folder(grantID: grant.id, worldKey: ProviderKind.drafts)?.id
        var attachments: [JSON] = []
        for (i, f) in out.files.enumerated() {
            var a: JSON = ["id": .string("\(id)-att-\(i)"), "grant_id": .string(grant.id), "filename": .string(f.filename),
                           "content_type": .string(f.contentType), "size": .int(f.content.count), "is_inline": .bool(f.isInline)]
            if let cid = f.contentID { a["content_id"] = .string(cid) }
            attachments.append(a)
        }
        var object: JSON = [
            "id": .string(id), "grant_id": .string(grant.id), "object": "draft", "thread_id": .string(threadID),
            "subject": .string(out.subject), "body": .string(out.body), "snippet": .string(Snippet.make(out.body)),
            "from": Participant.json(out.from.isEmpty ? [Participant(name: grant.name ?? "", email: grant.email)] : out.from),
            "to": Participant.json(out.to), "cc": Participant.json(out.cc), "bcc": Participant.json(out.bcc),
            "reply_to": Participant.json(out.replyTo), "starred": .bool(out.starred), "unread": false,
            "folders": .strings(draftsFolder.map { [$0] } ?? []), "attachments": .array(attachments),
            "metadata": .object(out.metadata), "created_at": .int(created), "date": .int(s.now.seconds),
        ]
        if let r = out.replyToMessageID { object["reply_to_message_id"] = .string(r) }
        if let t = out.trackingOptions { object["tracking_options"] = t }
        // The description requires a non-empty snippet (minLength 1); a draft without a body has none.
        if Snippet.make(out.body).isEmpty { object["snippet"] = nil }
        try store.saveDraft(grantID: grant.id, id: id, message: out, object: object, createdAt: created, now: s.now.seconds)
        return object
    }
}
