import Synchronization

/// One finished operation, as the action runner hands it over.
public struct OperationSample: Sendable {
    public var operation: String
    /// From the intended start to the end: what the user felt (coordinated-omission-free).
    public var latencyNanos: Int64
    /// From the actual start to the end: what the system took once it got the request.
    public var serviceNanos: Int64
    /// nil on success, else the error class (`injected`, `timeout`, `rate_limited`, ...).
    public var errorClass: String?
    /// The error class of a request still queued when the graceful stop ran out.
    public static let abandoned = "abandoned"
    public var storeCalls: [StoreCallSample]
    /// The permission check refused the request (a 403: an answer, not a failure).
    public var denied: Bool
    /// Whether the operation's intended start fell in a recorded phase.
    public var recorded: Bool
    /// The phase its intended start fell in.
    public var phase: String
    /// The size class of the requester's organization (`small`, `medium`, `large`).
    public var tenantClass: String
    /// The harness's own time before the request's first store call (dispatch, task start,
    /// hand-offs), queueing behind the target left out; nil for a request that never reached a store.
    public var harnessNanos: Int64?

    public init(operation: String, latencyNanos: Int64, serviceNanos: Int64, errorClass: String?,
                storeCalls: [StoreCallSample], denied: Bool, recorded: Bool, phase: String = "", tenantClass: String = "",
                harnessNanos: Int64? = nil) {
        self.operation = operation; self.latencyNanos = latencyNanos; self.serviceNanos = serviceNanos
        self.errorClass = errorClass; self.storeCalls = storeCalls; self.denied = denied; self.recorded = recorded
        self.phase = phase; self.tenantClass = tenantClass; self.harnessNanos = harnessNanos
    }
}

/// A wait in front of a store, reported beside its calls as `<store>-<kind>`: for a pooled
/// connection (live) or a service slot (embedded, `servers`).
public enum StoreWait: String, Sendable, CaseIterable, Codable {
    case pool = "pool-wait"
    case slot = "slot-wait"

    public static func name(_ store: String, _ wait: StoreWait) -> String { "\(store)-\(wait.rawValue)" }

    /// The store and wait a breakdown name stands for; nil for a store's own calls.
    public static func parse(_ name: String) -> (store: String, wait: StoreWait)? {
        for wait in allCases where name.hasSuffix("-" + wait.rawValue) {
            return (String(name.dropLast(wait.rawValue.count + 1)), wait)
        }
        return nil
    }
}

public struct StoreCallSample: Sendable {
    public var store: String
    /// The store call's name (`board`, `get`, `permission-check`).
    public var call: String
    public var nanos: Int64
    public var failed: Bool

    public init(store: String, call: String = "", nanos: Int64, failed: Bool) {
        self.store = store; self.call = call; self.nanos = nanos; self.failed = failed
    }
}

/// Everything measured about one operation. Successful requests (a 403 is an answer, so
/// successful) and failed ones are kept apart: a failure that returns fast must not make the
/// latency look better, so `latency`, `service` and `queue` are of successful requests only.
public struct OperationStats: SampleStats, Sendable, Equatable {
    public var latency = LatencyHistogram()
    public var service = LatencyHistogram()
    /// Latency minus service time: how long requests waited before they started.
    public var queue = LatencyHistogram(.coarse)
    /// Latency of the failed requests, from their intended start to the failure.
    public var failedLatency = LatencyHistogram()
    /// Requests completed, successful or not.
    public var count = 0
    public var denied = 0
    public var errors: [String: Int] = [:]
    /// Store calls inside this operation, per store.
    public var storeCalls: [String: StoreCallStats] = [:]

    public init() {}

    public var errorCount: Int { errors.values.reduce(0, +) }
    public var succeeded: Int { count - errorCount }

    mutating func add(_ sample: OperationSample) {
        if let errorClass = sample.errorClass {
            failedLatency.record(nanoseconds: sample.latencyNanos)
            errors[errorClass, default: 0] += 1
        } else {
            latency.record(nanoseconds: sample.latencyNanos)
            service.record(nanoseconds: sample.serviceNanos)
            queue.record(nanoseconds: sample.latencyNanos - sample.serviceNanos)
        }
        count += 1
        if sample.denied { denied += 1 }
        for call in sample.storeCalls { storeCalls[call.store, default: StoreCallStats()].add(call) }
    }

    public mutating func merge(_ other: OperationStats) {
        latency.add(other.latency)
        service.add(other.service)
        queue.add(other.queue)
        failedLatency.add(other.failedLatency)
        count += other.count
        denied += other.denied
        errors.merge(other.errors, uniquingKeysWith: +)
        storeCalls.merge(other.storeCalls) { var a = $0; a.merge($1); return a }
    }
}

/// An operation within a group (a phase, a tenant size class).
public struct BreakdownKey: Hashable, Sendable {
    public var group: String
    public var operation: String

    public init(group: String, operation: String) {
        self.group = group
        self.operation = operation
    }
}

