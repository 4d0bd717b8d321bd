import Foundation

/// What a grant's user does to an event through the API, on the provider's copy, whichever API
/// version asked: the v2 and v3 routes differ in their shapes and messages, not in these.
package enum EventOperations {
    /// The world event behind a stored event, or `notFound(id)` when the provider no longer has it.
    private static func world(_ s: EngineState, _ r: EventRecord, _ notFound: (String) -> NylasError) throws -> WorldEvent {
        guard let e = try s.world.event(id: r.worldID), !e.deleted else { throw notFound(r.id) }
        return e
    }

    /// Creates an event in `calendar` on the provider for the grant's user, the grant's own copy first
    /// (returned), then the attendees' copies; with `notifyParticipants` the organizer mails the
    /// invitation. Microsoft mails invitations whatever the caller asks (Graph has no switch for it).
    package static func create(_ s: EngineState, region: Region, grant: GrantRecord, calendar: CalendarRecord, content: EventContent,
                       metadata: [String: JSON], kind: SyncKind, notifyParticipants: Bool) throws -> EventRecord {
        let uid = s.world.newICalUID(provider: grant.provider, mailbox: grant.email)
        let e = try s.world.insertEvent(mailbox: grant.email, calendar: calendar.worldID, icalUID: uid, content: content, time: s.now)
        guard let record = try CalendarSync.applyEvent(s, region: region, grant: grant, e, kind: kind, metadata: metadata) else {
            throw NylasError.internal("event not synced")
        }
        var changed: Set<String> = [grant.email.lowercased()]
        changed.formUnion(try EventSharing.propagate(s, e))
        if notifyParticipants || grant.kind == .microsoft {
            changed.formUnion(try EventSharing.mail(s, kind: "Invitation", content: content, sender: content.organizer, icalUID: uid))
        }
        for mailbox in changed.sorted() { try CalendarSync.worldChanged(s, mailbox: mailbox) }
        return record
    }

    /// Writes one occurrence of a series as its own exception, the series' content changed by
    /// `change` (an edit, a cancellation, an answer); `metadata` defaults to the series'.
    package static func exception(_ s: EngineState, region: Region, grant: GrantRecord, master: EventRecord,
                          _ occ: Recurrence.Occurrence, kind: SyncKind, metadata: [String: JSON]? = nil,
                          notFound: (String) -> NylasError,
                          _ change: (inout EventContent) throws -> Void) throws -> (EventContent, EventRecord?) {
        let m = try world(s, master, notFound)
        var content = m.content
        content.recurrence = nil
        content.when = occ.when
        try change(&content)
        let x = try s.world.insertEvent(mailbox: m.mailbox, calendar: m.calendar, icalUID: m.icalUID, master: m.id,
                                        originalStart: occ.originalStart, content: content, time: s.now)
        return (content, try CalendarSync.applyEvent(s, region: region, grant: grant, x, kind: kind, metadata: metadata ?? master.metadata))
    }

    /// Saves the grant's edit of a stored event: `edited` is the provider's event with its new
    /// content, and with `moved` its new calendar, which the series' exceptions follow. Attendees'
    /// copies follow; with `mailUpdate` the organizer mails the updated invitation. Returns the
    /// grant's event and the mailboxes changed.
    package static func update(_ s: EngineState, region: Region, grant: GrantRecord, _ edited: WorldEvent, moved: Bool, kind: SyncKind,
                       metadata: [String: JSON]?, mailUpdate: Bool) throws -> (event: EventRecord?, changed: Set<String>) {
        var changed: Set<String> = [grant.email.lowercased()]
        try s.world.updateEvent(edited, time: s.now)
        if moved {
            for var x in try s.world.exceptions(master: edited.id) {
                x.calendar = edited.calendar
                try s.world.updateEvent(x, time: s.now)
            }
        }
        let saved = try s.world.event(id: edited.id)!
        let event = try CalendarSync.applyEvent(s, region: region, grant: grant, saved, kind: kind, metadata: metadata)
        if moved {
            for x in try s.world.exceptions(master: edited.id) { try CalendarSync.applyEvent(s, region: region, grant: grant, x, kind: kind) }
        }
        changed.formUnion(try EventSharing.propagate(s, saved))
        if mailUpdate, saved.content.organizer.email.lowercased() == grant.email.lowercased() {
            changed.formUnion(try EventSharing.mail(s, kind: "Updated invitation", content: saved.content, sender: saved.content.organizer,
                                                    icalUID: saved.icalUID))
        }
        return (event, changed)
    }

    /// Deletes a one-off event or a whole series (with its exceptions; the attendees' copies are
    /// cancelled, and with `mailCancellation` the organizer mails the cancellation), or cancels one
    /// occurrence. Returns the mailboxes changed, for `CalendarSync.worldChanged`.
    package static func delete(_ s: EngineState, region: Region, grant: GrantRecord, _ target: EventTarget, kind: SyncKind,
                       mailCancellation: Bool, notFound: (String) -> NylasError) throws -> Set<String> {
        var changed: Set<String> = [grant.email.lowercased()]
        switch target {
        case .record(let r):
            var e = try world(s, r, notFound)
            if e.master != nil {
                // An edited occurrence is cancelled; its series goes on.
                e.content.status = "cancelled"
                try s.world.updateEvent(e, time: s.now)
                try CalendarSync.applyEvent(s, region: region, grant: grant, try s.world.event(id: e.id)!, kind: kind)
            } else {
                let exceptions = try s.world.exceptions(master: e.id)
                try s.world.deleteEvent(e, time: s.now)
                try CalendarSync.applyEvent(s, region: region, grant: grant, try s.world.event(id: e.id)!, kind: kind)
                for x in exceptions { try CalendarSync.applyEvent(s, region: region, grant: grant, try s.world.event(id: x.id)!, kind: kind) }
                changed.formUnion(try EventSharing.cancelCopies(s, e))
                if mailCancellation, e.content.organizer.email.lowercased() == grant.email.lowercased() {
                    changed.formUnion(try EventSharing.mail(s, kind: "Canceled event", content: e.content, sender: e.content.organizer,
                                                            icalUID: e.icalUID))
                }
            }
        case .occurrence(let master, let occ):
            _ = try exception(s, region: region, grant: grant, master: master, occ, kind: kind, notFound: notFound) { $0.status = "cancelled" }
        }
        return changed
    }

    /// The grant's user answers an invitation: `answer` sets their participant status (and throws
    /// when they are not invited); every copy of a one-off or series shows it, and with `mailReply`
    /// the organizer gets the reply mail. Returns the answered content, the grant's event and the
    /// mailboxes changed.
    package static func rsvp(_ s: EngineState, region: Region, grant: GrantRecord, _ target: EventTarget, kind: SyncKind,
                     status: String, mailReply: Bool, notFound: (String) -> NylasError,
                     answer: (inout EventContent) throws -> Void) throws -> (content: EventContent, event: EventRecord?, changed: Set<String>) {
        var changed: Set<String> = [grant.email.lowercased()]
        let content: EventContent
        let event: EventRecord?
        switch target {
        case .record(let r):
            var e = try world(s, r, notFound)
            try answer(&e.content)
            content = e.content
            try s.world.updateEvent(e, time: s.now)
            event = try CalendarSync.applyEvent(s, region: region, grant: grant, try s.world.event(id: e.id)!, kind: kind)
            if e.master == nil {
                changed.formUnion(try EventSharing.answer(s, icalUID: e.icalUID, email: grant.email, status: status, except: e.mailbox))
            }
        case .occurrence(let master, let occ):
            (content, event) = try exception(s, region: region, grant: grant, master: master, occ, kind: kind, notFound: notFound, answer)
        }
        if mailReply, content.organizer.email.lowercased() != grant.email.lowercased() {
            let word = ["yes": "Accepted", "no": "Declined", "maybe": "Tentatively accepted"][status] ?? status
            changed.formUnion(try EventSharing.mail(s, kind: word, content: content, sender: Participant(name: grant.name ?? "", email: grant.email),
                                                    to: [content.organizer.email]))
        }
        return (content, event, changed)
    }
}
