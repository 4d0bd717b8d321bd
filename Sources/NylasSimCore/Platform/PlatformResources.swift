import Foundation

/// Who owns a platform object: an application, and a grant for grant-level objects.
package struct PlatformScope: Sendable {
    package let applicationID: String
    package let grantID: String?
    package let organizationID: String
    package init(applicationID: String, grantID: String?, organizationID: String) {
        self.applicationID = applicationID
        self.grantID = grantID
        self.organizationID = organizationID
    }
}

/// Field checks shared by the platform families: each failure is a Nylas 400 naming the field.
package enum Fields {
    package static func string(_ body: BodyFields, _ key: String, required: Bool = false, max: Int? = nil,
                               nonEmpty: Bool = false) throws(NylasError) -> String? {
        guard let s = try body.string(key) else {
            if required { throw NylasError.missingField(key) }
            return nil
        }
        if nonEmpty, s.trimmingCharacters(in: .whitespaces).isEmpty { throw NylasError.invalidValue(key, "must not be empty") }
        if let max, s.count > max { throw NylasError.invalidValue(key, "must be at most \(max) characters") }
        return s
    }

    package static func oneOf(_ body: BodyFields, _ key: String, _ allowed: [String], required: Bool = false) throws(NylasError) -> String? {
        guard let s = try string(body, key, required: required) else { return nil }
        guard allowed.contains(s) else { throw NylasError.invalidValue(key, "expected one of \(allowed.joined(separator: ", "))") }
        return s
    }

    package static func int(_ body: BodyFields, _ key: String, in range: ClosedRange<Int>) throws(NylasError) -> Int? {
        guard let n = try body.int(key) else { return nil }
        guard range.contains(n) else { throw NylasError.invalidValue(key, "must be between \(range.lowerBound) and \(range.upperBound)") }
        return n
    }

    /// An object field, kept as JSON.
    package static func object(_ body: BodyFields, _ key: String) throws(NylasError) -> JSON? {
        guard let o = try body.object(key) else { return nil }
        return .object(o)
    }

    /// Sets `key` in `data` from the body when present (null clears it).
    package static func copy(_ body: BodyFields, _ keys: [String], into data: inout JSON) {
        for key in keys where body.has(key) { data[key] = body.values[key] ?? .null }
    }
}

/// One page of objects: `limit` from `offset`, and the cursor of the next page.
package func platformPage(_ items: [JSON], limit: Int, offset: Int) -> (items: [JSON], next: String?) {
    let slice = Array(items.dropFirst(offset).prefix(limit))
    let next = offset + limit < items.count ? Data(String(offset + limit).utf8).base64EncodedString() : nil
    return (slice, next)
}

// MARK: - Templates