/// Count, errors and a 2-digit latency histogram of the successful requests: enough for time
/// series and breakdowns, light enough to roll every second.
public struct CoarseStats: SampleStats, Sendable, Equatable {
    public var latency = LatencyHistogram(.coarse)
    /// Requests completed, successful or not.
    public var count = 0
    public var errors = 0
    public var errorClasses: [String: Int] = [:]

    public init() {}

    public var succeeded: Int { count - errors }

    mutating func add(_ sample: OperationSample) {
        count += 1
        if let errorClass = sample.errorClass {
            errors += 1
            errorClasses[errorClass, default: 0] += 1
        } else {
            latency.record(nanoseconds: sample.latencyNanos)
        }
    }

    public mutating func merge(_ other: CoarseStats) {
        latency.add(other.latency)
        count += other.count
        errors += other.errors
        errorClasses.merge(other.errorClasses, uniquingKeysWith: +)
    }
}

public struct StoreCallStats: Sendable, Equatable {
    public var latency = LatencyHistogram(.coarse)
    public var calls = 0
    public var failures = 0
    /// Calls by store-call name, to set against the store's own time per kind of call.
    public var callsByName: [String: Int] = [:]

    mutating func add(_ call: StoreCallSample) {
        latency.record(nanoseconds: call.nanos)
        calls += 1
        callsByName[call.call, default: 0] += 1
        if call.failed { failures += 1 }
    }

    mutating func merge(_ other: StoreCallStats) {
        latency.add(other.latency)
        calls += other.calls
        failures += other.failures
        callsByName.merge(other.callsByName, uniquingKeysWith: +)
    }
}

/// Records samples into a fixed number of shards (each behind its own lock, so recorders on
/// different shards never contend) and merges them on demand. Nothing is sampled away: every
/// operation lands in a full HdrHistogram.
public final class Recorder: Sendable {
    private let shards: [Locked<Shard>]
    private let shared = Mutex(SharedCounters())

    struct Shard {
        var totals: [String: OperationStats] = [:]
        /// Per (phase, operation), warm-up included.
        var byPhase: [BreakdownKey: CoarseStats] = [:]
        /// Per (tenant size class, operation), recorded phases only.
        var byTenantClass: [BreakdownKey: CoarseStats] = [:]
        /// The interval being filled, recorded or not (warm-up is kept in time series).
        var interval: [String: CoarseStats] = [:]
        /// The harness's own overhead per request (`OperationSample.harnessNanos`), recorded phases only.
        var harnessOverhead = LatencyHistogram()
        /// Empty stats built away from the requests (before the run, and each second on the
        /// interval collector's thread), taken when a key is first recorded: building a full
        /// histogram faults in a quarter of a megabyte, and building them for every operation on
        /// the request thread at the first recorded second stalled it for 150 ms.
        var spareTotals: [OperationStats] = []
        var spareCoarse: [CoarseStats] = []

        mutating func add(_ sample: OperationSample) {
            interval.add(sample, to: sample.operation, spares: &spareCoarse)
            byPhase.add(sample, to: BreakdownKey(group: sample.phase, operation: sample.operation), spares: &spareCoarse)
            guard sample.recorded else { return }
            if let harness = sample.harnessNanos { harnessOverhead.record(nanoseconds: max(0, harness)) }
            totals.add(sample, to: sample.operation, spares: &spareTotals)
            byTenantClass.add(sample, to: BreakdownKey(group: sample.tenantClass, operation: sample.operation), spares: &spareCoarse)
        }
    }

    struct SharedCounters {
        var snapshotLag = LatencyHistogram()
        var intervalSnapshotLag = LatencyHistogram(.coarse)
        var tasksResynced = 0
        var cache: [String: CacheCounts] = [:]
        var invalidations = 0
        var invalidatedKeys = 0
        var recording = false
    }

    /// `operations` and `groups` size each shard's spare stats: the operations a run may record,
    /// and the phases and tenant classes it breaks them down by.
    public init(shards: Int, operations: Int = 0, groups: Int = 0) {
        self.shards = (0..<max(1, shards)).map { _ in
            var shard = Shard()
            shard.spareTotals = (0..<operations).map { _ in OperationStats() }
            shard.spareCoarse = (0..<operations * (1 + groups)).map { _ in CoarseStats() }
            return Locked(shard)
        }
    }

    public var shardCount: Int { shards.count }

    public func record(_ sample: OperationSample, shard: Int) {
        shards[shard % shards.count].lock.withLock { $0.add(sample) }
    }

    /// Whether stack-level events (lag, cache lookups) count towards the totals now.
    public func setRecording(_ on: Bool) {
        shared.withLock { $0.recording = on }
    }

    public func recordSnapshotLag(nanoseconds: Int64, tasksUpdated: Int) {
        shared.withLock { s in
            s.intervalSnapshotLag.record(nanoseconds: nanoseconds)
            guard s.recording else { return }
            s.snapshotLag.record(nanoseconds: nanoseconds)
            s.tasksResynced += tasksUpdated
        }
    }

