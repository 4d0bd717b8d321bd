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
}
