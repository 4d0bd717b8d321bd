import Foundation
import NylasSimCore

/// Where a tracked message's pixel and links point (`Tracking`): what a recipient's mail client
/// requests when it shows the message or follows a link. No credentials: recipients have none.
package enum TrackingRoutes {
    package static func register(_ r: inout Router) {
        r.add("GET", Tracking.pathPrefix + "/{token}/o", .v2, open)
        r.add("GET", Tracking.pathPrefix + "/{token}/l/{index}", .v2, click)
    }

    /// The 1×1 transparent GIF of an open.
    static let pixel: [UInt8] = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
                                 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b]

    /// `GET /t/{token}/o`: notifies `message.opened`; the pixel.
    @Sendable static func open(_ ctx: RequestContext) async throws -> SimResponse {
        let found = try hit(ctx, link: nil).found
        guard found else { throw NylasError.notFound("Unknown tracking link") }
        return SimResponse(status: 200, headers: ["Content-Type": "image/gif", "Cache-Control": "no-store"], body: pixel)
    }

    /// `GET /t/{token}/l/{index}`: notifies `message.link_clicked`; a redirect to the link's target.
    @Sendable static func click(_ ctx: RequestContext) async throws -> SimResponse {
        guard let index = Int(ctx.param("index")), index >= 0 else { throw NylasError.notFound("Unknown tracking link") }
        guard let target = try hit(ctx, link: index).target else { throw NylasError.notFound("Unknown tracking link") }
        return .redirect(target)
    }

    private static func hit(_ ctx: RequestContext, link: Int?) throws -> (found: Bool, target: String?) {
        let ip = ctx.request.header("x-forwarded-for")?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
            ?? "127.0.0.1"
        let agent = ctx.request.header("user-agent") ?? ""
        return try ctx.write { s, _ in
            try Tracking.hit(s, region: ctx.region, token: ctx.param("token"), link: link, ip: ip, userAgent: agent)
        }
    }
}
