import Foundation
import NylasSimulator

/// `startup`: a fresh in-process simulator (both regions, listeners on free loopback ports,
/// seeded applications), started and shut down; then the same with the mailbox fixture loaded.
enum StartupBench {
    static func run(_ args: Arguments) async throws {
        let runs = args.int("runs", 200)
        let fixture = args.string("fixture", "fixtures/mailbox.json")
        header("startup: \(runs) runs each, in-process, both regions, listeners on 127.0.0.1:0")

        func options(_ i: Int) -> SimulatorOptions {
            var o = SimulatorOptions(seed: "bench-startup-\(i)")
            o.clockMode = .manual
            return o
        }

        // Warm-up: first use of Foundation, NIO's singleton event loop group, the routing table.
        for i in 0..<5 {
            let sim = try await Simulator.start(options(i))
            _ = try sim.loadFixture(path: fixture)
            await sim.shutdown()
        }

        var total: [Double] = [], startOnly: [Double] = [], stopOnly: [Double] = []
        for i in 0..<runs {
            let clock = ContinuousClock()
            let t0 = clock.now
            let sim = try await Simulator.start(options(i))
            let t1 = clock.now
            await sim.shutdown()
            let t2 = clock.now
            total.append((t2 - t0).ms)
            startOnly.append((t1 - t0).ms)
            stopOnly.append((t2 - t1).ms)
        }
        let s = Stats(total)
        report("startup: start+stop, bare (issue 12)", s.median, "ms", target: .atMost(5),
               "n=\(runs) p90=\(fmt(s.percentile(90))) ms start=\(fmt(Stats(startOnly).median)) ms stop=\(fmt(Stats(stopOnly).median)) ms")
        report("startup: start+stop, bare (issue 2)", s.median, "ms", target: .atMost(10), "n=\(runs), same samples")

        var withFixture: [Double] = [], loadOnly: [Double] = []
        var messages = 0
        for i in 0..<runs {
            let clock = ContinuousClock()
            let t0 = clock.now
            let sim = try await Simulator.start(options(i))
            let t1 = clock.now
            messages = try sim.loadFixture(path: fixture)
            let t2 = clock.now
            await sim.shutdown()
            let t3 = clock.now
            withFixture.append((t3 - t0).ms)
            loadOnly.append((t2 - t1).ms)
        }
        let f = Stats(withFixture)
        report("startup: start+fixture+stop", f.median, "ms", target: .atMost(20),
               "n=\(runs) p90=\(fmt(f.percentile(90))) ms fixture load=\(fmt(Stats(loadOnly).median)) ms (\(messages) messages into the world)")

        // The fixture with a grant on the mailbox: the grant's historic sync copies every message.
        let syncRuns = max(10, runs / 4)
        var synced: [Double] = []
        var copied = 0
        for i in 0..<syncRuns {
            let clock = ContinuousClock()
            let t0 = clock.now
            let sim = try await Simulator.start(options(i))
            try sim.loadFixture(path: fixture)
            let grant = try sim.createGrant(email: "avery.quinn@gmail.com", provider: "google")
            let t1 = clock.now
            if i == 0 {
                let r = await sim.send(SimRequest(method: "GET", target: "/v3/grants/\(grant.id)/messages?limit=200",
                                                  headers: ["Authorization": "Bearer \(sim.region(.us).v3.apiKey)"]))
                copied = r.json?["data"]?.arrayValue?.count ?? 0
            }
            await sim.shutdown()
            synced.append((t1 - t0).ms)
        }
        let g = Stats(synced)
        report("startup: start+fixture+grant sync", g.median, "ms", target: .none,
               "n=\(syncRuns) p90=\(fmt(g.percentile(90))) ms (first page after sync: \(copied) messages), stop excluded")
    }
}
