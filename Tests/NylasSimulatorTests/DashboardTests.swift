import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
@testable import NylasSimAPI
@testable import NylasSimControl
import NylasSimulatorTesting

@Suite("Dashboard: /__sim/ui renders the live state, masks secrets, escapes values, needs the control token")
struct DashboardTests {
    static let hostile = "<script>alert(1)</script>"
    static let hostileEscaped = "&lt;script&gt;alert(1)&lt;/script&gt;"

    /// Occurrences of `needle` in `text`.
    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test("The page is HTML on every listener, with both regions, grants, the clock buttons and its own script")
    func renders() async throws {
        try await withSimulator { h in
            _ = try h.sim.createGrant(email: "dash@gmail.com")
            _ = try h.sim.createGrant(.eu, email: "eu-user@outlook.com")
            let r = try await h.call("GET", "/__sim/ui")
            #expect(r.status == 200)
            #expect(r.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(r.headers["cache-control"] == "no-store")
            let csp = try #require(r.headers["content-security-policy"])
            #expect(csp.contains("script-src 'nonce-"))
            let html = r.text
            #expect(html.hasPrefix("<!doctype html>"))
            for needle in ["data-region=\"us\"", "data-region=\"eu\"", "dash@gmail.com", "eu-user@outlook.com",
                           "data-advance=\"10m\"", "data-advance=\"1h\"", "data-advance=\"24h\"", "data-advance=\"72h\"",
                           "id=\"clock-time\"", "2026-01-01 09:00:00", "id=\"deliver-form\"", "id=\"journal-filter\"",
                           "id=\"webhooks\"", "id=\"faults\"", "id=\"scenarios\"", "/__sim/ui/live"] {
                #expect(html.contains(needle), "missing \(needle)")
            }
            // The inline script carries this response's nonce, and nothing in the page loads from elsewhere.
            let nonce = try #require(csp.split(separator: "'").first { $0.hasPrefix("nonce-") }).dropFirst(6)
            #expect(html.contains("<script nonce=\"\(nonce)\">"))
            #expect(!html.contains("src=\"http"))
            #expect(!html.contains("innerHTML") && !html.contains("outerHTML =") && !html.contains("insertAdjacentHTML"))

            let eu = try await h.call("GET", "/__sim/ui", region: .eu)
            #expect(eu.status == 200)
            #expect(eu.text.contains("dash@gmail.com"))

            let live = try await h.call("GET", "/__sim/ui/live")
            #expect(live.status == 200)
            #expect(live.text.contains("<div id=\"clock\" class=\"clock\" data-live"))
            #expect(live.text.contains("dash@gmail.com"))
            #expect(!live.text.contains("<script"))
        }
    }

