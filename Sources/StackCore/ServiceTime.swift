import Synchronization
import StackModel

/// A delay drawn per call: how long a store takes beyond its own work.
public enum DelayDistribution: Sendable, Equatable {
    case fixed(Duration)
    case uniform(min: Duration, max: Duration)
    case exponential(mean: Duration)
    /// Log-normal with this mean and coefficient of variation (standard deviation / mean): a
    /// calibrated service time, less variable than exponential's CV of 1 where the server is.
    case lognormal(mean: Duration, cv: Double)
    /// A measured shape (a calibrated call's times) scaled to this mean.
    case empirical(mean: Duration, shape: QuantileShape)

    public var mean: Duration {
        switch self {
        case .fixed(let d): return d
        case .uniform(let lo, let hi): return (lo + hi) / 2
        case .exponential(let mean), .lognormal(let mean, _), .empirical(let mean, _): return mean
        }
    }

    public func sample(_ rng: inout SeededRandom) -> Duration {
        switch self {
        case .fixed(let d): return d
        case .uniform(let lo, let hi): return lo + (hi - lo) * rng.unit()
        case .exponential(let mean): return mean * -log(1 - rng.unit())
        case .lognormal(let mean, let cv):
            let variance = log1p(cv * cv)
            // Box–Muller: a standard normal from two uniforms.
            let normal = (-2 * log(1 - rng.unit())).squareRoot() * cos(2 * Double.pi * rng.unit())
            return mean * exp(normal * variance.squareRoot() - variance / 2)
        case .empirical(let mean, let shape): return mean * shape.value(at: rng.unit())
        }
    }
}

/// A distribution known by its quantile function at some probabilities (read from a histogram
/// of measured times), linear between them and scaled to a mean of 1: drawing from it by
/// inversion keeps the measured body and tail, and a mean can be put on it.
public struct QuantileShape: Sendable, Equatable {
    /// Increasing, from 0 to 1.
    public let probabilities: [Double]
    /// The quantile at each probability, over the mean: ≥ 0 and never decreasing.
    public let values: [Double]

    /// nil when the points make no distribution: fewer than two, probabilities not increasing
    /// from 0 to 1, values negative or decreasing, or all zero.
    public init?(probabilities: [Double], values: [Double]) {
        guard probabilities.count >= 2, values.count == probabilities.count, probabilities.first == 0, probabilities.last == 1,
              zip(probabilities, probabilities.dropFirst()).allSatisfy({ $0 < $1 }),
              let lowest = values.first, lowest >= 0, zip(values, values.dropFirst()).allSatisfy({ $0 <= $1 }) else { return nil }
        let mean = Self.integral(probabilities, values) { a, b in (a + b) / 2 }
        guard mean > 0 else { return nil }
        self.probabilities = probabilities
        self.values = values.map { $0 / mean }
    }

    /// The quantile at `u` in 0...1.
    public func value(at u: Double) -> Double {
        var upper = 1
        while upper < probabilities.count - 1 && probabilities[upper] < u { upper += 1 }
        let p0 = probabilities[upper - 1], p1 = probabilities[upper], v0 = values[upper - 1], v1 = values[upper]
        return v0 + (v1 - v0) * (min(max(u, p0), p1) - p0) / (p1 - p0)
    }

    /// Its coefficient of variation (its standard deviation, the mean being 1).
    public var cv: Double {
        let square = Self.integral(probabilities, values) { a, b in (a * a + a * b + b * b) / 3 }
        return max(0, square - 1).squareRoot()
    }

    /// ∫₀¹ f(Q(u)) du for the piecewise-linear Q, given each piece's mean of f from its ends.
    private static func integral(_ probabilities: [Double], _ values: [Double], piece: (Double, Double) -> Double) -> Double {
        (1..<probabilities.count).reduce(0) { sum, i in
            sum + (probabilities[i] - probabilities[i - 1]) * piece(values[i - 1], values[i])
        }
    }
}

