import Foundation
import NylasSimCore

/// `/v3/grants/{grant_id}/attachment-uploads` (§4.12): upload sessions for large attachments
/// (Microsoft grants only). A session's pre-signed `url` points back at this listener,
/// `PUT /__sim/uploads/{attachment_id}?signature=…`, where the raw bytes go with no
/// `Authorization` header (the HMAC signature is the authorization, as with a storage URL).
/// `complete` verifies the upload; a ready session is then sent or saved in a draft as
/// `attachments: [{"id": "<attachment_id>"}]`. Expiry (one hour) runs on the virtual clock.
///
/// Statuses: `uploading` → `ready` (complete) or `failed` (complete found a size mismatch);
/// any session not `failed` reads as `expired` once the virtual clock reaches `expires_at`.
/// Refused requests change nothing, except that a size mismatch at `complete` fails the session.
package enum V3UploadRoutes {
    package static let base = "/v3/grants/{grant_id}/attachment-uploads"
    /// 150 MB, the documented maximum.
    package static let maxSize = 157_286_400
    package static let lifetime = 3600

    package static func register(_ r: inout Router) {
        r.add("POST", base, .v3, create)
        r.add("POST", base + "/{attachment_id}/complete", .v3, complete)
        // The pre-signed URL: surface v3 (the JSON error envelope, no control token), not under /v3/.
        r.add("PUT", "/__sim/uploads/{attachment_id}", .v3, upload)
    }

    // MARK: Sessions

    /// RFC 3339 in UTC, whole seconds: `2026-04-22T19:00:00Z`.
    package static func rfc3339(_ seconds: Int) -> String {
        String(DateText.iso8601(milliseconds: Int64(seconds) * 1000).dropLast(5)) + "Z"
    }

    /// The scheme and authority the client reached this listener by.
    package static func origin(_ ctx: RequestContext) -> String {
        let listener = ctx.core.baseURLs.withLock { $0[ctx.region] }
        let scheme = listener?.hasPrefix("https:") == true ? "https" : "http"
        if let host = ctx.request.header("host"), !host.isEmpty { return "\(scheme)://\(host)" }
        return listener ?? "http://127.0.0.1"
    }

    // MARK: Create

    @Sendable package static func create(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let origin = origin(ctx)
        let data: JSON = try ctx.write { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            guard grant.kind == .microsoft else {
                throw NylasError.unauthorized("Attachment upload sessions are available only for Microsoft grants; this is a \(grant.provider) grant. Send attachments of other providers inline (JSON up to 3 MB, multipart up to 25 MB).")
            }
            let filename = try body.requiredString("filename")
            let contentType = try body.requiredString("content_type")
            var size = 0
            if let v = body.raw("size") {
                guard let n = v.intValue, v.doubleValue == Double(n) else { throw NylasError.wrongType("size", expected: "integer", got: v) }
                guard n > 0 else { throw NylasError.invalidValue("size", "must be a positive number of bytes, got \(n)") }
                guard n <= maxSize else {
                    throw NylasError.invalidValue("size", "file_size exceeds maximum allowed size of \(maxSize) bytes")
                }
                size = n
            }
            let now = s.now.seconds
            try store.expireUploadSessions(now: now)
            let id = store.ids.uuid("attachment-upload")
            let secret = store.ids.base36("attachment-upload-secret", length: 32)
            try store.insertUploadSession(id: id, grantID: grant.id, filename: filename, contentType: contentType, declaredSize: size,
                                          secret: secret, now: now, expiresAt: now + lifetime)
            guard let session = try store.uploadSession(id: id) else { throw NylasError.internal("The upload session was not stored") }
            return [
                "attachment_id": .string(id), "method": "PUT",
                "url": .string("\(origin)/__sim/uploads/\(id)?signature=\(session.signature)"),
                "headers": .object([:]), "expires_at": .string(rfc3339(session.expiresAt)), "max_size": .int(maxSize),
                "size": .int(size), "content_type": .string(contentType), "filename": .string(filename), "grant_id": .string(grant.id),
            ]
        }
        return ctx.data(data, status: 201)
    }

    // MARK: Upload (the pre-signed URL)

    @Sendable package static func upload(_ ctx: RequestContext) async throws -> SimResponse {
        let id = ctx.param("attachment_id")
        let bytes = ctx.request.body
        let out: JSON = try ctx.write { s, store in
            guard let session = try store.uploadSession(id: id) else { throw NylasError.notFound("Upload session not found: \(id)") }
            guard let given = ctx.query["signature"], given.lowercased() == session.signature else {
                throw NylasError.forbidden("The upload URL's signature is missing or does not match this upload session")
            }
            switch session.status(now: s.now.seconds) {
            case "expired":
                throw NylasError(status: 410, type: "invalid_request_error", message: "upload session has expired")
            case "ready":
                throw NylasError(status: 409, type: "invalid_request_error", message: "upload session is already complete")
            case "failed":
                throw NylasError(status: 409, type: "invalid_request_error", message: "upload session has failed")
            default: break
            }
            guard bytes.count <= maxSize else {
                throw NylasError(status: 413, type: "invalid_request_error",
                                 message: "The upload is \(bytes.count) bytes: the maximum is \(maxSize) bytes")
            }
            try store.setUploadContent(id: id, bytes, now: s.now.seconds)
            return ["attachment_id": .string(id), "size": .int(bytes.count), "status": "uploading"]
        }
        return .json(out)
    }

    // MARK: Complete

    @Sendable package static func complete(_ ctx: RequestContext) async throws -> SimResponse {
        _ = try ctx.body(allowEmpty: true)
        let id = ctx.param("attachment_id")
        let result: Result<JSON, NylasError> = try ctx.write { s, store in
            let grant = try ctx.dataGrant(s, store, mail: true)
            guard let session = try store.uploadSession(grantID: grant.id, id: id) else {
                throw NylasError(status: 404, type: "not_found_error", message: "Upload session not found: \(id)")
            }
            switch session.status(now: s.now.seconds) {
            case "ready":
                throw NylasError(status: 409, type: "invalid_request_error", message: "upload session is already complete")
            case "failed":
                throw NylasError(status: 409, type: "invalid_request_error", message: "upload session has failed")
            case "expired":
                throw NylasError(status: 410, type: "invalid_request_error", message: "upload session has expired")
            default: break
            }
            guard let uploaded = session.uploadedSize else {
                throw NylasError(status: 422, type: "invalid_request_error",
                                 message: "uploaded object not found in storage: PUT the file to the session's url first")
            }
            let mismatch: String?
            if session.declaredSize > 0, uploaded != session.declaredSize {
                mismatch = "uploaded size \(uploaded) does not match the declared size \(session.declaredSize)"
            } else if session.declaredSize == 0, uploaded == 0 {
                mismatch = "uploaded object is empty"
            } else {
                mismatch = nil
            }
            if let mismatch {
                // Verification failed: the session is failed for good (a later complete answers 409).
                try store.setUploadStatus(id: id, "failed", now: s.now.seconds)
                return .failure(NylasError(status: 422, type: "invalid_request_error", message: mismatch))
            }
            try store.setUploadStatus(id: id, "ready", now: s.now.seconds)
            return .success(["attachment_id": .string(id), "grant_id": .string(grant.id), "status": "ready"])
        }
        return ctx.data(try result.get())
    }

}