    @Test("Secrets are masked unless asked for: ?reveal=1 or one at a time through /__sim/ui/secret")
    func secrets() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "secret@gmail.com")
            let us = h.sim.region(.us)
            let made = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                        json: ["trigger_types": ["grant.created"], "webhook_url": .string(receiver.url)])
            #expect(made.status == 200)
            let webhookSecret = try #require(made.data?["webhook_secret"]?.stringValue)
            let secrets = [h.apiKey, us.v3.clientSecret, us.v2.clientSecret, h.apiKey(.eu), h.sim.region(.eu).v3.clientSecret,
                           webhookSecret, g.accessToken]

            let html = try await h.call("GET", "/__sim/ui").text
            for s in secrets { #expect(!html.contains(s), "a secret is in the page") }
            #expect(html.contains("ui/secret") || html.contains("class=\"reveal\""))
            #expect(html.contains("data-ref=\"app:us:\(us.v3.clientID):api_key\""))
            // The journal lists POST /v3/webhooks; its response, fetched on click, has the secret masked.
            #expect(html.contains("<b>POST</b> /v3/webhooks"))
            let seq = try #require(try await h.call("GET", "/__sim/requests?path=/v3/webhooks").data?.arrayValue?.first?["seq"]?.intValue)
            #expect(html.contains("data-src=\"/__sim/ui/request?region=us&amp;seq=\(seq)\""))
            #expect(!html.contains("&quot;webhook_secret&quot;"))   // bodies are not in the page itself
            let bodies = try await h.call("GET", "/__sim/ui/request?region=us&seq=\(seq)")
            #expect(bodies.status == 200)
            let response = try #require(bodies.json?["response_body"]?.stringValue)
            #expect(response.contains("\"webhook_secret\": \"••••••••\""))
            #expect(response.contains("\"trigger_types\": [\n"))
            #expect(!response.contains(webhookSecret))
            let clear = try await h.call("GET", "/__sim/ui/request?region=us&seq=\(seq)&reveal=1")
            #expect(clear.json?["response_body"]?.stringValue?.contains(webhookSecret) == true)
            #expect(try await h.call("GET", "/__sim/ui/request?region=us&seq=9999").status == 404)
            #expect(try await h.call("GET", "/__sim/ui/request?region=mars&seq=1").status == 400)
            let live = try await h.call("GET", "/__sim/ui/live").text
            for s in secrets { #expect(!live.contains(s), "a secret is in the live sections") }

            let revealed = try await h.call("GET", "/__sim/ui?reveal=1").text
            for s in secrets { #expect(revealed.contains(s), "?reveal=1 shows every secret") }

            func secret(_ ref: String) async throws -> HTTPClient.Response {
                try await h.call("GET", "/__sim/ui/secret?ref=" + QueryParameters.encode(ref))
            }
            #expect(try await secret("app:us:\(us.v3.clientID):api_key").json?["value"]?.stringValue == h.apiKey)
            #expect(try await secret("app:us:\(us.v2.clientID):client_secret").json?["value"]?.stringValue == us.v2.clientSecret)
            let hookID = try #require(made.data?["id"]?.stringValue)
            #expect(try await secret("webhook:us:\(hookID):secret").json?["value"]?.stringValue == webhookSecret)
            #expect(try await secret("token:us:\(g.id):access").json?["value"]?.stringValue == g.accessToken)
            #expect(try await secret("app:eu:\(us.v3.clientID):api_key").status == 404)
            #expect(try await secret("app:mars:x:api_key").status == 400)
            #expect(try await h.call("GET", "/__sim/ui/secret").status == 400)
        }
    }

    @Test("Every value is escaped: mailbox and grant names, message subjects, echoed filters")
    func escapes() async throws {
        try await withSimulator { h in
            let box = try await h.call("POST", "/__sim/providers/mailboxes",
                                       json: ["email": "evil@example.com", "provider": "imap", "name": .string(Self.hostile)])
            #expect(box.status == 201, "\(box.text)")
            let grant = try await h.call("POST", "/__sim/grants", json: ["email": "victim@gmail.com", "name": .string(Self.hostile)])
            #expect(grant.status == 201, "\(grant.text)")
            let mail = try await h.call("POST", "/__sim/providers/mailboxes/victim@gmail.com/messages",
                                        json: ["from": "x@example.com", "subject": .string(Self.hostile), "body": "hi"])
            #expect(mail.status == 201, "\(mail.text)")
            let filter = "/__sim/ui?grant_id=%3Cscript%3Ealert(1)%3C%2Fscript%3E&status=%22%3E%3Cscript%3E"
            for path in ["/__sim/ui", "/__sim/ui/live", filter] {
                let html = try await h.call("GET", path).text
                #expect(!html.contains(Self.hostile), "unescaped in \(path)")
                #expect(!html.contains("\"><script>"), "unescaped in \(path)")
                #expect(html.contains(Self.hostileEscaped), "\(path) shows the value escaped")
            }
            let page = try await h.call("GET", "/__sim/ui").text
            #expect(count(Self.hostileEscaped, in: page) >= 3)   // grant name, mailbox name, message subject
            let filtered = try await h.call("GET", filter).text
            #expect(filtered.contains("value=\"\(Self.hostileEscaped)\""))
            #expect(filtered.contains("Invalid filter: status"))
        }
    }

    @Test("The control token is required when set; the page takes it as ?token=, other routes do not")
    func controlToken() async throws {
        try await withSimulator(configure: { $0.controlToken = "t" }) { h in
            #expect(try await h.call("GET", "/__sim/ui").status == 401)
            #expect(try await h.call("GET", "/__sim/ui?token=wrong").status == 401)
            #expect(try await h.call("GET", "/__sim/ui/live").status == 401)
            #expect(try await h.call("GET", "/__sim/ui/secret?ref=x").status == 401)
            let ok = try await h.call("GET", "/__sim/ui?token=t")
            #expect(ok.status == 200)
            #expect(ok.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(!ok.text.contains("?token=t"))
            #expect(try await h.call("GET", "/__sim/ui", headers: ["X-Sim-Control-Token": "t"]).status == 200)
            #expect(try await h.call("GET", "/__sim/ui/live", headers: ["X-Sim-Control-Token": "t"]).status == 200)
            #expect(try await h.call("GET", "/__sim/ui/live?token=t").status == 200)
            #expect(try await h.call("GET", "/__sim/ui/live", region: .eu, headers: ["Authorization": "Bearer t"]).status == 200)
            // ?token= is the dashboard's alone: the rest of the control API still wants the header.
            #expect(try await h.call("GET", "/__sim/state?token=t").status == 401)
            #expect(try await h.call("POST", "/__sim/clock?token=t", json: ["advance": "1h"]).status == 401)
            #expect(try await h.call("POST", "/__sim/clock", json: ["advance": "1h"], headers: ["X-Sim-Control-Token": "t"]).status == 200)
        }
    }

    @Test("A failing destination's notification shows its 6 attempts on the axis, then the destination failed")
    func timeline() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        try await withSimulator { h in
            let made = try await h.call("POST", "/v3/webhooks", token: h.apiKey,
                                        json: ["trigger_types": ["grant.created"], "webhook_url": .string(receiver.url)])
            #expect(made.status == 200)
            receiver.script(.status(500))
            _ = try h.sim.createGrant(email: "t@gmail.com")
            _ = await h.sim.nextDelivery { $0.type == "grant.created" }
            let first = try await h.call("GET", "/__sim/ui").text
            #expect(first.contains("data-status=\"failing\""))
            #expect(first.contains("data-attempts=\"1\""))
            #expect(count("tl-dot tl-attempt", in: first) == 1)
            #expect(count("tl-dot tl-pending", in: first) == 1)
            #expect(first.contains("retry #2 due in 20m"))

            try await h.advance("72h")
            let html = try await h.call("GET", "/__sim/ui/live").text
            #expect(html.contains("data-status=\"failed\""))
            #expect(html.contains("data-type=\"grant.created\" data-outcome=\"failed\" data-attempts=\"6\""))
            #expect(count("tl-dot tl-attempt bad", in: html) == 6)
            #expect(count("tl-dot tl-pending", in: html) == 0)
            for offset in ["+0", "+20m", "+2h", "+8h", "+24h", "+72h"] {
                #expect(html.contains("<span class=\"tl-label\">\(offset)</span>"), "missing \(offset)")
            }
            #expect(html.contains("style=\"left: 100.00%\""))
            #expect(html.contains("2026-01-04 09:00:00"))
            // Each attempt's body and signature, fetched on click.
            let last = try #require(h.sim.webhookDeliveries().last)
            #expect(last.attempt == 6)
            #expect(html.contains("data-src=\"/__sim/ui/delivery?region=us&amp;seq=\(last.sequence)\""))
            #expect(html.contains(last.signature))
            let body = try await h.call("GET", "/__sim/ui/delivery?region=us&seq=\(last.sequence)")
            #expect(body.json?["signature"]?.stringValue == last.signature)
            #expect(body.json?["body"]?.stringValue?.contains("\"webhook_delivery_attempt\": 6") == true)
            #expect(body.json?["body"]?.stringValue?.contains("\"type\": \"grant.created\"") == true)
        }
    }

    @Test("The journal takes the filters of /__sim/requests: region, api, status, grant_id")
    func journalFilters() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "j@gmail.com")
            _ = try await h.call("GET", "/v3/grants/\(g.id)", token: h.apiKey)
            _ = try await h.call("GET", "/v3/grants/nope", token: h.apiKey)
            _ = try await h.call("GET", "/v3/grants", region: .eu, token: h.apiKey(.eu))
            let all = try await h.call("GET", "/__sim/ui/live").text
            #expect(count("<details class=\"entry\"", in: all) == 3)
            let notFound = try await h.call("GET", "/__sim/ui/live?status=404").text
            #expect(count("<details class=\"entry\"", in: notFound) == 1)
            #expect(notFound.contains("/v3/grants/nope"))
            let eu = try await h.call("GET", "/__sim/ui/live?region=eu").text
            #expect(count("<details class=\"entry\"", in: eu) == 1)
            let byGrant = try await h.call("GET", "/__sim/ui/live?grant_id=\(g.id)&api=v3").text
            #expect(count("<details class=\"entry\"", in: byGrant) == 1)
            let v2 = try await h.call("GET", "/__sim/ui/live?api=v2").text
            #expect(count("<details class=\"entry\"", in: v2) == 0)
            #expect(try await h.call("GET", "/__sim/ui?region=mars").text.contains("Invalid filter: region"))
        }
    }

    @Test("Formatting: offsets, durations, masking of credentials in bodies and queries")
    func formatting() {
        #expect(DashboardFormat.offset(0) == "+0")
        #expect(DashboardFormat.offset(20 * 60_000) == "+20m")
        #expect(DashboardFormat.offset(72 * 3_600_000) == "+72h")
        #expect(DashboardFormat.offset(90 * 60_000) == "+1h 30m")
        #expect(DashboardFormat.duration(3 * 86_400_000 + 2 * 3_600_000) == "3d 2h")
        #expect(DashboardFormat.duration(59 * 60_000 + 10_000) == "59m 10s")
        #expect(DashboardFormat.relative(VirtualTime(seconds: 100), now: VirtualTime(seconds: 40)) == "in 1m")
        let body = DashboardFormat.body(Array(#"{"access_token":"abc","grant_id":"g","nested":[{"api_key":"k"}]}"#.utf8), reveal: false)
        #expect(!body.contains("abc") && !body.contains("\"k\""))
        #expect(body.contains("\"grant_id\": \"g\""))
        #expect(DashboardFormat.body(Array("client_id=a&client_secret=s".utf8), reveal: false) == "client_id=a&client_secret=••••••••")
        #expect(DashboardFormat.redact(query: "limit=5&access_token=x") == "limit=5&access_token=••••••••")
    }
}
