import Foundation

// MARK: - Lists

/// Lists of domains, top-level domains or addresses that rules match with `in_list`.
package enum Lists {
    package static let types = ["domain", "tld", "address"]

    package static func create(_ s: EngineState, region: Region, scope: PlatformScope, _ body: BodyFields) throws -> PlatformObject {
        let name = try Fields.string(body, "name", required: true, max: 256, nonEmpty: true)!
        let type = try Fields.oneOf(body, "type", types, required: true)!
        let description = try Fields.string(body, "description", max: 1024)
        let now = s.now.seconds
        let id = s.store(region).ids.uuid("list")
        var data: JSON = ["id": .string(id), "name": .string(name), "type": .string(type),
                          "items_count": 0, "application_id": .string(scope.applicationID), "organization_id": .string(scope.organizationID),
                          "created_at": .int(now), "updated_at": .int(now)]
        if let description { data["description"] = .string(description) }
        let o = PlatformObject(kind: .list, id: id, applicationID: scope.applicationID, data: data, now: now)
        try s.store(region).save(o)
        return o
    }

    package static func update(_ s: EngineState, region: Region, _ existing: PlatformObject, _ body: BodyFields) throws -> PlatformObject {
        var o = existing
        if let t = try body.string("type"), t != o["type"]?.stringValue { throw NylasError.invalidValue("type", "a list's type cannot change") }
        if let name = try Fields.string(body, "name", max: 256, nonEmpty: true) { o["name"] = .string(name) }
        if body.has("description") { o["description"] = try Fields.string(body, "description", max: 1024).map(JSON.string) }
        return try touch(s, region: region, o)
    }

    /// The item values of a request, normalized (trimmed, lowercased) and checked against the list's type.
    static func values(_ body: BodyFields, type: String) throws(NylasError) -> [String] {
        guard let items = try body.stringArray("items") else { throw NylasError.missingField("items") }
        guard !items.isEmpty else { throw NylasError.invalidValue("items", "at least one item is required") }
        guard items.count <= 1000 else { throw NylasError.invalidValue("items", "at most 1000 items per request") }
        var out: [String] = []
        for raw in items {
            let v = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            guard !v.isEmpty, v.count <= 500 else { throw NylasError.invalidValue("items", "each item must have 1 to 500 characters") }
            let ok: Bool
            switch type {
            case "address": ok = EmailAddress.isValid(v)
            case "domain": ok = v.contains(".") && !v.contains("@") && !v.contains(" ") && !v.hasPrefix(".") && !v.hasSuffix(".")
            default: ok = !v.contains(".") && !v.contains("@") && !v.contains(" ")
            }
            guard ok else { throw NylasError.invalidValue("items", "'\(raw)' is not a valid \(type)") }
            if !out.contains(v) { out.append(v) }
        }
        return out
    }

    package static func addItems(_ s: EngineState, region: Region, list: PlatformObject, _ body: BodyFields) throws -> PlatformObject {
        let store = s.store(region)
        let existing = Set(try store.platformObjects(.listItem, applicationID: list.applicationID, parentID: list.id).compactMap { $0["value"]?.stringValue })
        for v in try values(body, type: list["type"]?.stringValue ?? "domain") where !existing.contains(v) {
            let id = store.ids.uuid("list-item")
            try store.save(PlatformObject(kind: .listItem, id: id, applicationID: list.applicationID, parentID: list.id,
                                          data: ["id": .string(id), "list_id": .string(list.id), "value": .string(v), "created_at": .int(s.now.seconds)],
                                          now: s.now.seconds))
        }
        return try recount(s, region: region, list)
    }

    package static func removeItems(_ s: EngineState, region: Region, list: PlatformObject, _ body: BodyFields) throws -> PlatformObject {
        let store = s.store(region)
        let remove = Set(try values(body, type: list["type"]?.stringValue ?? "domain"))
        for item in try store.platformObjects(.listItem, applicationID: list.applicationID, parentID: list.id)
        where remove.contains(item["value"]?.stringValue ?? "") {
            try store.deletePlatformObject(.listItem, id: item.id)
        }
        return try recount(s, region: region, list)
    }

    static func recount(_ s: EngineState, region: Region, _ list: PlatformObject) throws -> PlatformObject {
        var o = list
        o["items_count"] = .int(try s.store(region).platformObjects(.listItem, applicationID: list.applicationID, parentID: list.id).count)
        return try touch(s, region: region, o)
    }

    package static func items(_ store: RegionStore, listID: String, applicationID: String) throws -> [String] {
        try store.platformObjects(.listItem, applicationID: applicationID, parentID: listID).compactMap { $0["value"]?.stringValue }
    }
}

