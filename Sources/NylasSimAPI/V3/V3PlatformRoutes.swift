import Foundation
import NylasSimCore

/// The platform resources of v3 (templates, workflows, signatures, lists, rules, policies,
/// workspaces, domains, API keys, rule evaluations), as one route table over `PlatformObject`:
/// each resource names its paths, its owner (application, grant or organization) and its domain
/// operations; listing, paging, fetching and deleting are the same for all.
package enum V3PlatformRoutes {
    /// Who may call a resource and what owns its objects.
    enum Owner { case application, grant, organization }

    struct Resource: Sendable {
        let kind: PlatformKind
        let base: String
        let idParam: String
        let owner: Owner
        var createStatus = 200
        var updateMethod = "PUT"
        var paginated = true
        var name: String
        let create: @Sendable (EngineState, Region, PlatformScope, BodyFields) throws -> PlatformObject
        let update: @Sendable (EngineState, Region, PlatformObject, BodyFields) throws -> PlatformObject
        var delete: (@Sendable (EngineState, Region, PlatformObject) throws -> Void)? = nil
        /// Objects created before the first list (the default workspace).
        var prepare: (@Sendable (EngineState, Region, PlatformScope) throws -> Void)? = nil
    }

    static let resources: [Resource] = [
        Resource(kind: .template, base: "/v3/templates", idParam: "template_id", owner: .application, name: "template",
                 create: Templates.create, update: Templates.update),
        Resource(kind: .template, base: "/v3/grants/{grant_id}/templates", idParam: "template_id", owner: .grant, name: "template",
                 create: Templates.create, update: Templates.update),
        Resource(kind: .workflow, base: "/v3/workflows", idParam: "workflow_id", owner: .application, name: "workflow",
                 create: Workflows.create, update: Workflows.update),
        Resource(kind: .workflow, base: "/v3/grants/{grant_id}/workflows", idParam: "workflow_id", owner: .grant, name: "workflow",
                 create: Workflows.create, update: Workflows.update),
        Resource(kind: .signature, base: "/v3/grants/{grant_id}/signatures", idParam: "signature_id", owner: .grant, createStatus: 201,
                 name: "signature", create: Signatures.create, update: Signatures.update),
        Resource(kind: .list, base: "/v3/lists", idParam: "list_id", owner: .application, createStatus: 201, name: "list",
                 create: Lists.create, update: Lists.update),
        Resource(kind: .rule, base: "/v3/rules", idParam: "rule_id", owner: .application, createStatus: 201, name: "rule",
                 create: Rules.create, update: Rules.update),
        Resource(kind: .policy, base: "/v3/policies", idParam: "policy_id", owner: .application, name: "policy",
                 create: Policies.create, update: Policies.update),
        Resource(kind: .workspace, base: "/v3/workspaces", idParam: "workspace_id", owner: .application, updateMethod: "PATCH",
                 paginated: false, name: "workspace", create: Workspaces.create, update: Workspaces.update,
                 delete: Workspaces.delete, prepare: { s, region, scope in try Workspaces.ensureDefault(s, region: region, applicationID: scope.applicationID) }),
        Resource(kind: .domain, base: "/v3/admin/domains", idParam: "domain_id", owner: .organization, name: "domain",
                 create: { s, region, scope, body in try Domains.create(s, region: region, organizationID: scope.organizationID, body) },
                 update: Domains.update),
    ]

    package static func register(_ r: inout Router) {
        for res in resources { register(res, &r) }
        // Templates: render stored and inline.
        for (base, owner) in [("/v3/templates", Owner.application), ("/v3/grants/{grant_id}/templates", .grant)] {
            r.add("POST", base + "/render", .v3) { ctx in
                let body = try ctx.body()
                _ = try ctx.read { s, store in try scope(ctx, owner, s, store) }
                let text = try Fields.string(body, "body", required: true)!
                let engine = try Fields.oneOf(body, "engine", TemplateRenderer.engines.sorted(), required: true)!
                let (variables, strict) = try Templates.renderInput(body)
                return ctx.data(["body": .string(try Templates.render(text, engine: engine, variables: variables, strict: strict))])
            }
            r.add("POST", base + "/{template_id}/render", .v3) { ctx in
                let body = try ctx.body(allowEmpty: true)
                let t = try ctx.read { s, store in try object(ctx, resources[owner == .application ? 0 : 1], s, store) }
                return ctx.data(try Templates.render(t, body))
            }
        }
        // List items.
        let lists = resources.first { $0.kind == .list }!
        r.add("GET", "/v3/lists/{list_id}/items", .v3) { ctx in
            let (limit, offset) = try paging(ctx)
            let items = try ctx.read { s, store in
                let list = try object(ctx, lists, s, store)
                return try store.platformObjects(.listItem, applicationID: list.applicationID, parentID: list.id).map(\.json)
            }
            let page = platformPage(items, limit: limit, offset: offset)
            return ctx.list(page.items, nextCursor: page.next)
        }
        r.add("POST", "/v3/lists/{list_id}/items", .v3) { ctx in
            let body = try ctx.body()
            return ctx.data(try ctx.write { s, store in
                try Lists.addItems(s, region: ctx.region, list: try object(ctx, lists, s, store), body).json
            })
        }
        r.add("DELETE", "/v3/lists/{list_id}/items", .v3) { ctx in
            let body = try ctx.body()
            return ctx.data(try ctx.write { s, store in
                try Lists.removeItems(s, region: ctx.region, list: try object(ctx, lists, s, store), body).json
            })
        }
        // Rule evaluations: newest first.
        r.add("GET", "/v3/grants/{grant_id}/rule-evaluations", .v3) { ctx in
            let (limit, offset) = try paging(ctx)
            let items = try ctx.read { s, store in
                let grant = try ctx.dataGrant(s, store)
                _ = try ctx.requireAPIKey(s, store)
                return try store.platformObjects(.ruleEvaluation, applicationID: grant.applicationID, grantID: grant.id).reversed().map(\.json)
            }
            let page = platformPage(items, limit: limit, offset: offset)
            return ctx.list(page.items, nextCursor: page.next)
        }
        // Workspaces: auto-group and manual assignment.
        let workspaces = resources.first { $0.kind == .workspace }!
        r.add("POST", "/v3/workspaces/auto-group", .v3) { ctx in
            let body = try ctx.body(allowEmpty: true)
            return ctx.data(try ctx.write { s, store in
                try Workspaces.autoGroup(s, region: ctx.region, applicationID: try ctx.requireAPIKey(s, store).id, body)
            })
        }
        r.add("POST", "/v3/workspaces/{workspace_id}/manual-assign", .v3) { ctx in
            let body = try ctx.body()
            return ctx.data(try ctx.write { s, store in
                try Workspaces.manualAssign(s, region: ctx.region, try object(ctx, workspaces, s, store), body)
            })
        }
        // Domains: the DNS record to add, its verification, and transactional send.
        let domains = resources.first { $0.kind == .domain }!
        for (path, verify) in [("info", false), ("verify", true)] {
            r.add("POST", "/v3/admin/domains/{domain_id}/\(path)", .v3) { ctx in
                let body = try ctx.body()
                return ctx.data(try ctx.write { s, store in
                    try Domains.attempt(s, region: ctx.region, try object(ctx, domains, s, store), body, verify: verify)
                })
            }
        }
        r.add("POST", "/v3/domains/{domain_name}/messages/send", .v3, transactionalSend)
        r.add("POST", "/__sim/domains/{domain_id}/verification", .control) { ctx in
            let body = try ctx.body()
            let type = try Fields.string(body, "type") ?? "all"
            let outcome = try Fields.string(body, "outcome", required: true)!
            let region = try Fields.oneOf(body, "region", Region.allCases.map(\.rawValue)).flatMap(Region.init(rawValue:)) ?? ctx.region
            return .json(try ctx.write { s, _ in try Domains.setOutcome(s, region: region, domainID: ctx.param("domain_id"), type: type, outcome: outcome) })
        }
        // API keys of an application.
        let keys = "/v3/admin/applications/{application_id}/api-keys"
        r.add("GET", keys, .v3) { ctx in
            ctx.data(.array(try ctx.read { s, store in
                try store.platformObjects(.apiKey, applicationID: try keyOwner(ctx, s, store)).map(\.json)
            }))
        }
        r.add("POST", keys, .v3) { ctx in
            let body = try ctx.body(allowEmpty: true)
            return ctx.data(try ctx.write { s, store in try APIKeys.create(s, region: ctx.region, applicationID: try keyOwner(ctx, s, store), body) })
        }
        r.add("GET", keys + "/{api_key_id}", .v3) { ctx in
            ctx.data(try ctx.read { s, store in try apiKey(ctx, s, store).json })
        }
        r.add("DELETE", keys + "/{api_key_id}", .v3) { ctx in
            try ctx.write { s, store in _ = try store.deletePlatformObject(.apiKey, id: try apiKey(ctx, s, store).id) }
            return ctx.done()
        }
    }

    static func register(_ res: Resource, _ r: inout Router) {
        let item = res.base + "/{\(res.idParam)}"
        r.add("GET", res.base, .v3) { ctx in
            let (limit, offset) = try paging(ctx)
            let all = try reading(ctx, res) { s, store -> [JSON] in
                let sc = try scope(ctx, res.owner, s, store)
                try res.prepare?(s, ctx.region, sc)
                let owner = res.owner == .organization ? sc.organizationID : sc.applicationID
                return try store.platformObjects(res.kind, applicationID: owner, grantID: sc.grantID).map { ctx.selecting($0.json) }
            }
            guard res.paginated else { return ctx.data(.array(all)) }
            let page = platformPage(all, limit: limit, offset: offset)
            return ctx.list(page.items, nextCursor: page.next)
        }
        r.add("POST", res.base, .v3) { ctx in
            let body = try ctx.body()
            return ctx.data(try ctx.write { s, store in
                let sc = try scope(ctx, res.owner, s, store)
                try res.prepare?(s, ctx.region, sc)
                return ctx.selecting(try res.create(s, ctx.region, sc, body).json)
            }, status: res.createStatus)
        }
        r.add("GET", item, .v3) { ctx in
            ctx.data(try reading(ctx, res) { s, store in
                if let prepare = res.prepare { try prepare(s, ctx.region, try scope(ctx, res.owner, s, store)) }
                return ctx.selecting(try object(ctx, res, s, store).json)
            })
        }
        r.add(res.updateMethod, item, .v3) { ctx in
            let body = try ctx.body()
            return ctx.data(try ctx.write { s, store in
                ctx.selecting(try res.update(s, ctx.region, try object(ctx, res, s, store), body).json)
            })
        }
        r.add("DELETE", item, .v3) { ctx in
            try ctx.write { s, store in
                let o = try object(ctx, res, s, store)
                if let delete = res.delete { try delete(s, ctx.region, o) } else { try store.deletePlatformObject(res.kind, id: o.id) }
            }
            return ctx.done()
        }
    }

    /// A read of `res`: under the write lock only when the resource creates objects on first use.
    static func reading<T: Sendable>(_ ctx: RequestContext, _ res: Resource, _ body: (EngineState, RegionStore) throws -> T) throws -> T {
        res.prepare == nil ? try ctx.read(body) : try ctx.write(body)
    }

    static func paging(_ ctx: RequestContext) throws(NylasError) -> (Int, Int) {
        (try ctx.limit(default: 50, max: 200), try ctx.pageOffset("page_token"))
    }

    /// The owner of the call: the API key's application, the path's grant, or the organization
    /// (domains also take a service account's signed headers instead of a bearer token).
    static func scope(_ ctx: RequestContext, _ owner: Owner, _ s: EngineState, _ store: RegionStore) throws -> PlatformScope {
        switch owner {
        case .grant:
            let grant = try ctx.dataGrant(s, store)
            let org = try store.application(id: grant.applicationID)?.organizationID ?? ""
            return PlatformScope(applicationID: grant.applicationID, grantID: grant.id, organizationID: org)
        case .application:
            let app = try ctx.requireAPIKey(s, store)
            return PlatformScope(applicationID: app.id, grantID: nil, organizationID: app.organizationID)
        case .organization:
            let app = try ctx.serviceAccountOrAPIKey(s, store)
            return PlatformScope(applicationID: app.id, grantID: nil, organizationID: app.organizationID)
        }
    }

    /// The object named in the path, owned by the caller; otherwise 404.
    static func object(_ ctx: RequestContext, _ res: Resource, _ s: EngineState, _ store: RegionStore) throws -> PlatformObject {
        let sc = try scope(ctx, res.owner, s, store)
        let id = ctx.param(res.idParam)
        let owner = res.owner == .organization ? sc.organizationID : sc.applicationID
        guard let o = try store.platformObject(res.kind, id: id), o.applicationID == owner, o.grantID == sc.grantID else {
            throw NylasError.notFound("\(res.name.prefix(1).uppercased() + res.name.dropFirst()) not found: \(id)")
        }
        return o
    }

    /// The application whose keys the path names: the caller's own.
    static func keyOwner(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore) throws -> String {
        let app = try ctx.serviceAccountOrAPIKey(s, store)
        let id = ctx.param("application_id")
        guard let target = try store.application(id: id), target.apiVersion == 3, target.organizationID == app.organizationID,
              ctx.request.header("authorization") == nil || target.id == app.id else {
            throw NylasError.notFound("Application not found: \(id)")
        }
        return target.id
    }

    static func apiKey(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore) throws -> PlatformObject {
        let owner = try keyOwner(ctx, s, store)
        guard let k = try store.platformObject(.apiKey, id: ctx.param("api_key_id")), k.applicationID == owner else {
            throw NylasError.notFound("API key not found: \(ctx.param("api_key_id"))")
        }
        return k
    }

    /// `POST /v3/domains/{domain_name}/messages/send`.
    @Sendable static func transactionalSend(_ ctx: RequestContext) async throws -> SimResponse {
        let key = ctx.request.header("idempotency-key")
        if let key, key.count > 256 {
            throw NylasError(status: 400, type: "api.invalid_idempotency_key", message: "Idempotency-Key must be 256 characters or fewer.")
        }
        let body = try ctx.body()
        let (answer, replay) = try ctx.write { s, store -> (JSON, Bool) in
            let app = try ctx.requireAPIKey(s, store)
            let cacheKey = "transactional|\(app.id)|\(key ?? "")"
            if key != nil, let cached = s.idempotency[cacheKey] {
                guard cached.request == ctx.request.body else {
                    throw NylasError(status: 409, type: "api.invalid_idempotent_request",
                                     message: "The Idempotency-Key was reused with a different request payload. Use a different key, or match the original payload.")
                }
                return (cached.answer, true)
            }
            let data = try Domains.send(s, region: ctx.region, organizationID: app.organizationID, applicationID: app.id,
                                        domainName: ctx.param("domain_name"), body)
            let answer: JSON = ["request_id": .string(ctx.requestID), "data": data]
            if key != nil { s.idempotency[cacheKey] = (ctx.request.body, answer, 200) }
            return (answer, false)
        }
        var response = SimResponse.json(answer)
        if replay { response.headers["Idempotent-Response"] = "true" }
        return response
    }
}

