import Foundation
import NylasSimCore

/// The v3 and v2 route groups, by resource, and the 404 hints of the API.
package enum APIRoutes {
    /// Registers every v3 and v2 route group (the control API registers its own).
    package static func register(_ router: inout Router) {
        V3ApplicationRoutes.register(&router)
        V3ConnectorRoutes.register(&router)
        V3AuthRoutes.register(&router)
        V3GrantRoutes.register(&router)
        V3WebhookRoutes.register(&router)
        V3MessageRoutes.register(&router)
        V3ThreadRoutes.register(&router)
        V3DraftRoutes.register(&router)
        V3UploadRoutes.register(&router)
        V3SmartComposeRoutes.register(&router)
        V3FolderRoutes.register(&router)
        V3CalendarRoutes.register(&router)
        V3EventRoutes.register(&router)
        V3ContactRoutes.register(&router)
        V3SchedulerRoutes.register(&router)
        V3NotetakerRoutes.register(&router)
        MigrationToolRoutes.register(&router)
        V3ChannelRoutes.register(&router)
        V3PlatformRoutes.register(&router)
        V2WebhookRoutes.register(&router)
        V2AccountRoutes.register(&router)
        V2MailRoutes.register(&router)
        V2DraftFileRoutes.register(&router)
        V2OrgUnitRoutes.register(&router)
        V2CalendarRoutes.register(&router)
        V2EventRoutes.register(&router)
        V2ContactRoutes.register(&router)
        V2OutboxRoutes.register(&router)
        RoomResourceRoutes.register(&router)
        TrackingRoutes.register(&router)
    }

    /// What the API layer adds to a new simulator's state: the v2 delta log among the event
    /// handlers, and the v2 outbox jobs a `--data-dir` server had pending.
    package static func attach(to s: EngineState) throws {
        s.eventHandlers.append(EngineState.recordDelta)
        try V2OutboxRoutes.restore(s)
        s.transactionJobs.removeAll()
    }

    /// The 404 for a path no route matches, naming the v3 replacement of a v2 habit where there is one.
    package static func notFoundError(method: String, parts: [String], surface: APISurface) -> NylasError {
        let path = "/" + parts.joined(separator: "/")
        if surface == .v3, parts.count >= 2 {
            let rest = Array(parts.dropFirst())
            if let hint = V2Replacements.hint(forV3Path: rest) {
                return NylasError(status: 404, type: "not_found_error", message: "Route not found: \(method) \(path). \(hint)")
            }
        }
        return NylasError.routeNotFound(method, path)
    }
}

/// v2 paths that clients carry over into v3 by mistake, with their replacements.
package enum V2Replacements {
    package static func hint(forV3Path rest: [String]) -> String? {
        guard let first = rest.first else { return nil }
        switch first {
        case "delta": return "The v2 /delta endpoints are removed in v3: subscribe to webhooks instead."
        case "job-statuses": return "The v2 /job-statuses endpoint is removed in v3: webhooks report the outcome."
        case "outbox": return "The v2 /outbox endpoint is replaced in v3 by send with send_at and /v3/grants/{grant_id}/messages/schedules."
        case "components": return "The v2 /components endpoint is removed in v3."
        case "a": return "The v2 /a/{client_id}/... application routes are replaced in v3 by /v3/applications, /v3/grants and /v3/webhooks with an API key."
        case "account": return "The v2 /account endpoint is replaced in v3 by GET /v3/grants/me (access token) or GET /v3/grants/{grant_id}."
        case "messages", "threads", "drafts", "folders", "labels", "files", "calendars", "events", "contacts", "send":
            let v3 = first == "labels" ? "folders" : first == "files" ? "attachments" : first == "send" ? "messages/send" : first
            return "v3 scopes data to a grant: use /v3/grants/{grant_id}/\(v3)."
        default: return nil
        }
    }
}
