import Foundation
import NylasSimCore

/// v2 events (v2 reference §6.9): list across calendars with the v2 filters and `offset` paging,
/// get, create, update, delete (`notify_participants`, default false), and `POST /send-rsvp`.
/// The v2 `when` and `recurrence {rrule, timezone}` are translated to and from the shared event
/// content: the recurrence timezone is the zone the event's wall clock (and its series) is read in.
package enum V2EventRoutes {
    package static func register(_ r: inout Router) {
        r.add("GET", "/events", .v2, list)
        r.add("POST", "/events", .v2, create)
        r.add("GET", "/events/{id}", .v2, get)
        r.add("PUT", "/events/{id}", .v2, update)
        r.add("DELETE", "/events/{id}", .v2, delete)
        r.add("POST", "/send-rsvp", .v2, rsvp)
        r.add("POST", "/events/to-ics", .v2, toICS)
    }

    // MARK: - Rendering

    // MARK: - Input

    /// A checked v2 event body, as the shared `EventInput` plus what only v2 has.
    package struct Input {
        package var event: EventInput
        package var calendarID: String?
        package var recurrenceZone: String?
        /// `notifications` as sent (nil when absent; `[]` clears them).
        package var notifications: JSON? = nil
    }

    /// Checks v2 `notifications`: `email` (`minutes_before_event`, `subject`, `body`), `webhook`
    /// (`url`, `payload`), `sms` (`message`) (reference v2 §6.10).
    static func notifications(_ value: JSON) throws(NylasError) -> JSON {
        guard case .array(let items) = value else { throw NylasError.wrongType("notifications", expected: "array", got: value) }
        try InputLimits.check(items.count, 20, "notifications", "notifications")
        for (i, item) in items.enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("notifications[\(i)]", expected: "object", got: item) }
            guard let type = o["type"]?.stringValue, ["email", "webhook", "sms"].contains(type) else {
                throw NylasError.invalidValue("notifications[\(i)].type", "expected email, webhook or sms")
            }
            if let m = o["minutes_before_event"], m.intValue == nil || m.intValue! < 0 {
                throw NylasError.wrongType("notifications[\(i)].minutes_before_event", expected: "non-negative integer", got: m)
            }
            if type == "webhook", o["url"]?.stringValue == nil { throw NylasError.missingField("notifications[\(i)].url") }
        }
        return value
    }

    /// Keeps (or clears) an event's v2 notifications.
    static func keepNotifications(_ s: EngineState, _ store: RegionStore, _ account: GrantRecord, eventID: String, _ value: JSON?) throws {
        guard let value else { return }
        if value.arrayValue?.isEmpty ?? true {
            try store.deletePlatformObject(.v2EventNotifications, id: eventID)
        } else {
            try store.save(PlatformObject(kind: .v2EventNotifications, id: eventID, applicationID: account.applicationID,
                                          grantID: account.id, data: ["notifications": value], now: s.now.seconds))
        }
    }

    package static let readOnlyFields: Set<String> = [
        "id", "object", "account_id", "ical_uid", "message_id", "owner", "status", "master_event_id", "original_start_time",
        "organizer_email", "organizer_name", "reminders", "updated_at", "job_status_id", "read_only", "event_collection_id",
        "round_robin_order", "customer_event_id",
    ]

    /// A v2 `when`: its shape from its keys (`object` is output-only and ignored), equal span
    /// ends collapsed to the singular form, then in the shared form.
    package static func when(_ value: JSON) throws(NylasError) -> JSON {
        guard case .object(var o) = value else { throw NylasError.wrongType("when", expected: "object", got: value) }
        o["object"] = nil
        o = o.filter { !$0.value.isNull }
        for key in ["time", "start_time", "end_time"] {
            if case .string(let s)? = o[key], let n = Int(s) { o[key] = .int(n) }
        }
        let keys = Set(o.keys)
        func fits(_ required: Set<String>, _ optional: Set<String>) -> Bool { required.isSubset(of: keys) && keys.isSubset(of: required.union(optional)) }
        if fits(["time"], ["timezone"]) || fits(["date"], []) { return .object(o) }
        if fits(["start_time", "end_time"], ["start_timezone", "end_timezone"]) {
            guard let a = o["start_time"]?.intValue, let b = o["end_time"]?.intValue else {
                throw NylasError.invalidRequest("'start_time' and 'end_time' must be integers (Unix seconds).")
            }
            if a > b { throw NylasError.invalidRequest("'start_time' must be < 'end_time'.") }
            if a == b {
                var t: [String: JSON] = ["time": .int(a)]
                if let z = o["start_timezone"] { t["timezone"] = z }
                return .object(t)
            }
            return .object(o)
        }
        if fits(["start_date", "end_date"], []) {
            guard let a = o["start_date"]?.stringValue.flatMap({ CivilDate($0) }), let b = o["end_date"]?.stringValue.flatMap({ CivilDate($0) }) else {
                throw NylasError.invalidRequest("'start_date' and 'end_date' must be dates (YYYY-MM-DD).")
            }
            if a > b { throw NylasError.invalidRequest("'start_date' must be <= 'end_date'.") }
            if a == b { return ["date": .string(a.description)] }
            return .object(o)
        }
        throw NylasError.invalidRequest("When object had invalid keys.")
    }

    package static func input(_ body: BodyFields, creating: Bool) throws(NylasError) -> Input {
        var v3: [String: JSON] = [:]
        var notificationsValue: JSON?
        for (key, value) in body.values where !readOnlyFields.contains(key) {
            switch key {
            case "title", "description", "location", "busy", "conferencing", "metadata", "capacity", "hide_participants":
                v3[key] = value
            case "visibility":
                if !value.isNull { v3[key] = value }
            case "participants":
                guard !value.isNull else { continue }
                guard case .array(let items) = value else { throw NylasError.wrongType("participants", expected: "array", got: value) }
                v3[key] = .array(try items.enumerated().map { i, item throws(NylasError) -> JSON in
                    guard case .object(var p) = item else { throw NylasError.wrongType("participants[\(i)]", expected: "object", got: item) }
                    // The answer is the participant's own: read-only here (the SDK strips it on updates).
                    p["status"] = nil
                    if case .string(let e)? = p["email"] { p["email"] = .string(e.lowercased()) }
                    return .object(p)
                })
            case "when":
                v3[key] = try when(value)
            case "calendar_id":
                break
            case "notifications":
                guard value.isNull || value.arrayValue != nil else { throw NylasError.wrongType("notifications", expected: "array", got: value) }
                notificationsValue = value.isNull ? [] : try notifications(value)
            case "reminder_minutes", "reminder_method":
                break
            default:
                break
            }
        }
        // `recurrence: {rrule: [...], timezone}` (null clears it).
        var zone: String?
        if body.has("recurrence") {
            if let r = try body.nested("recurrence") {
                var lines: [String]
                if case .string(let one)? = r.raw("rrule") { lines = [one] } else { lines = try r.stringArray("rrule") ?? [] }
                lines = lines.filter { !$0.isEmpty }
                if lines.isEmpty { throw NylasError.invalidRequest("recurrence.rrule must hold at least one RRULE line") }
                v3["recurrence"] = .strings(lines)
                zone = try r.string("timezone").map { n throws(NylasError) in try TimeZoneName.validated(n, field: "recurrence.timezone") }
            } else {
                v3["recurrence"] = []
            }
        }
        // `reminder_minutes` ("[20]", or a number) and `reminder_method`.
        if let raw = body.raw("reminder_minutes") {
            var minutes: [Int] = []
            switch raw {
            case .string(let s):
                let inner = s.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
                for part in inner.split(separator: ",") {
                    guard let n = Int(part.trimmingCharacters(in: .whitespaces)) else {
                        throw NylasError.invalidRequest("Invalid reminder_minutes \(s): expected a list such as [10]")
                    }
                    minutes.append(n)
                }
            default:
                guard let n = raw.intValue else { throw NylasError.wrongType("reminder_minutes", expected: "string", got: raw) }
                minutes = [n]
            }
            let method = try body.string("reminder_method") ?? "popup"
            v3["reminders"] = ["use_default": .bool(minutes.isEmpty),
                               "overrides": .array(minutes.map { ["reminder_minutes": .int($0), "reminder_method": .string(method)] })]
        }
        let calendarID = try body.string("calendar_id")
        if creating, calendarID == nil { throw NylasError.invalidRequest("Missing required field: calendar_id") }
        if !creating, let calendarID { v3["calendar_id"] = .string(calendarID) }
        if creating, v3["when"] == nil { throw NylasError.invalidRequest("Missing required field: when") }
        return Input(event: try EventInput(BodyFields(v3), creating: creating), calendarID: calendarID, recurrenceZone: zone,
                     notifications: notificationsValue)
    }

    /// A timed `when` read in `zone` (the v2 recurrence timezone governs the series' wall clock).
    package static func zoned(_ w: EventWhen, _ zone: String?) -> EventWhen {
        guard let zone else { return w }
        switch w {
        case .time(let t, _): return .time(t, timezone: zone)
        case .timespan(let a, let b, _, _): return .timespan(start: a, end: b, startTimezone: zone, endTimezone: zone)
        default: return w
        }
    }

    // MARK: - Finding events

    /// An event of the account by ID (a stored one, or an occurrence `<master>_<stamp>`), with its calendar.
    package static func target(_ store: RegionStore, _ account: GrantRecord, _ id: String) throws -> (EventTarget, CalendarRecord) {
        guard let found = try EventTarget.find(store, account, id) else { throw NylasError.notFound("Couldn't find event \(id)") }
        return found
    }

    // MARK: - List

    package struct Query {
        package var calendarID: String?
        package var eventID: String?
        package var title: String?
        package var description: String?
        package var location: String?
        package var busy: Bool?
        package var startsBefore: Int?
        package var startsAfter: Int?
        package var endsBefore: Int?
        package var endsAfter: Int?
        package var expand: Bool
        package var showCancelled: Bool
        package var metadata: V2Calendar.MetadataFilter

        package init(_ q: QueryParameters) throws(NylasError) {
            func time(_ key: String) throws(NylasError) -> Int? {
                guard let v = q[key] else { return nil }
                guard let n = Int(v), abs(n) <= 253_402_300_799 else { throw NylasError.invalidRequest("Invalid value for \(key): \(v) is not a Unix time") }
                return n
            }
            calendarID = q["calendar_id"]
            eventID = q["event_id"]
            title = q["title"]?.lowercased()
            description = q["description"]?.lowercased()
            location = q["location"]?.lowercased()
            busy = try q.v2Bool("busy")
            startsBefore = try time("starts_before")
            startsAfter = try time("starts_after")
            endsBefore = try time("ends_before")
            endsAfter = try time("ends_after")
            expand = try q.v2Bool("expand_recurring") ?? false
            showCancelled = try q.v2Bool("show_cancelled") ?? false
            metadata = try V2Calendar.MetadataFilter(q)
        }

        package func keeps(_ o: JSON) -> Bool {
            func has(_ key: String, _ needle: String?) -> Bool {
                guard let needle else { return true }
                return o[key]?.stringValue?.lowercased().contains(needle) ?? false
            }
            guard has("title", title), has("description", description), has("location", location) else { return false }
            // `event_id` of a recurring master with `expand_recurring=true`: its occurrences (§6.12).
            if let eventID, o["id"]?.stringValue != eventID, !(expand && o["master_event_id"]?.stringValue == eventID) { return false }
            if let busy, (o["busy"]?.boolValue ?? true) != busy { return false }
            if !showCancelled, o["status"]?.stringValue == "cancelled" { return false }
            if let w = EventWhen(stored: o["when"]) {
                if let t = startsBefore, !(w.startUnix < t) { return false }
                if let t = startsAfter, !(w.startUnix > t) { return false }
                if let t = endsBefore, !(w.endUnix < t) { return false }
                if let t = endsAfter, !(w.endUnix > t) { return false }
            }
            return metadata.matches(o["metadata"]?.objectValue ?? [:])
        }
    }

    /// The account's events as the list shows them (v3-shaped JSON), by start then ID.
    package static func collect(_ q: Query, store: RegionStore, account: GrantRecord, now: Int) throws -> [JSON] {
        let calendars: [CalendarRecord]
        if let id = q.calendarID {
            guard let c = try store.calendar(grantID: account.id, id: id) else { return [] }
            calendars = [c]
        } else {
            calendars = try store.calendars(grantID: account.id)
        }
        // Series are expanded over the filter window, or up to a year ahead when it is open-ended.
        let to = [q.startsBefore, q.endsBefore].compactMap { $0 }.min() ?? (now + 366 * 86400)
        let from = [q.startsAfter, q.endsAfter].compactMap { $0 }.max()
        var out: [(Int, String, JSON)] = []
        for calendar in calendars {
            let records = try store.events(grantID: account.id, calendarID: calendar.id)
            let exceptions = Dictionary(grouping: records.filter { $0.masterEventID != nil }, by: { $0.masterEventID! })
            for r in records {
                guard let when = r.when else { continue }
                if r.masterEventID != nil {
                    if q.expand { out.append((when.startUnix, r.id, r.data)) }
                } else if q.expand, r.recurring, let recurrence = r.recurrence {
                    let edited = Set((exceptions[r.id] ?? []).compactMap(\.originalStart))
                    let start = from.map { $0 - 366 * 86400 } ?? when.startUnix
                    for occ in recurrence.occurrences(of: when, from: start, to: to) where !edited.contains(occ.originalStart) {
                        out.append((occ.when.startUnix, r.id + "_" + occ.stamp, EventTarget.occurrenceJSON(r, occ)))
                    }
                } else {
                    out.append((when.startUnix, r.id, r.data))
                }
            }
        }
        return out.filter { q.keeps($0.2) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
    }

    @Sendable package static func list(_ ctx: RequestContext) async throws -> SimResponse {
        let (limit, offset) = try ctx.query.v2Paging()
        let view = try ctx.query.v2View(expanded: false)
        let q = try Query(ctx.query)
        return .json(try ctx.v2CalendarRead { s, store, account in
            let all = try collect(q, store: store, account: account, now: s.now.seconds)
            if view == "count" { return ["count": .int(all.count)] }
            let page = all.dropFirst(offset).prefix(limit)
            if view == "ids" { return .array(page.map { $0["id"] ?? .null }) }
            return .array(page.map { V2Render.event($0, account: account, store: store) })
        })
    }

    /// `POST /events/to-ics`: the iCalendar text of a stored event (`event_id`) or of an unsaved one
    /// given in the body, with `ics_options` {`ical_uid`, `method` (default REQUEST), `prodid`}.
    @Sendable package static func toICS(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let options = body.raw("ics_options")
        if let options, options.objectValue == nil { throw NylasError.wrongType("ics_options", expected: "object", got: options) }
        let method = (options?["method"]?.stringValue ?? "request").uppercased()
        guard ["REQUEST", "PUBLISH", "REPLY", "ADD", "CANCEL", "REFRESH", "COUNTER", "DECLINECOUNTER"].contains(method) else {
            throw NylasError.invalidRequest("Invalid ics_options.method \(method)")
        }
        let prodid = options?["prodid"]?.stringValue ?? "-//Nylas Simulator//EN"
        return .json(try ctx.v2CalendarRead { s, store, account in
            var event: JSON
            if let id = try body.string("event_id") {
                event = try target(store, account, id).0.json
            } else {
                guard let when = body.raw("when") else { throw NylasError.invalidRequest("Provide event_id, or an event with when") }
                event = ["title": body.raw("title") ?? .null, "description": body.raw("description") ?? .null,
                         "location": body.raw("location") ?? .null, "when": try EventWhen.parse(try Self.when(when)).json,
                         "participants": body.raw("participants") ?? [],
                         "organizer": ["email": .string(account.email), "name": .string(account.name ?? "")]]
                if let rrule = body.raw("recurrence")?["rrule"] { event["recurrence"] = rrule }
            }
            let uid = options?["ical_uid"]?.stringValue
            return ["ics": .string(ICS.render(event, uid: uid, method: method, prodid: prodid, stamp: s.now.seconds))]
        })
    }

    @Sendable package static func get(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.v2CalendarRead { s, store, account in
            V2Render.event(try target(store, account, ctx.param("id")).0.json, account: account, store: store)
        })
    }

    // MARK: - Create

    @Sendable package static func create(_ ctx: RequestContext) async throws -> SimResponse {
        let notify = try ctx.query.v2Bool("notify_participants") ?? false
        let input = try input(try ctx.body(), creating: true)
        return .json(try ctx.v2CalendarWrite { s, store, account in
            if input.calendarID == V2CalendarRoutes.EmailedEvents.id(account) {
                throw NylasError.invalidRequest("Can't create events on read_only calendar.")
            }
            guard let calendar = try store.calendar(grantID: account.id, id: input.calendarID ?? "") else {
                throw NylasError.invalidRequest("Couldn't find calendar \(input.calendarID ?? "")")
            }
            if calendar.readOnly { throw NylasError.invalidRequest("Can't create events on read_only calendar.") }
            var content = EventContent(when: .time(0, timezone: nil), organizer: Participant(name: account.name ?? "", email: account.email))
            try input.event.apply(to: &content, existing: nil, owner: account.email, provider: account.provider, world: s.world)
            content.when = zoned(content.when, input.recurrenceZone)
            let record = try EventOperations.create(s, region: ctx.region, grant: account, calendar: calendar, content: content,
                                                    metadata: input.event.metadata ?? [:], kind: ctx.changeKind(account),
                                                    notifyParticipants: notify)
            try keepNotifications(s, store, account, eventID: record.id, input.notifications)
            let job = try V2Jobs.record(s, store, account, action: "create_event", object: "event", objectID: record.id)
            return V2Render.event((try store.event(grantID: account.id, id: record.id) ?? record).data, account: account, store: store, jobStatusID: job)
        })
    }

    // MARK: - Update

    @Sendable package static func update(_ ctx: RequestContext) async throws -> SimResponse {
        let notify = try ctx.query.v2Bool("notify_participants") ?? false
        let input = try input(try ctx.body(), creating: false)
        return .json(try ctx.v2CalendarWrite { s, store, account in
            let (found, calendar) = try target(store, account, ctx.param("id"))
            if calendar.readOnly { throw NylasError.invalidRequest("Cannot update read_only event.") }
            let kind = ctx.changeKind(account)
            var changed: Set<String> = [account.email.lowercased()]
            let result: EventRecord?
            switch found {
            case .record(let r):
                guard var e = try s.world.event(id: r.worldID), !e.deleted else { throw NylasError.notFound("Couldn't find event \(r.id)") }
                if r.masterEventID != nil, input.event.recurrence != nil {
                    throw NylasError.invalidRequest("An instance of a recurring event cannot have its own recurrence.")
                }
                try input.event.apply(to: &e.content, existing: e.content, owner: account.email, provider: account.provider, world: s.world)
                e.content.when = zoned(e.content.when, input.recurrenceZone)
                var moved = false
                if let target = input.calendarID, target != calendar.id {
                    guard let destination = try store.calendar(grantID: account.id, id: target) else {
                        throw NylasError.invalidRequest("Couldn't find calendar \(target)")
                    }
                    if destination.readOnly { throw NylasError.invalidRequest("Can't create events on read_only calendar.") }
                    guard r.masterEventID == nil else { throw NylasError.invalidRequest("An instance of a recurring event cannot move to another calendar.") }
                    e.calendar = destination.worldID
                    moved = true
                }
                let update = try EventOperations.update(s, region: ctx.region, grant: account, e, moved: moved, kind: kind,
                                                        metadata: input.event.metadata ?? r.metadata,
                                                        mailUpdate: notify && input.event.changesInvitation)
                result = update.event
                changed.formUnion(update.changed)
            case .occurrence(let master, let occ):
                if input.event.recurrence != nil {
                    throw NylasError.invalidRequest("An instance of a recurring event cannot have its own recurrence.")
                }
                if let target = input.calendarID, target != calendar.id {
                    throw NylasError.invalidRequest("An instance of a recurring event cannot move to another calendar.")
                }
                result = try EventOperations.exception(s, region: ctx.region, grant: account, master: master, occ, kind: kind,
                                                       metadata: input.event.metadata, notFound: { NylasError.notFound("Couldn't find event \($0)") }) {
                    try input.event.apply(to: &$0, existing: $0, owner: account.email, provider: account.provider, world: s.world)
                }.1
            }
            for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
            guard let result else { throw NylasError.internal("event not synced") }
            try keepNotifications(s, store, account, eventID: result.id, input.notifications)
            let job = try V2Jobs.record(s, store, account, action: "update_event", object: "event", objectID: result.id)
            return V2Render.event((try store.event(grantID: account.id, id: result.id) ?? result).data, account: account, store: store, jobStatusID: job)
        })
    }

    // MARK: - Delete

    @Sendable package static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        let notify = try ctx.query.v2Bool("notify_participants") ?? false
        return .json(try ctx.v2CalendarWrite { s, store, account in
            let (found, calendar) = try target(store, account, ctx.param("id"))
            if calendar.readOnly { throw NylasError.invalidRequest("Cannot delete read_only event.") }
            let changed = try EventOperations.delete(s, region: ctx.region, grant: account, found, kind: ctx.changeKind(account),
                                                     mailCancellation: notify, notFound: { NylasError.notFound("Couldn't find event \($0)") })
            for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
            return ["job_status_id": .string(try V2Jobs.record(s, store, account, action: "delete_event", object: "event", objectID: ctx.param("id")))]
        })
    }

    // MARK: - RSVP

    /// `POST /send-rsvp {event_id, status, comment?}`: the invited account answers; every copy of
    /// the event shows the answer and the organizer gets the reply (unless `notify_participants=false`).
    @Sendable package static func rsvp(_ ctx: RequestContext) async throws -> SimResponse {
        let notify = try ctx.query.v2Bool("notify_participants") ?? true
        let body = try ctx.body()
        let eventID = try body.requiredString("event_id")
        let status = try body.requiredString("status")
        guard ["yes", "no", "maybe"].contains(status) else { throw NylasError.invalidRequest("Invalid status \(status)") }
        let comment = try body.string("comment")
        return .json(try ctx.v2CalendarWrite { s, store, account in
            let (found, _) = try target(store, account, eventID)
            let me = account.email.lowercased()
            let (_, result, changed) = try EventOperations.rsvp(
                s, region: ctx.region, grant: account, found, kind: ctx.changeKind(account), status: status, mailReply: notify,
                notFound: { NylasError.notFound("Couldn't find event \($0)") }) { content in
                guard content.organizer.email.lowercased() != me,
                      let i = content.participants.firstIndex(where: { $0.email.lowercased() == me }) else {
                    throw NylasError.invalidRequest("This is not a message imported from an iCalendar invite.")
                }
                content.participants[i].status = status
                if let comment { content.participants[i].comment = comment }
            }
            for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
            guard let result else { throw NylasError.internal("event not synced") }
            return V2Render.event((try store.event(grantID: account.id, id: result.id) ?? result).data, account: account, store: store)
        })
    }
}
