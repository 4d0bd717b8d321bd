import Foundation

/// An event's `recurrence` lines (`RRULE:…`, `EXDATE:…`) parsed and checked, and expanded into
/// occurrences on the wall clock of the event's zone: a weekly 09:00 meeting in
/// `America/New_York` stays at 09:00 local time when daylight saving time starts or ends, so its
/// UTC instant moves by an hour.
///
/// Supported: `FREQ` (DAILY, WEEKLY, MONTHLY, YEARLY), `INTERVAL`, `COUNT`, `UNTIL`, `BYDAY`
/// (with ordinals such as `2TU` or `-1FR` for monthly and yearly rules), `BYMONTHDAY`, `BYMONTH`,
/// `WKST`; `EXDATE` as UTC (`…Z`), floating, `TZID=` or `VALUE=DATE` values, comma-separated.
package struct Recurrence: Sendable, Equatable {
    package enum Frequency: String, Sendable { case daily = "DAILY", weekly = "WEEKLY", monthly = "MONTHLY", yearly = "YEARLY" }

    /// A date-time value of `UNTIL` or `EXDATE`.
    package enum Moment: Sendable, Equatable {
        /// An exact instant (`…Z`, or a local time with `TZID`).
        case instant(Int)
        /// A local time in the event's zone (no `Z`, no `TZID`).
        case floating(CivilDate, Int, Int, Int)
        /// A whole day.
        case day(CivilDate)
    }

    package struct Rule: Sendable, Equatable {
        package var frequency: Frequency
        package var interval = 1
        package var count: Int?
        package var until: Moment?
        /// `(ordinal, weekday)`: ordinal 0 means every such weekday; weekday 0 = Sunday.
        package var byDay: [WeekdayNum] = []
        package var byMonthDay: [Int] = []
        package var byMonth: [Int] = []
        /// First day of the week (0 = Sunday); Monday unless `WKST` says otherwise.
        package var weekStart = 1
    }

    package struct WeekdayNum: Sendable, Equatable {
        package var ordinal: Int
        package var weekday: Int
    }

    package var rule: Rule?
    package var exdates: [Moment]
    /// The lines as given (returned unchanged in responses).
    package var lines: [String]

    package static let weekdayCodes = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]

    // MARK: - Parsing

    /// Parses and checks `recurrence`; every problem is a 400 that names the line.
    package static func parse(_ lines: [String], field: String = "recurrence") throws(NylasError) -> Recurrence {
        var rule: Rule?
        var exdates: [Moment] = []
        for (i, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let name = "\(field)[\(i)]"
            guard let colon = line.firstIndex(of: ":") else {
                throw NylasError.invalidValue(name, "'\(raw)' is not an RRULE: or EXDATE: line")
            }
            let head = line[..<colon].uppercased()
            let value = String(line[line.index(after: colon)...])
            let headParts = head.split(separator: ";").map(String.init)
            switch headParts.first {
            case "RRULE":
                guard headParts.count == 1 else { throw NylasError.invalidValue(name, "RRULE takes no parameters") }
                guard rule == nil else { throw NylasError.invalidValue(name, "only one RRULE line is allowed") }
                rule = try parseRule(value, field: name)
            case "EXDATE":
                var tzid: TimeZone?
                var dateOnly = false
                for p in headParts.dropFirst() {
                    let kv = p.split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2 else { throw NylasError.invalidValue(name, "malformed EXDATE parameter '\(p)'") }
                    switch kv[0] {
                    case "TZID":
                        // Parameter names are case-insensitive, zone names are not: read it from the original line.
                        let original = line[..<colon].split(separator: ";").first { $0.uppercased().hasPrefix("TZID=") }
                        let zoneName = original.map { String($0.dropFirst(5)) } ?? kv[1]
                        guard let z = TimeZoneName.zone(zoneName) else {
                            throw NylasError.invalidValue(name, "'\(zoneName)' is not an IANA time zone")
                        }
                        tzid = z
                    case "VALUE":
                        guard kv[1] == "DATE" || kv[1] == "DATE-TIME" else { throw NylasError.invalidValue(name, "VALUE must be DATE or DATE-TIME") }
                        dateOnly = kv[1] == "DATE"
                    default: throw NylasError.invalidValue(name, "unknown EXDATE parameter \(kv[0])")
                    }
                }
                for item in value.split(separator: ",") {
                    guard let m = moment(String(item).trimmingCharacters(in: .whitespaces), zone: tzid), !(dateOnly && !isDay(m)) else {
                        throw NylasError.invalidValue(name, "'\(item)' is not an EXDATE value (YYYYMMDD or YYYYMMDDTHHMMSS[Z])")
                    }
                    exdates.append(m)
                }
                if value.isEmpty { throw NylasError.invalidValue(name, "EXDATE without a date") }
            default:
                throw NylasError.invalidValue(name, "'\(head)' lines are not supported: use RRULE and EXDATE")
            }
        }
        return Recurrence(rule: rule, exdates: exdates, lines: lines)
    }

    private static func isDay(_ m: Moment) -> Bool {
        if case .day = m { return true }
        return false
    }

    /// `YYYYMMDD`, `YYYYMMDDTHHMMSS`, `YYYYMMDDTHHMMSSZ`.
    package static func moment(_ s: String, zone: TimeZone?) -> Moment? {
        if s.count == 8 { return CivilDate(s, compact: true).map(Moment.day) }
        let utc = s.hasSuffix("Z")
        let body = utc ? String(s.dropLast()) : s
        let parts = body.split(separator: "T", omittingEmptySubsequences: false)
        guard parts.count == 2, let date = CivilDate(String(parts[0]), compact: true), parts[1].count == 6,
              parts[1].allSatisfy(\.isNumber), let hms = Int(parts[1]) else { return nil }
        let h = hms / 10000, m = (hms / 100) % 100, sec = hms % 100
        guard h < 24, m < 60, sec < 60 else { return nil }
        if utc { return .instant(date.dayNumber * 86400 + h * 3600 + m * 60 + sec) }
        if let zone { return .instant(WallClock.instant(date, hour: h, minute: m, second: sec, in: zone)) }
        return .floating(date, h, m, sec)
    }

    private static func parseRule(_ text: String, field: String) throws(NylasError) -> Rule {
        var values: [String: String] = [:]
        for part in text.split(separator: ";", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[1].isEmpty else { throw NylasError.invalidValue(field, "malformed RRULE part '\(part)'") }
            let key = kv[0].uppercased()
            guard values[key] == nil else { throw NylasError.invalidValue(field, "RRULE part \(key) appears twice") }
            values[key] = kv[1].uppercased()
        }
        guard let freqText = values["FREQ"] else { throw NylasError.invalidValue(field, "the RRULE has no FREQ") }
        guard let frequency = Frequency(rawValue: freqText) else {
            throw NylasError.invalidValue(field, "FREQ=\(freqText) is not supported: use DAILY, WEEKLY, MONTHLY or YEARLY")
        }
        var rule = Rule(frequency: frequency)
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "FREQ": break
            case "INTERVAL":
                guard let n = Int(value), (1...1000).contains(n) else { throw NylasError.invalidValue(field, "INTERVAL must be a positive integer") }
                rule.interval = n
            case "COUNT":
                guard let n = Int(value), (1...10000).contains(n) else { throw NylasError.invalidValue(field, "COUNT must be a positive integer") }
                rule.count = n
            case "UNTIL":
                guard let m = moment(value, zone: nil) else {
                    throw NylasError.invalidValue(field, "UNTIL=\(value) is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSSZ)")
                }
                rule.until = m
            case "BYDAY":
                for token in value.split(separator: ",") {
                    let code = String(token.suffix(2))
                    guard let wd = weekdayCodes.firstIndex(of: code) else {
                        throw NylasError.invalidValue(field, "BYDAY value '\(token)' is not a weekday (MO, TU, WE, TH, FR, SA, SU)")
                    }
                    let prefix = token.dropLast(2)
                    var ordinal = 0
                    if !prefix.isEmpty {
                        guard let n = Int(prefix.hasPrefix("+") ? String(prefix.dropFirst()) : String(prefix)), n != 0, abs(n) <= 53 else {
                            throw NylasError.invalidValue(field, "BYDAY value '\(token)' has an invalid ordinal")
                        }
                        guard frequency == .monthly || frequency == .yearly else {
                            throw NylasError.invalidValue(field, "BYDAY ordinals such as '\(token)' need FREQ=MONTHLY or FREQ=YEARLY")
                        }
                        ordinal = n
                    }
                    rule.byDay.append(WeekdayNum(ordinal: ordinal, weekday: wd))
                }
            case "BYMONTHDAY":
                for token in value.split(separator: ",") {
                    guard let n = Int(token), n != 0, (-31...31).contains(n) else {
                        throw NylasError.invalidValue(field, "BYMONTHDAY value '\(token)' must be 1 to 31 or -31 to -1")
                    }
                    rule.byMonthDay.append(n)
                }
            case "BYMONTH":
                for token in value.split(separator: ",") {
                    guard let n = Int(token), (1...12).contains(n) else { throw NylasError.invalidValue(field, "BYMONTH value '\(token)' must be 1 to 12") }
                    rule.byMonth.append(n)
                }
            case "WKST":
                guard let wd = weekdayCodes.firstIndex(of: value) else { throw NylasError.invalidValue(field, "WKST=\(value) is not a weekday") }
                rule.weekStart = wd
            default:
                throw NylasError.invalidValue(field, "RRULE part \(key) is not supported (FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, WKST)")
            }
        }
        if rule.count != nil, rule.until != nil {
            throw NylasError.invalidValue(field, "an RRULE may have COUNT or UNTIL, not both")
        }
        return rule
    }

    // MARK: - Expansion

    /// One occurrence of a recurring event.
    package struct Occurrence: Sendable, Equatable {
        /// The occurrence's `when` (the master's shape and length, moved).
        package var when: EventWhen
        /// When the occurrence starts as the rule places it (an exception's `original_start_time`).
        package var originalStart: Int
        /// `YYYYMMDDTHHMMSSZ` (timed) or `YYYYMMDD` (all-day): the suffix of a Google instance ID.
        package var stamp: String
    }

    /// Occurrences of an event whose first occurrence is `first`, overlapping `[from, to)`, in order.
    /// COUNT counts every occurrence the rule makes (EXDATEs included), as RFC 5545 says.
    package func occurrences(of first: EventWhen, from: Int, to: Int, limit: Int = 5000) -> [Occurrence] {
        guard let rule else {
            return first.overlaps(from, to) ? [Recurrence.occurrence(first, first.firstDate, first.startUnix)] : []
        }
        let zone = first.zone
        let startDate = first.firstDate
        let clock = first.isAllDay ? (0, 0, 0) : {
            let l = WallClock.local(first.startUnix, in: zone)
            return (l.hour, l.minute, l.second)
        }()
        let length = first.endUnix - first.startUnix
        var out: [Occurrence] = []
        var made = 0
        func instant(_ d: CivilDate) -> Int {
            first.isAllDay ? d.dayNumber * 86400 : WallClock.instant(d, hour: clock.0, minute: clock.1, second: clock.2, in: zone)
        }
        func beyondUntil(_ d: CivilDate, _ t: Int) -> Bool {
            switch rule.until {
            case nil: return false
            case .day(let u)?: return d > u
            case .instant(let u)?: return first.isAllDay ? d > CivilDate(unix: u, in: zone) : t > u
            case .floating(let u, let h, let m, let s)?:
                return first.isAllDay ? d > u : t > WallClock.instant(u, hour: h, minute: m, second: s, in: zone)
            }
        }
        func excluded(_ d: CivilDate, _ t: Int) -> Bool {
            exdates.contains { ex in
                switch ex {
                case .day(let x): return x == d
                case .instant(let x): return first.isAllDay ? CivilDate(unix: x, in: TimeZoneName.utc) == d : x == t
                case .floating(let x, let h, let m, let s):
                    return first.isAllDay ? x == d : WallClock.instant(x, hour: h, minute: m, second: s, in: zone) == t
                }
            }
        }
        var periods = 0
        var period = 0
        outer: while periods < 200_000 {
            periods += 1
            let days = candidates(rule, startDate, period)
            period += 1
            if days.isEmpty {
                // A period with no match (the 31st of a short month): go on unless far past the window.
                if Recurrence.periodStart(rule, startDate, period).dayNumber * 86400 > to + 86400 * 2 { break }
                continue
            }
            for d in days where d >= startDate {
                let t = instant(d)
                if beyondUntil(d, t) { break outer }
                if let count = rule.count, made >= count { break outer }
                made += 1
                if t >= to { break outer }
                if excluded(d, t) { continue }
                if t + length > from || (length == 0 && t >= from) {
                    out.append(Recurrence.occurrence(first, d, t))
                    if out.count >= limit { break outer }
                }
            }
        }
        return out
    }

    private static func occurrence(_ first: EventWhen, _ d: CivilDate, _ t: Int) -> Occurrence {
        let when = first.moved(toInstant: t, date: d)
        return Occurrence(when: when, originalStart: t, stamp: first.isAllDay ? d.compact : WallClock.utcStamp(t))
    }

    /// The first day of period `n` (a day, the week per WKST, the month, the year).
    package static func periodStart(_ rule: Rule, _ start: CivilDate, _ n: Int) -> CivilDate {
        switch rule.frequency {
        case .daily: return start.adding(days: n * rule.interval)
        case .weekly:
            let back = (start.weekday - rule.weekStart + 7) % 7
            return start.adding(days: -back + 7 * n * rule.interval)
        case .monthly:
            let months = start.month - 1 + n * rule.interval
            return CivilDate(year: start.year + months / 12, month: months % 12 + 1, day: 1)
        case .yearly:
            return CivilDate(year: start.year + n * rule.interval, month: 1, day: 1)
        }
    }

    /// The days of period `n` that the rule selects, in order.
    private func candidates(_ rule: Rule, _ start: CivilDate, _ n: Int) -> [CivilDate] {
        let p = Recurrence.periodStart(rule, start, n)
        var days: [CivilDate]
        switch rule.frequency {
        case .daily:
            days = [p]
            if !rule.byDay.isEmpty { days = days.filter { d in rule.byDay.contains { $0.weekday == d.weekday } } }
            if !rule.byMonthDay.isEmpty { days = days.filter { Recurrence.matchesMonthDay($0, rule.byMonthDay) } }
        case .weekly:
            let weekdays = rule.byDay.isEmpty ? [start.weekday] : rule.byDay.map(\.weekday)
            days = (0..<7).map { p.adding(days: $0) }.filter { weekdays.contains($0.weekday) }
        case .monthly:
            days = Recurrence.monthDays(rule, year: p.year, month: p.month, defaultDay: start.day)
        case .yearly:
            if rule.byMonth.isEmpty, !rule.byDay.isEmpty, rule.byMonthDay.isEmpty {
                days = Recurrence.yearWeekdays(rule.byDay, year: p.year)
            } else {
                let months = rule.byMonth.isEmpty ? [start.month] : rule.byMonth.sorted()
                days = months.flatMap { m in
                    Recurrence.monthDays(rule, year: p.year, month: m, defaultDay: rule.byDay.isEmpty ? start.day : nil)
                }
            }
        }
        if !rule.byMonth.isEmpty { days = days.filter { rule.byMonth.contains($0.month) } }
        return Array(Set(days)).sorted()
    }

    private static func matchesMonthDay(_ d: CivilDate, _ list: [Int]) -> Bool {
        let count = CivilDate.daysInMonth(year: d.year, month: d.month)
        return list.contains { $0 > 0 ? $0 == d.day : count + $0 + 1 == d.day }
    }

    /// The days of one month that BYMONTHDAY/BYDAY select (or `defaultDay` when neither is given).
    private static func monthDays(_ rule: Rule, year: Int, month: Int, defaultDay: Int?) -> [CivilDate] {
        let count = CivilDate.daysInMonth(year: year, month: month)
        var days: [CivilDate] = []
        if !rule.byMonthDay.isEmpty {
            for n in rule.byMonthDay {
                let day = n > 0 ? n : count + n + 1
                if (1...count).contains(day) { days.append(CivilDate(year: year, month: month, day: day)) }
            }
            if !rule.byDay.isEmpty { days = days.filter { d in rule.byDay.contains { $0.weekday == d.weekday } } }
        } else if !rule.byDay.isEmpty {
            let all = (1...count).map { CivilDate(year: year, month: month, day: $0) }
            for wd in rule.byDay {
                let matching = all.filter { $0.weekday == wd.weekday }
                if wd.ordinal == 0 {
                    days += matching
                } else if wd.ordinal > 0, wd.ordinal <= matching.count {
                    days.append(matching[wd.ordinal - 1])
                } else if wd.ordinal < 0, -wd.ordinal <= matching.count {
                    days.append(matching[matching.count + wd.ordinal])
                }
            }
        } else if let defaultDay, defaultDay <= count {
            days = [CivilDate(year: year, month: month, day: defaultDay)]
        }
        return days
    }

    /// `BYDAY` of a yearly rule without `BYMONTH`: ordinals count within the year.
    private static func yearWeekdays(_ list: [WeekdayNum], year: Int) -> [CivilDate] {
        let first = CivilDate(year: year, month: 1, day: 1).dayNumber
        let last = CivilDate(year: year, month: 12, day: 31).dayNumber
        var out: [CivilDate] = []
        for wd in list {
            let matching = (first...last).map(CivilDate.init(dayNumber:)).filter { $0.weekday == wd.weekday }
            if wd.ordinal == 0 { out += matching }
            else if wd.ordinal > 0, wd.ordinal <= matching.count { out.append(matching[wd.ordinal - 1]) }
            else if wd.ordinal < 0, -wd.ordinal <= matching.count { out.append(matching[matching.count + wd.ordinal]) }
        }
        return out
    }
}
