import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

@Suite("API v2: calendars, events, contacts, free/busy, outbox")
struct V2CalendarTests {
    /// Native auth of a v2 account; returns (account id, `Authorization` header).
    func connect(_ h: SimHarness, email: String, provider: String = "gmail") async throws -> (String, [String: String]) {
        let v2 = h.sim.region(.us).v2
        var settings: JSON = ["google_client_id": "a", "google_client_secret": "b", "google_refresh_token": "c"]
        if provider == "imap" {
            settings = ["imap_host": "imap.example.com", "imap_port": 993, "imap_username": .string(email), "imap_password": "p",
                        "smtp_host": "smtp.example.com", "smtp_port": 465]
        }
        let a = try await h.call("POST", "/connect/authorize", json: [
            "client_id": .string(v2.clientID), "name": "Test User", "email_address": .string(email), "provider": .string(provider),
            "settings": settings, "scopes": "email,calendar,contacts"])
        let code = try #require(a.json?["code"]?.stringValue, "\(a.text)")
        let t = try await h.call("POST", "/connect/token",
                                 json: ["client_id": .string(v2.clientID), "client_secret": .string(v2.clientSecret), "code": .string(code)])
        let token = try #require(t.json?["access_token"]?.stringValue, "\(t.text)")
        return (try #require(t.json?["account_id"]?.stringValue), ["Authorization": "Bearer \(token)"])
    }

    /// A v2 error: the flat `{message, type}` body with `status`.
    func expectError(_ r: HTTPClient.Response, _ status: Int, _ message: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "\(r.text)", sourceLocation: sourceLocation)
        #expect(r.json?["type"]?.stringValue == (status >= 500 || status == 402 || status == 429 ? "api_error" : "invalid_request_error"),
                "\(r.text)", sourceLocation: sourceLocation)
        #expect(r.json?["error"] == nil && r.json?["request_id"] == nil, "\(r.text)", sourceLocation: sourceLocation)
        if let message { #expect(r.json?["message"]?.stringValue == message, "\(r.text)", sourceLocation: sourceLocation) }
    }

    func primary(_ h: SimHarness, _ auth: [String: String]) async throws -> JSON {
        let list = try await h.call("GET", "/calendars", headers: auth)
        return try #require(list.json?.arrayValue?.first { $0["is_primary"] == true }, "\(list.text)")
    }

    // MARK: Calendars

    @Test("Calendars: list, views, paging, create, get, update, delete; read-only and primary refuse; errors change nothing")
    func calendars() async throws {
        try await withSimulator { h in
            let (accountID, auth) = try await connect(h, email: "cal@gmail.com")
            let list = try await h.call("GET", "/calendars", headers: auth)
            #expect(list.status == 200, "\(list.text)")
            let all = try #require(list.json?.arrayValue)
            #expect(all.count == 3)  // primary, holidays, Emailed events
            let p = try #require(all.first { $0["is_primary"] == true })
            for key in ["id", "object", "account_id", "name", "description", "location", "timezone", "read_only", "is_primary", "metadata", "hex_color"] {
                #expect(p[key] != nil, "missing \(key)")
            }
            #expect(p["object"]?.stringValue == "calendar")
            #expect(p["account_id"]?.stringValue == accountID)
            #expect(p["id"]?.stringValue?.count == 25, "an opaque v2 ID, not the address")
            let holidays = try #require(all.first { $0["read_only"] == true })
            let holidaysID = try #require(holidays["id"]?.stringValue)
            #expect(try await h.call("GET", "/calendars?view=count", headers: auth).json?["count"]?.intValue == 3)
            #expect(try await h.call("GET", "/calendars?view=ids&limit=1&offset=1", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/calendars?offset=5", headers: auth).json?.arrayValue?.isEmpty == true)
            expectError(try await h.call("GET", "/calendars?view=expanded", headers: auth), 400, "Unknown view type expanded.")
            expectError(try await h.call("GET", "/calendars?limit=abc", headers: auth), 400, "Limit parameter must be an integer.")

            let created = try await h.call("POST", "/calendars", json: ["name": "Side", "description": "d", "location": "Dublin",
                                                                         "timezone": "Europe/Dublin", "metadata": ["team": "a"]], headers: auth)
            #expect(created.status == 200, "\(created.text)")
            let id = try #require(created.json?["id"]?.stringValue)
            #expect(created.json?["timezone"]?.stringValue == "Europe/Dublin")
            #expect(created.json?["read_only"] == false)
            #expect(created.json?["job_status_id"]?.stringValue != nil)
            #expect(try await h.call("GET", "/calendars/\(id)", headers: auth).json?["name"]?.stringValue == "Side")
            #expect(try await h.call("GET", "/calendars?metadata_pair=team:a", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/calendars?metadata_key=team", headers: auth).json?.arrayValue?.count == 1)
            let updated = try await h.call("PUT", "/calendars/\(id)", json: ["name": "Renamed", "hex_color": "#000000"], headers: auth)
            #expect(updated.status == 200, "\(updated.text)")
            #expect(updated.json?["name"]?.stringValue == "Renamed")
            #expect(updated.json?["description"]?.stringValue == "d")

            // Bad input: each a v2 400 that changes nothing.
            expectError(try await h.call("POST", "/calendars", json: ["description": "no name"], headers: auth), 400)
            expectError(try await h.call("POST", "/calendars", json: ["name": 5], headers: auth), 400)
            expectError(try await h.call("POST", "/calendars", json: ["name": "x", "timezone": "Mars/Olympus"], headers: auth), 400)
            expectError(try await h.raw("POST", "/calendars", body: Array("{not json".utf8),
                                        headers: auth.merging(["Content-Type": "application/json"]) { a, _ in a }), 400)
            expectError(try await h.call("PUT", "/calendars/\(holidaysID)", json: ["name": "Mine"], headers: auth), 400, "Cannot update read_only calendar.")
            expectError(try await h.call("DELETE", "/calendars/\(holidaysID)", headers: auth), 400, "Cannot delete read_only calendar.")
            expectError(try await h.call("DELETE", "/calendars/\(try #require(p["id"]?.stringValue))", headers: auth), 400)
            expectError(try await h.call("GET", "/calendars/nope", headers: auth), 404, "Couldn't find calendar nope")
            expectError(try await h.call("PUT", "/calendars/nope", json: ["name": "x"], headers: auth), 404)
            expectError(try await h.call("GET", "/calendars"), 401, "Could not verify access credential.")
            expectError(try await h.call("GET", "/calendars", headers: ["Authorization": "Bearer wrong"]), 401)
            #expect(try await h.call("GET", "/calendars?view=count", headers: auth).json?["count"]?.intValue == 4)
            #expect(try await h.call("GET", "/calendars/\(holidaysID)", headers: auth).json?["name"] == holidays["name"])

            let deleted = try await h.call("DELETE", "/calendars/\(id)", headers: auth)
            #expect(deleted.status == 200, "\(deleted.text)")
            expectError(try await h.call("GET", "/calendars/\(id)", headers: auth), 404)
            // A v3 path with the v2 token is not a v2 route.
            #expect(try await h.call("GET", "/v3/grants/\(accountID)/calendars", headers: auth).status == 401)
        }
    }

