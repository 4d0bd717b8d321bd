import Foundation

/// An event by ID: a stored one (single, master, exception), or a plain occurrence of a series
/// named `<master_id>_<YYYYMMDDTHHMMSSZ>` (`<master_id>_<YYYYMMDD>` for all-day series).
package enum EventTarget {
    case record(EventRecord)
    case occurrence(master: EventRecord, Recurrence.Occurrence)

    package var json: JSON {
        switch self {
        case .record(let r): return r.data
        case .occurrence(let m, let occ): return EventTarget.occurrenceJSON(m, occ)
        }
    }

    /// The event `id` of `calendar`, stored or an occurrence of a stored series.
    package static func find(_ store: RegionStore, _ grant: GrantRecord, _ calendar: CalendarRecord, _ id: String) throws -> EventTarget {
        if let r = try store.event(grantID: grant.id, id: id), r.calendarID == calendar.id { return .record(r) }
        if let cut = id.lastIndex(of: "_") {
            let masterID = String(id[..<cut])
            let stamp = String(id[id.index(after: cut)...])
            if let master = try store.event(grantID: grant.id, id: masterID), master.recurring, master.calendarID == calendar.id,
               let when = master.when, let recurrence = master.recurrence, let t = instant(ofStamp: stamp, allDay: when.isAllDay),
               let occ = recurrence.occurrences(of: when, from: t, to: t + 1).first(where: { $0.originalStart == t && $0.stamp == stamp }) {
                return .occurrence(master: master, occ)
            }
        }
        throw NylasError.notFound("Event not found: \(id)")
    }

    package static func instant(ofStamp stamp: String, allDay: Bool) -> Int? {
        if allDay { return CivilDate(stamp, compact: true).map { $0.dayNumber * 86400 } }
        guard case .instant(let t)? = Recurrence.moment(stamp, zone: nil), stamp.hasSuffix("Z") else { return nil }
        return t
    }

    /// A plain occurrence as the API shows it: the master's fields, its own ID, `when` and `master_event_id`.
    package static func occurrenceJSON(_ master: EventRecord, _ occ: Recurrence.Occurrence) -> JSON {
        var o = master.data
        o["id"] = .string(master.id + "_" + occ.stamp)
        o["when"] = occ.when.json
        o["master_event_id"] = .string(master.id)
        o["original_start_time"] = .int(occ.originalStart)
        o["recurrence"] = nil
        return o
    }

    /// An event of the grant by ID (a stored one, or an occurrence `<master>_<stamp>`) in whichever
    /// calendar holds it, with that calendar; nil when there is none.
    package static func find(_ store: RegionStore, _ grant: GrantRecord, _ id: String) throws -> (EventTarget, CalendarRecord)? {
        var calendarID: String?
        if let r = try store.event(grantID: grant.id, id: id) {
            calendarID = r.calendarID
        } else if let cut = id.lastIndex(of: "_"), let master = try store.event(grantID: grant.id, id: String(id[..<cut])) {
            calendarID = master.calendarID
        }
        guard let calendarID, let calendar = try store.calendar(grantID: grant.id, id: calendarID) else { return nil }
        do {
            return (try find(store, grant, calendar, id), calendar)
        } catch let e as NylasError where e.status == 404 {
            return nil
        }
    }
}
