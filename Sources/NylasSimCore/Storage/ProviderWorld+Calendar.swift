import Foundation

/// A calendar as the provider holds it.
package struct WorldCalendar: Sendable, Equatable {
    package var id: Int64
    package var mailbox: String
    /// `primary` (one per mailbox, never deleted), `holidays` (Google's read-only holiday calendar), `user`.
    package var role: String
    package var name: String
    package var description: String?
    package var location: String?
    package var timezone: String?
    package var hexColor: String?
    package var hexForegroundColor: String?
    package var readOnly: Bool
    package var isOwnedByUser: Bool
    package var deleted: Bool
    package var createdAt: Int
    package var updatedAt: Int

    package var isPrimary: Bool { role == "primary" }

    package init(row: SQLRow) {
        id = Int64(row.int("id"))
        mailbox = row.string("mailbox")
        role = row.string("role")
        name = row.string("name")
        description = row.optionalString("description")
        location = row.optionalString("location")
        timezone = row.optionalString("timezone")
        hexColor = row.optionalString("hex_color")
        hexForegroundColor = row.optionalString("hex_foreground_color")
        readOnly = row.bool("read_only")
        isOwnedByUser = row.bool("is_owned_by_user")
        deleted = row.bool("deleted")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    package init(mailbox: String, role: String, name: String, now: Int) {
        id = 0
        self.mailbox = mailbox
        self.role = role
        self.name = name
        readOnly = false
        isOwnedByUser = true
        deleted = false
        createdAt = now
        updatedAt = now
    }

    /// For the control API.
    package var json: JSON {
        ["world_id": .int(Int(id)), "mailbox": .string(mailbox), "role": .string(role), "name": .string(name),
         "description": .optional(description), "location": .optional(location), "timezone": .optional(timezone),
         "hex_color": .optional(hexColor), "read_only": .bool(readOnly), "is_primary": .bool(isPrimary), "deleted": .bool(deleted)]
    }
}

/// An event as the provider holds it. A recurring series is one master (with `recurrence`);
/// an edited or cancelled occurrence is an exception pointing at its master.
package struct WorldEvent: Sendable, Equatable {
    package var id: Int64
    package var mailbox: String
    package var calendar: Int64
    /// The iCalendar UID: the same for every copy of the event, in every region and every mailbox.
    package var icalUID: String
    package var master: Int64?
    package var originalStart: Int?
    package var content: EventContent
    package var deleted: Bool
    package var createdAt: Int
    package var updatedAt: Int

    package init(row: SQLRow) {
        id = Int64(row.int("id"))
        mailbox = row.string("mailbox")
        calendar = Int64(row.int("calendar"))
        icalUID = row.string("ical_uid")
        master = row.optionalInt("master").map(Int64.init)
        originalStart = row.optionalInt("original_start")
        content = EventContent(stored: row.json("data")) ?? EventContent(when: .time(0, timezone: nil), organizer: Participant(name: "", email: ""))
        deleted = row.bool("deleted")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    package var json: JSON {
        var o = content.json
        o["world_id"] = .int(Int(id))
        o["mailbox"] = .string(mailbox)
        o["calendar"] = .int(Int(calendar))
        o["ical_uid"] = .string(icalUID)
        o["master"] = master.map { .int(Int($0)) } ?? .null
        o["original_start_time"] = .optional(originalStart)
        o["deleted"] = .bool(deleted)
        return o
    }
}

/// A contact in a mailbox's address book. `content` holds the v3 contact fields.
package struct WorldContact: Sendable, Equatable {
    package var id: Int64
    package var mailbox: String
    package var content: [String: JSON]
    package var picture: [UInt8]?
    package var deleted: Bool
    package var createdAt: Int
    package var updatedAt: Int

    package init(row: SQLRow) {
        id = Int64(row.int("id"))
        mailbox = row.string("mailbox")
        content = row.json("data").objectValue ?? [:]
        picture = row["picture"].blob.flatMap { $0.isEmpty ? nil : $0 }
        deleted = row.bool("deleted")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    package var json: JSON {
        var o = JSON.object(content)
        o["world_id"] = .int(Int(id))
        o["mailbox"] = .string(mailbox)
        o["has_picture"] = .bool(picture != nil)
        o["deleted"] = .bool(deleted)
        return o
    }
}

package struct WorldContactGroup: Sendable, Equatable {
    package var key: String
    package var name: String
    package var groupType: String
    package var path: String?
}

extension ProviderWorld {
    // MARK: - Calendars

    /// Gives a mailbox the calendars it has from its creation (done lazily, on first use): a
    /// primary calendar, and for Google the read-only holiday calendar with its yearly holidays.
    package func ensureCalendars(_ email: String, now: Int) throws {
        let mailbox = email.lowercased()
        guard let box = try self.mailbox(mailbox) else { return }
        guard try db.first("SELECT id FROM calendars WHERE mailbox = ? AND role = 'primary'", mailbox) == nil else { return }
        var primary = WorldCalendar(mailbox: mailbox, role: "primary", name: box.kind == .google ? mailbox : "Calendar", now: box.createdAt)
        primary.timezone = "UTC"
        primary.hexColor = box.kind == .google ? "#039BE5" : nil
        _ = try insertCalendarRow(primary)
        if box.kind == .google {
            var holidays = WorldCalendar(mailbox: mailbox, role: "holidays", name: "Holidays in United States", now: box.createdAt)
            holidays.readOnly = true
            holidays.isOwnedByUser = false
            holidays.timezone = "UTC"
            holidays.hexColor = "#0B8043"
            holidays.description = "Holidays and Observances in United States"
            let calendarID = try insertCalendarRow(holidays)
            // One event per holiday per year, from the year before the mailbox was created to two
            // years after it, as Google lists them.
            let year = CivilDate(unix: box.createdAt, in: TimeZone(identifier: "UTC")!).year
            for holiday in (year - 1 ... year + 2).flatMap(USHolidays.of(year:)) {
                var content = EventContent(when: .date(holiday.date),
                                           organizer: Participant(name: "Holidays in United States", email: "en.usa#holiday@group.v.calendar.google.com"))
                content.title = holiday.name
                content.busy = false
                content.visibility = "public"
                try db.run("""
                    INSERT INTO events(mailbox, calendar, ical_uid, master, original_start, data, created_at, updated_at)
                    VALUES(?,?,?,NULL,NULL,?,?,?)
                    """, mailbox, calendarID, USHolidays.uid(holiday), content.json, box.createdAt, box.createdAt)
            }
        }
        _ = now
    }

    private func insertCalendarRow(_ c: WorldCalendar) throws -> Int64 {
        try db.run("""
            INSERT INTO calendars(mailbox, role, name, description, location, timezone, hex_color, hex_foreground_color, read_only,
                is_owned_by_user, deleted, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,0,?,?)
            """, c.mailbox, c.role, c.name, c.description, c.location, c.timezone, c.hexColor, c.hexForegroundColor, c.readOnly,
            c.isOwnedByUser, c.createdAt, c.updatedAt)
        return db.lastInsertRowID
    }

    /// The mailbox's live calendars, primary first.
    package func calendars(mailbox: String) throws -> [WorldCalendar] {
        try db.query("SELECT * FROM calendars WHERE mailbox = ? AND deleted = 0 ORDER BY role = 'primary' DESC, id",
                     mailbox.lowercased()).map(WorldCalendar.init)
    }

    package func calendar(id: Int64) throws -> WorldCalendar? {
        try db.first("SELECT * FROM calendars WHERE id = ?", id).map(WorldCalendar.init)
    }

    package func primaryCalendar(mailbox: String) throws -> WorldCalendar? {
        try db.first("SELECT * FROM calendars WHERE mailbox = ? AND role = 'primary'", mailbox.lowercased()).map(WorldCalendar.init)
    }

    /// Adds a calendar (the user creates one in their own client, or a grant does).
    package func insertCalendar(_ c: WorldCalendar, time: VirtualTime) throws -> WorldCalendar {
        let id = try insertCalendarRow(c)
        try recordChange(mailbox: c.mailbox, kind: "calendar", object: id, time: time)
        return try calendar(id: id)!
    }

    package func updateCalendar(_ c: WorldCalendar, time: VirtualTime) throws {
        try db.run("""
            UPDATE calendars SET name = ?, description = ?, location = ?, timezone = ?, hex_color = ?, hex_foreground_color = ?,
                updated_at = ? WHERE id = ?
            """, c.name, c.description, c.location, c.timezone, c.hexColor, c.hexForegroundColor, time.seconds, c.id)
        try recordChange(mailbox: c.mailbox, kind: "calendar", object: c.id, time: time)
    }

    /// Deletes a calendar and every event in it (the calendar's change comes first, so that a sync
    /// drops the events with their calendar instead of notifying each).
    package func deleteCalendar(_ c: WorldCalendar, time: VirtualTime) throws {
        try db.run("UPDATE calendars SET deleted = 1, updated_at = ? WHERE id = ?", time.seconds, c.id)
        try recordChange(mailbox: c.mailbox, kind: "calendar", object: c.id, time: time)
        for row in try db.query("SELECT id FROM events WHERE calendar = ? AND deleted = 0", c.id) {
            try db.run("UPDATE events SET deleted = 1, updated_at = ? WHERE id = ?", time.seconds, row.int("id"))
            try recordChange(mailbox: c.mailbox, kind: "event", object: Int64(row.int("id")), time: time)
        }
    }

    // MARK: - Events

    package func event(id: Int64) throws -> WorldEvent? {
        try db.first("SELECT * FROM events WHERE id = ?", id).map(WorldEvent.init)
    }

    /// Live events of a mailbox (of one calendar when given), masters, exceptions and singles.
    package func events(mailbox: String, calendar: Int64? = nil) throws -> [WorldEvent] {
        if let calendar {
            return try db.query("SELECT * FROM events WHERE mailbox = ? AND calendar = ? AND deleted = 0 ORDER BY id",
                                mailbox.lowercased(), calendar).map(WorldEvent.init)
        }
        return try db.query("SELECT * FROM events WHERE mailbox = ? AND deleted = 0 ORDER BY id", mailbox.lowercased()).map(WorldEvent.init)
    }

    /// The live master or single event of a mailbox with this iCalendar UID.
    package func event(mailbox: String, icalUID: String) throws -> WorldEvent? {
        try db.first("SELECT * FROM events WHERE mailbox = ? AND ical_uid = ? AND master IS NULL AND deleted = 0 ORDER BY id LIMIT 1",
                     mailbox.lowercased(), icalUID).map(WorldEvent.init)
    }

    /// Every live copy of an event (masters and singles) in every mailbox, by iCalendar UID.
    package func events(icalUID: String) throws -> [WorldEvent] {
        try db.query("SELECT * FROM events WHERE ical_uid = ? AND master IS NULL AND deleted = 0 ORDER BY id", icalUID).map(WorldEvent.init)
    }

    package func exceptions(master: Int64) throws -> [WorldEvent] {
        try db.query("SELECT * FROM events WHERE master = ? AND deleted = 0 ORDER BY original_start", master).map(WorldEvent.init)
    }

    package func exception(master: Int64, originalStart: Int) throws -> WorldEvent? {
        try db.first("SELECT * FROM events WHERE master = ? AND original_start = ? AND deleted = 0", master, originalStart).map(WorldEvent.init)
    }

    @discardableResult
    package func insertEvent(mailbox: String, calendar: Int64, icalUID: String, master: Int64? = nil, originalStart: Int? = nil,
                     content: EventContent, time: VirtualTime) throws -> WorldEvent {
        try db.run("""
            INSERT INTO events(mailbox, calendar, ical_uid, master, original_start, data, created_at, updated_at)
            VALUES(?,?,?,?,?,?,?,?)
            """, mailbox.lowercased(), calendar, icalUID, master, originalStart, content.json, time.seconds, time.seconds)
        let id = db.lastInsertRowID
        try recordChange(mailbox: mailbox.lowercased(), kind: "event", object: id, time: time)
        return try event(id: id)!
    }

    /// Saves a changed event (content, or its calendar: a move keeps the event).
    package func updateEvent(_ e: WorldEvent, time: VirtualTime) throws {
        try db.run("UPDATE events SET calendar = ?, data = ?, updated_at = ? WHERE id = ?", e.calendar, e.content.json, time.seconds, e.id)
        try recordChange(mailbox: e.mailbox, kind: "event", object: e.id, time: time)
    }

    /// Deletes an event; a master takes its exceptions with it.
    package func deleteEvent(_ e: WorldEvent, time: VirtualTime) throws {
        for x in try exceptions(master: e.id) {
            try db.run("UPDATE events SET deleted = 1, updated_at = ? WHERE id = ?", time.seconds, x.id)
            try recordChange(mailbox: e.mailbox, kind: "event", object: x.id, time: time)
        }
        try db.run("UPDATE events SET deleted = 1, updated_at = ? WHERE id = ?", time.seconds, e.id)
        try recordChange(mailbox: e.mailbox, kind: "event", object: e.id, time: time)
    }

    /// A new iCalendar UID in the provider's style.
    package func newICalUID(provider: String, mailbox: String) -> String {
        switch provider {
        case "google": return ids.base36("ical-uid", length: 26) + "@google.com"
        case "microsoft", "ews": return "040000008200E00074C5B7101A82E00800000000" + ids.hex("ical-uid", length: 32).uppercased()
        default:
            let domain = mailbox.split(separator: "@").last.map(String.init) ?? "nylas.com"
            return ids.uuid("ical-uid").uppercased() + "@" + domain
        }
    }

    // MARK: - Contacts

    /// The contact groups a mailbox starts with (lazily, on first use).
    package func ensureContactGroups(_ email: String) throws {
        let mailbox = email.lowercased()
        guard let box = try self.mailbox(mailbox) else { return }
        guard try db.first("SELECT key FROM contact_groups WHERE mailbox = ? LIMIT 1", mailbox) == nil else { return }
        let groups: [(String, String, String)]
        switch box.provider {
        case "google":
            groups = [("myContacts", "My Contacts", "system"), ("starred", "Starred", "system"), ("friends", "Friends", "user"),
                      ("family", "Family", "user"), ("coworkers", "Coworkers", "user")]
        case "microsoft", "ews":
            groups = [("contacts", "Contacts", "system")]
        case "virtual-calendar":
            groups = []
        default:
            groups = [("contacts", "Contacts", "system")]
        }
        for (key, name, type) in groups {
            try db.run("INSERT INTO contact_groups(mailbox, key, name, group_type, path) VALUES(?,?,?,?,?)",
                       mailbox, key, name, type, box.kind == .google ? "contactGroups/\(key)" : key)
        }
    }

    package func contactGroups(mailbox: String) throws -> [WorldContactGroup] {
        try db.query("SELECT * FROM contact_groups WHERE mailbox = ? ORDER BY group_type = 'system' DESC, rowid", mailbox.lowercased()).map {
            WorldContactGroup(key: $0.string("key"), name: $0.string("name"), groupType: $0.string("group_type"), path: $0.optionalString("path"))
        }
    }

    package func contact(id: Int64) throws -> WorldContact? {
        try db.first("SELECT * FROM contacts WHERE id = ?", id).map(WorldContact.init)
    }

    package func contacts(mailbox: String) throws -> [WorldContact] {
        try db.query("SELECT * FROM contacts WHERE mailbox = ? AND deleted = 0 ORDER BY id", mailbox.lowercased()).map(WorldContact.init)
    }

    @discardableResult
    package func insertContact(mailbox: String, content: [String: JSON], picture: [UInt8]?, time: VirtualTime) throws -> WorldContact {
        try db.run("INSERT INTO contacts(mailbox, data, picture, created_at, updated_at) VALUES(?,?,?,?,?)",
                   mailbox.lowercased(), JSON.object(content), picture.map(SQLValue.blob) ?? .null, time.seconds, time.seconds)
        let id = db.lastInsertRowID
        try recordChange(mailbox: mailbox.lowercased(), kind: "contact", object: id, time: time)
        return try contact(id: id)!
    }

    package func updateContact(_ c: WorldContact, time: VirtualTime) throws {
        try db.run("UPDATE contacts SET data = ?, picture = ?, updated_at = ? WHERE id = ?",
                   JSON.object(c.content), c.picture.map(SQLValue.blob) ?? .null, time.seconds, c.id)
        try recordChange(mailbox: c.mailbox, kind: "contact", object: c.id, time: time)
    }

    package func deleteContact(_ c: WorldContact, time: VirtualTime) throws {
        try db.run("UPDATE contacts SET deleted = 1, updated_at = ? WHERE id = ?", time.seconds, c.id)
        try recordChange(mailbox: c.mailbox, kind: "contact", object: c.id, time: time)
    }
}
