import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

/// What a client under test must change to move from v2 to v3: every v2 endpoint and parameter it
/// actually called (read from the request journal), each with its v3 replacement from the Nylas
/// v3 diff view, and the behaviour changes that bite.
public enum MigrationReport {
    package struct Endpoint {
        package let method: String
        package let pattern: String
        package let status: String   // migrated, renamed, removed
        package let replacement: String
        package let note: String
        package let changes: [String]
    }

    package static let tokenExpiry = "Access tokens expire after one hour in v3: keep the refresh token (access_type=offline) and refresh."
    package static let grantsDeleted = "v3 deletes grants at once and re-authentication creates a new grant ID; v2 accounts lingered (downgrade/upgrade). Track users by email address."
    package static let calendarRequired = "A calendar ID is required for almost all event calls in v3 (use primary or the grant's email address)."
    package static let labelsFolders = "Labels and folders are consolidated into folders; folder and label objects become folder IDs in messages (folders: [...])."
    package static let filesAttachments = "Files are attachments in v3: send them inline (JSON base64 or multipart) and download them with /attachments/{id}/download?message_id=."
    package static let triggers = "Webhook triggers are renamed: account.connected → grant.created, account.invalid → grant.expired or grant.deleted; account.running/stopped/sync_error and job.* are gone. Payloads carry the whole object (CloudEvents) and are signed with a per-destination secret."
    package static let providerIDs = "v3 uses the provider's object IDs, not Nylas IDs; v2 IDs work in v3 GET requests (only GET) for a linked application, and POST /v3/migration-tools/translate maps them."
    package static let bearer = "v3 takes only Authorization: Bearer <API key or access token>; HTTP Basic and bare tokens are rejected."
    package static let deltas = "There is no delta sync in v3: subscribe to webhooks, which carry the full objects."