/// Templates (application- and grant-level) and their rendering.
package enum Templates {
    package static func create(_ s: EngineState, region: Region, scope: PlatformScope, _ body: BodyFields) throws -> PlatformObject {
        let name = try Fields.string(body, "name", required: true, max: 256, nonEmpty: true)!
        let subject = try Fields.string(body, "subject", required: true, max: 998)!
        let text = try Fields.string(body, "body", required: true, max: 1_000_000)!
        let engine = try Fields.oneOf(body, "engine", TemplateRenderer.engines.sorted()) ?? "mustache"
        try check(subject, engine: engine, field: "subject")
        try check(text, engine: engine, field: "body")
        let now = s.now.seconds
        let id = s.store(region).ids.uuid("template")
        let data: JSON = ["id": .string(id), "name": .string(name), "subject": .string(subject), "body": .string(text),
                          "engine": .string(engine), "object": "template", "created_at": .int(now), "updated_at": .int(now),
                          "app_id": scope.grantID == nil ? .string(scope.applicationID) : .null, "grant_id": .optional(scope.grantID)]
        let o = PlatformObject(kind: .template, id: id, applicationID: scope.applicationID, grantID: scope.grantID, data: data, now: now)
        try s.store(region).save(o)
        return o
    }

    package static func update(_ s: EngineState, region: Region, _ existing: PlatformObject, _ body: BodyFields) throws -> PlatformObject {
        var o = existing
        if let name = try Fields.string(body, "name", max: 256, nonEmpty: true) { o["name"] = .string(name) }
        if let subject = try Fields.string(body, "subject", max: 998) { o["subject"] = .string(subject) }
        if let text = try Fields.string(body, "body", max: 1_000_000) { o["body"] = .string(text) }
        if let engine = try Fields.oneOf(body, "engine", TemplateRenderer.engines.sorted()) { o["engine"] = .string(engine) }
        let engine = o["engine"]?.stringValue ?? "mustache"
        try check(o["subject"]?.stringValue ?? "", engine: engine, field: "subject")
        try check(o["body"]?.stringValue ?? "", engine: engine, field: "body")
        return try touch(s, region: region, o)
    }

    /// A template that does not parse is refused when it is saved.
    static func check(_ text: String, engine: String, field: String) throws(NylasError) {
        do { _ = try TemplateRenderer.parse(text, jinja: engine == "nunjucks" || engine == "twig") } catch let e as TemplateRenderer.SyntaxError {
            throw NylasError(status: 400, type: "invalid_request_error", message: "Validation of request body failed: \(field): \(e.message)")
        } catch {
            throw NylasError.invalidRequest("\(error)")
        }
    }

    /// Renders `text` with the request's variables; a missing variable under `strict` is a 400.
    package static func render(_ text: String, engine: String, variables: JSON, strict: Bool) throws(NylasError) -> String {
        do {
            return try TemplateRenderer.render(text, engine: engine, variables: variables, strict: strict)
        } catch let e as TemplateRenderer.MissingVariable {
            throw NylasError(status: 400, type: "invalid_request_error",
                             message: "Template rendering failed: variable '\(e.name)' is not defined (strict mode)")
        } catch let e as TemplateRenderer.SyntaxError {
            throw NylasError(status: 400, type: "invalid_request_error", message: "Template rendering failed: \(e.message)")
        } catch {
            throw NylasError.invalidRequest("Template rendering failed")
        }
    }

    /// The `variables` and `strict` of a render request.
    package static func renderInput(_ body: BodyFields) throws(NylasError) -> (variables: JSON, strict: Bool) {
        let variables = body.raw("variables") ?? [:]
        guard case .object = variables else { throw NylasError.wrongType("variables", expected: "object", got: variables) }
        return (variables, try body.bool("strict") ?? true)
    }

    /// `POST …/templates/{id}/render`: subject and body.
    package static func render(_ t: PlatformObject, _ body: BodyFields) throws(NylasError) -> JSON {
        let (variables, strict) = try renderInput(body)
        let engine = t["engine"]?.stringValue ?? "mustache"
        return ["subject": .string(try render(t["subject"]?.stringValue ?? "", engine: engine, variables: variables, strict: strict)),
                "body": .string(try render(t["body"]?.stringValue ?? "", engine: engine, variables: variables, strict: strict))]
    }

    /// The template a send or workflow names: the grant's own, or one of the application's.
    package static func find(_ store: RegionStore, id: String, applicationID: String, grantID: String?) throws -> PlatformObject? {
        guard let t = try store.platformObject(.template, id: id), t.applicationID == applicationID,
              t.grantID == nil || t.grantID == grantID else { return nil }
        return t
    }
}

/// Sets `updated_at` (in the object and the row) and saves.
package func touch(_ s: EngineState, region: Region, _ object: PlatformObject, key: String = "updated_at") throws -> PlatformObject {
    var o = object
    o.updatedAt = s.now.seconds
    if o.data[key] != nil { o.data[key] = .int(s.now.seconds) }
    try s.store(region).save(o)
    return o
}

// MARK: - Workflows

