import Foundation
import Testing
@testable import NylasSimulator
@testable import NylasSimCore
import NylasSimulatorTesting

/// Semantics where the seeds and the references say what the simulator once did otherwise; each
/// test quotes its source.
@Suite("Fidelity to the seeds and references")
struct FidelityTests {
    func drafts(_ h: SimHarness, _ g: GrantInfo) async throws -> [String] {
        let r = try await h.call("GET", "/v3/grants/\(g.id)/drafts", token: h.apiKey)
        #expect(r.status == 200, "\(r.text)")
        return r.data?.arrayValue?.compactMap { $0["subject"]?.stringValue } ?? []
    }

    /// Reference §4.8: `use_draft` "keeps it in Drafts until sent"; seed 002: deleting a schedule
    /// "does not delete the Message".
    @Test("use_draft with send_at: the message waits in Drafts; cancelling leaves it; sending moves it")
    func scheduledDrafts() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "drafty@gmail.com", provider: "google")
            let path = "/v3/grants/\(g.id)/messages/send"
            let now = h.sim.now.seconds
            let first = try await h.call("POST", path, token: g.accessToken, json: [
                "to": [["email": "x@example.com"]], "subject": "Kept", "send_at": .int(now + 3600), "use_draft": true])
            #expect(first.status == 202, "\(first.text)")
            let firstID = try #require(first.json?["schedule_id"]?.stringValue)
            #expect(try await drafts(h, g) == ["Kept"])
            let cancel = try await h.call("DELETE", "/v3/grants/\(g.id)/messages/schedules/\(firstID)", token: g.accessToken)
            #expect([200, 202].contains(cancel.status), "\(cancel.text)")
            #expect(try await drafts(h, g) == ["Kept"], "cancelling the schedule leaves the message in Drafts")
            let second = try await h.call("POST", path, token: g.accessToken, json: [
                "to": [["email": "x@example.com"]], "subject": "Sent later", "send_at": .int(now + 3600), "use_draft": true])
            #expect(second.status == 202)
            #expect(Set(try await drafts(h, g)) == ["Kept", "Sent later"])
            // Without use_draft nothing waits in Drafts.
            let plain = try await h.call("POST", path, token: g.accessToken, json: [
                "to": [["email": "x@example.com"]], "subject": "Plain", "send_at": .int(now + 3600)])
            #expect(plain.status == 202)
            #expect(Set(try await drafts(h, g)) == ["Kept", "Sent later"])
            await h.sim.advance(by: .seconds(2 * 3600))
            #expect(try await drafts(h, g) == ["Kept"], "the sent draft left Drafts")
            let sent = try await h.call("GET", "/v3/grants/\(g.id)/messages?in=SENT", token: h.apiKey)
            #expect(Set(sent.data?.arrayValue?.compactMap { $0["subject"]?.stringValue } ?? []) == ["Sent later", "Plain"])
        }
    }

    /// Reference nylas-v2.md §3.2: Exchange accounts are `"provider": "eas"`; `exchange` is an input.
    @Test("v2: an Exchange account is eas in account objects and in the management list")
    func v2ExchangeName() async throws {
        try await withSimulator { h in
            let v2 = h.sim.region(.us).v2
            let a = try await h.call("POST", "/connect/authorize", json: [
                "client_id": .string(v2.clientID), "name": "Ex User", "email_address": "ex.user@corp.example.com",
                "provider": "exchange", "settings": ["username": "ex.user", "password": "p"], "scopes": "email"])
            #expect(a.status == 200, "\(a.text)")
            let code = try #require(a.json?["code"]?.stringValue)
            let t = try await h.call("POST", "/connect/token", json: ["client_id": .string(v2.clientID),
                                                                     "client_secret": .string(v2.clientSecret), "code": .string(code)])
            #expect(t.json?["provider"]?.stringValue == "eas", "\(t.text)")
            let token = try #require(t.json?["access_token"]?.stringValue)
            let account = try await h.call("GET", "/account", token: token)
            #expect(account.json?["provider"]?.stringValue == "eas", "\(account.text)")
            let basic = ["Authorization": "Basic " + Data("\(v2.clientSecret):".utf8).base64EncodedString()]
            let list = try await h.call("GET", "/a/\(v2.clientID)/accounts", headers: basic)
            #expect(list.json?.arrayValue?.compactMap { $0["provider"]?.stringValue } == ["eas"], "\(list.text)")
        }
    }

    /// Seed 002: "Nylas v3 removes Nylas scopes … you specify the provider scopes only."
    @Test("v3 hosted auth refuses Nylas v2 scope names with the provider's invalid_scope, and grants nothing")
    func v2ScopesRefused() async throws {
        try await withSimulator { h in
            let app = h.sim.region(.us).v3
            let redirect = "https://app.example.com/callback"
            let registered = try await h.call("POST", "/v3/applications/redirect-uris", token: h.apiKey, json: ["url": .string(redirect)])
            #expect(registered.status == 200, "\(registered.text)")
            let before = try await h.call("GET", "/v3/grants", token: h.apiKey).data?.arrayValue?.count
            let path = "/v3/connect/auth?client_id=\(app.clientID)&redirect_uri=\(QueryParameters.encode(redirect))"
                + "&response_type=code&provider=google&state=s1&scope=\(QueryParameters.encode("email.read_only calendar"))"
            let r = try await h.call("GET", path)
            #expect(r.status == 302 || r.status == 303, "\(r.text)")
            let location = try #require(r.headers["location"])
            #expect(location.hasPrefix(redirect))
            #expect(location.contains("error=invalid_scope") && location.contains("state=s1"), "\(location)")
            #expect(!location.contains("code="))
            #expect(try await h.call("GET", "/v3/grants", token: h.apiKey).data?.arrayValue?.count == before)
            // Provider scopes, and the OpenID `email`, are fine.
            let ok = try await h.call("GET", "/v3/connect/auth?client_id=\(app.clientID)&redirect_uri=\(QueryParameters.encode(redirect))"
                + "&response_type=code&provider=google&scope=\(QueryParameters.encode("email https://www.googleapis.com/auth/gmail.readonly"))")
            #expect(ok.headers["location"]?.contains("code=") == true, "\(ok.headers)")
        }
    }

    /// Issue: client programs that compute `send_at` from their own clock must work against
    /// `serve` without flags; a seed fixes IDs, and the clock's start only when it is manual.
    @Test("A running clock starts at the wall-clock now, seed or not; a seeded manual one at 2026-01-01T09:00Z")
    func standaloneClockStart() async throws {
        let wall = Int(Date().timeIntervalSince1970)
        let running = try await withSimulator(seed: "clock", configure: { $0.clockMode = .running }) { h in h.sim.now.seconds }
        #expect(abs(running - wall) < 60, "running: \(running) vs wall \(wall)")
        let manual = try await withSimulator(seed: "clock") { h in h.sim.now.seconds }
        #expect(manual == 1_767_258_000)
        let given = try await withSimulator(seed: "clock", configure: {
            $0.clockMode = .running
            $0.startTime = VirtualTime(seconds: 1_800_000_000)
        }) { h in h.sim.now.seconds }
        #expect(abs(given - 1_800_000_000) < 60)
    }

    /// Seed 000: "you don't need to create an organization for the new data center".
    @Test("One organization across regions: the same organization_id in the US and the EU, settable in the config")
    func oneOrganization() async throws {
        func organizations(_ h: SimHarness) async throws -> [String] {
            var out: [String] = []
            for region in Region.allCases {
                let r = try await h.call("GET", "/v3/applications", region: region, token: h.apiKey(region))
                out.append(try #require(r.data?["organization_id"]?.stringValue, "\(r.text)"))
            }
            return out
        }
        let seeded = try await withSimulator { h in try await organizations(h) }
        #expect(seeded.count == 2 && seeded[0] == seeded[1])
        let unseeded = try await withSimulator(seed: nil) { h in try await organizations(h) }
        #expect(unseeded[0] == unseeded[1] && unseeded[0] != seeded[0])
        let configured = try await withSimulator(configure: { $0.config.organization_id = "org-acme" }) { h in try await organizations(h) }
        #expect(configured == ["org-acme", "org-acme"])
    }

    /// Issue 19 (13): invalid nested settings are a 400 naming the field and are never stored.
    @Test("Nested settings of the wrong type: a calendar's notetaker rules, a callback URI's settings")
    func nestedSettings() async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "nested@gmail.com", provider: "google")
            func calendarCount() async throws -> Int {
                try await h.call("GET", "/v3/grants/\(g.id)/calendars", token: h.apiKey).data?.arrayValue?.count ?? -1
            }
            let before = try await calendarCount()
            let bad: [(JSON, String)] = [
                (["rules": ["event_selection": "all"]], "notetaker.rules.event_selection"),
                (["rules": ["event_selection": ["sometimes"]]], "notetaker.rules.event_selection[0]"),
                (["rules": ["participant_filter": ["participants_gte": "3"]]], "notetaker.rules.participant_filter.participants_gte"),
                (["meeting_settings": ["transcription": "yes"]], "notetaker.meeting_settings.transcription"),
                (["name": 7], "name"),
            ]
            for (notetaker, field) in bad {
                let r = try await h.call("POST", "/v3/grants/\(g.id)/calendars", token: h.apiKey,
                                         json: ["name": "Team", "notetaker": notetaker])
                #expect(r.status == 400 && r.text.contains(field), "\(field): \(r.text)")
            }
            #expect(try await calendarCount() == before)
            let ok = try await h.call("POST", "/v3/grants/\(g.id)/calendars", token: h.apiKey, json: [
                "name": "Team", "notetaker": ["name": "Bot", "meeting_settings": ["transcription": true, "leave_after_silence_seconds": 300],
                                              "rules": ["event_selection": ["external"], "participant_filter": ["participants_gte": 3]]]])
            #expect(ok.status == 200, "\(ok.text)")
            let uris = try await h.call("GET", "/v3/applications/redirect-uris", token: h.apiKey).data?.arrayValue?.count
            let badURI = try await h.call("POST", "/v3/applications/redirect-uris", token: h.apiKey,
                                          json: ["url": "https://app.example.com/js", "platform": "js", "settings": ["origin": ["host": "x"]]])
            #expect(badURI.status == 400 && badURI.text.contains("settings.origin"), "\(badURI.text)")
            #expect(try await h.call("GET", "/v3/applications/redirect-uris", token: h.apiKey).data?.arrayValue?.count == uris)
        }
    }

    /// Issue 19 (12): hosted auth without `provider` (and without a login hint) shows a provider picker.
    @Test("Hosted auth without a provider: a picker in page mode; approve mode picks Google")
    func providerPicker() async throws {
        try await withSimulator { h in
            let app = h.sim.region(.us).v3
            let redirect = "https://app.example.com/callback"
            _ = try await h.call("POST", "/v3/applications/redirect-uris", token: h.apiKey, json: ["url": .string(redirect)])
            let authURL = "/v3/connect/auth?client_id=\(app.clientID)&redirect_uri=\(QueryParameters.encode(redirect))&response_type=code&state=p1"
            func exchange(_ location: String) async throws -> JSON? {
                let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
                let t = try await h.call("POST", "/v3/connect/token", json: [
                    "client_id": .string(app.clientID), "client_secret": .string(app.apiKey), "grant_type": "authorization_code",
                    "code": .string(code), "redirect_uri": .string(redirect)])
                #expect(t.status == 200, "\(t.text)")
                return t.json
            }
            // approve (the default): the simulated user picks Google.
            let approved = try await h.call("GET", authURL)
            let token = try await exchange(try #require(approved.headers["location"]))
            #expect(token?["provider"]?.stringValue == "google")
            // page: the picker lists the connectors; the user's choice decides.
            _ = try await h.call("POST", "/__sim/oauth/consent", json: ["mode": "page"])
            let page = try await h.call("GET", authURL)
            #expect(page.status == 200)
            for provider in ["google", "microsoft", "imap"] { #expect(page.text.contains("id=\"pick-\(provider)\""), "\(page.text)") }
            let href = try #require(page.text.range(of: #"/v3/connect/callback\?consent=[^"]*provider=microsoft"#, options: .regularExpression)
                .map { String(page.text[$0]).replacingOccurrences(of: "&amp;", with: "&") })
            let picked = try await h.call("GET", href)
            let location = try #require(picked.headers["location"], "\(picked.status) \(picked.text)")
            #expect(location.contains("state=p1"))
            let microsoft = try await exchange(location)
            #expect(microsoft?["provider"]?.stringValue == "microsoft")
            let grant = try await h.call("GET", "/v3/grants/\(microsoft?["grant_id"]?.stringValue ?? "")", token: h.apiKey)
            #expect(grant.data?["provider"]?.stringValue == "microsoft")
            // A choice outside the list is refused and the session stays usable.
            let second = try await h.call("GET", authURL)
            let session = try #require(second.text.range(of: #"consent=consent_[A-Za-z0-9]+"#, options: .regularExpression).map { String(second.text[$0]) })
            #expect(try await h.call("GET", "/v3/connect/callback?\(session)&decision=approve&provider=aol").status == 400)
            #expect(try await h.call("GET", "/v3/connect/callback?\(session)&decision=approve&provider=imap").headers["location"]?.contains("code=") == true)
        }
    }

    /// Issue 19 (11): Google's holiday calendar lists each holiday as its own event per year.
    @Test("Google's holiday calendar: one all-day event per holiday and year, floating holidays on their day")
    func holidays() async throws {
        #expect(USHolidays.of(year: 2026).first { $0.name == "Thanksgiving Day" }?.date == CivilDate(year: 2026, month: 11, day: 26))
        #expect(USHolidays.of(year: 2027).first { $0.name == "Thanksgiving Day" }?.date == CivilDate(year: 2027, month: 11, day: 25))
        #expect(USHolidays.of(year: 2026).first { $0.name == "Memorial Day" }?.date == CivilDate(year: 2026, month: 5, day: 25))
        #expect(USHolidays.of(year: 2026).first { $0.name == "Labor Day" }?.date == CivilDate(year: 2026, month: 9, day: 7))
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "hol@gmail.com", provider: "google")
            let calendars = try await h.call("GET", "/v3/grants/\(g.id)/calendars", token: h.apiKey)
            let holidays = try #require(calendars.data?.arrayValue?.first { $0["read_only"] == true }?["id"]?.stringValue)
            // 2026-11-01 to 2027-01-01: Veterans Day, Thanksgiving, Christmas.
            let r = try await h.call("GET", "/v3/grants/\(g.id)/events?calendar_id=\(QueryParameters.encode(holidays))&start=1793491200&end=1798761600",
                                     token: h.apiKey)
            #expect(r.status == 200, "\(r.text)")
            let events = r.data?.arrayValue ?? []
            #expect(events.compactMap { $0["title"]?.stringValue } == ["Veterans Day", "Thanksgiving Day", "Christmas Day"])
            #expect(events.first { $0["title"] == "Thanksgiving Day" }?["when"]?["date"]?.stringValue == "2026-11-26")
            #expect(events.allSatisfy { $0["recurrence"] == nil || $0["recurrence"]?.arrayValue?.isEmpty == true }, "no yearly rule")
            #expect(Set(events.compactMap { $0["ical_uid"]?.stringValue }).count == 3)
        }
    }
}
