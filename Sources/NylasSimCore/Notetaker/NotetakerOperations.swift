import Foundation

/// Notetaker bots (the official description's `Notetaker` tag): invited to a meeting link, grant-
/// scoped or standalone, they go through their meeting on the virtual clock — scheduled,
/// connecting, waiting for entry, attending, then media processing and media available — each
/// step a job, each change a `notetaker.*` notification and a history entry.
///
/// Two vocabularies, as Nylas has them: API objects say `media_processing`, `media_available`
/// (what the SDKs decode); notifications and history say `processing`, `available`,
/// `disconnected`, with a `meeting_state` reason.
package enum NotetakerOperations {
    package static let apiStates: Set<String> = [
        "scheduled", "connecting", "waiting_for_entry", "failed_entry", "attending", "media_processing", "media_available",
        "media_error", "media_deleted",
    ]

    /// The meeting provider of a link, or nil when Notetaker cannot join it.
    package static func provider(_ link: String) -> String? {
        guard let url = URL(string: link), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
              let host = url.host?.lowercased() else { return nil }
        if host == "meet.google.com" { return "Google Meet" }
        if host == "zoom.us" || host.hasSuffix(".zoom.us") || host == "zoomgov.com" || host.hasSuffix(".zoomgov.com") { return "Zoom Meeting" }
        if host == "teams.microsoft.com" || host == "teams.live.com" { return "Microsoft Teams" }
        return nil
    }

    /// `meeting_settings` with its defaults: each flag true unless its prerequisite is off (audio
    /// for a transcript, a transcript for a summary and action items); an explicit true whose
    /// prerequisite is off is refused.
    package static func settings(_ input: JSON?, existing: JSON? = nil) throws(NylasError) -> JSON {
        var o = existing?.objectValue ?? [:]
        if let input {
            try NotetakerSettings.meetingSettings(input, field: "meeting_settings")
            for (k, v) in input.objectValue ?? [:] { o[k] = v }
        }
        let given = input?.objectValue ?? [:]
        func flag(_ key: String, requires: String?) throws(NylasError) {
            let prerequisite = requires.map { o[$0]?.boolValue ?? true } ?? true
            if let v = o[key]?.boolValue {
                if v, !prerequisite, given[key] != nil {
                    throw NylasError.invalidValue("meeting_settings.\(key)", "needs \(requires!) to be true")
                }
                o[key] = .bool(v && prerequisite)
            } else {
                o[key] = .bool(prerequisite)
            }
        }
        try flag("video_recording", requires: nil)
        try flag("audio_recording", requires: nil)
        try flag("transcription", requires: "audio_recording")
        try flag("summary", requires: "transcription")
        try flag("action_items", requires: "transcription")
        let silence = o["leave_after_silence_seconds"]?.intValue ?? 300
        guard (10...3600).contains(silence) else {
            throw NylasError.invalidValue("meeting_settings.leave_after_silence_seconds", "expected 10 to 3600 seconds")
        }
        o["leave_after_silence_seconds"] = .int(silence)
        if var t = o["transcription_settings"]?.objectValue {
            t["fallback_language"] = nil  // accepted, not returned
            o["transcription_settings"] = .object(t)
        }
        return .object(o)
    }

    // MARK: Objects

    /// The API object (SDK vocabulary).
    package static func json(_ n: NotetakerRecord) -> JSON {
        var o = n.data.objectValue ?? [:]
        for key in o.keys where key.hasPrefix("_") { o[key] = nil }
        if var event = o["event"]?.objectValue { event["title"] = nil; o["event"] = .object(event) }
        o["state"] = .string(n.state)
        o["status"] = .string(n.state)
        return .object(o)
    }

    /// The notification / history snapshot (notification vocabulary).
    static func snapshot(_ n: NotetakerRecord, state: String, meetingState: String? = nil, media: JSON? = nil) -> JSON {
        var o = json(n).objectValue ?? [:]
        o["created_at"] = nil
        o["state"] = .string(state)
        o["status"] = .string(state)
        if let meetingState { o["meeting_state"] = .string(meetingState) }
        if let media { o["media"] = media }
        return .object(o)
    }

    /// Records a change: the row, a history entry and the notification.
    static func record(_ s: EngineState, region: Region, _ n: NotetakerRecord, _ type: String, state: String,
                       meetingState: String? = nil, media: JSON? = nil) throws {
        var n = n
        n.updatedAt = s.now.seconds
        try s.store(region).save(n)
        let object = snapshot(n, state: state, meetingState: meetingState, media: media)
        try s.store(region).appendNotetakerHistory(notetakerID: n.id, time: s.now.seconds, eventType: type, data: object)
        s.emit(SimEvent(region: region, applicationID: n.applicationID, grantID: n.grantID, type: type, object: object,
                        source: "/nylas/notetaker", time: s.now))
    }

    /// A bot of the application in this scope (a grant's, or standalone when `grantID` is nil), or 404.
    package static func bot(_ store: RegionStore, applicationID: String, grantID: String?, id: String) throws -> NotetakerRecord {
        guard let n = try store.notetaker(id: id), n.applicationID == applicationID, n.grantID == grantID else {
            throw NylasError.notFound("Notetaker \(id) not found")
        }
        return n
    }

    static func wrongState() -> NylasError {
        NylasError(status: 409, type: "conflict", message: "This request isn't supported for the Notetaker's current state.")
    }

    // MARK: Invite, update, cancel, leave, delete

    /// Invites a bot; `event` (`{event_id, ical_uid, title}`) when a calendar's rules did.
    package static func invite(_ s: EngineState, region: Region, applicationID: String, grantID: String?, _ body: BodyFields,
                               event: JSON? = nil) throws -> NotetakerRecord {
        guard let link = try body.string("meeting_link"), !link.isEmpty else { throw NylasError.missingField("meeting_link") }
        guard let provider = provider(link) else {
            throw NylasError.invalidValue("meeting_link", "Notetaker joins Google Meet, Zoom and Microsoft Teams meetings only")
        }
        let now = s.now.seconds
        let join = try body.int("join_time") ?? now
        guard join >= now else { throw NylasError.invalidValue("join_time", "must not be in the past") }
        let name = try body.string("name") ?? "Nylas Notetaker"
        let settings = try settings(body.raw("meeting_settings"))
        let store = s.store(region)
        let id = store.ids.hex("notetaker", length: 32)
        var data: JSON = ["id": .string(id), "name": .string(name), "join_time": .int(join), "meeting_link": .string(link),
                          "meeting_provider": .string(provider), "meeting_settings": settings, "object": "notetaker",
                          "created_at": .int(now), "_step": 0]
        if let grantID { data["grant_id"] = .string(grantID) }
        if let event { data["event"] = event }
        let n = NotetakerRecord(id: id, applicationID: applicationID, grantID: grantID, state: "scheduled", joinTime: join, name: name,
                                data: data, createdAt: now, updatedAt: now)
        try record(s, region: region, n, "notetaker.created", state: "scheduled")
        plan(s, region: region, n, "connecting", at: join)
        return n
    }

    package static func update(_ s: EngineState, region: Region, _ existing: NotetakerRecord, _ body: BodyFields) throws -> NotetakerRecord {
        guard existing.state == "scheduled" else { throw wrongState() }
        var n = existing
        if let join = try body.int("join_time") {
            guard join >= s.now.seconds else { throw NylasError.invalidValue("join_time", "must not be in the past") }
            n.joinTime = join
            n.data["join_time"] = .int(join)
        }
        if let name = try body.string("name") { n.name = name; n.data["name"] = .string(name) }
        if let m = body.raw("meeting_settings") { n.data["meeting_settings"] = try settings(m, existing: n.data["meeting_settings"]) }
        n.data["_step"] = .int((n.data["_step"]?.intValue ?? 0) + 1)
        try record(s, region: region, n, "notetaker.updated", state: "scheduled")
        plan(s, region: region, n, "connecting", at: n.joinTime)
        return n
    }

    package static func cancel(_ s: EngineState, region: Region, _ n: NotetakerRecord) throws {
        guard ["scheduled", "connecting", "waiting_for_entry"].contains(n.state) else { throw wrongState() }
        try move(s, region: region, n, to: "failed_entry", meetingState: "cancelled")
    }

    /// Leaving: 200 and `true` from `attending`, 202 and `false` when it already left.
    package static func leave(_ s: EngineState, region: Region, _ n: NotetakerRecord) throws -> Bool {
        if n.state == "media_processing" { return false }
        guard n.state == "attending" else { throw wrongState() }
        try move(s, region: region, n, to: "disconnected", meetingState: "api_request")
        return true
    }

    package static func delete(_ s: EngineState, region: Region, _ n: NotetakerRecord) throws {
        var object: JSON = ["id": .string(n.id), "object": "notetaker"]
        if let g = n.grantID { object["grant_id"] = .string(g) }
        try s.store(region).deleteNotetaker(id: n.id)
        s.emit(SimEvent(region: region, applicationID: n.applicationID, grantID: n.grantID, type: "notetaker.deleted", object: object,
                        source: "/nylas/notetaker", time: s.now))
    }

    // MARK: The meeting, step by step

    /// Moves a bot to `target` (a natural step, or the control API's scripted one): `connecting`,
    /// `waiting_for_entry`, `attending`, `failed_entry`, `disconnected` (it leaves; media
    /// processing starts), `media_available`, `media_error`, `media_deleted`.
    package static func move(_ s: EngineState, region: Region, _ existing: NotetakerRecord, to target: String, meetingState: String? = nil) throws {
        var n = existing
        n.data["_step"] = .int((n.data["_step"]?.intValue ?? 0) + 1)
        let timing = s.settings.notetaker
        let now = s.now.seconds
        switch target {
        case "connecting":
            n.state = "connecting"
            try record(s, region: region, n, "notetaker.meeting_state", state: "connecting", meetingState: meetingState ?? "dispatched")
            plan(s, region: region, n, "waiting_for_entry", at: now + Int(timing.connecting.components.seconds))
        case "waiting_for_entry":
            n.state = "waiting_for_entry"
            try record(s, region: region, n, "notetaker.meeting_state", state: "connecting", meetingState: meetingState ?? "waiting_for_entry")
            plan(s, region: region, n, "attending", at: now + Int(timing.admission.components.seconds))
        case "attending":
            n.state = "attending"
            n.data["_attended_at"] = .int(now)
            try record(s, region: region, n, "notetaker.meeting_state", state: "attending", meetingState: meetingState ?? "recording_active")
        case "failed_entry":
            n.state = "failed_entry"
            try record(s, region: region, n, "notetaker.meeting_state", state: "failed_entry", meetingState: meetingState ?? "entry_denied")
        case "disconnected":
            n.state = "media_processing"
            n.data["_left_at"] = .int(now)
            try record(s, region: region, n, "notetaker.meeting_state", state: "disconnected", meetingState: meetingState ?? "meeting_ended")
            try record(s, region: region, n, "notetaker.media", state: "processing")
            plan(s, region: region, n, "media_available", at: now + Int(timing.mediaProcessing.components.seconds))
        case "media_available":
            n.state = "media_available"
            n.data["_media_at"] = .int(now)
            try record(s, region: region, n, "notetaker.media", state: "available", media: mediaURLs(s, region: region, n))
            plan(s, region: region, n, "media_deleted", at: now + Int(timing.mediaRetention.components.seconds))
        case "media_error", "media_deleted":
            n.state = target
            try record(s, region: region, n, "notetaker.media", state: target)
        default:
            throw NylasError.invalidValue("state", "expected connecting, waiting_for_entry, attending, failed_entry, disconnected, media_available, media_error or media_deleted")
        }
    }

    /// Moves a bot by hand (the control API, the Swift API): 404 for an unknown bot, 409 for a move
    /// its state does not allow; returns the bot as the API shows it.
    package static func moveByHand(_ s: EngineState, region: Region, id: String, to target: String, meetingState: String?) throws -> JSON {
        guard let n = try s.store(region).notetaker(id: id) else { throw NylasError.notFound("Notetaker \(id) not found") }
        guard canMove(from: n.state, to: target) else {
            throw NylasError(status: 409, type: "conflict", message: "A bot in \(n.state) cannot go to \(target)")
        }
        try move(s, region: region, n, to: target, meetingState: meetingState)
        return json(try s.store(region).notetaker(id: id)!)
    }

    /// The states a bot may be moved to from `state` by hand (the control API): the meeting's
    /// order, or a failure where one can happen.
    package static func canMove(from state: String, to target: String) -> Bool {
        switch target {
        case "connecting": return state == "scheduled"
        case "waiting_for_entry": return state == "connecting"
        case "attending": return ["connecting", "waiting_for_entry"].contains(state)
        case "failed_entry": return ["scheduled", "connecting", "waiting_for_entry"].contains(state)
        case "disconnected": return state == "attending"
        case "media_available", "media_error": return state == "media_processing"
        case "media_deleted": return state == "media_available"
        default: return false
        }
    }

    /// Schedules the bot's next natural step; a job whose bot moved on since does nothing.
    static func plan(_ s: EngineState, region: Region, _ n: NotetakerRecord, _ target: String, at time: Int) {
        let (id, step) = (n.id, n.data["_step"]?.intValue ?? 0)
        s.schedule(at: VirtualTime(seconds: max(time, s.now.seconds)), "notetaker \(id) \(target)") { core in
            try? core.transaction { s in
                guard let n = try s.store(region).notetaker(id: id), n.data["_step"]?.intValue == step,
                      canMove(from: n.state, to: target) else { return }
                // Scripted failures (fault rules with `notetaker`) apply to the natural steps.
                if target == "attending", let rule = s.faults.evaluateNotetaker(region: region, grantID: n.grantID, kinds: ["entry_denied", "meeting_ended"], now: s.now) {
                    if rule.notetaker == "entry_denied" { return try move(s, region: region, n, to: "failed_entry", meetingState: "entry_denied") }
                    try move(s, region: region, n, to: "attending")
                    guard var admitted = try s.store(region).notetaker(id: id) else { return }
                    let end = s.now.seconds + Int((rule.after ?? .zero).components.seconds)
                    if end <= s.now.seconds { return try move(s, region: region, admitted, to: "disconnected", meetingState: "meeting_ended") }
                    admitted.data["_ends_at"] = .int(end)  // kept, so that a restarted server still ends it
                    try s.store(region).save(admitted)
                    planEnd(s, region: region, admitted, at: end)
                    return
                }
                if target == "media_available", s.faults.evaluateNotetaker(region: region, grantID: n.grantID, kinds: ["media_error"], now: s.now) != nil {
                    return try move(s, region: region, n, to: "media_error")
                }
                try move(s, region: region, n, to: target)
            }
        }
    }

    /// A meeting that ends (a `meeting_ended` fault rule) while the bot is still in it.
    static func planEnd(_ s: EngineState, region: Region, _ n: NotetakerRecord, at time: Int) {
        let (id, step) = (n.id, n.data["_step"]?.intValue ?? 0)
        s.schedule(at: VirtualTime(seconds: time), "notetaker \(id) meeting ends") { core in
            try? core.transaction { s in
                guard let n = try s.store(region).notetaker(id: id), n.data["_step"]?.intValue == step, n.state == "attending" else { return }
                try move(s, region: region, n, to: "disconnected", meetingState: "meeting_ended")
            }
        }
    }

    /// Re-plans every bot's next step (a `--data-dir` server restarted).
    package static func restore(_ s: EngineState) throws {
        let timing = s.settings.notetaker
        for region in Region.allCases {
            for n in try s.store(region).allNotetakers() {
                let step = { (key: String, d: Duration) in (n.data[key]?.intValue ?? n.updatedAt) + Int(d.components.seconds) }
                switch n.state {
                case "scheduled": plan(s, region: region, n, "connecting", at: n.joinTime)
                case "connecting": plan(s, region: region, n, "waiting_for_entry", at: n.updatedAt + Int(timing.connecting.components.seconds))
                case "waiting_for_entry": plan(s, region: region, n, "attending", at: n.updatedAt + Int(timing.admission.components.seconds))
                case "attending": if let end = n.data["_ends_at"]?.intValue { planEnd(s, region: region, n, at: max(end, s.now.seconds)) }
                case "media_processing": plan(s, region: region, n, "media_available", at: step("_left_at", timing.mediaProcessing))
                case "media_available": plan(s, region: region, n, "media_deleted", at: step("_media_at", timing.mediaRetention))
                default: break
                }
            }
        }
    }

    // MARK: Media

    private static func base(_ s: EngineState, region: Region) -> String { s.baseURLs[region] ?? "http://127.0.0.1" }

    /// The `media` of the `available` notification: a link per file (valid as long as a fresh one).
    static func mediaURLs(_ s: EngineState, region: Region, _ n: NotetakerRecord) -> JSON {
        let expires = s.now.seconds + Int(s.settings.notetaker.mediaLinkLifetime.components.seconds)
        var o: [String: JSON] = [:]
        let files = NotetakerMedia.files(n.data["meeting_settings"] ?? [:])
        for f in files {
            o[f.kind] = .string(NotetakerMedia.link(base: base(s, region: region), id: n.id, kind: f.kind, name: f.name, expires: expires))
        }
        o["recording_duration"] = .string(String(duration(n)))
        if let rec = files.first(where: { $0.kind == "recording" }) { o["recording_file_format"] = .string(rec.type == "video/mp4" ? "mp4" : "mp3") }
        return .object(o)
    }

    static func duration(_ n: NotetakerRecord) -> Int {
        max(0, (n.data["_left_at"]?.intValue ?? 0) - (n.data["_attended_at"]?.intValue ?? n.data["_left_at"]?.intValue ?? 0))
    }

    /// `GET …/media`: fresh links to each file (404 until the media is available).
    package static func media(_ s: EngineState, region: Region, _ n: NotetakerRecord) throws -> JSON {
        guard n.state == "media_available" else { throw NylasError.notFound("The Notetaker's media is not available") }
        let now = s.now.seconds
        let expires = now + Int(s.settings.notetaker.mediaLinkLifetime.components.seconds)
        let created = n.data["_media_at"]?.intValue ?? now
        let title = n.data["event"]?["title"]?.stringValue ?? n.name
        var o: [String: JSON] = [:]
        for f in NotetakerMedia.files(n.data["meeting_settings"] ?? [:]) {
            let bytes = NotetakerMedia.content(kind: f.kind, type: f.type, name: n.name, title: title, seconds: duration(n))
            var file: JSON = ["url": .string(NotetakerMedia.link(base: base(s, region: region), id: n.id, kind: f.kind, name: f.name, expires: expires)),
                              "name": .string(f.name), "type": .string(f.type), "size": .int(bytes.count), "created_at": .int(created),
                              "expires_at": .int(expires), "ttl": .int(expires - now)]
            if f.kind == "recording" { file["duration"] = .int(duration(n)) }
            o[f.kind] = file
        }
        return .object(o)
    }

    /// One file of a link: nil when the link is not one (404); `.expired` past its time (403).
    package enum Download { case file(type: String, bytes: [UInt8]), expired, notFound }

    package static func download(_ s: EngineState, region: Region, id: String, kind: String, expires: Int, signature: String) throws -> Download {
        guard NotetakerMedia.verify(id: id, kind: kind, expires: expires, signature: signature) else { return .notFound }
        guard expires > s.now.seconds else { return .expired }
        guard let n = try s.store(region).notetaker(id: id), n.state == "media_available",
              let f = NotetakerMedia.files(n.data["meeting_settings"] ?? [:]).first(where: { $0.kind == kind }) else { return .notFound }
        let title = n.data["event"]?["title"]?.stringValue ?? n.name
        return .file(type: f.type, bytes: NotetakerMedia.content(kind: f.kind, type: f.type, name: n.name, title: title, seconds: duration(n)))
    }

    // MARK: Lists

    package static func list(_ store: RegionStore, applicationID: String, grantID: String?, state: String?, joinStart: Int?, joinEnd: Int?,
                             orderBy: String, descending: Bool) throws -> [NotetakerRecord] {
        var all = try store.notetakers(applicationID: applicationID, grantID: grantID)
        if let state { all = all.filter { $0.state == state } }
        if let joinStart { all = all.filter { $0.joinTime >= joinStart } }
        if let joinEnd { all = all.filter { $0.joinTime <= joinEnd } }
        let indexed = Array(all.enumerated())
        let sorted = indexed.sorted { a, b in
            let (x, y) = (a.element, b.element)
            switch orderBy {
            case "name": if x.name != y.name { return descending ? x.name > y.name : x.name < y.name }
            case "join_time": if x.joinTime != y.joinTime { return descending ? x.joinTime > y.joinTime : x.joinTime < y.joinTime }
            default: if x.createdAt != y.createdAt { return descending ? x.createdAt > y.createdAt : x.createdAt < y.createdAt }
            }
            return descending ? a.offset > b.offset : a.offset < b.offset
        }
        return sorted.map(\.element)
    }
}
