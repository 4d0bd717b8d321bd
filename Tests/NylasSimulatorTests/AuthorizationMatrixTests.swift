import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

/// Who may call what: every region × API version × credential kind × target, each cell asserting the
/// status the real API gives (reference v3 §1.2–§1.3, §2.2; v2 reference: account tokens, application
/// secrets as HTTP Basic). The table is printed in the test log.
///
/// Where the reference does not pin a status down, the cell says so (`note`) and asserts the
/// simulator's documented choice.
@Suite("Authorization matrix: region × version × credential × target")
struct AuthorizationMatrixTests {
    enum Credential: String, CaseIterable {
        case apiKey = "API key"
        case accessToken = "access token"
        case v2Token = "v2 token"
        case clientSecret = "client secret"
        case none = "none"
        case expiredAccessToken = "expired access token"
        case revokedToken = "revoked token"
        case otherAppKey = "other app's key"
        case otherRegionKey = "other region's key"
        case controlToken = "control token"
    }

    enum Target: String, CaseIterable {
        // v3
        case ownGrant = "own grant data"
        case otherGrant = "another grant's data"
        case otherAppGrant = "another app's grant"
        case grantsAdmin = "admin GET /v3/grants"
        case webhooksAdmin = "admin GET /v3/webhooks"
        // v2
        case ownAccount = "own account (GET /account)"
        case otherAccount = "another account's message"
        case otherV2App = "another v2 app's accounts"
        // both
        case accountsAdmin = "admin GET /a/{client_id}/accounts"
        case control = "control GET /__sim/state"

        static let v3: [Target] = [.ownGrant, .otherGrant, .otherAppGrant, .grantsAdmin, .webhooksAdmin, .accountsAdmin, .control]
        static let v2: [Target] = [.ownAccount, .otherAccount, .accountsAdmin, .otherV2App, .control]
    }

    /// Expected statuses. Rows: credentials; columns: targets (missing column = 401).
    /// v3: an API key is application-wide (any grant of its application, admin routes); an access
    /// token reaches only its grant's data; a grant of another application is not found (404) for
    /// the caller's application; keys of another region are unknown (401). v2 application routes take
    /// the v2 application's secret (HTTP Basic) and its own client ID in the path.
    static let v3Expected: [Credential: [Target: Int]] = [
        .apiKey: [.ownGrant: 200, .otherGrant: 200, .otherAppGrant: 404, .grantsAdmin: 200, .webhooksAdmin: 200],
        .accessToken: [.ownGrant: 200, .otherGrant: 401, .otherAppGrant: 404],
        .otherAppKey: [.ownGrant: 404, .otherGrant: 404, .otherAppGrant: 200, .grantsAdmin: 200, .webhooksAdmin: 200],
        .controlToken: [.control: 200],
    ]

    static let v2Expected: [Credential: [Target: Int]] = [
        .v2Token: [.ownAccount: 200, .otherAccount: 404],
        .clientSecret: [.accountsAdmin: 200],
        .otherAppKey: [.otherV2App: 200],
        .controlToken: [.control: 200],
    ]

    static let notes: [String: String] = [
        "v3|access token|another grant's data": "reference: a token reaches only its grant; 401 vs 403 unverified",
        "v3|access token|another app's grant": "the grant is looked up within the token's application",
    ]

    static let controlToken = "matrix-control-token"

    /// Everything one region needs for its cells.
    struct Fixture {
        var headers: [Credential: [String: String]] = [:]
        var v2Headers: [Credential: [String: String]] = [:]
        var paths: [Target: String] = [:]
    }

    static func bearer(_ token: String) -> [String: String] { ["Authorization": "Bearer \(token)"] }
    static func basic(_ secret: String) -> [String: String] {
        ["Authorization": "Basic " + Data("\(secret):".utf8).base64EncodedString()]
    }

    static func options(_ o: inout SimulatorOptions) {
        o.controlToken = controlToken
        let apps = SimulatorConfig.RegionConfig(applications: [
            .init(version: 3, name: "Main app"), .init(version: 3, name: "Other app"),
            .init(version: 2, name: "Main v2 app"), .init(version: 2, name: "Other v2 app"),
        ])
        o.config = SimulatorConfig(regions: ["us": apps, "eu": apps])
    }

