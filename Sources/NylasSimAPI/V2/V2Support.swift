import Foundation
import NylasSimCore

/// v2 names of providers, and back. Exchange accounts are `eas` in v2 account objects (reference
/// nylas-v2.md §3.2); `exchange` (and `eas`, `ews`) are only inputs of `/connect/authorize`.
package enum V2Provider {
    package static func v2Name(_ v3: String) -> String {
        switch v3 {
        case "google": "gmail"
        case "microsoft": "office365"
        case "ews": "eas"
        case "virtual-calendar": "nylas"
        default: v3
        }
    }

    package static func v3Name(_ v2: String) -> String? {
        switch v2.lowercased() {
        case "gmail", "google": "google"
        case "office365", "graph", "outlook", "hotmail": "microsoft"
        case "exchange", "eas", "ews": "ews"
        case "imap", "aol": "imap"
        case "icloud": "icloud"
        case "yahoo": "yahoo"
        case "nylas": "virtual-calendar"
        default: nil
        }
    }

    package static func organizationUnit(_ v3: String) -> String { v3 == "google" ? "label" : "folder" }
}

extension RequestContext {
    /// The v2 account behind an account token: `Bearer <t>`, Basic with the token as user name, or the bare token.
    package func v2Account(_ s: EngineState, _ store: RegionStore, allowStopped: Bool = false) throws -> (GrantRecord, TokenRecord) {
        guard let header = request.header("authorization"), !header.isEmpty else {
            throw NylasError(status: 401, type: "invalid_request_error", message: "Could not verify access credential.")
        }
        var token = header
        let lower = header.lowercased()
        if lower.hasPrefix("bearer ") {
            token = String(header.dropFirst(7))
        } else if lower.hasPrefix("basic ") {
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces))
                .flatMap { String(data: $0, encoding: .utf8) } ?? ""
            token = decoded.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        }
        guard let record = try store.token(token.trimmingCharacters(in: .whitespaces)), record.kind == .v2,
              let accountID = record.grantID else {
            throw NylasError(status: 401, type: "invalid_request_error", message: "Could not verify access credential.")
        }
        // A token of a deleted account: the account is what is missing (reference v2 §2, 404).
        guard let account = try store.grant(id: accountID), account.billingState != "deleted" else {
            throw NylasError(status: 404, type: "invalid_request_error", message: "The account does not exist.")
        }
        guard !record.revoked else {
            throw NylasError(status: 401, type: "invalid_request_error", message: "Could not verify access credential.")
        }
        notes.set(application: account.applicationID, grant: account.id)
        if !allowStopped {
            if account.syncState == "stopped" || account.billingState == "cancelled" {
                throw NylasError(status: 403, type: "invalid_request_error",
                                 message: "This action can't be performed because the account's sync has been stopped. Please contact support@nylas.com to resume sync.")
            }
            if account.status != .valid {
                throw NylasError(status: 403, type: "invalid_request_error",
                                 message: "This action can't be performed because the account's credentials are out of date. Please reauthenticate and try again.")
            }
            if s.providerUnavailable(account.provider, mailbox: account.email) {
                throw NylasError(status: 504, type: "api_error", message: "Request timed out.", v2Type: "api_error")
            }
        }
        return (account, record)
    }
}

