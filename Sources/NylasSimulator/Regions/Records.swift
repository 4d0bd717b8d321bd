import Foundation

/// A Nylas application of one region: v3 (API key) or v2 (client ID and secret).
struct ApplicationRecord: Sendable, Equatable {
    var id: String
    var apiVersion: Int
    var clientID: String
    var clientSecret: String
    var apiKey: String?
    var organizationID: String
    var environment: String
    var name: String
    var v2ApplicationID: String?
    var settings: JSON
    var createdAt: Int
    var updatedAt: Int

    init(row: SQLRow) {
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

    init(id: String, apiVersion: Int, clientID: String, clientSecret: String, apiKey: String?, organizationID: String,
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

/// A v3 grant: one end user's mailbox connected to one application.
struct GrantRecord: Sendable, Equatable {
    var id: String
    var applicationID: String
    var provider: String
    var email: String
    var name: String?
    var status: String
    var scope: [String]
    var settings: JSON
    var state: String?
    var providerUserID: String?
    var accountID: String?
    var externalID: String?
    var credentialID: String?
    var ip: String?
    var userAgent: String?
    var createdAt: Int
    var updatedAt: Int
    /// 3 for a v3 grant, 2 for a v2 account.
    var apiVersion = 3
    /// v2: running, stopped, invalid...
    var syncState: String?
    /// v2: paid, cancelled, deleted.
    var billingState: String?
    var metadata: JSON = .null

    init(row: SQLRow) {
        id = row.string("id")
        applicationID = row.string("application_id")
        apiVersion = row.optionalInt("api_version") ?? 3
        syncState = row.optionalString("sync_state")
        billingState = row.optionalString("billing_state")
        metadata = row.json("metadata")
        provider = row.string("provider")
        email = row.string("email")
        name = row.optionalString("name")
        status = row.string("grant_status")
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

    init(id: String, applicationID: String, provider: String, email: String, name: String?, scope: [String],
         settings: JSON, state: String?, providerUserID: String, createdAt: Int) {
        self.id = id
        self.applicationID = applicationID
        self.provider = provider
        self.email = email
        self.name = name
        self.status = "valid"
        self.scope = scope
        self.settings = settings
        self.state = state
        self.providerUserID = providerUserID
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }

    /// The grant object of the v3 API (§5.9).
    var json: JSON {
        var o: [String: JSON] = [
            "id": .string(id), "provider": .string(provider), "grant_status": .string(status),
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
        return .object(o)
    }
}

/// A token of any kind: access, refresh, one-time code.
struct TokenRecord: Sendable {
    enum Kind: String, Sendable { case access, refresh, code, consent, v2 }

    var token: String
    var kind: Kind
    var applicationID: String
    var grantID: String?
    var parent: String?
    var expiresAt: VirtualTime?
    var used: Bool
    var revoked: Bool
    var data: JSON
    var createdAt: Int

    init(row: SQLRow) {
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

    init(token: String, kind: Kind, applicationID: String, grantID: String?, parent: String? = nil,
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

    func isExpired(at now: VirtualTime) -> Bool { expiresAt.map { now >= $0 } ?? false }
}
