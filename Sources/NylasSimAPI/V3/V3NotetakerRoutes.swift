import Foundation
import NylasSimCore

/// Notetaker: the nine operations under a grant (`/v3/grants/{grant_id}/notetakers`) and the same
/// nine for standalone bots (`/v3/notetakers`), on `NotetakerOperations`; the media links the
/// simulator serves itself (`/notetaker-media/…`, signed, no credentials); and the control route
/// that moves a bot through its meeting by hand.
package enum V3NotetakerRoutes {
    package static func register(_ r: inout Router) {
        for base in ["/v3/grants/{grant_id}/notetakers", "/v3/notetakers"] {
            r.add("GET", base, .v3, list)
            r.add("POST", base, .v3, invite)
            r.add("GET", base + "/{notetaker_id}", .v3, get)
            r.add("PATCH", base + "/{notetaker_id}", .v3, update)
            r.add("DELETE", base + "/{notetaker_id}", .v3, delete)
            r.add("GET", base + "/{notetaker_id}/history", .v3, history)
            r.add("DELETE", base + "/{notetaker_id}/cancel", .v3, cancel)
            r.add("POST", base + "/{notetaker_id}/leave", .v3, leave)
            r.add("GET", base + "/{notetaker_id}/media", .v3, media)
        }
        r.add("GET", "/notetaker-media/{notetaker_id}/{kind}/{name}", .v3, download)
        r.add("GET", "/__sim/notetakers", .control, controlList)
        r.add("POST", "/__sim/notetakers/{notetaker_id}/state", .control, controlState)
    }

    /// The caller's application and the scope of the path: a grant, or standalone (nil).
    static func scope(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore) throws -> (application: String, grant: String?) {
        if ctx.params["grant_id"] != nil {
            let grant = try ctx.dataGrant(s, store)
            return (grant.applicationID, grant.id)
        }
        return (try ctx.requireAPIKey(s, store).id, nil)
    }

    static func bot(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore) throws -> NotetakerRecord {
        let (app, grant) = try scope(ctx, s, store)
        return try NotetakerOperations.bot(store, applicationID: app, grantID: grant, id: ctx.param("notetaker_id"))
    }

    @Sendable static func list(_ ctx: RequestContext) async throws -> SimResponse {
        let limit = try ctx.limit(default: 50, max: 200)
        let offset = try ctx.pageOffsetIfGiven("page_token") ?? ctx.pageOffset("prev_page_token")
        let state = ctx.query["state"]
        if let state, !NotetakerOperations.apiStates.contains(state) {
            throw NylasError.invalidValue("state", "expected one of \(NotetakerOperations.apiStates.sorted().joined(separator: ", "))")
        }
        func time(_ key: String) throws(NylasError) -> Int? {
            guard let text = ctx.query[key] else { return nil }
            guard let d = Double(text), d.isFinite, abs(d) < 1e12 else { throw NylasError.invalidValue(key, "expected a Unix timestamp") }
            return Int(d)
        }
        let joinStart = try time("join_time_start"), joinEnd = try time("join_time_end")
        let orderBy = ctx.query["order_by"] ?? "created_at"
        guard ["name", "join_time", "created_at"].contains(orderBy) else { throw NylasError.invalidValue("order_by", "expected name, join_time or created_at") }
        let direction = ctx.query["order_direction"] ?? "asc"
        guard ["asc", "desc"].contains(direction) else { throw NylasError.invalidValue("order_direction", "expected asc or desc") }
        let (items, total) = try ctx.read { s, store -> ([JSON], Int) in
            let (app, grant) = try scope(ctx, s, store)
            let all = try NotetakerOperations.list(store, applicationID: app, grantID: grant, state: state, joinStart: joinStart, joinEnd: joinEnd,
                                                   orderBy: orderBy, descending: direction == "desc")
            return (all.dropFirst(offset).prefix(limit).map(NotetakerOperations.json), all.count)
        }
        var o: JSON = ["request_id": .string(ctx.requestID), "data": .array(items)]
        o["next_cursor"] = offset + limit < total ? .string(PageToken.make([String(offset + limit)])) : .null
        o["prev_cursor"] = offset > 0 ? .string(PageToken.make([String(max(0, offset - limit))])) : .null
        return .json(o)
    }

    @Sendable static func invite(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return ctx.data(try ctx.write { s, store in
            let (app, grant) = try scope(ctx, s, store)
            return NotetakerOperations.json(try NotetakerOperations.invite(s, region: ctx.region, applicationID: app, grantID: grant, body))
        }, status: 201)
    }

    @Sendable static func get(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in ctx.selecting(NotetakerOperations.json(try bot(ctx, s, store))) })
    }

    @Sendable static func update(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return ctx.data(try ctx.write { s, store in
            NotetakerOperations.json(try NotetakerOperations.update(s, region: ctx.region, try bot(ctx, s, store), body))
        })
    }

    @Sendable static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in try NotetakerOperations.delete(s, region: ctx.region, try bot(ctx, s, store)) }
        return ctx.done()
    }

    @Sendable static func cancel(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in try NotetakerOperations.cancel(s, region: ctx.region, try bot(ctx, s, store)) }
        return ctx.done()
    }

    @Sendable static func leave(_ ctx: RequestContext) async throws -> SimResponse {
        let left = try ctx.write { s, store in try NotetakerOperations.leave(s, region: ctx.region, try bot(ctx, s, store)) }
        let message = left ? "Notetaker is leaving meeting." : "Notetaker is already leaving meeting."
        return ctx.data(["id": .string(ctx.param("notetaker_id")), "message": .string(message)], status: left ? 200 : 202)
    }

    @Sendable static func history(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let n = try bot(ctx, s, store)
            let events = try store.notetakerHistory(notetakerID: n.id).reversed().map { e -> JSON in
                ["created_at": .int(e.createdAt), "event_type": .string(e.eventType), "data": e.data]
            }
            return ["events": .array(events)]
        })
    }

    @Sendable static func media(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in try NotetakerOperations.media(s, region: ctx.region, try bot(ctx, s, store)) })
    }

    /// `GET /notetaker-media/{id}/{kind}/{name}?expires&signature`: a file, without credentials.
    @Sendable static func download(_ ctx: RequestContext) async throws -> SimResponse {
        guard let expires = ctx.query["expires"].flatMap({ Int($0) }), let signature = ctx.query["signature"] else {
            throw NylasError.notFound("No such media file")
        }
        let found = try ctx.read { s, _ in
            try NotetakerOperations.download(s, region: ctx.region, id: ctx.param("notetaker_id"), kind: ctx.param("kind"),
                                             expires: expires, signature: signature)
        }
        switch found {
        case .file(let type, let bytes): return SimResponse(status: 200, headers: ["Content-Type": type], body: bytes)
        case .expired: throw NylasError.forbidden("The media link has expired: get a new one from GET …/media")
        case .notFound: throw NylasError.notFound("No such media file")
        }
    }

    // MARK: Control

    /// `GET /__sim/notetakers`: every bot of both regions, with its state.
    @Sendable static func controlList(_ ctx: RequestContext) async throws -> SimResponse {
        .json(["data": .array(try ctx.core.withState { s in
            try Region.allCases.flatMap { region in
                try s.store(region).allNotetakers().map { n -> JSON in
                    var o = NotetakerOperations.json(n)
                    o["region"] = .string(region.rawValue)
                    return o
                }
            }
        })])
    }

    /// `POST /__sim/notetakers/{id}/state {"state", "meeting_state"?, "region"?}`: moves a bot by
    /// hand (`failed_entry` for a host who refuses entry, `disconnected` for a meeting that ends,
    /// `media_error` for processing that fails…).
    @Sendable static func controlState(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let target = try body.requiredString("state")
        let valid = ["connecting", "waiting_for_entry", "attending", "failed_entry", "disconnected", "media_available", "media_error", "media_deleted"]
        guard valid.contains(target) else { throw NylasError.invalidValue("state", "expected one of \(valid.joined(separator: ", "))") }
        let meetingState = try body.string("meeting_state")
        let region = try body.string("region").flatMap(Region.init(rawValue:)) ?? ctx.region
        let moved = try ctx.core.transaction { s in
            try NotetakerOperations.moveByHand(s, region: region, id: ctx.param("notetaker_id"), to: target, meetingState: meetingState)
        }
        return .json(["data": moved])
    }
}
