import Foundation
import NylasSimulator

/// `send`: `POST /v3/grants/{id}/messages/send` (JSON) throughput, in-process (`sim.send`) and over
/// loopback HTTP with keep-alive connections.
enum SendBench {
    static let body: JSON = ["to": [["name": "Bench Recipient", "email": "recipient@example.com"]],
                             "subject": "Benchmark send", "body": "<p>Hello from the benchmark.</p>"]

    static func run(_ args: Arguments) async throws {
        let count = args.int("count", 5000)
        let runs = args.int("runs", 3)
        let connections = args.int("connections", 8)
        header("send: \(count) sends per run, \(runs) runs; loopback with \(connections) keep-alive connections; Google grant, provider rate limit off, in-memory")

        var inProcess: [Double] = []
        var latencies: [Double] = []
        for run in 0..<runs {
            var options = SimulatorOptions(seed: "bench-send-\(run)")
            options.clockMode = .manual
            options.settings.providerRateLimits = [:]  // 600 sends/min per Gmail mailbox would answer 429
            options.settings.nylasRateLimits = nil  // and Nylas's own 200 requests/s per grant
            let sim = try await Simulator.start(options)
            let grant = try sim.createGrant(email: "sender\(run)@gmail.com", provider: "google")
            let apiKey = sim.region(.us).v3.apiKey
            let request = SimRequest(method: "POST", target: "/v3/grants/\(grant.id)/messages/send",
                                     headers: ["Authorization": "Bearer \(apiKey)", "Content-Type": "application/json"],
                                     body: body.bytes)
            for _ in 0..<50 { _ = await sim.send(request) }  // warm-up
            let clock = ContinuousClock()
            var bad = 0
            let t0 = clock.now
            for _ in 0..<count {
                let s0 = clock.now
                let r = await sim.send(request)
                latencies.append((clock.now - s0).us)
                if r.status != 200 { bad += 1 }
            }
            let wall = (clock.now - t0).s
            guard bad == 0 else { throw BenchError("\(bad) sends failed") }
            inProcess.append(Double(count) / wall)
            await sim.shutdown()
        }
        let s = Stats(inProcess)
        let l = Stats(latencies)
        report("send: in-process (sim.send)", s.median, "sends/s", target: .atLeast(5000),
               "runs=\(runs) x \(count) sends, latency median \(fmt(l.median)) us p99 \(fmt(l.percentile(99))) us")

        var loopback: [Double] = []
        var loopLat: [Double] = []
        for run in 0..<runs {
            var options = SimulatorOptions(seed: "bench-send-loop-\(run)")
            options.clockMode = .manual
            options.settings.providerRateLimits = [:]
            options.settings.nylasRateLimits = nil  // and Nylas's own 200 requests/s per grant
            let sim = try await Simulator.start(options)
            let grant = try sim.createGrant(email: "sender\(run)@gmail.com", provider: "google")
            let apiKey = sim.region(.us).v3.apiKey
            let port = sim.baseURL(.us).port!
            let bytes = RawHTTPConnection.requestBytes(
                method: "POST", path: "/v3/grants/\(grant.id)/messages/send", port: port,
                headers: ["Authorization": "Bearer \(apiKey)", "Content-Type": "application/json"], body: body.bytes)
            _ = try await offPool { try loadTest(port: port, connections: connections, total: 200, request: { _ in bytes }, expect: 200) }
            let result = try await offPool { try loadTest(port: port, connections: connections, total: count, request: { _ in bytes }, expect: 200) }
            guard result.failures == 0 else { throw BenchError("\(result.failures) loopback sends failed") }
            loopback.append(Double(count) / result.wall.s)
            loopLat += result.latenciesUs
            await sim.shutdown()
        }
        let ls = Stats(loopback)
        let ll = Stats(loopLat)
        report("send: loopback HTTP", ls.median, "sends/s", target: .atLeast(5000),
               "runs=\(runs) x \(count) sends, \(connections) connections, latency median \(fmt(ll.median / 1000)) ms p99 \(fmt(ll.percentile(99) / 1000)) ms")
    }
}
