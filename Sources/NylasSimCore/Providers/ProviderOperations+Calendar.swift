import Foundation

/// Calendar and contact changes made "from outside", as the user would make them in their own
/// calendar or address book: the control API, the Swift API and fixtures call these. Grants see
/// them through the sync (push providers at once, the others at their next sync tick).
extension Engine {
    /// The mailbox of `email`, created as the detected provider when missing, with its calendars.
    fileprivate func calendarMailbox(_ s: EngineState, _ email: String) throws -> ProviderWorld.Mailbox {
        let mailbox = email.lowercased()
        let box: ProviderWorld.Mailbox
        if let existing = try s.world.mailbox(mailbox) {
            box = existing
        } else {
            guard EmailAddress.isValid(mailbox) else { throw NylasError.invalidValue("email", "'\(email)' is not an email address") }
            box = try s.world.ensureMailbox(mailbox, provider: ProviderDetection.detect(mailbox), now: s.now.seconds)
        }
        try s.world.ensureCalendars(mailbox, now: s.now.seconds)
        try s.world.ensureContactGroups(mailbox)
        return box
    }

    /// A calendar of a mailbox by `primary`, world ID or name.
    fileprivate func worldCalendar(_ s: EngineState, _ mailbox: String, _ ref: String?) throws -> WorldCalendar {
        let all = try s.world.calendars(mailbox: mailbox)
        guard let ref, ref != "primary" else {
            guard let p = all.first(where: \.isPrimary) else { throw NylasError.notFound("Mailbox \(mailbox) has no primary calendar") }
            return p
        }
        if let id = Int64(ref), let c = all.first(where: { $0.id == id }) { return c }
        if let c = all.first(where: { $0.name.lowercased() == ref.lowercased() }) { return c }
        throw NylasError.notFound("Mailbox \(mailbox) has no calendar '\(ref)'")
    }

    /// An event of a mailbox by world ID or iCalendar UID.
    fileprivate func worldEvent(_ s: EngineState, _ mailbox: String, _ ref: String) throws -> WorldEvent {
        if let id = Int64(ref), let e = try s.world.event(id: id), e.mailbox == mailbox, !e.deleted { return e }
        if let e = try s.world.event(mailbox: mailbox, icalUID: ref) { return e }
        throw NylasError.notFound("No event \(ref) in mailbox \(mailbox)")
    }

    package func worldCalendarsJSON(mailbox: String) throws -> JSON {
        try transaction { s in
            let box = try calendarMailbox(s, mailbox)
            return .array(try s.world.calendars(mailbox: box.email).map(\.json))
        }
    }

    /// The user adds a calendar.
    package func addWorldCalendar(mailbox: String, _ body: BodyFields) throws -> JSON {
        let fields = try CalendarFields(body)
        guard let name = fields.name else { throw NylasError.missingField("name") }
        let readOnly = try body.bool("read_only") ?? false
        return try transaction { s in
            let box = try calendarMailbox(s, mailbox)
            var c = WorldCalendar(mailbox: box.email, role: "user", name: name, now: s.now.seconds)
            c.description = fields.description
            c.location = fields.location
            c.timezone = fields.timezone ?? "UTC"
            c.hexColor = fields.hexColor
            c.hexForegroundColor = fields.hexForegroundColor
            c.readOnly = readOnly
            c.isOwnedByUser = !readOnly
            let created = try s.world.insertCalendar(c, time: s.now)
            try CalendarSync.worldChanged(s, mailbox: box.email)
            return created.json
        }
    }

    package func worldEventsJSON(mailbox: String) throws -> JSON {
        try transaction { s in
            let box = try calendarMailbox(s, mailbox)
            return .array(try s.world.events(mailbox: box.email).map(\.json))
        }
    }

    /// Participant answers given in a control body (`participants[].status`).
    fileprivate static func statuses(_ body: BodyFields) throws(NylasError) -> [String: String] {
        var out: [String: String] = [:]
        for (i, item) in (try body.array("participants") ?? []).enumerated() {
            guard let email = item["email"]?.stringValue, let status = item["status"]?.stringValue else { continue }
            guard ["yes", "no", "maybe", "noreply"].contains(status) else {
                throw NylasError.invalidValue("participants[\(i)].status", "expected yes, no, maybe or noreply")
            }
            out[email.lowercased()] = status
        }
        return out
    }

