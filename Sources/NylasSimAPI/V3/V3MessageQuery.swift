import Foundation
import NylasSimCore

extension RequestContext {
    /// The v3 message filters of this request's query (messages and threads share them), `in`
    /// resolved against the grant's folders.
    package func v3MessageFilter(grant: GrantRecord, store: RegionStore) throws -> MessageFilter {
        let q = query
        var f = MessageFilter()
        f.subject = q["subject"]
        f.from = try q.list("from", max: InputLimits.filterValues)
        f.to = try q.list("to", max: InputLimits.filterValues)
        f.cc = try q.list("cc", max: InputLimits.filterValues)
        f.bcc = try q.list("bcc", max: InputLimits.filterValues)
        f.folderIDs = try q.list("in", max: InputLimits.filterValues).map { try MessageFilter.folderID($0, grant: grant, store: store) }
        f.unread = try q.bool("unread")
        f.starred = try q.bool("starred")
        f.threadID = q["thread_id"]
        f.receivedBefore = try q.int("received_before")
        f.receivedAfter = try q.int("received_after")
        f.hasAttachment = try q.bool("has_attachment")
        if let native = q["search_query_native"] {
            f.searchTerms = native.split(separator: " ").map { String($0) }.filter { !$0.contains(":") }
        }
        f.anyEmail = try q.list("any_email", max: InputLimits.anyEmail)
        // Reference §4.8 (v3 l. 307): a native search goes to the provider as it is, beside `in` at most.
        if q["search_query_native"] != nil {
            let others: [(String, Bool)] = [
                ("subject", f.subject != nil), ("from", !f.from.isEmpty), ("to", !f.to.isEmpty), ("cc", !f.cc.isEmpty),
                ("bcc", !f.bcc.isEmpty), ("unread", f.unread != nil), ("starred", f.starred != nil), ("thread_id", f.threadID != nil),
                ("received_before", f.receivedBefore != nil), ("received_after", f.receivedAfter != nil),
                ("has_attachment", f.hasAttachment != nil), ("any_email", !f.anyEmail.isEmpty)]
            if let other = others.first(where: \.1) {
                throw NylasError.invalidRequest("search_query_native cannot be combined with other filters than in (got \(other.0))")
            }
        }
        if q["query_imap"] != nil, f.folderIDs.isEmpty { throw NylasError.missingField("in (query_imap searches one folder)") }
        // Reference §2 (v3 l. 167): keys key1 to key5 only, and no provider filter beside it.
        for (key, value) in try CalendarAccess.metadataPairs(q) { f.metadata.append((key, value)) }
        if !f.metadata.isEmpty {
            let others: [(String, Bool)] = [
                ("subject", f.subject != nil), ("from", !f.from.isEmpty), ("to", !f.to.isEmpty), ("cc", !f.cc.isEmpty),
                ("bcc", !f.bcc.isEmpty), ("in", !f.folderIDs.isEmpty), ("unread", f.unread != nil), ("starred", f.starred != nil),
                ("thread_id", f.threadID != nil), ("received_before", f.receivedBefore != nil), ("received_after", f.receivedAfter != nil),
                ("has_attachment", f.hasAttachment != nil), ("search_query_native", q["search_query_native"] != nil),
                ("any_email", !f.anyEmail.isEmpty)]
            if let other = others.first(where: \.1) {
                throw NylasError.invalidRequest("metadata_pair cannot be combined with provider filters (got \(other.0))")
            }
        }
        return f
    }

    /// The message `{message_id}` of the grant `{grant_id}` (a v2 ID is translated).
    package func v3Message(_ s: EngineState, _ store: RegionStore) throws -> (GrantRecord, MessageRecord) {
        let grant = try dataGrant(s, store, mail: true)
        let id = try objectID("message_id", kind: "message", grant: grant, store: store)
        guard let m = try store.message(grantID: grant.id, id: id) else {
            throw NylasError.notFound("Message not found: \(param("message_id"))")
        }
        return (grant, m)
    }
}
