import Foundation

/// A change inside the simulator that clients may be notified of: the internal event stream
/// that webhooks (v3 notifications, v2 deltas) are built from.
public struct SimEvent: Sendable {
    package init(region: Region, applicationID: String, grantID: String?, type: String, object: JSON, source: String, time: VirtualTime, apiVersion: Int = 3) {
        self.region = region
        self.applicationID = applicationID
        self.grantID = grantID
        self.type = type
        self.object = object
        self.source = source
        self.time = time
        self.apiVersion = apiVersion
    }

    /// The region whose data changed.
    public let region: Region
    /// The application the change belongs to.
    public let applicationID: String
    /// The grant (v3) or account (v2) the change belongs to, if any.
    public let grantID: String?
    /// The v3 trigger type, e.g. `grant.created`, `message.created`.
    public let type: String
    /// The full object as the API returns it (or the notification payload for `grant.*`).
    public let object: JSON
    /// The CloudEvents `source`, e.g. `/nylas/system`, `/google/emails/realtime`.
    public let source: String
    /// When it happened, on the virtual clock.
    public let time: VirtualTime
    /// 3 for a v3 grant's change (CloudEvents notifications), 2 for a v2 account's (deltas).
    public var apiVersion: Int = 3

    /// The key under which an object carries the fields its notification puts beside it in
    /// `data` (taken out of the object when the notification is built).
    package static let dataKey = "_notification_data"
}

/// Keeps the events raised inside a transaction until it commits; a failed request raises none.
package struct EventBuffer {
    package var pending: [SimEvent] = []
}
