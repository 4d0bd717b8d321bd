import Foundation

/// A saved draft: the message it would send and the object the API shows for it.
package struct DraftRecord: Sendable {
    package var id: String
    package var out: OutgoingMessage
    package var json: JSON
    package var createdAt: Int
    /// The v2 draft version (0 for v3 drafts, which have none).
    package var version: Int { json["version"]?.intValue ?? 0 }
}

extension RegionStore {
    /// One draft of a grant, or nil.
    package func draft(grantID: String, id: String) throws -> DraftRecord? {
        guard let row = try db.first("SELECT * FROM drafts WHERE grant_id = ? AND id = ?", grantID, id) else { return nil }
        let data = row.json("data")
        return DraftRecord(id: id, out: OutgoingMessage(stored: data["message"] ?? .null), json: data["object"] ?? .null,
                           createdAt: row.int("created_at"))
    }

    /// The API objects of a grant's drafts, most recently updated first.
    package func draftObjects(grantID: String) throws -> [JSON] {
        try db.query("SELECT data FROM drafts WHERE grant_id = ? ORDER BY updated_at DESC, id DESC", grantID).compactMap {
            $0.json("data")["object"]
        }
    }

    /// The API objects of a thread's drafts, oldest first.
    package func draftObjects(grantID: String, threadID: String) throws -> [JSON] {
        try db.query("SELECT data FROM drafts WHERE grant_id = ? AND thread_id = ? ORDER BY created_at, id", grantID, threadID)
            .compactMap { $0.json("data")["object"] }
    }

    /// The API objects of a grant's drafts, oldest first.
    package func draftObjectsByCreation(grantID: String) throws -> [JSON] {
        try db.query("SELECT data FROM drafts WHERE grant_id = ? ORDER BY created_at, id", grantID).compactMap { $0.json("data")["object"] }
    }

    /// Creates or replaces a draft: the message it would send and the object the API shows.
    package func saveDraft(grantID: String, id: String, message: OutgoingMessage, object: JSON, createdAt: Int, now: Int) throws {
        try db.run("""
            INSERT INTO drafts(grant_id, id, data, created_at, updated_at, thread_id) VALUES(?,?,?,?,?,?)
            ON CONFLICT(grant_id, id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at, thread_id = excluded.thread_id
            """, grantID, id, JSON.object(["message": message.json, "object": object]), createdAt, now, object["thread_id"]?.stringValue)
    }

    package func deleteDraft(grantID: String, id: String) throws {
        try db.run("DELETE FROM drafts WHERE grant_id = ? AND id = ?", grantID, id)
    }
}
