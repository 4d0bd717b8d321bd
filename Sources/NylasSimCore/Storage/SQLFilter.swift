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


    package static func likeEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }
}
