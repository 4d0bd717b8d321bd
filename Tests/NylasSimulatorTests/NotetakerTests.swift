import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
import NylasSimulatorTesting

/// Notetaker over real sockets: the meeting step by step on the virtual clock, media links that
/// download and expire, scripted failures, scoping, and the bot's next step after a restart.
@Suite("Notetaker: bots on the virtual clock, media, history, scripted failures")
struct NotetakerTests {
    static let meet = "https://meet.google.com/abc-defg-hij"

    static func state(_ h: SimHarness, _ path: String) async throws -> String? {
        try await h.call("GET", path, token: h.apiKey).data?["state"]?.stringValue
    }

    @Test("A bot's meeting: scheduled, connecting, waiting for entry, attending, leaving, media; each step at its time")
    func lifecycle() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "notes@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)/notetakers"
            let join = h.sim.now.seconds + 600
            let invited = try await h.call("POST", base, token: h.apiKey, json: ["meeting_link": .string(Self.meet), "join_time": .int(join), "name": "Scribe"])
            #expect(invited.status == 201, "\(invited.text)")
            #expect(invited.data?["state"]?.stringValue == "scheduled")
            #expect(invited.data?["meeting_provider"]?.stringValue == "Google Meet")
            #expect(invited.data?["meeting_settings"]?["transcription"]?.boolValue == true)
            let id = try #require(invited.data?["id"]?.stringValue)
            let path = "\(base)/\(id)"
            try await h.advance("599s")
            #expect(try await Self.state(h, path) == "scheduled")
            try await h.advance("1s")
            #expect(try await Self.state(h, path) == "connecting")
            try await h.advance("30s")
            #expect(try await Self.state(h, path) == "waiting_for_entry")
            #expect(try await h.call("PATCH", path, token: h.apiKey, json: ["name": "Too late"]).status == 409)
            try await h.advance("30s")
            #expect(try await Self.state(h, path) == "attending")
            #expect(try await h.call("DELETE", "\(path)/cancel", token: h.apiKey).status == 409)
            #expect(try await h.call("GET", "\(path)/media", token: h.apiKey).status == 404)
            try await h.advance("1h")
            #expect(try await Self.state(h, path) == "attending")  // it records until it leaves
            let left = try await h.call("POST", "\(path)/leave", token: h.apiKey)
            #expect(left.status == 200 && left.data?["id"]?.stringValue == id, "\(left.text)")
            #expect(try await h.call("POST", "\(path)/leave", token: h.apiKey).status == 202)
            #expect(try await Self.state(h, path) == "media_processing")
            try await h.advance("5m")
            #expect(try await Self.state(h, path) == "media_available")

