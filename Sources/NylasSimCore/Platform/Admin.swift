import Foundation

// MARK: - Domains

/// Sending domains of an organization (`/v3/admin/domains`): the DNS records to add, their
/// verification (simulated: a record counts as published unless the control API says it fails),
/// and transactional send from a verified domain without a grant. A domain belongs to the
/// organization, so its row's owner (`application_id`) is the organization ID.
package enum Domains {
    package static let verificationTypes = ["ownership", "mx", "spf", "dkim", "feedback"]
    /// What transactional send needs verified.
    package static let sendingTypes = ["ownership", "dkim", "spf"]

    package static func create(_ s: EngineState, region: Region, organizationID: String, _ body: BodyFields) throws -> PlatformObject {
        let name = try Fields.string(body, "name", required: true, max: 256, nonEmpty: true)!
        let address = try Fields.string(body, "domain_address", required: true, max: 253)!.lowercased()
        guard isDomain(address) else { throw NylasError.invalidValue("domain_address", "'\(address)' is not a domain name") }
        let store = s.store(region)
        if try store.platformObjects(.domain, applicationID: organizationID).contains(where: { $0["domain_address"]?.stringValue == address }) {
            throw NylasError.invalidRequest("The domain \(address) is already registered in this organization")
        }
        let now = s.now.seconds
        let id = store.ids.uuid("domain")
        var data: JSON = ["id": .string(id), "name": .string(name), "branded": false, "domain_address": .string(address),
                          "organization_id": .string(organizationID), "region": .string(region.rawValue),
                          "created_at": .int(now), "updated_at": .int(now)]
        for t in verificationTypes + ["dmarc", "arc"] { data["verified_\(t)"] = false }
        data["_token"] = .string(store.ids.base62("domain-token", length: 32))
        let o = PlatformObject(kind: .domain, id: id, applicationID: organizationID, data: data, now: now)
        try store.save(o)
        return o
    }

    static func isDomain(_ s: String) -> Bool {
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { l in
            !l.isEmpty && l.count <= 63 && !l.hasPrefix("-") && !l.hasSuffix("-") && l.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }

    package static func update(_ s: EngineState, region: Region, _ existing: PlatformObject, _ body: BodyFields) throws -> PlatformObject {
        var o = existing
        if let name = try Fields.string(body, "name", max: 256, nonEmpty: true) { o["name"] = .string(name) }
        return try touch(s, region: region, o)
    }

    /// The DNS record a verification type needs.
    static func record(_ d: PlatformObject, type: String, region: Region) -> JSON {
        let token = d["_token"]?.stringValue ?? ""
        let host = "\(region.rawValue).nylas.email"
        switch type {
        case "ownership": return ["host": "@", "type": "TXT", "value": .string("nylas-ownership-verify=\(token)")]
        case "dkim": return ["host": "nylas._domainkey", "type": "TXT",
                             "value": .string("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\(token)")]
        case "spf": return ["host": "@", "type": "TXT", "value": .string("v=spf1 include:spf.\(host) ~all")]
        case "mx": return ["host": "@", "type": "MX", "value": .string("10 mx.\(host)")]
        default: return ["host": "bounces", "type": "MX", "value": .string("10 feedback-smtp.\(host)")]
        }
    }

    /// `POST …/info` (`verify: false`) and `POST …/verify`: the record and the attempt's status.
    package static func attempt(_ s: EngineState, region: Region, _ existing: PlatformObject, _ body: BodyFields, verify: Bool) throws -> JSON {
        let type = try Fields.oneOf(body, "type", verificationTypes, required: true)!
        var d = existing
        let now = s.now.seconds
        var status = "pending"
        var message = "Please configure the \(record(d, type: type, region: region)["type"]?.stringValue ?? "TXT") record for the domain to the returned options. Once done, you can retry the verification."
        if verify {
            let failed = d["_outcome"]?[type]?.stringValue == "failed"
            status = failed ? "failed" : "done"
            message = failed ? "Domain \(type) verification failed: the DNS record was not found. Check the record and retry."
                : "Domain \(type) verified successfully."
            d["verified_\(type)"] = .bool(!failed)
            d = try touch(s, region: region, d)
        }
        return ["domain_id": .string(d.id), "attempt": ["type": .string(type), "options": record(d, type: type, region: region)],
                "status": .string(status), "created_at": .int(now), "expires_at": .int(now + 48 * 3600), "message": .string(message)]
    }

    /// The control switch: whether verification of `type` (or `all`) succeeds from now on.
    package static func setOutcome(_ s: EngineState, region: Region, domainID: String, type: String, outcome: String) throws -> JSON {
        guard var d = try s.store(region).platformObject(.domain, id: domainID) else { throw NylasError.notFound("Domain not found: \(domainID)") }
        guard ["verified", "failed"].contains(outcome) else { throw NylasError.invalidValue("outcome", "expected verified or failed") }
        let types = type == "all" ? verificationTypes : [type]
        guard types.allSatisfy(verificationTypes.contains) else { throw NylasError.invalidValue("type", "expected all or one of \(verificationTypes.joined(separator: ", "))") }
        var outcomes = d["_outcome"]?.objectValue ?? [:]
        for t in types {
            outcomes[t] = .string(outcome)
            if outcome == "failed" { d["verified_\(t)"] = false }
        }
        d["_outcome"] = .object(outcomes)
        return try touch(s, region: region, d).json
    }

    /// `POST /v3/domains/{domain_name}/messages/send`.
    package static func send(_ s: EngineState, region: Region, organizationID: String, applicationID: String, domainName: String,
                             _ body: BodyFields) throws -> JSON {
        let store = s.store(region)
        guard let domain = try store.platformObjects(.domain, applicationID: organizationID)
            .first(where: { $0["domain_address"]?.stringValue == domainName.lowercased() }) else {
            throw NylasError.notFound("Domain not found: \(domainName)")
        }
        let unverified = sendingTypes.filter { domain["verified_\($0)"]?.boolValue != true }
        guard unverified.isEmpty else {
            throw NylasError.invalidRequest("The domain \(domainName) is not verified for sending: verify \(unverified.joined(separator: ", ")) first")
        }
        guard let fromFields = try body.nested("from") else { throw NylasError.missingField("from") }
        let fromEmail = try Fields.string(fromFields, "email", required: true)!
        guard EmailAddress.isValid(fromEmail) else { throw NylasError.invalidValue("from.email", "'\(fromEmail)' is not an email address") }
        guard fromEmail.lowercased().hasSuffix("@" + domainName.lowercased()) else {
            throw NylasError.invalidValue("from.email", "must be an address of the domain \(domainName)")
        }
        let from = Participant(name: try fromFields.string("name") ?? "", email: fromEmail)
        let to = try EmailAddress.list(body, "to"), cc = try EmailAddress.list(body, "cc"), bcc = try EmailAddress.list(body, "bcc")
        let replyTo = try EmailAddress.list(body, "reply_to")
        guard !to.isEmpty else { throw NylasError.missingField("to") }
        var subject = try body.string("subject")
        var text = try body.string("body")
        if let template = try body.nested("template") {
            let id = try Fields.string(template, "id", required: true)!
            guard let t = try Templates.find(store, id: id, applicationID: applicationID, grantID: nil) else {
                throw NylasError.notFound("template not found")
            }
            let rendered = try Templates.render(t, template)
            subject = subject ?? rendered["subject"]?.stringValue
            text = text ?? rendered["body"]?.stringValue
        }
        if let sendAt = try body.int("send_at") {
            guard sendAt >= s.now.seconds + 60, sendAt <= s.now.seconds + 30 * 86400 else {
                throw NylasError.invalidValue("send_at", "must be at least 60 seconds and at most 30 days in the future")
            }
        }
        let metadata = try body.metadata() ?? [:]
        let id = store.ids.base36("transactional-message")
        let html = text ?? ""
        let delivered = try s.deliverExternalMail(from: from, to: to, cc: cc + bcc, subject: subject ?? "", body: html)
        for recipient in (to + cc + bcc).map(\.email) {
            s.emit(SimEvent(region: region, applicationID: applicationID, grantID: nil, type: "message.transactional.delivered",
                            object: ["message_id": .string(id), "domain": .string(domainName.lowercased()), "recipient": .string(recipient),
                                     "delivered_to_simulated_mailbox": .bool(delivered.contains(recipient.lowercased())),
                                     "timestamp": .int(s.now.seconds)],
                            source: "/nylas/transactional", time: s.now))
        }
        var o: JSON = ["id": .string(id), "object": "message", "grant_id": .null, "from": Participant.json([from]), "to": Participant.json(to),
                       "cc": Participant.json(cc), "bcc": Participant.json(bcc), "reply_to": Participant.json(replyTo),
                       "subject": .string(subject ?? ""), "body": .string(html), "snippet": .string(Snippet.make(html)), "attachments": [],
                       "date": .int(s.now.seconds)]
        if let tracking = try body.object("tracking_options") { o["tracking_options"] = .object(tracking) }
        if !metadata.isEmpty { o["metadata"] = .object(metadata) }
        return o
    }
}

// MARK: - Workspaces

/// Workspaces: an application's grants grouped by e-mail domain, with a policy and inbound rules.
package enum Workspaces {
    /// The application's default workspace, created with it (here: on first use, which no client can tell apart).
    @discardableResult
    package static func ensureDefault(_ s: EngineState, region: Region, applicationID: String) throws -> PlatformObject {
        let store = s.store(region)
        if let d = try store.platformObjects(.workspace, applicationID: applicationID).first(where: { $0["default"]?.boolValue == true }) { return d }
        let id = store.ids.uuid("workspace")
        let now = s.now.seconds
        let data: JSON = ["workspace_id": .string(id), "application_id": .string(applicationID), "name": "Default", "domain": "",
                          "auto_group": false, "default": true, "rule_ids": [], "created_at": .int(now), "updated_at": .int(now)]
        let o = PlatformObject(kind: .workspace, id: id, applicationID: applicationID, data: data, now: now)
        try store.save(o)
        return o
    }

    static func links(_ s: EngineState, region: Region, applicationID: String, _ body: BodyFields, into data: inout JSON) throws {
        let store = s.store(region)
        if body.has("policy_id") {
            if let p = try body.string("policy_id") {
                guard let policy = try store.platformObject(.policy, id: p), policy.applicationID == applicationID else {
                    throw NylasError.invalidValue("policy_id", "no policy \(p) in this application")
                }
                data["policy_id"] = .string(p)
            } else {
                data["policy_id"] = nil
            }
        }
        if body.has("rule_ids") {
            let ids = try body.stringArray("rule_ids") ?? []
            for id in ids {
                guard let r = try store.platformObject(.rule, id: id), r.applicationID == applicationID else {
                    throw NylasError.invalidValue("rule_ids", "no rule \(id) in this application")
                }
            }
            data["rule_ids"] = .strings(ids)
        }
    }

    package static func create(_ s: EngineState, region: Region, scope: PlatformScope, _ body: BodyFields) throws -> PlatformObject {
        try ensureDefault(s, region: region, applicationID: scope.applicationID)
        let name = try Fields.string(body, "name", required: true, max: 256, nonEmpty: true)!
        let domain = try Fields.string(body, "domain", required: true, max: 253)!.lowercased()
        guard Domains.isDomain(domain) else { throw NylasError.invalidValue("domain", "'\(domain)' is not a domain name") }
        let store = s.store(region)
        if try store.platformObjects(.workspace, applicationID: scope.applicationID).contains(where: { $0["domain"]?.stringValue == domain }) {
            throw NylasError.invalidRequest("A workspace for the domain \(domain) already exists in this application")
        }
        let now = s.now.seconds
        let id = store.ids.uuid("workspace")
        var data: JSON = ["workspace_id": .string(id), "application_id": .string(scope.applicationID), "name": .string(name),
                          "domain": .string(domain), "auto_group": .bool(try body.bool("auto_group") ?? true), "default": false,
                          "rule_ids": [], "created_at": .int(now), "updated_at": .int(now)]
        try links(s, region: region, applicationID: scope.applicationID, body, into: &data)
        let o = PlatformObject(kind: .workspace, id: id, applicationID: scope.applicationID, data: data, now: now)
        try store.save(o)
        return o
    }

    package static func update(_ s: EngineState, region: Region, _ existing: PlatformObject, _ body: BodyFields) throws -> PlatformObject {
        var o = existing
        let isDefault = o["default"]?.boolValue == true
        if let domain = try body.string("domain"), domain.lowercased() != o["domain"]?.stringValue {
            throw NylasError.invalidValue("domain", "a workspace's domain cannot change")
        }
        if isDefault, body.has("name") || body.has("auto_group") {
            throw NylasError.invalidRequest("Only policy_id and rule_ids can change on the default workspace")
        }
        if let name = try Fields.string(body, "name", max: 256, nonEmpty: true) { o["name"] = .string(name) }
        if let auto = try body.bool("auto_group") { o["auto_group"] = .bool(auto) }
        try links(s, region: region, applicationID: o.applicationID, body, into: &o.data)
        return try touch(s, region: region, o)
    }

    /// Deleting a workspace moves its grants to the default workspace.
    package static func delete(_ s: EngineState, region: Region, _ w: PlatformObject) throws {
        guard w["default"]?.boolValue != true else { throw NylasError.invalidRequest("The default workspace cannot be deleted") }
        let fallback = try ensureDefault(s, region: region, applicationID: w.applicationID)
        for g in try members(s.store(region), applicationID: w.applicationID, workspaceID: w.id) {
            try assign(s, region: region, g, to: fallback.id)
        }
        try s.store(region).deletePlatformObject(.workspace, id: w.id)
    }

    static func members(_ store: RegionStore, applicationID: String, workspaceID: String) throws -> [GrantRecord] {
        var f = RegionStore.GrantFilter(applicationID: applicationID)
        f.workspaceID = workspaceID
        f.limit = 1_000_000
        return try store.grants(f)
    }

    static func assign(_ s: EngineState, region: Region, _ grant: GrantRecord, to workspaceID: String?) throws {
        var g = grant
        var settings = g.settings.objectValue ?? [:]
        settings["workspace_id"] = workspaceID.map(JSON.string)
        g.settings = .object(settings)
        g.updatedAt = s.now.seconds
        try s.store(region).save(g)
    }

    static func domain(of email: String) -> String { email.split(separator: "@").last.map(String.init)?.lowercased() ?? "" }

    /// A new grant joins the auto-group workspace of its e-mail domain, or the default workspace
    /// once the application uses workspaces.
    package static func placeNew(_ s: EngineState, region: Region, _ grant: inout GrantRecord) throws {
        guard grant.settings["workspace_id"] == nil else { return }
        let all = try s.store(region).platformObjects(.workspace, applicationID: grant.applicationID)
        guard !all.isEmpty else { return }
        let d = domain(of: grant.email)
        let target = all.first { $0["auto_group"]?.boolValue == true && $0["domain"]?.stringValue == d } ?? all.first { $0["default"]?.boolValue == true }
        guard let target else { return }
        var settings = grant.settings.objectValue ?? [:]
        settings["workspace_id"] = .string(target.id)
        grant.settings = .object(settings)
    }

    /// `POST /v3/workspaces/auto-group`: assigns grants to the auto-group workspace of their domain.
    package static func autoGroup(_ s: EngineState, region: Region, applicationID: String, _ body: BodyFields) throws -> JSON {
        let after = try body.int("after_created_at")
        let invalidToo = try body.bool("invalid_also") ?? false
        let only = try body.string("specific_domain")?.lowercased()
        let store = s.store(region)
        let workspaces = try store.platformObjects(.workspace, applicationID: applicationID).filter { $0["auto_group"]?.boolValue == true }
        var f = RegionStore.GrantFilter(applicationID: applicationID)
        f.limit = 1_000_000
        var moved = 0
        for g in try store.grants(f) where g.apiVersion == 3 {
            if let after, g.createdAt < after { continue }
            if g.status != .valid, !invalidToo { continue }
            let d = domain(of: g.email)
            if let only, d != only { continue }
            guard let w = workspaces.first(where: { $0["domain"]?.stringValue == d }), g.settings["workspace_id"]?.stringValue != w.id else { continue }
            try assign(s, region: region, g, to: w.id)
            moved += 1
        }
        let job = store.ids.uuid("auto-group-job")
        return ["job_id": .string(job),
                "message": .string("Auto-grouping started successfully under JobID '\(job)', please wait for the process to complete. It may take some time.")]
    }

    /// `POST /v3/workspaces/{id}/manual-assign`.
    package static func manualAssign(_ s: EngineState, region: Region, _ w: PlatformObject, _ body: BodyFields) throws -> JSON {
        let assign = try body.stringArray("assign_grants") ?? [], remove = try body.stringArray("remove_grants") ?? []
        guard !assign.isEmpty || !remove.isEmpty else { throw NylasError.invalidRequest("assign_grants or remove_grants must name at least one grant") }
        guard assign.count <= 500, remove.count <= 500 else { throw NylasError.invalidRequest("At most 500 grant IDs in each of assign_grants and remove_grants") }
        guard w["auto_group"]?.boolValue != true else {
            throw NylasError.invalidRequest("Grants can be assigned by hand only to a workspace with auto_group set to false")
        }
        let store = s.store(region)
        var assigned: [String] = [], removed: [String] = []
        for id in assign {
            guard let g = try store.grant(id: id), g.applicationID == w.applicationID else { continue }
            try self.assign(s, region: region, g, to: w.id)
            assigned.append(id)
        }
        let fallback = try ensureDefault(s, region: region, applicationID: w.applicationID)
        for id in remove {
            guard let g = try store.grant(id: id), g.applicationID == w.applicationID, g.settings["workspace_id"]?.stringValue == w.id else { continue }
            try self.assign(s, region: region, g, to: fallback.id == w.id ? nil : fallback.id)
            removed.append(id)
        }
        return ["application_id": .string(w.applicationID), "workspace_id": .string(w.id), "domain": w["domain"] ?? "",
                "grants_assigned": assigned.isEmpty ? .null : .strings(assigned), "grants_removed": removed.isEmpty ? .null : .strings(removed)]
    }
}

// MARK: - API keys

/// API keys of an application beside its seeded one: a created key works at once, a deleted or
/// expired one is refused at once. The secret is shown only in the create response.
package enum APIKeys {
    package static func create(_ s: EngineState, region: Region, applicationID: String, _ body: BodyFields) throws -> JSON {
        let name = try Fields.string(body, "name", max: 256) ?? "API key"
        let days = try Fields.int(body, "expires_in", in: 1...3650)
        let store = s.store(region)
        let id = store.ids.uuid("api-key")
        let secret = "nyk_v0_" + store.ids.base62("created-api-key", length: 56)
        let now = s.now.seconds
        var data: JSON = ["id": .string(id), "name": .string(name), "application_id": .string(applicationID), "status": "active",
                          "permissions": [], "created_at": .int(now), "updated_at": .int(now), "_secret": .string(secret)]
        if let days {
            data["expires_at"] = .int(now + days * 86400)
            data["expires_in"] = .int(days * 86400)
        }
        try store.save(PlatformObject(kind: .apiKey, id: id, applicationID: applicationID, data: data, now: now))
        var shown = PlatformObject(kind: .apiKey, id: id, applicationID: applicationID, data: data, now: now).json
        shown["api_key"] = .string(secret)
        return shown
    }
}

extension RegionStore {
    /// The application of a created API key that is still valid at `now`.
    package func application(createdAPIKey key: String, now: Int) throws -> ApplicationRecord? {
        guard key.hasPrefix("nyk_"),
              let row = try db.first("SELECT * FROM platform_objects WHERE kind = 'api_key' AND json_extract(CAST(data AS TEXT), '$._secret') = ?", key)
        else { return nil }
        let o = PlatformObject(row: row)
        if let expires = o["expires_at"]?.intValue, expires <= now { return nil }
        return try application(id: o.applicationID)
    }
}
