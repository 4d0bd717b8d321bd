import Foundation
import Logging
import Synchronization

/// What a simulator is started with.
public struct SimulatorOptions: Sendable {
    /// With a seed every ID, credential and the start of the clock are reproducible.
    public var seed: String?
    /// `manual` (time moves only when advanced; the in-process default) or `running`.
    public var clockMode: ClockState.Mode = .manual
    /// Virtual seconds per wall second in running mode.
    public var clockRate: Double = 1
    /// The virtual time at start. Default: 2026-01-01T09:00:00Z with a seed, the wall clock without.
    public var startTime: VirtualTime?
    /// Keep the databases as files in this directory (WAL); in memory when nil.
    public var dataDirectory: String?
    /// Applications per region.
    public var config = SimulatorConfig()
    public var settings = SimulatorSettings()
    /// The address the listeners bind.
    public var host = "127.0.0.1"
    /// Listener ports per region; 0 picks a free one.
    public var ports: [Region: Int] = [.us: 0, .eu: 0]
    /// Serve HTTPS with a certificate from the local CA kept in this directory.
    public var tlsDirectory: String?
    /// When set, `/__sim/` routes require `Authorization: Bearer <token>` or `X-Sim-Control-Token`.
    /// An empty or blank token is refused at start: it would leave the control API open.
    public var controlToken: String?
    /// Host names the listeners answer besides loopback names, IP addresses, this machine's name and
    /// the Nylas API host names; a request naming any other host is refused (DNS rebinding).
    public var allowedHosts: [String] = []
    public var logger = Logger(label: "nylas-sim", factory: { _ in SwiftLogNoOpLogHandler() })

    public init(seed: String? = nil) { self.seed = seed }

    /// Options a simulator refuses to start with.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Whether `token` is empty or only white space.
    public static func isBlank(_ token: String) -> Bool {
        token.allSatisfy { $0.isWhitespace || $0.isNewline }
    }
}

/// Notes a handler leaves for the request journal: whose request it was.
final class RequestNotes: Sendable {
    private let value = Mutex<(application: String?, grant: String?)>((nil, nil))
    func set(application: String?, grant: String? = nil) {
        value.withLock {
            if let application { $0.application = application }
            if let grant { $0.grant = grant }
        }
    }
    var application: String? { value.withLock { $0.application } }
    var grant: String? { value.withLock { $0.grant } }
}

/// The heart of a simulator: its state behind one lock, its router, and the job runner that
/// moves the virtual clock. The listeners, the in-process API, the CLI and scenarios all
/// drive it through the same operations.
final class SimulatorCore: Sendable {
    /// The state is reached only through `withState`/`transaction`, which hold `lock`:
    /// that is the one invariant that makes the unchecked access sound.
    private nonisolated(unsafe) let state: SimulatorState
    private let lock = NSLock()
    let router: Router
    let logger: Logger
    let controlToken: String?
    /// The `Host` names the listeners answer.
    let hosts: HostAllowList
    private let gate = SerialGate()
    private let driver = Mutex<Task<Void, Never>?>(nil)
    /// Records API traffic when `serve --record` is on.
    let recorder = Mutex<RequestRecorder?>(nil)
    /// The running simulator, for loading scenarios at run time.
    let owner = Mutex<Simulator?>(nil)
    /// Base URLs of the running listeners, per region.
    let baseURLs = Mutex<[Region: String]>([:])

    /// The routes are the same for every simulator (handlers reach their simulator through the
    /// request context): built once per process.
    private static let sharedRouter = APIRoutes.build()

    init(options: SimulatorOptions) throws {
        if let token = options.controlToken, SimulatorOptions.isBlank(token) {
            throw SimulatorOptions.Invalid("controlToken is empty: an empty token would leave the control API open")
        }
        guard ClockState.rates.contains(options.clockRate) else {
            throw SimulatorOptions.Invalid("clockRate must be from 0 to 1000000")
        }
        state = try SimulatorState(options: options)
        router = Self.sharedRouter
        logger = options.logger
        controlToken = options.controlToken
        hosts = HostAllowList(extra: options.allowedHosts)
        if options.clockMode == .running { startDriver() }
    }

    // MARK: State access

    /// Reads or changes the state under the lock, outside any transaction.
    func withState<T>(_ body: (SimulatorState) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(state)
    }

    /// Changes the state atomically: every database write, event and job of `body`, or none.
    func transaction<T>(_ body: (SimulatorState) throws -> T) throws -> T {
        try withStateThenKick { s in try s.transaction { try body(s) } }
    }

    /// `withState`, then starts the jobs that `body` left due now (a webhook to send), whatever
    /// the clock mode — unless the job loop is running and will reach them anyway.
    func withStateThenKick<T>(_ body: (SimulatorState) throws -> T) rethrows -> T {
        let (result, kick) = try withState { s in
            let result = try body(s)
            guard let next = s.jobs.nextDue, next <= s.now else { return (result, false) }
            if let until = s.jobsRunningUntil, next <= until { return (result, false) }
            return (result, true)
        }
        if kick { kickJobs() }
        return result
    }

