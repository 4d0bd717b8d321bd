import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

@Suite("Calendars, events, availability, free/busy and contacts (v3)")
struct CalendarTests {
    // MARK: Helpers

    static func enc(_ s: String) -> String { QueryParameters.encode(s) }

    func subscribe(_ h: SimHarness, _ receiver: WebhookReceiver, _ triggers: [String]) async throws {
        let r = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                 json: ["trigger_types": .strings(triggers), "webhook_url": .string(receiver.url)])
        #expect(r.status == 200, "\(r.text)")
    }

    func events(_ h: SimHarness, _ g: GrantInfo, _ query: String, region: Region = .us) async throws -> [JSON] {
        let r = try await h.call("GET", "/v3/grants/\(g.id)/events?\(query)", region: region, token: g.accessToken)
        #expect(r.status == 200, "\(r.text)")
        return r.data?.arrayValue ?? []
    }

    func localHour(_ unix: Int, _ zone: String) -> Int {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: zone)!
        return c.component(.hour, from: Date(timeIntervalSince1970: TimeInterval(unix)))
    }

    func utcHour(_ unix: Int) -> Int { (unix % 86400) / 3600 }

    // MARK: Recurrence across DST

    @Test("A weekly event keeps its wall-clock hour across DST in America/New_York and Europe/Dublin while UTC shifts")
    func weeklyAcrossDST() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "dst@gmail.com", provider: "google")
            // Mondays 09:00 New York from 2026-02-23: DST starts on 2026-03-08.
            let ny = try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=primary", token: g.accessToken, json: [
                "title": "NY standup", "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4"],
                "when": ["start_time": 1_771_855_200, "end_time": 1_771_857_000,
                         "start_timezone": "America/New_York", "end_timezone": "America/New_York"]])
            #expect(ny.status == 200, "\(ny.text)")
            let master = try #require(ny.data?["id"]?.stringValue)
            #expect(ny.data?["when"]?["object"]?.stringValue == "timespan")
            #expect(ny.data?["recurrence"]?.arrayValue?.count == 1)
            #expect(ny.data?["ical_uid"]?.stringValue?.hasSuffix("@google.com") == true)
            let list = try await events(h, g, "calendar_id=primary&start=1771000000&end=1775000000&expand_recurring=true")
            let starts = list.compactMap { $0["when"]?["start_time"]?.intValue }
            #expect(starts == [1_771_855_200, 1_772_460_000, 1_773_061_200, 1_773_666_000])
            #expect(starts.map { localHour($0, "America/New_York") } == [9, 9, 9, 9], "the wall clock stays at 09:00")
            #expect(starts.map(utcHour) == [14, 14, 13, 13], "UTC moves by an hour at the change")
            #expect(list.map { $0["id"]?.stringValue } == [
                "\(master)_20260223T140000Z", "\(master)_20260302T140000Z", "\(master)_20260309T130000Z", "\(master)_20260316T130000Z",
            ])
            #expect(list.allSatisfy { $0["master_event_id"]?.stringValue == master && $0["recurrence"] == nil })
            // Each occurrence is readable by its ID; the length stays 30 minutes.
            let one = try await h.call("GET", "/v3/grants/\(g.id)/events/\(master)_20260309T130000Z?calendar_id=primary", token: g.accessToken)
            #expect(one.status == 200, "\(one.text)")
            #expect(one.data?["when"]?["end_time"]?.intValue == 1_773_061_200 + 1800)
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/events/\(master)_20260309T140000Z?calendar_id=primary", token: g.accessToken).status == 404)
            // Without expansion: the master alone.
            let masters = try await events(h, g, "calendar_id=primary&start=1771000000&end=1775000000&expand_recurring=false")
            #expect(masters.map { $0["id"]?.stringValue } == [master])

            // Fridays 18:00 Dublin from 2026-03-20: Irish summer time starts on 2026-03-29.
            let dublin = try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=primary", token: g.accessToken, json: [
                "title": "Dublin drinks", "recurrence": ["RRULE:FREQ=WEEKLY;INTERVAL=1;UNTIL=20260404T000000Z", "EXDATE;TZID=Europe/Dublin:20260327T180000"],
                "when": ["start_time": 1_774_029_600, "end_time": 1_774_033_200, "start_timezone": "Europe/Dublin"]])
            #expect(dublin.status == 200, "\(dublin.text)")
            let d = try await events(h, g, "calendar_id=primary&start=1774000000&end=1776000000&title=dublin")
            let ds = d.compactMap { $0["when"]?["start_time"]?.intValue }
            #expect(ds == [1_774_029_600, 1_775_235_600], "the 27th is excluded; the 3rd of April is the last before UNTIL")
            #expect(ds.map { localHour($0, "Europe/Dublin") } == [18, 18])
            #expect(ds.map(utcHour) == [18, 17])

            // Editing one occurrence makes an exception under the occurrence's ID; the others keep the series.
            let edit = try await h.call("PUT", "/v3/grants/\(g.id)/events/\(master)_20260302T140000Z?calendar_id=primary", token: g.accessToken,
                                        json: ["title": "NY standup (moved)", "when": ["start_time": 1_772_463_600, "end_time": 1_772_465_400]])
            #expect(edit.status == 200, "\(edit.text)")
            #expect(edit.data?["id"]?.stringValue == "\(master)_20260302T140000Z")
            #expect(edit.data?["master_event_id"]?.stringValue == master)
            let del = try await h.call("DELETE", "/v3/grants/\(g.id)/events/\(master)_20260316T130000Z?calendar_id=primary", token: g.accessToken)
            #expect(del.status == 200, "\(del.text)")
            let after = try await events(h, g, "calendar_id=primary&start=1771000000&end=1775000000&title=standup")
            #expect(after.map { $0["title"]?.stringValue } == ["NY standup", "NY standup (moved)", "NY standup"])
            #expect(after.compactMap { $0["when"]?["start_time"]?.intValue } == [1_771_855_200, 1_772_463_600, 1_773_061_200])
            let cancelled = try await events(h, g, "calendar_id=primary&start=1771000000&end=1775000000&title=standup&show_cancelled=true")
            #expect(cancelled.count == 4)
            #expect(cancelled.last?["status"]?.stringValue == "cancelled")
        }
    }

    @Test("Monthly, yearly and all-day rules; the fall-back change in New York")
    func otherRules() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "rules@gmail.com", provider: "google")
            func create(_ body: JSON) async throws -> JSON {
                let r = try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=primary", token: g.accessToken, json: body)
                #expect(r.status == 200, "\(r.text)")
                return r.data ?? .null
            }
            // Last Friday of each month, 3 times, all-day.
            _ = try await create(["title": "Review", "when": ["date": "2026-01-30"], "recurrence": ["RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=3"]])
            let monthly = try await events(h, g, "calendar_id=primary&start=1767225600&end=1780000000&title=review")
            #expect(monthly.compactMap { $0["when"]?["date"]?.stringValue } == ["2026-01-30", "2026-02-27", "2026-03-27"])
            #expect(monthly.first?["when"]?["object"]?.stringValue == "date")
            #expect(monthly.first?["id"]?.stringValue?.hasSuffix("_20260130") == true)
            // Fall back: 09:00 New York is 13:00Z on 26 October, 14:00Z on 2 November.
            _ = try await create(["title": "Autumn", "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=2"],
                                  "when": ["start_time": 1_793_019_600, "end_time": 1_793_023_200, "start_timezone": "America/New_York"]])
            let autumn = try await events(h, g, "calendar_id=primary&start=1793000000&end=1794000000&title=autumn")
            #expect(autumn.compactMap { $0["when"]?["start_time"]?.intValue } == [1_793_019_600, 1_793_628_000])
            // Datespan and time shapes keep their object discriminator.
            let span = try await create(["title": "Trip", "when": ["start_date": "2026-02-01", "end_date": "2026-02-03"]])
            #expect(span["when"]?["object"]?.stringValue == "datespan")
            let point = try await create(["title": "Reminder", "when": ["time": 1_767_700_000, "timezone": "Europe/Paris"]])
            #expect(point["when"] == ["object": "time", "time": 1_767_700_000, "timezone": "Europe/Paris"])
        }
    }

    @Test("Recurrence rules as RFC 5545 reads them: WKST, short months, leap days, ordinals, COUNT with EXDATE, date UNTIL")
    func recurrenceRules() throws {
        func days(_ lines: [String], _ first: String, limit: Int = 10, to: String = "2035-01-01") throws -> [String] {
            let r = try Recurrence.parse(lines)
            let when = EventWhen.date(CivilDate(first)!)
            return r.occurrences(of: when, from: 0, to: CivilDate(to)!.dayNumber * 86400, limit: limit).map {
                if case .date(let d) = $0.when { return d.description }
                return "?"
            }
        }
        // RFC 5545 §3.8.5.3: every other week on Tuesday and Sunday; the week start decides the pairs.
        #expect(try days(["RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO"], "1997-08-05")
            == ["1997-08-05", "1997-08-10", "1997-08-19", "1997-08-24"])
        #expect(try days(["RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU"], "1997-08-05")
            == ["1997-08-05", "1997-08-17", "1997-08-19", "1997-08-31"])
        // The 31st skips the months that lack one; the 29th of February waits for leap years.
        #expect(try days(["RRULE:FREQ=MONTHLY;COUNT=4"], "2026-01-31") == ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"])
        #expect(try days(["RRULE:FREQ=YEARLY;COUNT=3"], "2024-02-29") == ["2024-02-29", "2028-02-29", "2032-02-29"])
        // Last weekday of the month and the second-to-last day.
        #expect(try days(["RRULE:FREQ=MONTHLY;BYDAY=-1MO;COUNT=3"], "2026-01-26") == ["2026-01-26", "2026-02-23", "2026-03-30"])
        #expect(try days(["RRULE:FREQ=MONTHLY;BYMONTHDAY=-2;COUNT=2"], "2026-02-27") == ["2026-02-27", "2026-03-30"])
        // Thanksgiving: the fourth Thursday of November.
        #expect(try days(["RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=2"], "2026-11-26") == ["2026-11-26", "2027-11-25"])
        // COUNT counts excluded dates too; UNTIL as a date is inclusive.
        #expect(try days(["RRULE:FREQ=DAILY;COUNT=4", "EXDATE;VALUE=DATE:20260102"], "2026-01-01") == ["2026-01-01", "2026-01-03", "2026-01-04"])
        #expect(try days(["RRULE:FREQ=DAILY;INTERVAL=3;UNTIL=20260107"], "2026-01-01") == ["2026-01-01", "2026-01-04", "2026-01-07"])
        #expect(try days(["RRULE:FREQ=WEEKLY;BYDAY=SA,SU;COUNT=3"], "2026-01-03") == ["2026-01-03", "2026-01-04", "2026-01-10"])
        // Malformed lines are 400s naming the line.
        for bad in ["RRULE:FREQ=SECONDLY", "RRULE:FREQ=DAILY;COUNT=0", "RRULE:FREQ=WEEKLY;BYDAY=1MO", "RRULE:FREQ=DAILY;UNTIL=tomorrow",
                    "RRULE:FREQ=MONTHLY;BYMONTHDAY=32", "EXDATE:2026", "RDATE:20260101"] {
            #expect(throws: NylasError.self, "\(bad)") { try Recurrence.parse([bad]) }
        }
    }

    // MARK: Moves

    @Test("Moving an event to another calendar is one event.updated, never event.created, through the API and the provider")
    func moveGivesOneUpdate() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            try await subscribe(h, receiver, ["event.created", "event.updated", "event.deleted"])
            let g = try h.sim.createGrant(email: "mover@gmail.com", provider: "google")
            let cal = try await h.call("POST", "/v3/grants/\(g.id)/calendars", token: g.accessToken, json: ["name": "Side", "timezone": "Europe/Dublin"])
            #expect(cal.status == 200, "\(cal.text)")
            let side = try #require(cal.data?["id"]?.stringValue)
            #expect(side.hasSuffix("@group.calendar.google.com"))
            let created = try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=primary", token: g.accessToken,
                                           json: ["title": "Movable", "when": ["start_time": 1_767_790_800, "end_time": 1_767_794_400]])
            let id = try #require(created.data?["id"]?.stringValue)
            #expect(created.data?["calendar_id"]?.stringValue == "mover@gmail.com", "Google's primary calendar ID is the address")
            _ = try #require(await h.sim.nextDelivery { $0.type == "event.created" })
            let moved = try await h.call("PUT", "/v3/grants/\(g.id)/events/\(id)?calendar_id=primary", token: g.accessToken,
                                         json: ["calendar_id": .string(side)])
            #expect(moved.status == 200, "\(moved.text)")
            #expect(moved.data?["id"]?.stringValue == id, "a move keeps the event's ID")
            #expect(moved.data?["calendar_id"]?.stringValue == side)
            let update = try #require(await h.sim.nextDelivery { $0.type == "event.updated" })
            #expect(update.payload?["data"]?["object"]?["calendar_id"]?.stringValue == side)
            #expect(update.payload?["source"]?.stringValue == "/google/events/realtime")
            await h.sim.settle()
            var all = try h.sim.webhookDeliveries()
            #expect(all.filter { $0.type == "event.created" }.count == 1)
            #expect(all.filter { $0.type == "event.updated" }.count == 1)
            #expect(all.filter { $0.type == "event.deleted" }.isEmpty)
            #expect(try await events(h, g, "calendar_id=primary&start=1767700000&end=1767900000").isEmpty)
            #expect(try await events(h, g, "calendar_id=\(Self.enc(side))&start=1767700000&end=1767900000").map { $0["id"]?.stringValue } == [id])
            // The user moves it back in their own calendar app: again a single event.updated.
            let worldEvents = try await h.call("GET", "/__sim/providers/mailboxes/mover@gmail.com/events")
            let uid = try #require(worldEvents.json?["data"]?.arrayValue?.first { $0["title"]?.stringValue == "Movable" }?["ical_uid"]?.stringValue)
            let back = try await h.call("PATCH", "/__sim/providers/mailboxes/mover@gmail.com/events/\(Self.enc(uid))", json: ["calendar": "primary"])
            #expect(back.status == 200, "\(back.text)")
            let second = try #require(await h.sim.nextDelivery(after: update.sequence) { $0.type == "event.updated" })
            #expect(second.payload?["data"]?["object"]?["calendar_id"]?.stringValue == "mover@gmail.com")
            await h.sim.settle()
            all = try h.sim.webhookDeliveries()
            #expect(all.filter { $0.type == "event.created" }.count == 1)
            #expect(all.filter { $0.type == "event.updated" }.count == 2)
        }
    }

    // MARK: Availability and free/busy

    @Test("Availability of two participants with busy blocks, buffers, open hours and round-robin")
    func availability() async throws {
        try await withSimulator { h in
            let a = try h.sim.createGrant(email: "ann@gmail.com", provider: "google")
            _ = try h.sim.createGrant(email: "ben@outlook.com", provider: "microsoft")
            let day = 1_767_571_200 // Monday 2026-01-05 00:00Z
            for (who, start) in [("ann@gmail.com", day + 10 * 3600), ("ben@outlook.com", day + 13 * 3600)] {
                let r = try await h.call("POST", "/__sim/providers/mailboxes/\(who)/events",
                                         json: ["title": "Busy", "when": ["start_time": .int(start), "end_time": .int(start + 3600)]])
                #expect(r.status == 201, "\(r.text)")
            }
            // A free event does not block.
            _ = try await h.call("POST", "/__sim/providers/mailboxes/ann@gmail.com/events",
                                 json: ["title": "Free", "busy": false, "when": ["start_time": .int(day + 15 * 3600), "end_time": .int(day + 16 * 3600)]])
            func ask(_ extra: JSON) async throws -> JSON {
                var body: JSON = ["start_time": .int(day + 9 * 3600), "end_time": .int(day + 17 * 3600), "duration_minutes": 60,
                                  "participants": [["email": "ann@gmail.com"], ["email": "ben@outlook.com"]]]
                for (k, v) in extra.objectValue ?? [:] { body[k] = v }
                let r = try await h.call("POST", "/v3/calendars/availability", token: h.apiKey, json: body)
                #expect(r.status == 200, "\(r.text)")
                return r.data ?? .null
            }
            let plain = try await ask([:])
            let hours = plain["time_slots"]?.arrayValue?.compactMap { $0["start_time"]?.intValue.map { ($0 - day) / 3600 } }
            #expect(hours == [9, 11, 12, 14, 15, 16])
            #expect(plain["time_slots"]?.arrayValue?.first?["emails"] == ["ann@gmail.com", "ben@outlook.com"])
            // A 15-minute buffer after meetings and half-hour steps: 11:00 is taken by Ann's buffer.
            let buffered = try await ask(["interval_minutes": 30, "availability_rules": ["buffer": ["before": 0, "after": 15]]])
            let starts = buffered["time_slots"]?.arrayValue?.compactMap { $0["start_time"]?.intValue.map { Double($0 - day) / 3600 } }
            #expect(starts == [9, 11.5, 12, 14.5, 15, 15.5, 16])
            // Open hours 09:00–12:00 New York (14:00–17:00Z) for everyone.
            let open = try await ask(["availability_rules": ["default_open_hours": [["days": [1], "timezone": "America/New_York", "start": "9:00", "end": "12:00"]]]])
            #expect(open["time_slots"]?.arrayValue?.compactMap { $0["start_time"]?.intValue.map { ($0 - day) / 3600 } } == [14, 15, 16])
            // Round-robin: a slot needs one free participant; the order lists who comes first.
            let rr = try await ask(["availability_rules": ["availability_method": "max-availability"]])
            #expect(rr["time_slots"]?.arrayValue?.count == 8)
            #expect(rr["order"]?.arrayValue?.count == 2)
            // Bad requests are 400s that name the field.
            let bad = try await h.call("POST", "/v3/calendars/availability", token: h.apiKey,
                                       json: ["start_time": .int(day), "end_time": .int(day + 3600), "duration_minutes": 7, "participants": [["email": "ann@gmail.com"]]])
            #expect(bad.status == 400)
            #expect(bad.json?["error"]?["message"]?.stringValue?.contains("duration_minutes") == true)
            let stranger = try await h.call("POST", "/v3/calendars/availability", token: a.accessToken,
                                            json: ["start_time": .int(day), "end_time": .int(day + 3600), "duration_minutes": 30,
                                                   "participants": [["email": "nobody@example.com"]]])
            #expect(stranger.status == 400, "every participant needs a grant")
        }
    }

    @Test("Free/busy: merged busy slots per address, an error item for an unknown one, tentative and declined handling")
    func freeBusy() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "fb@gmail.com", provider: "google")
            let day = 1_767_571_200
            for (start, end) in [(9, 10), (9.5, 11), (14, 15)] as [(Double, Double)] {
                _ = try await h.call("POST", "/__sim/providers/mailboxes/fb@gmail.com/events",
                                     json: ["title": "Work", "when": ["start_time": .int(day + Int(start * 3600)), "end_time": .int(day + Int(end * 3600))]])
            }
            // An invitation Ann declined is not busy; a weekly series is expanded.
            _ = try await h.call("POST", "/__sim/providers/mailboxes/fb@gmail.com/events", json: [
                "title": "Declined", "organizer": ["email": "boss@example.com"],
                "participants": [["email": "fb@gmail.com", "status": "no"]],
                "when": ["start_time": .int(day + 16 * 3600), "end_time": .int(day + 17 * 3600)]])
            _ = try await h.call("POST", "/__sim/providers/mailboxes/other@gmail.com/events", json: [
                "title": "Gym", "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"], "when": ["start_time": .int(day - 86400 + 7 * 3600), "end_time": .int(day - 86400 + 8 * 3600)]])
            let r = try await h.call("POST", "/v3/grants/\(g.id)/calendars/free-busy", token: g.accessToken, json: [
                "start_time": .int(day), "end_time": .int(day + 86400), "emails": ["fb@gmail.com", "other@gmail.com", "ghost@nowhere.example"]])
            #expect(r.status == 200, "\(r.text)")
            let items = r.data?.arrayValue ?? []
            #expect(items.map { $0["object"]?.stringValue } == ["free_busy", "free_busy", "error"])
            let slots = items[0]["time_slots"]?.arrayValue ?? []
            #expect(slots.map { [$0["start_time"]?.intValue, $0["end_time"]?.intValue] } == [[day + 9 * 3600, day + 11 * 3600], [day + 14 * 3600, day + 15 * 3600]])
            #expect(slots.allSatisfy { $0["status"] == "busy" && $0["object"] == "time_slot" })
            #expect(items[1]["time_slots"]?.arrayValue?.map { $0["start_time"]?.intValue } == [day + 7 * 3600])
            #expect(items[2]["email"]?.stringValue == "ghost@nowhere.example")
            #expect(items[2]["error"]?.stringValue?.isEmpty == false)
            let bad = try await h.call("POST", "/v3/grants/\(g.id)/calendars/free-busy", token: g.accessToken,
                                       json: ["start_time": .int(day + 10), "end_time": .int(day), "emails": ["fb@gmail.com"]])
            #expect(bad.status == 400)
        }
    }

    // MARK: Bad input

    @Test("Every bad input is a Nylas-shaped 400/403/404 and changes nothing")
    func badInputs() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "strict@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/events"
            func expectError(_ r: HTTPClient.Response, _ status: Int, mentions: String, _ comment: Comment) {
                #expect(r.status == status, comment)
                #expect(r.json?["request_id"]?.stringValue != nil, comment)
                #expect(r.errorType != nil, comment)
                #expect(r.json?["error"]?["message"]?.stringValue?.contains(mentions) == true, "\(comment): \(r.text)")
            }
            let good: JSON = ["title": "ok", "when": ["start_time": 1_767_790_800, "end_time": 1_767_794_400]]
            expectError(try await h.call("GET", path, token: g.accessToken), 400, mentions: "calendar_id", "list without calendar_id")
            expectError(try await h.call("POST", path, token: g.accessToken, json: good), 400, mentions: "calendar_id", "create without calendar_id")
            expectError(try await h.call("GET", path + "?calendar_id=nope", token: g.accessToken), 404, mentions: "nope", "unknown calendar")
            expectError(try await h.call("POST", path + "?calendar_id=nope", token: g.accessToken, json: good), 404, mentions: "nope", "unknown calendar")
            expectError(try await h.call("POST", path + "?calendar_id=primary", token: g.accessToken,
                                         json: ["when": ["start_time": 1_767_790_800, "end_time": 1_767_794_400, "start_timezone": "Mars/Olympus_Mons"]]),
                        400, mentions: "Mars/Olympus_Mons", "bad time zone")
            expectError(try await h.call("POST", path + "?calendar_id=primary", token: g.accessToken,
                                         json: ["when": ["start_time": 1_767_794_400, "end_time": 1_767_790_800]]),
                        400, mentions: "end_time", "end before start")
            expectError(try await h.call("POST", path + "?calendar_id=primary", token: g.accessToken,
                                         json: ["when": ["start_date": "2026-02-03", "end_date": "2026-02-01"]]),
                        400, mentions: "end_date", "end date before start date")
            for rule in ["RRULE:FREQ=HOURLY", "RRULE:FREQ=WEEKLY;BYDAY=XX", "RRULE:INTERVAL=2", "RRULE:FREQ=DAILY;COUNT=3;UNTIL=20260101",
                         "RRULE:FREQ=DAILY;INTERVAL=0", "BANANA", "RRULE:FREQ=DAILY;FOO=1"] {
                expectError(try await h.call("POST", path + "?calendar_id=primary", token: g.accessToken,
                                             json: ["when": ["start_time": 1_767_790_800, "end_time": 1_767_794_400], "recurrence": [.string(rule)]]),
                            400, mentions: "recurrence", "malformed rule \(rule)")
            }
            expectError(try await h.call("POST", path + "?calendar_id=primary", token: g.accessToken, json: ["title": "no when"]),
                        400, mentions: "when", "missing when")
            expectError(try await h.call("POST", path + "?calendar_id=primary", token: g.accessToken,
                                         json: ["when": ["time": 5, "start_time": 6]]), 400, mentions: "when", "two shapes")
            expectError(try await h.call("POST", path + "?calendar_id=primary", token: g.accessToken,
                                         json: ["when": ["date": "2026-02-30"]]), 400, mentions: "2026-02-30", "no such day")
            expectError(try await h.call("GET", path + "?calendar_id=primary&start=200&end=100", token: g.accessToken), 400, mentions: "end", "end before start in a list")
            expectError(try await h.call("GET", path + "/nothing?calendar_id=primary", token: g.accessToken), 404, mentions: "nothing", "unknown event")
            // A failed request changed nothing: no event was made.
            #expect(try await events(h, g, "calendar_id=primary&start=0&end=1900000000").isEmpty)
            #expect(try await h.call("GET", "/__sim/providers/mailboxes/strict@gmail.com/events").json?["data"]?.arrayValue?
                .allSatisfy { Set(USHolidays.of(year: 2026).map(\.name)).contains($0["title"]?.stringValue ?? "") } == true,
                    "only Google's holidays are there")
            // Read-only and primary calendars refuse what they cannot do.
            let calendars = try await h.call("GET", "/v3/grants/\(g.id)/calendars", token: g.accessToken)
            let holidays = try #require(calendars.data?.arrayValue?.first { $0["read_only"]?.boolValue == true }?["id"]?.stringValue)
            expectError(try await h.call("POST", path + "?calendar_id=\(Self.enc(holidays))", token: g.accessToken, json: good), 403, mentions: "read-only", "read-only calendar")
            expectError(try await h.call("PUT", "/v3/grants/\(g.id)/calendars/\(Self.enc(holidays))", token: g.accessToken, json: ["name": "Mine"]),
                        403, mentions: "read-only", "rename a read-only calendar")
            expectError(try await h.call("DELETE", "/v3/grants/\(g.id)/calendars/primary", token: g.accessToken), 400, mentions: "primary", "delete primary")
            expectError(try await h.call("POST", "/v3/grants/\(g.id)/calendars", token: g.accessToken, json: ["name": "X", "timezone": "Nowhere/Town"]),
                        400, mentions: "Nowhere/Town", "calendar time zone")
            expectError(try await h.call("POST", "/v3/grants/\(g.id)/calendars", token: g.accessToken, json: ["description": "no name"]),
                        400, mentions: "name", "calendar without name")
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/calendars", token: g.accessToken).data?.arrayValue?.count == 2)
            // RSVP needs a valid answer and an invitation.
            let ev = try await h.call("POST", path + "?calendar_id=primary", token: g.accessToken, json: good)
            let id = try #require(ev.data?["id"]?.stringValue)
            expectError(try await h.call("POST", path + "/\(id)/send-rsvp?calendar_id=primary", token: g.accessToken, json: ["status": "perhaps"]),
                        400, mentions: "status", "bad RSVP")
            expectError(try await h.call("POST", path + "/\(id)/send-rsvp?calendar_id=primary", token: g.accessToken, json: ["status": "yes"]),
                        400, mentions: "participant", "RSVP to one's own event")
            expectError(try await h.call("PUT", path + "/\(id)?calendar_id=primary", token: g.accessToken,
                                         json: ["when": ["end_time": 1_767_780_000]]), 400, mentions: "end_time", "update ends before start")
            let still = try await h.call("GET", path + "/\(id)?calendar_id=primary", token: g.accessToken)
            #expect(still.data?["when"]?["end_time"]?.intValue == 1_767_794_400, "the failed update changed nothing")
        }
    }

    // MARK: Primary-only sync

    @Test("By default only the primary calendar's events are notified; the application setting turns that off")
    func primaryOnlySync() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            try await subscribe(h, receiver, ["event.created", "calendar.created"])
            let g = try h.sim.createGrant(email: "prim@gmail.com", provider: "google")
            let side = try await h.call("POST", "/__sim/providers/mailboxes/prim@gmail.com/calendars", json: ["name": "Side"])
            #expect(side.status == 201, "\(side.text)")
            _ = try #require(await h.sim.nextDelivery { $0.type == "calendar.created" })
            let when: JSON = ["start_time": 1_767_790_800, "end_time": 1_767_794_400]
            _ = try await h.call("POST", "/__sim/providers/mailboxes/prim@gmail.com/events", json: ["title": "Secondary", "calendar": "Side", "when": when])
            _ = try await h.call("POST", "/__sim/providers/mailboxes/prim@gmail.com/events", json: ["title": "Primary", "when": when])
            let primary = try #require(await h.sim.nextDelivery { $0.type == "event.created" })
            #expect(primary.payload?["data"]?["object"]?["title"]?.stringValue == "Primary")
            await h.sim.settle()
            #expect(try h.sim.webhookDeliveries().filter { $0.type == "event.created" }.count == 1)
            // Still readable through the API.
            let calendars = try await h.call("GET", "/v3/grants/\(g.id)/calendars", token: g.accessToken)
            let sideID = try #require(calendars.data?.arrayValue?.first { $0["name"]?.stringValue == "Side" }?["id"]?.stringValue)
            #expect(try await events(h, g, "calendar_id=\(Self.enc(sideID))&start=1767700000&end=1767900000").map { $0["title"]?.stringValue } == ["Secondary"])
            // Every calendar, for this application.
            let app = h.sim.region(.us).v3.applicationID
            let s = try await h.call("POST", "/__sim/calendar/settings", json: ["application_id": .string(app), "sync_primary_calendar_only": false])
            #expect(s.status == 200, "\(s.text)")
            _ = try await h.call("POST", "/__sim/providers/mailboxes/prim@gmail.com/events", json: ["title": "Secondary 2", "calendar": "Side", "when": when])
            let second = try #require(await h.sim.nextDelivery(after: primary.sequence) { $0.type == "event.created" })
            #expect(second.payload?["data"]?["object"]?["title"]?.stringValue == "Secondary 2")
        }
    }

    // MARK: Contacts

    @Test("Contacts: create is contact.updated (no contact.created), filters, groups, picture, delete")
    func contacts() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            try await subscribe(h, receiver, ["contact.updated", "contact.deleted"])
            let g = try h.sim.createGrant(email: "book@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)/contacts"
            let created = try await h.call("POST", base, token: g.accessToken, json: [
                "given_name": "Ada", "surname": "Lovelace", "birthday": "1815-12-10", "company_name": "Analytical Engines",
                "emails": [["email": "ada@example.com", "type": "work"]], "phone_numbers": [["number": "+44 20 7946 0001", "type": "mobile"]],
                "groups": [["id": "friends"]], "picture": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
                "metadata": ["key1": "vip"]])
            #expect(created.status == 200, "\(created.text)")
            let id = try #require(created.data?["id"]?.stringValue)
            #expect(created.data?["object"]?.stringValue == "contact")
            #expect(created.data?["source"]?.stringValue == "address_book")
            #expect(created.data?["groups"] == [["id": "friends"]])
            let update = try #require(await h.sim.nextDelivery { $0.type == "contact.updated" })
            #expect(update.payload?["data"]?["object"]?["id"]?.stringValue == id)
            _ = try await h.call("POST", "/__sim/providers/mailboxes/book@gmail.com/contacts",
                                 json: ["given_name": "Grace", "emails": [["email": "grace@example.org"]]])
            let list = try await h.call("GET", base, token: g.accessToken)
            #expect(list.data?.arrayValue?.count == 2)
            func names(_ q: String) async throws -> [String?] {
                let r = try await h.call("GET", base + "?" + q, token: g.accessToken)
                #expect(r.status == 200, "\(r.text)")
                return r.data?.arrayValue?.map { $0["given_name"]?.stringValue } ?? []
            }
            #expect(try await names("email=ADA@example.com") == ["Ada"])
            #expect(try await names("phone_number=%2B442079460001") == ["Ada"])
            #expect(try await names("group=friends") == ["Ada"])
            #expect(try await names("source=inbox").isEmpty)
            #expect(try await names("metadata_pair=key1:vip") == ["Ada"])
            #expect(try await names("limit=1").count == 1)
            #expect(try await h.call("GET", base + "?source=bogus", token: g.accessToken).status == 400)
            let pic = try await h.call("GET", base + "/\(id)?profile_picture=true", token: g.accessToken)
            #expect(pic.data?["picture"]?.stringValue?.hasPrefix("iVBOR") == true)
            #expect(try await h.call("GET", base + "/\(id)", token: g.accessToken).data?["picture"] == nil)
            let groups = try await h.call("GET", base + "/groups", token: g.accessToken)
            #expect(groups.data?.arrayValue?.contains { $0["id"] == "friends" && $0["object"] == "contact_group" && $0["group_type"] == "user" } == true)
            let put = try await h.call("PUT", base + "/\(id)", token: g.accessToken, json: ["job_title": "Countess"])
            #expect(put.data?["job_title"]?.stringValue == "Countess")
            #expect(put.data?["surname"]?.stringValue == "Lovelace", "omitted fields are kept")
            #expect(try await h.call("POST", base, token: g.accessToken, json: ["emails": [["email": "not-an-address"]]]).status == 400)
            #expect(try await h.call("POST", base, token: g.accessToken, json: ["notes": "nobody"]).status == 400)
            #expect(try await h.call("POST", base, token: g.accessToken, json: ["given_name": "X", "groups": [["id": "nope"]]]).status == 400)
            #expect(try await h.call("DELETE", base + "/\(id)", token: g.accessToken).status == 200)
            #expect(try await h.call("GET", base + "/\(id)", token: g.accessToken).status == 404)
            await h.sim.settle()
            // Seed 004: "We only support contact.updated": no contact.created, and no contact.deleted
            // by default (`notifyContactDeleted` sends it, as the v3 reference lists it).
            #expect(try h.sim.webhookDeliveries().allSatisfy { $0.type != "contact.created" && $0.type != "contact.deleted" })
        }
    }

    @Test("notifyContactDeleted: a deleted contact is notified as contact.deleted {id, grant_id, object}")
    func contactDeletedSetting() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator(configure: { $0.settings.notifyContactDeleted = true }) { h in
            try await subscribe(h, receiver, ["contact.deleted"])
            let g = try h.sim.createGrant(email: "book2@gmail.com", provider: "google")
            let created = try await h.call("POST", "/v3/grants/\(g.id)/contacts", token: g.accessToken, json: ["given_name": "Ada"])
            let id = try #require(created.data?["id"]?.stringValue)
            #expect(try await h.call("DELETE", "/v3/grants/\(g.id)/contacts/\(id)", token: g.accessToken).status == 200)
            let deleted = try #require(await h.sim.nextDelivery { $0.type == "contact.deleted" })
            #expect(deleted.payload?["data"]?["object"] == ["id": .string(id), "grant_id": .string(g.id), "object": "contact"])
        }
    }

    // MARK: Virtual calendars, regions, fixtures

    @Test("A virtual-calendar grant has calendars and events but no mailbox")
    func virtualCalendar() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "room-101@rooms.example.com", provider: "virtual-calendar")
            let cals = try await h.call("GET", "/v3/grants/\(g.id)/calendars", token: g.accessToken)
            #expect(cals.status == 200, "\(cals.text)")
            #expect(cals.data?.arrayValue?.count == 1)
            #expect(cals.data?.arrayValue?.first?["is_primary"]?.boolValue == true)
            let made = try await h.call("POST", "/v3/grants/\(g.id)/calendars", token: g.accessToken, json: ["name": "Room 101 bookings"])
            let cal = try #require(made.data?["id"]?.stringValue)
            let ev = try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=\(Self.enc(cal))", token: g.accessToken,
                                      json: ["title": "Booked", "when": ["start_time": 1_767_790_800, "end_time": 1_767_794_400]])
            #expect(ev.status == 200, "\(ev.text)")
            #expect(try await events(h, g, "calendar_id=\(Self.enc(cal))&start=1767700000&end=1767900000").count == 1)
            let mail = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: g.accessToken)
            #expect(mail.status == 400, "a virtual calendar has no mailbox")
        }
    }

    @Test("The calendar fixture loads; the same event has one ical_uid and different IDs in US and EU; RSVP reaches the organizer")
    func fixtureRegionsAndRSVP() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            try await subscribe(h, receiver, ["event.updated"])
            let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("fixtures/calendar.json").path
            let loaded = try await h.call("POST", "/__sim/fixtures/calendar", json: ["path": .string(fixture)])
            #expect(loaded.status == 201, "\(loaded.text)")
            #expect((loaded.json?["events"]?.intValue ?? 0) >= 4)
            let again = try await h.call("POST", "/__sim/fixtures/calendar", json: ["path": .string(fixture)])
            #expect(again.json?["events"]?.intValue == 0, "loading twice adds nothing")
            let owner = try #require(loaded.json?["mailbox"]?.stringValue)
            let us = try h.sim.createGrant(.us, email: owner, provider: "google")
            let eu = try h.sim.createGrant(.eu, email: owner, provider: "google")
            let q = "calendar_id=primary&start=1767225600&end=1769904000&expand_recurring=false"
            let a = try await events(h, us, q)
            let b = try await events(h, eu, q, region: .eu)
            #expect(!a.isEmpty)
            let uidsUS: Set<String> = Set(a.compactMap { $0["ical_uid"]?.stringValue })
            let uidsEU: Set<String> = Set(b.compactMap { $0["ical_uid"]?.stringValue })
            let idsUS: Set<String> = Set(a.compactMap { $0["id"]?.stringValue })
            let idsEU: Set<String> = Set(b.compactMap { $0["id"]?.stringValue })
            #expect(uidsUS == uidsEU, "the iCalendar UID is the join key across regions")
            #expect(idsUS.isDisjoint(with: idsEU), "each region has its own IDs")
            let contacts = try await h.call("GET", "/v3/grants/\(us.id)/contacts", token: us.accessToken)
            #expect((contacts.data?.arrayValue?.count ?? 0) >= 2)
            // An organizer in the provider world invites the owner: the event lands in the owner's primary
            // calendar; the owner answers through the API and the organizer's copy shows the answer.
            let organizer = "carol@gmail.com"
            let org = try h.sim.createGrant(.us, email: organizer, provider: "google")
            let invite = try await h.call("POST", "/__sim/providers/mailboxes/\(organizer)/events", json: [
                "title": "Quarterly planning", "participants": [["email": .string(owner), "name": "Owner"]],
                "when": ["start_time": 1_768_381_200, "end_time": 1_768_384_800, "start_timezone": "America/New_York"]])
            #expect(invite.status == 201, "\(invite.text)")
            let uid = try #require(invite.json?["ical_uid"]?.stringValue)
            let mineList = try await events(h, us, "calendar_id=primary&ical_uid=\(Self.enc(uid))")
            let id = try #require(mineList.first?["id"]?.stringValue)
            #expect(mineList.first?["organizer"]?["email"]?.stringValue == organizer)
            let rsvp = try await h.call("POST", "/v3/grants/\(us.id)/events/\(id)/send-rsvp?calendar_id=primary", token: us.accessToken,
                                        json: ["status": "yes"])
            #expect(rsvp.status == 200, "\(rsvp.text)")
            #expect(rsvp.json?["request_id"]?.stringValue != nil)
            let mine = try await h.call("GET", "/v3/grants/\(us.id)/events/\(id)?calendar_id=primary", token: us.accessToken)
            #expect(mine.data?["participants"]?.arrayValue?.first { $0["email"]?.stringValue == owner }?["status"]?.stringValue == "yes")
            let theirs = try await events(h, org, "calendar_id=primary&ical_uid=\(Self.enc(uid))")
            #expect(theirs.first?["participants"]?.arrayValue?.first { $0["email"]?.stringValue == owner }?["status"]?.stringValue == "yes")
            _ = try #require(await h.sim.nextDelivery { $0.type == "event.updated" && $0.grantID == us.id })
            _ = try #require(await h.sim.nextDelivery { $0.type == "event.updated" && $0.grantID == org.id })
            // The organizer is told by mail.
            let inbox = try await h.call("GET", "/v3/grants/\(org.id)/messages?subject=Accepted", token: org.accessToken)
            #expect(inbox.data?.arrayValue?.count == 1)
        }
    }

    @Test("Calendars CRUD with metadata, select and pagination")
    func calendarsCRUD() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "crud@outlook.com", provider: "microsoft")
            let base = "/v3/grants/\(g.id)/calendars"
            for i in 1...3 {
                let r = try await h.call("POST", base, token: g.accessToken,
                                         json: ["name": .string("Cal \(i)"), "timezone": "America/Chicago", "metadata": ["key1": .string("v\(i)")]])
                #expect(r.status == 200, "\(r.text)")
                #expect(r.data?["owner_email"]?.stringValue == "crud@outlook.com")
            }
            let page1 = try await h.call("GET", base + "?limit=2", token: g.accessToken)
            #expect(page1.data?.arrayValue?.count == 2)
            #expect(page1.data?.arrayValue?.first?["is_primary"]?.boolValue == true)
            let cursor = try #require(page1.json?["next_cursor"]?.stringValue)
            let page2 = try await h.call("GET", base + "?limit=2&page_token=\(Self.enc(cursor))", token: g.accessToken)
            #expect(page2.data?.arrayValue?.count == 2)
            #expect(page2.json?["next_cursor"] == nil)
            let filtered = try await h.call("GET", base + "?metadata_pair=key1:v2&select=id,name", token: g.accessToken)
            #expect(filtered.data?.arrayValue?.map { $0["name"]?.stringValue } == ["Cal 2"])
            #expect(filtered.data?.arrayValue?.first?.objectValue?.keys.sorted() == ["id", "name"])
            let id = try #require(filtered.data?.arrayValue?.first?["id"]?.stringValue)
            let put = try await h.call("PUT", base + "/\(Self.enc(id))", token: g.accessToken, json: ["name": "Renamed", "hex_color": "#112233"])
            #expect(put.data?["name"]?.stringValue == "Renamed")
            #expect(put.data?["metadata"] == ["key1": "v2"])
            #expect(try await h.call("GET", base + "/primary", token: g.accessToken).data?["is_primary"]?.boolValue == true)
            #expect(try await h.call("GET", base + "/crud@outlook.com", token: g.accessToken).data?["is_primary"]?.boolValue == true)
            #expect(try await h.call("DELETE", base + "/\(Self.enc(id))", token: g.accessToken).status == 200)
            #expect(try await h.call("GET", base + "/\(Self.enc(id))", token: g.accessToken).status == 404)
        }
    }

    // MARK: Provider quirks

    @Test("iCloud event queries span at most six months (the real 400); other providers any range")
    func icloudRange() async throws {
        try await withSimulator { h in
            let icloud = try h.sim.createGrant(email: "pat@icloud.com", provider: "icloud")
            let google = try h.sim.createGrant(email: "pat@gmail.com", provider: "google")
            let jan31 = 1_769_817_600  // 2026-01-31T00:00:00Z; six months later is 2026-07-31
            let jul31 = jan31 + 181 * 86_400
            #expect(V3EventRoutes.sixMonths(after: jan31) == jul31)
            #expect(V3EventRoutes.sixMonths(after: 1_724_889_600) == 1_740_700_800, "2024-08-29 → 2025-02-28 (clamped)")
            let ok = try await h.call("GET", "/v3/grants/\(icloud.id)/events?calendar_id=primary&start=\(jan31)&end=\(jul31)", token: h.apiKey)
            #expect(ok.status == 200, "\(ok.text)")
            let tooLong = try await h.call("GET", "/v3/grants/\(icloud.id)/events?calendar_id=primary&start=\(jan31)&end=\(jul31 + 1)", token: h.apiKey)
            #expect(tooLong.status == 400)
            #expect(tooLong.json?["error"]?["message"]?.stringValue == "The maximum time range for iCloud event queries is 6 months.")
            let year = try await h.call("GET", "/v3/grants/\(google.id)/events?calendar_id=primary&start=\(jan31)&end=\(jan31 + 366 * 86_400)", token: h.apiKey)
            #expect(year.status == 200)
        }
    }

    // MARK: The Swift API of provider-side changes

    @Test("The Swift API changes calendars, events and contacts from outside, seen through the grant")
    func swiftProviderChanges() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            try await subscribe(h, receiver, ["event.created", "event.updated", "event.deleted", "contact.updated", "contact.deleted"])
            let g = try h.sim.createGrant(email: "outside@gmail.com", provider: "google")
            let cal = try h.sim.addCalendar(in: "outside@gmail.com", ["name": "Team", "timezone": "Europe/Paris"])
            #expect(cal["name"]?.stringValue == "Team")
            let event = try h.sim.addEvent(in: "outside@gmail.com", ["calendar": "primary", "title": "From the phone",
                                                                      "when": ["start_time": 1_767_790_800, "end_time": 1_767_794_400],
                                                                      "participants": [["email": "bob@example.com", "name": "Bob"]]])
            let uid = try #require(event["ical_uid"]?.stringValue)
            let created = try #require(await h.sim.nextDelivery { $0.type == "event.created" })
            #expect(created.payload?["data"]?["object"]?["title"]?.stringValue == "From the phone")
            #expect(try await events(h, g, "calendar_id=primary&start=1767700000&end=1767900000").map { $0["ical_uid"]?.stringValue } == [uid])

            try h.sim.changeEvent(in: "outside@gmail.com", event: uid, ["title": "Moved to the afternoon"])
            let updated = try #require(await h.sim.nextDelivery(after: created.sequence) { $0.type == "event.updated" })
            #expect(updated.payload?["data"]?["object"]?["title"]?.stringValue == "Moved to the afternoon")
            try h.sim.answerEvent(in: "outside@gmail.com", event: uid, email: "bob@example.com", status: "maybe")
            let answered = try await events(h, g, "calendar_id=primary&start=1767700000&end=1767900000")
            #expect(answered.first?["participants"]?.arrayValue?.first?["status"]?.stringValue == "maybe")
            try h.sim.deleteEvent(in: "outside@gmail.com", event: uid)
            _ = try #require(await h.sim.nextDelivery(after: updated.sequence) { $0.type == "event.deleted" })
            #expect(try await events(h, g, "calendar_id=primary&start=1767700000&end=1767900000").isEmpty)

            let contact = try h.sim.addContact(in: "outside@gmail.com", ["given_name": "Ada", "surname": "Lovelace",
                                                                          "emails": [["type": "work", "email": "ada@example.com"]]])
            let worldID = try #require(contact["world_id"]?.intValue)
            let listed = try await h.call("GET", "/v3/grants/\(g.id)/contacts", token: g.accessToken)
            let id = try #require(listed.data?.arrayValue?.first { $0["given_name"]?.stringValue == "Ada" }?["id"]?.stringValue)
            try h.sim.changeContact(in: "outside@gmail.com", contact: String(worldID), ["job_title": "Analyst"])
            let got = try await h.call("GET", "/v3/grants/\(g.id)/contacts/\(id)", token: g.accessToken)
            #expect(got.data?["job_title"]?.stringValue == "Analyst")
            try h.sim.deleteContact(in: "outside@gmail.com", contact: String(worldID))
            let gone = try await h.call("GET", "/v3/grants/\(g.id)/contacts/\(id)", token: g.accessToken)
            #expect(gone.status == 404)
            // Bad input is the control API's error, thrown: nothing changes.
            #expect(throws: NylasError.self) { try h.sim.addEvent(in: "outside@gmail.com", ["title": 3]) }
            #expect(throws: NylasError.self) { try h.sim.changeEvent(in: "outside@gmail.com", event: "no-such-uid", ["title": "x"]) }
        }
    }
}
