import Foundation
import Yams

/// The applications a simulator starts with, per region: read from `--config FILE` (YAML or
/// JSON) or built by default (one v3 and one v2 application per region).
///
/// ```yaml
/// seed: demo
/// regions:
///   us:
///     applications:
///       - version: 3
///         name: My app
///         api_key: nyk_test_us
///         callback_uris: [http://localhost:3000/callback]
///         connectors: [google, microsoft, imap]
///       - version: 2
///         client_id: my-v2-client
///         client_secret: my-v2-secret
///   eu:
///     applications: []
/// ```
public struct SimulatorConfig: Sendable, Codable, Equatable {
    public var seed: String?
    /// The organization every application belongs to, in both regions (seed 000: a move to a new
    /// region needs no new organization). Minted once (from the seed when there is one) if absent.
    public var organization_id: String?
    public var regions: [String: RegionConfig]?

    public struct RegionConfig: Sendable, Codable, Equatable {
        public var applications: [ApplicationConfig]?
        public init(applications: [ApplicationConfig]?) { self.applications = applications }
    }

    /// One application. Every credential left out is minted (deterministically under a seed).
    public struct ApplicationConfig: Sendable, Codable, Equatable {
        public var version: Int
        public var name: String?
        public var application_id: String?
        public var client_id: String?
        public var client_secret: String?
        public var api_key: String?
        public var environment: String?
        /// Callback URIs registered on a v3 application (default `http://localhost:3000/callback`).
        public var callback_uris: [String]?
        /// Connectors created on a v3 application (default: google, microsoft, imap, icloud, yahoo, ews, virtual-calendar).
        public var connectors: [String]?
        /// For a v3 application: the client ID of the v2 application of the same region it is linked to.
        public var v2_client_id: String?
        /// Another organization for this application only (default: the configuration's).
        public var organization_id: String?

        public init(version: Int, name: String? = nil, application_id: String? = nil, client_id: String? = nil,
                    client_secret: String? = nil, api_key: String? = nil, environment: String? = nil,
                    callback_uris: [String]? = nil, connectors: [String]? = nil, v2_client_id: String? = nil) {
            self.version = version
            self.name = name
            self.application_id = application_id
            self.client_id = client_id
            self.client_secret = client_secret
            self.api_key = api_key
            self.environment = environment
            self.callback_uris = callback_uris
            self.connectors = connectors
            self.v2_client_id = v2_client_id
        }
    }

    public init(seed: String? = nil, regions: [String: RegionConfig]? = nil) {
        self.seed = seed
        self.regions = regions
    }

    /// Reads a YAML or JSON configuration file.
    public static func load(path: String) throws -> SimulatorConfig {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try YAMLDecoder().decode(SimulatorConfig.self, from: text)
    }

    /// The applications of `region`: configured, or the defaults.
    package func applications(for region: Region) -> [ApplicationConfig] {
        if let configured = regions?[region.rawValue]?.applications { return configured }
        return [ApplicationConfig(version: 3), ApplicationConfig(version: 2)]
    }

    package static let defaultConnectors = ["google", "microsoft", "imap", "icloud", "yahoo", "ews", "virtual-calendar"]
    package static let defaultCallbackURI = "http://localhost:3000/callback"
}
