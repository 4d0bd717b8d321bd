import Foundation
import NylasSimCore

/// `/v3/applications` and its redirect (callback) URIs (reference §4.1).
package enum V3ApplicationRoutes {
    package static let platforms: Set<String> = ["web", "desktop", "js", "ios", "android"]

    package static func register(_ r: inout Router) {
        r.add("GET", "/v3/applications", .v3, listApplications)
        r.add("PATCH", "/v3/applications", .v3, patchApplications)
        r.add("GET", "/v3/applications/redirect-uris", .v3, listRedirectUris)
        r.add("POST", "/v3/applications/redirect-uris", .v3, postRedirectUris)
        r.add("GET", "/v3/applications/redirect-uris/{id}", .v3, getRedirectUri)
        r.add("PATCH", "/v3/applications/redirect-uris/{id}", .v3, patchRedirectUri)
        r.add("DELETE", "/v3/applications/redirect-uris/{id}", .v3, deleteRedirectUri)
    }

    /// `GET "/v3/applications"`
    @Sendable static func listApplications(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let app = try ctx.requireAPIKey(s, store)
            return try applicationJSON(app, store, region: ctx.region)
        })
    }

    /// `PATCH "/v3/applications"`
    @Sendable static func patchApplications(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        try body.rejectUnknown(["branding", "hosted_authentication", "idp_settings", "callback_uris", "domain",
                                "additional_settings", "environment", "v2_application_id"])
        return ctx.data(try ctx.write { s, store in
            var app = try ctx.requireAPIKey(s, store)
            var settings = app.settings.objectValue ?? [:]
            for key in ["branding", "hosted_authentication", "idp_settings", "additional_settings"] {
                if let o = try body.object(key) { settings[key] = .object(o) }
            }
            if let domain = try body.string("domain") { settings["domain"] = .string(domain) }
            if let env = try body.string("environment") { app.environment = env }
            if let v2 = try body.string("v2_application_id") {
                guard let linked = try store.application(clientID: v2), linked.apiVersion == 2 else {
                    throw NylasError.invalidValue("v2_application_id", "no v2 application \(v2) in this region")
                }
                app.v2ApplicationID = linked.id
            }
            if let branding = try body.nested("branding"), let name = try branding.string("name") { app.name = name }
            if let uris = try body.array("callback_uris") {
                var parsed: [(String, String, JSON?)] = []
                for (i, item) in uris.enumerated() {
                    let fields: BodyFields
                    switch item {
                    case .string(let url): fields = BodyFields(["url": .string(url)])
                    case .object(let o): fields = BodyFields(o)
                    default: throw NylasError.wrongType("callback_uris[\(i)]", expected: "object", got: item)
                    }
                    let (url, platform, uriSettings) = try validateRedirectURI(fields, existingURL: nil)
                    parsed.append((url, platform, uriSettings))
                }
                for old in try store.redirectURIs(applicationID: app.id) {
                    _ = try store.deleteRedirectURI(applicationID: app.id, id: old.id)
                }
                for (url, platform, uriSettings) in parsed {
                    try store.insertRedirectURI(applicationID: app.id, url: url, platform: platform, settings: uriSettings, now: s.now.seconds)
                }
            }
            app.settings = .object(settings)
            app.updatedAt = s.now.seconds
            try store.save(app)
            return try applicationJSON(app, store, region: ctx.region)
        })
    }

    /// `GET "/v3/applications/redirect-uris"`
    @Sendable static func listRedirectUris(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let app = try ctx.requireAPIKey(s, store)
            return .array(try store.redirectURIs(applicationID: app.id).map(\.json))
        })
    }

    /// `POST "/v3/applications/redirect-uris"`
    @Sendable static func postRedirectUris(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return ctx.data(try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            let (url, platform, settings) = try validateRedirectURI(body, existingURL: nil)
            if try store.redirectURIs(applicationID: app.id).contains(where: { $0.url == url && $0.platform == platform }) {
                throw NylasError.conflict("The redirect URI \(url) is already registered for platform \(platform)")
            }
            return try store.insertRedirectURI(applicationID: app.id, url: url, platform: platform, settings: settings,
                                               now: s.now.seconds).json
        })
    }

    /// `GET "/v3/applications/redirect-uris/{id}"`
    @Sendable static func getRedirectUri(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let app = try ctx.requireAPIKey(s, store)
            guard let uri = try store.redirectURI(applicationID: app.id, id: ctx.param("id")) else {
                throw NylasError.notFound("Redirect URI not found: \(ctx.param("id"))")
            }
            return uri.json
        })
    }

    /// `PATCH "/v3/applications/redirect-uris/{id}"`
    @Sendable static func patchRedirectUri(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return ctx.data(try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            guard var uri = try store.redirectURI(applicationID: app.id, id: ctx.param("id")) else {
                throw NylasError.notFound("Redirect URI not found: \(ctx.param("id"))")
            }
            var merged = body.values
            if merged["url"] == nil { merged["url"] = .string(uri.url) }
            if merged["platform"] == nil { merged["platform"] = .string(uri.platform) }
            if merged["settings"] == nil, !uri.settings.isNull { merged["settings"] = uri.settings }
            let (url, platform, settings) = try validateRedirectURI(BodyFields(merged), existingURL: uri.url)
            uri.url = url
            uri.platform = platform
            uri.settings = settings ?? .null
            try store.update(uri, applicationID: app.id)
            return uri.json
        })
    }

    /// `DELETE "/v3/applications/redirect-uris/{id}"`
    @Sendable static func deleteRedirectUri(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            guard try store.deleteRedirectURI(applicationID: app.id, id: ctx.param("id")) else {
                throw NylasError.notFound("Redirect URI not found: \(ctx.param("id"))")
            }
        }
        return ctx.done()
    }

    /// The application object (§4.1).
    package static func applicationJSON(_ app: ApplicationRecord, _ store: RegionStore, region: Region) throws -> JSON {
        let settings = app.settings.objectValue ?? [:]
        var branding = settings["branding"]?.objectValue ?? [:]
        if branding["name"] == nil { branding["name"] = .string(app.name) }
        var o: JSON = [
            "application_id": .string(app.id), "organization_id": .string(app.organizationID),
            "region": .string(region.rawValue), "environment": .string(app.environment),
            "branding": .object(branding),
            "callback_uris": .array(try store.redirectURIs(applicationID: app.id).map(\.json)),
            "created_at": .int(app.createdAt), "updated_at": .int(app.updatedAt), "blocked": false,
        ]
        if let hosted = settings["hosted_authentication"] { o["hosted_authentication"] = hosted }
        if let idp = settings["idp_settings"] { o["idp_settings"] = idp }
        if let domain = settings["domain"] { o["domain"] = domain }
        if let v2 = app.v2ApplicationID { o["v2_application_id"] = .string(v2) }
        return o
    }

    /// Checks a callback URI as the real API does: exact URLs only (no wildcards), HTTPS except
    /// for localhost, app deep links for mobile platforms.
    package static func validateRedirectURI(_ body: BodyFields, existingURL: String?) throws(NylasError) -> (String, String, JSON?) {
        let url = try body.requiredString("url")
        let platform = try body.string("platform") ?? "web"
        guard platforms.contains(platform) else {
            throw NylasError.invalidValue("platform", "expected one of web, desktop, js, ios, android")
        }
        if url.contains("*") {
            throw NylasError(status: 400, type: "invalid_request_error",
                             message: "Wildcards are not supported in callback URIs: register the exact URL and carry request data in the state parameter")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw NylasError.invalidValue("url", "'\(url)' is not a valid URL")
        }
        let host = components.host?.lowercased() ?? ""
        let isLocal = ["localhost", "127.0.0.1", "[::1]", "::1"].contains(host)
        switch (scheme, platform) {
        case ("https", _): guard !host.isEmpty else { throw NylasError.invalidValue("url", "'\(url)' has no host") }
        case ("http", _):
            guard isLocal else {
                throw NylasError.invalidValue("url", "http is allowed only for localhost; use https for \(host)")
            }
        case (_, "ios"), (_, "android"), (_, "desktop"): break
        default: throw NylasError.invalidValue("url", "the scheme \(scheme) is not allowed for platform \(platform)")
        }
        let settings = try body.object("settings")
        // Every setting of a callback URI is a string (origin, bundle_id, app_store_id, team_id,
        // package_name, sha1_certificate_fingerprint).
        for key in (settings ?? [:]).keys.sorted() where settings?[key]?.stringValue == nil && settings?[key]?.isNull == false {
            throw NylasError.wrongType("settings.\(key)", expected: "string", got: settings![key]!)
        }
        switch platform {
        case "js": if settings?["origin"] == nil { throw NylasError.missingField("settings.origin") }
        case "ios": if settings?["bundle_id"] == nil { throw NylasError.missingField("settings.bundle_id") }
        case "android":
            if settings?["package_name"] == nil { throw NylasError.missingField("settings.package_name") }
            if settings?["sha1_certificate_fingerprint"] == nil { throw NylasError.missingField("settings.sha1_certificate_fingerprint") }
        default: break
        }
        return (url, platform, settings.map(JSON.object))
    }
}
