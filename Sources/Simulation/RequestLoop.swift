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
/// stores' work, and a service slot held that much longer moves a queue's answer. Everything
/// else (snapshot-sync workers, interval collection, a live target's reactor) keeps the
/// cooperative pool and other threads.
final class RequestLoop: TaskExecutor, Sleeper, @unchecked Sendable {
    private let clock: RunClock
    private let condition = NSCondition()
    private enum State { case idle, running, finished }
    /// Guarded by `condition`.
    private var state = State.idle
    private var jobs: [UnownedJob] = []
    private var timers = DueHeap<CheckedContinuation<Void, Never>>()
    /// The earliest timer's due time (`Int64.max` for none), readable between jobs without the lock.
    private let firstTimer = Atomic<Int64>(.max)

    init(clock: RunClock) { self.clock = clock }

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
    /// cancellation: a store call in service finishes its service. Before the loop starts and
    /// after it ends, the runtime's timer does it.
    func sleep(for duration: Duration) async throws {
        let due = clock.now() + duration.nanoseconds
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            guard state == .running else {
                condition.unlock()
                return Self.resume(continuation, at: due, clock: clock)
            }
            timers.push(due, continuation)
            if due < firstTimer.load(ordering: .relaxed) {
                firstTimer.store(due, ordering: .relaxed)
                // From another thread, the loop may be waiting for something later.
                condition.signal()
            }
            condition.unlock()
        }
    }

    private static func resume(_ continuation: CheckedContinuation<Void, Never>, at due: Int64, clock: RunClock) {
        Task {
            try? await clock.sleep(until: due)
            continuation.resume()
        }
    }

    /// Starts the loop's thread. `release` is called whenever the thread is free: it hands out
    /// every arrival that is due and returns when the next one is (run-clock nanoseconds), or
    /// nil when none is left.
    func start(release: @escaping @Sendable () -> Int64?) {
        condition.lock()
        state = .running
        condition.unlock()
        let thread = Thread { [self] in
            // Wake on time: the default 50 µs of slack would make every arrival that late.
            _ = stacksim_set_timer_slack(1)
            run(release: release)
        }
        thread.name = "stacksim-requests"
        thread.start()
    }

    /// Lets the thread end once the jobs it has are done; later ones run on the pool, and waits
    /// still running end on the runtime's timer.
    func finish() {
        condition.lock()
        state = .finished
        condition.signal()
        condition.unlock()
    }

    /// How much earlier than due the thread asks to be woken: the kernel's lateness in waking
    /// it (tens of microseconds on a virtual machine), learnt as it goes; the rest of the way is
    /// waited out by looking at the clock.
    private var lead: Int64 = 0
    private static let maxLead: Int64 = 200_000

    private func run(release: () -> Int64?) {
        var batch: [UnownedJob] = []
        var ended: [CheckedContinuation<Void, Never>] = []
        while true {
            var arrival = release() ?? .max
            condition.lock()
            while true {
                takeDueTimers(at: clock.now(), into: &ended)
                guard jobs.isEmpty, ended.isEmpty else { break }
                guard state == .running else { return stop() }
                let due = min(arrival, firstTimer.load(ordering: .relaxed))
                if due == .max {
                    condition.wait()
                    continue
                }
                let wake = due - lead
                let wait = wake - clock.now()
                if wait <= 0 {
                    // The rest of the way by the clock, unless a job comes first.
                    while clock.now() < due, jobs.isEmpty {
                        condition.unlock()
                        condition.lock()
                    }
                    if due == arrival { break }
                    continue
                }
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wait) / 1e9))
                if jobs.isEmpty {
                    let late = clock.now() - wake
                    // Up quickly, down slowly: the lead follows the later wake-ups, so most
                    // arrivals and waits end on time at the price of a short wait by the clock.
                    if late >= 0 { lead = min(Self.maxLead, lead + (late - lead) / (late > lead ? 4 : 32)) }
                }
            }
            swap(&batch, &jobs)
            condition.unlock()
            resumeAll(&ended)
            for job in batch {
                job.runSynchronously(on: asUnownedTaskExecutor())
                // Arrivals and ends of waits come first: a batch of long jobs must not make them late.
                let now = clock.now()
                if now >= arrival { arrival = release() ?? .max }
                if now >= firstTimer.load(ordering: .relaxed) {
                    condition.lock()
                    takeDueTimers(at: now, into: &ended)
                    condition.unlock()
                    resumeAll(&ended)
                }
            }
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Called with the lock held.
    private func takeDueTimers(at now: Int64, into ended: inout [CheckedContinuation<Void, Never>]) {
        guard now >= firstTimer.load(ordering: .relaxed) else { return }
        timers.popDue(at: now, into: &ended)
        firstTimer.store(timers.min?.due ?? .max, ordering: .relaxed)
    }

    /// Resuming queues each waiter's job: on this loop, which runs it after the jobs before it.
    private func resumeAll(_ ended: inout [CheckedContinuation<Void, Never>]) {
        for continuation in ended { continuation.resume() }
        ended.removeAll(keepingCapacity: true)
    }

    /// Called with the lock held, once finished: the waits still running go to the runtime's timer.
    private func stop() {
        while let due = timers.min?.due { Self.resume(timers.popMin(), at: due, clock: clock) }
        firstTimer.store(.max, ordering: .relaxed)
        condition.unlock()
    }
}
