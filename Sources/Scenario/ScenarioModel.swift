import Foundation

/// The scenario as stacksim runs it. YAML files and the Swift API both produce this model;
/// every default is declared here, next to the field it belongs to.
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var description: String = ""
    /// Seeds the dataset, the arrival schedule and every choice an actor makes.
    public var seed: UInt64 = 42
    /// The file it was read from, when it came from one.
    public var file: String?
    public var dataset = DatasetSettings()
    public var stack = StackSettings()
    public var load = LoadSettings()
    public var thresholds: [Threshold] = []
    /// How long the recorded load runs before `abort_on_fail` thresholds may stop it.
    public var abortAfter: Duration = .seconds(10)
    /// How `stacksim capacity` searches this scenario's capacity.
    public var capacity = CapacitySettings()
    /// The time the run measures and waits by.
    public var clock = ClockKind.wall

    public init(name: String) { self.name = name }

    /// The scenario without where it was written (file, threshold locations): what it says, for
    /// comparing a file with a Swift scenario or a scenario with itself written and read back.
    public var withoutOrigins: Scenario {
        var s = self
        s.file = nil
        for i in s.thresholds.indices { s.thresholds[i].location = "" }
        for i in s.capacity.slo.indices { s.capacity.slo[i].location = "" }
        return s
    }
}

/// What a run's time is.
public enum ClockKind: String, Sendable, CaseIterable {
    /// The machine's clock: the run lasts its phases' durations, and the harness's own work
    /// (and a live stack's) is in every latency.
    case wall
    /// Simulated time (embedded stack only): arrivals, think times, the stores' service times and
    /// queues, TTLs, sprints and sync workers advance on it; the run takes as long as its work, the
    /// same scenario and seed give the same result on any machine, and only modelled service
    /// times (`stack.embedded` latencies) take time.
    case virtual
}

/// A size drawn per organization or per user.
public enum SizeSpec: Sendable, Equatable {
    case constant(Int)
    case uniform(min: Int, max: Int)
    case zipf(min: Int, max: Int, s: Double)

    /// The skew of a zipf size written without `s`.
    public static let defaultZipfSkew = 1.1
}

/// A time drawn per call or per think.
public enum DelaySpec: Sendable, Equatable {
    case fixed(Duration)
    case uniform(min: Duration, max: Duration)
    case exponential(mean: Duration)

    /// The mean of the distribution.
    public var mean: Duration {
        switch self {
        case .fixed(let d): return d
        case .uniform(let lo, let hi): return (lo + hi) / 2
        case .exponential(let m): return m
        }
    }
}

public struct DatasetSettings: Sendable, Equatable {
    public var organizations = 20
    /// Organization sizes are skewed: many small teams, a few large ones.
    public var usersPerOrganization = SizeSpec.zipf(min: 3, max: 200, s: 1.1)
    public var tasksPerUser = SizeSpec.constant(20)
    public var sprintsPerOrganization = 6

    public init() {}
}

public struct StackSettings: Sendable, Equatable {
    /// Read-through cache TTLs (seed 000).
    public var taskStatsTTL: Duration = .seconds(300)
    public var dashboardTTL: Duration = .seconds(600)
    /// `per-task` (one update per task, as the seed) or `update-many`.
    public var syncStrategy = "per-task"
    /// Snapshot-sync worker actors draining the job queue.
    public var syncWorkers = 2
    /// Batch sync upserts this many snapshots per bulk write (seed 000).
    public var batchSize = 100
    /// Each store's connection pool on a live target (seed 002).
    public var pool = PoolSpec()
    /// Requests the simulated application serves at once (its worker threads); the rest queue,
    /// and that queueing is part of latency from intended start, not of service time.
    public var appWorkers = 16
    /// Requests one user may make per minute before being refused (seed 003).
    public var rateLimitPerMinute = 600
    /// Session lifetime (seed 003: 7 days).
    public var sessionTTL: Duration = .seconds(7 * 86_400)
    /// How long a sprint stays active during a run before its actor closes it.
    public var sprintLength: Duration = .seconds(30)
    /// Service-time and failure knobs of the embedded stores, by store (`postgres`, `mongo`, `redis`).
    public var embedded: [String: StoreKnobSpec] = [:]

    public init() {}
}

