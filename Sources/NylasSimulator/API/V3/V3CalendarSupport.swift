import Foundation

/// What the calendar, event and contact routes share: the grant's calendar view, calendar IDs
/// (`primary` and the grant's address included), metadata and its filters.
extension RequestContext {
    /// Makes sure the grant has its calendar view (a grant from before calendars existed gets its
    /// first sync here), then runs `body` as a read.
    func calendarRead<T: Sendable>(_ body: (SimulatorState, RegionStore) throws -> T) throws -> T {
        try ensureCalendarView()
        return try read(body)
    }

    /// The same, as a write.
    func calendarWrite<T: Sendable>(_ body: (SimulatorState, RegionStore) throws -> T) throws -> T {
        try ensureCalendarView()
        return try write(body)
    }

    private func ensureCalendarView() throws {
        let missing = try read { s, store -> GrantRecord? in
            let grant = try dataGrant(s, store)
            return try store.calendarSyncCursor(grantID: grant.id) == nil ? grant : nil
        }
        if let grant = missing {
            try write { s, _ in try CalendarSync.initialSync(s, region: region, grant: grant) }
        }
    }

    /// How a change made through this grant is notified: at once for every provider, named as
    /// the provider's own sync would name it.
    func changeKind(_ grant: GrantRecord) -> SyncKind {
        ProviderKind(grant.provider).isPush || !ProviderKind(grant.provider).hasMail ? .realtime : .incremental
    }
}

enum CalendarAccess {
    /// A calendar of the grant by ID, `primary`, or the grant's email address (its primary calendar).
    static func calendar(_ store: RegionStore, _ grant: GrantRecord, _ ref: String, field: String = "calendar_id") throws -> CalendarRecord {
        if ref == "primary" || ref.lowercased() == grant.email.lowercased() {
            if let c = try store.primaryCalendar(grantID: grant.id) { return c }
        }
        if let c = try store.calendar(grantID: grant.id, id: ref) { return c }
        throw NylasError.notFound("Calendar not found: \(ref)")
    }

    /// Refuses writes to a calendar the user may only read (holiday calendars, shared read-only ones).
    static func requireWritable(_ c: CalendarRecord) throws {
        guard !c.readOnly else {
            throw NylasError(status: 403, type: "forbidden", message: "Calendar \(c.id) is read-only: its events cannot be created, changed or deleted")
        }
    }

    /// A `metadata` object from a request: at most 50 keys, values strings (or other JSON), keys non-empty.
    static func metadata(_ body: BodyFields) throws(NylasError) -> [String: JSON]? {
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
    static func metadataPairs(_ q: QueryParameters) throws(NylasError) -> [(String, String)] {
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

    static func matches(_ metadata: [String: JSON], _ pairs: [(String, String)]) -> Bool {
        pairs.allSatisfy { k, v in
            switch metadata[k] {
            case .string(let s)?: return s == v
            case let other?: return other.text == v
            case nil: return false
            }
        }
    }

    /// Offset page tokens of short lists (calendars, contact groups).
    static func offset(_ ctx: RequestContext) throws(NylasError) -> Int {
        try ctx.query["page_token"].map { t throws(NylasError) -> Int in
            guard let n = Int(try PageToken.parse(t, count: 1)[0]), n >= 0 else { throw NylasError.invalidRequest("Invalid page_token") }
            return n
        } ?? 0
    }
}