    /// A v2 account through native auth; returns (account id, token).
    static func v2Account(_ h: SimHarness, _ region: Region, clientID: String, secret: String,
                          email: String) async throws -> (String, String) {
        let a = try await h.call("POST", "/connect/authorize", region: region, json: [
            "client_id": .string(clientID), "name": "Matrix", "email_address": .string(email), "provider": "gmail",
            "settings": ["google_client_id": "a", "google_client_secret": "b", "google_refresh_token": "c"]])
        let code = try #require(a.json?["code"]?.stringValue, "\(a.status) \(a.text)")
        let t = try await h.call("POST", "/connect/token", region: region, json: [
            "client_id": .string(clientID), "client_secret": .string(secret), "code": .string(code)])
        return (try #require(t.json?["account_id"]?.stringValue, "\(t.text)"), try #require(t.json?["access_token"]?.stringValue, "\(t.text)"))
    }

    static func prepare(_ h: SimHarness, _ region: Region) async throws -> Fixture {
        let info = h.sim.region(region)
        let other = h.sim.region(region == .us ? .eu : .us)
        let app = info.v3Applications[0], app2 = info.v3Applications[1]
        let v2 = info.v2Applications[0], v2b = info.v2Applications[1]
        let tag = region.rawValue
        let g1 = try h.sim.createGrant(region, email: "owner-\(tag)@gmail.com", provider: "google", applicationID: app.applicationID)
        let g2 = try h.sim.createGrant(region, email: "colleague-\(tag)@gmail.com", provider: "google", applicationID: app.applicationID)
        let g3 = try h.sim.createGrant(region, email: "stranger-\(tag)@gmail.com", provider: "google", applicationID: app2.applicationID)
        // v2: two accounts of the main v2 application; a second token of the first, to revoke.
        let (_, tokenA) = try await v2Account(h, region, clientID: v2.clientID, secret: v2.clientSecret, email: "v2a-\(tag)@gmail.com")
        let (_, tokenB) = try await v2Account(h, region, clientID: v2.clientID, secret: v2.clientSecret, email: "v2b-\(tag)@gmail.com")
        let (_, tokenA2) = try await v2Account(h, region, clientID: v2.clientID, secret: v2.clientSecret, email: "v2a-\(tag)@gmail.com")
        try h.sim.deliverMail(to: "v2b-\(tag)@gmail.com", from: "alice@example.com", subject: "For B only")
        let listB = try await h.call("GET", "/messages?limit=1", region: region, headers: bearer(tokenB))
        let messageB = try #require(listB.json?.arrayValue?.first?["id"]?.stringValue, "\(listB.status) \(listB.text)")
        let revokedV2 = try await h.call("POST", "/oauth/revoke", region: region, headers: bearer(tokenA2))
        #expect(revokedV2.status == 200, "\(revokedV2.text)")

        var f = Fixture()
        f.paths = [
            .ownGrant: "/v3/grants/\(g1.id)/messages?limit=1", .otherGrant: "/v3/grants/\(g2.id)/messages?limit=1",
            .otherAppGrant: "/v3/grants/\(g3.id)/messages?limit=1", .grantsAdmin: "/v3/grants", .webhooksAdmin: "/v3/webhooks",
            .ownAccount: "/account", .otherAccount: "/messages/\(messageB)", .accountsAdmin: "/a/\(v2.clientID)/accounts",
            .otherV2App: "/a/\(v2b.clientID)/accounts", .control: "/__sim/state",
        ]
        f.headers = [
            .apiKey: bearer(app.apiKey), .accessToken: bearer(g1.accessToken), .v2Token: bearer(tokenA),
            .clientSecret: bearer(app.clientSecret), .none: [:], .expiredAccessToken: bearer(g1.accessToken),
            .otherAppKey: bearer(app2.apiKey), .otherRegionKey: bearer(other.v3.apiKey), .controlToken: bearer(controlToken),
        ]
        f.v2Headers = [
            .apiKey: bearer(app.apiKey), .accessToken: bearer(g1.accessToken), .v2Token: bearer(tokenA),
            .clientSecret: basic(v2.clientSecret), .none: [:], .expiredAccessToken: bearer(g1.accessToken),
            .revokedToken: bearer(tokenA2), .otherAppKey: basic(v2b.clientSecret),
            .otherRegionKey: basic(other.v2.clientSecret), .controlToken: bearer(controlToken),
        ]
        return f
    }

    /// After the clock moved past the first tokens' lifetime: a fresh token for the grant, and a
    /// revoked one.
    static func refreshTokens(_ h: SimHarness, _ region: Region, _ f: inout Fixture) async throws {
        let app = h.sim.region(region).v3Applications[0]
        let gid = try #require(f.paths[.ownGrant]?.split(separator: "/")[2]).description
        func mint() async throws -> String {
            let r = try await h.call("POST", "/v3/connect/token", region: region, json: [
                "grant_type": "client_credentials", "client_id": .string(app.clientID), "client_secret": .string(app.apiKey),
                "grant_id": .string(gid)])
            return try #require(r.json?["access_token"]?.stringValue, "\(r.status) \(r.text)")
        }
        let fresh = try await mint()
        let revoked = try await mint()
        let r = try await h.call("POST", "/v3/connect/revoke?token=\(revoked)", region: region)
        #expect(r.status == 200, "\(r.text)")
        f.headers[.accessToken] = bearer(fresh)
        f.headers[.revokedToken] = bearer(revoked)
        f.v2Headers[.accessToken] = bearer(fresh)
    }

    struct Cell: CustomStringConvertible {
        let region: Region, version: String, credential: Credential, target: Target, expected: Int, got: Int, note: String?
        var description: String {
            let mark = expected == got ? "ok " : "BAD"
            return "\(mark) \(region.rawValue.uppercased()) \(version) \(credential.rawValue.padding(toLength: 21, withPad: " ", startingAt: 0)) "
                + "\(target.rawValue.padding(toLength: 34, withPad: " ", startingAt: 0)) expect \(expected) got \(got)"
                + (note.map { "  (\($0))" } ?? "")
        }
    }

    @Test("Every credential against every target, in both regions and both API versions")
    func matrix() async throws {
        try await withSimulator(seed: "authz-matrix", configure: Self.options) { h in
            var fixtures: [Region: Fixture] = [:]
            for region in Region.allCases { fixtures[region] = try await Self.prepare(h, region) }
            // The first access tokens expire (one hour); the clock moves through the control API.
            let moved = try await h.call("POST", "/__sim/clock", json: ["advance": "61m"], headers: ["X-Sim-Control-Token": Self.controlToken])
            #expect(moved.status == 200, "\(moved.text)")
            for region in Region.allCases { try await Self.refreshTokens(h, region, &fixtures[region]!) }

            var cells: [Cell] = []
            for region in Region.allCases {
                let f = fixtures[region]!
                for (version, targets, table, headers) in [("v3", Target.v3, Self.v3Expected, f.headers),
                                                           ("v2", Target.v2, Self.v2Expected, f.v2Headers)] {
                    for credential in Credential.allCases {
                        for target in targets {
                            let expected = table[credential]?[target] ?? 401
                            let r = try await h.call("GET", f.paths[target]!, region: region, headers: headers[credential] ?? [:])
                            let note = Self.notes["\(version)|\(credential.rawValue)|\(target.rawValue)"]
                            cells.append(Cell(region: region, version: version, credential: credential, target: target,
                                              expected: expected, got: r.status, note: note))
                            #expect(r.status == expected,
                                    "\(region) \(version) \(credential.rawValue) → \(target.rawValue): \(r.status) \(r.text.prefix(200))")
                            if r.status == 401, target != .control, version == "v3", target != .accountsAdmin {
                                #expect(r.errorType == "unauthorized", "v3 401s carry type unauthorized: \(r.text.prefix(200))")
                            }
                        }
                    }
                }
            }
            print("Authorization matrix (\(cells.count) cells):\n" + cells.map(\.description).joined(separator: "\n"))
            #expect(cells.count == 2 * Credential.allCases.count * (Target.v3.count + Target.v2.count))
        }
    }

    @Test("An expired and a revoked access token are refused for what they are")
    func expiredAndRevokedMessages() async throws {
        try await withSimulator(seed: "authz-matrix-2") { h in
            let g = try h.sim.createGrant(.us, email: "owner@gmail.com", provider: "google")
            await h.sim.advance(by: .seconds(3601))
            let expired = try await h.call("GET", "/v3/grants/me", headers: Self.bearer(g.accessToken))
            #expect(expired.status == 401)
            #expect(expired.json?["error"]?["message"]?.stringValue?.contains("expired") == true, "\(expired.text)")
        }
    }
}
