import Foundation
import NylasSimCore

/// v2 folders and labels (§6.8): one table for both kinds; a Gmail account has labels, the others
/// folders, and the other kind answers 404.
package enum V2OrgUnitRoutes {
    package static func register(_ r: inout Router) {
        for kind in ["folders", "labels"] {
            r.add("GET", "/\(kind)", .v2, list(kind))
            r.add("GET", "/\(kind)/{id}", .v2, get(kind))
            r.add("POST", "/\(kind)", .v2, create(kind))
            r.add("PUT", "/\(kind)/{id}", .v2, rename(kind))
            r.add("DELETE", "/\(kind)/{id}", .v2, delete(kind))
        }
    }

    /// `GET /{folders|labels}`
    static func list(_ kind: String) -> RouteHandler {
        { ctx in
            let view = try ctx.query.v2View()
            return .json(try ctx.read { s, store in
                let account = try orgUnit(ctx, s, store, kind)
                let all = try store.folders(grantID: account.id).map { V2Render.category($0, account: account) }
                if view == "count" { return ["count": .int(all.count)] }
                if view == "ids" { return .strings(all.compactMap { $0["id"]?.stringValue }) }
                return .array(all)
            })
        }
    }

    /// `GET /{folders|labels}/{id}`
    static func get(_ kind: String) -> RouteHandler {
        { ctx in
            .json(try ctx.read { s, store in
                let account = try orgUnit(ctx, s, store, kind)
                guard let f = try store.folder(grantID: account.id, id: ctx.param("id")) else {
                    throw NylasError.notFound("Couldn't find \(kind.dropLast()) \(ctx.param("id"))")
                }
                return V2Render.category(f, account: account)
            })
        }
    }

    /// `POST /{folders|labels}`
    static func create(_ kind: String) -> RouteHandler {
        { ctx in
            let name = try ctx.body().requiredString("display_name")
            return .json(try ctx.write { s, store in
                let account = try orgUnit(ctx, s, store, kind)
                if try store.folders(grantID: account.id).contains(where: { $0.name == name }) {
                    throw NylasError.invalidRequest("A \(kind.dropLast()) named \(name) already exists")
                }
                let key = "folder-" + s.world.ids.base36("folder-key", length: 10)
                try s.world.addFolder(mailbox: account.email, key: key, name: name, parent: nil, time: s.now)
                try SyncEngine.syncFolders(s, region: ctx.region, grant: account, emit: true)
                try SyncEngine.mailboxChanged(s, mailbox: account.email)
                guard let f = try store.folder(grantID: account.id, worldKey: key) else { throw NylasError.internal("folder not synced") }
                return V2Render.category(f, account: account)
            })
        }
    }

    /// `PUT /{folders|labels}/{id}`
    static func rename(_ kind: String) -> RouteHandler {
        { ctx in
            let name = try ctx.body().requiredString("display_name")
            return .json(try ctx.write { s, store in
                let account = try orgUnit(ctx, s, store, kind)
                guard let f = try store.folder(grantID: account.id, id: ctx.param("id")) else {
                    throw NylasError.notFound("Couldn't find \(kind.dropLast()) \(ctx.param("id"))")
                }
                if f.systemFolder { throw NylasError.invalidRequest("Cannot modify a standard folder") }
                try s.world.renameFolder(mailbox: account.email, key: f.worldKey, name: name, time: s.now)
                try SyncEngine.syncFolders(s, region: ctx.region, grant: account, emit: true)
                try SyncEngine.mailboxChanged(s, mailbox: account.email)
                return V2Render.category(try store.folder(grantID: account.id, id: f.id) ?? f, account: account)
            })
        }
    }

    /// `DELETE /{folders|labels}/{id}`
    static func delete(_ kind: String) -> RouteHandler {
        { ctx in
            try ctx.write { s, store in
                let account = try orgUnit(ctx, s, store, kind)
                guard let f = try store.folder(grantID: account.id, id: ctx.param("id")) else {
                    throw NylasError.notFound("Couldn't find \(kind.dropLast()) \(ctx.param("id"))")
                }
                if f.systemFolder { throw NylasError.invalidRequest("Cannot modify a standard folder") }
                if try store.folderCounts(grantID: account.id, folderID: f.id).total > 0 {
                    throw NylasError.invalidRequest("Folder \(f.name) still holds messages and cannot be deleted")
                }
                try s.world.deleteFolder(mailbox: account.email, key: f.worldKey, time: s.now)
                try SyncEngine.syncFolders(s, region: ctx.region, grant: account, emit: true)
        }
        return .json([:])
        }
    }

    package static func orgUnit(_ ctx: RequestContext, _ s: EngineState, _ store: RegionStore, _ kind: String) throws -> GrantRecord {
        let (account, _) = try ctx.v2Account(s, store)
        let isLabel = account.kind == .google
        if kind == "folders", isLabel { throw NylasError.notFound("GMail accounts don't support folders") }
        if kind == "labels", !isLabel { throw NylasError.notFound("Non-GMail accounts don't support labels") }
        return account
    }
}
