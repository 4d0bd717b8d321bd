import Foundation
import NylasSimulator

/// `webhooks`: N v3 destinations subscribed to `grant.created`, each failing every attempt against
/// a local `WebhookReceiver` that answers 500; one `grant.created` fans out to all of them and the
/// clock advances 72 hours: 6 attempts each (the first and five retries), 6,000 POSTs for 1,000.
enum WebhookBench {
    static func run(_ args: Arguments) async throws {
        let destinations = args.int("destinations", 1000)
        let runs = args.int("runs", 3)
        header("webhooks: \(destinations) failing destinations, one fan-out, advance 72 h, \(runs) runs")
        var walls: [Double] = []
        var fanouts: [Double] = []
        var counts: [Int] = []
        var received = 0
        var setup: [Double] = []
        var expected = 0
        for run in 0..<runs {
            let receiver = try await WebhookReceiver.start()
            receiver.script(.status(500))
            var options = SimulatorOptions(seed: "bench-webhooks-\(run)")
            options.clockMode = .manual
            options.settings.nylasRateLimits = nil  // 1,000 webhook creations at one instant: 50/s per application
            let sim = try await Simulator.start(options)
            let apiKey = sim.region(.us).v3.apiKey
            let setupTime = try await measureAsync {
                for i in 0..<destinations {
                    let body: JSON = ["trigger_types": ["grant.created"], "webhook_url": .string(receiver.url),
                                      "description": .string("bench \(i)")]
                    let r = await sim.send(SimRequest(method: "POST", target: "/v3/webhooks",
                                                      headers: ["Authorization": "Bearer \(apiKey)", "Content-Type": "application/json"],
                                                      body: body.bytes))
                    guard r.status == 200 else { throw BenchError("POST /v3/webhooks answered \(r.status): \(r.text)") }
                }
            }
            setup.append(setupTime.s)
            let clock = ContinuousClock()
            let t0 = clock.now
            // The event: one grant.created, fanned out to every destination inside the commit.
            _ = try sim.createGrant(email: "fanout\(run)@gmail.com", provider: "google")
            let t1 = clock.now
            await sim.advance(by: .seconds(72 * 3600))
            let t2 = clock.now
            let deliveries = try sim.webhookDeliveries(.us)
            counts.append(deliveries.count)
            walls.append((t2 - t0).s)
            fanouts.append((t1 - t0).ms)
            received = receiver.received.count
            // Every destination: the first attempt and five retries (20 min, 2 h, 8 h, 24 h, 72 h).
            expected = destinations * 6
            await sim.shutdown()
            await receiver.stop()
            note("run \(run + 1): \(deliveries.count) attempts recorded, \(received) POSTs received, advance \(fmt((t2 - t1).s)) s, set-up \(fmt(setupTime.s)) s")
        }
        let s = Stats(walls)
        report("webhooks: 1,000 failing destinations x 72 h", s.median, "s", target: .atMost(2),
               "runs=\(runs) attempts=\(counts.map(String.init).joined(separator: "/")) (expected \(expected)), fan-out commit \(fmt(Stats(fanouts).median)) ms, \(fmt(Double(counts.last ?? 0) / s.median)) attempts/s; set-up (1,000 POST /v3/webhooks with challenge) \(fmt(Stats(setup).median)) s excluded")
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
