import Foundation

// MARK: - Redirect URIs

extension RegionStore {
    package struct RedirectURI: Sendable {
        package var id: String
        package var url: String
        package var platform: String
        package var settings: JSON

        package var json: JSON {
            var o: JSON = ["id": .string(id), "url": .string(url), "platform": .string(platform)]
            if !settings.isNull { o["settings"] = settings }
            return o
        }
    }

    private func redirectURI(_ row: SQLRow) -> RedirectURI {
        RedirectURI(id: row.string("id"), url: row.string("url"), platform: row.string("platform"), settings: row.json("settings"))
    }

    package func redirectURIs(applicationID: String) throws -> [RedirectURI] {
        try db.query("SELECT * FROM redirect_uris WHERE application_id = ? ORDER BY created_at, rowid", applicationID).map(redirectURI)
    }

    package func redirectURI(applicationID: String, id: String) throws -> RedirectURI? {
        try db.first("SELECT * FROM redirect_uris WHERE application_id = ? AND id = ?", applicationID, id).map(redirectURI)
    }

    @discardableResult
    package func insertRedirectURI(applicationID: String, url: String, platform: String, settings: JSON?, now: Int) throws -> RedirectURI {
        let id = ids.uuid("redirect-uri")
        try db.run("INSERT INTO redirect_uris(id, application_id, url, platform, settings, created_at) VALUES(?,?,?,?,?,?)",
                   id, applicationID, url, platform, settings ?? .null, now)
        return RedirectURI(id: id, url: url, platform: platform, settings: settings ?? .null)
    }

    package func update(_ uri: RedirectURI, applicationID: String) throws {
        try db.run("UPDATE redirect_uris SET url = ?, platform = ?, settings = ? WHERE id = ? AND application_id = ?",
                   uri.url, uri.platform, uri.settings, uri.id, applicationID)
    }

    package func deleteRedirectURI(applicationID: String, id: String) throws -> Bool {
        try db.run("DELETE FROM redirect_uris WHERE application_id = ? AND id = ?", applicationID, id) > 0
    }
}

// MARK: - Connectors and credentials

extension RegionStore {
    package struct Connector: Sendable {
        package var provider: String
        package var name: String
        package var settings: JSON
        package var scope: [String]
        package var activeCredentialID: String?

        package var json: JSON {
            var o: JSON = ["provider": .string(provider), "name": .string(name), "scope": .strings(scope),
                           "settings": Connector.publicSettings(settings)]
            if let activeCredentialID { o["active_credential_id"] = .string(activeCredentialID) }
            return o
        }

        /// Connector settings without secrets (`client_secret` is never echoed).
        package static func publicSettings(_ s: JSON) -> JSON {
            guard case .object(var o) = s else { return [:] }
            o["client_secret"] = nil
            return .object(o)
        }

        package static func displayName(_ provider: String) -> String {
            switch provider {
            case "google": "Google Connector"
            case "microsoft": "Microsoft Connector"
            case "imap": "IMAP Connector"
            case "icloud": "iCloud Connector"
            case "yahoo": "Yahoo Connector"
            case "ews": "EWS Connector"
            case "virtual-calendar": "Virtual Calendar Connector"
            case "zoom": "Zoom Connector"
            default: "\(provider.capitalized) Connector"
            }
        }
    }

    private func connector(_ row: SQLRow) -> Connector {
        Connector(provider: row.string("provider"), name: row.string("name"), settings: row.json("settings"),
                  scope: row.json("scope").arrayValue?.compactMap(\.stringValue) ?? [],
                  activeCredentialID: row.optionalString("active_credential_id"))
    }

    package func connectors(applicationID: String, limit: Int = 1000, offset: Int = 0) throws -> [Connector] {
        try db.query("SELECT * FROM connectors WHERE application_id = ? ORDER BY created_at, provider LIMIT ? OFFSET ?",
                     applicationID, limit, offset).map(connector)
    }

    package func connector(applicationID: String, provider: String) throws -> Connector? {
        try cachedLookup(\.connectors, applicationID + "/" + provider) {
            try db.first("SELECT * FROM connectors WHERE application_id = ? AND provider = ?", applicationID, provider).map(connector)
        }
    }

    package func insertConnector(applicationID: String, provider: String, settings: JSON, scope: [String], name: String? = nil, now: Int) throws {
        try db.run("INSERT INTO connectors(application_id, provider, name, settings, scope, created_at) VALUES(?,?,?,?,?,?)",
                   applicationID, provider, name ?? Connector.displayName(provider), settings, JSON.strings(scope), now)
    }

