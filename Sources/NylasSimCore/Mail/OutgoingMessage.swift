import Foundation

/// A message to send (or a draft to save), read from a JSON or multipart request.
package struct OutgoingMessage: Sendable {
    package struct File: Sendable {
        package init(filename: String, contentType: String, content: [UInt8], contentID: String? = nil, isInline: Bool,
                     fileID: String? = nil) {
            self.fileID = fileID
            self.filename = filename
            self.contentType = contentType
            self.content = content
            self.contentID = contentID
            self.isInline = isInline
        }

        /// The v2 file (`POST /files`) it came from, named by `file_ids`.
        package var fileID: String?
        package var filename: String
        package var contentType: String
        package var content: [UInt8]
        package var contentID: String?
        package var isInline: Bool
    }

    package var to: [Participant] = []
    package var cc: [Participant] = []
    package var bcc: [Participant] = []
    package var replyTo: [Participant] = []
    package var from: [Participant] = []
    package var subject = ""
    package var body = ""
    package var starred = false
    package var files: [File] = []
    package var replyToMessageID: String?
    package var trackingOptions: JSON?
    package var customHeaders: [(String, String)] = []
    package var metadata: [String: JSON] = [:]
    package var sendAt: Int?
    package var useDraft = false
    /// A signature of the grant to append to the body (`signature_id`).
    package var signatureID: String?
    /// `{"id": …}` attachments (upload sessions), replaced by their files through `resolveUploads`.
    package var uploads: [UploadReference] = []

    /// JSON sends must stay under 3 MB of attachments; multipart takes up to the body limit.
    package static let jsonAttachmentLimit = 3 * 1024 * 1024

    package static func parse(_ b: BodyFields, jsonAttachments: Bool) throws(NylasError) -> OutgoingMessage {
        var m = OutgoingMessage()
        m.to = try EmailAddress.list(b, "to")
        m.cc = try EmailAddress.list(b, "cc")
        m.bcc = try EmailAddress.list(b, "bcc")
        try InputLimits.check(m.to.count + m.cc.count + m.bcc.count, InputLimits.recipients, "to", "recipients in to, cc and bcc together")
        m.replyTo = try EmailAddress.list(b, "reply_to")
        try InputLimits.check(m.replyTo.count, InputLimits.replyTo, "reply_to", "addresses")
        m.from = try EmailAddress.list(b, "from")
        m.subject = try b.string("subject") ?? ""
        m.body = try b.string("body") ?? ""
        m.starred = try b.bool("starred") ?? false
        m.replyToMessageID = try b.string("reply_to_message_id")
        m.trackingOptions = try b.object("tracking_options").map(JSON.object)
        if let label = m.trackingOptions?["label"] {
            guard let text = label.stringValue else { throw NylasError.wrongType("tracking_options.label", expected: "string", got: label) }
            guard text.count <= 2048 else { throw NylasError.invalidValue("tracking_options.label", "at most 2048 characters") }
        }
        m.metadata = try b.metadata() ?? [:]
        m.sendAt = try b.int("send_at")
        m.useDraft = try b.bool("use_draft") ?? false
        m.signatureID = try b.string("signature_id")
        let headers = try b.array("custom_headers") ?? []
        try InputLimits.check(headers.count, InputLimits.customHeaders, "custom_headers", "headers")
        for (i, h) in headers.enumerated() {
            guard case .object(let o) = h else { throw NylasError.wrongType("custom_headers[\(i)]", expected: "object", got: h) }
            let f = BodyFields(o)
            m.customHeaders.append((try f.requiredString("name"), try f.requiredString("value")))
        }
        var total = 0
        let attachments = try b.array("attachments") ?? []
        try InputLimits.check(attachments.count, InputLimits.attachments, "attachments", "attachments")
        for (i, item) in attachments.enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("attachments[\(i)]", expected: "object", got: item) }
            let f = BodyFields(o)
            if o["content"] == nil, let uploadID = try f.string("id") {
                m.uploads.append(UploadReference(item: i, position: m.files.count, id: uploadID,
                                                 contentID: try f.string("content_id"), isInline: try f.bool("is_inline")))
                continue
            }
            if !jsonAttachments { continue }
            let filename = try f.string("filename") ?? "attachment-\(i + 1)"
            guard let content = try f.string("content") else { throw NylasError.missingField("attachments[\(i)].content") }
            guard let data = Data(base64Encoded: content, options: .ignoreUnknownCharacters) else {
                throw NylasError.invalidValue("attachments[\(i)].content", "not valid base64")
            }
            total += data.count
            m.files.append(File(filename: filename, contentType: try f.string("content_type") ?? "application/octet-stream",
                                content: Array(data), contentID: try f.string("content_id"), isInline: try f.bool("is_inline") ?? false))
        }
        if total > jsonAttachmentLimit {
            throw NylasError(status: 413, type: "invalid_request_error",
                             message: "Attachments in a JSON body are limited to 3 MB in total; send with multipart/form-data for up to 25 MB")
        }
        return m
    }

    /// Stored form (schedules, drafts).
    package var json: JSON {
        [
            "to": Participant.json(to), "cc": Participant.json(cc), "bcc": Participant.json(bcc), "reply_to": Participant.json(replyTo),
            "from": Participant.json(from), "subject": .string(subject), "body": .string(body), "starred": .bool(starred),
            "reply_to_message_id": .optional(replyToMessageID), "tracking_options": trackingOptions ?? .null,
            "custom_headers": .array(customHeaders.map { ["name": .string($0.0), "value": .string($0.1)] }),
            "metadata": .object(metadata), "send_at": .optional(sendAt), "use_draft": .bool(useDraft),
            "files": .array(files.map { ["filename": .string($0.filename), "content_type": .string($0.contentType),
                                         "content": .string(Data($0.content).base64EncodedString()),
                                         "content_id": .optional($0.contentID), "is_inline": .bool($0.isInline),
                                         "file_id": .optional($0.fileID)] }),
        ]
    }

    package init() {}

    package init(stored j: JSON) {
        to = Participant.list(j["to"])
        cc = Participant.list(j["cc"])
        bcc = Participant.list(j["bcc"])
        replyTo = Participant.list(j["reply_to"])
        from = Participant.list(j["from"])
        subject = j["subject"]?.stringValue ?? ""
        body = j["body"]?.stringValue ?? ""
        starred = j["starred"]?.boolValue ?? false
        replyToMessageID = j["reply_to_message_id"]?.stringValue
        trackingOptions = j["tracking_options"].flatMap { $0.isNull ? JSON?.none : $0 }
        customHeaders = (j["custom_headers"]?.arrayValue ?? []).compactMap { h in
            guard let n = h["name"]?.stringValue, let v = h["value"]?.stringValue else { return nil }
            return (n, v)
        }
        metadata = j["metadata"]?.objectValue ?? [:]
        sendAt = j["send_at"]?.intValue
        useDraft = j["use_draft"]?.boolValue ?? false
        files = (j["files"]?.arrayValue ?? []).map { f in
            File(filename: f["filename"]?.stringValue ?? "", contentType: f["content_type"]?.stringValue ?? "application/octet-stream",
                 content: Array(Data(base64Encoded: f["content"]?.stringValue ?? "") ?? Data()),
                 contentID: f["content_id"]?.stringValue, isInline: f["is_inline"]?.boolValue ?? false,
                 fileID: f["file_id"]?.stringValue)
        }
    }
}