    // MARK: Events

    @Test("Events: create, get, list filters and views, update, delete, when shapes; read-only and bad input refused")
    func events() async throws {
        try await withSimulator { h in
            let (accountID, auth) = try await connect(h, email: "ev@gmail.com")
            let cal = try await primary(h, auth)
            let calID = try #require(cal["id"]?.stringValue)
            let holidays = try #require(try await h.call("GET", "/calendars", headers: auth).json?.arrayValue?.first { $0["read_only"] == true && $0["name"] != "Emailed events" })
            let created = try await h.call("POST", "/events", json: [
                "calendar_id": .string(calID), "title": "Planning", "description": "Q1", "location": "Room 1",
                "when": ["start_time": 1_767_625_200, "end_time": 1_767_628_800, "object": "timespan"],
                "participants": [["email": "Guest@Example.com", "name": "Guest", "status": "yes"]],
                "metadata": ["k": "v"], "reminder_minutes": "[15]", "reminder_method": "email",
            ], headers: auth)
            #expect(created.status == 200, "\(created.text)")
            let e = try #require(created.json)
            let id = try #require(e["id"]?.stringValue)
            #expect(id.count == 25)
            #expect(e["object"]?.stringValue == "event")
            #expect(e["account_id"]?.stringValue == accountID)
            #expect(e["calendar_id"]?.stringValue == calID)
            #expect(e["when"]?["object"]?.stringValue == "timespan")
            #expect(e["when"]?["start_time"]?.intValue == 1_767_625_200)
            #expect(e["participants"]?[0]?["email"]?.stringValue == "guest@example.com")
            #expect(e["participants"]?[0]?["status"]?.stringValue == "noreply", "the answer is the participant's")
            #expect(e["owner"]?.stringValue == "Test User <ev@gmail.com>")
            #expect(e["recurrence"] == .null)
            #expect(e["message_id"] == .null)
            #expect(e["reminders"]?["reminder_minutes"]?.stringValue == "[15]")
            #expect(e["reminders"]?["reminder_method"]?.stringValue == "email")
            #expect(e["ical_uid"]?.stringValue?.isEmpty == false)
            #expect(e["busy"] == true && e["read_only"] == false && e["status"]?.stringValue == "confirmed")
            #expect(e["job_status_id"]?.stringValue != nil)

            // The other when shapes; a span whose ends are equal collapses.
            let allDay = try await h.call("POST", "/events", json: ["calendar_id": .string(calID), "title": "Offsite",
                                                                     "when": ["start_date": "2026-01-07", "end_date": "2026-01-08"]], headers: auth)
            #expect(allDay.json?["when"]?["object"]?.stringValue == "datespan", "\(allDay.text)")
            let oneDay = try await h.call("POST", "/events", json: ["calendar_id": .string(calID), "title": "Holiday",
                                                                     "when": ["start_date": "2026-01-09", "end_date": "2026-01-09"]], headers: auth)
            #expect(oneDay.json?["when"]?["object"]?.stringValue == "date")
            #expect(oneDay.json?["when"]?["date"]?.stringValue == "2026-01-09")
            let point = try await h.call("POST", "/events", json: ["calendar_id": .string(calID), "title": "Reminder",
                                                                    "when": ["start_time": 1_767_700_000, "end_time": 1_767_700_000]], headers: auth)
            #expect(point.json?["when"]?["object"]?.stringValue == "time")
            #expect(point.json?["when"]?["time"]?.intValue == 1_767_700_000)

            // Get and list.
            #expect(try await h.call("GET", "/events/\(id)", headers: auth).json?["title"]?.stringValue == "Planning")
            let listed = try await h.call("GET", "/events?calendar_id=\(calID)", headers: auth)
            #expect(listed.json?.arrayValue?.compactMap { $0["title"]?.stringValue } == ["Planning", "Reminder", "Offsite", "Holiday"], "by start")
            // Across calendars: Google's holidays, one event per holiday and year (2025 to 2028: 44).
            #expect(try await h.call("GET", "/events?view=count", headers: auth).json?["count"]?.intValue == 4 + 44)
            #expect(try await h.call("GET", "/events?view=count&calendar_id=\(calID)", headers: auth).json?["count"]?.intValue == 4)
            #expect(try await h.call("GET", "/events?title=plan", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/events?location=room%201", headers: auth).json?.arrayValue?.count == 1)
            // After 2026-01-05: three of ours, and the holidays from Martin Luther King Jr. Day 2026 on (10 + 11 + 11).
            #expect(try await h.call("GET", "/events?starts_after=1767650000&limit=100", headers: auth).json?.arrayValue?.count == 3 + 32)
            #expect(try await h.call("GET", "/events?ends_before=1767650000&calendar_id=\(calID)", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/events?event_id=\(id)", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/events?metadata_pair=k:v", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/events?view=ids&limit=2", headers: auth).json?.arrayValue?.count == 2)
            #expect(try await h.call("GET", "/events?offset=100", headers: auth).json?.arrayValue?.isEmpty == true)
            expectError(try await h.call("GET", "/events?busy=maybe", headers: auth), 400)
            expectError(try await h.call("GET", "/events?starts_after=1e400", headers: auth), 400)
            expectError(try await h.call("GET", "/events?ends_before=99999999999999999999", headers: auth), 400)

            // Update (the SDK sends the object back, read-only fields included).
            var back = e
            back["title"] = "Planning v2"
            back["when"]?["object"] = nil
            let updated = try await h.call("PUT", "/events/\(id)?notify_participants=true", json: back, headers: auth)
            #expect(updated.status == 200, "\(updated.text)")
            #expect(updated.json?["title"]?.stringValue == "Planning v2")
            #expect(updated.json?["id"]?.stringValue == id)
            #expect(updated.json?["participants"]?[0]?["status"]?.stringValue == "noreply")

            // Errors, none of which changes anything.
            let count = try await h.call("GET", "/events?view=count", headers: auth).json?["count"]?.intValue
            expectError(try await h.call("POST", "/events", json: ["calendar_id": .string(try #require(holidays["id"]?.stringValue)),
                                                                    "when": ["time": 1_767_700_000]], headers: auth),
                        400, "Can't create events on read_only calendar.")
            expectError(try await h.call("POST", "/events", json: ["calendar_id": .string(calID), "when": ["start_time": 5, "date": "2026-01-01"]],
                                         headers: auth), 400, "When object had invalid keys.")
            expectError(try await h.call("POST", "/events", json: ["calendar_id": .string(calID), "when": ["start_time": 10, "end_time": 5]],
                                         headers: auth), 400, "'start_time' must be < 'end_time'.")
            expectError(try await h.call("POST", "/events", json: ["when": ["time": 5]], headers: auth), 400)
            expectError(try await h.call("POST", "/events", json: ["calendar_id": .string(calID)], headers: auth), 400)
            expectError(try await h.call("POST", "/events", json: ["calendar_id": .string(calID), "when": "tomorrow"], headers: auth), 400)
            expectError(try await h.call("POST", "/events", json: ["calendar_id": .string(calID), "title": 7, "when": ["time": 5]], headers: auth), 400)
            expectError(try await h.call("POST", "/events", json: ["calendar_id": "nope", "when": ["time": 5]], headers: auth), 400)
            expectError(try await h.call("POST", "/events", json: ["calendar_id": .string(calID), "when": ["time": 5],
                                                                    "recurrence": ["rrule": ["RRULE:FREQ=SOMETIMES"]]], headers: auth), 400)
            expectError(try await h.call("POST", "/events", json: ["calendar_id": .string(calID), "when": ["time": 5],
                                                                    "recurrence": ["rrule": ["RRULE:FREQ=DAILY"], "timezone": "Nowhere/Land"]], headers: auth), 400)
            expectError(try await h.call("PUT", "/events/\(id)", json: ["when": ["start_time": 10, "end_time": 5]], headers: auth), 400)
            expectError(try await h.call("PUT", "/events/\(id)", json: ["participants": "all"], headers: auth), 400)
            expectError(try await h.call("GET", "/events/nope", headers: auth), 404, "Couldn't find event nope")
            expectError(try await h.call("PUT", "/events/nope", json: ["title": "x"], headers: auth), 404)
            expectError(try await h.call("DELETE", "/events/nope", headers: auth), 404)
            expectError(try await h.call("GET", "/events"), 401)
            #expect(try await h.call("GET", "/events?view=count", headers: auth).json?["count"]?.intValue == count)
            #expect(try await h.call("GET", "/events/\(id)", headers: auth).json?["title"]?.stringValue == "Planning v2")

            // A holiday (read-only) refuses changes.
            let holidaysID = try #require(holidays["id"]?.stringValue)
            let holidayEvent = try #require(try await h.call("GET", "/events?calendar_id=\(holidaysID)", headers: auth).json?.arrayValue?.first)
            expectError(try await h.call("PUT", "/events/\(try #require(holidayEvent["id"]?.stringValue))", json: ["title": "x"], headers: auth),
                        400, "Cannot update read_only event.")

            let deleted = try await h.call("DELETE", "/events/\(id)", headers: auth)
            #expect(deleted.status == 200, "\(deleted.text)")
            expectError(try await h.call("GET", "/events/\(id)", headers: auth), 404)
        }
    }

    @Test("Recurrence keeps its own timezone: weekly 09:00 New York across DST, instances with expand_recurring, an instance edited")
    func recurrence() async throws {
        try await withSimulator { h in
            let (_, auth) = try await connect(h, email: "rec@gmail.com")
            let calID = try #require(try await primary(h, auth)["id"]?.stringValue)
            // Mondays 09:00 in New York from 2026-03-02 (14:00Z); DST starts on 2026-03-08 (then 13:00Z).
            let created = try await h.call("POST", "/events", json: [
                "calendar_id": .string(calID), "title": "Standup",
                "when": ["start_time": 1_772_460_000, "end_time": 1_772_461_800],
                "recurrence": ["rrule": ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4"], "timezone": "America/New_York"],
            ], headers: auth)
            #expect(created.status == 200, "\(created.text)")
            let master = try #require(created.json)
            let id = try #require(master["id"]?.stringValue)
            #expect(master["recurrence"]?["rrule"] == ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4"])
            #expect(master["recurrence"]?["timezone"]?.stringValue == "America/New_York")
            #expect(master["when"]?["start_timezone"]?.stringValue == "America/New_York")
            // Without expansion: the master only.
            let plain = try await h.call("GET", "/events?calendar_id=\(calID)", headers: auth)
            #expect(plain.json?.arrayValue?.map { $0["id"]?.stringValue } == [id])
            let expanded = try await h.call("GET", "/events?calendar_id=\(calID)&expand_recurring=true", headers: auth)
            let instances = try #require(expanded.json?.arrayValue)
            #expect(instances.map { $0["when"]?["start_time"]?.intValue } == [1_772_460_000, 1_773_061_200, 1_773_666_000, 1_774_270_800])
            #expect(instances.allSatisfy { $0["master_event_id"]?.stringValue == id && $0["recurrence"] == .null })
            #expect(instances.map { $0["original_start_time"]?.intValue } == [1_772_460_000, 1_773_061_200, 1_773_666_000, 1_774_270_800])
            #expect(try await h.call("GET", "/events?expand_recurring=true&starts_after=1773000000&starts_before=1773700000", headers: auth)
                        .json?.arrayValue?.count == 2)
            // `event_id` of the master with expand_recurring: its occurrences (reference §6.12); without it, the master.
            let byMaster = try await h.call("GET", "/events?event_id=\(id)&expand_recurring=true", headers: auth)
            #expect(byMaster.json?.arrayValue?.map { $0["original_start_time"]?.intValue } == [1_772_460_000, 1_773_061_200, 1_773_666_000, 1_774_270_800])
            #expect(try await h.call("GET", "/events?event_id=\(id)", headers: auth).json?.arrayValue?.map { $0["id"]?.stringValue } == [id])
            // An instance read, edited and cancelled by its own ID.
            let second = try #require(instances[1]["id"]?.stringValue)
            #expect(try await h.call("GET", "/events/\(second)", headers: auth).json?["master_event_id"]?.stringValue == id)
            let moved = try await h.call("PUT", "/events/\(second)", json: ["title": "Standup (moved)"], headers: auth)
            #expect(moved.status == 200, "\(moved.text)")
            #expect(moved.json?["master_event_id"]?.stringValue == id)
            let third = try #require(instances[2]["id"]?.stringValue)
            #expect(try await h.call("DELETE", "/events/\(third)", headers: auth).status == 200)
            let after = try #require(try await h.call("GET", "/events?expand_recurring=true&calendar_id=\(calID)", headers: auth).json?.arrayValue)
            #expect(after.compactMap { $0["title"]?.stringValue } == ["Standup", "Standup (moved)", "Standup"])
            #expect(try await h.call("GET", "/events?expand_recurring=true&show_cancelled=true&calendar_id=\(calID)", headers: auth).json?.arrayValue?.count == 4)
            // Changing the recurrence timezone moves the series to that wall clock's zone.
            let rezoned = try await h.call("PUT", "/events/\(id)", json: ["recurrence": ["rrule": ["RRULE:FREQ=DAILY;COUNT=2"], "timezone": "Europe/Dublin"]],
                                           headers: auth)
            #expect(rezoned.json?["recurrence"]?["timezone"]?.stringValue == "Europe/Dublin", "\(rezoned.text)")
            let cleared = try await h.call("PUT", "/events/\(id)", json: ["recurrence": .null], headers: auth)
            #expect(cleared.json?["recurrence"] == .null, "\(cleared.text)")
        }
    }

    @Test("RSVP: an invited account answers; the organizer's copy shows it; own events and bad statuses are refused")
    func rsvp() async throws {
        try await withSimulator { h in
            let (_, organizer) = try await connect(h, email: "org@gmail.com")
            let (_, guest) = try await connect(h, email: "guest@gmail.com")
            let calID = try #require(try await primary(h, organizer)["id"]?.stringValue)
            let created = try await h.call("POST", "/events?notify_participants=true", json: [
                "calendar_id": .string(calID), "title": "Review", "when": ["start_time": 1_767_625_200, "end_time": 1_767_628_800],
                "participants": [["email": "guest@gmail.com", "name": "Guest"]],
            ], headers: organizer)
            #expect(created.status == 200, "\(created.text)")
            let own = try #require(created.json?["id"]?.stringValue)
            let copy = try #require(try await h.call("GET", "/events", headers: guest).json?.arrayValue?.first { $0["title"]?.stringValue == "Review" })
            let copyID = try #require(copy["id"]?.stringValue)
            #expect(copyID != own, "each account has its own ID")
            #expect(copy["message_id"]?.stringValue != nil, "the invitation it came from")
            #expect(copy["ical_uid"] == created.json?["ical_uid"])
            expectError(try await h.call("POST", "/send-rsvp", json: ["event_id": .string(copyID), "status": "perhaps"], headers: guest), 400,
                        "Invalid status perhaps")
            expectError(try await h.call("POST", "/send-rsvp", json: ["event_id": .string(own), "status": "yes"], headers: organizer), 400,
                        "This is not a message imported from an iCalendar invite.")
            expectError(try await h.call("POST", "/send-rsvp", json: ["event_id": "nope", "status": "yes"], headers: guest), 404)
            expectError(try await h.call("POST", "/send-rsvp", json: ["status": "yes"], headers: guest), 400)
            let answered = try await h.call("POST", "/send-rsvp", json: ["event_id": .string(copyID), "status": "yes", "comment": "See you"],
                                            headers: guest)
            #expect(answered.status == 200, "\(answered.text)")
            #expect(answered.json?["participants"]?[0]?["status"]?.stringValue == "yes")
            #expect(answered.json?["participants"]?[0]?["comment"]?.stringValue == "See you")
            let seen = try await h.call("GET", "/events/\(own)", headers: organizer)
            #expect(seen.json?["participants"]?[0]?["status"]?.stringValue == "yes")
            let replies = try #require(try await h.call("GET", "/messages", headers: organizer).json?.arrayValue)
            #expect(replies.contains { $0["subject"]?.stringValue?.hasPrefix("Accepted: Review") == true })
        }
    }

    @Test("Provider-side changes and v2 webhooks: event.* , calendar.*, contact.created/updated/deleted")
    func providerChangesAndWebhooks() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let basic = ["Authorization": "Basic " + Data("\(v2.clientSecret):".utf8).base64EncodedString()]
            let hook = try await h.call("POST", "/a/\(v2.clientID)/webhooks", json: [
                "callback_url": .string(receiver.url), "state": "active",
                "triggers": ["event.created", "event.updated", "event.deleted", "calendar.created", "contact.created", "contact.updated",
                             "contact.deleted"]], headers: basic)
            #expect(hook.status == 200, "\(hook.text)")
            receiver.trust(secret: v2.clientSecret)
            let (accountID, auth) = try await connect(h, email: "push@gmail.com")
            // The user adds an event in their own calendar app: the v2 list shows it.
            let added = try await h.call("POST", "/__sim/providers/mailboxes/push@gmail.com/events",
                                         json: ["title": "From phone", "when": ["start_time": 1_767_625_200, "end_time": 1_767_628_800]])
            #expect(added.status == 201, "\(added.text)")
            let listed = try #require(try await h.call("GET", "/events", headers: auth).json?.arrayValue?.first { $0["title"]?.stringValue == "From phone" })
            let created = try #require(await h.sim.nextDelivery { $0.type == "event.created" })
            let delta = try #require(created.payload?["deltas"]?[0])
            #expect(delta["object"]?.stringValue == "event")
            #expect(delta["object_data"]?["id"] == listed["id"])
            #expect(delta["object_data"]?["account_id"]?.stringValue == accountID)
            _ = try await h.call("POST", "/calendars", json: ["name": "New"], headers: auth)
            #expect(await h.sim.nextDelivery { $0.type == "calendar.created" } != nil)
            let contact = try await h.call("POST", "/contacts", json: ["given_name": "Ada"], headers: auth)
            let contactID = try #require(contact.json?["id"]?.stringValue)
            let c1 = try #require(await h.sim.nextDelivery { $0.type == "contact.created" })
            #expect(c1.payload?["deltas"]?[0]?["object_data"]?["id"]?.stringValue == contactID)
            _ = try await h.call("PUT", "/contacts/\(contactID)", json: ["surname": "Lovelace"], headers: auth)
            #expect(await h.sim.nextDelivery { $0.type == "contact.updated" } != nil)
            _ = try await h.call("DELETE", "/contacts/\(contactID)", headers: auth)
            #expect(await h.sim.nextDelivery { $0.type == "contact.deleted" } != nil)
            // A contact added in the user's own address book is contact.created for v2 as well, and
            // the delta of a calendar object carries the full v2 object.
            let cursor = try #require(try await h.call("POST", "/delta/latest_cursor", headers: auth).json?["cursor"]?.stringValue)
            _ = try h.sim.addContact(in: "push@gmail.com", ["given_name": "Grace"])
            let c2 = try #require(await h.sim.nextDelivery(after: c1.sequence) { $0.type == "contact.created" })
            #expect(c2.payload?["deltas"]?[0]?["object_data"]?["attributes"] == .null)
            _ = try h.sim.changeEvent(in: "push@gmail.com", event: try #require(added.json?["ical_uid"]?.stringValue), ["title": "Renamed"])
            let deltas = try await h.call("GET", "/delta?cursor=\(cursor)", headers: auth)
            let all = deltas.json?["deltas"]?.arrayValue ?? []
            let contactDelta = try #require(all.first { $0["object"]?.stringValue == "contact" })
            #expect(contactDelta["event"]?.stringValue == "create")
            #expect(contactDelta["attributes"]?["given_name"]?.stringValue == "Grace")
            #expect(contactDelta["attributes"]?["account_id"]?.stringValue == accountID)
            let eventDelta = try #require(all.first { $0["object"]?.stringValue == "event" })
            #expect(eventDelta["event"]?.stringValue == "modify")
            #expect(eventDelta["attributes"]?["title"]?.stringValue == "Renamed")
            #expect(eventDelta["attributes"]?["object"]?.stringValue == "event")
            _ = try await h.call("DELETE", "/events/\(try #require(listed["id"]?.stringValue))", headers: auth)
            #expect(await h.sim.nextDelivery { $0.type == "event.deleted" } != nil)
        }
    }