    package static let catalog: [Endpoint] = [
        .init(method: "GET", pattern: "/oauth/authorize", status: "migrated", replacement: "GET /v3/connect/auth", note: "hosted OAuth; scopes are provider scopes", changes: [tokenExpiry]),
        .init(method: "POST", pattern: "/oauth/token", status: "migrated", replacement: "POST /v3/connect/token", note: "returns access_token (1 hour), refresh_token, grant_id", changes: [tokenExpiry]),
        .init(method: "GET", pattern: "/oauth/token", status: "migrated", replacement: "POST /v3/connect/token", note: "POST only in v3", changes: [tokenExpiry]),
        .init(method: "POST", pattern: "/oauth/revoke", status: "renamed", replacement: "POST /v3/connect/revoke?token=", note: "", changes: []),
        .init(method: "POST", pattern: "/connect/authorize", status: "removed", replacement: "POST /v3/connect/custom", note: "native auth is custom auth, one call", changes: []),
        .init(method: "POST", pattern: "/connect/token", status: "renamed", replacement: "POST /v3/connect/custom", note: "native auth is custom auth", changes: []),
        .init(method: "GET", pattern: "/account", status: "removed", replacement: "GET /v3/grants/me (access token) or GET /v3/grants/{grant_id}", note: "", changes: [bearer]),
        .init(method: "GET", pattern: "/a/{client_id}", status: "removed", replacement: "GET /v3/applications", note: "application details move to the v3 Dashboard", changes: []),
        .init(method: "PUT", pattern: "/a/{client_id}", status: "removed", replacement: "PATCH /v3/applications", note: "", changes: []),
        .init(method: "GET", pattern: "/a/{client_id}/accounts", status: "migrated", replacement: "GET /v3/grants", note: "offset pagination with limit/offset", changes: []),
        .init(method: "GET", pattern: "/a/{client_id}/accounts/{id}", status: "migrated", replacement: "GET /v3/grants/{grant_id}", note: "grant_status valid|invalid replaces sync_state", changes: []),
        .init(method: "PUT", pattern: "/a/{client_id}/accounts/{id}", status: "removed", replacement: "PATCH /v3/grants/{grant_id}", note: "v2 metadata is not carried into v3", changes: []),
        .init(method: "DELETE", pattern: "/a/{client_id}/accounts/{id}", status: "migrated", replacement: "DELETE /v3/grants/{grant_id}", note: "immediate", changes: [grantsDeleted]),
        .init(method: "POST", pattern: "/a/{client_id}/accounts/{id}/downgrade", status: "removed", replacement: "DELETE /v3/grants/{grant_id}", note: "no cancelled state in v3", changes: [grantsDeleted]),
        .init(method: "POST", pattern: "/a/{client_id}/accounts/{id}/upgrade", status: "removed", replacement: "re-authenticate (new grant ID)", note: "", changes: [grantsDeleted]),
        .init(method: "POST", pattern: "/a/{client_id}/accounts/{id}/revoke-all", status: "removed", replacement: "POST /v3/connect/revoke per token", note: "", changes: []),
        .init(method: "POST", pattern: "/a/{client_id}/accounts/{id}/token-info", status: "removed", replacement: "GET /v3/connect/tokeninfo", note: "", changes: []),
        .init(method: "GET", pattern: "/a/{client_id}/ip_addresses", status: "migrated", replacement: "GET /v3/webhooks/ip-addresses", note: "", changes: []),
        .init(method: "GET", pattern: "/a/{client_id}/webhooks", status: "migrated", replacement: "GET /v3/webhooks", note: "API key auth", changes: [triggers]),
        .init(method: "POST", pattern: "/a/{client_id}/webhooks", status: "migrated", replacement: "POST /v3/webhooks", note: "trigger_types and webhook_url; the secret is in the create response", changes: [triggers]),
        .init(method: "GET", pattern: "/a/{client_id}/webhooks/{id}", status: "migrated", replacement: "GET /v3/webhooks/{id}", note: "", changes: [triggers]),
        .init(method: "PUT", pattern: "/a/{client_id}/webhooks/{id}", status: "migrated", replacement: "PUT /v3/webhooks/{id}", note: "status active|pause", changes: [triggers]),
        .init(method: "DELETE", pattern: "/a/{client_id}/webhooks/{id}", status: "migrated", replacement: "DELETE /v3/webhooks/{id}", note: "", changes: [triggers]),
        .init(method: "GET", pattern: "/messages", status: "migrated", replacement: "GET /v3/grants/{grant_id}/messages", note: "cursor pagination (page_token/next_cursor), limit ≤ 200", changes: [providerIDs, labelsFolders]),
        .init(method: "GET", pattern: "/messages/search", status: "removed", replacement: "GET /v3/grants/{grant_id}/messages?search_query_native=", note: "", changes: []),
        .init(method: "GET", pattern: "/messages/{id}", status: "migrated", replacement: "GET /v3/grants/{grant_id}/messages/{message_id}", note: "raw MIME: fields=include_headers (raw sending is not supported)", changes: [providerIDs]),
        .init(method: "PUT", pattern: "/messages/{id}", status: "migrated", replacement: "PUT /v3/grants/{grant_id}/messages/{message_id}", note: "folders: [...] replaces folder_id and label_ids", changes: [labelsFolders]),
        .init(method: "GET", pattern: "/threads", status: "migrated", replacement: "GET /v3/grants/{grant_id}/threads", note: "limit ≤ 50", changes: [providerIDs]),
        .init(method: "GET", pattern: "/threads/search", status: "removed", replacement: "GET /v3/grants/{grant_id}/threads with filters", note: "", changes: []),
        .init(method: "GET", pattern: "/threads/{id}", status: "migrated", replacement: "GET /v3/grants/{grant_id}/threads/{thread_id}", note: "", changes: [providerIDs]),
        .init(method: "PUT", pattern: "/threads/{id}", status: "migrated", replacement: "PUT /v3/grants/{grant_id}/threads/{thread_id}", note: "", changes: [labelsFolders]),
        .init(method: "POST", pattern: "/send", status: "migrated", replacement: "POST /v3/grants/{grant_id}/messages/send", note: "from must be given for aliases; send_at schedules; raw MIME is not supported", changes: [filesAttachments]),
        .init(method: "GET", pattern: "/drafts", status: "migrated", replacement: "GET /v3/grants/{grant_id}/drafts", note: "", changes: []),
        .init(method: "POST", pattern: "/drafts", status: "migrated", replacement: "POST /v3/grants/{grant_id}/drafts", note: "", changes: [filesAttachments]),
        .init(method: "GET", pattern: "/drafts/{id}", status: "migrated", replacement: "GET /v3/grants/{grant_id}/drafts/{draft_id}", note: "", changes: []),
        .init(method: "PUT", pattern: "/drafts/{id}", status: "migrated", replacement: "PUT /v3/grants/{grant_id}/drafts/{draft_id}", note: "no version field in v3", changes: []),
        .init(method: "DELETE", pattern: "/drafts/{id}", status: "migrated", replacement: "DELETE /v3/grants/{grant_id}/drafts/{draft_id}", note: "", changes: []),
        .init(method: "GET", pattern: "/files", status: "removed", replacement: "attachments of the message objects", note: "", changes: [filesAttachments]),
        .init(method: "POST", pattern: "/files", status: "removed", replacement: "attachments in the send or draft request (multipart)", note: "", changes: [filesAttachments]),
        .init(method: "GET", pattern: "/files/{id}", status: "renamed", replacement: "GET /v3/grants/{grant_id}/attachments/{attachment_id}?message_id=", note: "", changes: [filesAttachments]),
        .init(method: "GET", pattern: "/files/{id}/download", status: "renamed", replacement: "GET /v3/grants/{grant_id}/attachments/{attachment_id}/download?message_id=", note: "", changes: [filesAttachments]),
        .init(method: "DELETE", pattern: "/files/{id}", status: "removed", replacement: "none", note: "", changes: [filesAttachments]),
        .init(method: "GET", pattern: "/folders", status: "migrated", replacement: "GET /v3/grants/{grant_id}/folders", note: "", changes: [labelsFolders]),
        .init(method: "POST", pattern: "/folders", status: "migrated", replacement: "POST /v3/grants/{grant_id}/folders", note: "name replaces display_name", changes: [labelsFolders]),
        .init(method: "GET", pattern: "/folders/{id}", status: "migrated", replacement: "GET /v3/grants/{grant_id}/folders/{folder_id}", note: "", changes: [labelsFolders]),
        .init(method: "PUT", pattern: "/folders/{id}", status: "migrated", replacement: "PUT /v3/grants/{grant_id}/folders/{folder_id}", note: "", changes: [labelsFolders]),
        .init(method: "DELETE", pattern: "/folders/{id}", status: "migrated", replacement: "DELETE /v3/grants/{grant_id}/folders/{folder_id}", note: "", changes: [labelsFolders]),
        .init(method: "GET", pattern: "/labels", status: "renamed", replacement: "GET /v3/grants/{grant_id}/folders", note: "", changes: [labelsFolders]),
        .init(method: "POST", pattern: "/labels", status: "renamed", replacement: "POST /v3/grants/{grant_id}/folders", note: "", changes: [labelsFolders]),
        .init(method: "GET", pattern: "/labels/{id}", status: "renamed", replacement: "GET /v3/grants/{grant_id}/folders/{folder_id}", note: "", changes: [labelsFolders]),
        .init(method: "PUT", pattern: "/labels/{id}", status: "renamed", replacement: "PUT /v3/grants/{grant_id}/folders/{folder_id}", note: "", changes: [labelsFolders]),
        .init(method: "DELETE", pattern: "/labels/{id}", status: "renamed", replacement: "DELETE /v3/grants/{grant_id}/folders/{folder_id}", note: "", changes: [labelsFolders]),
        .init(method: "POST", pattern: "/calendars/free-busy", status: "migrated", replacement: "POST /v3/grants/{grant_id}/calendars/free-busy", note: "per grant; start_time/end_time", changes: []),
        .init(method: "POST", pattern: "/calendars/availability", status: "migrated", replacement: "POST /v3/calendars/availability", note: "participants with calendar_ids and open_hours; duration_minutes", changes: []),
        .init(method: "POST", pattern: "/calendars/availability/consecutive", status: "migrated", replacement: "POST /v3/calendars/availability", note: "availability_rules.availability_method = collective or max-fairness", changes: []),
        .init(method: "GET", pattern: "/calendars", status: "migrated", replacement: "GET /v3/grants/{grant_id}/calendars", note: "", changes: [calendarRequired]),
        .init(method: "POST", pattern: "/calendars", status: "migrated", replacement: "POST /v3/grants/{grant_id}/calendars", note: "", changes: []),
        .init(method: "GET", pattern: "/calendars/{id}", status: "migrated", replacement: "GET /v3/grants/{grant_id}/calendars/{calendar_id}", note: "primary or the email address as the ID", changes: [providerIDs]),
        .init(method: "PUT", pattern: "/calendars/{id}", status: "migrated", replacement: "PUT /v3/grants/{grant_id}/calendars/{calendar_id}", note: "", changes: []),
        .init(method: "DELETE", pattern: "/calendars/{id}", status: "migrated", replacement: "DELETE /v3/grants/{grant_id}/calendars/{calendar_id}", note: "", changes: []),
        .init(method: "GET", pattern: "/events", status: "migrated", replacement: "GET /v3/grants/{grant_id}/events?calendar_id=", note: "", changes: [calendarRequired]),
        .init(method: "POST", pattern: "/events", status: "migrated", replacement: "POST /v3/grants/{grant_id}/events?calendar_id=", note: "recurrence takes the when time zone", changes: [calendarRequired]),
        .init(method: "GET", pattern: "/events/{id}", status: "migrated", replacement: "GET /v3/grants/{grant_id}/events/{event_id}?calendar_id=", note: "", changes: [calendarRequired, providerIDs]),
        .init(method: "PUT", pattern: "/events/{id}", status: "migrated", replacement: "PUT /v3/grants/{grant_id}/events/{event_id}?calendar_id=", note: "", changes: [calendarRequired]),
        .init(method: "DELETE", pattern: "/events/{id}", status: "migrated", replacement: "DELETE /v3/grants/{grant_id}/events/{event_id}?calendar_id=", note: "", changes: [calendarRequired]),
        .init(method: "POST", pattern: "/send-rsvp", status: "migrated", replacement: "POST /v3/grants/{grant_id}/events/{event_id}/send-rsvp", note: "", changes: [calendarRequired]),
        .init(method: "GET", pattern: "/contacts/groups", status: "migrated", replacement: "GET /v3/grants/{grant_id}/contacts/groups", note: "", changes: []),
        .init(method: "GET", pattern: "/contacts", status: "migrated", replacement: "GET /v3/grants/{grant_id}/contacts", note: "contacts report creates as contact.updated", changes: []),
        .init(method: "POST", pattern: "/contacts", status: "migrated", replacement: "POST /v3/grants/{grant_id}/contacts", note: "", changes: []),
        .init(method: "GET", pattern: "/contacts/{id}", status: "migrated", replacement: "GET /v3/grants/{grant_id}/contacts/{contact_id}", note: "", changes: [providerIDs]),
        .init(method: "PUT", pattern: "/contacts/{id}", status: "migrated", replacement: "PUT /v3/grants/{grant_id}/contacts/{contact_id}", note: "", changes: []),
        .init(method: "DELETE", pattern: "/contacts/{id}", status: "migrated", replacement: "DELETE /v3/grants/{grant_id}/contacts/{contact_id}", note: "", changes: []),
        .init(method: "GET", pattern: "/contacts/{id}/picture", status: "migrated", replacement: "GET /v3/grants/{grant_id}/contacts/{contact_id}?profile_picture=true", note: "base64 in the contact", changes: []),
        .init(method: "POST", pattern: "/delta/latest_cursor", status: "removed", replacement: "webhooks", note: "", changes: [deltas]),
        .init(method: "GET", pattern: "/delta", status: "removed", replacement: "webhooks", note: "", changes: [deltas]),
        .init(method: "GET", pattern: "/delta/longpoll", status: "removed", replacement: "webhooks", note: "", changes: [deltas]),
        .init(method: "GET", pattern: "/delta/streaming", status: "removed", replacement: "webhooks", note: "", changes: [deltas]),
        .init(method: "GET", pattern: "/job-statuses", status: "removed", replacement: "webhooks (message.send_success/send_failed for scheduled sends)", note: "", changes: []),
        .init(method: "GET", pattern: "/job-statuses/{id}", status: "removed", replacement: "webhooks (message.send_success/send_failed for scheduled sends)", note: "", changes: []),
        .init(method: "PATCH", pattern: "/v2/outbox/{id}", status: "removed", replacement: "cancel with DELETE /v3/grants/{grant_id}/messages/schedules/{schedule_id} and send again", note: "", changes: []),
        .init(method: "DELETE", pattern: "/v2/outbox/{id}", status: "removed", replacement: "DELETE /v3/grants/{grant_id}/messages/schedules/{schedule_id}", note: "", changes: []),
        .init(method: "POST", pattern: "/v2/outbox", status: "removed", replacement: "POST /v3/grants/{grant_id}/messages/send with send_at; GET/DELETE …/messages/schedules", note: "", changes: []),
    ]