/// Rendering of v2 objects (v2 reference §3, §6).
package enum V2Render {
    package static func account(_ a: GrantRecord) -> JSON {
        ["id": .string(a.id), "object": "account", "account_id": .string(a.id), "name": .string(a.name ?? ""),
         "email_address": .string(a.email), "provider": .string(V2Provider.v2Name(a.provider)),
         "organization_unit": .string(V2Provider.organizationUnit(a.provider)),
         "sync_state": .string(a.status == .valid ? (a.syncState ?? "running") : "invalid"),
         "linked_at": .int(a.createdAt), "billing_state": .string(a.billingState ?? "paid")]
    }

    package static func managementAccount(_ a: GrantRecord) -> JSON {
        ["id": .string(a.id), "account_id": .string(a.id), "namespace_id": .string(a.id), "email": .string(a.email),
         "provider": .string(V2Provider.v2Name(a.provider)),
         "sync_state": .string(a.status == .valid ? (a.syncState ?? "running") : "invalid-credentials"),
         "billing_state": .string(a.billingState ?? "paid"),
         "authentication_type": .string(["google", "microsoft"].contains(a.provider) ? "oauth" : "password"),
         "trial": false, "metadata": a.metadata.isNull ? [:] : a.metadata]
    }

    package static let roles: [String: String] = ["INBOX": "inbox", "SENT": "sent", "DRAFT": "drafts", "TRASH": "trash", "SPAM": "spam",
                                          "ARCHIVE": "archive", "IMPORTANT": "important", "STARRED": "starred"]

    package static func category(_ f: FolderRecord, account: GrantRecord) -> JSON {
        let role = roles[f.worldKey]
        return ["id": .string(f.id), "object": .string(V2Provider.organizationUnit(account.provider)), "account_id": .string(account.id),
                "name": .optional(role), "display_name": .string(role.map { $0.prefix(1).uppercased() + $0.dropFirst() } ?? f.name),
                "job_status_id": .null]
    }

    package static func categories(_ ids: [String], _ store: RegionStore, account: GrantRecord) throws -> [JSON] {
        try ids.compactMap { try store.folder(grantID: account.id, id: $0) }
            .map { category($0, account: account).removing("job_status_id").removing("account_id").removing("object") }
    }

    package static func message(_ m: MessageRecord, _ store: RegionStore, account: GrantRecord, expanded: Bool = false) throws -> JSON {
        var o: JSON = [
            "id": .string(m.id), "object": "message", "account_id": .string(account.id), "thread_id": .string(m.threadID),
            "subject": .string(m.subject), "from": Participant.json(m.from), "to": Participant.json(m.to),
            "cc": Participant.json(m.cc), "bcc": Participant.json(m.bcc), "reply_to": Participant.json(m.replyTo),
            "date": .int(m.date), "unread": .bool(m.unread), "starred": .bool(m.starred), "snippet": .string(m.snippet),
            "body": .string(m.body), "events": [], "metadata": .object(m.metadata), "reply_to_message_id": .null,
            "files": .array(m.attachments.map { a in
                ["id": a["id"] ?? .null, "object": "file", "account_id": .string(account.id), "content_type": a["content_type"] ?? .null,
                 "filename": a["filename"] ?? .null, "size": a["size"] ?? .null, "content_id": a["content_id"] ?? .null,
                 "content_disposition": .string((a["is_inline"]?.boolValue ?? false) ? "inline" : "attachment")]
            }),
        ]
        // `events`: the events of the invitations attached (reference v2 §6.1), as the account's calendar has them.
        let invited = m.attachments.compactMap { $0["ical_uid"]?.stringValue }
        if !invited.isEmpty {
            o["events"] = .array(try invited.flatMap { uid in
                try store.eventIDs(grantID: account.id, icalUID: uid).compactMap { try store.event(grantID: account.id, id: $0) }
                    .map { V2Render.event($0.data, account: account, store: store) }
            })
        }
        let cats = try categories(m.folders, store, account: account)
        if account.kind == .google { o["labels"] = .array(cats) } else { o["folder"] = cats.first ?? .null }
        if expanded {
            var h: [String: JSON] = [:]
            for (name, value) in m.headers {
                switch name.lowercased() {
                case "message-id": h["Message-Id"] = .string(value)
                case "in-reply-to": h["In-Reply-To"] = .string(value)
                case "references": h["References"] = .strings(value.split(separator: " ").map(String.init))
                default: break
                }
            }
            o["headers"] = .object(h)
        }
        return o
    }
}

extension JSON {
    package func removing(_ key: String) -> JSON {
        guard case .object(var o) = self else { return self }
        o[key] = nil
        return .object(o)
    }
}

