import Foundation
import NylasSimCore

/// `/v3/grants/{grant_id}/calendars` (reference §4.13): calendars CRUD (`primary` and the grant's
/// address work as IDs; read-only calendars refuse writes; the primary one cannot be deleted),
/// free/busy of any mailbox of the provider world, and `/v3/calendars/availability`.
package enum V3CalendarRoutes {
    package static let base = "/v3/grants/{grant_id}/calendars"

    package static func register(_ r: inout Router) {
        r.add("POST", base + "/free-busy", .v3, freeBusy)
        r.add("POST", "/v3/calendars/availability", .v3, availability)
        r.add("GET", base, .v3, list)
        r.add("POST", base, .v3, create)
        r.add("GET", base + "/{calendar_id}", .v3, get)
        r.add("PUT", base + "/{calendar_id}", .v3, update)
        r.add("PATCH", base + "/{calendar_id}", .v3, update)
        r.add("DELETE", base + "/{calendar_id}", .v3, delete)
    }

    // MARK: - CRUD

    @Sendable package static func list(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.rejectV2Parameters()
        let limit = try ctx.limit(default: 50, max: 200)
        let offset = try ctx.pageOffset()
        let pairs = try CalendarAccess.metadataPairs(ctx.query)
        let (items, next) = try ctx.calendarRead { s, store -> ([JSON], String?) in
            let grant = try ctx.dataGrant(s, store)
            let all = try store.calendars(grantID: grant.id).filter { CalendarAccess.matches($0.metadata, pairs) }
            let page = all.dropFirst(offset).prefix(limit)
            return (page.map { ctx.selecting($0.data) }, offset + limit < all.count ? PageToken.make([String(offset + limit)]) : nil)
        }
        return ctx.list(items, nextCursor: next)
    }

    @Sendable package static func get(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.calendarRead { s, store in
            let grant = try ctx.dataGrant(s, store)
            return ctx.selecting(try CalendarAccess.calendar(store, grant, try ctx.objectID("calendar_id", kind: "calendar", grant: grant, store: store)).data)
        })
    }

    @Sendable package static func create(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let fields = try CalendarFields(body)
        guard let name = fields.name else { throw NylasError.missingField("name") }
        return ctx.data(try ctx.calendarWrite { s, store in
            let grant = try ctx.dataGrant(s, store)
            var c = WorldCalendar(mailbox: grant.email.lowercased(), role: "user", name: name, now: s.now.seconds)
            c.description = fields.description
            c.location = fields.location
            let primaryZone = try s.world.primaryCalendar(mailbox: grant.email)?.timezone
            c.timezone = fields.timezone ?? primaryZone ?? "UTC"
            c.hexColor = fields.hexColor
            c.hexForegroundColor = fields.hexForegroundColor
            let created = try s.world.insertCalendar(c, time: s.now)
            guard let record = try CalendarSync.applyCalendar(s, region: ctx.region, grant: grant, created, kind: ctx.changeKind(grant),
                                                              metadata: fields.metadata ?? [:], notetaker: fields.notetaker) else {
                throw NylasError.internal("calendar not synced")
            }
            try CalendarSync.worldChanged(s, mailbox: grant.email)
            return ctx.selecting(record.data)
        })
    }

    @Sendable package static func update(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let fields = try CalendarFields(body)
        return ctx.data(try ctx.calendarWrite { s, store in
            let grant = try ctx.dataGrant(s, store)
            let record = try CalendarAccess.calendar(store, grant, ctx.param("calendar_id"))
            try CalendarAccess.requireWritable(record)
            guard var c = try s.world.calendar(id: record.worldID), !c.deleted else { throw NylasError.notFound("Calendar not found: \(record.id)") }
            if let v = fields.name { c.name = v }
            if let v = fields.description { c.description = v }
            if let v = fields.location { c.location = v }
            if let v = fields.timezone { c.timezone = v }
            if let v = fields.hexColor { c.hexColor = v.isEmpty ? nil : v }
            if let v = fields.hexForegroundColor { c.hexForegroundColor = v.isEmpty ? nil : v }
            let providerChanged = c != (try s.world.calendar(id: record.worldID))
            if providerChanged { try s.world.updateCalendar(c, time: s.now) }
            let updated = try CalendarSync.applyCalendar(s, region: ctx.region, grant: grant, try s.world.calendar(id: c.id)!,
                                                         kind: ctx.changeKind(grant), metadata: fields.metadata ?? record.metadata,
                                                         notetaker: fields.notetaker) ?? record
            if fields.notetaker != nil { try NotetakerRules.calendarChanged(s, region: ctx.region, grant: grant, updated) }
            if providerChanged { try CalendarSync.worldChanged(s, mailbox: grant.email) }
            return ctx.selecting(updated.data)
        })
    }

    @Sendable package static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.calendarWrite { s, store in
            let grant = try ctx.dataGrant(s, store)
            let record = try CalendarAccess.calendar(store, grant, ctx.param("calendar_id"))
            if record.isPrimary { throw NylasError.invalidRequest("The primary calendar cannot be deleted") }
            try CalendarAccess.requireWritable(record)
            guard let c = try s.world.calendar(id: record.worldID), !c.deleted else { throw NylasError.notFound("Calendar not found: \(record.id)") }
            try s.world.deleteCalendar(c, time: s.now)
            try CalendarSync.applyCalendar(s, region: ctx.region, grant: grant, try s.world.calendar(id: c.id)!, kind: ctx.changeKind(grant))
            try CalendarSync.worldChanged(s, mailbox: grant.email)
        }
        return ctx.done()
    }

    // MARK: - Free/busy

    /// `POST …/calendars/free-busy`: busy intervals of each address's primary calendar, or an
    /// `error` item for an address the provider cannot resolve.
    @Sendable package static func freeBusy(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        guard let start = try body.int("start_time") else { throw NylasError.missingField("start_time") }
        guard let end = try body.int("end_time") else { throw NylasError.missingField("end_time") }
        guard end > start else { throw NylasError.invalidValue("end_time", "must be after start_time") }
        guard end - start <= 366 * 86400 else { throw NylasError.invalidValue("end_time", "the window may span at most one year") }
        guard let emails = try body.stringArray("emails"), !emails.isEmpty else { throw NylasError.missingField("emails") }
        guard emails.count <= 50 else { throw NylasError.invalidValue("emails", "at most 50 addresses") }
        for (i, e) in emails.enumerated() where !EmailAddress.isValid(e) {
            throw NylasError.invalidValue("emails[\(i)]", "'\(e)' is not an email address")
        }
        let tentative = try body.bool("tentative_as_busy") ?? true
        return ctx.data(.array(try ctx.calendarRead { s, store in
            _ = try ctx.dataGrant(s, store)
            return try emails.map { email -> JSON in
                guard try s.world.mailbox(email) != nil else {
                    return ["object": "error", "email": .string(email),
                            "error": .string("Unable to resolve e-mail address \(email) to an Active Directory object.")]
                }
                let calendars = try s.world.primaryCalendar(mailbox: email).map { [$0.id] } ?? []
                let busy = try BusyTime.intervals(s.world, mailbox: email.lowercased(), calendars: calendars, from: start, to: end,
                                                  tentativeAsBusy: tentative)
                return ["object": "free_busy", "email": .string(email), "time_slots": .array(busy.map {
                    ["start_time": .int($0.0), "end_time": .int($0.1), "status": "busy", "object": "time_slot"]
                })]
            }
        }))
    }

    // MARK: - Availability

    @Sendable package static func availability(_ ctx: RequestContext) async throws -> SimResponse {
        let request = try AvailabilityRequest.parse(try ctx.body())
        return ctx.data(try ctx.read { s, store in
            let caller = try ctx.v3Caller(s, store)
            let result = try AvailabilityEngine.compute(s, store, applicationID: caller.application.id, request)
            var data: JSON = ["time_slots": .array(result.slots)]
            if request.method != "collective" { data["order"] = .strings(result.order) }
            return data
        })
    }
}
