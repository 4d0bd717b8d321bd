import Foundation
import NylasSimulator
#if canImport(Glibc)
import Glibc
#endif

/// Benchmarks of the standalone `nylas-sim serve` process.
enum ServeBench {
    /// `serve-start --binary PATH`: exec to the first answered request (`GET /__sim/clock` on the US
    /// listener, polled every 0.2 ms), then the idle RSS one second later; median over runs.
    static func start(_ args: Arguments) async throws {
        let binary = args.string("binary", ".build-release/release/nylas-sim")
        let runs = args.int("runs", 20)
        // Below the ephemeral range (32768-60999): a probe's connect to a port nobody listens on yet
        // could otherwise pick that same port as its source and connect to itself.
        let basePort = args.int("port", 27600)
        let extra = args.optional("args").map { $0.split(separator: " ").map(String.init) } ?? []
        // A label reports an anchor (another build of the binary): info lines, no target.
        let label = args.optional("label")
        header("serve-start: \(binary) serve, \(runs) runs, first answered GET /__sim/clock, idle RSS after 1 s")
        var firstAnswer: [Double] = []
        var idle: [Double] = []
        var idleHWM: [Double] = []
        var nextPort = basePort
        for run in 0..<runs {
            // Two free loopback ports in a row (another program may hold some).
            var port = nextPort
            while !(portIsFree(port) && portIsFree(port + 1)) { port += 2 }
            nextPort = port + 2 > basePort + 200 ? basePort : port + 2
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["serve", "--us-port", String(port), "--eu-port", String(port + 1)] + extra
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let clock = ContinuousClock()
            let t0 = clock.now
            try process.run()
            let probe = RawHTTPConnection.requestBytes(method: "GET", path: "/__sim/clock", port: port, keepAlive: false)
            var answered: Duration?
            while clock.now - t0 < .seconds(10), process.isRunning {
                if let conn = try? RawHTTPConnection(port: port), let r = try? conn.roundTrip(probe), r.status == 200 {
                    answered = clock.now - t0
                    break
                }
                usleep(200)
            }
            guard let answered else {
                let running = process.isRunning
                process.terminate()
                throw BenchError(running ? "serve did not answer within 10 s (run \(run), port \(port))"
                                         : "serve exited with status \(process.terminationStatus) before answering (run \(run), port \(port))")
            }
            firstAnswer.append(answered.ms)
            try await Task.sleep(for: .seconds(1))
            idle.append(procStatusMiB("VmRSS", pid: process.processIdentifier))
            idleHWM.append(procStatusMiB("VmHWM", pid: process.processIdentifier))
            process.terminate()
            process.waitUntilExit()
        }
        let f = Stats(firstAnswer)
        let r = Stats(idle)
        let runsDetail = "n=\(runs) VmRSS min \(fmt(r.min)) max \(fmt(r.max)), VmHWM median \(fmt(Stats(idleHWM).median)) MiB"
        if let label {
            report("serve (\(label)): exec to first answered request", f.median, "ms", target: .none,
                   "n=\(runs) p90=\(fmt(f.percentile(90))) ms")
            report("serve (\(label)): idle RSS (1 s after start)", r.median, "MiB", target: .none, runsDetail)
            return
        }
        report("serve: exec to first answered request", f.median, "ms", target: .atMost(200),
               "n=\(runs) p90=\(fmt(f.percentile(90))) min=\(fmt(f.min)) max=\(fmt(f.max)) ms")
        report("serve: idle RSS (1 s after start)", r.median, "MiB", target: .atMost(30), runsDetail)
    }