/// A periodic pause: every `every`, the store stops serving for `duration` (a GC pause, a
/// checkpoint, a failover). A call arriving inside the pause waits for it to end.
public struct Stall: Sendable, Equatable {
    public var every: Duration
    public var duration: Duration

    public init(every: Duration, duration: Duration) {
        self.every = every
        self.duration = duration
    }

    /// How long a call starting `elapsed` after the store came up waits for the current pause.
    public func waitAt(_ elapsed: Duration) -> Duration {
        let period = every.nanoseconds, into = elapsed.nanoseconds % period
        return into < duration.nanoseconds ? .nanoseconds(duration.nanoseconds - into) : .zero
    }
}

/// A store down for a while: from `at` after the load started, for `duration`, every call
/// fails at once as `unavailable` — the fast failure of a refused connection.
public struct Outage: Sendable, Equatable {
    public var at: Duration
    public var duration: Duration

    public init(at: Duration, duration: Duration) {
        self.at = at
        self.duration = duration
    }

    public func contains(_ elapsed: Duration) -> Bool { elapsed >= at && elapsed < at + duration }
}

/// Waits out a delay: the embedded stores' service times and stalls go through one.
public protocol Sleeper: Sendable {
    func sleep(for duration: Duration) async throws
}

/// The concurrency runtime's timer.
public struct TaskSleeper: Sleeper {
    public init() {}
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// The run's load as the embedded stores see it: when it started, for knobs timed from it
/// (unset while the dataset loads), the time they measure by, what times their waits — the
/// runtime's timer until the run hands its own, so that a service time ends when due, not when
/// another thread wakes — and the executor their own tasks run on: the one the stack's work runs
/// on, so that starting one wakes no other thread (and, in virtual time, the one that moves the
/// time, so that it knows of every wait before it moves it).
public final class LoadClock: Sleeper {
    private struct State {
        var start: Int64?
        var sleeper: any Sleeper = TaskSleeper()
        var executor: (any TaskExecutor)?
    }

    private let state = Mutex(State())
    public let timeline: Timeline

    public init(timeline: Timeline = .wall) { self.timeline = timeline }

    /// The load starts now; its waits are timed by `sleeper` from here on, and the stores' own
    /// tasks run on `executor`.
    public func mark(sleeper: any Sleeper = TaskSleeper(), executor: (any TaskExecutor)? = nil) {
        let now = timeline.now()
        state.withLock { $0 = State(start: now, sleeper: sleeper, executor: executor) }
    }

    /// Time since the load started; nil before.
    public var elapsed: Duration? {
        let now = timeline.now()
        return state.withLock { $0.start.map { .nanoseconds(now - $0) } }
    }

    /// Where a task of the stores' own (a blocking pop's timeout, a shared core's wake-up) runs;
    /// nil (the pool) before the load starts.
    public var executor: (any TaskExecutor)? { state.withLock { $0.executor } }

    public func sleep(for duration: Duration) async throws {
        try await state.withLock { $0.sleeper }.sleep(for: duration)
    }
}

/// Behaviour injected into an embedded store, for the whole store or one call by name.
public struct StoreKnobs: Sendable, Equatable {
    /// Added service time per call (nil: none).
    public var latency: DelayDistribution?
    public var stall: Stall?
    public var outage: Outage?
    /// Fraction of calls that fail with an injected error, 0...1.
    public var errorRate: Double
    /// Service slots (a database's cores or connections, Redis's one thread): at most this many
    /// calls are served at once, the rest wait for a slot. On a call override, that call gets a
    /// station of its own. nil: no limit.
    public var servers: Int?
    /// Per-call overrides of `latency`, `errorRate` and `servers`, by call name (e.g. `board`, `get`).
    public var operations: [String: StoreKnobs]
    /// A round trip to the store that holds no service slot (a calibrated model's network time).
    public var network: Duration?
    /// Of each call's drawn latency, the share that is the caller's own work outside the store's
    /// slots (a calibrated model's decoding of a reply on the client's thread, which grows with the
    /// reply as the server's work does): done first, on the host's shared cores or waited where
    /// there are none; the rest is served in the slot. 0...1, on a call override.
    public var clientShare: Double
    /// Factors on the drawn latency of the store's calls inside an operation, by operation name,
    /// where they cost more or less than their mean (a calibrated model's per-operation measurement:
    /// the same query took less inside one operation than inside another, after other calls).
    public var scaleByOperation: [String: Double]

