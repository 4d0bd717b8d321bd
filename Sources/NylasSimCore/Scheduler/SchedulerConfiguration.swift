import Foundation

/// A Scheduler configuration's wire object (OpenAPI `configuration`): validated, with the
/// documented defaults filled in, and turned into a request of the one availability engine.
package enum SchedulerConfiguration {
    /// The object to store for `input` (a create), or for `input` over `existing` (a PUT: top-level
    /// fields absent from the body are kept; a nested object that is sent replaces the stored one).
    package static func normalize(_ input: [String: JSON], existing: JSON? = nil) throws(NylasError) -> JSON {
        var merged = existing?.objectValue ?? [:]
        for (k, v) in input where k != "id" { merged[k] = v }
        if merged["type"] != nil, merged["type"]?.stringValue != "group" {
            throw NylasError.invalidValue("type", "expected group, or no type for a standard configuration")
        }
        let body = BodyFields(merged)
        var out: [String: JSON] = [:]
        if merged["type"]?.stringValue == "group" { return try normalizeGroup(body) }

        // Participants.
        guard let items = try body.array("participants"), !items.isEmpty else { throw NylasError.missingField("participants") }
        var participants: [JSON] = []
        var emails = Set<String>()
        var organizers = 0
        for (i, item) in items.enumerated() {
            let name = "participants[\(i)]"
            guard case .object(let o) = item else { throw NylasError.wrongType(name, expected: "object", got: item) }
            let f = BodyFields(o)
            guard let email = try f.string("email") else { throw NylasError.missingField("\(name).email") }
            guard EmailAddress.isValid(email) else { throw NylasError.invalidValue("\(name).email", "'\(email)' is not an email address") }
            guard emails.insert(email.lowercased()).inserted else { throw NylasError.invalidValue("\(name).email", "\(email) is listed twice") }
            var p = o
            let isOrganizer = try f.bool("is_organizer") ?? false
            if isOrganizer { organizers += 1 }
            p["is_organizer"] = .bool(isOrganizer)
            var availability = try f.object("availability") ?? [:]
            let af = BodyFields(availability)
            availability["calendar_ids"] = .strings(try af.stringArray("calendar_ids") ?? [])
            if let hours = try af.array("open_hours") {
                _ = try AvailabilityRequest.openHours(hours, field: "\(name).availability.open_hours")
            }
            p["availability"] = .object(availability)
            var booking = try f.object("booking") ?? [:]
            booking["calendar_id"] = .string(try BodyFields(booking).string("calendar_id") ?? (o["booking"] == nil ? "" : "primary"))
            p["booking"] = .object(booking)
            if let tz = try f.string("timezone"), TimeZoneName.zone(tz) == nil {
                throw NylasError.invalidValue("\(name).timezone", "'\(tz)' is not an IANA time zone")
            }
            _ = try f.string("name")
            _ = try f.string("grant_id")
            participants.append(.object(p))
        }
        out["participants"] = .array(participants)

        // Availability.
        guard let availabilityObject = try body.object("availability") else { throw NylasError.missingField("availability") }
        let av = BodyFields(availabilityObject)
        guard let duration = try AvailabilityRequest.minutes(av, "duration_minutes", required: true, range: 5...1440) else {
            throw NylasError.missingField("availability.duration_minutes")
        }
        var availability = availabilityObject
        availability["duration_minutes"] = .int(duration)
        availability["interval_minutes"] = .int(try AvailabilityRequest.minutes(av, "interval_minutes", range: 5...1440) ?? duration)
        availability["round_to"] = .int(try AvailabilityRequest.minutes(av, "round_to", range: 5...60) ?? 15)
        var rules = try av.object("availability_rules") ?? [:]
        let rf = BodyFields(rules)
        let method = try rf.string("availability_method") ?? "collective"
        guard ["collective", "max-fairness", "max-availability"].contains(method) else {
            throw NylasError.invalidValue("availability.availability_rules.availability_method", "expected collective, max-fairness or max-availability, got \(method)")
        }
        rules["availability_method"] = .string(method)
        let buffer = try rf.nested("buffer") ?? BodyFields([:])
        rules["buffer"] = ["before": .int(try AvailabilityRequest.minutes(buffer, "before", range: 0...120) ?? 0),
                           "after": .int(try AvailabilityRequest.minutes(buffer, "after", range: 0...120) ?? 0)]
        if let hours = try rf.array("default_open_hours") {
            _ = try AvailabilityRequest.openHours(hours, field: "availability.availability_rules.default_open_hours")
        }
        rules["tentative_as_busy"] = .bool(try rf.bool("tentative_as_busy") ?? true)
        _ = try rf.string("round_robin_group_id")
        availability["availability_rules"] = .object(rules)
        out["availability"] = .object(availability)
        if method == "collective", organizers != 1 {
            throw NylasError.invalidValue("participants", organizers == 0
                ? "a collective configuration needs one participant with is_organizer: true"
                : "only one participant may have is_organizer: true")
        }
        if organizers > 1 { throw NylasError.invalidValue("participants", "only one participant may have is_organizer: true") }

        // Event booking.
        guard let bookingObject = try body.object("event_booking") else { throw NylasError.missingField("event_booking") }
        let eb = BodyFields(bookingObject)
        guard let title = try eb.string("title"), !title.isEmpty else { throw NylasError.missingField("event_booking.title") }
        var eventBooking = bookingObject
        eventBooking["title"] = .string(title)
        let bookingType = try eb.string("booking_type") ?? "booking"
        guard ["booking", "organizer-confirmation"].contains(bookingType) else {
            throw NylasError.invalidValue("event_booking.booking_type", "expected booking or organizer-confirmation, got \(bookingType)")
        }
        eventBooking["booking_type"] = .string(bookingType)
        if let tz = try eb.string("timezone"), TimeZoneName.zone(tz) == nil {
            throw NylasError.invalidValue("event_booking.timezone", "'\(tz)' is not an IANA time zone")
        }
        for key in ["description", "location"] { _ = try eb.string(key) }
        for key in ["hide_participants", "disable_emails", "notify_participants"] { _ = try eb.bool(key) }
        for (i, item) in (try eb.array("reminders") ?? []).enumerated() {
            let name = "event_booking.reminders[\(i)]"
            guard case .object(let o) = item else { throw NylasError.wrongType(name, expected: "object", got: item) }
            let f = BodyFields(o)
            guard let type = try f.string("type"), ["email", "webhook"].contains(type) else {
                throw NylasError.invalidValue("\(name).type", "expected email or webhook")
            }
            guard let minutes = try f.int("minutes_before_event"), minutes >= 1, minutes <= 60 * 24 * 30 else {
                throw NylasError.invalidValue("\(name).minutes_before_event", "expected a number of minutes from 1 to 43200")
            }
            if let recipient = try f.string("recipient"), !["all", "host", "guest"].contains(recipient) {
                throw NylasError.invalidValue("\(name).recipient", "expected all, host or guest")
            }
            _ = minutes
        }
        out["event_booking"] = .object(eventBooking)

        // Scheduler settings.
        var scheduler = try body.object("scheduler") ?? [:]
        let sf = BodyFields(scheduler)
        func count(_ key: String, _ d: Int, _ range: ClosedRange<Int>) throws(NylasError) {
            let n = try sf.int(key) ?? d
            guard range.contains(n) else { throw NylasError.invalidValue("scheduler.\(key)", "expected \(range.lowerBound) to \(range.upperBound), got \(n)") }
            scheduler[key] = .int(n)
        }
        try count("available_days_in_future", 30, 1...365)
        try count("min_booking_notice", 60, 0...525_600)
        try count("min_cancellation_notice", 0, 0...525_600)
        for key in ["hide_rescheduling_options", "hide_cancellation_options", "hide_additional_guests"] {
            scheduler[key] = .bool(try sf.bool(key) ?? false)
        }
        for key in ["rescheduling_url", "cancellation_url", "cancellation_policy", "organizer_confirmation_url", "confirmation_redirect_url"] {
            _ = try sf.string(key)
        }
        if let fields = try sf.object("additional_fields") {
            for (key, value) in fields {
                guard case .object(let o) = value else { throw NylasError.wrongType("scheduler.additional_fields.\(key)", expected: "object", got: value) }
                let types = ["text", "multi_line_text", "email", "phone_number", "dropdown", "date", "checkbox", "radio_button", "metadata"]
                guard let type = try BodyFields(o).string("type"), types.contains(type) else {
                    throw NylasError.invalidValue("scheduler.additional_fields.\(key).type", "expected one of \(types.joined(separator: ", "))")
                }
            }
        }
        out["scheduler"] = .object(scheduler)

        // The rest.
        if body.has("slug"), !(merged["slug"]?.isNull ?? true) {
            guard let slug = try body.string("slug"), !slug.isEmpty, slug.count <= 256,
                  slug.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw NylasError.invalidValue("slug", "expected letters, digits, - and _")
            }
            out["slug"] = .string(slug.lowercased())
        } else {
            out["slug"] = .null
        }
        out["requires_session_auth"] = .bool(try body.bool("requires_session_auth") ?? false)
        let organizer = participants.first { $0["is_organizer"]?.boolValue == true } ?? participants[0]
        out["name"] = .string(try body.string("name") ?? organizer["name"]?.stringValue ?? title)
        if let appearance = try body.object("appearance") {
            for (k, v) in appearance where v.stringValue == nil || v.stringValue!.count > 550 {
                throw NylasError.invalidValue("appearance.\(k)", "expected a string of at most 550 characters")
            }
            out["appearance"] = .object(appearance)
        }
        return .object(out)
    }

    /// A group configuration (`group-configuration`): group events with a capacity instead of
    /// participants' availability.
    private static func normalizeGroup(_ body: BodyFields) throws(NylasError) -> JSON {
        guard let name = try body.string("name"), !name.isEmpty else { throw NylasError.missingField("name") }
        guard let groupBooking = try body.object("group_booking") else { throw NylasError.missingField("group_booking") }
        let gb = BodyFields(groupBooking)
        guard let calendar = try gb.string("calendar_id"), !calendar.isEmpty else { throw NylasError.missingField("group_booking.calendar_id") }
        var booking = groupBooking
        booking["calendar_id"] = .string(calendar)
        let type = try gb.string("booking_type") ?? "booking"
        guard ["booking", "organizer-confirmation"].contains(type) else {
            throw NylasError.invalidValue("group_booking.booking_type", "expected booking or organizer-confirmation, got \(type)")
        }
        booking["booking_type"] = .string(type)
        let capacity = try gb.int("default_capacity") ?? 10
        guard (1...500).contains(capacity) else { throw NylasError.invalidValue("group_booking.default_capacity", "expected 1 to 500") }
        booking["default_capacity"] = .int(capacity)
        _ = try gb.bool("disable_emails")
        var out: [String: JSON] = ["type": "group", "name": .string(name), "group_booking": .object(booking),
                                   "requires_session_auth": .bool(try body.bool("requires_session_auth") ?? false)]
        var scheduler = try body.object("scheduler") ?? [:]
        let sf = BodyFields(scheduler)
        for (key, d) in [("available_days_in_future", 30), ("min_booking_notice", 60), ("min_cancellation_notice", 0)] {
            scheduler[key] = .int(try sf.int(key) ?? d)
        }
        out["scheduler"] = .object(scheduler)
        if let slug = try body.string("slug") { out["slug"] = .string(slug.lowercased()) } else { out["slug"] = .null }
        if let appearance = try body.object("appearance") { out["appearance"] = .object(appearance) }
        return .object(out)
    }

    package static func isGroup(_ config: JSON) -> Bool { config["type"]?.stringValue == "group" }

    /// The `key5` metadata value that marks a round-robin configuration's bookings (its
    /// `round_robin_group_id`, else its ID); nil for a collective one.
    package static func roundRobinGroup(_ config: JSON) -> String? {
        let rules = config["availability"]?["availability_rules"]
        guard rules?["availability_method"]?.stringValue ?? "collective" != "collective" else { return nil }
        if let group = rules?["round_robin_group_id"]?.stringValue, !group.isEmpty { return group }
        return config["id"]?.stringValue
    }

    /// The participants of `config` that have calendars to read (notification-only ones have none).
    package static func availabilityParticipants(_ config: JSON) -> [JSON] {
        (config["participants"]?.arrayValue ?? []).filter { $0["booking"]?["calendar_id"]?.stringValue?.isEmpty == false
            || $0["availability"]?["calendar_ids"]?.arrayValue?.isEmpty == false || $0["is_organizer"]?.boolValue == true }
    }

    /// The engine's request for `config` over `[start, end)`, limited by the notice and the
    /// days in future the configuration allows at `now`; nil when nothing of the window remains.
    package static func request(_ config: JSON, start: Int, end: Int, now: Int, emails: Set<String>? = nil) throws -> AvailabilityRequest? {
        let scheduler = config["scheduler"] ?? [:]
        let from = max(start, now + (scheduler["min_booking_notice"]?.intValue ?? 60) * 60)
        let to = min(end, now + (scheduler["available_days_in_future"]?.intValue ?? 30) * 86400)
        guard to > from else { return nil }
        let availability = config["availability"] ?? [:]
        let rules = availability["availability_rules"] ?? [:]
        let zone = config["event_booking"]?["timezone"]?.stringValue
        /// Open hours without a time zone are in the booking's.
        func hours(_ items: [JSON]?, _ field: String) throws -> [AvailabilityRequest.OpenHours]? {
            try AvailabilityRequest.openHours(items?.map { h in
                guard var o = h.objectValue, o["timezone"] == nil, let zone else { return h }
                o["timezone"] = .string(zone)
                return .object(o)
            }, field: field)
        }
        var participants: [AvailabilityRequest.Participant] = []
        for p in availabilityParticipants(config) {
            guard let email = p["email"]?.stringValue, emails?.contains(email.lowercased()) ?? true else { continue }
            participants.append(AvailabilityRequest.Participant(
                email: email, grantID: p["grant_id"]?.stringValue,
                calendarIDs: (p["availability"]?["calendar_ids"]?.arrayValue ?? []).compactMap(\.stringValue),
                openHours: try hours(p["availability"]?["open_hours"]?.arrayValue, "participants.availability.open_hours"),
                specific: [], onlySpecific: false))
        }
        guard !participants.isEmpty else { return nil }
        let duration = (availability["duration_minutes"]?.intValue ?? 30) * 60
        return AvailabilityRequest(
            start: from, end: to, duration: duration, interval: (availability["interval_minutes"]?.intValue ?? duration / 60) * 60,
            roundTo: (availability["round_to"]?.intValue ?? 15) * 60, participants: participants,
            method: rules["availability_method"]?.stringValue ?? "collective",
            bufferBefore: (rules["buffer"]?["before"]?.intValue ?? 0) * 60, bufferAfter: (rules["buffer"]?["after"]?.intValue ?? 0) * 60,
            defaultOpenHours: try hours(rules["default_open_hours"]?.arrayValue, "availability.availability_rules.default_open_hours") ?? [],
            roundRobinGroupID: roundRobinGroup(config), tentativeAsBusy: rules["tentative_as_busy"]?.boolValue ?? true)
    }
}
