import Foundation
import NylasSimCore

extension RequestContext {
    /// The object ID in path parameter `name`. On a GET, a v2 object ID of the linked v2 account
    /// stands for the grant's object (seed: "V2 object IDs will work in V3 endpoints, only on GET");
    /// every other ID, and every ID on another method, is taken as given.
    package func objectID(_ name: String, kind: String, grant: GrantRecord, store: RegionStore) throws -> String {
        let id = param(name)
        // The same provider coverage as translate: nothing for Exchange ActiveSync, only events
        // and calendars for Microsoft.
        if grant.kind == .ews || (grant.kind == .microsoft && kind != "event" && kind != "calendar") { return id }
        guard request.method == "GET" || request.method == "HEAD", grant.accountID != nil,
              try store.worldKey(grantID: grant.id, kind: kind, id: id) == nil else { return id }
        return try store.v3ID(forV2: id, kind: kind, grant: grant) ?? id
    }
}

package enum MigrationToolRoutes {
    package static let resourceKinds: [String: String] = ["messages": "message", "threads": "thread", "folders": "folder",
                                                   "drafts": "draft", "events": "event", "calendars": "calendar",
                                                   "contacts": "contact", "contactgroups": "contact_group"]

    package static func register(_ r: inout Router) {
        r.add("POST", "/v3/migration-tools/translate", .v3, postTranslate)
        r.add("POST", "/v3/migration-tools/link-v2v3-apps", .v3, postLinkV2v3Apps)
        r.add("POST", "/v3/migration-tools/import-v2-app", .v3, importV2App)
        r.add("POST", "/v3/migration-tools/grants/{account_id}/clone", .v3, cloneAccount)
        r.add("POST", "/v3/migration-tools/snapshot-batch-clone", .v3, batchClone)
        r.add("GET", "/v3/migration-tools/jobs", .v3, jobs)
    }

    /// `POST "/v3/migration-tools/import-v2-app"`
    @Sendable static func importV2App(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(.string(try ctx.write { s, store in
            try MigrationTools.importV2App(s, region: ctx.region, app: try ctx.requireAPIKey(s, store))
        }))
    }

    static func placeholderPolicy(_ ctx: RequestContext) throws(NylasError) -> MigrationTools.PlaceholderPolicy {
        .init(allowInvalidGrantCreation: try ctx.query.bool("allow_invalid_grant_creation") ?? true,
              cloneExchange: try ctx.query.bool("clone_exchange") ?? true)
    }

    /// `POST "/v3/migration-tools/grants/{account_id}/clone"`
    @Sendable static func cloneAccount(_ ctx: RequestContext) async throws -> SimResponse {
        let policy = try placeholderPolicy(ctx)
        return ctx.data(try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            return try MigrationTools.cloneAccount(s, region: ctx.region, app: app, accountID: ctx.param("account_id"), policy: policy).json
        })
    }

    /// `POST "/v3/migration-tools/snapshot-batch-clone"`
    @Sendable static func batchClone(_ ctx: RequestContext) async throws -> SimResponse {
        var options = MigrationTools.BatchOptions()
        options.policy = try placeholderPolicy(ctx)
        let body = try ctx.body(allowEmpty: true)
        if let limit = try body.int("limit") {
            guard limit >= 1 else { throw NylasError.invalidValue("limit", "must be at least 1") }
            options.limit = limit
        }
        if let offset = try body.int("offset") {
            guard offset >= 0 else { throw NylasError.invalidValue("offset", "must not be negative") }
            options.offset = offset
        }
        if let providers = try body.stringArray("providers") {
            if let bad = providers.first(where: { MigrationTools.v3Provider($0) == nil }) {
                throw NylasError.invalidValue("providers", "unknown provider '\(bad)': expected google, microsoft, graph, imap, icloud, ews or virtual-calendar")
            }
            options.providers = providers
        }
        if let mode = try body.string("mode") {
            guard ["all", "only_new", "only_failed"].contains(mode) else {
                throw NylasError.invalidValue("mode", "expected all, only_new or only_failed")
            }
            options.mode = mode
        }
        return ctx.data(try ctx.write { s, store in
            let app = try ctx.requireAPIKey(s, store)
            let (snapshot, clone) = try MigrationTools.startBatchClone(s, region: ctx.region, app: app, options: options)
            return ["snapshot_job": snapshot.json, "clone_job": clone.json]
        })
    }

    /// `GET "/v3/migration-tools/jobs"`
    @Sendable static func jobs(_ ctx: RequestContext) async throws -> SimResponse {
        let statuses = Set(ctx.query.list("status")), types = Set(ctx.query.list("type"))
        if let bad = statuses.first(where: { !["completed", "failed", "partial", "pending", "running"].contains($0) }) {
            throw NylasError.invalidValue("status", "unknown status '\(bad)'")
        }
        if let bad = types.first(where: { !["migration", "snapshot"].contains($0) }) {
            throw NylasError.invalidValue("type", "unknown type '\(bad)': expected migration or snapshot")
        }
        let sort = try ctx.query.bool("sort_by_completion") ?? false
        return ctx.data(.array(try ctx.read { s, store in
            let app = try ctx.requireAPIKey(s, store)
            return try MigrationTools.jobs(store, applicationID: app.id, statuses: statuses, types: types, sortByCompletion: sort).map(\.json)
        }))
    }

    /// `POST "/v3/migration-tools/translate"`
    @Sendable static func postTranslate(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let resource = try body.requiredString("resource_type")
        guard let kind = resourceKinds[resource] else {
            throw NylasError.invalidValue("resource_type", "expected one of \(resourceKinds.keys.sorted().joined(separator: ", "))")
        }
        let accountID = try body.requiredString("v2_account_id")
        let ids = try body.stringArray("nylas_ids")
        let page = try body.int("next_page_number") ?? 1
        guard page >= 1 else { throw NylasError.invalidValue("next_page_number", "must be at least 1") }
        let since = try body.int("start_from_timestamp")
        return ctx.data(try ctx.read { s, store in
            let app = try ctx.requireAPIKey(s, store)
            guard let v2App = app.v2ApplicationID else {
                throw NylasError.invalidRequest("This application is not linked to a v2 application: link it first")
            }
            guard let account = try store.grant(id: accountID), account.apiVersion == 2, account.applicationID == v2App else {
                throw NylasError.notFound("v2 account not found: \(accountID)")
            }
            // Provider coverage (reference v2 §8.2): Exchange ActiveSync accounts cannot be
            // translated; Microsoft accounts only for events and calendars.
            if account.kind == .ews {
                throw NylasError.invalidRequest("Exchange ActiveSync accounts cannot be translated")
            }
            if account.kind == .microsoft, kind != "event", kind != "calendar" {
                throw NylasError.invalidRequest("Only events and calendars of Microsoft accounts can be translated, not \(resource)")
            }
            guard let grant = try store.grant(applicationID: app.id, email: account.email) else {
                throw NylasError.notFound("No grant of this application for the mailbox of v2 account \(accountID): authenticate it in v3 first")
            }
            let pageSize = 3000
            let v2IDs: [String]
            if let ids {
                v2IDs = ids
            } else {
                v2IDs = try store.objectIDs(grantID: account.id, kind: kind, createdAfter: since, limit: pageSize + 1,
                                            offset: (page - 1) * pageSize)
            }
            let slice = Array(v2IDs.prefix(pageSize))
            let translations = try slice.map { id -> JSON in
                var target: JSON = .null
                // An object gone from the provider translates to null (reference v2 §8.2).
                if let key = try store.worldKey(grantID: account.id, kind: kind, id: id),
                   try store.objectExists(grantID: account.id, kind: kind, id: id) {
                    if kind == "folder", ["imap", "icloud", "yahoo"].contains(grant.provider) {
                        // IMAP folders translate to their name; the v3 ID is base64 of `v0:<grant_id>:<name>`.
                        target = try store.folder(grantID: grant.id, worldKey: key).map { .string($0.name) } ?? .null
                    } else if let v3 = try store.objectID(grantID: grant.id, kind: kind, worldKey: key) {
                        target = .string(v3)
                    } else if kind == "message", let wid = Int64(key), let m = try s.world.message(id: wid), !m.deleted {
                        target = .string(try store.mintID(grant: grant, kind: kind, worldKey: key, hint: m.messageIDHeader))
                    }
                }
                return ["v2_resource_id": .string(id), "v3_resource_id": target]
            }
            var data: JSON = ["v2_application_id": .string(v2App), "v2_account_id": .string(accountID),
                              "resource_type": .string(resource), "translations": .array(translations)]
            if ids == nil, v2IDs.count > pageSize { data["next_page_number"] = .int(page + 1) }
            return data
        })
    }

    /// `POST "/v3/migration-tools/link-v2v3-apps"`
    @Sendable static func postLinkV2v3Apps(_ ctx: RequestContext) async throws -> SimResponse {
        guard let header = ctx.request.header("basicv2"),
              let decoded = Data(base64Encoded: header).flatMap({ String(data: $0, encoding: .utf8) }) else {
            throw NylasError.invalidRequest("Missing BasicV2 header: base64(<v2 client_id>:<v2 client_secret>)")
        }
        let parts = decoded.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw NylasError.invalidRequest("Malformed BasicV2 header") }
        return ctx.data(try ctx.write { s, store in
            var app = try ctx.requireAPIKey(s, store)
            guard let v2 = try store.application(clientID: parts[0]), v2.apiVersion == 2, v2.clientSecret == parts[1] else {
                throw NylasError.unauthorized("Invalid v2 client_id or client_secret (v2 applications of the same region only)")
            }
            app.v2ApplicationID = v2.id
            app.updatedAt = s.now.seconds
            try store.save(app)
            return ["application_id": .string(app.id), "v2_application_id": .string(v2.id)]
        })
    }
}
