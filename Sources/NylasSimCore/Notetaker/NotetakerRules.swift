import Foundation

/// A calendar's `notetaker` settings (`{name, meeting_settings, rules: {event_selection,
/// participant_filter}}`): every one-off event of that calendar with a Google Meet, Zoom or Teams
/// link that the rules select gets a bot that joins at the event's start; moving the event moves
/// the bot's join time; cancelling or deleting the event, moving it out of the calendar, or an
/// event the rules no longer select, removes a bot that has not joined yet (`notetaker.deleted`).
package enum NotetakerRules {
    /// The meeting link of an event: its conferencing URL, else a link in its location.
    static func link(_ event: JSON) -> String? {
        if let url = event["conferencing"]?["details"]?["url"]?.stringValue, NotetakerOperations.provider(url) != nil { return url }
        if let location = event["location"]?.stringValue, NotetakerOperations.provider(location) != nil { return location }
        return nil
    }

    /// Whether the rules select the event for the grant's user.
    static func selects(_ rules: JSON?, event: JSON, owner: String) -> Bool {
        let participants = (event["participants"]?.arrayValue ?? []).compactMap { $0["email"]?.stringValue?.lowercased() }
        if let filter = rules?["participant_filter"] {
            if let gte = filter["participants_gte"]?.intValue, participants.count < gte { return false }
            if let lte = filter["participants_lte"]?.intValue, participants.count > lte { return false }
        }
        let selection = (rules?["event_selection"]?.arrayValue ?? []).compactMap(\.stringValue)
        guard !selection.isEmpty else { return true }
        let me = owner.lowercased()
        let domain = me.split(separator: "@").last.map(String.init) ?? ""
        let organizer = event["organizer"]?["email"]?.stringValue?.lowercased() ?? me
        let others = participants.filter { $0 != me }
        return selection.contains { s in
            switch s {
            case "all": return true
            case "external": return others.contains { !$0.hasSuffix("@" + domain) }
            case "internal": return others.allSatisfy { $0.hasSuffix("@" + domain) }
            case "own_events": return organizer == me
            case "participant_only": return organizer != me && participants.contains(me)
            default: return false
            }
        }
    }

    /// The grant's bot for an event, if any.
    static func bot(_ store: RegionStore, grantID: String, eventID: String) throws -> NotetakerRecord? {
        try store.notetakers(applicationID: nil, grantID: grantID).first { $0.data["event"]?["event_id"]?.stringValue == eventID }
    }

    /// After the grant's copy of an event was saved in `calendar`.
    package static func eventSaved(_ s: EngineState, region: Region, grant: GrantRecord, _ e: EventRecord, calendar: CalendarRecord) throws {
        let store = s.store(region)
        let existing = try bot(store, grantID: grant.id, eventID: e.id)
        let settings = calendar.data["notetaker"]
        let wanted: String? = {
            guard let settings, settings.objectValue != nil, e.status != "cancelled", !e.recurring, e.masterEventID == nil,
                  e.startTime > s.now.seconds, selects(settings["rules"], event: e.data, owner: grant.email) else { return nil }
            return link(e.data)
        }()
        guard let link = wanted, let settings else {
            if let existing, existing.state == "scheduled" { try NotetakerOperations.delete(s, region: region, existing) }
            return
        }
        if let existing {
            guard existing.state == "scheduled", existing.joinTime != e.startTime || existing.data["meeting_link"]?.stringValue != link else { return }
            var moved = existing
            moved.data["meeting_link"] = .string(link)
            _ = try NotetakerOperations.update(s, region: region, moved, BodyFields(["join_time": .int(e.startTime)]))
            return
        }
        var body: [String: JSON] = ["meeting_link": .string(link), "join_time": .int(e.startTime)]
        if let name = settings["name"]?.stringValue { body["name"] = .string(name) }
        if let m = settings["meeting_settings"], m.objectValue != nil { body["meeting_settings"] = m }
        var event: JSON = ["event_id": .string(e.id), "ical_uid": .string(e.icalUID)]
        if let title = e.data["title"]?.stringValue { event["title"] = .string(title) }
        _ = try NotetakerOperations.invite(s, region: region, applicationID: grant.applicationID, grantID: grant.id, BodyFields(body), event: event)
    }

    /// After a calendar's `notetaker` settings changed: each of its events is looked at again.
    package static func calendarChanged(_ s: EngineState, region: Region, grant: GrantRecord, _ calendar: CalendarRecord) throws {
        for e in try s.store(region).events(grantID: grant.id, calendarID: calendar.id) {
            try eventSaved(s, region: region, grant: grant, e, calendar: calendar)
        }
    }

    /// After the grant's copy of an event was deleted.
    package static func eventGone(_ s: EngineState, region: Region, grant: GrantRecord, eventID: String) throws {
        if let existing = try bot(s.store(region), grantID: grant.id, eventID: eventID), existing.state == "scheduled" {
            try NotetakerOperations.delete(s, region: region, existing)
        }
    }
}
