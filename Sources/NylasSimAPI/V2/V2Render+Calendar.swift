import Foundation
import NylasSimCore

/// The v2 objects of the calendar family (calendars, events, contacts and their groups, outbox
/// jobs): one renderer each, shared by their routes and by the delta and webhook payloads.
extension V2Render {
    /// The v2 object of a calendar.
    package static func calendar(_ c: CalendarRecord, account: GrantRecord, jobStatusID: String? = nil) -> JSON {
        let d = c.data
        return ["id": .string(c.id), "object": "calendar", "account_id": .string(account.id), "name": d["name"] ?? .null,
                "description": d["description"] ?? .null, "location": d["location"] ?? .null, "timezone": d["timezone"] ?? .null,
                "read_only": .bool(c.readOnly), "is_primary": .bool(c.isPrimary), "hex_color": d["hex_color"] ?? .null,
                "metadata": .object(c.metadata), "job_status_id": .optional(jobStatusID)]
    }


    /// The v2 object of an event (a stored one or a computed occurrence, given as its v3-shaped JSON).
    package static func event(_ o: JSON, account: GrantRecord, store: RegionStore, jobStatusID: String? = nil) -> JSON {
        let organizer = Participant.list(.array([o["organizer"] ?? .null])).first
        let when = EventWhen(stored: o["when"])
        var recurrence: JSON = .null
        if let lines = o["recurrence"]?.arrayValue, !lines.isEmpty {
            recurrence = ["rrule": .array(lines), "timezone": .string(when?.zoneName ?? "UTC")]
        }
        var reminders: JSON = .null
        if let first = o["reminders"]?["overrides"]?.arrayValue?.first {
            let minutes = (o["reminders"]?["overrides"]?.arrayValue ?? []).compactMap { $0["reminder_minutes"]?.intValue }
            reminders = ["reminder_minutes": .string("[" + minutes.map(String.init).joined(separator: ",") + "]"),
                         "reminder_method": first["reminder_method"] ?? "popup"]
        }
        let visibility = o["visibility"]?.stringValue
        let participants: [JSON] = (o["participants"]?.arrayValue ?? []).map { p in
            ["name": p["name"] ?? "", "email": p["email"] ?? .null, "status": p["status"] ?? "noreply",
             "comment": p["comment"] ?? .null, "phone_number": p["phone_number"] ?? .null]
        }
        let owner = organizer.map { ($0.name.isEmpty ? "" : "\($0.name) ") + "<\($0.email)>" }
        return [
            "id": o["id"] ?? .null, "object": "event", "account_id": .string(account.id), "calendar_id": o["calendar_id"] ?? .null,
            "ical_uid": o["ical_uid"] ?? .null, "message_id": .optional(invitationMessageID(o, account: account, store: store)),
            "title": o["title"] ?? .null, "description": o["description"] ?? .null, "location": o["location"] ?? .null,
            "owner": .optional(owner), "participants": .array(participants), "read_only": o["read_only"] ?? false,
            "busy": o["busy"] ?? true, "status": o["status"] == "maybe" ? "tentative" : o["status"] ?? "confirmed", "when": o["when"] ?? .null, "recurrence": recurrence,
            "master_event_id": o["master_event_id"] ?? .null, "original_start_time": o["original_start_time"] ?? .null,
            "conferencing": o["conferencing"] ?? .null,
            "notifications": o["id"]?.stringValue.flatMap { try? store.platformObject(.v2EventNotifications, id: $0) }?["notifications"] ?? [],
            "metadata": o["metadata"] ?? [:],
            "visibility": visibility == nil || visibility == "default" ? .null : .string(visibility!),
            "hide_participants": o["hide_participants"] ?? false, "organizer_email": .optional(organizer?.email),
            "organizer_name": .optional(organizer?.name), "updated_at": o["updated_at"] ?? .null, "reminders": reminders,
            "capacity": o["capacity"] ?? .int(-1), "event_collection_id": .null, "round_robin_order": [], "customer_event_id": .null,
            "job_status_id": .optional(jobStatusID),
        ]
    }