    public init(latency: DelayDistribution? = nil, stall: Stall? = nil, outage: Outage? = nil, errorRate: Double = 0,
                servers: Int? = nil, operations: [String: StoreKnobs] = [:], network: Duration? = nil, clientShare: Double = 0,
                scaleByOperation: [String: Double] = [:]) {
        self.latency = latency; self.stall = stall; self.outage = outage; self.errorRate = errorRate; self.servers = servers
        self.operations = operations; self.network = network; self.clientShare = clientShare; self.scaleByOperation = scaleByOperation
    }

    public static let none = StoreKnobs()
}

/// The application's own time per request besides its store calls, in a calibrated model: its
/// mean per operation where the calibration saw it (a permission check does less between its
/// calls than a board), else the mean over every request. Of that mean, the harness's overhead
/// (dispatch to first call: a tight body and a long tail, a thread now and then waiting for a
/// busy core) is drawn as measured where the calibration measured it — from between the loads it
/// was measured at, by how busy the machine's cores are — and the rest is the same every time.
public struct AppTime: Sendable, Equatable {
    /// The overhead as measured at one busy share of the machine's cores (nil: not known).
    public struct Overhead: Sendable, Equatable {
        public var hostBusy: Double?
        public var distribution: DelayDistribution

        public init(hostBusy: Double?, distribution: DelayDistribution) {
            self.hostBusy = hostBusy
            self.distribution = distribution
        }
    }

    public var perRequest: Duration
    public var byOperation: [String: Duration]
    /// By busy share, least busy first; the first is the one the means were calibrated with.
    public let overheads: [Overhead]

    public init(perRequest: Duration, byOperation: [String: Duration] = [:], overheads: [Overhead] = []) {
        self.perRequest = perRequest
        self.byOperation = byOperation
        self.overheads = overheads.sorted { ($0.hostBusy ?? 0) < ($1.hostBusy ?? 0) }
    }

    public func mean(for operation: String) -> Duration { byOperation[operation] ?? perRequest }

    /// The overhead depends on how busy the machine is (it was measured at more than one load):
    /// only then does a draw need the busy share.
    public var followsLoad: Bool { overheads.count > 1 }

    /// One request's time: `work` on the host's cores, then `waiting` beside them.
    public struct Draw: Sendable, Equatable {
        public var work: Duration
        public var waiting: Duration
        public var total: Duration { work + waiting }

        public init(work: Duration, waiting: Duration) {
            self.work = work
            self.waiting = waiting
        }
    }

    /// One request's time when the machine's cores are `busy` (nil: not known, the least busy
    /// overhead), its overhead drawn from `rng`: between two measured loads, from the busier one
    /// with a chance in proportion to how far `busy` is towards it on the scale a wait for a core
    /// grows by (`queueGrowth`); beyond them, the nearest.
    /// An operation whose mean is below the overhead's takes the overhead alone. What a busier
    /// overhead adds to the least busy one's mean is waiting (for a core), not work: the work per
    /// request stays the calibrated one at any load.
    public func time(for operation: String, busy: Double?, _ rng: inout SeededRandom) -> Draw {
        let mean = mean(for: operation)
        guard let least = overheads.first else { return Draw(work: mean, waiting: .zero) }
        var overhead = least
        if let busy { overhead = measured(at: busy, &rng) }
        let rest = max(.zero, mean - least.distribution.mean), drawn = overhead.distribution.sample(&rng)
        let workShare = min(1, least.distribution.mean / max(overhead.distribution.mean, .nanoseconds(1)))
        return Draw(work: rest + drawn * workShare, waiting: drawn - drawn * workShare)
    }

