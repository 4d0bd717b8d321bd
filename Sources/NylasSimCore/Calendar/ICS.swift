import Foundation

/// iCalendar (RFC 5545) text of an event, as `POST /events/to-ics` (v2) returns it.
package enum ICS {
    /// The UID of the first VEVENT of an iCalendar text (unfolded), if any.
    package static func uid(_ text: String) -> String? {
        let unfolded = text.replacingOccurrences(of: "\r\n ", with: "").replacingOccurrences(of: "\n ", with: "")
        for line in unfolded.split(whereSeparator: \.isNewline) where line.uppercased().hasPrefix("UID") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !value.isEmpty { return value }
        }
        return nil
    }

    /// The VCALENDAR of one event given as its stored API object (title, description, location,
    /// `when`, participants, organizer, recurrence, `ical_uid`, status).
    package static func render(_ event: JSON, uid: String?, method: String, prodid: String, stamp: Int) -> String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:" + prodid, "CALSCALE:GREGORIAN", "METHOD:" + method,
                     "BEGIN:VEVENT"]
        lines.append("UID:" + (uid ?? event["ical_uid"]?.stringValue ?? UUID().uuidString))
        lines.append("DTSTAMP:" + utc(stamp))
        switch EventWhen(stored: event["when"]) {
        case .time(let t, _)?:
            lines += ["DTSTART:" + utc(t), "DTEND:" + utc(t)]
        case .timespan(let start, let end, _, _)?:
            lines += ["DTSTART:" + utc(start), "DTEND:" + utc(end)]
        case .date(let d)?:
            lines += ["DTSTART;VALUE=DATE:" + compact(d), "DTEND;VALUE=DATE:" + compact(d.adding(days: 1))]
        case .datespan(let s, let e)?:
            lines += ["DTSTART;VALUE=DATE:" + compact(s), "DTEND;VALUE=DATE:" + compact(e.adding(days: 1))]
        case nil:
            break
        }
        for rule in event["recurrence"]?.arrayValue?.compactMap(\.stringValue) ?? [] { lines.append(rule) }
        if let title = event["title"]?.stringValue { lines.append("SUMMARY:" + escape(title)) }
        if let d = event["description"]?.stringValue { lines.append("DESCRIPTION:" + escape(d)) }
        if let l = event["location"]?.stringValue { lines.append("LOCATION:" + escape(l)) }
        if let email = event["organizer"]?["email"]?.stringValue {
            let name = event["organizer"]?["name"]?.stringValue.map { ";CN=" + quoted($0) } ?? ""
            lines.append("ORGANIZER\(name):mailto:\(email)")
        }
        for p in event["participants"]?.arrayValue ?? [] {
            guard let email = p["email"]?.stringValue else { continue }
            let partstat = ["yes": "ACCEPTED", "no": "DECLINED", "maybe": "TENTATIVE"][p["status"]?.stringValue ?? ""] ?? "NEEDS-ACTION"
            let name = p["name"]?.stringValue.flatMap { $0.isEmpty ? nil : ";CN=" + quoted($0) } ?? ""
            lines.append("ATTENDEE\(name);ROLE=REQ-PARTICIPANT;PARTSTAT=\(partstat);RSVP=TRUE:mailto:\(email)")
        }
        lines.append("STATUS:" + (event["status"]?.stringValue == "cancelled" ? "CANCELLED" : "CONFIRMED"))
        lines += ["SEQUENCE:0", "END:VEVENT", "END:VCALENDAR"]
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    /// `YYYYMMDDTHHMMSSZ`.
    package static func utc(_ unix: Int) -> String {
        let day = Int((Double(unix) / 86_400).rounded(.down))
        let secs = unix - day * 86_400
        return compact(CivilDate(dayNumber: day)) + "T" + two(secs / 3600) + two(secs / 60 % 60) + two(secs % 60) + "Z"
    }

    package static func compact(_ d: CivilDate) -> String {
        String(format: "%04d", d.year) + two(d.month) + two(d.day)
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// TEXT escaping of RFC 5545 §3.3.11.
    package static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ";", with: "\\;")
            .replacingOccurrences(of: ",", with: "\\,").replacingOccurrences(of: "\r\n", with: "\\n")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "'") + "\"" }

    /// Lines longer than 75 octets are folded (RFC 5545 §3.1), never inside a UTF-8 sequence.
    package static func fold(_ line: String) -> String {
        var out: [String] = [], current = "", size = 0
        for ch in line {
            let n = String(ch).utf8.count
            if size + n > (out.isEmpty ? 75 : 74) {
                out.append(current)
                current = ""
                size = 0
            }
            current.append(ch)
            size += n
        }
        out.append(current)
        return out.joined(separator: "\r\n ")
    }
}