    /// The invitation an invited account received for the event (v2 `message_id`): the latest
    /// message from the organizer whose subject names the event. Nil for the organizer's own events.
    package static func invitationMessageID(_ o: JSON, account: GrantRecord, store: RegionStore) -> String? {
        guard let organizer = o["organizer"]?["email"]?.stringValue?.lowercased(), organizer != account.email.lowercased(),
              o["participants"]?.arrayValue?.contains(where: { $0["email"]?.stringValue?.lowercased() == account.email.lowercased() }) == true
        else { return nil }
        return try? store.latestMessageID(grantID: account.id, subjectPrefix: "Invitation: \(o["title"]?.stringValue ?? "(No title)") @",
                                          from: organizer)
    }

    package static let contactStringFields = ["given_name", "middle_name", "surname", "suffix", "nickname", "birthday", "company_name", "job_title",
                               "manager_name", "office_location", "notes"]

    /// Each typed list and the key of its value (physical addresses are whole objects).
    package static let contactListFields: [(String, String?)] = [("emails", "email"), ("phone_numbers", "number"), ("physical_addresses", nil),
                                                  ("web_pages", "url"), ("im_addresses", "im_address")]

    /// The v2 object of a contact group.
    package static func contactGroup(_ g: (id: String, worldKey: String, data: JSON), account: GrantRecord) -> JSON {
        ["id": .string(g.id), "object": "contact_group", "account_id": .string(account.id), "name": g.data["name"] ?? .null,
         "path": g.data["path"] ?? g.data["name"] ?? .null]
    }


    /// The v2 object of a contact; `groups` from ``contactGroups(_:_:)``, `base` the URL its picture is served under.
    package static func contact(_ c: ContactRecord, account: GrantRecord, groups: [String: JSON], base: String, jobStatusID: String? = nil) -> JSON {
        let d = c.data
        var o: JSON = ["id": .string(c.id), "object": "contact", "account_id": .string(account.id),
                       "source": d["source"] ?? "address_book", "job_status_id": .optional(jobStatusID),
                       "picture_url": d["picture_url"]?.stringValue == nil ? .null : .string("\(base)/contacts/\(c.id)/picture")]
        for key in contactStringFields { o[key] = d[key] ?? .null }
        for (key, _) in contactListFields {
            // Every item has a `type` (the SDK groups the lists by it).
            o[key] = .array((d[key]?.arrayValue ?? []).map { item in
                var item = item
                if item["type"] == nil { item["type"] = "other" }
                if key == "physical_addresses", item["format"] == nil { item["format"] = "structured" }
                return item
            })
        }
        o["groups"] = .array((d["groups"]?.arrayValue ?? []).compactMap { g in g["id"]?.stringValue.flatMap { groups[$0] } })
        return o
    }


    /// The v2 objects of the account's contact groups, by ID.
    package static func contactGroups(_ store: RegionStore, _ account: GrantRecord) throws -> [String: JSON] {
        Dictionary(try store.contactGroups(grantID: account.id).map { ($0.id, contactGroup($0, account: account)) }, uniquingKeysWith: { a, _ in a })
    }


    /// The message fields of the job, with its times (`original_data`).
    package static func outboxOriginalData(_ row: ScheduleRecord) -> JSON {
        let message = row.message
        let out = OutgoingMessage(stored: message)
        let outbox = message["v2_outbox"] ?? [:]
        return ["subject": .string(out.subject), "to": Participant.json(out.to), "cc": Participant.json(out.cc),
                "bcc": Participant.json(out.bcc), "from": Participant.json(out.from), "reply_to": Participant.json(out.replyTo),
                "body": .string(out.body), "metadata": .object(out.metadata), "send_at": .int(row.sendAt),
                "original_send_at": outbox["original_send_at"] ?? .int(row.sendAt),
                "retry_limit_datetime": outbox["retry_limit_datetime"] ?? .null]
    }
}