    // MARK: Contacts

    @Test("Contacts: v2 shape, create, list filters and views, update, delete, picture, groups; bad input refused")
    func contacts() async throws {
        try await withSimulator { h in
            let (accountID, auth) = try await connect(h, email: "book@gmail.com")
            let groups = try await h.call("GET", "/contacts/groups", headers: auth)
            #expect(groups.status == 200, "\(groups.text)")
            let group = try #require(groups.json?.arrayValue?.first)
            #expect(group["object"]?.stringValue == "contact_group")
            let groupID = try #require(group["id"]?.stringValue)
            let created = try await h.call("POST", "/contacts", json: [
                "given_name": "Charlie", "surname": "Bucket", "birthday": "1964-10-05", "job_title": "Student", "company_name": "Wonka",
                "notes": "golden ticket",
                "emails": [["type": "work", "email": "charlie@example.com"], ["type": "personal", "email": "c@home.example"]],
                "phone_numbers": [["type": "mobile", "number": "+1 555 0100"]],
                "physical_addresses": [["type": "home", "street_address": "1 Chocolate Way", "city": "Town", "state": "CA",
                                        "postal_code": "90000", "country": "US"]],
                "web_pages": [["type": "profile", "url": "https://example.com/c"]],
                "im_addresses": [["type": "gtalk", "im_address": "charlie"]],
                "groups": [["id": .string(groupID)]],
            ], headers: auth)
            #expect(created.status == 200, "\(created.text)")
            let c = try #require(created.json)
            let id = try #require(c["id"]?.stringValue)
            #expect(id.count == 25)
            #expect(c["object"]?.stringValue == "contact")
            #expect(c["account_id"]?.stringValue == accountID)
            #expect(c["emails"]?[1]?["type"]?.stringValue == "personal")
            #expect(c["physical_addresses"]?[0]?["format"]?.stringValue == "structured")
            #expect(c["groups"]?[0]?["id"]?.stringValue == groupID)
            #expect(c["groups"]?[0]?["object"]?.stringValue == "contact_group")
            #expect(c["birthday"]?.stringValue == "1964-10-05")
            #expect(c["source"]?.stringValue == "address_book")
            #expect(c["picture_url"] == .null)
            #expect(c["middle_name"] == .null)
            _ = try await h.call("POST", "/contacts", json: ["given_name": "Violet", "emails": [["type": "work", "email": "violet@example.com"]]],
                                 headers: auth)
            #expect(try await h.call("GET", "/contacts?view=count", headers: auth).json?["count"]?.intValue == 2)
            #expect(try await h.call("GET", "/contacts?email=CHARLIE@example.com", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/contacts?phone_number=%2B15550100", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/contacts?postal_code=90000", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/contacts?country=us&state=ca", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/contacts?group=\(groupID)", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/contacts?source=inbox", headers: auth).json?.arrayValue?.isEmpty == true)
            #expect(try await h.call("GET", "/contacts?view=ids&offset=1", headers: auth).json?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/contacts/\(id)", headers: auth).json?["surname"]?.stringValue == "Bucket")
            let updated = try await h.call("PUT", "/contacts/\(id)", json: ["nickname": "Charlie B", "emails": [["type": "work", "email": "cb@example.com"]]],
                                           headers: auth)
            #expect(updated.status == 200, "\(updated.text)")
            #expect(updated.json?["nickname"]?.stringValue == "Charlie B")
            #expect(updated.json?["emails"]?.arrayValue?.count == 1)
            #expect(updated.json?["given_name"]?.stringValue == "Charlie")
            // Picture: none yet (404); a provider photo is served as bytes.
            expectError(try await h.call("GET", "/contacts/\(id)/picture", headers: auth), 404)
            // Errors change nothing.
            expectError(try await h.call("POST", "/contacts", json: ["emails": [["type": "work", "email": "not-an-address"]]], headers: auth), 400)
            expectError(try await h.call("POST", "/contacts", json: ["emails": "x@example.com"], headers: auth), 400)
            expectError(try await h.call("POST", "/contacts", json: ["given_name": 3], headers: auth), 400)
            expectError(try await h.call("POST", "/contacts", json: ["given_name": "x", "birthday": "yesterday"], headers: auth), 400)
            expectError(try await h.call("POST", "/contacts", json: ["given_name": "x", "groups": [["id": "nope"]]], headers: auth), 400)
            expectError(try await h.call("POST", "/contacts", json: [:], headers: auth), 400)
            expectError(try await h.call("PUT", "/contacts/\(id)", json: ["phone_numbers": [["type": "mobile"]]], headers: auth), 400)
            expectError(try await h.call("GET", "/contacts/nope", headers: auth), 404, "Couldn't find contact nope")
            expectError(try await h.call("GET", "/contacts?source=phonebook", headers: auth), 400)
            expectError(try await h.call("GET", "/contacts"), 401)
            #expect(try await h.call("GET", "/contacts?view=count", headers: auth).json?["count"]?.intValue == 2)
            #expect(try await h.call("GET", "/contacts/\(id)", headers: auth).json?["nickname"]?.stringValue == "Charlie B")
            #expect(try await h.call("DELETE", "/contacts/\(id)", headers: auth).status == 200)
            expectError(try await h.call("GET", "/contacts/\(id)", headers: auth), 404)
            // A contact with a photo, added by the provider.
            let added = try await h.call("POST", "/__sim/providers/mailboxes/book@gmail.com/contacts",
                                         json: ["given_name": "Pic", "picture": .string(Data(ContactInput.placeholderPicture).base64EncodedString())])
            #expect(added.status == 201, "\(added.text)")
            let pic = try #require(try await h.call("GET", "/contacts", headers: auth).json?.arrayValue?.first { $0["given_name"]?.stringValue == "Pic" })
            #expect(pic["picture_url"]?.stringValue?.hasSuffix("/contacts/\(try #require(pic["id"]?.stringValue))/picture") == true)
            let bytes = try await h.call("GET", "/contacts/\(try #require(pic["id"]?.stringValue))/picture", headers: auth)
            #expect(bytes.status == 200)
            #expect(bytes.headers["content-type"] == "image/png")
        }
    }

