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
    /// The virtual time at start. Default: 2026-01-01T09:00:00Z for a seeded manual clock, the wall
    /// clock otherwise (a running clock always starts now unless this is set).
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
    /// The directory under which the control API reads the files its requests name (fixtures,
    /// scenarios); the working directory when nil. The Swift API reads any path it is given.
    public var fileRoot: String?
    public var logger = Logger(label: "nylas-sim", factory: { _ in SwiftLogNoOpLogHandler() })

    public init(seed: String? = nil) { self.seed = seed }

    /// Options a simulator refuses to start with.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
        package init(_ description: String) { self.description = description }
    }

    /// Whether `token` is empty or only white space.
    public static func isBlank(_ token: String) -> Bool {
        token.allSatisfy { $0.isWhitespace || $0.isNewline }
    }
}

/// Notes a handler leaves for the request journal: whose request it was.
package final class RequestNotes: Sendable {
    package init() {}
    private let value = Mutex<(application: String?, grant: String?)>((nil, nil))
    package func set(application: String?, grant: String? = nil) {
        value.withLock {
            if let application { $0.application = application }
            if let grant { $0.grant = grant }
        }
    }
    package var application: String? { value.withLock { $0.application } }
    package var grant: String? { value.withLock { $0.grant } }
}

/// The heart of a simulator: its state behind one lock and the job runner that moves the
/// virtual clock; requests reach it through the pipeline it is given. The listeners, the in-process API, the CLI and scenarios all
/// drive it through the same operations.
package final class Engine: Sendable {
    /// The state is reached only through `withState`/`transaction`, which hold `lock`:
    /// that is the one invariant that makes the unchecked access sound.
    private nonisolated(unsafe) let state: EngineState
    private let lock = NSLock()
    package let logger: Logger
    package let controlToken: String?
    private let gate = SerialGate()
    private let driver = Mutex<Task<Void, Never>?>(nil)
    /// How a request is answered: the API layer's pipeline (router, faults, handlers, error
    /// rendering, journal), given by whoever assembles the simulator.
    package typealias Answer = @Sendable (Engine, SimRequest, Region, NylasError?) async -> SimResponse
    private let answer: Answer
    /// Sees every API request with its answer (the recorder of `serve --record`).
    package let requestObserver = Mutex<(@Sendable (SimRequest, SimResponse, Region, VirtualTime) -> Void)?>(nil)
    /// False once the simulator shuts down: control calls that would start new work refuse then.
    package let isRunning = Mutex(true)
    /// Where files named in control requests may be read.
    package let fileRoot: FileRoot
    /// Base URLs of the running listeners, per region.
    package let baseURLs = Mutex<[Region: String]>([:])

    package init(options: SimulatorOptions, answer: @escaping Answer) throws {
        if let token = options.controlToken, SimulatorOptions.isBlank(token) {
            throw SimulatorOptions.Invalid("controlToken is empty: an empty token would leave the control API open")
        }
        guard ClockState.rates.contains(options.clockRate) else {
            throw SimulatorOptions.Invalid("clockRate must be from 0 to 1000000")
        }
        state = try EngineState(options: options)
        self.answer = answer
        logger = options.logger
        controlToken = options.controlToken
        fileRoot = FileRoot(options.fileRoot)
        if state.clock.mode == .running { startDriver() }
    }

    // MARK: State access

    /// Reads or changes the state under the lock, outside any transaction.
    package func withState<T>(_ body: (EngineState) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(state)
    }

    /// Changes the state atomically: every database write, event and job of `body`, or none.
    package func transaction<T>(_ body: (EngineState) throws -> T) throws -> T {
        try withStateThenKick { s in try s.transaction { try body(s) } }
    }

    /// `withState`, then starts the jobs that `body` left due now (a webhook to send), whatever
    /// the clock mode — unless the job loop is running and will reach them anyway.
    package func withStateThenKick<T>(_ body: (EngineState) throws -> T) rethrows -> T {
        let (result, kick) = try withState { s in
            let result = try body(s)
            guard let next = s.jobs.nextDue, next <= s.now else { return (result, false) }
            if let until = s.jobsRunningUntil, next <= until { return (result, false) }
            return (result, true)
        }
        if kick { kickJobs() }
        return result
    }

    package var now: VirtualTime { withState { $0.now } }

    // MARK: Requests

    /// Answers one request for `region` through the API layer's pipeline.
    package func handle(_ request: SimRequest, region: Region, failure: NylasError? = nil) async -> SimResponse {
        await answer(self, request, region, failure)
    }

    // MARK: Clock and jobs

    /// Advances the virtual clock by `duration`, running every job that falls due, in order.
    package func advance(by duration: Duration) async {
        let target = now + duration
        await runJobs(until: target, moveClock: true)
    }

    /// Advances the virtual clock to `time` (never backwards), running due jobs in order.
    package func advance(to time: VirtualTime) async {
        await runJobs(until: time, moveClock: true)
    }

    /// Runs the jobs already due (a webhook to send now, a job due in running mode).
    package func runDueJobs() async {
        await runJobs(until: nil, moveClock: false)
    }

    private func kickJobs() {
        Task { await self.runDueJobs() }
    }

    private enum Step {
        case run(ScheduledJob)
        /// Nothing is due, but jobs in flight may still schedule some.
        case wait
        case done
    }

    private func runJobs(until target: VirtualTime?, moveClock: Bool) async {
        await gate.acquire()
        let (limit, orderWindow) = withState { s in
            let limit = target ?? s.now
            s.jobsRunningUntil = limit
            return (limit, s.settings.webhooks.orderWindow)
        }
        await withTaskGroup(of: JobsInFlight.Completion.self) { group in
            var inFlight = JobsInFlight(orderWindow: orderWindow)
            var ran = 0
            var lastYield = ContinuousClock.now
            loop: while true {
                // `jobsRunningUntil` is cleared under the same lock as the last look at the queue: a
                // transaction that leaves a job due either sees the loop running (which then runs the
                // job) or sees it finished (and starts a run).
                let busy = !inFlight.isEmpty
                let step: Step = withState { s in
                    if let job = s.jobs.popDue(atOrBefore: limit) {
                        if s.clock.now < job.due { s.clock.set(job.due) }
                        return .run(job)
                    }
                    if busy { return .wait }
                    if moveClock {
                        s.clock.set(limit)
                        try? s.saveClock()
                    }
                    s.jobsRunningUntil = nil
                    return .done
                }
                switch step {
                case .done:
                    break loop
                case .wait:
                    await inFlight.receive(&group, self)
                case .run(let job):
                    // Let the listeners and other tasks in between jobs when a run goes on: a long
                    // advance runs thousands (checked every 16 jobs, a yield at most every 20 ms).
                    ran += 1
                    if ran % 16 == 0, ContinuousClock.now - lastYield > .milliseconds(20) {
                        await Task.yield()
                        lastYield = ContinuousClock.now
                    }
                    guard let overlap = job.overlap else {
                        // An ordinary job sees the state the jobs before it left.
                        await inFlight.settle(&group, self)
                        await job.run(self)
                        continue
                    }
                    // Jobs due at the same instant go out together; a later one first lets those
                    // before it finish (in order, each within the order window).
                    if let latest = inFlight.latestDue, latest < job.due { await inFlight.settle(&group, self) }
                    await inFlight.wait(forKey: overlap.key, &group, self)
                    while inFlight.count >= Self.maxOverlappingJobs { await inFlight.receive(&group, self) }
                    if let work = overlap.prepare(self) {
                        inFlight.start(work, key: overlap.key, due: job.due, in: &group)
                    }
                }
            }
            group.cancelAll()  // the order-deadline wake-ups still asleep
        }
        await gate.release()
    }

    /// How many overlapping jobs (webhook attempts) are out at once.
    package static let maxOverlappingJobs = 32

    /// Switches the clock mode (and rate); running mode starts the wall-clock driver.
    package func setClockMode(_ mode: ClockState.Mode, rate: Double?) {
        withState { s in
            s.clock.setMode(mode, rate: rate)
            try? s.saveClock()
        }
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

    package func stopDriver() {
        driver.withLock { task in
            task?.cancel()
            task = nil
        }
    }
}