    /// `http-prepare --port P --out DIR`: on a running `serve`, creates a Google grant with one
    /// message and writes what the HTTP comparison needs: `path` (the GET of that message),
    /// `auth` (the API key), `body.json` (the exact bytes the simulator answers with); with
    /// `--mailbox N`, N more messages and `grant`, `messages.txt`, `threads.txt` for `mixed.lua`.
    static func prepare(_ args: Arguments) async throws {
        let port = args.int("port", 27400)
        let out = args.string("out", "/tmp/nylas-sim-bench-http")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let base = "http://127.0.0.1:\(port)"
        let client = HTTPClient()
        let state = try await client.send("GET", base + "/__sim/state")
        guard let apps = state.json?["regions"]?["us"]?["applications"]?.arrayValue,
              let apiKey = apps.compactMap({ $0["api_key"]?.stringValue }).first else {
            throw BenchError("no v3 API key in /__sim/state: \(state.text.prefix(300))")
        }
        // An IMAP grant: Google (600 requests a minute per mailbox) and Microsoft (10,000 per 10 minutes)
        // have provider rate limits that would answer most of a wrk run with 429.
        let mailbox = "http.bench@imap.example.net"
        let grant = try await client.json("POST", base + "/__sim/grants", ["email": .string(mailbox), "provider": "imap"])
        guard let grantID = grant.json?["id"]?.stringValue else { throw BenchError("POST /__sim/grants: \(grant.text)") }
        let mail: JSON = ["from": [["name": "Sender", "email": "sender@example.com"]], "subject": "HTTP benchmark message",
                          "body": "<p>Hello,</p><p>this is the message every benchmark client reads.</p>"]
        let delivered = try await client.json("POST", base + "/__sim/providers/mailboxes/\(mailbox)/messages", mail)
        guard delivered.status == 201 else { throw BenchError("deliver: \(delivered.status) \(delivered.text)") }
        // The grant sees it at its next 10-minute sync.
        let advanced = try await client.json("POST", base + "/__sim/clock", ["advance": "11m"])
        guard advanced.status == 200 else { throw BenchError("advance: \(advanced.status) \(advanced.text)") }
        let auth = ["Authorization": "Bearer \(apiKey)"]
        let list = try await client.send("GET", base + "/v3/grants/\(grantID)/messages?limit=1", headers: auth)
        guard let messageID = list.json?["data"]?.arrayValue?.first?["id"]?.stringValue else {
            throw BenchError("no message listed: \(list.text)")
        }
        let path = "/v3/grants/\(grantID)/messages/\(messageID)"
        let one = try await client.send("GET", base + path, headers: auth)
        guard one.status == 200 else { throw BenchError("GET \(path): \(one.status)") }
        try path.write(toFile: out + "/path", atomically: true, encoding: .utf8)
        try apiKey.write(toFile: out + "/auth", atomically: true, encoding: .utf8)
        try Data(one.body).write(to: URL(fileURLWithPath: out + "/body.json"))
        // The mixed load's mailbox (`--mailbox N`): N more messages, every third one unread and every
        // fourth a reply (threads of two), one sync; then the IDs that `Benchmarks/mixed.lua` picks from.
        let extra = args.int("mailbox", 0)
        if extra > 0 {
            var previousID: String?
            for i in 0..<extra {
                let messageID = "<mixed-\(i)@bench.example.net>"
                var m: JSON = ["from": [["name": .string("Sender \(i % 17)"), "email": .string("sender\(i % 17)@example.com")]],
                               "to": [["email": .string(mailbox)]], "subject": .string("Mixed load message \(i / 2)"),
                               "body": .string("<p>Message \(i) of the mixed load.</p>" + String(repeating: "<p>Some text.</p>", count: 60)),
                               "unread": .bool(i % 3 == 0), "message_id": .string(messageID),
                               "date": .int(1_767_225_600 + i * 60)]
                if i % 4 == 1, let previousID { m["in_reply_to"] = .string(previousID) }
                previousID = messageID
                let r = try await client.json("POST", base + "/__sim/providers/mailboxes/\(mailbox)/messages", m)
                guard r.status == 201 else { throw BenchError("deliver \(i): \(r.status) \(r.text)") }
            }
            _ = try await client.json("POST", base + "/__sim/clock", ["advance": "11m"])
            func ids(_ kind: String, limit: Int) async throws -> [String] {
                let r = try await client.send("GET", base + "/v3/grants/\(grantID)/\(kind)?limit=\(limit)", headers: auth)
                return r.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            }
            let messages = try await ids("messages", limit: 200), threads = try await ids("threads", limit: 50)
            guard messages.count > extra / 2, !threads.isEmpty else { throw BenchError("mailbox: \(messages.count) messages listed") }
            try grantID.write(toFile: out + "/grant", atomically: true, encoding: .utf8)
            try (messages.joined(separator: "\n") + "\n").write(toFile: out + "/messages.txt", atomically: true, encoding: .utf8)
            try (threads.joined(separator: "\n") + "\n").write(toFile: out + "/threads.txt", atomically: true, encoding: .utf8)
            print("mixed-load mailbox: \(messages.count) messages, \(threads.count) threads")
        }
        print("prepared \(path) (\(one.body.count) bytes) in \(out)")
    }
}

/// Whether a TCP port on 127.0.0.1 can be bound right now.
func portIsFree(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { Glibc.close(fd) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}
