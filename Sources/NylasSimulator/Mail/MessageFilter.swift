import Foundation

/// Which of a grant's messages a list wants: the v3 message and thread filters, parsed by the
/// API and turned into a query by the store.
package struct MessageFilter: Sendable {
    /// A substring of the subject.
    package var subject: String?
    /// Whole addresses that must appear among the senders, recipients, copies and blind copies.
    package var from: [String] = [], to: [String] = [], cc: [String] = [], bcc: [String] = []
    /// Folder IDs (already resolved for the grant) the message must be in, each of them.
    package var folderIDs: [String] = []
    package var unread: Bool?
    package var starred: Bool?
    package var threadID: String?
    /// Unix seconds, exclusive.
    package var receivedBefore: Int?, receivedAfter: Int?
    package var hasAttachment: Bool?
    /// Words that must appear in the subject or the body (a provider's native search, simplified).
    package var searchTerms: [String] = []
    /// `metadata` key and value pairs that must all match.
    package var metadata: [(key: String, value: String)] = []
    /// Addresses of which at least one must be a participant (`any_email`).
    package var anyEmail: [String] = []

    /// The grant's folder for an `in` reference: its ID, or (Google, whose labels are named) its name.
    package static func folderID(_ ref: String, grant: GrantRecord, store: RegionStore) throws -> String {
        if let found = try store.folder(grantID: grant.id, id: ref) { return found.id }
        if grant.provider == "google",
           let byName = try store.folders(grantID: grant.id).first(where: { $0.name.lowercased() == ref.lowercased() }) {
            return byName.id
        }
        throw NylasError.notFound("Folder not found: \(ref)")
    }
}

/// Which of a grant's threads a list wants: its messages' filter and the latest message's date.
package struct ThreadFilter: Sendable {
    package var messages = MessageFilter()
    /// Unix seconds, exclusive, on the thread's latest message.
    package var latestAfter: Int?, latestBefore: Int?
}
