import Foundation

/// Group configurations: events of the organizer's calendar that guests book seats in, up to a
/// capacity. Each group event is a real event (the events API shows it); the configuration keeps
/// which events are its own and their capacities.
package enum SchedulerGroupEvents {
    private static func organizer(_ store: RegionStore, _ config: SchedulerConfigurationRecord) throws -> GrantRecord {
        guard let g = try store.grant(id: config.grantID), g.status == .valid else {
            throw NylasError.invalidRequest("The configuration's grant is no longer valid")
        }
        return g
    }


    private static func requireGroup(_ config: SchedulerConfigurationRecord) throws {
        guard SchedulerConfiguration.isGroup(config.data) else {
            throw NylasError.invalidRequest("Configuration \(config.id) is not a group configuration")
        }
    }

    /// The `group_event` object.
    package static func json(_ e: EventRecord, capacity: Int) -> JSON {
        var o: JSON = ["id": .string(e.id), "calendar_id": .string(e.calendarID), "capacity": .int(capacity),
                       "title": e.data["title"] ?? "", "participants": e.data["participants"] ?? [], "when": e.data["when"] ?? .null]
        for key in ["description", "location", "recurrence", "conferencing"] where e.data[key] != nil { o[key] = e.data[key] }
        return o
    }

    /// The group events of `config` in `calendarRef` overlapping `[start, end)`.
    package static func list(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                             calendarRef: String?, start: Int, end: Int) throws -> [(event: EventRecord, capacity: Int)] {
        try requireGroup(config)
        let grant = try organizer(store, config)
        if store.calendarSyncCursorOrNil(grantID: grant.id) { try CalendarSync.initialSync(s, region: region, grant: grant) }
        let calendar = try calendarRef.map { try CalendarAccess.calendar(store, grant, $0).id }
        var out: [(event: EventRecord, capacity: Int)] = []
        for (id, entry) in try store.schedulerGroupEvents(configurationID: config.id) {
            guard let e = try store.event(grantID: grant.id, id: id), e.status != "cancelled", e.startTime < end, e.endTime > start else { continue }
            if let calendar, e.calendarID != calendar { continue }
            out.append((e, entry.capacity))
        }
        return out.sorted { ($0.event.startTime, $0.event.id) < ($1.event.startTime, $1.event.id) }
    }

    private static func participants(_ items: [JSON], field: String) throws(NylasError) -> [EventParticipant] {
        var out: [EventParticipant] = []
        for (i, p) in items.enumerated() {
            guard let email = p["email"]?.stringValue, EmailAddress.isValid(email) else {
                throw NylasError.invalidValue("\(field)[\(i)].email", "expected an email address")
            }
            out.append(EventParticipant(email: email, name: p["name"]?.stringValue, status: "noreply"))
        }
        return out
    }

    private static func capacity(_ body: BodyFields, required: Bool) throws(NylasError) -> Int? {
        guard let n = try body.int("capacity") else {
            if required { throw NylasError.missingField("capacity") }
            return nil
        }
        guard (1...500).contains(n) else { throw NylasError.invalidValue("capacity", "expected 1 to 500, got \(n)") }
        return n
    }

    package static func create(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                               _ body: BodyFields) throws -> JSON {
        try requireGroup(config)
        guard let calendarRef = try body.string("calendar_id") else { throw NylasError.missingField("calendar_id") }
        guard let title = try body.string("title"), !title.isEmpty else { throw NylasError.missingField("title") }
        let seats = try capacity(body, required: true)!
        guard let items = try body.array("participants") else { throw NylasError.missingField("participants") }
        let people = try participants(items, field: "participants")
        guard let whenJSON = body.raw("when") else { throw NylasError.missingField("when") }
        let when = try EventWhen.parse(whenJSON)
        let grant = try organizer(store, config)
        if store.calendarSyncCursorOrNil(grantID: grant.id) { try CalendarSync.initialSync(s, region: region, grant: grant) }
        let calendar = try CalendarAccess.calendar(store, grant, calendarRef)
        var content = EventContent(when: when, organizer: Participant(name: grant.name ?? "", email: grant.email))
        content.title = title
        content.description = try body.string("description")
        content.location = try body.string("location")
        content.participants = people.filter { $0.email.lowercased() != grant.email.lowercased() }
        content.capacity = seats
        let event = try EventOperations.create(s, region: region, grant: grant, calendar: calendar, content: content,
                                               metadata: ["source": "scheduler", "key5": .string(config.id)], kind: grant.changeKind,
                                               notifyParticipants: false)
        try store.saveSchedulerGroupEvent(configurationID: config.id, grantID: grant.id, eventID: event.id, calendarID: calendar.id, capacity: seats)
        return json(event, capacity: seats)
    }

    package static func update(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                               eventID: String, _ body: BodyFields) throws -> JSON {
        try requireGroup(config)
        let grant = try organizer(store, config)
        guard let entry = try store.schedulerGroupEvents(configurationID: config.id)[eventID],
              let record = try store.event(grantID: grant.id, id: eventID), var w = try s.world.event(id: record.worldID), !w.deleted else {
            throw NylasError.notFound("Group event \(eventID) not found")
        }
        let seats = try capacity(body, required: false) ?? entry.capacity
        if let title = try body.string("title") { w.content.title = title }
        if body.has("description") { w.content.description = try body.string("description") }
        if body.has("location") { w.content.location = try body.string("location") }
        if let when = body.raw("when") { w.content.when = try EventWhen.parse(when, existing: w.content.when) }
        if let items = try body.array("participants") {
            w.content.participants = try participants(items, field: "participants").filter { $0.email.lowercased() != grant.email.lowercased() }
        }
        w.content.capacity = seats
        let (event, changed) = try EventOperations.update(s, region: region, grant: grant, w, moved: false, kind: grant.changeKind,
                                                          metadata: nil, mailUpdate: false)
        for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
        try store.saveSchedulerGroupEvent(configurationID: config.id, grantID: grant.id, eventID: eventID, calendarID: entry.calendarID, capacity: seats)
        guard let event else { throw NylasError.internal("group event not synced") }
        return json(event, capacity: seats)
    }

    package static func delete(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord, eventID: String) throws {
        try requireGroup(config)
        let grant = try organizer(store, config)
        guard try store.schedulerGroupEvents(configurationID: config.id)[eventID] != nil else {
            throw NylasError.notFound("Group event \(eventID) not found")
        }
        if let record = try store.event(grantID: grant.id, id: eventID) {
            let changed = try EventOperations.delete(s, region: region, grant: grant, .record(record), kind: grant.changeKind, mailCancellation: false,
                                                     notFound: { NylasError.notFound("Event \($0) not found") })
            for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
        }
        try store.deleteSchedulerGroupEvent(configurationID: config.id, eventID: eventID)
    }

    /// Makes events already in the organizer's calendar group events of `config` (20 at most).
    package static func importEvents(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                                     _ items: [JSON]) throws -> JSON {
        try requireGroup(config)
        guard items.count <= 20 else { throw NylasError.invalidValue("events", "at most 20 events per import") }
        let grant = try organizer(store, config)
        if store.calendarSyncCursorOrNil(grantID: grant.id) { try CalendarSync.initialSync(s, region: region, grant: grant) }
        let existing = try store.schedulerGroupEvents(configurationID: config.id)
        let defaultCapacity = config.data["group_booking"]?["default_capacity"]?.intValue ?? 10
        var imported: [JSON] = [], failed: [JSON] = []
        for (i, item) in items.enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("[\(i)]", expected: "object", got: item) }
            let f = BodyFields(o)
            guard let id = try f.string("event_id") else { throw NylasError.missingField("event_id") }
            guard let calendarRef = try f.string("calendar_id") else { throw NylasError.missingField("calendar_id") }
            let seats = try capacity(f, required: false) ?? defaultCapacity
            let calendar = try CalendarAccess.calendar(store, grant, calendarRef)
            if existing[id] != nil || imported.contains(["event_id": .string(id)]) {
                failed.append(["event_id": .string(id), "reason": "Event already imported"])
            } else if let e = try store.event(grantID: grant.id, id: id), e.calendarID == calendar.id, e.status != "cancelled" {
                try store.saveSchedulerGroupEvent(configurationID: config.id, grantID: grant.id, eventID: id, calendarID: calendar.id, capacity: seats)
                imported.append(["event_id": .string(id)])
            } else {
                failed.append(["event_id": .string(id), "reason": "Event not found"])
            }
        }
        return ["imported_events": .array(imported), "import_failed": .array(failed)]
    }

    /// Refuses a group time slot a guest saw that no longer holds: the event gone or moved, its
    /// capacity changed, or full.
    package static func validate(_ s: EngineState, _ store: RegionStore, _ config: SchedulerConfigurationRecord, _ body: BodyFields) throws {
        try requireGroup(config)
        guard try body.string("calendar_id") != nil else { throw NylasError.missingField("calendar_id") }
        guard let id = try body.string("event_id") else { throw NylasError.missingField("event_id") }
        let invalid = NylasError.invalidRequest("The time slot is no longer valid.")
        let grant = try organizer(store, config)
        guard let entry = try store.schedulerGroupEvents(configurationID: config.id)[id],
              let e = try store.event(grantID: grant.id, id: id), e.status != "cancelled" else { throw invalid }
        if let c = try body.int("capacity"), c != entry.capacity { throw invalid }
        if let t = try body.int("start_time"), t != e.startTime { throw invalid }
        if let t = try body.int("end_time"), t != e.endTime { throw invalid }
        if seatsTaken(e, grant) >= entry.capacity { throw invalid }
    }

    /// Guests in the event (everyone but the organizer).
    static func seatsTaken(_ e: EventRecord, _ grant: GrantRecord) -> Int {
        (e.data["participants"]?.arrayValue ?? []).filter { $0["email"]?.stringValue?.lowercased() != grant.email.lowercased() }.count
    }

    /// The availability of a group configuration: its events in the window with seats left.
    package static func slots(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                              start: Int, end: Int) throws -> [JSON] {
        let grant = try organizer(store, config)
        let notice = (config.data["scheduler"]?["min_booking_notice"]?.intValue ?? 60) * 60
        return try list(s, store, region: region, config, calendarRef: nil, start: start, end: end).compactMap { item in
            guard item.event.startTime >= s.now.seconds + notice, seatsTaken(item.event, grant) < item.capacity else { return nil }
            return ["emails": .strings([grant.email]), "start_time": .int(item.event.startTime), "end_time": .int(item.event.endTime),
                    "event_id": .string(item.event.id), "calendar_id": .string(item.event.calendarID), "capacity": .int(item.capacity)]
        }
    }
}
