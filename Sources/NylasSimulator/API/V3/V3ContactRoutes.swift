import Foundation

/// `/v3/grants/{grant_id}/contacts` (reference §4.15): list with filters (`email`, `phone_number`,
/// `source`, `group`, `recurse`, `metadata_pair`), get (with `profile_picture=true` the picture as
/// base64), create (notified as `contact.updated`: v3 has no `contact.created`), update, delete,
/// and the contact groups.
enum V3ContactRoutes {
    static let base = "/v3/grants/{grant_id}/contacts"

    static func register(_ r: inout Router) {
        r.add("GET", base + "/groups", .v3, groups)
        r.add("GET", base, .v3, list)
        r.add("POST", base, .v3, create)
        r.add("GET", base + "/{contact_id}", .v3, get)
        r.add("PUT", base + "/{contact_id}", .v3, update)
        r.add("PATCH", base + "/{contact_id}", .v3, update)
        r.add("DELETE", base + "/{contact_id}", .v3, delete)
    }

    static let sources: Set<String> = ["address_book", "domain", "inbox"]

    @Sendable static func list(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.rejectV2Parameters()
        let q = ctx.query
        let limit = try ctx.limit(default: 30, max: 200)
        let after = try q["page_token"].map { t throws(NylasError) in try PageToken.parse(t, count: 1)[0] }
        let sourceList = q.list("source")
        if let bad = sourceList.first(where: { !sources.contains($0) }) {
            throw NylasError.invalidValue("source", "'\(bad)' is not one of address_book, domain, inbox")
        }
        let wanted = sourceList.isEmpty ? ["address_book"] : sourceList
        _ = try q.bool("recurse")
        let pairs = try CalendarAccess.metadataPairs(q)
        let (items, next) = try ctx.calendarRead { s, store -> ([JSON], String?) in
            let grant = try ctx.dataGrant(s, store)
            var f = SQLFilter()
            f.add("grant_id = ?", grant.id)
            if let email = q["email"] { f.add("emails LIKE ? ESCAPE '\\'", "% " + V3MessageRoutes.likeEscape(email.lowercased()) + " %") }
            if let phone = q["phone_number"] {
                let digits = ContactRecord.normalizedPhone(phone)
                guard !digits.isEmpty else { throw NylasError.invalidValue("phone_number", "'\(phone)' has no digits") }
                f.add("phones LIKE ?", "% \(digits) %")
            }
            if let group = q["group"] { f.add("groups LIKE ? ESCAPE '\\'", "% " + V3MessageRoutes.likeEscape(group) + " %") }
            f.clauses.append("source IN (" + wanted.map { _ in "?" }.joined(separator: ",") + ")")
            f.binds.append(contentsOf: wanted as [any SQLBindable])
            if let after { f.add("id > ?", after) }
            var records = try store.db.query("SELECT * FROM contacts WHERE \(f.sql) ORDER BY id", f.binds).map(ContactRecord.init)
            if !pairs.isEmpty { records = records.filter { CalendarAccess.matches($0.metadata, pairs) } }
            let page = records.prefix(limit)
            let next = records.count > limit ? page.last.map { PageToken.make([$0.id]) } : nil
            return (page.map { ctx.selecting($0.data) }, next)
        }
        return ctx.list(items, nextCursor: next)
    }

    static func contact(_ ctx: RequestContext, _ store: RegionStore, _ grant: GrantRecord) throws -> ContactRecord {
        guard let c = try store.contact(grantID: grant.id, id: ctx.param("contact_id")) else {
            throw NylasError.notFound("Contact not found: \(ctx.param("contact_id"))")
        }
        return c
    }

    @Sendable static func get(_ ctx: RequestContext) async throws -> SimResponse {
        let withPicture = try ctx.query.bool("profile_picture") ?? false
        return ctx.data(try ctx.calendarRead { s, store in
            let grant = try ctx.dataGrant(s, store)
            let c = try contact(ctx, store, grant)
            var o = c.data
            if withPicture, o["picture_url"]?.stringValue != nil {
                let bytes = try s.world.contact(id: c.worldID)?.picture ?? ContactInput.placeholderPicture
                o["picture"] = .string(Data(bytes).base64EncodedString())
            }
            return ctx.selecting(o)
        })
    }