    public func recordCacheLookup(family: String, hit: Bool) {
        shared.withLock { s in
            guard s.recording else { return }
            if hit { s.cache[family, default: CacheCounts()].hits += 1 } else { s.cache[family, default: CacheCounts()].misses += 1 }
        }
    }

    public func recordInvalidation(keys: Int) {
        shared.withLock { s in
            guard s.recording else { return }
            s.invalidations += 1
            s.invalidatedKeys += keys
        }
    }

    /// Takes and resets the current interval across all shards.
    public func takeInterval() -> (operations: [String: CoarseStats], snapshotLag: LatencyHistogram) {
        var merged: [String: CoarseStats] = [:]
        for shard in shards {
            let interval = shard.lock.withLock { s in
                defer { s.interval = [:] }
                return s.interval
            }
            merged.merge(interval) { var a = $0; a.merge($1); return a }
            // The next interval's stats, built here rather than on the request thread.
            let spares = interval.map { _ in CoarseStats() }
            shard.lock.withLock { $0.spareCoarse += spares }
        }
        let lag = shared.withLock { s in
            defer { s.intervalSnapshotLag = LatencyHistogram(.coarse) }
            return s.intervalSnapshotLag
        }
        return (merged, lag)
    }

    /// Latency, counts and errors of the recorded totals only — the cheap merge for judging
    /// thresholds while a run goes on.
    public func latencyTotals() -> LatencyTotals {
        var operations: [String: LatencyTotals.Operation] = [:]
        for shard in shards {
            let totals = shard.lock.withLock { $0.totals }
            for (name, stats) in totals {
                operations[name, default: LatencyTotals.Operation()].latency.add(stats.latency)
                operations[name]!.failedLatency.add(stats.failedLatency)
                operations[name]!.count += stats.count
                operations[name]!.errors += stats.errorCount
            }
        }
        return shared.withLock { LatencyTotals(operations: operations, snapshotLag: $0.snapshotLag, cache: $0.cache) }
    }

    /// The recorded totals, merged across shards.
    public func totals() -> Totals {
        var operations: [String: OperationStats] = [:]
        var byPhase: [BreakdownKey: CoarseStats] = [:], byTenantClass: [BreakdownKey: CoarseStats] = [:]
        var harnessOverhead = LatencyHistogram()
        for shard in shards {
            let s = shard.lock.withLock { $0 }
            harnessOverhead.add(s.harnessOverhead)
            operations.merge(s.totals) { var a = $0; a.merge($1); return a }
            byPhase.merge(s.byPhase) { var a = $0; a.merge($1); return a }
            byTenantClass.merge(s.byTenantClass) { var a = $0; a.merge($1); return a }
        }
        return shared.withLock { s in
            Totals(operations: operations, byPhase: byPhase, byTenantClass: byTenantClass, snapshotLag: s.snapshotLag,
                   tasksResynced: s.tasksResynced, cache: s.cache, invalidations: s.invalidations, invalidatedKeys: s.invalidatedKeys,
                   harnessOverhead: harnessOverhead)
        }
    }
}

public struct CacheCounts: Sendable, Equatable, Codable {
    public var hits = 0
    public var misses = 0

    public init(hits: Int = 0, misses: Int = 0) {
        self.hits = hits
        self.misses = misses
    }

    public var ratio: Double { hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses) }
}

/// The recorded (non-warm-up) part of a run.
public struct Totals: Sendable {
    public var operations: [String: OperationStats]
    public var byPhase: [BreakdownKey: CoarseStats]
    public var byTenantClass: [BreakdownKey: CoarseStats]
    public var snapshotLag: LatencyHistogram
    public var tasksResynced: Int
    public var cache: [String: CacheCounts]
    public var invalidations: Int
    public var invalidatedKeys: Int
    /// The harness's own time before each recorded request's first store call.
    public var harnessOverhead: LatencyHistogram
}

/// A lock-protected value that can live in an array (a `Mutex` cannot be copied).
final class Locked<Value: Sendable>: Sendable {
    let lock: Mutex<Value>

    init(_ value: Value) { lock = Mutex(value) }
}

/// What running thresholds need of the totals.
public struct LatencyTotals: Sendable {
    public struct Operation: Sendable {
        /// Successful requests' latency, and the failed ones'.
        public var latency = LatencyHistogram()
        public var failedLatency = LatencyHistogram()
        public var count = 0
        public var errors = 0
    }

    public var operations: [String: Operation]
    public var snapshotLag: LatencyHistogram
    public var cache: [String: CacheCounts]
}

/// Stats that samples are added to, kept per key.
protocol SampleStats {
    init()
    mutating func add(_ sample: OperationSample)
}

extension Dictionary where Value: SampleStats {
    /// Adds `sample` to `key`'s stats, starting them from a spare when the key is new.
    mutating func add(_ sample: OperationSample, to key: Key, spares: inout [Value]) {
        if let index = index(forKey: key) { return values[index].add(sample) }
        var stats = spares.popLast() ?? Value()
        stats.add(sample)
        self[key] = stats
    }
}
