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
        r.add("GET", mailbox + "/calendars", .control) { ctx in
            .json(["data": try ctx.core.worldCalendarsJSON(mailbox: ctx.param("email"))])
        }
        r.add("POST", mailbox + "/calendars", .control) { ctx in
            .json(try ctx.core.addWorldCalendar(mailbox: ctx.param("email"), try ctx.body()), status: 201)
        }
        r.add("GET", mailbox + "/events", .control) { ctx in
            .json(["data": try ctx.core.worldEventsJSON(mailbox: ctx.param("email"))])
        }
        r.add("POST", mailbox + "/events", .control) { ctx in
            .json(try ctx.core.addWorldEvent(mailbox: ctx.param("email"), try ctx.body()), status: 201)
        }
        r.add("PATCH", mailbox + "/events/{event}", .control) { ctx in
            .json(try ctx.core.changeWorldEvent(mailbox: ctx.param("email"), event: ctx.param("event"), try ctx.body()))
        }
        r.add("DELETE", mailbox + "/events/{event}", .control) { ctx in
            .json(try ctx.core.deleteWorldEvent(mailbox: ctx.param("email"), event: ctx.param("event")))
        }
        r.add("POST", mailbox + "/events/{event}/rsvp", .control) { ctx in
            let body = try ctx.body()
            return .json(try ctx.core.answerWorldEvent(mailbox: ctx.param("email"), event: ctx.param("event"),
                                                       email: try body.string("email"), status: try body.requiredString("status")))
        }
        r.add("GET", mailbox + "/contacts", .control) { ctx in
            .json(["data": try ctx.core.worldContactsJSON(mailbox: ctx.param("email"))])
        }
        r.add("POST", mailbox + "/contacts", .control) { ctx in
            .json(try ctx.core.addWorldContact(mailbox: ctx.param("email"), try ctx.body()), status: 201)
        }
        r.add("PATCH", mailbox + "/contacts/{contact}", .control) { ctx in
            .json(try ctx.core.changeWorldContact(mailbox: ctx.param("email"), contact: ctx.param("contact"), try ctx.body(), delete: false))
        }
        r.add("DELETE", mailbox + "/contacts/{contact}", .control) { ctx in
            .json(try ctx.core.changeWorldContact(mailbox: ctx.param("email"), contact: ctx.param("contact"), nil, delete: true))
        }
        r.add("POST", "/__sim/fixtures/calendar", .control) { ctx in
            let body = try ctx.body()
            let path = try body.string("path")
            let inline: JSON? = path == nil ? .object(body.values) : nil
            if path == nil, !["calendars", "events", "contacts"].contains(where: body.has) {
                throw NylasError.invalidRequest("Give a calendar fixture: {\"path\": \"fixtures/calendar.json\"} or the fixture object itself")
            }
            let override = path != nil ? try body.string("mailbox") : try body.string("mailbox_override")
            let result = try ctx.core.loadCalendarFixture(inline, path: path, mailbox: override)
            return .json(result.json, status: 201)
        }
        r.add("POST", "/__sim/calendar/settings", .control) { ctx in
            let body = try ctx.body()
            guard let primaryOnly = try body.bool("sync_primary_calendar_only") else { throw NylasError.missingField("sync_primary_calendar_only") }
            return .json(try ctx.core.setCalendarSync(region: try ControlRoutes.region(body), applicationID: try body.string("application_id"),
                                                      primaryOnly: primaryOnly))
        }
    }
}