/// A live store's connection pool (seed 002: at most 20, 10 s to connect, 30 s idle).
public struct PoolSpec: Sendable, Equatable {
    public var max = 20
    public var connectTimeout: Duration = .seconds(10)
    public var idleTimeout: Duration = .seconds(30)
    /// How long a caller waits for a free connection before `pool_timeout`.
    public var waitTimeout: Duration = .seconds(5)
    /// How long one store call may take before `timeout`; also bounds the end of a run.
    public var callTimeout: Duration = .seconds(5)

    public init() {}
}

public struct StoreKnobSpec: Sendable, Equatable {
    public var latency: DelaySpec?
    public var stallEvery: Duration?
    public var stallFor: Duration?
    /// Every call fails at once from `outageAt` after the load started, for `outageFor`.
    public var outageAt: Duration?
    public var outageFor: Duration?
    /// Fraction of calls that fail, 0...1.
    public var errorRate: Double?
    /// Service slots: calls served at once; the rest wait for a slot (reported as queue time).
    /// On a call override, that call has a station of its own. nil: no limit.
    public var servers: Int?
    /// Overrides by store call name (e.g. `board`, `get`, `permission-check`).
    public var operations: [String: StoreKnobSpec] = [:]

    public init() {}
}

public enum LoadModel: String, Sendable, Equatable, CaseIterable {
    /// Arrivals at a rate, whether or not earlier requests finished.
    case open
    /// A fixed number of users, each waiting for its reply and thinking before the next request.
    case closed
}

public enum ArrivalProcess: String, Sendable, Equatable, CaseIterable {
    case poisson, uniform
}

/// How the arrival rate moves through a phase (open model), in arrivals per second.
public enum RateShape: Sendable, Equatable {
    case constant(Double)
    /// Linear from `from` to `to` over the phase.
    case ramp(from: Double, to: Double)
    /// Equal-length steps through the listed rates.
    case steps([Double])
    /// `baseline`, except `peak` for `duration` starting `at` into the phase.
    case spike(baseline: Double, peak: Double, at: Duration, duration: Duration)
    /// `mean + amplitude · sin(2πt / period)`.
    case sine(mean: Double, amplitude: Double, period: Duration)
    /// A shape written in Swift.
    case custom(CustomRate)

    /// The rate `t` seconds into a phase of `length` seconds.
    public func rate(at t: Double, length: Double) -> Double {
        switch self {
        case .constant(let r): return r
        case .ramp(let a, let b): return length > 0 ? a + (b - a) * min(max(t / length, 0), 1) : a
        case .steps(let rates):
            let index = length > 0 ? Int(t / length * Double(rates.count)) : 0
            return rates[min(max(index, 0), rates.count - 1)]
        case .spike(let baseline, let peak, let at, let duration):
            return t >= at.seconds && t < (at + duration).seconds ? peak : baseline
        case .sine(let mean, let amplitude, let period):
            return mean + amplitude * sin(2 * .pi * t / period.seconds)
        case .custom(let shape): return shape.rate(t, length)
        }
    }

    /// The mean rate over a phase of `length` seconds.
    public func mean(length: Double) -> Double {
        switch self {
        case .constant(let r): return r
        case .ramp(let a, let b): return (a + b) / 2
        case .steps(let rates): return rates.reduce(0, +) / Double(rates.count)
        case .spike(let baseline, let peak, let at, let duration):
            guard length > 0 else { return baseline }
            let inside = max(0, min(length, (at + duration).seconds) - at.seconds)
            return baseline + (peak - baseline) * inside / length
        case .sine(let mean, let amplitude, let period):
            guard length > 0 else { return mean }
            let w = 2 * Double.pi / period.seconds
            return mean + amplitude * (1 - cos(w * length)) / (w * length)
        case .custom(let shape):
            let samples = 1000
            return (0..<samples).reduce(0) { $0 + shape.rate((Double($1) + 0.5) * length / Double(samples), length) } / Double(samples)
        }
    }

    /// A short description for reports: `ramp 100/s→800/s`.
    public var summary: String {
        func r(_ v: Double) -> String { v == v.rounded() ? "\(Int(v))/s" : String(format: "%.1f/s", v) }
        switch self {
        case .constant(let v): return r(v)
        case .ramp(let a, let b): return "ramp \(r(a))→\(r(b))"
        case .steps(let rates): return "steps " + rates.map(r).joined(separator: ",")
        case .spike(let b, let p, let at, let d): return "spike \(r(b)), \(r(p)) at \(at.seconds)s for \(d.seconds)s"
        case .sine(let m, let a, let period): return "sine \(r(m))±\(r(a)) every \(period.seconds)s"
        case .custom(let shape): return "custom \(shape.name)"
        }
    }
}

