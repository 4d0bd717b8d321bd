import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

// Statements of the two references (`shared/reference/nylas-v3.md`, `nylas-v2.md`) that no other
// test checked; `docs/REFERENCE-MAP.md` names each row's test. Each name starts with the
// reference and its lines. The last suite holds the statements the simulator does not follow yet:
// its tests fail until the behaviour is fixed.

// MARK: - Helpers

/// Monday 2026-01-05 00:00Z (the seeded manual clock starts on 2026-01-01 09:00Z).
private let monday = 1_767_571_200

private func enc(_ s: String) -> String { QueryParameters.encode(s) }

/// The keys of an object, as a set.
private func keys(_ j: JSON?) -> Set<String> { Set(j?.objectValue?.keys.map { $0 } ?? []) }

/// Mail arriving in `mailbox` from outside, through the control API.
@discardableResult
private func deliver(_ h: SimHarness, to mailbox: String, _ fields: [String: JSON]) async throws -> JSON {
    var body = fields
    if body["to"] == nil { body["to"] = [.string(mailbox)] }
    if body["from"] == nil { body["from"] = ["email": "sender@example.org"] }
    let r = try await h.call("POST", "/__sim/providers/mailboxes/\(mailbox)/messages", json: .object(body))
    #expect(r.status == 201, "\(r.text)")
    return r.json ?? .null
}

/// The ID of the newest message of a grant whose subject is `subject`.
private func messageID(_ h: SimHarness, _ grantID: String, subject: String) async throws -> String {
    let r = try await h.call("GET", "/v3/grants/\(grantID)/messages?subject=\(enc(subject))", token: h.apiKey)
    return try #require(r.data?.arrayValue?.first?["id"]?.stringValue, "\(r.text)")
}

/// A multipart/form-data body.
private func multipart(_ parts: [(name: String, filename: String?, type: String?, body: [UInt8])],
                       boundary: String = "refBoundary7") -> [UInt8] {
    multipartBody(parts, boundary: boundary)
}

private let multipartHeaders = ["Content-Type": "multipart/form-data; boundary=refBoundary7"]

/// A v2 account through native auth; returns (account ID, `Authorization` header).
private func v2Connect(_ h: SimHarness, email: String, provider: String = "gmail", region: Region = .us,
                       settings: JSON? = nil, scopes: String = "email,calendar,contacts") async throws -> (String, [String: String]) {
    let v2 = h.sim.region(region).v2
    var s: JSON = ["google_client_id": "a", "google_client_secret": "b", "google_refresh_token": "c"]
    if provider == "imap" {
        s = ["imap_host": "imap.example.com", "imap_port": 993, "imap_username": .string(email), "imap_password": "p",
             "smtp_host": "smtp.example.com", "smtp_port": 465]
    }
    if let settings { s = settings }
    let a = try await h.call("POST", "/connect/authorize", region: region, json: [
        "client_id": .string(v2.clientID), "name": "Test User", "email_address": .string(email), "provider": .string(provider),
        "settings": s, "scopes": .string(scopes)])
    let code = try #require(a.json?["code"]?.stringValue, "\(a.text)")
    let t = try await h.call("POST", "/connect/token", region: region,
                             json: ["client_id": .string(v2.clientID), "client_secret": .string(v2.clientSecret), "code": .string(code)])
    let token = try #require(t.json?["access_token"]?.stringValue, "\(t.text)")
    return (try #require(t.json?["account_id"]?.stringValue), ["Authorization": "Bearer \(token)"])
}

/// The HTTP Basic header of a v2 application (its client secret as the user name).
private func appBasic(_ h: SimHarness, _ region: Region = .us) -> [String: String] {
    ["Authorization": "Basic " + Data("\(h.sim.region(region).v2.clientSecret):".utf8).base64EncodedString()]
}

/// A hosted-auth code for `email`, through the registered `redirect`.
private func authCode(_ h: SimHarness, email: String, redirect: String, extra: String = "") async throws -> String {
    let app = h.sim.region(.us).v3
    let r = try await h.call("GET", "/v3/connect/auth?client_id=\(app.clientID)&redirect_uri=\(enc(redirect))&response_type=code"
                             + "&login_hint=\(enc(email))\(extra)")
    let location = try #require(r.headers["location"], "\(r.status) \(r.text)")
    return try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value, "\(location)")
}

private func registerRedirect(_ h: SimHarness, _ url: String) async throws {
    let r = try await h.call("POST", "/v3/applications/redirect-uris", token: h.apiKey, json: ["url": .string(url)])
    #expect(r.status == 200 || r.status == 201, "\(r.text)")
}

// MARK: - nylas-v3.md

@Suite("Reference v3 statements, checked against the simulator")
struct ReferenceV3StatementTests {
    @Test("v3 l. 30, 34: Host api.us.nylas.com and canada.api.nylas.com go to the US")
    func usHosts() async throws {
        try await withSimulator { h in
            for host in ["api.us.nylas.com", "canada.api.nylas.com"] {
                // The EU listener, named by a US host, is the US region.
                let us = try await h.call("GET", "/v3/grants", region: .eu, token: h.apiKey(.us), headers: ["Host": host])
                #expect(us.status == 200, "\(host): \(us.status) \(us.text)")
                let eu = try await h.call("GET", "/v3/grants", region: .eu, token: h.apiKey(.eu), headers: ["Host": host])
                #expect(eu.status == 401, "\(host): the EU key is unknown in the US")
            }
        }
    }

