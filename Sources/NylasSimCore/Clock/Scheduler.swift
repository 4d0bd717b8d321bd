import Foundation
import Synchronization

/// A delayed piece of work on the virtual clock: a token expiry, a sync tick, a webhook retry,
/// a scheduled send. Jobs run in time order (ties in the order they were scheduled).
package struct ScheduledJob: Sendable {
    package let id: Int
    package let due: VirtualTime
    package let label: String
    package let run: @Sendable (Engine) async -> Void
    /// Set when the job's slow part may run beside the jobs after it (see `JobOverlap`).
    package var overlap: JobOverlap? = nil
}

/// A job whose slow part may run beside the jobs after it (a webhook attempt's HTTP request): its
/// `prepare` runs in queue order, the work it returns runs while the loop goes on, and the finishing
/// step that work returns runs in queue order again, within the order window (`JobsInFlight`).
/// Together they do what `run` does.
package struct JobOverlap: Sendable {
    package typealias Finish = @Sendable (Engine) -> Void
    package typealias Work = @Sendable () async -> Finish
    /// Jobs with the same key never overlap (one notification's attempts stay one after another).
    package let key: String
    package let prepare: @Sendable (Engine) -> Work?
}

/// Work that runs as one job for many items: the sync ticks of the grants polled at the same
/// instant. Items join the batch only while it is the newest job (see `JobQueue.join`), so the
/// batch runs its items exactly where their own jobs would have run, one after another.
package struct JobBatch {
    package var key: String
    package var due: VirtualTime
    /// Each item's label in `pending` is `labelPrefix + item`.
    package var labelPrefix: String
    package var items: [String]
}

/// The queue of jobs, a binary min-heap on (due, id).
package struct JobQueue {
    private var heap: [ScheduledJob] = []
    private var cancelled: Set<Int> = []
    private var nextID = 1
    /// Batched jobs not yet run, by job ID.
    private var batches: [Int: JobBatch] = [:]

    package var count: Int { heap.count - cancelled.count }
    package var nextDue: VirtualTime? {
        mutating get {
            dropCancelled()
            return heap.first?.due
        }
    }

    package mutating func makeID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    package mutating func insert(_ job: ScheduledJob) {
        heap.append(job)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.before(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    package mutating func cancel(_ id: Int) {
        cancelled.insert(id)
        batches[id] = nil
    }

    /// Schedules a batch job (`job` runs the batch's items: it takes them with `takeBatch`).
    package mutating func insert(_ job: ScheduledJob, batch: JobBatch) {
        batches[job.id] = batch
        insert(job)
    }

    /// Adds `item` to the batch `key` due at `due` when that batch is the newest job scheduled:
    /// a job of its own would have come right after the batch's last item, so running the item
    /// there keeps the order of everything. Returns the batch's job ID, or nil (schedule a new one).
    package mutating func join(key: String, due: VirtualTime, item: String) -> Int? {
        let last = nextID - 1
        guard batches[last].map({ $0.key == key && $0.due == due }) == true else { return nil }
        batches[last]!.items.append(item)  // in place: the items are not copied
        return last
    }

    /// Undoes a `join` (its transaction failed).
    package mutating func unjoin(_ id: Int, item: String) {
        guard let i = batches[id]?.items.lastIndex(of: item) else { return }
        batches[id]!.items.remove(at: i)
    }

    /// The items of a batch job, removed: called once, when the job runs.
    package mutating func takeBatch(_ id: Int) -> [String] {
        batches.removeValue(forKey: id)?.items ?? []
    }

    /// Removes and returns the earliest job due at or before `time`.
    package mutating func popDue(atOrBefore time: VirtualTime) -> ScheduledJob? {
        dropCancelled()
        guard let first = heap.first, first.due <= time else { return nil }
        return popFirst()
    }

    /// Jobs still pending, in order (for the control API).
    /// A batch is listed as one entry per item, under the batch's job ID.
    package var pending: [ScheduledJob] {
        heap.filter { !cancelled.contains($0.id) }.sorted(by: Self.before).flatMap { job -> [ScheduledJob] in
            guard let batch = batches[job.id] else { return [job] }
            return batch.items.map { ScheduledJob(id: job.id, due: job.due, label: batch.labelPrefix + $0, run: job.run, overlap: job.overlap) }
        }
    }

    package mutating func removeAll() {
        heap.removeAll()
        cancelled.removeAll()
        batches.removeAll()
    }

    private mutating func dropCancelled() {
        while let first = heap.first, cancelled.contains(first.id) {
            cancelled.remove(first.id)
            _ = popFirst()
        }
    }

    private mutating func popFirst() -> ScheduledJob {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, Self.before(heap[l], heap[m]) { m = l }
                if r < heap.count, Self.before(heap[r], heap[m]) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return top
    }

    private static func before(_ a: ScheduledJob, _ b: ScheduledJob) -> Bool {
        a.due == b.due ? a.id < b.id : a.due < b.due
    }
}

/// Lets one async caller at a time through, in arrival order.
///
/// A lock, not an actor: taking a free gate costs no executor hop and no suspension, and the
/// waiters are a FIFO with O(1) removal at the front. Every transaction that leaves work due
/// starts a task that waits here, so thousands can queue while the clock runs a busy instant.
package final class SerialGate: Sendable {
    private struct State {
        package var busy = false
        package var waiters: [CheckedContinuation<Void, Never>] = []
        package var head = 0

        package var hasWaiters: Bool { head < waiters.count }

        package mutating func popWaiter() -> CheckedContinuation<Void, Never> {
            let next = waiters[head]
            head += 1
            if head == waiters.count {
                waiters.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024, head * 2 >= waiters.count {
                waiters.removeFirst(head)
                head = 0
            }
            return next
        }
    }

    private let state = Mutex(State())

    package func acquire() async {
        let taken = state.withLock { s -> Bool in
            if s.busy { return false }
            s.busy = true
            return true
        }
        if taken { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.busy {
                    s.waiters.append(c)
                    return false
                }
                s.busy = true
                return true
            }
            if now { c.resume() }
        }
    }

    /// Hands the gate to the longest waiter (it stays busy), or frees it.
    package func release() async {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.hasWaiters else {
                s.busy = false
                return nil
            }
            return s.popWaiter()
        }
        next?.resume()
    }
}