// MARK: - Rules

/// Rules: conditions on a message's sender (inbound) or sender and recipients (outbound), and the
/// actions they take.
package enum Rules {
    static let inboundFields = ["from.address", "from.domain", "from.tld"]
    static let outboundFields = inboundFields + ["recipient.address", "recipient.domain", "recipient.tld", "outbound.type"]
    static let operators = ["is", "is_not", "contains", "in_list"]
    static let actionTypes = ["block", "mark_as_spam", "assign_to_folder", "mark_as_read", "mark_as_starred", "archive", "trash"]

    static func validate(_ s: EngineState, region: Region, applicationID: String, trigger: String, match: JSON, actions: JSON) throws {
        guard case .object(let m) = match else { throw NylasError.wrongType("match", expected: "object", got: match) }
        let matchFields = BodyFields(m)
        _ = try Fields.oneOf(matchFields, "operator", ["any", "all"])
        guard let conditions = try matchFields.array("conditions"), !conditions.isEmpty else {
            throw NylasError.invalidValue("match.conditions", "at least one condition is required")
        }
        let allowed = trigger == "outbound" ? outboundFields : inboundFields
        for (i, c) in conditions.enumerated() {
            guard case .object(let o) = c else { throw NylasError.wrongType("match.conditions[\(i)]", expected: "object", got: c) }
            let f = BodyFields(o)
            let field = try Fields.string(f, "field", required: true)!
            guard allowed.contains(field) else {
                throw NylasError.invalidValue("match.conditions[\(i)].field", "\(trigger) rules match on \(allowed.joined(separator: ", "))")
            }
            let op = try Fields.oneOf(f, "operator", operators, required: true)!
            if field == "outbound.type", op != "is", op != "is_not" {
                throw NylasError.invalidValue("match.conditions[\(i)].operator", "outbound.type takes only is or is_not")
            }
            guard let value = o["value"], !value.isNull else { throw NylasError.missingField("match.conditions[\(i)].value") }
            if op == "in_list" {
                guard case .array(let ids) = value, !ids.isEmpty, ids.allSatisfy({ $0.stringValue != nil }) else {
                    throw NylasError.invalidValue("match.conditions[\(i)].value", "in_list takes an array of list IDs")
                }
                for id in ids.compactMap(\.stringValue) {
                    guard let l = try s.store(region).platformObject(.list, id: id), l.applicationID == applicationID else {
                        throw NylasError.invalidValue("match.conditions[\(i)].value", "no list \(id)")
                    }
                }
            } else {
                guard let text = value.stringValue else { throw NylasError.wrongType("match.conditions[\(i)].value", expected: "string", got: value) }
                if field == "outbound.type", !["compose", "reply"].contains(text.lowercased()) {
                    throw NylasError.invalidValue("match.conditions[\(i)].value", "outbound.type is compose or reply")
                }
            }
        }
        guard case .array(let list) = actions, !list.isEmpty else { throw NylasError.invalidValue("actions", "at least one action is required") }
        var types: [String] = []
        for (i, a) in list.enumerated() {
            guard case .object(let o) = a else { throw NylasError.wrongType("actions[\(i)]", expected: "object", got: a) }
            let f = BodyFields(o)
            let type = try Fields.oneOf(f, "type", actionTypes, required: true)!
            if type == "assign_to_folder", try Fields.string(f, "value", nonEmpty: true) == nil {
                throw NylasError.missingField("actions[\(i)].value")
            }
            types.append(type)
        }
        if types.contains("block"), types.count > 1 { throw NylasError.invalidValue("actions", "block cannot be combined with other actions") }
    }

    package static func create(_ s: EngineState, region: Region, scope: PlatformScope, _ body: BodyFields) throws -> PlatformObject {
        let name = try Fields.string(body, "name", required: true, max: 256, nonEmpty: true)!
        let trigger = try Fields.oneOf(body, "trigger", ["inbound", "outbound"]) ?? "inbound"
        guard let match = body.raw("match") else { throw NylasError.missingField("match") }
        guard let actions = body.raw("actions") else { throw NylasError.missingField("actions") }
        try validate(s, region: region, applicationID: scope.applicationID, trigger: trigger, match: match, actions: actions)
        let now = s.now.seconds
        let id = s.store(region).ids.uuid("rule")
        var data: JSON = ["id": .string(id), "name": .string(name),
                          "priority": .int(try Fields.int(body, "priority", in: 0...1000) ?? 10), "enabled": .bool(try body.bool("enabled") ?? true),
                          "trigger": .string(trigger), "match": normalized(match), "actions": actions,
                          "application_id": .string(scope.applicationID), "organization_id": .string(scope.organizationID),
                          "created_at": .int(now), "updated_at": .int(now)]
        if let d = try Fields.string(body, "description", max: 1024) { data["description"] = .string(d) }
        let o = PlatformObject(kind: .rule, id: id, applicationID: scope.applicationID, data: data, now: now)
        try s.store(region).save(o)
        return o
    }

    package static func update(_ s: EngineState, region: Region, _ existing: PlatformObject, _ body: BodyFields) throws -> PlatformObject {
        var o = existing
        if let name = try Fields.string(body, "name", max: 256, nonEmpty: true) { o["name"] = .string(name) }
        if body.has("description") { o["description"] = try Fields.string(body, "description", max: 1024).map(JSON.string) }
        if let p = try Fields.int(body, "priority", in: 0...1000) { o["priority"] = .int(p) }
        if let e = try body.bool("enabled") { o["enabled"] = .bool(e) }
        if let t = try Fields.oneOf(body, "trigger", ["inbound", "outbound"]) { o["trigger"] = .string(t) }
        if let m = body.raw("match") { o["match"] = m }
        if let a = body.raw("actions") { o["actions"] = a }
        try validate(s, region: region, applicationID: o.applicationID, trigger: o["trigger"]?.stringValue ?? "inbound",
                     match: o["match"] ?? .null, actions: o["actions"] ?? .null)
        o["match"] = normalized(o["match"] ?? .null)
        return try touch(s, region: region, o)
    }

    /// `outbound.type` values are stored lowercased; the match operator defaults to `all`.
    static func normalized(_ match: JSON) -> JSON {
        var m = match
        if m["operator"] == nil { m["operator"] = "all" }
        if case .array(let conditions)? = m["conditions"] {
            m["conditions"] = .array(conditions.map { c in
                var c = c
                if c["field"]?.stringValue == "outbound.type", let v = c["value"]?.stringValue { c["value"] = .string(v.lowercased()) }
                return c
            })
        }
        return m
    }

    /// What a rule sees of a message.
    package struct Input: Sendable {
        var from: String
        var recipients: [String] = []
        var outboundType: String?

        static func domain(_ address: String) -> String { address.split(separator: "@").last.map(String.init)?.lowercased() ?? "" }
        static func tld(_ address: String) -> String { domain(address).split(separator: ".").last.map(String.init) ?? "" }

        func values(_ field: String) -> [String] {
            switch field {
            case "from.address": return [from.lowercased()]
            case "from.domain": return [Self.domain(from)]
            case "from.tld": return [Self.tld(from)]
            case "recipient.address": return recipients.map { $0.lowercased() }
            case "recipient.domain": return recipients.map(Self.domain)
            case "recipient.tld": return recipients.map(Self.tld)
            case "outbound.type": return [outboundType ?? "compose"]
            default: return []
            }
        }

        var json: JSON {
            var o: JSON = ["from_address": .string(from.lowercased()), "from_domain": .string(Self.domain(from)), "from_tld": .string(Self.tld(from))]
            if let outboundType {
                o["recipient_addresses"] = .strings(recipients.map { $0.lowercased() })
                o["recipient_domains"] = .strings(Array(Set(recipients.map(Self.domain))).sorted())
                o["recipient_tlds"] = .strings(Array(Set(recipients.map(Self.tld))).sorted())
                o["outbound_type"] = .string(outboundType)
            }
            return o
        }
    }

    /// The outcome of running rules on one message.
    package struct Evaluation: Sendable {
        package var input: Input
        package var stage: String
        package var matched: [String] = []
        package var actions: [JSON] = []
        package var blocked: Bool { actions.contains { $0["type"]?.stringValue == "block" } }
    }

    static func holds(_ condition: JSON, _ input: Input, _ store: RegionStore, applicationID: String) throws -> Bool {
        let field = condition["field"]?.stringValue ?? ""
        let op = condition["operator"]?.stringValue ?? "is"
        let values = input.values(field)
        let recipientField = field.hasPrefix("recipient.")
        func matches(_ v: String) throws -> Bool {
            switch op {
            case "contains": return v.contains((condition["value"]?.stringValue ?? "").lowercased())
            case "in_list":
                for id in condition["value"]?.arrayValue?.compactMap(\.stringValue) ?? [] where try Lists.items(store, listID: id, applicationID: applicationID).contains(v) {
                    return true
                }
                return false
            default: return v == (condition["value"]?.stringValue ?? "").lowercased()
            }
        }
        if op == "is_not" {
            let target = (condition["value"]?.stringValue ?? "").lowercased()
            return recipientField ? !values.contains(target) : !values.allSatisfy { $0 == target } || values.isEmpty
        }
        for v in values where try matches(v) { return true }
        return false
    }

    /// Runs `rules` (enabled ones, lowest priority number first) on `input`; a `block` ends the run.
    package static func evaluate(_ rules: [PlatformObject], _ input: Input, stage: String, store: RegionStore) throws -> Evaluation {
        var e = Evaluation(input: input, stage: stage)
        let ordered = rules.filter { $0["enabled"]?.boolValue != false }
            .sorted { ($0["priority"]?.intValue ?? 10, $0.createdAt) < ($1["priority"]?.intValue ?? 10, $1.createdAt) }
        for rule in ordered {
            let conditions = rule["match"]?["conditions"]?.arrayValue ?? []
            let any = rule["match"]?["operator"]?.stringValue == "any"
            var results: [Bool] = []
            for c in conditions { results.append(try holds(c, input, store, applicationID: rule.applicationID)) }
            guard any ? results.contains(true) : (!results.isEmpty && results.allSatisfy { $0 }) else { continue }
            e.matched.append(rule.id)
            e.actions += rule["actions"]?.arrayValue ?? []
            if e.blocked { break }
        }
        return e
    }

    /// The audit record of an evaluation (`GET /v3/grants/{grant_id}/rule-evaluations`).
    package static func save(_ s: EngineState, region: Region, grant: GrantRecord, _ e: Evaluation, messageID: String?, folderIDs: [String] = []) throws {
        let store = s.store(region)
        var applied: [String: JSON] = [:]
        for a in e.actions {
            switch a["type"]?.stringValue {
            case "block": applied["blocked"] = true
            case "mark_as_spam": applied["marked_as_spam"] = true
            case "mark_as_read": applied["marked_as_read"] = true
            case "mark_as_starred": applied["marked_starred"] = true
            case "archive": applied["archived"] = true
            case "trash": applied["trashed"] = true
            default: break
            }
        }
        if !folderIDs.isEmpty { applied["folder_ids"] = .strings(folderIDs) }
        let org = try store.application(id: grant.applicationID)?.organizationID ?? ""
        let now = s.now.seconds
        let id = store.ids.uuid("rule-evaluation")
        let data: JSON = ["id": .string(id), "grant_id": .string(grant.id), "message_id": .optional(messageID), "evaluated_at": .int(now),
                          "evaluation_stage": .string(e.stage), "evaluation_input": e.input.json, "applied_actions": .object(applied),
                          "matched_rule_ids": .strings(e.matched), "application_id": .string(grant.applicationID),
                          "organization_id": .string(org), "created_at": .int(now), "updated_at": .int(now)]
        try store.save(PlatformObject(kind: .ruleEvaluation, id: id, applicationID: grant.applicationID, grantID: grant.id, data: data, now: now))
    }
}