extension RequestContext {
    /// An API key's application, or, with no `Authorization` header, a service account's signed
    /// request (`X-Nylas-Kid`, `-Nonce`, `-Timestamp`, `-Signature`): the region's organization.
    /// The RSA signature cannot be checked without the account's public key; the headers must be
    /// there, the timestamp within five minutes of now, and a nonce is accepted once.
    package func serviceAccountOrAPIKey(_ s: EngineState, _ store: RegionStore) throws -> ApplicationRecord {
        if request.header("authorization") != nil { return try requireAPIKey(s, store) }
        let names = ["x-nylas-kid", "x-nylas-nonce", "x-nylas-timestamp", "x-nylas-signature"]
        let values = names.map { request.header($0) ?? "" }
        guard values.allSatisfy({ !$0.isEmpty }) else {
            throw NylasError.unauthorized("Unauthorized: an API key (Authorization: Bearer) or a service account's X-Nylas-Kid, X-Nylas-Nonce, X-Nylas-Timestamp and X-Nylas-Signature headers are required")
        }
        guard let ts = Int(values[2]), abs(Int(Date().timeIntervalSince1970) - ts) <= 300 else {
            throw NylasError.unauthorized("Unauthorized: X-Nylas-Timestamp is not within 5 minutes of the current time")
        }
        let nonce = values[0] + "|" + values[1]
        if let seen = s.serviceAccountNonces[nonce], abs(seen - ts) <= 600 {
            throw NylasError.unauthorized("Unauthorized: the X-Nylas-Nonce was already used")
        }
        s.serviceAccountNonces[nonce] = ts
        if s.serviceAccountNonces.count > 10_000 {
            let now = Int(Date().timeIntervalSince1970)
            s.serviceAccountNonces = s.serviceAccountNonces.filter { abs(now - $0.value) <= 600 }
        }
        guard let app = try store.applications().first(where: { $0.apiVersion == 3 }) else {
            throw NylasError.unauthorized("Unauthorized: no organization in the \(region.rawValue.uppercased()) region")
        }
        return app
    }
}
