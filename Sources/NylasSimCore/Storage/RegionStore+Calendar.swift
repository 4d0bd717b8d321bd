import Foundation

/// A calendar as one grant sees it: the API object (`data`, with the grant's metadata).
package struct CalendarRecord: Sendable {
    package var grantID: String
    package var id: String
    package var worldID: Int64
    package var isPrimary: Bool
    package var readOnly: Bool
    package var data: JSON

    package init(row: SQLRow) {
        grantID = row.string("grant_id")
        id = row.string("id")
        worldID = Int64(row.int("world_id"))
        isPrimary = row.bool("is_primary")
        readOnly = row.bool("read_only")
        data = row.json("data")
    }

    package init(grantID: String, id: String, worldID: Int64, isPrimary: Bool, readOnly: Bool, data: JSON) {
        self.grantID = grantID
        self.id = id
        self.worldID = worldID
        self.isPrimary = isPrimary
        self.readOnly = readOnly
        self.data = data
    }

    package var metadata: [String: JSON] { data["metadata"]?.objectValue ?? [:] }
}

/// An event as one grant sees it: a single event, a recurring master or an exception (an edited
/// or cancelled occurrence). Plain occurrences are not stored: they are computed from the master.
package struct EventRecord: Sendable {
    package var grantID: String
    package var id: String
    package var worldID: Int64
    package var calendarID: String
    package var icalUID: String
    package var masterEventID: String?
    package var originalStart: Int?
    package var recurring: Bool
    package var startTime: Int
    package var endTime: Int
    package var status: String
    /// The API object (with IDs and metadata).
    package var data: JSON
    package var createdAt: Int
    package var updatedAt: Int

    package init(row: SQLRow) {
        grantID = row.string("grant_id")
        id = row.string("id")
        worldID = Int64(row.int("world_id"))
        calendarID = row.string("calendar_id")
        icalUID = row.string("ical_uid")
        masterEventID = row.optionalString("master_event_id")
        originalStart = row.optionalInt("original_start")
        recurring = row.bool("recurring")
        startTime = row.int("start_time")
        endTime = row.int("end_time")
        status = row.string("status")
        data = row.json("data")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    package init(grantID: String, id: String, worldID: Int64, calendarID: String, icalUID: String, masterEventID: String?,
         originalStart: Int?, content: EventContent, data: JSON, createdAt: Int, updatedAt: Int) {
        self.grantID = grantID
        self.id = id
        self.worldID = worldID
        self.calendarID = calendarID
        self.icalUID = icalUID
        self.masterEventID = masterEventID
        self.originalStart = originalStart
        recurring = content.isRecurring
        startTime = content.when.startUnix
        // A series without an end runs until the end of time.
        endTime = content.isRecurring ? 253_402_300_799 : content.when.endUnix
        status = content.status
        self.data = data
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    package var when: EventWhen? { EventWhen(stored: data["when"]) }
    package var metadata: [String: JSON] { data["metadata"]?.objectValue ?? [:] }
    package var recurrence: Recurrence? {
        guard let lines = data["recurrence"]?.arrayValue?.compactMap(\.stringValue), !lines.isEmpty else { return nil }
        return try? Recurrence.parse(lines)
    }
}

/// A contact as one grant sees it.
package struct ContactRecord: Sendable {
    package var grantID: String
    package var id: String
    package var worldID: Int64
    package var data: JSON
    package var createdAt: Int
    package var updatedAt: Int

    package init(row: SQLRow) {
        grantID = row.string("grant_id")
        id = row.string("id")
        worldID = Int64(row.int("world_id"))
        data = row.json("data")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    package init(grantID: String, id: String, worldID: Int64, data: JSON, createdAt: Int, updatedAt: Int) {
        self.grantID = grantID
        self.id = id
        self.worldID = worldID
        self.data = data
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    package var metadata: [String: JSON] { data["metadata"]?.objectValue ?? [:] }

    /// Lowercased addresses, space-separated with spaces around, for whole-address matching.
    package var emailsText: String {
        " " + (data["emails"]?.arrayValue ?? []).compactMap { $0["email"]?.stringValue?.lowercased() }.joined(separator: " ") + " "
    }

    /// Phone numbers reduced to their digits (and a leading +).
    package var phonesText: String {
        " " + (data["phone_numbers"]?.arrayValue ?? []).compactMap { $0["number"]?.stringValue.map(ContactRecord.normalizedPhone) }
            .joined(separator: " ") + " "
    }

    package var groupsText: String {
        " " + (data["groups"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }.joined(separator: " ") + " "
    }

    package static func normalizedPhone(_ s: String) -> String { s.filter { $0.isNumber } }
}

extension RegionStore {
    // MARK: - Calendars

    /// A grant's calendars, the primary first, then in the order they were created (v2 lists them so).
    package func calendarsInCreationOrder(grantID: String) throws -> [CalendarRecord] {
        try db.query("SELECT * FROM calendars WHERE grant_id = ? ORDER BY is_primary DESC, rowid", grantID).map(CalendarRecord.init)
    }

    package func calendars(grantID: String) throws -> [CalendarRecord] {
        try db.query("SELECT * FROM calendars WHERE grant_id = ? ORDER BY is_primary DESC, id", grantID).map(CalendarRecord.init)
    }

    package func calendar(grantID: String, id: String) throws -> CalendarRecord? {
        try db.first("SELECT * FROM calendars WHERE grant_id = ? AND id = ?", grantID, id).map(CalendarRecord.init)
    }

    package func calendar(grantID: String, worldID: Int64) throws -> CalendarRecord? {
        try db.first("SELECT * FROM calendars WHERE grant_id = ? AND world_id = ?", grantID, worldID).map(CalendarRecord.init)
    }

    package func primaryCalendar(grantID: String) throws -> CalendarRecord? {
        try db.first("SELECT * FROM calendars WHERE grant_id = ? AND is_primary = 1", grantID).map(CalendarRecord.init)
    }

    package func save(_ c: CalendarRecord) throws {
        try db.run("""
            INSERT INTO calendars(grant_id, id, world_id, is_primary, read_only, data) VALUES(?,?,?,?,?,?)
            ON CONFLICT(grant_id, id) DO UPDATE SET is_primary = excluded.is_primary, read_only = excluded.read_only, data = excluded.data
            """, c.grantID, c.id, c.worldID, c.isPrimary, c.readOnly, c.data)
    }

    package func deleteCalendar(grantID: String, id: String) throws {
        try db.run("DELETE FROM calendars WHERE grant_id = ? AND id = ?", grantID, id)
        try db.run("DELETE FROM events WHERE grant_id = ? AND calendar_id = ?", grantID, id)
    }

    // MARK: - Events

    package func event(grantID: String, id: String) throws -> EventRecord? {
        try db.first("SELECT * FROM events WHERE grant_id = ? AND id = ?", grantID, id).map(EventRecord.init)
    }

    package func event(grantID: String, worldID: Int64) throws -> EventRecord? {
        try db.first("SELECT * FROM events WHERE grant_id = ? AND world_id = ?", grantID, worldID).map(EventRecord.init)
    }

    /// Events of a calendar that may touch `[start, end)`: every master and exception, and the
    /// single events overlapping the window.
    package func events(grantID: String, calendarID: String, start: Int, end: Int) throws -> [EventRecord] {
        try db.query("""
            SELECT * FROM events WHERE grant_id = ? AND calendar_id = ? AND (recurring = 1 OR master_event_id IS NOT NULL
                OR (start_time < ? AND (end_time > ? OR (end_time = start_time AND start_time >= ?))))
            """, grantID, calendarID, end, start, start).map(EventRecord.init)
    }

    package func events(grantID: String, calendarID: String) throws -> [EventRecord] {
        try db.query("SELECT * FROM events WHERE grant_id = ? AND calendar_id = ?", grantID, calendarID).map(EventRecord.init)
    }

    package func exceptions(grantID: String, masterID: String) throws -> [EventRecord] {
        try db.query("SELECT * FROM events WHERE grant_id = ? AND master_event_id = ? ORDER BY original_start", grantID, masterID)
            .map(EventRecord.init)
    }

    package func save(_ e: EventRecord) throws {
        try db.run("""
            INSERT INTO events(grant_id, id, world_id, calendar_id, ical_uid, master_event_id, original_start, recurring, start_time,
                end_time, status, data, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(grant_id, id) DO UPDATE SET calendar_id = excluded.calendar_id, master_event_id = excluded.master_event_id,
                original_start = excluded.original_start, recurring = excluded.recurring, start_time = excluded.start_time,
                end_time = excluded.end_time, status = excluded.status, data = excluded.data, updated_at = excluded.updated_at
            """, e.grantID, e.id, e.worldID, e.calendarID, e.icalUID, e.masterEventID, e.originalStart, e.recurring, e.startTime,
            e.endTime, e.status, e.data, e.createdAt, e.updatedAt)
    }

    package func deleteEvent(grantID: String, id: String) throws {
        try db.run("DELETE FROM events WHERE grant_id = ? AND id = ?", grantID, id)
    }

    // MARK: - Contacts

    package func contact(grantID: String, id: String) throws -> ContactRecord? {
        try db.first("SELECT * FROM contacts WHERE grant_id = ? AND id = ?", grantID, id).map(ContactRecord.init)
    }

    package func contact(grantID: String, worldID: Int64) throws -> ContactRecord? {
        try db.first("SELECT * FROM contacts WHERE grant_id = ? AND world_id = ?", grantID, worldID).map(ContactRecord.init)
    }

    package func save(_ c: ContactRecord) throws {
        try db.run("""
            INSERT INTO contacts(grant_id, id, world_id, data, emails, phones, source, groups, created_at, updated_at)
            VALUES(?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(grant_id, id) DO UPDATE SET data = excluded.data, emails = excluded.emails, phones = excluded.phones,
                source = excluded.source, groups = excluded.groups, updated_at = excluded.updated_at
            """, c.grantID, c.id, c.worldID, c.data, c.emailsText, c.phonesText, c.data["source"]?.stringValue ?? "address_book",
            c.groupsText, c.createdAt, c.updatedAt)
    }

    package func deleteContact(grantID: String, id: String) throws {
        try db.run("DELETE FROM contacts WHERE grant_id = ? AND id = ?", grantID, id)
    }

    package func contactGroups(grantID: String) throws -> [(id: String, worldKey: String, data: JSON)] {
        try db.query("SELECT * FROM contact_groups WHERE grant_id = ? ORDER BY rowid", grantID).map {
            ($0.string("id"), $0.string("world_key"), $0.json("data"))
        }
    }

    package func saveContactGroup(grantID: String, id: String, worldKey: String, data: JSON) throws {
        try db.run("""
            INSERT INTO contact_groups(grant_id, id, world_key, data) VALUES(?,?,?,?)
            ON CONFLICT(grant_id, id) DO UPDATE SET data = excluded.data
            """, grantID, id, worldKey, data)
    }

    // MARK: - Sync cursor

    package func calendarSyncCursor(grantID: String) throws -> Int? {
        try db.first("SELECT cursor FROM calendar_sync_state WHERE grant_id = ?", grantID)?.int("cursor")
    }

    package func setCalendarSyncCursor(grantID: String, cursor: Int) throws {
        try db.run("""
            INSERT INTO calendar_sync_state(grant_id, cursor) VALUES(?,?)
            ON CONFLICT(grant_id) DO UPDATE SET cursor = excluded.cursor
            """, grantID, cursor)
        keepPolled(grantID: grantID) { $0.calendarCursor = cursor }
    }
}

/// Which of a grant's contacts a v3 list wants.
package struct ContactFilter: Sendable {
    package init(email: String? = nil, phoneDigits: String? = nil, group: String? = nil, sources: [String] = ["address_book"]) {
        self.email = email
        self.phoneDigits = phoneDigits
        self.group = group
        self.sources = sources
    }

    /// A whole address among the contact's e-mails (lower-cased).
    package var email: String?
    /// Digits of a phone number among the contact's.
    package var phoneDigits: String?
    /// A group ID the contact belongs to.
    package var group: String?
    /// `source` values, at least one.
    package var sources: [String] = ["address_book"]
}

extension RegionStore {
    /// The grant's contacts matching `filter`, by ID, after the ID `after`.
    package func contacts(grantID: String, matching filter: ContactFilter, after: String?) throws -> [ContactRecord] {
        var f = SQLFilter()
        f.add("grant_id = ?", grantID)
        if let email = filter.email { f.add("emails LIKE ? ESCAPE '\\'", "% " + SQLFilter.likeEscape(email) + " %") }
        if let digits = filter.phoneDigits { f.add("phones LIKE ?", "% \(digits) %") }
        if let group = filter.group { f.add("groups LIKE ? ESCAPE '\\'", "% " + SQLFilter.likeEscape(group) + " %") }
        f.clauses.append("source IN (" + filter.sources.map { _ in "?" }.joined(separator: ",") + ")")
        f.binds.append(contentsOf: filter.sources as [any SQLBindable])
        if let after { f.add("id > ?", after) }
        return try db.query("SELECT * FROM contacts WHERE \(f.sql) ORDER BY id", f.binds).map(ContactRecord.init)
    }

    /// The grant's contacts, oldest first.
    package func contacts(grantID: String) throws -> [ContactRecord] {
        try db.query("SELECT * FROM contacts WHERE grant_id = ? ORDER BY created_at, id", grantID).map(ContactRecord.init)
    }

    /// How many of the grant's events carry the round-robin group `group` (`metadata.key5`), and the latest start.
    package func roundRobinBookings(grantID: String, group: String) throws -> (count: Int, latestStart: Int) {
        let rows = try db.query("SELECT start_time FROM events WHERE grant_id = ? AND json_extract(CAST(data AS TEXT), '$.metadata.key5') = ?",
                                grantID, group)
        return (rows.count, rows.map { $0.int("start_time") }.max() ?? 0)
    }
}

extension RegionStore {
    /// The grant's events (masters and single events, not occurrences) with an iCalendar UID.
    package func eventIDs(grantID: String, icalUID: String) throws -> [String] {
        try db.query("SELECT id FROM events WHERE grant_id = ? AND ical_uid = ? AND master_event_id IS NULL ORDER BY rowid",
                     grantID, icalUID).map { $0.string("id") }
    }
}
