import Foundation

/// What differs between providers: how changes reach Nylas, folder model, ID style.
package struct ProviderKind: Sendable, Hashable {
    package let name: String

    package init(_ name: String) { self.name = name }

    package static let google = ProviderKind("google"), microsoft = ProviderKind("microsoft"), imap = ProviderKind("imap"),
                       icloud = ProviderKind("icloud"), yahoo = ProviderKind("yahoo"), ews = ProviderKind("ews"),
                       virtualCalendar = ProviderKind("virtual-calendar"), zoom = ProviderKind("zoom"), nylas = ProviderKind("nylas")

    /// The providers a v3 connector (and so a grant) can be created for.
    package static let connectorNames: Set<String> = ["google", "microsoft", "imap", "icloud", "yahoo", "ews", "virtual-calendar", "zoom", "nylas"]

    /// Push providers (Google, Microsoft) notify Nylas at once; the others are polled.
    package var isPush: Bool { name == "google" || name == "microsoft" }
    /// Google labels: a message may carry several; the others keep a message in one folder.
    package var multipleFolders: Bool { name == "google" }
    /// Providers with no mailbox at all.
    package var hasMail: Bool { name != "virtual-calendar" }
    /// IMAP-family providers, whose v3 IDs derive from the `Message-ID` header.
    package var isIMAPFamily: Bool { ["imap", "icloud", "yahoo", "ews"].contains(name) }

    /// The CloudEvents `source` of a mail change.
    package func emailSource(_ sync: SyncKind) -> String { "/\(name)/emails/\(sync.rawValue)" }

    /// The system folders a mailbox starts with: world key, display name, attributes.
    package var systemFolders: [(key: String, name: String, attributes: [String])] {
        switch name {
        case "google":
            return [("INBOX", "INBOX", []), ("SENT", "SENT", ["\\Sent"]), ("DRAFT", "DRAFT", ["\\Drafts"]),
                    ("TRASH", "TRASH", ["\\Trash"]), ("SPAM", "SPAM", ["\\Junk"]), ("STARRED", "STARRED", []),
                    ("IMPORTANT", "IMPORTANT", [])]
        case "microsoft", "ews":
            return [("INBOX", "Inbox", []), ("SENT", "Sent Items", ["\\Sent"]), ("DRAFT", "Drafts", ["\\Drafts"]),
                    ("TRASH", "Deleted Items", ["\\Trash"]), ("SPAM", "Junk Email", ["\\Junk"]), ("ARCHIVE", "Archive", ["\\Archive"])]
        default:
            return [("INBOX", "INBOX", []), ("SENT", "Sent", ["\\Sent"]), ("DRAFT", "Drafts", ["\\Drafts"]),
                    ("TRASH", "Trash", ["\\Trash"]), ("SPAM", "Junk", ["\\Junk"]), ("ARCHIVE", "Archive", ["\\Archive"])]
        }
    }

    /// The world key of the folder a role maps to.
    package static let inbox = "INBOX", sent = "SENT", drafts = "DRAFT", trash = "TRASH"
}

/// How a change reached Nylas, as the notification `source` tells.
package enum SyncKind: String, Sendable {
    case realtime, incremental, historic
}

/// A name and address, as Nylas writes participants.
package struct Participant: Sendable, Equatable {
    package init(name: String, email: String) {
        self.name = name
        self.email = email
    }

    package var name: String
    package var email: String

    package var json: JSON { ["name": .string(name), "email": .string(email)] }

    package static func list(_ json: JSON?) -> [Participant] {
        (json?.arrayValue ?? []).compactMap { item in
            guard let email = item["email"]?.stringValue else { return nil }
            return Participant(name: item["name"]?.stringValue ?? "", email: email)
        }
    }

    package static func json(_ list: [Participant]) -> JSON { .array(list.map(\.json)) }
}

extension ProviderKind {
    /// Whether a grant with these provider scopes may send mail: Google needs `gmail.send`,
    /// `gmail.compose`, `gmail.modify` or full mail access; Microsoft `Mail.Send`. Other providers
    /// (IMAP with SMTP, EWS) have no scopes to check; an empty list means the connector's defaults.
    package func canSend(scopes: [String]) -> Bool {
        guard !scopes.isEmpty else { return true }
        switch name {
        case "google":
            return scopes.contains { s in
                ["gmail.send", "gmail.compose", "gmail.modify"].contains { s.hasSuffix("/auth/" + $0) || s == $0 } || s == "https://mail.google.com/"
            }
        case "microsoft":
            return scopes.contains { $0 == "Mail.Send" || $0.hasSuffix("/Mail.Send") }
        default:
            return true
        }
    }
}
