import Foundation

/// An attachment upload session (a Microsoft grant's large file, PUT to a pre-signed URL).
package struct UploadSession: Sendable {
    package var id: String
    package var grantID: String
    package var filename: String
    package var contentType: String
    package var declaredSize: Int
    package var status: String
    package var secret: String
    package var uploadedSize: Int?
    package var createdAt: Int
    package var expiresAt: Int

    package init(_ row: SQLRow) {
        id = row.string("id")
        grantID = row.string("grant_id")
        filename = row.string("filename")
        contentType = row.string("content_type")
        declaredSize = row.int("declared_size")
        status = row.string("status")
        secret = row.string("secret")
        uploadedSize = row.optionalInt("uploaded_size")
        createdAt = row.int("created_at")
        expiresAt = row.int("expires_at")
    }

    /// The status as of `now`: past `expires_at` every session but a failed one is expired.
    package func status(now: Int) -> String {
        status != "failed" && now >= expiresAt ? "expired" : status
    }

    /// Hex HMAC-SHA256 of the upload target, keyed with the session's own secret.
    package var signature: String {
        Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), Array("PUT\n/__sim/uploads/\(id)\n\(expiresAt)".utf8)))
    }
}

extension RegionStore {
    /// Sessions are read without their bytes; `length(content)` says how many arrived.
    private static let uploadColumns =
        "id, grant_id, filename, content_type, declared_size, status, secret, length(content) AS uploaded_size, created_at, expires_at"

    package func uploadSession(id: String) throws -> UploadSession? {
        try db.first("SELECT \(Self.uploadColumns) FROM attachment_uploads WHERE id = ?", id).map(UploadSession.init)
    }

    package func uploadSession(grantID: String, id: String) throws -> UploadSession? {
        try db.first("SELECT \(Self.uploadColumns) FROM attachment_uploads WHERE grant_id = ? AND id = ?", grantID, id).map(UploadSession.init)
    }

    /// The storage clean-up: bytes of sessions past their expiry are dropped.
    package func expireUploadSessions(now: Int) throws {
        try db.run("UPDATE attachment_uploads SET status = 'expired', content = NULL, updated_at = ? WHERE expires_at <= ? AND status IN ('uploading', 'ready')",
                   now, now)
    }

    package func insertUploadSession(id: String, grantID: String, filename: String, contentType: String, declaredSize: Int,
                             secret: String, now: Int, expiresAt: Int) throws {
        try db.run("""
            INSERT INTO attachment_uploads(id, grant_id, filename, content_type, declared_size, status, secret, content,
                created_at, expires_at, updated_at) VALUES(?,?,?,?,?,'uploading',?,NULL,?,?,?)
            """, id, grantID, filename, contentType, declaredSize, secret, now, expiresAt, now)
    }

    package func setUploadContent(id: String, _ bytes: [UInt8], now: Int) throws {
        try db.run("UPDATE attachment_uploads SET content = ?, updated_at = ? WHERE id = ?", SQLValue.blob(bytes), now, id)
    }

    /// `ready` or `failed`.
    package func setUploadStatus(id: String, _ status: String, now: Int) throws {
        try db.run("UPDATE attachment_uploads SET status = ?, updated_at = ? WHERE id = ?", status, now, id)
    }

    /// The uploaded bytes of a session, if any arrived.
    package func uploadContent(id: String) throws -> [UInt8]? {
        try db.first("SELECT content FROM attachment_uploads WHERE id = ?", id)?["content"].blob
    }
}
