import Foundation
import NylasSimCore

/// `nylas-sim drift FILE --emit-fixture DIR`: the mailboxes, calendars and events a recording saw,
/// written as simulator fixtures (`<email>.mailbox.json`, `<email>.calendar.json`) that keep their
/// shape (folders, threads, recipients, attachments, recurrence, time zones) with the texts
/// scrubbed: letters and digits of bodies, subjects, titles and descriptions become `x` and `0`,
/// tags and lengths stay.
public enum DriftFixtures {
    /// Writes the fixtures; answers the files written.
    public static func emit(_ exchanges: [DriftExchange], grants: [(id: String, email: String, provider: String)], to dir: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var written: [String] = []
        for f in fixtures(exchanges, grants: grants) {
            let path = dir + "/\(f.email).\(f.kind).json"
            try Data(f.fixture.bytes).write(to: URL(fileURLWithPath: path))
            written.append(path)
        }
        return written
    }

    /// The fixtures of a recording: per grant, a `mailbox` fixture when it listed or read messages
    /// and a `calendar` fixture when it saw events.
    public static func fixtures(_ exchanges: [DriftExchange], grants: [(id: String, email: String, provider: String)])
        -> [(email: String, kind: String, fixture: JSON)] {
        var messages: [String: [String: JSON]] = [:], folders: [String: [String: JSON]] = [:]
        var calendars: [String: [String: JSON]] = [:], events: [String: [String: JSON]] = [:]
        for e in exchanges where (200..<300).contains(e.status) {
            let parts = e.path.split(separator: "/").map(String.init)
            guard parts.count >= 4, parts[0] == "v3", parts[1] == "grants" else { continue }
            let grant = parts[2]
            var objects: [JSON] = []
            if case .array(let a)? = e.responseBody["data"] { objects = a } else if let d = e.responseBody["data"], d["object"] != nil { objects = [d] }
            for o in objects {
                guard let id = o["id"]?.stringValue else { continue }
                switch o["object"]?.stringValue {
                case "message" where e.method == "GET": messages[grant, default: [:]][id] = o
                case "folder": folders[grant, default: [:]][id] = o
                case "calendar": calendars[grant, default: [:]][id] = o
                case "event" where e.method == "GET": events[grant, default: [:]][id] = o
                default: break
                }
            }
        }
        var out: [(email: String, kind: String, fixture: JSON)] = []
        for g in grants {
            if let m = messages[g.id], !m.isEmpty { out.append((g.email, "mailbox", mailbox(g, m, folders[g.id] ?? [:]))) }
            if let evs = events[g.id], !evs.isEmpty { out.append((g.email, "calendar", calendar(g, calendars[g.id] ?? [:], evs))) }
        }
        return out
    }

    /// Letters become `x`, digits `0`; tags, entities, spaces and punctuation stay.
    static func scrub(_ text: String) -> String {
        var out = ""
        var inTag = false
        for c in text {
            if c == "<" { inTag = true } else if c == ">" { inTag = false }
            if inTag { out.append(c) } else if c.isLetter { out.append("x") } else if c.isNumber { out.append("0") } else { out.append(c) }
        }
        return out
    }

