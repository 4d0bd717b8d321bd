import Foundation
import Testing
@testable import NylasSimulator

@Suite("tmp stress")
struct ZZTmpStressTests {
    @Test("hammer", arguments: 0..<6)
    func hammer(_ k: Int) async throws {
        try await withSimulator { h in
            let g = try h.sim.createGrant(email: "s@example.com", provider: "imap")
            let failures = await withTaskGroup(of: [String].self) { group in
                for w in 0..<8 {
                    group.addTask {
                        var f: [String] = []
                        for i in 0..<200 {
                            do {
                                let r = try await h.call("GET", "/v3/grants/\(g.id)/messages?limit=\(i % 50 + 1)", token: g.accessToken)
                                if r.status != 200 && r.status != 429 { f.append("\(w)/\(i): status \(r.status)") }
                            } catch { f.append("\(w)/\(i): \(error)") }
                        }
                        return f
                    }
                }
                var all: [String] = []
                for await f in group { all += f }
                return all
            }
            print("STRESS \(k) failures: \(failures.count) \(failures.prefix(5))")
        }
    }
}
