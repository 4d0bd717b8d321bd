import Foundation

/// A participant of an event, with their answer.
package struct EventParticipant: Sendable, Equatable {
    package var email: String
    package var name: String?
    /// `noreply`, `yes`, `no`, `maybe`.
    package var status: String
    package var comment: String?
    package var phoneNumber: String?

    package var json: JSON {
        var o: JSON = ["email": .string(email), "status": .string(status)]
        if let name { o["name"] = .string(name) }
        if let comment { o["comment"] = .string(comment) }
        if let phoneNumber { o["phone_number"] = .string(phoneNumber) }
        return o
    }

    package init(email: String, name: String? = nil, status: String = "noreply", comment: String? = nil, phoneNumber: String? = nil) {
        self.email = email
        self.name = name
        self.status = status
        self.comment = comment
        self.phoneNumber = phoneNumber
    }

    package init?(_ j: JSON) {
        guard let email = j["email"]?.stringValue else { return nil }
        self.init(email: email, name: j["name"]?.stringValue, status: j["status"]?.stringValue ?? "noreply",
                  comment: j["comment"]?.stringValue, phoneNumber: j["phone_number"]?.stringValue)
    }
}

/// An event as the provider holds it: everything but the IDs a grant gives it and the metadata
/// Nylas keeps beside it. Stored as JSON in the provider world.
package struct EventContent: Sendable, Equatable {
    package var title: String?
    package var description: String?
    package var location: String?
    package var when: EventWhen
    package var busy = true
    package var participants: [EventParticipant] = []
    package var resources: [JSON] = []
    package var conferencing: JSON?
    package var reminders: JSON = ["use_default": true, "overrides": []]
    package var recurrence: Recurrence?
    package var visibility = "default"
    /// `confirmed`, `tentative`, `cancelled`.
    package var status = "confirmed"
    package var organizer: Participant
    package var creator: Participant
    package var capacity: Int?
    package var hideParticipants = false
    /// Google's event types: `default`, `outOfOffice`, `focusTime`, `workingLocation`.
    package var eventType = "default"

    package init(when: EventWhen, organizer: Participant) {
        self.when = when
        self.organizer = organizer
        self.creator = organizer
    }

    /// The stored form (also the provider-side fields of the API object).
    package var json: JSON {
        var o: JSON = [
            "when": when.json, "busy": .bool(busy), "participants": .array(participants.map(\.json)),
            "resources": .array(resources), "reminders": reminders, "visibility": .string(visibility),
            "status": .string(status), "organizer": organizer.json, "creator": creator.json,
            "hide_participants": .bool(hideParticipants), "event_type": .string(eventType),
        ]
        // Absent rather than null: the description types these as strings and arrays.
        if let title, !title.isEmpty { o["title"] = .string(title) }
        if let description { o["description"] = .string(description) }
        if let location { o["location"] = .string(location) }
        if let recurrence { o["recurrence"] = .strings(recurrence.lines) }
        if let conferencing { o["conferencing"] = conferencing }
        if let capacity { o["capacity"] = .int(capacity) }
        return o
    }

    package init?(stored j: JSON) {
        guard let when = EventWhen(stored: j["when"]) else { return nil }
        self.init(when: when, organizer: Participant.list(.array([j["organizer"] ?? .null])).first ?? Participant(name: "", email: ""))
        creator = Participant.list(.array([j["creator"] ?? .null])).first ?? organizer
        title = j["title"]?.stringValue
        description = j["description"]?.stringValue
        location = j["location"]?.stringValue
        busy = j["busy"]?.boolValue ?? true
        participants = (j["participants"]?.arrayValue ?? []).compactMap(EventParticipant.init)
        resources = j["resources"]?.arrayValue ?? []
        conferencing = j["conferencing"].flatMap { $0.isNull ? JSON?.none : $0 }
        reminders = j["reminders"] ?? ["use_default": true, "overrides": []]
        if let lines = j["recurrence"]?.arrayValue?.compactMap(\.stringValue), !lines.isEmpty {
            recurrence = try? Recurrence.parse(lines)
        }
        visibility = j["visibility"]?.stringValue ?? "default"
        status = j["status"]?.stringValue ?? "confirmed"
        capacity = j["capacity"]?.intValue
        hideParticipants = j["hide_participants"]?.boolValue ?? false
        eventType = j["event_type"]?.stringValue ?? "default"
    }

    package var isRecurring: Bool { recurrence?.rule != nil }

    /// The answer `email` gave, if they are a participant.
    package func status(of email: String) -> String? {
        participants.first { $0.email.lowercased() == email.lowercased() }?.status
    }
}

/// Conferencing providers the API names.
package enum Conferencing {
    package static let providers: Set<String> = ["Google Meet", "Zoom Meeting", "Microsoft Teams", "Teams for Business",
                                         "Skype for Consumer", "Skype for Business", "WebEx", "GoToMeeting", "unknown"]

    /// Meeting details for an `autocreate` request, in the provider's URL style.
    package static func autocreate(provider: String, ids: inout IDGenerator) -> JSON {
        switch provider {
        case "Google Meet":
            let letters = ids.base36("meet", length: 10).map { c -> Character in
                c.isNumber ? Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(c.wholeNumberValue ?? 0))) : c
            }
            let meeting = "\(String(letters[0..<3]))-\(String(letters[3..<7]))-\(String(letters[7..<10]))"
            return ["provider": .string(provider), "details": ["url": .string("https://meet.google.com/\(meeting)"),
                                                               "meeting_code": .string(meeting)]]
        case "Zoom Meeting":
            let number = ids.hex("zoom", length: 10).map { c in String((c.hexDigitValue ?? 0) % 10) }.joined()
            return ["provider": .string(provider), "details": ["url": .string("https://zoom.us/j/\(number)"), "meeting_code": .string(number),
                                                               "password": .string(ids.base62("zoom-password", length: 8))]]
        case "Microsoft Teams", "Teams for Business":
            return ["provider": .string(provider), "details": [
                "url": .string("https://teams.microsoft.com/l/meetup-join/19%3ameeting_\(ids.base62("teams", length: 32))%40thread.v2/0")]]
        default:
            return ["provider": .string(provider), "details": ["url": .string("https://meetings.example.com/\(ids.base36("meeting", length: 12))")]]
        }
    }
}