    static func folderKey(_ f: JSON) -> String {
        let attributes = f["attributes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let name = f["name"]?.stringValue ?? f["id"]?.stringValue ?? "Folder"
        for (attribute, key) in [("\\Sent", "SENT"), ("\\Trash", "TRASH"), ("\\Drafts", "DRAFT"), ("\\Junk", "SPAM")] where attributes.contains(attribute) {
            return key
        }
        return name.uppercased() == "INBOX" ? "INBOX" : name
    }

    static func mailbox(_ g: (id: String, email: String, provider: String), _ messages: [String: JSON], _ folders: [String: JSON]) -> JSON {
        let system: Set<String> = ["INBOX", "SENT", "TRASH", "DRAFT", "SPAM"]
        let custom = folders.values.map(folderKey).filter { !system.contains($0) }
        let sorted = messages.values.sorted { ($0["date"]?.intValue ?? 0) < ($1["date"]?.intValue ?? 0) }
        let provider = MailboxFixture.mailProviders.contains(g.provider) ? g.provider : "google"
        return ["mailbox": .string(g.email), "provider": .string(provider),
                "folders": .array(Set(custom).sorted().map { ["key": .string($0), "name": .string($0)] }),
                "messages": .array(sorted.map { m -> JSON in
                    let keys = (m["folders"]?.arrayValue?.compactMap(\.stringValue) ?? []).compactMap { folders[$0].map(folderKey) }
                    var o: JSON = ["message_id": .string("<\(m["id"]?.stringValue ?? "m")@drift.nylas-sim.local>"),
                                   "from": m["from"]?.arrayValue?.first ?? ["email": "unknown@example.com"],
                                   "to": m["to"] ?? [], "cc": m["cc"] ?? [],
                                   "subject": .string(scrub(m["subject"]?.stringValue ?? "")),
                                   "body": .string(scrub(m["body"]?.stringValue ?? m["snippet"]?.stringValue ?? "")),
                                   "date": m["date"] ?? 0, "folders": .strings(keys.isEmpty ? ["INBOX"] : keys),
                                   "unread": m["unread"] ?? false, "starred": m["starred"] ?? false]
                    let files = (m["attachments"]?.arrayValue ?? []).map { a -> JSON in
                        ["filename": a["filename"] ?? "file", "content_type": a["content_type"] ?? "application/octet-stream",
                         "content": .string(String(repeating: "x", count: min(a["size"]?.intValue ?? 16, 1_000_000)))]
                    }
                    if !files.isEmpty { o["attachments"] = .array(files) }
                    return o
                })]
    }

    /// A series that yields the occurrences seen: every N days when they are evenly spaced by whole
    /// days, else weekly on the weekdays seen; as many as seen.
    static func rebuiltSeries(_ occurrences: [JSON]) -> JSON {
        let sorted = occurrences.sorted { ($0["when"]?["start_time"]?.intValue ?? 0) < ($1["when"]?["start_time"]?.intValue ?? 0) }
        var master = sorted[0]
        master["master_event_id"] = nil
        let starts = sorted.compactMap { $0["when"]?["start_time"]?.intValue }
        guard starts.count == sorted.count, starts.count > 1 else { return master }
        let gaps = Set(zip(starts.dropFirst(), starts).map { $0 - $1 })
        if gaps.count == 1, let gap = gaps.first, gap > 0, gap % 86400 == 0 {
            master["recurrence"] = .strings(["RRULE:FREQ=DAILY;INTERVAL=\(gap / 86400);COUNT=\(starts.count)"])
        } else {
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = master["when"]?["start_timezone"]?.stringValue.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
            let names = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]
            let days = Set(starts.map { cal.component(.weekday, from: Date(timeIntervalSince1970: TimeInterval($0))) - 1 })
            master["recurrence"] = .strings(["RRULE:FREQ=WEEKLY;BYDAY=\(days.sorted().map { names[$0] }.joined(separator: ","));COUNT=\(starts.count)"])
        }
        return master
    }

    static func calendar(_ g: (id: String, email: String, provider: String), _ calendars: [String: JSON], _ events: [String: JSON]) -> JSON {
        var keys: [String: String] = [:]
        var out: [JSON] = []
        for (id, c) in calendars.sorted(by: { $0.key < $1.key }) {
            if c["is_primary"]?.boolValue == true { keys[id] = "primary"; continue }
            let key = "calendar\(out.count + 1)"
            keys[id] = key
            var o: JSON = ["key": .string(key), "name": .string(scrub(c["name"]?.stringValue ?? key))]
            if let tz = c["timezone"]?.stringValue, !tz.isEmpty { o["timezone"] = .string(tz) }
            if c["read_only"]?.boolValue == true { o["read_only"] = true }
            out.append(o)
        }
        let provider = CalendarFixture.providers.contains(g.provider) ? g.provider : "google"
        // Occurrences of a recurring event the recording saw expanded become their series again.
        var singles: [JSON] = []
        var series: [String: [JSON]] = [:]
        for e in events.values {
            if let master = e["master_event_id"]?.stringValue, !master.isEmpty { series[master, default: []].append(e) } else { singles.append(e) }
        }
        for (master, occurrences) in series {
            if let m = events[master], m["recurrence"]?.arrayValue?.isEmpty == false { continue }  // the master itself was seen
            singles.append(rebuiltSeries(occurrences))
        }
        return ["mailbox": .string(g.email), "provider": .string(provider), "calendars": .array(out),
                "events": .array(singles.sorted { ($0["id"]?.stringValue ?? "") < ($1["id"]?.stringValue ?? "") }.map { e -> JSON in
                    var o: JSON = ["calendar": .string(keys[e["calendar_id"]?.stringValue ?? ""] ?? "primary"),
                                   "title": .string(scrub(e["title"]?.stringValue ?? "")), "when": e["when"] ?? [:]]
                    if let d = e["description"]?.stringValue { o["description"] = .string(scrub(d)) }
                    if let uid = e["ical_uid"]?.stringValue { o["ical_uid"] = .string(uid) }
                    if case .array(let r)? = e["recurrence"], !r.isEmpty { o["recurrence"] = .array(r) }
                    if case .array(let p)? = e["participants"] {
                        o["participants"] = .array(p.map { ["email": $0["email"] ?? "", "name": $0["name"] ?? "", "status": $0["status"] ?? "noreply"] })
                    }
                    if let busy = e["busy"] { o["busy"] = busy }
                    if let location = e["location"]?.stringValue { o["location"] = .string(scrub(location)) }
                    if let c = e["conferencing"], c["provider"] != nil, c["details"] != nil {
                        o["conferencing"] = ["provider": c["provider"]!, "details": c["details"]!]
                    }
                    return o
                })]
    }
}