    @Test("v3 l. 36, 87: UTF-8 JSON answers with a UUID request_id, also in x-request-id")
    func jsonAndRequestID() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "utf@gmail.com", provider: "google")
            try await deliver(h, to: "utf@gmail.com", ["subject": "Grüße aus Köln", "body": "<p>ça va</p>"])
            let r = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: h.apiKey)
            #expect(r.status == 200, "\(r.text)")
            let type = try #require(r.headers["content-type"])
            #expect(type.hasPrefix("application/json") && type.lowercased().contains("charset=utf-8"), "\(type)")
            let id = try #require(r.json?["request_id"]?.stringValue)
            #expect(UUID(uuidString: id) != nil, "\(id)")
            #expect(r.headers["x-request-id"] == id)
            let m = try #require(r.data?.arrayValue?.first)
            #expect(m["subject"]?.stringValue == "Grüße aus Köln")
            #expect(m["created_at"]?.intValue != nil, "[PY] reads created_at")
        }
    }

    @Test("v3 l. 40: exactly Authorization: Bearer, a bare API key is 401 unauthorized")
    func bearerOnly() async throws {
        try await withSimulator { h in
            for value in [h.apiKey, "Basic " + Data("\(h.apiKey):".utf8).base64EncodedString(), "Token \(h.apiKey)"] {
                let r = try await h.call("GET", "/v3/grants", headers: ["Authorization": value])
                #expect(r.status == 401, "\(value.prefix(12)): \(r.text)")
                #expect(r.errorType == "unauthorized")
            }
            #expect(try await h.call("GET", "/v3/grants", token: h.apiKey).status == 200)
        }
    }

    @Test("v3 l. 49: applications, connectors, credentials, providers/detect and grants/{id} refuse an access token")
    func apiKeyOnly() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "token@gmail.com", provider: "google")
            let calls: [(String, String)] = [
                ("GET", "/v3/applications"), ("GET", "/v3/connectors"), ("GET", "/v3/connectors/google/creds"),
                ("POST", "/v3/providers/detect?email=a@gmail.com"), ("GET", "/v3/grants/\(g.id)"),
                ("PATCH", "/v3/grants/\(g.id)"), ("DELETE", "/v3/grants/\(g.id)"),
            ]
            for (method, path) in calls {
                let body: JSON? = method == "PATCH" ? JSON.object(["scope": .array([.string("openid")])]) : nil
                let r = try await h.call(method, path, token: g.accessToken, json: body)
                #expect(r.status == 401, "\(method) \(path): \(r.status) \(r.text)")
                #expect(r.errorType == "unauthorized")
            }
            let still = try await h.call("GET", "/v3/grants/\(g.id)", token: h.apiKey)
            #expect(still.status == 200 && still.data?["scope"]?.arrayValue?.contains("openid") == false, "nothing changed")
        }
    }

    @Test("v3 l. 51: availability and tokeninfo take an access token")
    func eitherCredential() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "either@gmail.com", provider: "google")
            let r = try await h.call("POST", "/v3/calendars/availability", token: g.accessToken, json: [
                "start_time": .int(monday + 9 * 3600), "end_time": .int(monday + 11 * 3600), "duration_minutes": 30,
                "participants": [["email": "either@gmail.com"]]])
            #expect(r.status == 200, "\(r.text)")
            #expect(r.data?["time_slots"]?.arrayValue?.isEmpty == false)
            let info = try await h.call("GET", "/v3/connect/tokeninfo?access_token=\(g.accessToken)", token: g.accessToken)
            #expect(info.status == 200, "\(info.text)")
            #expect(info.data?["sub"]?.stringValue == g.id)
        }
    }

    @Test("v3 l. 65–66: external:<id> names a grant; me with an API key is refused")
    func grantIdentifiers() async throws {
        try await withSimulator { h in
            let made = try await h.call("POST", "/__sim/grants", json: ["email": "ext@gmail.com", "provider": "google"])
            let id = try #require(made.json?["id"]?.stringValue)
            let token = try #require(made.json?["access_token"]?.stringValue)
            let external = try #require(made.json?["provider_user_id"]?.stringValue)
            let byExternal = try await h.call("GET", "/v3/grants/external:\(external)/folders", token: h.apiKey)
            #expect(byExternal.status == 200, "\(byExternal.text)")
            #expect(byExternal.data?.arrayValue?.first?["grant_id"]?.stringValue == id)
            let unknown = try await h.call("GET", "/v3/grants/external:nobody/folders", token: h.apiKey)
            #expect(unknown.status == 404 && unknown.errorType == "grant.not_found", "\(unknown.text)")
            let meWithKey = try await h.call("GET", "/v3/grants/me/messages", token: h.apiKey)
            #expect(meWithKey.status == 400, "\(meWithKey.text)")
            #expect(try await h.call("GET", "/v3/grants/me/messages", token: token).status == 200)
        }
    }

    @Test("v3 l. 115, 117, 133: 429 and 504 bodies in the spec vocabulary, no X-RateLimit headers")
    func faultBodies() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "faults@gmail.com", provider: "google")
            let rule = try await h.call("POST", "/__sim/faults", json: ["path": "/v3/grants/*/threads", "method": "GET", "status": 429,
                                                                      "retry_after": 5, "count": 1])
            #expect(rule.status == 201, "\(rule.text)")
            let limited = try await h.call("GET", "/v3/grants/\(g.id)/threads", token: h.apiKey)
            #expect(limited.status == 429)
            #expect(limited.errorType == "rate_limit_error")
            #expect(limited.json?["error"]?["message"]?.stringValue == "Too many requests, please try again shortly.")
            #expect(limited.headers["retry-after"] == "5")
            #expect(limited.headers.keys.allSatisfy { !$0.lowercased().hasPrefix("x-ratelimit") && !$0.lowercased().hasPrefix("ratelimit") },
                    "\(limited.headers)")
            let outage = try await h.call("POST", "/__sim/providers/outages", json: ["provider": "google", "duration": "10m"])
            #expect(outage.status == 201, "\(outage.text)")
            let down = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: h.apiKey)
            #expect(down.status == 504)
            #expect(down.errorType == "provider_error")
            #expect(down.json?["error"]?["message"]?.stringValue == "Provider request timed out.")
        }
    }

    @Test("v3 l. 128, 267: revoke takes the token in the query and answers {}; unknown tokens are invalid_token")
    func revokeShape() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "revoke@gmail.com", provider: "google")
            let inBody = try await h.call("POST", "/v3/connect/revoke", json: ["token": .string(g.accessToken)])
            #expect(inBody.status == 400 && inBody.json?["error"]?.stringValue == "invalid_request", "query parameter only: \(inBody.text)")
            let ok = try await h.call("POST", "/v3/connect/revoke?token=\(g.accessToken)")
            #expect(ok.status == 200)
            #expect(ok.json == .object([:]), "\(ok.text)")
            for r in [try await h.call("POST", "/v3/connect/revoke?token=\(g.accessToken)"),
                      try await h.call("GET", "/v3/connect/tokeninfo?access_token=nyat_unknown")] {
                #expect(r.status == 400)
                #expect(r.json?["error"]?.stringValue == "invalid_token")
                #expect(r.json?["error_description"]?.stringValue == "Token expired or revoked")
                #expect(r.json?["error_code"]?.intValue == 400)
                #expect(r.json?["request_id"] == nil)
            }
        }
    }

    @Test("v3 l. 144: Google's default limit is 600 requests per minute per mailbox")
    func googleDefaultLimit() {
        let options = SimulatorOptions(seed: "limits")
        #expect(options.settings.providerRateLimits["google"] == ProviderRateLimit(requests: 600, window: .seconds(60)))
    }

    @Test("v3 l. 155–164: default and maximum page sizes of every list")
    func pageSizes() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        // Hundreds of calls at one instant of a manual clock: Nylas's rate limits are tested elsewhere.
        try await withSimulator(configure: { $0.settings.nylasRateLimits = nil }) { h in
            let g = try h.sim.createGrant(email: "pages@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)"
            for i in 0..<55 {
                _ = try await h.call("POST", "\(base)/drafts", token: h.apiKey, json: ["subject": .string("d\(i)")])
                _ = try await h.call("POST", "\(base)/folders", token: h.apiKey, json: ["name": .string("f\(i)")])
                _ = try await h.call("POST", "\(base)/calendars", token: h.apiKey, json: ["name": .string("c\(i)")])
                _ = try await h.call("POST", "\(base)/events?calendar_id=primary", token: h.apiKey, json: [
                    "title": .string("e\(i)"), "when": ["start_time": .int(1_767_300_000 + i * 3600), "end_time": .int(1_767_301_800 + i * 3600)]])
                _ = try h.sim.deliverMail(to: "pages@gmail.com", from: "a\(i)@example.org", subject: "m\(i)")
            }
            for i in 0..<35 { _ = try await h.call("POST", "\(base)/contacts", token: h.apiKey, json: ["given_name": .string("n\(i)")]) }
            for i in 0..<12 {
                _ = try h.sim.createGrant(email: "other\(i)@gmail.com", provider: "google")
                _ = try await h.call("POST", "/v3/connectors/google/creds", token: h.apiKey, json: [
                    "name": .string("cred\(i)"), "credential_type": "connector", "credential_data": ["client_id": "a", "client_secret": "b"]])
            }
            let cases: [(String, Int, Int)] = [
                ("\(base)/messages", 50, 200), ("\(base)/drafts", 50, 200), ("\(base)/folders", 50, 200), ("\(base)/calendars", 50, 200),
                ("\(base)/events?calendar_id=primary&start=1767200000&end=1770000000", 50, 200), ("\(base)/contacts", 30, 200),
                ("\(base)/threads", 20, 50), ("/v3/grants", 10, 200), ("/v3/connectors/google/creds", 10, 200),
            ]
            for (path, byDefault, maximum) in cases {
                let sep = path.contains("?") ? "&" : "?"
                let r = try await h.call("GET", path, token: h.apiKey)
                #expect(r.data?.arrayValue?.count == byDefault, "\(path): \(r.data?.arrayValue?.count ?? -1)")
                #expect(try await h.call("GET", path + sep + "limit=\(maximum)", token: h.apiKey).status == 200, "\(path) limit \(maximum)")
                #expect(try await h.call("GET", path + sep + "limit=\(maximum + 1)", token: h.apiKey).status == 400, "\(path) limit \(maximum + 1)")
            }
            #expect(try await h.call("GET", "\(base)/contacts/groups?limit=200", token: h.apiKey).status == 200)
            #expect(try await h.call("GET", "\(base)/contacts/groups?limit=201", token: h.apiKey).status == 400)
            // The webhooks list takes no pagination parameters.
            for i in 0..<2 {
                let w = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                         json: ["trigger_types": ["grant.created"], "webhook_url": .string(receiver.url + "?n=\(i)")])
                #expect(w.status == 200, "\(w.text)")
            }
            let hooks = try await h.call("GET", "/v3/webhooks?limit=1", token: h.apiKey)
            #expect(hooks.data?.arrayValue?.count == 2)
            #expect(hooks.json?["next_cursor"] == nil)
        }
    }

    @Test("v3 l. 166, 170: select on PUT of calendars, events and contacts; a nested object is replaced whole")
    func selectOnPut() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "select@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)"
            let cal = try #require(try await h.call("POST", "\(base)/calendars", token: h.apiKey, json: ["name": "Team"]).data?["id"]?.stringValue)
            let putCal = try await h.call("PUT", "\(base)/calendars/\(enc(cal))?select=id,name", token: h.apiKey, json: ["name": "Team B"])
            #expect(keys(putCal.data) == ["id", "name"], "\(putCal.text)")
            let ev = try #require(try await h.call("POST", "\(base)/events?calendar_id=primary", token: h.apiKey, json: [
                "title": "Sync", "when": ["start_time": 1_767_700_000, "end_time": 1_767_703_600]]).data?["id"]?.stringValue)
            let putEv = try await h.call("PUT", "\(base)/events/\(ev)?calendar_id=primary&select=id,title", token: h.apiKey, json: ["title": "Sync 2"])
            #expect(keys(putEv.data) == ["id", "title"], "\(putEv.text)")
            let ct = try #require(try await h.call("POST", "\(base)/contacts", token: h.apiKey, json: ["given_name": "Ada"]).data?["id"]?.stringValue)
            let putCt = try await h.call("PUT", "\(base)/contacts/\(ct)?select=id,given_name", token: h.apiKey, json: ["given_name": "Ada L."])
            #expect(keys(putCt.data) == ["id", "given_name"], "\(putCt.text)")
            // A nested object sent in a PUT replaces the stored one.
            try await deliver(h, to: "select@gmail.com", ["subject": "Nested"])
            let m = try await messageID(h, g.id, subject: "Nested")
            _ = try await h.call("PUT", "\(base)/messages/\(m)", token: h.apiKey, json: ["metadata": ["key1": "a", "key2": "b"]])
            let replaced = try await h.call("PUT", "\(base)/messages/\(m)", token: h.apiKey, json: ["metadata": ["key3": "c"]])
            #expect(replaced.data?["metadata"] == ["key3": "c"], "\(replaced.text)")
        }
    }

    @Test("v3 l. 167: metadata_pair takes key1 to key5 only on calendars, events and contacts; events take no other filter with it")
    func metadataPairRules() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "pairs@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)"
            for path in ["calendars?", "events?calendar_id=primary&", "contacts?"] {
                let r = try await h.call("GET", "\(base)/\(path)metadata_pair=foo:bar", token: h.apiKey)
                #expect(r.status == 400, "\(path): \(r.text)")
                #expect(r.text.contains("key1"), "\(path): \(r.text)")
                #expect(try await h.call("GET", "\(base)/\(path)metadata_pair=key5:bar", token: h.apiKey).status == 200, "\(path)")
            }
            let mixed = try await h.call("GET", "\(base)/events?calendar_id=primary&metadata_pair=key1:x&title=Sync", token: h.apiKey)
            #expect(mixed.status == 400 && mixed.text.contains("title"), "\(mixed.text)")
        }
    }

    @Test("v3 l. 168: partial, case-insensitive thread subject and event description and location")
    func partialMatching() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "partial@gmail.com", provider: "google")
            try await deliver(h, to: "partial@gmail.com", ["subject": "Launch Checklist"])
            try await deliver(h, to: "partial@gmail.com", ["subject": "Lunch"])
            let threads = try await h.call("GET", "/v3/grants/\(g.id)/threads?subject=\(enc("LAUNCH CHECK"))", token: h.apiKey)
            #expect(threads.data?.arrayValue?.map { $0["subject"]?.stringValue } == ["Launch Checklist"], "\(threads.text)")
            let path = "/v3/grants/\(g.id)/events?calendar_id=primary"
            _ = try await h.call("POST", path, token: h.apiKey, json: ["title": "Review", "description": "Quarterly PLANNING notes",
                                                                       "location": "Room Blue", "when": ["start_time": 1_767_700_000, "end_time": 1_767_703_600]])
            _ = try await h.call("POST", path, token: h.apiKey, json: ["title": "Other", "description": "nothing", "location": "Room Red",
                                                                       "when": ["start_time": 1_767_700_000, "end_time": 1_767_703_600]])
            for q in ["description=planning", "location=BLUE"] {
                let r = try await h.call("GET", path + "&start=1767600000&end=1767800000&\(q)", token: h.apiKey)
                #expect(r.data?.arrayValue?.map { $0["title"]?.stringValue } == ["Review"], "\(q): \(r.text)")
            }
        }
    }

    @Test("v3 l. 183, 192: idp_settings and domain are stored; ios and android redirect URIs need their settings")
    func applicationSettings() async throws {
        try await withSimulator { h in
            let patched = try await h.call("PATCH", "/v3/applications", token: h.apiKey, json: [
                "idp_settings": ["origins": ["https://app.example.com"], "issuers": ["https://issuer.example.com"]], "domain": "auth.example.com"])
            #expect(patched.status == 200, "\(patched.text)")
            let app = try await h.call("GET", "/v3/applications", token: h.apiKey)
            #expect(app.data?["domain"]?.stringValue == "auth.example.com")
            #expect(app.data?["idp_settings"]?["origins"] == ["https://app.example.com"])
            #expect(app.data?["idp_settings"]?["issuers"] == ["https://issuer.example.com"])
            let path = "/v3/applications/redirect-uris"
            let iosBare = try await h.call("POST", path, token: h.apiKey, json: ["url": "com.example.app://cb", "platform": "ios"])
            #expect(iosBare.status == 400 && iosBare.text.contains("bundle_id"), "\(iosBare.text)")
            let ios = try await h.call("POST", path, token: h.apiKey, json: ["url": "com.example.app://cb", "platform": "ios",
                                                                             "settings": ["bundle_id": "com.example.app"]])
            #expect(ios.status == 200 || ios.status == 201, "a deep link: \(ios.text)")
            let android = try await h.call("POST", path, token: h.apiKey, json: ["url": "com.example.app://cb2", "platform": "android",
                                                                                 "settings": ["package_name": "com.example.app"]])
            #expect(android.status == 400 && android.text.contains("sha1_certificate_fingerprint"), "\(android.text)")
            let tv = try await h.call("POST", path, token: h.apiKey, json: ["url": "https://tv.example.com/cb", "platform": "tv"])
            #expect(tv.status == 400, "\(tv.text)")
        }
    }

    @Test("v3 l. 199, 203: the nylas connector takes the provider only; deleting a connector stops its grants")
    func connectors() async throws {
        try await withSimulator { h in
            let nylas = try await h.call("POST", "/v3/connectors", token: h.apiKey, json: ["provider": "nylas"])
            #expect(nylas.status == 201, "\(nylas.text)")
            #expect(nylas.data?["name"]?.stringValue == "Nylas Connector")
            #expect(try await h.call("GET", "/v3/connectors/google", token: h.apiKey).data?["name"]?.stringValue == "Google Connector")
            let g = try h.sim.createGrant(email: "conn@outlook.com", provider: "microsoft")
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/folders", token: h.apiKey).status == 200)
            let gone = try await h.call("DELETE", "/v3/connectors/microsoft", token: h.apiKey)
            #expect(gone.status == 200 && gone.json?["request_id"] != nil, "\(gone.text)")
            let refused = try await h.call("GET", "/v3/grants/\(g.id)/folders", token: h.apiKey)
            #expect(refused.status == 401, "\(refused.text)")
            #expect(refused.errorType == "grant.invalid")
        }
    }

    @Test("v3 l. 230–238: response_type required; provider lists, a 256-character state, credential_id and adminconsent")
    func authParameters() async throws {
        try await withSimulator { h in
            let app = h.sim.region(.us).v3
            let redirect = "https://app.example.com/callback"
            try await registerRedirect(h, redirect)
            let start = "/v3/connect/auth?client_id=\(app.clientID)&redirect_uri=\(enc(redirect))"
            let noType = try await h.call("GET", start + "&login_hint=a@gmail.com")
            #expect(noType.status == 400 && noType.text.contains("response_type"), "\(noType.text)")
            let list = try await h.call("GET", start + "&response_type=code&provider=\(enc("google,microsoft"))&login_hint=b@outlook.com")
            #expect(list.status == 302 && list.headers["location"]?.contains("code=") == true, "\(list.status) \(list.text)")
            let state256 = String(repeating: "s", count: 256)
            let ok = try await h.call("GET", start + "&response_type=code&login_hint=c@gmail.com&state=\(state256)")
            #expect(ok.status == 302 && ok.headers["location"]?.contains("state=\(state256)") == true, "\(ok.status)")
            let tooLong = try await h.call("GET", start + "&response_type=code&login_hint=c@gmail.com&state=\(state256)s")
            #expect(tooLong.status == 400 && tooLong.text.contains("state"), "\(tooLong.text)")
            let cred = try await h.call("POST", "/v3/connectors/microsoft/creds", token: h.apiKey, json: [
                "name": "Admin consent", "credential_type": "adminconsent",
                "credential_data": ["client_id": "c", "client_secret": "s", "tenant": "common"]])
            let credID = try #require(cred.data?["id"]?.stringValue, "\(cred.text)")
            let consent = try await h.call("GET", start + "&response_type=adminconsent&provider=microsoft&credential_id=\(credID)")
            #expect(consent.status == 302 && consent.headers["location"]?.hasPrefix(redirect) == true, "\(consent.status) \(consent.text)")
            let override = try await h.call("GET", start + "&response_type=code&provider=microsoft&credential_id=\(credID)&login_hint=d@outlook.com")
            #expect(override.status == 302 && override.headers["location"]?.contains("code=") == true, "\(override.status) \(override.text)")
        }
    }

    @Test("v3 l. 246, 261: a form-encoded code exchange; a refresh answer has no provider")
    func formExchange() async throws {
        try await withSimulator { h in
            let app = h.sim.region(.us).v3
            let redirect = "https://app.example.com/callback"
            try await registerRedirect(h, redirect)
            let code = try await authCode(h, email: "form@gmail.com", redirect: redirect, extra: "&access_type=offline")
            let form = "grant_type=authorization_code&client_id=\(enc(app.clientID))&client_secret=\(enc(app.apiKey))"
                + "&code=\(enc(code))&redirect_uri=\(enc(redirect))"
            let t = try await h.raw("POST", "/v3/connect/token", body: Array(form.utf8),
                                    headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(t.status == 200, "\(t.text)")
            #expect(t.json?["provider"]?.stringValue == "google")
            let refresh = try #require(t.json?["refresh_token"]?.stringValue)
            let r = try await h.call("POST", "/v3/connect/token", json: [
                "grant_type": "refresh_token", "client_id": .string(app.clientID), "client_secret": .string(app.apiKey),
                "refresh_token": .string(refresh)])
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json?["grant_id"] == t.json?["grant_id"])
            #expect(r.json?["provider"] == nil, "provider only on code exchange: \(r.text)")
        }
    }

    @Test("v3 l. 271–277: custom auth with Microsoft and Yahoo refresh tokens, bulk credentials and Nylas agent accounts")
    func customAuthProviders() async throws {
        try await withSimulator { h in
            func custom(_ body: JSON) async throws -> HTTPClient.Response {
                try await h.call("POST", "/v3/connect/custom", token: h.apiKey, json: body)
            }
            let ms = try await custom(["provider": "microsoft", "settings": ["refresh_token": "sim:cm@outlook.com"]])
            #expect(ms.status == 201 && ms.data?["email"]?.stringValue == "cm@outlook.com", "\(ms.text)")
            let yahoo = try await custom(["provider": "yahoo", "settings": ["refresh_token": "sim:cy@yahoo.com"]])
            #expect(yahoo.status == 201 && yahoo.data?["provider"]?.stringValue == "yahoo", "\(yahoo.text)")
            let cred = try await h.call("POST", "/v3/connectors/microsoft/creds", token: h.apiKey, json: [
                "name": "bulk", "credential_type": "adminconsent", "credential_data": ["client_id": "c", "client_secret": "s", "tenant": "common"]])
            let credID = try #require(cred.data?["id"]?.stringValue)
            let bulk = try await custom(["provider": "microsoft", "settings": ["email_address": "bulk@corp.example.com", "credential_id": .string(credID)]])
            #expect(bulk.status == 201, "\(bulk.text)")
            #expect(bulk.data?["email"]?.stringValue == "bulk@corp.example.com")
            #expect(bulk.data?["credential_id"]?.stringValue == credID)
            let sa = try await h.call("POST", "/v3/connectors/google/creds", token: h.apiKey, json: [
                "name": "sa", "credential_type": "serviceaccount",
                "credential_data": ["type": "service_account", "private_key_id": "k", "private_key": "-----BEGIN", "client_email": "sa@proj.iam.gserviceaccount.com"]])
            let saID = try #require(sa.data?["id"]?.stringValue)
            let gbulk = try await custom(["provider": "google", "settings": ["email_address": "gbulk@corp.example.com", "credential_id": .string(saID)]])
            #expect(gbulk.status == 201 && gbulk.data?["credential_id"]?.stringValue == saID, "\(gbulk.text)")
            // Like every provider of custom auth, an agent account needs its connector.
            let connector = try await h.call("POST", "/v3/connectors", token: h.apiKey, json: ["provider": "nylas"])
            #expect(connector.status == 200 || connector.status == 201, "\(connector.text)")
            let agent = try await custom(["provider": "nylas", "name": "Agent", "settings": ["email": "agent@example.com"]])
            #expect(agent.status == 201, "\(agent.text)")
            #expect(agent.data?["provider"]?.stringValue == "nylas" && agent.data?["email"]?.stringValue == "agent@example.com")
            let noEmail = try await custom(["provider": "nylas", "settings": [:]])
            #expect(noEmail.status == 400 && noEmail.text.contains("email"), "\(noEmail.text)")
        }
    }

    @Test("v3 l. 284–287, 553: grant sort_by and account_ids; email_aliases only with expose_aliases; PATCH settings; no object field")
    func grantDetails() async throws {
        try await withSimulator { h in
            let a = try h.sim.createGrant(email: "alpha@gmail.com", provider: "google")
            #expect(try await h.call("GET", "/v3/grants?sort_by=updated_at", token: h.apiKey).status == 200)
            #expect(try await h.call("GET", "/v3/grants?sort_by=name", token: h.apiKey).status == 400)
            // account_ids: the v2 accounts of a linked v2 application.
            let (account, _) = try await v2Connect(h, email: "lee@gmail.com")
            let v2 = h.sim.region(.us).v2
            _ = try await h.call("PATCH", "/v3/applications", token: h.apiKey, json: ["v2_application_id": .string(v2.clientID)])
            let lee = try h.sim.createGrant(email: "lee@gmail.com", provider: "google")
            let byIDs = try await h.call("GET", "/v3/grants?account_ids=\(account),zzzzzzzzzzzzzzzzzzzzzzzzz", token: h.apiKey)
            #expect(byIDs.data?.arrayValue?.map { $0["id"]?.stringValue } == [lee.id], "\(byIDs.text)")
            let plain = try await h.call("GET", "/v3/grants/\(a.id)", token: h.apiKey)
            #expect(plain.data?["email_aliases"] == nil)
            #expect(plain.data?["object"] == nil, "a grant has no object field")
            #expect(UUID(uuidString: a.id) != nil)
            let exposed = try await h.call("GET", "/v3/grants/\(a.id)?expose_aliases=true", token: h.apiKey)
            #expect(exposed.data?["email_aliases"]?.arrayValue != nil, "\(exposed.text)")
            let patched = try await h.call("PATCH", "/v3/grants/\(a.id)", token: h.apiKey, json: ["settings": ["refresh_token": "new-token"]])
            #expect(patched.status == 200, "\(patched.text)")
        }
    }

    @Test("v3 l. 304, 323: PUT messages/clean answers each message with its conversation")
    func cleanConversations() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "clean@gmail.com", provider: "google")
            try await deliver(h, to: "clean@gmail.com", ["subject": "Messy", "body": "<p>Hello <b>there</b></p><p>Thanks,<br>Al</p>"])
            let id = try await messageID(h, g.id, subject: "Messy")
            let r = try await h.call("PUT", "/v3/grants/\(g.id)/messages/clean", token: h.apiKey,
                                     json: ["message_id": [.string(id)], "ignore_links": true, "html_as_markdown": false])
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json?["request_id"] != nil)
            let cleaned = try #require(r.data?.arrayValue)
            #expect(cleaned.count == 1)
            #expect(cleaned.first?["id"]?.stringValue == id)
            let text = try #require(cleaned.first?["conversation"]?.stringValue)
            #expect(text.contains("Hello") && !text.contains("<"), "\(text)")
            let missing = try await h.call("PUT", "/v3/grants/\(g.id)/messages/clean", token: h.apiKey, json: [:])
            #expect(missing.status == 400 && missing.text.contains("message_id"), "\(missing.text)")
        }
    }

    @Test("v3 l. 311, 321: send_at from now+60 s to now+30 days; no cancel within 10 s; success is schedule send succeeded")
    func scheduleBounds() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "bounds@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/messages/send"
            let now = h.sim.now.seconds
            for (offset, status) in [(59, 400), (60, 202), (30 * 86400, 202), (30 * 86400 + 1, 400)] {
                let r = try await h.call("POST", path, token: h.apiKey, json: ["to": [["email": "x@example.com"]], "send_at": .int(now + offset)])
                #expect(r.status == status, "send_at now+\(offset): \(r.status) \(r.text)")
            }
            let late = try await h.call("POST", path, token: h.apiKey, json: ["to": [["email": "x@example.com"]], "subject": "Soon",
                                                                              "send_at": .int(now + 65)])
            let id = try #require(late.json?["schedule_id"]?.stringValue, "\(late.text)")
            await h.sim.advance(by: .seconds(58))
            let cancel = try await h.call("DELETE", "/v3/grants/\(g.id)/messages/schedules/\(id)", token: h.apiKey)
            #expect(cancel.status == 400 && cancel.text.contains("10 seconds"), "7 s before send_at: \(cancel.text)")
            await h.sim.advance(by: .seconds(60))
            let done = try await h.call("GET", "/v3/grants/\(g.id)/messages/schedules/\(id)", token: h.apiKey)
            #expect(done.data?["status"]?["code"]?.stringValue == "success", "\(done.text)")
            #expect(done.data?["status"]?["description"]?.stringValue == "schedule send succeeded")
        }
    }

    @Test("v3 l. 319: Idempotency-Key over 256 characters 400, another payload 409, the same payload the first answer")
    func idempotency() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "idem@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/messages/send"
            let tooLong = try await h.call("POST", path, token: h.apiKey, json: ["to": [["email": "x@example.com"]]],
                                           headers: ["Idempotency-Key": String(repeating: "k", count: 257)])
            #expect(tooLong.status == 400)
            #expect(tooLong.errorType == "api.invalid_idempotency_key")
            #expect(tooLong.json?["error"]?["message"]?.stringValue == "Idempotency-Key must be 256 characters or fewer.")
            let body: JSON = ["to": [["email": "x@example.com"]], "subject": "Once"]
            let first = try await h.call("POST", path, token: h.apiKey, json: body, headers: ["Idempotency-Key": "key-1"])
            let second = try await h.call("POST", path, token: h.apiKey, json: body, headers: ["Idempotency-Key": "key-1"])
            #expect(first.status == 200 && second.status == 200)
            #expect(second.data?["id"] == first.data?["id"], "the cached answer")
            let other = try await h.call("POST", path, token: h.apiKey, json: ["to": [["email": "y@example.com"]], "subject": "Twice"],
                                         headers: ["Idempotency-Key": "key-1"])
            #expect(other.status == 409)
            #expect(other.errorType == "api.invalid_idempotent_request")
            let sent = try await h.call("GET", "/v3/grants/\(g.id)/messages?in=SENT", token: h.apiKey)
            #expect(sent.data?.arrayValue?.compactMap { $0["subject"]?.stringValue } == ["Once"], "sent once")
        }
    }

    @Test("v3 l. 313, 315: a part named attachment is a file; a body over 25 MB is 413")
    func multipartSend() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "parts@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/messages/send"
            let message = JSON.object(["to": [["email": "x@example.com"]], "subject": "Spec part"])
            let body = multipart([("message", nil, "application/json", message.bytes),
                                  ("attachment", "a.txt", "text/plain", Array("hello".utf8))])
            let r = try await h.raw("POST", path, token: h.apiKey, body: body, headers: multipartHeaders)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.data?["attachments"]?.arrayValue?.map { $0["filename"]?.stringValue } == ["a.txt"])
            let big = [UInt8](repeating: 0x61, count: 25 * 1024 * 1024 + 1024)
            let tooBig = try await h.raw("POST", path, token: h.apiKey, body: big, headers: multipartHeaders)
            #expect(tooBig.status == 413, "\(tooBig.text.prefix(200))")
            #expect(tooBig.json?["request_id"] != nil)
        }
    }

    @Test("v3 l. 329–336, 477: multipart drafts with a draft or message part; draft filters; thread_id empty on a new draft")
    func drafts() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "drafter@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)/drafts"
            var id = ""
            for part in ["draft", "message"] {
                let json = JSON.object(["to": [["email": "x@example.com"]], "subject": .string("By \(part)")])
                let r = try await h.raw("POST", base, token: h.apiKey,
                                        body: multipart([(part, nil, "application/json", json.bytes), ("file0", "a.txt", "text/plain", Array("a".utf8))]),
                                        headers: multipartHeaders)
                #expect(r.status == 200, "\(part): \(r.text)")
                #expect(r.data?["subject"]?.stringValue == "By \(part)")
                #expect(r.data?["attachments"]?.arrayValue?.count == 1)
                id = r.data?["id"]?.stringValue ?? ""
            }
            let put = try await h.raw("PUT", "\(base)/\(id)", token: h.apiKey,
                                      body: multipart([("message", nil, "application/json", JSON.object(["subject": "Edited"]).bytes),
                                                       ("file1", "b.txt", "text/plain", Array("b".utf8))]),
                                      headers: multipartHeaders)
            #expect(put.status == 200 && put.data?["subject"]?.stringValue == "Edited", "\(put.text)")
            #expect(put.data?["attachments"]?.arrayValue?.map { $0["filename"]?.stringValue } == ["b.txt"])
            let special = try await h.call("POST", base, token: h.apiKey, json: [
                "subject": "Special", "to": [["email": "to@example.com"]], "cc": [["email": "cc@example.com"]], "bcc": [["email": "bcc@example.com"]],
                "starred": true, "attachments": [["filename": "s.txt", "content_type": "text/plain", "content": "aGk="]]])
            #expect(special.data?["thread_id"]?.stringValue == "", "a new draft has no thread: \(special.text)")
            for q in ["to=to@example.com", "cc=cc@example.com", "bcc=bcc@example.com", "starred=true", "any_email=cc@example.com", "subject=SPEC"] {
                let r = try await h.call("GET", "\(base)?\(q)", token: h.apiKey)
                #expect(r.data?.arrayValue?.map { $0["subject"]?.stringValue } == ["Special"], "\(q): \(r.text)")
            }
            let plain = try await h.call("POST", base, token: h.apiKey, json: ["subject": "Plain", "to": [["email": "x@example.com"]]])
            #expect(plain.status == 200, "\(plain.text)")
            let withFiles = try await h.call("GET", "\(base)?has_attachment=true", token: h.apiKey)
            #expect(Set(withFiles.data?.arrayValue?.compactMap { $0["subject"]?.stringValue } ?? []) == ["By draft", "Edited", "Special"],
                    "\(withFiles.text)")
        }
    }

    @Test("v3 l. 342: thread filters any_email (25 at most), from, in, starred, has_attachment, search_query_native, select")
    func threadFilters() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "threads@gmail.com", provider: "google")
            try await deliver(h, to: "threads@gmail.com", ["from": ["email": "alice@example.org"], "subject": "Alpha", "starred": true,
                                                           "attachments": [["filename": "a.txt", "content_type": "text/plain", "content": "a"]]])
            try await deliver(h, to: "threads@gmail.com", ["from": ["email": "bob@example.org"], "subject": "Beta"])
            let base = "/v3/grants/\(g.id)/threads"
            for q in ["any_email=alice@example.org", "from=alice@example.org", "starred=true", "has_attachment=true", "search_query_native=alpha"] {
                let r = try await h.call("GET", "\(base)?\(q)", token: h.apiKey)
                #expect(r.data?.arrayValue?.map { $0["subject"]?.stringValue } == ["Alpha"], "\(q): \(r.text)")
            }
            #expect(try await h.call("GET", "\(base)?in=INBOX", token: h.apiKey).data?.arrayValue?.count == 2)
            let tooMany = (0..<26).map { "u\($0)@example.com" }.joined(separator: ",")
            #expect(try await h.call("GET", "\(base)?any_email=\(tooMany)", token: h.apiKey).status == 400)
            let selected = try await h.call("GET", "\(base)?select=id,subject", token: h.apiKey)
            #expect(selected.data?.arrayValue?.allSatisfy { keys($0) == ["id", "subject"] } == true, "\(selected.text)")
        }
    }

    @Test("v3 l. 353–354, 496: folder names up to 1024 characters; Microsoft sub-folders by parent_id in one list; IMAP attributes")
    func folders() async throws {
        try await withSimulator { h in
            let ms = try h.sim.createGrant(email: "folders@outlook.com", provider: "microsoft")
            let base = "/v3/grants/\(ms.id)/folders"
            let long = try await h.call("POST", base, token: h.apiKey, json: ["name": .string(String(repeating: "n", count: 1025))])
            #expect(long.status == 400 && long.text.contains("1024"), "\(long.text)")
            #expect(try await h.call("POST", base, token: h.apiKey, json: ["name": .string(String(repeating: "n", count: 1024))]).status == 200)
            let parent = try #require(try await h.call("POST", base, token: h.apiKey, json: ["name": "Parent"]).data?["id"]?.stringValue)
            let child = try await h.call("POST", base, token: h.apiKey, json: ["name": "Child", "parent_id": .string(parent)])
            #expect(child.data?["parent_id"]?.stringValue == parent, "\(child.text)")
            let all = try await h.call("GET", "\(base)?limit=200", token: h.apiKey)
            let names = all.data?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names.contains("Parent") && names.contains("Child"), "one flat list: \(names)")
            let under = try await h.call("GET", "\(base)?parent_id=\(enc(parent))", token: h.apiKey)
            #expect(under.data?.arrayValue?.map { $0["name"]?.stringValue } == ["Child"], "\(under.text)")
            let imap = try h.sim.createGrant(email: "folders@example.com", provider: "imap")
            let imapFolders = try await h.call("GET", "/v3/grants/\(imap.id)/folders", token: h.apiKey)
            let sent = try #require(imapFolders.data?.arrayValue?.first { $0["name"]?.stringValue == "Sent" }, "\(imapFolders.text)")
            #expect(sent["attributes"] == ["\\Sent"])
        }
    }

    @Test("v3 l. 363, 499: attachment metadata honours select and has no object field")
    func attachmentMetadata() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "att@gmail.com", provider: "google")
            try await deliver(h, to: "att@gmail.com", ["subject": "With file",
                                                       "attachments": [["filename": "notes.txt", "content_type": "text/plain", "content": "notes"]]])
            let id = try await messageID(h, g.id, subject: "With file")
            let m = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(id)", token: h.apiKey)
            let aid = try #require(m.data?["attachments"]?.arrayValue?.first?["id"]?.stringValue)
            let meta = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(aid))?message_id=\(id)", token: h.apiKey)
            #expect(meta.status == 200, "\(meta.text)")
            #expect(meta.data?["object"] == nil)
            let selected = try await h.call("GET", "/v3/grants/\(g.id)/attachments/\(enc(aid))?message_id=\(id)&select=id,filename", token: h.apiKey)
            #expect(keys(selected.data) == ["id", "filename"], "\(selected.text)")
        }
    }

    @Test("v3 l. 377: hex_color and hex_foreground_color in snake_case are stored")
    func calendarColors() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "colors@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)/calendars"
            let id = try #require(try await h.call("POST", base, token: h.apiKey, json: ["name": "Colors"]).data?["id"]?.stringValue)
            let put = try await h.call("PUT", "\(base)/\(enc(id))", token: h.apiKey, json: ["hex_color": "#112233", "hex_foreground_color": "#445566"])
            #expect(put.status == 200, "\(put.text)")
            let got = try await h.call("GET", "\(base)/\(enc(id))", token: h.apiKey)
            #expect(got.data?["hex_color"]?.stringValue == "#112233")
            #expect(got.data?["hex_foreground_color"]?.stringValue == "#445566")
        }
    }

    @Test("v3 l. 379, 384: tentative_as_busy, participant open hours with exdates, specific times, round_to and buffer bounds")
    func availabilityDetails() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "tent@gmail.com", provider: "google")
            let invite = try await h.call("POST", "/__sim/providers/mailboxes/tent@gmail.com/events", json: [
                "title": "Maybe", "organizer": ["email": "boss@example.com"], "participants": [["email": "tent@gmail.com", "status": "maybe"]],
                "when": ["start_time": .int(monday + 10 * 3600), "end_time": .int(monday + 11 * 3600)]])
            #expect(invite.status == 201, "\(invite.text)")
            func busyHours(_ extra: [String: JSON]) async throws -> [Int] {
                var body: [String: JSON] = ["start_time": .int(monday), "end_time": .int(monday + 86400), "emails": ["tent@gmail.com"]]
                for (k, v) in extra { body[k] = v }
                let r = try await h.call("POST", "/v3/grants/\(g.id)/calendars/free-busy", token: h.apiKey, json: .object(body))
                #expect(r.status == 200, "\(r.text)")
                return r.data?.arrayValue?.first?["time_slots"]?.arrayValue?.compactMap { $0["start_time"]?.intValue.map { ($0 - monday) / 3600 } } ?? []
            }
            #expect(try await busyHours([:]) == [10], "tentative is busy by default")
            #expect(try await busyHours(["tentative_as_busy": true]) == [10])
            #expect(try await busyHours(["tentative_as_busy": false]) == [])
            func slots(_ participant: [String: JSON], _ extra: [String: JSON] = [:]) async throws -> HTTPClient.Response {
                var p = participant
                p["email"] = "tent@gmail.com"
                var body: [String: JSON] = ["start_time": .int(monday + 9 * 3600), "end_time": .int(monday + 13 * 3600), "duration_minutes": 60,
                                            "participants": [.object(p)]]
                for (k, v) in extra { body[k] = v }
                return try await h.call("POST", "/v3/calendars/availability", token: h.apiKey, json: .object(body))
            }
            func hours(_ r: HTTPClient.Response) -> [Int] {
                r.data?["time_slots"]?.arrayValue?.compactMap { $0["start_time"]?.intValue.map { ($0 - monday) / 3600 } } ?? []
            }
            #expect(hours(try await slots([:])) == [9, 11, 12])
            #expect(hours(try await slots([:], ["availability_rules": ["tentative_as_busy": false]])) == [9, 10, 11, 12])
            let open: JSON = ["days": [1], "timezone": "UTC", "start": "9:00", "end": "10:00"]
            #expect(hours(try await slots(["open_hours": [open]])) == [9], "Monday is day 1 (Sunday 0)")
            var closed = open
            closed["exdates"] = ["2026-01-05"]
            #expect(hours(try await slots(["open_hours": [closed]])) == [])
            let specific = try await slots(["only_specific_time_availability": true,
                                            "specific_time_availability": [["date": "2026-01-05", "start": "12:00", "end": "13:00", "timezone": "UTC"]]])
            #expect(hours(specific) == [12], "\(specific.text)")
            for (extra, field) in [(["round_to": JSON.int(7)], "round_to"), (["round_to": JSON.int(65)], "round_to"),
                                   (["availability_rules": JSON.object(["buffer": ["before": 125]])], "before"),
                                   (["availability_rules": JSON.object(["buffer": ["before": 7]])], "before")] {
                let r = try await slots([:], extra)
                #expect(r.status == 400 && r.text.contains(field), "\(extra): \(r.text)")
            }
        }
    }

    @Test("v3 l. 391: events from now to a month on, overlapping ones too; description, location, attendees, busy, updated_after; ical_uid alone")
    func eventWindowAndFilters() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "window@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/events?calendar_id=primary"
            let now = h.sim.now.seconds
            for (title, start, end) in [("Past", now - 158_000, now - 154_400), ("Overlap", now - 8000, now + 7000),
                                        ("NearEnd", now + 2_672_000, now + 2_682_000), ("Later", now + 2_842_000, now + 2_845_600)] {
                let r = try await h.call("POST", path, token: h.apiKey, json: ["title": .string(title), "when": ["start_time": .int(start), "end_time": .int(end)]])
                #expect(r.status == 200, "\(title): \(r.text)")
            }
            let filter = try await h.call("POST", path, token: h.apiKey, json: [
                "title": "Filter me", "description": "Quarterly PLANNING notes", "location": "Room Blue", "busy": false,
                "participants": [["email": "att1@example.com"], ["email": "att2@example.com"]],
                "when": ["start_time": .int(now + 86400), "end_time": .int(now + 90000)]])
            let uid = try #require(filter.data?["ical_uid"]?.stringValue)
            let defaults = try await h.call("GET", path, token: h.apiKey)
            #expect(Set(defaults.data?.arrayValue?.compactMap { $0["title"]?.stringValue } ?? []) == ["Overlap", "NearEnd", "Filter me"],
                    "from now to a month on: \(defaults.text.prefix(400))")
            let window = path + "&start=\(now - 86400)&end=\(now + 30 * 86400)"
            for q in ["description=planning", "location=blue", "attendees=att2@example.com", "attendees=att1@example.com,zzz@example.com", "busy=false"] {
                let r = try await h.call("GET", window + "&\(q)", token: h.apiKey)
                #expect(r.data?.arrayValue?.map { $0["title"]?.stringValue } == ["Filter me"], "\(q): \(r.text)")
            }
            #expect(try await h.call("GET", window + "&updated_after=\(now - 1)", token: h.apiKey).data?.arrayValue?.count == 2, "Overlap and Filter me")
            #expect(try await h.call("GET", window + "&updated_before=\(now - 1)", token: h.apiKey).data?.arrayValue?.isEmpty == true)
            let selected = try await h.call("GET", window + "&select=id,title", token: h.apiKey)
            #expect(selected.data?.arrayValue?.allSatisfy { keys($0) == ["id", "title"] } == true)
            let mixed = try await h.call("GET", path + "&ical_uid=\(enc(uid))&title=Filter", token: h.apiKey)
            #expect(mixed.status == 400 && mixed.text.contains("ical_uid"), "\(mixed.text)")
            // A datespan's end_date is inclusive: the event is listed on that day, not the next.
            _ = try await h.call("POST", path, token: h.apiKey, json: ["title": "Span", "when": ["start_date": "2026-01-20", "end_date": "2026-01-21"]])
            let lastDay = try await h.call("GET", path + "&title=Span&start=1768953600&end=1768953601", token: h.apiKey)
            #expect(lastDay.data?.arrayValue?.count == 1, "2026-01-21: \(lastDay.text)")
            let dayAfter = try await h.call("GET", path + "&title=Span&start=1769040000&end=1769040001", token: h.apiKey)
            #expect(dayAfter.data?.arrayValue?.isEmpty == true, "2026-01-22: \(dayAfter.text)")
        }
    }

    @Test("v3 l. 394–396, 399: calendar_id is required to get, update and delete an event")
    func eventCalendarID() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "calid@gmail.com", provider: "google")
            let created = try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=primary", token: h.apiKey,
                                           json: ["title": "Keep", "when": ["start_time": 1_767_700_000, "end_time": 1_767_703_600]])
            let id = try #require(created.data?["id"]?.stringValue)
            let path = "/v3/grants/\(g.id)/events/\(id)"
            for (method, body) in [("GET", nil), ("PUT", JSON.object(["title": "Changed"])), ("DELETE", nil)] as [(String, JSON?)] {
                let r = try await h.call(method, path, token: h.apiKey, json: body)
                #expect(r.status == 400, "\(method): \(r.text)")
                #expect(r.errorType == "invalid_request_error")
                #expect(r.text.contains("calendar_id"))
            }
            #expect(try await h.call("GET", path + "?calendar_id=primary", token: h.apiKey).data?["title"]?.stringValue == "Keep")
        }
    }

    @Test("v3 l. 401: title 1024 and location 255 at most, visibility values, status not settable, capacity and resources kept")
    func eventBody() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "body@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/events?calendar_id=primary"
            let when: JSON = ["start_time": 1_767_700_000, "end_time": 1_767_703_600]
            for (body, field) in [(["title": JSON.string(String(repeating: "t", count: 1025))], "title"),
                                  (["location": JSON.string(String(repeating: "l", count: 256))], "location"),
                                  (["visibility": JSON.string("secret")], "visibility")] {
                var b = body
                b["when"] = when
                let r = try await h.call("POST", path, token: h.apiKey, json: .object(b))
                #expect(r.status == 400 && r.text.contains(field), "\(field): \(r.text)")
            }
            let ok = try await h.call("POST", path, token: h.apiKey, json: [
                "title": .string(String(repeating: "t", count: 1024)), "location": .string(String(repeating: "l", count: 255)),
                "status": "cancelled", "capacity": 5, "hide_participants": true, "visibility": "public",
                "resources": [["email": "room@acme.example", "name": "Room"]], "when": when])
            #expect(ok.status == 200, "\(ok.text)")
            #expect(ok.data?["status"]?.stringValue == "confirmed", "status cannot be set")
            #expect(ok.data?["capacity"]?.intValue == 5)
            #expect(ok.data?["hide_participants"]?.boolValue == true)
            #expect(ok.data?["visibility"]?.stringValue == "public")
            #expect(ok.data?["resources"]?.arrayValue?.first?["email"]?.stringValue == "room@acme.example")
        }
    }

    @Test("v3 l. 393: events/import lists masters without metadata, 500 at most")
    func eventsImport() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "import@gmail.com", provider: "google")
            let created = try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=primary", token: h.apiKey, json: [
                "title": "Daily", "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"], "metadata": ["key1": "m"],
                "when": ["start_time": 1_768_000_000, "end_time": 1_768_003_600]])
            let master = try #require(created.data?["id"]?.stringValue)
            let r = try await h.call("GET", "/v3/grants/\(g.id)/events/import?calendar_id=primary&limit=500", token: h.apiKey)
            #expect(r.status == 200, "\(r.text)")
            let items = r.data?.arrayValue ?? []
            let daily = items.filter { $0["title"]?.stringValue == "Daily" }
            #expect(daily.map { $0["id"]?.stringValue } == [master], "the master, not its occurrences")
            #expect(daily.first?["recurrence"]?.arrayValue?.isEmpty == false)
            #expect(items.allSatisfy { $0["metadata"] == nil }, "no metadata")
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/events/import?calendar_id=primary&limit=501", token: h.apiKey).status == 400)
        }
    }

    @Test("v3 l. 397: send-rsvp answers request_id and data")
    func rsvpAnswer() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "guest@gmail.com", provider: "google")
            let invite = try await h.call("POST", "/__sim/providers/mailboxes/host@gmail.com/events", json: [
                "title": "Invite", "participants": [["email": "guest@gmail.com"]], "when": ["start_time": 1_767_800_000, "end_time": 1_767_803_600]])
            let uid = try #require(invite.json?["ical_uid"]?.stringValue, "\(invite.text)")
            let mine = try await h.call("GET", "/v3/grants/\(g.id)/events?calendar_id=primary&ical_uid=\(enc(uid))", token: h.apiKey)
            let id = try #require(mine.data?.arrayValue?.first?["id"]?.stringValue, "\(mine.text)")
            let r = try await h.call("POST", "/v3/grants/\(g.id)/events/\(id)/send-rsvp?calendar_id=primary", token: h.apiKey, json: ["status": "no"])
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json?["request_id"]?.stringValue != nil)
            #expect(r.data?.objectValue != nil, "\(r.text)")
        }
    }

    @Test("v3 l. 407–414, 558: contact field types, select, no groups for EWS, group paths")
    func contactDetails() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "book@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)/contacts"
            for (body, field) in [(["emails": JSON.array([["email": "p@example.com", "type": "personal"]])], "emails[0].type"),
                                  (["phone_numbers": JSON.array([["number": "+1 555", "type": "fax"]])], "phone_numbers[0].type"),
                                  (["physical_addresses": JSON.array([["city": "Town"]])], "type")] {
                var b = body
                b["given_name"] = "P"
                let r = try await h.call("POST", base, token: h.apiKey, json: .object(b))
                #expect(r.status == 400 && r.text.contains(field), "\(field): \(r.text)")
            }
            _ = try await h.call("POST", base, token: h.apiKey, json: ["given_name": "Ada", "emails": [["email": "ada@example.com", "type": "work"]]])
            let selected = try await h.call("GET", "\(base)?select=id,given_name", token: h.apiKey)
            #expect(selected.data?.arrayValue?.allSatisfy { keys($0) == ["id", "given_name"] } == true, "\(selected.text)")
            #expect(try await h.call("GET", "\(base)?recurse=true", token: h.apiKey).status == 200)
            let groups = try await h.call("GET", "\(base)/groups", token: h.apiKey)
            #expect(groups.data?.arrayValue?.allSatisfy { ($0["path"]?.stringValue?.isEmpty ?? true) == false } == true, "\(groups.text)")
            let ews = try h.sim.createGrant(email: "book@corp.example.com", provider: "ews")
            #expect(try await h.call("GET", "/v3/grants/\(ews.id)/contacts/groups", token: h.apiKey).status == 400)
        }
    }

    @Test("v3 l. 420, 594–595: compressed_delivery false by default; every spec trigger subscribable, contact.created not")
    func webhookTriggers() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let spec = ["calendar.created", "calendar.updated", "calendar.deleted", "event.created", "event.updated", "event.deleted",
                        "grant.created", "grant.updated", "grant.deleted", "grant.expired", "grant.imap_sync_completed",
                        "message.send_success", "message.send_failed", "message.bounce_detected", "message.created", "message.created.cleaned",
                        "message.updated", "message.deleted", "message.opened", "message.opened.legacy", "message.link_clicked",
                        "message.link_clicked.legacy", "thread.replied", "thread.replied.legacy", "contact.updated", "contact.deleted",
                        "folder.created", "folder.updated", "folder.deleted", "booking.created", "booking.pending", "booking.rescheduled",
                        "booking.cancelled", "booking.reminder", "message.transactional.bounced", "message.transactional.complaint",
                        "message.transactional.delivered", "message.transactional.rejected", "message.bounced", "message.complaint",
                        "message.delivered", "message.rejected", "notetaker.created", "notetaker.updated", "notetaker.deleted",
                        "notetaker.meeting_state", "notetaker.media", "message.created.truncated", "message.updated.truncated"]
            let r = try await h.call("POST", "/v3/webhooks", token: h.apiKey, json: ["trigger_types": .strings(spec), "webhook_url": .string(receiver.url)])
            #expect(r.status == 200, "\(r.text)")
            #expect(r.data?["compressed_delivery"]?.boolValue == false)
            #expect(r.data?["trigger_types"]?.arrayValue?.count == spec.count)
            for refused in ["contact.created", "message.intelligence.order"] {
                let x = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                         json: ["trigger_types": [.string(refused)], "webhook_url": .string(receiver.url + "?x=1")])
                #expect(x.status == 400 && x.text.contains(refused), "\(refused): \(x.text)")
            }
        }
    }

    @Test("v3 l. 430: every allowed trigger_type works for mock-payload and send-test-event")
    func mockTriggers() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        receiver.trust(secret: "mock-webhook-secret")
        // Two admin calls per trigger at one instant of a manual clock: rate limits are tested elsewhere.
        try await withSimulator(configure: { $0.settings.nylasRateLimits = nil }) { h in
            let allowed = ["calendar.created", "calendar.updated", "calendar.deleted", "event.created", "event.updated", "event.deleted",
                           "grant.created", "grant.updated", "grant.deleted", "grant.expired", "message.send_success", "message.send_failed",
                           "message.bounce_detected", "message.created", "message.created.truncated", "message.created.cleaned",
                           "message.updated", "message.updated.truncated", "contact.updated", "contact.deleted", "folder.created",
                           "folder.updated", "folder.deleted", "message.opened", "message.link_clicked", "thread.replied"]
            for t in allowed {
                let mock = try await h.call("POST", "/v3/webhooks/mock-payload", token: h.apiKey, json: ["trigger_type": .string(t)])
                #expect(mock.status == 200 && mock.data?["type"]?.stringValue == t, "\(t): \(mock.text.prefix(200))")
                let test = try await h.call("POST", "/v3/webhooks/send-test-event", token: h.apiKey,
                                            json: ["trigger_type": .string(t), "webhook_url": .string(receiver.url)])
                #expect(test.status == 200 && test.data?.stringValue == "success", "\(t): \(test.text)")
            }
            #expect(receiver.received.allSatisfy { $0.signatureValid == true }, "signed with mock-webhook-secret")
        }
    }

    @Test("v3 l. 620–628: delivered grant.*, message.deleted, folder.*, event.deleted and bounce payloads")
    func deliveredPayloads() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let triggers = ["grant.created", "grant.updated", "grant.expired", "grant.imap_sync_completed", "message.deleted",
                            "folder.created", "folder.updated", "folder.deleted", "event.deleted", "message.bounce_detected"]
            let hook = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                        json: ["trigger_types": .strings(triggers), "webhook_url": .string(receiver.url)])
            #expect(hook.status == 200, "\(hook.text)")
            func object(_ type: String) async throws -> JSON {
                let d = try #require(await h.sim.nextDelivery { $0.type == type }, "\(type)")
                return try #require(d.payload?["data"]?["object"], "\(type)")
            }
            let g = try h.sim.createGrant(email: "hooked@gmail.com", provider: "google")
            let created = try await object("grant.created")
            #expect(created["code"]?.intValue == 25012)
            #expect(keys(created).isSuperset(of: ["grant_id", "integration_id", "login_id", "provider", "email", "name", "scope"]), "\(created)")
            _ = try h.sim.createGrant(email: "hooked@gmail.com", provider: "google")
            let updated = try await object("grant.updated")
            #expect(updated["code"]?.intValue == 25014 && updated["grant_id"]?.stringValue == g.id, "\(updated)")
            _ = try h.sim.createGrant(email: "hooked@example.com", provider: "imap")
            #expect(try await object("grant.imap_sync_completed")["code"]?.intValue == 25012)
            // message.deleted
            try await deliver(h, to: "hooked@gmail.com", ["subject": "Doomed"])
            let mid = try await messageID(h, g.id, subject: "Doomed")
            _ = try await h.call("DELETE", "/v3/grants/\(g.id)/messages/\(mid)?hard_delete=true", token: h.apiKey)
            #expect(try await object("message.deleted") == ["id": .string(mid), "grant_id": .string(g.id), "object": "message"])
            // folder.*
            let folder = try #require(try await h.call("POST", "/v3/grants/\(g.id)/folders", token: h.apiKey, json: ["name": "Hooked"]).data?["id"]?.stringValue)
            _ = try await h.call("PUT", "/v3/grants/\(g.id)/folders/\(folder)", token: h.apiKey, json: ["name": "Hooked 2"])
            _ = try await h.call("DELETE", "/v3/grants/\(g.id)/folders/\(folder)", token: h.apiKey)
            for type in ["folder.created", "folder.updated", "folder.deleted"] {
                let f = try await object(type)
                #expect(keys(f) == ["id", "grant_id", "name", "object", "system_folder"] && f["object"] == "folder", "\(type): \(f)")
            }
            // event.deleted
            let ev = try #require(try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=primary", token: h.apiKey, json: [
                "title": "Gone", "when": ["start_time": 1_767_700_000, "end_time": 1_767_703_600]]).data?["id"]?.stringValue)
            _ = try await h.call("DELETE", "/v3/grants/\(g.id)/events/\(ev)?calendar_id=primary", token: h.apiKey)
            let deleted = try await object("event.deleted")
            #expect(deleted["id"]?.stringValue == ev && deleted["calendar_id"]?.stringValue == "hooked@gmail.com" && deleted["object"] == "event")
            #expect(deleted["title"] == nil)
            // message.bounce_detected
            _ = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey,
                                 json: ["to": [["email": "nobody@nowhere.invalid"]], "subject": "Bounce"])
            let bounce = try #require(await h.sim.advanceUntilDelivery(within: .seconds(300)) { $0.type == "message.bounce_detected" })
            let b = try #require(bounce.payload?["data"]?["object"])
            #expect(keys(b).isSuperset(of: ["bounce_reason", "bounce_date", "bounced_addresses", "type", "code", "grant_id", "origin"]), "\(b)")
            #expect(b["type"]?.stringValue == "mailbox_unavailable")
            #expect(keys(b["origin"]).isSuperset(of: ["to", "from", "cc", "bcc", "subject", "mime_id", "id", "original_send_at"]))
            // grant.expired
            try h.sim.expireCredentials(grantID: g.id)
            let expired = try await object("grant.expired")
            #expect(expired["code"]?.intValue == 25009)
            #expect(keys(expired).isSuperset(of: ["grant_id", "integration_id", "provider", "email", "grant_updated_at"]), "\(expired)")
        }
    }

    @Test("v3 l. 638–641: Nylas IDs are UUIDs, Google labels Label_N, an IMAP reply takes the Message-ID")
    func objectIDs() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "ids@gmail.com", provider: "google")
            #expect(UUID(uuidString: g.id) != nil)
            let uri = try await h.call("POST", "/v3/applications/redirect-uris", token: h.apiKey, json: ["url": "https://ids.example.com/cb"])
            #expect(UUID(uuidString: uri.data?["id"]?.stringValue ?? "") != nil, "\(uri.text)")
            let cred = try await h.call("POST", "/v3/connectors/google/creds", token: h.apiKey, json: [
                "name": "c", "credential_type": "connector", "credential_data": ["client_id": "a", "client_secret": "b"]])
            #expect(UUID(uuidString: cred.data?["id"]?.stringValue ?? "") != nil, "\(cred.text)")
            let scheduled = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey,
                                             json: ["to": [["email": "x@example.com"]], "send_at": .int(h.sim.now.seconds + 3600)])
            #expect(UUID(uuidString: scheduled.json?["schedule_id"]?.stringValue ?? "") != nil, "\(scheduled.text)")
            let label = try await h.call("POST", "/v3/grants/\(g.id)/folders", token: h.apiKey, json: ["name": "Receipts"])
            #expect(label.data?["id"]?.stringValue?.hasPrefix("Label_") == true, "\(label.text)")
            // Instances of a recurring event: <master>_<YYYYMMDDTHHMMSSZ>, with original_start_time.
            let master = try #require(try await h.call("POST", "/v3/grants/\(g.id)/events?calendar_id=primary", token: h.apiKey, json: [
                "title": "Daily", "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"],
                "when": ["start_time": 1_768_000_000, "end_time": 1_768_003_600]]).data?["id"]?.stringValue)
            let instances = try await h.call("GET", "/v3/grants/\(g.id)/events?calendar_id=primary&title=Daily&start=1767900000&end=1768200000",
                                             token: h.apiKey)
            #expect(instances.data?.arrayValue?.compactMap { $0["original_start_time"]?.intValue } == [1_768_000_000, 1_768_086_400], "\(instances.text.prefix(300))")
            #expect(instances.data?.arrayValue?.allSatisfy { $0["id"]?.stringValue?.hasPrefix(master + "_2026") == true } == true)
            // An IMAP reply names the message it answers by its Message-ID header.
            let imap = try h.sim.createGrant(email: "ids@example.com", provider: "imap")
            try await deliver(h, to: "ids@example.com", ["subject": "Original", "message_id": "<original-1@example.org>"])
            try await h.advance("10m")
            let original = try await h.call("GET", "/v3/grants/\(imap.id)/messages?subject=Original", token: h.apiKey)
            let thread = try #require(original.data?.arrayValue?.first?["thread_id"]?.stringValue, "\(original.text)")
            let reply = try await h.call("POST", "/v3/grants/\(imap.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "sender@example.org"]], "subject": "Re: Original", "reply_to_message_id": "<original-1@example.org>"])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.data?["thread_id"]?.stringValue == thread)
        }
    }

    @Test("v3 l. 623: message.send_failed carries reason and error beside the object")
    func sendFailedPayload() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            _ = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                 json: ["trigger_types": ["message.send_failed"], "webhook_url": .string(receiver.url)])
            let g = try h.sim.createGrant(email: "fails@gmail.com", provider: "google")
            let scheduled = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey,
                                             json: ["to": [["email": "x@example.com"]], "subject": "Later", "send_at": .int(h.sim.now.seconds + 600)])
            #expect(scheduled.status == 202)
            try h.sim.expireCredentials(grantID: g.id)
            let d = try #require(await h.sim.advanceUntilDelivery(within: .seconds(3600)) { $0.type == "message.send_failed" })
            let data = try #require(d.payload?["data"])
            #expect(data["reason"]?.stringValue?.isEmpty == false, "\(data)")
            #expect(data["error"]?["type"]?.stringValue != nil && data["error"]?["message"]?.stringValue != nil, "\(data)")
        }
    }

    @Test("Seed 004 l. 74: an IMAP grant syncs every 10 minutes even while a sent message is on its way")
    func imapSyncWithPendingSend() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "pending@example.com", provider: "imap")
            try await h.advance("7m")
            // A send at minute 7 shows up only after 5 minutes; mail arriving at the same moment must not wait for it.
            let sent = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey,
                                        json: ["to": [["email": "bob@example.net"]], "subject": "Outgoing"])
            #expect(sent.status == 200, "\(sent.text)")
            try await deliver(h, to: "pending@example.com", ["subject": "Incoming"])
            try await h.advance("4m")  // minute 11: the sync of minute 10 has run
            let r = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: h.apiKey)
            #expect(r.data?.arrayValue?.map { $0["subject"]?.stringValue } == ["Incoming"], "\(r.text.prefix(300))")
        }
    }

    // MARK: v2


    @Test("v3 l. 311: a tracking label over 2048 characters and use_draft without send_at are refused")
    func sendLimits() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "limits@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/messages/send"
            let label = try await h.call("POST", path, token: h.apiKey, json: [
                "to": [["email": "x@example.com"]], "tracking_options": ["opens": true, "label": .string(String(repeating: "l", count: 2049))]])
            #expect(label.status == 400, "\(label.text.prefix(300))")
            let useDraft = try await h.call("POST", path, token: h.apiKey, json: ["to": [["email": "x@example.com"]], "use_draft": true])
            #expect(useDraft.status == 400, "\(useDraft.text.prefix(300))")
        }
    }


    @Test("v3 l. 166: select on PUT of messages, drafts, threads and folders")
    func selectOnPutMail() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "putselect@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)"
            try await deliver(h, to: "putselect@gmail.com", ["subject": "Pick"])
            let m = try await messageID(h, g.id, subject: "Pick")
            let thread = try #require(try await h.call("GET", "\(base)/messages/\(m)", token: h.apiKey).data?["thread_id"]?.stringValue)
            let draft = try #require(try await h.call("POST", "\(base)/drafts", token: h.apiKey, json: ["subject": "D"]).data?["id"]?.stringValue)
            let folder = try #require(try await h.call("POST", "\(base)/folders", token: h.apiKey, json: ["name": "F"]).data?["id"]?.stringValue)
            let cases: [(String, JSON, Set<String>)] = [
                ("\(base)/messages/\(m)?select=id,unread", ["unread": false], ["id", "unread"]),
                ("\(base)/drafts/\(draft)?select=id,subject", ["subject": "D2"], ["id", "subject"]),
                ("\(base)/threads/\(thread)?select=id,starred", ["starred": true], ["id", "starred"]),
                ("\(base)/folders/\(folder)?select=id,name", ["name": "F2"], ["id", "name"]),
            ]
            for (path, body, expected) in cases {
                let r = try await h.call("PUT", path, token: h.apiKey, json: body)
                #expect(r.status == 200, "\(path): \(r.text)")
                #expect(keys(r.data) == expected, "\(path): \(keys(r.data).sorted())")
            }
        }
    }

    @Test("v3 l. 167: message metadata_pair takes key1 to key5 only and no other filter with it")
    func messageMetadataPair() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "mpair@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)"
            let other = try await h.call("GET", "\(base)/messages?metadata_pair=foo:bar", token: h.apiKey)
            #expect(other.status == 400, "\(other.text)")
            let mixed = try await h.call("GET", "\(base)/messages?metadata_pair=key1:x&unread=true", token: h.apiKey)
            #expect(mixed.status == 400, "\(mixed.text)")
            let threads = try await h.call("GET", "\(base)/threads?metadata_pair=foo:bar", token: h.apiKey)
            #expect(threads.status == 400, "\(threads.text)")
        }
    }

    @Test("v3 l. 329: drafts filter by metadata_pair")
    func draftMetadataPair() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "dpair@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)/drafts"
            _ = try await h.call("POST", base, token: h.apiKey, json: ["subject": "Tagged", "metadata": ["key1": "tagged"]])
            _ = try await h.call("POST", base, token: h.apiKey, json: ["subject": "Plain"])
            let r = try await h.call("GET", "\(base)?metadata_pair=key1:tagged", token: h.apiKey)
            #expect(r.data?.arrayValue?.map { $0["subject"]?.stringValue } == ["Tagged"], "\(r.text)")
        }
    }

    @Test("v3 l. 307: search_query_native does not mix with other filters; query_imap needs in")
    func queryRules() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "native@gmail.com", provider: "google")
            let mixed = try await h.call("GET", "/v3/grants/\(g.id)/messages?search_query_native=launch&unread=true", token: h.apiKey)
            #expect(mixed.status == 400, "\(mixed.text)")
            let imap = try h.sim.createGrant(email: "native@example.com", provider: "imap")
            let noIn = try await h.call("GET", "/v3/grants/\(imap.id)/messages?query_imap=true", token: h.apiKey)
            #expect(noIn.status == 400, "\(noIn.text)")
        }
    }

    @Test("v3 l. 199: EWS connector scopes are ews.messages, ews.calendar or ews.contacts")
    func ewsScopes() async throws {
        try await withSimulator { h in
            let r = try await h.call("PATCH", "/v3/connectors/ews", token: h.apiKey, json: ["scope": ["ews.bogus"]])
            #expect(r.status == 400, "\(r.text)")
            #expect(try await h.call("PATCH", "/v3/connectors/ews", token: h.apiKey, json: ["scope": ["ews.messages", "ews.contacts"]]).status == 200)
        }
    }

    @Test("v3 l. 284: grants filter by workspace_id")
    func workspaceFilter() async throws {
        try await withSimulator { h in
            _ = try h.sim.createGrant(email: "ws@gmail.com", provider: "google")
            let r = try await h.call("GET", "/v3/grants?workspace_id=no-such-workspace", token: h.apiKey)
            #expect(r.status == 200)
            #expect(r.data?.arrayValue?.isEmpty == true, "\(r.text)")
        }
    }

    @Test("v3 l. 277: a Nylas agent account takes its top-level name and workspace_id")
    func agentAccountName() async throws {
        try await withSimulator { h in
            // Like every provider of custom auth, an agent account needs its connector.
            _ = try await h.call("POST", "/v3/connectors", token: h.apiKey, json: ["provider": "nylas"])
            let r = try await h.call("POST", "/v3/connect/custom", token: h.apiKey, json: [
                "provider": "nylas", "name": "Support Desk", "workspace_id": "ws-1", "settings": ["email": "desk@example.com"]])
            #expect(r.status == 201, "\(r.text)")
            #expect(r.data?["name"]?.stringValue == "Support Desk", "the top-level name, not one made from the address: \(r.text)")
            let inWorkspace = try await h.call("GET", "/v3/grants?workspace_id=ws-1", token: h.apiKey)
            #expect(inWorkspace.data?.arrayValue?.map { $0["email"]?.stringValue } == ["desk@example.com"], "\(inWorkspace.text.prefix(300))")
        }
    }

    @Test("v3 l. 111, 116: 403 and 500 answers use a documented type")
    func documentedTypes() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "types@gmail.com", provider: "google")
            let calendars = try await h.call("GET", "/v3/grants/\(g.id)/calendars", token: h.apiKey)
            let holidays = try #require(calendars.data?.arrayValue?.first { $0["read_only"]?.boolValue == true }?["id"]?.stringValue)
            let readOnly = try await h.call("PUT", "/v3/grants/\(g.id)/calendars/\(enc(holidays))", token: h.apiKey, json: ["name": "Mine"])
            #expect(readOnly.status == 403)
            #expect(["grant.access_denied", "insufficient_scopes"].contains(readOnly.errorType ?? ""), "\(readOnly.text)")
            _ = try await h.call("POST", "/__sim/faults", json: ["path": "/v3/grants/*/threads", "status": 500, "count": 1])
            let failed = try await h.call("GET", "/v3/grants/\(g.id)/threads", token: h.apiKey)
            #expect(failed.status == 500)
            #expect(failed.errorType == "api.internal_error", "\(failed.text)")
        }
    }

    @Test("v3 l. 601: message.created.cleaned subscribers get the cleaned message with cleaning_status")
    func cleanedNotifications() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            _ = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                 json: ["trigger_types": ["message.created.cleaned"], "webhook_url": .string(receiver.url)])
            _ = try h.sim.createGrant(email: "cleaned@gmail.com", provider: "google")
            try await deliver(h, to: "cleaned@gmail.com", ["subject": "Clean me", "body": "<p>Hello <b>there</b></p>"])
            let d = try #require(await h.sim.nextDelivery { $0.type.hasPrefix("message.created.cleaned") })
            #expect(d.payload?["data"]?["object"]?["cleaning_status"] != nil)
        }
    }

    @Test("v3 l. 408: a contact needs given_name")
    func contactGivenName() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "named@gmail.com", provider: "google")
            let r = try await h.call("POST", "/v3/grants/\(g.id)/contacts", token: h.apiKey,
                                     json: ["emails": [["email": "only@example.com", "type": "work"]]])
            #expect(r.status == 400 && r.text.contains("given_name"), "\(r.text)")
        }
    }

    @Test("v3 l. 308, 311: include_tracking_options returns tracking_options; a send with fields=include_headers returns headers")
    func trackingAndHeaders() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "tracked@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/messages/send"
            let sent = try await h.call("POST", path, token: h.apiKey, json: [
                "to": [["email": "x@example.com"]], "subject": "Tracked", "tracking_options": ["opens": true, "links": true, "label": "campaign"]])
            let id = try #require(sent.data?["id"]?.stringValue, "\(sent.text)")
            let read = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(id)?fields=include_tracking_options", token: h.apiKey)
            #expect(read.data?["tracking_options"]?["label"]?.stringValue == "campaign", "\(read.text.prefix(400))")
            let withHeaders = try await h.call("POST", path + "?fields=include_headers", token: h.apiKey,
                                               json: ["to": [["email": "x@example.com"]], "subject": "Headers"])
            #expect(withHeaders.data?["headers"]?.arrayValue?.isEmpty == false, "\(withHeaders.text.prefix(400))")
        }
    }

    @Test("v3 l. 463: EWS messages carry in_reply_to")
    func ewsInReplyTo() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "ews@corp.example.com", provider: "ews")
            try await deliver(h, to: "ews@corp.example.com", ["subject": "Re: plan", "in_reply_to": "<plan-1@example.org>"])
            try await h.advance("10m")
            let r = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: h.apiKey)
            #expect(r.data?.arrayValue?.first?["in_reply_to"]?.stringValue == "<plan-1@example.org>", "\(r.text.prefix(400))")
        }
    }

    @Test("v3 l. 37: a JSON answer over 200 bytes is gzip-compressed for Accept-Encoding: gzip")
    func gzipAnswers() async throws {
        try await withSimulator { h in
            for i in 0..<5 { _ = try h.sim.createGrant(email: "zip\(i)@gmail.com", provider: "google") }
            let r = try await h.call("GET", "/v3/grants", token: h.apiKey, headers: ["Accept-Encoding": "gzip"])
            #expect(r.status == 200)
            #expect(r.headers["content-encoding"] == "gzip", "\(r.headers)")
        }
    }

    @Test("v3 l. 132–133: answers carry x-fastly-id and Nylas-Provider-Request-Count")
    func responseHeaders() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "headers@gmail.com", provider: "google")
            let r = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: h.apiKey)
            #expect(r.headers["x-fastly-id"] != nil, "\(r.headers)")
            #expect(r.headers["nylas-provider-request-count"] != nil, "\(r.headers)")
        }
    }

    @Test("v3 l. 111: a send without a send scope is 403 insufficient_scopes")
    func sendScope() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "readonly@gmail.com", provider: "google",
                                          scope: ["https://www.googleapis.com/auth/gmail.readonly"])
            let r = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey,
                                     json: ["to": [["email": "x@example.com"]], "subject": "Not allowed"])
            #expect(r.status == 403, "\(r.text)")
            #expect(r.errorType == "insufficient_scopes")
        }
    }

    @Test("v3 l. 354, 496: Google folder colours are stored")
    func folderColours() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "colours@gmail.com", provider: "google")
            let made = try await h.call("POST", "/v3/grants/\(g.id)/folders", token: h.apiKey,
                                        json: ["name": "Red", "background_color": "#ff0000", "text_color": "#000000"])
            #expect(made.data?["background_color"]?.stringValue == "#ff0000", "\(made.text)")
            #expect(made.data?["text_color"]?.stringValue == "#000000")
            let id = try #require(made.data?["id"]?.stringValue)
            let put = try await h.call("PUT", "/v3/grants/\(g.id)/folders/\(id)", token: h.apiKey, json: ["background_color": "#00ff00"])
            #expect(put.data?["background_color"]?.stringValue == "#00ff00", "\(put.text)")
        }
    }

    @Test("v3 l. 353, 496: Microsoft child_count counts sub-folders and single_level lists one level")
    func microsoftFolderTree() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "tree@outlook.com", provider: "microsoft")
            let base = "/v3/grants/\(g.id)/folders"
            let parent = try #require(try await h.call("POST", base, token: h.apiKey, json: ["name": "Parent"]).data?["id"]?.stringValue)
            _ = try await h.call("POST", base, token: h.apiKey, json: ["name": "Child", "parent_id": .string(parent)])
            let got = try await h.call("GET", "\(base)/\(enc(parent))", token: h.apiKey)
            #expect(got.data?["child_count"]?.intValue == 1, "\(got.text)")
            let top = try await h.call("GET", "\(base)?single_level=true", token: h.apiKey)
            #expect(top.data?.arrayValue?.contains { $0["name"]?.stringValue == "Child" } == false, "\(top.text.prefix(400))")
        }
    }
}

