import Foundation

extension RegionStore {
    /// What a sync tick needs to know of a grant (one query, without decoding the whole row):
    /// its status, provider, address, and its mail and calendar sync cursors.
    package struct PollState: Equatable {
        package var status: String
        package var provider: String
        package var email: String
        package var mailCursor: Int?
        package var calendarCursor: Int?
    }

    package func pollState(grantID: String) throws -> PollState? {
        let cache = try currentLookups()
        if let kept = cache.pollStates[grantID] { return kept }
        guard let state = try db.first("""
            SELECT g.grant_status AS status, g.provider AS provider, g.email AS email, s.cursor AS mail_cursor,
                c.cursor AS calendar_cursor FROM grants g LEFT JOIN sync_state s ON s.grant_id = g.id
                LEFT JOIN calendar_sync_state c ON c.grant_id = g.id WHERE g.id = ?
            """, grantID).map({
            PollState(status: $0.string("status"), provider: $0.string("provider"), email: $0.string("email"),
                      mailCursor: $0.optionalInt("mail_cursor"), calendarCursor: $0.optionalInt("calendar_cursor"))
        }) else { return nil }
        if cache.pollStates.count >= Lookups.pollLimit { cache.pollStates.removeAll(keepingCapacity: true) }
        cache.pollStates[grantID] = state
        return state
    }

    /// Writes a sync cursor through to the kept poll state of its grant, if one is kept and current.
    func keepPolled(grantID: String, _ change: (inout PollState) -> Void) {
        guard lookups.generation == db.lookupGeneration, lookups.pollStates[grantID] != nil else { return }
        change(&lookups.pollStates[grantID]!)
    }

    /// The grants of a mailbox, oldest first (looked up once per change to the grants: every send
    /// and every synced message asks).
    package func grants(email: String) throws -> [GrantRecord] {
        try cachedLookup(\.grantsByEmail, email) {
            try db.query("SELECT * FROM grants WHERE email = ? COLLATE NOCASE ORDER BY created_at, id", email).map(GrantRecord.init)
        } ?? []
    }
}

