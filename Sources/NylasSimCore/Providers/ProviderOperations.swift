import Foundation

/// Changes to the provider world made "from outside", as the user's provider would: mail
/// arriving, the user acting in their own mail client, credentials changing, outages. The
/// control API, the Swift API and scenarios all call these.
extension Engine {
    /// Creates a mailbox (no-op when it exists).
    package func createMailbox(email: String, provider: String?, name: String?) throws -> JSON {
        guard email.contains("@") else { throw NylasError.invalidValue("email", "'\(email)' is not an email address") }
        let provider = provider ?? ProviderDetection.detect(email)
        guard ProviderKind.connectorNames.contains(provider) else { throw NylasError.invalidValue("provider", "unknown provider '\(provider)'") }
        return try transaction { s in try s.world.ensureMailbox(email, provider: provider, name: name, now: s.now.seconds).json }
    }

    /// Mail arrives in `mailbox` (created as the detected provider when missing).
    package func deliverMail(to mailbox: String, _ message: NewMessage) throws -> JSON {
        try transaction { s in
            let email = mailbox.lowercased()
            if try s.world.mailbox(email) == nil {
                try s.world.ensureMailbox(email, provider: ProviderDetection.detect(email), now: s.now.seconds)
            }
            let m = try s.world.insert(message, mailbox: email, time: s.now)
            try SyncEngine.mailboxChanged(s, mailbox: email)
            return worldJSON(m)
        }
    }

    /// The user changes a message in their own client (read, star, move, delete).
    package func changeMail(mailbox: String, message ref: String, unread: Bool?, starred: Bool?, folders: [String]?, delete: Bool) throws -> JSON {
        try transaction { s in
            let email = mailbox.lowercased()
            guard let m = try worldMessage(s, email, ref) else { throw NylasError.notFound("No message \(ref) in mailbox \(email)") }
            if let folders {
                let known = Set(try s.world.folders(mailbox: email).map(\.key))
                if let bad = folders.first(where: { !known.contains($0) }) {
                    throw NylasError.invalidValue("folders", "mailbox \(email) has no folder '\(bad)'")
                }
            }
            if delete {
                try s.world.delete(m.id, time: s.now)
            } else {
                try s.world.update(m.id, unread: unread, starred: starred, folders: folders, time: s.now)
            }
            try SyncEngine.mailboxChanged(s, mailbox: email)
            return worldJSON(try s.world.message(id: m.id)!)
        }
    }

    /// The user's password changed or they revoked access: every grant on the mailbox expires.
    package func invalidateCredentials(mailbox: String) throws -> [String] {
        try transaction { s in
            let email = mailbox.lowercased()
            guard try s.world.mailbox(email) != nil else { throw NylasError.notFound("No mailbox \(email)") }
            try s.world.setCredentialsValid(email, false)
            var expired: [String] = []
            for region in Region.allCases {
                for grant in try s.store(region).grants(email: email) where grant.status == .valid {
                    try s.expireGrant(region: region, grant: grant)
                    expired.append(grant.id)
                }
            }
            return expired
        }
    }

    /// A provider (or one mailbox) is unreachable for `duration` from now.
    package func addOutage(provider: String?, mailbox: String?, duration: Duration) -> JSON {
        withState { s in
            let o = ProviderOutage(provider: provider, mailbox: mailbox?.lowercased(), start: s.now, end: s.now + duration)
            s.outages.append(o)
            return ["provider": .optional(provider), "mailbox": .optional(o.mailbox), "start": .string(o.start.description),
                    "end": .string(o.end.description)]
        }
    }

    private func worldMessage(_ s: EngineState, _ mailbox: String, _ ref: String) throws -> WorldMessage? {
        if let id = Int64(ref), let m = try s.world.message(id: id), m.mailbox == mailbox, !m.deleted { return m }
        return try s.world.message(mailbox: mailbox, header: ref)
    }

    package func worldJSON(_ m: WorldMessage) -> JSON {
        ["world_id": .int(Int(m.id)), "mailbox": .string(m.mailbox), "message_id_header": .string(m.messageIDHeader),
         "thread_key": .string(m.threadKey), "subject": .string(m.subject), "unread": .bool(m.unread), "starred": .bool(m.starred),
         "folders": .strings(m.folders), "deleted": .bool(m.deleted), "date": .int(m.date)]
    }
}

