import ArgumentParser
import CConcurrencyHook
import Foundation
import Logging
import NIOCore
import NIOPosix
import NylasSimulator

/// The entry point. Before anything asynchronous runs, the process hands Swift concurrency to
/// NIO's event loops, so that a request is read, handled and answered on one thread instead of
/// hopping between the event loop and the concurrency pool (BENCHMARKS.md, "HTTP").
/// `NYLAS_SIM_CONCURRENCY_POOL=1` keeps the default pool.
@main
enum Main {
    static func main() async {
        if ProcessInfo.processInfo.environment["NYLAS_SIM_CONCURRENCY_POOL"] != "1" {
            EventLoopExecutor.install()
        }
        await NylasSim.main()
    }
}

/// Swift concurrency's global executor replaced by NIO's event loops: what
/// `NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()` does,
/// but through a declared symbol rather than `dlsym`, which finds nothing in a statically linked
/// executable. A job enqueued from an event loop stays on it (`any()` prefers the current loop).
enum EventLoopExecutor {
    static func install() {
        _ = MultiThreadedEventLoopGroup.singleton  // created before the first job arrives
        sim_install_enqueue_global_hook { job, _ in
            let unowned = unsafeBitCast(job, to: UnownedJob.self)
            MultiThreadedEventLoopGroup.singleton.any().enqueue(ExecutorJob(unowned))
        }
    }
}

