import Foundation

/// A SQL WHERE clause under construction.
package struct SQLFilter {
    package var clauses: [String] = []
    package var binds: [any SQLBindable] = []

    package mutating func add(_ clause: String, _ values: any SQLBindable...) {
        clauses.append(clause)
        binds.append(contentsOf: values)
    }

    package var sql: String { clauses.isEmpty ? "1" : clauses.joined(separator: " AND ") }

    /// `any_email`: whole addresses among the space-separated participants (not substrings).
    package mutating func addAnyEmail(_ emails: [String]) {
        clauses.append("(" + emails.map { _ in "(' ' || m.participants || ' ') LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")")
        binds.append(contentsOf: emails.map { "% \(SQLFilter.likeEscape($0.lowercased())) %" } as [any SQLBindable])
    }

    /// A whole address among a message's (`messages m`) participants of `role` (0 from, 1 to, 2 cc,
    /// 3 bcc), as the triggers of `messages` keep them in `message_addresses`: compared as SQLite's
    /// `lower` folds them (ASCII letters), looked up by index.
    package mutating func addAddress(grantID: String, role: Int, _ email: String) {
        add("m.id IN (SELECT message_id FROM message_addresses WHERE grant_id = ? AND role = ? AND email = lower(?))",
            grantID, role, email)
    }

    package static func likeEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }
}