            let media = try await h.call("GET", "\(path)/media", token: h.apiKey)
            #expect(media.status == 200, "\(media.text)")
            let recording = try #require(media.data?["recording"])
            #expect(recording["type"]?.stringValue == "video/mp4")
            #expect(recording["duration"]?.intValue == 3600)
            #expect(recording["ttl"]?.intValue == 3600)
            let url = try #require(recording["url"]?.stringValue)
            let file = try await h.client.send("GET", url)
            #expect(file.status == 200)
            #expect(file.headers["content-type"] == "video/mp4")
            #expect(file.body.count == recording["size"]?.intValue)
            #expect(Array(file.body[4..<8]) == Array("ftyp".utf8))
            let thumbnail = try await h.client.send("GET", try #require(media.data?["thumbnail"]?["url"]?.stringValue))
            #expect(Array(thumbnail.body.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            let transcript = try await h.client.send("GET", try #require(media.data?["transcript"]?["url"]?.stringValue))
            #expect(transcript.json?["transcript"]?.arrayValue?.isEmpty == false)
            // A tampered link is no link; an expired one is refused.
            #expect(try await h.client.send("GET", url.replacingOccurrences(of: "signature=", with: "signature=x")).status == 404)
            try await h.advance("61m")
            #expect(try await h.client.send("GET", url).status == 403)

            // History: most recent first, the notifications' words, each at the time it happened.
            let history = try await h.call("GET", "\(path)/history", token: h.apiKey)
            let events = (history.data?["events"]?.arrayValue ?? []).reversed()
            let steps = events.map { "\($0["event_type"]?.stringValue ?? "")/\($0["data"]?["state"]?.stringValue ?? "")/\($0["data"]?["meeting_state"]?.stringValue ?? "")" }
            #expect(steps == ["notetaker.created/scheduled/", "notetaker.meeting_state/connecting/dispatched",
                              "notetaker.meeting_state/connecting/waiting_for_entry", "notetaker.meeting_state/attending/recording_active",
                              "notetaker.meeting_state/disconnected/api_request", "notetaker.media/processing/",
                              "notetaker.media/available/"], "\(steps)")
            #expect(events.map { $0["created_at"]?.intValue ?? 0 }[3] == join + 60)
            // The dashboard lists the bot with the history of its states.
            let page = try await h.call("GET", "/__sim/ui")
            #expect(page.text.contains("data-notetaker=\"\(id)\"") && page.text.contains("recording_active"))
        }
    }

    @Test("Scripted failures: the host refuses entry, the meeting ends early, processing fails; bad moves refused")
    func scriptedFailures() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            _ = try await h.call("POST", "/v3/webhooks", token: h.apiKey, json: [
                "trigger_types": ["notetaker.meeting_state", "notetaker.media"], "webhook_url": .string(receiver.url)])
            func invite() async throws -> String {
                try #require(try await h.call("POST", "/v3/notetakers", token: h.apiKey, json: ["meeting_link": "https://zoom.us/j/123"]).data?["id"]?.stringValue)
            }
            let refused = try await invite()
            try await h.advance("30s")
            let move = try await h.call("POST", "/__sim/notetakers/\(refused)/state", json: ["state": "failed_entry"])
            #expect(move.status == 200 && move.json?["data"]?["state"]?.stringValue == "failed_entry", "\(move.text)")
            try await h.advance("1m")
            #expect(try await Self.state(h, "/v3/notetakers/\(refused)") == "failed_entry")  // no later step ran

            let ended = try await invite()
            try await h.advance("1m")
            #expect(try await h.call("POST", "/__sim/notetakers/\(ended)/state", json: ["state": "disconnected"]).status == 200)
            #expect(try await Self.state(h, "/v3/notetakers/\(ended)") == "media_processing")
            #expect(try await h.call("POST", "/__sim/notetakers/\(ended)/state", json: ["state": "media_error"]).status == 200)
            try await h.advance("10m")
            #expect(try await Self.state(h, "/v3/notetakers/\(ended)") == "media_error")
            #expect(try await h.call("POST", "/__sim/notetakers/\(ended)/state", json: ["state": "attending"]).status == 409)
            #expect(try await h.call("POST", "/__sim/notetakers/\(ended)/state", json: ["state": "asleep"]).status == 400)
            #expect(try await h.call("POST", "/__sim/notetakers/nope/state", json: ["state": "attending"]).status == 404)
            try await h.advance("1s")
            let notes = receiver.received.compactMap(\.payload).map { p in
                "\(p["data"]?["object"]?["state"]?.stringValue ?? "")/\(p["data"]?["object"]?["meeting_state"]?.stringValue ?? "")"
            }
            #expect(notes.contains("failed_entry/entry_denied") && notes.contains("disconnected/meeting_ended") && notes.contains("media_error/"), "\(notes)")
            #expect(receiver.received.first?.payload?["source"]?.stringValue == "/nylas/notetaker")
        }
    }

    @Test("Scopes: a grant's bot is not standalone, nor another grant's; bad invites refused with the field named")
    func scopesAndBadInput() async throws {
        try await withSimulator { h in
            let a = try h.sim.createGrant(email: "a@gmail.com", provider: "google")
            let b = try h.sim.createGrant(email: "b@gmail.com", provider: "google")
            let id = try #require(try await h.call("POST", "/v3/grants/\(a.id)/notetakers", token: h.apiKey,
                                                   json: ["meeting_link": .string(Self.meet)]).data?["id"]?.stringValue)
            #expect(try await h.call("GET", "/v3/grants/\(a.id)/notetakers/\(id)", token: a.accessToken).status == 200)
            #expect(try await h.call("GET", "/v3/grants/\(b.id)/notetakers/\(id)", token: h.apiKey).status == 404)
            #expect(try await h.call("GET", "/v3/notetakers/\(id)", token: h.apiKey).status == 404)
            #expect(try await h.call("GET", "/v3/notetakers", token: h.apiKey).data?.arrayValue?.isEmpty == true)
            #expect(try await h.call("GET", "/v3/notetakers/\(id)", region: .eu, token: h.apiKey(.eu)).status == 404)
            for (body, field) in [(JSON.object([:]), "meeting_link"), (["meeting_link": "https://example.com/room"], "meeting_link"),
                                  (["meeting_link": .string(Self.meet), "join_time": 1000], "join_time"),
                                  (["meeting_link": .string(Self.meet), "meeting_settings": ["audio_recording": false, "transcription": true]], "transcription")] {
                let r = try await h.call("POST", "/v3/notetakers", token: h.apiKey, json: body)
                #expect(r.status == 400 && r.json?["error"]?["message"]?.stringValue?.contains(field) == true, "\(field): \(r.text)")
            }
            #expect(try await h.call("GET", "/v3/notetakers", token: h.apiKey).data?.arrayValue?.isEmpty == true)
            #expect(try await h.call("DELETE", "/v3/grants/\(a.id)/notetakers/\(id)", token: h.apiKey).status == 200)
            #expect(try await h.call("GET", "/v3/grants/\(a.id)/notetakers/\(id)", token: h.apiKey).status == 404)
        }
    }

    @Test("With --data-dir a scheduled bot still joins after a restart, at its time")
    func restart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nylas-sim-notes-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (id, ending) = try await withSimulator(seed: "notes", configure: { $0.dataDirectory = dir }) { h in
            let id = try #require(try await h.call("POST", "/v3/notetakers", token: h.apiKey,
                                                   json: ["meeting_link": .string(Self.meet), "join_time": .int(h.sim.now.seconds + 600)]).data?["id"]?.stringValue)
            // A meeting scripted to end 30 minutes after the bot got in, across the restart.
            _ = try await h.call("POST", "/__sim/faults", json: ["notetaker": "meeting_ended", "after": "30m", "count": 1])
            let ending = try #require(try await h.call("POST", "/v3/notetakers", token: h.apiKey,
                                                       json: ["meeting_link": .string(Self.meet)]).data?["id"]?.stringValue)
            try await h.advance("1m")
            #expect(try await Self.state(h, "/v3/notetakers/\(ending)") == "attending")
            return (id, ending)
        }
        try await withSimulator(seed: "notes", configure: { $0.dataDirectory = dir }) { h in
            try await h.advance("9m")
            #expect(try await Self.state(h, "/v3/notetakers/\(id)") == "connecting")
            try await h.advance("1m")
            #expect(try await Self.state(h, "/v3/notetakers/\(id)") == "attending")
            #expect(try await Self.state(h, "/v3/notetakers/\(ending)") == "attending")
            try await h.advance("20m")
            #expect(try await Self.state(h, "/v3/notetakers/\(ending)") == "media_processing")
        }
    }

    @Test("A calendar's notetaker rules: a bot for each selected event with a meeting link, moved with the event, removed with it")
    func calendarRules() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "rules@gmail.com", provider: "google")
            let settings = try await h.call("PUT", "/v3/grants/\(g.id)/calendars/primary", token: h.apiKey, json: [
                "notetaker": ["name": "Team notes", "meeting_settings": ["video_recording": false],
                              "rules": ["event_selection": ["own_events"], "participant_filter": ["participants_gte": 1]]]])
            #expect(settings.status == 200, "\(settings.text)")
            let start = h.sim.now.seconds + 7200
            func event(_ title: String, link: String?, participants: [String] = ["guest@example.com"]) async throws -> String {
                var body: [String: JSON] = ["title": .string(title), "when": ["start_time": .int(start), "end_time": .int(start + 1800)],
                                            "participants": .array(participants.map { ["email": .string($0)] })]
                if let link { body["conferencing"] = ["provider": "Google Meet", "details": ["url": .string(link)]] }
                let r = try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=primary", token: h.apiKey, json: .object(body))
                #expect(r.status == 200, "\(r.text)")
                return try #require(r.data?["id"]?.stringValue)
            }
            func bots() async throws -> [JSON] { try await h.call("GET", "/v3/grants/\(g.id)/notetakers", token: h.apiKey).data?.arrayValue ?? [] }
            let planning = try await event("Planning", link: Self.meet)
            _ = try await event("No link", link: nil)
            _ = try await event("Alone", link: Self.meet, participants: [])  // the participant filter leaves it out
            var list = try await bots()
            #expect(list.count == 1)
            #expect(list.first?["event"]?["event_id"]?.stringValue == planning)
            #expect(list.first?["join_time"]?.intValue == start && list.first?["name"]?.stringValue == "Team notes")
            #expect(list.first?["meeting_settings"]?["video_recording"]?.boolValue == false)

            // The event moves: the bot follows.
            let moved = try await h.call("PUT", "/v3/grants/\(g.id)/events/\(planning)?calendar_id=primary", token: h.apiKey,
                                         json: ["when": ["start_time": .int(start + 3600), "end_time": .int(start + 5400)]])
            #expect(moved.status == 200, "\(moved.text)")
            list = try await bots()
            #expect(list.count == 1 && list.first?["join_time"]?.intValue == start + 3600)

            // An event the user adds in their own calendar app gets its bot too.
            let outside = try await h.call("POST", "/__sim/providers/mailboxes/rules@gmail.com/events", json: [
                "title": "From the app", "when": ["start_time": .int(start), "end_time": .int(start + 600)],
                "participants": [["email": "x@example.com"]],
                "conferencing": ["provider": "Zoom Meeting", "details": ["url": "https://zoom.us/j/42"]]])
            #expect(outside.status == 201, "\(outside.text)")
            list = try await bots()
            #expect(list.count == 2)
            #expect(list.contains { $0["meeting_provider"]?.stringValue == "Zoom Meeting" })

            // The event is deleted: its bot, not yet joined, goes too.
            #expect(try await h.call("DELETE", "/v3/grants/\(g.id)/events/\(planning)?calendar_id=primary", token: h.apiKey).status == 200)
            list = try await bots()
            #expect(list.count == 1 && list.first?["meeting_provider"]?.stringValue == "Zoom Meeting")
        }
    }

    @Test("Fault rules script a bot's meeting: the host refuses entry, the meeting ends early, processing fails; the Swift API moves a bot")
    func faultRulesAndSwiftAPI() async throws {
        try await withSimulator { h in
            func invite() async throws -> String {
                try #require(try await h.call("POST", "/v3/notetakers", token: h.apiKey, json: ["meeting_link": .string(Self.meet)]).data?["id"]?.stringValue)
            }
            // The first bot to reach admission is refused; the next is admitted and the meeting ends 10 minutes later.
            #expect(try await h.call("POST", "/__sim/faults", json: ["notetaker": "entry_denied", "count": 1]).status == 201)
            let denied = try await invite()
            try await h.advance("1m")
            #expect(try await Self.state(h, "/v3/notetakers/\(denied)") == "failed_entry")
            #expect(try await h.call("POST", "/__sim/faults", json: ["notetaker": "meeting_ended", "after": "10m", "count": 1]).status == 201)
            #expect(try await h.call("POST", "/__sim/faults", json: ["notetaker": "media_error", "count": 1]).status == 201)
            let ended = try await invite()
            try await h.advance("1m")
            #expect(try await Self.state(h, "/v3/notetakers/\(ended)") == "attending")
            try await h.advance("10m")
            #expect(try await Self.state(h, "/v3/notetakers/\(ended)") == "media_processing")
            try await h.advance("5m")
            #expect(try await Self.state(h, "/v3/notetakers/\(ended)") == "media_error")
            let history = try await h.call("GET", "/v3/notetakers/\(ended)/history", token: h.apiKey).data?["events"]?.arrayValue ?? []
            #expect(history.contains { $0["data"]?["meeting_state"]?.stringValue == "meeting_ended" })
            // Rules with an unknown kind are refused; HTTP requests are not touched by notetaker rules.
            #expect(try await h.call("POST", "/__sim/faults", json: ["notetaker": "asleep"]).status == 400)
            #expect(try await h.call("GET", "/v3/notetakers", token: h.apiKey).status == 200)

            // The Swift API.
            let third = try await invite()
            #expect(try h.sim.notetakers().count == 3)
            #expect(throws: NylasError.self) { try h.sim.moveNotetaker(id: third, to: "media_available") }
            let moved = try h.sim.moveNotetaker(id: third, to: "failed_entry", meetingState: "bad_meeting_link")
            #expect(moved["state"]?.stringValue == "failed_entry")
        }
    }
}
