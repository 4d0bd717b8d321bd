import Foundation
import NylasSimCore

/// Hosted OAuth, token exchange, token info, revoke and custom auth (reference §4.5–§4.6).
package enum V3AuthRoutes {
    package static let prompts: Set<String> = ["select_provider", "detect", "select_provider,detect", "detect,select_provider"]

    package static func register(_ r: inout Router) {
        r.add("GET", "/v3/connect/auth", .v3, authorize)
        r.add("GET", "/v3/connect/callback", .v3, consentDecision)
        r.add("POST", "/v3/connect/token", .v3, token)
        r.add("GET", "/v3/connect/tokeninfo", .v3, tokenInfo)
        r.add("POST", "/v3/connect/revoke", .v3, revoke)
        r.add("POST", "/v3/connect/custom", .v3, custom)
    }

    // MARK: GET /v3/connect/auth

    @Sendable package static func authorize(_ ctx: RequestContext) async throws -> SimResponse {
        let q = ctx.query
        guard let clientID = q["client_id"], !clientID.isEmpty else { throw NylasError.missingField("client_id") }
        guard let redirectURI = q["redirect_uri"], !redirectURI.isEmpty else { throw NylasError.missingField("redirect_uri") }
        guard let responseType = q["response_type"], !responseType.isEmpty else { throw NylasError.missingField("response_type") }
        guard ["code", "token", "adminconsent"].contains(responseType) else {
            throw NylasError.invalidValue("response_type", "expected code or token")
        }
        if let prompt = q["prompt"], !prompts.contains(prompt) {
            throw NylasError.invalidValue("prompt", "expected select_provider, detect, or both separated by a comma")
        }
        if let accessType = q["access_type"], !["online", "offline"].contains(accessType) {
            throw NylasError.invalidValue("access_type", "expected online or offline")
        }
        if let state = q["state"], state.count > 256 { throw NylasError.invalidValue("state", "at most 256 characters") }
        let method = q["code_challenge_method"]?.lowercased()
        if let method, !["s256", "plain"].contains(method) {
            throw NylasError.invalidValue("code_challenge_method", "expected S256 or plain")
        }
        if method != nil, q["code_challenge"] == nil { throw NylasError.missingField("code_challenge") }
        let loginHint = q["login_hint"].flatMap { $0.isEmpty ? nil : $0 }
        if let loginHint, !loginHint.contains("@") {
            throw NylasError(status: 400, type: "grant.login_id_invalid", message: "login_hint '\(loginHint)' is not an email address")
        }

        return try ctx.write { s, store in
            guard let app = try store.application(clientID: clientID), app.apiVersion == 3 else {
                throw NylasError(status: 400, type: "invalid_request_error",
                                 message: "Invalid client_id: no application \(clientID) in the \(ctx.region.rawValue.uppercased()) region")
            }
            ctx.notes.set(application: app.id)
            guard try store.redirectURIs(applicationID: app.id).contains(where: { $0.url == redirectURI }) else {
                throw NylasError(status: 400, type: "grant.callback_uri_not_allowed",
                                 message: "redirect_uri \(redirectURI) is not registered as a callback URI of this application (exact match, no wildcards)")
            }
            let connectors = try store.connectors(applicationID: app.id).map(\.provider)
            let requested = q.list("provider")
            if let bad = requested.first(where: { !ProviderKind.connectorNames.contains($0) }) {
                throw NylasError.invalidValue("provider", "unknown provider '\(bad)'")
            }
            let provider: String
            // Neither a provider nor a login hint: the real hosted page asks the user to pick one.
            var picker = false
            if let first = requested.first {
                provider = first
            } else if let loginHint {
                let detected = ProviderDetection.detect(loginHint)
                provider = connectors.contains(detected) ? detected : (connectors.contains("imap") ? "imap" : detected)
            } else if !connectors.isEmpty {
                // The picker; in `approve` mode the simulated user picks Google when it is offered.
                provider = connectors.contains("google") ? "google" : connectors.sorted()[0]
                picker = true
            } else {
                throw NylasError(status: 400, type: "grant.provider_required", message: "No connector is configured on this application")
            }
            guard connectors.contains(provider) else {
                throw NylasError(status: 400, type: "invalid_request_error",
                                 message: "No \(provider) connector is configured on this application: create it with POST /v3/connectors")
            }
            let email = (loginHint ?? "user\(store.ids.hex("login", length: 6))@\(ProviderDetection.defaultDomain(provider))").lowercased()
            let connectorScope = try store.connector(applicationID: app.id, provider: provider)?.scope ?? []
            let scope = q["scope"].map { $0.split(separator: " ").map(String.init) }
                ?? (connectorScope.isEmpty ? ProviderDetection.defaultScopes(provider) : connectorScope)
            // v3 takes provider scopes only (seed 002: "Nylas v3 removes Nylas scopes"): the v2 names
            // are unknown to the provider, which sends the user back with its OAuth error.
            let nylasScopes = scope.filter(ProviderDetection.v2NylasScopes.contains)
            if !nylasScopes.isEmpty {
                return .redirect(errorRedirect(redirectURI, state: q["state"], error: "invalid_scope",
                                               description: "Some requested scopes were invalid: \(nylasScopes.joined(separator: ", ")) (Nylas v2 scopes; v3 takes the provider's scopes)"))
            }
            var request: JSON = [
                "redirect_uri": .string(redirectURI), "provider": .string(provider), "email": .string(email),
                "scope": .strings(scope), "access_type": .string(q["access_type"] ?? "online"),
                "response_type": .string(responseType), "state": .optional(q["state"]),
                "code_challenge": .optional(q["code_challenge"]), "code_challenge_method": .optional(method),
            ]
            switch s.consent.mode {
            case "deny":
                return .redirect(errorRedirect(redirectURI, state: q["state"]))
            case "page":
                let session = "consent_" + store.ids.base62("consent", length: 32)
                if picker {
                    request["pick_from"] = .strings(connectors.sorted())
                    request["scope_given"] = .bool(q["scope"] != nil)
                }
                try store.insert(TokenRecord(token: session, kind: .consent, applicationID: app.id, grantID: nil,
                                             expiresAt: s.now + s.settings.authorizationCodeLifetime, data: request,
                                             createdAt: s.now.seconds))
                if picker { return providerPicker(session: session, providers: connectors.sorted(), appName: app.name) }
                return consentPage(session: session, email: email, provider: provider, appName: app.name)
            default:
                return .redirect(try approve(request, app: app, s, store, region: ctx.region))
            }
        }
    }

    /// The consent page's links land here: `?consent=<session>&decision=approve|deny`.
    @Sendable package static func consentDecision(_ ctx: RequestContext) async throws -> SimResponse {
        guard let session = ctx.query["consent"] else { throw NylasError.missingField("consent") }
        let decision = ctx.query["decision"] ?? "approve"
        return try ctx.write { s, store in
            guard let record = try store.token(session), record.kind == .consent, !record.used, !record.isExpired(at: s.now),
                  let app = try store.application(id: record.applicationID) else {
                throw NylasError.invalidRequest("The consent session is unknown or has expired")
            }
            var request = record.data
            // The provider picker: the user's choice names the provider and the simulated address.
            if let choices = request["pick_from"]?.arrayValue?.compactMap(\.stringValue), decision != "deny" {
                guard let chosen = ctx.query["provider"], choices.contains(chosen) else {
                    throw NylasError.invalidValue("provider", "pick one of \(choices.joined(separator: ", "))")
                }
                request["provider"] = .string(chosen)
                request["email"] = .string("user\(store.ids.hex("login", length: 6))@\(ProviderDetection.defaultDomain(chosen))")
                if request["scope_given"]?.boolValue != true {
                    let connectorScope = try store.connector(applicationID: app.id, provider: chosen)?.scope ?? []
                    request["scope"] = .strings(connectorScope.isEmpty ? ProviderDetection.defaultScopes(chosen) : connectorScope)
                }
            }
            try store.markUsed(session)
            let redirect = request["redirect_uri"]?.stringValue ?? ""
            if decision == "deny" { return .redirect(errorRedirect(redirect, state: request["state"]?.stringValue)) }
            return .redirect(try approve(request, app: app, s, store, region: ctx.region))
        }
    }

    /// The provider consented: a one-time code (or, for `response_type=token`, a token) for the callback.
    package static func approve(_ request: JSON, app: ApplicationRecord, _ s: EngineState, _ store: RegionStore, region: Region) throws -> String {
        let redirect = request["redirect_uri"]?.stringValue ?? ""
        let state = request["state"]?.stringValue
        if request["response_type"]?.stringValue == "token" {
            let (grant, _) = try s.connectGrant(region: region, application: app, provider: request["provider"]?.stringValue ?? "google",
                                                email: request["email"]?.stringValue ?? "", scope: scopes(request))
            let tokens = try s.issueTokens(region: region, application: app, grant: grant, withRefresh: false)
            var fragment = "access_token=\(tokens.access.token)&token_type=Bearer&expires_in=\(Int(s.settings.accessTokenLifetime.milliseconds / 1000))&grant_id=\(grant.id)"
            if let state { fragment += "&state=\(QueryParameters.encode(state))" }
            return redirect + "#" + fragment
        }
        let code = "nyc0_" + store.ids.base62("code", length: 40)
        try store.insert(TokenRecord(token: code, kind: .code, applicationID: app.id, grantID: nil,
                                     expiresAt: s.now + s.settings.authorizationCodeLifetime, data: request, createdAt: s.now.seconds))
        var location = redirect + (redirect.contains("?") ? "&" : "?") + "code=\(QueryParameters.encode(code))"
        if let state { location += "&state=\(QueryParameters.encode(state))" }
        return location
    }

    package static func errorRedirect(_ redirect: String, state: String?, error: String = "access_denied",
                                      description: String = "The user denied access") -> String {
        var location = redirect + (redirect.contains("?") ? "&" : "?")
            + "error=\(error)&error_description=\(QueryParameters.encode(description))"
        if let state { location += "&state=\(QueryParameters.encode(state))" }
        return location
    }

    package static func scopes(_ request: JSON) -> [String] { request["scope"]?.arrayValue?.compactMap(\.stringValue) ?? [] }

    /// The hosted page without a provider: one link per connector of the application.
    package static func providerPicker(session: String, providers: [String], appName: String) -> SimResponse {
        let e = HTML.escape
        let links = providers.map { p in
            "<li><a id=\"pick-\(e(p))\" href=\"/v3/connect/callback?consent=\(session)&amp;decision=approve&amp;provider=\(e(p))\">\(e(p))</a></li>"
        }.joined()
        let html = """
            <!doctype html><html><head><meta charset="utf-8"><title>Sign in - NylasSimulator</title></head>
            <body><h1>Sign in to \(e(appName))</h1><p>Choose your email provider (simulated):</p><ul>\(links)</ul>
            <p><a id="deny" href="/v3/connect/callback?consent=\(session)&amp;decision=deny">Cancel</a></p></body></html>
            """
        return SimResponse(status: 200, headers: ["Content-Type": "text/html; charset=utf-8"], body: Array(html.utf8))
    }

    package static func consentPage(session: String, email: String, provider: String, appName: String) -> SimResponse {
        let e = HTML.escape
        let html = """
            <!doctype html><html><head><meta charset="utf-8"><title>Sign in - NylasSimulator</title></head>
            <body><h1>\(e(appName)) wants to access \(e(email))</h1><p>Provider: \(e(provider)) (simulated)</p>
            <p><a id="approve" href="/v3/connect/callback?consent=\(session)&amp;decision=approve">Allow</a>
            <a id="deny" href="/v3/connect/callback?consent=\(session)&amp;decision=deny">Deny</a></p></body></html>
            """
        return SimResponse(status: 200, headers: ["Content-Type": "text/html; charset=utf-8"], body: Array(html.utf8))
    }

    // MARK: POST /v3/connect/token

    @Sendable package static func token(_ ctx: RequestContext) async throws -> SimResponse {
        let body: BodyFields
        do { body = try ctx.body(allowForm: true) } catch { throw NylasError.oauth("invalid_request", error.message) }
        func field(_ name: String, required: Bool = true) throws -> String? {
            guard let v = body.raw(name) else {
                if required { throw NylasError.oauth("invalid_request", "Missing required parameter: \(name)") }
                return nil
            }
            guard case .string(let s) = v, !s.isEmpty || !required else {
                throw NylasError.oauth("invalid_request", "Invalid parameter: \(name) must be a non-empty string")
            }
            return s
        }
        let grantType = try field("grant_type")!
        let clientID = try field("client_id")!
        let clientSecret = try field("client_secret", required: false)
        let codeVerifier = try field("code_verifier", required: false)
        guard ["authorization_code", "refresh_token", "client_credentials"].contains(grantType) else {
            throw NylasError.oauth("unsupported_grant_type", "Unsupported grant_type: \(grantType)")
        }
        return try ctx.write { s, store in
            guard let app = try store.application(clientID: clientID), app.apiVersion == 3 else {
                throw NylasError.oauth("invalid_client", "Unknown client_id \(clientID) in the \(ctx.region.rawValue.uppercased()) region")
            }
            ctx.notes.set(application: app.id)
            if let clientSecret {
                guard clientSecret == app.apiKey || clientSecret == app.clientSecret else {
                    throw NylasError.oauth("invalid_client", "Invalid client_secret")
                }
            } else if !(grantType == "authorization_code" && codeVerifier != nil) {
                throw NylasError.oauth("invalid_request", "Missing required parameter: client_secret")
            }
            let lifetime = Int(s.settings.accessTokenLifetime.milliseconds / 1000)
            switch grantType {
            case "authorization_code":
                let code = try field("code")!
                let redirectURI = try field("redirect_uri")!
                guard let record = try store.token(code), record.kind == .code, record.applicationID == app.id else {
                    throw NylasError.oauth("invalid_grant", "Invalid authorization code")
                }
                if record.used { throw NylasError.oauth("invalid_grant", "The authorization code was already used") }
                if record.isExpired(at: s.now) { throw NylasError.oauth("invalid_grant", "The authorization code has expired") }
                guard record.data["redirect_uri"]?.stringValue == redirectURI else {
                    throw NylasError.oauth("invalid_grant", "redirect_uri does not match the one of the authorization request")
                }
                if let challenge = record.data["code_challenge"]?.stringValue {
                    guard let codeVerifier else { throw NylasError.oauth("invalid_request", "Missing required parameter: code_verifier") }
                    let method = record.data["code_challenge_method"]?.stringValue ?? "plain"
                    guard PKCE.verify(verifier: codeVerifier, challenge: challenge, method: method) else {
                        throw NylasError.oauth("invalid_grant", "code_verifier does not match the code_challenge")
                    }
                } else if clientSecret == nil {
                    throw NylasError.oauth("invalid_request", "Missing required parameter: client_secret")
                }
                try store.markUsed(code)
                let provider = record.data["provider"]?.stringValue ?? "google"
                let (grant, _) = try s.connectGrant(region: ctx.region, application: app, provider: provider,
                                                    email: record.data["email"]?.stringValue ?? "", scope: scopes(record.data),
                                                    state: record.data["state"]?.stringValue)
                let offline = record.data["access_type"]?.stringValue == "offline"
                let tokens = try s.issueTokens(region: ctx.region, application: app, grant: grant, withRefresh: offline)
                ctx.notes.set(application: app.id, grant: grant.id)
                var o: JSON = tokenResponse(tokens.access, grant: grant, app: app, lifetime: lifetime, now: s.now)
                o["refresh_token"] = tokens.refresh.map(JSON.string)
                o["provider"] = .string(provider)
                return .json(o)
            case "refresh_token":
                let refresh = try field("refresh_token")!
                guard let record = try store.token(refresh), record.kind == .refresh, record.applicationID == app.id,
                      !record.revoked, let grantID = record.grantID else {
                    throw NylasError.oauth("invalid_grant", "Invalid or revoked refresh token")
                }
                guard let grant = try store.grant(id: grantID) else {
                    throw NylasError.oauth("invalid_grant", "The grant of this refresh token was deleted")
                }
                let tokens = try s.issueTokens(region: ctx.region, application: app, grant: grant, refresh: refresh, withRefresh: true)
                ctx.notes.set(application: app.id, grant: grant.id)
                var o = tokenResponse(tokens.access, grant: grant, app: app, lifetime: lifetime, now: s.now)
                o["refresh_token"] = .string(refresh)
                return .json(o)
            default:
                let grantID = try field("grant_id")!
                guard let grant = try store.grant(id: grantID), grant.applicationID == app.id else {
                    throw NylasError.oauth("invalid_grant", "Unknown grant_id \(grantID)")
                }
                let tokens = try s.issueTokens(region: ctx.region, application: app, grant: grant, withRefresh: false)
                ctx.notes.set(application: app.id, grant: grant.id)
                return .json(tokenResponse(tokens.access, grant: grant, app: app, lifetime: lifetime, now: s.now))
            }
        }
    }

    package static func tokenResponse(_ access: TokenRecord, grant: GrantRecord, app: ApplicationRecord, lifetime: Int, now: VirtualTime) -> JSON {
        [
            "access_token": .string(access.token), "expires_in": .int(lifetime), "token_type": "Bearer",
            "id_token": .string(IDToken.make(grant: grant, app: app, issuedAt: now.seconds, lifetime: lifetime)),
            "scope": .string(grant.scope.joined(separator: " ")), "grant_id": .string(grant.id), "email": .string(grant.email),
        ]
    }

    // MARK: GET /v3/connect/tokeninfo

    @Sendable package static func tokenInfo(_ ctx: RequestContext) async throws -> SimResponse {
        let q = ctx.query
        return try ctx.read { s, store in
            if let idToken = q["id_token"] {
                guard let claims = IDToken.claims(idToken), let appID = claims["aud"]?.stringValue,
                      let app = try store.application(id: appID), IDToken.verify(idToken, app: app) else {
                    throw NylasError.oauth("invalid_token", "Invalid id_token")
                }
                return ctx.data(claims)
            }
            guard let value = q["access_token"] else {
                throw NylasError.oauth("invalid_request", "Missing required parameter: id_token or access_token")
            }
            guard let record = try store.token(value), record.kind == .access, !record.revoked, !record.isExpired(at: s.now),
                  let grantID = record.grantID, let grant = try store.grant(id: grantID),
                  let app = try store.application(id: record.applicationID) else {
                throw NylasError.oauth("invalid_token", "Token expired or revoked")
            }
            return ctx.data(["iss": "https://nylas.com", "aud": .string(app.id), "sub": .string(grant.id),
                             "email": .string(grant.email), "iat": .int(record.createdAt),
                             "exp": .int(record.expiresAt?.seconds ?? record.createdAt)])
        }
    }

    // MARK: POST /v3/connect/revoke

    @Sendable package static func revoke(_ ctx: RequestContext) async throws -> SimResponse {
        guard let value = ctx.query["token"], !value.isEmpty else {
            throw NylasError.oauth("invalid_request", "Missing required parameter: token")
        }
        try ctx.write { s, store in
            guard let record = try store.token(value), record.kind == .access || record.kind == .refresh,
                  !record.revoked, !record.isExpired(at: s.now) else {
                throw NylasError.oauth("invalid_token", "Token expired or revoked")
            }
            ctx.notes.set(application: record.applicationID, grant: record.grantID)
            // The token, its children and its refresh token stop working at once; the grant stays,
            // valid and billable, until it is deleted (reference §4.5; seed 000).
            try store.revoke(value)
        }
        return .json([:])
    }

    // MARK: POST /v3/connect/custom

    @Sendable package static func custom(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let provider = try body.requiredString("provider")
        guard let settingsObject = try body.object("settings") else { throw NylasError.missingField("settings") }
        let settings = BodyFields(settingsObject)
        let state = try body.string("state")
        let scope = try body.stringArray("scope")
        let agentName = try body.string("name")
        let agentWorkspace = try body.string("workspace_id")
        let email: String
        switch provider {
        case "google", "microsoft", "yahoo", "zoom":
            if try settings.string("refresh_token") == nil {
                guard try settings.string("credential_id") != nil, let e = try settings.string("email_address") else {
                    throw NylasError.missingField("settings.refresh_token")
                }
                email = e
            } else {
                email = try settings.string("email_address") ?? settings.string("email")
                    ?? CustomAuth.emailFromRefreshToken(try settings.requiredString("refresh_token"), provider: provider)
            }
        case "imap":
            for f in ["imap_username", "imap_password", "imap_host"] { _ = try settings.string(f, required: true) }
            guard let port = try settings.int("imap_port") else { throw NylasError.missingField("settings.imap_port") }
            guard (1...65535).contains(port) else { throw NylasError.invalidValue("settings.imap_port", "must be between 1 and 65535") }
            if let smtpPort = try settings.int("smtp_port"), !(1...65535).contains(smtpPort) {
                throw NylasError.invalidValue("settings.smtp_port", "must be between 1 and 65535")
            }
            email = try settings.requiredString("imap_username")
        case "icloud":
            _ = try settings.string("password", required: true)
            email = try settings.requiredString("username")
        case "ews":
            for f in ["ews_username", "ews_password"] { _ = try settings.string(f, required: true) }
            email = try settings.string("email") ?? settings.requiredString("ews_username")
        case "virtual-calendar", "nylas":
            email = try settings.requiredString("email")
        default:
            throw NylasError.invalidValue("provider", "unknown provider '\(provider)'")
        }
        guard ProviderKind(provider) == .virtualCalendar || email.contains("@") else {
            throw NylasError(status: 400, type: "grant.login_id_invalid", message: "'\(email)' is not an email address")
        }
        return try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            guard try store.connector(applicationID: app.id, provider: provider) != nil else {
                throw NylasError(status: 400, type: "invalid_request_error",
                                 message: "No \(provider) connector is configured on this application: create it with POST /v3/connectors")
            }
            if let mailbox = try s.world.mailbox(email), !mailbox.credentialsValid, ProviderKind(provider) == .imap || ProviderKind(provider) == .icloud {
                // A password given again re-validates the mailbox, as logging in with the new password does.
                try s.world.setCredentialsValid(email, true)
            }
            var publicSettings = settingsObject
            for secret in ["refresh_token", "imap_password", "smtp_password", "password", "ews_password", "app_password"] {
                publicSettings[secret] = nil
            }
            // A Nylas agent account takes a top-level `name` and `workspace_id` (reference §4.6).
            if provider == "nylas", let workspace = agentWorkspace { publicSettings["workspace_id"] = .string(workspace) }
            let (grant, _) = try s.connectGrant(region: ctx.region, application: app, provider: provider, email: email,
                                                name: provider == "nylas" ? agentName : nil,
                                                scope: scope ?? ProviderDetection.defaultScopes(provider),
                                                settings: .object(publicSettings), state: state,
                                                credentialID: try settings.string("credential_id"))
            ctx.notes.set(application: app.id, grant: grant.id)
            return ctx.data(grant.json, status: 201)
        }
    }
}