    var now: VirtualTime { withState { $0.now } }

    // MARK: Requests

    /// Answers one request for `region`: routing, handler, error rendering, journal.
    func handle(_ request: SimRequest, region: Region, failure: NylasError? = nil) async -> SimResponse {
        let started = ContinuousClock.now
        let parts = Router.segments(of: request.path)
        let resolution = router.resolve(method: request.method, parts: parts)
        // One turn of the lock: the request ID, then scripted faults and provider rate limits.
        var intercepted: FaultAction?
        let requestID = withState { s in
            let id = s.store(region).ids.uuid("request")
            if failure == nil, case .found(let route, let params) = resolution, route.surface != .control {
                intercepted = interceptions(s, request, region: region, surface: route.surface, parts: parts, params: params)
            }
            return id
        }
        let notes = RequestNotes()
        var surface = Router.surface(forPath: parts)
        var response: SimResponse
        do {
            if let failure { throw failure }
            switch resolution {
            case .found(let route, let params):
                surface = route.surface
                if surface == .control, let refused = ControlGuard.check(request, token: controlToken) { throw refused }
                if let action = intercepted {
                    if let latency = action.latency { try? await Task.sleep(for: latency) }
                    if action.drop {
                        var dropped = SimResponse(status: 0)
                        dropped.dropConnection = true
                        record(request, dropped, region: region, surface: surface, requestID: requestID, notes: notes, micros: 0)
                        return dropped
                    }
                    if let error = action.error { throw error }
                }
                let context = RequestContext(core: self, request: request, region: region, params: params,
                                             surface: surface, requestID: requestID, notes: notes)
                response = try await route.handler(context)
            case .wrongMethod(let s):
                surface = s
                throw NylasError.methodNotAllowed(request.method, request.path)
            case .notFound(let s):
                surface = s
                throw APIRoutes.notFoundError(method: request.method, parts: parts, surface: s)
            }
        } catch let error as NylasError {
            response = SimResponse.json(error.body(surface: surface, requestID: requestID), status: error.status,
                                        headers: error.headers)
        } catch {
            logger.error("unexpected error", metadata: ["path": "\(request.path)", "error": "\(error)"])
            let e = NylasError.internal("Internal error, contact administrator.")
            response = SimResponse.json(e.body(surface: surface, requestID: requestID), status: 500)
        }
        response.headers["x-request-id"] = requestID
        if surface == .v2 { response.headers["Nylas-API-Version"] = "2.5" }
        if request.method == "HEAD" { response.body = [] }
        let elapsed = (ContinuousClock.now - started).components
        let micros = Int(elapsed.seconds * 1_000_000 + elapsed.attoseconds / 1_000_000_000_000)
        record(request, response, region: region, surface: surface, requestID: requestID, notes: notes, micros: micros)
        return response
    }

    /// Writes the journal entry.
    private func record(_ request: SimRequest, _ response: SimResponse, region: Region, surface: APISurface,
                        requestID: String, notes: RequestNotes, micros: Int) {
        logger.info("\(request.method) \(request.path) \(response.status)",
                    metadata: ["region": "\(region.rawValue)", "us": "\(micros)"])
        guard surface != .control else { return }
        if let recorder = self.recorder.withLock({ $0 }) { recorder.append(request, response, region: region, now: now) }
        withState { s in
            try? s.store(region).appendJournal(
                requestID: requestID, time: s.now, surface: surface, method: request.method, path: request.path,
                query: request.query.encoded, status: response.status, applicationID: notes.application,
                grantID: notes.grant, micros: micros, requestBody: request.body, responseBody: response.body,
                keep: s.settings.journalLimit)
        }
    }