    // MARK: Free/busy and availability

    @Test("Free/busy and availability: v2 shapes, open hours (0 = Monday), external busy times, consecutive; bad input refused")
    func freeBusyAndAvailability() async throws {
        try await withSimulator { h in
            let (accountID, auth) = try await connect(h, email: "fb@gmail.com")
            let calID = try #require(try await primary(h, auth)["id"]?.stringValue)
            // Monday 2026-01-05 15:00–16:00Z busy.
            _ = try await h.call("POST", "/events", json: ["calendar_id": .string(calID), "title": "Busy",
                                                            "when": ["start_time": 1_767_625_200, "end_time": 1_767_628_800]], headers: auth)
            let fb = try await h.call("POST", "/calendars/free-busy", json: [
                "start_time": "1767600000", "end_time": 1_767_700_000, "emails": ["fb@gmail.com", "nobody@example.com"]], headers: auth)
            #expect(fb.status == 200, "\(fb.text)")
            let items = try #require(fb.json?.arrayValue)
            #expect(items.count == 2)
            #expect(items[0]["object"]?.stringValue == "free_busy")
            #expect(items[0]["email"]?.stringValue == "fb@gmail.com")
            #expect(items[0]["time_slots"] == [["object": "time_slot", "status": "busy", "start_time": 1_767_625_200, "end_time": 1_767_628_800]])
            #expect(items[1]["time_slots"] == [])
            let byCalendar = try await h.call("POST", "/calendars/free-busy", json: [
                "start_time": 1_767_600_000, "end_time": 1_767_700_000,
                "calendars": [["account_id": .string(accountID), "calendar_ids": [.string(calID)]]]], headers: auth)
            #expect(byCalendar.json?.arrayValue?.first?["time_slots"]?.arrayValue?.count == 1, "\(byCalendar.text)")
            expectError(try await h.call("POST", "/calendars/free-busy", json: ["start_time": 1, "end_time": 2], headers: auth), 400)
            expectError(try await h.call("POST", "/calendars/free-busy", json: ["start_time": 5, "end_time": 2, "emails": ["a@b.co"]], headers: auth), 400)
            expectError(try await h.call("POST", "/calendars/free-busy", json: ["start_time": "soon", "end_time": 2, "emails": ["a@b.co"]], headers: auth), 400)
            expectError(try await h.call("POST", "/calendars/free-busy", json: ["start_time": 1, "end_time": 2, "emails": ["x"]], headers: auth), 400)
            expectError(try await h.call("POST", "/calendars/free-busy", json: ["start_time": 1, "end_time": 2, "emails": ["a@b.co"]]), 401)
            expectError(try await h.call("POST", "/calendars/free-busy", json: ["start_time": 1, "end_time": .int(Int.max), "emails": ["a@b.co"]],
                                         headers: auth), 400)
            expectError(try await h.call("POST", "/calendars/free-busy", json: ["start_time": 0, "end_time": 100_000_000, "emails": ["a@b.co"]],
                                         headers: auth), 400)

            // Monday 14:00–17:00Z, 60-minute meetings every 30 minutes, open 09:00–17:00 UTC on Mondays (day 0).
            let body: JSON = [
                "emails": ["fb@gmail.com"], "duration_minutes": 60, "interval_minutes": 30,
                "start_time": 1_767_621_600, "end_time": 1_767_632_400,
                "open_hours": [["emails": ["fb@gmail.com"], "days": [0], "timezone": "UTC", "start": "9:00", "end": "17:00",
                                "object_type": "open_hours"]],
                "free_busy": [["email": "ext@partner.example", "object": "free_busy",
                               "time_slots": [["object": "time_slot", "status": "busy", "start_time": 1_767_628_800, "end_time": 1_767_630_600]]]],
            ]
            let availability = try await h.call("POST", "/calendars/availability", json: body, headers: auth)
            #expect(availability.status == 200, "\(availability.text)")
            #expect(availability.json?["object"]?.stringValue == "availability")
            let slots = try #require(availability.json?["time_slots"]?.arrayValue)
            // Free: 14:00–15:00 for fb; ext is busy 16:00–16:30, so the collective slots are 14:00 and (none after 16:00 fits both).
            #expect(slots.map { $0["start_time"]?.intValue } == [1_767_621_600], "\(availability.text)")
            #expect(slots.first?["status"]?.stringValue == "free")
            #expect(slots.first?["object"]?.stringValue == "time_slot")
            #expect(slots.first?["emails"] == ["fb@gmail.com", "ext@partner.example"])
            // Tuesday-only open hours: no slot on a Monday.
            var tuesday = body
            tuesday["open_hours"]?[0]?["days"] = [1]
            #expect(try await h.call("POST", "/calendars/availability", json: tuesday, headers: auth).json?["time_slots"] == [])
            var roundRobin = body
            roundRobin["round_robin"] = "max-availability"
            let rr = try await h.call("POST", "/calendars/availability", json: roundRobin, headers: auth)
            #expect(rr.json?["order"] == ["ext@partner.example", "fb@gmail.com"], "\(rr.text)")
            var stranger = body
            stranger["open_hours"]?[0]?["emails"] = ["stranger@example.com"]
            expectError(try await h.call("POST", "/calendars/availability", json: stranger, headers: auth), 400)
            var noDuration = body
            noDuration["duration_minutes"] = nil
            expectError(try await h.call("POST", "/calendars/availability", json: noDuration, headers: auth), 400)
            var badDays = body
            badDays["open_hours"]?[0]?["days"] = [9]
            expectError(try await h.call("POST", "/calendars/availability", json: badDays, headers: auth), 400)
            var huge = body
            huge["start_time"] = .int(Int.max - 10)
            expectError(try await h.call("POST", "/calendars/availability", json: huge, headers: auth), 400)

            // Consecutive: two 30-minute meetings back to back.
            let consecutive = try await h.call("POST", "/calendars/availability/consecutive", json: [
                "emails": [["fb@gmail.com"], ["other@example.com"]], "duration_minutes": 30, "interval_minutes": 30,
                "start_time": 1_767_621_600, "end_time": 1_767_628_800, "free_busy": [], "open_hours": []], headers: auth)
            #expect(consecutive.status == 200, "\(consecutive.text)")
            let first = try #require(consecutive.json?.arrayValue?.first?.arrayValue)
            #expect(first.count == 2)
            #expect(first[0]["end_time"] == first[1]["start_time"])
            #expect(first[0]["emails"] == ["fb@gmail.com"])
            expectError(try await h.call("POST", "/calendars/availability/consecutive", json: [
                "emails": ["fb@gmail.com"], "duration_minutes": 30, "start_time": 1_767_621_600, "end_time": 1_767_628_800], headers: auth), 400)
        }
    }

