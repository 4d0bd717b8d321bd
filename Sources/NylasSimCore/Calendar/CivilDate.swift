import Foundation

/// A calendar date without a time or a zone (`2026-03-08`), with integer day arithmetic in the
/// proleptic Gregorian calendar: all-day events and recurrence days are counted on these.
package struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    package var year: Int
    package var month: Int
    package var day: Int

    package init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Days since 1970-01-01 (H. Hinnant's `days_from_civil`).
    package var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    package init(dayNumber z0: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yoe + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d)
    }

    /// 0 = Sunday ... 6 = Saturday (the availability API's numbering).
    package var weekday: Int { ((dayNumber % 7) + 11) % 7 }

    package func adding(days: Int) -> CivilDate { CivilDate(dayNumber: dayNumber + days) }

    package static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Parses `YYYY-MM-DD` (or `YYYYMMDD` with `compact`), checking the day exists.
    package init?(_ text: String, compact: Bool = false) {
        let digits: [Int]
        if compact {
            guard text.count == 8, text.allSatisfy(\.isASCII), let _ = Int(text) else { return nil }
            let chars = Array(text)
            guard let y = Int(String(chars[0..<4])), let m = Int(String(chars[4..<6])), let d = Int(String(chars[6..<8])) else { return nil }
            digits = [y, m, d]
        } else {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
                  let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
            digits = [y, m, d]
        }
        guard (1...9999).contains(digits[0]), (1...12).contains(digits[1]),
              (1...CivilDate.daysInMonth(year: digits[0], month: digits[1])).contains(digits[2]) else { return nil }
        self.init(year: digits[0], month: digits[1], day: digits[2])
    }

    /// The date of a Unix time in `zone`.
    package init(unix: Int, in zone: TimeZone) {
        let local = unix + zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(unix)))
        self.init(dayNumber: Int((Double(local) / 86400).rounded(.down)))
    }

    package var description: String { String(format: "%04d-%02d-%02d", year, month, day) }
    package var compact: String { String(format: "%04d%02d%02d", year, month, day) }

    package static func < (a: CivilDate, b: CivilDate) -> Bool { a.dayNumber < b.dayNumber }
}

/// Wall-clock time in a zone, made DST-correct by Foundation's calendar.
package enum WallClock {
    /// The instant of `date` at `hour:minute:second` local time in `zone` (a time skipped by a
    /// spring-forward change moves to the first valid time after it, as calendar apps do).
    package static func instant(_ date: CivilDate, hour: Int, minute: Int, second: Int, in zone: TimeZone) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = DateComponents(year: date.year, month: date.month, day: date.day, hour: hour, minute: minute, second: second)
        guard let d = calendar.date(from: components) else {
            return date.dayNumber * 86400 + hour * 3600 + minute * 60 + second
        }
        return Int(d.timeIntervalSince1970.rounded())
    }

    /// The local date and time of day of `unix` in `zone`.
    package static func local(_ unix: Int, in zone: TimeZone) -> (date: CivilDate, hour: Int, minute: Int, second: Int) {
        let local = unix + zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(unix)))
        let days = Int((Double(local) / 86400).rounded(.down))
        let rest = local - days * 86400
        return (CivilDate(dayNumber: days), rest / 3600, (rest % 3600) / 60, rest % 60)
    }

    /// `YYYYMMDDTHHMMSSZ` of a Unix time (Google instance IDs, EXDATE values).
    package static func utcStamp(_ unix: Int) -> String {
        let l = local(unix, in: TimeZone(identifier: "UTC")!)
        return l.date.compact + String(format: "T%02d%02d%02dZ", l.hour, l.minute, l.second)
    }
}

/// IANA time zone names as the API accepts them.
package enum TimeZoneName {
    /// The zone of an IANA name; nil for anything else (offsets such as `GMT+5`, unknown names).
    package static func zone(_ name: String) -> TimeZone? {
        let upper = name.uppercased()
        if upper.hasPrefix("GMT+") || upper.hasPrefix("GMT-") || upper.hasPrefix("UTC+") || upper.hasPrefix("UTC-")
            || name.hasPrefix("+") || name.hasPrefix("-") || name.isEmpty || name.contains(" ") {
            return nil
        }
        return TimeZone(identifier: name)
    }

    /// Checks a request field holding a time zone name.
    package static func validated(_ name: String, field: String) throws(NylasError) -> String {
        guard zone(name) != nil else {
            throw NylasError.invalidValue(field, "'\(name)' is not an IANA time zone (for example America/New_York)")
        }
        return name
    }

    package static let utc = TimeZone(identifier: "UTC")!
}