    /// The user creates an event in their own calendar (or an invitation lands there, with
    /// `organizer` naming someone else). Body: the API's event fields plus `calendar` (`primary`,
    /// world ID or name), `organizer`, `ical_uid`, `status`, `event_type`, participants' `status`.
    package func addWorldEvent(mailbox: String, _ body: BodyFields) throws -> JSON {
        let input = try EventInput(body, creating: true)
        let statuses = try Self.statuses(body)
        let organizer = try body.nested("organizer")
        let status = try body.string("status")
        if let status, !["confirmed", "tentative", "cancelled"].contains(status) {
            throw NylasError.invalidValue("status", "expected confirmed, tentative or cancelled")
        }
        let eventType = try body.string("event_type")
        return try transaction { s in
            let box = try calendarMailbox(s, mailbox)
            let calendar = try worldCalendar(s, box.email, try body.string("calendar"))
            var content = EventContent(when: .time(0, timezone: nil), organizer: Participant(name: box.name, email: box.email))
            if let organizer {
                let email = try organizer.requiredString("email")
                content.organizer = Participant(name: try organizer.string("name") ?? "", email: email)
                content.creator = content.organizer
            }
            try input.apply(to: &content, existing: nil, owner: box.email, provider: box.provider, world: s.world)
            for i in content.participants.indices { if let st = statuses[content.participants[i].email.lowercased()] { content.participants[i].status = st } }
            if let status { content.status = status }
            if let eventType { content.eventType = eventType }
            let uid = try body.string("ical_uid") ?? s.world.newICalUID(provider: box.provider, mailbox: box.email)
            if try s.world.event(mailbox: box.email, icalUID: uid) != nil {
                throw NylasError.conflict("Mailbox \(box.email) already has an event with ical_uid \(uid)")
            }
            let e = try s.world.insertEvent(mailbox: box.email, calendar: calendar.id, icalUID: uid, content: content, time: s.now)
            var changed: Set<String> = [box.email]
            changed.formUnion(try EventSharing.propagate(s, e))
            for m in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: m) }
            return try s.world.event(id: e.id)!.json
        }
    }

    /// The user changes an event in their own client: any event field, or `calendar` to move it.
    package func changeWorldEvent(mailbox: String, event ref: String, _ body: BodyFields) throws -> JSON {
        let input = try EventInput(body, creating: false)
        let statuses = try Self.statuses(body)
        let status = try body.string("status")
        if let status, !["confirmed", "tentative", "cancelled"].contains(status) {
            throw NylasError.invalidValue("status", "expected confirmed, tentative or cancelled")
        }
        return try transaction { s in
            let box = try calendarMailbox(s, mailbox)
            var e = try worldEvent(s, box.email, ref)
            if let target = try body.string("calendar") {
                let destination = try worldCalendar(s, box.email, target)
                guard e.master == nil else { throw NylasError.invalidValue("calendar", "move the series, not one occurrence") }
                e.calendar = destination.id
            }
            try input.apply(to: &e.content, existing: e.content, owner: box.email, provider: box.provider, world: s.world)
            for i in e.content.participants.indices { if let st = statuses[e.content.participants[i].email.lowercased()] { e.content.participants[i].status = st } }
            if let status { e.content.status = status }
            try s.world.updateEvent(e, time: s.now)
            for var x in try s.world.exceptions(master: e.id) where x.calendar != e.calendar {
                x.calendar = e.calendar
                try s.world.updateEvent(x, time: s.now)
            }
            var changed: Set<String> = [box.email]
            changed.formUnion(try EventSharing.propagate(s, try s.world.event(id: e.id)!))
            for m in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: m) }
            return try s.world.event(id: e.id)!.json
        }
    }

    /// The user deletes an event (a series with its exceptions); other copies are cancelled.
    package func deleteWorldEvent(mailbox: String, event ref: String) throws -> JSON {
        try transaction { s in
            let box = try calendarMailbox(s, mailbox)
            let e = try worldEvent(s, box.email, ref)
            try s.world.deleteEvent(e, time: s.now)
            var changed: Set<String> = [box.email]
            changed.formUnion(try EventSharing.cancelCopies(s, e))
            for m in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: m) }
            return try s.world.event(id: e.id)!.json
        }
    }

    /// A participant answers an invitation (`email`, by default the mailbox's owner): every copy shows it.
    package func answerWorldEvent(mailbox: String, event ref: String, email: String?, status: String) throws -> JSON {
        guard ["yes", "no", "maybe", "noreply"].contains(status) else { throw NylasError.invalidValue("status", "expected yes, no, maybe or noreply") }
        return try transaction { s in
            let box = try calendarMailbox(s, mailbox)
            var e = try worldEvent(s, box.email, ref)
            let who = (email ?? box.email).lowercased()
            guard let i = e.content.participants.firstIndex(where: { $0.email.lowercased() == who }) else {
                throw NylasError.invalidValue("email", "\(who) is not a participant of this event")
            }
            e.content.participants[i].status = status
            try s.world.updateEvent(e, time: s.now)
            var changed: Set<String> = [box.email]
            changed.formUnion(try EventSharing.answer(s, icalUID: e.icalUID, email: who, status: status, except: box.email))
            for m in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: m) }
            return try s.world.event(id: e.id)!.json
        }
    }

    // MARK: - Contacts

    package func worldContactsJSON(mailbox: String) throws -> JSON {
        try transaction { s in
            let box = try calendarMailbox(s, mailbox)
            return .array(try s.world.contacts(mailbox: box.email).map(\.json))
        }
    }

    /// Applies contact fields to a world contact; groups are the mailbox's group keys.
    fileprivate func applyWorldContact(_ s: EngineState, _ input: ContactInput, _ content: inout [String: JSON], mailbox: String) throws {
        for (k, v) in input.fields { if v.isNull { content.removeValue(forKey: k) } else { content[k] = v } }
        if let groups = input.groupIDs {
            let known = Set(try s.world.contactGroups(mailbox: mailbox).map(\.key))
            if let bad = groups.first(where: { !known.contains($0) }) {
                throw NylasError.invalidValue("groups", "mailbox \(mailbox) has no contact group '\(bad)' (known: \(known.sorted().joined(separator: ", ")))")
            }
            content["groups"] = .array(groups.map { ["id": .string($0)] })
        }
    }

    /// The user adds a contact to their address book.
    package func addWorldContact(mailbox: String, _ body: BodyFields) throws -> JSON {
        let input = try ContactInput(body)
        guard input.hasIdentity else { throw NylasError.invalidRequest("A contact needs a name, a company, an email address or a phone number") }
        return try transaction { s in
            let box = try calendarMailbox(s, mailbox)
            var content: [String: JSON] = ["source": "address_book"]
            try applyWorldContact(s, input, &content, mailbox: box.email)
            if input.picture != nil, content["picture_url"] == nil {
                content["picture_url"] = .string(ContactInput.pictureURL(box.provider, &s.world.ids))
            }
            let c = try s.world.insertContact(mailbox: box.email, content: content, picture: input.picture, time: s.now)
            try CalendarSync.worldChanged(s, mailbox: box.email)
            return c.json
        }
    }

    /// The user edits a contact (`contact` is its world ID or one of its email addresses).
    package func changeWorldContact(mailbox: String, contact ref: String, _ body: BodyFields?, delete: Bool) throws -> JSON {
        let input = try body.map { b throws(NylasError) in try ContactInput(b) }
        return try transaction { s in
            let box = try calendarMailbox(s, mailbox)
            let all = try s.world.contacts(mailbox: box.email)
            guard var c = all.first(where: { String($0.id) == ref })
                ?? all.first(where: { ($0.content["emails"]?.arrayValue ?? []).contains { $0["email"]?.stringValue?.lowercased() == ref.lowercased() } })
            else { throw NylasError.notFound("No contact \(ref) in mailbox \(box.email)") }
            if delete {
                try s.world.deleteContact(c, time: s.now)
            } else if let input {
                try applyWorldContact(s, input, &c.content, mailbox: box.email)
                if let p = input.picture { c.picture = p }
                try s.world.updateContact(c, time: s.now)
            }
            try CalendarSync.worldChanged(s, mailbox: box.email)
            return try s.world.contact(id: c.id)!.json
        }
    }

    // MARK: - Settings

    /// Event notifications for the primary calendar only, or for every calendar: for one
    /// application (its own setting) or for the whole simulator.
    package func setCalendarSync(region: Region, applicationID: String?, primaryOnly: Bool) throws -> JSON {
        try transaction { s in
            guard let applicationID else {
                s.settings.syncPrimaryCalendarOnly = primaryOnly
                return ["sync_primary_calendar_only": .bool(primaryOnly), "scope": "simulator"]
            }
            let store = s.store(region)
            guard var app = try store.application(id: applicationID), app.apiVersion == 3 else {
                throw NylasError.notFound("No v3 application \(applicationID) in region \(region.rawValue)")
            }
            var settings = app.settings.objectValue ?? [:]
            settings["sync_primary_calendar_only"] = .bool(primaryOnly)
            app.settings = .object(settings)
            try store.save(app)
            return ["sync_primary_calendar_only": .bool(primaryOnly), "scope": "application", "application_id": .string(app.id)]
        }
    }
}
