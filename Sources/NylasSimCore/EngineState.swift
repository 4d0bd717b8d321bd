import Foundation

/// Behaviour settings that tests and the CLI may change.
public struct SimulatorSettings: Sendable, Equatable {
    /// Lifetime of a v3 access token (default one hour).
    public var accessTokenLifetime: Duration = .seconds(3600)
    /// Lifetime of a one-time OAuth code (default ten minutes).
    public var authorizationCodeLifetime: Duration = .seconds(600)
    /// The largest request body accepted (default 25 MiB).
    public var maxBodyBytes: Int = 25 * 1024 * 1024
    /// A request body that has not arrived in full within this wall time is answered 408 and the
    /// connection closed (default 30 seconds).
    public var bodyTimeout: Duration = .seconds(30)
    /// A request whose head (request line and headers) has begun but not ended within this wall
    /// time has its connection closed (default 30 seconds): a client cannot hold a connection
    /// open by sending its headers a byte at a time.
    public var headTimeout: Duration = .seconds(30)
    /// Webhook retries, timeouts and health thresholds.
    public var webhooks = WebhookPolicy()
    /// Where the Pub/Sub and SNS notification channels publish (from the environment by default).
    public var channels = ChannelEndpoints()
    /// How long a Notetaker bot takes for each step of its meeting, on the virtual clock.
    public var notetaker = NotetakerTiming()
    /// How often a polled (IMAP-family) grant syncs: every 10 minutes.
    public var imapSyncInterval: Duration = .seconds(600)
    /// How long a message sent through a polled grant takes to show up in its mailbox (up to 5 minutes).
    public var imapSentDelay: Duration = .seconds(300)
    /// Provider rate limits per mailbox: requests per window (Google 600 per minute per user,
    /// Microsoft 10,000 per 10 minutes per mailbox). Over the limit: 429 with `Retry-After`.
    public var providerRateLimits: [String: ProviderRateLimit] = [
        "google": ProviderRateLimit(requests: 600, window: .seconds(60)),
        "microsoft": ProviderRateLimit(requests: 10_000, window: .seconds(600)),
    ]
    /// Nylas's own rate limits (reference v3 §2.5, v2 §4.4), counted on the virtual clock: a test
    /// that makes 60 admin calls without moving the clock gets 429s, as it would in one second
    /// against Nylas. Nil turns them off (`serve --no-rate-limits`, which also turns off the
    /// provider limits above).
    public var nylasRateLimits: NylasRateLimits? = NylasRateLimits()
    /// Event notifications (`event.*`) only for each grant's primary calendar, as Nylas does by default;
    /// an application's `sync_primary_calendar_only` setting overrides it (`POST /__sim/calendar/settings`).
    public var syncPrimaryCalendarOnly = true
    /// Whether what a grant finds at authentication, and what changed while it was invalid, is
    /// notified (`message.created` for every message of the mailbox…). Nylas does not (seeds: no
    /// historical webhooks; after re-authentication, backfill with GET between the `grant.expired`
    /// and `grant.updated` times), so the default is false: the data is there, silently. True keeps
    /// the simulator's earlier behaviour, a notification per object found. (v2 accounts always
    /// notified what their sync found, and still do.)
    public var notifyHistoricalSync = false
    /// Whether deleting a contact notifies `contact.deleted` to v3 grants. The seeds say v3 supports
    /// only `contact.updated` (also sent on creation), so the default is false; the v3 reference
    /// lists `contact.deleted` too, and true sends it. v2 accounts always get `contact.deleted`.
    public var notifyContactDeleted = false
    /// Whether `fields=raw_mime` returns a message's MIME (base64url) on v3 reads. The seeds say raw
    /// messages are not supported (fetching or sending), so the default is false: a 400 naming
    /// `include_headers`; the v3 reference lists the value, and true serves it.
    public var rawMIMEReads = false
    /// Requests an in-memory simulator keeps in its request journal, per region: the most recent
    /// ones (default 100,000; the oldest goes as each new one comes); nil keeps every request. A
    /// file-backed simulator (`dataDirectory`) keeps every request.
    public var journalLimit: Int? = 100_000
    /// The in-memory request journal also holds at most about this many bytes of bodies and
    /// metadata (default 64 MiB): the oldest entries go first. Nil: bounded by count only.
    public var journalByteLimit: Int? = 64 * 1024 * 1024
    /// The in-memory webhook delivery journal holds at most about this many bytes (default
    /// 64 MiB): the oldest attempts' rows go first (pending retries are kept elsewhere and still
    /// run). Nil keeps every attempt. A file-backed simulator keeps every attempt.
    public var deliveryJournalByteLimit: Int? = 64 * 1024 * 1024

    public init() {}
}

