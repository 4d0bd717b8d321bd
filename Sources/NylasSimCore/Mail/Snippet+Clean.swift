import Foundation

extension Snippet {
    /// The whole body as plain text (Clean Conversations, simplified).
    package static func clean(_ body: String) -> String {
        var out = ""
        var inTag = false
        for c in body {
            if c == "<" { inTag = true; continue }
            if c == ">" { inTag = false; out.append(" "); continue }
            if !inTag { out.append(c) }
        }
        return out.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
