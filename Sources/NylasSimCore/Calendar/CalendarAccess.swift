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
            throw NylasError(status: 403, type: "grant.access_denied", message: "Calendar \(c.id) is read-only: its events cannot be created, changed or deleted")
        }
    }

    /// `metadata_pair=key:value` filters (keys `key1`…`key5`, the indexed ones).
    package static func metadataPairs(_ q: QueryParameters) throws(NylasError) -> [(String, String)] {
        var out: [(String, String)] = []
        for pair in try q.all("metadata_pair", max: InputLimits.metadataFilters) {
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
