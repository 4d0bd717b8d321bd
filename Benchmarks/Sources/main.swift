import Foundation
import NylasSimulator

// Benchmark driver: see Benchmarks/README.md. Each figure prints one line:
// RESULT | name | median value | target | PASS/MISS/info | detail (runs, spread, anchors)

let usage = """
    usage: nylas-sim-bench <benchmark> [options]

      startup     [--runs 200] [--fixture fixtures/mailbox.json]
      webhooks    [--destinations 1000] [--runs 3]
      imap        [--grants 10000] [--hours 24] [--runs 1]
      scenarios   [--dir scenarios] [--runs 5]
      messages    [--count 1000000] [--scales 1000,100000,1000000] [--repeats 200] [--public-sample 10000] [--dir DIR]
      send        [--count 5000] [--runs 3] [--connections 8]
      serve-start [--binary .build-release/release/nylas-sim] [--runs 20] [--port 27600]
      http-prepare [--port 27400] [--out DIR]     (set-up for the wrk comparison in Benchmarks/run)
      all         startup, webhooks, imap, scenarios, messages, send
    """

let argv = Array(CommandLine.arguments.dropFirst())
guard let command = argv.first else {
    print(usage)
    exit(2)
}
let args = Arguments(Array(argv.dropFirst()))

do {
    switch command {
    case "startup": try await StartupBench.run(args)
    case "webhooks": try await WebhookBench.run(args)
    case "imap": try await IMAPBench.run(args)
    case "scenarios": try await ScenarioBench.run(args)
    case "messages": try await MessagesBench.run(args)
    case "messages-load": try MessagesBench.loadChild(args)
    case "messages-scale": try await MessagesBench.scaleChild(args)
    case "send": try await SendBench.run(args)
    case "serve-start": try await ServeBench.start(args)
    case "http-prepare": try await ServeBench.prepare(args)
    case "all":
        try await StartupBench.run(args)
        try await WebhookBench.run(args)
        try await IMAPBench.run(args)
        try await ScenarioBench.run(args)
        try await MessagesBench.run(args)
        try await SendBench.run(args)
    case "-h", "--help", "help":
        print(usage)
    default:
        print("unknown benchmark '\(command)'\n\(usage)")
        exit(2)
    }
} catch {
    print("ERROR \(command): \(error)")
    exit(1)
}
