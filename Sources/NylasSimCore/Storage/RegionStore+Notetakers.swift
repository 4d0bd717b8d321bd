import Foundation

/// A Notetaker bot as stored: its API object in `data`, its media (once processed) beside it.
package struct NotetakerRecord: Sendable {
    package var id: String
    package var applicationID: String
    /// Nil for a standalone bot (`/v3/notetakers`).
    package var grantID: String?
    package var state: String
    package var joinTime: Int
    package var name: String
    /// The API object, plus the simulator's own keys (`_media`, `_meeting_ended_at`…) that `json` leaves out.
    package var data: JSON
    package var createdAt: Int
    package var updatedAt: Int

    init(row: SQLRow) {
        id = row.string("id")
        applicationID = row.string("application_id")
        grantID = row.optionalString("grant_id")
        state = row.string("state")
        joinTime = row.int("join_time")
        name = row.string("name")
        data = row.json("data")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    package init(id: String, applicationID: String, grantID: String?, state: String, joinTime: Int, name: String, data: JSON,
                 createdAt: Int, updatedAt: Int) {
        self.id = id
        self.applicationID = applicationID
        self.grantID = grantID
        self.state = state
        self.joinTime = joinTime
        self.name = name
        self.data = data
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension RegionStore {
    package func notetaker(id: String) throws -> NotetakerRecord? {
        try db.first("SELECT * FROM notetakers WHERE id = ?", id).map(NotetakerRecord.init)
    }

    /// An application's bots: one grant's, or the standalone ones when `grantID` is nil.
    package func notetakers(applicationID: String?, grantID: String?) throws -> [NotetakerRecord] {
        if let grantID, applicationID == nil {
            return try db.query("SELECT * FROM notetakers WHERE grant_id = ? ORDER BY created_at, rowid", grantID).map(NotetakerRecord.init)
        }
        if let grantID {
            return try db.query("SELECT * FROM notetakers WHERE application_id = ? AND grant_id = ? ORDER BY created_at, rowid",
                                applicationID, grantID).map(NotetakerRecord.init)
        }
        return try db.query("SELECT * FROM notetakers WHERE application_id = ? AND grant_id IS NULL ORDER BY created_at, rowid",
                            applicationID ?? "").map(NotetakerRecord.init)
    }

    /// Every bot of the region (jobs restored after a restart, the dashboard).
    package func allNotetakers() throws -> [NotetakerRecord] {
        try db.query("SELECT * FROM notetakers ORDER BY created_at, rowid").map(NotetakerRecord.init)
    }

    package func save(_ n: NotetakerRecord) throws {
        try db.run("""
            INSERT INTO notetakers(id, application_id, grant_id, state, join_time, name, data, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?)
            ON CONFLICT(id) DO UPDATE SET state = excluded.state, join_time = excluded.join_time, name = excluded.name,
                data = excluded.data, updated_at = excluded.updated_at
            """, n.id, n.applicationID, n.grantID, n.state, n.joinTime, n.name, n.data, n.createdAt, n.updatedAt)
    }

    package func deleteNotetaker(id: String) throws {
        try db.run("DELETE FROM notetakers WHERE id = ?", id)
    }

    package func appendNotetakerHistory(notetakerID: String, time: Int, eventType: String, data: JSON) throws {
        try db.run("INSERT INTO notetaker_history(notetaker_id, created_at, event_type, data) VALUES(?,?,?,?)",
                   notetakerID, time, eventType, data)
    }

    package func notetakerHistory(notetakerID: String) throws -> [(createdAt: Int, eventType: String, data: JSON)] {
        try db.query("SELECT * FROM notetaker_history WHERE notetaker_id = ? ORDER BY seq", notetakerID).map {
            ($0.int("created_at"), $0.string("event_type"), $0.json("data"))
        }
    }
}
