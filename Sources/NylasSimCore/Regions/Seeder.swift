import Foundation

/// Creates a region's configured applications in an empty region store.
package enum Seeder {
    /// `organizationID`: the organization of every application of both regions, unless configured.
    package static func seed(_ store: RegionStore, config: SimulatorConfig, organizationID: String, now: Int) throws {
        var v2ByClientID: [String: String] = [:]
        let apps = config.applications(for: store.region)
        // v2 applications first, so that v3 ones can link to them.
        for app in apps where app.version == 2 {
            let clientID = app.client_id ?? store.ids.base36("v2-client-id")
            let secret = app.client_secret ?? store.ids.base36("v2-client-secret")
            // The ID that once named a per-region organization is still drawn, so that every ID
            // minted after it stays what it was under the same seed.
            _ = store.ids.base36("v2-organization")
            let record = ApplicationRecord(
                id: clientID, apiVersion: 2, clientID: clientID,
                clientSecret: secret,
                apiKey: nil, organizationID: app.organization_id ?? config.organization_id ?? organizationID,
                environment: app.environment ?? "production",
                name: app.name ?? "Simulated v2 application (\(store.region.rawValue.uppercased()))",
                v2ApplicationID: nil, settings: [:], createdAt: now)
            try store.save(record)
            for url in app.callback_uris ?? [SimulatorConfig.defaultCallbackURI] {
                try store.insertRedirectURI(applicationID: clientID, url: url, platform: "web", settings: nil, now: now)
            }
            v2ByClientID[clientID] = clientID
        }
        for app in apps where app.version == 3 {
            let id = app.application_id ?? app.client_id ?? store.ids.uuid("application")
            let record = ApplicationRecord(
                id: id, apiVersion: 3, clientID: id,
                clientSecret: app.client_secret ?? "nyc_" + store.ids.base62("client-secret", length: 40),
                apiKey: app.api_key ?? "nyk_v0_" + store.ids.base62("api-key", length: 56),
                organizationID: { () -> String in
                    _ = store.ids.uuid("organization")  // drawn as before (see above)
                    return app.organization_id ?? config.organization_id ?? organizationID
                }(),
                environment: app.environment ?? "production",
                name: app.name ?? "Simulated application (\(store.region.rawValue.uppercased()))",
                v2ApplicationID: app.v2_client_id.flatMap { v2ByClientID[$0] ?? $0 },
                settings: [:], createdAt: now)
            try store.save(record)
            for url in app.callback_uris ?? [SimulatorConfig.defaultCallbackURI] {
                try store.insertRedirectURI(applicationID: id, url: url, platform: "web", settings: nil, now: now)
            }
            for provider in app.connectors ?? SimulatorConfig.defaultConnectors {
                try store.insertConnector(applicationID: id, provider: provider, settings: [:], scope: [], now: now)
            }
        }
    }
}
