import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

extension ControlRoutes {
    /// `/__sim/providers/mailboxes/{email}/calendars|events|contacts`: a mailbox's calendars,
    /// events and contacts changed from outside, as the user would in their own calendar or
    /// address book; `POST /__sim/fixtures/calendar` loads a calendar fixture;
    /// `POST /__sim/calendar/settings` switches primary-calendar-only notifications.
    ///
    /// Events are named by world ID or `ical_uid`; calendars by `primary`, world ID or name;
    /// contacts by world ID or email address.
    package static func registerCalendar(_ r: inout Router) {
        let mailbox = "/__sim/providers/mailboxes/{email}"
        r.add("GET", mailbox + "/calendars", .control, listCalendars)
        r.add("POST", mailbox + "/calendars", .control, postCalendars)
        r.add("GET", mailbox + "/events", .control, listEvents)
        r.add("POST", mailbox + "/events", .control, postEvents)
        r.add("PATCH", mailbox + "/events/{event}", .control, patchEvent)
        r.add("DELETE", mailbox + "/events/{event}", .control, deleteEvent)
        r.add("POST", mailbox + "/events/{event}/rsvp", .control, postRsvp)
        r.add("GET", mailbox + "/contacts", .control, listContacts)
        r.add("POST", mailbox + "/contacts", .control, postContacts)
        r.add("PATCH", mailbox + "/contacts/{contact}", .control, patchContact)
        r.add("DELETE", mailbox + "/contacts/{contact}", .control, deleteContact)
        r.add("POST", "/__sim/fixtures/calendar", .control, postCalendar)
        r.add("POST", "/__sim/calendar/settings", .control, postSettings)
    }

    /// `GET mailbox + "/calendars"`
    @Sendable static func listCalendars(_ ctx: RequestContext) async throws -> SimResponse {
        .json(["data": try ctx.core.worldCalendarsJSON(mailbox: ctx.param("email"))])
    }

    /// `POST mailbox + "/calendars"`
    @Sendable static func postCalendars(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.core.addWorldCalendar(mailbox: ctx.param("email"), try ctx.body()), status: 201)
    }

    /// `GET mailbox + "/events"`
    @Sendable static func listEvents(_ ctx: RequestContext) async throws -> SimResponse {
        .json(["data": try ctx.core.worldEventsJSON(mailbox: ctx.param("email"))])
    }

    /// `POST mailbox + "/events"`
    @Sendable static func postEvents(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.core.addWorldEvent(mailbox: ctx.param("email"), try ctx.body()), status: 201)
    }

    /// `PATCH mailbox + "/events/{event}"`
    @Sendable static func patchEvent(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.core.changeWorldEvent(mailbox: ctx.param("email"), event: ctx.param("event"), try ctx.body()))
    }

    /// `DELETE mailbox + "/events/{event}"`
    @Sendable static func deleteEvent(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.core.deleteWorldEvent(mailbox: ctx.param("email"), event: ctx.param("event")))
    }

    /// `POST mailbox + "/events/{event}/rsvp"`
    @Sendable static func postRsvp(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return .json(try ctx.core.answerWorldEvent(mailbox: ctx.param("email"), event: ctx.param("event"),
                                                   email: try body.string("email"), status: try body.requiredString("status")))
    }

    /// `GET mailbox + "/contacts"`
    @Sendable static func listContacts(_ ctx: RequestContext) async throws -> SimResponse {
        .json(["data": try ctx.core.worldContactsJSON(mailbox: ctx.param("email"))])
    }

    /// `POST mailbox + "/contacts"`
    @Sendable static func postContacts(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.core.addWorldContact(mailbox: ctx.param("email"), try ctx.body()), status: 201)
    }

    /// `PATCH mailbox + "/contacts/{contact}"`
    @Sendable static func patchContact(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.core.changeWorldContact(mailbox: ctx.param("email"), contact: ctx.param("contact"), try ctx.body(), delete: false))
    }

    /// `DELETE mailbox + "/contacts/{contact}"`
    @Sendable static func deleteContact(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.core.changeWorldContact(mailbox: ctx.param("email"), contact: ctx.param("contact"), nil, delete: true))
    }

    /// `POST "/__sim/fixtures/calendar"`
    @Sendable static func postCalendar(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let path = try body.string("path").map { p throws(NylasError) in try ctx.core.fileRoot.resolve(p, field: "path") }
        let inline: JSON? = path == nil ? .object(body.values) : nil
        if path == nil, !["calendars", "events", "contacts"].contains(where: body.has) {
            throw NylasError.invalidRequest("Give a calendar fixture: {\"path\": \"fixtures/calendar.json\"} or the fixture object itself")
        }
        let override = path != nil ? try body.string("mailbox") : try body.string("mailbox_override")
        let result = try ctx.core.loadCalendarFixture(inline, path: path, mailbox: override)
        return .json(result.json, status: 201)
    }

    /// `POST "/__sim/calendar/settings"`
    @Sendable static func postSettings(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        guard let primaryOnly = try body.bool("sync_primary_calendar_only") else { throw NylasError.missingField("sync_primary_calendar_only") }
        return .json(try ctx.core.setCalendarSync(region: try ControlRoutes.region(body), applicationID: try body.string("application_id"),
                                                  primaryOnly: primaryOnly))
    }
}
