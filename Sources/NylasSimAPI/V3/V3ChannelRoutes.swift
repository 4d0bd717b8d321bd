import Foundation
import NylasSimCore

/// `/v3/channels/pubsub` and `/v3/channels/sns`: notification channels on `NotificationChannels`.
package enum V3ChannelRoutes {
    package static func register(_ r: inout Router) {
        for kind in [ChannelPublish.Kind.pubsub, .sns] {
            let base = "/v3/channels/\(kind.rawValue)"
            r.add("GET", base, .v3) { ctx in
                ctx.data(.array(try ctx.read { s, store in
                    try store.channels(applicationID: try ctx.requireAPIKey(s, store).id, kind: kind).map(\.channelJSON)
                }))
            }
            r.add("POST", base, .v3) { ctx in
                let body = try channelBody(ctx)
                return ctx.data(try ctx.write { s, store in
                    try NotificationChannels.create(s, region: ctx.region, applicationID: try ctx.requireAPIKey(s, store).id,
                                                    kind: kind, body).channelJSON
                })
            }
            r.add("GET", base + "/{id}", .v3) { ctx in
                ctx.data(try ctx.read { s, store in
                    try NotificationChannels.channel(store, applicationID: try ctx.requireAPIKey(s, store).id, kind: kind,
                                                     id: ctx.param("id"), code: "70001").channelJSON
                })
            }
            r.add("PUT", base + "/{id}", .v3) { ctx in
                let body = try channelBody(ctx)
                return ctx.data(try ctx.write { s, store in
                    try NotificationChannels.update(s, region: ctx.region, applicationID: try ctx.requireAPIKey(s, store).id,
                                                    kind: kind, id: ctx.param("id"), body).channelJSON
                })
            }
            r.add("DELETE", base + "/{id}", .v3) { ctx in
                try ctx.write { s, store in
                    try NotificationChannels.delete(s, region: ctx.region, applicationID: try ctx.requireAPIKey(s, store).id,
                                                    kind: kind, id: ctx.param("id"))
                }
                return ctx.data(["status": "success"])
            }
        }
    }

    /// The body, with the channel API's own code for what cannot be read.
    static func channelBody(_ ctx: RequestContext) throws -> BodyFields {
        do { return try ctx.body() } catch {
            throw NylasError(status: error.status == 400 ? 400 : error.status, type: error.status == 400 ? "70005" : error.type,
                             message: "invalid.input.format : \(error.message)")
        }
    }
}
