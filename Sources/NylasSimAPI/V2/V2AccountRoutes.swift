import Foundation
import NylasSimCore

/// v2 authentication (hosted and native), revocation, `/account` and account management.
package enum V2AccountRoutes {
    package static let nativeSettings: [String: [String]] = [
        "gmail": ["google_client_id", "google_client_secret", "google_refresh_token"],
        "office365": ["microsoft_client_id", "microsoft_client_secret", "microsoft_refresh_token"],
        "graph": ["microsoft_client_id", "microsoft_client_secret", "microsoft_refresh_token"],
        "exchange": ["username", "password"],
        "imap": ["imap_host", "imap_port", "imap_username", "imap_password", "smtp_host", "smtp_port"],
        "yahoo": ["password"], "icloud": ["password"], "aol": ["password"], "hotmail": ["password"], "outlook": ["password"],
        "nylas": [],
    ]

    package static func register(_ r: inout Router) {
        // MARK: Hosted auth
        r.add("GET", "/oauth/authorize", .v2, getAuthorize)
        r.add("POST", "/oauth/token", .v2, exchange)
        r.add("GET", "/oauth/token", .v2, exchange)

        // MARK: Native auth
        r.add("POST", "/connect/authorize", .v2, postAuthorize)
        r.add("POST", "/connect/token", .v2, postToken)
        r.add("POST", "/oauth/revoke", .v2, postRevoke)

        // MARK: The account behind a token
        r.add("GET", "/account", .v2, getAccount)

        // MARK: Management
        r.add("GET", "/a/{client_id}", .v2, getApplication)
        r.add("PUT", "/a/{client_id}", .v2, updateApplication)
        r.add("GET", "/a/{client_id}/accounts", .v2, listAccounts)
        r.add("GET", "/a/{client_id}/accounts/{id}", .v2, getManagedAccount)
        r.add("PUT", "/a/{client_id}/accounts/{id}", .v2, putAccount)
        r.add("DELETE", "/a/{client_id}/accounts/{id}", .v2, deleteAccount)
        r.add("POST", "/a/{client_id}/accounts/{id}/downgrade", .v2, postDowngrade)
        r.add("POST", "/a/{client_id}/accounts/{id}/upgrade", .v2, postUpgrade)
        r.add("POST", "/a/{client_id}/accounts/{id}/revoke-all", .v2, postRevokeAll)
        r.add("POST", "/a/{client_id}/accounts/{id}/token-info", .v2, postTokenInfo)
    }

    /// `GET "/oauth/authorize"`
    @Sendable static func getAuthorize(_ ctx: RequestContext) async throws -> SimResponse {
        let q = ctx.query
        guard let clientID = q["client_id"], !clientID.isEmpty else { throw NylasError.missingField("client_id") }
        guard let redirect = q["redirect_uri"], !redirect.isEmpty else { throw NylasError.missingField("redirect_uri") }
        let responseType = q["response_type"] ?? "code"
        guard ["code", "token"].contains(responseType) else { throw NylasError.invalidValue("response_type", "expected code or token") }
        return try ctx.write { s, store in
            guard let app = try store.application(clientID: clientID), app.apiVersion == 2 else {
                throw NylasError.invalidRequest("Invalid client_id \(clientID)")
            }
            ctx.notes.set(application: app.id)
            guard try store.redirectURIs(applicationID: app.id).contains(where: { $0.url == redirect }) else {
                throw NylasError.invalidRequest("redirect_uri \(redirect) is not registered for this application")
            }
            let hint = q["login_hint"].flatMap { $0.isEmpty ? nil : $0 }
            let provider = q["provider"].flatMap(V2Provider.v3Name) ?? hint.map(ProviderDetection.detect) ?? "google"
            let email = (hint ?? "user\(store.ids.hex("v2-login", length: 6))@\(ProviderDetection.defaultDomain(provider))").lowercased()
            let scopes = (q["scopes"] ?? "email,calendar,contacts").split(separator: ",").map(String.init)
            let state = q["state"]
            if s.consent.mode == "deny" {
                // Reference v2 §1 (l. 69): `redirect_on_error=false` shows the error instead of redirecting.
                if q["redirect_on_error"] == "false" {
                    let page = "<!doctype html><title>Authorization failed</title><h1>Authorization failed</h1><p>access_denied: the user denied access.</p>"
                    return SimResponse(status: 400, headers: ["Content-Type": "text/html; charset=utf-8"], body: Array(page.utf8))
                }
                var loc = redirect + (redirect.contains("?") ? "&" : "?") + "error=access_denied&reason=user_denied"
                if let state { loc += "&state=\(QueryParameters.encode(state))" }
                return .redirect(loc)
            }
            if responseType == "token" {
                let (_, token) = try s.connectAccount(region: ctx.region, application: app, provider: provider, email: email, name: nil, scopes: scopes)
                var frag = "access_token=\(token)"
                if let state { frag += "&state=\(QueryParameters.encode(state))" }
                return .redirect(redirect + "#" + frag)
            }
            let code = store.ids.base36("v2-code", length: 30)
            try store.insert(TokenRecord(token: code, kind: .code, applicationID: app.id, grantID: nil,
                                         expiresAt: s.now + s.settings.authorizationCodeLifetime,
                                         data: ["email": .string(email), "provider": .string(provider), "scopes": .strings(scopes)],
                                         createdAt: s.now.seconds))
            var loc = redirect + (redirect.contains("?") ? "&" : "?") + "code=\(code)"
            if let state { loc += "&state=\(QueryParameters.encode(state))" }
            return .redirect(loc)
        }
    }

    @Sendable static func exchange(_ ctx: RequestContext) async throws -> SimResponse {
        var fields = ctx.query.pairs.reduce(into: [String: JSON]()) { $0[$1.0] = .string($1.1) }
        if !ctx.request.body.isEmpty {
            for (k, v) in try ctx.body(allowForm: true).values { fields[k] = v }
        }
        let body = BodyFields(fields)
        let clientID = try body.requiredString("client_id")
        let secret = try body.requiredString("client_secret")
        let code = try body.requiredString("code")
        if let gt = try body.string("grant_type"), gt != "authorization_code" {
            throw NylasError.invalidValue("grant_type", "expected authorization_code")
        }
        return .json(try ctx.write { s, store in
            let (app, record) = try redeem(code, clientID: clientID, secret: secret, s, store)
            let (account, token) = try s.connectAccount(region: ctx.region, application: app,
                                                        provider: record.data["provider"]?.stringValue ?? "google",
                                                        email: record.data["email"]?.stringValue ?? "", name: record.data["name"]?.stringValue,
                                                        scopes: record.data["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                                        server: record.data["server"]?.stringValue)
            ctx.notes.set(application: app.id, grant: account.id)
            return ["access_token": .string(token), "account_id": .string(account.id), "email_address": .string(account.email),
                    "provider": .string(V2Provider.v2Name(account.provider)), "token_type": "bearer"]
        })
    }

    /// The server settings that identify an IMAP or Exchange account (hosts, ports, user names;
    /// not passwords): nil for the other providers.
    static func serverSettings(_ provider: String, _ settings: BodyFields) -> String? {
        guard provider == "imap" || provider == "exchange" else { return nil }
        let keys = settings.values.keys.filter { !$0.contains("password") && !$0.contains("secret") && !$0.contains("token") }.sorted()
        return keys.map { key in "\(key)=\(settings.raw(key).map { $0.stringValue ?? "\($0)" } ?? "")" }.joined(separator: ";")
    }

    /// `POST "/connect/authorize"`
    @Sendable static func postAuthorize(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let clientID = try body.requiredString("client_id")
        let email = try body.requiredString("email_address")
        guard EmailAddress.isValid(email) else { throw NylasError.invalidValue("email_address", "'\(email)' is not an email address") }
        let providerName = try body.requiredString("provider")
        guard let provider = V2Provider.v3Name(providerName), let required = nativeSettings[providerName.lowercased()] else {
            throw NylasError.invalidValue("provider", "unknown provider '\(providerName)'")
        }
        let settings = BodyFields(try body.object("settings") ?? [:])
        for key in required where settings.raw(key) == nil {
            throw NylasError(status: 400, type: "invalid_request_error", message: "Missing provider setting: \(key)")
        }
        let scopes = (try body.string("scopes") ?? "email,calendar,contacts").split(separator: ",").map(String.init)
        let server = serverSettings(providerName.lowercased(), settings)
        return .json(try ctx.write { s, store in
            guard let app = try store.application(clientID: clientID), app.apiVersion == 2 else {
                throw NylasError.invalidRequest("Invalid client_id \(clientID)")
            }
            ctx.notes.set(application: app.id)
            let code = store.ids.base36("v2-code", length: 30)
            try store.insert(TokenRecord(token: code, kind: .code, applicationID: app.id, grantID: nil,
                                         expiresAt: s.now + s.settings.authorizationCodeLifetime,
                                         data: ["email": .string(email.lowercased()), "provider": .string(provider),
                                                "name": .optional(try body.string("name")), "scopes": .strings(scopes),
                                                "server": .optional(server)],
                                         createdAt: s.now.seconds))
            return ["code": .string(code)]
        })
    }

    /// `POST "/connect/token"`
    @Sendable static func postToken(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let clientID = try body.requiredString("client_id")
        let secret = try body.requiredString("client_secret")
        let code = try body.requiredString("code")
        return .json(try ctx.write { s, store in
            let (app, record) = try redeem(code, clientID: clientID, secret: secret, s, store)
            let (account, token) = try s.connectAccount(region: ctx.region, application: app,
                                                        provider: record.data["provider"]?.stringValue ?? "imap",
                                                        email: record.data["email"]?.stringValue ?? "", name: record.data["name"]?.stringValue,
                                                        scopes: record.data["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                                        server: record.data["server"]?.stringValue)
            ctx.notes.set(application: app.id, grant: account.id)
            var o = V2Render.account(account)
            o["access_token"] = .string(token)
            return o
        })
    }

    /// `POST "/oauth/revoke"`
    @Sendable static func postRevoke(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let (account, token) = try ctx.v2Account(s, store, allowStopped: true)
            try store.revokeToken(token.token)
            // The account's last live token revoked: it no longer syncs nor bills.
            if try !store.hasLiveV2Token(accountID: account.id) {
                try s.billingDisconnect(region: ctx.region, grantID: account.id, reason: "revoked")
            }
        }
        return .json(["success": true])
    }

    /// `GET "/account"`
    @Sendable static func getAccount(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.read { s, store in V2Render.account(try ctx.v2Account(s, store, allowStopped: true).0) })
    }

    /// `GET "/a/{client_id}"`
    @Sendable static func getApplication(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.read { _, store in
            let app = try ctx.requireV2Application(store)
            return ["application_name": .string(app.name), "icon_url": .null,
                    "redirect_uris": .strings(try store.redirectURIs(applicationID: app.id).map(\.url))]
        })
    }

    /// `PUT "/a/{client_id}"`
    @Sendable static func updateApplication(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return .json(try ctx.write { s, store in
            var app = try ctx.requireV2Application(store)
            if let name = try body.string("application_name") { app.name = name }
            if let uris = try body.stringArray("redirect_uris") {
                for old in try store.redirectURIs(applicationID: app.id) { _ = try store.deleteRedirectURI(applicationID: app.id, id: old.id) }
                for u in uris { try store.insertRedirectURI(applicationID: app.id, url: u, platform: "web", settings: nil, now: s.now.seconds) }
            }
            app.updatedAt = s.now.seconds
            try store.save(app)
            return ["application_name": .string(app.name), "icon_url": .null,
                    "redirect_uris": .strings(try store.redirectURIs(applicationID: app.id).map(\.url))]
        })
    }

    /// `GET "/a/{client_id}/accounts"`
    @Sendable static func listAccounts(_ ctx: RequestContext) async throws -> SimResponse {
        let limit = try ctx.query.int("limit", in: 0...1000) ?? 100
        let offset = try ctx.query.int("offset", in: 0...Int.max) ?? 0
        return .json(.array(try ctx.read { _, store in
            let app = try ctx.requireV2Application(store)
            var f = RegionStore.GrantFilter()
            f.applicationID = app.id
            f.limit = limit
            f.offset = offset
            f.ascending = true
            return try store.grants(f).filter { $0.billingState != "deleted" }.map(V2Render.managementAccount)
        }))
    }

    /// `GET "/a/{client_id}/accounts/{id}"`
    @Sendable static func getManagedAccount(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.read { _, store in V2Render.managementAccount(try managed(ctx, store)) })
    }

    /// `PUT "/a/{client_id}/accounts/{id}"`
    @Sendable static func putAccount(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        try body.rejectUnknown(["metadata"])
        return .json(try ctx.write { _, store in
            var a = try managed(ctx, store)
            if let m = try body.object("metadata") { a.metadata = .object(m) }
            try store.save(a)
            return V2Render.managementAccount(a)
        })
    }

    /// `DELETE "/a/{client_id}/accounts/{id}"`
    @Sendable static func deleteAccount(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            var a = try managed(ctx, store)
            a.billingState = "deleted"
            a.syncState = "stopped"
            a.updatedAt = s.now.seconds
            try store.save(a)
            try store.revokeTokens(grantID: a.id)
            try store.purgeGrantData(grantID: a.id)
            try s.billingDisconnect(region: ctx.region, grantID: a.id, reason: "deleted")
            s.emit(SimEvent(region: ctx.region, applicationID: a.applicationID, grantID: a.id, type: "account.stopped",
                            object: ["id": .string(a.id)], source: "", time: s.now, apiVersion: 2))
        }
        return .json(["success": true])
    }

    /// `POST "/a/{client_id}/accounts/{id}/downgrade"`
    @Sendable static func postDowngrade(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            var a = try managed(ctx, store)
            a.billingState = "cancelled"
            a.syncState = "stopped"
            a.updatedAt = s.now.seconds
            try store.save(a)
            try s.billingDisconnect(region: ctx.region, grantID: a.id, reason: "downgraded")
            s.emit(SimEvent(region: ctx.region, applicationID: a.applicationID, grantID: a.id, type: "account.stopped",
                            object: ["id": .string(a.id)], source: "", time: s.now, apiVersion: 2))
        }
        return .json(["success": true])
    }

    /// `POST "/a/{client_id}/accounts/{id}/upgrade"`
    @Sendable static func postUpgrade(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            var a = try managed(ctx, store)
            a.billingState = "paid"
            a.syncState = "running"
            a.updatedAt = s.now.seconds
            try store.save(a)
            try s.billingConnect(region: ctx.region, grant: a)
            s.emit(SimEvent(region: ctx.region, applicationID: a.applicationID, grantID: a.id, type: "account.running",
                            object: ["id": .string(a.id)], source: "", time: s.now, apiVersion: 2))
            try SyncEngine.grantConnected(s, region: ctx.region, grant: a, isNew: false)
        }
        return .json(["success": true])
    }

    /// `POST "/a/{client_id}/accounts/{id}/revoke-all"`
    @Sendable static func postRevokeAll(_ ctx: RequestContext) async throws -> SimResponse {
        let keep = try ctx.body(allowEmpty: true).string("keep_access_token")
        try ctx.write { _, store in
            let a = try managed(ctx, store)
            try store.revokeV2Tokens(accountID: a.id, except: keep)
        }
        return .json(["success": true])
    }

    /// `POST "/a/{client_id}/accounts/{id}/token-info"`
    @Sendable static func postTokenInfo(_ ctx: RequestContext) async throws -> SimResponse {
        let token = try ctx.body().requiredString("access_token")
        return .json(try ctx.read { _, store in
            let a = try managed(ctx, store)
            guard let t = try store.token(token), t.kind == .v2, t.grantID == a.id else {
                throw NylasError.notFound("No such token for account \(a.id)")
            }
            return ["created_at": .int(t.createdAt), "updated_at": .int(t.createdAt),
                    "scopes": t.data["scopes"] ?? "email,calendar,contacts", "state": .string(t.revoked ? "revoked" : "valid")]
        })
    }

    package static func redeem(_ code: String, clientID: String, secret: String, _ s: EngineState, _ store: RegionStore) throws -> (ApplicationRecord, TokenRecord) {
        guard let app = try store.application(clientID: clientID), app.apiVersion == 2, app.clientSecret == secret else {
            throw NylasError(status: 401, type: "api_error", message: "Unable to associate credentials", v2Type: "api_error")
        }
        guard let record = try store.token(code), record.kind == .code, record.applicationID == app.id, !record.used,
              !record.isExpired(at: s.now) else {
            throw NylasError(status: 400, type: "api_error", message: "Invalid or expired code", v2Type: "api_error")
        }
        try store.markUsed(code)
        return (app, record)
    }

    package static func managed(_ ctx: RequestContext, _ store: RegionStore) throws -> GrantRecord {
        let app = try ctx.requireV2Application(store)
        guard let a = try store.grant(id: ctx.param("id")), a.applicationID == app.id, a.apiVersion == 2, a.billingState != "deleted" else {
            throw NylasError.notFound("The account does not exist.")
        }
        return a
    }
}
