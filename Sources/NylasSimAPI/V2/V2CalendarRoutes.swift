import Foundation
import NylasSimCore

/// v2 calendars, free/busy and availability (v2 reference §6.8, §6.10); events, contacts, outbox
/// and job statuses are registered from here too. A v2 account is a row of the `grants` table,
/// so its calendar view is the one the calendar sync keeps for every grant: these routes are a
/// v2 rendering and input translation over the same store, world and sync.
package enum V2CalendarRoutes {
    package static func register(_ r: inout Router) {
        r.add("POST", "/calendars/free-busy", .v2, freeBusy)
        r.add("POST", "/calendars/availability", .v2, availability)
        r.add("POST", "/calendars/availability/consecutive", .v2, consecutiveAvailability)
        r.add("GET", "/calendars", .v2, list)
        r.add("POST", "/calendars", .v2, create)
        r.add("GET", "/calendars/{id}", .v2, get)
        r.add("PUT", "/calendars/{id}", .v2, update)
        r.add("DELETE", "/calendars/{id}", .v2, delete)
    }

    /// Every v2 account's read-only "Emailed events" calendar (reference v2 §6.9): the events Nylas
    /// parsed from invitations in the mail. It is Nylas's own, not the provider's, so it is not in
    /// the provider world; its ID is derived from the account's.
    package enum EmailedEvents {
        package static func id(_ account: GrantRecord) -> String {
            "e" + String(Digest.hex(Digest.sha256(Array("emailed-events|\(account.id)".utf8))).prefix(24))
        }
        package static func json(_ account: GrantRecord) -> JSON {
            ["id": .string(id(account)), "object": "calendar", "account_id": .string(account.id), "name": "Emailed events",
             "description": "Emailed events", "location": .null, "timezone": .null, "read_only": true, "is_primary": false,
             "hex_color": "#0099EE", "metadata": [:], "job_status_id": .null]
        }
    }

    package static func calendar(_ store: RegionStore, _ account: GrantRecord, _ id: String) throws -> CalendarRecord {
        guard let c = try store.calendar(grantID: account.id, id: id) else { throw NylasError.notFound("Couldn't find calendar \(id)") }
        return c
    }

    /// Fields a v2 client may send back but cannot change (the SDK sends some of them).
    package static let readOnlyCalendarFields: Set<String> = ["id", "object", "account_id", "job_status_id", "read_only", "is_primary", "hex_color"]

    package static func fields(_ body: BodyFields) throws(NylasError) -> CalendarFields {
        try CalendarFields(BodyFields(body.values.filter { !readOnlyCalendarFields.contains($0.key) }))
    }

    // MARK: - CRUD

    @Sendable package static func list(_ ctx: RequestContext) async throws -> SimResponse {
        let (limit, offset) = try ctx.query.v2Paging()
        let view = try ctx.query.v2View(expanded: false)
        let filter = try V2Calendar.MetadataFilter(ctx.query)
        return .json(try ctx.v2CalendarRead { s, store, account in
            var all = try store.calendarsInCreationOrder(grantID: account.id).filter { filter.matches($0.metadata) }
                .map { (id: $0.id, json: V2Render.calendar($0, account: account)) }
            if filter.matches([:]) { all.insert((EmailedEvents.id(account), EmailedEvents.json(account)), at: 0) }  // made with the account
            if view == "count" { return ["count": .int(all.count)] }
            let page = Array(all.dropFirst(offset).prefix(limit))
            if view == "ids" { return .strings(page.map(\.id)) }
            return .array(page.map(\.json))
        })
    }

    @Sendable package static func get(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.v2CalendarRead { s, store, account in
            if ctx.param("id") == EmailedEvents.id(account) { return EmailedEvents.json(account) }
            return V2Render.calendar(try calendar(store, account, ctx.param("id")), account: account)
        })
    }

    @Sendable package static func create(_ ctx: RequestContext) async throws -> SimResponse {
        let f = try fields(try ctx.body())
        guard let name = f.name else { throw NylasError.missingField("name") }
        return .json(try ctx.v2CalendarWrite { s, store, account in
            var c = WorldCalendar(mailbox: account.email.lowercased(), role: "user", name: name, now: s.now.seconds)
            c.description = f.description
            c.location = f.location
            c.timezone = try f.timezone ?? s.world.primaryCalendar(mailbox: account.email)?.timezone ?? "UTC"
            let created = try s.world.insertCalendar(c, time: s.now)
            guard let record = try CalendarSync.applyCalendar(s, region: ctx.region, grant: account, created, kind: ctx.changeKind(account),
                                                              metadata: f.metadata ?? [:]) else {
                throw NylasError.internal("calendar not synced")
            }
            try CalendarSync.worldChanged(s, mailbox: account.email)
            let job = try V2Jobs.record(s, store, account, action: "create_calendar", object: "calendar", objectID: record.id)
            return V2Render.calendar(record, account: account, jobStatusID: job)
        })
    }

    @Sendable package static func update(_ ctx: RequestContext) async throws -> SimResponse {
        let f = try fields(try ctx.body())
        return .json(try ctx.v2CalendarWrite { s, store, account in
            if ctx.param("id") == EmailedEvents.id(account) { throw NylasError.invalidRequest("Cannot update read_only calendar.") }
            let record = try calendar(store, account, ctx.param("id"))
            if record.readOnly { throw NylasError.invalidRequest("Cannot update read_only calendar.") }
            guard var c = try s.world.calendar(id: record.worldID), !c.deleted else { throw NylasError.notFound("Couldn't find calendar \(record.id)") }
            if let v = f.name { c.name = v }
            if let v = f.description { c.description = v }
            if let v = f.location { c.location = v }
            if let v = f.timezone { c.timezone = v }
            let providerChanged = c != (try s.world.calendar(id: record.worldID))
            if providerChanged { try s.world.updateCalendar(c, time: s.now) }
            let updated = try CalendarSync.applyCalendar(s, region: ctx.region, grant: account, try s.world.calendar(id: c.id)!,
                                                         kind: ctx.changeKind(account), metadata: f.metadata ?? record.metadata) ?? record
            if providerChanged { try CalendarSync.worldChanged(s, mailbox: account.email) }
            let job = try V2Jobs.record(s, store, account, action: "update_calendar", object: "calendar", objectID: record.id)
            return V2Render.calendar(updated, account: account, jobStatusID: job)
        })
    }

    @Sendable package static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.v2CalendarWrite { s, store, account in
            if ctx.param("id") == EmailedEvents.id(account) { throw NylasError.invalidRequest("Cannot delete read_only calendar.") }
            let record = try calendar(store, account, ctx.param("id"))
            if record.readOnly { throw NylasError.invalidRequest("Cannot delete read_only calendar.") }
            if record.isPrimary { throw NylasError.invalidRequest("Cannot delete the primary calendar.") }
            guard let c = try s.world.calendar(id: record.worldID), !c.deleted else { throw NylasError.notFound("Couldn't find calendar \(record.id)") }
            try s.world.deleteCalendar(c, time: s.now)
            try CalendarSync.applyCalendar(s, region: ctx.region, grant: account, try s.world.calendar(id: c.id)!, kind: ctx.changeKind(account))
            try CalendarSync.worldChanged(s, mailbox: account.email)
            return ["job_status_id": .string(try V2Jobs.record(s, store, account, action: "delete_calendar", object: "calendar", objectID: record.id))]
        })
    }

    // MARK: - Free/busy

    /// Unix seconds given as an integer or a numeric string (Node sends strings, Python integers).
    package static func time(_ body: BodyFields, _ key: String) throws(NylasError) -> Int {
        guard let v = body.raw(key) else { throw NylasError.missingField(key) }
        var n = v.intValue
        if case .string(let s) = v { n = Int(s) }
        guard let n else { throw NylasError.wrongType(key, expected: "integer (Unix seconds)", got: v) }
        guard (0...253_402_300_799).contains(n) else { throw NylasError.invalidRequest("Invalid value for \(key): \(n) is not a Unix time in seconds") }
        return n
    }

    /// `calendars: [{account_id, calendar_ids}]`: world calendars by mailbox, for accounts of the caller's application.
    package static func calendarSets(_ body: BodyFields, _ s: EngineState, _ store: RegionStore, _ account: GrantRecord) throws -> [(email: String, calendars: [Int64])] {
        var out: [(email: String, calendars: [Int64])] = []
        for (i, item) in (try body.array("calendars") ?? []).enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("calendars[\(i)]", expected: "object", got: item) }
            let f = BodyFields(o)
            let accountID = try f.string("account_id") ?? account.id
            guard let owner = try store.grant(id: accountID), owner.apiVersion == 2, owner.applicationID == account.applicationID,
                  owner.billingState != "deleted" else {
                throw NylasError.invalidRequest("Invalid account_id \(accountID) in calendars[\(i)]")
            }
            var ids: [Int64] = []
            for id in try f.stringArray("calendar_ids") ?? [] {
                guard let c = try store.calendar(grantID: owner.id, id: id) else {
                    throw NylasError.invalidRequest("Couldn't find calendar \(id) of account \(owner.id)")
                }
                ids.append(c.worldID)
            }
            out.append((owner.email.lowercased(), ids))
        }
        return out
    }

    package static func slotJSON(_ span: (Int, Int), status: String) -> JSON {
        ["object": "time_slot", "status": .string(status), "start_time": .int(span.0), "end_time": .int(span.1)]
    }

    @Sendable package static func freeBusy(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let start = try time(body, "start_time")
        let end = try time(body, "end_time")
        guard end > start else { throw NylasError.invalidRequest("'start_time' must be < 'end_time'.") }
        guard end - start <= 366 * 86400 else { throw NylasError.invalidRequest("The free/busy window may span at most one year.") }
        let emails = try body.stringArray("emails") ?? []
        for e in emails where !EmailAddress.isValid(e) { throw NylasError.invalidRequest("Invalid email address: \(e)") }
        if emails.isEmpty, (try body.array("calendars") ?? []).isEmpty {
            throw NylasError.invalidRequest("Must set either 'emails' or 'calendars' in the query.")
        }
        return .json(.array(try ctx.v2CalendarRead { s, store, account in
            var items: [JSON] = []
            for email in emails {
                let calendars = try s.world.primaryCalendar(mailbox: email).map { [$0.id] } ?? []
                let busy = try BusyTime.intervals(s.world, mailbox: email.lowercased(), calendars: calendars, from: start, to: end, tentativeAsBusy: true)
                items.append(["object": "free_busy", "email": .string(email), "time_slots": .array(busy.map { slotJSON($0, status: "busy") })])
            }
            for set in try calendarSets(body, s, store, account) {
                let busy = try BusyTime.intervals(s.world, mailbox: set.email, calendars: set.calendars, from: start, to: end, tentativeAsBusy: true)
                items.append(["object": "free_busy", "email": .string(set.email), "time_slots": .array(busy.map { slotJSON($0, status: "busy") })])
            }
            return items
        }))
    }

    // MARK: - Availability

    /// A v2 availability request, checked: the shared slot finder (`AvailabilityRequest`) with
    /// the v2 vocabulary (days 0 = Monday, `buffer` around meetings, `round_robin`, external `free_busy`).
    package struct AvailabilityQuery {
        package var request: AvailabilityRequest
        package var groups: [[String]]
        package var external: [String: [(Int, Int)]]
        package var calendarsBody: BodyFields
        package var tentativeAsBusy: Bool

        package init(_ body: BodyFields, consecutive: Bool) throws(NylasError) {
            let start = try V2CalendarRoutes.time(body, "start_time")
            let end = try V2CalendarRoutes.time(body, "end_time")
            guard end > start else { throw NylasError.invalidRequest("'start_time' must be < 'end_time'.") }
            guard end - start <= 90 * 86400 else { throw NylasError.invalidValue("end_time", "the window may span at most 90 days") }
            guard let duration = try body.int("duration_minutes") else { throw NylasError.missingField("duration_minutes") }
            guard (5...1440).contains(duration), duration % 5 == 0 else {
                throw NylasError.invalidValue("duration_minutes", "must be a multiple of 5 between 5 and 1440")
            }
            let interval = try body.int("interval_minutes") ?? duration
            guard (5...1440).contains(interval), interval % 5 == 0 else {
                throw NylasError.invalidValue("interval_minutes", "must be a multiple of 5 between 5 and 1440")
            }
            let buffer = try body.int("buffer") ?? 0
            guard (0...1440).contains(buffer) else { throw NylasError.invalidValue("buffer", "must be between 0 and 1440 minutes") }
            // Emails: a list (availability) or a list of lists (consecutive).
            var groups: [[String]] = []
            for (i, item) in (try body.array("emails") ?? []).enumerated() {
                if consecutive {
                    guard case .array(let inner) = item else { throw NylasError.invalidRequest("'emails' must be a list of lists.") }
                    groups.append(try inner.enumerated().map { j, e throws(NylasError) -> String in
                        guard case .string(let s) = e else { throw NylasError.wrongType("emails[\(i)][\(j)]", expected: "string", got: e) }
                        return s
                    })
                } else {
                    guard case .string(let s) = item else { throw NylasError.wrongType("emails[\(i)]", expected: "string", got: item) }
                    if groups.isEmpty { groups.append([]) }
                    groups[0].append(s)
                }
            }
            let emails = groups.flatMap { $0 }
            for e in emails where !EmailAddress.isValid(e) { throw NylasError.invalidRequest("Invalid email address: \(e)") }
            var external: [String: [(Int, Int)]] = [:]
            for (i, item) in (try body.array("free_busy") ?? []).enumerated() {
                guard case .object(let o) = item else { throw NylasError.wrongType("free_busy[\(i)]", expected: "object", got: item) }
                let f = BodyFields(o)
                let email = try f.requiredString("email")
                var spans: [(Int, Int)] = []
                for (j, slot) in (try f.array("time_slots") ?? []).enumerated() {
                    guard case .object(let so) = slot else { throw NylasError.wrongType("free_busy[\(i)].time_slots[\(j)]", expected: "object", got: slot) }
                    let sf = BodyFields(so)
                    spans.append((try V2CalendarRoutes.time(sf, "start_time"), try V2CalendarRoutes.time(sf, "end_time")))
                }
                external[email.lowercased(), default: []].append(contentsOf: spans)
            }
            if emails.isEmpty, external.isEmpty, (try body.array("calendars") ?? []).isEmpty {
                throw NylasError.invalidRequest("Must set either 'emails' or 'calendars' in the query.")
            }
            var hours: [String: [AvailabilityRequest.OpenHours]] = [:]
            for (i, item) in (try body.array("open_hours") ?? []).enumerated() {
                guard case .object(var o) = item else { throw NylasError.wrongType("open_hours[\(i)]", expected: "object", got: item) }
                let f = BodyFields(o)
                let who = try f.stringArray("emails") ?? []
                for e in who where !emails.contains(where: { $0.lowercased() == e.lowercased() }) && external[e.lowercased()] == nil {
                    throw NylasError.invalidRequest("Open hours contain an email address that isn't in the query (\(e)): add it to emails or free_busy")
                }
                // v2 counts days from Monday (0), the slot finder from Sunday (0).
                guard let days = try f.array("days") else { throw NylasError.missingField("open_hours[\(i)].days") }
                var converted: [JSON] = []
                for d in days {
                    guard let n = d.intValue ?? d.stringValue.flatMap({ Int($0) }), (0...6).contains(n) else {
                        throw NylasError.invalidValue("open_hours[\(i)].days", "days are 0 (Monday) to 6 (Sunday)")
                    }
                    converted.append(.int((n + 1) % 7))
                }
                o["days"] = .array(converted)
                let parsed = try AvailabilityRequest.openHours([.object(o)], field: "open_hours[\(i)]") ?? []
                for e in who { hours[e.lowercased(), default: []].append(contentsOf: parsed) }
            }
            let method: String
            switch try body.string("round_robin") {
            case nil: method = "collective"
            case let m? where ["max-availability", "max-fairness"].contains(m): method = m
            case let m?: throw NylasError.invalidValue("round_robin", "'\(m)' is not max-availability or max-fairness")
            }
            // The window on whole five minutes (slots start at start_time, every interval).
            let from = (start + 299) / 300 * 300, to = end / 300 * 300
            let participants = (emails + external.keys.filter { k in !emails.contains { $0.lowercased() == k } }.sorted()).map { e in
                AvailabilityRequest.Participant(email: e, grantID: nil, calendarIDs: [], openHours: hours[e.lowercased()], specific: [], onlySpecific: false)
            }
            request = AvailabilityRequest(start: from, end: max(from, to), duration: duration * 60, interval: interval * 60, roundTo: 300,
                                          participants: participants, method: method, bufferBefore: buffer * 60, bufferAfter: buffer * 60,
                                          defaultOpenHours: [], roundRobinGroupID: nil, tentativeAsBusy: try body.bool("tentative_busy") ?? true)
            self.groups = groups
            self.external = external
            self.calendarsBody = body
            self.tentativeAsBusy = request.tentativeAsBusy
        }

        /// Busy intervals of every participant: their primary calendar (or the calendars named
        /// for their account), widened by the buffer, plus the external busy times given.
        package func busy(_ s: EngineState, _ store: RegionStore, _ account: GrantRecord) throws -> [String: [(Int, Int)]] {
            let sets = try V2CalendarRoutes.calendarSets(calendarsBody, s, store, account)
            var out: [String: [(Int, Int)]] = [:]
            for p in request.participants {
                let mailbox = p.email.lowercased()
                var calendars = sets.filter { $0.email == mailbox }.flatMap(\.calendars)
                if calendars.isEmpty, let primary = try s.world.primaryCalendar(mailbox: mailbox) { calendars = [primary.id] }
                var spans = try BusyTime.intervals(s.world, mailbox: mailbox, calendars: calendars, from: request.start, to: request.end,
                                                   tentativeAsBusy: tentativeAsBusy, widen: (request.bufferBefore, request.bufferAfter))
                spans += (external[mailbox] ?? []).map { ($0.0 - request.bufferBefore, $0.1 + request.bufferAfter) }
                out[p.email] = BusyTime.merge(spans)
            }
            return out
        }
    }

    package static func freeSlot(_ slot: JSON) -> JSON {
        ["object": "time_slot", "status": "free", "start_time": slot["start_time"] ?? .null, "end_time": slot["end_time"] ?? .null,
         "emails": slot["emails"] ?? []]
    }

    @Sendable package static func availability(_ ctx: RequestContext) async throws -> SimResponse {
        let q = try AvailabilityQuery(try ctx.body(), consecutive: false)
        return .json(try ctx.v2CalendarRead { s, store, account in
            let busy = try q.busy(s, store, account)
            let emails = q.request.participants.map(\.email)
            var order = emails
            if q.request.method != "collective" {
                // Who is free most often first (max-availability); max-fairness keeps the given order.
                let all = q.request.slots(busy: busy, order: emails)
                if q.request.method == "max-availability" {
                    let counts = Dictionary(uniqueKeysWithValues: emails.map { e in
                        (e, all.filter { $0["emails"]?.arrayValue?.contains(.string(e)) == true }.count)
                    })
                    order = emails.enumerated().sorted { (-(counts[$0.element] ?? 0), $0.offset) < (-(counts[$1.element] ?? 0), $1.offset) }.map(\.element)
                }
            }
            return ["object": "availability", "order": .strings(order),
                    "time_slots": .array(q.request.slots(busy: busy, order: order).map(freeSlot))]
        })
    }

    /// `POST /calendars/availability/consecutive`: sequences of back-to-back meetings, one per
    /// inner list of `emails`, in the given order.
    @Sendable package static func consecutiveAvailability(_ ctx: RequestContext) async throws -> SimResponse {
        let q = try AvailabilityQuery(try ctx.body(), consecutive: true)
        guard !q.groups.isEmpty, q.groups.allSatisfy({ !$0.isEmpty }) else {
            throw NylasError.invalidRequest("'emails' must be a non-empty list of non-empty lists.")
        }
        return .json(try ctx.v2CalendarRead { s, store, account in
            let busy = try q.busy(s, store, account)
            let perGroup: [[(Int, Int)]] = q.groups.map { group in
                var r = q.request
                r.participants = r.participants.filter { p in group.contains { $0.lowercased() == p.email.lowercased() } }
                r.method = "collective"
                r.interval = 300
                return r.slots(busy: busy, order: group).compactMap { slot in
                    guard let a = slot["start_time"]?.intValue, let b = slot["end_time"]?.intValue else { return nil }
                    return (a, b)
                }
            }
            var sequences: [JSON] = []
            for first in perGroup[0] where first.0 >= q.request.start && (first.0 - q.request.start) % q.request.interval == 0 {
                var chain = [first]
                for slots in perGroup.dropFirst() {
                    guard let next = slots.first(where: { $0.0 == chain.last!.1 }) else { break }
                    chain.append(next)
                }
                guard chain.count == q.groups.count else { continue }
                sequences.append(.array(zip(q.groups, chain).map { group, span in
                    ["emails": .strings(group), "start_time": .int(span.0), "end_time": .int(span.1)]
                }))
                if sequences.count >= 1000 { break }
            }
            return .array(sequences)
        })
    }
}