/// An arrival-rate shape written in Swift: arrivals per second `t` seconds into a phase of
/// `length` seconds. Two shapes are equal when their names are.
public struct CustomRate: Sendable, Equatable {
    public let name: String
    public let rate: @Sendable (_ t: Double, _ length: Double) -> Double

    public init(_ name: String, rate: @escaping @Sendable (_ t: Double, _ length: Double) -> Double) {
        self.name = name
        self.rate = rate
    }

    public static func == (a: CustomRate, b: CustomRate) -> Bool { a.name == b.name }
}

/// How many users are active through a phase (closed model).
public enum UserShape: Sendable, Equatable {
    case constant(Int)
    case ramp(from: Int, to: Int)

    public func users(at t: Double, length: Double) -> Int {
        switch self {
        case .constant(let n): return n
        case .ramp(let a, let b):
            guard length > 0 else { return a }
            return a + Int((Double(b - a) * min(max(t / length, 0), 1)).rounded(.down))
        }
    }

    public var maximum: Int {
        switch self {
        case .constant(let n): return n
        case .ramp(let a, let b): return max(a, b)
        }
    }
}

public struct Phase: Sendable, Equatable {
    public var name: String
    public var duration: Duration
    /// Open model: the arrival rate through the phase.
    public var rate: RateShape?
    /// Closed model: the active users through the phase.
    public var users: UserShape?
    /// False for warm-up: run but not counted in the totals.
    public var record = true
    /// This phase's operation weights; nil uses the load's mix.
    public var mix: [MixEntry]?

    public init(name: String, duration: Duration, rate: RateShape? = nil, users: UserShape? = nil, record: Bool = true,
                mix: [MixEntry]? = nil) {
        self.name = name; self.duration = duration; self.rate = rate; self.users = users; self.record = record; self.mix = mix
    }
}

public struct LoadSettings: Sendable, Equatable {
    public var model = LoadModel.open
    public var arrivals = ArrivalProcess.poisson
    /// Closed model: the pause between a user's requests.
    public var thinkTime = DelaySpec.exponential(mean: .seconds(1))
    /// Which user an arrival belongs to: one of `UserChoice.all`.
    public var userChoice = "uniform"
    public var phases: [Phase] = [Phase(name: "steady", duration: .seconds(60), rate: .constant(200))]
    /// Operation weights, in file order.
    public var mix: [MixEntry] = Operations.builtIn.map { MixEntry(operation: $0, weight: 1) }
    /// An arrival dispatched later than this after its intended time counts as schedule lag.
    public var scheduleTolerance: Duration = .milliseconds(10)
    /// A run with more late arrivals than this fraction is invalid: its latencies would describe
    /// the harness, not the stack.
    public var maxLateFraction = 0.01
    /// A cap on the instantaneous arrival rate of every phase (open model); nil: none.
    public var maxRate: Double?
    /// After the last phase, requests still queued get this long to start (none after a stop);
    /// the rest are recorded as `abandoned` errors, so a run against a target that cannot keep up
    /// still ends.
    public var gracefulStop: Duration = .seconds(30)
    /// Open model: requests sent and not yet finished at most; an arrival beyond is dropped and
    /// counted. nil: what this machine's memory holds (`ScenarioLimits.maxOutstanding`).
    public var maxOutstanding: Int?

    public init() {}

    /// The phases of a closed-model load that declares none.
    public static let defaultClosedPhases = [Phase(name: "steady", duration: .seconds(60), users: .constant(10))]

    public var totalDuration: Duration { phases.reduce(.zero) { $0 + $1.duration } }
}

/// How an arrival picks its user: everyone equally, skewed (zipf), the newest users (latest),
/// or a hot tenth of users getting most requests (hotspot).
public enum UserChoice {
    public static let all = ["uniform", "zipf", "latest", "hotspot"]
}

public struct MixEntry: Sendable, Equatable {
    public var operation: String
    public var weight: Double

    public init(operation: String, weight: Double) {
        self.operation = operation
        self.weight = weight
    }
}

