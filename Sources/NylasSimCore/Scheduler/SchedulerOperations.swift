import Foundation

/// Scheduler (reference: the official description's `Scheduler` tag): configurations, sessions,
/// availability and bookings, on the calendar engine and the virtual clock. A booking is an event
/// the organizer's grant creates in its booking calendar, so that it shows through the events API,
/// syncs and notifies like any other; the booking's own notifications (`booking.*`) go through the
/// webhook engine.
package enum SchedulerOperations {
    // MARK: Configurations

    /// Checks that each participant with calendars has a valid v3 grant of the application in
    /// this region, and that the slug is free.
    private static func check(_ store: RegionStore, applicationID: String, _ data: JSON, id: String) throws {
        for (i, p) in SchedulerConfiguration.availabilityParticipants(data).enumerated() {
            let email = p["email"]?.stringValue ?? ""
            guard let g = try store.grant(applicationID: applicationID, email: email), g.apiVersion == 3 else {
                throw NylasError.invalidValue("participants[\(i)].email", "\(email) must be associated with a valid Nylas grant of this application")
            }
        }
        if let slug = data["slug"]?.stringValue, let other = try store.schedulerConfiguration(applicationID: applicationID, slug: slug), other.id != id {
            throw NylasError.invalidValue("slug", "'\(slug)' is already used by another configuration of this application")
        }
    }

    package static func create(_ s: EngineState, _ store: RegionStore, grant: GrantRecord, _ input: [String: JSON]) throws -> SchedulerConfigurationRecord {
        var data = try SchedulerConfiguration.normalize(input)
        let id = store.ids.uuid("scheduler-configuration")
        data["id"] = .string(id)
        try check(store, applicationID: grant.applicationID, data, id: id)
        let record = SchedulerConfigurationRecord(id: id, applicationID: grant.applicationID, grantID: grant.id, slug: data["slug"]?.stringValue,
                                                  data: data, createdAt: s.now.seconds, updatedAt: s.now.seconds)
        try store.save(record)
        return record
    }

    package static func update(_ s: EngineState, _ store: RegionStore, _ existing: SchedulerConfigurationRecord, _ input: [String: JSON]) throws -> SchedulerConfigurationRecord {
        var data = try SchedulerConfiguration.normalize(input, existing: existing.data)
        data["id"] = .string(existing.id)
        try check(store, applicationID: existing.applicationID, data, id: existing.id)
        var record = existing
        record.data = data
        record.slug = data["slug"]?.stringValue
        record.updatedAt = s.now.seconds
        try store.save(record)
        return record
    }

    package static func delete(_ s: EngineState, _ store: RegionStore, _ config: SchedulerConfigurationRecord) throws {
        if try store.hasLiveSchedulerSession(configurationID: config.id, now: s.now.seconds) {
            throw NylasError.invalidRequest("You can't delete a Configuration that has active sessions.")
        }
        try store.deleteSchedulerConfiguration(id: config.id)
    }

    /// A grant's configuration by ID, or 404.
    package static func configuration(_ store: RegionStore, grant: GrantRecord, id: String) throws -> SchedulerConfigurationRecord {
        guard let c = try store.schedulerConfiguration(id: id), c.grantID == grant.id else {
            throw NylasError.notFound("Configuration \(id) not found")
        }
        return c
    }

    // MARK: Sessions

    /// A session for a configuration of `applicationID`, valid `minutes` on the virtual clock.
    package static func createSession(_ s: EngineState, _ store: RegionStore, applicationID: String, configurationID: String?,
                                      slug: String?, minutes: Int) throws -> String {
        let config: SchedulerConfigurationRecord?
        if let configurationID { config = try store.schedulerConfiguration(id: configurationID) }
        else if let slug { config = try store.schedulerConfiguration(applicationID: applicationID, slug: slug.lowercased()) }
        else { throw NylasError.missingField("configuration_id") }
        guard let config, config.applicationID == applicationID else {
            throw NylasError.notFound("Configuration \(configurationID ?? slug ?? "") not found")
        }
        let id = store.ids.uuid("scheduler-session")
        try store.insertSchedulerSession(id: id, configurationID: config.id, applicationID: applicationID, expiresAt: s.now.seconds + minutes * 60)
        return id
    }

    // MARK: Availability

    /// The slots a guest may book in `[start, end)` now (a booking being rescheduled does not
    /// count against itself).
    package static func availability(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                                     start: Int, end: Int, excluding booking: SchedulerBookingRecord? = nil,
                                     emails: Set<String>? = nil) throws -> (slots: [JSON], order: [String], grants: [String: GrantRecord]) {
        guard let request = try SchedulerConfiguration.request(config.data, start: start, end: end, now: s.now.seconds, emails: emails) else {
            return ([], [], [:])
        }
        for p in request.participants {
            if let g = try store.grant(applicationID: config.applicationID, email: p.email), try store.calendarSyncCursor(grantID: g.id) == nil {
                try CalendarSync.initialSync(s, region: region, grant: g)
            }
        }
        var excluded = Set<Int64>()
        if let booking, let w = booking.data["world_event_id"]?.intValue { excluded.insert(Int64(w)) }
        let result = try AvailabilityEngine.compute(s, store, applicationID: config.applicationID, request, excluding: excluded)
        return (result.slots, result.order, result.grants)
    }

    // MARK: Bookings

    package struct BookingInput: Sendable {
        package var start: Int
        package var end: Int
        package var guest: Participant
        package var participants: [String]?
        package var additionalGuests: [Participant]
        package var additionalFields: [String: JSON]
        package var timezone: String?
        package var language: String

        package init(start: Int, end: Int, guest: Participant, participants: [String]? = nil, additionalGuests: [Participant] = [],
                     additionalFields: [String: JSON] = [:], timezone: String? = nil, language: String = "en") {
            self.start = start
            self.end = end
            self.guest = guest
            self.participants = participants
            self.additionalGuests = additionalGuests
            self.additionalFields = additionalFields
            self.timezone = timezone
            self.language = language
        }
    }


    /// Refuses a time that is not one of the slots availability gives now.
    private static func requireSlot(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                                    start: Int, end: Int, excluding booking: SchedulerBookingRecord? = nil,
                                    emails: Set<String>? = nil) throws -> (emails: [String], order: [String], grants: [String: GrantRecord]) {
        let duration = (config.data["availability"]?["duration_minutes"]?.intValue ?? 30) * 60
        guard end - start == duration else {
            throw NylasError.invalidValue("end_time", "a booking of this configuration lasts \(duration / 60) minutes")
        }
        let found = try availability(s, store, region: region, config, start: start, end: end, excluding: booking, emails: emails)
        guard let slot = found.slots.first(where: { $0["start_time"]?.intValue == start && $0["end_time"]?.intValue == end }) else {
            throw NylasError.invalidRequest("The requested time slot is not available.")
        }
        return ((slot["emails"]?.arrayValue ?? []).compactMap(\.stringValue), found.order, found.grants)
    }

    /// Books `input` on `config`: the event in the organizer's booking calendar (a tentative
    /// placeholder while an organizer must confirm), then `booking.created` or `booking.pending`.
    package static func book(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                             _ input: BookingInput) throws -> SchedulerBookingRecord {
        if SchedulerConfiguration.isGroup(config.data) { return try bookSeat(s, store, region: region, config, input) }
        let known = Set(SchedulerConfiguration.availabilityParticipants(config.data).compactMap { $0["email"]?.stringValue?.lowercased() })
        var emails: Set<String>?
        if let chosen = input.participants {
            for (i, e) in chosen.enumerated() where !known.contains(e.lowercased()) {
                throw NylasError.invalidValue("participants[\(i)].email", "\(e) is not a participant of this configuration")
            }
            emails = Set(chosen.map { $0.lowercased() })
        }
        let slot = try requireSlot(s, store, region: region, config, start: input.start, end: input.end, emails: emails)
        let participants = config.data["participants"]?.arrayValue ?? []
        // The organizer: the configuration's, or for a round-robin the first free participant in the assignment order.
        let organizerEmail: String
        if SchedulerConfiguration.roundRobinGroup(config.data) != nil {
            organizerEmail = slot.order.first { slot.emails.contains($0) } ?? slot.emails[0]
        } else {
            organizerEmail = participants.first { $0["is_organizer"]?.boolValue == true }?["email"]?.stringValue ?? slot.emails[0]
        }
        guard let organizerGrant = slot.grants[organizerEmail] else { throw NylasError.internal("no grant for \(organizerEmail)") }
        let organizer = participants.first { $0["email"]?.stringValue?.lowercased() == organizerEmail.lowercased() } ?? [:]
        let bookingID = store.ids.uuid("scheduler-booking")
        let salt = newSalt(store)
        let pending = config.data["event_booking"]?["booking_type"]?.stringValue == "organizer-confirmation"
        var data: JSON = [
            "booking_id": .string(bookingID), "configuration_id": .string(config.id), "salt": .string(salt),
            "organizer": ["email": .string(organizerEmail), "name": .string(organizer["name"]?.stringValue ?? "")],
            "organizer_grant_id": .string(organizerGrant.id),
            "booking_calendar": .string(organizer["booking"]?["calendar_id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "primary"),
            "start_time": .int(input.start), "end_time": .int(input.end), "guest": input.guest.json,
            "additional_guests": .array(input.additionalGuests.map(\.json)), "additional_fields": .object(input.additionalFields),
            "guest_timezone": input.timezone.map(JSON.string) ?? .null, "email_language": .string(input.language),
            "reminders_sent": [], "cancellation_reason": .null,
        ]
        let event = try writeEvent(s, store, region: region, config, &data, pending: pending, existing: nil)
        data["event_id"] = .string(event.id)
        data["world_event_id"] = .int(Int(event.worldID))
        let record = SchedulerBookingRecord(id: bookingID, configurationID: config.id, applicationID: config.applicationID,
                                            status: pending ? "pending" : "booked", data: data, createdAt: s.now.seconds, updatedAt: s.now.seconds)
        try store.save(record)
        try notify(s, region: region, config, record, pending ? "booking.pending" : "booking.created")
        try email(store, s, config, record, pending ? "Booking request: confirm or reject" : "Booking confirmed")
        if !pending { planReminders(s, region: region, record) }
        return record
    }

    /// A seat in the group event at the booked time: the guest joins the event's participants.
    private static func bookSeat(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                                 _ input: BookingInput) throws -> SchedulerBookingRecord {
        guard let slot = try SchedulerGroupEvents.slots(s, store, region: region, config, start: input.start, end: input.end).first(where: {
            $0["start_time"]?.intValue == input.start && $0["end_time"]?.intValue == input.end
        }), let eventID = slot["event_id"]?.stringValue else {
            throw NylasError.invalidRequest("The requested time slot is not available.")
        }
        guard let grant = try store.grant(id: config.grantID), let event = try store.event(grantID: grant.id, id: eventID),
              var w = try s.world.event(id: event.worldID) else { throw NylasError.notFound("Group event \(eventID) not found") }
        for g in [input.guest] + input.additionalGuests where !w.content.participants.contains(where: { $0.email.lowercased() == g.email.lowercased() }) {
            w.content.participants.append(EventParticipant(email: g.email, name: g.name.isEmpty ? nil : g.name, status: "yes"))
        }
        let (_, changed) = try EventOperations.update(s, region: region, grant: grant, w, moved: false, kind: grant.changeKind, metadata: nil, mailUpdate: false)
        for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
        let bookingID = store.ids.uuid("scheduler-booking")
        let data: JSON = [
            "booking_id": .string(bookingID), "configuration_id": .string(config.id),
            "salt": .string(newSalt(store)),
            "organizer": ["email": .string(grant.email), "name": .string(grant.name ?? "")], "organizer_grant_id": .string(grant.id),
            "booking_calendar": .string(event.calendarID), "start_time": .int(input.start), "end_time": .int(input.end),
            "guest": input.guest.json, "additional_guests": .array(input.additionalGuests.map(\.json)),
            "additional_fields": .object(input.additionalFields), "guest_timezone": input.timezone.map(JSON.string) ?? .null,
            "email_language": .string(input.language), "reminders_sent": [], "cancellation_reason": .null, "group": true,
            "event_id": .string(eventID), "world_event_id": .int(Int(event.worldID)),
        ]
        let record = SchedulerBookingRecord(id: bookingID, configurationID: config.id, applicationID: config.applicationID, status: "booked",
                                            data: data, createdAt: s.now.seconds, updatedAt: s.now.seconds)
        try store.save(record)
        try notify(s, region: region, config, record, "booking.created")
        return record
    }

    /// Creates or moves the booking's event in the organizer's booking calendar.
    private static func writeEvent(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                                   _ data: inout JSON, pending: Bool, existing: EventRecord?) throws -> EventRecord {
        guard let grant = try store.grant(id: data["organizer_grant_id"]?.stringValue ?? ""), grant.status == .valid else {
            throw NylasError.invalidRequest("The organizer's grant is no longer valid")
        }
        let eb = config.data["event_booking"] ?? [:]
        let start = data["start_time"]?.intValue ?? 0, end = data["end_time"]?.intValue ?? 0
        let zone = eb["timezone"]?.stringValue
        let title = eb["title"]?.stringValue ?? "Booking"
        let metadata: [String: JSON] = [
            "source": "scheduler", "key5": .string(SchedulerConfiguration.roundRobinGroup(config.data) ?? config.id),
            "scheduler_last_start": .string(String(start)), "scheduler_last_end": .string(String(end)),
            "scheduler_updated_at": .string(String(s.now.seconds)),
        ]
        if let existing {
            guard var w = try s.world.event(id: existing.worldID), !w.deleted else { throw NylasError.notFound("The booking's event no longer exists") }
            w.content.when = .timespan(start: start, end: end, startTimezone: zone, endTimezone: zone)
            if !pending { w.content.title = title; w.content.status = "confirmed" }
            let (event, changed) = try EventOperations.update(s, region: region, grant: grant, w, moved: false, kind: grant.changeKind,
                                                              metadata: existing.metadata.merging(metadata) { $1 }, mailUpdate: false)
            for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
            guard let event else { throw NylasError.internal("booking event not synced") }
            return event
        }
        let organizer = Participant(name: data["organizer"]?["name"]?.stringValue ?? "", email: data["organizer"]?["email"]?.stringValue ?? grant.email)
        var content = EventContent(when: .timespan(start: start, end: end, startTimezone: zone, endTimezone: zone), organizer: organizer)
        content.title = pending ? "[PENDING] \(title)" : title
        content.description = eb["description"]?.stringValue
        content.location = eb["location"]?.stringValue
        content.status = pending ? "tentative" : "confirmed"
        content.hideParticipants = eb["hide_participants"]?.boolValue ?? false
        var people: [EventParticipant] = []
        // Collective: every host attends; round-robin: only the host the booking went to.
        let hosts = SchedulerConfiguration.roundRobinGroup(config.data) == nil ? config.data["participants"]?.arrayValue ?? [] : []
        for p in hosts {
            guard let email = p["email"]?.stringValue, email.lowercased() != organizer.email.lowercased() else { continue }
            people.append(EventParticipant(email: email, name: p["name"]?.stringValue, status: "noreply"))
        }
        for g in [Participant.list(.array([data["guest"] ?? .null])), Participant.list(data["additional_guests"])].joined() {
            people.append(EventParticipant(email: g.email, name: g.name.isEmpty ? nil : g.name, status: "noreply"))
        }
        content.participants = people
        if let conferencing = eb["conferencing"], conferencing["autocreate"] != nil {
            content.conferencing = Conferencing.autocreate(provider: conferencing["provider"]?.stringValue ?? "unknown", ids: &s.world.ids)
        } else if let conferencing = eb["conferencing"] {
            content.conferencing = conferencing
        }
        if store.calendarSyncCursorOrNil(grantID: grant.id) { try CalendarSync.initialSync(s, region: region, grant: grant) }
        let calendar = try CalendarAccess.calendar(store, grant, data["booking_calendar"]?.stringValue ?? "primary", field: "participants.booking.calendar_id")
        return try EventOperations.create(s, region: region, grant: grant, calendar: calendar, content: content, metadata: metadata,
                                          kind: grant.changeKind, notifyParticipants: false)
    }

    /// Ten bytes of salt for a booking reference, URL-safe base64 (14 characters), from the
    /// region's ID generator: reproducible under a seed like every other ID.
    private static func newSalt(_ store: RegionStore) -> String {
        Base64URL.encode(Array(store.ids.nextBytes("scheduler-salt").prefix(10)))
    }

    /// The booking of `config` by ID, or 404.
    package static func booking(_ store: RegionStore, _ config: SchedulerConfigurationRecord, id: String) throws -> SchedulerBookingRecord {
        guard let b = try store.schedulerBooking(id: id), b.configurationID == config.id else {
            throw NylasError.notFound("Booking \(id) not found")
        }
        return b
    }

    /// Moves a booking to another free slot: the same event, `booking.rescheduled`.
    package static func reschedule(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                                   _ booking: SchedulerBookingRecord, start: Int, end: Int) throws -> SchedulerBookingRecord {
        guard booking.status != "cancelled" else { throw NylasError.invalidRequest("A cancelled booking cannot be rescheduled.") }
        guard booking.data["group"]?.boolValue != true else {
            throw NylasError.invalidRequest("A seat in a group event is not rescheduled: cancel it and book another group event.")
        }
        _ = try requireSlot(s, store, region: region, config, start: start, end: end, excluding: booking,
                            emails: [booking.data["organizer"]?["email"]?.stringValue?.lowercased() ?? ""])
        var b = booking
        let old = (b.startTime, b.endTime)
        b.data["start_time"] = .int(start)
        b.data["end_time"] = .int(end)
        guard let event = try store.event(grantID: b.organizerGrantID, id: b.eventID) else { throw NylasError.notFound("The booking's event no longer exists") }
        _ = try writeEvent(s, store, region: region, config, &b.data, pending: b.status == "pending", existing: event)
        b.updatedAt = s.now.seconds
        try store.save(b)
        try notify(s, region: region, config, b, "booking.rescheduled", extra: ["old_start_time": .int(old.0), "old_end_time": .int(old.1)])
        try email(store, s, config, b, "Booking rescheduled")
        if b.status == "booked" { planReminders(s, region: region, b) }
        return b
    }

    /// The organizer confirms (`confirmed`) or rejects (`cancelled`) a pending booking.
    package static func confirm(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                                _ booking: SchedulerBookingRecord, salt: String, status: String, reason: String?) throws -> SchedulerBookingRecord {
        guard booking.data["salt"]?.stringValue == salt else { throw NylasError.invalidValue("salt", "does not match this booking") }
        guard booking.status == "pending" else { throw NylasError.invalidRequest("Only a pending booking can be confirmed or rejected; this one is \(booking.status).") }
        var b = booking
        if status == "confirmed" {
            guard let event = try store.event(grantID: b.organizerGrantID, id: b.eventID) else { throw NylasError.notFound("The booking's event no longer exists") }
            _ = try writeEvent(s, store, region: region, config, &b.data, pending: false, existing: event)
            b.status = "booked"
            b.updatedAt = s.now.seconds
            try store.save(b)
            try notify(s, region: region, config, b, "booking.created")
            try email(store, s, config, b, "Booking confirmed")
            planReminders(s, region: region, b)
            return b
        }
        return try cancel(s, store, region: region, config, b, reason: reason, byOrganizer: true)
    }

    /// Cancels a booking: its event is deleted, the booking stays readable as `cancelled`.
    package static func cancel(_ s: EngineState, _ store: RegionStore, region: Region, _ config: SchedulerConfigurationRecord,
                               _ booking: SchedulerBookingRecord, reason: String?, byOrganizer: Bool = false) throws -> SchedulerBookingRecord {
        guard booking.status != "cancelled" else { throw NylasError.invalidRequest("The booking is already cancelled.") }
        let notice = (config.data["scheduler"]?["min_cancellation_notice"]?.intValue ?? 0) * 60
        if !byOrganizer, s.now.seconds + notice > booking.startTime {
            throw NylasError.invalidRequest("The booking can no longer be cancelled: the configuration requires \(notice / 60) minutes' notice.")
        }
        var b = booking
        if b.data["group"]?.boolValue == true {
            // A seat: the guest leaves the group event, which stays.
            let guests = Set(Participant.list(.array([b.data["guest"] ?? .null] + (b.data["additional_guests"]?.arrayValue ?? []))).map { $0.email.lowercased() })
            if let grant = try store.grant(id: b.organizerGrantID), let event = try store.event(grantID: grant.id, id: b.eventID),
               var w = try s.world.event(id: event.worldID), !w.deleted {
                w.content.participants.removeAll { guests.contains($0.email.lowercased()) }
                let (_, changed) = try EventOperations.update(s, region: region, grant: grant, w, moved: false, kind: grant.changeKind, metadata: nil, mailUpdate: false)
                for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
            }
        } else if let grant = try store.grant(id: b.organizerGrantID), let event = try store.event(grantID: grant.id, id: b.eventID) {
            let changed = try EventOperations.delete(s, region: region, grant: grant, .record(event), kind: grant.changeKind, mailCancellation: false,
                                                     notFound: { NylasError.notFound("Event \($0) not found") })
            for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
        }
        b.status = "cancelled"
        b.data["cancellation_reason"] = .string(reason ?? "")
        b.updatedAt = s.now.seconds
        try store.save(b)
        try notify(s, region: region, config, b, "booking.cancelled")
        try email(store, s, config, b, "Booking cancelled")
        return b
    }

    /// The booking object of the API.
    package static func json(_ b: SchedulerBookingRecord, _ config: SchedulerConfigurationRecord) -> JSON {
        var o: JSON = ["booking_id": .string(b.id), "event_id": .string(b.eventID),
                       "title": .string(config.data["event_booking"]?["title"]?.stringValue ?? config.data["name"]?.stringValue ?? ""),
                       "organizer": b.data["organizer"] ?? [:], "status": .string(b.status)]
        if let d = config.data["event_booking"]?["description"]?.stringValue { o["description"] = .string(d) }
        return o
    }

    /// `booking_ref`: the configuration's and the booking's UUID bytes and the salt's, URL-safe base64.
    package static func reference(_ b: SchedulerBookingRecord) -> String {
        func bytes(_ id: String) -> [UInt8] {
            guard let u = UUID(uuidString: id) else { return [] }
            return withUnsafeBytes(of: u.uuid) { Array($0) }
        }
        return Base64URL.encode(bytes(b.configurationID) + bytes(b.id) + (Base64URL.decode(b.data["salt"]?.stringValue ?? "") ?? []))
    }

    // MARK: Notifications, e-mails, reminders

    private static func notify(_ s: EngineState, region: Region, _ config: SchedulerConfigurationRecord, _ b: SchedulerBookingRecord,
                               _ type: String, extra: [String: JSON] = [:]) throws {
        let eb = config.data["event_booking"] ?? [:]
        let scheduler = config.data["scheduler"] ?? [:]
        let ref = reference(b)
        func url(_ key: String) -> JSON {
            guard let template = scheduler[key]?.stringValue else { return .null }
            return .string(template.replacingOccurrences(of: ":booking_ref", with: ref))
        }
        var guests = [b.data["guest"] ?? .null] + (b.data["additional_guests"]?.arrayValue ?? [])
        guests = guests.filter { !$0.isNull }
        var info: JSON = [
            "event_id": .string(b.eventID), "start_time": .int(b.startTime), "end_time": .int(b.endTime),
            "participants": .array(guests), "additional_fields": b.data["additional_fields"] ?? [:],
            "hide_cancellation_options": scheduler["hide_cancellation_options"] ?? false,
            "hide_rescheduling_options": scheduler["hide_rescheduling_options"] ?? false,
            "participant_rescheduling_url": url("rescheduling_url"), "participant_cancellation_url": url("cancellation_url"),
            "host_language": "en", "guest_language": b.data["email_language"] ?? "en",
            "title": eb["title"] ?? "", "duration": .int((b.endTime - b.startTime) / 60), "location": eb["location"] ?? "",
            "organizer_timezone": eb["timezone"] ?? "UTC", "guest_timezone": b.data["guest_timezone"].flatMap { $0.isNull ? nil : $0 } ?? eb["timezone"] ?? "UTC",
            "is_group_event": .bool(b.data["group"]?.boolValue == true), "organizer_calendar_id": b.data["booking_calendar"] ?? "primary",
            "event_description": eb["description"] ?? "", "event_html_link": "",
        ]
        if let event = try s.store(region).event(grantID: b.organizerGrantID, id: b.eventID) { info["ical_uid"] = .string(event.icalUID) }
        if type == "booking.pending" { info["host_confirmation_url"] = url("organizer_confirmation_url") }
        if type == "booking.cancelled" { info["cancellation_reason"] = b.data["cancellation_reason"] ?? "" }
        if type == "booking.reminder" {
            info["organizer_email"] = b.data["organizer"]?["email"] ?? ""
            info["provider"] = .string((try s.store(region).grant(id: b.organizerGrantID))?.provider ?? "")
        }
        for (k, v) in extra { info[k] = v }
        var object: JSON = ["booking_id": .string(b.id), "configuration_id": .string(config.id), "booking_info": info]
        switch type {
        case "booking.created", "booking.rescheduled": object["booking_ref"] = .string(ref); object["object"] = "booking"
        case "booking.pending": object["booking_ref"] = .string(ref); object["booking_type"] = "organizer-confirmation"
        default: break
        }
        s.emit(SimEvent(region: region, applicationID: config.applicationID, grantID: b.organizerGrantID, type: type, object: object,
                        source: "/nylas/passthru", time: s.now))
    }

    /// The e-mail Nylas sends for a booking (none with `disable_emails`), recorded beside the
    /// notification e-mails.
    private static func email(_ store: RegionStore, _ s: EngineState, _ config: SchedulerConfigurationRecord, _ b: SchedulerBookingRecord,
                              _ subject: String) throws {
        guard config.data["event_booking"]?["disable_emails"]?.boolValue != true else { return }
        let recipients = [b.data["organizer"]?["email"]?.stringValue, b.data["guest"]?["email"]?.stringValue].compactMap { $0 }
        try store.recordSchedulerEmail(configurationID: config.id, time: s.now, recipients: recipients,
                                       subject: "\(subject): \(config.data["event_booking"]?["title"]?.stringValue ?? "")")
    }

    /// Plans the reminders still to come of a booked booking; a reminder whose booking moved or
    /// was cancelled since does nothing when its time comes, and each is sent once.
    package static func planReminders(_ s: EngineState, region: Region, _ b: SchedulerBookingRecord) {
        let sent = Set((b.data["reminders_sent"]?.arrayValue ?? []).compactMap(\.stringValue))
        for reminder in remindersOf(s, region: region, b) where !sent.contains(reminder.key) && reminder.at > s.now.seconds {
            let (id, start, key) = (b.id, b.startTime, reminder.key)
            s.schedule(at: VirtualTime(seconds: reminder.at), "booking reminder \(id)") { core in
                try? core.transaction { s in try remind(s, region: region, bookingID: id, start: start, key: key) }
            }
        }
    }

    /// `(key, time)` of each reminder of the booking's configuration (the key names it among those sent).
    private static func remindersOf(_ s: EngineState, region: Region, _ b: SchedulerBookingRecord) -> [(key: String, at: Int, type: String)] {
        guard let config = try? s.store(region).schedulerConfiguration(id: b.configurationID) else { return [] }
        return (config.data["event_booking"]?["reminders"]?.arrayValue ?? []).compactMap { r in
            guard let type = r["type"]?.stringValue, let minutes = r["minutes_before_event"]?.intValue else { return nil }
            return ("\(b.startTime):\(type):\(minutes):\(r["recipient"]?.stringValue ?? "all")", b.startTime - minutes * 60, type)
        }
    }

    private static func remind(_ s: EngineState, region: Region, bookingID: String, start: Int, key: String) throws {
        let store = s.store(region)
        guard var b = try store.schedulerBooking(id: bookingID), b.status == "booked", b.startTime == start,
              let config = try store.schedulerConfiguration(id: b.configurationID) else { return }
        var sent = b.data["reminders_sent"]?.arrayValue ?? []
        guard !sent.contains(.string(key)), let reminder = remindersOf(s, region: region, b).first(where: { $0.key == key }) else { return }
        sent.append(.string(key))
        b.data["reminders_sent"] = .array(sent)
        try store.save(b)
        if reminder.type == "webhook" {
            try notify(s, region: region, config, b, "booking.reminder", extra: ["time_until_event": .int(b.startTime - s.now.seconds)])
        } else {
            try email(store, s, config, b, "Reminder")
        }
    }

    /// Re-plans the reminders of booked bookings (a `--data-dir` server restarted).
    package static func restore(_ s: EngineState) throws {
        for region in Region.allCases {
            for b in try s.store(region).bookedSchedulerBookings() { planReminders(s, region: region, b) }
        }
    }
}

extension RegionStore {
    /// Whether the grant's calendars were never synced into this region's view.
    package func calendarSyncCursorOrNil(grantID: String) -> Bool { ((try? calendarSyncCursor(grantID: grantID)) ?? nil) == nil }

    package func recordSchedulerEmail(configurationID: String, time: VirtualTime, recipients: [String], subject: String) throws {
        try db.run("INSERT INTO notification_emails(webhook_id, time, recipients, subject) VALUES(?,?,?,?)",
                   "scheduler:\(configurationID)", time.milliseconds, JSON.strings(recipients), subject)
    }
}

// MARK: - Without HTTP (the Swift API, the control API, scenarios)

extension Engine {
    /// Creates a configuration for a grant, as `POST /v3/grants/{grant_id}/scheduling/configurations` does.
    package func createSchedulerConfiguration(region: Region, grantID: String, _ body: [String: JSON]) throws -> JSON {
        try transaction { s in
            let store = s.store(region)
            guard let grant = try store.grant(id: grantID) else { throw NylasError.grantNotFound }
            return try SchedulerOperations.create(s, store, grant: grant, body).data
        }
    }

    /// Books a slot of a configuration as its guest, as `POST /v3/scheduling/bookings` does.
    package func bookScheduler(region: Region, configurationID: String, _ input: SchedulerOperations.BookingInput) throws -> JSON {
        try transaction { s in
            let store = s.store(region)
            guard let config = try store.schedulerConfiguration(id: configurationID) else {
                throw NylasError.notFound("Configuration \(configurationID) not found")
            }
            let booking = try SchedulerOperations.book(s, store, region: region, config, input)
            // Beside the API's booking object, what the organizer's confirmation link carries.
            var o = SchedulerOperations.json(booking, config)
            o["booking_ref"] = .string(SchedulerOperations.reference(booking))
            o["salt"] = booking.data["salt"] ?? .null
            return o
        }
    }

    /// Every configuration and booking, by region (`GET /__sim/scheduler`, the dashboard).
    package func schedulerJSON() throws -> JSON {
        try withState { s in
            var out: [String: JSON] = [:]
            for region in Region.allCases {
                let store = s.store(region)
                let configs = try store.allSchedulerConfigurations()
                let bookings = try store.allSchedulerBookings()
                out[region.rawValue] = [
                    "configurations": .array(configs.map { c in
                        ["id": .string(c.id), "grant_id": .string(c.grantID), "name": c.data["name"] ?? .null, "slug": c.data["slug"] ?? .null,
                         "type": c.data["type"] ?? "standard", "requires_session_auth": c.data["requires_session_auth"] ?? false]
                    }),
                    "bookings": .array(bookings.map { b in
                        ["booking_id": .string(b.id), "configuration_id": .string(b.configurationID), "status": .string(b.status),
                         "event_id": .string(b.eventID), "start_time": .int(b.startTime), "end_time": .int(b.endTime),
                         "guest": b.data["guest"] ?? .null, "organizer": b.data["organizer"] ?? .null]
                    }),
                ]
            }
            return .object(out)
        }
    }
}
