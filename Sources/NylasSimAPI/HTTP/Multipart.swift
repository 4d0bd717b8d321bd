import Foundation
import NylasSimCore

/// A `multipart/form-data` body split into its parts.
package struct MultipartForm: Sendable {
    package struct Part: Sendable {
        package var name: String
        package var filename: String?
        package var contentType: String?
        package var body: [UInt8]
        package var text: String { String(decoding: body, as: UTF8.self) }
    }

    package var parts: [Part]

    package func part(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// Parses the body of `request`, throwing a 400 on anything malformed.
    package init(_ request: SimRequest) throws(NylasError) {
        guard let header = request.header("content-type"), header.lowercased().hasPrefix("multipart/form-data") else {
            throw NylasError.unsupportedMediaType("Expected multipart/form-data")
        }
        guard let range = header.range(of: "boundary=", options: .caseInsensitive) else {
            throw NylasError.invalidRequest("Malformed multipart body: no boundary in the Content-Type")
        }
        var boundary = String(header[range.upperBound...])
        if let semi = boundary.firstIndex(of: ";") { boundary = String(boundary[..<semi]) }
        boundary = boundary.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        guard !boundary.isEmpty else { throw NylasError.invalidRequest("Malformed multipart body: empty boundary") }
        parts = try MultipartForm.split(request.body, boundary: Array("--\(boundary)".utf8))
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard needle.count <= hay.count, from <= hay.count - needle.count else { return nil }
        let first = needle[0]
        var i = from
        let last = hay.count - needle.count
        while i <= last {
            if hay[i] == first, Array(hay[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    private static func split(_ body: [UInt8], boundary: [UInt8]) throws(NylasError) -> [Part] {
        let malformed = NylasError.invalidRequest("Malformed multipart body")
        guard var start = find(boundary, in: body, from: 0) else { throw malformed }
        var parts: [Part] = []
        while true {
            var cursor = start + boundary.count
            if cursor + 1 < body.count, body[cursor] == 45, body[cursor + 1] == 45 { break }  // "--": the end
            if cursor + 1 < body.count, body[cursor] == 13, body[cursor + 1] == 10 { cursor += 2 } else if cursor < body.count, body[cursor] == 10 { cursor += 1 }
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: cursor) else { throw malformed }
            let headerText = String(decoding: body[cursor..<headerEnd], as: UTF8.self)
            guard let next = find([13, 10] + boundary, in: body, from: headerEnd + 4) else { throw malformed }
            let content = Array(body[(headerEnd + 4)..<next])
            var name: String?
            var filename: String?
            var type: String?
            for line in headerText.components(separatedBy: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    name = attribute("name", in: line)
                    filename = attribute("filename", in: line)
                } else if lower.hasPrefix("content-type:") {
                    type = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
                }
            }
            guard let name else { throw malformed }
            // Counted as they are read: a body of 100,000 empty parts stops at the limit.
            try InputLimits.check(parts.count + 1, InputLimits.multipartParts, "multipart", "parts (a message and its attachments)")
            parts.append(Part(name: name, filename: filename, contentType: type, body: content))
            start = next + 2
        }
        return parts
    }

    private static func attribute(_ key: String, in line: String) -> String? {
        for piece in line.split(separator: ";") {
            let kv = piece.trimmingCharacters(in: .whitespaces)
            if kv.lowercased().hasPrefix(key + "=") {
                return String(kv.dropFirst(key.count + 1)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }
}