    /// Scripted faults and provider rate limits, checked before the handler runs.
    private func interceptions(_ s: SimulatorState, _ request: SimRequest, region: Region, surface: APISurface, parts: [String],
                               params: [String: String]) -> FaultAction? {
        let store = s.store(region)
        var grant: GrantRecord?
        if let gid = params["grant_id"] {
            grant = (try? store.grant(id: gid.hasPrefix("grant:") ? String(gid.dropFirst(6)) : gid)) ?? nil
        }
        if !s.faults.isEmpty {
            var appID = grant?.applicationID
            if appID == nil, let auth = request.header("authorization"), auth.lowercased().hasPrefix("bearer ") {
                let token = String(auth.dropFirst(7))
                appID = (try? store.application(apiKey: token))??.id ?? (try? store.token(token))??.applicationID
            }
            if let (rule, action) = s.faults.evaluate(region: region, surface: surface, method: request.method, parts: parts,
                                                      applicationID: appID, grantID: grant?.id, provider: grant?.provider,
                                                      now: s.now) {
                if let outage = rule.outage {
                    s.outages.append(ProviderOutage(provider: rule.provider ?? grant?.provider, mailbox: nil, start: s.now,
                                                    end: s.now + outage))
                }
                if action.error != nil || action.drop || action.latency != nil { return action }
            }
        }
        // Provider rate limits apply to data calls of a grant.
        guard let grant, parts.count > 3, let limit = s.settings.providerRateLimits[grant.provider] else { return nil }
        let key = "\(grant.provider)|\(grant.email.lowercased())"
        var usage = s.providerUsage[key] ?? (s.now, 0)
        if s.now >= usage.windowStart + limit.window { usage = (s.now, 0) }
        usage.count += 1
        s.providerUsage[key] = usage
        guard usage.count > limit.requests else { return nil }
        let retry = max(1, Int(((usage.windowStart + limit.window) - s.now).milliseconds + 999) / 1000)
        var error = NylasError.rateLimited(retryAfter: retry)
        error.message = "Too many requests, please try again shortly. The \(grant.provider) provider limit is \(limit.requests) requests per \(limit.window.milliseconds / 1000) seconds for this mailbox."
        return FaultAction(error: error, latency: nil, drop: false)
    }

    // MARK: Clock and jobs

    /// Advances the virtual clock by `duration`, running every job that falls due, in order.
    func advance(by duration: Duration) async {
        let target = now + duration
        await runJobs(until: target, moveClock: true)
    }

    /// Advances the virtual clock to `time` (never backwards), running due jobs in order.
    func advance(to time: VirtualTime) async {
        await runJobs(until: time, moveClock: true)
    }

    /// Runs the jobs already due (a webhook to send now, a job due in running mode).
    func runDueJobs() async {
        await runJobs(until: nil, moveClock: false)
    }

    private func kickJobs() {
        Task { await self.runDueJobs() }
    }

    private func runJobs(until target: VirtualTime?, moveClock: Bool) async {
        await gate.acquire()
        let limit = withState { s in
            let limit = target ?? s.now
            s.jobsRunningUntil = limit
            return limit
        }
        while true {
            // `jobsRunningUntil` is cleared under the same lock as the last look at the queue: a
            // transaction that leaves a job due either sees the loop running (which then runs the
            // job) or sees it finished (and starts a run).
            let job: ScheduledJob? = withState { s in
                guard let job = s.jobs.popDue(atOrBefore: limit) else {
                    if moveClock { s.clock.set(limit) }
                    s.jobsRunningUntil = nil
                    return nil
                }
                if s.clock.now < job.due { s.clock.set(job.due) }
                return job
            }
            guard let job else { break }
            if let overlap = job.overlap {
                var group = [job]
                var keys: Set = [overlap.key]
                while group.count < Self.maxOverlappingJobs,
                      let next = withState({ $0.jobs.popOverlapping(due: job.due, excluding: keys) }) {
                    group.append(next)
                    keys.insert(next.overlap!.key)
                }
                if group.count > 1 {
                    await runOverlapping(group)
                    continue
                }
            }
            await job.run(self)
        }
        await gate.release()
    }

    /// How many overlapping jobs (webhook attempts) run at once.
    static let maxOverlappingJobs = 32

    /// Jobs due at the same instant that may overlap: prepared in order, their work concurrently,
    /// finished in order — the state changes happen in the order the jobs would have run one by one.
    private func runOverlapping(_ group: [ScheduledJob]) async {
        let works = group.map { $0.overlap!.prepare(self) }
        var finishes = [JobOverlap.Finish?](repeating: nil, count: works.count)
        await withTaskGroup(of: (Int, JobOverlap.Finish).self) { tasks in
            for (i, work) in works.enumerated() {
                guard let work else { continue }
                tasks.addTask { (i, await work()) }
            }
            for await (i, finish) in tasks { finishes[i] = finish }
        }
        for finish in finishes { finish?(self) }
    }

    /// Switches the clock mode (and rate); running mode starts the wall-clock driver.
    func setClockMode(_ mode: ClockState.Mode, rate: Double?) {
        withState { $0.clock.setMode(mode, rate: rate) }
        if mode == .running { startDriver() } else { stopDriver() }
    }

    private func startDriver() {
        driver.withLock { task in
            guard task == nil else { return }
            task = Task { [weak self] in
                while !Task.isCancelled {
                    guard let self else { return }
                    let delay: Duration = self.withState { s in
                        guard let due = s.jobs.nextDue, let d = s.clock.wallDelay(until: due) else { return .milliseconds(100) }
                        return min(d, .milliseconds(100))
                    }
                    if delay > .zero { try? await Task.sleep(for: delay) }
                    if Task.isCancelled { return }
                    await self.runDueJobs()
                }
            }
        }
    }

    func stopDriver() {
        driver.withLock { task in
            task?.cancel()
            task = nil
        }
    }
}
