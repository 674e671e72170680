/// The reactor's timers, kept by length: timers of one length are armed in the order of their
/// deadlines, so arming one is an append to its length's queue, however many timers of other
/// lengths are pending (a call's deadline is armed per call; PostgreSQL's, Redis's and
/// MongoDB's differ). A cancelled timer stays until its deadline and is skipped then, so
/// cancelling costs no search. Pure: the caller says what time it is.
struct ReactorTimers {
    typealias Job = () -> Void

    private struct Timer {
        let deadline: ContinuousClock.Instant
        let id: Int
        let job: Job
    }

    /// One length's timers; those before `first` have fired (compacted now and then, not per firing).
    private struct Queue {
        var timers: [Timer] = []
        var first = 0
        var head: Timer? { first < timers.count ? timers[first] : nil }
        var drained: Bool { first == timers.count }

        mutating func compact() {
            if first > 1024, first * 2 > timers.count {
                timers.removeFirst(first)
                first = 0
            }
        }
    }

    private var queues: [Duration: Queue] = [:]
    private var cancelled: Set<Int> = []
    private var lastID = 0

    /// Arms a timer `delay` after `now`; returns its id.
    mutating func arm(after delay: Duration, now: ContinuousClock.Instant, _ job: @escaping Job) -> Int {
        lastID += 1
        queues[delay, default: Queue()].timers.append(Timer(deadline: now + delay, id: lastID, job: job))
        return lastID
    }

    mutating func cancel(_ id: Int) { cancelled.insert(id) }

    /// The earliest deadline pending, cancelled timers included (waking for one early is harmless).
    var nextDeadline: ContinuousClock.Instant? {
        var earliest: ContinuousClock.Instant?
        for queue in queues.values {
            if let deadline = queue.head?.deadline, earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        return earliest
    }

    /// Takes the timers due at `now` out, earliest first, leaving out the cancelled ones.
    mutating func due(at now: ContinuousClock.Instant) -> [(id: Int, job: Job)] {
        guard let next = nextDeadline, next <= now else { return [] }
        var fired: [Timer] = []
        for index in queues.values.indices {
            while let timer = queues.values[index].head, timer.deadline <= now {
                queues.values[index].first += 1
                if cancelled.remove(timer.id) == nil { fired.append(timer) }
            }
            queues.values[index].compact()
        }
        // A length with nothing pending is forgotten: a one-off delay leaves no queue behind.
        if queues.values.contains(where: \.drained) { queues = queues.filter { !$0.value.drained } }
        return fired.sorted { ($0.deadline, $0.id) < ($1.deadline, $1.id) }.map { ($0.id, $0.job) }
    }

    /// Timers pending, cancelled ones included.
    var count: Int { queues.values.reduce(0) { $0 + $1.timers.count - $1.first } }
}
