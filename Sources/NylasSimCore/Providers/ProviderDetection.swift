import Foundation

/// Email domain → provider, as `/v3/providers/detect` and the hosted-auth picker decide.
package enum ProviderDetection {
    package static func detect(_ email: String) -> String {
        let domain = email.split(separator: "@").last.map { String($0).lowercased() } ?? ""
        switch domain {
        case "gmail.com", "googlemail.com": return "google"
        case "outlook.com", "hotmail.com", "live.com", "office365.com", "msn.com": return "microsoft"
        case "icloud.com", "me.com", "mac.com": return "icloud"
        case "yahoo.com", "ymail.com": return "yahoo"
        default:
            if domain.hasPrefix("yahoo.") { return "yahoo" }
            if domain.hasPrefix("outlook.") || domain.hasPrefix("hotmail.") || domain.hasPrefix("live.") { return "microsoft" }
            return "imap"
        }
    }

    /// The mail domain a provider's simulated users get when no login hint names one.
    package static func defaultDomain(_ provider: String) -> String {
        switch provider {
        case "google": "gmail.com"
        case "microsoft": "outlook.com"
        case "icloud": "icloud.com"
        case "yahoo": "yahoo.com"
        default: "example.com"
        }
    }

    /// Nylas v2's own scope names, which v3 no longer takes (`email` alone is also an OpenID scope
    /// of Google and Microsoft, so it is not among them).
    package static let v2NylasScopes: Set<String> = [
        "email.read_only", "email.send", "email.modify", "email.drafts", "email.folders_and_labels", "email.metadata",
        "calendar", "calendar.read_only", "calendar.free_busy", "room_resources.read_only", "contacts", "contacts.read_only",
    ]

    /// The scopes a provider grants when none are asked for.
    package static func defaultScopes(_ provider: String) -> [String] {
        switch provider {
        case "google":
            ["https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/gmail.modify",
             "https://www.googleapis.com/auth/calendar", "https://www.googleapis.com/auth/contacts"]
        case "microsoft":
            ["Mail.ReadWrite", "Mail.Send", "Calendars.ReadWrite", "Contacts.ReadWrite", "offline_access"]
        default: []
        }
    }
}
