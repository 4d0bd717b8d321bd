import Foundation

/// Email address syntax as the API checks it.
package enum EmailAddress {
    package static func isValid(_ s: String) -> Bool {
        // One `@` after a non-empty local part; a domain with a dot, neither first nor last; no
        // white space, `<`, `>` or `,`. On bytes (every recipient of every send is checked), with
        // Unicode white space checked by characters when there is any non-ASCII byte.
        var at = -1, dot = false, n = 0, ascii = true
        var first: UInt8 = 0, last: UInt8 = 0
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "@"):
                guard at < 0 else { return false }
                at = n
            case UInt8(ascii: " "), 0x09...0x0D, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ","): return false
            case UInt8(ascii: ".") where at >= 0: dot = true
            case 0x80...: ascii = false
            default: break
            }
            if at >= 0, n == at + 1 { first = b }
            last = b
            n += 1
        }
        guard at > 0, n > at + 1, dot, first != UInt8(ascii: "."), last != UInt8(ascii: ".") else { return false }
        return ascii || !s.contains(where: \.isWhitespace)
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
