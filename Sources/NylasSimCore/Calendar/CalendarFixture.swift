import Foundation

/// A calendar fixture (`fixtures/calendar.json`): a mailbox's calendars, events and contacts,
/// loaded into the provider world in one transaction. Grants connected to the mailbox then see
/// them as push grants do (at once) or at their next sync; a grant connected later finds them
/// already there.
///
/// ```json
/// {"mailbox": "owner@gmail.com", "provider": "google", "name": "Owner Name",
///  "primary": {"timezone": "America/New_York"},
///  "calendars": [{"key": "work", "name": "Work", "timezone": "Europe/Dublin", "hex_color": "#F4511E", "read_only": false}],
///  "events": [{"calendar": "work", "title": "Standup", "when": {"start_time": 1767603600, "end_time": 1767605400,
///              "start_timezone": "Europe/Dublin"}, "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,WE"],
///              "participants": [{"email": "a@example.com", "status": "yes"}], "organizer": {"email": "..."},
///              "ical_uid": "standup@example.com"}],
///  "contacts": [{"given_name": "Ada", "emails": [{"email": "ada@example.com", "type": "work"}], "groups": [{"id": "friends"}]}]}
/// ```
/// Events take the fields of the API's create body; `calendar` is `primary` (the default), a
/// calendar `key` of the fixture, or a calendar name. Contact `groups` name the mailbox's group
/// keys (Google: `myContacts`, `starred`, `friends`, `family`, `coworkers`). Loading twice adds
/// nothing: calendars are matched by name, events by `ical_uid`, contacts by first email address.
package enum CalendarFixture {
    package static let providers: Set<String> = ["google", "microsoft", "imap", "icloud", "yahoo", "ews", "virtual-calendar"]

    package struct Result: Sendable {
        package var mailbox: String
        package var provider: String
        package var calendars: Int
        package var events: Int
        package var contacts: Int
        package var skipped: Int

        package var json: JSON {
            ["mailbox": .string(mailbox), "provider": .string(provider), "calendars": .int(calendars), "events": .int(events),
             "contacts": .int(contacts), "skipped": .int(skipped)]
        }
    }

    private static func prefixed<T>(_ where_: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as NylasError {
            var e = e
            e.message = "\(where_): \(e.message)"
            throw e
        }
    }

    /// Loads a fixture inside the caller's transaction.
    package static func load(_ json: JSON, mailbox override: String?, into s: EngineState) throws -> Result {
        guard case .object(let top) = json else {
            throw NylasError.invalidRequest("Invalid calendar fixture: expected a JSON object with mailbox, calendars, events and contacts")
        }
        let body = BodyFields(top)
        let own = try body.string("mailbox")
        guard let address = (override ?? own)?.trimmingCharacters(in: .whitespaces).lowercased(), !address.isEmpty else {
            throw NylasError.invalidRequest("Invalid calendar fixture: missing required field mailbox")
        }
        let provider = (try body.string("provider") ?? ProviderDetection.detect(address)).lowercased()
        guard providers.contains(provider) else {
            throw NylasError.invalidValue("provider", "'\(provider)' is not one of \(providers.sorted().joined(separator: ", "))")
        }
        guard ProviderKind(provider) == .virtualCalendar || EmailAddress.isValid(address) else {
            throw NylasError.invalidValue("mailbox", "'\(address)' is not an email address")
        }
        if let existing = try s.world.mailbox(address), existing.provider != provider {
            throw NylasError.conflict("Mailbox \(address) exists as a \(existing.provider) mailbox, not \(provider)")
        }
        let box = try s.world.ensureMailbox(address, provider: provider, name: try body.string("name"), now: s.now.seconds)
        try s.world.ensureCalendars(address, now: s.now.seconds)
        try s.world.ensureContactGroups(address)
        var result = Result(mailbox: address, provider: provider, calendars: 0, events: 0, contacts: 0, skipped: 0)
        var keys: [String: WorldCalendar] = [:]
        guard var primary = try s.world.primaryCalendar(mailbox: address) else { throw NylasError.internal("no primary calendar") }
        if let p = try body.nested("primary") {
            let fields = try prefixed("primary") { try CalendarFields(p) }
            let before = primary
            if let v = fields.name { primary.name = v }
            if let v = fields.timezone { primary.timezone = v }
            if let v = fields.description { primary.description = v }
            if let v = fields.hexColor { primary.hexColor = v }
            if primary != before { try s.world.updateCalendar(primary, time: s.now) }
        }
        keys["primary"] = primary
        for (i, item) in (try body.array("calendars") ?? []).enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("calendars[\(i)]", expected: "object", got: item) }
            let f = BodyFields(o)
            let fields = try prefixed("calendars[\(i)]") { try CalendarFields(f) }
            guard let name = fields.name else { throw NylasError.missingField("calendars[\(i)].name") }
            let key = try f.string("key") ?? name
            if let existing = try s.world.calendars(mailbox: address).first(where: { $0.name == name }) {
                keys[key] = existing
                result.skipped += 1
                continue
            }
            var c = WorldCalendar(mailbox: address, role: "user", name: name, now: s.now.seconds)
            c.description = fields.description
            c.location = fields.location
            c.timezone = fields.timezone ?? primary.timezone ?? "UTC"
            c.hexColor = fields.hexColor
            c.hexForegroundColor = fields.hexForegroundColor
            c.readOnly = try f.bool("read_only") ?? false
            c.isOwnedByUser = !c.readOnly
            keys[key] = try s.world.insertCalendar(c, time: s.now)
            result.calendars += 1
        }
        var changed: Set<String> = [address]
        for (i, item) in (try body.array("events") ?? []).enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("events[\(i)]", expected: "object", got: item) }
            let f = BodyFields(o)
            try prefixed("events[\(i)]") {
                let input = try EventInput(f, creating: true)
                let ref = try f.string("calendar") ?? "primary"
                guard let calendar = try keys[ref] ?? s.world.calendars(mailbox: address).first(where: { $0.name == ref }) else {
                    throw NylasError.invalidValue("calendar", "no calendar '\(ref)' (use primary, a calendar key or name)")
                }
                if let uid = try f.string("ical_uid"), try s.world.event(mailbox: address, icalUID: uid) != nil {
                    result.skipped += 1
                    return
                }
                var content = EventContent(when: .time(0, timezone: nil), organizer: Participant(name: box.name, email: address))
                if let org = try f.nested("organizer") {
                    content.organizer = Participant(name: try org.string("name") ?? "", email: try org.requiredString("email"))
                    content.creator = content.organizer
                }
                try input.apply(to: &content, existing: nil, owner: address, provider: provider, world: s.world)
                for (j, p) in (try f.array("participants") ?? []).enumerated() {
                    guard let st = p["status"]?.stringValue else { continue }
                    guard ["yes", "no", "maybe", "noreply"].contains(st) else {
                        throw NylasError.invalidValue("participants[\(j)].status", "expected yes, no, maybe or noreply")
                    }
                    content.participants[j].status = st
                }
                if let st = try f.string("status") {
                    guard ["confirmed", "tentative", "cancelled"].contains(st) else { throw NylasError.invalidValue("status", "expected confirmed, tentative or cancelled") }
                    content.status = st
                }
                if let t = try f.string("event_type") { content.eventType = t }
                let uid = try f.string("ical_uid") ?? s.world.newICalUID(provider: provider, mailbox: address)
                let e = try s.world.insertEvent(mailbox: address, calendar: calendar.id, icalUID: uid, content: content, time: s.now)
                changed.formUnion(try EventSharing.propagate(s, e))
                result.events += 1
            }
        }
        let groups = Set(try s.world.contactGroups(mailbox: address).map(\.key))
        for (i, item) in (try body.array("contacts") ?? []).enumerated() {
            guard case .object(let o) = item else { throw NylasError.wrongType("contacts[\(i)]", expected: "object", got: item) }
            try prefixed("contacts[\(i)]") {
                var fields = o
                if let b64 = fields.removeValue(forKey: "picture_base64") { fields["picture"] = b64 }
                let input = try ContactInput(BodyFields(fields))
                guard input.hasIdentity else { throw NylasError.invalidRequest("a contact needs a name, a company, an email address or a phone number") }
                let first = input.fields["emails"]?.arrayValue?.first?["email"]?.stringValue?.lowercased()
                if let first, try s.world.contacts(mailbox: address).contains(where: {
                    $0.content["emails"]?.arrayValue?.first?["email"]?.stringValue?.lowercased() == first
                }) {
                    result.skipped += 1
                    return
                }
                var content: [String: JSON] = ["source": "address_book"]
                for (k, v) in input.fields { if v.isNull { content.removeValue(forKey: k) } else { content[k] = v } }
                if let ids = input.groupIDs {
                    if let bad = ids.first(where: { !groups.contains($0) }) {
                        throw NylasError.invalidValue("groups", "no contact group '\(bad)' (known: \(groups.sorted().joined(separator: ", ")))")
                    }
                    content["groups"] = .array(ids.map { ["id": .string($0)] })
                }
                if input.picture != nil, content["picture_url"] == nil {
                    content["picture_url"] = .string(ContactInput.pictureURL(provider, &s.world.ids))
                }
                try s.world.insertContact(mailbox: address, content: content, picture: input.picture, time: s.now)
                result.contacts += 1
            }
        }
        for m in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: m) }
        return result
    }
}

extension Engine {
    /// Loads a calendar fixture object (or the file at `path`) into the provider world in one transaction.
    package func loadCalendarFixture(_ json: JSON?, path: String?, mailbox: String?) throws -> CalendarFixture.Result {
        let source: JSON
        if let path {
            source = try MailboxFixture.read(path: path)
        } else if let json {
            source = json
        } else {
            throw NylasError.invalidRequest("Give a calendar fixture: {\"path\": \"fixtures/calendar.json\"} or the fixture object itself")
        }
        return try transaction { s in try CalendarFixture.load(source, mailbox: mailbox, into: s) }
    }
}

