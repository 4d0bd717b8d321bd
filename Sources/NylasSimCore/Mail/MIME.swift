import Foundation

/// RFC 822 rendering for `fields=raw_mime`.
package enum MIME {
    package static func render(_ m: MessageRecord) -> String {
        var lines = m.headers.map { "\($0.0): \($0.1)" }
        lines.append("Content-Type: text/html; charset=utf-8")
        lines.append("")
        lines.append(m.body)
        return lines.joined(separator: "\r\n")
    }
}



/// Minimal RFC 822 reading for `POST /send` with `Content-Type: message/rfc822`.
package enum MIMEParser {
    package static func parse(_ bytes: [UInt8]) throws(NylasError) -> OutgoingMessage {
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        guard let split = text.range(of: "\n\n") else { throw NylasError.invalidRequest("Invalid MIME message: no header/body separator") }
        var out = OutgoingMessage()
        for line in text[..<split.lowerBound].split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            func addresses() -> [Participant] {
                value.split(separator: ",").map { part -> Participant in
                    let p = part.trimmingCharacters(in: .whitespaces)
                    if let lt = p.firstIndex(of: "<"), let gt = p.firstIndex(of: ">") {
                        return Participant(name: p[..<lt].trimmingCharacters(in: CharacterSet(charactersIn: "\" ")),
                                           email: String(p[p.index(after: lt)..<gt]))
                    }
                    return Participant(name: "", email: p)
                }
            }
            switch name {
            case "to": out.to = addresses()
            case "cc": out.cc = addresses()
            case "bcc": out.bcc = addresses()
            case "from": out.from = addresses()
            case "subject": out.subject = value
            default: break
            }
        }
        out.body = String(text[split.upperBound...])
        if out.to.isEmpty { throw NylasError.invalidRequest("Invalid MIME message: no To header") }
        return out
    }
}
