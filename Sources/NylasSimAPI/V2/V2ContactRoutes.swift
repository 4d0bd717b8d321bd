import Foundation
import NylasSimCore

/// v2 contacts (v2 reference §6.7): list with the v2 filters, `offset` paging and views, get,
/// create, update, delete, the picture, and the contact groups.
package enum V2ContactRoutes {
    package static func register(_ r: inout Router) {
        r.add("GET", "/contacts/groups", .v2, groups)
        r.add("GET", "/contacts", .v2, list)
        r.add("POST", "/contacts", .v2, create)
        r.add("GET", "/contacts/{id}", .v2, get)
        r.add("PUT", "/contacts/{id}", .v2, update)
        r.add("DELETE", "/contacts/{id}", .v2, delete)
        r.add("GET", "/contacts/{id}/picture", .v2, picture)
    }

    package static func base(_ ctx: RequestContext) -> String {
        "https://" + (ctx.request.header("host") ?? "localhost")
    }

    package static func contact(_ store: RegionStore, _ account: GrantRecord, _ id: String) throws -> ContactRecord {
        guard let c = try store.contact(grantID: account.id, id: id) else { throw NylasError.notFound("Couldn't find contact \(id)") }
        return c
    }

    // MARK: - Input

    /// The v2 body as the shared `ContactInput`: read-only fields dropped, the typed lists kept
    /// with the v2 type names (`personal`, `business`, `gtalk`, …) as the provider holds them.
    package static func input(_ body: BodyFields) throws(NylasError) -> ContactInput {
        var rest = body.values
        for key in ["id", "object", "account_id", "job_status_id", "picture_url", "source"] { rest[key] = nil }
        var lists: [String: JSON] = [:]
        for (key, valueKey) in V2Render.contactListFields {
            guard let raw = rest.removeValue(forKey: key) else { continue }
            if raw.isNull { lists[key] = []; continue }
            guard case .array(let items) = raw else { throw NylasError.wrongType(key, expected: "array", got: raw) }
            var out: [JSON] = []
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item else { throw NylasError.wrongType("\(key)[\(i)]", expected: "object", got: item) }
                var clean: [String: JSON] = [:]
                for (k, v) in o where !v.isNull {
                    guard case .string = v else { throw NylasError.wrongType("\(key)[\(i)].\(k)", expected: "string", got: v) }
                    clean[k] = v
                }
                if let valueKey {
                    guard let value = clean[valueKey]?.stringValue, !value.isEmpty else { throw NylasError.missingField("\(key)[\(i)].\(valueKey)") }
                    if key == "emails", !EmailAddress.isValid(value) { throw NylasError.invalidRequest("Invalid email address: \(value)") }
                }
                out.append(.object(clean))
            }
            lists[key] = .array(out)
        }
        var input = try ContactInput(BodyFields(rest))
        for (k, v) in lists { input.fields[k] = v }
        return input
    }

    // MARK: - Routes

    package struct Filter {
        package var email: String?
        package var phone: String?
        package var street: String?
        package var postalCode: String?
        package var state: String?
        package var country: String?
        package var source: String?
        package var group: String?

        package init(_ q: QueryParameters) throws(NylasError) {
            email = q["email"]?.lowercased()
            phone = q["phone_number"].map(ContactRecord.normalizedPhone)
            street = q["street_address"]?.lowercased()
            postalCode = q["postal_code"]?.lowercased()
            state = q["state"]?.lowercased()
            country = q["country"]?.lowercased()
            source = q["source"]
            if let source, !["address_book", "inbox", "domain"].contains(source) {
                throw NylasError.invalidRequest("Invalid source \(source): expected address_book or inbox")
            }
            if phone?.isEmpty == true { throw NylasError.invalidRequest("Invalid phone_number: it has no digits") }
            group = q["group"]
            _ = try q.v2Bool("recurse")
        }

        package func keeps(_ c: ContactRecord) -> Bool {
            if let email, !c.emailsText.contains(" \(email) ") { return false }
            if let phone, !c.phonesText.contains(" \(phone) ") { return false }
            if let group, !c.groupsText.contains(" \(group) ") { return false }
            if let source, (c.data["source"]?.stringValue ?? "address_book") != source { return false }
            let addresses = c.data["physical_addresses"]?.arrayValue ?? []
            for (key, wanted) in [("street_address", street), ("postal_code", postalCode), ("state", state), ("country", country)] {
                guard let wanted else { continue }
                if !addresses.contains(where: { $0[key]?.stringValue?.lowercased() == wanted }) { return false }
            }
            return true
        }
    }

    @Sendable package static func list(_ ctx: RequestContext) async throws -> SimResponse {
        let (limit, offset) = try ctx.query.v2Paging()
        let view = try ctx.query.v2View(expanded: false)
        let filter = try Filter(ctx.query)
        let base = base(ctx)
        return .json(try ctx.v2CalendarRead { s, store, account in
            let all = try store.contacts(grantID: account.id).filter(filter.keeps)
            if view == "count" { return ["count": .int(all.count)] }
            let page = all.dropFirst(offset).prefix(limit)
            if view == "ids" { return .strings(page.map(\.id)) }
            let groups = try V2Render.contactGroups(store, account)
            return .array(page.map { V2Render.contact($0, account: account, groups: groups, base: base) })
        })
    }

    @Sendable package static func get(_ ctx: RequestContext) async throws -> SimResponse {
        let base = base(ctx)
        return .json(try ctx.v2CalendarRead { s, store, account in
            V2Render.contact(try contact(store, account, ctx.param("id")), account: account, groups: try V2Render.contactGroups(store, account), base: base)
        })
    }

    @Sendable package static func create(_ ctx: RequestContext) async throws -> SimResponse {
        let input = try input(try ctx.body())
        guard input.hasIdentity else {
            throw NylasError.invalidRequest("A contact needs a name, a company, an email address or a phone number")
        }
        let base = base(ctx)
        return .json(try ctx.v2CalendarWrite { s, store, account in
            var content: [String: JSON] = ["source": "address_book"]
            try input.apply(to: &content, store: store, grant: account)
            let created = try s.world.insertContact(mailbox: account.email, content: content, picture: nil, time: s.now)
            guard let record = try CalendarSync.applyContact(s, region: ctx.region, grant: account, created, kind: ctx.changeKind(account),
                                                             metadata: input.metadata ?? [:]) else {
                throw NylasError.internal("contact not synced")
            }
            try CalendarSync.worldChanged(s, mailbox: account.email)
            let job = try V2Jobs.record(s, store, account, action: "create_contact", object: "contact", objectID: record.id)
            return V2Render.contact(record, account: account, groups: try V2Render.contactGroups(store, account), base: base, jobStatusID: job)
        })
    }

    @Sendable package static func update(_ ctx: RequestContext) async throws -> SimResponse {
        let input = try input(try ctx.body())
        let base = base(ctx)
        return .json(try ctx.v2CalendarWrite { s, store, account in
            let record = try contact(store, account, ctx.param("id"))
            guard var w = try s.world.contact(id: record.worldID), !w.deleted else { throw NylasError.notFound("Couldn't find contact \(record.id)") }
            let before = w
            try input.apply(to: &w.content, store: store, grant: account)
            if w != before { try s.world.updateContact(w, time: s.now) }
            let updated = try CalendarSync.applyContact(s, region: ctx.region, grant: account, try s.world.contact(id: w.id)!,
                                                        kind: ctx.changeKind(account), metadata: input.metadata ?? record.metadata) ?? record
            if w != before { try CalendarSync.worldChanged(s, mailbox: account.email) }
            let job = try V2Jobs.record(s, store, account, action: "update_contact", object: "contact", objectID: record.id)
            return V2Render.contact(updated, account: account, groups: try V2Render.contactGroups(store, account), base: base, jobStatusID: job)
        })
    }

    @Sendable package static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        .json(try ctx.v2CalendarWrite { s, store, account in
            let record = try contact(store, account, ctx.param("id"))
            guard let w = try s.world.contact(id: record.worldID), !w.deleted else { throw NylasError.notFound("Couldn't find contact \(record.id)") }
            try s.world.deleteContact(w, time: s.now)
            try CalendarSync.applyContact(s, region: ctx.region, grant: account, try s.world.contact(id: w.id)!, kind: ctx.changeKind(account))
            try CalendarSync.worldChanged(s, mailbox: account.email)
            return ["job_status_id": .string(try V2Jobs.record(s, store, account, action: "delete_contact", object: "contact", objectID: record.id))]
        })
    }

    @Sendable package static func picture(_ ctx: RequestContext) async throws -> SimResponse {
        let bytes = try ctx.v2CalendarRead { s, store, account -> [UInt8] in
            let c = try contact(store, account, ctx.param("id"))
            guard c.data["picture_url"]?.stringValue != nil else { throw NylasError.notFound("Couldn't find a picture for contact \(c.id)") }
            return try s.world.contact(id: c.worldID)?.picture ?? ContactInput.placeholderPicture
        }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47]
        return SimResponse(status: 200, headers: ["Content-Type": bytes.starts(with: png) ? "image/png" : "image/jpeg",
                                                  "Content-Length": String(bytes.count)], body: bytes)
    }

    @Sendable package static func groups(_ ctx: RequestContext) async throws -> SimResponse {
        let (limit, offset) = try ctx.query.v2Paging()
        return .json(try ctx.v2CalendarRead { s, store, account in
            .array(try store.contactGroups(grantID: account.id).dropFirst(offset).prefix(limit).map { V2Render.contactGroup($0, account: account) })
        })
    }
}
