import Foundation
import NylasSimCore

/// `/v3/grants` (reference §4.7): offset-paginated list, get, patch, immediate delete, `me`.
package enum V3GrantRoutes {
    package static func register(_ r: inout Router) {
        r.add("GET", "/v3/grants", .v3, listGrants)
        r.add("GET", "/v3/grants/me", .v3, getMe)
        r.add("GET", "/v3/grants/{grant_id}", .v3, getGrant)
        r.add("PATCH", "/v3/grants/{grant_id}", .v3, patchGrant)
        r.add("DELETE", "/v3/grants/{grant_id}", .v3, deleteGrant)
    }

    /// `GET "/v3/grants"`
    @Sendable static func listGrants(_ ctx: RequestContext) async throws -> SimResponse {
        let q = ctx.query
        var f = RegionStore.GrantFilter()
        f.limit = try q.int("limit", in: 1...200) ?? 10
        f.offset = try q.int("offset", in: 0...Int.max) ?? 0
        f.sortBy = q["sort_by"] ?? "created_at"
        guard ["created_at", "updated_at"].contains(f.sortBy) else {
            throw NylasError.invalidValue("sort_by", "expected created_at or updated_at")
        }
        let order = q["order_by"] ?? "desc"
        guard ["asc", "desc"].contains(order) else { throw NylasError.invalidValue("order_by", "expected asc or desc") }
        f.ascending = order == "asc"
        f.since = try q.int("since")
        f.before = try q.int("before")
        f.email = q["email"]
        if let status = q["grant_status"] {
            guard ["valid", "invalid"].contains(status) else { throw NylasError.invalidValue("grant_status", "expected valid or invalid") }
            f.status = status
        }
        f.ip = q["ip"]
        f.workspaceID = q["workspace_id"]
        if let provider = q["provider"] {
            guard ProviderKind.connectorNames.contains(provider) else { throw NylasError.invalidValue("provider", "unknown provider '\(provider)'") }
            f.provider = provider
        }
        f.accountIDs = try q.list("account_id", max: InputLimits.filterValues) + q.list("account_ids", max: InputLimits.filterValues)
        let items = try ctx.read { s, store in
            f.applicationID = try ctx.requireAPIKey(s, store).id
            return try store.grants(f).map(\.json)
        }
        return ctx.list(items, limit: f.limit, offset: f.offset)
    }

    /// `GET "/v3/grants/me"`
    @Sendable static func getMe(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let caller = try ctx.v3Caller(s, store)
            guard caller.token != nil else {
                throw NylasError.invalidRequest("GET /v3/grants/me requires an access token; with an API key, use GET /v3/grants/{grant_id}")
            }
            return try ctx.resolveGrant("me", s, store).1.json
        })
    }

    /// `GET "/v3/grants/{grant_id}"`
    @Sendable static func getGrant(_ ctx: RequestContext) async throws -> SimResponse {
        let aliases = try ctx.query.bool("expose_aliases") ?? false
        return ctx.data(try ctx.read { s, store in
            _ = try ctx.requireAPIKey(s, store)
            var json = try ctx.resolveGrant(ctx.param("grant_id"), s, store).1.json
            if aliases { json["email_aliases"] = .array([]) }
            return json
        })
    }

    /// `PATCH "/v3/grants/{grant_id}"`
    @Sendable static func patchGrant(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        try body.rejectUnknown(["settings", "scope"])
        let settings = try body.object("settings")
        let scope = try body.stringArray("scope")
        return ctx.data(try ctx.write { s, store in
            _ = try ctx.requireAPIKey(s, store)
            var grant = try ctx.resolveGrant(ctx.param("grant_id"), s, store).1
            if let settings {
                var merged = grant.settings.objectValue ?? [:]
                for (k, v) in settings where k != "refresh_token" { merged[k] = v }
                grant.settings = .object(merged)
                if settings["refresh_token"] != nil, grant.status == .invalid {
                    // A new refresh token is a re-authentication.
                    grant.status = .valid
                    try s.world.setCredentialsValid(grant.email, true)
                }
            }
            if let scope { grant.scope = scope }
            grant.updatedAt = s.now.seconds
            try store.save(grant)
            s.emit(SimEvent(region: ctx.region, applicationID: grant.applicationID, grantID: grant.id, type: "grant.updated",
                            object: ["code": 25014, "grant_id": .string(grant.id), "integration_id": .string(grant.applicationID),
                                     "provider": .string(grant.provider), "email": .string(grant.email),
                                     "reauthentication_flag": false],
                            source: "/nylas/system", time: s.now))
            return grant.json
        })
    }

    /// `DELETE "/v3/grants/{grant_id}"`
    @Sendable static func deleteGrant(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            _ = try ctx.requireAPIKey(s, store)
            let grant = try ctx.resolveGrant(ctx.param("grant_id"), s, store).1
            try s.deleteGrant(region: ctx.region, grant: grant)
        }
        return ctx.done()
    }
}
