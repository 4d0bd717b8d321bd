import Foundation
import NylasSimCore
import NylasSimAPI

extension ControlRoutes {
    /// `/__sim/scheduler`: Scheduler configurations and bookings without the v3 routes' auth
    /// (what a test sets up before the code under test books or reschedules).
    package static func registerScheduler(_ r: inout Router) {
        r.add("GET", "/__sim/scheduler", .control, getScheduler)
        r.add("POST", "/__sim/scheduler/configurations", .control, postSchedulerConfiguration)
        r.add("POST", "/__sim/scheduler/bookings", .control, postSchedulerBooking)
    }

    /// `GET "/__sim/scheduler"`
    @Sendable static func getScheduler(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.core.schedulerJSON())
    }

    /// `POST "/__sim/scheduler/configurations"`: `{grant_id, region?, configuration}`.
    @Sendable static func postSchedulerConfiguration(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        guard let configuration = try body.object("configuration") else { throw NylasError.missingField("configuration") }
        return .json(try ctx.core.createSchedulerConfiguration(region: try region(body), grantID: try body.requiredString("grant_id"),
                                                               configuration), status: 201)
    }

    /// `POST "/__sim/scheduler/bookings"`: `{configuration_id, region?, start_time, end_time, guest: {name, email}}`.
    @Sendable static func postSchedulerBooking(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        guard let start = try body.int("start_time") else { throw NylasError.missingField("start_time") }
        guard let end = try body.int("end_time") else { throw NylasError.missingField("end_time") }
        let guest = BodyFields(try body.object("guest") ?? [:])
        let email = try guest.requiredString("email")
        guard EmailAddress.isValid(email) else { throw NylasError.invalidValue("guest.email", "'\(email)' is not an email address") }
        let input = SchedulerOperations.BookingInput(start: start, end: end, guest: Participant(name: try guest.string("name") ?? "", email: email))
        return .json(try ctx.core.bookScheduler(region: try region(body), configurationID: try body.requiredString("configuration_id"), input),
                     status: 201)
    }
}