/// A pass/fail bound on the run's results.
public struct Threshold: Sendable, Equatable {
    /// An operation name, `all` (every operation), `snapshot-lag`, `errors` (whole run) or
    /// `cache-hit-ratio` (per family).
    public var target: String
    /// `p50`, `p90`, `p99`, `p999`, `max` (milliseconds, upper bounds), `rate` (error fraction,
    /// upper bound), `throughput` (requests per second, a floor) or a cache family (ratio, a floor).
    public var metric: String
    public var limit: Double
    /// Stop the run as soon as this threshold fails on the running totals (after `abort_after`).
    public var abortOnFail = false
    /// Latency percentiles of successful and failed requests together; by default successful
    /// requests only, so fast failures cannot make a slow operation pass.
    public var includeFailed = false
    /// Where it was declared, for messages.
    public var location: String

    public init(target: String, metric: String, limit: Double, abortOnFail: Bool = false, includeFailed: Bool = false,
                location: String) {
        self.target = target; self.metric = metric; self.limit = limit; self.abortOnFail = abortOnFail
        self.includeFailed = includeFailed; self.location = location
    }

    /// The latency metrics a threshold may bound, in milliseconds.
    public static let percentiles = ["p50", "p90", "p99", "p999", "max"]

    /// Floors must be reached; every other limit must not be exceeded.
    public var isFloor: Bool { Self.isFloor(target: target, metric: metric) }

    /// Whether a bound on `metric` of `target` is a floor: throughput and cache hit ratios.
    public static func isFloor(target: String, metric: String) -> Bool { metric == "throughput" || target == "cache-hit-ratio" }

    /// Whether a measured value passes; no value (no data) never passes.
    public func passes(_ actual: Double?) -> Bool {
        guard let actual else { return false }
        return isFloor ? actual >= limit : actual <= limit
    }
}

extension Threshold {
    /// The value this threshold bounds for one operation: its error fraction, its goodput, or a
    /// latency percentile — of successful requests, or of all with `includeFailed` — that
    /// `latency(includeFailed)` reads. nil when the operation has no data for it.
    public func operationValue(count: Int, errors: Int, goodput: Double, latency: (_ includeFailed: Bool) -> Double?) -> Double? {
        guard count > 0 else { return nil }
        switch metric {
        case "rate": return Double(errors) / Double(count)
        case "throughput": return goodput
        default: return includeFailed || count > errors ? latency(includeFailed) : nil
        }
    }
}

/// One threshold judged for one target (an `all` threshold is judged once per operation).
public struct ThresholdVerdict: Sendable, Equatable {
    public var threshold: Threshold
    public var target: String
    public var actual: Double?
    public var passed: Bool
}

extension Threshold {
    /// Judges thresholds against any source of results: `value(target, threshold)` answers for
    /// an operation name, `errors`, `snapshot-lag` or `cache-hit-ratio`, nil when there is no data.
    public static func judge(_ thresholds: [Threshold], operations: [String],
                             value: (_ target: String, _ threshold: Threshold) -> Double?) -> [ThresholdVerdict] {
        thresholds.flatMap { t -> [ThresholdVerdict] in
            let targets = t.target == "all" ? operations : [t.target]
            return targets.map { target in
                let actual = value(target, t)
                return ThresholdVerdict(threshold: t, target: target, actual: actual, passed: t.passes(actual))
            }
        }
    }
}

/// The operations stacksim knows, in the order reports list them (DESIGN.md §1).
public enum Operations {
    public static let builtIn = [
        "board", "my-tasks", "my-active", "due-soon", "search", "task-stats", "dashboard", "sprint-board",
        "sprint-metrics", "create-task", "update-status", "log-time", "update-profile", "permission-check", "members",
    ]

    /// The calls each embedded store serves, by the names `stack.embedded.<store>.operations`
    /// overrides take (what reports list under each store).
    public static let storeCalls: KeyValuePairs<String, [String]> = [
        "postgres": ["audit", "load", "members", "organization-ids", "permission-check", "ping", "update-profile", "user",
                     "users-page"],
        "mongo": ["board", "bulk-upsert-snapshots", "count-missing-snapshots", "count-stale-snapshots", "due-soon",
                  "insert-activity", "insert-task", "load", "log-time", "move-task", "my-active", "my-tasks", "ping",
                  "recent-activity", "save-sprint", "search", "set-snapshot", "set-snapshots", "snapshots", "sprint",
                  "sprint-tasks", "task", "task-counts", "task-ids-assignee", "task-ids-reviewer", "task-stats", "tasks",
                  "update-status", "upsert-snapshot"],
        "redis": ["brpop", "del", "get", "incr", "llen", "lpush", "ping", "set", "set-many", "ttl"],
    ]

    /// The read-through cache families whose hit ratio a threshold may bound.
    public static let cacheFamilies = ["task_stats", "dashboard"]
}