struct NylasSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nylas-sim",
        abstract: "A local simulator of the Nylas email, calendar and contacts API (v3 and v2, US and EU regions).",
        subcommands: [Serve.self, Replay.self, Validate.self, Report.self, Proxy.self, Drift.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the simulator: one listener per region, v3 under /v3, v2 at the root, control API under /__sim.",
        discussion: """
            Each region (US, EU) has its own listener, database and IDs. The Host header also routes:
            api.us.nylas.com and api.nylas.com go to the US, api.eu.nylas.com and ireland.api.nylas.com to the EU.
            The seeded applications and their credentials are printed at start-up and returned by GET /__sim/state.
            """)

    @Option(help: "Address to bind. Anything but loopback requires --control-token.")
    var host = "127.0.0.1"

    @Option(name: .customLong("us-port"), help: "Port of the US listener (0 picks a free one).")
    var usPort = 4400

    @Option(name: .customLong("eu-port"), help: "Port of the EU listener (0 picks a free one).")
    var euPort = 4401

    @Option(help: "Seed: every ID and credential are reproducible; with --clock manual the clock also starts at 2026-01-01T09:00:00Z. A running clock starts at the wall-clock now unless --start-time is given.")
    var seed: String?

    @Option(name: .customLong("data-dir"), help: "Keep the databases in this directory (SQLite, WAL) across restarts; in memory when absent.")
    var dataDir: String?

    @Option(help: "Applications per region, as YAML or JSON (see README).")
    var config: String?

    @Option(help: "Clock mode: running (real time x --clock-rate) or manual (moves only through POST /__sim/clock).")
    var clock: String = "running"

    @Option(name: .customLong("clock-rate"), help: "Virtual seconds per wall second in running mode.")
    var clockRate: Double = 1

    @Option(name: .customLong("start-time"), help: "Virtual start time (ISO 8601 or Unix seconds). Default: now, or 2026-01-01T09:00:00Z for a seeded manual clock.")
    var startTime: String?

    @Flag(name: .customLong("no-rate-limits"), help: "Answer every request: no Nylas rate limits (v3: 50/s per application, 200/s per grant; v2: 50/s per token and endpoint) and no provider limits (Google 600/min, Microsoft 10,000/10 min per mailbox). For load tests.")
    var noRateLimits = false

    @Flag(help: "Serve HTTPS with a certificate from a local CA generated once (its path is printed).")
    var tls = false

    @Option(name: .customLong("tls-dir"), help: "Where the local CA lives (default: DATA_DIR/tls, or ~/.nylas-sim/tls).")
    var tlsDir: String?

    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted (default 25 MiB).")
    var maxBodyBytes: Int = 25 * 1024 * 1024

    @Option(name: .customLong("access-token-lifetime"), help: "Lifetime of v3 access tokens in seconds of virtual time.")
    var accessTokenLifetime: Int = 3600

    @Option(name: .customLong("webhook-timeout"), help: "Wall seconds a webhook receiver has to answer an attempt (default 10, as Nylas).")
    var webhookTimeout: Double = 10

    @Option(name: .customLong("pubsub-endpoint"), help: "Google Pub/Sub API the Pub/Sub channels publish to (default: PUBSUB_EMULATOR_HOST, else pubsub.googleapis.com).")
    var pubsubEndpoint: String?

    @Option(name: .customLong("sns-endpoint"), help: "AWS endpoint (SNS and STS) the SNS channels publish to (default: AWS_ENDPOINT_URL_SNS or AWS_ENDPOINT_URL, else the topic's region at amazonaws.com).")
    var snsEndpoint: String?

    @Option(name: .customLong("control-token"), help: "Require this token (Authorization: Bearer, or X-Sim-Control-Token) on /__sim/ routes.")
    var controlToken: String?

    @Option(name: .customLong("allowed-host"), help: "Another Host name the listeners answer (repeatable). Loopback names, IP addresses, this machine's name and the Nylas API host names are always answered; others are refused against DNS rebinding.")
    var allowedHost: [String] = []

    @Option(name: .customLong("file-root"), help: "Files named in control requests (fixture and scenario paths) are read only under this directory (default: the working directory).")
    var fileRoot: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info (one line per request), notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Load a scenario's set-up and timeline into the running server (its at: times follow the clock).")
    var scenario: [String] = []

    @Option(help: "Record the API requests and responses of this run as a scenario file, written at shutdown.")
    var record: String?

    func validate() throws {
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level \(logLevel)") }
        if ClockState.Mode(rawValue: clock) == nil { throw ValidationError("--clock must be running or manual") }
        if let startTime, VirtualTime(parsing: startTime) == nil {
            throw ValidationError("--start-time must be ISO 8601 or Unix seconds between years 1 and 9999")
        }
        if !ClockState.rates.contains(clockRate) { throw ValidationError("--clock-rate must be a number from 0 to 1000000") }
        if !(1...315_576_000_000).contains(accessTokenLifetime) {
            throw ValidationError("--access-token-lifetime must be from 1 to 315576000000 seconds")
        }
        if maxBodyBytes < 1 { throw ValidationError("--max-body-bytes must be at least 1") }
        if !(0.001...3600).contains(webhookTimeout) { throw ValidationError("--webhook-timeout must be from 0.001 to 3600 seconds") }
        if let controlToken, SimulatorOptions.isBlank(controlToken) {
            throw ValidationError("--control-token is empty: an empty token would leave the control API open")
        }
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.")
        if !loopback, controlToken == nil {
            throw ValidationError("binding \(host) exposes the control API: pass --control-token TOKEN")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        // A recorded run must be replayable: it needs a seed.
        let seed = self.seed ?? (record != nil ? "recorded-\(Int(Date().timeIntervalSince1970))" : nil)
        var options = SimulatorOptions(seed: seed)
        options.host = host
        options.ports = [.us: usPort, .eu: euPort]
        options.dataDirectory = dataDir
        options.clockMode = ClockState.Mode(rawValue: clock)!
        options.clockRate = clockRate
        options.startTime = startTime.flatMap(VirtualTime.init(parsing:))
        options.settings.maxBodyBytes = maxBodyBytes
        options.settings.accessTokenLifetime = .seconds(accessTokenLifetime)
        if noRateLimits {
            options.settings.nylasRateLimits = nil
            options.settings.providerRateLimits = [:]
        }
        options.settings.webhooks.attemptTimeout = .milliseconds(Int64(webhookTimeout * 1000))
        if let pubsubEndpoint { options.settings.channels.pubsub = pubsubEndpoint.hasPrefix("http") ? pubsubEndpoint : "http://" + pubsubEndpoint }
        if let snsEndpoint { options.settings.channels.sns = snsEndpoint }
        options.controlToken = controlToken
        options.allowedHosts = allowedHost
        options.fileRoot = fileRoot
        if let config { options.config = try SimulatorConfig.load(path: config) }
        #if TLS
        if tls { options.tlsDirectory = tlsDir ?? dataDir.map { $0 + "/tls" } ?? LocalCertificateAuthority.defaultDirectory }
        #else
        if tls { throw ValidationError("--tls needs the package's TLS trait: this build has it disabled") }
        #endif
        var logger = Logger(label: "nylas-sim")
        logger.logLevel = level
        options.logger = logger

        let scenarios = try scenario.map { try Scenario.load(path: $0) }
        let sim = try await Simulator.start(options)
        let recorder = record != nil ? sim.startRecording() : nil
        FileHandle.standardOutput.write(Data((Banner.render(sim, options: options) + "\n").utf8))
        for s in scenarios {
            let task = sim.load(s)
            Task {
                let result = await task.value
                FileHandle.standardOutput.write(Data((result.timeline + "\n").utf8))
            }
        }
        await waitForSignal()
        FileHandle.standardOutput.write(Data("Shutting down.\n".utf8))
        if let record, let recorder {
            let name = URL(fileURLWithPath: record).deletingPathExtension().lastPathComponent
            try recorder.scenarioYAML(name: name, seed: seed ?? "recorded").write(toFile: record, atomically: true, encoding: .utf8)
            FileHandle.standardOutput.write(Data("Recorded the run as \(record)\n".utf8))
        }
        await sim.shutdown()
    }
}

