import Foundation

/// The fields of a contact create or update request, checked before anything changes.
package struct ContactInput {
    /// The `source` values of a contact.
    package static let sources: Set<String> = ["address_book", "domain", "inbox"]

    /// Top-level fields given (nil clears one).
    package var fields: [String: JSON] = [:]
    package var groupIDs: [String]?
    package var metadata: [String: JSON]?
    package var picture: [UInt8]?

    package static let stringFields: [(String, Int)] = [
        ("given_name", 256), ("middle_name", 256), ("surname", 256), ("suffix", 64), ("nickname", 256), ("display_name", 512),
        ("company_name", 512), ("job_title", 512), ("manager_name", 512), ("notes", 65536), ("office_location", 512),
        ("picture_url", 2048),
    ]

    /// Each list field: its required key and the allowed `type` values (nil: any).
    package static let listFields: [(String, String, Set<String>?)] = [
        ("emails", "email", ["work", "home", "other"]),
        ("phone_numbers", "number", ["work", "home", "mobile", "other"]),
        ("physical_addresses", "type", ["work", "home", "other"]),
        ("web_pages", "url", ["work", "home", "other"]),
        ("im_addresses", "im_address", nil),
    ]

    package static let placeholderPicture: [UInt8] = Array(Data(base64Encoded:
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")!)

    /// Where an uploaded picture is served from (a new name each time, reproducible with a seed).
    package static func pictureURL(_ provider: String, _ ids: inout IDGenerator) -> String {
        "https://contacts.nylas-sim.local/\(provider)/photos/\(ids.base36("photo", length: 12)).png"
    }

    package var hasIdentity: Bool {
        ["given_name", "surname", "nickname", "display_name", "company_name", "middle_name"].contains { fields[$0]?.stringValue?.isEmpty == false }
            || !(fields["emails"]?.arrayValue ?? []).isEmpty || !(fields["phone_numbers"]?.arrayValue ?? []).isEmpty
    }

    package init(_ body: BodyFields) throws(NylasError) {
        for (key, max) in ContactInput.stringFields where body.has(key) {
            let v = try body.string(key)
            if let v, v.count > max { throw NylasError.invalidValue(key, "at most \(max) characters") }
            fields[key] = .optional(v)
        }
        if body.has("birthday") {
            let b = try body.string("birthday")
            if let b, CivilDate(b) == nil { throw NylasError.invalidValue("birthday", "'\(b)' is not a date in the YYYY-MM-DD format") }
            fields["birthday"] = .optional(b)
        }
        if let source = try body.string("source") {
            guard ContactInput.sources.contains(source) else { throw NylasError.invalidValue("source", "expected address_book, domain or inbox") }
            fields["source"] = .string(source)
        }
        for (key, required, types) in ContactInput.listFields where body.has(key) {
            let items = try body.array(key) ?? []
            var out: [JSON] = []
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item else { throw NylasError.wrongType("\(key)[\(i)]", expected: "object", got: item) }
                let f = BodyFields(o)
                let value = try f.string(required, required: true)!
                if key == "emails", !EmailAddress.isValid(value) || value.count > 255 {
                    throw NylasError.invalidValue("\(key)[\(i)].email", "'\(value)' is not an email address")
                }
                if key == "im_addresses", value.count > 255 { throw NylasError.invalidValue("\(key)[\(i)].im_address", "at most 255 characters") }
                if let type = try f.string("type"), let types, !types.contains(type) {
                    throw NylasError.invalidValue("\(key)[\(i)].type", "'\(type)' is not one of \(types.sorted().joined(separator: ", "))")
                }
                var clean: [String: JSON] = [:]
                for (k, v) in o where !v.isNull {
                    guard case .string = v else { throw NylasError.wrongType("\(key)[\(i)].\(k)", expected: "string", got: v) }
                    clean[k] = v
                }
                out.append(.object(clean))
            }
            fields[key] = .array(out)
        }
        if body.has("groups") {
            var ids: [String] = []
            for (i, item) in (try body.array("groups") ?? []).enumerated() {
                guard case .object(let o) = item else { throw NylasError.wrongType("groups[\(i)]", expected: "object", got: item) }
                ids.append(try BodyFields(o).string("id", required: true)!)
            }
            groupIDs = ids
        }
        metadata = try body.metadata()
        if let p = try body.string("picture") {
            guard let data = Data(base64Encoded: p, options: .ignoreUnknownCharacters), !data.isEmpty else {
                throw NylasError.invalidValue("picture", "not base64-encoded image data")
            }
            picture = Array(data)
        }
    }

    /// Applies the request to a stored contact (group IDs become the mailbox's group keys).
    package func apply(to content: inout [String: JSON], store: RegionStore, grant: GrantRecord) throws {
        for (k, v) in fields { if v.isNull { content.removeValue(forKey: k) } else { content[k] = v } }
        if let groupIDs {
            let known = try store.contactGroups(grantID: grant.id)
            content["groups"] = .array(try groupIDs.map { id throws -> JSON in
                guard let g = known.first(where: { $0.id == id }) else { throw NylasError.invalidValue("groups", "no contact group \(id)") }
                return ["id": .string(g.worldKey)]
            })
        }
    }
}
