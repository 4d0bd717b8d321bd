import Foundation
import NylasSimCore

extension RequestContext {
    /// The message of a v3 send or draft: a JSON body, or multipart/form-data with a `message`
    /// (or `draft`) part and file parts; upload-session attachments resolved for the grant.
    package func v3OutgoingMessage(allowEmpty: Bool = false) throws(NylasError) -> OutgoingMessage {
        if request.header("content-type")?.lowercased().hasPrefix("multipart/") == true {
            let form = try MultipartForm(request)
            guard let json = form.part("message") ?? form.part("draft") else {
                throw NylasError.invalidRequest("Malformed multipart body: a 'message' part with the JSON object is required")
            }
            guard case .object(let o) = try JSON.parse(json.body) else {
                throw NylasError.invalidRequest("The 'message' part must be a JSON object")
            }
            var out = try OutgoingMessage.parse(BodyFields(o), jsonAttachments: false)
            for part in form.parts where part.name != "message" && part.name != "draft" {
                let isInline = o["attachments"] == nil && part.name.hasPrefix("file") == false
                out.files.append(OutgoingMessage.File(filename: part.filename ?? part.name, contentType: part.contentType ?? "application/octet-stream",
                                      content: part.body, contentID: isInline ? part.name : nil, isInline: isInline))
            }
            try resolveUploads(&out)
            return out
        }
        let body = try self.body(allowEmpty: allowEmpty)
        var out = try OutgoingMessage.parse(body, jsonAttachments: true)
        try resolveUploads(&out)
        return out
    }

    private func resolveUploads(_ out: inout OutgoingMessage) throws(NylasError) {
        guard !out.uploads.isEmpty else { return }
        let pending = out
        do {
            out = try read { s, store in
                var resolved = pending
                try resolved.resolveUploads(store, grantID: try dataGrant(s, store, mail: true).id, now: s.now.seconds)
                return resolved
            }
        } catch let error as NylasError {
            throw error
        } catch {
            throw NylasError.internal("Reading the attachment upload sessions failed: \(error)")
        }
    }
}

extension RequestContext {
    /// The checks of a send, inside its write: a grant without a provider send scope is refused
    /// (reference §2.3), and the application's outbound rules are evaluated (nil without rules).
    /// A blocked send's evaluation is saved here; the caller sends nothing, lets the write commit
    /// the evaluation, and then answers `blockedSend`. A send that goes out saves its evaluation
    /// with the sent message's ID.
    package func outboundVerdict(_ s: EngineState, _ grant: GrantRecord, _ out: OutgoingMessage) throws -> Rules.Evaluation? {
        if !grant.kind.canSend(scopes: grant.scope) {
            throw NylasError(status: 403, type: "insufficient_scopes", message: "missing provider scopes required to send email")
        }
        guard let e = try OutboundRules.evaluate(s, region: region, grant: grant, out) else { return nil }
        if e.blocked { try OutboundRules.save(s, region: region, grant: grant, e, messageID: nil) }
        return e
    }

    /// The answer to a send an outbound rule blocked.
    package static var blockedSend: NylasError {
        NylasError(status: 403, type: "forbidden", message: "The message was blocked by an outbound rule of this application")
    }
}