extension NewMessage {
    /// Reads a message from a control-API or scenario body.
    package static func parse(_ body: BodyFields, now: Int) throws(NylasError) -> NewMessage {
        func people(_ key: String) throws(NylasError) -> [Participant] {
            guard let v = body.raw(key) else { return [] }
            switch v {
            case .string(let email): return [Participant(name: "", email: email)]
            case .object: return Participant.list(.array([v]))
            case .array(let items):
                var out: [Participant] = []
                for item in items {
                    if case .string(let email) = item { out.append(Participant(name: "", email: email)) } else { out += Participant.list(.array([item])) }
                }
                return out
            default: throw NylasError.wrongType(key, expected: "address or list of addresses", got: v)
            }
        }
        var m = NewMessage(from: try people("from"), to: try people("to"), subject: try body.string("subject") ?? "",
                           body: try body.string("body") ?? "", date: try body.int("date") ?? now)
        if m.from.isEmpty { m.from = [Participant(name: "Sender", email: "sender@example.com")] }
        if let size = try body.int("body_size"), !(0...NewMessage.largestPaddedBody).contains(size) {
            throw NylasError.invalidValue("body_size", "expected 0 to \(NewMessage.largestPaddedBody) bytes")
        }
        if let size = try body.int("body_size"), size > m.body.utf8.count {
            // A large body without a large file: padded to `body_size` bytes.
            m.body += String(repeating: "x", count: size - m.body.utf8.count)
        }
        m.cc = try people("cc")
        m.bcc = try people("bcc")
        m.replyTo = try people("reply_to")
        if let unread = try body.bool("unread") { m.unread = unread }
        if let starred = try body.bool("starred") { m.starred = starred }
        if let folders = try body.stringArray("folders") { m.folders = folders } else if let folder = try body.string("folder") { m.folders = [folder] }
        m.inReplyTo = try body.string("in_reply_to")
        m.messageIDHeader = try body.string("message_id")
        if let headers = try body.object("headers") {
            m.headers = headers.keys.sorted().compactMap { k in headers[k]?.stringValue.map { (k, $0) } }
        }
        for (i, item) in (try body.array("attachments") ?? []).enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("attachments[\(i)]", expected: "object", got: item) }
            let a = BodyFields(o)
            let content: [UInt8]
            if let b64 = try a.string("content_base64") {
                guard let data = Data(base64Encoded: b64) else { throw NylasError.invalidValue("attachments[\(i)].content_base64", "not base64") }
                content = Array(data)
            } else if let text = try a.string("content") {
                content = Array(text.utf8)
            } else {
                let size = try a.int("size") ?? 16
                guard (0...NewMessage.largestGeneratedAttachment).contains(size) else {
                    throw NylasError.invalidValue("attachments[\(i)].size", "expected 0 to \(NewMessage.largestGeneratedAttachment) bytes")
                }
                content = Array(repeating: UInt8(ascii: "x"), count: size)
            }
            m.attachments.append((try a.string("filename") ?? "attachment-\(i + 1).bin",
                                  try a.string("content_type") ?? "application/octet-stream", content,
                                  try a.string("content_id"), try a.bool("is_inline") ?? false))
        }
        return m
    }
}

extension EngineState {
    /// Mail from outside the simulated mailboxes' own clients (a workflow, a transactional send)
    /// arrives in each recipient that is a simulated mailbox; other recipients are outside the world.
    @discardableResult
    package func deliverExternalMail(from: Participant, to: [Participant], cc: [Participant] = [], subject: String, body: String,
                                     headers: [String: String] = [:]) throws -> [String] {
        var delivered: [String] = []
        for r in to + cc {
            let email = r.email.lowercased()
            guard try world.mailbox(email) != nil, !delivered.contains(email) else { continue }
            var m = NewMessage(from: [from], to: to, subject: subject, body: body, date: now.seconds)
            m.cc = cc
            m.folders = ["INBOX"]
            _ = try world.insert(m, mailbox: email, time: now)
            try SyncEngine.mailboxChanged(self, mailbox: email)
            delivered.append(email)
        }
        return delivered
    }
}
