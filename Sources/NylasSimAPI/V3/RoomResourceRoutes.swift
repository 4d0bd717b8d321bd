import Foundation
import NylasSimCore

/// `GET /v3/grants/{grant_id}/resources`, v2 `GET /resources` and the control routes that change
/// the directory (`/__sim/providers/resources`).
package enum RoomResourceRoutes {
    package static func register(_ r: inout Router) {
        r.add("GET", "/v3/grants/{grant_id}/resources", .v3, listResources)
        r.add("GET", "/resources", .v2, listV2Resources)
        r.add("GET", "/__sim/providers/resources", .control, listProviderResources)
        r.add("POST", "/__sim/providers/resources", .control, postProviderResource)
        r.add("DELETE", "/__sim/providers/resources/{email}", .control, deleteProviderResource)
    }

    /// `GET "/v3/grants/{grant_id}/resources"`
    @Sendable static func listResources(_ ctx: RequestContext) async throws -> SimResponse {
        let limit = try ctx.limit(default: 50, max: 200)
        let offset = try ctx.pageOffset()
        let (items, next) = try ctx.read { s, store -> ([JSON], String?) in
            let grant = try ctx.dataGrant(s, store)
            try requireDirectory(grant.provider)
            let all = try s.world.roomResources(domain: RoomResource.domain(of: grant.email))
            let page = all.dropFirst(offset).prefix(limit)
            return (page.map { ctx.selecting($0.v3(grantID: grant.id)) },
                    offset + limit < all.count ? PageToken.make([String(offset + limit)]) : nil)
        }
        return ctx.list(items, nextCursor: next)
    }

    /// `GET "/resources"`
    @Sendable static func listV2Resources(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.read { s, store in
            let (account, _) = try ctx.v2Account(s, store)
            // The room directory needs its own v2 scope (reference v2 §6.11).
            guard account.scope.contains("room_resources.read_only") else {
                throw NylasError(status: 403, type: "invalid_request_error",
                                 message: "This account was not authorized with the room_resources.read_only scope")
            }
            try requireDirectory(account.provider)
            return .array(try s.world.roomResources(domain: RoomResource.domain(of: account.email)).map(\.v2))
        })
    }

    /// `GET "/__sim/providers/resources"`
    @Sendable static func listProviderResources(_ ctx: RequestContext) async throws -> SimResponse {
        .json(["data": .array(try ctx.core.withState { s in try s.world.roomResources(domain: ctx.query["domain"]).map(\.json) })])
    }

    /// `POST "/__sim/providers/resources"`
    @Sendable static func postProviderResource(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return .json(try ctx.core.transaction { s in
            let room = try RoomResource.parse(body, now: s.now.seconds)
            try s.world.saveRoomResource(room)
            return room.json
        }, status: 201)
    }

    /// `DELETE "/__sim/providers/resources/{email}"`
    @Sendable static func deleteProviderResource(_ ctx: RequestContext) async throws -> SimResponse {
        let email = ctx.param("email")
        let deleted = try ctx.core.transaction { s in try s.world.deleteRoomResource(email: email) }
        guard deleted else { throw NylasError.notFound("No room resource \(email)") }
        return .json(["deleted": .string(email.lowercased())])
    }

    package static func requireDirectory(_ provider: String) throws(NylasError) {
        guard RoomResource.providers.contains(provider) else {
            throw NylasError.invalidRequest("Room resources are available for Google and Microsoft grants only, not \(provider)")
        }
    }
}
