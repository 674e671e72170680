import CEpoll
import Foundation
import StackCore
import Synchronization

/// One thread waiting on epoll for every nonblocking connection (libpq, hiredis). Connection
/// code runs on this thread only — submitted with `execute`, called back on readiness — so the C
/// handles need no locks and no blocking call ever reaches Swift's cooperative pool.
///
/// It is also a task executor: a task that prefers it runs on this thread, so its store calls
/// are written and their replies resume it without waking another thread — a call costs what
/// it costs a C client (write, `epoll_wait`, read), not two thread hand-offs.
public final class Reactor: TaskExecutor, Sendable {
    public static let shared = Reactor()

    private enum Job {
        case work(@Sendable () -> Void)
        case task(UnownedJob)
    }

    private let epoll: Int32
    private let wake: Int32
    private let jobs = Mutex<[Job]>([])
    private let loop: ReactorLoop
    /// The reactor thread's `pthread_self()`, once it runs.
    private let threadID = Atomic<UInt>(0)

    init() {
        // Without its epoll instance and wake-up descriptor no live store can work at all.
        epoll = SystemCall.must("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        wake = SystemCall.must("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
        loop = ReactorLoop(epoll: epoll)
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wake))
        _ = SystemCall.must("epoll_ctl") { epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event) }
        NamedThread.start("stacksim-io") { [self] in run() }
    }

    /// Runs `job` on the reactor thread (after the current batch, when called from it).
    public func execute(_ job: @escaping @Sendable () -> Void) { submit(.work(job)) }

    public func enqueue(_ job: consuming ExecutorJob) { submit(.task(UnownedJob(job))) }

    /// Whether the caller runs on the reactor thread (a task that prefers it): a call's own work
    /// is then done at once, with no job, closure or queueing.
    public var runsHere: Bool { threadID.load(ordering: .relaxed) == pthread_self() }

    private func submit(_ job: Job) {
        // One wake-up per batch: the reactor takes every queued job when it wakes. From the
        // reactor thread itself none is needed: it drains the queue before it waits again.
        let first = jobs.withLock { queue in
            queue.append(job)
            return queue.count == 1
        }
        guard first, !runsHere else { return }
        var one: UInt64 = 1
        // EAGAIN: the counter is saturated, so the reactor is already due to wake.
        _ = SystemCall.retrying("write(eventfd)", allowing: [EAGAIN]) { write(wake, &one, 8) }
    }

    /// The reactor thread's own state; use only from a job or a handler.
    public var thread: ReactorLoop { loop }

    private func run() {
        threadID.store(pthread_self(), ordering: .relaxed)
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        var batch: [Job] = []
        while true {
            let idle = jobs.withLock { $0.isEmpty }
            let ready = SystemCall.retrying("epoll_wait") {
                epoll_wait(epoll, &events, Int32(events.count), idle ? loop.timeoutMilliseconds() : 0)
            }
            for event in events.prefix(max(0, Int(ready))) {
                if event.data.fd == wake {
                    var count: UInt64 = 0
                    _ = SystemCall.retrying("read(eventfd)", allowing: [EAGAIN]) { read(wake, &count, 8) }
                } else {
                    loop.dispatch(fd: event.data.fd, events: event.events)
                }
            }
            // Replies just read resumed their tasks: run them, and what they submit, until none is left.
            while true {
                jobs.withLock { swap(&$0, &batch) }
                if batch.isEmpty { break }
                for job in batch {
                    switch job {
                    case .work(let work): work()
                    case .task(let task): task.runSynchronously(on: asUnownedTaskExecutor())
                    }
                }
                batch.removeAll(keepingCapacity: true)
            }
            loop.runSoon()
            loop.fireTimers()
        }
    }
}

/// Work to run once the reactor's current batch of jobs is done. An object rather than a closure:
/// a connection passes itself, with no closure allocated per call and none kept by weak reference.
public protocol AfterJobs: AnyObject {
    func afterJobs()
}

