import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
import NylasSimulatorTesting

/// Scheduler over real sockets: configurations, sessions on the virtual clock, availability on the
/// calendar engine, bookings as events with their notifications, group events.
@Suite("Scheduler: configurations, sessions, availability, bookings, group events")
struct SchedulerTests {
    static let monday = 1_767_571_200  // 2026-01-05T00:00:00Z; the seeded clock starts 2026-01-01T09:00Z
    static let h = 3600
    static let open: JSON = ["days": [1], "timezone": "UTC", "start": "9:00", "end": "13:00"]

    static func config(_ organizer: String, extra: [String: JSON] = [:]) -> JSON {
        var o: [String: JSON] = [
            "participants": [["email": .string(organizer), "name": "Owner", "is_organizer": true,
                              "availability": ["calendar_ids": ["primary"]], "booking": ["calendar_id": "primary"]]],
            "availability": ["duration_minutes": 60, "interval_minutes": 60, "availability_rules": ["default_open_hours": [open]]],
            "event_booking": ["title": "Intro call", "timezone": "UTC",
                              "reminders": [["type": "webhook", "minutes_before_event": 60]]],
        ]
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    static func busy(_ h: SimHarness, _ mailbox: String, _ start: Int, _ end: Int, title: String = "Busy") async throws {
        let r = try await h.call("POST", "/__sim/providers/mailboxes/\(mailbox)/events",
                                 json: ["title": .string(title), "when": ["start_time": .int(start), "end_time": .int(end)]])
        #expect(r.status == 201, "\(r.text)")
    }

    static func slots(_ r: HTTPClient.Response) -> [Int] {
        (r.data?["time_slots"]?.arrayValue ?? []).compactMap { $0["start_time"]?.intValue.map { ($0 - monday) / 3600 } }
    }

    static func availability(_ h: SimHarness, _ id: String, token: String? = nil, from: Int = monday + 8 * 3600,
                             to: Int = monday + 14 * 3600) async throws -> HTTPClient.Response {
        try await h.call("GET", "/v3/scheduling/availability?configuration_id=\(id)&start_time=\(from)&end_time=\(to)", token: token)
    }

    @Test("Configurations: defaults filled in, PUT replaces nested objects, bad input refused with the field named, unknown IDs 404")
    func configurations() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "owner@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)/scheduling/configurations"
            let created = try await h.call("POST", base, token: h.apiKey, json: Self.config("owner@gmail.com"))
            #expect(created.status == 200, "\(created.text)")
            let id = try #require(created.data?["id"]?.stringValue)
            #expect(UUID(uuidString: id) != nil)
            #expect(created.data?["availability"]?["round_to"]?.intValue == 15)
            #expect(created.data?["availability"]?["availability_rules"]?["availability_method"]?.stringValue == "collective")
            #expect(created.data?["event_booking"]?["booking_type"]?.stringValue == "booking")
            #expect(created.data?["scheduler"]?["available_days_in_future"]?.intValue == 30)
            #expect(created.data?["requires_session_auth"]?.boolValue == false)
            #expect(created.data?["name"]?.stringValue == "Owner")

            let put = try await h.call("PUT", "\(base)/\(id)", token: h.apiKey, json: ["event_booking": ["title": "Renamed"], "slug": "intro"])
            #expect(put.status == 200, "\(put.text)")
            #expect(put.data?["event_booking"]?["title"]?.stringValue == "Renamed")
            #expect(put.data?["event_booking"]?["reminders"] == nil)  // the nested object was replaced
            #expect(put.data?["availability"]?["duration_minutes"]?.intValue == 60)  // absent top-level fields kept
            #expect(put.data?["slug"]?.stringValue == "intro")

            for (body, field) in [
                (JSON.object(["availability": ["duration_minutes": 30], "event_booking": ["title": "x"]]), "participants"),
                (Self.config("owner@gmail.com", extra: ["availability": ["duration_minutes": 33]]), "duration_minutes"),
                (Self.config("owner@gmail.com", extra: ["event_booking": ["title": "x", "booking_type": "instant"]]), "booking_type"),
                (Self.config("stranger@example.com"), "participants[0].email"),
                (Self.config("owner@gmail.com", extra: ["slug": "intro"]), "slug"),
            ] {
                let r = try await h.call("POST", base, token: h.apiKey, json: body)
                #expect(r.status == 400, "\(field): \(r.text)")
                #expect(r.errorType == "invalid_request_error")
                #expect(r.json?["error"]?["message"]?.stringValue?.contains(field) == true, "\(field): \(r.text)")
            }
            let list = try await h.call("GET", base, token: h.apiKey)
            #expect(list.data?.arrayValue?.count == 1)  // the refused ones changed nothing
            #expect(try await h.call("GET", "\(base)/00000000-0000-0000-0000-000000000000", token: h.apiKey).status == 404)
            #expect(try await h.call("GET", "\(base)/\(id)", token: g.accessToken).status == 200)
            #expect(try await h.call("GET", "\(base)/\(id)").status == 401)
        }
    }

    @Test("Sessions live on the virtual clock; a private configuration needs one; a configuration with a live session cannot be deleted")
    func sessions() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "owner@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)/scheduling/configurations"
            let id = try #require(try await h.call("POST", base, token: h.apiKey,
                                                   json: Self.config("owner@gmail.com", extra: ["requires_session_auth": true])).data?["id"]?.stringValue)
            #expect(try await Self.availability(h, id).status == 401)  // private, no session
            #expect(try await Self.availability(h, id, token: h.apiKey).status == 200)  // the application's API key
            let session = try await h.call("POST", "/v3/scheduling/sessions", token: h.apiKey, json: ["configuration_id": .string(id), "time_to_live": 10])
            #expect(session.status == 200, "\(session.text)")
            let sid = try #require(session.data?["session_id"]?.stringValue)
            let viaSession = try await h.call("GET", "/v3/scheduling/availability?start_time=\(Self.monday + 8 * 3600)&end_time=\(Self.monday + 14 * 3600)", token: sid)
            #expect(Self.slots(viaSession) == [9, 10, 11, 12])
            // The other region knows neither the configuration nor the session.
            let q = "start_time=\(Self.monday + 8 * 3600)&end_time=\(Self.monday + 14 * 3600)"
            #expect(try await h.call("GET", "/v3/scheduling/availability?configuration_id=\(id)&\(q)", region: .eu).status == 404)
            #expect(try await h.call("GET", "/v3/scheduling/availability?\(q)", region: .eu, token: sid).status == 401)
            #expect(try await h.call("DELETE", "\(base)/\(id)", token: h.apiKey).status == 400)
            try await h.advance("10m")
            let expired = try await h.call("GET", "/v3/scheduling/availability?start_time=\(Self.monday + 8 * 3600)&end_time=\(Self.monday + 14 * 3600)", token: sid)
            #expect(expired.status == 401, "\(expired.text)")
            #expect(try await h.call("POST", "/v3/scheduling/sessions", token: h.apiKey, json: ["configuration_id": .string(id), "time_to_live": 31]).status == 400)
            #expect(try await h.call("POST", "/v3/scheduling/sessions", token: h.apiKey, json: ["configuration_id": "nope"]).status == 404)
            #expect(try await h.call("DELETE", "/v3/scheduling/sessions/\(sid)", token: h.apiKey).status == 200)
            #expect(try await h.call("DELETE", "/v3/scheduling/sessions/\(sid)", token: h.apiKey).status == 404)
            #expect(try await h.call("DELETE", "\(base)/\(id)", token: h.apiKey).status == 200)
        }
    }

    @Test("A booking is an event: busy time excluded, a taken slot refused, reschedule and cancel through the events API, booking.* notifications and a reminder on the clock")
    func bookingLifecycle() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let hook = try await h.call("POST", "/v3/webhooks", token: h.apiKey, json: [
                "trigger_types": ["booking.created", "booking.rescheduled", "booking.cancelled", "booking.reminder", "event.created", "event.deleted"],
                "webhook_url": .string(receiver.url)])
            #expect(hook.status == 200, "\(hook.text)")
            let g = try h.sim.createGrant(email: "owner@gmail.com", provider: "google")
            try await Self.busy(h, "owner@gmail.com", Self.monday + 10 * Self.h, Self.monday + 11 * Self.h, title: "Dentist")
            let id = try #require(try await h.call("POST", "/v3/grants/\(g.id)/scheduling/configurations", token: h.apiKey,
                                                   json: Self.config("owner@gmail.com")).data?["id"]?.stringValue)
            #expect(Self.slots(try await Self.availability(h, id)) == [9, 11, 12])

            let book: (Int) async throws -> HTTPClient.Response = { hour in
                try await h.call("POST", "/v3/scheduling/bookings?configuration_id=\(id)", json: [
                    "start_time": .int(Self.monday + hour * Self.h), "end_time": .int(Self.monday + (hour + 1) * Self.h),
                    "guest": ["name": "Gia", "email": "gia@example.com"]])
            }
            let booked = try await book(9)
            #expect(booked.status == 200, "\(booked.text)")
            #expect(booked.data?["status"]?.stringValue == "booked")
            let bookingID = try #require(booked.data?["booking_id"]?.stringValue)
            let eventID = try #require(booked.data?["event_id"]?.stringValue)
            let event = try await h.call("GET", "/v3/grants/\(g.id)/events/\(eventID)?calendar_id=primary", token: h.apiKey)
            #expect(event.data?["title"]?.stringValue == "Intro call")
            #expect(event.data?["metadata"]?["key5"]?.stringValue == id)
            #expect(event.data?["participants"]?.arrayValue?.compactMap { $0["email"]?.stringValue } == ["gia@example.com"])
            // Taken now (by the booking), busy (the dentist), or not a slot of the configuration.
            for hour in [9, 10] {
                let r = try await book(hour)
                #expect(r.status == 400 && r.json?["error"]?["message"]?.stringValue?.contains("not available") == true, "\(r.text)")
            }
            #expect(Self.slots(try await Self.availability(h, id)) == [11, 12])

            let moved = try await h.call("PATCH", "/v3/scheduling/bookings/\(bookingID)?configuration_id=\(id)",
                                         json: ["start_time": .int(Self.monday + 12 * Self.h), "end_time": .int(Self.monday + 13 * Self.h)])
            #expect(moved.status == 200, "\(moved.text)")
            #expect(moved.data?["event_id"]?.stringValue == eventID)
            let after = try await h.call("GET", "/v3/grants/\(g.id)/events/\(eventID)?calendar_id=primary", token: h.apiKey)
            #expect(after.data?["when"]?["start_time"]?.intValue == Self.monday + 12 * Self.h)

            // The reminder one hour before the (moved) start, once.
            try await h.call("POST", "/__sim/clock", json: ["to": .int(Self.monday + 11 * Self.h + 30 * 60)])
            #expect(receiver.received.filter { $0.type == "booking.reminder" }.count == 1)
            let reminder = try #require(receiver.received.first { $0.type == "booking.reminder" }?.payload)
            #expect(reminder["data"]?["object"]?["booking_info"]?["time_until_event"]?.intValue == 3600)
            #expect(reminder["data"]?["grant_id"]?.stringValue == g.id)

            let cancelled = try await h.call("DELETE", "/v3/scheduling/bookings/\(bookingID)?configuration_id=\(id)",
                                             json: ["cancellation_reason": "Conflict"])
            #expect(cancelled.status == 200, "\(cancelled.text)")
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/events/\(eventID)?calendar_id=primary", token: h.apiKey).status == 404)
            let gone = try await h.call("GET", "/v3/scheduling/bookings/\(bookingID)?configuration_id=\(id)")
            #expect(gone.data?["status"]?.stringValue == "cancelled")
            #expect(try await h.call("DELETE", "/v3/scheduling/bookings/\(bookingID)?configuration_id=\(id)").status == 400)
            try await h.advance("1m")
            let types = receiver.received.compactMap(\.type).filter { $0.hasPrefix("booking.") || $0.hasPrefix("event.") }
            #expect(types == ["event.created", "booking.created", "booking.rescheduled", "booking.reminder", "event.deleted", "booking.cancelled"]
                    || Set(types) == ["event.created", "booking.created", "booking.rescheduled", "booking.reminder", "event.deleted", "booking.cancelled"],
                    "\(types)")
            let cancelNote = try #require(receiver.received.first { $0.type == "booking.cancelled" }?.payload)
            #expect(cancelNote["data"]?["object"]?["booking_info"]?["cancellation_reason"]?.stringValue == "Conflict")
            #expect(cancelNote["data"]?["object"]?["booking_ref"] == nil)
        }
    }

    @Test("Organizer confirmation: pending until the organizer confirms with the salt of booking_ref; a wrong salt is refused")
    func organizerConfirmation() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            _ = try await h.call("POST", "/v3/webhooks", token: h.apiKey, json: [
                "trigger_types": ["booking.pending", "booking.created"], "webhook_url": .string(receiver.url)])
            let g = try h.sim.createGrant(email: "owner@gmail.com", provider: "google")
            let id = try #require(try await h.call("POST", "/v3/grants/\(g.id)/scheduling/configurations", token: h.apiKey, json: Self.config(
                "owner@gmail.com", extra: ["event_booking": ["title": "Review", "booking_type": "organizer-confirmation"]])).data?["id"]?.stringValue)
            let booked = try await h.call("POST", "/v3/scheduling/bookings?configuration_id=\(id)", json: [
                "start_time": .int(Self.monday + 9 * Self.h), "end_time": .int(Self.monday + 10 * Self.h), "guest": ["name": "Gia", "email": "gia@example.com"]])
            #expect(booked.data?["status"]?.stringValue == "pending", "\(booked.text)")
            let bookingID = try #require(booked.data?["booking_id"]?.stringValue)
            // The placeholder holds the slot.
            #expect(Self.slots(try await Self.availability(h, id)) == [10, 11, 12])
            try await h.advance("1s")
            let pending = try #require(receiver.received.first { $0.type == "booking.pending" }?.payload)
            let ref = try #require(pending["data"]?["object"]?["booking_ref"]?.stringValue)
            let bytes = try #require(Base64URL.decode(ref))
            #expect(bytes.count > 32)
            let salt = Base64URL.encode(Array(bytes[32...]))
            let path = "/v3/scheduling/bookings/\(bookingID)?configuration_id=\(id)"
            let wrong = try await h.call("PUT", path, json: ["salt": "AAAAAAAAAAAAAA", "status": "confirmed"])
            #expect(wrong.status == 400, "\(wrong.text)")
            let confirmed = try await h.call("PUT", path, json: ["salt": .string(salt), "status": "confirmed"])
            #expect(confirmed.status == 200, "\(confirmed.text)")
            #expect(confirmed.data?["status"]?.stringValue == "booked")
            let event = try await h.call("GET", "/v3/grants/\(g.id)/events/\(confirmed.data?["event_id"]?.stringValue ?? "")?calendar_id=primary", token: h.apiKey)
            #expect(event.data?["title"]?.stringValue == "Review")
            #expect(event.data?["status"]?.stringValue == "confirmed")
            #expect(try await h.call("PUT", path, json: ["salt": .string(salt), "status": "confirmed"]).status == 400)
            try await h.advance("1s")
            #expect(receiver.received.filter { $0.type == "booking.created" }.count == 1)
            // Nylas's own e-mails, recorded by subject: the request to the organizer, then the confirmation.
            let emails = try await h.call("GET", "/__sim/webhooks/emails")
            let subjects = (emails.json?["data"]?.arrayValue ?? []).compactMap { $0["subject"]?.stringValue }
            #expect(subjects == ["Booking request: confirm or reject: Review", "Booking confirmed: Review"], "\(emails.text)")
        }
    }

    @Test("Two participants across the DST change in America/New_York: collective and round-robin slots")
    func twoParticipantsAcrossDST() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "owner@gmail.com", provider: "google")
            _ = try h.sim.createGrant(email: "second@outlook.com", provider: "microsoft")
            let mar2 = 1_772_409_600, mar9 = 1_773_014_400  // Mondays, 00:00Z; DST begins 2026-03-08
            try await Self.busy(h, "second@outlook.com", mar9 + 13 * Self.h, mar9 + 14 * Self.h)  // 9:00 EDT
            let ny: JSON = ["days": [1], "timezone": "America/New_York", "start": "9:00", "end": "11:00"]
            func participant(_ email: String, organizer: Bool) -> JSON {
                ["email": .string(email), "is_organizer": .bool(organizer), "availability": ["calendar_ids": ["primary"]], "booking": ["calendar_id": "primary"]]
            }
            let body = Self.config("owner@gmail.com", extra: [
                "participants": [participant("owner@gmail.com", organizer: true), participant("second@outlook.com", organizer: false)],
                "availability": ["duration_minutes": 60, "availability_rules": ["default_open_hours": [ny]]],
                "scheduler": ["available_days_in_future": 90]])
            let id = try #require(try await h.call("POST", "/v3/grants/\(g.id)/scheduling/configurations", token: h.apiKey, json: body).data?["id"]?.stringValue)
            let collective = try await Self.availability(h, id, from: mar2, to: mar9 + 86400)
            #expect(collective.data?["time_slots"]?.arrayValue?.compactMap { $0["start_time"]?.intValue } == [mar2 + 14 * Self.h, mar2 + 15 * Self.h, mar9 + 14 * Self.h])
            let put = try await h.call("PUT", "/v3/grants/\(g.id)/scheduling/configurations/\(id)", token: h.apiKey, json: [
                "participants": [participant("owner@gmail.com", organizer: false), participant("second@outlook.com", organizer: false)],
                "availability": ["duration_minutes": 60, "availability_rules": ["availability_method": "max-fairness", "default_open_hours": [ny]]]])
            #expect(put.status == 200, "\(put.text)")
            let rr = try await Self.availability(h, id, from: mar2, to: mar9 + 86400)
            let slots = rr.data?["time_slots"]?.arrayValue ?? []
            #expect(slots.compactMap { $0["start_time"]?.intValue } == [mar2 + 14 * Self.h, mar2 + 15 * Self.h, mar9 + 13 * Self.h, mar9 + 14 * Self.h])
            #expect(slots.first { $0["start_time"]?.intValue == mar9 + 13 * Self.h }?["emails"] == ["owner@gmail.com"])
            #expect(rr.data?["order"]?.arrayValue?.count == 2)
        }
    }

    @Test("A booking's reminders survive a --data-dir restart and fire once")
    func remindersAfterRestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nylas-sim-sched-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator(seed: "sched", configure: { $0.dataDirectory = dir }) { h in
            _ = try await h.call("POST", "/v3/webhooks", token: h.apiKey, json: ["trigger_types": ["booking.reminder"], "webhook_url": .string(receiver.url)])
            let g = try h.sim.createGrant(email: "owner@gmail.com", provider: "google")
            let id = try #require(try await h.call("POST", "/v3/grants/\(g.id)/scheduling/configurations", token: h.apiKey,
                                                   json: Self.config("owner@gmail.com")).data?["id"]?.stringValue)
            let booked = try await h.call("POST", "/v3/scheduling/bookings?configuration_id=\(id)", json: [
                "start_time": .int(Self.monday + 9 * Self.h), "end_time": .int(Self.monday + 10 * Self.h), "guest": ["name": "Gia", "email": "gia@example.com"]])
            #expect(booked.status == 200, "\(booked.text)")
        }
        try await withSimulator(seed: "sched", configure: { $0.dataDirectory = dir }) { h in
            try await h.call("POST", "/__sim/clock", json: ["to": .int(Self.monday + 9 * Self.h)])
            #expect(receiver.received.filter { $0.type == "booking.reminder" }.count == 1)
        }
    }

    @Test("Group events: seats up to the capacity, listed, validated, imported once, booked through availability")
    func groupEvents() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "owner@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)/scheduling/configurations"
            let group = try await h.call("POST", base, token: h.apiKey, json: ["type": "group", "name": "Circle", "group_booking": ["calendar_id": "primary"]])
            #expect(group.status == 200, "\(group.text)")
            let id = try #require(group.data?["id"]?.stringValue)
            let created = try await h.call("POST", "\(base)/\(id)/group-events", token: h.apiKey, json: [
                "calendar_id": "primary", "title": "Reading", "capacity": 1, "participants": [["email": "owner@gmail.com", "is_organizer": true]],
                "when": ["start_time": .int(Self.monday + 15 * Self.h), "end_time": .int(Self.monday + 16 * Self.h)]])
            #expect(created.status == 200, "\(created.text)")
            let eventID = try #require(created.data?["id"]?.stringValue)
            let window = "calendar_id=primary&start_time=\(Self.monday)&end_time=\(Self.monday + 86400)"
            #expect(try await h.call("GET", "\(base)/\(id)/group-events?\(window)", token: h.apiKey).data?.arrayValue?.count == 1)
            let slots = try await Self.availability(h, id, from: Self.monday, to: Self.monday + 86400)
            #expect(slots.data?["time_slots"]?.arrayValue?.first?["event_id"]?.stringValue == eventID)
            let seat = try await h.call("POST", "/v3/scheduling/bookings?configuration_id=\(id)", json: [
                "start_time": .int(Self.monday + 15 * Self.h), "end_time": .int(Self.monday + 16 * Self.h), "guest": ["name": "Gia", "email": "gia@example.com"]])
            #expect(seat.status == 200, "\(seat.text)")
            #expect(seat.data?["event_id"]?.stringValue == eventID)
            // Full now: no slot, no second seat, the time slot no longer valid.
            #expect(try await Self.availability(h, id, from: Self.monday, to: Self.monday + 86400).data?["time_slots"]?.arrayValue?.isEmpty == true)
            let second = try await h.call("POST", "/v3/scheduling/bookings?configuration_id=\(id)", json: [
                "start_time": .int(Self.monday + 15 * Self.h), "end_time": .int(Self.monday + 16 * Self.h), "guest": ["name": "Hal", "email": "hal@example.com"]])
            #expect(second.status == 400)
            let validate = "/v3/scheduling/configurations/\(id)/group-events/validate-timeslot"
            #expect(try await h.call("POST", validate, token: h.apiKey, json: ["calendar_id": "primary", "event_id": .string(eventID)]).status == 400)
            let event = try await h.call("GET", "/v3/grants/\(g.id)/events/\(eventID)?calendar_id=primary", token: h.apiKey)
            #expect(event.data?["participants"]?.arrayValue?.compactMap { $0["email"]?.stringValue } == ["gia@example.com"])
            // Cancelling the seat frees it; the event stays.
            let bookingID = try #require(seat.data?["booking_id"]?.stringValue)
            #expect(try await h.call("DELETE", "/v3/scheduling/bookings/\(bookingID)?configuration_id=\(id)").status == 200)
            #expect(try await h.call("POST", validate, token: h.apiKey, json: ["calendar_id": "primary", "event_id": .string(eventID), "capacity": 1]).status == 200)
            #expect(try await h.call("DELETE", "\(base)/\(id)/group-events/\(eventID)", token: h.apiKey).status == 200)
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/events/\(eventID)?calendar_id=primary", token: h.apiKey).status == 404)
        }
    }

    @Test("Without HTTP: the Swift API and the control API create configurations and bookings with the same checks")
    func withoutHTTP() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "owner@gmail.com", provider: "google")
            let config = try h.sim.createSchedulerConfiguration(grantID: g.id, Self.config("owner@gmail.com"))
            let id = try #require(config["id"]?.stringValue)
            let booking = try h.sim.book(configurationID: id, start: Self.monday + 9 * Self.h, end: Self.monday + 10 * Self.h, guestEmail: "gia@example.com")
            #expect(booking["status"]?.stringValue == "booked")
            #expect(booking["salt"]?.stringValue?.isEmpty == false)
            #expect(throws: NylasError.self) {
                try h.sim.book(configurationID: id, start: Self.monday + 9 * Self.h, end: Self.monday + 10 * Self.h, guestEmail: "hal@example.com")
            }
            let viaControl = try await h.call("POST", "/__sim/scheduler/bookings", json: [
                "configuration_id": .string(id), "start_time": .int(Self.monday + 10 * Self.h), "end_time": .int(Self.monday + 11 * Self.h),
                "guest": ["email": "hal@example.com"]])
            #expect(viaControl.status == 201, "\(viaControl.text)")
            let taken = try await h.call("POST", "/__sim/scheduler/bookings", json: [
                "configuration_id": .string(id), "start_time": .int(Self.monday + 10 * Self.h), "end_time": .int(Self.monday + 11 * Self.h),
                "guest": ["email": "ivy@example.com"]])
            #expect(taken.status == 400)
            let bad = try await h.call("POST", "/__sim/scheduler/configurations", json: ["grant_id": .string(g.id), "configuration": ["participants": []]])
            #expect(bad.status == 400)
            let state = try await h.call("GET", "/__sim/scheduler")
            #expect(state.json?["us"]?["configurations"]?.arrayValue?.count == 1)
            #expect(state.json?["us"]?["bookings"]?.arrayValue?.compactMap { $0["guest"]?["email"]?.stringValue } == ["gia@example.com", "hal@example.com"])
            #expect(try h.sim.schedulerState()["eu"]?["bookings"]?.arrayValue?.isEmpty == true)
            // The dashboard lists the configuration with its bookings.
            let page = try await h.call("GET", "/__sim/ui")
            #expect(page.status == 200)
            #expect(page.text.contains("data-configuration=\"\(id)\"") && page.text.contains("gia@example.com") && page.text.contains("booked"))
        }
    }
}
