import Foundation

/// A SQL WHERE clause under construction.
struct SQLFilter {
    var clauses: [String] = []
    var binds: [any SQLBindable] = []

    mutating func add(_ clause: String, _ values: any SQLBindable...) {
        clauses.append(clause)
        binds.append(contentsOf: values)
    }

    var sql: String { clauses.isEmpty ? "1" : clauses.joined(separator: " AND ") }

    /// `any_email`: whole addresses among the space-separated participants (not substrings).
    mutating func addAnyEmail(_ emails: [String]) {
        clauses.append("(" + emails.map { _ in "(' ' || m.participants || ' ') LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")")
        binds.append(contentsOf: emails.map { "% \(SQLFilter.likeEscape($0.lowercased())) %" } as [any SQLBindable])
    }


    static func likeEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }
}
