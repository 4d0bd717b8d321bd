import Foundation

/// The `when` of an event: one of the four shapes of the v3 API (§5.7). Requests give the fields
/// only; responses always carry the `object` discriminator.
package enum EventWhen: Sendable, Equatable {
    case time(Int, timezone: String?)
    case timespan(start: Int, end: Int, startTimezone: String?, endTimezone: String?)
    case date(CivilDate)
    case datespan(start: CivilDate, end: CivilDate)

    /// The response object.
    package var json: JSON {
        switch self {
        case .time(let t, let tz):
            var o: JSON = ["object": "time", "time": .int(t)]
            if let tz { o["timezone"] = .string(tz) }
            return o
        case .timespan(let start, let end, let stz, let etz):
            var o: JSON = ["object": "timespan", "start_time": .int(start), "end_time": .int(end)]
            if let stz { o["start_timezone"] = .string(stz) }
            if let etz { o["end_timezone"] = .string(etz) }
            return o
        case .date(let d):
            return ["object": "date", "date": .string(d.description)]
        case .datespan(let s, let e):
            return ["object": "datespan", "start_date": .string(s.description), "end_date": .string(e.description)]
        }
    }

    package var shape: String {
        switch self {
        case .time: "time"
        case .timespan: "timespan"
        case .date: "date"
        case .datespan: "datespan"
        }
    }

    package var isAllDay: Bool {
        switch self {
        case .date, .datespan: true
        default: false
        }
    }

    /// The zone the event's wall clock (and its recurrence) is read in.
    package var zoneName: String? {
        switch self {
        case .time(_, let tz): tz
        case .timespan(_, _, let stz, _): stz
        default: nil
        }
    }

    package var zone: TimeZone { zoneName.flatMap(TimeZoneName.zone) ?? TimeZoneName.utc }

    /// The instant the event starts (all-day events: midnight UTC of the first day).
    package var startUnix: Int {
        switch self {
        case .time(let t, _): t
        case .timespan(let s, _, _, _): s
        case .date(let d): d.dayNumber * 86400
        case .datespan(let s, _): s.dayNumber * 86400
        }
    }

    /// The instant the event ends (all-day events: midnight UTC after the last day; `end_date` is inclusive).
    package var endUnix: Int {
        switch self {
        case .time(let t, _): t
        case .timespan(_, let e, _, _): e
        case .date(let d): (d.dayNumber + 1) * 86400
        case .datespan(_, let e): (e.dayNumber + 1) * 86400
        }
    }

    /// Whether the event overlaps `[start, end)`; a point in time overlaps when it falls inside.
    package func overlaps(_ start: Int, _ end: Int) -> Bool {
        if startUnix == endUnix { return startUnix >= start && startUnix < end }
        return startUnix < end && endUnix > start
    }

    /// This event moved so that it starts on `date` (all-day) or at `instant` (timed), keeping its length.
    package func moved(toInstant instant: Int, date: CivilDate) -> EventWhen {
        switch self {
        case .time(_, let tz): return .time(instant, timezone: tz)
        case .timespan(let s, let e, let stz, let etz): return .timespan(start: instant, end: instant + (e - s), startTimezone: stz, endTimezone: etz)
        case .date: return .date(date)
        case .datespan(let s, let e): return .datespan(start: date, end: date.adding(days: e.dayNumber - s.dayNumber))
        }
    }

    /// The first day in the event's own zone (the day a recurrence counts from).
    package var firstDate: CivilDate {
        switch self {
        case .date(let d): return d
        case .datespan(let s, _): return s
        default: return CivilDate(unix: startUnix, in: zone)
        }
    }

    /// A stored `when` (response form).
    package init?(stored j: JSON?) {
        guard let j, let object = j["object"]?.stringValue else { return nil }
        switch object {
        case "time":
            guard let t = j["time"]?.intValue else { return nil }
            self = .time(t, timezone: j["timezone"]?.stringValue)
        case "timespan":
            guard let s = j["start_time"]?.intValue, let e = j["end_time"]?.intValue else { return nil }
            self = .timespan(start: s, end: e, startTimezone: j["start_timezone"]?.stringValue, endTimezone: j["end_timezone"]?.stringValue)
        case "date":
            guard let d = j["date"]?.stringValue.flatMap({ CivilDate($0) }) else { return nil }
            self = .date(d)
        case "datespan":
            guard let s = j["start_date"]?.stringValue.flatMap({ CivilDate($0) }),
                  let e = j["end_date"]?.stringValue.flatMap({ CivilDate($0) }) else { return nil }
            self = .datespan(start: s, end: e)
        default: return nil
        }
    }

    // MARK: - Requests

    private static let shapeFields: [String: Set<String>] = [
        "time": ["time", "timezone"],
        "timespan": ["start_time", "end_time", "start_timezone", "end_timezone"],
        "date": ["date"],
        "datespan": ["start_date", "end_date"],
    ]

    /// Reads a request `when`: its shape is inferred from its fields (`time`; `start_time` and
    /// `end_time`; `date`; `start_date` and `end_date`). With `existing`, a partial `when` of the
    /// same shape keeps the fields it leaves out (an update). Every problem is a 400 naming the field.
    package static func parse(_ value: JSON, existing: EventWhen? = nil, field: String = "when") throws(NylasError) -> EventWhen {
        guard case .object(var o) = value else { throw NylasError.wrongType(field, expected: "object", got: value) }
        let declared = o.removeValue(forKey: "object")?.stringValue
        let keys = Set(o.filter { !$0.value.isNull }.keys)
        let shapes = shapeFields.filter { !$0.value.isDisjoint(with: keys) }.map(\.key)
        let shape: String
        if let declared {
            guard shapeFields[declared] != nil else {
                throw NylasError.invalidValue("\(field).object", "'\(declared)' is not one of time, timespan, date, datespan")
            }
            shape = declared
        } else if shapes.count == 1 {
            shape = shapes[0]
        } else if shapes.isEmpty {
            if let existing, keys.isEmpty { return existing }
            throw NylasError.invalidRequest("Invalid \(field): give time, start_time and end_time, date, or start_date and end_date")
        } else {
            throw NylasError.invalidRequest("Invalid \(field): fields of several shapes (\(shapes.sorted().joined(separator: ", "))) in one object")
        }
        if let bad = keys.sorted().first(where: { !shapeFields[shape]!.contains($0) }) {
            throw NylasError.invalidRequest("Invalid \(field): field \(bad) does not belong to a \(shape) object")
        }
        let body = BodyFields(o)
        let base = existing?.shape == shape ? existing : nil
        func zone(_ key: String, _ fallback: String?) throws(NylasError) -> String? {
            guard let name = try body.string(key) else { return fallback }
            return try TimeZoneName.validated(name, field: "\(field).\(key)")
        }
        func instant(_ key: String, _ fallback: Int?) throws(NylasError) -> Int {
            guard let v = body.raw(key) else {
                if let fallback { return fallback }
                throw NylasError.missingField("\(field).\(key)")
            }
            guard let t = v.intValue else { throw NylasError.wrongType("\(field).\(key)", expected: "integer (Unix seconds)", got: v) }
            guard (0...253_402_300_799).contains(t) else { throw NylasError.invalidValue("\(field).\(key)", "\(t) is not a Unix time in seconds") }
            return t
        }
        func date(_ key: String, _ fallback: CivilDate?) throws(NylasError) -> CivilDate {
            guard let v = body.raw(key) else {
                if let fallback { return fallback }
                throw NylasError.missingField("\(field).\(key)")
            }
            guard case .string(let s) = v else { throw NylasError.wrongType("\(field).\(key)", expected: "string (YYYY-MM-DD)", got: v) }
            guard let d = CivilDate(s) else { throw NylasError.invalidValue("\(field).\(key)", "'\(s)' is not a date in the YYYY-MM-DD format") }
            return d
        }
        switch shape {
        case "time":
            var t0: Int?, z0: String?
            if case .time(let t, let z)? = base { t0 = t; z0 = z }
            return .time(try instant("time", t0), timezone: try zone("timezone", z0))
        case "timespan":
            var s0: Int?, e0: Int?, sz0: String?, ez0: String?
            if case .timespan(let s, let e, let sz, let ez)? = base { s0 = s; e0 = e; sz0 = sz; ez0 = ez }
            let start = try instant("start_time", s0)
            let end = try instant("end_time", e0)
            guard end > start else {
                throw NylasError.invalidValue("\(field).end_time", "the end (\(end)) must be after the start (\(start))")
            }
            let stz = try zone("start_timezone", sz0)
            let etz = try zone("end_timezone", ez0) ?? (body.has("start_timezone") ? stz : nil)
            return .timespan(start: start, end: end, startTimezone: stz, endTimezone: etz ?? stz)
        case "date":
            var d0: CivilDate?
            if case .date(let d)? = base { d0 = d }
            return .date(try date("date", d0))
        default:
            var s0: CivilDate?, e0: CivilDate?
            if case .datespan(let s, let e)? = base { s0 = s; e0 = e }
            let s = try date("start_date", s0)
            let e = try date("end_date", e0)
            guard e >= s else {
                throw NylasError.invalidValue("\(field).end_date", "the end date (\(e)) is before the start date (\(s))")
            }
            return .datespan(start: s, end: e)
        }
    }
}