    @Sendable static func create(_ ctx: RequestContext) async throws -> SimResponse {
        let input = try ContactInput(try ctx.body())
        guard input.hasIdentity else {
            throw NylasError.invalidRequest("A contact needs a name, a company, an email address or a phone number")
        }
        return ctx.data(try ctx.calendarWrite { s, store in
            let grant = try ctx.dataGrant(s, store)
            var content: [String: JSON] = ["source": "address_book"]
            try input.apply(to: &content, store: store, grant: grant)
            let created = try s.world.insertContact(mailbox: grant.email, content: content, picture: nil, time: s.now)
            var w = created
            if let picture = input.picture {
                w.picture = picture
                if w.content["picture_url"]?.stringValue == nil { w.content["picture_url"] = .string(ContactInput.pictureURL(grant, created.id)) }
                try s.world.updateContact(w, time: s.now)
            }
            guard let record = try CalendarSync.applyContact(s, region: ctx.region, grant: grant, try s.world.contact(id: w.id)!,
                                                             kind: ctx.changeKind(grant), metadata: input.metadata ?? [:]) else {
                throw NylasError.internal("contact not synced")
            }
            try CalendarSync.worldChanged(s, mailbox: grant.email)
            return ctx.selecting(record.data)
        })
    }

    @Sendable static func update(_ ctx: RequestContext) async throws -> SimResponse {
        let input = try ContactInput(try ctx.body())
        return ctx.data(try ctx.calendarWrite { s, store in
            let grant = try ctx.dataGrant(s, store)
            let record = try contact(ctx, store, grant)
            guard var w = try s.world.contact(id: record.worldID), !w.deleted else {
                throw NylasError.notFound("Contact not found: \(record.id)")
            }
            let before = w
            try input.apply(to: &w.content, store: store, grant: grant)
            if let picture = input.picture {
                w.picture = picture
                if w.content["picture_url"]?.stringValue == nil { w.content["picture_url"] = .string(ContactInput.pictureURL(grant, w.id)) }
            }
            if w != before { try s.world.updateContact(w, time: s.now) }
            let updated = try CalendarSync.applyContact(s, region: ctx.region, grant: grant, try s.world.contact(id: w.id)!,
                                                        kind: ctx.changeKind(grant), metadata: input.metadata ?? record.metadata) ?? record
            if w != before { try CalendarSync.worldChanged(s, mailbox: grant.email) }
            return ctx.selecting(updated.data)
        })
    }

    @Sendable static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.calendarWrite { s, store in
            let grant = try ctx.dataGrant(s, store)
            let record = try contact(ctx, store, grant)
            guard let w = try s.world.contact(id: record.worldID), !w.deleted else { throw NylasError.notFound("Contact not found: \(record.id)") }
            try s.world.deleteContact(w, time: s.now)
            try CalendarSync.applyContact(s, region: ctx.region, grant: grant, try s.world.contact(id: w.id)!, kind: ctx.changeKind(grant))
            try CalendarSync.worldChanged(s, mailbox: grant.email)
        }
        return ctx.done()
    }

    @Sendable static func groups(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.rejectV2Parameters()
        let limit = try ctx.limit(default: 50, max: 200)
        let offset = try CalendarAccess.offset(ctx)
        let (items, next) = try ctx.calendarRead { s, store -> ([JSON], String?) in
            let grant = try ctx.dataGrant(s, store)
            if grant.provider == "ews" { throw NylasError.invalidRequest("Contact groups are not available for EWS grants") }
            let all = try store.contactGroups(grantID: grant.id)
            let page = all.dropFirst(offset).prefix(limit)
            return (page.map { ctx.selecting($0.data) }, offset + limit < all.count ? PageToken.make([String(offset + limit)]) : nil)
        }
        return ctx.list(items, nextCursor: next)
    }
}

/// The fields of a contact create or update request, checked before anything changes.
struct ContactInput {
    /// Top-level fields given (nil clears one).
    var fields: [String: JSON] = [:]
    var groupIDs: [String]?
    var metadata: [String: JSON]?
    var picture: [UInt8]?

    static let stringFields: [(String, Int)] = [
        ("given_name", 256), ("middle_name", 256), ("surname", 256), ("suffix", 64), ("nickname", 256), ("display_name", 512),
        ("company_name", 512), ("job_title", 512), ("manager_name", 512), ("notes", 65536), ("office_location", 512),
        ("picture_url", 2048),
    ]

