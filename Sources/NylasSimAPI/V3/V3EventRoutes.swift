import Foundation
import NylasSimCore

/// `/v3/grants/{grant_id}/events` (reference §4.14): list (with `calendar_id` required, every
/// filter, recurring series expanded on their own wall clock, cursor pages), import, get, create,
/// update (an occurrence becomes an exception; a new `calendar_id` moves the event), delete, and
/// `send-rsvp`. `primary` and the grant's address work as calendar IDs.
package enum V3EventRoutes {
    package static let base = "/v3/grants/{grant_id}/events"

    package static func register(_ r: inout Router) {
        r.add("GET", base, .v3, list)
        r.add("POST", base, .v3, create)
        r.add("GET", base + "/import", .v3, importEvents)
        r.add("GET", base + "/{event_id}", .v3, get)
        r.add("PUT", base + "/{event_id}", .v3, update)
        r.add("PATCH", base + "/{event_id}", .v3, update)
        r.add("DELETE", base + "/{event_id}", .v3, delete)
        r.add("POST", base + "/{event_id}/send-rsvp", .v3, rsvp)
    }

    package static func calendarParam(_ ctx: RequestContext) throws(NylasError) -> String {
        guard let id = ctx.query["calendar_id"], !id.isEmpty else {
            throw NylasError.invalidRequest("Missing required query parameter: calendar_id (a calendar ID, or primary)")
        }
        return id
    }

    // MARK: - Finding events

    // MARK: - List

    package struct ListQuery {
        package var calendarID: String
        package var start: Int?
        package var end: Int?
        package var limit: Int
        package var token: (Int, String)?
        package var title: String?
        package var description: String?
        package var location: String?
        package var icalUID: String?
        package var attendees: [String]
        package var busy: Bool?
        package var showCancelled: Bool
        package var expand: Bool
        package var masterEventID: String?
        package var eventTypes: Set<String>
        package var updatedBefore: Int?
        package var updatedAfter: Int?
        package var metadata: [(String, String)]

        package init(_ ctx: RequestContext, maxLimit: Int = 200) throws(NylasError) {
            let q = ctx.query
            try ctx.rejectV2Parameters(["starts_after": "v3 uses start and end (Unix seconds)", "ends_before": "v3 uses start and end (Unix seconds)"])
            calendarID = try V3EventRoutes.calendarParam(ctx)
            start = try q.int("start")
            end = try q.int("end")
            if let start, let end, end < start { throw NylasError.invalidValue("end", "the end (\(end)) cannot be earlier than the start (\(start))") }
            limit = try ctx.limit(default: 50, max: maxLimit)
            if let t = q["page_token"] {
                let parts = try PageToken.parse(t, count: 2)
                guard let s = Int(parts[0]) else { throw NylasError.invalidRequest("Invalid page_token") }
                token = (s, parts[1])
            }
            title = q["title"]?.lowercased()
            description = q["description"]?.lowercased()
            location = q["location"]?.lowercased()
            icalUID = q["ical_uid"]
            attendees = try q.list("attendees", max: InputLimits.filterValues).map { $0.lowercased() }
            busy = try q.bool("busy")
            showCancelled = try q.bool("show_cancelled") ?? false
            expand = try q.bool("expand_recurring") ?? true
            masterEventID = q["master_event_id"]
            let types = try q.list("event_type", max: InputLimits.filterValues)
            let known: Set<String> = ["default", "outOfOffice", "focusTime", "workingLocation"]
            if let bad = types.first(where: { !known.contains($0) }) {
                throw NylasError.invalidValue("event_type", "'\(bad)' is not one of default, outOfOffice, focusTime, workingLocation")
            }
            eventTypes = types.isEmpty ? ["default"] : Set(types)
            updatedBefore = try q.int("updated_before")
            updatedAfter = try q.int("updated_after")
            metadata = try CalendarAccess.metadataPairs(q)
            if let order = q["order_by"], order != "start" { throw NylasError.invalidValue("order_by", "only start is supported") }
            let providerFilters = [("title", title != nil), ("description", description != nil), ("location", location != nil),
                                   ("attendees", !attendees.isEmpty), ("busy", busy != nil), ("master_event_id", masterEventID != nil),
                                   ("updated_before", updatedBefore != nil), ("updated_after", updatedAfter != nil)]
            if icalUID != nil, let other = providerFilters.first(where: \.1) {
                throw NylasError.invalidRequest("ical_uid cannot be combined with other filters (got \(other.0))")
            }
            if !metadata.isEmpty, let other = (providerFilters + [("ical_uid", icalUID != nil)]).first(where: \.1) {
                throw NylasError.invalidRequest("metadata_pair cannot be combined with provider filters other than calendar_id (got \(other.0))")
            }
        }

        package func keeps(_ o: JSON) -> Bool {
            func has(_ key: String, _ needle: String?) -> Bool {
                guard let needle else { return true }
                return o[key]?.stringValue?.lowercased().contains(needle) ?? false
            }
            guard has("title", title), has("description", description), has("location", location) else { return false }
            if let busy, o["busy"]?.boolValue != busy { return false }
            if !showCancelled, o["status"]?.stringValue == "cancelled" { return false }
            if !attendees.isEmpty {
                let people = Set(((o["participants"]?.arrayValue ?? []) + [o["organizer"] ?? .null]).compactMap { $0["email"]?.stringValue?.lowercased() })
                guard attendees.contains(where: people.contains) else { return false }
            }
            if !eventTypes.contains(o["event_type"]?.stringValue ?? "default") { return false }
            if let updatedBefore, (o["updated_at"]?.intValue ?? 0) >= updatedBefore { return false }
            if let updatedAfter, (o["updated_at"]?.intValue ?? 0) <= updatedAfter { return false }
            if !metadata.isEmpty, !CalendarAccess.matches(o["metadata"]?.objectValue ?? [:], metadata) { return false }
            return true
        }
    }

    /// The events of one calendar in the window, as the list shows them, sorted by start then ID.
    package static func collect(_ q: ListQuery, store: RegionStore, grant: GrantRecord, calendar: CalendarRecord, now: Int,
                        expandOverride: Bool? = nil) throws -> [(start: Int, id: String, json: JSON)] {
        let from = q.start ?? now
        let to = q.end ?? (max(from, now) + 31 * 86400)
        let expand = expandOverride ?? (q.expand && q.metadata.isEmpty)
        var out: [(Int, String, JSON)] = []
        func add(_ o: JSON) {
            guard let w = EventWhen(stored: o["when"]), let id = o["id"]?.stringValue else { return }
            out.append((w.startUnix, id, o))
        }
        if let uid = q.icalUID {
            for r in try store.events(grantID: grant.id, calendarID: calendar.id) where r.icalUID == uid { add(r.data) }
        } else if !q.metadata.isEmpty {
            for r in try store.events(grantID: grant.id, calendarID: calendar.id) { add(r.data) }
        } else {
            let records = try store.events(grantID: grant.id, calendarID: calendar.id, start: from, end: to)
            let exceptions = Dictionary(grouping: records.filter { $0.masterEventID != nil }, by: { $0.masterEventID! })
            for r in records {
                if let master = r.masterEventID {
                    // An exception shows where it is now; with expansion off, still only when its series is listed.
                    if let q = q.masterEventID, q != master { continue }
                    if r.when?.overlaps(from, to) == true { add(r.data) }
                } else if r.recurring, let when = r.when, let recurrence = r.recurrence {
                    if let m = q.masterEventID, m != r.id { continue }
                    let edited = Set((exceptions[r.id] ?? []).compactMap(\.originalStart))
                    if expand || q.masterEventID != nil {
                        for occ in recurrence.occurrences(of: when, from: from, to: to) where !edited.contains(occ.originalStart) {
                            add(EventTarget.occurrenceJSON(r, occ))
                        }
                    } else if !recurrence.occurrences(of: when, from: from, to: to, limit: 1).isEmpty {
                        add(r.data)
                    }
                } else {
                    if q.masterEventID != nil { continue }
                    if r.when?.overlaps(from, to) == true { add(r.data) }
                }
            }
        }
        return out.filter { q.keeps($0.2) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { (start: $0.0, id: $0.1, json: $0.2) }
    }

    package static func page(_ all: [(start: Int, id: String, json: JSON)], _ q: ListQuery, _ ctx: RequestContext,
                     transform: (JSON) -> JSON = { $0 }) -> SimResponse {
        var rest = all[...]
        if let token = q.token { rest = rest.drop { ($0.start, $0.id) <= (token.0, token.1) } }
        let page = Array(rest.prefix(q.limit))
        let next = rest.count > q.limit ? page.last.map { PageToken.make([String($0.start), $0.id]) } : nil
        return ctx.list(page.map { ctx.selecting(transform($0.json)) }, nextCursor: next)
    }

    @Sendable package static func list(_ ctx: RequestContext) async throws -> SimResponse {
        let q = try ListQuery(ctx)
        let all = try ctx.calendarRead { s, store in
            let grant = try ctx.dataGrant(s, store)
            if grant.kind == .icloud, let start = q.start, let end = q.end, end > sixMonths(after: start) {
                throw NylasError.invalidRequest("The maximum time range for iCloud event queries is 6 months.")
            }
            let calendar = try CalendarAccess.calendar(store, grant, q.calendarID)
            return try collect(q, store: store, grant: grant, calendar: calendar, now: s.now.seconds)
        }
        return page(all, q, ctx)
    }

    /// The same instant six calendar months later (UTC; the day clamped to the month's last day).
    package static func sixMonths(after unix: Int) -> Int {
        let day = Int((Double(unix) / 86_400).rounded(.down))
        let date = CivilDate(dayNumber: day)
        let months = date.year * 12 + (date.month - 1) + 6
        let year = months / 12, month = months % 12 + 1
        let later = CivilDate(year: year, month: month, day: min(date.day, CivilDate.daysInMonth(year: year, month: month)))
        return unix + (later.dayNumber - day) * 86_400
    }

    /// `GET …/events/import`: masters, exceptions and single events (no expansion, no metadata).
    @Sendable package static func importEvents(_ ctx: RequestContext) async throws -> SimResponse {
        var q = try ListQuery(ctx, maxLimit: 500)
        q.eventTypes = ["default", "outOfOffice", "focusTime", "workingLocation"]
        q.showCancelled = true
        let query = q
        let all = try ctx.calendarRead { s, store in
            let grant = try ctx.dataGrant(s, store)
            let calendar = try CalendarAccess.calendar(store, grant, query.calendarID)
            return try collect(query, store: store, grant: grant, calendar: calendar, now: s.now.seconds, expandOverride: false)
        }
        return page(all, q, ctx) { o in
            var o = o
            o["metadata"] = nil
            return o
        }
    }

    // MARK: - Get

    @Sendable package static func get(_ ctx: RequestContext) async throws -> SimResponse {
        let calendarID = try calendarParam(ctx)
        return ctx.data(try ctx.calendarRead { s, store in
            let grant = try ctx.dataGrant(s, store)
            let calendar = try CalendarAccess.calendar(store, grant, calendarID)
            return ctx.selecting(try EventTarget.find(store, grant, calendar, try ctx.objectID("event_id", kind: "event", grant: grant, store: store)).json)
        })
    }

    // MARK: - Create

    @Sendable package static func create(_ ctx: RequestContext) async throws -> SimResponse {
        let calendarID = try calendarParam(ctx)
        let notify = try ctx.query.bool("notify_participants") ?? true
        _ = try ctx.query.bool("tentative_as_busy")
        let input = try EventInput(try ctx.body(), creating: true)
        return ctx.data(try ctx.calendarWrite { s, store in
            let grant = try ctx.dataGrant(s, store)
            let calendar = try CalendarAccess.calendar(store, grant, calendarID)
            try CalendarAccess.requireWritable(calendar)
            guard input.when != nil else { throw NylasError.missingField("when") }
            var content = EventContent(when: .time(0, timezone: nil), organizer: Participant(name: grant.name ?? "", email: grant.email))
            try input.apply(to: &content, existing: nil, owner: grant.email, provider: grant.provider, world: s.world)
            let record = try EventOperations.create(s, region: ctx.region, grant: grant, calendar: calendar, content: content,
                                                    metadata: input.metadata ?? [:], kind: ctx.changeKind(grant), notifyParticipants: notify)
            return ctx.selecting(record.data)
        })
    }

    // MARK: - Update

    @Sendable package static func update(_ ctx: RequestContext) async throws -> SimResponse {
        let calendarID = try calendarParam(ctx)
        let notify = try ctx.query.bool("notify_participants") ?? true
        let input = try EventInput(try ctx.body(), creating: false)
        return ctx.data(try ctx.calendarWrite { s, store in
            let grant = try ctx.dataGrant(s, store)
            let calendar = try CalendarAccess.calendar(store, grant, calendarID)
            try CalendarAccess.requireWritable(calendar)
            let kind = ctx.changeKind(grant)
            var changed: Set<String> = [grant.email.lowercased()]
            let result: EventRecord?
            switch try EventTarget.find(store, grant, calendar, ctx.param("event_id")) {
            case .record(let r):
                guard var e = try s.world.event(id: r.worldID), !e.deleted else { throw NylasError.notFound("Event not found: \(r.id)") }
                if r.masterEventID != nil, input.recurrence != nil {
                    throw NylasError.invalidValue("recurrence", "an occurrence of a recurring event cannot have its own recurrence")
                }
                try input.apply(to: &e.content, existing: e.content, owner: grant.email, provider: grant.provider, world: s.world)
                var moved = false
                if let target = input.calendarID {
                    let destination = try CalendarAccess.calendar(store, grant, target)
                    if destination.id != calendar.id {
                        try CalendarAccess.requireWritable(destination)
                        guard r.masterEventID == nil else {
                            throw NylasError.invalidValue("calendar_id", "a single occurrence cannot move to another calendar: move its series")
                        }
                        e.calendar = destination.worldID
                        moved = true
                    }
                }
                let update = try EventOperations.update(s, region: ctx.region, grant: grant, e, moved: moved, kind: kind,
                                                        metadata: input.metadata ?? r.metadata,
                                                        mailUpdate: (notify || grant.kind == .microsoft) && input.changesInvitation)
                result = update.event
                changed.formUnion(update.changed)
            case .occurrence(let master, let occ):
                guard input.recurrence == nil else {
                    throw NylasError.invalidValue("recurrence", "an occurrence of a recurring event cannot have its own recurrence")
                }
                if let target = input.calendarID, try CalendarAccess.calendar(store, grant, target).id != calendar.id {
                    throw NylasError.invalidValue("calendar_id", "a single occurrence cannot move to another calendar: move its series")
                }
                result = try EventOperations.exception(s, region: ctx.region, grant: grant, master: master, occ, kind: kind,
                                                       metadata: input.metadata, notFound: { NylasError.notFound("Event not found: \($0)") }) {
                    try input.apply(to: &$0, existing: $0, owner: grant.email, provider: grant.provider, world: s.world)
                }.1
            }
            for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
            guard let result else { throw NylasError.internal("event not synced") }
            return ctx.selecting(result.data)
        })
    }

    // MARK: - Delete

    @Sendable package static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        let calendarID = try calendarParam(ctx)
        let notify = try ctx.query.bool("notify_participants") ?? true
        try ctx.calendarWrite { s, store in
            let grant = try ctx.dataGrant(s, store)
            let calendar = try CalendarAccess.calendar(store, grant, calendarID)
            try CalendarAccess.requireWritable(calendar)
            let changed = try EventOperations.delete(s, region: ctx.region, grant: grant, try EventTarget.find(store, grant, calendar, ctx.param("event_id")),
                                                     kind: ctx.changeKind(grant), mailCancellation: notify || grant.kind == .microsoft,
                                                     notFound: { NylasError.notFound("Event not found: \($0)") })
            for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
        }
        return ctx.done()
    }

    // MARK: - RSVP

    @Sendable package static func rsvp(_ ctx: RequestContext) async throws -> SimResponse {
        let calendarID = try calendarParam(ctx)
        let skipEmail = try ctx.query.bool("skip_nylas_email") ?? false
        let body = try ctx.body()
        let status = try body.requiredString("status")
        guard ["yes", "no", "maybe"].contains(status) else { throw NylasError.invalidValue("status", "expected yes, no or maybe, got '\(status)'") }
        try ctx.calendarWrite { s, store in
            let grant = try ctx.dataGrant(s, store)
            let calendar = try CalendarAccess.calendar(store, grant, calendarID)
            let (_, _, changed) = try EventOperations.rsvp(
                s, region: ctx.region, grant: grant, try EventTarget.find(store, grant, calendar, ctx.param("event_id")), kind: ctx.changeKind(grant),
                status: status, mailReply: !skipEmail, notFound: { NylasError.notFound("Event not found: \($0)") }) { content in
                guard let i = content.participants.firstIndex(where: { $0.email.lowercased() == grant.email.lowercased() }) else {
                    throw NylasError.invalidRequest("\(grant.email) is not a participant of this event: only invitees can RSVP")
                }
                content.participants[i].status = status
            }
            for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
        }
        return ctx.data([:])
    }
}