/// Returns on SIGINT or SIGTERM.
func waitForSignal() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let once = Once(continuation)
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            source.setEventHandler { once.fire() }
            source.resume()
            Signals.keep(source)
        }
    }
}

struct Proxy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record a client's traffic against real Nylas (or any upstream): a reverse proxy that writes each exchange, secrets redacted, as JSON Lines.",
        discussion: """
            Point the client's API URL at the proxy's address (printed at start). Requests go to the upstream unchanged
            (HTTPS with the system's CAs); each exchange is appended to the recording with API keys, tokens, client
            secrets, passwords, webhook secrets and signed URLs redacted. Replay it with `nylas-sim drift FILE`.
            """)

    @Option(help: "The upstream base URL, e.g. https://api.us.nylas.com.")
    var upstream: String

    @Option(help: "The recording to write (JSON Lines).")
    var record: String

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 4480

    @Flag(name: .customLong("shape-only"), help: "Keep message bodies, snippets and descriptions as their length only.")
    var shapeOnly = false

    @Option(name: .customLong("ca-file"), help: "A PEM file of CA certificates to trust for the upstream, beside the system's.")
    var caFile: String?

    func run() async throws {
        var options = DriftProxy.Options(upstream: upstream, recordPath: record)
        options.trustedCAFile = caFile
        options.host = host
        options.port = port
        options.shapeOnly = shapeOnly
        let proxy = try await DriftProxy.start(options)
        print("Proxy \(proxy.baseURL) → \(upstream), recording to \(record)")
        await waitForSignal()
        await proxy.stop()
        print("Recording closed.")
    }
}

struct Drift: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a recording against a fresh simulator and report where the simulator answers differently.",
        discussion: """
            The recorded requests are replayed in order against an in-process simulator with a grant for each grant the
            recording shows (same e-mail and provider); recorded IDs are mapped to the simulator's as objects are created
            or listed. Per operation the report names differences of status class, error type, response shape (keys,
            types, nullability, array vs object, pagination fields) and notable headers. Exit status 1 when a difference
            is not in the allow-list (a JSON array of {"operation", "kind", "field", "reason"} globs).
            With --emit-fixture, writes the mailboxes, calendars and events of the recording as fixtures instead.
            """)

    @Argument(help: "A recording written by `nylas-sim proxy`.")
    var file: String

    @Option(help: "Allow-list of known differences (JSON).")
    var allow: String?

    @Option(help: "text, json or junit.")
    var format = "text"

    @Option(help: "Write the report here instead of standard output.")
    var output: String?

    @Option(name: .customLong("emit-fixture"), help: "Write the recording's mailboxes, calendars and events as fixtures into this directory.")
    var emitFixture: String?

    func run() async throws {
        let exchanges = try DriftExchange.load(path: file)
        if let dir = emitFixture {
            let grants = DriftCheck.recordedGrants(exchanges)
            for path in try DriftFixtures.emit(exchanges, grants: grants, to: dir) { print("wrote \(path)") }
            return
        }
        guard ["text", "json", "junit"].contains(format) else { throw ValidationError("--format is text, json or junit") }
        let rules = try allow.map { try DriftCheck.AllowRule.load(path: $0) } ?? []
        let report = try await DriftCheck.run(exchanges, allow: rules)
        let text = format == "json" ? String(decoding: report.json.bytes, as: UTF8.self) : format == "junit" ? report.junit : report.text
        if let output { try text.write(toFile: output, atomically: true, encoding: .utf8) } else { print(text) }
        if !report.unallowed.isEmpty { throw ExitCode(1) }
    }
}

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run scenario files, each against a fresh in-process simulator; exit non-zero when an expectation fails.")

    @Argument(help: "Scenario files (scenarios/*.yaml).")
    var files: [String]

    @Option(help: "Write a JUnit XML report here.")
    var junit: String?

    @Flag(help: "Print only the summary, not each step.")
    var quiet = false

    func run() async throws {
        var results: [ScenarioResult] = []
        var broken = 0
        for file in files {
            do {
                let scenario = try Scenario.load(path: file)
                let result = try await ScenarioRunner.replay(scenario)
                results.append(result)
                print(quiet ? "\(result.passed ? "PASS" : "FAIL") \(result.name)" : result.timeline)
                if !result.passed, quiet { for f in result.failures { print("  \(f.detail)") } }
            } catch let e as ScenarioError {
                broken += 1
                print("FAIL \(e.description)")
            }
        }
        let passed = results.filter(\.passed).count
        let wall = results.reduce(Duration.zero) { $0 + $1.wallTime }
        print("\n\(passed) passed, \(results.count - passed + broken) failed")
        print("wall time \(wall.milliseconds) ms for \(results.count) scenarios")
        if let junit { try ScenarioReport.junit(results).write(toFile: junit, atomically: true, encoding: .utf8) }
        if passed != results.count || broken > 0 { throw ExitCode(1) }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check scenario files against the schema; errors name their line.")

    @Argument(help: "Scenario files.")
    var files: [String]

    func run() throws {
        var bad = 0
        for file in files {
            do {
                let s = try Scenario.load(path: file)
                print("ok   \(file) (\(s.name), \(s.stepCount) steps)")
            } catch let e as ScenarioError {
                bad += 1
                print("FAIL \(e.description)")
            }
        }
        if bad > 0 { throw ExitCode(1) }
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reports on a run.",
        subcommands: [MigrationReportCommand.self])
}

