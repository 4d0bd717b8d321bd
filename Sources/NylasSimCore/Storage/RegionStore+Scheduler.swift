import Foundation

/// A Scheduler configuration as stored: its API object in `data`.
package struct SchedulerConfigurationRecord: Sendable {
    package var id: String
    package var applicationID: String
    package var grantID: String
    package var slug: String?
    /// The configuration object as the API returns it (defaults filled in).
    package var data: JSON
    package var createdAt: Int
    package var updatedAt: Int

    init(row: SQLRow) {
        id = row.string("id")
        applicationID = row.string("application_id")
        grantID = row.string("grant_id")
        slug = row.optionalString("slug")
        data = row.json("data")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    package init(id: String, applicationID: String, grantID: String, slug: String?, data: JSON, createdAt: Int, updatedAt: Int) {
        self.id = id
        self.applicationID = applicationID
        self.grantID = grantID
        self.slug = slug
        self.data = data
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Public configurations are reachable without a session (`requires_session_auth` false or null).
    package var isPublic: Bool { data["requires_session_auth"]?.boolValue != true }
}

/// A booking: what the simulator keeps of it (the event it created, the guest, the salt of its reference).
package struct SchedulerBookingRecord: Sendable {
    package var id: String
    package var configurationID: String
    package var applicationID: String
    /// `booked`, `pending` or `cancelled`.
    package var status: String
    package var data: JSON
    package var createdAt: Int
    package var updatedAt: Int

    init(row: SQLRow) {
        id = row.string("id")
        configurationID = row.string("configuration_id")
        applicationID = row.string("application_id")
        status = row.string("status")
        data = row.json("data")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    package init(id: String, configurationID: String, applicationID: String, status: String, data: JSON, createdAt: Int, updatedAt: Int) {
        self.id = id
        self.configurationID = configurationID
        self.applicationID = applicationID
        self.status = status
        self.data = data
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    package var startTime: Int { data["start_time"]?.intValue ?? 0 }
    package var endTime: Int { data["end_time"]?.intValue ?? 0 }
    package var organizerGrantID: String { data["organizer_grant_id"]?.stringValue ?? "" }
    package var eventID: String { data["event_id"]?.stringValue ?? "" }
}

extension RegionStore {
    // MARK: Configurations

    package func schedulerConfiguration(id: String) throws -> SchedulerConfigurationRecord? {
        try db.first("SELECT * FROM scheduler_configurations WHERE id = ?", id).map(SchedulerConfigurationRecord.init)
    }

    package func schedulerConfiguration(applicationID: String, slug: String) throws -> SchedulerConfigurationRecord? {
        try db.first("SELECT * FROM scheduler_configurations WHERE application_id = ? AND slug = ?", applicationID, slug)
            .map(SchedulerConfigurationRecord.init)
    }

    /// A grant's configurations, oldest first.
    package func schedulerConfigurations(grantID: String) throws -> [SchedulerConfigurationRecord] {
        try db.query("SELECT * FROM scheduler_configurations WHERE grant_id = ? ORDER BY created_at, id", grantID)
            .map(SchedulerConfigurationRecord.init)
    }

    package func save(_ c: SchedulerConfigurationRecord) throws {
        try db.run("""
            INSERT INTO scheduler_configurations(id, application_id, grant_id, slug, data, created_at, updated_at) VALUES(?,?,?,?,?,?,?)
            ON CONFLICT(id) DO UPDATE SET slug = excluded.slug, data = excluded.data, updated_at = excluded.updated_at
            """, c.id, c.applicationID, c.grantID, c.slug, c.data, c.createdAt, c.updatedAt)
    }

    package func deleteSchedulerConfiguration(id: String) throws {
        try db.run("DELETE FROM scheduler_configurations WHERE id = ?", id)
        try db.run("DELETE FROM scheduler_sessions WHERE configuration_id = ?", id)
    }

    /// Every configuration, oldest first.
    package func allSchedulerConfigurations() throws -> [SchedulerConfigurationRecord] {
        try db.query("SELECT * FROM scheduler_configurations ORDER BY created_at, id").map(SchedulerConfigurationRecord.init)
    }

    /// Every booking, oldest first.
    package func allSchedulerBookings() throws -> [SchedulerBookingRecord] {
        try db.query("SELECT * FROM scheduler_bookings ORDER BY created_at, rowid").map(SchedulerBookingRecord.init)
    }

    // MARK: Sessions

    package func schedulerSession(id: String) throws -> (configurationID: String, applicationID: String, expiresAt: Int)? {
        try db.first("SELECT * FROM scheduler_sessions WHERE id = ?", id).map {
            ($0.string("configuration_id"), $0.string("application_id"), $0.int("expires_at"))
        }
    }

    package func insertSchedulerSession(id: String, configurationID: String, applicationID: String, expiresAt: Int) throws {
        try db.run("INSERT INTO scheduler_sessions(id, configuration_id, application_id, expires_at) VALUES(?,?,?,?)",
                   id, configurationID, applicationID, expiresAt)
    }

    package func deleteSchedulerSession(id: String) throws {
        try db.run("DELETE FROM scheduler_sessions WHERE id = ?", id)
    }

    /// Whether a configuration has a session that has not expired at `now` (seconds).
    package func hasLiveSchedulerSession(configurationID: String, now: Int) throws -> Bool {
        try db.first("SELECT 1 AS x FROM scheduler_sessions WHERE configuration_id = ? AND expires_at > ? LIMIT 1",
                     configurationID, now) != nil
    }

    // MARK: Group events

    /// The group events of a configuration: event ID and capacity, by event ID.
    package func schedulerGroupEvents(configurationID: String) throws -> [String: (calendarID: String, capacity: Int)] {
        var out: [String: (calendarID: String, capacity: Int)] = [:]
        for row in try db.query("SELECT * FROM scheduler_group_events WHERE configuration_id = ?", configurationID) {
            out[row.string("event_id")] = (row.string("calendar_id"), row.int("capacity"))
        }
        return out
    }

    package func saveSchedulerGroupEvent(configurationID: String, grantID: String, eventID: String, calendarID: String, capacity: Int) throws {
        try db.run("""
            INSERT INTO scheduler_group_events(configuration_id, grant_id, event_id, calendar_id, capacity) VALUES(?,?,?,?,?)
            ON CONFLICT(configuration_id, event_id) DO UPDATE SET capacity = excluded.capacity, calendar_id = excluded.calendar_id
            """, configurationID, grantID, eventID, calendarID, capacity)
    }

    package func deleteSchedulerGroupEvent(configurationID: String, eventID: String) throws {
        try db.run("DELETE FROM scheduler_group_events WHERE configuration_id = ? AND event_id = ?", configurationID, eventID)
    }

    // MARK: Bookings

    package func schedulerBooking(id: String) throws -> SchedulerBookingRecord? {
        try db.first("SELECT * FROM scheduler_bookings WHERE id = ?", id).map(SchedulerBookingRecord.init)
    }

    /// The bookings that are booked, for their reminders.
    package func bookedSchedulerBookings() throws -> [SchedulerBookingRecord] {
        try db.query("SELECT * FROM scheduler_bookings WHERE status = 'booked' ORDER BY created_at, rowid").map(SchedulerBookingRecord.init)
    }

    package func save(_ b: SchedulerBookingRecord) throws {
        try db.run("""
            INSERT INTO scheduler_bookings(id, configuration_id, application_id, status, data, created_at, updated_at) VALUES(?,?,?,?,?,?,?)
            ON CONFLICT(id) DO UPDATE SET status = excluded.status, data = excluded.data, updated_at = excluded.updated_at
            """, b.id, b.configurationID, b.applicationID, b.status, b.data, b.createdAt, b.updatedAt)
    }
}
