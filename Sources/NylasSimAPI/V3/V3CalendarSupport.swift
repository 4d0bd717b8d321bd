import Foundation
import NylasSimCore

/// What the calendar, event and contact routes share: the grant's calendar view, calendar IDs
/// (`primary` and the grant's address included), metadata and its filters.
extension RequestContext {
    /// Makes sure the grant has its calendar view (a grant from before calendars existed gets its
    /// first sync here), then runs `body` as a read.
    package func calendarRead<T: Sendable>(_ body: (EngineState, RegionStore) throws -> T) throws -> T {
        try ensureCalendarView()
        return try read(body)
    }

    /// The same, as a write.
    package func calendarWrite<T: Sendable>(_ body: (EngineState, RegionStore) throws -> T) throws -> T {
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
    package func changeKind(_ grant: GrantRecord) -> SyncKind { grant.changeKind }

    /// Offset page tokens of short lists (calendars, contact groups, Notetaker bots); 0 without one.
    package func pageOffset(_ key: String = "page_token") throws(NylasError) -> Int {
        try pageOffsetIfGiven(key) ?? 0
    }

    /// The offset of the page token `key`, nil when the query has none.
    package func pageOffsetIfGiven(_ key: String) throws(NylasError) -> Int? {
        try query[key].map { t throws(NylasError) -> Int in
            guard let n = Int(try PageToken.parse(t, count: 1)[0]), n >= 0 else { throw NylasError.invalidRequest("Invalid \(key)") }
            return n
        }
    }
}