/// Everything a simulator holds: the clock, the scheduler, both regions' databases and the
/// provider world. It lives behind the core's one lock; nothing touches it outside.
package final class EngineState {
    package var clock: ClockState
    package let startTime: VirtualTime
    /// The organization of the seeded applications of both regions (one organization, as Nylas).
    package let organizationID: String
    package var jobs = JobQueue()
    package var regions: [Region: RegionStore]
    package let world: ProviderWorld
    package var config: SimulatorConfig
    package var settings: SimulatorSettings
    package var events = EventBuffer()
    /// Jobs scheduled by the transaction under way, cancelled if it fails.
    package var transactionJobs: [Int] = []
    /// Items the transaction under way added to batch jobs (`scheduleBatched`), removed if it fails.
    package var transactionJoins: [(job: Int, item: String)] = []
    /// While the core's job loop runs: the time up to which it runs jobs (it will run any job
    /// due by then, so a transaction need not start another run).
    package var jobsRunningUntil: VirtualTime?
    /// Consent behaviour of the simulated OAuth providers (`/__sim/oauth`).
    package var consent = ConsentSettings()
    /// Called with every committed event, in order, inside the lock (the API layer adds the v2 delta log).
    package var eventHandlers: [(EngineState, SimEvent) -> Void] = [WebhookDispatcher.handle, Workflows.handle]
    /// Answers of sends made with an `Idempotency-Key`, by grant and key (kept while the process lives).
    package var idempotency: [String: (request: [UInt8], answer: JSON, status: Int)] = [:]
    /// Service-account request nonces seen (kid|nonce → timestamp), refused when replayed.
    package var serviceAccountNonces: [String: Int] = [:]
    /// Scripted provider outages.
    package var outages: [ProviderOutage] = []
    /// Scenarios loaded into this simulator and how they went.
    package var scenarioResults: [ScenarioResult] = []
    /// Scripted failures.
    package var faults: FaultEngine
    /// Provider request counts per mailbox in the current rate-limit window.
    package var providerUsage: [String: (windowStart: VirtualTime, count: Int)] = [:]
    /// Nylas rate-limit counts per application, grant or v2 token and endpoint, in the current window.
    package var nylasUsage: [String: (windowStart: VirtualTime, count: Int)] = [:]
    /// Tests awaiting a webhook delivery.
    package let deliveryWaiters = DeliveryWaiters()

    package init(options: SimulatorOptions) throws {
        // A seeded manual clock starts at a fixed instant (a test's times are reproducible); a
        // running clock starts now, so that client programs computing `send_at` or event windows
        // from their own clock work without flags.
        let fixed = options.seed != nil && options.clockMode == .manual
        let start = options.startTime ?? (fixed ? VirtualTime(seconds: 1_767_258_000) : VirtualTime(Date()))
        startTime = start
        var orgIDs = IDGenerator(seed: options.seed ?? UUID().uuidString, namespace: "organization")
        organizationID = options.config.organization_id ?? orgIDs.uuid("organization")
        clock = ClockState(start: start, mode: options.clockMode, rate: options.clockRate)
        config = options.config
        settings = options.settings
        faults = FaultEngine(seed: options.seed)
        var regions: [Region: RegionStore] = [:]
        for region in Region.allCases {
            let path = options.dataDirectory.map { "\($0)/\(region.rawValue).sqlite" }
            regions[region] = try RegionStore(region: region, path: path, seed: options.seed)
        }
        self.regions = regions
        world = try ProviderWorld(path: options.dataDirectory.map { "\($0)/world.sqlite" }, seed: options.seed)
        large = try LargeValues(directory: options.dataDirectory)
        for db in [world.db] + regions.values.map(\.db) { db.large = large }
        persistsClock = options.dataDirectory != nil
        for store in regions.values { store.clock = { [unowned self] in self.now } }
        // A `--data-dir` server restarted: its clock resumes where it stopped (time, mode, rate).
        if persistsClock, let saved = try world.savedClock() {
            clock = ClockState(start: saved.time, mode: saved.mode, rate: saved.rate)
        }
        for region in Region.allCases where regions[region]!.isEmpty {
            try regions[region]!.db.transaction {
                try Seeder.seed(regions[region]!, config: config, organizationID: organizationID, now: start.seconds)
                try regions[region]!.saveCounter()
            }
        }
        // Files of a `--data-dir` that no row names (a transaction that never committed).
        if options.dataDirectory != nil { try collectLargeValues() }
        try Schedules.restore(self)
        try SchedulerOperations.restore(self)
        try MigrationTools.restore(self)
        try NotetakerOperations.restore(self)
        try WebhookDispatcher.restore(self)
        try restoreSyncTicks()
        try saveClock()
    }

    /// A `--data-dir` server restarted: polled grants resume their sync ticks.
    private func restoreSyncTicks() throws {
        for region in Region.allCases {
            for grant in try store(region).allGrants() where ProviderKind(grant.provider).hasMail && !ProviderKind(grant.provider).isPush {
                SyncEngine.scheduleTick(self, region: region, grantID: grant.id, at: now + settings.imapSyncInterval)
            }
        }
        transactionJobs.removeAll()
        transactionJoins.removeAll()
    }

    package var now: VirtualTime { clock.now }

    /// Whether the clock is kept with the data (`--data-dir`).
    package let persistsClock: Bool

    /// Saves the clock with the data (a no-op in memory): after every transaction and every move.
    package func saveClock() throws {
        if persistsClock { try world.saveClock(clock) }
    }

    package func store(_ region: Region) -> RegionStore { regions[region]! }

    /// Each region listener's base URL (links the simulator serves itself, such as Notetaker media).
    package var baseURLs: [Region: String] = [:]

    /// Schedules `run` at `due` on the virtual clock; returns the job ID (for cancelling).
    @discardableResult
    package func schedule(at due: VirtualTime, _ label: String, _ run: @escaping @Sendable (Engine) async -> Void) -> Int {
        let id = jobs.makeID()
        jobs.insert(ScheduledJob(id: id, due: due, label: label, run: run))
        transactionJobs.append(id)
        return id
    }

    /// Schedules a job whose slow part may run beside the jobs after it (`JobOverlap`).
    @discardableResult
    package func schedule(at due: VirtualTime, _ label: String, overlap: JobOverlap) -> Int {
        let id = jobs.makeID()
        let run: @Sendable (Engine) async -> Void = { core in
            guard let work = overlap.prepare(core) else { return }
            let finish = await work()
            finish(core)
        }
        jobs.insert(ScheduledJob(id: id, due: due, label: label, run: run, overlap: overlap))
        transactionJobs.append(id)
        return id
    }

    /// Schedules `item` in the batch job `key` due at `due`: joins it when that batch is the
    /// newest job, so the batch runs the item exactly where a job of its own would have run;
    /// otherwise schedules a new batch. `run` gets the job ID, to take the items (`jobs.takeBatch`).
    package func scheduleBatched(at due: VirtualTime, key: String, labelPrefix: String, item: String,
                         _ run: @escaping @Sendable (Engine, Int) async -> Void) {
        if let id = jobs.join(key: key, due: due, item: item) {
            transactionJoins.append((id, item))
            return
        }
        let id = jobs.makeID()
        jobs.insert(ScheduledJob(id: id, due: due, label: labelPrefix + item, run: { core in await run(core, id) }),
                    batch: JobBatch(key: key, due: due, labelPrefix: labelPrefix, items: [item]))
        transactionJobs.append(id)
    }

    package func emit(_ event: SimEvent) { events.pending.append(event) }

    // MARK: Large values

    /// Message bodies and attachment contents of 64 KiB or more, outside the rows that name them.
    package let large: LargeValues

    /// Drops the large values that no row names any more: run between transactions only, when
    /// every database is in autocommit (a value named by a row that a rollback brings back is kept).
    package func collectLargeValues() throws {
        var referenced = Set<String>()
        let sql = [(world.db, "SELECT CAST(body AS BLOB) AS ref FROM messages WHERE typeof(body) = 'blob'"),
                   (world.db, "SELECT CAST(content AS BLOB) AS ref FROM attachments WHERE typeof(content) = 'text'")]
            + regions.values.map { ($0.db, "SELECT CAST(body AS BLOB) AS ref FROM messages WHERE typeof(body) = 'blob'") }
        for (db, query) in sql {
            for row in try db.query(query) {
                if let ref = row["ref"].blob, let key = ref.withUnsafeBytes({ LargeValues.key($0) }) { referenced.insert(key) }
            }
        }
        large.collect(referenced: referenced)
    }

    // MARK: Transactions

    private var databases: [SQLiteDatabase] { [world.db] + Region.allCases.map { regions[$0]!.db } }

    /// Runs `body` atomically over every database: all its writes, events and jobs, or none.
    package func transaction<T>(_ body: () throws -> T) throws -> T {
        events.pending.removeAll()
        transactionJobs.removeAll()
        transactionJoins.removeAll()
        for db in databases { try db.execute("BEGIN") }
        do {
            let result = try body()
            for store in regions.values { try store.saveCounter() }
            try world.saveCounter()
            try saveClock()
            // Each database's COMMIT names it, so that the SQL profile tells them apart.
            try world.db.execute("COMMIT -- world")
            for region in Region.allCases { try regions[region]!.db.execute("COMMIT -- \(region.rawValue)") }
            let committed = events.pending
            events.pending.removeAll()
            transactionJobs.removeAll()
            transactionJoins.removeAll()
            for event in committed {
                for handler in eventHandlers { handler(self, event) }
            }
            if large.collectionDue, databases.allSatisfy(\.isAutocommit) { try? collectLargeValues() }
            return result
        } catch {
            for db in databases { try? db.execute("ROLLBACK") }
            for (id, item) in transactionJoins.reversed() { jobs.unjoin(id, item: item) }
            for id in transactionJobs { jobs.cancel(id) }
            transactionJobs.removeAll()
            transactionJoins.removeAll()
            events.pending.removeAll()
            throw error
        }
    }

    /// Empties every region and the world, re-seeds the applications and rewinds the clock.
    package func reset() throws {
        jobs.removeAll()
        clock = ClockState(start: startTime, mode: clock.mode, rate: clock.rate)
        try world.wipe()
        for region in Region.allCases {
            let store = regions[region]!
            try store.db.transaction {
                try store.wipe()
                try Seeder.seed(store, config: config, organizationID: organizationID, now: startTime.seconds)
                try store.saveCounter()
            }
        }
        large.removeAll()
        consent = ConsentSettings()
        idempotency.removeAll()
        serviceAccountNonces.removeAll()
        outages.removeAll()
        faults.removeAll()
        providerUsage.removeAll()
        nylasUsage.removeAll()
    }
}