    package static let parameters: [String: String] = [
        "not_in": "removed: filter with in=<folder_id>",
        "filename": "removed: look at the attachments of the messages",
        "view": "removed: view=count and ids have no replacement; view=expanded → fields=include_headers",
        "offset": "replaced by cursor pagination: page_token=<next_cursor>",
        "labels": "replaced by folders",
        "label_ids": "replaced by folders: [...]",
        "folder_id": "replaced by folders: [...]",
        "in": "takes a folder ID in v3 (no names)",
        "limit": "v3 maximum is 200 (50 for threads)",
        "cursor": "removed with delta: use webhooks",
        "version": "drafts have no version in v3",
    ]

    package static func normalize(_ method: String, _ path: String) -> Endpoint? {
        let parts = Router.segments(of: path)
        return catalog.first { e in
            e.method == method && Route(e.method, e.pattern, surface: .v2) { _ in SimResponse(status: 200) }.match(parts) != nil
        } ?? catalog.first { e in
            Route(e.method, e.pattern, surface: .v2) { _ in SimResponse(status: 200) }.match(parts) != nil
        }
    }

    /// The report of the v2 calls in `entries` (journal entries of any API; only v2 ones count).
    public static func build(_ entries: [(method: String, path: String, query: String, body: [UInt8])]) -> JSON {
        var used: [String: (Endpoint?, String, Int, Set<String>)] = [:]
        var changes: [String] = []
        for e in entries {
            let endpoint = normalize(e.method, e.path)
            let key = endpoint.map { "\($0.method) \($0.pattern)" } ?? "\(e.method) \(e.path)"
            var entry = used[key] ?? (endpoint, key, 0, [])
            entry.2 += 1
            for p in QueryParameters(e.query).keys { entry.3.insert(p) }
            if let body = try? JSON.parse(e.body), case .object(let o) = body {
                for k in o.keys where parameters[k] != nil { entry.3.insert(k) }
            }
            used[key] = entry
            for c in endpoint?.changes ?? [] where !changes.contains(c) { changes.append(c) }
        }
        if !used.isEmpty, !changes.contains(bearer) { changes.append(bearer) }
        let endpoints = used.keys.sorted().map { key -> JSON in
            let (endpoint, name, count, params) = used[key]!
            var o: JSON = ["v2": .string(name), "calls": .int(count),
                           "status": .string(endpoint?.status ?? "unknown"),
                           "v3": .string(endpoint?.replacement ?? "no known v3 equivalent")]
            if let note = endpoint?.note, !note.isEmpty { o["note"] = .string(note) }
            let p = params.sorted().map { name -> JSON in
                ["name": .string(name), "v3": .string(parameters[name] ?? "same name in v3")]
            }
            if !p.isEmpty { o["parameters"] = .array(p) }
            return o
        }
        return ["endpoints": .array(endpoints), "behaviour_changes": .strings(changes)]
    }

