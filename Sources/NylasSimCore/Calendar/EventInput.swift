import Foundation

/// The fields of an event create or update request, checked before anything changes.
package struct EventInput {
    package var when: JSON?
    package var strings: [String: String?] = [:]
    package var busy: Bool?
    package var participants: [EventParticipant]?
    package var resources: [JSON]?
    package var conferencing: JSON??
    package var reminders: JSON?
    package var recurrence: Recurrence??
    package var visibility: String?
    package var capacity: Int?
    package var hideParticipants: Bool?
    package var metadata: [String: JSON]?
    package var calendarID: String?

    /// Whether participants would care (time, place, title, who).
    package var changesInvitation: Bool { when != nil || participants != nil || strings["title"] != nil || strings["location"] != nil }

    package init(_ body: BodyFields, creating: Bool) throws(NylasError) {
        if let w = body.raw("when") { when = w }
        for (key, max) in [("title", 1024), ("description", 65536), ("location", 255)] where body.has(key) {
            let value = try body.string(key)
            if let value, value.count > max { throw NylasError.invalidValue(key, "at most \(max) characters") }
            strings[key] = .some(value?.isEmpty == true && key == "title" ? nil : value)
        }
        busy = try body.bool("busy")
        if let items = try body.array("participants") {
            var list: [EventParticipant] = []
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item else { throw NylasError.wrongType("participants[\(i)]", expected: "object", got: item) }
                let f = BodyFields(o)
                let email = try f.string("email", required: true)!
                guard EmailAddress.isValid(email) else { throw NylasError.invalidValue("participants[\(i)].email", "'\(email)' is not an email address") }
                if list.contains(where: { $0.email.lowercased() == email.lowercased() }) {
                    throw NylasError.invalidValue("participants[\(i)].email", "\(email) is listed twice")
                }
                // The Python SDK 6.18 sends phoneNumber on updates; the wire name is phone_number.
                let phone = try f.string("phone_number")
                let sdkPhone = try f.string("phoneNumber")
                list.append(EventParticipant(email: email, name: try f.string("name"), comment: try f.string("comment"),
                                             phoneNumber: phone ?? sdkPhone))
            }
            try InputLimits.check(list.count, InputLimits.participants, "participants", "participants")
            participants = list
        }
        if let items = try body.array("resources") {
            var list: [JSON] = []
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item else { throw NylasError.wrongType("resources[\(i)]", expected: "object", got: item) }
                let email = try BodyFields(o).string("email", required: true)!
                guard EmailAddress.isValid(email) else { throw NylasError.invalidValue("resources[\(i)].email", "'\(email)' is not an email address") }
                list.append(item)
            }
            resources = list
        }
        if body.has("conferencing") {
            if let c = try body.object("conferencing"), !c.isEmpty {
                let f = BodyFields(c)
                let provider = try f.string("provider", required: true)!
                guard Conferencing.providers.contains(provider) else {
                    throw NylasError.invalidValue("conferencing.provider", "'\(provider)' is not one of \(Conferencing.providers.sorted().joined(separator: ", "))")
                }
                if f.has("autocreate") {
                    _ = try f.object("autocreate")
                } else {
                    guard try f.object("details") != nil else {
                        throw NylasError.invalidRequest("Invalid conferencing: give details ({url, meeting_code, ...}) or autocreate ({})")
                    }
                }
                conferencing = .some(.object(c))
            } else {
                conferencing = .some(nil)
            }
        }
        if let r = try body.nested("reminders") {
            let useDefault = try r.bool("use_default")
            var overrides: [JSON] = []
            for (i, item) in (try r.array("overrides") ?? []).enumerated() {
                guard case .object(let o) = item else { throw NylasError.wrongType("reminders.overrides[\(i)]", expected: "object", got: item) }
                let f = BodyFields(o)
                let minutes = try f.int("reminder_minutes") ?? 10
                guard (0...40320).contains(minutes) else { throw NylasError.invalidValue("reminders.overrides[\(i)].reminder_minutes", "0 to 40320 minutes") }
                let method = try f.string("reminder_method") ?? "popup"
                guard ["email", "popup", "display", "sound"].contains(method) else {
                    throw NylasError.invalidValue("reminders.overrides[\(i)].reminder_method", "'\(method)' is not email or popup")
                }
                overrides.append(["reminder_minutes": .int(minutes), "reminder_method": .string(method)])
            }
            guard overrides.count <= 5 else { throw NylasError.invalidValue("reminders.overrides", "at most 5 reminders") }
            reminders = ["use_default": .bool(useDefault ?? overrides.isEmpty), "overrides": .array(overrides)]
        }
        if body.has("recurrence") {
            let lines = try body.stringArray("recurrence") ?? []
            recurrence = .some(lines.isEmpty ? nil : try Recurrence.parse(lines))
        }
        if let v = try body.string("visibility") {
            guard ["default", "public", "private"].contains(v) else { throw NylasError.invalidValue("visibility", "expected default, public or private") }
            visibility = v
        }
        if let c = try body.int("capacity") {
            guard c >= -1 else { throw NylasError.invalidValue("capacity", "must be -1 (no limit) or more") }
            capacity = c
        }
        hideParticipants = try body.bool("hide_participants")
        metadata = try body.metadata()
        if !creating { calendarID = try body.string("calendar_id") }
        if creating, when == nil { throw NylasError.missingField("when") }
        // Checked here so that a bad `when` fails before anything is looked up.
        if let when, creating { _ = try EventWhen.parse(when) }
    }

    /// Applies the request to `content` (an update keeps what it leaves out).
    package func apply(to content: inout EventContent, existing: EventContent?, owner: String, provider: String, world: ProviderWorld) throws {
        if let when { content.when = try EventWhen.parse(when, existing: existing?.when) }
        if let v = strings["title"] { content.title = v }
        if let v = strings["description"] { content.description = v }
        if let v = strings["location"] { content.location = v }
        if let busy { content.busy = busy }
        if let participants {
            let before = existing?.participants ?? []
            content.participants = participants.map { p in
                var p = p
                if let old = before.first(where: { $0.email.lowercased() == p.email.lowercased() }) {
                    p.status = old.status
                } else if p.email.lowercased() == owner.lowercased() {
                    p.status = "yes"
                }
                return p
            }
        }
        if let resources { content.resources = resources }
        if let conferencing {
            if let c = conferencing, c["autocreate"] != nil {
                content.conferencing = Conferencing.autocreate(provider: c["provider"]?.stringValue ?? "unknown", ids: &world.ids)
            } else {
                content.conferencing = conferencing ?? nil
            }
        }
        if let reminders { content.reminders = reminders }
        if let recurrence {
            content.recurrence = recurrence
        }
        if let visibility {
            if visibility == "default", ProviderKind(provider) == .microsoft || ProviderKind(provider) == .ews {
                throw NylasError.invalidValue("visibility", "default is Google-only: Microsoft events are public or private")
            }
            content.visibility = visibility
        } else if existing == nil, ProviderKind(provider) == .microsoft || ProviderKind(provider) == .ews {
            content.visibility = "public"
        }
        if let capacity { content.capacity = capacity }
        if let hideParticipants { content.hideParticipants = hideParticipants }
    }
}
