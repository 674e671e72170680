import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A machine's cores as its scheduler shares them (processor sharing): with `n` jobs runnable on
/// `cores` cores each progresses at min(1, cores / n) of a core, so a long job is slowed by every
/// short one beside it instead of holding a core until it is done. The pure part of
/// `SharedCores`, tested without tasks; times are run-clock nanoseconds.
public struct ProcessorSharing: Sendable {
    public let cores: Int
    /// When `served` was last brought up to date.
    private var updated: Int64 = 0
    /// The work every job present since the start has received (ns of one core): a job of `w`
    /// that arrives at `served == s` is done when `served` reaches `s + w`.
    private var served: Double = 0
    /// Jobs by the `served` at which they are done, earliest first (ties by arrival).
    private var finishing: [(done: Double, id: UInt64)] = []
    /// Work done up to `updated`, in nanoseconds of one core.
    private var worked: Double = 0

    public init(cores: Int) {
        precondition(cores > 0, "a machine has at least one core")
        self.cores = cores
    }

    /// Jobs being served.
    public var running: Int { finishing.count }

    /// Each job's share of a core now.
    private var rate: Double { finishing.count <= cores ? 1 : Double(cores) / Double(finishing.count) }

    private mutating func advance(to now: Int64) {
        if now > updated, !finishing.isEmpty {
            served += Double(now - updated) * rate
            worked += Double(now - updated) * Double(min(finishing.count, cores))
        }
        updated = max(updated, now)
    }

    /// Work done by `now` (not before the last change), in nanoseconds of one core: the cores'
    /// busy time, for their utilisation.
    public func worked(by now: Int64) -> Double {
        worked + (now > updated ? Double(now - updated) * Double(min(finishing.count, cores)) : 0)
    }

    /// Job `id` needs `work` nanoseconds of a core from `now`.
    public mutating func add(_ id: UInt64, work: Int64, at now: Int64) {
        advance(to: now)
        let done = served + Double(max(0, work))
        let index = finishing.firstIndex { $0.done > done } ?? finishing.endIndex
        finishing.insert((done, id), at: index)
    }

    /// The jobs done by `now` (to a thousandth of a nanosecond, for floating-point rounding), in
    /// the order they finished.
    public mutating func takeDone(at now: Int64) -> [UInt64] {
        advance(to: now)
        let count = finishing.prefix { $0.done <= served + 0.001 }.count
        defer { finishing.removeFirst(count) }
        return finishing.prefix(count).map(\.id)
    }

    /// Every job, done or not (time has stopped: what was in service ends).
    public mutating func takeAll() -> [UInt64] {
        defer { finishing.removeAll() }
        return finishing.map(\.id)
    }

    /// When the next job is done if no other arrives: nil for none.
    public var nextDone: Int64? {
        finishing.first.map { updated + Int64((($0.done - served) / rate).rounded(.up)) }
    }
}

/// How busy a machine's cores have been lately: their busy share, exponentially averaged over
/// `window` (a share measured over a stretch of time weighs 1 − e^(−stretch / window)). The pure
/// part of `SharedCores.recentBusy()`; times are run-clock nanoseconds.
public struct RecentBusy: Sendable {
    public let window: Double
    private var last: (at: Int64, worked: Double)?
    public private(set) var share = 0.0

    public init(window: Duration) {
        self.window = Double(window.nanoseconds)
    }

    /// The average brought up to `now`, when the cores had done `worked` nanoseconds of work in all.
    public mutating func update(worked: Double, at now: Int64, cores: Int) -> Double {
        guard let last else {
            last = (now, worked)
            return share
        }
        guard now > last.at else { return share }
        let elapsed = Double(now - last.at)
        share += (1 - exp(-elapsed / window)) * ((worked - last.worked) / (elapsed * Double(cores)) - share)
        self.last = (now, worked)
        return share
    }
}