// MARK: - nylas-v2.md

@Suite("Reference v2 statements, checked against the simulator")
struct ReferenceV2StatementTests {
    static let fixturePath: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/mailbox.json").path
    }()

    @Test("v2 l. 23–28: api.nylas.com and canada.api.nylas.com are the US for v2 calls")
    func hosts() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "host@gmail.com")
            for host in ["api.nylas.com", "canada.api.nylas.com"] {
                let r = try await h.call("GET", "/account", region: .eu, headers: auth.merging(["Host": host]) { a, _ in a })
                #expect(r.status == 200, "\(host): \(r.text)")
            }
            let eu = try await h.call("GET", "/account", headers: auth.merging(["Host": "ireland.api.nylas.com"]) { a, _ in a })
            #expect(eu.status == 401, "the US token is unknown in the EU: \(eu.text)")
        }
    }

    @Test("v2 l. 33: v2 answers carry Nylas-API-Version: 2.5")
    func versionHeader() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "version@gmail.com")
            for asked in ["2.5", "2.7"] {
                let r = try await h.call("GET", "/account", headers: auth.merging(["Nylas-API-Version": asked]) { a, _ in a })
                #expect(r.status == 200)
                #expect(r.headers["nylas-api-version"] == "2.5", "\(asked): \(r.headers)")
            }
        }
    }

    @Test("v2 l. 47: application routes take the bare client secret")
    func bareSecret() async throws {
        try await withSimulator { h in
            _ = try await v2Connect(h, email: "bare@gmail.com")
            let v2 = h.sim.region(.us).v2
            let r = try await h.call("GET", "/a/\(v2.clientID)/accounts", headers: ["Authorization": v2.clientSecret])
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json?.arrayValue?.first?["email"]?.stringValue == "bare@gmail.com")
        }
    }

    @Test("v2 l. 66–75, 83: empty login_hint, office365, disable_provider_selection; /oauth/token as JSON or a query on GET; no expires_in")
    func hostedAuthExtras() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let start = "/oauth/authorize?client_id=\(v2.clientID)&redirect_uri=\(enc("http://localhost:3000/callback"))&response_type=code&scopes=email"
            func code(_ extra: String) async throws -> String {
                let r = try await h.call("GET", start + extra)
                #expect(r.status == 302, "\(extra): \(r.status) \(r.text)")
                let location = try #require(r.headers["location"])
                return try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value, "\(location)")
            }
            _ = try await code("&login_hint=&state=s1")
            _ = try await code("&login_hint=o@outlook.com&provider=office365")
            let c1 = try await code("&login_hint=d@gmail.com&disable_provider_selection=true")
            let json = try await h.call("POST", "/oauth/token", json: ["client_id": .string(v2.clientID), "client_secret": .string(v2.clientSecret),
                                                                      "grant_type": "authorization_code", "code": .string(c1)])
            #expect(json.status == 200, "\(json.text)")
            #expect(json.json?["access_token"]?.stringValue != nil)
            #expect(json.json?["expires_in"] == nil && json.json?["refresh_token"] == nil)
            let c2 = try await code("&login_hint=q@gmail.com")
            let query = try await h.call("GET", "/oauth/token?client_id=\(v2.clientID)&client_secret=\(v2.clientSecret)&grant_type=authorization_code&code=\(c2)")
            #expect(query.status == 200 && query.json?["email_address"]?.stringValue == "q@gmail.com", "\(query.text)")
        }
    }

    @Test("v2 l. 97–106: native auth of every provider with its settings; a missing setting is 400")
    func nativeProviders() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            func authorize(_ email: String, _ provider: String, _ settings: JSON, scopes: String = "email") async throws -> HTTPClient.Response {
                try await h.call("POST", "/connect/authorize", json: ["client_id": .string(v2.clientID), "email_address": .string(email),
                                                                      "provider": .string(provider), "settings": settings, "scopes": .string(scopes)])
            }
            for provider in ["yahoo", "outlook", "icloud", "hotmail", "aol"] {
                let r = try await authorize("u@\(provider).example.com", provider, ["password": "pw"])
                #expect(r.status == 200 && r.json?["code"]?.stringValue != nil, "\(provider): \(r.text)")
            }
            let o365 = try await authorize("u@o365.example.com", "office365", ["microsoft_client_id": "a", "microsoft_client_secret": "b",
                                                                              "microsoft_refresh_token": "c", "redirect_uri": "https://x.example.com/cb"])
            #expect(o365.status == 200, "\(o365.text)")
            let nylas = try await authorize("room@vc.example.com", "nylas", [:], scopes: "calendar")
            #expect(nylas.status == 200, "\(nylas.text)")
            let eas = try await authorize("ex@corp.example.com", "exchange", ["username": "ex", "password": "p", "eas_server_host": "mail.corp.example.com"])
            #expect(eas.status == 200, "\(eas.text)")
            for (provider, settings, missing) in [("office365", JSON.object(["microsoft_client_id": "a"]), "microsoft_client_secret"),
                                                  ("yahoo", JSON.object([:]), "password")] {
                let r = try await authorize("m@\(provider).example.com", provider, settings)
                #expect(r.status == 400 && r.text.contains(missing), "\(provider): \(r.text)")
                #expect(r.json?["type"]?.stringValue == "invalid_request_error")
            }
        }
    }

    @Test("v2 l. 149–153: revoke-all, downgrade, upgrade and delete answer success; only metadata is writable")
    func managementAnswers() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let (id, _) = try await v2Connect(h, email: "managed@gmail.com")
            let base = "/a/\(v2.clientID)/accounts/\(id)"
            let other = try await h.call("PUT", base, json: ["email": "other@example.com", "metadata": ["k": "v"]], headers: appBasic(h))
            #expect(other.status == 400, "only metadata: \(other.text)")
            #expect(try await h.call("GET", base, headers: appBasic(h)).json?["email"]?.stringValue == "managed@gmail.com")
            for (method, path) in [("POST", "/revoke-all"), ("POST", "/downgrade"), ("POST", "/upgrade"), ("DELETE", "")] {
                let r = try await h.call(method, base + path, json: method == "POST" ? JSON.object([:]) : nil, headers: appBasic(h))
                #expect(r.status == 200, "\(method) \(path): \(r.text)")
                #expect(r.json == ["success": true], "\(method) \(path): \(r.text)")
            }
        }
    }

    @Test("v2 l. 163–164, 197: expired credentials are invalid, invalid-credentials and 403 reauthenticate")
    func invalidAccount() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let (id, auth) = try await v2Connect(h, email: "stale@gmail.com")
            let r = try await h.call("POST", "/__sim/providers/mailboxes/stale@gmail.com/password")
            #expect(r.status == 200, "\(r.text)")
            #expect(try await h.call("GET", "/account", headers: auth).json?["sync_state"]?.stringValue == "invalid")
            #expect(try await h.call("GET", "/a/\(v2.clientID)/accounts/\(id)", headers: appBasic(h)).json?["sync_state"]?.stringValue == "invalid-credentials")
            let message = "This action can't be performed because the account's credentials are out of date. Please reauthenticate and try again."
            for (method, path, body) in [("GET", "/messages", nil), ("POST", "/contacts", JSON.object(["given_name": "x"]))] as [(String, String, JSON?)] {
                let refused = try await h.call(method, path, json: body, headers: auth)
                #expect(refused.status == 403, "\(method) \(path): \(refused.text)")
                #expect(refused.json?["message"]?.stringValue == message)
                #expect(refused.json?["type"]?.stringValue == "invalid_request_error")
            }
        }
    }

    @Test("v2 l. 194, 199, 227, 230: 405, the 1000 limit, negative limits, 100 by default, unknown parameters ignored")
    func listConventions() async throws {
        try await withSimulator { h in
            #expect(try h.sim.loadFixture(path: Self.fixturePath, mailbox: "robin@gmail.com") == 300)
            let (_, auth) = try await v2Connect(h, email: "robin@gmail.com")
            let all = try await h.call("GET", "/messages", headers: auth)
            #expect(all.json?.arrayValue?.count == 100, "100 by default")
            let over = try await h.call("GET", "/messages?limit=1001", headers: auth)
            #expect(over.status == 400 && over.json?["message"]?.stringValue == "Cannot request more than 1000 resources at once.", "\(over.text)")
            #expect(try await h.call("GET", "/messages?limit=-1", headers: auth).status == 400)
            let unknown = try await h.call("GET", "/messages?limit=2&bogus=1", headers: auth)
            #expect(unknown.status == 200 && unknown.json?.arrayValue?.count == 2, "\(unknown.text.prefix(200))")
            let id = try #require(all.json?.arrayValue?.first?["id"]?.stringValue)
            let wrong = try await h.call("PATCH", "/messages/\(id)", json: ["unread": false], headers: auth)
            #expect(wrong.status == 405, "\(wrong.text)")
            #expect(wrong.json?["type"]?.stringValue == "invalid_request_error")
        }
    }

    @Test("v2 l. 202, 207: a body over the limit is 413; a provider outage is 504 Request timed out.")
    func tooLargeAndTimeout() async throws {
        try await withSimulator(configure: { $0.settings.maxBodyBytes = 4096 }) { h in
            let (_, auth) = try await v2Connect(h, email: "limits@gmail.com")
            let big = try await h.call("POST", "/send", json: ["to": [["email": "x@example.com"]], "body": .string(String(repeating: "x", count: 8192))],
                                       headers: auth)
            #expect(big.status == 413, "\(big.text)")
            #expect(big.json?["message"] != nil && big.json?["request_id"] == nil, "a v2 body: \(big.text)")
            let outage = try await h.call("POST", "/__sim/providers/outages", json: ["provider": "google", "duration": "10m"])
            #expect(outage.status == 201, "\(outage.text)")
            let down = try await h.call("GET", "/threads", headers: auth)
            #expect(down.status == 504)
            #expect(down.json?["message"]?.stringValue == "Request timed out.")
            #expect(down.json?["type"]?.stringValue == "api_error")
        }
    }

    @Test("v2 l. 269, 273–274: any_email 25 at most, not_in, unknown folders, the legacy folder and labels keys")
    func messageFiltersAndUpdates() async throws {
        try await withSimulator { h in
            let (_, gmail) = try await v2Connect(h, email: "labels@gmail.com")
            _ = try h.sim.deliverMail(to: "labels@gmail.com", from: "a@example.org", subject: "One")
            let tooMany = (0..<26).map { "u\($0)@example.com" }.joined(separator: ",")
            #expect(try await h.call("GET", "/messages?any_email=\(tooMany)", headers: gmail).status == 400)
            #expect(try await h.call("GET", "/messages?not_in=inbox&view=count", headers: gmail).json?["count"]?.intValue == 0)
            #expect(try await h.call("GET", "/messages?not_in=trash&view=count", headers: gmail).json?["count"]?.intValue == 1)
            let id = try #require(try await h.call("GET", "/messages", headers: gmail).json?.arrayValue?.first?["id"]?.stringValue)
            let notBool = try await h.call("PUT", "/messages/\(id)", json: ["unread": "yes"], headers: gmail)
            #expect(notBool.json?["message"]?.stringValue == "\"unread\" must be true or false", "\(notBool.text)")
            let labels = try await h.call("GET", "/labels", headers: gmail).json?.arrayValue ?? []
            let inbox = try #require(labels.first { $0["name"] == "inbox" }?["id"]?.stringValue)
            let important = try #require(labels.first { $0["name"] == "important" }?["id"]?.stringValue)
            let legacy = try await h.call("PUT", "/messages/\(id)", json: ["labels": [.string(inbox), .string(important)]], headers: gmail)
            #expect(Set(legacy.json?["labels"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == ["inbox", "important"], "\(legacy.text)")
            // A folder account.
            let (_, imap) = try await v2Connect(h, email: "folders@example.com", provider: "imap")
            _ = try h.sim.deliverMail(to: "folders@example.com", from: "a@example.org", subject: "Two")
            try await h.advance("10m")
            let mid = try #require(try await h.call("GET", "/messages", headers: imap).json?.arrayValue?.first?["id"]?.stringValue)
            let unknown = try await h.call("PUT", "/messages/\(mid)", json: ["folder_id": "zzzzzzzzzzzzzzzzzzzzzzzzz"], headers: imap)
            #expect(unknown.status == 400 && unknown.json?["message"]?.stringValue == "The folder zzzzzzzzzzzzzzzzzzzzzzzzz does not exist", "\(unknown.text)")
            let trash = try #require(try await h.call("GET", "/folders", headers: imap).json?.arrayValue?.first { $0["name"] == "trash" }?["id"]?.stringValue)
            let moved = try await h.call("PUT", "/messages/\(mid)", json: ["folder": .string(trash)], headers: imap)
            #expect(moved.json?["folder"]?["id"]?.stringValue == trash, "\(moved.text)")
        }
    }

    @Test("v2 l. 257, 285, 290: References in expanded headers, thread version, expanded threads without message_ids")
    func expandedViews() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "views@gmail.com")
            try await deliver(h, to: "views@gmail.com", ["subject": "Orig", "message_id": "<orig-1@example.org>"])
            try await deliver(h, to: "views@gmail.com", ["subject": "Re: Orig", "in_reply_to": "<orig-1@example.org>"])
            let reply = try #require(try await h.call("GET", "/messages?subject=\(enc("Re: Orig"))&view=expanded", headers: auth).json?.arrayValue?.first)
            #expect(reply["headers"]?["References"] == ["<orig-1@example.org>"], "\(reply)")
            let thread = try #require(reply["thread_id"]?.stringValue)
            let t = try await h.call("GET", "/threads/\(thread)", headers: auth)
            #expect(t.json?["version"]?.intValue != nil, "\(t.text)")
            #expect(t.json?["last_message_received_timestamp"]?.intValue != nil)
            let expanded = try await h.call("GET", "/threads/\(thread)?view=expanded", headers: auth)
            #expect(expanded.json?["message_ids"] == nil && expanded.json?["draft_ids"] == nil, "\(expanded.text.prefix(300))")
            #expect(expanded.json?["messages"]?.arrayValue?.count == 2)
        }
    }

    @Test("v2 l. 306, 316: deleting a draft needs its version and answers an empty body; a sent message is dated at the send")
    func draftDeleteAndSendDate() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "drafts@gmail.com")
            let id = try #require(try await h.call("POST", "/drafts", json: ["subject": "D"], headers: auth).json?["id"]?.stringValue)
            let noVersion = try await h.call("DELETE", "/drafts/\(id)", headers: auth)
            #expect(noVersion.status == 400 && noVersion.json?["message"]?.stringValue == "Must specify draft version", "\(noVersion.text)")
            let gone = try await h.call("DELETE", "/drafts/\(id)", json: ["version": 0], headers: auth)
            #expect(gone.status == 200 && gone.body.isEmpty, "\(gone.text)")
            await h.sim.advance(by: .seconds(90))
            let sent = try await h.call("POST", "/send", json: ["to": [["email": "x@example.com"]], "subject": "Now"], headers: auth)
            #expect(sent.json?["date"]?.intValue == h.sim.now.seconds, "\(sent.text)")
        }
    }

    @Test("v2 l. 327–335: file content_id and content_disposition, download headers, every part a file")
    func files() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "files@gmail.com")
            let headers = auth.merging(multipartHeaders) { a, _ in a }
            let up = try await h.raw("POST", "/files", body: multipart([("file", "hello.txt", "text/plain", Array("hello".utf8)),
                                                                        ("other", "more.txt", "text/plain", Array("more".utf8))]), headers: headers)
            let uploaded = try #require(up.json?.arrayValue, "\(up.text)")
            #expect(uploaded.count == 2, "every part is a file")
            let f = try #require(uploaded.first)
            #expect(f["content_disposition"]?.stringValue == "attachment")
            #expect(f.objectValue?.keys.contains("content_id") == true)
            let id = try #require(f["id"]?.stringValue)
            let dl = try await h.call("GET", "/files/\(id)/download", headers: auth)
            #expect(dl.text == "hello")
            #expect(dl.headers["content-type"] == "application/octet-stream")
            #expect(dl.headers["content-disposition"] == "attachment; filename=hello.txt")
        }
    }

    @Test("v2 l. 347, 349: labels view=ids, creation order, DELETE")
    func labels() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "order@gmail.com")
            var made: [String] = []
            for name in ["Zeta", "Alpha", "Mid"] {
                let r = try await h.call("POST", "/labels", json: ["display_name": .string(name)], headers: auth)
                made.append(try #require(r.json?["id"]?.stringValue, "\(r.text)"))
            }
            let names = try await h.call("GET", "/labels", headers: auth).json?.arrayValue?.compactMap { $0["display_name"]?.stringValue } ?? []
            #expect(Array(names.suffix(3)) == ["Zeta", "Alpha", "Mid"], "creation order: \(names)")
            let ids = try await h.call("GET", "/labels?view=ids", headers: auth).json?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(Array(ids.suffix(3)) == made)
            let gone = try await h.call("DELETE", "/labels/\(made[2])", headers: auth)
            #expect(gone.status == 200 && gone.json == .object([:]), "\(gone.text)")
        }
    }

    @Test("v2 l. 370, 381: contact street_address and recurse filters; calendar hex_color, read_only, is_primary are read-only")
    func contactFiltersAndCalendarFields() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "street@gmail.com")
            _ = try await h.call("POST", "/contacts", json: ["given_name": "Str", "physical_addresses": [["type": "home", "street_address": "1 Main St", "city": "Town"]]],
                                 headers: auth)
            #expect(try await h.call("GET", "/contacts?street_address=\(enc("1 Main St"))&view=count", headers: auth).json?["count"]?.intValue == 1)
            #expect(try await h.call("GET", "/contacts?street_address=nowhere&view=count", headers: auth).json?["count"]?.intValue == 0)
            #expect(try await h.call("GET", "/contacts?recurse=true", headers: auth).status == 200)
            let cal = try await h.call("POST", "/calendars", json: ["name": "Mine"], headers: auth)
            let id = try #require(cal.json?["id"]?.stringValue)
            let put = try await h.call("PUT", "/calendars/\(id)", json: ["hex_color": "#000000", "is_primary": true, "read_only": true], headers: auth)
            #expect(put.status == 200, "\(put.text)")
            #expect(put.json?["hex_color"] == cal.json?["hex_color"])
            #expect(put.json?["is_primary"] == false && put.json?["read_only"] == false)
        }
    }

    @Test("v2 l. 402–405, 429, 232: organizer fields, capacity -1, description, ends_after and metadata filters of events")
    func eventFields() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "organizer@gmail.com")
            let calendars = try await h.call("GET", "/calendars", headers: auth).json?.arrayValue ?? []
            let cal = try #require(calendars.first { $0["is_primary"] == true }?["id"]?.stringValue)
            let created = try await h.call("POST", "/events", json: [
                "calendar_id": .string(cal), "title": "Plan", "description": "Quarterly PLANNING", "metadata": ["kk": "vv"],
                "when": ["start_time": 1_767_800_000, "end_time": 1_767_803_600]], headers: auth)
            let e = try #require(created.json, "\(created.text)")
            #expect(e["capacity"]?.intValue == -1)
            #expect(e["organizer_email"]?.stringValue == "organizer@gmail.com")
            #expect(e["organizer_name"]?.stringValue == "Test User")
            #expect(e["round_robin_order"] == [])
            #expect(e["customer_event_id"] == .null && e["event_collection_id"] == .null)
            #expect(e["updated_at"]?.intValue != nil)
            for q in ["description=planning", "ends_after=1767800000", "metadata_value=vv", "metadata_key=kk", "metadata_pair=kk:vv"] {
                let r = try await h.call("GET", "/events?calendar_id=\(cal)&view=count&\(q)", headers: auth)
                #expect(r.json?["count"]?.intValue == 1, "\(q): \(r.text)")
            }
            #expect(try await h.call("GET", "/events?calendar_id=\(cal)&view=count&ends_after=1767900000", headers: auth).json?["count"]?.intValue == 0)
        }
    }

    @Test("v2 l. 475, 483, 486: cursor 0, deletes without attributes, both type filters and unknown cursors refused")
    func deltaDetails() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "delta@gmail.com")
            _ = try h.sim.deliverMail(to: "delta@gmail.com", from: "a@example.org", subject: "Hello")
            let fromZero = try await h.call("GET", "/delta?cursor=0", headers: auth)
            #expect(fromZero.status == 200 && fromZero.json?["deltas"]?.arrayValue?.isEmpty == false, "\(fromZero.text.prefix(200))")
            let cursor = try #require(try await h.call("POST", "/delta/latest_cursor", headers: auth).json?["cursor"]?.stringValue)
            let draft = try #require(try await h.call("POST", "/drafts", json: ["subject": "Gone"], headers: auth).json?["id"]?.stringValue)
            _ = try await h.call("DELETE", "/drafts/\(draft)", json: ["version": 0], headers: auth)
            let deltas = try await h.call("GET", "/delta?cursor=\(cursor)", headers: auth).json?["deltas"]?.arrayValue ?? []
            let deleted = try #require(deltas.first { $0["event"] == "delete" && $0["id"]?.stringValue == draft })
            #expect(deleted["attributes"] == nil, "\(deleted)")
            let both = try await h.call("GET", "/delta?cursor=\(cursor)&include_types=draft&exclude_types=message", headers: auth)
            #expect(both.status == 400)
            #expect(both.json?["message"]?.stringValue == "Invalid Request. Cannot specify both include_types and exclude_types")
            let bogus = try await h.call("GET", "/delta?cursor=bogus", headers: auth)
            #expect(bogus.status == 400 && bogus.json?["message"]?.stringValue == "Invalid cursor parameter")
        }
    }

    @Test("v2 l. 500–501: outbox DELETE answers empty; the onboarding routes")
    func outbox() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "outbox@gmail.com")
            let job = try await h.call("POST", "/v2/outbox", json: ["subject": "Later", "to": [["email": "x@example.com"]],
                                                                    "send_at": .int(h.sim.now.seconds + 600)], headers: auth)
            let id = try #require(job.json?["job_status_id"]?.stringValue, "\(job.text)")
            let gone = try await h.call("DELETE", "/v2/outbox/\(id)", headers: auth)
            #expect(gone.status == 200 && gone.body.isEmpty, "\(gone.text)")
            let subuser = try await h.call("DELETE", "/v2/outbox/onboard/subuser", json: ["email": "x@example.com"], headers: auth)
            #expect(subuser.status == 200, "\(subuser.text)")
            let status = try await h.call("GET", "/v2/outbox/onboard/verified_status", headers: auth)
            #expect(status.json?["results"]?["sender_verified"]?.boolValue != nil, "\(status.text)")
        }
    }

    @Test("v2 l. 515–517, 587: one webhook per URL, only state writable, folder and label triggers refused, every v2 trigger accepted")
    func v2Webhooks() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let base = "/a/\(v2.clientID)/webhooks"
            let all = ["account.connected", "account.running", "account.stopped", "account.invalid", "account.sync_error",
                       "message.created", "message.updated", "message.opened", "message.link_clicked", "message.bounced", "thread.replied",
                       "contact.created", "contact.updated", "contact.deleted", "calendar.created", "calendar.updated", "calendar.deleted",
                       "event.created", "event.updated", "event.deleted", "job.successful", "job.failed", "job.cancelled", "job.delayed"]
            let made = try await h.call("POST", base, json: ["callback_url": .string(receiver.url), "triggers": .strings(all), "state": "active"],
                                        headers: appBasic(h))
            #expect(made.status == 200, "\(made.text)")
            let id = try #require(made.json?["id"]?.stringValue)
            let again = try await h.call("POST", base, json: ["callback_url": .string(receiver.url), "triggers": ["message.created"], "state": "active"],
                                         headers: appBasic(h))
            #expect(again.status == 400, "one webhook per URL: \(again.text)")
            for trigger in ["folder.created", "label.created"] {
                let r = try await h.call("POST", base, json: ["callback_url": .string(receiver.url + "?t=\(trigger)"), "triggers": [.string(trigger)]],
                                         headers: appBasic(h))
                #expect(r.status == 400 && r.text.contains(trigger), "\(trigger): \(r.text)")
            }
            let put = try await h.call("PUT", "\(base)/\(id)", json: ["callback_url": .string(receiver.url + "?moved=1")], headers: appBasic(h))
            #expect(put.status == 400, "only state: \(put.text)")
            #expect(try await h.call("GET", "\(base)/\(id)", headers: appBasic(h)).json?["callback_url"]?.stringValue == receiver.url)
        }
    }

    @Test("v2 l. 565: job.successful attributes")
    func jobNotification() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            _ = try await h.call("POST", "/a/\(v2.clientID)/webhooks", json: ["callback_url": .string(receiver.url), "triggers": ["job.successful"],
                                                                             "state": "active"], headers: appBasic(h))
            let (_, auth) = try await v2Connect(h, email: "jobs@gmail.com")
            _ = try await h.call("POST", "/v2/outbox", json: ["subject": "Job", "to": [["email": "x@example.com"]], "send_at": .int(h.sim.now.seconds + 60)],
                                 headers: auth)
            let d = try #require(await h.sim.advanceUntilDelivery(within: .seconds(300)) { $0.type == "job.successful" })
            let attributes = try #require(d.payload?["deltas"]?.arrayValue?.first?["object_data"]?["attributes"])
            #expect(attributes["action"]?.stringValue == "schedule_send")
            #expect(keys(attributes).isSuperset(of: ["job_status_id", "message_id", "thread_id", "extras"]), "\(attributes)")
            #expect(keys(attributes["extras"]).isSuperset(of: ["reason", "send_at", "original_send_at"]), "\(attributes)")
        }
    }

    @Test("v2 l. 519, 592: a v2 subscription goes failing, then failed after 72 hours")
    func v2Health() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let hook = try await h.call("POST", "/a/\(v2.clientID)/webhooks", json: [
                "callback_url": .string(receiver.url), "triggers": ["contact.created"], "state": "active"], headers: appBasic(h))
            let id = try #require(hook.json?["id"]?.stringValue, "\(hook.text)")
            let (_, auth) = try await v2Connect(h, email: "health@gmail.com")
            receiver.script(.status(503))
            _ = try await h.call("POST", "/contacts", json: ["given_name": "Down"], headers: auth)
            _ = try #require(await h.sim.nextDelivery { $0.webhookID == id && $0.attempt == 1 })
            #expect(try await h.call("GET", "/a/\(v2.clientID)/webhooks/\(id)", headers: appBasic(h)).json?["state"]?.stringValue == "failing")
            await h.sim.advance(by: .seconds(73 * 3600))
            #expect(try await h.call("GET", "/a/\(v2.clientID)/webhooks/\(id)", headers: appBasic(h)).json?["state"]?.stringValue == "failed")
        }
    }

    @Test("v2 l. 611–619: translate needs a link; account_ids; every resource type; another region's v2 application cannot be linked")
    func translate() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let (account, _) = try await v2Connect(h, email: "lee@gmail.com")
            let unlinked = try await h.call("POST", "/v3/migration-tools/translate", token: h.apiKey,
                                            json: ["resource_type": "messages", "v2_account_id": .string(account)])
            #expect(unlinked.status == 400 && unlinked.text.contains("link"), "\(unlinked.text)")
            _ = try await h.call("PATCH", "/v3/applications", token: h.apiKey, json: ["v2_application_id": .string(v2.clientID)])
            let grant = try h.sim.createGrant(email: "lee@gmail.com", provider: "google")
            let byIDs = try await h.call("GET", "/v3/grants?account_ids=\(account),zzzzzzzzzzzzzzzzzzzzzzzzz", token: h.apiKey)
            #expect(byIDs.data?.arrayValue?.map { $0["id"]?.stringValue } == [grant.id])
            for type in ["messages", "drafts", "threads", "contacts", "contactgroups", "events", "calendars", "folders"] {
                let r = try await h.call("POST", "/v3/migration-tools/translate", token: h.apiKey,
                                         json: ["resource_type": .string(type), "v2_account_id": .string(account)])
                #expect(r.status == 200, "\(type): \(r.text)")
                #expect(r.data?["resource_type"]?.stringValue == type)
                #expect(r.data?["v2_account_id"]?.stringValue == account && r.data?["v2_application_id"]?.stringValue == v2.clientID)
                #expect(r.data?["translations"]?.arrayValue != nil)
            }
            let labels = try await h.call("POST", "/v3/migration-tools/translate", token: h.apiKey,
                                          json: ["resource_type": "labels", "v2_account_id": .string(account)])
            #expect(labels.status == 400, "labels are asked as folders: \(labels.text)")
            let crossRegion = try await h.call("PATCH", "/v3/applications", region: .eu, token: h.apiKey(.eu),
                                               json: ["v2_application_id": .string(v2.clientID)])
            #expect(crossRegion.status == 400, "\(crossRegion.text)")
        }
    }

    @Test("v2 l. 647–649: cancelled and deleted accounts leave the next month; a mailbox on v2 and v3 once, on two regions twice")
    func billing() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let (cancelled, _) = try await v2Connect(h, email: "cancel@gmail.com")
            let (deleted, _) = try await v2Connect(h, email: "delete@gmail.com")
            // "…its migrated v3 app": the v3 application linked to the v2 one.
            let link = try await h.call("PATCH", "/v3/applications", token: h.apiKey, json: ["v2_application_id": .string(v2.clientID)])
            #expect(link.status == 200, "\(link.text)")
            _ = try await v2Connect(h, email: "both@gmail.com")
            _ = try h.sim.createGrant(email: "both@gmail.com", provider: "google")
            _ = try await v2Connect(h, email: "twice@gmail.com")
            _ = try await v2Connect(h, email: "twice@gmail.com", region: .eu)
            _ = try await h.call("POST", "/a/\(v2.clientID)/accounts/\(cancelled)/downgrade", headers: appBasic(h))
            _ = try await h.call("DELETE", "/a/\(v2.clientID)/accounts/\(deleted)", headers: appBasic(h))
            let month = try #require(try h.sim.billing()["months"]?.arrayValue?.last)
            let double = month["double_billed"]?.arrayValue ?? []
            #expect(double.contains("twice@gmail.com"), "two regions: \(double)")
            #expect(!double.contains("both@gmail.com"), "v2 and v3 are de-duplicated: \(double)")
            func v2Accounts(_ m: JSON) -> [JSON] {
                (m["applications"]?.arrayValue ?? []).filter { $0["api_version"]?.intValue == 2 && $0["region"]?.stringValue == "us" }
                    .flatMap { $0["accounts"]?.arrayValue ?? [] }
            }
            #expect(v2Accounts(month).contains("cancel@gmail.com") && v2Accounts(month).contains("delete@gmail.com"), "paid at some moment this month")
            await h.sim.advance(by: .seconds(32 * 86400))
            let next = try #require(try h.sim.billing()["months"]?.arrayValue?.last)
            #expect(!v2Accounts(next).contains("cancel@gmail.com") && !v2Accounts(next).contains("delete@gmail.com"), "\(v2Accounts(next))")
            #expect(v2Accounts(next).contains("both@gmail.com"))
        }
    }

    @Test("v2 l. 591: a v2 notification is retried over about 20 minutes and dropped after 5 failed attempts")
    func v2RetrySchedule() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let hook = try await h.call("POST", "/a/\(v2.clientID)/webhooks", json: [
                "callback_url": .string(receiver.url), "triggers": ["contact.created"], "state": "active"], headers: appBasic(h))
            let id = try #require(hook.json?["id"]?.stringValue, "\(hook.text)")
            let (_, auth) = try await v2Connect(h, email: "retry@gmail.com")
            receiver.script(.status(503))
            _ = try await h.call("POST", "/contacts", json: ["given_name": "Retry"], headers: auth)
            _ = try #require(await h.sim.nextDelivery { $0.webhookID == id && $0.attempt == 1 })
            await h.sim.advance(by: .seconds(25 * 60))
            #expect(try h.sim.webhookDeliveries(webhookID: id).count == 5, "5 attempts within about 20 minutes")
            await h.sim.advance(by: .seconds(73 * 3600))
            #expect(try h.sim.webhookDeliveries(webhookID: id).count == 5, "then dropped")
        }
    }

    @Test("v2 l. 198: a deleted account's token is 404 The account does not exist.")
    func deletedAccount() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let (id, auth) = try await v2Connect(h, email: "deleted@gmail.com")
            _ = try await h.call("DELETE", "/a/\(v2.clientID)/accounts/\(id)", headers: appBasic(h))
            let r = try await h.call("GET", "/account", headers: auth)
            #expect(r.status == 404, "\(r.text)")
            #expect(r.json?["message"]?.stringValue == "The account does not exist.")
        }
    }

    @Test("v2 l. 234: files and calendars list in creation order")
    func creationOrder() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "ordered@gmail.com")
            let headers = auth.merging(multipartHeaders) { a, _ in a }
            var files: [String] = []
            for name in ["one.txt", "two.txt", "three.txt", "four.txt"] {
                let up = try await h.raw("POST", "/files", body: multipart([("file", name, "text/plain", Array(name.utf8))]), headers: headers)
                files.append(try #require(up.json?.arrayValue?.first?["id"]?.stringValue))
            }
            let listed = try await h.call("GET", "/files", headers: auth).json?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(listed == files, "\(listed) vs \(files)")
            var calendars: [String] = []
            for name in ["Z", "A", "M", "B"] {
                calendars.append(try #require(try await h.call("POST", "/calendars", json: ["name": .string(name)], headers: auth).json?["id"]?.stringValue))
            }
            let all = try await h.call("GET", "/calendars", headers: auth).json?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(Array(all.suffix(4)) == calendars, "\(all) vs \(calendars)")
        }
    }

    @Test("v2 l. 274: the sent and drafts labels cannot be added")
    func systemLabels() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "syslabels@gmail.com")
            _ = try h.sim.deliverMail(to: "syslabels@gmail.com", from: "a@example.org", subject: "Mine")
            let id = try #require(try await h.call("GET", "/messages", headers: auth).json?.arrayValue?.first?["id"]?.stringValue)
            let labels = try await h.call("GET", "/labels", headers: auth).json?.arrayValue ?? []
            func label(_ name: String) throws -> JSON { .string(try #require(labels.first { $0["name"]?.stringValue == name }?["id"]?.stringValue)) }
            for name in ["sent", "drafts"] {
                let r = try await h.call("PUT", "/messages/\(id)", json: ["label_ids": [try label("inbox"), try label(name)]], headers: auth)
                #expect(r.status == 400, "\(name): \(r.text.prefix(300))")
            }
        }
    }

    @Test("v2 l. 304: a draft takes one from and one reply_to at most")
    func draftSenders() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "senders@gmail.com")
            let two: JSON = [["email": "a@example.com"], ["email": "b@example.com"]]
            for field in ["from", "reply_to"] {
                let r = try await h.call("POST", "/drafts", json: ["subject": "Two", field: two], headers: auth)
                #expect(r.status == 400, "\(field): \(r.text.prefix(300))")
            }
        }
    }

    @Test("v2 l. 69: redirect_on_error=false shows an error page")
    func redirectOnError() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            _ = try await h.call("POST", "/__sim/oauth/consent", json: ["mode": "deny"])
            let r = try await h.call("GET", "/oauth/authorize?client_id=\(v2.clientID)&redirect_uri=\(enc("http://localhost:3000/callback"))"
                                     + "&response_type=code&scopes=email&login_hint=no@gmail.com&state=s&redirect_on_error=false")
            #expect(r.status != 302, "an error page, not a redirect: \(r.headers["location"] ?? "")")
        }
    }

    @Test("v2 l. 293, 305: PUT of a message under /drafts is 400; DELETE /threads is 501")
    func engineStatuses() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "statuses@gmail.com")
            _ = try h.sim.deliverMail(to: "statuses@gmail.com", from: "a@example.org", subject: "M")
            let m = try #require(try await h.call("GET", "/messages", headers: auth).json?.arrayValue?.first)
            let id = try #require(m["id"]?.stringValue), thread = try #require(m["thread_id"]?.stringValue)
            #expect(try await h.call("PUT", "/drafts/\(id)", json: ["subject": "x", "version": 0], headers: auth).status == 400)
            #expect(try await h.call("DELETE", "/threads/\(thread)", headers: auth).status == 501)
        }
    }

    @Test("v2 l. 565: a job notification's object is its target type")
    func jobObject() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            _ = try await h.call("POST", "/a/\(v2.clientID)/webhooks", json: ["callback_url": .string(receiver.url), "triggers": ["job.successful"],
                                                                             "state": "active"], headers: appBasic(h))
            let (_, auth) = try await v2Connect(h, email: "target@gmail.com")
            _ = try await h.call("POST", "/v2/outbox", json: ["subject": "Job", "to": [["email": "x@example.com"]], "send_at": .int(h.sim.now.seconds + 60)],
                                 headers: auth)
            let d = try #require(await h.sim.advanceUntilDelivery(within: .seconds(300)) { $0.type == "job.successful" })
            #expect(d.payload?["deltas"]?.arrayValue?.first?["object"]?.stringValue == "message", "\(d.payload?.text ?? "")")
        }
    }

    @Test("v2 l. 194, 196, 223: Invalid id, Empty request body, 402 for an invalid recipient character")
    func engineMessages() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "engine@gmail.com")
            let bad = try await h.call("GET", "/messages/not-base36!", headers: auth)
            #expect(bad.status == 400 && bad.json?["message"]?.stringValue == "Invalid id: not-base36!", "\(bad.text)")
            _ = try h.sim.deliverMail(to: "engine@gmail.com", from: "a@example.org", subject: "M")
            let id = try #require(try await h.call("GET", "/messages", headers: auth).json?.arrayValue?.first?["id"]?.stringValue)
            let empty = try await h.raw("PUT", "/messages/\(id)", body: [], headers: auth.merging(["Content-Type": "application/json"]) { a, _ in a })
            #expect(empty.status == 400 && empty.json?["message"]?.stringValue == "Empty request body", "\(empty.text)")
            let rejected = try await h.call("POST", "/send", json: ["to": [["email": "bad<>@example.com"]], "subject": "x"], headers: auth)
            #expect(rejected.status == 402, "\(rejected.text)")
            #expect(rejected.json?["type"]?.stringValue == "api_error")
        }
    }

    @Test("v2 l. 215: a v2 429 carries X-RateLimit-Limit and X-RateLimit-Reset")
    func v2RateLimitHeaders() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "limited@gmail.com")
            _ = try await h.call("POST", "/__sim/faults", json: ["api": "v2", "path": "/threads", "status": 429, "count": 1, "retry_after": 10])
            let r = try await h.call("GET", "/threads", headers: auth)
            #expect(r.status == 429)
            #expect(Int(r.headers["x-ratelimit-limit"] ?? "") != nil, "\(r.headers)")
            #expect(Int(r.headers["x-ratelimit-reset"] ?? "") != nil, "\(r.headers)")
        }
    }

    @Test("v2 l. 332, 335: GET /files takes view; a non-Latin filename is RFC 2047-encoded")
    func fileViewsAndNames() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "names@gmail.com")
            let headers = auth.merging(multipartHeaders) { a, _ in a }
            let up = try await h.raw("POST", "/files", body: multipart([("file", "ñandú.txt", "text/plain", Array("x".utf8))]), headers: headers)
            let id = try #require(up.json?.arrayValue?.first?["id"]?.stringValue, "\(up.text)")
            #expect(try await h.call("GET", "/files?view=count", headers: auth).json == ["count": 1])
            #expect(try await h.call("GET", "/files?view=ids", headers: auth).json == [.string(id)])
            let dl = try await h.call("GET", "/files/\(id)/download", headers: auth)
            let disposition = dl.headers["content-disposition"] ?? ""
            #expect(disposition.lowercased().contains("=?utf-8?"), "\(disposition)")
        }
    }

    @Test("v2 l. 382: every account has a read-only Emailed events calendar")
    func emailedEventsCalendar() async throws {
        try await withSimulator { h in
            for (email, provider) in [("cal@gmail.com", "gmail"), ("cal@example.com", "imap")] {
                let (_, auth) = try await v2Connect(h, email: email, provider: provider)
                let calendars = try await h.call("GET", "/calendars", headers: auth).json?.arrayValue ?? []
                #expect(calendars.contains { $0["name"]?.stringValue == "Emailed events" && $0["read_only"] == true },
                        "\(provider): \(calendars.compactMap { $0["name"]?.stringValue })")
            }
        }
    }

    @Test("v2 l. 401, 421: event notifications are kept")
    func eventNotifications() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "remind@gmail.com")
            let cal = try #require(try await h.call("GET", "/calendars", headers: auth).json?.arrayValue?.first { $0["is_primary"] == true }?["id"]?.stringValue)
            let r = try await h.call("POST", "/events", json: [
                "calendar_id": .string(cal), "title": "Remind me", "when": ["start_time": 1_767_800_000, "end_time": 1_767_803_600],
                "notifications": [["type": "email", "minutes_before_event": 60, "subject": "Soon", "body": "Meeting"],
                                  ["type": "sms", "minutes_before_event": 5, "message": "Now"]]], headers: auth)
            #expect(r.json?["notifications"]?.arrayValue?.count == 2, "\(r.text.prefix(400))")
        }
    }

    @Test("v2 l. 483, 486: successive modifies collapse; includeTypes is accepted")
    func deltaCollapse() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "collapse@gmail.com")
            _ = try h.sim.deliverMail(to: "collapse@gmail.com", from: "a@example.org", subject: "Twice")
            let id = try #require(try await h.call("GET", "/messages", headers: auth).json?.arrayValue?.first?["id"]?.stringValue)
            let cursor = try #require(try await h.call("POST", "/delta/latest_cursor", headers: auth).json?["cursor"]?.stringValue)
            _ = try await h.call("PUT", "/messages/\(id)", json: ["unread": false], headers: auth)
            _ = try await h.call("PUT", "/messages/\(id)", json: ["starred": true], headers: auth)
            _ = try await h.call("POST", "/drafts", json: ["subject": "D"], headers: auth)
            let page = try await h.call("GET", "/delta?cursor=\(cursor)", headers: auth)
            let modifies = page.json?["deltas"]?.arrayValue?.filter { $0["id"]?.stringValue == id && $0["event"] == "modify" } ?? []
            #expect(modifies.count == 1, "\(modifies.count) modifies of one message in one page")
            let drafts = try await h.call("GET", "/delta?cursor=\(cursor)&includeTypes=draft", headers: auth)
            #expect(drafts.json?["deltas"]?.arrayValue?.allSatisfy { $0["object"] == "draft" } == true, "\(drafts.text.prefix(300))")
        }
    }

    @Test("v2 l. 470: GET /resources needs room_resources.read_only")
    func roomScope() async throws {
        try await withSimulator { h in
            try h.sim.addRoomResource(email: "atlas@gmail.com", name: "Atlas", capacity: 8)
            let (_, auth) = try await v2Connect(h, email: "noscope@gmail.com", scopes: "email")
            let r = try await h.call("GET", "/resources", headers: auth)
            #expect(r.status == 403 || r.status == 401, "\(r.status) \(r.text)")
        }
    }

    @Test("v2 l. 610: Microsoft messages and Exchange accounts are not translated")
    func translateCoverage() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            _ = try await h.call("PATCH", "/v3/applications", token: h.apiKey, json: ["v2_application_id": .string(v2.clientID)])
            let (ms, _) = try await v2Connect(h, email: "graph@outlook.com", provider: "office365", settings: [
                "microsoft_client_id": "a", "microsoft_client_secret": "b", "microsoft_refresh_token": "c", "redirect_uri": "https://x.example.com/cb"])
            try await deliver(h, to: "graph@outlook.com", ["subject": "Graph mail"])
            _ = try h.sim.createGrant(email: "graph@outlook.com", provider: "microsoft")
            let messages = try await h.call("POST", "/v3/migration-tools/translate", token: h.apiKey,
                                            json: ["resource_type": "messages", "v2_account_id": .string(ms)])
            #expect(messages.status != 200 || messages.data?["translations"]?.arrayValue?.isEmpty == true, "\(messages.text.prefix(300))")
            let (eas, _) = try await v2Connect(h, email: "eas@corp.example.com", provider: "exchange", settings: ["username": "eas", "password": "p"])
            _ = try h.sim.createGrant(email: "eas@corp.example.com", provider: "ews")
            let calendars = try await h.call("POST", "/v3/migration-tools/translate", token: h.apiKey,
                                             json: ["resource_type": "calendars", "v2_account_id": .string(eas)])
            #expect(calendars.status != 200 || calendars.data?["translations"]?.arrayValue?.isEmpty == true, "\(calendars.text.prefix(300))")
        }
    }
}