/// v2 account lifecycle and the delta log.
extension EngineState {
    /// Connects a mailbox to a v2 application: re-authenticates the existing account (same ID) or creates one.
    /// `server` identifies an IMAP or Exchange account's server settings: the same mailbox
    /// connected with other server settings is another account, with new IDs (reference v2 §8.3,
    /// §8.5: "identified by email address plus server settings").
    package func connectAccount(region: Region, application app: ApplicationRecord, provider: String, email: String, name: String?,
                        scopes: [String], server: String? = nil) throws -> (account: GrantRecord, token: String) {
        let store = self.store(region)
        let now = self.now.seconds
        let mailbox = try world.ensureMailbox(email, provider: provider, name: name, now: now)
        try world.setCredentialsValid(email, true)
        var account: GrantRecord
        var isNew = false
        let accounts = try store.grants(applicationID: app.id, email: email)
        // An account whose server settings are unknown (connected without them) matches any.
        let sameServer = accounts.first { a in
            guard let server, let known = a.settings["server"]?.stringValue else { return true }
            return known == server
        }
        if let existing = sameServer, existing.billingState != "deleted" {
            account = existing
            account.status = .valid
            account.syncState = "running"
            account.updatedAt = now
        } else {
            if let deleted = sameServer { try store.deleteGrant(id: deleted.id) }
            account = GrantRecord(id: store.ids.base36("v2-account"), applicationID: app.id, provider: provider, email: mailbox.email,
                                  name: name ?? mailbox.name, scope: scopes, settings: server.map { ["server": .string($0)] } ?? [:], state: nil,
                                  providerUserID: store.ids.hex("provider-user-id", length: 21), createdAt: now)
            account.apiVersion = 2
            account.syncState = "running"
            account.billingState = "paid"
            isNew = true
        }
        try store.save(account)
        try billingConnect(region: region, grant: account)
        let token = store.ids.base62("v2-access-token", length: 30)
        try store.insert(TokenRecord(token: token, kind: .v2, applicationID: app.id, grantID: account.id, expiresAt: nil,
                                     data: ["scopes": .string(scopes.joined(separator: ","))], createdAt: now))
        emit(SimEvent(region: region, applicationID: app.id, grantID: account.id, type: isNew ? "account.connected" : "account.running",
                      object: ["id": .string(account.id)], source: "", time: self.now, apiVersion: 2))
        try SyncEngine.grantConnected(self, region: region, grant: account, isNew: isNew)
        return (account, token)
    }

    /// Appends v2 object changes to the delta log (the handler installed for v2 events).
    package static func recordDelta(_ s: EngineState, _ event: SimEvent) {
        guard event.apiVersion == 2, let accountID = event.grantID else { return }
        let parts = event.type.split(separator: ".")
        guard parts.count == 2, ["message", "thread", "folder", "label", "draft", "file", "contact", "event", "calendar"].contains(String(parts[0])),
              !["opened", "link_clicked", "replied"].contains(String(parts[1])) else { return }
        let store = s.store(event.region)
        let change = ["created": "create", "updated": "modify", "deleted": "delete"][String(parts[1])] ?? "modify"
        guard let id = event.object["id"]?.stringValue, let account = try? store.grant(id: accountID) else { return }
        var object = String(parts[0])
        var attributes: JSON = .null
        if object == "message", change != "delete", let m = try? store.message(grantID: accountID, id: id) {
            attributes = (try? V2Render.message(m, store, account: account)) ?? .null
        } else if object == "folder" {
            object = V2Provider.organizationUnit(account.provider)
            if change != "delete", let f = try? store.folder(grantID: accountID, id: id) { attributes = V2Render.category(f, account: account) }
        } else if change != "delete" {
            // The full v2 object, as its GET renders it (the contact's picture URL relative to the API root).
            switch object {
            case "event": attributes = (try? store.event(grantID: accountID, id: id)).flatMap { $0 }
                .map { V2Render.event($0.data, account: account, store: store) } ?? .null
            case "calendar": attributes = (try? store.calendar(grantID: accountID, id: id)).flatMap { $0 }
                .map { V2Render.calendar($0, account: account) } ?? .null
            case "contact":
                if let c = (try? store.contact(grantID: accountID, id: id)).flatMap({ $0 }),
                   let groups = try? V2Render.contactGroups(store, account) {
                    attributes = V2Render.contact(c, account: account, groups: groups, base: "")
                }
            default: break
            }
        }
        try? store.appendV2Delta(accountID: accountID, object: object, event: change, objectID: id, attributes: attributes,
                                 time: s.now.milliseconds)
        // A message's thread changed with it (its snippet, dates, participants, counts).
        if object == "message", change != "delete", let m = try? store.message(grantID: accountID, id: id),
           let thread = try? V2MailRoutes.thread(store, account, m.threadID, expanded: false) {
            try? store.appendV2Delta(accountID: accountID, object: "thread", event: "modify", objectID: m.threadID, attributes: thread,
                                     time: s.now.milliseconds)
        }
    }
}
