import Foundation
import NylasSimCore

/// `/v3/grants/{grant_id}/folders` (§4.11) and `/attachments` (§4.12).
package enum V3FolderRoutes {
    package static let base = "/v3/grants/{grant_id}/folders"

    package static func register(_ r: inout Router) {
        r.add("GET", base, .v3, list)
        r.add("POST", base, .v3, create)
        r.add("GET", base + "/{folder_id}", .v3, get)
        r.add("PUT", base + "/{folder_id}", .v3, put)
        r.add("DELETE", base + "/{folder_id}", .v3, delete)

        // MARK: Attachments
        r.add("GET", "/v3/grants/{grant_id}/attachments/{attachment_id}", .v3, getAttachment)
        r.add("GET", "/v3/grants/{grant_id}/attachments/{attachment_id}/download", .v3, getDownload)
    }

    /// `GET base`
    @Sendable static func list(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.rejectV2Parameters()
        let limit = try ctx.limit(default: 50, max: 200)
        let offset = try ctx.query["page_token"].map { t throws(NylasError) -> Int in
            guard let n = Int(try PageToken.parse(t, count: 1)[0]) else { throw NylasError.invalidRequest("Invalid page_token") }
            return n
        } ?? 0
        let parent = ctx.query["parent_id"]
        // Microsoft `single_level=true`: one level of the tree (the top, or `parent_id`'s children).
        let singleLevel = try ctx.query.bool("single_level") ?? false
        let (items, next) = try ctx.read { s, store -> ([JSON], String?) in
            let grant = try ctx.dataGrant(s, store, mail: true)
            let folders = try store.folders(grantID: grant.id)
            let oneLevel = singleLevel && (grant.kind == .microsoft || grant.kind == .ews)
            let all = folders.filter { f in
                if let parent { return f.parentID == parent }
                return !oneLevel || f.parentID == nil
            }
            let page = Array(all.dropFirst(offset).prefix(limit))
            let items = try page.map { f -> JSON in
                let c = try store.folderCounts(grantID: grant.id, folderID: f.id)
                return ctx.selecting(f.json(provider: grant.provider, unread: c.unread, total: c.total,
                                            children: folders.filter { $0.parentID == f.id }.count))
            }
            return (items, offset + limit < all.count ? PageToken.make([String(offset + limit)]) : nil)
        }
        return ctx.list(items, nextCursor: next)
    }

    /// `POST base`
    @Sendable static func create(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let name = try body.requiredString("name")
        guard name.count <= 1024 else { throw NylasError.invalidValue("name", "at most 1024 characters") }
        let parentID = try body.string("parent_id")
        let colors = try colorFields(body)
        return ctx.data(try ctx.write { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            if try store.folders(grantID: grant.id).contains(where: { $0.name == name && $0.parentID == parentID }) {
                throw NylasError.conflict("A folder named \(name) already exists")
            }
            var parentKey: String?
            if let parentID {
                guard let p = try store.folder(grantID: grant.id, id: parentID) else { throw NylasError.notFound("Folder not found: \(parentID)") }
                parentKey = p.worldKey
            }
            let key = "folder-" + s.world.ids.base36("folder-key", length: 10)
            try s.world.addFolder(mailbox: grant.email, key: key, name: name, parent: parentKey, time: s.now)
            if grant.kind == .google, !colors.isEmpty { try s.world.setFolderColors(mailbox: grant.email, key: key, .object(colors), time: s.now) }
            try SyncEngine.syncFolders(s, region: ctx.region, grant: grant, emit: true)
            try SyncEngine.mailboxChanged(s, mailbox: grant.email)
            guard let f = try store.folder(grantID: grant.id, worldKey: key) else { throw NylasError.internal("folder not synced") }
            return f.json(provider: grant.provider, unread: 0, total: 0)
        })
    }

    /// `background_color` and `text_color` (Google labels): `#rrggbb`.
    static func colorFields(_ body: BodyFields) throws(NylasError) -> [String: JSON] {
        var out: [String: JSON] = [:]
        for key in ["background_color", "text_color"] {
            guard let c = try body.string(key) else { continue }
            guard c.count == 7, c.first == "#", c.dropFirst().allSatisfy(\.isHexDigit) else {
                throw NylasError.invalidValue(key, "expected a hex colour such as #ff0000")
            }
            out[key] = .string(c.lowercased())
        }
        return out
    }

    /// `GET base + "/{folder_id}"`
    @Sendable static func get(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            let (grant, f) = try folder(ctx, s, store)
            let c = try store.folderCounts(grantID: grant.id, folderID: f.id)
            let children = try store.folders(grantID: grant.id).filter { $0.parentID == f.id }.count
            return ctx.selecting(f.json(provider: grant.provider, unread: c.unread, total: c.total, children: children))
        })
    }

    /// `PUT base + "/{folder_id}"`
    @Sendable static func put(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        try body.rejectUnknown(["name", "parent_id", "text_color", "background_color"])
        let name = try body.string("name")
        let colors = try colorFields(body)
        return ctx.data(try ctx.write { s, store in
            let (grant, f) = try folder(ctx, s, store)
            if grant.kind == .google, !colors.isEmpty {
                try s.world.setFolderColors(mailbox: grant.email, key: f.worldKey, .object(colors), time: s.now)
                try SyncEngine.syncFolders(s, region: ctx.region, grant: grant, emit: true)
            }
            if let name, name != f.name {
                if f.systemFolder { throw NylasError.invalidRequest("System folder \(f.name) cannot be renamed") }
                try s.world.renameFolder(mailbox: grant.email, key: f.worldKey, name: name, time: s.now)
                try SyncEngine.syncFolders(s, region: ctx.region, grant: grant, emit: true)
                try SyncEngine.mailboxChanged(s, mailbox: grant.email)
            }
            let updated = try store.folder(grantID: grant.id, id: f.id) ?? f
            let c = try store.folderCounts(grantID: grant.id, folderID: f.id)
            let children = try store.folders(grantID: grant.id).filter { $0.parentID == f.id }.count
            return ctx.selecting(updated.json(provider: grant.provider, unread: c.unread, total: c.total, children: children))
        })
    }

    /// `DELETE base + "/{folder_id}"`
    @Sendable static func delete(_ ctx: RequestContext) async throws -> SimResponse {
        try ctx.write { s, store in
            let (grant, f) = try folder(ctx, s, store)
            if f.systemFolder { throw NylasError.invalidRequest("System folder \(f.name) cannot be deleted") }
            try s.world.deleteFolder(mailbox: grant.email, key: f.worldKey, time: s.now)
            try SyncEngine.syncFolders(s, region: ctx.region, grant: grant, emit: true)
            try SyncEngine.mailboxChanged(s, mailbox: grant.email)
        }
        return ctx.done()
    }

    /// `GET "/v3/grants/{grant_id}/attachments/{attachment_id}"`
    @Sendable static func getAttachment(_ ctx: RequestContext) async throws -> SimResponse {
        ctx.data(try ctx.read { s, store in
            ctx.selecting(MessageRecord.publicAttachment(try attachment(ctx, s, store).meta))
        })
    }

    /// `GET "/v3/grants/{grant_id}/attachments/{attachment_id}/download"`
    @Sendable static func getDownload(_ ctx: RequestContext) async throws -> SimResponse {
        let (meta, bytes) = try ctx.read { s, store -> (JSON, [UInt8]) in
            let a = try attachment(ctx, s, store)
            guard let wid = a.meta["wid"]?.intValue, let bytes = try s.world.attachmentContent(Int64(wid)) else {
                throw NylasError.notFound("Attachment content not found")
            }
            return (a.meta, bytes)
        }
        let filename = meta["filename"]?.stringValue ?? "attachment"
        let disposition = (meta["is_inline"]?.boolValue ?? false) ? "inline" : "attachment"
        return SimResponse(status: 200, headers: [
            // The description and the docs: a binary stream (application/octet-stream); the MIME
            // type is in the attachment's metadata.
            "Content-Type": "application/octet-stream",
            "Content-Length": String(bytes.count),
            "Content-Disposition": "\(disposition); filename=\"\(filename.replacingOccurrences(of: "\"", with: ""))\"",
        ], body: bytes)
    }

    package static func folder(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore) throws -> (GrantRecord, FolderRecord) {
        let grant = try ctx.dataGrant(s, store, mail: true)
        guard let f = try store.folder(grantID: grant.id, id: try ctx.objectID("folder_id", kind: "folder", grant: grant, store: store)) else {
            throw NylasError.notFound("Folder not found: \(ctx.param("folder_id"))")
        }
        return (grant, f)
    }

    package static func attachment(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore) throws -> (grant: GrantRecord, meta: JSON) {
        let grant = try ctx.dataGrant(s, store, mail: true)
        guard let messageID = ctx.query["message_id"], !messageID.isEmpty else { throw NylasError.missingField("message_id") }
        guard let m = try store.message(grantID: grant.id, id: messageID) else { throw NylasError.notFound("Message not found: \(messageID)") }
        guard let a = m.attachments.first(where: { $0["id"]?.stringValue == ctx.param("attachment_id") }) else {
            throw NylasError.notFound("Attachment not found: \(ctx.param("attachment_id"))")
        }
        return (grant, a)
    }
}