// MARK: - Limits, streaming, server settings, translation, tracking and invitations

/// Statements of both references about Nylas's rate limits, v2's delta stream, v2 account identity,
/// the migration translation, message tracking and invitations.
@Suite("Reference v2 and v3: rate limits, streaming, account identity, translation, tracking, invitations")
struct ReferenceLimitsAndTrackingTests {
    // MARK: v3

    @Test("v3 l. 139–142: Nylas rate limits: 50/s per application, 200/s per grant, 10/s multipart sends, 20/min on providers/detect")
    func nylasRateLimits() async throws {
        try await withSimulator { h in
            var admin: [Int] = []
            for _ in 0..<60 { admin.append(try await h.call("GET", "/v3/grants", token: h.apiKey).status) }
            #expect(admin.prefix(50).allSatisfy { $0 == 200 } && admin.suffix(10).allSatisfy { $0 == 429 }, "\(admin)")
            let refused = try await h.call("GET", "/v3/webhooks", token: h.apiKey)
            #expect(refused.status == 429 && refused.errorType == "rate_limit_error", "one window for the admin groups: \(refused.text)")
            #expect(refused.headers["retry-after"] == nil && refused.headers["x-ratelimit-limit"] == nil, "\(refused.headers)")
            await h.sim.advance(by: .seconds(1))
            #expect(try await h.call("GET", "/v3/grants", token: h.apiKey).status == 200, "a new second, a new window")
            var detect: [Int] = []
            for i in 0..<25 { detect.append(try await h.call("POST", "/v3/providers/detect?email=u\(i)@gmail.com", token: h.apiKey).status) }
            #expect(detect.prefix(20).allSatisfy { $0 == 200 } && detect.suffix(5).allSatisfy { $0 == 429 }, "25 detections in one minute: \(detect)")
            let g = try h.sim.createGrant(email: "busy@outlook.com", provider: "microsoft")
            let other = try h.sim.createGrant(email: "calm@outlook.com", provider: "microsoft")
            var data: [Int] = []
            for _ in 0..<210 { data.append(try await h.call("GET", "/v3/grants/\(g.id)/folders", token: h.apiKey).status) }
            #expect(data.prefix(200).allSatisfy { $0 == 200 } && data.suffix(10).allSatisfy { $0 == 429 }, "210 calls of one grant in one second")
            #expect(try await h.call("GET", "/v3/grants/\(other.id)/folders", token: h.apiKey).status == 200, "per grant")
            // Multipart sends: 10 a second per grant.
            let boundary = "rate-limit-boundary"
            let form = "--\(boundary)\r\nContent-Disposition: form-data; name=\"message\"\r\nContent-Type: application/json\r\n\r\n"
                + "{\"to\":[{\"email\":\"x@example.com\"}],\"subject\":\"Form\",\"body\":\"b\"}\r\n--\(boundary)--\r\n"
            var sends: [Int] = []
            for _ in 0..<11 {
                sends.append(try await h.raw("POST", "/v3/grants/\(other.id)/messages/send", token: h.apiKey, body: Array(form.utf8),
                                             headers: ["Content-Type": "multipart/form-data; boundary=\(boundary)"]).status)
            }
            #expect(sends.prefix(10).allSatisfy { $0 == 200 } && sends.last == 429, "\(sends)")
        }
    }

