import StackCore

/// A timer armed on the reactor: its length (which queue holds it) and its id (its place there).
public struct ReactorTimer: Hashable, Sendable {
    let length: Duration
    let id: Int
}

/// The reactor's timers, kept by length: timers of one length are armed in the order of their
/// deadlines, so arming one is an append to its length's queue, however many timers of other
/// lengths are pending (MongoDB's calls each arm their deadline; PostgreSQL's and Redis's
/// connections each keep one `DeadlineWatch`). Cancelling finds the timer by id (ids grow along
/// a queue) and drops its job at once, so a timer cancelled early does not keep its closure alive
/// until its deadline; cancelled timers at the head of a queue are skipped over right away, so
/// they never wake the reactor. Pure: the caller says what time it is.
struct ReactorTimers {
    typealias Job = () -> Void

    private struct Timer {
        let deadline: MonotonicClock.Instant
        let id: Int
        /// nil once cancelled.
        var job: Job?
    }

    /// One length's timers; those before `first` have fired or were cancelled (compacted now and
    /// then, not per timer).
    private struct Queue {
        var timers: [Timer] = []
        var first = 0
        var head: Timer? { first < timers.count ? timers[first] : nil }
        var headDeadline: MonotonicClock.Instant? { first < timers.count ? timers[first].deadline : nil }
        var drained: Bool { first == timers.count }

        /// Drops the job of timer `id`, if it is still pending.
        mutating func cancel(_ id: Int) {
            var low = first, high = timers.count
            while low < high {
                let middle = (low + high) / 2
                if timers[middle].id < id { low = middle + 1 } else { high = middle }
            }
            guard low < timers.count, timers[low].id == id else { return }
            timers[low].job = nil
            skipCancelled()
        }

        mutating func skipCancelled() {
            while first < timers.count, timers[first].job == nil { first += 1 }
            if drained {
                timers.removeAll(keepingCapacity: true)
                first = 0
            } else if first > 1024, first * 2 > timers.count {
                timers.removeFirst(first)
                first = 0
            }
        }
    }

    /// The queues by length: a few lengths (the stores' timeouts, and the one-off lengths of the
    /// connections' deadline watches, each pending alone — about one per connection), so a list
    /// searched in order, read on every turn of the reactor, costs less than hashing.
    private var queues: [(length: Duration, queue: Queue)] = []
    private var lastID = 0

    /// Arms a timer `delay` after `now`.
    mutating func arm(after delay: Duration, now: MonotonicClock.Instant, _ job: @escaping Job) -> ReactorTimer {
        lastID += 1
        let timer = Timer(deadline: now + delay, id: lastID, job: job)
        if let index = queues.firstIndex(where: { $0.length == delay }) {
            queues[index].queue.timers.append(timer)
        } else {
            queues.append((delay, Queue(timers: [timer])))
        }
        return ReactorTimer(length: delay, id: lastID)
    }

    mutating func cancel(_ timer: ReactorTimer) {
        if let index = queues.firstIndex(where: { $0.length == timer.length }) { queues[index].queue.cancel(timer.id) }
    }

    /// The earliest deadline of a timer still pending.
    var nextDeadline: MonotonicClock.Instant? {
        var earliest: MonotonicClock.Instant?
        for index in queues.indices {
            if let deadline = queues[index].queue.headDeadline, earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        return earliest
    }

    /// Takes the timers due at `now` out, earliest first, leaving out the cancelled ones.
    mutating func due(at now: MonotonicClock.Instant) -> [(timer: ReactorTimer, job: Job)] {
        guard let next = nextDeadline, next <= now else { return [] }
        var fired: [(deadline: MonotonicClock.Instant, timer: ReactorTimer, job: Job)] = []
        for index in queues.indices {
            let length = queues[index].length
            while let timer = queues[index].queue.head, timer.deadline <= now {
                if let job = timer.job { fired.append((timer.deadline, ReactorTimer(length: length, id: timer.id), job)) }
                queues[index].queue.timers[queues[index].queue.first].job = nil
                queues[index].queue.skipCancelled()
            }
        }
        // A length with nothing pending is forgotten: a one-off delay leaves no queue behind.
        queues.removeAll { $0.queue.drained }
        return fired.sorted { ($0.deadline, $0.timer.id) < ($1.deadline, $1.timer.id) }.map { ($0.timer, $0.job) }
    }

    /// Entries kept: timers pending, and cancelled ones behind a pending one.
    var count: Int { queues.reduce(0) { $0 + $1.queue.timers.count - $1.queue.first } }
}
