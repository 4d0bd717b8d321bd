import Foundation
import NylasSimCore

/// Who is calling a v3 endpoint: an application by its API key, or one grant by its access token.
package struct V3Caller: Sendable {
    package let application: ApplicationRecord
    /// The access token, when the caller used one.
    package let token: TokenRecord?

    package var isAPIKey: Bool { token == nil }
}

extension RequestContext {
    /// The bearer token of `Authorization: Bearer <token>`; v3 accepts no other scheme.
    package func bearerToken() throws(NylasError) -> String {
        guard let header = request.header("authorization"), !header.isEmpty else {
            throw NylasError.unauthorized("Unauthorized: missing Authorization header (expected 'Bearer <API key or access token>')")
        }
        guard let space = header.utf8.firstIndex(of: UInt8(ascii: " ")), header[..<space].lowercased() == "bearer",
              header.utf8.index(after: space) < header.endIndex else {
            throw NylasError.unauthorized("Unauthorized: the Authorization header must use the Bearer scheme")
        }
        return String(header[header.utf8.index(after: space)...]).trimmingWhitespaces()
    }

    /// Resolves the v3 caller in this region: an API key of a v3 application or a live access token.
    package func v3Caller(_ s: EngineState, _ store: RegionStore) throws -> V3Caller {
        let token = try bearerToken()
        if let app = try store.application(apiKey: token), app.apiVersion == 3 {
            notes.set(application: app.id)
            return V3Caller(application: app, token: nil)
        }
        // A key created with `/v3/admin/applications/{id}/api-keys` works until deleted or expired.
        if let app = try store.application(createdAPIKey: token, now: s.now.seconds), app.apiVersion == 3 {
            notes.set(application: app.id)
            return V3Caller(application: app, token: nil)
        }
        guard let record = try store.token(token), record.kind == .access,
              let app = try store.application(id: record.applicationID) else {
            throw NylasError.unauthorized("Unauthorized: unknown API key or access token for the \(region.rawValue.uppercased()) region")
        }
        if record.revoked { throw NylasError.unauthorized("Unauthorized: the access token was revoked") }
        if record.isExpired(at: s.now) { throw NylasError.unauthorized("Unauthorized: the access token has expired") }
        notes.set(application: app.id, grant: record.grantID)
        return V3Caller(application: app, token: record)
    }

    /// The application of an API-key caller; an access token is refused on admin endpoints.
    package func requireAPIKey(_ s: EngineState, _ store: RegionStore) throws -> ApplicationRecord {
        let caller = try v3Caller(s, store)
        guard caller.isAPIKey else {
            throw NylasError.unauthorized("Unauthorized: this endpoint requires an API key, not an access token")
        }
        return caller.application
    }

    /// Resolves a `{grant_id}` path identifier (§1.3) for the caller: the ID, `grant:<id>`,
    /// an email address, `email:<email>`, `external:<id>`, or `me` (access token only).
    package func resolveGrant(_ identifier: String, _ s: EngineState, _ store: RegionStore) throws -> (V3Caller, GrantRecord) {
        let caller = try v3Caller(s, store)
        let appID = caller.application.id
        if identifier == "me", caller.token == nil {
            throw NylasError.invalidRequest("The grant identifier 'me' requires an access token; with an API key, use the grant ID")
        }
        let grant = try store.grant(identifier: identifier, applicationID: appID, tokenGrantID: caller.token?.grantID)
        guard let grant, grant.applicationID == appID else { throw NylasError.grantNotFound }
        if let token = caller.token, token.grantID != grant.id {
            throw NylasError.unauthorized("Unauthorized: the access token does not belong to this grant")
        }
        notes.set(application: appID, grant: grant.id)
        return (caller, grant)
    }

    /// Like `resolveGrant`, and refuses data calls on a grant whose credentials need re-authentication.
    package func resolveValidGrant(_ identifier: String, _ s: EngineState, _ store: RegionStore) throws -> (V3Caller, GrantRecord) {
        let (caller, grant) = try resolveGrant(identifier, s, store)
        guard grant.status == .valid else {
            throw NylasError(status: 401, type: "grant.invalid",
                             message: "The grant's provider credentials are no longer valid; the user must re-authenticate.")
        }
        return (caller, grant)
    }
}
