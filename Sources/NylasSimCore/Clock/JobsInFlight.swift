import Foundation

/// The overlapping jobs of one run of the job loop (webhook attempts) whose work (an HTTP request)
/// is out while the loop goes on with the jobs after them.
///
/// Their finishing steps run in the order the jobs were due, as if one after another, for every job
/// whose work returns within `orderWindow` of wall time; a job still out after that is detached: it
/// holds nothing else back, and its finishing step runs when its work returns. So a receiver that
/// never answers costs the others at most `orderWindow` once, not its attempt timeout each time.
/// The loop's own task is the only user (no lock).
package struct JobsInFlight {
    package enum Completion: Sendable {
        case finished(Int, JobOverlap.Finish)
        /// A wake-up at an entry's order deadline.
        case deadline(ContinuousClock.Instant)
    }

    private struct Entry {
        let id: Int
        let key: String
        let due: VirtualTime
        let orderedUntil: ContinuousClock.Instant
        var finish: JobOverlap.Finish?
    }

    /// In the order the jobs were due.
    private var entries: [Entry] = []
    private var nextID = 0
    private let orderWindow: Duration
    /// The order-deadline wake-ups asleep in the group. A new one is added only when none of these
    /// comes before it: each is a child task of the group, and a group's children are a list that
    /// every finishing child is unlinked from, so thousands asleep made each attempt cost more.
    private var wakeUps: [ContinuousClock.Instant] = []

    package init(orderWindow: Duration) { self.orderWindow = orderWindow }

    package var isEmpty: Bool { entries.isEmpty }
    package var count: Int { entries.count }
    /// How many order-deadline wake-ups are asleep in the group.
    package var wakeUpCount: Int { wakeUps.count }
    package func contains(key: String) -> Bool { entries.contains { $0.key == key } }
    /// The latest due time of the jobs out.
    package var latestDue: VirtualTime? { entries.last?.due }

    /// Starts `work` beside the loop.
    package mutating func start(_ work: @escaping JobOverlap.Work, key: String, due: VirtualTime,
                                in group: inout TaskGroup<Completion>) {
        nextID += 1
        let id = nextID
        entries.append(Entry(id: id, key: key, due: due, orderedUntil: .now + orderWindow))
        group.addTask { .finished(id, await work()) }
    }

    /// Waits for the next completion (or the next order deadline), then runs the finishing steps
    /// that may run.
    package mutating func receive(_ group: inout TaskGroup<Completion>, _ engine: Engine) async {
        let now = ContinuousClock.now
        if let deadline = entries.lazy.filter({ $0.finish == nil && $0.orderedUntil > now }).map(\.orderedUntil).min(),
           !wakeUps.contains(where: { $0 <= deadline }) {
            wakeUps.append(deadline)
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return .deadline(deadline)
            }
        }
        switch await group.next() {
        case .finished(let id, let finish)?:
            if let i = entries.firstIndex(where: { $0.id == id }) { entries[i].finish = finish }
        case .deadline(let instant)?:
            wakeUps.removeAll { $0 == instant }
        case nil:
            break
        }
        finishReady(engine)
    }

    /// Waits until every job out has finished or is detached: what comes next may depend on them.
    package mutating func settle(_ group: inout TaskGroup<Completion>, _ engine: Engine) async {
        finishReady(engine)
        while entries.contains(where: { $0.orderedUntil > .now }) {
            await receive(&group, engine)
        }
    }

    /// Waits until no job with `key` is out (one key's jobs never overlap).
    package mutating func wait(forKey key: String, _ group: inout TaskGroup<Completion>, _ engine: Engine) async {
        while contains(key: key) { await receive(&group, engine) }
    }

    /// Runs, in order, the finishing steps of the jobs whose work returned, stopping at a job still
    /// out within its order window (a detached one is passed over).
    private mutating func finishReady(_ engine: Engine) {
        let now = ContinuousClock.now
        var i = 0
        while i < entries.count {
            if let finish = entries[i].finish {
                entries.remove(at: i)
                finish(engine)
            } else if entries[i].orderedUntil > now {
                return
            } else {
                i += 1
            }
        }
    }
}
