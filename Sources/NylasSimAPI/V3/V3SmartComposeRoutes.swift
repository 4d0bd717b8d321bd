import Foundation
import NylasSimCore

/// `POST /v3/grants/{grant_id}/messages/smart-compose` and `…/messages/{message_id}/smart-compose`
/// (§4.8). The simulator has no language model: the suggestion is a fixed template filled with the
/// prompt (and, for a reply, the message's subject and sender's name), so the same input always
/// gives the same text. With `Accept: text/event-stream` the same suggestion comes as server-sent
/// events, `data: {"suggestion": "<piece>"}`, whose pieces concatenate to the whole suggestion.
package enum V3SmartComposeRoutes {
    package static let maxPromptLength = 1000

    package static func register(_ r: inout Router) {
        r.add("POST", "/v3/grants/{grant_id}/messages/smart-compose", .v3, compose)
        r.add("POST", "/v3/grants/{grant_id}/messages/{message_id}/smart-compose", .v3, reply)
    }

    @Sendable package static func compose(_ ctx: RequestContext) async throws -> SimResponse {
        let prompt = try prompt(ctx)
        try ctx.read { s, store in _ = try ctx.dataGrant(s, store, mail: true) }
        return respond(ctx, suggestion: suggestion(prompt: prompt))
    }

    @Sendable package static func reply(_ ctx: RequestContext) async throws -> SimResponse {
        let prompt = try prompt(ctx)
        let message = try ctx.read { s, store in try ctx.v3Message(s, store).1 }
        guard let sender = message.from.first else {
            throw NylasError(status: 400, type: "unknown_message_sender_error", message: "could not determine message sender")
        }
        return respond(ctx, suggestion: replySuggestion(prompt: prompt, subject: message.subject, sender: sender))
    }

    /// `prompt`: a non-empty string of at most 1000 characters.
    package static func prompt(_ ctx: RequestContext) throws(NylasError) -> String {
        let body = try ctx.body(allowEmpty: true)
        guard let value = body.raw("prompt") else {
            throw NylasError(status: 400, type: "prompt_required_error", message: "prompt is required")
        }
        guard case .string(let prompt) = value else { throw NylasError.wrongType("prompt", expected: "string", got: value) }
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw NylasError(status: 400, type: "prompt_required_error", message: "prompt is required")
        }
        let length = prompt.unicodeScalars.count
        guard length <= maxPromptLength else {
            throw NylasError.invalidValue("prompt", "at most \(maxPromptLength) characters, got \(length)")
        }
        return prompt
    }

    // MARK: The text

    /// The prompt as one sentence: whitespace collapsed, first letter capitalised, a final stop.
    package static func sentence(_ prompt: String) -> String {
        var text = prompt.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        if let first = text.first { text = first.uppercased() + text.dropFirst() }
        if let last = text.last, !".!?".contains(last) { text += "." }
        return text
    }

    package static func suggestion(prompt: String) -> String {
        """
        Hello,

        I am writing about the following: \(sentence(prompt))

        Please let me know if you have any questions.

        Best regards,
        [Your Name]
        """
    }

    package static func replySuggestion(prompt: String, subject: String, sender: Participant) -> String {
        let name = sender.name.split(separator: " ").first.map(String.init) ?? sender.email
        let subjectLine = subject.isEmpty ? "Thank you for your message." : "Thank you for your message about \"\(subject)\"."
        return """
        Hi \(name.isEmpty ? "there" : name),

        \(subjectLine) \(sentence(prompt))

        Best regards,
        [Your Name]
        """
    }

    // MARK: Responses

    package static func respond(_ ctx: RequestContext, suggestion: String) -> SimResponse {
        let accept = ctx.request.header("accept")?.lowercased() ?? ""
        guard accept.contains("text/event-stream") else { return ctx.data(["suggestion": .string(suggestion)]) }
        var body: [UInt8] = []
        for piece in pieces(suggestion) {
            body += Array("data: ".utf8) + (["suggestion": .string(piece)] as JSON).bytes + Array("\n\n".utf8)
        }
        return SimResponse(status: 200, headers: ["Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"],
                           body: body)
    }

    /// Four pieces at word boundaries (fewer for a short text); joined, they are `text`.
    package static func pieces(_ text: String, count: Int = 4) -> [String] {
        var words: [Substring] = []
        var start = text.startIndex
        for i in text.indices where text[i] == " " || text[i] == "\n" {
            let end = text.index(after: i)
            words.append(text[start..<end])
            start = end
        }
        if start < text.endIndex { words.append(text[start...]) }
        guard words.count > 1 else { return [text] }
        let per = (words.count + count - 1) / count
        return stride(from: 0, to: words.count, by: per).map { words[$0..<min($0 + per, words.count)].joined() }
    }
}
