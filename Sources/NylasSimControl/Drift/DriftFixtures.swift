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
        return ["mailbox": .string(g.email), "provider": .string(provider), "calendars": .array(out),
                "events": .array(events.values.sorted { ($0["id"]?.stringValue ?? "") < ($1["id"]?.stringValue ?? "") }.map { e -> JSON in
                    var o: JSON = ["calendar": .string(keys[e["calendar_id"]?.stringValue ?? ""] ?? "primary"),
                                   "title": .string(scrub(e["title"]?.stringValue ?? "")), "when": e["when"] ?? [:]]
                    if let d = e["description"]?.stringValue { o["description"] = .string(scrub(d)) }
                    if let uid = e["ical_uid"]?.stringValue { o["ical_uid"] = .string(uid) }
                    if case .array(let r)? = e["recurrence"], !r.isEmpty { o["recurrence"] = .array(r) }
                    if case .array(let p)? = e["participants"] {
                        o["participants"] = .array(p.map { ["email": $0["email"] ?? "", "name": $0["name"] ?? "", "status": $0["status"] ?? "noreply"] })
                    }
                    if let busy = e["busy"] { o["busy"] = busy }
                    return o
                })]
    }
}
