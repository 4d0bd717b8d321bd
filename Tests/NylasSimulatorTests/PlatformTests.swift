import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
import NylasSimulatorTesting

/// The platform resources of v3 over real sockets: templates and their engines, workflows on
/// bookings, signatures on send, lists and rules at work (outbound blocks, inbound actions),
/// workspaces, domains with transactional send, and API keys.
@Suite("Platform: templates, workflows, signatures, rules, workspaces, domains, API keys")
struct PlatformTests {
    @Test("Templates: app and grant level, the four engines, strict variables, render by ID and inline")
    func templates() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "tpl@gmail.com", provider: "google")
            let other = try h.sim.createGrant(email: "other@gmail.com", provider: "google")
            let created = try await h.call("POST", "/v3/templates", token: h.apiKey, json: [
                "name": "Confirm", "subject": "Hello {{user.name}}", "body": "<p>{{user.name}}</p>{{#items}}<li>{{.}}</li>{{/items}}"])
            #expect(created.status == 200, "\(created.text)")
            #expect(created.data?["engine"]?.stringValue == "mustache" && created.data?["object"]?.stringValue == "template")
            let id = try #require(created.data?["id"]?.stringValue)
            let rendered = try await h.call("POST", "/v3/templates/\(id)/render", token: h.apiKey,
                                            json: ["variables": ["user": ["name": "Ann & Bo"], "items": ["a", "b"]]])
            #expect(rendered.data?["subject"]?.stringValue == "Hello Ann &amp; Bo", "\(rendered.text)")
            #expect(rendered.data?["body"]?.stringValue == "<p>Ann &amp; Bo</p><li>a</li><li>b</li>")
            let strict = try await h.call("POST", "/v3/templates/\(id)/render", token: h.apiKey, json: ["variables": [:]])
            #expect(strict.status == 400 && strict.text.contains("user.name"), "\(strict.text)")
            let lax = try await h.call("POST", "/v3/templates/\(id)/render", token: h.apiKey, json: ["variables": [:], "strict": false])
            #expect(lax.data?["subject"]?.stringValue == "Hello ")
            let engines: [(String, String, String)] = [
                ("handlebars", "{{#each xs}}<{{this}}>{{/each}}{{#if flag}}yes{{else}}no{{/if}}", "<1><2>no"),
                ("nunjucks", "{% for i in xs %}[{{ i }}]{% endfor %}{% if flag %}yes{% else %}no{% endif %}", "[1][2]no"),
                ("twig", "{{ name | upper }}{# note #}{{ missing | default(\"x\") }}", "ZOEx"),
                ("mustache", "{{^flag}}off{{/flag}}{{{raw}}}", "off<b>"),
            ]
            for (engine, body, expected) in engines {
                let r = try await h.call("POST", "/v3/templates/render", token: h.apiKey, json: [
                    "engine": .string(engine), "body": .string(body),
                    "variables": ["xs": [1, 2], "flag": false, "name": "zoe", "raw": "<b>"]])
                #expect(r.data?["body"]?.stringValue == expected, "\(engine): \(r.text)")
            }
            #expect(try await h.call("POST", "/v3/templates/render", token: h.apiKey, json: ["engine": "jinja", "body": "x"]).status == 400)
            #expect(try await h.call("POST", "/v3/templates", token: h.apiKey, json: ["name": "Bad", "subject": "s", "body": "{{#open}}"]).status == 400)
            #expect(try await h.call("POST", "/v3/templates", token: h.apiKey, json: ["name": "No body", "subject": "s"]).status == 400)
            // Grant-level templates belong to their grant; the API key or the grant's token reach them.
            let mine = try await h.call("POST", "/v3/grants/\(g.id)/templates", token: g.accessToken, json: [
                "name": "Mine", "subject": "s", "body": "{{ who }}", "engine": "twig"])
            #expect(mine.data?["grant_id"]?.stringValue == g.id && mine.data?["app_id"] == .null, "\(mine.text)")
            let mineID = try #require(mine.data?["id"]?.stringValue)
            #expect(try await h.call("GET", "/v3/grants/\(other.id)/templates/\(mineID)", token: h.apiKey).status == 404)
            #expect(try await h.call("GET", "/v3/templates/\(mineID)", token: h.apiKey).status == 404)
            let put = try await h.call("PUT", "/v3/grants/\(g.id)/templates/\(mineID)", token: h.apiKey, json: ["name": "Renamed"])
            #expect(put.data?["name"]?.stringValue == "Renamed" && put.data?["body"]?.stringValue == "{{ who }}")
            let list = try await h.call("GET", "/v3/templates?limit=1", token: h.apiKey)
            #expect(list.data?.arrayValue?.count == 1 && list.json?["next_cursor"] == nil)
            #expect(try await h.call("DELETE", "/v3/grants/\(g.id)/templates/\(mineID)", token: h.apiKey).status == 200)
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/templates/\(mineID)", token: h.apiKey).status == 404)
            #expect(try await h.call("GET", "/v3/templates", region: .eu, token: h.apiKey).status == 401)
        }
    }

    @Test("Signatures: 201, ten per grant, appended after a line break on send, draft and draft send; unknown ID sends nothing")
    func signatures() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "sig@gmail.com", provider: "google")
            let base = "/v3/grants/\(g.id)/signatures"
            let created = try await h.call("POST", base, token: h.apiKey, json: ["name": "Work", "body": "<p>-- Sig</p><script>x()</script>"])
            #expect(created.status == 201, "\(created.text)")
            #expect(created.data?["body"]?.stringValue == "<p>-- Sig</p>" && created.data?["object"]?.stringValue == "signature")
            let sig = try #require(created.data?["id"]?.stringValue)
            let sent = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "friend@example.com"]], "subject": "Hi", "body": "Hello", "signature_id": .string(sig)])
            #expect(sent.status == 200, "\(sent.text)")
            #expect(sent.data?["body"]?.stringValue == "Hello<br><p>-- Sig</p>", "\(sent.text)")
            let draft = try await h.call("POST", "/v3/grants/\(g.id)/drafts", token: h.apiKey, json: [
                "to": [["email": "friend@example.com"]], "subject": "Draft", "body": "Body", "signature_id": .string(sig)])
            #expect(draft.data?["body"]?.stringValue == "Body<br><p>-- Sig</p>", "\(draft.text)")
            let plain = try await h.call("POST", "/v3/grants/\(g.id)/drafts", token: h.apiKey, json: [
                "to": [["email": "friend@example.com"]], "subject": "Later", "body": "Later"])
            let draftID = try #require(plain.data?["id"]?.stringValue)
            let sentDraft = try await h.call("POST", "/v3/grants/\(g.id)/drafts/\(draftID)", token: h.apiKey, json: ["signature_id": .string(sig)])
            #expect(sentDraft.data?["body"]?.stringValue == "Later<br><p>-- Sig</p>", "\(sentDraft.text)")
            let before = try await h.call("GET", "/v3/grants/\(g.id)/messages?in=SENT", token: h.apiKey).data?.arrayValue?.count
            let unknown = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "friend@example.com"]], "subject": "Hi", "body": "Hello", "signature_id": "sig_nope"])
            #expect(unknown.status == 404, "\(unknown.text)")
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/messages?in=SENT", token: h.apiKey).data?.arrayValue?.count == before)
            for i in 2...10 {
                #expect(try await h.call("POST", base, token: g.accessToken, json: ["name": .string("S\(i)"), "body": "x"]).status == 201)
            }
            #expect(try await h.call("POST", base, token: h.apiKey, json: ["name": "Eleven", "body": "x"]).status == 400)
            #expect(try await h.call("POST", base, token: h.apiKey, json: ["name": "Inline", "body": "<img src=\"data:image/png;base64,AAAA\">"]).status == 400)
        }
    }

    @Test("Rules: an outbound block answers 403 and sends nothing; inbound rules of the grant's workspace act on new mail; evaluations recorded")
    func rules() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "agent@acme.io", provider: "google")
            let list = try await h.call("POST", "/v3/lists", token: h.apiKey, json: ["name": "Competitors", "type": "domain"])
            #expect(list.status == 201, "\(list.text)")
            let listID = try #require(list.data?["id"]?.stringValue)
            let items = try await h.call("POST", "/v3/lists/\(listID)/items", token: h.apiKey, json: ["items": [" Rival.COM ", "rival.com", "other.net"]])
            #expect(items.data?["items_count"]?.intValue == 2, "\(items.text)")
            #expect(try await h.call("POST", "/v3/lists/\(listID)/items", token: h.apiKey, json: ["items": ["not a domain"]]).status == 400)
            #expect(try await h.call("PUT", "/v3/lists/\(listID)", token: h.apiKey, json: ["type": "tld"]).status == 400)
            let block = try await h.call("POST", "/v3/rules", token: h.apiKey, json: [
                "name": "No competitors", "trigger": "outbound", "actions": [["type": "block"]],
                "match": ["conditions": [["field": "recipient.domain", "operator": "in_list", "value": .strings([listID])]]]])
            #expect(block.status == 201, "\(block.text)")
            #expect(try await h.call("POST", "/v3/rules", token: h.apiKey, json: [
                "name": "Bad", "actions": [["type": "block"], ["type": "trash"]],
                "match": ["conditions": [["field": "from.domain", "operator": "is", "value": "x.com"]]]]).status == 400)
            #expect(try await h.call("POST", "/v3/rules", token: h.apiKey, json: [
                "name": "Inbound recipient", "actions": [["type": "trash"]],
                "match": ["conditions": [["field": "recipient.domain", "operator": "is", "value": "x.com"]]]]).status == 400)

            let refused = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "ceo@rival.com"]], "subject": "Offer", "body": "Hi"])
            #expect(refused.status == 403, "\(refused.text)")
            #expect(try await h.call("GET", "/v3/grants/\(g.id)/messages?in=SENT", token: h.apiKey).data?.arrayValue?.isEmpty == true)
            let allowed = try await h.call("POST", "/v3/grants/\(g.id)/messages/send", token: h.apiKey, json: [
                "to": [["email": "friend@partner.org"]], "subject": "Hello", "body": "Hi"])
            #expect(allowed.status == 200)

            // Inbound: a workspace for acme.io with a rule that files newsletters and marks them read.
            let inbound = try await h.call("POST", "/v3/rules", token: h.apiKey, json: [
                "name": "Newsletters", "actions": [["type": "mark_as_read"], ["type": "trash"]],
                "match": ["operator": "any", "conditions": [["field": "from.domain", "operator": "is", "value": "news.example"]]]])
            let ruleID = try #require(inbound.data?["id"]?.stringValue)
            let ws = try await h.call("POST", "/v3/workspaces", token: h.apiKey, json: ["name": "Acme", "domain": "acme.io", "rule_ids": .strings([ruleID])])
            #expect(ws.status == 200, "\(ws.text)")
            let wsID = try #require(ws.data?["workspace_id"]?.stringValue)
            _ = try await h.call("POST", "/v3/workspaces/auto-group", token: h.apiKey)
            #expect(try await h.call("GET", "/v3/grants/\(g.id)", token: h.apiKey).data?["workspace_id"]?.stringValue == wsID)
            _ = try h.sim.deliverMail(to: "agent@acme.io", from: "digest@news.example", subject: "Weekly")
            _ = try h.sim.deliverMail(to: "agent@acme.io", from: "boss@acme.io", subject: "Meeting")
            let inboxSubjects = try await h.call("GET", "/v3/grants/\(g.id)/messages?in=INBOX", token: h.apiKey).data?.arrayValue?.compactMap { $0["subject"]?.stringValue }
            #expect(inboxSubjects == ["Meeting"], "\(String(describing: inboxSubjects))")
            let trashed = try await h.call("GET", "/v3/grants/\(g.id)/messages?in=TRASH", token: h.apiKey).data?.arrayValue ?? []
            #expect(trashed.first?["subject"]?.stringValue == "Weekly" && trashed.first?["unread"]?.boolValue == false)

            let evaluations = try await h.call("GET", "/v3/grants/\(g.id)/rule-evaluations", token: h.apiKey).data?.arrayValue ?? []
            let stages = evaluations.compactMap { $0["evaluation_stage"]?.stringValue }
            #expect(stages == ["inbox_processing", "inbox_processing", "outbound_send", "outbound_send"], "\(evaluations)")
            let blocked = evaluations[3]
            #expect(blocked["applied_actions"]?["blocked"]?.boolValue == true && blocked["message_id"] == .null)
            #expect(blocked["evaluation_input"]?["recipient_domains"]?.arrayValue == ["rival.com"])
            #expect(evaluations[2]["matched_rule_ids"]?.arrayValue?.isEmpty == true && evaluations[2]["message_id"]?.stringValue != nil)
            #expect(evaluations[1]["applied_actions"]?["trashed"]?.boolValue == true && evaluations[1]["applied_actions"]?["marked_as_read"]?.boolValue == true)
            #expect(evaluations[0]["matched_rule_ids"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("Workspaces: default, new grants by domain, manual assignment, deletion moves grants; policies validated")
    func workspaces() async throws {
        try await withSimulator { h in
            let initial = try await h.call("GET", "/v3/workspaces", token: h.apiKey).data?.arrayValue ?? []
            #expect(initial.count == 1 && initial.first?["default"]?.boolValue == true)
            let defaultID = try #require(initial.first?["workspace_id"]?.stringValue)
            #expect(try await h.call("DELETE", "/v3/workspaces/\(defaultID)", token: h.apiKey).status == 400)
            #expect(try await h.call("PATCH", "/v3/workspaces/\(defaultID)", token: h.apiKey, json: ["name": "Renamed"]).status == 400)
            let policy = try await h.call("POST", "/v3/policies", token: h.apiKey, json: [
                "name": "Strict", "limits": ["limit_inbox_retention_period": 30, "limit_spam_retention_period": 7],
                "spam_detection": ["spam_sensitivity": 2.5]])
            #expect(policy.status == 200, "\(policy.text)")
            let policyID = try #require(policy.data?["id"]?.stringValue)
            #expect(try await h.call("POST", "/v3/policies", token: h.apiKey, json: [
                "name": "Wrong", "limits": ["limit_inbox_retention_period": 7, "limit_spam_retention_period": 30]]).status == 400)
            #expect(try await h.call("POST", "/v3/policies", token: h.apiKey, json: ["name": "Wrong", "spam_detection": ["spam_sensitivity": 9]]).status == 400)
            let auto = try await h.call("POST", "/v3/workspaces", token: h.apiKey, json: ["name": "Acme", "domain": "acme.io", "policy_id": .string(policyID)])
            let autoID = try #require(auto.data?["workspace_id"]?.stringValue)
            #expect(try await h.call("POST", "/v3/workspaces", token: h.apiKey, json: ["name": "Again", "domain": "acme.io"]).status == 400)
            #expect(try await h.call("POST", "/v3/workspaces", token: h.apiKey, json: ["name": "Bad", "domain": "x.io", "policy_id": "nope"]).status == 400)
            #expect(try await h.call("PATCH", "/v3/workspaces/\(autoID)", token: h.apiKey, json: ["domain": "other.io"]).status == 400)
            let g = try h.sim.createGrant(email: "new@acme.io", provider: "google")
            let outsider = try h.sim.createGrant(email: "someone@gmail.com", provider: "google")
            #expect(try await h.call("GET", "/v3/grants/\(g.id)", token: h.apiKey).data?["workspace_id"]?.stringValue == autoID)
            #expect(try await h.call("GET", "/v3/grants/\(outsider.id)", token: h.apiKey).data?["workspace_id"]?.stringValue == defaultID)
            #expect(try await h.call("POST", "/v3/workspaces/\(autoID)/manual-assign", token: h.apiKey,
                                     json: ["assign_grants": .strings([outsider.id])]).status == 400)
            let manual = try await h.call("POST", "/v3/workspaces", token: h.apiKey, json: ["name": "Hand", "domain": "hand.io", "auto_group": false])
            let manualID = try #require(manual.data?["workspace_id"]?.stringValue)
            let assigned = try await h.call("POST", "/v3/workspaces/\(manualID)/manual-assign", token: h.apiKey,
                                            json: ["assign_grants": .strings([outsider.id, "nosuchgrant"])])
            #expect(assigned.data?["grants_assigned"]?.arrayValue == [.string(outsider.id)] && assigned.data?["grants_removed"] == .null, "\(assigned.text)")
            #expect(try await h.call("GET", "/v3/grants?workspace_id=\(manualID)", token: h.apiKey).data?.arrayValue?.count == 1)
            #expect(try await h.call("DELETE", "/v3/workspaces/\(manualID)", token: h.apiKey).status == 200)
            #expect(try await h.call("GET", "/v3/grants/\(outsider.id)", token: h.apiKey).data?["workspace_id"]?.stringValue == defaultID)
            #expect(try await h.call("GET", "/v3/workspaces/\(manualID)", token: h.apiKey).status == 404)
        }
    }

    @Test("API keys: a created key works at once, is shown once, and a deleted or expired key is refused at once")
    func apiKeys() async throws {
        try await withSimulator { h in
            let app = h.sim.region(.us).v3Applications[0].applicationID
            let other = h.sim.region(.eu).v3Applications[0].applicationID
            let base = "/v3/admin/applications/\(app)/api-keys"
            let created = try await h.call("POST", base, token: h.apiKey, json: ["name": "CI", "expires_in": 1])
            #expect(created.status == 200, "\(created.text)")
            let key = try #require(created.data?["api_key"]?.stringValue)
            let id = try #require(created.data?["id"]?.stringValue)
            #expect(try await h.call("GET", "/v3/grants", token: key).status == 200)
            #expect(try await h.call("GET", "\(base)/\(id)", token: h.apiKey).data?["api_key"] == nil)
            #expect(try await h.call("GET", base, token: key).data?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/v3/admin/applications/\(other)/api-keys", token: h.apiKey).status == 404)
            #expect(try await h.call("GET", "/v3/grants", region: .eu, token: key).status == 401)
            try await h.advance("25h")
            #expect(try await h.call("GET", "/v3/grants", token: key).status == 401)
            let second = try await h.call("POST", base, token: h.apiKey, json: [:])
            let key2 = try #require(second.data?["api_key"]?.stringValue)
            #expect(try await h.call("GET", "/v3/grants", token: key2).status == 200)
            #expect(try await h.call("DELETE", "\(base)/\(try #require(second.data?["id"]?.stringValue))", token: h.apiKey).status == 200)
            #expect(try await h.call("GET", "/v3/grants", token: key2).status == 401)
        }
    }

    @Test("Domains: DNS records, verification (and the control switch), transactional send from a verified domain only")
    func domains() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "customer@gmail.com", provider: "google")
            let created = try await h.call("POST", "/v3/admin/domains", token: h.apiKey, json: ["name": "Mail", "domain_address": "Shop.Example"])
            #expect(created.status == 200, "\(created.text)")
            let id = try #require(created.data?["id"]?.stringValue)
            #expect(created.data?["domain_address"]?.stringValue == "shop.example" && created.data?["verified_ownership"]?.boolValue == false)
            #expect(try await h.call("POST", "/v3/admin/domains", token: h.apiKey, json: ["name": "Again", "domain_address": "shop.example"]).status == 400)
            let info = try await h.call("POST", "/v3/admin/domains/\(id)/info", token: h.apiKey, json: ["type": "ownership"])
            #expect(info.data?["status"]?.stringValue == "pending" && info.data?["attempt"]?["options"]?["type"]?.stringValue == "TXT", "\(info.text)")
            #expect(try await h.call("POST", "/v3/admin/domains/\(id)/info", token: h.apiKey, json: ["type": "dmarc"]).status == 400)
            let send: () async throws -> HTTPClient.Response = {
                try await h.call("POST", "/v3/domains/shop.example/messages/send", token: h.apiKey, json: [
                    "from": ["email": "orders@shop.example", "name": "Shop"], "to": [["email": "customer@gmail.com"]],
                    "subject": "Your order", "body": "<p>Shipped</p>"])
            }
            let unverified = try await send()
            #expect(unverified.status == 400 && unverified.text.contains("not verified"), "\(unverified.text)")
            _ = try await h.call("POST", "/__sim/domains/\(id)/verification", json: ["type": "dkim", "outcome": "failed"])
            for type in ["ownership", "dkim", "spf"] {
                let v = try await h.call("POST", "/v3/admin/domains/\(id)/verify", token: h.apiKey, json: .object(["type": .string(type)]))
                #expect(v.data?["status"]?.stringValue == (type == "dkim" ? "failed" : "done"), "\(type): \(v.text)")
            }
            #expect(try await send().status == 400)
            _ = try await h.call("POST", "/__sim/domains/\(id)/verification", json: ["type": "dkim", "outcome": "verified"])
            #expect(try await h.call("POST", "/v3/admin/domains/\(id)/verify", token: h.apiKey, json: ["type": "dkim"]).data?["status"]?.stringValue == "done")
            let sent = try await send()
            #expect(sent.status == 200, "\(sent.text)")
            #expect(sent.data?["grant_id"] == .null && sent.data?["from"]?.arrayValue?.first?["email"]?.stringValue == "orders@shop.example")
            let inbox = try await h.call("GET", "/v3/grants/\(g.id)/messages", token: h.apiKey).data?.arrayValue ?? []
            #expect(inbox.contains { $0["subject"]?.stringValue == "Your order" }, "\(inbox)")
            let wrongFrom = try await h.call("POST", "/v3/domains/shop.example/messages/send", token: h.apiKey, json: [
                "from": ["email": "orders@elsewhere.example"], "to": [["email": "customer@gmail.com"]], "subject": "x"])
            #expect(wrongFrom.status == 400)
            #expect(try await h.call("POST", "/v3/domains/unknown.example/messages/send", token: h.apiKey, json: [
                "from": ["email": "a@unknown.example"], "to": [["email": "customer@gmail.com"]]]).status == 404)
            // A service account's signed headers instead of a bearer token.
            var headers = ["X-Nylas-Kid": "kid-1", "X-Nylas-Nonce": "abcdefghij0123456789", "X-Nylas-Signature": "c2ln",
                           "X-Nylas-Timestamp": String(Int(Date().timeIntervalSince1970))]
            #expect(try await h.call("GET", "/v3/admin/domains", headers: headers).data?.arrayValue?.count == 1)
            #expect(try await h.call("GET", "/v3/admin/domains", headers: headers).status == 401)  // nonce replayed
            headers["X-Nylas-Nonce"] = "zzzzzzzzzz0123456789"
            headers["X-Nylas-Timestamp"] = String(Int(Date().timeIntervalSince1970) - 3600)
            #expect(try await h.call("GET", "/v3/admin/domains", headers: headers).status == 401)
            #expect(try await h.call("GET", "/v3/admin/domains").status == 401)
        }
    }

    @Test("Workflows: a booking sends the template to the guest after the delay, from the organizer")
    func workflows() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "host@gmail.com", provider: "google")
            let guest = try h.sim.createGrant(email: "guest@gmail.com", provider: "google")
            let template = try await h.call("POST", "/v3/templates", token: h.apiKey, json: [
                "name": "Booked", "subject": "Booked: {{title}}", "body": "See you, {{#participants}}{{name}}{{/participants}}"])
            let templateID = try #require(template.data?["id"]?.stringValue)
            #expect(try await h.call("POST", "/v3/workflows", token: h.apiKey, json: [
                "name": "x", "template_id": "missing", "trigger_event": "booking.created"]).status == 404)
            #expect(try await h.call("POST", "/v3/workflows", token: h.apiKey, json: [
                "name": "x", "template_id": .string(templateID), "trigger_event": "booking.nope"]).status == 400)
            let flow = try await h.call("POST", "/v3/workflows", token: h.apiKey, json: [
                "name": "Confirmation", "template_id": .string(templateID), "trigger_event": "booking.created", "delay": 5])
            #expect(flow.status == 200 && flow.data?["is_enabled"]?.boolValue == true && flow.data?["date_created"]?.intValue != nil, "\(flow.text)")
            let config = try h.sim.createSchedulerConfiguration(grantID: g.id, [
                "participants": [["email": "host@gmail.com", "name": "Host", "is_organizer": true,
                                  "availability": ["calendar_ids": ["primary"]], "booking": ["calendar_id": "primary"]]],
                "availability": ["duration_minutes": 60, "availability_rules": ["default_open_hours": [["days": [1], "timezone": "UTC", "start": "9:00", "end": "17:00"]]]],
                "event_booking": ["title": "Intro call"]])
            let monday = 1_767_571_200
            _ = try h.sim.book(configurationID: try #require(config["id"]?.stringValue), start: monday + 9 * 3600, end: monday + 10 * 3600,
                               guestName: "Gia", guestEmail: "guest@gmail.com")
            try await h.advance("4m")
            let early = try await h.call("GET", "/v3/grants/\(guest.id)/messages", token: h.apiKey).data?.arrayValue ?? []
            #expect(!early.contains { $0["subject"]?.stringValue == "Booked: Intro call" })
            try await h.advance("1m")
            let mail = try await h.call("GET", "/v3/grants/\(guest.id)/messages", token: h.apiKey).data?.arrayValue ?? []
            let sent = try #require(mail.first { $0["subject"]?.stringValue == "Booked: Intro call" }, "\(mail)")
            #expect(sent["from"]?.arrayValue?.first?["email"]?.stringValue == "host@gmail.com")
            #expect(sent["body"]?.stringValue == "See you, Gia")
        }
    }

    @Test("SigV4: the signer reproduces AWS's published test vector (post-vanilla)")
    func sigV4() {
        var c = DateComponents()
        (c.year, c.month, c.day, c.hour, c.minute, c.second) = (2015, 8, 30, 12, 36, 0)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let signed = SigV4.sign(method: "POST", path: "/", headers: ["Host": "example.amazonaws.com"], body: [], service: "service",
                                region: "us-east-1", accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                date: cal.date(from: c)!)
        #expect(signed["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    }
}
