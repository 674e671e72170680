import CLinux
import Dispatch
import Foundation

/// The thread a run's requests run on. It releases the open model's arrivals at their intended
/// times and, in between, runs the jobs of the requests' tasks (which prefer it as their
/// executor): a request starts on the thread that released it and its awaits resume there, so
/// no other thread has to be woken for it — on a virtual machine such a wake-up costs tens of
/// microseconds, more than the embedded stores' work. Everything else (snapshot-sync workers,
/// interval collection, a live target's reactor) keeps the cooperative pool and other threads.
final class RequestLoop: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var jobs: [UnownedJob] = []
    private var open = true

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        guard open else {
            condition.unlock()
            // The loop has ended (a request outlived the run's deadline): run it on the pool.
            DispatchQueue.global().async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Starts the loop's thread. `release` is called whenever the thread is free: it hands out
    /// every arrival that is due and returns when the next one is (run-clock nanoseconds), or
    /// nil when none is left.
    func start(clock: RunClock, release: @escaping @Sendable () -> Int64?) {
        let thread = Thread { [self] in
            // Wake on time: the default 50 µs of slack would make every arrival that late.
            _ = stacksim_set_timer_slack(1)
            run(clock: clock, release: release)
        }
        thread.name = "stacksim-requests"
        thread.start()
    }

    /// Lets the thread end once the jobs it has are done; later ones run on the pool.
    func finish() {
        condition.lock()
        open = false
        condition.signal()
        condition.unlock()
    }

    /// How much earlier than due the thread asks to be woken: the kernel's lateness in waking
    /// it (tens of microseconds on a virtual machine), learnt as it goes; the rest of the way is
    /// waited out by looking at the clock.
    private var lead: Int64 = 0
    private static let maxLead: Int64 = 200_000

    private func run(clock: RunClock, release: () -> Int64?) {
        var batch: [UnownedJob] = []
        while true {
            var next = release()
            condition.lock()
            while jobs.isEmpty {
                guard open else { return condition.unlock() }
                if let due = next {
                    let wake = due - lead
                    let wait = wake - clock.now()
                    if wait <= 0 {
                        // The rest of the way by the clock, unless a job comes first.
                        while clock.now() < due, jobs.isEmpty {
                            condition.unlock()
                            condition.lock()
                        }
                        break
                    }
                    _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wait) / 1e9))
                    if jobs.isEmpty {
                        let late = clock.now() - wake
                        // Up quickly, down slowly: the lead follows the later wake-ups, so
                        // most arrivals go out on time at the price of a short wait by the clock.
                        if late >= 0 { lead = min(Self.maxLead, lead + (late - lead) / (late > lead ? 4 : 32)) }
                    }
                } else {
                    condition.wait()
                }
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch {
                job.runSynchronously(on: asUnownedTaskExecutor())
                // Arrivals come first: a batch of long jobs must not make them late.
                if let due = next, clock.now() >= due { next = release() }
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
