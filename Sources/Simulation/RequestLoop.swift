import CLinux
import Dispatch
import Foundation
import StackCore
import Synchronization

/// The thread a run's requests run on. It releases the open model's arrivals at their intended
/// times, ends the embedded stores' waits (service times, stalls) when due and, in between, runs
/// the jobs of the requests' tasks (which prefer it as their executor): a request starts on the
/// thread that released it and its awaits resume there, so no other thread has to be woken for
/// it — on a virtual machine such a wake-up costs tens of microseconds, more than the embedded
/// stores' work, and a service slot held that much longer moves a queue's answer. The stack's own
/// work (snapshot-sync workers, the sprint roller) runs on it too; in wall time everything else
/// (interval collection, a live target's reactor) keeps the cooperative pool and other threads.
///
/// In virtual time the loop is also what moves the clock: everything of the run's simulation
/// runs on it (requests, the stores' waits, sync workers, the sprint roller, the interval
/// collector), so when it has no job left, nothing can happen before the next arrival or wait
/// is due, and it moves the time straight there.
final class RequestLoop: TaskExecutor, Sleeper, @unchecked Sendable {
    private let clock: RunClock
    private let condition = NSCondition()
    private enum State { case idle, running, finished }
    /// Guarded by `condition`.
    private var state = State.idle
    private var jobs: [UnownedJob] = []
    private var timers = DueHeap<Timer>()
    /// The open model's or closed model's release of arrivals, once the load starts.
    private var release: (@Sendable () -> Int64?)?
    /// The earliest timer's due time (`Int64.max` for none), readable between jobs without the lock.
    private let firstTimer = Atomic<Int64>(.max)

    /// A wait on the loop: a store's service (not cut short) or a wait of the run's own that
    /// cancellation ends.
    private enum Timer {
        case service(CheckedContinuation<Void, Never>)
        case cancellable(Waiter)

        func end() {
            switch self {
            case .service(let continuation): continuation.resume()
            case .cancellable(let waiter): waiter.end(.success(()))
            }
        }
    }

    /// A cancellable wait's continuation, resumed once: when due or when cancelled.
    private final class Waiter: Sendable {
        private let state = Mutex<(continuation: CheckedContinuation<Void, any Error>?, ended: Bool)>((nil, false))

        /// False when it was cancelled before it began (it is then resumed already).
        func begin(_ continuation: CheckedContinuation<Void, any Error>) -> Bool {
            let ended = state.withLock { s -> Bool in
                if !s.ended { s.continuation = continuation }
                return s.ended
            }
            if ended { continuation.resume(throwing: CancellationError()) }
            return !ended
        }

        /// The first end resumes the waiter; later ones do nothing.
        func end(_ result: Result<Void, any Error>) {
            let continuation = state.withLock { s in
                defer { s.continuation = nil; s.ended = true }
                return s.continuation
            }
            continuation?.resume(with: result)
        }
    }

    /// Whether the loop keeps its own core awake through the end of each idle stretch: for
    /// when the machine's idle CPUs could not be held quick to wake (`WakeLatencyHold`).
    private let keepsAwake: Bool