    @Test("the rate limits can be turned off (SimulatorSettings.nylasRateLimits = nil)")
    func rateLimitsOff() async throws {
        try await withSimulator(configure: { $0.settings.nylasRateLimits = nil }) { h in
            for _ in 0..<60 {
                let r = try await h.call("GET", "/v3/grants", token: h.apiKey)
                #expect(r.status == 200)
            }
        }
    }

    @Test("v3 l. 639: a Google event has the same ID on every attendee's calendar")
    func sharedGoogleEventID() async throws {
        try await withSimulator { h in
            let organizer = try h.sim.createGrant(email: "host@gmail.com", provider: "google")
            let guest = try h.sim.createGrant(email: "guest@gmail.com", provider: "google")
            let created = try await h.call("POST", "/v3/grants/\(organizer.id)/events?calendar_id=primary", token: h.apiKey, json: [
                "title": "Shared", "participants": [["email": "guest@gmail.com"]], "when": ["start_time": 1_767_800_000, "end_time": 1_767_803_600]])
            let id = try #require(created.data?["id"]?.stringValue, "\(created.text)")
            let uid = try #require(created.data?["ical_uid"]?.stringValue)
            let theirs = try await h.call("GET", "/v3/grants/\(guest.id)/events?calendar_id=primary&ical_uid=\(enc(uid))", token: h.apiKey)
            #expect(theirs.data?.arrayValue?.map { $0["id"]?.stringValue } == [id], "\(theirs.text.prefix(300))")
        }
    }