    // MARK: Outbox and job statuses

    @Test("Outbox: scheduled send on the virtual clock, update, cancel, job statuses; bad times refused")
    func outbox() async throws {
        try await withSimulator { h in
            let (accountID, auth) = try await connect(h, email: "out@gmail.com")
            let now = h.sim.now.seconds
            let queued = try await h.call("POST", "/v2/outbox", json: [
                "subject": "Later", "body": "Hello", "to": [["name": "Ann", "email": "ann@example.com"]], "send_at": .int(now + 3600),
                "retry_limit_datetime": .int(now + 7200)], headers: auth)
            #expect(queued.status == 200, "\(queued.text)")
            let job = try #require(queued.json?["job_status_id"]?.stringValue)
            #expect(queued.json?["status"]?.stringValue == "pending")
            #expect(queued.json?["account_id"]?.stringValue == accountID)
            #expect(queued.json?["object"] == nil)
            #expect(queued.json?["original_data"]?["send_at"]?.intValue == now + 3600)
            #expect(queued.json?["original_data"]?["retry_limit_datetime"]?.intValue == now + 7200)
            #expect(queued.json?["original_data"]?["to"]?[0]?["email"]?.stringValue == "ann@example.com")
            // Moved later and retitled.
            let patched = try await h.call("PATCH", "/v2/outbox/\(job)", json: ["send_at": .int(now + 5400), "subject": "Later still"], headers: auth)
            #expect(patched.status == 200, "\(patched.text)")
            #expect(patched.json?["original_data"]?["subject"]?.stringValue == "Later still")
            #expect(patched.json?["original_data"]?["send_at"]?.intValue == now + 5400)
            #expect(patched.json?["original_data"]?["original_send_at"]?.intValue == now + 3600)
            try await h.advance("1h")
            #expect(try await h.call("GET", "/job-statuses/\(job)", headers: auth).json?["status"]?.stringValue == "pending")
            #expect(try await h.call("GET", "/messages?in=sent", headers: auth).json?.arrayValue?.isEmpty == true)
            try await h.advance("31m")
            let done = try await h.call("GET", "/job-statuses/\(job)", headers: auth)
            #expect(done.json?["status"]?.stringValue == "successful", "\(done.text)")
            #expect(done.json?["object"]?.stringValue == "message")
            let messageID = try #require(done.json?["metadata"]?["message_id"]?.stringValue)
            let sent = try await h.call("GET", "/messages/\(messageID)", headers: auth)
            #expect(sent.json?["subject"]?.stringValue == "Later still")
            // A sent job can no longer change.
            expectError(try await h.call("PATCH", "/v2/outbox/\(job)", json: ["subject": "x"], headers: auth), 400)

            // Cancelled before its time: nothing is sent.
            let second = try await h.call("POST", "/v2/outbox", json: ["subject": "Never", "to": [["email": "bo@example.com"]],
                                                                        "send_at": .int(h.sim.now.seconds + 600)], headers: auth)
            let secondID = try #require(second.json?["job_status_id"]?.stringValue)
            #expect(try await h.call("DELETE", "/v2/outbox/\(secondID)", headers: auth).status == 200)
            try await h.advance("20m")
            #expect(try await h.call("GET", "/job-statuses/\(secondID)", headers: auth).json?["status"]?.stringValue == "cancelled")
            #expect(try await h.call("GET", "/messages?subject=Never", headers: auth).json?.arrayValue?.isEmpty == true)
            // send_at 0 is now.
            let immediate = try await h.call("POST", "/v2/outbox", json: ["subject": "Now", "to": [["email": "bo@example.com"]], "send_at": 0],
                                             headers: auth)
            let immediateID = try #require(immediate.json?["job_status_id"]?.stringValue)
            try await h.advance("1s")
            #expect(try await h.call("GET", "/job-statuses/\(immediateID)", headers: auth).json?["status"]?.stringValue == "successful")

            // Bad input.
            expectError(try await h.call("POST", "/v2/outbox", json: ["subject": "Past", "to": [["email": "a@example.com"]], "send_at": 1000],
                                         headers: auth), 400, "Cannot set message to be sent at a time before the current time.")
            expectError(try await h.call("POST", "/v2/outbox", json: ["to": [["email": "a@example.com"]], "send_at": .int(h.sim.now.seconds + 600),
                                                                       "retry_limit_datetime": .int(h.sim.now.seconds + 60)], headers: auth),
                        400, "Cannot set message to stop retrying before time to send at.")
            expectError(try await h.call("POST", "/v2/outbox", json: ["subject": "No one", "send_at": 0], headers: auth), 400)
            expectError(try await h.call("POST", "/v2/outbox", json: ["to": "a@example.com", "send_at": 0], headers: auth), 400)
            expectError(try await h.call("POST", "/v2/outbox", json: ["to": [["email": "a@example.com"]], "send_at": "tomorrow"], headers: auth), 400)
            expectError(try await h.call("POST", "/v2/outbox", json: ["to": [["email": "a@example.com"]], "send_at": .int(Int.max)], headers: auth), 400)
            expectError(try await h.call("PATCH", "/v2/outbox/nope", json: ["subject": "x"], headers: auth), 404)
            expectError(try await h.call("DELETE", "/v2/outbox/nope", headers: auth), 404)
            expectError(try await h.call("POST", "/v2/outbox", json: ["to": [["email": "a@example.com"]], "send_at": 0]), 401)
            #expect(try await h.call("GET", "/v2/outbox/onboard/verified_status", headers: auth).json?["results"]?["domain_verified"] == true)

            // Job statuses: the outbox jobs and every calendar/event/contact write.
            let contact = try await h.call("POST", "/contacts", json: ["given_name": "Job"], headers: auth)
            let contactJob = try #require(contact.json?["job_status_id"]?.stringValue)
            let js = try await h.call("GET", "/job-statuses/\(contactJob)", headers: auth)
            #expect(js.json?["action"]?.stringValue == "create_contact")
            #expect(js.json?["object"]?.stringValue == "contact")
            #expect(js.json?["status"]?.stringValue == "successful")
            #expect(js.json?["metadata"]?["contact_id"] == contact.json?["id"])
            #expect(js.json?["job_status_id"]?.stringValue == contactJob)
            let all = try await h.call("GET", "/job-statuses", headers: auth)
            #expect(all.json?.arrayValue?.count == 4, "\(all.text)")
            #expect(try await h.call("GET", "/job-statuses?view=count", headers: auth).json?["count"]?.intValue == 4)
            #expect(try await h.call("GET", "/job-statuses?limit=1&offset=3", headers: auth).json?.arrayValue?.first?["job_status_id"]?.stringValue == contactJob)
            expectError(try await h.call("GET", "/job-statuses/nope", headers: auth), 404)
            expectError(try await h.call("GET", "/job-statuses"), 401)
        }
    }