    package func update(_ c: Connector, applicationID: String) throws {
        try db.run("UPDATE connectors SET name = ?, settings = ?, scope = ?, active_credential_id = ? WHERE application_id = ? AND provider = ?",
                   c.name, c.settings, JSON.strings(c.scope), c.activeCredentialID, applicationID, c.provider)
    }

    package func deleteConnector(applicationID: String, provider: String) throws -> Bool {
        try db.run("DELETE FROM credentials WHERE application_id = ? AND provider = ?", applicationID, provider)
        return try db.run("DELETE FROM connectors WHERE application_id = ? AND provider = ?", applicationID, provider) > 0
    }

    package struct Credential: Sendable {
        package init(id: String, provider: String, name: String, credentialType: String, data: JSON, createdAt: Int, updatedAt: Int) {
            self.id = id
            self.provider = provider
            self.name = name
            self.credentialType = credentialType
            self.data = data
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }

        package var id: String
        package var provider: String
        package var name: String
        package var credentialType: String
        package var data: JSON
        package var createdAt: Int
        package var updatedAt: Int

        package var json: JSON {
            ["id": .string(id), "name": .string(name), "credential_type": .string(credentialType),
             "hashed_data": .string(Credential.hash(data)), "created_at": .int(createdAt), "updated_at": .int(updatedAt)]
        }

        /// A stable digest standing in for the secret data, which is never returned.
        package static func hash(_ data: JSON) -> String {
            var h: UInt64 = 0xcbf29ce484222325
            for b in data.bytes { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            return String(h, radix: 16)
        }
    }

    private func credential(_ row: SQLRow) -> Credential {
        Credential(id: row.string("id"), provider: row.string("provider"), name: row.string("name"),
                   credentialType: row.string("credential_type"), data: row.json("data"),
                   createdAt: row.int("created_at"), updatedAt: row.int("updated_at"))
    }

    package func credentials(applicationID: String, provider: String, sortBy: String, ascending: Bool, limit: Int, offset: Int) throws -> [Credential] {
        let column = sortBy == "updated_at" ? "updated_at" : "created_at"
        let order = ascending ? "ASC" : "DESC"
        return try db.query("""
            SELECT * FROM credentials WHERE application_id = ? AND provider = ?
            ORDER BY \(column) \(order), id \(order) LIMIT ? OFFSET ?
            """, applicationID, provider, limit, offset).map(credential)
    }

    package func credential(applicationID: String, provider: String, id: String) throws -> Credential? {
        try db.first("SELECT * FROM credentials WHERE application_id = ? AND provider = ? AND id = ?", applicationID, provider, id)
            .map(credential)
    }

    package func insert(_ c: Credential, applicationID: String) throws {
        try db.run("""
            INSERT INTO credentials(id, application_id, provider, name, credential_type, data, created_at, updated_at)
            VALUES(?,?,?,?,?,?,?,?)
            """, c.id, applicationID, c.provider, c.name, c.credentialType, c.data, c.createdAt, c.updatedAt)
    }

    package func update(_ c: Credential, applicationID: String) throws {
        try db.run("UPDATE credentials SET name = ?, data = ?, updated_at = ? WHERE id = ? AND application_id = ?",
                   c.name, c.data, c.updatedAt, c.id, applicationID)
    }

    package func deleteCredential(applicationID: String, id: String) throws {
        try db.run("DELETE FROM credentials WHERE application_id = ? AND id = ?", applicationID, id)
    }
}

// MARK: - Grants

extension RegionStore {
    package func grant(id: String) throws -> GrantRecord? {
        try cachedLookup(\.grants, id) {
            try db.first("SELECT * FROM grants WHERE id = ?", id).map(GrantRecord.init)
        }
    }

    /// The application's grant of the mailbox; of several (v2 accounts of one mailbox under different
    /// server settings), the newest.
    package func grant(applicationID: String, email: String) throws -> GrantRecord? {
        try db.first("SELECT * FROM grants WHERE application_id = ? AND email = ? COLLATE NOCASE ORDER BY created_at DESC, rowid DESC",
                     applicationID, email).map(GrantRecord.init)
    }

