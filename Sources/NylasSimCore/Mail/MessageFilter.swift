import Foundation

/// Which of a grant's messages a list wants: the v3 message and thread filters, parsed by the
/// API and turned into a query by the store.
package struct MessageFilter: Sendable {
    package init(subject: String? = nil, from: [String] = [], to: [String] = [], cc: [String] = [], bcc: [String] = [], folderIDs: [String] = [], unread: Bool? = nil, starred: Bool? = nil, threadID: String? = nil, receivedBefore: Int? = nil, receivedAfter: Int? = nil, hasAttachment: Bool? = nil, searchTerms: [String] = [], metadata: [(key: String, value: String)] = [], anyEmail: [String] = []) {
        self.subject = subject
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.folderIDs = folderIDs
        self.unread = unread
        self.starred = starred
        self.threadID = threadID
        self.receivedBefore = receivedBefore
        self.receivedAfter = receivedAfter
        self.hasAttachment = hasAttachment
        self.searchTerms = searchTerms
        self.metadata = metadata
        self.anyEmail = anyEmail
    }

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
        if grant.kind == .google,
           let byName = try store.folders(grantID: grant.id).first(where: { $0.name.lowercased() == ref.lowercased() }) {
            return byName.id
        }
        throw NylasError.notFound("Folder not found: \(ref)")
    }
}

/// Which of a grant's threads a list wants: its messages' filter and the latest message's date.
package struct ThreadFilter: Sendable {
    package init(messages: MessageFilter = MessageFilter(), latestAfter: Int? = nil, latestBefore: Int? = nil) {
        self.messages = messages
        self.latestAfter = latestAfter
        self.latestBefore = latestBefore
    }

    package var messages = MessageFilter()
    /// Unix seconds, exclusive, on the thread's latest message.
    package var latestAfter: Int?, latestBefore: Int?
}
