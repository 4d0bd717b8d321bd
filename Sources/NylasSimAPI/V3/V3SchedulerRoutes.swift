import Foundation
import NylasSimCore

/// Scheduler: configurations under a grant, sessions, availability and bookings
/// (`SchedulerOperations`). Availability and bookings take a session (`Authorization: Bearer
/// <session_id>`), the application's API key with `configuration_id` (or `slug` and
/// `client_id`), or nothing at all for a public configuration.
package enum V3SchedulerRoutes {
    static let configurations = "/v3/grants/{grant_id}/scheduling/configurations"

    package static func register(_ r: inout Router) {
        r.add("GET", configurations, .v3, listConfigurations)
        r.add("POST", configurations, .v3, createConfiguration)
        r.add("GET", configurations + "/{configuration_id}", .v3, getConfiguration)
        r.add("PUT", configurations + "/{configuration_id}", .v3, updateConfiguration)
        r.add("DELETE", configurations + "/{configuration_id}", .v3, deleteConfiguration)
        r.add("GET", configurations + "/{configuration_id}/group-events", .v3, listGroupEvents)
        r.add("POST", configurations + "/{configuration_id}/group-events", .v3, createGroupEvent)
        r.add("PUT", configurations + "/{configuration_id}/group-events/{event_id}", .v3, updateGroupEvent)
        r.add("DELETE", configurations + "/{configuration_id}/group-events/{event_id}", .v3, deleteGroupEvent)
        r.add("POST", "/v3/scheduling/configurations/{configuration_id}/import-group-events", .v3, importGroupEvents)
        r.add("POST", "/v3/scheduling/configurations/{configuration_id}/group-events/validate-timeslot", .v3, validateTimeslot)
        r.add("POST", "/v3/scheduling/sessions", .v3, createSession)
        r.add("DELETE", "/v3/scheduling/sessions/{session_id}", .v3, deleteSession)
        r.add("GET", "/v3/scheduling/availability", .v3, availability)
        r.add("POST", "/v3/scheduling/bookings", .v3, book)
        r.add("GET", "/v3/scheduling/bookings/{booking_id}", .v3, getBooking)
        r.add("PATCH", "/v3/scheduling/bookings/{booking_id}", .v3, reschedule)
        r.add("PUT", "/v3/scheduling/bookings/{booking_id}", .v3, confirm)
        r.add("DELETE", "/v3/scheduling/bookings/{booking_id}", .v3, cancel)
        r.add("GET", "/v3/scheduling/should-redirect/{v2_scheduler_slug}", .v3, shouldRedirect)
    }

    // MARK: Configurations

    @Sendable static func listConfigurations(_ ctx: RequestContext) async throws -> SimResponse {
        let limit = try ctx.limit(default: 50, max: 200)
        let offset = try ctx.pageOffset()
        let (items, next) = try ctx.read { s, store -> ([JSON], String?) in
            let grant = try ctx.dataGrant(s, store)
            let all = try store.schedulerConfigurations(grantID: grant.id)
            return (all.dropFirst(offset).prefix(limit).map(\.data), offset + limit < all.count ? PageToken.make([String(offset + limit)]) : nil)
        }
        return ctx.list(items, nextCursor: next)
    }

    @Sendable static func createConfiguration(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return ctx.data(try ctx.write { s, store in
            try SchedulerOperations.create(s, store, grant: try ctx.dataGrant(s, store), body.values).data
        })
    }

    @Sendable static func getConfiguration(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            try SchedulerOperations.configuration(store, grant: try ctx.dataGrant(s, store), id: ctx.param("configuration_id")).data
        })
    }

    @Sendable static func updateConfiguration(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return ctx.data(try ctx.write { s, store in
            let existing = try SchedulerOperations.configuration(store, grant: try ctx.dataGrant(s, store), id: ctx.param("configuration_id"))
            return try SchedulerOperations.update(s, store, existing, body.values).data
        })
    }

    @Sendable static func deleteConfiguration(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            try SchedulerOperations.delete(s, store, try SchedulerOperations.configuration(store, grant: try ctx.dataGrant(s, store),
                                                                                           id: ctx.param("configuration_id")))
        }
        return ctx.done()
    }

    // MARK: Group events

    /// The grant's configuration named in the path.
    static func pathConfiguration(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore) throws -> SchedulerConfigurationRecord {
        try SchedulerOperations.configuration(store, grant: try ctx.dataGrant(s, store), id: ctx.param("configuration_id"))
    }

    /// A configuration of the API key's application, by the ID in the path.
    static func applicationConfiguration(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore) throws -> SchedulerConfigurationRecord {
        let app = try ctx.requireAPIKey(s, store)
        guard let c = try store.schedulerConfiguration(id: ctx.param("configuration_id")), c.applicationID == app.id else {
            throw NylasError.notFound("Configuration \(ctx.param("configuration_id")) not found")
        }
        return c
    }

    @Sendable static func listGroupEvents(_ ctx: RequestContext) async throws -> SimResponse {
        guard let calendar = ctx.query["calendar_id"] else { throw NylasError.missingField("calendar_id") }
        guard let start = ctx.query["start_time"].flatMap({ Int($0) }) else { throw NylasError.missingField("start_time") }
        guard let end = ctx.query["end_time"].flatMap({ Int($0) }), end > start else { throw NylasError.missingField("end_time") }
        let items = try ctx.write { s, store in
            try SchedulerGroupEvents.list(s, store, region: ctx.region, try pathConfiguration(ctx, s, store), calendarRef: calendar, start: start, end: end)
                .map { SchedulerGroupEvents.json($0.event, capacity: $0.capacity) }
        }
        return ctx.list(items, nextCursor: nil)
    }

    @Sendable static func createGroupEvent(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return ctx.data(try ctx.write { s, store in
            try SchedulerGroupEvents.create(s, store, region: ctx.region, try pathConfiguration(ctx, s, store), body)
        })
    }

    @Sendable static func updateGroupEvent(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return ctx.data(try ctx.write { s, store in
            try SchedulerGroupEvents.update(s, store, region: ctx.region, try pathConfiguration(ctx, s, store), eventID: ctx.param("event_id"), body)
        })
    }

    @Sendable static func deleteGroupEvent(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            try SchedulerGroupEvents.delete(s, store, region: ctx.region, try pathConfiguration(ctx, s, store), eventID: ctx.param("event_id"))
        }
        return ctx.done()
    }

    @Sendable static func importGroupEvents(_ ctx: RequestContext) async throws -> SimResponse {
        guard case let parsed? = try? JSON.parse(ctx.request.body) else { throw NylasError.invalidJSON }
        let items: [JSON]
        switch parsed {
        case .array(let a): items = a
        case .object: items = [parsed]
        default: throw NylasError.invalidRequest("Expected an object or an array of objects")
        }
        return ctx.data(try ctx.write { s, store in
            try SchedulerGroupEvents.importEvents(s, store, region: ctx.region, try applicationConfiguration(ctx, s, store), items)
        })
    }

    @Sendable static func validateTimeslot(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        try ctx.read { s, store in try SchedulerGroupEvents.validate(s, store, try applicationConfiguration(ctx, s, store), body) }
        return ctx.done()
    }

    // MARK: Sessions

    @Sendable static func createSession(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let configurationID = try body.string("configuration_id")
        let slug = try body.string("slug")
        guard configurationID != nil || slug != nil else { throw NylasError.missingField("configuration_id") }
        let ttl = try body.int("time_to_live") ?? 5
        guard (1...30).contains(ttl) else { throw NylasError.invalidValue("time_to_live", "expected 1 to 30 minutes, got \(ttl)") }
        let id = try ctx.write { s, store in
            try SchedulerOperations.createSession(s, store, applicationID: try ctx.requireAPIKey(s, store).id,
                                                  configurationID: configurationID, slug: slug, minutes: ttl)
        }
        return ctx.data(["session_id": .string(id)])
    }

    @Sendable static func deleteSession(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            guard let session = try store.schedulerSession(id: ctx.param("session_id")), session.applicationID == app.id else {
                throw NylasError.notFound("Session \(ctx.param("session_id")) not found")
            }
            try store.deleteSchedulerSession(id: ctx.param("session_id"))
        }
        return ctx.done()
    }

    // MARK: Who may book

    /// The configuration a scheduling call acts on: a live session's, or the one named by
    /// `configuration_id` (or `slug` and `client_id`) for the application's API key, or for
    /// anyone when it is public.
    static func configuration(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore,
                              booking: String? = nil) throws -> SchedulerConfigurationRecord {
        var application: String?
        if ctx.request.header("authorization") != nil {
            let bearer = try ctx.bearerToken()
            if let session = try store.schedulerSession(id: bearer) {
                guard session.expiresAt > s.now.seconds else { throw NylasError.unauthorized("Unauthorized: the session has expired") }
                guard let c = try store.schedulerConfiguration(id: session.configurationID) else {
                    throw NylasError.notFound("Configuration \(session.configurationID) not found")
                }
                ctx.notes.set(application: c.applicationID)
                return c
            }
            guard let app = try store.application(apiKey: bearer), app.apiVersion == 3 else {
                throw NylasError.unauthorized("Unauthorized: unknown session, API key or access token for the \(ctx.region.rawValue.uppercased()) region")
            }
            application = app.id
            ctx.notes.set(application: app.id)
        }
        let config: SchedulerConfigurationRecord?
        if let id = ctx.query["configuration_id"] {
            config = try store.schedulerConfiguration(id: id)
        } else if let slug = ctx.query["slug"] {
            guard let client = ctx.query["client_id"] else { throw NylasError.missingField("client_id") }
            config = try store.schedulerConfiguration(applicationID: client, slug: slug.lowercased())
        } else if let application, let booking, let b = try store.schedulerBooking(id: booking), b.applicationID == application {
            config = try store.schedulerConfiguration(id: b.configurationID)
        } else {
            throw NylasError.invalidRequest("A session, or configuration_id (or slug and client_id), is required")
        }
        guard let config, application == nil || config.applicationID == application else {
            throw NylasError.notFound("Configuration \(ctx.query["configuration_id"] ?? ctx.query["slug"] ?? "") not found")
        }
        if application == nil, !config.isPublic {
            throw NylasError.unauthorized("Unauthorized: this configuration requires a session")
        }
        return config
    }

    // MARK: Availability

    @Sendable static func availability(_ ctx: RequestContext) async throws -> SimResponse {
        guard let startText = ctx.query["start_time"] else { throw NylasError.missingField("start_time") }
        guard let endText = ctx.query["end_time"] else { throw NylasError.missingField("end_time") }
        guard let start = Int(startText), start >= 0 else { throw NylasError.invalidValue("start_time", "expected a Unix timestamp") }
        guard let end = Int(endText), end >= 0 else { throw NylasError.invalidValue("end_time", "expected a Unix timestamp") }
        guard end > start else { throw NylasError.invalidValue("end_time", "must be after start_time") }
        guard end - start <= 90 * 86400 else { throw NylasError.invalidValue("end_time", "the window may span at most 90 days") }
        return ctx.data(try ctx.write { s, store in
            let config = try configuration(ctx, s, store)
            if SchedulerConfiguration.isGroup(config.data) {
                return ["time_slots": .array(try SchedulerGroupEvents.slots(s, store, region: ctx.region, config, start: start, end: end))]
            }
            let excluded = try ctx.query["booking_id"].map { try SchedulerOperations.booking(store, config, id: $0) }
            let found = try SchedulerOperations.availability(s, store, region: ctx.region, config, start: start, end: end, excluding: excluded)
            var data: JSON = ["time_slots": .array(found.slots)]
            if SchedulerConfiguration.roundRobinGroup(config.data) != nil { data["order"] = .strings(found.order) }
            return data
        })
    }

    // MARK: Bookings

    @Sendable static func book(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        guard let start = try body.int("start_time") else { throw NylasError.missingField("start_time") }
        guard let end = try body.int("end_time") else { throw NylasError.missingField("end_time") }
        guard let guestObject = try body.object("guest") else { throw NylasError.missingField("guest") }
        let g = BodyFields(guestObject)
        guard let email = try g.string("email") else { throw NylasError.missingField("guest.email") }
        guard EmailAddress.isValid(email) else { throw NylasError.invalidValue("guest.email", "'\(email)' is not an email address") }
        guard let name = try g.string("name") else { throw NylasError.missingField("guest.name") }
        var participants: [String]?
        if let items = try body.array("participants") {
            participants = try items.enumerated().map { i, p throws(NylasError) -> String in
                guard let e = p["email"]?.stringValue else { throw NylasError.missingField("participants[\(i)].email") }
                return e
            }
        }
        var additional: [Participant] = []
        for (i, item) in (try body.array("additional_guests") ?? []).enumerated() {
            guard let e = item["email"]?.stringValue, EmailAddress.isValid(e) else {
                throw NylasError.invalidValue("additional_guests[\(i)].email", "expected an email address")
            }
            additional.append(Participant(name: item["name"]?.stringValue ?? "", email: e))
        }
        let language = try body.string("email_language") ?? "en"
        guard ["en", "es", "fr", "de", "nl", "sv", "ja", "zh"].contains(language) else {
            throw NylasError.invalidValue("email_language", "expected one of en, es, fr, de, nl, sv, ja, zh")
        }
        let zone = try body.string("timezone") ?? ctx.query["timezone"]
        if let zone, TimeZoneName.zone(zone) == nil { throw NylasError.invalidValue("timezone", "'\(zone)' is not an IANA time zone") }
        let fields = try body.object("additional_fields") ?? [:]
        let input = SchedulerOperations.BookingInput(start: start, end: end, guest: Participant(name: name, email: email), participants: participants,
                                                     additionalGuests: additional, additionalFields: fields, timezone: zone, language: language)
        return ctx.data(try ctx.write { s, store in
            let config = try configuration(ctx, s, store)
            try requireAdditionalFields(config, fields)
            return SchedulerOperations.json(try SchedulerOperations.book(s, store, region: ctx.region, config, input), config)
        })
    }

    /// The configuration's required additional fields are present and match their pattern.
    static func requireAdditionalFields(_ config: SchedulerConfigurationRecord, _ given: [String: JSON]) throws {
        for (key, field) in config.data["scheduler"]?["additional_fields"]?.objectValue ?? [:] {
            let value = given[key]?.stringValue
            if field["required"]?.boolValue == true, value?.isEmpty ?? true {
                throw NylasError.missingField("additional_fields.\(key)")
            }
            if let value, let pattern = field["pattern"]?.stringValue, value.range(of: "^(?:\(pattern))$", options: .regularExpression) == nil {
                throw NylasError.invalidValue("additional_fields.\(key)", "'\(value)' does not match \(pattern)")
            }
        }
    }

    @Sendable static func getBooking(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let config = try configuration(ctx, s, store, booking: ctx.param("booking_id"))
            return SchedulerOperations.json(try SchedulerOperations.booking(store, config, id: ctx.param("booking_id")), config)
        })
    }

    @Sendable static func reschedule(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        func time(_ key: String) throws(NylasError) -> Int {
            if let t = body.raw(key)?.stringValue { guard let n = Int(t) else { throw NylasError.invalidValue(key, "expected a Unix timestamp") }; return n }
            guard let n = try body.int(key) else { throw NylasError.missingField(key) }
            return n
        }
        let start = try time("start_time"), end = try time("end_time")
        return ctx.data(try ctx.write { s, store in
            let config = try configuration(ctx, s, store, booking: ctx.param("booking_id"))
            let booking = try SchedulerOperations.booking(store, config, id: ctx.param("booking_id"))
            return SchedulerOperations.json(try SchedulerOperations.reschedule(s, store, region: ctx.region, config, booking, start: start, end: end), config)
        })
    }

    @Sendable static func confirm(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        guard let salt = try body.string("salt") else { throw NylasError.missingField("salt") }
        guard let given = try body.string("status") else { throw NylasError.missingField("status") }
        let status: String
        switch given {
        case "confirmed", "confirm": status = "confirmed"
        case "cancelled", "cancel": status = "cancelled"
        default: throw NylasError.invalidValue("status", "expected confirmed or cancelled, got \(given)")
        }
        let reason = try body.string("cancellation_reason")
        return ctx.data(try ctx.write { s, store in
            let config = try configuration(ctx, s, store, booking: ctx.param("booking_id"))
            let booking = try SchedulerOperations.booking(store, config, id: ctx.param("booking_id"))
            return SchedulerOperations.json(try SchedulerOperations.confirm(s, store, region: ctx.region, config, booking, salt: salt,
                                                                            status: status, reason: reason), config)
        })
    }

    @Sendable static func cancel(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body(allowEmpty: true)
        let reason = try body.string("cancellation_reason")
        try ctx.write { s, store in
            let config = try configuration(ctx, s, store, booking: ctx.param("booking_id"))
            let booking = try SchedulerOperations.booking(store, config, id: ctx.param("booking_id"))
            _ = try SchedulerOperations.cancel(s, store, region: ctx.region, config, booking, reason: reason)
        }
        return ctx.done()
    }

    // MARK: v2 pages

    /// A v2 scheduling page's slug moved to v3: the configuration of this application with that
    /// slug (v2 pages themselves are not simulated, so only a slug kept in v3 redirects).
    @Sendable static func shouldRedirect(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let app = try ctx.requireAPIKey(s, store)
            let slug = ctx.param("v2_scheduler_slug").lowercased()
            guard let c = try store.schedulerConfiguration(applicationID: app.id, slug: slug) else {
                throw NylasError.notFound("No scheduling page was migrated from the v2 slug \(slug)")
            }
            return ["url": .string("/scheduler/\(app.id)/\(c.slug ?? slug)")]
        })
    }
}