    /// The report as readable text.
    public static func text(_ report: JSON) -> String {
        var lines = ["v2 → v3 migration report", ""]
        for e in report["endpoints"]?.arrayValue ?? [] {
            lines.append("\(e["status"]?.stringValue?.uppercased() ?? "")\t\(e["v2"]?.stringValue ?? "") (\(e["calls"]?.intValue ?? 0) calls)")
            lines.append("\t→ \(e["v3"]?.stringValue ?? "")\(e["note"]?.stringValue.map { " — \($0)" } ?? "")")
            for p in e["parameters"]?.arrayValue ?? [] {
                lines.append("\t  parameter \(p["name"]?.stringValue ?? ""): \(p["v3"]?.stringValue ?? "")")
            }
        }
        lines.append("")
        lines.append("Behaviour changes that bite:")
        for c in report["behaviour_changes"]?.arrayValue ?? [] { lines.append("  - \(c.stringValue ?? "")") }
        let migrated = report["migrated_accounts"]?.arrayValue ?? []
        if !migrated.isEmpty {
            lines.append("")
            lines.append("Accounts cloned by the migration tools:")
            for m in migrated {
                let grant = m["grant_id"]?.stringValue.map { " → grant \($0)" } ?? ""
                let error = m["error"]?.stringValue.map { " (\($0))" } ?? ""
                lines.append("  - \(m["v2_account_id"]?.stringValue ?? "") \(m["email"]?.stringValue ?? ""): \(m["status"]?.stringValue ?? "")\(grant)\(error)")
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension ControlRoutes {
    package static func registerMigration(_ r: inout Router) {
        r.add("GET", "/__sim/migration-report", .control, getMigrationReport)
        r.add("GET", "/__sim/billing", .control, getBilling)
    }

    /// `GET "/__sim/migration-report"`
    @Sendable static func getMigrationReport(_ ctx: RequestContext) async throws -> SimResponse {
        var filter = JournalFilter()
        filter.surface = .v2
        filter.limit = 1_000_000
        let entries = try ctx.core.journal(filter).map { ($0.method, $0.path, $0.query, $0.requestBody) }
        var report = MigrationReport.build(entries.map { (method: $0.0, path: $0.1, query: $0.2, body: $0.3) })
        report["migrated_accounts"] = .array(try ctx.core.withState { try MigrationTools.migratedAccounts($0) })
        if ctx.query["format"] == "text" {
            return SimResponse(status: 200, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(MigrationReport.text(report).utf8))
        }
        return .json(report)
    }

    /// `GET "/__sim/billing"`
    @Sendable static func getBilling(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.core.withState { try $0.billingLedger() })
    }
}

