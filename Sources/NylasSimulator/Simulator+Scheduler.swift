import Foundation
import NylasSimCore

extension Simulator {
    /// Creates a Scheduler configuration for a grant (the body of
    /// `POST /v3/grants/{grant_id}/scheduling/configurations`) and returns it, defaults filled in.
    @discardableResult
    public func createSchedulerConfiguration(_ region: Region = .us, grantID: String, _ configuration: JSON) throws -> JSON {
        try core.createSchedulerConfiguration(region: region, grantID: grantID, configuration.objectValue ?? [:])
    }

    /// Books the slot `[start, end)` (Unix seconds) of a configuration as `guest` would, through the
    /// same checks as `POST /v3/scheduling/bookings`; returns the booking object.
    @discardableResult
    public func book(_ region: Region = .us, configurationID: String, start: Int, end: Int, guestName: String = "",
                     guestEmail: String) throws -> JSON {
        try core.bookScheduler(region: region, configurationID: configurationID, SchedulerOperations.BookingInput(
            start: start, end: end, guest: Participant(name: guestName, email: guestEmail)))
    }

    /// Every Scheduler configuration and booking, by region.
    public func schedulerState() throws -> JSON { try core.schedulerJSON() }
}
