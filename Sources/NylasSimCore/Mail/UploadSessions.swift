import Foundation

/// Attachment upload sessions as a send or a draft uses them.
package enum UploadSessions {
    /// The file of a ready, unexpired session of `grantID`, or a 400 naming the attachment.
    package static func file(_ store: RegionStore, grantID: String, _ ref: UploadReference, now: Int) throws -> OutgoingMessage.File {
        let field = "attachments[\(ref.item)].id"
        guard let session = try store.uploadSession(grantID: grantID, id: ref.id) else {
            throw NylasError.invalidValue(field, "no attachment upload session \(ref.id) for this grant")
        }
        let status = session.status(now: now)
        guard status == "ready" else {
            throw NylasError.invalidValue(field, "attachment upload session \(ref.id) is \(status), not ready: complete it before sending")
        }
        guard let bytes = try store.uploadContent(id: ref.id) else {
            throw NylasError.invalidValue(field, "attachment upload session \(ref.id) has no uploaded file")
        }
        return OutgoingMessage.File(filename: session.filename, contentType: session.contentType, content: bytes,
                                    contentID: ref.contentID, isInline: ref.isInline ?? (ref.contentID != nil))
    }
}

/// An `{"id": "<attachment_id>"}` item of a send or draft body.
package struct UploadReference: Sendable {
    /// Its index in `attachments` (for error messages).
    package var item: Int
    /// Where its file goes among the message's files.
    package var position: Int
    package var id: String
    package var contentID: String?
    package var isInline: Bool?
}

extension OutgoingMessage {
    /// Replaces the `{"id": …}` attachments by the files of the grant's ready upload sessions.
    package mutating func resolveUploads(_ store: RegionStore, grantID: String, now: Int) throws {
        guard !uploads.isEmpty else { return }
        let resolved = try uploads.map { try UploadSessions.file(store, grantID: grantID, $0, now: now) }
        for (ref, file) in zip(uploads, resolved).reversed() {
            files.insert(file, at: min(ref.position, files.count))
        }
        uploads = []
    }
}
