/// Count limits on what one request may carry, the same for v2, v3, the control API and scenarios.
///
/// Nylas publishes some of these (metadata: 50 pairs of at most 500 characters, `any_email`: 25
/// addresses, `message_id` of a clean: 20); the others are the providers' own per-message limits
/// (Gmail and Microsoft 365 refuse a message to more than 500 recipients) or our choice, set well
/// above what a client sends and low enough that one request's work under the state lock stays
/// bounded. A request over a limit is a 400 naming the field; nothing is stored.
package enum InputLimits {
    /// Recipients of one message, `to`, `cc` and `bcc` together (the providers' limit).
    package static let recipients = 500
    /// `reply_to` addresses of one message.
    package static let replyTo = 20
    /// Attachments of one message (our choice; the byte limits bind first in practice).
    package static let attachments = 100
    /// `custom_headers` of one message.
    package static let customHeaders = 100
    /// Pairs of a `metadata` object, and the length of each value (Nylas's published limits).
    package static let metadataPairs = 50
    package static let metadataValueLength = 500
    /// Parts of a multipart/form-data body: the message and its attachments.
    package static let multipartParts = attachments + 1
    /// Values of one list filter of a query string (repeated keys and comma lists together).
    package static let filterValues = 50
    /// `any_email` addresses of a message or thread query (Nylas's published limit).
    package static let anyEmail = 25
    /// `metadata_pair` filters of one query (one per indexed key, `key1`…`key5`).
    package static let metadataFilters = 5
    /// Participants of one event (Google Calendar and Microsoft 365 invite at most about 500).
    package static let participants = 500

    /// Fails when `count` is above `limit`, naming the field.
    package static func check(_ count: Int, _ limit: Int, _ field: String, _ what: String) throws(NylasError) {
        guard count <= limit else { throw NylasError.invalidValue(field, "at most \(limit) \(what), got \(count)") }
    }
}
