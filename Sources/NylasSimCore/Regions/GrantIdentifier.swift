import Foundation

extension RegionStore {
    /// The grant an identifier of `/v3/grants/{grant_id}` names for an application: `me` (the
    /// access token's grant), `grant:<id>`, `email:<address>`, `external:<id>`, a bare address,
    /// or a grant ID. Nil when none; the caller checks that it belongs to the application.
    package func grant(identifier: String, applicationID: String, tokenGrantID: String?) throws -> GrantRecord? {
        if identifier == "me" { return try tokenGrantID.flatMap { try grant(id: $0) } }
        if identifier.hasPrefix("grant:") { return try grant(id: String(identifier.dropFirst(6))) }
        if identifier.hasPrefix("email:") { return try grant(applicationID: applicationID, email: String(identifier.dropFirst(6))) }
        if identifier.hasPrefix("external:") { return try grant(applicationID: applicationID, externalID: String(identifier.dropFirst(9))) }
        if identifier.utf8.contains(UInt8(ascii: "@")) { return try grant(applicationID: applicationID, email: identifier) }
        return try grant(id: identifier)
    }
}