    /// Each list field: its required key and the allowed `type` values (nil: any).
    static let listFields: [(String, String, Set<String>?)] = [
        ("emails", "email", ["work", "home", "other"]),
        ("phone_numbers", "number", ["work", "home", "mobile", "other", "business", "pager", "fax", "main", "assistant"]),
        ("physical_addresses", "type", ["work", "home", "other"]),
        ("web_pages", "url", ["work", "home", "other", "profile", "blog", "homepage"]),
        ("im_addresses", "im_address", nil),
    ]

    static let placeholderPicture: [UInt8] = Array(Data(base64Encoded:
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")!)

    static func pictureURL(_ grant: GrantRecord, _ worldID: Int64) -> String {
        "https://contacts.nylas-sim.local/\(grant.provider)/photos/\(worldID).png"
    }

    var hasIdentity: Bool {
        ["given_name", "surname", "nickname", "display_name", "company_name", "middle_name"].contains { fields[$0]?.stringValue?.isEmpty == false }
            || !(fields["emails"]?.arrayValue ?? []).isEmpty || !(fields["phone_numbers"]?.arrayValue ?? []).isEmpty
    }

    init(_ body: BodyFields) throws(NylasError) {
        for (key, max) in ContactInput.stringFields where body.has(key) {
            let v = try body.string(key)
            if let v, v.count > max { throw NylasError.invalidValue(key, "at most \(max) characters") }
            fields[key] = .optional(v)
        }
        if body.has("birthday") {
            let b = try body.string("birthday")
            if let b, CivilDate(b) == nil { throw NylasError.invalidValue("birthday", "'\(b)' is not a date in the YYYY-MM-DD format") }
            fields["birthday"] = .optional(b)
        }
        if let source = try body.string("source") {
            guard V3ContactRoutes.sources.contains(source) else { throw NylasError.invalidValue("source", "expected address_book, domain or inbox") }
            fields["source"] = .string(source)
        }
        for (key, required, types) in ContactInput.listFields where body.has(key) {
            let items = try body.array(key) ?? []
            var out: [JSON] = []
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item else { throw NylasError.wrongType("\(key)[\(i)]", expected: "object", got: item) }
                let f = BodyFields(o)
                let value = try f.string(required, required: true)!
                if key == "emails", !EmailAddress.isValid(value) {
                    throw NylasError.invalidValue("\(key)[\(i)].email", "'\(value)' is not an email address")
                }
                if let type = try f.string("type"), let types, !types.contains(type) {
                    throw NylasError.invalidValue("\(key)[\(i)].type", "'\(type)' is not one of \(types.sorted().joined(separator: ", "))")
                }
                var clean: [String: JSON] = [:]
                for (k, v) in o where !v.isNull {
                    guard case .string = v else { throw NylasError.wrongType("\(key)[\(i)].\(k)", expected: "string", got: v) }
                    clean[k] = v
                }
                out.append(.object(clean))
            }
            fields[key] = .array(out)
        }
        if body.has("groups") {
            var ids: [String] = []
            for (i, item) in (try body.array("groups") ?? []).enumerated() {
                guard case .object(let o) = item else { throw NylasError.wrongType("groups[\(i)]", expected: "object", got: item) }
                ids.append(try BodyFields(o).string("id", required: true)!)
            }
            groupIDs = ids
        }
        metadata = try CalendarAccess.metadata(body)
        if let p = try body.string("picture") {
            guard let data = Data(base64Encoded: p, options: .ignoreUnknownCharacters), !data.isEmpty else {
                throw NylasError.invalidValue("picture", "not base64-encoded image data")
            }
            picture = Array(data)
        }
    }

    /// Applies the request to a stored contact (group IDs become the mailbox's group keys).
    func apply(to content: inout [String: JSON], store: RegionStore, grant: GrantRecord) throws {
        for (k, v) in fields { content[k] = v.isNull ? nil : v }
        if let groupIDs {
            let known = try store.contactGroups(grantID: grant.id)
            content["groups"] = .array(try groupIDs.map { id throws -> JSON in
                guard let g = known.first(where: { $0.id == id }) else { throw NylasError.invalidValue("groups", "no contact group \(id)") }
                return ["id": .string(g.worldKey)]
            })
        }
    }
}
