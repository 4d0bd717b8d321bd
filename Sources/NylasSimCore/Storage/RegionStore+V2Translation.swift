import Foundation

/// v2 → v3 ID translation for a v3 application linked to a v2 application of the same region.
extension RegionStore {
    /// A page of the simulator's IDs of one kind for a grant (or v2 account), in the order they were minted.
    package func objectIDs(grantID: String, kind: String, limit: Int, offset: Int) throws -> [String] {
        try db.query("SELECT id FROM object_ids WHERE grant_id = ? AND kind = ? ORDER BY rowid LIMIT ? OFFSET ?",
                     grantID, kind, limit, offset).map { $0.string("id") }
    }

    /// The v3 ID, for `grant`, of the object a v2 account of the linked application knows as `v2ID`.
    package func v3ID(forV2 v2ID: String, kind: String, grant: GrantRecord) throws -> String? {
        guard let accountID = grant.accountID,
              let worldKey = try worldKey(grantID: accountID, kind: kind, id: v2ID) else { return nil }
        if let existing = try objectID(grantID: grant.id, kind: kind, worldKey: worldKey) { return existing }
        return nil
    }
}

