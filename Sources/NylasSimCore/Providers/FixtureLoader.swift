import Foundation

/// A mailbox fixture (`fixtures/mailbox.json`, made by `fixtures/generate_mailbox.py`), loaded into
/// the provider world in one transaction: every grant connected to the mailbox then syncs it as
/// mail that was already there.
///
/// ```json
/// {"mailbox": "owner@gmail.com", "provider": "google", "name": "Owner Name",
///  "folders": [{"key": "Label_work", "name": "Work", "parent": null}],
///  "messages": [{"message_id": "<a@b>", "from": {"name", "email"}, "to": [...], "cc": [...], "subject", "body",
///                "date": 1760000000, "folders": ["INBOX", "Label_work"], "unread": true, "starred": false,
///                "in_reply_to": "<parent@b>", "attachments": [{"filename", "content_type", "content"}]}]}
/// ```
/// Attachment `content` is text; `content_base64` carries binary. Messages are inserted in date
/// order, so a reply finds its parent by `in_reply_to`. A message whose `message_id` the mailbox
/// already holds is skipped: loading the same fixture twice adds nothing.
package struct MailboxFixture: Sendable {
    package struct Folder: Sendable {
        package var key: String
        package var name: String
        package var parent: String?
    }

    package var mailbox: String
    package var provider: String
    package var name: String?
    package var folders: [Folder]
    package var messages: [NewMessage]

    /// The providers a mailbox fixture can belong to.
    package static let mailProviders: Set<String> = ["google", "microsoft", "imap", "icloud", "yahoo", "ews"]

    /// Reads and checks a fixture object; `mailbox`/`provider` override the fixture's own. Every
    /// problem is a 400 naming the field.
    package static func parse(_ json: JSON, mailbox override: String? = nil, provider providerOverride: String? = nil,
                      now: Int) throws(NylasError) -> MailboxFixture {
        guard case .object(let top) = json else {
            throw NylasError.invalidRequest("Invalid fixture: expected a JSON object with mailbox, folders and messages")
        }
        let body = BodyFields(top)
        let original = try body.string("mailbox")
        guard let address = (override ?? original)?.trimmingCharacters(in: .whitespaces).lowercased(), !address.isEmpty else {
            throw NylasError.invalidRequest("Invalid fixture: missing required field mailbox")
        }
        guard EmailAddress.isValid(address) else {
            throw NylasError.invalidValue("mailbox", "'\(address)' is not an email address")
        }
        let ownProvider = try body.string("provider")
        let provider = (providerOverride ?? ownProvider ?? ProviderDetection.detect(address)).lowercased()
        guard mailProviders.contains(provider) else {
            throw NylasError.invalidValue("provider", "'\(provider)' is not a mail provider: expected one of \(mailProviders.sorted().joined(separator: ", "))")
        }
        var folders: [Folder] = []
        for (i, item) in (try body.array("folders") ?? []).enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("folders[\(i)]", expected: "object", got: item) }
            let f = BodyFields(o)
            let key = try f.string("key") ?? ""
            guard !key.isEmpty else { throw NylasError.missingField("folders[\(i)].key") }
            if folders.contains(where: { $0.key == key }) { throw NylasError.invalidValue("folders[\(i)].key", "duplicate key '\(key)'") }
            folders.append(Folder(key: key, name: try f.string("name") ?? key, parent: try f.string("parent")))
        }
        guard let items = try body.array("messages") else { throw NylasError.missingField("messages") }
        let single = !ProviderKind(provider).multipleFolders
        var seen = Set<String>()
        var messages: [NewMessage] = []
        messages.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("messages[\(i)]", expected: "object", got: item) }
            var m: NewMessage
            do {
                m = try NewMessage.parse(BodyFields(o), now: now)
            } catch {
                throw NylasError(status: 400, type: error.type, message: "messages[\(i)]: \(error.message)")
            }
            if let header = m.messageIDHeader {
                guard !header.isEmpty else { throw NylasError.invalidValue("messages[\(i)].message_id", "empty") }
                guard seen.insert(header).inserted else {
                    throw NylasError.invalidValue("messages[\(i)].message_id", "duplicate Message-ID \(header)")
                }
            }
            if let original, override != nil, original.lowercased() != address {
                func swap(_ list: [Participant]) -> [Participant] {
                    list.map { $0.email.lowercased() == original.lowercased() ? Participant(name: $0.name, email: address) : $0 }
                }
                m.from = swap(m.from); m.to = swap(m.to); m.cc = swap(m.cc); m.bcc = swap(m.bcc); m.replyTo = swap(m.replyTo)
            }
            if m.folders.isEmpty { m.folders = [ProviderKind.inbox] }
            // Outside Google a message lives in exactly one folder: the first listed.
            if single, m.folders.count > 1 { m.folders = [m.folders[0]] }
            messages.append(m)
        }
        // Oldest first, so that replies follow their parents; the sort is stable for equal dates.
        let ordered = messages.enumerated().sorted { ($0.element.date, $0.offset) < ($1.element.date, $1.offset) }.map(\.element)
        return MailboxFixture(mailbox: address, provider: provider, name: try body.string("name"), folders: folders, messages: ordered)
    }

    /// Reads a fixture file (relative paths from the working directory).
    package static func read(path: String) throws(NylasError) -> JSON {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw NylasError.invalidValue("path", "cannot read fixture file \(url.path)")
        }
        do {
            return try JSON.parse(Array(data))
        } catch {
            throw NylasError.invalidRequest("Invalid fixture \(url.path): not valid JSON")
        }
    }

    /// What a load did.
    package struct Result: Sendable {
        package var mailbox: String
        package var provider: String
        package var loaded: Int
        package var skipped: Int
        package var threads: Int
        package var foldersAdded: Int

        package var json: JSON {
            ["mailbox": .string(mailbox), "provider": .string(provider), "messages": .int(loaded), "skipped": .int(skipped),
             "threads": .int(threads), "folders_added": .int(foldersAdded)]
        }
    }

    /// Puts the fixture into the world (inside the caller's transaction) and lets push grants sync.
    package func load(into s: EngineState) throws -> Result {
        let world = s.world
        if let existing = try world.mailbox(mailbox), existing.provider != provider {
            throw NylasError.conflict("Mailbox \(mailbox) exists as a \(existing.provider) mailbox, not \(provider)")
        }
        try world.ensureMailbox(mailbox, provider: provider, name: name, now: s.now.seconds)
        var known = Set(try world.folders(mailbox: mailbox).map(\.key))
        var added = 0
        for (i, f) in folders.enumerated() where !known.contains(f.key) {
            if let parent = f.parent, !known.contains(parent) {
                throw NylasError.invalidValue("folders[\(i)].parent", "no folder '\(parent)' (parents come first)")
            }
            try world.addFolder(mailbox: mailbox, key: f.key, name: f.name, parent: f.parent, time: s.now)
            known.insert(f.key)
            added += 1
        }
        for (i, m) in messages.enumerated() {
            if let bad = m.folders.first(where: { !known.contains($0) }) {
                throw NylasError.invalidValue("messages[\(i)].folders", "mailbox \(mailbox) has no folder '\(bad)': list it in folders")
            }
        }
        var loaded = 0
        var skipped = 0
        var threads = Set<String>()
        for m in messages {
            if let header = m.messageIDHeader, try world.message(mailbox: mailbox, header: header) != nil {
                skipped += 1
                continue
            }
            let inserted = try world.insert(m, mailbox: mailbox, time: s.now)
            threads.insert(inserted.threadKey)
            loaded += 1
        }
        try SyncEngine.mailboxChanged(s, mailbox: mailbox)
        return Result(mailbox: mailbox, provider: provider, loaded: loaded, skipped: skipped, threads: threads.count, foldersAdded: added)
    }
}

extension Engine {
    /// Loads a fixture object (or the file at `path`) into the provider world in one transaction.
    package func loadFixture(_ json: JSON?, path: String?, mailbox: String?, provider: String?) throws -> MailboxFixture.Result {
        let source: JSON
        if let path {
            source = try MailboxFixture.read(path: path)
        } else if let json {
            source = json
        } else {
            throw NylasError.invalidRequest("Give a fixture: {\"path\": \"fixtures/mailbox.json\"} or the fixture object itself")
        }
        let fixture = try MailboxFixture.parse(source, mailbox: mailbox, provider: provider, now: now.seconds)
        return try transaction { s in try fixture.load(into: s) }
    }
}