    init(clock: RunClock, keepsAwake: Bool = false) {
        self.clock = clock
        self.keepsAwake = keepsAwake
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        guard state != .finished else {
            condition.unlock()
            // The loop has ended (a request outlived the run's deadline): run it on the pool.
            DispatchQueue.global().async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Resumes the caller when `duration` has passed, from the loop's thread. Not cut short by
    /// cancellation: a store call in service finishes its service.
    func sleep(for duration: Duration) async throws {
        let due = clock.now() + duration.nanoseconds
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            schedule(.service(continuation), at: due)
        }
    }

    /// Waits until the run-clock moment `due`; throws `CancellationError` when the task is
    /// cancelled first, or when in virtual time the loop has ended (time stands still then).
    func sleep(until due: Int64) async throws {
        let waiter = Waiter()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if waiter.begin(continuation) { schedule(.cancellable(waiter), at: due) }
            }
        } onCancel: {
            waiter.end(.failure(CancellationError()))
        }
    }

    /// Waits until `due`, or until a stop is asked for (seen within `RunClock.stopCheck`), the
    /// task is cancelled or the loop ends in virtual time.
    func sleep(until due: Int64, unless stop: RunStop) async {
        while stop.requested == nil, clock.now() < due {
            do { try await sleep(until: min(due, clock.now() + RunClock.stopCheck)) } catch { return }
        }
    }

    /// Before the loop starts and after it ends, the runtime's timer ends a wait in wall time;
    /// in virtual time a wait before the start waits for it, and one after the end ends at once.
    private func schedule(_ timer: Timer, at due: Int64) {
        condition.lock()
        guard state == .running || (state == .idle && clock.isVirtual) else {
            condition.unlock()
            return endOutsideLoop(timer, at: due)
        }
        timers.push(due, timer)
        if due < firstTimer.load(ordering: .relaxed) {
            firstTimer.store(due, ordering: .relaxed)
            // From another thread, the loop may be waiting for something later.
            condition.signal()
        }
        condition.unlock()
    }

    private func endOutsideLoop(_ timer: Timer, at due: Int64) {
        if clock.isVirtual {
            if case .cancellable(let waiter) = timer { waiter.end(.failure(CancellationError())) } else { timer.end() }
            return
        }
        let wall = ContinuousClock.now + .nanoseconds(due - clock.now())
        Task {
            try? await Task.sleep(until: wall, tolerance: .microseconds(50), clock: .continuous)
            timer.end()
        }
    }

    /// Starts the loop's thread: it runs jobs, ends waits, and releases arrivals once `releasing` gives it them.
    func start() {
        condition.lock()
        state = .running
        condition.unlock()
        NamedThread.start("stacksim-loop") { [self] in
            // Wake on time: the default 50 µs of slack would make every arrival that late.
            _ = stacksim_set_timer_slack(1)
            run()
        }
    }

    /// From now on, whenever the thread is free it calls `release`: it hands out every arrival
    /// that is due and returns when the next one is (run-clock nanoseconds), or nil when none is left.
    func releasing(_ release: @escaping @Sendable () -> Int64?) {
        condition.lock()
        self.release = release
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once the jobs it has are done; later ones run on the pool, and waits
    /// still running end on the runtime's timer (in virtual time, at once).
    func finish() {
        condition.lock()
        state = .finished
        condition.signal()
        condition.unlock()
    }

    /// How much earlier than due the thread asks to be woken, for sleeps shorter than
    /// `shortSleep` and for the others. Short ones come at high arrival rates, where waiting by
    /// the clock is a share of every request's CPU; long ones end idle stretches, where a late
    /// wake-up after a deep sleep would release the next arrivals late (the tail of the harness's
    /// own overhead).
    private var shortSleeps = WakeLead(.median)
    private var longSleeps = WakeLead(.lateOnes)
    private static let shortSleep: Int64 = 100_000

    /// With `keepsAwake`, how long before a due moment the thread waits by the clock at least:
    /// the last `awakeStretch` of each idle stretch, at most a quarter of it. A CPU that halts hands
    /// its core back to the host, and is woken 50–400 µs late with its caches cold; one that
    /// waits by the clock is neither, at the price shown as the run's clock wait (about a tenth
    /// of a core at 400 arrivals a second, a sixth at 2,000; at 12,000 the stretches are short).
    static let awakeStretch: Int64 = 400_000

    /// How long before `due` to stop sleeping, with the sleep's `lead`, for an idle stretch that began at `idleSince`.
    private func waitByClock(before due: Int64, lead: Int64, idleSince: Int64) -> Int64 {
        guard keepsAwake else { return lead }
        return max(lead, min(Self.awakeStretch, (due - idleSince) / 4))
    }

    /// Time the thread spent waiting by the clock, on a core it kept busy: what the lead's
    /// punctuality costs in CPU, apart from the requests' work.
    private let clockWait = Atomic<Int64>(0)
    var clockWaitNanoseconds: Int64 { clockWait.load(ordering: .relaxed) }

    private func run() {
        var batch: [UnownedJob] = []
        var ended: [Timer] = []
        var release: (@Sendable () -> Int64?)?
        while true {
            var arrival = release?() ?? .max
            let idleSince = clock.now()
            condition.lock()
            while true {
                if release == nil, let installed = self.release {
                    release = installed
                    arrival = clock.now()
                }
                takeDueTimers(at: clock.now(), into: &ended)
                guard jobs.isEmpty, ended.isEmpty else { break }
                guard state == .running else { return stop() }
                let due = min(arrival, firstTimer.load(ordering: .relaxed))
                // Virtual time stands still until the load begins: the run's tasks may already be
                // waiting on it while the run is still being set up.
                if due == .max || (clock.isVirtual && release == nil) {
                    condition.wait()
                    continue
                }
                if clock.isVirtual {
                    // Nothing left to do before `due`: that is the next moment anything happens.
                    clock.advance(to: due)
                    if due == arrival { break }
                    continue
                }
                let now = clock.now()
                let short = due - now < Self.shortSleep
                let lead = short ? shortSleeps.nanoseconds : longSleeps.nanoseconds
                let wake = due - waitByClock(before: due, lead: lead, idleSince: idleSince)
                let wait = wake - now
                if wait <= 0 {
                    // The rest of the way by the clock, unless a job comes first.
                    var current = now
                    while current < due, jobs.isEmpty {
                        condition.unlock()
                        condition.lock()
                        current = clock.now()
                    }
                    clockWait.add(current - now, ordering: .relaxed)
                    if due == arrival { break }
                    continue
                }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wait) / 1e9))
                if jobs.isEmpty {
                    let late = clock.now() - wake
                    if short { shortSleeps.learn(late: late) } else { longSleeps.learn(late: late) }
                }
            }
            swap(&batch, &jobs)
            condition.unlock()
            endAll(&ended)
            for job in batch {
                job.runSynchronously(on: asUnownedTaskExecutor())
                // Arrivals and ends of waits come first: a batch of long jobs must not make them late.
                let now = clock.now()
                if now >= arrival { arrival = release?() ?? .max }
                if now >= firstTimer.load(ordering: .relaxed) {
                    condition.lock()
                    takeDueTimers(at: now, into: &ended)
                    condition.unlock()
                    endAll(&ended)
                }
            }
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Called with the lock held.
    private func takeDueTimers(at now: Int64, into ended: inout [Timer]) {
        guard now >= firstTimer.load(ordering: .relaxed) else { return }
        timers.popDue(at: now, into: &ended)
        firstTimer.store(timers.min?.due ?? .max, ordering: .relaxed)
    }

    /// Ending a wait queues its waiter's job: on this loop, which runs it after the jobs before it.
    private func endAll(_ ended: inout [Timer]) {
        for timer in ended { timer.end() }
        ended.removeAll(keepingCapacity: true)
    }

    /// Called with the lock held, once finished: the waits still running end outside the loop.
    private func stop() {
        var left: [(Int64, Timer)] = []
        while let due = timers.min?.due { left.append((due, timers.popMin())) }
        firstTimer.store(.max, ordering: .relaxed)
        condition.unlock()
        for (due, timer) in left { endOutsideLoop(timer, at: due) }
    }
}