    /// Every grant of the application for the mailbox, newest first.
    package func grants(applicationID: String, email: String) throws -> [GrantRecord] {
        try db.query("SELECT * FROM grants WHERE application_id = ? AND email = ? COLLATE NOCASE ORDER BY created_at DESC, rowid DESC",
                     applicationID, email).map(GrantRecord.init)
    }

    package func grant(applicationID: String, externalID: String) throws -> GrantRecord? {
        try db.first("SELECT * FROM grants WHERE application_id = ? AND (external_id = ? OR provider_user_id = ?)",
                     applicationID, externalID, externalID).map(GrantRecord.init)
    }

    package func save(_ g: GrantRecord) throws {
        try db.run("""
            INSERT INTO grants(id, application_id, provider, email, name, grant_status, scope, settings, state,
                provider_user_id, account_id, external_id, credential_id, ip, user_agent, created_at, updated_at,
                api_version, sync_state, billing_state, metadata)
            VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(id) DO UPDATE SET provider = excluded.provider, email = excluded.email, name = excluded.name,
                grant_status = excluded.grant_status, scope = excluded.scope, settings = excluded.settings,
                state = excluded.state, account_id = excluded.account_id, external_id = excluded.external_id,
                credential_id = excluded.credential_id, ip = excluded.ip, user_agent = excluded.user_agent,
                updated_at = excluded.updated_at, sync_state = excluded.sync_state, billing_state = excluded.billing_state,
                metadata = excluded.metadata
            """, g.id, g.applicationID, g.provider, g.email, g.name, g.status, JSON.strings(g.scope), g.settings, g.state,
            g.providerUserID, g.accountID, g.externalID, g.credentialID, g.ip, g.userAgent, g.createdAt, g.updatedAt,
            g.apiVersion, g.syncState, g.billingState, g.metadata)
    }

    package func deleteGrant(id: String) throws {
        try db.run("DELETE FROM grants WHERE id = ?", id)
        try revokeTokens(grantID: id)
    }

    package struct GrantFilter {
        package init(applicationID: String? = nil, since: Int? = nil, before: Int? = nil, email: String? = nil, status: String? = nil, ip: String? = nil, provider: String? = nil, accountIDs: [String] = []) {
            self.applicationID = applicationID
            self.since = since
            self.before = before
            self.email = email
            self.status = status
            self.ip = ip
            self.provider = provider
            self.accountIDs = accountIDs
        }

        package var applicationID: String?
        package var limit = 10
        package var offset = 0
        package var sortBy = "created_at"
        package var ascending = false
        package var since: Int?
        package var before: Int?
        package var email: String?
        package var status: String?
        package var ip: String?
        package var provider: String?
        package var accountIDs: [String] = []
        /// The workspace of Nylas agent accounts (`settings.workspace_id`).
        package var workspaceID: String?
    }

    package func grants(_ f: GrantFilter) throws -> [GrantRecord] {
        var clauses: [String] = []
        var binds: [any SQLBindable] = []
        if let a = f.applicationID { clauses.append("application_id = ?"); binds.append(a) }
        if let s = f.since { clauses.append("created_at >= ?"); binds.append(s) }
        if let b = f.before { clauses.append("created_at < ?"); binds.append(b) }
        if let e = f.email { clauses.append("email = ? COLLATE NOCASE"); binds.append(e) }
        if let s = f.status { clauses.append("grant_status = ?"); binds.append(s) }
        if let ip = f.ip { clauses.append("ip = ?"); binds.append(ip) }
        if let p = f.provider { clauses.append("provider = ?"); binds.append(p) }
        if let w = f.workspaceID { clauses.append("json_extract(CAST(settings AS TEXT), '$.workspace_id') = ?"); binds.append(w) }
        if !f.accountIDs.isEmpty {
            clauses.append("account_id IN (\(f.accountIDs.map { _ in "?" }.joined(separator: ",")))")
            binds.append(contentsOf: f.accountIDs as [any SQLBindable])
        }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let column = f.sortBy == "updated_at" ? "updated_at" : "created_at"
        let order = f.ascending ? "ASC" : "DESC"
        binds.append(f.limit)
        binds.append(f.offset)
        return try db.query("SELECT * FROM grants \(whereSQL) ORDER BY \(column) \(order), id \(order) LIMIT ? OFFSET ?", binds)
            .map(GrantRecord.init)
    }

    package func allGrants() throws -> [GrantRecord] {
        try db.query("SELECT * FROM grants ORDER BY created_at, id").map(GrantRecord.init)
    }
}