struct MigrationReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migration",
        abstract: "List every v2 endpoint and parameter a client called, each with its v3 replacement.",
        discussion: "Reads a request journal saved from GET /__sim/requests?api=v2&bodies=true, or asks a running server.")

    @Option(name: .customLong("from-journal"), help: "A saved request journal (JSON).")
    var fromJournal: String?

    @Option(help: "Base URL of a running simulator (when no journal file is given).")
    var url = "http://127.0.0.1:4400"

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let report: JSON
        if let fromJournal {
            let data = try Data(contentsOf: URL(fileURLWithPath: fromJournal))
            guard let parsed = JSON.parse(string: String(decoding: data, as: UTF8.self)) else {
                throw ValidationError("\(fromJournal) is not JSON")
            }
            let items = parsed["data"]?.arrayValue ?? parsed.arrayValue ?? []
            let entries = items.filter { ($0["api"]?.stringValue ?? "v2") == "v2" }.map { e in
                (method: e["method"]?.stringValue ?? "GET", path: e["path"]?.stringValue ?? "/", query: e["query"]?.stringValue ?? "",
                 body: Array((e["request_body"]?.stringValue ?? "").utf8))
            }
            report = MigrationReport.build(entries)
        } else {
            let r = try await HTTPClient().send("GET", url + "/__sim/migration-report")
            guard r.status == 200, let j = r.json else { throw ValidationError("\(url) answered \(r.status)") }
            report = j
        }
        print(json ? report.text : MigrationReport.text(report))
    }
}

/// Keeps the signal sources alive for the life of the process.
enum Signals {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
    static func keep(_ s: any DispatchSourceSignal) { sources.append(s) }
}

final class Once: @unchecked Sendable {
    private var continuation: CheckedContinuation<Void, Never>?
    private let lock = NSLock()
    init(_ c: CheckedContinuation<Void, Never>) { continuation = c }
    func fire() {
        lock.lock()
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume()
    }
}

/// The start-up table: where each region listens and its credentials.
enum Banner {
    static func render(_ sim: Simulator, options: SimulatorOptions) -> String {
        var lines: [String] = []
        lines.append("NylasSimulator is running (clock: \(options.clockMode.rawValue), virtual time \(sim.now)).")
        lines.append("")
        for region in Region.allCases {
            let info = sim.region(region)
            lines.append("\(region.rawValue.uppercased()) region   \(info.baseURL.absoluteString)   (v3: /v3/..., v2: /..., control: /__sim/...)")
            for app in info.v3Applications {
                lines.append("  v3 application_id   \(app.applicationID)")
                lines.append("     client_id        \(app.clientID)")
                lines.append("     client_secret    \(app.clientSecret)")
                lines.append("     api_key          \(app.apiKey)")
            }
            for app in info.v2Applications {
                lines.append("  v2 client_id        \(app.clientID)")
                lines.append("     client_secret    \(app.clientSecret)")
            }
            lines.append("")
        }
        #if TLS
        if let ca = sim.certificateAuthority {
            lines.append("TLS: trust the local CA at \(ca.caCertificatePath)")
            lines.append("     e.g. export REQUESTS_CA_BUNDLE=\(ca.caCertificatePath) SSL_CERT_FILE=\(ca.caCertificatePath)")
            lines.append("")
        }
        #endif
        lines.append("State and credentials as JSON: GET \(sim.baseURL(.us).absoluteString)/__sim/state")
        lines.append("Dashboard in a browser: \(sim.baseURL(.us).absoluteString)/__sim/ui\(options.controlToken == nil ? "" : "?token=<control token>")")
        lines.append("Press Ctrl-C to stop.")
        return lines.joined(separator: "\n")
    }
}