    /// The measured overhead to draw from at `busy` (`overheads` not empty).
    private func measured(at busy: Double, _ rng: inout SeededRandom) -> Overhead {
        guard let upper = overheads.firstIndex(where: { ($0.hostBusy ?? 0) > busy }) else { return overheads[overheads.count - 1] }
        guard upper > 0 else { return overheads[0] }
        let below = overheads[upper - 1], above = overheads[upper]
        let low = Self.queueGrowth(below.hostBusy ?? 0), span = Self.queueGrowth(above.hostBusy ?? 0) - low
        return span > 0 && rng.unit() < (Self.queueGrowth(busy) - low) / span ? above : below
    }

    /// How a wait for a core grows with the cores' busy share ρ: as ρ / (1 − ρ), an M/M/1
    /// queue's mean wait in service times. The overhead measured live follows it between the
    /// probes (at 38–40 % busy, between probes at 10–12 % and 62–75 %: 0.16–0.18 ms measured,
    /// 0.15–0.20 by this scale, 0.22–0.27 by a straight line; docs/capacity.md).
    static func queueGrowth(_ busy: Double) -> Double {
        let rho = min(max(busy, 0), 0.999)
        return rho / (1 - rho)
    }
}

/// One store call made inside an action, as the per-store breakdown reports it.
public struct StoreCall: Sendable {
    public var store: StoreKind
    public var operation: String
    public var duration: Duration
    public var failed: Bool
}

/// Collects the store calls an action makes; the action runner binds one per action.
public final class StoreCallTrace: Sendable {
    @TaskLocal public static var current: StoreCallTrace?
    /// The calls so far, when the first began, and the time they spent waiting (for a
    /// connection, for a slot) in nanoseconds: what a call that began earlier leaves out.
    private let calls: Mutex<(started: Int64?, calls: [StoreCall], waited: Int64)>
    /// The time the calls are measured by.
    public let timeline: Timeline
    /// The operation the action serves (`board`): a calibrated model's calls cost what they cost in it.
    public let operation: String

    public init(operation: String = "", timeline: Timeline = .wall) {
        self.operation = operation
        self.timeline = timeline
        // Room for a request's usual calls (session, rate limit, permission, its own work) in
        // one allocation, instead of one per doubling as they are appended.
        var calls: [StoreCall] = []
        calls.reserveCapacity(Self.usualCalls)
        self.calls = Mutex((nil, calls, 0))
    }

    private static let usualCalls = 8

    public var recorded: [StoreCall] { calls.withLock { $0.calls } }

    /// When the first call to a store began (its wait for a connection or slot included): the
    /// end of what the harness itself spent on the request.
    /// On `timeline`.
    public var firstCallStarted: Int64? { calls.withLock { $0.started } }

    /// The operation name of the time spent waiting for a pooled connection.
    public static let connectionWait = "connection-wait"
    /// The operation name of the time spent waiting for an embedded store's service slot.
    public static let slotWait = "slot-wait"

    /// Whether an operation name is a wait in front of a store rather than a call to it.
    public static func isWait(_ operation: String) -> Bool { operation == connectionWait || operation == slotWait }

    /// Times `body` as one call to `store` and records it in the current trace, if any. A wait
    /// for a connection or a slot inside `body` is recorded on its own and left out of the call's time.
    public static func measure<T>(_ store: StoreKind, _ operation: String,
                                  _ body: () async throws -> T) async throws -> T {
        try await timed(store, operation, body).result
    }

    /// `measure`, handing `took` the call's whole time, waits inside included, whether it
    /// succeeded or failed: a live adapter's own count of what it sent, on the same clock reads.
    public static func measure<T>(_ store: StoreKind, _ operation: String, took: (Duration) -> Void,
                                  _ body: () async throws -> T) async throws -> T {
        try await timed(store, operation, took: took, body).result
    }

