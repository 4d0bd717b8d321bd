import Foundation

/// A row of the `schedules` table: a v3 scheduled send, a v2 outbox message or a v2 job status.
package struct ScheduleRecord: Sendable {
    package var grantID: String
    package var id: String
    /// Unix seconds.
    package var sendAt: Int
    /// `pending`, `success`, `failed`, `cancelled` (sends), `successful` (finished v2 jobs).
    package var status: String
    /// The stored message (`OutgoingMessage.json`, with `v2_outbox` or `v2_job` for v2 rows).
    package var message: JSON
    /// The scheduler job that sends it, while pending.
    package var jobID: Int?
    package var createdAt: Int

    package init(grantID: String, id: String, sendAt: Int, status: String, message: JSON, jobID: Int?, createdAt: Int) {
        self.grantID = grantID
        self.id = id
        self.sendAt = sendAt
        self.status = status
        self.message = message
        self.jobID = jobID
        self.createdAt = createdAt
    }

    package init(_ row: SQLRow) {
        self.init(grantID: row.string("grant_id"), id: row.string("id"), sendAt: row.int("send_at"), status: row.string("status"),
                  message: row.json("message"), jobID: row.optionalInt("job_id"), createdAt: row.int("created_at"))
    }
}

extension RegionStore {
    package func insertSchedule(_ r: ScheduleRecord) throws {
        try db.run("INSERT INTO schedules(grant_id, id, send_at, status, message, job_id, created_at) VALUES(?,?,?,?,?,?,?)",
                   r.grantID, r.id, r.sendAt, r.status, r.message, r.jobID, r.createdAt)
    }

    package func schedule(grantID: String, id: String) throws -> ScheduleRecord? {
        try db.first("SELECT * FROM schedules WHERE grant_id = ? AND id = ?", grantID, id).map(ScheduleRecord.init)
    }

    /// The grant's schedules by send time (v3 `GET …/messages/schedules`).
    package func schedulesBySendTime(grantID: String) throws -> [ScheduleRecord] {
        try db.query("SELECT * FROM schedules WHERE grant_id = ? ORDER BY send_at, id", grantID).map(ScheduleRecord.init)
    }

    /// The account's rows in creation order (v2 `GET /job-statuses`).
    package func schedulesByCreation(grantID: String) throws -> [ScheduleRecord] {
        try db.query("SELECT * FROM schedules WHERE grant_id = ? ORDER BY created_at, rowid", grantID).map(ScheduleRecord.init)
    }

    /// Every pending schedule of the region (restored as jobs after a restart).
    package func pendingSchedules() throws -> [ScheduleRecord] {
        try db.query("SELECT * FROM schedules WHERE status = 'pending'").map(ScheduleRecord.init)
    }

    /// Saves a changed schedule: send time, status, message and job.
    package func update(_ r: ScheduleRecord) throws {
        try db.run("UPDATE schedules SET send_at = ?, status = ?, message = ?, job_id = ? WHERE grant_id = ? AND id = ?",
                   r.sendAt, r.status, r.message, r.jobID, r.grantID, r.id)
    }
}
