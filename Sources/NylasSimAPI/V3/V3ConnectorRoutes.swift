import Foundation
import NylasSimCore

/// `/v3/connectors`, their credentials, and `/v3/providers/detect` (reference §4.2–§4.4).
package enum V3ConnectorRoutes {
    /// Providers a connector can be created for.
    package static let oauthProviders: Set<String> = ["google", "microsoft", "yahoo", "zoom"]

    package static func register(_ r: inout Router) {
        r.add("POST", "/v3/connectors", .v3, postConnectors)
        r.add("GET", "/v3/connectors", .v3, listConnectors)
        r.add("GET", "/v3/connectors/{provider}", .v3, getConnector)
        r.add("PATCH", "/v3/connectors/{provider}", .v3, patchConnector)
        r.add("DELETE", "/v3/connectors/{provider}", .v3, deleteConnector)

        // MARK: Credentials
        r.add("POST", "/v3/connectors/{provider}/creds", .v3, postCreds)
        r.add("GET", "/v3/connectors/{provider}/creds", .v3, listCreds)
        r.add("GET", "/v3/connectors/{provider}/creds/{id}", .v3, getCred)
        r.add("PATCH", "/v3/connectors/{provider}/creds/{id}", .v3, patchCred)
        r.add("DELETE", "/v3/connectors/{provider}/creds/{id}", .v3, deleteCred)

        // MARK: Provider detection
        r.add("POST", "/v3/providers/detect", .v3, postDetect)
    }

    /// `POST "/v3/connectors"`
    @Sendable static func postConnectors(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let provider = try body.requiredString("provider")
        guard ProviderKind.connectorNames.contains(provider) else {
            throw NylasError.invalidValue("provider", "unknown provider '\(provider)'")
        }
        let settings = try body.object("settings") ?? [:]
        if oauthProviders.contains(provider) {
            let fields = BodyFields(settings)
            _ = try fields.string("client_id", required: true)
            _ = try fields.string("client_secret", required: true)
        }
        let scope = try body.stringArray("scope") ?? []
        try checkScope(provider, scope)
        let name = try body.string("name")
        return ctx.data(try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            if try store.connector(applicationID: app.id, provider: provider) != nil {
                throw NylasError.conflict("A connector for provider \(provider) already exists for this application; an application has one connector per provider")
            }
            try store.insertConnector(applicationID: app.id, provider: provider, settings: .object(settings), scope: scope,
                                      name: name, now: s.now.seconds)
            return try store.connector(applicationID: app.id, provider: provider)!.json
        }, status: 201)
    }

    /// `GET "/v3/connectors"`
    @Sendable static func listConnectors(_ ctx: RequestContext) async throws -> SimResponse {
        let limit = try ctx.query.int("limit", in: 1...200) ?? 10
        let offset = try ctx.query.int("offset", in: 0...Int.max) ?? 0
        let items = try ctx.read { s, store in
            let app = try ctx.requireAPIKey(s, store)
            return try store.connectors(applicationID: app.id, limit: limit, offset: offset).map(\.json)
        }
        return ctx.list(items, limit: limit, offset: offset)
    }

    /// `GET "/v3/connectors/{provider}"`
    @Sendable static func getConnector(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let app = try ctx.requireAPIKey(s, store)
            return try connector(store, app, ctx.param("provider")).json
        })
    }

    /// `PATCH "/v3/connectors/{provider}"`
    @Sendable static func patchConnector(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        try body.rejectUnknown(["settings", "scope", "active_credential_id", "name"])
        return ctx.data(try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            var c = try connector(store, app, ctx.param("provider"))
            if let settings = try body.object("settings") {
                var merged = c.settings.objectValue ?? [:]
                for (k, v) in settings { merged[k] = v }
                c.settings = .object(merged)
            }
            if let scope = try body.stringArray("scope") {
                try checkScope(c.provider, scope)
                c.scope = scope
            }
            if let name = try body.string("name") { c.name = name }
            if let credential = try body.string("active_credential_id") {
                guard try store.credential(applicationID: app.id, provider: c.provider, id: credential) != nil else {
                    throw NylasError.notFound("Credential not found: \(credential)")
                }
                c.activeCredentialID = credential
            }
            try store.update(c, applicationID: app.id)
            return c.json
        })
    }

    /// `DELETE "/v3/connectors/{provider}"`
    @Sendable static func deleteConnector(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            guard try store.deleteConnector(applicationID: app.id, provider: ctx.param("provider")) else {
                throw NylasError.notFound("Connector not found: \(ctx.param("provider"))")
            }
        }
        return ctx.done()
    }

    /// `POST "/v3/connectors/{provider}/creds"`
    @Sendable static func postCreds(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let name = try body.requiredString("name")
        let type = try body.requiredString("credential_type")
        guard ["connector", "serviceaccount", "adminconsent"].contains(type) else {
            throw NylasError.invalidValue("credential_type", "expected connector, serviceaccount or adminconsent")
        }
        guard let data = try body.object("credential_data") else { throw NylasError.missingField("credential_data") }
        return ctx.data(try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            let c = try connector(store, app, ctx.param("provider"))
            let credential = RegionStore.Credential(
                id: store.ids.uuid("credential"), provider: c.provider, name: name, credentialType: type,
                data: .object(data), createdAt: s.now.seconds, updatedAt: s.now.seconds)
            try store.insert(credential, applicationID: app.id)
            return credential.json
        }, status: 201)
    }

    /// `GET "/v3/connectors/{provider}/creds"`
    @Sendable static func listCreds(_ ctx: RequestContext) async throws -> SimResponse {
        let limit = try ctx.query.int("limit", in: 1...200) ?? 10
        let offset = try ctx.query.int("offset", in: 0...Int.max) ?? 0
        let sortBy = ctx.query["sort_by"] ?? "created_at"
        guard ["created_at", "updated_at"].contains(sortBy) else {
            throw NylasError.invalidValue("sort_by", "expected created_at or updated_at")
        }
        let orderBy = ctx.query["order_by"] ?? "desc"
        guard ["asc", "desc"].contains(orderBy) else { throw NylasError.invalidValue("order_by", "expected asc or desc") }
        let items = try ctx.read { s, store in
            let app = try ctx.requireAPIKey(s, store)
            let c = try connector(store, app, ctx.param("provider"))
            return try store.credentials(applicationID: app.id, provider: c.provider, sortBy: sortBy,
                                         ascending: orderBy == "asc", limit: limit, offset: offset).map(\.json)
        }
        return ctx.list(items, limit: limit, offset: offset)
    }

    /// `GET "/v3/connectors/{provider}/creds/{id}"`
    @Sendable static func getCred(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let app = try ctx.requireAPIKey(s, store)
            return try credential(store, app, ctx.param("provider"), ctx.param("id")).json
        })
    }

    /// `PATCH "/v3/connectors/{provider}/creds/{id}"`
    @Sendable static func patchCred(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        try body.rejectUnknown(["name", "credential_data"])
        return ctx.data(try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            var c = try credential(store, app, ctx.param("provider"), ctx.param("id"))
            if let name = try body.string("name") { c.name = name }
            if let data = try body.object("credential_data") { c.data = .object(data) }
            c.updatedAt = s.now.seconds
            try store.update(c, applicationID: app.id)
            return c.json
        })
    }

    /// `DELETE "/v3/connectors/{provider}/creds/{id}"`
    @Sendable static func deleteCred(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            let c = try credential(store, app, ctx.param("provider"), ctx.param("id"))
            if try store.connector(applicationID: app.id, provider: c.provider)?.activeCredentialID == c.id {
                throw NylasError.invalidRequest("The credential \(c.id) is the connector's active credential and cannot be deleted")
            }
            try store.deleteCredential(applicationID: app.id, id: c.id)
        }
        return ctx.done()
    }

    /// `POST "/v3/providers/detect"`
    @Sendable static func postDetect(_ ctx: RequestContext) async throws -> SimResponse {
        guard let email = ctx.query["email"], !email.isEmpty else { throw NylasError.missingField("email") }
        guard email.contains("@") else { throw NylasError.invalidValue("email", "'\(email)' is not an email address") }
        let all = try ctx.query.bool("all_provider_types") ?? false
        _ = try ctx.read { s, store in try ctx.requireAPIKey(s, store) }
        let provider = ProviderDetection.detect(email)
        var data: JSON = ["email_address": .string(email), "detected": true, "provider": .string(provider)]
        if all, ["icloud", "yahoo"].contains(provider) { data["type"] = .string(provider) }
        return ctx.data(data)
    }

    package static func connector(_ store: RegionStore, _ app: ApplicationRecord, _ provider: String) throws -> RegionStore.Connector {
        guard let c = try store.connector(applicationID: app.id, provider: provider) else {
            throw NylasError.notFound("Connector not found: \(provider)")
        }
        return c
    }

    package static func credential(_ store: RegionStore, _ app: ApplicationRecord, _ provider: String, _ id: String) throws -> RegionStore.Credential {
        _ = try connector(store, app, provider)
        guard let c = try store.credential(applicationID: app.id, provider: provider, id: id) else {
            throw NylasError.notFound("Credential not found: \(id)")
        }
        return c
    }

    /// Reference §4.4 (v3 l. 199): an EWS connector's scopes are `ews.messages`, `ews.calendar`, `ews.contacts`.
    static func checkScope(_ provider: String, _ scope: [String]) throws(NylasError) {
        guard provider == "ews" else { return }
        for (i, s) in scope.enumerated() where !["ews.messages", "ews.calendar", "ews.contacts"].contains(s) {
            throw NylasError.invalidValue("scope[\(i)]", "EWS scopes are ews.messages, ews.calendar and ews.contacts, got '\(s)'")
        }
    }
}
