import Foundation

/// A delayed piece of work on the virtual clock: a token expiry, a sync tick, a webhook retry,
/// a scheduled send. Jobs run in time order (ties in the order they were scheduled).
struct ScheduledJob: Sendable {
    let id: Int
    let due: VirtualTime
    let label: String
    let run: @Sendable (SimulatorCore) async -> Void
}

/// The queue of jobs, a binary min-heap on (due, id).
struct JobQueue {
    private var heap: [ScheduledJob] = []
    private var cancelled: Set<Int> = []
    private var nextID = 1

    var count: Int { heap.count - cancelled.count }
    var nextDue: VirtualTime? {
        mutating get {
            dropCancelled()
            return heap.first?.due
        }
    }

    mutating func makeID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    mutating func insert(_ job: ScheduledJob) {
        heap.append(job)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.before(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func cancel(_ id: Int) { cancelled.insert(id) }

    /// Removes and returns the earliest job due at or before `time`.
    mutating func popDue(atOrBefore time: VirtualTime) -> ScheduledJob? {
        dropCancelled()
        guard let first = heap.first, first.due <= time else { return nil }
        return popFirst()
    }

    /// Jobs still pending, in order (for the control API).
    var pending: [ScheduledJob] {
        heap.filter { !cancelled.contains($0.id) }.sorted(by: Self.before)
    }

    mutating func removeAll() {
        heap.removeAll()
        cancelled.removeAll()
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
actor SerialGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}
