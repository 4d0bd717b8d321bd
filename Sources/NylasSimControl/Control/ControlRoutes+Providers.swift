import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

extension ControlRoutes {
    /// `/__sim/providers/...`: the provider world, changed from outside as the user's provider would.
    package static func registerProviders(_ r: inout Router) {
        r.add("GET", "/__sim/providers/mailboxes", .control) { ctx in
            .json(["data": .array(try ctx.core.withState { try $0.world.mailboxes().map(\.json) })])
        }
        r.add("POST", "/__sim/providers/mailboxes", .control) { ctx in
            let body = try ctx.body()
            return .json(try ctx.core.createMailbox(email: try body.requiredString("email"), provider: try body.string("provider"),
                                                    name: try body.string("name")), status: 201)
        }
        r.add("GET", "/__sim/providers/mailboxes/{email}/messages", .control) { ctx in
            let email = ctx.param("email").lowercased()
            let items = try ctx.core.withState { s in try s.world.messages(mailbox: email).map { ctx.core.worldJSON($0) } }
            return .json(["data": .array(items)])
        }
        r.add("POST", "/__sim/providers/mailboxes/{email}/messages", .control) { ctx in
            let body = try ctx.body()
            let message = try NewMessage.parse(body, now: ctx.core.now.seconds)
            return .json(try ctx.core.deliverMail(to: ctx.param("email"), message), status: 201)
        }
        r.add("PATCH", "/__sim/providers/mailboxes/{email}/messages/{message}", .control) { ctx in
            let body = try ctx.body()
            return .json(try ctx.core.changeMail(mailbox: ctx.param("email"), message: ctx.param("message"),
                                                 unread: try body.bool("unread"), starred: try body.bool("starred"),
                                                 folders: try body.stringArray("folders"), delete: false))
        }
        r.add("DELETE", "/__sim/providers/mailboxes/{email}/messages/{message}", .control) { ctx in
            .json(try ctx.core.changeMail(mailbox: ctx.param("email"), message: ctx.param("message"), unread: nil, starred: nil,
                                          folders: nil, delete: true))
        }
        r.add("POST", "/__sim/providers/mailboxes/{email}/password", .control) { ctx in
            .json(["expired_grants": .strings(try ctx.core.invalidateCredentials(mailbox: ctx.param("email")))])
        }
        r.add("POST", "/__sim/providers/mailboxes/{email}/revoke", .control) { ctx in
            .json(["expired_grants": .strings(try ctx.core.invalidateCredentials(mailbox: ctx.param("email")))])
        }
        r.add("POST", "/__sim/providers/outages", .control) { ctx in
            let body = try ctx.body()
            guard let d = try body.string("duration").flatMap(Duration.init(parsing:)) else {
                throw NylasError.invalidValue("duration", "expected a duration such as 30m")
            }
            return .json(ctx.core.addOutage(provider: try body.string("provider"), mailbox: try body.string("mailbox"), duration: d),
                         status: 201)
        }
    }
}