/// Workflows: a templated message sent `delay` minutes after a booking event.
package enum Workflows {
    package static let triggers = ["booking.created", "booking.pending", "booking.rescheduled", "booking.cancelled", "booking.reminder"]

    static func from(_ body: BodyFields) throws(NylasError) -> JSON? {
        guard body.has("from") else { return nil }
        guard let f = try body.nested("from") else { return .null }
        let email = try Fields.string(f, "email", required: true)!
        guard email.contains("@") else { throw NylasError.invalidValue("from.email", "'\(email)' is not an email address") }
        return ["email": .string(email), "name": .optional(try f.string("name"))]
    }

    static func template(_ store: RegionStore, _ id: String, scope: PlatformScope) throws -> PlatformObject {
        guard let t = try Templates.find(store, id: id, applicationID: scope.applicationID, grantID: scope.grantID) else {
            throw NylasError(status: 404, type: "not_found_error", message: "template not found")
        }
        return t
    }

    package static func create(_ s: EngineState, region: Region, scope: PlatformScope, _ body: BodyFields) throws -> PlatformObject {
        let name = try Fields.string(body, "name", required: true, max: 256, nonEmpty: true)!
        let templateID = try Fields.string(body, "template_id", required: true)!
        let trigger = try Fields.oneOf(body, "trigger_event", triggers, required: true)!
        let delay = try Fields.int(body, "delay", in: 0...43_200) ?? 0
        let enabled = try body.bool("is_enabled") ?? true
        let from = try from(body) ?? .null
        _ = try template(s.store(region), templateID, scope: scope)
        let id = s.store(region).ids.uuid("workflow")
        let data: JSON = ["id": .string(id), "name": .string(name), "template_id": .string(templateID), "trigger_event": .string(trigger),
                          "delay": .int(delay), "is_enabled": .bool(enabled), "date_created": .int(s.now.seconds),
                          "app_id": scope.grantID == nil ? .string(scope.applicationID) : .null, "grant_id": .optional(scope.grantID),
                          "from": from]
        let o = PlatformObject(kind: .workflow, id: id, applicationID: scope.applicationID, grantID: scope.grantID, data: data, now: s.now.seconds)
        try s.store(region).save(o)
        return o
    }

    package static func update(_ s: EngineState, region: Region, _ existing: PlatformObject, _ body: BodyFields) throws -> PlatformObject {
        var o = existing
        let scope = PlatformScope(applicationID: o.applicationID, grantID: o.grantID, organizationID: "")
        if let name = try Fields.string(body, "name", max: 256, nonEmpty: true) { o["name"] = .string(name) }
        if let t = try Fields.string(body, "template_id") {
            _ = try template(s.store(region), t, scope: scope)
            o["template_id"] = .string(t)
        }
        if let t = try Fields.oneOf(body, "trigger_event", triggers) { o["trigger_event"] = .string(t) }
        if let d = try Fields.int(body, "delay", in: 0...43_200) { o["delay"] = .int(d) }
        if let e = try body.bool("is_enabled") { o["is_enabled"] = .bool(e) }
        if let f = try from(body) { o["from"] = f }
        return try touch(s, region: region, o)
    }

    /// The event handler: a booking notification starts the enabled workflows of its application
    /// (and of its grant); each sends its template `delay` minutes later, from the grant.
    package static func handle(_ s: EngineState, _ event: SimEvent) {
        guard event.type.hasPrefix("booking."), let grantID = event.grantID else { return }
        let store = s.store(event.region)
        guard let flows = try? store.platformObjects(.workflow, applicationID: event.applicationID, anyGrant: true) else { return }
        for flow in flows where flow["is_enabled"]?.boolValue == true && flow["trigger_event"]?.stringValue == event.type
            && (flow.grantID == nil || flow.grantID == grantID) {
            let delay = (flow["delay"]?.intValue ?? 0) * 60
            let (flowID, region, booking) = (flow.id, event.region, event.object)
            s.schedule(at: s.now + .seconds(delay), "workflow \(flowID) \(event.type)") { core in
                try? core.transaction { s in try run(s, region: region, flowID: flowID, grantID: grantID, booking: booking) }
            }
        }
    }

    /// Sends the workflow's message to the booking's guests.
    static func run(_ s: EngineState, region: Region, flowID: String, grantID: String, booking: JSON) throws {
        let store = s.store(region)
        guard let flow = try store.platformObject(.workflow, id: flowID), flow["is_enabled"]?.boolValue == true,
              let grant = try store.grant(id: grantID),
              let template = try Templates.find(store, id: flow["template_id"]?.stringValue ?? "", applicationID: flow.applicationID, grantID: flow.grantID)
        else { return }
        // The booking's guests receive it; the template sees the booking's fields (`title`,
        // `start_time`, `participants`…) at the top level and the whole notification as `booking`.
        let info = booking["booking_info"] ?? [:]
        var recipients: [String] = []
        for p in info["participants"]?.arrayValue ?? [] {
            if let e = p["email"]?.stringValue, e.lowercased() != grant.email.lowercased() { recipients.append(e) }
        }
        guard !recipients.isEmpty else { return }
        let engine = template["engine"]?.stringValue ?? "mustache"
        var variables = info
        variables["booking"] = booking
        let subject = (try? Templates.render(template["subject"]?.stringValue ?? "", engine: engine, variables: variables, strict: false)) ?? ""
        let body = (try? Templates.render(template["body"]?.stringValue ?? "", engine: engine, variables: variables, strict: false)) ?? ""
        let from = Participant(name: flow["from"]?["name"]?.stringValue ?? grant.name ?? "", email: flow["from"]?["email"]?.stringValue ?? grant.email)
        try s.deliverExternalMail(from: from, to: Set(recipients).sorted().map { Participant(name: "", email: $0) }, subject: subject, body: body)
        var record = flow
        record["_sent"] = .int((flow["_sent"]?.intValue ?? 0) + recipients.count)
        try store.save(record)
    }
}

