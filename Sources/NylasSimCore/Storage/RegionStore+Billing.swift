import Foundation

/// One period during which a grant or account was connected to an application (billable).
package struct ConnectionRecord: Sendable {
    package var applicationID: String
    package var apiVersion: Int
    package var email: String
    package var connectedAt: Int
    package var disconnectedAt: Int?
    /// Why it ended: `deleted`, `expired`, `revoked` (v2), `downgraded`, `cancelled`.
    package var endedBy: String?
}

extension RegionStore {
    package func hasOpenConnection(grantID: String) throws -> Bool {
        try db.first("SELECT id FROM connections WHERE grant_id = ? AND disconnected_at IS NULL", grantID) != nil
    }

    package func openConnection(_ grant: GrantRecord, now: Int) throws {
        try db.run("INSERT INTO connections(application_id, api_version, grant_id, email, connected_at) VALUES(?,?,?,?,?)",
                   grant.applicationID, grant.apiVersion, grant.id, grant.email.lowercased(), now)
    }

    package func closeConnection(grantID: String, now: Int, reason: String) throws {
        try db.run("UPDATE connections SET disconnected_at = ?, ended_by = ? WHERE grant_id = ? AND disconnected_at IS NULL",
                   now, reason, grantID)
    }

    /// Every connection period of the region, in order.
    package func connections() throws -> [ConnectionRecord] {
        try db.query("SELECT * FROM connections ORDER BY connected_at, id").map {
            ConnectionRecord(applicationID: $0.string("application_id"), apiVersion: $0.int("api_version"), email: $0.string("email"),
                             connectedAt: $0.int("connected_at"), disconnectedAt: $0.optionalInt("disconnected_at"),
                             endedBy: $0.optionalString("ended_by"))
        }
    }
}
