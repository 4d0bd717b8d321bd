import Foundation
import Mustache
import NylasSimCore
import NylasSimAPI
import NylasSimulatorTesting

/// The web dashboard at `/__sim/ui`: one server-rendered page (Mustache templates shipped as
/// resources in `Dashboard/Templates`), kept live by a little plain JavaScript that polls
/// `/__sim/ui/live` and swaps the sections that changed.
///
/// Every value goes through Mustache's `{{ }}` HTML escaping; secrets (client secrets, API keys,
/// webhook secrets, access tokens) are masked unless the page is asked for them (`?reveal=1`,
/// or a click that fetches one through `/__sim/ui/secret`).
package enum Dashboard {
    /// The templates, their script and their style, loaded once from the resource bundle.
    package struct Assets: Sendable {
        package let library: MustacheLibrary
        package let script: String
        package let style: String
    }

    package static let assets: Result<Assets, NylasError> = loadAssets()

    private static func loadAssets() -> Result<Assets, NylasError> {
        guard let dir = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            return .failure(.internal("The dashboard templates are missing from the resource bundle"))
        }
        do {
            var library = MustacheLibrary()
            var script = ""
            var style = ""
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
                let url = dir.appendingPathComponent(name)
                let text = try String(contentsOf: url, encoding: .utf8)
                switch url.pathExtension {
                case "mustache": try library.register(text, named: url.deletingPathExtension().lastPathComponent)
                case "js": script += text
                case "css": style += text
                default: continue
                }
            }
            return .success(Assets(library: library, script: script, style: style))
        } catch {
            return .failure(.internal("The dashboard templates could not be loaded: \(error)"))
        }
    }

    /// Renders template `name` with `model`.
    package static func render(_ name: String, _ model: [String: Any]) throws(NylasError) -> String {
        let assets = try assets.get()
        guard let html = assets.library.render(model, withTemplate: name) else {
            throw NylasError.internal("No dashboard template \(name)")
        }
        return html
    }

    /// The whole page.
    package static func page(core: Engine, query: QueryParameters) throws -> SimResponse {
        let assets = try assets.get()
        let nonce = makeNonce()
        var model = try DashboardModel.build(core: core, options: .init(query))
        model["script"] = assets.script
        model["style"] = assets.style
        model["nonce"] = nonce
        return html(try render("page", model), nonce: nonce)
    }

    /// The live sections only, which the page's script fetches every second.
    package static func live(core: Engine, query: QueryParameters) throws -> SimResponse {
        html(try render("live", try DashboardModel.build(core: core, options: .init(query))), nonce: nil)
    }

    private static func html(_ text: String, nonce: String?) -> SimResponse {
        // Inline script only with this response's nonce; data never reaches a script context.
        let script = nonce.map { "'nonce-\($0)'" } ?? "'none'"
        let csp = "default-src 'none'; script-src \(script); style-src 'unsafe-inline'; connect-src 'self'; "
            + "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        return SimResponse(status: 200, headers: [
            "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Content-Security-Policy": csp,
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
        ], body: Array(text.utf8))
    }

    private static func makeNonce() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(bytes).base64EncodedString()
    }

    // MARK: Secrets

    /// The value behind a masked secret: `app:REGION:CLIENT_ID:client_secret|api_key`,
    /// `webhook:REGION:ID:secret`, `token:REGION:GRANT_ID:access`.
    package static func secret(core: Engine, ref: String) throws -> String {
        let parts = ref.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let region = Region(rawValue: parts[1]) else {
            throw NylasError.invalidValue("ref", "expected kind:region:id:field")
        }
        let (kind, id, field) = (parts[0], parts[2], parts[3])
        let value: String? = try core.withState { s in
            let store = s.store(region)
            switch (kind, field) {
            case ("app", "client_secret"): return try store.application(clientID: id)?.clientSecret
            case ("app", "api_key"): return try store.application(clientID: id)?.apiKey
            case ("webhook", "secret"): return try store.webhook(id: id)?.secret
            case ("token", "access"): return try DashboardModel.accessTokens(store)[id]?.token
            default: return nil
            }
        }
        guard let value else { throw NylasError.notFound("No secret \(ref)") }
        return value
    }
}
