import Foundation
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

extension ControlRoutes {
    /// `POST /__sim/fixtures`: loads a mailbox fixture into the provider world.
    ///
    /// Body: `{"path": "fixtures/mailbox.json"}` (relative to the server's working directory) or
    /// the fixture object itself (`{"mailbox", "provider", "folders", "messages"}`), plus optional
    /// `"mailbox"` (load it as another owner address) and `"provider"`. Answers 201 with
    /// `{mailbox, provider, messages, skipped, threads, folders_added}`; a bad fixture is a 400.
    package static func registerFixtures(_ r: inout Router) {
        r.add("POST", "/__sim/fixtures", .control, postFixtures)
    }

    /// `POST "/__sim/fixtures"`
    @Sendable static func postFixtures(_ ctx: RequestContext) async throws -> SimResponse {
        let body = try ctx.body()
        let path = try body.string("path").map { p throws(NylasError) in try ctx.core.fileRoot.resolve(p, field: "path") }
        var inline: JSON?
        if path == nil {
            guard body.has("messages") else {
                throw NylasError.invalidRequest("Give a fixture: {\"path\": \"fixtures/mailbox.json\"} or the fixture object itself")
            }
            inline = .object(body.values)
        }
        // With an inline fixture, `mailbox` is the fixture's own owner; `mailbox_override` also works.
        let mailboxOverride = path != nil ? try body.string("mailbox") : try body.string("mailbox_override")
        let result = try ctx.core.loadFixture(inline, path: path, mailbox: mailboxOverride,
                                              provider: path != nil ? try body.string("provider") : nil)
        return .json(result.json, status: 201)
    }
}