// MARK: - Signatures

/// Grant-level signatures, appended to a message's body on send or draft creation.
package enum Signatures {
    package static let maxPerGrant = 10
    package static let maxBodyBytes = 100 * 1024

    package static func create(_ s: EngineState, region: Region, scope: PlatformScope, _ body: BodyFields) throws -> PlatformObject {
        let name = try Fields.string(body, "name", required: true, max: 256, nonEmpty: true)!
        let html = try Fields.string(body, "body", required: true)!
        try checkBody(html)
        let store = s.store(region)
        guard try store.platformObjects(.signature, applicationID: scope.applicationID, grantID: scope.grantID).count < maxPerGrant else {
            throw NylasError.invalidRequest("A grant can have at most \(maxPerGrant) signatures")
        }
        let id = "sig_" + store.ids.base62("signature", length: 20)
        let now = s.now.seconds
        let data: JSON = ["id": .string(id), "grant_id": .optional(scope.grantID), "name": .string(name), "body": .string(sanitize(html)),
                          "object": "signature", "created_at": .int(now), "updated_at": .int(now)]
        let o = PlatformObject(kind: .signature, id: id, applicationID: scope.applicationID, grantID: scope.grantID, data: data, now: now)
        try store.save(o)
        return o
    }

    package static func update(_ s: EngineState, region: Region, _ existing: PlatformObject, _ body: BodyFields) throws -> PlatformObject {
        var o = existing
        if let name = try Fields.string(body, "name", max: 256, nonEmpty: true) { o["name"] = .string(name) }
        if let html = try Fields.string(body, "body") {
            try checkBody(html)
            o["body"] = .string(sanitize(html))
        }
        return try touch(s, region: region, o)
    }

    static func checkBody(_ html: String) throws(NylasError) {
        guard html.utf8.count <= maxBodyBytes else { throw NylasError.invalidValue("body", "must be at most 100 KB") }
        if html.range(of: "src=\"data:", options: .caseInsensitive) != nil || html.range(of: "src='data:", options: .caseInsensitive) != nil {
            throw NylasError.invalidValue("body", "inline base64 images are not supported: host images externally")
        }
    }

    /// Removes what a signature may not carry (scripts, event handlers), as Nylas sanitizes input.
    static func sanitize(_ html: String) -> String {
        var out = html
        while let start = out.range(of: "<script", options: .caseInsensitive) {
            let end = out.range(of: "</script>", options: .caseInsensitive, range: start.upperBound..<out.endIndex)
            out.removeSubrange(start.lowerBound..<(end?.upperBound ?? out.endIndex))
        }
        return out.replacingOccurrences(of: #"\son\w+\s*=\s*("[^"]*"|'[^']*')"#, with: "", options: [.regularExpression, .caseInsensitive])
    }

    /// The body with the signature `signatureID` of the grant appended after a line break.
    package static func append(_ store: RegionStore, grantID: String, signatureID: String, to body: String) throws -> String {
        guard let sig = try store.platformObject(.signature, id: signatureID), sig.grantID == grantID else {
            throw NylasError.notFound("Signature not found: \(signatureID)")
        }
        return body + "<br>" + (sig["body"]?.stringValue ?? "")
    }
}