/// Readiness handlers and timers, touched only on the reactor thread.
public final class ReactorLoop: @unchecked Sendable {
    public typealias Handler = (_ readable: Bool, _ writable: Bool) -> Void
    private let epoll: Int32
    private var handlers: [Int32: Handler] = [:]
    private var writing: Set<Int32> = []
    private var soon: [any AfterJobs] = []
    /// The jobs `runSoon` is running, kept to reuse its storage.
    private var running: [any AfterJobs] = []
    private var timers = ReactorTimers()
    /// The timer whose job is running: cancelling it from inside (a deadline failing its call) is a no-op.
    private var firing: ReactorTimer?

    init(epoll: Int32) { self.epoll = epoll }

    /// Watches `fd` for readability and, when `write`, writability; replaces an earlier watch.
    public func watch(_ fd: Int32, write: Bool, handler: @escaping Handler) throws {
        let known = handlers[fd] != nil
        try control(known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, write: write)
        handlers[fd] = handler
        if write { writing.insert(fd) } else { writing.remove(fd) }
    }

    /// Turns writability interest on or off for a watched `fd`; a system call only on a change.
    public func interest(_ fd: Int32, write: Bool) throws {
        guard handlers[fd] != nil, writing.contains(fd) != write else { return }
        try control(EPOLL_CTL_MOD, fd, write: write)
        if write { writing.insert(fd) } else { writing.remove(fd) }
    }

    /// Stops watching an `fd` that is still open.
    public func unwatch(_ fd: Int32) {
        guard handlers.removeValue(forKey: fd) != nil else { return }
        writing.remove(fd)
        // ENOENT/EBADF: the descriptor is already gone from the epoll set; nothing is left to undo.
        try? control(EPOLL_CTL_DEL, fd, write: false)
    }

    /// Forgets an `fd` its library has already closed: closing removed it from the epoll set, and
    /// its number may by now belong to someone else, so no system call names it.
    public func forget(_ fd: Int32) {
        handlers.removeValue(forKey: fd)
        writing.remove(fd)
    }

    private func control(_ operation: Int32, _ fd: Int32, write: Bool) throws {
        var event = epoll_event(events: EPOLLIN.rawValue | (write ? EPOLLOUT.rawValue : 0), data: epoll_data_t(fd: fd))
        try SystemCall.check("epoll_ctl") { epoll_ctl(epoll, operation, fd, &event) }
    }

    /// Runs `work`'s `afterJobs` once the current batch of jobs is done: a connection flushes the
    /// commands of the whole batch in one write instead of waiting for a writability event per
    /// command.
    public func afterJobs(_ work: any AfterJobs) { soon.append(work) }

    func runSoon() {
        while !soon.isEmpty {
            swap(&soon, &running)
            for work in running { work.afterJobs() }
            running.removeAll(keepingCapacity: true)
        }
    }

    /// Runs `job` on the reactor thread after `delay`, unless cancelled first.
    @discardableResult
    public func after(_ delay: Duration, _ job: @escaping () -> Void) -> ReactorTimer {
        timers.arm(after: delay, now: .now, job)
    }

    public func cancel(timer: ReactorTimer) {
        if timer != firing { timers.cancel(timer) }
    }

    func dispatch(fd: Int32, events: UInt32) {
        let failed = events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0
        handlers[fd]?(events & EPOLLIN.rawValue != 0 || failed, events & EPOLLOUT.rawValue != 0 || failed)
    }

    func timeoutMilliseconds() -> Int32 {
        guard let first = timers.nextDeadline else { return -1 }
        let wait = first - MonotonicClock.Instant.now
        return wait <= .zero ? 0 : Int32(min(wait / .milliseconds(1), 60_000).rounded(.up))
    }

    func fireTimers() {
        for timer in timers.due(at: .now) {
            firing = timer.timer
            timer.job()
        }
        firing = nil
    }
}
