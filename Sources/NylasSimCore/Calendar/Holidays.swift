import Foundation

/// The United States holidays of Google's "Holidays in United States" calendar: each one its own
/// all-day event per year, floating ones (Thanksgiving, Memorial Day…) on their day of that year,
/// as Google's calendar lists them (not one yearly rule).
package enum USHolidays {
    package struct Holiday: Sendable, Equatable {
        package let name: String
        package let date: CivilDate
    }

    /// The holidays of `year`, in date order.
    package static func of(year: Int) -> [Holiday] {
        func fixed(_ month: Int, _ day: Int) -> CivilDate { CivilDate(year: year, month: month, day: day) }
        /// The `n`th `weekday` (0 Sunday … 6 Saturday) of the month; n = -1 is the last.
        func nth(_ n: Int, _ weekday: Int, _ month: Int) -> CivilDate {
            if n > 0 {
                let first = CivilDate(year: year, month: month, day: 1)
                return first.adding(days: (weekday - first.weekday + 7) % 7 + (n - 1) * 7)
            }
            let last = CivilDate(year: year, month: month, day: CivilDate.daysInMonth(year: year, month: month))
            return last.adding(days: -((last.weekday - weekday + 7) % 7))
        }
        return [
            Holiday(name: "New Year's Day", date: fixed(1, 1)),
            Holiday(name: "Martin Luther King Jr. Day", date: nth(3, 1, 1)),
            Holiday(name: "Presidents' Day", date: nth(3, 1, 2)),
            Holiday(name: "Memorial Day", date: nth(-1, 1, 5)),
            Holiday(name: "Juneteenth", date: fixed(6, 19)),
            Holiday(name: "Independence Day", date: fixed(7, 4)),
            Holiday(name: "Labor Day", date: nth(1, 1, 9)),
            Holiday(name: "Columbus Day", date: nth(2, 1, 10)),
            Holiday(name: "Veterans Day", date: fixed(11, 11)),
            Holiday(name: "Thanksgiving Day", date: nth(4, 4, 11)),
            Holiday(name: "Christmas Day", date: fixed(12, 25)),
        ]
    }

    /// Google's iCalendar UID for a holiday: its date and a stable tag of its name.
    package static func uid(_ h: Holiday) -> String {
        "\(h.date.compact)_\(h.name.lowercased().filter(\.isLetter))@google.com"
    }
}
