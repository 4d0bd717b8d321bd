import Foundation

/// v2 → v3 ID translation for a v3 application linked to a v2 application of the same region.
extension RegionStore {
    /// A page of the simulator's IDs of one kind for a grant (or v2 account), in the order they were minted.
    package func objectIDs(grantID: String, kind: String, createdAfter: Int? = nil, limit: Int, offset: Int) throws -> [String] {
        try db.query("SELECT id FROM object_ids WHERE grant_id = ? AND kind = ? AND created_at > ? ORDER BY rowid LIMIT ? OFFSET ?",
                     grantID, kind, createdAfter ?? Int.min, limit, offset).map { $0.string("id") }
    }

    /// The v3 ID, for `grant`, of the object a v2 account of the linked application knows as `v2ID`.
    package func v3ID(forV2 v2ID: String, kind: String, grant: GrantRecord) throws -> String? {
        guard let accountID = grant.accountID,
              let worldKey = try worldKey(grantID: accountID, kind: kind, id: v2ID) else { return nil }
        if let existing = try objectID(grantID: grant.id, kind: kind, worldKey: worldKey) { return existing }
        return nil
    }
}


extension RegionStore {
    /// Whether the grant still has the object `id` of `kind` (it was not deleted at the provider
    /// since, as far as the grant has synced).
    package func objectExists(grantID: String, kind: String, id: String) throws -> Bool {
        let sql: String
        switch kind {
        case "message": sql = "SELECT 1 AS x FROM messages WHERE grant_id = ? AND id = ?"
        case "thread": sql = "SELECT 1 AS x FROM messages WHERE grant_id = ? AND thread_id = ? LIMIT 1"
        case "folder": sql = "SELECT 1 AS x FROM folders WHERE grant_id = ? AND id = ?"
        case "draft": sql = "SELECT 1 AS x FROM drafts WHERE grant_id = ? AND id = ?"
        case "event": sql = "SELECT 1 AS x FROM events WHERE grant_id = ? AND id = ?"
        case "calendar": sql = "SELECT 1 AS x FROM calendars WHERE grant_id = ? AND id = ?"
        case "contact": sql = "SELECT 1 AS x FROM contacts WHERE grant_id = ? AND id = ?"
        case "contact_group": sql = "SELECT 1 AS x FROM contact_groups WHERE grant_id = ? AND id = ?"
        default: return true
        }
        return try db.first(sql, grantID, id) != nil
    }
}
