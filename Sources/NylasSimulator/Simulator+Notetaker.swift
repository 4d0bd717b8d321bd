import Foundation
import NylasSimCore

extension Simulator {
    /// Every Notetaker bot of a region, as the API shows it.
    public func notetakers(_ region: Region = .us) throws -> [JSON] {
        try core.withState { s in try s.store(region).allNotetakers().map(NotetakerOperations.json) }
    }

    /// Moves a bot through its meeting by hand, as `POST /__sim/notetakers/{id}/state` does:
    /// `connecting`, `waiting_for_entry`, `attending`, `failed_entry` (a host who refuses entry),
    /// `disconnected` (the meeting ends), `media_available`, `media_error`, `media_deleted`.
    /// Returns the bot; throws a 409 `NylasError` for a move its state does not allow.
    @discardableResult
    public func moveNotetaker(_ region: Region = .us, id: String, to state: String, meetingState: String? = nil) throws -> JSON {
        try core.transaction { s in try NotetakerOperations.moveByHand(s, region: region, id: id, to: state, meetingState: meetingState) }
    }
}
