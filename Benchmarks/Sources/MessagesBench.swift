import Foundation
import NylasSimulator
#if canImport(Glibc)
import Glibc
#endif

/// `messages`: a file-backed (`dataDirectory`) Google grant holding 1,000,000 messages.
///
/// Loading: the public path (`loadFixture` into the world, then the grant's sync) is measured on a
/// sample and its rate reported; the stores themselves are filled by a bulk path (`messages-load`,
/// run as a child process so that its memory does not count) that writes the same rows the sync
/// would write, straight into the SQLite files, with the simulator stopped. Then the simulator
/// reopens the directory and the API is measured: list (first page and a page deep in the cursor),
/// get, send; RSS; `EXPLAIN QUERY PLAN` of the list query. Repeated at each scale (1k, 100k, 1M),
/// each scale in its own child process (`messages-scale`), so that the RSS is that scale's alone.
enum MessagesBench {
    /// Gmail-style message IDs: 16 hex digits, increasing with time, from this base.
    static let idBase: Int64 = 0x18C0_0000_0000_0000
    static let mailbox = "bulk.owner@gmail.com"

    struct Loaded {
        var dir: String
        var grantID: String
        var apiKey: String
        var count: Int
        var bulkMs: Double
        var childMs: Double
    }

    static func run(_ args: Arguments) async throws {
        let scales = args.string("scales", String(args.int("count", 1_000_000)))
            .split(separator: ",").compactMap { Int($0.replacingOccurrences(of: "_", with: "")) }.sorted()
        let repeats = args.int("repeats", 200)
        let sends = args.int("sends", 50)
        let sample = args.int("public-sample", 10_000)
        let root = args.optional("dir") ?? temporaryDirectory("nylas-sim-bench-messages")
        let keep = args.flag("keep")
        header("messages: file-backed Google grant at \(scales.map(String.init).joined(separator: ", ")) messages; \(repeats) repeats per query")

        if sample > 0 { try await publicPath(count: sample, root: root, repeats: min(repeats, 100)) }

        var scaling: [(Int, Double, Double, Double, Double, Double)] = []
        for n in scales {
            let dir = "\(root)/scale-\(n)"
            try? FileManager.default.removeItem(atPath: dir)
            let loaded = try spawnLoader(dir: dir, count: n)
            let isMain = n == scales.last
            // Each scale is measured in its own child process (as the loader runs in one), so that
            // its RSS is that of a simulator holding this store, not of a process that measured
            // the smaller scales before.
            scaling.append(try spawnScale(loaded, repeats: repeats, sends: sends, isMain: isMain))
            if !keep, !isMain { try? FileManager.default.removeItem(atPath: dir) }
        }
        print("\n  scaling (median ms; list = limit=50&unread=true)")
        print("  stored      reopen   list first   list deep   get      send")
        for (n, f, d, g, s, r) in scaling {
            print("  " + [String(n).padding(toLength: 10, withPad: " ", startingAt: 0), fmt(r), fmt(f), fmt(d), fmt(g), fmt(s)]
                .enumerated().map { $0.offset == 0 ? $0.element : $0.element.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined(separator: " "))
            report("messages scaling @\(n): list first / deep / get / send", f, "ms", label: "list",
                   "deep \(fmt(d)) ms, get \(fmt(g)) ms, send \(fmt(s)) ms, reopen \(fmt(r)) ms")
        }
        if !keep { try? FileManager.default.removeItem(atPath: root) }
    }

    // MARK: - One scale, measured in a child process

    /// Runs `messages-scale` for one loaded store; its RESULT lines pass through, and its
    /// `SCALING` line comes back as the row of the scaling table.
    static func spawnScale(_ loaded: Loaded, repeats: Int, sends: Int, isMain: Bool) throws -> (Int, Double, Double, Double, Double, Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["messages-scale", "--dir", loaded.dir, "--grant", loaded.grantID, "--apikey", loaded.apiKey,
                             "--count", String(loaded.count), "--repeats", String(repeats), "--sends", String(sends),
                             "--bulk-ms", String(loaded.bulkMs)] + (isMain ? ["--main"] : [])
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        var row: (Int, Double, Double, Double, Double, Double)?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SCALING ") {
                let v = line.split(separator: " ").dropFirst().compactMap { Double($0) }
                if v.count == 6 { row = (Int(v[0]), v[1], v[2], v[3], v[4], v[5]) }
            } else if !line.isEmpty {
                print(line)
            }
        }
        fflush(nil)
        guard process.terminationStatus == 0, let row else {
            throw BenchError("messages-scale failed (\(process.terminationStatus)) at \(loaded.count)")
        }
        return row
    }

    /// `messages-scale --dir D --grant G --apikey K --count N [--main]`: reopens the store in a
    /// fresh process and measures list, deep page, get, send and RSS; prints the RESULT lines (all
    /// of them with `--main`) and one `SCALING n reopen-free medians` line for the parent.
    static func scaleChild(_ args: Arguments) async throws {
        let dir = args.string("dir", "")
        let n = args.int("count", 0)
        let loaded = Loaded(dir: dir, grantID: args.string("grant", ""), apiKey: args.string("apikey", ""), count: n,
                            bulkMs: args.double("bulk-ms", .nan), childMs: .nan)
        let repeats = args.int("repeats", 200)
        let sends = args.int("sends", 50)
        let isMain = args.flag("main")
        guard !dir.isEmpty, n > 0 else { throw BenchError("--dir and --count are required") }
        if isMain { resetPeakRSS() }
        let rssBefore = procStatusMiB("VmRSS")
        var options = SimulatorOptions(seed: "bench-messages")
        options.clockMode = .manual
        options.dataDirectory = dir
        options.settings.providerRateLimits = [:]  // Gmail's 600 requests/min per mailbox would answer 429
        options.settings.nylasRateLimits = nil  // and Nylas's own 200 requests/s per grant
        var sim: Simulator!
        let reopen = try await measureAsync { sim = try await Simulator.start(options) }
        let auth = ["Authorization": "Bearer \(loaded.apiKey)"]
        let base = "/v3/grants/\(loaded.grantID)/messages"

        func timed(_ target: String, _ count: Int, method: String = "GET", body: [UInt8] = [], expect: Int = 200) async throws -> (Stats, SimResponse) {
            var samples: [Double] = []
            var last: SimResponse?
            let headers = body.isEmpty ? auth : auth.merging(["Content-Type": "application/json"]) { a, _ in a }
            for i in 0..<(count + 3) {
                let request = SimRequest(method: method, target: target, headers: headers, body: body)
                let clock = ContinuousClock()
                let t0 = clock.now
                let r = await sim.send(request)
                if i >= 3 { samples.append((clock.now - t0).ms) }  // 3 warm-ups
                guard r.status == expect else { throw BenchError("\(method) \(target): \(r.status) \(r.text.prefix(300))") }
                last = r
            }
            return (Stats(samples), last!)
        }

        // First page of unread messages.
        let (first, firstResponse) = try await timed("\(base)?limit=50&unread=true", repeats)
        let firstItems = firstResponse.json?["data"]?.arrayValue?.count ?? 0
        // A page deep in the cursor: the token of the unread row half-way down the list.
        let unreadCount = n / 3
        let depth = unreadCount / 2
        let lite = try Lite("\(dir)/us.sqlite", readOnly: true)
        let key = try lite.rows("SELECT date, id FROM messages WHERE grant_id = ? AND unread = 1 ORDER BY date DESC, id DESC LIMIT 1 OFFSET ?",
                                [loaded.grantID, depth]).first ?? ["0", ""]
        let token = Data("\(key[0])\u{1F}\(key[1])".utf8).base64EncodedString()
        let escaped = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token
        let (deep, deepResponse) = try await timed("\(base)?limit=50&unread=true&page_token=\(escaped)", repeats)
        let deepItems = deepResponse.json?["data"]?.arrayValue?.count ?? 0
        // Get: messages spread over the store.
        var rng = SplitMix64(seed: UInt64(n))
        var getSamples: [Double] = []
        for i in 0..<(repeats + 3) {
            let k = Int64(rng.next() % UInt64(n)) + 1
            let request = SimRequest(method: "GET", target: "\(base)/\(String(idBase + k, radix: 16))", headers: auth)
            let clock = ContinuousClock()
            let t0 = clock.now
            let r = await sim.send(request)
            if i >= 3 { getSamples.append((clock.now - t0).ms) }
            guard r.status == 200 else { throw BenchError("GET \(request.path): \(r.status) \(r.text.prefix(300))") }
        }
        let get = Stats(getSamples)
        // Send (JSON), into the same store: a WAL commit with synchronous=FULL each.
        let sendBody: JSON = ["to": [["name": "Someone", "email": "someone@example.com"]], "subject": "Scaling send",
                              "body": .string("<p>Sent while \(n) messages are stored.</p>")]
        let (send, _) = try await timed("\(base)/send", sends, method: "POST", body: sendBody.bytes)
        let rss = procStatusMiB("VmRSS")
        let hwm = procStatusMiB("VmHWM")

        if isMain {
            report("messages: load \(n) (bulk path)", (loaded.bulkMs + reopen.ms) / 1000, "s", target: .atMost(30), label: "total",
                   "bulk insert \(fmt(loaded.bulkMs / 1000)) s in a child process + simulator reopen \(fmt(reopen.ms)) ms; data dir \(fmt(directorySizeMiB(dir))) MiB")
            report("messages: list first page (limit=50&unread=true)", first.median, "ms", target: .atMost(5),
                   "n=\(repeats) p90=\(fmt(first.percentile(90))) ms, \(firstItems) items, \(firstResponse.body.count) bytes")
            report("messages: list page at unread offset \(depth)", deep.median, "ms", target: .atMost(5),
                   "n=\(repeats) p90=\(fmt(deep.percentile(90))) ms, \(deepItems) items")
            report("messages: get one", get.median, "ms", target: .none, "n=\(repeats) p90=\(fmt(get.percentile(90))) ms")
            report("messages: send (file-backed)", send.median, "ms", target: .none, "n=\(sends) p90=\(fmt(send.percentile(90))) ms")
            report("messages: RSS with \(n) stored", hwm, "MiB", target: .atMost(250), label: "VmHWM",
                   "peak of a process that opened only this store (own child process); VmRSS now \(fmt(rss)) MiB (before reopen \(fmt(rssBefore)) MiB)")
            try explain(lite, grantID: loaded.grantID, key: key, repeats: repeats)
        }
        print("SCALING \(n) \(first.median) \(deep.median) \(get.median) \(send.median) \(reopen.ms)")
        await sim.shutdown()
        sim = nil
    }

    // MARK: - The public path, measured on a sample

    /// Medians of the first unread page and of a get, on a store built through the public path.
    static func listAndGet(_ sim: Simulator, grantID: String, repeats: Int) async throws -> (list: Double, get: Double) {
        let auth = ["Authorization": "Bearer \(sim.region(.us).v3.apiKey)"]
        let base = "/v3/grants/\(grantID)/messages"
        let page = await sim.send(SimRequest(method: "GET", target: "\(base)?limit=50&unread=true", headers: auth))
        let ids = page.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        guard page.status == 200, !ids.isEmpty else { throw BenchError("list on the sample store: \(page.status)") }
        var list: [Double] = [], get: [Double] = []
        for i in 0..<repeats {
            let clock = ContinuousClock()
            let t0 = clock.now
            _ = await sim.send(SimRequest(method: "GET", target: "\(base)?limit=50&unread=true", headers: auth))
            let t1 = clock.now
            _ = await sim.send(SimRequest(method: "GET", target: "\(base)/\(ids[i % ids.count])", headers: auth))
            list.append((t1 - t0).ms)
            get.append((clock.now - t1).ms)
        }
        return (Stats(list).median, Stats(get).median)
    }

    static func publicPath(count: Int, root: String, repeats: Int) async throws {
        let dir = "\(root)/public-\(count)"
        try? FileManager.default.removeItem(atPath: dir)
        var options = SimulatorOptions(seed: "bench-messages-public")
        options.clockMode = .manual
        options.dataDirectory = dir
        options.settings.providerRateLimits = [:]
        options.settings.nylasRateLimits = nil  // and Nylas's own 200 requests/s per grant
        let sim = try await Simulator.start(options)
        let sampleGrant = try sim.createGrant(email: "sample.owner@gmail.com", provider: "google")
        var messages: [JSON] = []
        messages.reserveCapacity(count)
        let now = sim.now.milliseconds / 1000
        for n in 1...count {
            let s = n % 500
            messages.append([
                "message_id": .string("<sample-\(n)@mail.gmail.com>"),
                "from": ["name": .string("Sender \(s)"), "email": .string("sender\(s)@example.com")],
                "to": [["name": "Sample Owner", "email": "sample.owner@gmail.com"]],
                "subject": .string("Quarterly report \(n)"),
                "body": .string("<p>Hi,</p><p>This is message \(n) of the benchmark mailbox.</p>"),
                "date": .int(Int(now) - (count - n) * 60), "unread": .bool(n % 3 == 0), "folders": ["INBOX"],
            ])
        }
        let fixture: JSON = ["mailbox": "sample.owner@gmail.com", "provider": "google", "messages": .array(messages)]
        var loaded = 0
        let t = try measure { loaded = try sim.loadFixture(fixture) }
        let onFile = try await listAndGet(sim, grantID: sampleGrant.id, repeats: repeats)
        await sim.shutdown()
        try? FileManager.default.removeItem(atPath: dir)
        let rate = Double(loaded) / t.s
        report("messages: public path (loadFixture + push sync)", rate, "msg/s", label: "rate",
               "\(loaded) messages in \(fmt(t.s)) s, one transaction, file-backed; at this rate 1,000,000 would take \(fmt(1_000_000 / rate)) s (extrapolated, not run)")

        // Anchor: the same store in memory (no WAL fsync for the request journal's row).
        var memoryOptions = SimulatorOptions(seed: "bench-messages-public")
        memoryOptions.clockMode = .manual
        memoryOptions.settings.providerRateLimits = [:]
        memoryOptions.settings.nylasRateLimits = nil  // and Nylas's own 200 requests/s per grant
        let memory = try await Simulator.start(memoryOptions)
        let memoryGrant = try memory.createGrant(email: "sample.owner@gmail.com", provider: "google")
        let tm = try measure { _ = try memory.loadFixture(fixture) }
        let inMemory = try await listAndGet(memory, grantID: memoryGrant.id, repeats: repeats)
        await memory.shutdown()
        report("messages: anchor, \(count) stored via public path: list first page", onFile.list, "ms", label: "file",
               "in memory \(fmt(inMemory.list)) ms; get one: file \(fmt(onFile.get)) ms, in memory \(fmt(inMemory.get)) ms; in-memory load \(fmt(Double(count) / tm.s)) msg/s; n=\(repeats)")
    }

    // MARK: - Bulk path (child process)

    static func spawnLoader(dir: String, count: Int) throws -> Loaded {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["messages-load", "--dir", dir, "--count", String(count)]
        let pipe = Pipe()
        process.standardOutput = pipe
        let t0 = ContinuousClock.now
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let child = (ContinuousClock.now - t0).ms
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("  step") { note("loader" + line.dropFirst(1)) }
        guard process.terminationStatus == 0, let line = text.split(separator: "\n").first(where: { $0.hasPrefix("LOADED ") }) else {
            throw BenchError("loader failed (\(process.terminationStatus)): \(text)")
        }
        var fields: [String: String] = [:]
        for part in line.split(separator: " ").dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        let loaded = Loaded(dir: dir, grantID: fields["grant"] ?? "", apiKey: fields["apikey"] ?? "", count: count,
                            bulkMs: Double(fields["bulk_ms"] ?? "") ?? .nan, childMs: child)
        note("loaded \(count) messages into \(dir): bulk \(fmt(loaded.bulkMs)) ms, child process total \(fmt(child)) ms, RSS of loader \(fields["rss_mib"] ?? "?") MiB")
        return loaded
    }

    /// `messages-load --dir D --count N`: creates the grant through the simulator, stops it, then
    /// writes N messages as the sync would have stored them (world copy, changes, the grant's copy,
    /// folder index, object IDs, sync cursor) in one SQLite transaction.
    static func loadChild(_ args: Arguments) throws {
        let dir = args.string("dir", "")
        let count = args.int("count", 1000)
        guard !dir.isEmpty else { throw BenchError("--dir is required") }
        var grantID = ""
        var apiKey = ""
        var now = 0
        let semaphore = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var error: (any Error)?; var values: (String, String, Int) = ("", "", 0) }
        let box = Box()
        Task {
            do { box.values = try await createGrant(dir: dir) } catch { box.error = error }
            semaphore.signal()
        }
        semaphore.wait()
        if let e = box.error { throw e }
        (grantID, apiKey, now) = box.values

        let t = try measure {
            let db = try Lite("\(dir)/us.sqlite")
            // Leaving WAL needs the only connection: the stopped simulator's are closed when its
            // last reference goes, which may be a moment after `shutdown()` returns.
            var attempt = 0
            while true {
                do {
                    try db.exec("""
                        PRAGMA busy_timeout=10000; PRAGMA temp_store=MEMORY; PRAGMA secure_delete=OFF; PRAGMA journal_mode=DELETE; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576;
                        ATTACH '\(dir)/world.sqlite' AS w;
                        PRAGMA w.secure_delete=OFF; PRAGMA w.journal_mode=DELETE; PRAGMA w.journal_mode=OFF; PRAGMA w.synchronous=OFF; PRAGMA w.cache_size=-524288;
                        """)
                    break
                } catch {
                    attempt += 1
                    guard attempt < 100, "\(error)".contains("locked") else { throw error }
                    try? db.exec("DETACH w")
                    usleep(100_000)
                }
            }
            let worldBase = Int(try db.scalar("SELECT COALESCE(MAX(id), 0) FROM w.messages") ?? "0") ?? 0
            try db.exec("BEGIN")
            // The triggers of `messages` (thread latest dates, addresses) are set aside for the bulk
            // insert: their rows are written set-based from the same source, then the triggers
            // are put back as they were.
            let triggers = try db.rows("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'")
            for t in triggers { try db.exec("DROP TRIGGER \(t[0])") }
            for statement in insertSQL(count: count, now: now, worldBase: worldBase, grantID: grantID).components(separatedBy: ";\n") {
                let t = try measure { try db.exec(statement) }
                print("  step \(fmt(t.ms)) ms: \(statement.trimmingCharacters(in: .whitespacesAndNewlines).prefix(60))")
            }
            for t in triggers { try db.exec(t[1]) }
            let addresses = Int(try db.scalar("SELECT COUNT(*) FROM message_addresses WHERE grant_id = '\(grantID)'") ?? "") ?? -1
            let threads = Int(try db.scalar("SELECT COUNT(*) FROM thread_latest WHERE grant_id = '\(grantID)'") ?? "") ?? -1
            guard addresses == 2 * count, threads == (count + 2) / 3 else {
                throw BenchError("bulk load: \(addresses) addresses and \(threads) threads for \(count) messages")
            }
            try db.exec("""
                UPDATE sync_state SET cursor = (SELECT MAX(seq) FROM w.changes), last_sync_at = \(now * 1000) WHERE grant_id = '\(grantID)';
                """)
            // The commit writes what the page caches still hold (seconds of a 1 M load: `BENCHMARKS.md`).
            let commit = try measure { try db.exec("DROP TABLE temp.c; COMMIT") }
            print("  step \(fmt(commit.ms)) ms: COMMIT")
            try db.exec("PRAGMA journal_mode=WAL; PRAGMA w.journal_mode=WAL;")
        }
        print("LOADED grant=\(grantID) apikey=\(apiKey) count=\(count) bulk_ms=\(fmt(t.ms)) rss_mib=\(fmt(procStatusMiB("VmHWM")))")
    }

    /// Starts a simulator on `dir`, creates the bulk grant, stops it; the simulator (and its
    /// database connections) is released when this returns.
    static func createGrant(dir: String) async throws -> (String, String, Int) {
        var options = SimulatorOptions(seed: "bench-messages")
        options.clockMode = .manual
        options.dataDirectory = dir
        let sim = try await Simulator.start(options)
        let grant = try sim.createGrant(email: mailbox, provider: "google")
        let values = (grant.id, sim.region(.us).v3.apiKey, Int(sim.now.milliseconds / 1000))
        await sim.shutdown()
        return values
    }

    /// The rows of `count` messages, in the formats `RegionStore.save` and `ProviderWorld.insert` use.
    /// Message n: one per minute up to now, a thread every three, a third unread, one in ten sent.
    static func insertSQL(count: Int, now: Int, worldBase: Int, grantID: String) -> String {
        let cte = """
            WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < \(count)),
            b AS (SELECT n, \(worldBase) + n AS wid, printf('%016x', \(idBase) + n) AS mid,
                         printf('%016x', \(idBase) + (n - 1) / 3 * 3 + 1) AS tid,
                         '<bulk-' || n || '@mail.gmail.com>' AS hdr,
                         '<bulk-' || ((n - 1) / 3 * 3 + 1) || '@mail.gmail.com>' AS root,
                         (n - 1) % 3 AS pos, \(now) - (\(count) - n) * 60 AS date,
                         CASE WHEN n % 3 = 0 THEN 1 ELSE 0 END AS unread, CASE WHEN n % 50 = 0 THEN 1 ELSE 0 END AS starred,
                         n % 10 = 0 AS sent, n % 500 AS s FROM seq),
            c0 AS (SELECT *, CASE pos WHEN 0 THEN '' ELSE 'Re: ' END || 'Quarterly report ' || ((n - 1) / 3) AS subject,
                         CASE WHEN sent THEN '[{"email":"\(mailbox)","name":"Bulk Owner"}]'
                              ELSE '[{"email":"sender' || s || '@example.com","name":"Sender ' || s || '"}]' END AS fromj,
                         CASE WHEN sent THEN '[{"email":"sender' || s || '@example.com","name":"Sender ' || s || '"}]'
                              ELSE '[{"email":"\(mailbox)","name":"Bulk Owner"}]' END AS toj,
                         CASE WHEN sent THEN '"Bulk Owner" <\(mailbox)>' ELSE '"Sender ' || s || '" <sender' || s || '@example.com>' END AS fromh,
                         CASE WHEN sent THEN '"Sender ' || s || '" <sender' || s || '@example.com>' ELSE '"Bulk Owner" <\(mailbox)>' END AS toh,
                         CASE WHEN sent THEN '\(mailbox) sender' || s || '@example.com' ELSE 'sender' || s || '@example.com \(mailbox)' END AS participants,
                         '<p>Hi,</p><p>This is message ' || n || ' of the benchmark mailbox. The quarterly numbers are attached below for review before Friday.</p><p>Regards, Sender ' || s || '</p>' AS body,
                         substr('Hi, This is message ' || n || ' of the benchmark mailbox. The quarterly numbers are attached below for review before Friday. Regards, Sender ' || s, 1, 100) AS snippet,
                         CASE pos WHEN 0 THEN NULL WHEN 1 THEN root ELSE '<bulk-' || (n - 1) || '@mail.gmail.com>' END AS reply,
                         CASE pos WHEN 0 THEN '[]' WHEN 1 THEN '["' || root || '"]' ELSE '["' || root || '","<bulk-' || (n - 1) || '@mail.gmail.com>"]' END AS refs,
                         CASE WHEN sent THEN 'SENT' ELSE 'INBOX' END AS folder,
                         substr('SunMonTueWedThuFriSat', 1 + 3 * CAST(strftime('%w', date, 'unixepoch') AS INTEGER), 3) || ', ' ||
                         strftime('%d', date, 'unixepoch') || ' ' ||
                         substr('JanFebMarAprMayJunJulAugSepOctNovDec', 1 + 3 * (CAST(strftime('%m', date, 'unixepoch') AS INTEGER) - 1), 3) ||
                         ' ' || strftime('%Y %H:%M:%S', date, 'unixepoch') || ' +0000' AS datestr FROM b)
            """
        return """
            CREATE TEMP TABLE c AS
            \(cte)
            SELECT * FROM c0;
            INSERT INTO w.messages(id, mailbox, message_id_header, in_reply_to, refs, thread_key, subject, from_json, to_json, cc_json,
                bcc_json, reply_to_json, body, date, unread, starred, folders, headers, attachments, deleted, available_at, version)
            SELECT wid, '\(mailbox)', hdr, reply, CAST(refs AS BLOB), root, subject, CAST(fromj AS BLOB), CAST(toj AS BLOB),
                CAST('[]' AS BLOB), CAST('[]' AS BLOB), CAST('[]' AS BLOB), body, date, unread, starred,
                CAST('["' || folder || '"]' AS BLOB), CAST('[]' AS BLOB), CAST('[]' AS BLOB), 0, date * 1000, 1 FROM c;
            INSERT INTO w.changes(mailbox, kind, object, time)
                SELECT '\(mailbox)', 'message', wid, date * 1000 FROM c ORDER BY wid;
            INSERT INTO messages(grant_id, id, world_id, thread_id, subject, from_json, to_json, cc_json, bcc_json, reply_to_json,
                body, snippet, date, unread, starred, folders, attachments, headers, metadata, message_id_header, participants,
                has_attachments, created_at, updated_at)
            SELECT '\(grantID)', mid, wid, tid, subject, CAST(fromj AS BLOB), CAST(toj AS BLOB), CAST('[]' AS BLOB),
                CAST('[]' AS BLOB), CAST('[]' AS BLOB), body, snippet, date, unread, starred, CAST('["' || folder || '"]' AS BLOB),
                CAST('[]' AS BLOB),
                CAST('[{"name":"Message-ID","value":"' || hdr || '"},{"name":"Subject","value":"' || subject ||
                     '"},{"name":"From","value":"' || replace(fromh, '"', '\\"') || '"},{"name":"To","value":"' || replace(toh, '"', '\\"') ||
                     '"},{"name":"Date","value":"' || datestr || '"}' ||
                     CASE WHEN reply IS NULL THEN '' ELSE ',{"name":"In-Reply-To","value":"' || reply || '"},{"name":"References","value":"' ||
                          replace(replace(replace(refs, '[', ''), ']', ''), '","', ' ') || '"}' END ||
                     ',{"name":"MIME-Version","value":"1.0"}]' AS BLOB),
                CAST('{}' AS BLOB), hdr, participants, 0, \(now), \(now) FROM c;
            INSERT INTO message_folders(grant_id, folder_id, date, message_id)
                SELECT '\(grantID)', folder, date, mid FROM c;
            INSERT INTO thread_latest(grant_id, thread_id, latest)
                SELECT '\(grantID)', tid, MAX(date) FROM c GROUP BY tid;
            INSERT INTO message_addresses(grant_id, role, email, date, message_id)
                SELECT '\(grantID)', 0, lower(json_extract(fromj, '$[0].email')), date, mid FROM c
                UNION ALL SELECT '\(grantID)', 1, lower(json_extract(toj, '$[0].email')), date, mid FROM c;
            INSERT INTO object_ids(grant_id, kind, world_key, id)
                SELECT '\(grantID)', 'message', CAST(wid AS TEXT), mid FROM c;
            INSERT INTO object_ids(grant_id, kind, world_key, id)
                SELECT '\(grantID)', 'thread', root, tid FROM c WHERE pos = 0;
            """
    }

    // MARK: - Query plans

    /// `EXPLAIN QUERY PLAN` of the list query as `V3MessageRoutes.list` builds it (SQL copied from
    /// there), first page and with a page token (a row-value comparison), and the raw SQLite time
    /// of each beside the same page written with the earlier `OR` condition.
    static func explain(_ lite: Lite, grantID: String, key: [String], repeats: Int) throws {
        let first = "SELECT m.* FROM messages m WHERE m.grant_id = ? AND m.unread = ? ORDER BY m.date DESC, m.id DESC LIMIT ?"
        let deep = "SELECT m.* FROM messages m WHERE m.grant_id = ? AND m.unread = ? AND (m.date, m.id) < (?, ?) ORDER BY m.date DESC, m.id DESC LIMIT ?"
        let orForm = "SELECT m.* FROM messages m WHERE m.grant_id = ? AND m.unread = ? AND (m.date < ? OR (m.date = ? AND m.id < ?)) ORDER BY m.date DESC, m.id DESC LIMIT ?"
        let date = Int(key[0]) ?? 0
        let cases: [(String, String, [Any])] = [
            ("first page", first, [grantID, 1, 51]),
            ("page token (row value, as built)", deep, [grantID, 1, date, key[1], 51]),
            ("page token as the earlier OR condition", orForm, [grantID, 1, date, date, key[1], 51]),
        ]
        print("\n  EXPLAIN QUERY PLAN of GET /v3/grants/{id}/messages?limit=50&unread=true (SQL of V3MessageRoutes.list)")
        for (name, sql, params) in cases {
            print("  -- \(name): \(sql)")
            for row in try lite.rows("EXPLAIN QUERY PLAN " + sql, params) {
                print("     \(row.last ?? "")")
            }
            let ms = try lite.time(sql, params, repeats: min(repeats, 50))
            print("     raw SQLite step time (51 rows, no decoding): median \(fmt(ms)) ms")
            report("messages: raw SQL, \(name)", ms, "ms", target: .none, "sqlite3_step of 51 rows, no Swift decoding")
        }
    }
}
