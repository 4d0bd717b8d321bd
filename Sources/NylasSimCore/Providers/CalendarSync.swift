import Foundation

/// Copies each mailbox's calendars, events and contacts into every grant connected to it, under
/// that grant's own IDs, and raises the `calendar.*`, `event.*` and `contact.*` events: the
/// calendar half of the sync engine, called by `SyncEngine.sync` and `SyncEngine.grantConnected`.
///
/// - A grant's first sync copies what the mailbox already holds and notifies nothing.
/// - Afterwards it follows the world's `changes` log (kinds `calendar`, `event`, `contact`) with its
///   own cursor: push providers at once (`source` realtime), the others at their sync tick.
/// - Moving an event to another calendar keeps its ID and raises one `event.updated`.
/// - A new contact raises `contact.updated` (v3 has no `contact.created`).
/// - By default only the primary calendar's events are notified (`SimulatorSettings.syncPrimaryCalendarOnly`,
///   or the application setting `sync_primary_calendar_only`); every calendar stays readable.
package enum CalendarSync {
    package static let changeKinds: Set<String> = ["calendar", "event", "contact"]

    /// A grant was created or re-authenticated: its first sync, or a catch-up.
    package static func grantConnected(_ s: EngineState, region: Region, grant: GrantRecord, isNew: Bool) throws {
        let store = s.store(region)
        if try store.calendarSyncCursor(grantID: grant.id) == nil {
            try initialSync(s, region: region, grant: grant)
        } else {
            // The catch-up after re-authentication is silent, as the first sync (`notifyHistoricalSync`).
            let live: SyncKind = ProviderKind(grant.provider).isPush ? .realtime : .incremental
            try sync(s, region: region, grant: grant, kind: s.notifiesHistory(grant) ? live : .historic)
        }
    }

    /// After the world changed for `mailbox`: push grants sync at once (through the mail sync,
    /// which calls `sync`), and so do grants without a mailbox (virtual calendars).
    package static func worldChanged(_ s: EngineState, mailbox: String) throws {
        try SyncEngine.mailboxChanged(s, mailbox: mailbox)
        for region in Region.allCases {
            for grant in try s.store(region).grants(email: mailbox)
            where grant.status == .valid && !ProviderKind(grant.provider).hasMail && !s.providerUnavailable(grant.provider, mailbox: mailbox) {
                try sync(s, region: region, grant: grant, kind: .realtime)
            }
        }
    }

    /// Copies everything the mailbox holds, silently, and starts the cursor at the log's end.
    package static func initialSync(_ s: EngineState, region: Region, grant: GrantRecord) throws {
        let store = s.store(region)
        try s.world.ensureCalendars(grant.email, now: s.now.seconds)
        try s.world.ensureContactGroups(grant.email)
        let cursor = try s.world.lastChange(mailbox: grant.email.lowercased())
        for c in try s.world.calendars(mailbox: grant.email) {
            try applyCalendar(s, region: region, grant: grant, c, kind: .historic)
        }
        for e in try s.world.events(mailbox: grant.email) {
            try applyEvent(s, region: region, grant: grant, e, kind: .historic)
        }
        try syncContactGroups(s, region: region, grant: grant)
        for c in try s.world.contacts(mailbox: grant.email) {
            try applyContact(s, region: region, grant: grant, c, kind: .historic)
        }
        try store.setCalendarSyncCursor(grantID: grant.id, cursor: cursor)
    }

    /// Applies the mailbox's calendar, event and contact changes since the grant's cursor.
    package static func sync(_ s: EngineState, region: Region, grant: GrantRecord, kind: SyncKind) throws {
        let store = s.store(region)
        guard let cursor = try store.calendarSyncCursor(grantID: grant.id) else {
            try initialSync(s, region: region, grant: grant)
            return
        }
        let changes = try s.world.changes(mailbox: grant.email.lowercased(), after: cursor)
        guard let last = changes.last?.seq else { return }
        var seen = Set<String>()
        for change in changes where changeKinds.contains(change.kind) {
            guard seen.insert("\(change.kind):\(change.object)").inserted else { continue }
            switch change.kind {
            case "calendar":
                if let c = try s.world.calendar(id: change.object) { try applyCalendar(s, region: region, grant: grant, c, kind: kind) }
            case "event":
                if let e = try s.world.event(id: change.object) { try applyEvent(s, region: region, grant: grant, e, kind: kind) }
            default:
                try syncContactGroups(s, region: region, grant: grant)
                if let c = try s.world.contact(id: change.object) { try applyContact(s, region: region, grant: grant, c, kind: kind) }
            }
        }
        try store.setCalendarSyncCursor(grantID: grant.id, cursor: last)
    }

    // MARK: - Calendars

    /// The ID a grant gives a world calendar: Google's primary calendar is the account's address.
    package static func calendarID(_ s: EngineState, _ store: RegionStore, _ grant: GrantRecord, _ c: WorldCalendar) throws -> String {
        let key = String(c.id)
        if let id = try store.objectID(grantID: grant.id, kind: "calendar", worldKey: key) { return id }
        guard grant.apiVersion == 3, grant.kind == .google else {
            return try store.mintID(grant: grant, kind: "calendar", worldKey: key)
        }
        let id: String
        switch c.role {
        case "primary": id = grant.email
        case "holidays": id = "en.usa#holiday@group.v.calendar.google.com"
        default: id = store.ids.base36("google-calendar", length: 26) + "@group.calendar.google.com"
        }
        try store.saveObjectID(grantID: grant.id, kind: "calendar", worldKey: key, id: id)
        return id
    }

    package static func calendarJSON(_ c: WorldCalendar, id: String, grant: GrantRecord, metadata: [String: JSON], notetaker: JSON?) -> JSON {
        var o: JSON = [
            "id": .string(id), "grant_id": .string(grant.id), "object": "calendar", "name": .string(c.name),
            "is_primary": .bool(c.isPrimary), "read_only": .bool(c.readOnly), "is_owned_by_user": .bool(c.isOwnedByUser),
            "metadata": .object(metadata),
        ]
        // Absent rather than null: the description types these as strings.
        for (key, value) in [("description", c.description), ("location", c.location), ("timezone", c.timezone), ("hex_color", c.hexColor)] {
            if let value { o[key] = .string(value) }
        }
        if grant.kind == .google { o["hex_foreground_color"] = .string(c.hexForegroundColor ?? "#000000") }
        if grant.kind == .microsoft || grant.kind == .ews { o["owner_email"] = .string(c.mailbox) }
        if let notetaker { o["notetaker"] = notetaker }
        return o
    }

    /// Brings the grant's copy of one calendar up to the world's state.
    @discardableResult
    package static func applyCalendar(_ s: EngineState, region: Region, grant: GrantRecord, _ c: WorldCalendar, kind: SyncKind,
                              metadata: [String: JSON]? = nil, notetaker: JSON? = nil) throws -> CalendarRecord? {
        let store = s.store(region)
        let existing = try store.calendar(grantID: grant.id, worldID: c.id)
        let source = "/\(grant.provider)/calendar/\(kind.rawValue)"
        if c.deleted {
            guard let e = existing else { return nil }
            try store.deleteCalendar(grantID: grant.id, id: e.id)
            if kind != .historic {
                SyncEngine.emit(s, region, grant, "calendar.deleted", ["id": .string(e.id), "grant_id": .string(grant.id), "object": "calendar"], source)
            }
            return nil
        }
        let id = try calendarID(s, store, grant, c)
        let data = calendarJSON(c, id: id, grant: grant, metadata: metadata ?? existing?.metadata ?? [:],
                                notetaker: notetaker ?? existing?.data["notetaker"])
        let record = CalendarRecord(grantID: grant.id, id: id, worldID: c.id, isPrimary: c.isPrimary, readOnly: c.readOnly, data: data)
        if let existing, existing.data == data { return existing }
        try store.save(record)
        if kind != .historic {
            SyncEngine.emit(s, region, grant, existing == nil ? "calendar.created" : "calendar.updated", data, source)
        }
        return record
    }

    // MARK: - Events

    package static func eventSource(_ grant: GrantRecord, _ kind: SyncKind) -> String { "/\(grant.provider)/events/\(kind.rawValue)" }

    /// Whether event notifications of this grant are limited to its primary calendar.
    package static func primaryOnly(_ s: EngineState, _ store: RegionStore, _ grant: GrantRecord) -> Bool {
        if let app = try? store.application(id: grant.applicationID), let flag = app.settings["sync_primary_calendar_only"]?.boolValue {
            return flag
        }
        return s.settings.syncPrimaryCalendarOnly
    }

    /// The ID a grant gives a world event; an exception is `<master_id>_<original start>` (Google style).
    package static func eventID(_ s: EngineState, _ store: RegionStore, _ grant: GrantRecord, _ e: WorldEvent) throws -> String {
        let key = String(e.id)
        if let id = try store.objectID(grantID: grant.id, kind: "event", worldKey: key) { return id }
        if let master = e.master, let original = e.originalStart {
            let masterID = try store.mintID(grant: grant, kind: "event", worldKey: String(master))
            let id = masterID + "_" + stamp(original, allDay: e.content.when.isAllDay)
            try store.saveObjectID(grantID: grant.id, kind: "event", worldKey: key, id: id)
            return id
        }
        if grant.kind == .google, grant.apiVersion != 2 {
            // Google gives an event one ID on every attendee's calendar (reference v3 §7); a region
            // has IDs of its own (seed 000: "object ID values … are different" in the new region).
            let id = googleEventID(icalUID: e.icalUID, region: store.region)
            if try store.worldKey(grantID: grant.id, kind: "event", id: id) == nil {
                try store.saveObjectID(grantID: grant.id, kind: "event", worldKey: key, id: id)
                return id
            }
        }
        return try store.mintID(grant: grant, kind: "event", worldKey: key)
    }

    /// A Google event ID for an iCalendar UID in a region: 26 lower-case hex digits of a digest of both.
    package static func googleEventID(icalUID: String, region: Region) -> String {
        let digits = Array("0123456789abcdef")
        return String(Digest.sha256(Array("\(region.rawValue)|\(icalUID)".utf8)).prefix(13).flatMap { b in
            [digits[Int(b >> 4)], digits[Int(b & 15)]]
        })
    }

    package static func stamp(_ originalStart: Int, allDay: Bool) -> String {
        allDay ? CivilDate(dayNumber: Int((Double(originalStart) / 86400).rounded(.down))).compact : WallClock.utcStamp(originalStart)
    }

    /// The API object of an event for a grant.
    package static func eventJSON(_ content: EventContent, id: String, grant: GrantRecord, calendarID: String, icalUID: String,
                          masterID: String?, originalStart: Int?, readOnly: Bool, metadata: [String: JSON],
                          createdAt: Int, updatedAt: Int) -> JSON {
        var o = content.json
        // v3 says `maybe` for a tentative event (its enum: confirmed, cancelled, maybe).
        if content.status == "tentative" { o["status"] = "maybe" }
        o["event_type"] = nil
        o["id"] = .string(id)
        o["grant_id"] = .string(grant.id)
        o["calendar_id"] = .string(calendarID)
        o["object"] = "event"
        o["ical_uid"] = .string(icalUID)
        o["read_only"] = .bool(readOnly)
        o["metadata"] = .object(metadata)
        o["created_at"] = .int(createdAt)
        o["updated_at"] = .int(updatedAt)
        if grant.kind == .google {
            o["event_type"] = .string(content.eventType)
            let eid = Data("\(id) \(calendarID)".utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
            o["html_link"] = .string("https://www.google.com/calendar/event?eid=\(eid)")
        }
        if let masterID {
            o["master_event_id"] = .string(masterID)
            o["recurrence"] = nil
        }
        if let originalStart { o["original_start_time"] = .int(originalStart) }
        return o
    }

    /// The grant's record of a world event (not saved).
    package static func eventRecord(_ s: EngineState, region: Region, grant: GrantRecord, _ e: WorldEvent, calendar: CalendarRecord,
                            existing: EventRecord?, metadata: [String: JSON]?) throws -> EventRecord {
        let store = s.store(region)
        let id = try eventID(s, store, grant, e)
        let masterID = try e.master.map { try store.mintID(grant: grant, kind: "event", worldKey: String($0)) }
        let created = existing?.createdAt ?? e.createdAt
        let data = eventJSON(e.content, id: id, grant: grant, calendarID: calendar.id, icalUID: e.icalUID, masterID: masterID,
                             originalStart: e.originalStart, readOnly: calendar.readOnly,
                             metadata: metadata ?? existing?.metadata ?? [:], createdAt: created, updatedAt: e.updatedAt)
        return EventRecord(grantID: grant.id, id: id, worldID: e.id, calendarID: calendar.id, icalUID: e.icalUID, masterEventID: masterID,
                           originalStart: e.originalStart, content: e.content, data: data, createdAt: created, updatedAt: e.updatedAt)
    }

    package static func deletedEventJSON(_ r: EventRecord) -> JSON {
        var o: JSON = ["id": .string(r.id), "grant_id": .string(r.grantID), "calendar_id": .string(r.calendarID), "object": "event"]
        if let m = r.masterEventID { o["master_event_id"] = .string(m) }
        if !r.metadata.isEmpty { o["metadata"] = .object(r.metadata) }
        return o
    }

    /// Brings the grant's copy of one world event up to date and notifies the change: a new
    /// event is `event.created`, a changed or moved one `event.updated` (one, whatever changed),
    /// a deleted or cancelled one `event.deleted`. An edited occurrence was already part of its
    /// series, so its first copy is an `event.updated`.
    @discardableResult
    package static func applyEvent(_ s: EngineState, region: Region, grant: GrantRecord, _ e: WorldEvent, kind: SyncKind,
                           metadata: [String: JSON]? = nil) throws -> EventRecord? {
        let store = s.store(region)
        let existing = try store.event(grantID: grant.id, worldID: e.id)
        let onlyPrimary = primaryOnly(s, store, grant)
        func notify(_ type: String, _ object: JSON, calendars: [String]) throws {
            guard kind != .historic else { return }
            if onlyPrimary {
                let primary = try store.primaryCalendar(grantID: grant.id)?.id
                guard calendars.contains(where: { $0 == primary }) else { return }
            }
            SyncEngine.emit(s, region, grant, type, object, eventSource(grant, kind))
        }
        let calendarCopy: CalendarRecord?
        if e.deleted {
            calendarCopy = nil
        } else if let c = try store.calendar(grantID: grant.id, worldID: e.calendar) {
            calendarCopy = c
        } else if let wc = try s.world.calendar(id: e.calendar), !wc.deleted {
            calendarCopy = try applyCalendar(s, region: region, grant: grant, wc, kind: .historic)
        } else {
            calendarCopy = nil
        }
        guard let calendar = calendarCopy else {
            // Deleted (or its calendar is gone): drop the copy.
            guard let old = existing else { return nil }
            try store.deleteEvent(grantID: grant.id, id: old.id)
            let calendarGone = try store.calendar(grantID: grant.id, id: old.calendarID) == nil
            // An exception goes silently with its series (the series' own deletion is notified).
            let masterGone = try e.master.map { try s.world.event(id: $0)?.deleted ?? true } ?? false
            if !calendarGone, !masterGone {
                try notify("event.deleted", deletedEventJSON(old), calendars: [old.calendarID])
            }
            if old.recurring {
                for x in try store.exceptions(grantID: grant.id, masterID: old.id) { try store.deleteEvent(grantID: grant.id, id: x.id) }
            }
            try NotetakerRules.eventGone(s, region: region, grant: grant, eventID: old.id)
            return nil
        }
        let record = try eventRecord(s, region: region, grant: grant, e, calendar: calendar, existing: existing, metadata: metadata)
        if let existing {
            var a = existing.data, b = record.data
            a["updated_at"] = nil
            b["updated_at"] = nil
            guard a != b else { return existing }
            try store.save(record)
            if record.status == "cancelled", existing.status != "cancelled" {
                try notify("event.deleted", deletedEventJSON(record), calendars: [record.calendarID])
            } else {
                try notify("event.updated", record.data, calendars: [existing.calendarID, record.calendarID])
            }
            try NotetakerRules.eventSaved(s, region: region, grant: grant, record, calendar: calendar)
            return record
        }
        try store.save(record)
        if e.master != nil {
            try notify(record.status == "cancelled" ? "event.deleted" : "event.updated",
                       record.status == "cancelled" ? deletedEventJSON(record) : record.data, calendars: [record.calendarID])
        } else {
            try notify("event.created", record.data, calendars: [record.calendarID])
        }
        try NotetakerRules.eventSaved(s, region: region, grant: grant, record, calendar: calendar)
        return record
    }

    // MARK: - Contacts

    package static func contactSource(_ grant: GrantRecord, _ kind: SyncKind) -> String { "/\(grant.provider)/contacts/\(kind.rawValue)" }

    package static func contactJSON(_ c: WorldContact, id: String, grant: GrantRecord, groupIDs: [String: String], metadata: [String: JSON]) -> JSON {
        var o = JSON.object(c.content)
        o["id"] = .string(id)
        o["grant_id"] = .string(grant.id)
        o["object"] = "contact"
        o["source"] = .string(c.content["source"]?.stringValue ?? "address_book")
        for key in ["emails", "phone_numbers", "physical_addresses", "web_pages", "im_addresses"] where o[key] == nil {
            o[key] = []
        }
        o["groups"] = .array((c.content["groups"]?.arrayValue ?? []).compactMap { g in
            g["id"]?.stringValue.map { key in ["id": .string(groupIDs[key] ?? key)] }
        })
        o["metadata"] = .object(metadata)
        return o
    }

    /// Mirrors the mailbox's contact groups into the grant's view.
    package static func syncContactGroups(_ s: EngineState, region: Region, grant: GrantRecord) throws {
        let store = s.store(region)
        for g in try s.world.contactGroups(mailbox: grant.email) {
            let id = try groupID(store, grant, g.key)
            var data: JSON = ["id": .string(id), "grant_id": .string(grant.id), "object": "contact_group", "name": .string(g.name),
                              "group_type": .string(g.groupType)]
            if let path = g.path { data["path"] = .string(path) }
            try store.saveContactGroup(grantID: grant.id, id: id, worldKey: g.key, data: data)
        }
    }

    package static func groupID(_ store: RegionStore, _ grant: GrantRecord, _ key: String) throws -> String {
        if grant.apiVersion == 3, grant.kind != .microsoft {
            if let id = try store.objectID(grantID: grant.id, kind: "contact_group", worldKey: key) { return id }
            try store.saveObjectID(grantID: grant.id, kind: "contact_group", worldKey: key, id: key)
            return key
        }
        return try store.mintID(grant: grant, kind: "contact_group", worldKey: key)
    }

    /// Group world keys → the grant's group IDs.
    package static func groupIDs(_ store: RegionStore, _ grant: GrantRecord) throws -> [String: String] {
        Dictionary(try store.contactGroups(grantID: grant.id).map { ($0.worldKey, $0.id) }, uniquingKeysWith: { a, _ in a })
    }

    /// Brings the grant's copy of a contact up to date: created or changed is `contact.updated`;
    /// deleted is notified only to v2 accounts (`contact.deleted`), or to v3 grants with
    /// `notifyContactDeleted` (seed 004: "We only support contact.updated").
    @discardableResult
    package static func applyContact(_ s: EngineState, region: Region, grant: GrantRecord, _ c: WorldContact, kind: SyncKind,
                             metadata: [String: JSON]? = nil) throws -> ContactRecord? {
        let store = s.store(region)
        let existing = try store.contact(grantID: grant.id, worldID: c.id)
        let source = contactSource(grant, kind)
        if c.deleted {
            guard let old = existing else { return nil }
            try store.deleteContact(grantID: grant.id, id: old.id)
            if kind != .historic, grant.apiVersion == 2 || s.settings.notifyContactDeleted {
                SyncEngine.emit(s, region, grant, "contact.deleted", ["id": .string(old.id), "grant_id": .string(grant.id), "object": "contact"], source)
            }
            return nil
        }
        let id = try store.mintID(grant: grant, kind: "contact", worldKey: String(c.id))
        let data = contactJSON(c, id: id, grant: grant, groupIDs: try groupIDs(store, grant), metadata: metadata ?? existing?.metadata ?? [:])
        if let existing, existing.data == data { return existing }
        let record = ContactRecord(grantID: grant.id, id: id, worldID: c.id, data: data, createdAt: existing?.createdAt ?? c.createdAt,
                                   updatedAt: c.updatedAt)
        try store.save(record)
        // v3 has no contact.created (a new contact is contact.updated); v2 notifies contact.created.
        let type = existing == nil && grant.apiVersion == 2 ? "contact.created" : "contact.updated"
        if kind != .historic { SyncEngine.emit(s, region, grant, type, data, source) }
        return record
    }
}

extension GrantRecord {
    /// How a change the grant's user makes reaches its view: at once for push providers and
    /// calendar-only ones, at the next sync otherwise.
    package var changeKind: SyncKind {
        ProviderKind(provider).isPush || !ProviderKind(provider).hasMail ? .realtime : .incremental
    }
}
