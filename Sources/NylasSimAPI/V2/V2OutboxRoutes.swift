import Foundation
import NylasSimCore

/// v2 outbox (scheduled send, v2 reference §6.13) and job statuses (§6.15). An outbox message is a
/// job status row with the message to send, sent by a job on the virtual clock at `send_at`
/// through the same sender as `POST /send`.
package enum V2OutboxRoutes {
    package static func register(_ r: inout Router) {
        r.add("POST", "/v2/outbox", .v2, send)
        r.add("GET", "/v2/outbox/onboard/verified_status", .v2, listVerifiedStatus)
        r.add("DELETE", "/v2/outbox/onboard/subuser", .v2, deleteSubuser)
        r.add("PATCH", "/v2/outbox/{id}", .v2, patch)
        r.add("DELETE", "/v2/outbox/{id}", .v2, cancel)
        r.add("GET", "/job-statuses", .v2, listJobStatuses)
        r.add("GET", "/job-statuses/{id}", .v2, getJobStatus)
    }

    /// `GET "/v2/outbox/onboard/verified_status"`
    @Sendable static func listVerifiedStatus(_ ctx: RequestContext) async throws -> SimResponse {
        _ = try ctx.read { s, store in try ctx.v2Account(s, store) }
        return .json(["results": ["domain_verified": true, "sender_verified": true]])
    }

    /// `DELETE "/v2/outbox/onboard/subuser"`
    @Sendable static func deleteSubuser(_ ctx: RequestContext) async throws -> SimResponse {
        let email = try ctx.body().requiredString("email")
        guard EmailAddress.isValid(email) else { throw NylasError.invalidRequest("Invalid email address: \(email)") }
        _ = try ctx.read { s, store in try ctx.v2Account(s, store) }
        return .json(["success": true])
    }

    /// `GET "/job-statuses"`
    @Sendable static func listJobStatuses(_ ctx: RequestContext) async throws -> SimResponse {
        let (limit, offset) = try ctx.query.v2Paging()
        let view = try ctx.query.v2View(expanded: false)
        return .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let rows = try store.schedulesByCreation(grantID: account.id)
            if view == "count" { return ["count": .int(rows.count)] }
            let page = rows.dropFirst(offset).prefix(limit)
            if view == "ids" { return .strings(page.map(\.id)) }
            return .array(page.map { V2Jobs.json($0, account: account) })
        })
    }

    /// `GET "/job-statuses/{id}"`
    @Sendable static func getJobStatus(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            guard let row = try store.schedule(grantID: account.id, id: ctx.param("id")) else {
                throw NylasError.notFound("Couldn't find job status \(ctx.param("id"))")
            }
            return V2Jobs.json(row, account: account)
        })
    }

    /// The outbox job status object (no `object` key: the SDK parses it as its own type).
    package static func jobJSON(_ row: ScheduleRecord, account: GrantRecord) -> JSON {
        let message = row.message
        var o: JSON = ["account_id": .string(account.id), "job_status_id": .string(row.id),
                       "status": .string(V2Jobs.outboxStatuses[row.status] ?? row.status),
                       "original_data": V2Render.outboxOriginalData(row), "send_at": .int(row.sendAt),
                       "original_send_at": message["v2_outbox"]?["original_send_at"] ?? .int(row.sendAt),
                       "action": "schedule_send", "created_at": .int(row.createdAt)]
        if let id = message["v2_outbox"]?["message_id"] { o["message_id"] = id }
        if let id = message["v2_outbox"]?["thread_id"] { o["thread_id"] = id }
        return o
    }

    /// `send_at` (0 or absent: now; never in the past) and `retry_limit_datetime` (not before the send).
    package static func times(_ body: BodyFields, now: Int, current: Int?) throws(NylasError) -> (sendAt: Int, retryLimit: Int?) {
        var sendAt = current ?? now
        if body.has("send_at") {
            let v = try body.int("send_at") ?? 0
            if v > 253_402_300_799 { throw NylasError.invalidRequest("Invalid value for send_at: \(v) is not a Unix time in seconds") }
            if v != 0, v < now { throw NylasError.invalidRequest("Cannot set message to be sent at a time before the current time.") }
            sendAt = v == 0 ? now : v
        }
        let retry = try body.int("retry_limit_datetime")
        if let retry, !(0...253_402_300_799).contains(retry) {
            throw NylasError.invalidRequest("Invalid value for retry_limit_datetime: \(retry) is not a Unix time in seconds")
        }
        if let retry, retry != 0, retry < sendAt {
            throw NylasError.invalidRequest("Cannot set message to stop retrying before time to send at.")
        }
        return (sendAt, retry == 0 ? nil : retry)
    }

    package static func row(_ store: RegionStore, _ account: GrantRecord, _ id: String) throws -> ScheduleRecord {
        guard let row = try store.schedule(grantID: account.id, id: id),
              row.message["v2_job"] == nil else {
            throw NylasError.notFound("Couldn't find outbox job \(id)")
        }
        return row
    }

    /// A `--data-dir` server restarted: pending outbox messages get their send jobs again.
    package static func restore(_ s: EngineState) throws {
        for region in Region.allCases {
            for var row in try s.store(region).pendingSchedules() where row.message["v2_outbox"] != nil {
                row.jobID = scheduleJob(s, region: region, accountID: row.grantID, id: row.id, at: row.sendAt)
                try s.store(region).update(row)
            }
        }
    }

    @discardableResult
    package static func scheduleJob(_ s: EngineState, region: Region, accountID: String, id: String, at time: Int) -> Int {
        s.schedule(at: VirtualTime(seconds: time), "v2 outbox \(id)") { core in
            try? core.transaction { s in try run(s, region: region, accountID: accountID, id: id) }
        }
    }

    @Sendable package static func send(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return .json(try ctx.write { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let (sendAt, retry) = try times(body, now: s.now.seconds, current: nil)
            var out = try V2MessageInput.parse(body, account, s, store)
            out.sendAt = sendAt
            if (out.to + out.cc + out.bcc).isEmpty { throw NylasError.invalidRequest("No recipients: give to, cc or bcc") }
            let id = store.ids.base36("v2-job-status")
            guard case .object(var message) = out.json else { throw NylasError.internal("message not stored") }
            message["v2_outbox"] = ["original_send_at": .int(sendAt), "retry_limit_datetime": .optional(retry)]
            let job = scheduleJob(s, region: ctx.region, accountID: account.id, id: id, at: sendAt)
            try store.insertSchedule(ScheduleRecord(grantID: account.id, id: id, sendAt: sendAt, status: "pending",
                                                    message: .object(message), jobID: job, createdAt: s.now.seconds))
            return jobJSON(try row(store, account, id), account: account)
        })
    }

    @Sendable package static func patch(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return .json(try ctx.write { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let existing = try row(store, account, ctx.param("id"))
            guard existing.status == "pending" else {
                throw NylasError.invalidRequest("Outbox job \(existing.id) is \(V2Jobs.outboxStatuses[existing.status] ?? "done") and cannot be changed")
            }
            let stored = existing.message
            var out = OutgoingMessage(stored: stored)
            let (sendAt, retry) = try times(body, now: s.now.seconds, current: existing.sendAt)
            try V2MessageInput.merge(body, into: &out, account, s, store)
            if body.has("from") || body.has("reply_to") {
                let update = try V2MessageInput.parse(body, account, s, store)
                if body.has("from") { out.from = update.from }
                if body.has("reply_to") { out.replyTo = update.replyTo }
            }
            out.sendAt = sendAt
            if (out.to + out.cc + out.bcc).isEmpty { throw NylasError.invalidRequest("No recipients: give to, cc or bcc") }
            guard case .object(var message) = out.json else { throw NylasError.internal("message not stored") }
            var outbox = stored["v2_outbox"]?.objectValue ?? [:]
            if body.has("retry_limit_datetime") { outbox["retry_limit_datetime"] = .optional(retry) }
            message["v2_outbox"] = .object(outbox)
            var job = existing.jobID
            if sendAt != existing.sendAt {
                if let job { s.jobs.cancel(job) }
                job = scheduleJob(s, region: ctx.region, accountID: account.id, id: existing.id, at: sendAt)
            }
            var changed = existing
            changed.sendAt = sendAt
            changed.message = .object(message)
            changed.jobID = job
            try store.update(changed)
            return jobJSON(try row(store, account, existing.id), account: account)
        })
    }

    @Sendable package static func cancel(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            let existing = try row(store, account, ctx.param("id"))
            guard existing.status == "pending" else {
                throw NylasError.invalidRequest("Outbox job \(existing.id) is \(V2Jobs.outboxStatuses[existing.status] ?? "done") and cannot be deleted")
            }
            if let job = existing.jobID { s.jobs.cancel(job) }
            var cancelled = existing
            cancelled.status = "cancelled"
            cancelled.jobID = nil
            try store.update(cancelled)
        }
        return SimResponse(status: 200)
    }

    /// The job at `send_at`: sends the message (or fails it), records the outcome, and notifies
    /// `job.successful` / `job.failed` to the account's v2 webhooks.
    package static func run(_ s: EngineState, region: Region, accountID: String, id: String) throws {
        let store = s.store(region)
        guard let row = try store.schedule(grantID: accountID, id: id),
              row.status == "pending", case .object(var message) = row.message else { return }
        var outbox = message["v2_outbox"]?.objectValue ?? [:]
        let out = OutgoingMessage(stored: .object(message))
        let account = try store.grant(id: accountID)
        var failure: String?
        if account == nil || account?.billingState == "deleted" {
            failure = "The account does not exist."
        } else if account?.status != .valid || account?.syncState == "stopped" || account?.billingState == "cancelled" {
            failure = "The account's credentials are out of date or its sync is stopped."
        } else if s.providerUnavailable(account!.provider, mailbox: account!.email) {
            failure = "Request timed out."
        }
        var status = "success"
        if let failure {
            status = "failed"
            outbox["reason"] = .string(failure)
        } else if let account {
            let record = try MailSender.send(s, region: region, grant: account, out)
            try s.store(region).markV2FilesAttached(accountID: account.id, out, messageID: record.id)
            outbox["message_id"] = .string(record.id)
            outbox["thread_id"] = .string(record.threadID)
        }
        message["v2_outbox"] = .object(outbox)
        var finished = row
        finished.status = status
        finished.message = .object(message)
        finished.jobID = nil
        try store.update(finished)
        if let account {
            var attributes: JSON = ["action": "schedule_send", "job_status_id": .string(id)]
            if let m = outbox["message_id"] { attributes["message_id"] = m }
            if let t = outbox["thread_id"] { attributes["thread_id"] = t }
            attributes["extras"] = ["reason": outbox["reason"] ?? .null, "send_at": .int(row.sendAt),
                                    "original_send_at": outbox["original_send_at"] ?? .int(row.sendAt)]
            s.emit(SimEvent(region: region, applicationID: account.applicationID, grantID: account.id,
                            type: failure == nil ? "job.successful" : "job.failed",
                            object: ["id": .string(id), "object": "message", "attributes": attributes],
                            source: "/nylas/outbox", time: s.now, apiVersion: 2))
        }
    }
}