    /// `measure`, also giving the call's whole time, waits inside included; `waitsInside` as for
    /// `StoreCallSpan`.
    static func timed<T>(_ store: StoreKind, _ operation: String, waitsInside counting: Bool = true,
                         took: (Duration) -> Void = { _ in }, _ body: () async throws -> T) async throws -> (result: T, elapsed: Duration) {
        let span = StoreCallSpan(store, operation, waitsInside: counting)
        do {
            let result = try await body()
            let elapsed = span.end(failed: false)
            took(elapsed)
            return (result, elapsed)
        } catch {
            took(span.end(failed: true))
            throw error
        }
    }

    /// Records a call timed elsewhere (e.g. on another thread) in the current trace, if any.
    public static func record(_ store: StoreKind, _ operation: String, duration: Duration, failed: Bool) {
        guard let trace = current else { return }
        trace.add(store, operation, started: trace.timeline.now() - duration.nanoseconds, duration: duration, failed: failed)
    }

    fileprivate var waited: Int64 { calls.withLock { $0.waited } }

    fileprivate func add(_ store: StoreKind, _ operation: String, started: Int64, duration: Duration, failed: Bool) {
        let wait = Self.isWait(operation)
        calls.withLock { trace in
            trace.started = min(trace.started ?? started, started)
            trace.calls.append(StoreCall(store: store, operation: operation, duration: duration, failed: failed))
            if wait { trace.waited += duration.nanoseconds }
        }
    }
}

/// One store call being timed, begun before the call and ended after it: `StoreCallTrace.measure`
/// without a closure. An awaited closure costs a hop back to the caller's executor when it
/// returns, so the live adapters' per-call path times its calls with spans.
public struct StoreCallSpan {
    private let trace: StoreCallTrace?
    private let timeline: Timeline
    private let store: StoreKind
    private let operation: String
    private let start: Int64
    /// The trace's waits when the call began; nil when the caller promises none inside.
    private let waitedBefore: Int64?

    /// Begins timing a call to `store`. With `waitsInside: false` the caller promises the call
    /// records no wait (a wait itself, an embedded store without service slots), and the
    /// bookkeeping for them is skipped. The waits inside are those the trace recorded while the
    /// call ran: a request's calls run one after another.
    public init(_ store: StoreKind, _ operation: String, waitsInside counting: Bool = true) {
        trace = StoreCallTrace.current
        timeline = trace?.timeline ?? .wall
        self.store = store
        self.operation = operation
        start = timeline.now()
        waitedBefore = counting ? trace?.waited : nil
    }

    /// Ends the call: records it in the trace, if any, less the waits recorded inside it, and
    /// returns its whole time, waits inside included.
    @discardableResult
    public func end(failed: Bool) -> Duration {
        let elapsed = Duration.nanoseconds(timeline.now() - start)
        guard let trace else { return elapsed }
        let waitsInside = waitedBefore.map { Duration.nanoseconds(trace.waited - $0) } ?? .zero
        trace.add(store, operation, started: start, duration: elapsed - waitsInside, failed: failed)
        return elapsed
    }
}

/// Applies a store's knobs to each call: fails it in an outage, waits for a service slot, waits
/// out a stall, adds latency, injects errors, then runs the store's own work — all inside the
/// call's measurement, the slot wait recorded apart as the store's queue time.
public final class StoreBehaviour: Sendable {
    let store: StoreKind
    let knobs: StoreKnobs
    /// The store's station (key "") and the stations of calls with their own `servers`.
    private let stations: [String: ServiceSlots]
    private let origin: Int64
    let load: LoadClock
    private let rng: Mutex<SeededRandom>
    /// The engine's account of its work, per query shape.
    public let evidence: EngineEvidence

    /// The machine's cores, when the store shares them with the others and the application (a
    /// calibrated model of co-located servers): its service times are work done at a share of them.
    private let host: SharedCores?

