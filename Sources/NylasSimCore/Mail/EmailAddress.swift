import Foundation

/// Email address syntax as the API checks it.
package enum EmailAddress {
    package static func isValid(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else { return false }
        return !s.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," })
    }

    /// Reads `[{name?, email}]` from a request field, checking each address.
    package static func list(_ body: BodyFields, _ key: String) throws(NylasError) -> [Participant] {
        guard let items = try body.array(key) else { return [] }
        var out: [Participant] = []
        for (i, item) in items.enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("\(key)[\(i)]", expected: "object", got: item) }
            let f = BodyFields(o)
            let email = try f.requiredString("email")
            guard isValid(email) else { throw NylasError.invalidValue("\(key)[\(i)].email", "'\(email)' is not a valid email address") }
            out.append(Participant(name: try f.string("name") ?? "", email: email))
        }
        return out
    }
}
