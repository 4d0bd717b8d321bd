import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

extension ControlRoutes {
    /// `/__sim/providers/...`: the provider world, changed from outside as the user's provider would.
    package static func registerProviders(_ r: inout Router) {
        r.add("GET", "/__sim/providers/mailboxes", .control, listProviderMailboxes)
        r.add("POST", "/__sim/providers/mailboxes", .control, postMailboxes)
        r.add("GET", "/__sim/providers/mailboxes/{email}/messages", .control, listMessages)
        r.add("POST", "/__sim/providers/mailboxes/{email}/messages", .control, postMessages)
        r.add("PATCH", "/__sim/providers/mailboxes/{email}/messages/{message}", .control, patchMessage)
        r.add("DELETE", "/__sim/providers/mailboxes/{email}/messages/{message}", .control, deleteMessage)
        r.add("POST", "/__sim/providers/mailboxes/{email}/password", .control, postPassword)
        r.add("POST", "/__sim/providers/mailboxes/{email}/revoke", .control, postRevoke)
        r.add("POST", "/__sim/providers/outages", .control, postOutages)
    }

    /// `GET "/__sim/providers/mailboxes"`
    @Sendable static func listProviderMailboxes(_ ctx: RequestContext) async throws -> SimResponse {
        .json(["data": .array(try ctx.core.withState { try $0.world.mailboxes().map(\.json) })])
    }

    /// `POST "/__sim/providers/mailboxes"`
    @Sendable static func postMailboxes(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return .json(try ctx.core.createMailbox(email: try body.requiredString("email"), provider: try body.string("provider"),
                                                name: try body.string("name")), status: 201)
    }

    /// `GET "/__sim/providers/mailboxes/{email}/messages"`
    @Sendable static func listMessages(_ ctx: RequestContext) async throws -> SimResponse {
        let email = ctx.param("email").lowercased()
        let items = try ctx.core.withState { s in try s.world.messages(mailbox: email).map { ctx.core.worldJSON($0) } }
        return .json(["data": .array(items)])
    }

    /// `POST "/__sim/providers/mailboxes/{email}/messages"`
    @Sendable static func postMessages(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let message = try NewMessage.parse(body, now: ctx.core.now.seconds)
        return .json(try ctx.core.deliverMail(to: ctx.param("email"), message), status: 201)
    }

    /// `PATCH "/__sim/providers/mailboxes/{email}/messages/{message}"`
    @Sendable static func patchMessage(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        return .json(try ctx.core.changeMail(mailbox: ctx.param("email"), message: ctx.param("message"),
                                             unread: try body.bool("unread"), starred: try body.bool("starred"),
                                             folders: try body.stringArray("folders"), delete: false))
    }

    /// `DELETE "/__sim/providers/mailboxes/{email}/messages/{message}"`
    @Sendable static func deleteMessage(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.core.changeMail(mailbox: ctx.param("email"), message: ctx.param("message"), unread: nil, starred: nil,
                                      folders: nil, delete: true))
    }

    /// `POST "/__sim/providers/mailboxes/{email}/password"`
    @Sendable static func postPassword(_ ctx: RequestContext) async throws -> SimResponse {
        .json(["expired_grants": .strings(try ctx.core.invalidateCredentials(mailbox: ctx.param("email")))])
    }

    /// `POST "/__sim/providers/mailboxes/{email}/revoke"`
    @Sendable static func postRevoke(_ ctx: RequestContext) async throws -> SimResponse {
        .json(["expired_grants": .strings(try ctx.core.invalidateCredentials(mailbox: ctx.param("email")))])
    }

    /// `POST "/__sim/providers/outages"`
    @Sendable static func postOutages(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        guard let d = try body.string("duration").flatMap(Duration.init(parsing:)), d > .zero else {
            throw NylasError.invalidValue("duration", "expected a positive duration such as 30m")
        }
        return .json(ctx.core.addOutage(provider: try body.string("provider"), mailbox: try body.string("mailbox"), duration: d),
                     status: 201)
    }
}
