import Foundation

/// A Nylas application of one region: v3 (API key) or v2 (client ID and secret).
package struct ApplicationRecord: Sendable, Equatable {
    package var id: String
    package var apiVersion: Int
    package var clientID: String
    package var clientSecret: String
    package var apiKey: String?
    package var organizationID: String
    package var environment: String
    package var name: String
    package var v2ApplicationID: String?
    package var settings: JSON
    package var createdAt: Int
    package var updatedAt: Int

    package init(row: SQLRow) {
        id = row.string("id")
        apiVersion = row.int("api_version")
        clientID = row.string("client_id")
        clientSecret = row.string("client_secret")
        apiKey = row.optionalString("api_key")
        organizationID = row.string("organization_id")
        environment = row.string("environment")
        name = row.string("name")
        v2ApplicationID = row.optionalString("v2_application_id")
        settings = row.json("settings")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    package init(id: String, apiVersion: Int, clientID: String, clientSecret: String, apiKey: String?, organizationID: String,
         environment: String, name: String, v2ApplicationID: String?, settings: JSON, createdAt: Int) {
        self.id = id
        self.apiVersion = apiVersion
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.apiKey = apiKey
        self.organizationID = organizationID
        self.environment = environment
        self.name = name
        self.v2ApplicationID = v2ApplicationID
        self.settings = settings
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }
}

/// Whether a grant's (or v2 account's) provider credentials work.
package enum GrantStatus: String, Sendable, SQLBindable {
    case valid, invalid
    package var sqlValue: SQLValue { .text(rawValue) }
}

/// A v3 grant: one end user's mailbox connected to one application.
package struct GrantRecord: Sendable, Equatable {
    /// Its provider, typed.
    package var kind: ProviderKind { ProviderKind(provider) }

    package var id: String
    package var applicationID: String
    package var provider: String
    package var email: String
    package var name: String?
    package var status: GrantStatus
    package var scope: [String]
    package var settings: JSON
    package var state: String?
    package var providerUserID: String?
    package var accountID: String?
    package var externalID: String?
    package var credentialID: String?
    package var ip: String?
    package var userAgent: String?
    package var createdAt: Int
    package var updatedAt: Int
    /// 3 for a v3 grant, 2 for a v2 account.
    package var apiVersion = 3
    /// v2: running, stopped, invalid...
    package var syncState: String?
    /// v2: paid, cancelled, deleted.
    package var billingState: String?
    package var metadata: JSON = .null

    package init(row: SQLRow) {
        id = row.string("id")
        applicationID = row.string("application_id")
        apiVersion = row.optionalInt("api_version") ?? 3
        syncState = row.optionalString("sync_state")
        billingState = row.optionalString("billing_state")
        metadata = row.json("metadata")
        provider = row.string("provider")
        email = row.string("email")
        name = row.optionalString("name")
        status = GrantStatus(rawValue: row.string("grant_status")) ?? .invalid
        scope = row.json("scope").arrayValue?.compactMap(\.stringValue) ?? []
        settings = row.json("settings")
        state = row.optionalString("state")
        providerUserID = row.optionalString("provider_user_id")
        accountID = row.optionalString("account_id")
        externalID = row.optionalString("external_id")
        credentialID = row.optionalString("credential_id")
        ip = row.optionalString("ip")
        userAgent = row.optionalString("user_agent")
        createdAt = row.int("created_at")
        updatedAt = row.int("updated_at")
    }

    package init(id: String, applicationID: String, provider: String, email: String, name: String?, scope: [String],
         settings: JSON, state: String?, providerUserID: String, createdAt: Int) {
        self.id = id
        self.applicationID = applicationID
        self.provider = provider
        self.email = email
        self.name = name
        self.status = .valid
        self.scope = scope
        self.settings = settings
        self.state = state
        self.providerUserID = providerUserID
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }

    /// The grant object of the v3 API (§5.9).
    package var json: JSON {
        var o: [String: JSON] = [
            "id": .string(id), "provider": .string(provider), "grant_status": .string(status.rawValue),
            "email": .string(email), "scope": .strings(scope), "created_at": .int(createdAt),
            "updated_at": .int(updatedAt), "settings": settings.isNull ? [:] : settings, "blocked": false,
        ]
        if let name { o["name"] = .string(name) }
        if let state { o["state"] = .string(state) }
        if let providerUserID { o["provider_user_id"] = .string(providerUserID) }
        if let accountID { o["account_id"] = .string(accountID) }
        if let credentialID { o["credential_id"] = .string(credentialID) }
        if let ip { o["ip"] = .string(ip) }
        if let userAgent { o["user_agent"] = .string(userAgent) }
        if let workspace = settings["workspace_id"]?.stringValue { o["workspace_id"] = .string(workspace) }
        return .object(o)
    }
}

/// A token of any kind: access, refresh, one-time code.
package struct TokenRecord: Sendable {
    package enum Kind: String, Sendable { case access, refresh, code, consent, v2 }

    package var token: String
    package var kind: Kind
    package var applicationID: String
    package var grantID: String?
    package var parent: String?
    package var expiresAt: VirtualTime?
    package var used: Bool
    package var revoked: Bool
    package var data: JSON
    package var createdAt: Int

    package init(row: SQLRow) {
        token = row.string("token")
        kind = Kind(rawValue: row.string("kind")) ?? .access
        applicationID = row.string("application_id")
        grantID = row.optionalString("grant_id")
        parent = row.optionalString("parent")
        expiresAt = row.optionalInt("expires_at").map { VirtualTime(milliseconds: Int64($0)) }
        used = row.bool("used")
        revoked = row.bool("revoked")
        data = row.json("data")
        createdAt = row.int("created_at")
    }

    package init(token: String, kind: Kind, applicationID: String, grantID: String?, parent: String? = nil,
         expiresAt: VirtualTime?, data: JSON = .null, createdAt: Int) {
        self.token = token
        self.kind = kind
        self.applicationID = applicationID
        self.grantID = grantID
        self.parent = parent
        self.expiresAt = expiresAt
        self.used = false
        self.revoked = false
        self.data = data
        self.createdAt = createdAt
    }

    package func isExpired(at now: VirtualTime) -> Bool { expiresAt.map { now >= $0 } ?? false }
}
