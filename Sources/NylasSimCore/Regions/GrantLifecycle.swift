import Foundation

/// Creating, re-authenticating, expiring and deleting grants, with their `grant.*` events.
extension EngineState {
    /// Connects `email` to a v3 application: an existing grant of that mailbox is
    /// re-authenticated under the same ID; otherwise a grant with a new ID is created.
    package func connectGrant(region: Region, application app: ApplicationRecord, provider: String, email: String,
                      name: String? = nil, scope: [String], settings: JSON = [:], state: String? = nil,
                      credentialID: String? = nil) throws -> (grant: GrantRecord, created: Bool) {
        let store = self.store(region)
        let now = self.now.seconds
        let mailbox = try world.ensureMailbox(email, provider: provider, name: name, now: now)
        try world.setCredentialsValid(email, true)
        if var existing = try store.grant(applicationID: app.id, email: email) {
            existing.status = .valid
            existing.scope = scope.isEmpty ? existing.scope : scope
            existing.updatedAt = now
            if let state { existing.state = state }
            try store.save(existing)
            try billingConnect(region: region, grant: existing)
            emitGrantEvent("grant.updated", region: region, grant: existing,
                           extra: ["code": 25014, "reauthentication_flag": true])
            try SyncEngine.grantConnected(self, region: region, grant: existing, isNew: false)
            return (existing, false)
        }
        var grant = GrantRecord(
            id: store.ids.uuid("grant"), applicationID: app.id, provider: provider, email: mailbox.email,
            name: name ?? mailbox.name, scope: scope, settings: settings, state: state,
            providerUserID: store.ids.hex("provider-user-id", length: 21), createdAt: now)
        grant.credentialID = credentialID
        // A grant of a v3 application linked to a v2 application keeps the v2 account's ID.
        if let v2 = app.v2ApplicationID, let account = try store.grant(applicationID: v2, email: mailbox.email), account.apiVersion == 2 {
            grant.accountID = account.id
        }
        try Workspaces.placeNew(self, region: region, &grant)
        try store.save(grant)
        try billingConnect(region: region, grant: grant)
        emitGrantEvent("grant.created", region: region, grant: grant,
                       extra: ["code": 25012, "login_id": .string(grant.providerUserID ?? ""), "name": .optional(grant.name),
                               "scope": .strings(grant.scope)])
        try SyncEngine.grantConnected(self, region: region, grant: grant, isNew: true)
        return (grant, true)
    }

    /// Deletes a grant at once (v3): its ID answers 404 afterwards and its tokens stop working.
    package func deleteGrant(region: Region, grant: GrantRecord) throws {
        try store(region).deleteGrant(id: grant.id)
        try store(region).purgeGrantData(grantID: grant.id)
        try billingDisconnect(region: region, grantID: grant.id, reason: "deleted")
        emitGrantEvent("grant.deleted", region: region, grant: grant, extra: ["code": 25013])
    }

    /// The provider credentials behind a grant stopped working (password changed, access revoked).
    package func expireGrant(region: Region, grant g: GrantRecord) throws {
        guard g.status == .valid else { return }
        var grant = g
        grant.status = .invalid
        grant.updatedAt = now.seconds
        try store(region).save(grant)
        // Nothing syncs or bills until the user re-authenticates (which connects it again).
        try billingDisconnect(region: region, grantID: grant.id, reason: "expired")
        emitGrantEvent("grant.expired", region: region, grant: grant,
                       extra: ["code": 25009, "grant_updated_at": .int(grant.updatedAt)])
    }

    private func emitGrantEvent(_ type: String, region: Region, grant: GrantRecord, extra: [String: JSON]) {
        var object: [String: JSON] = ["grant_id": .string(grant.id), "integration_id": .string(grant.applicationID),
                                      "provider": .string(grant.provider), "email": .string(grant.email)]
        for (k, v) in extra { object[k] = v }
        emit(SimEvent(region: region, applicationID: grant.applicationID, grantID: grant.id, type: type,
                      object: .object(object), source: "/nylas/system", time: now))
    }

    /// Mints an access token (and a refresh token when asked) for a grant.
    package func issueTokens(region: Region, application app: ApplicationRecord, grant: GrantRecord,
                     refresh existingRefresh: String? = nil, withRefresh: Bool) throws -> (access: TokenRecord, refresh: String?) {
        let store = self.store(region)
        var refresh = existingRefresh
        if refresh == nil, withRefresh {
            let value = "nyrt_" + store.ids.base62("refresh-token", length: 48)
            try store.insert(TokenRecord(token: value, kind: .refresh, applicationID: app.id, grantID: grant.id,
                                         expiresAt: nil, createdAt: now.seconds))
            refresh = value
        }
        let access = TokenRecord(token: "nyat_" + store.ids.base62("access-token", length: 64), kind: .access,
                                 applicationID: app.id, grantID: grant.id, parent: refresh,
                                 expiresAt: now + settings.accessTokenLifetime, createdAt: now.seconds)
        try store.insert(access)
        return (access, refresh)
    }
}

extension Engine {
    /// Creates (or re-authenticates) a grant without the OAuth dance, for test set-up.
    /// Returns the grant with an access token and a refresh token.
    package func createGrantDirectly(region: Region, applicationID: String?, email: String, provider: String?,
                             scope: [String]?, name: String?) throws -> JSON {
        guard email.contains("@") else { throw NylasError.invalidValue("email", "'\(email)' is not an email address") }
        return try transaction { s in
            let store = s.store(region)
            let apps = try store.applications().filter { $0.apiVersion == 3 }
            guard let app = applicationID.map({ id in apps.first { $0.id == id } }) ?? apps.first else {
                throw NylasError.notFound("No v3 application \(applicationID ?? "") in region \(region.rawValue)")
            }
            let provider = provider ?? ProviderDetection.detect(email)
            guard ProviderKind.connectorNames.contains(provider) else {
                throw NylasError.invalidValue("provider", "unknown provider '\(provider)'")
            }
            let (grant, created) = try s.connectGrant(region: region, application: app, provider: provider, email: email,
                                                      name: name, scope: scope ?? ProviderDetection.defaultScopes(provider))
            let tokens = try s.issueTokens(region: region, application: app, grant: grant, withRefresh: true)
            var o = grant.json
            o["application_id"] = .string(app.id)
            o["access_token"] = .string(tokens.access.token)
            o["refresh_token"] = .optional(tokens.refresh)
            o["expires_at"] = .optional(tokens.access.expiresAt?.seconds)
            o["created"] = .bool(created)
            return o
        }
    }

    /// Expires a grant's provider credentials: `grant_status: invalid`, `grant.expired`.
    package func expireCredentials(region: Region, grantID: String) throws {
        try transaction { s in
            guard let grant = try s.store(region).grant(id: grantID) else { throw NylasError.grantNotFound }
            try s.world.setCredentialsValid(grant.email, false)
            try s.expireGrant(region: region, grant: grant)
        }
    }
}