// MARK: - Shared

extension RequestContext {
    /// Runs `body` as a read with the v2 account behind the token, its calendar view made first.
    package func v2CalendarRead<T: Sendable>(_ body: (EngineState, RegionStore, GrantRecord) throws -> T) throws -> T {
        try v2EnsureCalendarView()
        return try read { s, store in try body(s, store, try v2Account(s, store).0) }
    }

    /// The same, as a write (all or nothing).
    package func v2CalendarWrite<T: Sendable>(_ body: (EngineState, RegionStore, GrantRecord) throws -> T) throws -> T {
        try v2EnsureCalendarView()
        return try write { s, store in try body(s, store, try v2Account(s, store).0) }
    }

    private func v2EnsureCalendarView() throws {
        let missing = try read { s, store -> GrantRecord? in
            let (account, _) = try v2Account(s, store)
            return try store.calendarSyncCursor(grantID: account.id) == nil ? account : nil
        }
        if let account = missing {
            try write { s, _ in try CalendarSync.initialSync(s, region: region, grant: account) }
        }
    }
}

package enum V2Calendar {
    /// `metadata_key`, `metadata_value`, `metadata_pair=key:value` (each repeatable; each kind given must match one).
    package struct MetadataFilter {
        package var keys: [String]
        package var values: [String]
        package var pairs: [(String, String)]

        package init(_ q: QueryParameters) throws(NylasError) {
            keys = try q.all("metadata_key", max: InputLimits.filterValues)
            values = try q.all("metadata_value", max: InputLimits.filterValues)
            pairs = []
            for p in try q.all("metadata_pair", max: InputLimits.filterValues) {
                let kv = p.split(separator: ":", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { throw NylasError.invalidRequest("Invalid metadata_pair \(p): expected key:value") }
                pairs.append((kv[0], kv[1]))
            }
        }

        package func matches(_ m: [String: JSON]) -> Bool {
            func text(_ v: JSON) -> String { v.stringValue ?? v.text }
            if !keys.isEmpty, !keys.contains(where: { m[$0] != nil }) { return false }
            if !values.isEmpty, !m.values.contains(where: { values.contains(text($0)) }) { return false }
            if !pairs.isEmpty, !pairs.contains(where: { k, v in m[k].map(text) == v }) { return false }
            return true
        }
    }
}

/// v2 job statuses (§6.15): every calendar, event and contact write, and every outbox send.
/// Stored as rows of the `schedules` table under the account (v2 accounts have no v3 schedules):
/// outbox rows hold the message to send and run on the virtual clock; the others are done at once.
package enum V2Jobs {
    package static func record(_ s: EngineState, _ store: RegionStore, _ account: GrantRecord, action: String, object: String,
                       objectID: String?, extra: [String: JSON] = [:]) throws -> String {
        let id = store.ids.base36("v2-job-status")
        var metadata: [String: JSON] = extra
        if let objectID { metadata["\(object)_id"] = .string(objectID) }
        let job: JSON = ["action": .string(action), "object": .string(object), "metadata": .object(metadata)]
        try store.insertSchedule(ScheduleRecord(grantID: account.id, id: id, sendAt: s.now.seconds, status: "successful",
                                                message: ["v2_job": job], jobID: nil, createdAt: s.now.seconds))
        return id
    }

    package static let outboxStatuses = ["pending": "pending", "success": "successful", "failed": "failed", "cancelled": "cancelled"]

    /// The `GET /job-statuses` object of a row.
    package static func json(_ row: ScheduleRecord, account: GrantRecord) -> JSON {
        let message = row.message
        let id = row.id
        var o: JSON = ["id": .string(id), "account_id": .string(account.id), "job_status_id": .string(id),
                       "created_at": .int(row.createdAt), "reason": .null, "original_data": .null]
        if let job = message["v2_job"] {
            o["action"] = job["action"] ?? .null
            o["object"] = job["object"] ?? .null
            o["status"] = .string(row.status)
            o["metadata"] = job["metadata"] ?? [:]
        } else {
            let status = outboxStatuses[row.status] ?? row.status
            o["action"] = "schedule_send"
            o["object"] = "message"
            o["status"] = .string(status)
            var metadata: [String: JSON] = [:]
            if let m = message["v2_outbox"]?["message_id"] { metadata["message_id"] = m }
            if let t = message["v2_outbox"]?["thread_id"] { metadata["thread_id"] = t }
            o["metadata"] = .object(metadata)
            o["original_data"] = V2Render.outboxOriginalData(row)
            if status == "failed" { o["reason"] = message["v2_outbox"]?["reason"] ?? .null }
        }
        return o
    }
}