/// The machine's cores shared by the co-located servers' service times and the application's
/// own time, in a calibrated model: a job takes as long as its work at its share of a core.
/// Of each job only `cpuShare` is work on the cores; the rest is waiting that holds none (a
/// process's wake-up, the scheduler's latency), which a light probe's times hold and a loaded
/// machine's CPU does not. Waits are timed by `load` (in virtual time, on the task executor that
/// moves the time).
public final class SharedCores: Sendable {
    private struct State {
        var sharing: ProcessorSharing
        var nextID: UInt64 = 0
        var waiting: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Wake-ups already asked for, by due time; a stale one finds nothing done.
        var wakes: Set<Int64> = []
        var recent = RecentBusy(window: SharedCores.recentWindow)
    }

    /// How far back `recentBusy()` looks: about a second, as a thread's wait for a core follows
    /// how busy the machine is now rather than over the whole run.
    public static let recentWindow = Duration.seconds(1)

    private let state: Mutex<State>
    private let load: LoadClock
    private let cores: Int
    private let cpuShare: Double

    public init(cores: Int, cpuShare: Double = 1, load: LoadClock) {
        precondition(cpuShare > 0 && cpuShare <= 1, "a job's share of CPU is in (0, 1]")
        state = Mutex(State(sharing: ProcessorSharing(cores: cores)))
        self.load = load
        self.cores = cores
        self.cpuShare = cpuShare
    }

    /// What the cores had done by now, to measure their busy share from.
    public struct Reading: Sendable {
        let at: Int64
        let worked: Double
    }

    public func reading() -> Reading {
        let now = load.timeline.now()
        return Reading(at: now, worked: state.withLock { $0.sharing.worked(by: now) })
    }

    /// The share of the cores busy lately (`recentWindow`).
    public func recentBusy() -> Double {
        let now = load.timeline.now()
        return state.withLock { $0.recent.update(worked: $0.sharing.worked(by: now), at: now, cores: cores) }
    }

    /// The share of the cores busy since `start` (nil when no time has passed).
    public func busyFraction(since start: Reading) -> Double? {
        let end = reading()
        guard end.at > start.at else { return nil }
        return (end.worked - start.worked) / (Double(end.at - start.at) * Double(cores))
    }

    /// Returns when the job of `length` is done: its wait, then its CPU at its share of the cores.
    /// Not cut short by cancellation: a service in progress finishes.
    public func run(_ length: Duration) async {
        guard length > .zero else { return }
        let work = length * cpuShare
        if work < length { try? await load.sleep(for: length - work) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = load.timeline.now()
            let wake = state.withLock { s -> Int64? in
                s.nextID += 1
                s.sharing.add(s.nextID, work: work.nanoseconds, at: now)
                s.waiting[s.nextID] = continuation
                return Self.wakeNeeded(&s)
            }
            if let wake { schedule(wake, from: now) }
        }
    }

    /// The next job's due time, if no wake-up is asked for it yet.
    private static func wakeNeeded(_ s: inout State) -> Int64? {
        guard let due = s.sharing.nextDone, s.wakes.insert(due).inserted else { return nil }
        return due
    }

    private func schedule(_ due: Int64, from now: Int64) {
        Task(executorPreference: load.executor) { [self] in
            try? await load.sleep(for: .nanoseconds(due - now))
            wake(due)
        }
    }

    private func wake(_ due: Int64) {
        let now = load.timeline.now()
        let (done, next) = state.withLock { s -> ([CheckedContinuation<Void, Never>], Int64?) in
            s.wakes.remove(due)
            // A wait that ended before its time: the clock has stopped (a virtual run's end).
            let ids = now < due ? s.sharing.takeAll() : s.sharing.takeDone(at: now)
            return (ids.compactMap { s.waiting.removeValue(forKey: $0) }, Self.wakeNeeded(&s))
        }
        if let next { schedule(next, from: now) }
        for continuation in done { continuation.resume() }
    }
}
