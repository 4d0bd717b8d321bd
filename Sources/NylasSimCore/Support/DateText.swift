import Foundation

/// Fixed-format UTC date texts written with integer arithmetic, without `DateFormatter` or
/// `ISO8601DateFormatter`: creating and configuring one costs tens of microseconds (ICU), and
/// these run on hot paths (every message's `Date` header, every clock description). The output
/// is byte for byte what the formatters wrote; instants outside 1601–9999 (where ICU's calendar
/// turns Julian or years grow a digit) still go through the formatters.
package enum DateText {
    private static let days: [StaticString] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let months: [StaticString] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    /// 1601-01-01T00:00:00Z and 10000-01-01T00:00:00Z in Unix seconds.
    private static let fastRange: Range<Int64> = -11_644_473_600 ..< 253_402_300_800

    /// Civil date of a day number (days since 1970-01-01), proleptic Gregorian.
    private static func civil(_ dayNumber: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    private static func append(_ out: inout [UInt8], _ value: Int64, width: Int) {
        var div: Int64 = 1
        for _ in 1 ..< width { div *= 10 }
        while div > 0 { out.append(UInt8(ascii: "0") + UInt8(value / div % 10)); div /= 10 }
    }

    private static func append(_ out: inout [UInt8], _ s: StaticString) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// `Wed, 25 Jan 2023 10:18:39 +0000` (RFC 5322, UTC; `EEE, dd MMM yyyy HH:mm:ss Z` in en_US_POSIX).
    package static func rfc5322(unixSeconds unix: Int) -> String {
        let t = Int64(unix)
        guard fastRange.contains(t) else { return formatterRFC5322(unix) }
        let (dayNumber, secs) = floorDiv(t, 86_400)
        let (y, m, d) = civil(dayNumber)
        var out: [UInt8] = []
        out.reserveCapacity(31)
        append(&out, days[Int(floorDiv(dayNumber, 7).1)])
        out.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " ")])
        append(&out, Int64(d), width: 2)
        out.append(UInt8(ascii: " "))
        append(&out, months[m - 1])
        out.append(UInt8(ascii: " "))
        append(&out, y, width: 4)
        out.append(UInt8(ascii: " "))
        append(&out, secs / 3600, width: 2)
        out.append(UInt8(ascii: ":"))
        append(&out, secs / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":"))
        append(&out, secs % 60, width: 2)
        append(&out, " +0000")
        return String(decoding: out, as: UTF8.self)
    }

    /// `2023-01-25T10:18:39.123Z` (ISO 8601 with milliseconds, UTC).
    package static func iso8601(milliseconds ms: Int64) -> String {
        let (seconds, millis) = floorDiv(ms, 1000)
        guard fastRange.contains(seconds) else { return formatterISO8601(ms) }
        let (dayNumber, secs) = floorDiv(seconds, 86_400)
        let (y, m, d) = civil(dayNumber)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        append(&out, y, width: 4)
        out.append(UInt8(ascii: "-"))
        append(&out, Int64(m), width: 2)
        out.append(UInt8(ascii: "-"))
        append(&out, Int64(d), width: 2)
        out.append(UInt8(ascii: "T"))
        append(&out, secs / 3600, width: 2)
        out.append(UInt8(ascii: ":"))
        append(&out, secs / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":"))
        append(&out, secs % 60, width: 2)
        out.append(UInt8(ascii: "."))
        append(&out, millis, width: 3)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The formatter this replaces, for the instants outside the fast range (and for tests).
    package static func formatterRFC5322(_ unix: Int) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(unix)))
    }

    /// The formatter this replaces, for the instants outside the fast range (and for tests).
    package static func formatterISO8601(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
