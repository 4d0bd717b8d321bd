import Foundation

/// Scheduled sends: a row per schedule, a job on the virtual clock at `send_at`.
///
/// With `use_draft` (Google and Microsoft) the message waits in the grant's Drafts until it is
/// sent: at `send_at` the draft as it is then is sent and leaves Drafts; cancelling the schedule
/// leaves the draft where it is (deleting a schedule does not delete the message).
package enum Schedules {
    package static func create(_ s: EngineState, region: Region, grant: GrantRecord, _ out: OutgoingMessage) throws -> String {
        let store = s.store(region)
        let id = store.ids.uuid("schedule")
        let sendAt = VirtualTime(seconds: out.sendAt ?? s.now.seconds)
        var message = out.json
        if out.useDraft {
            let draftID = try store.mintID(grant: grant, kind: "draft", worldKey: "draft:" + store.ids.base36("draft-key", length: 12))
            _ = try Drafts.save(s, store, grant, id: draftID, out, created: s.now.seconds)
            message["draft_id"] = .string(draftID)
        }
        let job = scheduleJob(s, region: region, grantID: grant.id, scheduleID: id, at: sendAt)
        try store.insertSchedule(ScheduleRecord(grantID: grant.id, id: id, sendAt: sendAt.seconds, status: "pending", message: message,
                                                jobID: job, createdAt: s.now.seconds))
        return id
    }

    /// The draft a `use_draft` schedule keeps its message in.
    package static func draftID(_ row: ScheduleRecord) -> String? { row.message["draft_id"]?.stringValue }

    @discardableResult
    package static func scheduleJob(_ s: EngineState, region: Region, grantID: String, scheduleID: String, at time: VirtualTime) -> Int {
        s.schedule(at: time, "scheduled send \(scheduleID)") { core in
            try? core.transaction { s in try run(s, region: region, grantID: grantID, scheduleID: scheduleID) }
        }
    }

    /// Re-creates the jobs of pending schedules (a `--data-dir` server restarted).
    package static func restore(_ s: EngineState) throws {
        for region in Region.allCases {
            // v2 outbox rows are the API layer's to restore (its v2 outbox job).
            for var row in try s.store(region).pendingSchedules() where row.message["v2_outbox"] == nil {
                // The job ID of the process that stopped means nothing now: the row gets the new one.
                row.jobID = scheduleJob(s, region: region, grantID: row.grantID, scheduleID: row.id,
                                        at: VirtualTime(seconds: row.sendAt))
                try s.store(region).update(row)
            }
        }
    }

    package static func run(_ s: EngineState, region: Region, grantID: String, scheduleID: String) throws {
        let store = s.store(region)
        guard let row = try store.schedule(grantID: grantID, id: scheduleID),
              row.status == "pending" else { return }
        var out = OutgoingMessage(stored: row.message)
        let draft = try draftID(row).flatMap { try store.draft(grantID: grantID, id: $0) }
        if let draft {
            out = draft.out  // the draft as it is now (it may have been edited)
            out.sendAt = row.sendAt
            out.useDraft = true
        }
        func finish(_ status: String) throws {
            var finished = row
            finished.status = status
            finished.jobID = nil
            try store.update(finished)
        }
        guard let grant = try store.grant(id: grantID) else { try finish("failed"); return }
        let failure: NylasError?
        if grant.status != .valid {
            failure = NylasError(status: 401, type: "grant.invalid", message: "The grant's credentials are no longer valid")
        } else if s.providerUnavailable(grant.provider, mailbox: grant.email) {
            failure = .providerError()
        } else if draftID(row) != nil, draft == nil {
            failure = .notFound("The draft of the scheduled send was deleted")
        } else {
            failure = nil
        }
        if let failure {
            try finish("failed")
            var object = MailSender.draftLike(out, grant: grant)
            object["schedule_id"] = .string(scheduleID)
            // Reference §6 (v3 l. 623): `data` holds `reason` and `error` beside the object.
            object[SimEvent.dataKey] = ["reason": .string(failure.message),
                                        "error": ["type": .string(failure.type), "message": .string(failure.message), "status_code": .int(failure.status)]]
            s.emit(SimEvent(region: region, applicationID: grant.applicationID, grantID: grant.id, type: "message.send_failed",
                            object: object, source: "/nylas/send", time: s.now))
            return
        }
        let record = try MailSender.send(s, region: region, grant: grant, out)
        if let draft { try store.deleteDraft(grantID: grantID, id: draft.id) }
        try finish("success")
        var object = MailSender.response(record, out, scheduleID: scheduleID)
        object["body"] = nil
        object["send_at"] = .int(out.sendAt ?? s.now.seconds)
        object["use_draft"] = .bool(out.useDraft)
        s.emit(SimEvent(region: region, applicationID: grant.applicationID, grantID: grant.id, type: "message.send_success",
                        object: object, source: "/nylas/send", time: s.now))
    }

    package static func json(_ row: ScheduleRecord) -> JSON {
        let status = row.status
        let description = ["pending": "schedule send awaiting send at time", "success": "schedule send succeeded",
                           "failed": "schedule send failed", "cancelled": "schedule send cancelled"][status] ?? status
        var o: JSON = ["schedule_id": .string(row.id), "status": ["code": .string(status), "description": .string(description)]]
        if status != "pending" { o["close_time"] = .int(row.sendAt) }
        return o
    }

    package static func all(_ store: RegionStore, grantID: String) throws -> [JSON] {
        try store.schedulesBySendTime(grantID: grantID).map(json)
    }

    package static func one(_ store: RegionStore, grantID: String, id: String) throws -> JSON? {
        try store.schedule(grantID: grantID, id: id).map(json)
    }

    package static func cancel(_ s: EngineState, _ store: RegionStore, grantID: String, id: String) throws {
        guard var row = try store.schedule(grantID: grantID, id: id) else {
            throw NylasError.notFound("Schedule not found: \(id)")
        }
        guard row.status == "pending" else {
            throw NylasError.invalidRequest("The scheduled send \(id) is \(row.status) and cannot be cancelled")
        }
        guard row.sendAt - s.now.seconds >= 10 else {
            throw NylasError.invalidRequest("A scheduled send can be cancelled up to 10 seconds before send_at")
        }
        if let job = row.jobID { s.jobs.cancel(job) }
        row.status = "cancelled"
        row.jobID = nil
        try store.update(row)
    }
}

extension MailSender {
    /// A message object for something not (yet) sent.
    package static func draftLike(_ out: OutgoingMessage, grant: GrantRecord) -> JSON {
        ["grant_id": .string(grant.id), "object": "message", "subject": .string(out.subject), "to": Participant.json(out.to),
         "cc": Participant.json(out.cc), "bcc": Participant.json(out.bcc), "reply_to": Participant.json(out.replyTo),
         "from": Participant.json(out.from.isEmpty ? [Participant(name: grant.name ?? "", email: grant.email)] : out.from),
         "attachments": []]
    }
}
