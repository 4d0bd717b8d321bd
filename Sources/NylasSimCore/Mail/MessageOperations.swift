import Foundation

/// What a grant's user does to a message through the API, on the provider's copy first, whichever
/// API version asked: v2 and v3 differ in their shapes, not in these.
package enum MessageOperations {
    /// A change made through a grant: the provider first, then this grant's copy and event, then other grants.
    package static func change(_ s: EngineState, _ region: Region, _ grant: GrantRecord, _ m: MessageRecord, unread: Bool? = nil,
                       starred: Bool? = nil, folderKeys: [String]? = nil, metadata: [String: JSON]? = nil) throws -> MessageRecord {
        let store = s.store(region)
        try s.world.update(m.worldID, unread: unread, starred: starred, folders: folderKeys, time: s.now)
        var copy = m
        if let unread { copy.unread = unread }
        if let starred { copy.starred = starred }
        if let folderKeys {
            copy.folders = try folderKeys.compactMap { try store.folder(grantID: grant.id, worldKey: $0)?.id }
        }
        if let metadata { copy.metadata = metadata }
        copy.updatedAt = s.now.seconds
        try store.save(copy)
        let provider = ProviderKind(grant.provider)
        SyncEngine.emit(s, region, grant, "message.updated", copy.json(), provider.emailSource(provider.isPush ? .realtime : .incremental))
        try SyncEngine.mailboxChanged(s, mailbox: grant.email)
        return copy
    }

    /// The provider's folder keys of the grant's folder IDs a message is moved to: exactly one,
    /// except for Google's labels.
    package static func folderKeys(_ folderIDs: [String], grant: GrantRecord, store: RegionStore) throws -> [String] {
        if !ProviderKind(grant.provider).multipleFolders, folderIDs.count != 1 {
            throw NylasError.invalidValue("folders", "a \(grant.provider) message is in exactly one folder")
        }
        return try folderIDs.map { id throws -> String in
            guard let f = try store.folder(grantID: grant.id, id: id) else { throw NylasError.notFound("Folder not found: \(id)") }
            return f.worldKey
        }
    }

    /// Deletes a message: to the trash, or for good when `hard` or when it is in the trash already.
    package static func delete(_ s: EngineState, _ region: Region, _ grant: GrantRecord, _ m: MessageRecord, hard: Bool) throws {
        let store = s.store(region)
        let provider = ProviderKind(grant.provider)
        let source = provider.emailSource(provider.isPush ? .realtime : .incremental)
        let inTrash = try m.folders.contains { try store.folder(grantID: grant.id, id: $0)?.worldKey == ProviderKind.trash }
        if hard || inTrash {
            try s.world.delete(m.worldID, time: s.now)
            try store.deleteMessage(grantID: grant.id, id: m.id)
            SyncEngine.emit(s, region: region, grant: grant, type: "message.deleted",
                            object: ["id": .string(m.id), "grant_id": .string(grant.id), "object": "message"], source: source)
            try SyncEngine.mailboxChanged(s, mailbox: grant.email)
        } else {
            _ = try change(s, region, grant, m, folderKeys: [ProviderKind.trash])
        }
    }
}