    @Test("v2 l. 212–215: 50 requests per second per account endpoint, 10 concurrent long polls, ip_addresses 10 per hour")
    func v2RateLimits() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "many@example.com", provider: "imap")
            var statuses: [Int] = []
            for _ in 0..<60 { statuses.append(try await h.call("GET", "/folders", headers: auth).status) }
            #expect(statuses.prefix(50).allSatisfy { $0 == 200 } && statuses.suffix(10).allSatisfy { $0 == 429 }, "\(statuses)")
            let refused = try await h.call("GET", "/folders", headers: auth)
            #expect(refused.headers["x-ratelimit-limit"] == "50" && refused.headers["x-ratelimit-reset"] == "1", "\(refused.headers)")
            #expect(refused.json?["type"]?.stringValue == "api_error", "\(refused.text)")
            #expect(try await h.call("GET", "/labels", headers: auth).status != 429, "per endpoint")
            await h.sim.advance(by: .seconds(1))
            #expect(try await h.call("GET", "/folders", headers: auth).status == 200)
            // Ten long polls of one token at once; the eleventh is refused while they wait.
            let cursor = try #require(try await h.call("POST", "/delta/latest_cursor", headers: auth).json?["cursor"]?.stringValue)
            let polls = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<11 {
                    group.addTask { try await h.call("GET", "/delta/longpoll?cursor=\(cursor)&timeout=30", headers: auth).status }
                }
                var out = [try await group.next() ?? 0]  // the refused one answers at once, the others wait
                try await Task.sleep(for: .milliseconds(200))  // for the ten to reach their wait, not to pass time
                await h.sim.advance(by: .seconds(31))
                for try await status in group { out.append(status) }
                return out
            }
            #expect(polls.first == 429 && polls.dropFirst().allSatisfy { $0 == 200 }, "an eleventh concurrent long poll: \(polls)")
            #expect(try await h.call("GET", "/delta/longpoll?cursor=\(cursor)&timeout=0", headers: auth).status == 200, "places are given back")
            var ips: [Int] = []
            for _ in 0..<11 { ips.append(try await h.call("GET", "/a/\(h.sim.region(.us).v2.clientID)/ip_addresses", headers: appBasic(h)).status) }
            #expect(ips.prefix(10).allSatisfy { $0 == 200 } && ips.last == 429, "\(ips)")
            let ipRefused = try await h.call("GET", "/a/\(h.sim.region(.us).v2.clientID)/ip_addresses", headers: appBasic(h))
            #expect(ipRefused.headers["x-ratelimit-limit"] == "10" && ipRefused.headers["x-ratelimit-reset"] == "3600", "\(ipRefused.headers)")
        }
    }

    @Test("v2 l. 485: /delta/streaming is sent chunked as the changes come, with bare newlines while idle")
    func deltaStreaming() async throws {
        try await withSimulator { h in
            let (_, auth) = try await v2Connect(h, email: "stream@gmail.com")
            let cursor = try #require(try await h.call("POST", "/delta/latest_cursor", headers: auth).json?["cursor"]?.stringValue)
            typealias Raw = HostileInputTests.RawSocket
            let port = try #require(h.sim.baseURL(.us).port)
            let socket = try Raw(port: port, receiveTimeout: 5)
            defer { socket.close() }
            let request = "GET /delta/streaming?cursor=\(cursor)&timeout=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: \(auth["Authorization"] ?? "")\r\n\r\n"
            #expect(socket.send(request))
            /// Reads until `text` has arrived (or the socket's 5 s receive timeout).
            func read(until text: String, into seen: String) async throws -> String {
                try await Raw.run {
                    var all = seen
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    while !all.contains(text) {
                        let n = buffer.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
                        if n <= 0 { break }
                        all += String(decoding: buffer[0..<n], as: UTF8.self)
                    }
                    return all
                }
            }
            var wire = try await read(until: "\r\n\r\n", into: "")
            let head = wire.lowercased()
            #expect(head.hasPrefix("http/1.1 200"), "\(wire)")
            #expect(head.contains("content-type: text/event-stream"), "\(wire)")
            #expect(head.contains("transfer-encoding: chunked") && !head.contains("content-length"), "\(wire)")
            // Idle: one bare newline a second.
            await h.sim.advance(by: .seconds(2))
            wire = try await read(until: "\r\n1\r\n\n\r\n", into: wire)
            #expect(wire.contains("\r\n1\r\n\n\r\n"), "a keep-alive chunk: \(wire.suffix(200))")
            // A change made while the stream is open arrives on it, before the stream ends.
            _ = try h.sim.deliverMail(to: "stream@gmail.com", from: "a@example.org", subject: "Streamed")
            wire = try await read(until: "Streamed", into: wire)
            #expect(wire.contains("\"subject\":\"Streamed\""), "\(wire.suffix(400))")
            #expect(!wire.contains("\r\n0\r\n\r\n"), "the stream is still open")
            // The timeout ends the response with the last chunk.
            await h.sim.advance(by: .seconds(60))
            wire = try await read(until: "\r\n0\r\n\r\n", into: wire)
            #expect(wire.hasSuffix("\r\n0\r\n\r\n"), "\(wire.suffix(200))")
        }
    }

    @Test("v2 l. 632, 648: changed IMAP server settings make a new account")
    func imapServerChange() async throws {
        try await withSimulator { h in
            let (first, _) = try await v2Connect(h, email: "moved@example.com", provider: "imap")
            let moved: JSON = ["imap_host": "imap2.example.com", "imap_port": 993, "imap_username": "moved@example.com", "imap_password": "p",
                               "smtp_host": "smtp.example.com", "smtp_port": 465]
            let (second, _) = try await v2Connect(h, email: "moved@example.com", provider: "imap", settings: moved)
            #expect(second != first)
            // A new password on the same servers is the same account.
            var repassword = moved
            repassword["imap_password"] = "new"
            let (third, _) = try await v2Connect(h, email: "moved@example.com", provider: "imap", settings: repassword)
            #expect(third == second)
            let accounts = try await h.call("GET", "/a/\(h.sim.region(.us).v2.clientID)/accounts", headers: appBasic(h))
            #expect(accounts.json?.arrayValue?.filter { $0["email"]?.stringValue == "moved@example.com" }.count == 2,
                    "both accounts exist (and count twice): \(accounts.text.prefix(400))")
        }
    }

    @Test("v2 l. 619, 628: translate honours start_from_timestamp, gives null for gone objects and base64 IMAP folder IDs")
    func translateDetails() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            _ = try await h.call("PATCH", "/v3/applications", token: h.apiKey, json: ["v2_application_id": .string(v2.clientID)])
            let (account, auth) = try await v2Connect(h, email: "tr@gmail.com")
            _ = try h.sim.createGrant(email: "tr@gmail.com", provider: "google")
            try await deliver(h, to: "tr@gmail.com", ["subject": "Gone soon"])
            func translate(_ body: [String: JSON]) async throws -> [JSON] {
                var b = body
                b["v2_account_id"] = .string(account)
                let r = try await h.call("POST", "/v3/migration-tools/translate", token: h.apiKey, json: .object(b))
                return r.data?["translations"]?.arrayValue ?? []
            }
            await h.sim.advance(by: .seconds(60))
            #expect(try await translate(["resource_type": "messages", "start_from_timestamp": .int(h.sim.now.seconds)]).isEmpty,
                    "nothing was created after now")
            let v2ID = try #require(try await h.call("GET", "/messages?subject=\(enc("Gone soon"))", headers: auth).json?.arrayValue?.first?["id"]?.stringValue)
            let world = try await h.call("GET", "/__sim/providers/mailboxes/tr@gmail.com/messages")
            let worldID = try #require(world.json?["data"]?.arrayValue?.first { $0["subject"]?.stringValue == "Gone soon" }?["world_id"]?.intValue)
            _ = try await h.call("DELETE", "/__sim/providers/mailboxes/tr@gmail.com/messages/\(worldID)")
            let gone = try await translate(["resource_type": "messages", "nylas_ids": [.string(v2ID)]])
            #expect(gone.first?["v3_resource_id"] == .null, "\(gone)")
            // IMAP folders: the v3 folder ID is base64 of v0:<grant_id>:<name>.
            let (imapAccount, _) = try await v2Connect(h, email: "trf@example.com", provider: "imap")
            let grant = try h.sim.createGrant(email: "trf@example.com", provider: "imap")
            let folders = try await h.call("GET", "/v3/grants/\(grant.id)/folders", token: h.apiKey)
            let expected = Data("v0:\(grant.id):INBOX".utf8).base64EncodedString()
            #expect(folders.data?.arrayValue?.contains { $0["id"]?.stringValue == expected } == true, "\(folders.text.prefix(300))")
            _ = imapAccount
        }
    }

    @Test("v2 l. 317, 566–573: tracked links are rewritten; opens and clicks notify with the payload as metadata")
    func trackedLinks() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let hook = try await h.call("POST", "/a/\(v2.clientID)/webhooks", json: [
                "callback_url": .string(receiver.url), "triggers": ["message.opened", "message.link_clicked"], "state": "active"],
                headers: appBasic(h))
            let hookID = try #require(hook.json?["id"]?.stringValue, "\(hook.text)")
            let (account, auth) = try await v2Connect(h, email: "links@gmail.com")
            let body = "<p>See <a href=\"https://nylas.com/\">Nylas</a> and <a href='https://example.org/docs'>docs</a></p>"
            let sent = try await h.call("POST", "/send", json: ["to": [["email": "x@example.com"]], "subject": "Tracked", "body": .string(body),
                                                                "tracking": ["opens": true, "links": true, "thread_replies": true, "payload": "p1"]], headers: auth)
            #expect(sent.status == 200, "\(sent.text)")
            let html = try #require(sent.json?["body"]?.stringValue)
            #expect(html != body && !html.contains("https://nylas.com/"), "the link points at the tracking server: \(html)")
            let base = h.sim.baseURL(.us).absoluteString
            let links = html.components(separatedBy: "href=").dropFirst().compactMap { part -> String? in
                let quote = part.first!
                return part.dropFirst().split(separator: quote).first.map(String.init)
            }
            #expect(links.count == 2 && links.allSatisfy { $0.hasPrefix(base + "/t/") }, "\(links)")
            let pixel = try #require(html.components(separatedBy: "<img src=\"").last?.split(separator: "\"").first.map(String.init))
            // A click redirects to the link's target and notifies, with the send's payload.
            let click = try await h.client.send("GET", links[1], headers: ["User-Agent": "MailClient/1.0"])
            #expect(click.status == 302 && click.headers["location"] == "https://example.org/docs", "\(click.status) \(click.headers)")
            let clicked = try #require(await h.sim.nextDelivery { $0.webhookID == hookID && $0.type == "message.link_clicked" })
            _ = clicked
            let open = try await h.client.send("GET", pixel)
            #expect(open.status == 200 && open.headers["content-type"] == "image/gif")
            _ = try #require(await h.sim.nextDelivery { $0.webhookID == hookID && $0.type == "message.opened" })
            let payloads = receiver.received.compactMap(\.payload)
            let clickDelta = try #require(payloads.compactMap { $0["deltas"]?.arrayValue?.first }.first { $0["type"] == "message.link_clicked" })
            let messageID = try #require(sent.json?["id"]?.stringValue)
            #expect(clickDelta["object_data"]?["id"]?.stringValue == messageID)
            #expect(clickDelta["object_data"]?["account_id"]?.stringValue == account)
            let metadata = clickDelta["object_data"]?["metadata"]
            #expect(metadata?["payload"] == "p1" && metadata?["message_id"]?.stringValue == messageID, "\(clickDelta)")
            #expect(metadata?["link_data"]?.arrayValue?.map { $0["url"]?.stringValue } == ["https://nylas.com/", "https://example.org/docs"])
            #expect(metadata?["link_data"]?.arrayValue?[1]["count"] == 1 && metadata?["recents"]?.arrayValue?.first?["link_index"] == "1", "\(metadata ?? .null)")
            #expect(metadata?["recents"]?.arrayValue?.first?["user_agent"] == "MailClient/1.0")
            let openDelta = try #require(payloads.compactMap { $0["deltas"]?.arrayValue?.first }.first { $0["type"] == "message.opened" })
            #expect(openDelta["object_data"]?["metadata"]?["count"] == 1 && openDelta["object_data"]?["metadata"]?["payload"] == "p1", "\(openDelta)")
            // An unknown link is a 404 and notifies nothing.
            #expect(try await h.client.send("GET", base + "/t/nosuchtoken/l/0").status == 404)
            #expect(try await h.client.send("GET", links[0].replacingOccurrences(of: "/l/0", with: "/l/9")).status == 404)
        }
    }

    @Test("v3 l. 311, 625: tracking_options rewrite links; a click and an open notify message.link_clicked and message.opened")
    func v3Tracking() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let hook = try await h.call("POST", "/v3/webhooks", token: h.apiKey, json: [
                "webhook_url": .string(receiver.url), "trigger_types": ["message.opened", "message.link_clicked", "thread.replied"]])
            receiver.trust(secret: try #require(hook.data?["webhook_secret"]?.stringValue, "\(hook.text)"))
            let g = try h.sim.createGrant(email: "tracker@outlook.com", provider: "microsoft")
            let sent = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "x@example.com"]], "subject": "Tracked", "body": "<a href=\"https://nylas.com/pricing\">Pricing</a>",
                "tracking_options": ["opens": true, "links": true, "thread_replies": true, "label": "campaign-7"]])
            let html = try #require(sent.data?["body"]?.stringValue, "\(sent.text)")
            let link = try #require(html.components(separatedBy: "href=\"").dropFirst().first?.split(separator: "\"").first.map(String.init))
            #expect(link.hasPrefix(h.sim.baseURL(.us).absoluteString + "/t/"), "\(html)")
            #expect(try await h.client.send("GET", link).headers["location"] == "https://nylas.com/pricing")
            let delivery = try #require(await h.sim.nextDelivery { $0.type == "message.link_clicked" })
            _ = delivery
            let payload = try #require(receiver.received.compactMap(\.payload).first { $0["type"] == "message.link_clicked" })
            #expect(payload["source"] == "/com/nylas/tracking")
            let data = payload["data"]
            #expect(data?["grant_id"]?.stringValue == g.id)
            let object = data?["object"]
            #expect(object?["message_id"] == sent.data?["id"] && object?["label"] == "campaign-7" && object?["object"] == "message", "\(payload)")
            #expect(object?["link_data"] == [["count": 1, "url": "https://nylas.com/pricing"]])
            #expect(object?["recents"]?.arrayValue?.first?["link_index"] == "0" && object?["recents"]?.arrayValue?.first?["click_id"] == "0")
            // A reply to the tracked message notifies thread.replied.
            let sentID = try #require(sent.data?["id"]?.stringValue)
            let headers = try await h.call("GET", "/v3/grants/\(g.id)/messages/\(enc(sentID))?fields=include_headers", token: h.apiKey)
            let header = try #require(headers.data?["headers"]?.arrayValue?.first { $0["name"]?.stringValue?.lowercased() == "message-id" }?["value"]?.stringValue,
                                      "\(headers.text.prefix(400))")
            _ = try h.sim.deliverMail(to: "tracker@outlook.com", from: "x@example.com", subject: "Re: Tracked", inReplyTo: header)
            _ = try #require(await h.sim.nextDelivery { $0.type == "thread.replied" })
            let replied = try #require(receiver.received.compactMap(\.payload).first { $0["type"] == "thread.replied" })
            #expect(replied["data"]?["object"]?["root_message_id"]?.stringValue == sentID, "\(replied)")
            #expect(replied["data"]?["object"]?["reply_data"]?["count"] == 1 && replied["data"]?["object"]?["from_self"] == false)
            #expect(replied["data"]?["object"]?["object"] == "thread" && replied["data"]?["grant_id"]?.stringValue == g.id)
            #expect(receiver.received.allSatisfy { $0.signatureValid == true })
            // Without tracking options the body is sent as written.
            let plain = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "x@example.com"]], "subject": "Plain", "body": "<a href=\"https://nylas.com/\">N</a>"])
            #expect(plain.data?["body"] == "<a href=\"https://nylas.com/\">N</a>")
        }
    }

    @Test("v2 l. 587: an account's notifications need its scope: email for messages, contacts for contacts")
    func v2WebhookScopes() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let hook = try await h.call("POST", "/a/\(v2.clientID)/webhooks", json: [
                "callback_url": .string(receiver.url), "triggers": ["message.created", "contact.created"], "state": "active"],
                headers: appBasic(h))
            let hookID = try #require(hook.json?["id"]?.stringValue, "\(hook.text)")
            let (narrow, _) = try await v2Connect(h, email: "narrow@gmail.com", scopes: "email")
            let (wide, _) = try await v2Connect(h, email: "wide@gmail.com", scopes: "email,contacts")
            for mailbox in ["narrow@gmail.com", "wide@gmail.com"] {
                let made = try await h.call("POST", "/__sim/providers/mailboxes/\(mailbox)/contacts",
                                            json: ["given_name": "Pat", "emails": [["email": "pat@example.com"]]])
                #expect(made.status == 201, "\(made.text)")
            }
            let wideContact = await h.sim.advanceUntilDelivery(within: .seconds(7200)) {
                $0.webhookID == hookID && $0.type == "contact.created" && $0.grantID == wide
            }
            #expect(wideContact != nil, "the account with the contacts scope is notified")
            _ = try h.sim.deliverMail(to: "narrow@gmail.com", from: "a@example.org", subject: "Scoped")
            let mail = await h.sim.advanceUntilDelivery(within: .seconds(60)) { $0.webhookID == hookID && $0.grantID == narrow }
            #expect(mail?.type == "message.created", "email scope: message notifications")
            let deliveries = try await h.call("GET", "/__sim/webhooks/deliveries")
            let narrowContact = deliveries.json?["data"]?.arrayValue?.contains {
                $0["grant_id"]?.stringValue == narrow && $0["type"]?.stringValue == "contact.created"
            }
            #expect(narrowContact == false, "no contact notification without the contacts scope: \(deliveries.text.prefix(600))")
        }
    }

    @Test("v2 l. 256: an invitation message lists its events")
    func invitationEvents() async throws {
        try await withSimulator { h in
            let (_, organizer) = try await v2Connect(h, email: "inviter@gmail.com")
            let (_, guest) = try await v2Connect(h, email: "invitee@gmail.com")
            let cal = try #require(try await h.call("GET", "/calendars", headers: organizer).json?.arrayValue?.first { $0["is_primary"] == true }?["id"]?.stringValue)
            _ = try await h.call("POST", "/events?notify_participants=true", json: [
                "calendar_id": .string(cal), "title": "Invite", "when": ["start_time": 1_767_800_000, "end_time": 1_767_803_600],
                "participants": [["email": "invitee@gmail.com"]]], headers: organizer)
            let inbox = try await h.call("GET", "/messages", headers: guest)
            let invitation = try #require(inbox.json?.arrayValue?.first { $0["subject"]?.stringValue?.hasPrefix("Invitation:") == true }, "\(inbox.text.prefix(300))")
            #expect(invitation["events"]?.arrayValue?.isEmpty == false, "\(invitation)")
        }
    }

}
