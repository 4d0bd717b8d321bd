import Foundation
import NylasSimCore

/// The v2 wire form of a message to send (`/send`, `/drafts`, `/v2/outbox`) read into the
/// domain's `OutgoingMessage`.
package enum V2MessageInput {
    /// The message of a v2 send, draft or outbox body: recipients, subject, body, `file_ids`, and a
    /// reply's thread and subject as the v2 engine derives them.
    package static func parse(_ body: BodyFields, _ account: GrantRecord, _ s: EngineState, _ store: RegionStore) throws -> OutgoingMessage {
        var out = try OutgoingMessage.parse(body, jsonAttachments: false)
        // Reference v2 §4 (l. 304): one sender and one reply-to address at most.
        if out.from.count > 1 { throw NylasError.invalidValue("from", "a message has one sender") }
        if out.replyTo.count > 1 { throw NylasError.invalidValue("reply_to", "a message has one reply-to address") }
        // `tracking` (reference v2 §6.3): opens, links and thread replies, with a `payload` string
        // that the tracking notifications carry back; held as the domain's tracking options.
        if let tracking = try body.object("tracking") {
            let t = BodyFields(tracking)
            var options: [String: JSON] = [:]
            for key in ["opens", "links", "thread_replies"] { options[key] = .bool(try t.bool(key) ?? false) }
            if let payload = try t.string("payload") { options["label"] = .string(payload) }
            out.trackingOptions = .object(options)
        }
        for id in try body.stringArray("file_ids") ?? [] {
            let f = try V2Files.file(s, store, account, id)
            out.files.append(.init(filename: f.filename, contentType: f.type, content: f.content, contentID: nil, isInline: false,
                                   fileID: f.id))
        }
        // Replies, as the v2 engine's `create_message_from_json`: a reply to a message joins its thread; a draft
        // for a thread that names no message replies to the thread's last message; the subject defaults to theirs.
        let threadID = try body.string("thread_id")
        if let reply = try body.string("reply_to_message_id") {
            guard let m = try store.message(grantID: account.id, id: reply) else { throw NylasError.invalidRequest("Invalid id: \(reply)") }
            if let threadID, threadID != m.threadID { throw NylasError.invalidRequest("Message \(reply) is not in thread \(threadID)") }
            if !body.has("subject") { out.subject = m.subject }
        } else if let threadID {
            let messages = try store.messages(grantID: account.id, threadID: threadID)
            guard let first = messages.first, let last = messages.last else { throw NylasError.invalidRequest("Invalid thread id \(threadID)") }
            out.replyToMessageID = last.id
            if !body.has("subject") { out.subject = first.subject }
        }
        return out
    }

    /// A partial update of a saved message (a draft, an outbox job): the fields the body names replace theirs.
    package static func merge(_ body: BodyFields, into out: inout OutgoingMessage, _ account: GrantRecord, _ s: EngineState,
                      _ store: RegionStore) throws {
        let update = try parse(body, account, s, store)
        if body.has("to") { out.to = update.to }
        if body.has("cc") { out.cc = update.cc }
        if body.has("bcc") { out.bcc = update.bcc }
        if body.has("subject") { out.subject = update.subject }
        if body.has("body") { out.body = update.body }
        if body.has("file_ids") { out.files = update.files }
        if body.has("metadata") { out.metadata = update.metadata }
        if body.has("tracking") { out.trackingOptions = update.trackingOptions }
    }
}

/// Files of a v2 account: uploads and message attachments alike.
package enum V2Files {
    /// A file of the account by ID: an uploaded one, or a message attachment.
    package static func file(_ s: EngineState, _ store: RegionStore, _ account: GrantRecord, _ id: String) throws -> (id: String, filename: String, type: String, content: [UInt8]) {
        if let f = try store.v2File(accountID: account.id, id: id) { return (id, f.filename, f.contentType, f.content) }
        // A message attachment is a file too.
        if let key = try store.worldKey(grantID: account.id, kind: "attachment", id: id), let wid = Int64(key),
           let content = try s.world.attachmentContent(wid), let meta = try store.attachmentMetadata(grantID: account.id, id: id) {
            return (id, meta["filename"]?.stringValue ?? "attachment", meta["content_type"]?.stringValue ?? "application/octet-stream", content)
        }
        throw NylasError.notFound("Couldn't find file \(id)")
    }
}
