import Foundation
import NylasSimCore

extension RequestContext {
    /// The grant of a `/v3/grants/{grant_id}/...` data call: resolved for the caller, valid,
    /// its connector still there, its provider reachable.
    package func dataGrant(_ s: EngineState, _ store: RegionStore, mail: Bool = false) throws -> GrantRecord {
        let (_, grant) = try resolveValidGrant(param("grant_id"), s, store)
        guard try store.connector(applicationID: grant.applicationID, provider: grant.provider) != nil else {
            throw NylasError(status: 401, type: "grant.invalid",
                             message: "The \(grant.provider) connector of this grant was deleted; the grant no longer works")
        }
        if s.providerUnavailable(grant.provider, mailbox: grant.email) {
            throw NylasError.providerError()
        }
        if mail, !ProviderKind(grant.provider).hasMail {
            throw NylasError.invalidRequest("A \(grant.provider) grant has no mailbox: email endpoints are not available")
        }
        return grant
    }

    /// Fails on v2-only query parameters, naming the v3 replacement.
    package func rejectV2Parameters(_ extra: [String: String] = [:]) throws(NylasError) {
        let replacements: [String: String] = [
            "not_in": "v3 has no not_in filter: filter with in=<folder_id> instead",
            "filename": "v3 has no filename filter: list attachments from the message objects",
            "labels": "v3 merged labels into folders: use in=<folder_id>",
            "view": "v3 has no view parameter: use select=<fields> to trim objects, there is no count or ids view",
            "offset": "v3 lists use cursor pagination: pass the previous response's next_cursor as page_token",
            "in_reply_to": "v3 has no in_reply_to filter: use fields=include_headers",
        ].merging(extra) { _, new in new }
        for key in query.keys where replacements[key] != nil {
            throw NylasError.invalidRequest("Unsupported query parameter \(key) (a v2 parameter): \(replacements[key]!)")
        }
    }

    /// `limit` within the endpoint's bounds.
    package func limit(default d: Int, max m: Int) throws(NylasError) -> Int {
        try query.int("limit", in: 1...m) ?? d
    }

    /// Applies `select=a,b` (top-level fields only).
    package func selecting(_ object: JSON) -> JSON {
        let fields = query.list("select")
        guard !fields.isEmpty, case .object(let o) = object else { return object }
        return .object(o.filter { fields.contains($0.key) })
    }
}

/// Cursor tokens of keyset pagination: opaque base64 of the last row's sort key.
package enum PageToken {
    package static func make(_ parts: [String]) -> String {
        Data(parts.joined(separator: "\u{1F}").utf8).base64EncodedString()
    }

    package static func parse(_ token: String, count: Int) throws(NylasError) -> [String] {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8) else {
            throw NylasError.invalidRequest("Invalid page_token")
        }
        let parts = text.components(separatedBy: "\u{1F}")
        guard parts.count == count else { throw NylasError.invalidRequest("Invalid page_token") }
        return parts
    }
}

