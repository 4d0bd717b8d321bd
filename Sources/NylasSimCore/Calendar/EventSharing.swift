import Foundation

/// What an event does beyond its own calendar, as calendar providers do: participants who have a
/// mailbox in the provider world get a copy in their primary calendar (same iCalendar UID), keep
/// it in step with the organizer's, see their answers on every copy, and receive invitation,
/// update and cancellation emails when the organizer asks to notify them.
package enum EventSharing {
    /// Brings every participant's copy of `e` in step with it (creating the missing ones); returns
    /// the mailboxes that changed. Occurrence edits stay on the organizer's calendar.
    package static func propagate(_ s: EngineState, _ e: WorldEvent) throws -> Set<String> {
        // Only the organizer's edits reach the other copies.
        guard e.master == nil, e.content.organizer.email.lowercased() == e.mailbox else { return [] }
        var changed = Set<String>()
        for p in e.content.participants where p.email.lowercased() != e.mailbox {
            let mailbox = p.email.lowercased()
            guard try s.world.mailbox(mailbox) != nil else { continue }
            try s.world.ensureCalendars(mailbox, now: s.now.seconds)
            if var copy = try s.world.event(mailbox: mailbox, icalUID: e.icalUID) {
                guard copy.content != e.content else { continue }
                copy.content = e.content
                try s.world.updateEvent(copy, time: s.now)
            } else {
                guard !e.deleted, e.content.status != "cancelled", let primary = try s.world.primaryCalendar(mailbox: mailbox) else { continue }
                try s.world.insertEvent(mailbox: mailbox, calendar: primary.id, icalUID: e.icalUID, content: e.content, time: s.now)
            }
            changed.insert(mailbox)
        }
        return changed
    }

    /// The organizer deleted the event: every other copy is cancelled.
    package static func cancelCopies(_ s: EngineState, _ e: WorldEvent) throws -> Set<String> {
        guard e.master == nil, e.content.organizer.email.lowercased() == e.mailbox else { return [] }
        var changed = Set<String>()
        for var copy in try s.world.events(icalUID: e.icalUID) where copy.mailbox != e.mailbox && copy.content.status != "cancelled" {
            copy.content.status = "cancelled"
            try s.world.updateEvent(copy, time: s.now)
            changed.insert(copy.mailbox)
        }
        return changed
    }

    /// `email` answered: their status changes on every copy of the event (the organizer's too).
    package static func answer(_ s: EngineState, icalUID: String, email: String, status: String, except mailbox: String) throws -> Set<String> {
        var changed = Set<String>()
        for var copy in try s.world.events(icalUID: icalUID) where copy.mailbox != mailbox {
            guard let i = copy.content.participants.firstIndex(where: { $0.email.lowercased() == email.lowercased() }),
                  copy.content.participants[i].status != status else { continue }
            copy.content.participants[i].status = status
            try s.world.updateEvent(copy, time: s.now)
            changed.insert(copy.mailbox)
        }
        return changed
    }

    /// Sends `kind` mail (`Invitation`, `Updated invitation`, `Canceled event`, or an answer such as
    /// `Accepted`) about `content` from `sender` to the participants (or `to`) who have a mailbox.
    /// With `icalUID`, the mail carries the event as an `invite.ics` attachment (METHOD REQUEST, or
    /// CANCEL for a cancellation), as providers send invitations; v2 lists it in the message's `events`.
    package static func mail(_ s: EngineState, kind: String, content: EventContent, sender: Participant, to recipients: [String]? = nil,
                             icalUID: String? = nil) throws -> Set<String> {
        var changed = Set<String>()
        let targets = recipients ?? content.participants.map(\.email)
        for address in targets where address.lowercased() != sender.email.lowercased() {
            let mailbox = address.lowercased()
            guard try s.world.mailbox(mailbox) != nil else { continue }
            let title = content.title ?? "(No title)"
            let when = describe(content.when)
            var m = NewMessage(from: [sender], to: [Participant(name: "", email: address)], subject: "\(kind): \(title) @ \(when)",
                               body: "<p>\(kind): <b>\(title)</b></p><p>\(when)</p>" + (content.location.map { "<p>\($0)</p>" } ?? ""),
                               date: s.now.seconds)
            m.headers = [("Content-Class", "urn:content-classes:calendarmessage")]
            if let icalUID {
                let method = kind == "Canceled event" ? "CANCEL" : "REQUEST"
                let ics = ICS.render(content.json, uid: icalUID, method: method, prodid: "-//Nylas Simulator//EN", stamp: s.now.seconds)
                m.attachments = [(filename: "invite.ics", contentType: "text/calendar", content: Array(ics.utf8), contentID: nil,
                                  isInline: false)]
            }
            try s.world.insert(m, mailbox: mailbox, time: s.now)
            changed.insert(mailbox)
        }
        return changed
    }

    package static func describe(_ when: EventWhen) -> String {
        switch when {
        case .date(let d): return d.description
        case .datespan(let a, let b): return "\(a) – \(b)"
        default:
            let l = WallClock.local(when.startUnix, in: when.zone)
            return String(format: "%@ %02d:%02d (%@)", l.date.description, l.hour, l.minute, when.zoneName ?? "UTC")
        }
    }
}