    @Test("A stopped account is refused (403) and an IMAP account has calendars too")
    func accountStates() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let basic = ["Authorization": "Basic " + Data("\(v2.clientSecret):".utf8).base64EncodedString()]
            let (id, auth) = try await connect(h, email: "imapcal@example.com", provider: "imap")
            let cals = try await h.call("GET", "/calendars", headers: auth)
            #expect(cals.json?.arrayValue?.count == 2, "\(cals.text)")  // its calendar and Emailed events
            _ = try await h.call("POST", "/a/\(v2.clientID)/accounts/\(id)/downgrade", headers: basic)
            expectError(try await h.call("GET", "/events", headers: auth), 403)
            expectError(try await h.call("POST", "/contacts", json: ["given_name": "x"], headers: auth), 403)
        }
    }

    // MARK: iCalendar, multiple IDs, generated cursors

    @Test("to-ics of a stored and an unsaved event; messages by several IDs; delta/generate_cursor; bad input refused")
    func icsIDsAndCursors() async throws {
        try await withSimulator { h in
            let (_, auth) = try await connect(h, email: "ics@gmail.com")
            let cal = try #require(try await h.call("GET", "/calendars", headers: auth).json?.arrayValue?.first { $0["is_primary"] == true }?["id"]?.stringValue)
            let created = try await h.call("POST", "/events", json: [
                "calendar_id": .string(cal), "title": "Review, part 1; draft", "location": "Room 7",
                "when": ["start_time": 1_767_790_800, "end_time": 1_767_794_400],
                "participants": [["email": "bob@example.com", "name": "Bob"]],
                "recurrence": ["rrule": ["RRULE:FREQ=WEEKLY;COUNT=2"], "timezone": "Europe/Dublin"]], headers: auth)
            #expect(created.status == 200, "\(created.text)")
            let id = try #require(created.json?["id"]?.stringValue)
            let uid = try #require(created.json?["ical_uid"]?.stringValue)
            let ics = try await h.call("POST", "/events/to-ics", json: ["event_id": .string(id)], headers: auth)
            #expect(ics.status == 200, "\(ics.text)")
            let text = try #require(ics.json?["ics"]?.stringValue)
            #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 75 }, "folded at 75 octets")
            let lines = text.replacingOccurrences(of: "\r\n ", with: "").components(separatedBy: "\r\n")
            #expect(lines.first == "BEGIN:VCALENDAR" && lines.contains("END:VCALENDAR"))
            #expect(lines.contains("METHOD:REQUEST"))
            #expect(lines.contains("UID:\(uid)"))
            #expect(lines.contains("DTSTART:20260107T130000Z"))
            #expect(lines.contains("DTEND:20260107T140000Z"))
            #expect(lines.contains("RRULE:FREQ=WEEKLY;COUNT=2"))
            #expect(lines.contains("SUMMARY:Review\\, part 1\\; draft"), "RFC 5545 TEXT escaping")
            #expect(lines.contains { $0.hasPrefix("ATTENDEE;CN=\"Bob\";") && $0.hasSuffix("PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.com") })
            let unsaved = try await h.call("POST", "/events/to-ics", json: [
                "title": "All day", "when": ["date": "2026-03-02"], "ics_options": ["method": "publish", "ical_uid": "fixed-uid", "prodid": "-//Test//EN"]],
                                           headers: auth)
            let unsavedText = try #require(unsaved.json?["ics"]?.stringValue)
            #expect(unsavedText.contains("METHOD:PUBLISH\r\n") && unsavedText.contains("UID:fixed-uid\r\n") && unsavedText.contains("PRODID:-//Test//EN\r\n"))
            #expect(unsavedText.contains("DTSTART;VALUE=DATE:20260302\r\nDTEND;VALUE=DATE:20260303\r\n"))
            for bad: JSON in [["event_id": "nope"], ["title": "no when"], ["event_id": .string(id), "ics_options": ["method": "shout"]],
                              ["event_id": .string(id), "ics_options": "x"]] {
                let r = try await h.call("POST", "/events/to-ics", json: bad, headers: auth)
                #expect([400, 404].contains(r.status), "\(bad): \(r.text)")
                #expect(r.json?["type"]?.stringValue == "invalid_request_error")
            }

            // Messages by several IDs at once.
            let cursor = try #require(try await h.call("POST", "/delta/latest_cursor", headers: auth).json?["cursor"]?.stringValue)
            await h.sim.advance(by: .seconds(60))
            let mark = h.sim.now.seconds
            _ = try h.sim.deliverMail(to: "ics@gmail.com", from: "a@example.org", subject: "First")
            _ = try h.sim.deliverMail(to: "ics@gmail.com", from: "a@example.org", subject: "Second")
            let ids = try #require(try await h.call("GET", "/messages?view=ids", headers: auth).json?.arrayValue?.compactMap(\.stringValue))
            #expect(ids.count == 2)
            let both = try await h.call("GET", "/messages/\(ids.joined(separator: ","))", headers: auth)
            #expect(Set(both.json?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == Set(ids))
            let none = try await h.call("GET", "/messages/nope1,nope2", headers: auth)
            #expect(none.status == 404)
            // A cursor generated for a time gives the changes from that time on.
            let generated = try await h.call("POST", "/delta/generate_cursor", json: ["start": .int(mark)], headers: auth)
            let fromMark = try #require(generated.json?["cursor"]?.stringValue)
            let after = try await h.call("GET", "/delta?cursor=\(fromMark)", headers: auth)
            let objects = after.json?["deltas"]?.arrayValue?.compactMap { $0["object"]?.stringValue } ?? []
            #expect(objects.filter { $0 == "message" }.count == 2)
            #expect(!objects.contains("event"), "the event was created before the mark")
            let full = try await h.call("GET", "/delta?cursor=\(cursor)", headers: auth)
            #expect((full.json?["deltas"]?.arrayValue?.count ?? 0) >= (after.json?["deltas"]?.arrayValue?.count ?? 0))
            let missing = try await h.call("POST", "/delta/generate_cursor", json: [:], headers: auth)
            #expect(missing.status == 400)
        }
    }
}

fileprivate extension JSON {
    /// An element of an array (nil outside it); setting replaces it.
    subscript(_ i: Int) -> JSON? {
        get {
            guard case .array(let a) = self, a.indices.contains(i) else { return nil }
            return a[i]
        }
        set {
            guard case .array(var a) = self, a.indices.contains(i) else { return }
            a[i] = newValue ?? .null
            self = .array(a)
        }
    }
}