/// How the simulated OAuth providers answer a consent request.
package struct ConsentSettings: Sendable {
    /// `approve` (default): consent at once; `deny`: redirect with `error=access_denied`;
    /// `page`: show a consent page with approve and deny links.
    package var mode: String = "approve"
}

/// A provider's request budget per mailbox.
public struct ProviderRateLimit: Sendable, Equatable {
    public var requests: Int
    public var window: Duration
    public init(requests: Int, window: Duration) {
        self.requests = requests
        self.window = window
    }
}

/// Nylas's own request limits (reference v3 §2.5 and v2 §4.4). Each is a number of requests in a
/// window of the virtual clock; over it, 429.
public struct NylasRateLimits: Sendable, Equatable {
    /// v3 Applications, Authentication, Connectors, Grants and Webhooks: 50 a second per application.
    public var application = ProviderRateLimit(requests: 50, window: .seconds(1))
    /// v3 data calls of a grant (messages, calendars, contacts, JSON sends…): 200 a second per grant.
    public var grant = ProviderRateLimit(requests: 200, window: .seconds(1))
    /// v3 multipart sends: 10 a second per grant.
    public var multipartSend = ProviderRateLimit(requests: 10, window: .seconds(1))
    /// `POST /v3/providers/detect`: 20 a minute per application.
    public var detect = ProviderRateLimit(requests: 20, window: .seconds(60))
    /// v2 account calls: 50 a second per access token and endpoint.
    public var v2Account = ProviderRateLimit(requests: 50, window: .seconds(1))
    /// v2 application calls (`/a/{client_id}/…`): 500 a second per application and endpoint.
    public var v2Application = ProviderRateLimit(requests: 500, window: .seconds(1))
    /// v2 `GET /a/{client_id}/ip_addresses`: 10 an hour per application.
    public var v2IPAddresses = ProviderRateLimit(requests: 10, window: .seconds(3600))
    /// v2 concurrent requests per access token: 10 on `/delta/streaming` and on `/delta/longpoll`,
    /// 5 on `/messages`, `/threads` and `/contacts` (and their sub-paths).
    public var v2Concurrency: [String: Int] = ["delta/streaming": 10, "delta/longpoll": 10,
                                               "messages": 5, "threads": 5, "contacts": 5]

    public init() {}
}

extension EngineState {
    /// Counts one request against `limit` under `key` in `usage`; the time left in the window when
    /// the request is over the limit, nil when it is within.
    package func consume(_ key: String, _ limit: ProviderRateLimit,
                         in usage: inout [String: (windowStart: VirtualTime, count: Int)]) -> Duration? {
        var entry = usage[key] ?? (now, 0)
        if now >= entry.windowStart + limit.window { entry = (now, 0) }
        entry.count += 1
        if usage.count >= 10_000, usage[key] == nil {
            // Keys of windows that have closed go first (no window is longer than an hour); if the
            // table is still full, it starts again: a client cycling through tokens cannot grow it.
            let now = self.now
            usage = usage.filter { now < $0.value.windowStart + .seconds(3600) }
            if usage.count >= 10_000 { usage.removeAll(keepingCapacity: true) }
        }
        usage[key] = entry
        guard entry.count > limit.requests else { return nil }
        return .milliseconds((entry.windowStart + limit.window).milliseconds - now.milliseconds)
    }
}
