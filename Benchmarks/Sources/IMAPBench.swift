import Foundation
import NylasSimulator

/// `imap`: 10,000 IMAP grants, each polled every 10 minutes of virtual time, over 24 hours, while
/// one message a minute arrives in a random mailbox: 144 ticks x 10,000 grants = 1.44 M syncs.
enum IMAPBench {
    static func run(_ args: Arguments) async throws {
        let grants = args.int("grants", 10_000)
        let hours = args.int("hours", 24)
        let runs = args.int("runs", 1)
        header("imap: \(grants) IMAP grants, \(hours) h of 10-minute ticks, 1 message/min, \(runs) run(s)")
        var walls: [Double] = []
        var peak = 0.0
        for run in 0..<runs {
            resetPeakRSS()
            var options = SimulatorOptions(seed: "bench-imap-\(run)")
            options.clockMode = .manual
            let sim = try await Simulator.start(options)
            var infos: [GrantInfo] = []
            infos.reserveCapacity(grants)
            let setup = try measure {
                for i in 0..<grants {
                    infos.append(try sim.createGrant(email: "user\(i)@imap.example.net", provider: "imap"))
                }
            }
            note("set-up: \(grants) grants in \(fmt(setup.s)) s (excluded), RSS \(fmt(procStatusMiB("VmRSS"))) MiB")
            var rng = SplitMix64(seed: 42 + UInt64(run))
            var delivered: [Int: Int] = [:]
            let minutes = hours * 60
            let clock = ContinuousClock()
            let t0 = clock.now
            for minute in 0..<minutes {
                let g = Int(rng.next() % UInt64(grants))
                try sim.deliverMail(to: infos[g].email, from: "sender\(minute)@example.com", subject: "trickle \(minute)",
                                    body: "<p>message \(minute)</p>")
                delivered[g, default: 0] += 1
                await sim.advance(by: .seconds(60))
            }
            let wall = (clock.now - t0).s
            walls.append(wall)
            peak = max(peak, procStatusMiB("VmHWM"))
            // Check: a grant that received mail sees all of it (its last message may wait for the next tick).
            let apiKey = sim.region(.us).v3.apiKey
            await sim.advance(by: .seconds(600))
            var checked = 0, seen = 0, expected = 0
            for (g, n) in delivered.prefix(20) {
                let r = await sim.send(SimRequest(method: "GET", target: "/v3/grants/\(infos[g].id)/messages?limit=200",
                                                  headers: ["Authorization": "Bearer \(apiKey)"]))
                seen += r.json?["data"]?.arrayValue?.count ?? 0
                expected += n
                checked += 1
            }
            note("run \(run + 1): \(fmt(wall)) s for \(minutes) minutes, \(grants * minutes / 10) scheduled syncs (\(fmt(Double(grants * minutes / 10) / wall)) syncs/s); check: \(seen)/\(expected) messages visible in \(checked) grants")
            await sim.shutdown()
        }
        let s = Stats(walls)
        report("imap: 10,000 grants x 24 h", s.median, "s", target: .atMost(10),
               "runs=\(runs) syncs=\(grants * hours * 6) peak RSS (VmHWM)=\(fmt(peak)) MiB")
        report("imap: peak RSS", peak, "MiB", label: "VmHWM", "whole process incl. set-up of \(grants) grants")
    }
}