// MARK: - Outbound and inbound rules at work

/// Outbound rules: the application's enabled `outbound` rules, before a send.
package enum OutboundRules {
    static func rules(_ store: RegionStore, applicationID: String) throws -> [PlatformObject] {
        try store.rules(applicationID: applicationID).filter { $0["trigger"]?.stringValue == "outbound" }
    }

    /// The evaluation of a send, or nil when the application has no outbound rules.
    package static func evaluate(_ s: EngineState, region: Region, grant: GrantRecord, _ out: OutgoingMessage) throws -> Rules.Evaluation? {
        let store = s.store(region)
        let rules = try rules(store, applicationID: grant.applicationID)
        guard !rules.isEmpty else { return nil }
        var input = Rules.Input(from: out.from.first?.email ?? grant.email)
        input.recipients = (out.to + out.cc + out.bcc).map(\.email)
        input.outboundType = out.replyToMessageID == nil ? "compose" : "reply"
        return try Rules.evaluate(rules, input, stage: "outbound_send", store: store)
    }

    package static func save(_ s: EngineState, region: Region, grant: GrantRecord, _ e: Rules.Evaluation, messageID: String?) throws {
        try Rules.save(s, region: region, grant: grant, e, messageID: messageID)
    }
}

/// Inbound rules: those of the workspace the receiving grant belongs to (its `rule_ids`, and the
/// legacy `rules` of its policy), run on each new message before it is synced.
package enum InboundRules {
    package enum Outcome { case kept, blocked }

    /// Applies the rules to a new world message of the grant's mailbox; `blocked` drops it.
    package static func apply(_ s: EngineState, region: Region, grant: GrantRecord, message m: WorldMessage) throws -> Outcome {
        let store = s.store(region)
        guard let workspaceID = grant.settings["workspace_id"]?.stringValue,
              let workspace = try store.platformObject(.workspace, id: workspaceID) else { return .kept }
        var ids = workspace["rule_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if let policyID = workspace["policy_id"]?.stringValue, let policy = try store.platformObject(.policy, id: policyID) {
            ids += policy["rules"]?.arrayValue?.compactMap(\.stringValue) ?? []
        }
        guard !ids.isEmpty else { return .kept }
        let rules = try ids.compactMap { try store.platformObject(.rule, id: $0) }.filter { $0["trigger"]?.stringValue != "outbound" }
        guard !rules.isEmpty, let from = m.from.first?.email else { return .kept }
        let e = try Rules.evaluate(rules, Rules.Input(from: from), stage: "inbox_processing", store: store)
        if e.blocked {
            try s.world.delete(m.id, time: s.now)
            try Rules.save(s, region: region, grant: grant, e, messageID: nil)
            return .blocked
        }
        var unread: Bool?, starred: Bool?
        var folders = m.folders
        let worldFolders = try s.world.folders(mailbox: m.mailbox)
        func folder(attribute: String, orName name: String) -> String? {
            worldFolders.first { $0.attributes.contains(attribute) }?.key ?? worldFolders.first { $0.name.lowercased() == name.lowercased() }?.key
        }
        for a in e.actions {
            switch a["type"]?.stringValue {
            case "mark_as_read": unread = false
            case "mark_as_starred": starred = true
            case "trash": folders = [folder(attribute: "\\Trash", orName: "Trash")].compactMap { $0 }
            case "mark_as_spam": folders = [folder(attribute: "\\Junk", orName: "Spam")].compactMap { $0 }
            case "archive": folders = folders.filter { $0 != ProviderKind.inbox }
                if let archive = folder(attribute: "\\Archive", orName: "Archive") { folders.append(archive) }
            case "assign_to_folder":
                let name = a["value"]?.stringValue ?? ""
                if let key = worldFolders.first(where: { $0.name.lowercased() == name.lowercased() || $0.key.lowercased() == name.lowercased() })?.key {
                    folders = folders.filter { $0 != ProviderKind.inbox } + [key]
                }
            default: break
            }
        }
        if unread != nil || starred != nil || folders != m.folders {
            try s.world.update(m.id, unread: unread, starred: starred, folders: folders == m.folders ? nil : folders, time: s.now)
        }
        var folderIDs: [String] = []
        if e.actions.contains(where: { $0["type"]?.stringValue == "assign_to_folder" }) {
            for key in folders { if let f = try store.folder(grantID: grant.id, worldKey: key) { folderIDs.append(f.id) } }
        }
        let messageID = try store.mintID(grant: grant, kind: "message", worldKey: String(m.id), hint: m.messageIDHeader)
        try Rules.save(s, region: region, grant: grant, e, messageID: messageID, folderIDs: folderIDs)
        return .kept
    }
}