/// Sending: into the sender's Sent folder (at once for push providers, after the IMAP delay
/// otherwise), into recipients' inboxes when they are mailboxes of the world, and back to the
/// grant under the ID its later sync will use.
package enum MailSender {
    package static func send(_ s: EngineState, region: Region, grant: GrantRecord, _ out: OutgoingMessage) throws -> MessageRecord {
        guard !(out.to + out.cc + out.bcc).isEmpty else { throw NylasError.missingField("to") }
        let store = s.store(region)
        let provider = ProviderKind(grant.provider)
        var inReplyTo: String?
        if let ref = out.replyToMessageID {
            // Seed 004: "You can use V2 message_id as the reply_to_message value if your apps are
            // linked": the v2 account's message ID stands for the grant's message.
            let linked = grant.accountID == nil ? nil : try store.v3ID(forV2: ref, kind: "message", grant: grant)
            if let parent = try store.message(grantID: grant.id, id: ref) ?? linked.flatMap({ try store.message(grantID: grant.id, id: $0) }) {
                inReplyTo = parent.messageIDHeader
            } else if provider.isIMAPFamily, ref.hasPrefix("<") {
                inReplyTo = ref
            } else {
                throw NylasError.invalidValue("reply_to_message_id", "no message \(ref) in this grant")
            }
        }
        let mailbox = try s.world.ensureMailbox(grant.email, provider: grant.provider, now: s.now.seconds)
        let from = out.from.isEmpty ? [Participant(name: grant.name ?? mailbox.name, email: grant.email)] : out.from
        var new = NewMessage(from: from, to: out.to, subject: out.subject, body: out.body, date: s.now.seconds)
        // Tracked opens and links: the pixel and the rewritten links are in every copy, as sent.
        let tracking = Tracking.Options(out.trackingOptions)
        let instrumented = tracking.map { Tracking.instrument(s, region: region, body: out.body, options: $0) }
        if let instrumented { new.body = instrumented.body }
        new.cc = out.cc
        new.bcc = out.bcc
        new.replyTo = out.replyTo
        new.unread = false
        new.starred = out.starred
        new.folders = [ProviderKind.sent]
        new.headers = out.customHeaders
        new.inReplyTo = inReplyTo
        new.attachments = out.files.map { ($0.filename, $0.contentType, $0.content, $0.contentID, $0.isInline) }
        let availableAt = provider.isPush ? s.now : s.now + s.settings.imapSentDelay
        let sent = try s.world.insert(new, mailbox: grant.email, time: s.now, availableAt: availableAt)
        // Recipients that are mailboxes of the world receive it.
        var delivered = Set<String>()
        for r in out.to + out.cc + out.bcc {
            let email = r.email.lowercased()
            guard email != grant.email.lowercased(), delivered.insert(email).inserted, try s.world.mailbox(email) != nil else { continue }
            var copy = new
            copy.folders = [ProviderKind.inbox]
            copy.unread = true
            copy.messageIDHeader = sent.messageIDHeader
            copy.inReplyTo = inReplyTo
            try s.world.insert(copy, mailbox: email, time: s.now)
            try SyncEngine.mailboxChanged(s, mailbox: email)
        }
        var record = try SyncEngine.record(s, region: region, grant: grant, message: sent)
        if let tracking, let instrumented {
            try Tracking.save(store, token: instrumented.token, grant: grant, message: record, links: instrumented.links,
                              options: tracking)
        }
        record.metadata = out.metadata
        record.trackingOptions = out.trackingOptions
        // The sender's own push sync saves this record (with its metadata) rather than reading
        // the message back; a sync that could not use it saved one without.
        let handoff = SyncEngine.SentMessage(region: region, grantID: grant.id, message: sent, record: record)
        try SyncEngine.mailboxChanged(s, mailbox: grant.email, sent: handoff)
        if !out.metadata.isEmpty || out.trackingOptions != nil, !handoff.applied, var synced = try store.message(grantID: grant.id, id: record.id) {
            synced.metadata = out.metadata
            synced.trackingOptions = out.trackingOptions
            try store.save(synced)
        }
        Bounces.afterSend(s, region: region, grant: grant, record: record, out)
        return record
    }

    /// The send response object.
    package static func response(_ record: MessageRecord, _ out: OutgoingMessage, scheduleID: String = "") -> JSON {
        var o = record.json()
        o["schedule_id"] = .string(scheduleID)
        if let r = out.replyToMessageID { o["reply_to_message_id"] = .string(r) }
        if let t = out.trackingOptions { o["tracking_options"] = t }
        return o
    }
}

extension OutgoingMessage {
    /// Appends the named signature once (Nylas: after a line break at the end of the body).
    package mutating func applySignature(_ store: RegionStore, grantID: String) throws {
        guard let id = signatureID else { return }
        body = try Signatures.append(store, grantID: grantID, signatureID: id, to: body)
        signatureID = nil
    }
}