    public init(store: StoreKind, knobs: StoreKnobs, seed: UInt64, load: LoadClock = LoadClock(), host: SharedCores? = nil) {
        self.store = store
        self.knobs = knobs
        self.load = load
        self.host = host
        origin = load.timeline.now()
        self.rng = Mutex(SeededRandom(seed: seed))
        evidence = EngineEvidence(store: store)
        var stations: [String: ServiceSlots] = [:]
        if let servers = knobs.servers { stations[""] = ServiceSlots(count: servers) }
        for (call, specific) in knobs.operations { if let servers = specific.servers { stations[call] = ServiceSlots(count: servers) } }
        self.stations = stations
    }

    /// Serves a call whose engine work is accounted for: `work` reads through `path` on `on`,
    /// adding what it looks at to its argument; the result's size is what it returned.
    public func query<T>(_ operation: String, _ path: AccessPath, on: String, returned: (T) -> Int,
                         _ work: (inout Int) throws -> T) async throws -> T {
        var examined = 0, engine: Int64 = 0
        let (result, elapsed) = try await timedServe(operation) {
            let start = Timeline.monotonicNanoseconds()
            // The engine's own work in CPU time, whichever time the run measures by.
            defer { engine = Timeline.monotonicNanoseconds() - start }
            return try work(&examined)
        }
        evidence.record(operation, path, on: on, examined: examined, returned: returned(result), serverNanos: engine,
                        clientNanos: elapsed.nanoseconds)
        return result
    }

    public func serve<T>(_ operation: String, _ work: () throws -> T) async throws -> T {
        try await timedServe(operation, work).result
    }

    private func timedServe<T>(_ operation: String, _ work: () throws -> T) async throws -> (result: T, elapsed: Duration) {
        try await StoreCallTrace.timed(store, operation, waitsInside: !stations.isEmpty || host != nil) {
            if let outage = knobs.outage, let elapsed = load.elapsed, outage.contains(elapsed) {
                throw StoreError(.unavailable, store: store, operation: operation, detail: "outage (stack.embedded knob)")
            }
            if let network = knobs.network { try await load.sleep(for: network) }
            let specific = knobs.operations.isEmpty ? nil : knobs.operations[operation]
            let latency = specific?.latency ?? knobs.latency
            let errorRate = specific?.errorRate ?? knobs.errorRate
            var drawn = Duration.zero
            let fails = latency == nil && errorRate == 0 ? false : rng.withLock { rng -> Bool in
                if let latency { drawn = latency.sample(&rng) }
                return errorRate > 0 && rng.unit() < errorRate
            }
            if !knobs.scaleByOperation.isEmpty, let scale = StoreCallTrace.current.flatMap({ knobs.scaleByOperation[$0.operation] }) {
                drawn = drawn * scale
            }
            let client = drawn * (specific?.clientShare ?? 0), service = drawn - client
            if client > .zero {
                if let host { await host.run(client) } else { try await load.sleep(for: client) }
            }
            let station = stations.isEmpty ? nil : stations[operation] ?? stations[""]
            if let station { try await acquire(station) }
            defer { station?.release() }
            let stall = knobs.stall?.waitAt(.nanoseconds(load.timeline.now() - origin)) ?? .zero
            if let host, service > .zero {
                if stall > .zero { try await load.sleep(for: stall) }
                await host.run(service)
            } else if stall + service > .zero {
                try await load.sleep(for: stall + service)
            }
            if fails { throw StoreError(.injected, store: store, operation: operation, detail: "injected failure") }
            return try work()
        }
    }

    /// Takes a slot of `station`, the wait recorded as the store's queue time.
    private func acquire(_ station: ServiceSlots) async throws {
        let asked = load.timeline.now()
        try await station.acquire()
        StoreCallTrace.record(store, StoreCallTrace.slotWait, duration: .nanoseconds(load.timeline.now() - asked), failed: false)
    }
}

extension Duration {
    /// Whole nanoseconds (saturating at Int64 range).
    public var nanoseconds: Int64 { Int64(clamping: attoseconds / 1_000_000_000) }

    public var seconds: Double { Double(nanoseconds) / 1e9 }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