// MARK: - Policies

/// Policies: limits and spam settings for the agent accounts of a workspace.
package enum Policies {
    static let limitKeys = ["limit_attachment_size_limit", "limit_attachment_count_limit", "limit_attachment_allowed_types",
                            "limit_size_total_mime", "limit_storage_total", "limit_count_daily_message_received",
                            "limit_count_daily_email_sent", "limit_count_daily_message_per_grant",
                            "limit_inbox_retention_period", "limit_spam_retention_period"]

    static func checked(_ s: EngineState, region: Region, applicationID: String, _ body: BodyFields, into data: inout JSON) throws {
        if let limits = try body.nested("limits") {
            for (k, v) in limits.values {
                guard limitKeys.contains(k) else { throw NylasError.invalidValue("limits.\(k)", "unknown limit") }
                if k == "limit_attachment_allowed_types" {
                    guard case .array(let a) = v, a.allSatisfy({ $0.stringValue != nil }) else { throw NylasError.wrongType("limits.\(k)", expected: "array of strings", got: v) }
                } else if !v.isNull {
                    guard let n = v.intValue, n >= 0 else { throw NylasError.wrongType("limits.\(k)", expected: "non-negative integer", got: v) }
                }
            }
            if let inbox = limits.values["limit_inbox_retention_period"]?.intValue, let spam = limits.values["limit_spam_retention_period"]?.intValue,
               inbox <= spam {
                throw NylasError.invalidValue("limits.limit_inbox_retention_period", "must be greater than limit_spam_retention_period")
            }
            data["limits"] = .object(limits.values)
        }
        if let spam = try body.nested("spam_detection") {
            if let sens = spam.values["spam_sensitivity"], !sens.isNull {
                guard let d = sens.doubleValue, (0.1...5.0).contains(d) else {
                    throw NylasError.invalidValue("spam_detection.spam_sensitivity", "must be between 0.1 and 5.0")
                }
            }
            for k in ["use_list_dnsbl", "use_header_anomaly_detection"] where spam.has(k) { _ = try spam.bool(k) }
            data["spam_detection"] = .object(spam.values)
        }
        if let options = try Fields.object(body, "options") { data["options"] = options }
        if let rules = try body.stringArray("rules") {
            for id in rules {
                guard let r = try s.store(region).platformObject(.rule, id: id), r.applicationID == applicationID else {
                    throw NylasError.invalidValue("rules", "no rule \(id)")
                }
            }
            data["rules"] = .strings(rules)
        }
    }

    package static func create(_ s: EngineState, region: Region, scope: PlatformScope, _ body: BodyFields) throws -> PlatformObject {
        let name = try Fields.string(body, "name", required: true, max: 256, nonEmpty: true)!
        let now = s.now.seconds
        let id = s.store(region).ids.uuid("policy")
        var data: JSON = ["id": .string(id), "name": .string(name), "application_id": .string(scope.applicationID),
                          "organization_id": .string(scope.organizationID), "limits": [:],
                          "spam_detection": ["use_list_dnsbl": false, "use_header_anomaly_detection": false, "spam_sensitivity": 1],
                          "options": [:], "rules": [], "created_at": .int(now), "updated_at": .int(now)]
        try checked(s, region: region, applicationID: scope.applicationID, body, into: &data)
        let o = PlatformObject(kind: .policy, id: id, applicationID: scope.applicationID, data: data, now: now)
        try s.store(region).save(o)
        return o
    }

    package static func update(_ s: EngineState, region: Region, _ existing: PlatformObject, _ body: BodyFields) throws -> PlatformObject {
        var o = existing
        if let name = try Fields.string(body, "name", max: 256, nonEmpty: true) { o["name"] = .string(name) }
        try checked(s, region: region, applicationID: o.applicationID, body, into: &o.data)
        return try touch(s, region: region, o)
    }
}
