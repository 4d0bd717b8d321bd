import Foundation

/// Calendars as a grant reaches them: by ID, `primary` or its address; writability; metadata and its filters.
package enum CalendarAccess {
    /// A calendar of the grant by ID, `primary`, or the grant's email address (its primary calendar).
    package static func calendar(_ store: RegionStore, _ grant: GrantRecord, _ ref: String, field: String = "calendar_id") throws -> CalendarRecord {
        if ref == "primary" || ref.lowercased() == grant.email.lowercased() {
            if let c = try store.primaryCalendar(grantID: grant.id) { return c }
        }
        if let c = try store.calendar(grantID: grant.id, id: ref) { return c }
        throw NylasError.notFound("Calendar not found: \(ref)")
    }

    /// Refuses writes to a calendar the user may only read (holiday calendars, shared read-only ones).
    package static func requireWritable(_ c: CalendarRecord) throws {
        guard !c.readOnly else {
            throw NylasError(status: 403, type: "forbidden", message: "Calendar \(c.id) is read-only: its events cannot be created, changed or deleted")
        }
    }

    /// A `metadata` object from a request: at most 50 keys, values strings (or other JSON), keys non-empty.
    package static func metadata(_ body: BodyFields) throws(NylasError) -> [String: JSON]? {
        guard let o = try body.object("metadata") else { return nil }
        guard o.count <= 50 else { throw NylasError.invalidValue("metadata", "at most 50 keys") }
        if let bad = o.keys.first(where: { $0.isEmpty || $0.count > 40 }) {
            throw NylasError.invalidValue("metadata", "key '\(bad)' must be 1 to 40 characters")
        }
        for key in o.keys.sorted() {
            guard case .string(let v) = o[key]! else { throw NylasError.wrongType("metadata.\(key)", expected: "string", got: o[key]!) }
            guard v.count <= 500 else { throw NylasError.invalidValue("metadata.\(key)", "at most 500 characters") }
        }
        return o
    }

    /// `metadata_pair=key:value` filters (keys `key1`…`key5`, the indexed ones).
    package static func metadataPairs(_ q: QueryParameters) throws(NylasError) -> [(String, String)] {
        var out: [(String, String)] = []
        for pair in q.all("metadata_pair") {
            let kv = pair.split(separator: ":", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw NylasError.invalidValue("metadata_pair", "expected key:value, got '\(pair)'") }
            guard ["key1", "key2", "key3", "key4", "key5"].contains(kv[0]) else {
                throw NylasError.invalidValue("metadata_pair", "only the keys key1 to key5 can be filtered on, got '\(kv[0])'")
            }
            out.append((kv[0], kv[1]))
        }
        return out
    }

    package static func matches(_ metadata: [String: JSON], _ pairs: [(String, String)]) -> Bool {
        pairs.allSatisfy { k, v in
            switch metadata[k] {
            case .string(let s)?: return s == v
            case let other?: return other.text == v
            case nil: return false
            }
        }
    }

}
