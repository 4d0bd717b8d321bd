import Foundation
import NylasSimCore

/// `/v3/grants/{grant_id}/contacts` (reference §4.15): list with filters (`email`, `phone_number`,
/// `source`, `group`, `recurse`, `metadata_pair`), get (with `profile_picture=true` the picture as
/// base64), create (notified as `contact.updated`: v3 has no `contact.created`), update, delete,
/// and the contact groups.
package enum V3ContactRoutes {
    package static let base = "/v3/grants/{grant_id}/contacts"

    package static func register(_ r: inout Router) {
        r.add("GET", base + "/groups", .v3, groups)
        r.add("GET", base, .v3, list)
        r.add("POST", base, .v3, create)
        r.add("GET", base + "/{contact_id}", .v3, get)
        r.add("PUT", base + "/{contact_id}", .v3, update)
        r.add("PATCH", base + "/{contact_id}", .v3, update)
        r.add("DELETE", base + "/{contact_id}", .v3, delete)
    }

    @Sendable package static func list(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.rejectV2Parameters()
        let q = ctx.query
        let limit = try ctx.limit(default: 30, max: 200)
        let after = try q["page_token"].map { t throws(NylasError) in try PageToken.parse(t, count: 1)[0] }
        let sourceList = try q.list("source", max: InputLimits.filterValues)
        if let bad = sourceList.first(where: { !ContactInput.sources.contains($0) }) {
            throw NylasError.invalidValue("source", "'\(bad)' is not one of address_book, domain, inbox")
        }
        let wanted = sourceList.isEmpty ? ["address_book"] : sourceList
        _ = try q.bool("recurse")
        let pairs = try CalendarAccess.metadataPairs(q)
        let (items, next) = try ctx.calendarRead { s, store -> ([JSON], String?) in
            let grant = try ctx.dataGrant(s, store)
            var filter = ContactFilter(sources: wanted)
            filter.email = q["email"]?.lowercased()
            if let phone = q["phone_number"] {
                let digits = ContactRecord.normalizedPhone(phone)
                guard !digits.isEmpty else { throw NylasError.invalidValue("phone_number", "'\(phone)' has no digits") }
                filter.phoneDigits = digits
            }
            filter.group = q["group"]
            var records = try store.contacts(grantID: grant.id, matching: filter, after: after)
            if !pairs.isEmpty { records = records.filter { CalendarAccess.matches($0.metadata, pairs) } }
            let page = records.prefix(limit)
            let next = records.count > limit ? page.last.map { PageToken.make([$0.id]) } : nil
            return (page.map { ctx.selecting($0.data) }, next)
        }
        return ctx.list(items, nextCursor: next)
    }

    package static func contact(_ ctx: RequestContext, _ store: RegionStore, _ grant: GrantRecord) throws -> ContactRecord {
        guard let c = try store.contact(grantID: grant.id, id: try ctx.objectID("contact_id", kind: "contact", grant: grant, store: store)) else {
            throw NylasError.notFound("Contact not found: \(ctx.param("contact_id"))")
        }
        return c
    }

    @Sendable package static func get(_ ctx: RequestContext) async throws -> SimResponse {
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

    @Sendable package static func create(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        // The description marks `given_name` required on create (reference §4.14, v3 l. 408).
        guard let given = try body.string("given_name"), !given.trimmingWhitespaces().isEmpty else { throw NylasError.missingField("given_name") }
        let input = try ContactInput(body)
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
                if w.content["picture_url"]?.stringValue == nil { w.content["picture_url"] = .string(ContactInput.pictureURL(grant.provider, &s.world.ids)) }
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

    @Sendable package static func update(_ ctx: RequestContext) async throws -> SimResponse {
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
                if w.content["picture_url"]?.stringValue == nil { w.content["picture_url"] = .string(ContactInput.pictureURL(grant.provider, &s.world.ids)) }
            }
            if w != before { try s.world.updateContact(w, time: s.now) }
            let updated = try CalendarSync.applyContact(s, region: ctx.region, grant: grant, try s.world.contact(id: w.id)!,
                                                        kind: ctx.changeKind(grant), metadata: input.metadata ?? record.metadata) ?? record
            if w != before { try CalendarSync.worldChanged(s, mailbox: grant.email) }
            return ctx.selecting(updated.data)
        })
    }

    @Sendable package static func delete(_ ctx: RequestContext) async throws -> SimResponse {
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

    @Sendable package static func groups(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.rejectV2Parameters()
        let limit = try ctx.limit(default: 50, max: 200)
        let offset = try ctx.pageOffset()
        let (items, next) = try ctx.calendarRead { s, store -> ([JSON], String?) in
            let grant = try ctx.dataGrant(s, store)
            if grant.kind == .ews { throw NylasError.invalidRequest("Contact groups are not available for EWS grants") }
            let all = try store.contactGroups(grantID: grant.id)
            let page = all.dropFirst(offset).prefix(limit)
            return (page.map { ctx.selecting($0.data) }, offset + limit < all.count ? PageToken.make([String(offset + limit)]) : nil)
        }
        return ctx.list(items, nextCursor: next)
    }
}
