/// One second of one operation, as time series and `intervals.csv` show it.
public struct IntervalRow: Sendable, Codable, Equatable {
    /// Seconds since the run started (end of the interval).
    public var t: Double
    public var phase: String
    /// False for warm-up intervals: kept in the time series, excluded from the totals.
    public var recorded: Bool
    public var operation: String
    public var count: Int
    public var errors: Int
    public var p50Ms: Double
    public var p99Ms: Double
    public var maxMs: Double

    public init(t: Double, phase: String, recorded: Bool, operation: String, count: Int, errors: Int,
                p50Ms: Double, p99Ms: Double, maxMs: Double) {
        self.t = t; self.phase = phase; self.recorded = recorded; self.operation = operation; self.count = count
        self.errors = errors; self.p50Ms = p50Ms; self.p99Ms = p99Ms; self.maxMs = maxMs
    }
}

/// Stack-wide values sampled once per interval.
public struct StackSample: Sendable, Codable, Equatable {
    public var t: Double
    public var phase: String
    /// Sync jobs queued; nil when the cache could not be asked (it was down).
    public var queueDepth: Int?
    public var snapshotLagP99Ms: Double
    public var throughputPerS: Double
    public var targetRatePerS: Double?
    /// All operations together, this second.
    public var p50Ms: Double
    public var p99Ms: Double
    public var errors: Int
    /// This second's errors by class (`postgres_timeout`, `redis_connection_lost`, …).
    public var errorsByClass: [String: Int]

    public init(t: Double, phase: String, queueDepth: Int?, snapshotLagP99Ms: Double, throughputPerS: Double, targetRatePerS: Double?,
                p50Ms: Double, p99Ms: Double, errors: Int, errorsByClass: [String: Int] = [:]) {
        self.t = t; self.phase = phase; self.queueDepth = queueDepth; self.snapshotLagP99Ms = snapshotLagP99Ms
        self.throughputPerS = throughputPerS; self.targetRatePerS = targetRatePerS
        self.p50Ms = p50Ms; self.p99Ms = p99Ms; self.errors = errors; self.errorsByClass = errorsByClass
    }
}

extension IntervalRow {
    /// Rows for every operation seen in one interval, sorted by operation name.
    public static func rows(t: Double, phase: String, recorded: Bool, operations: [String: CoarseStats]) -> [IntervalRow] {
        operations.keys.sorted().map { name in
            let stats = operations[name]!
            return IntervalRow(t: t, phase: phase, recorded: recorded, operation: name, count: stats.count,
                               errors: stats.errors, p50Ms: stats.latency.milliseconds(atPercentile: 50),
                               p99Ms: stats.latency.milliseconds(atPercentile: 99), maxMs: stats.latency.maxMilliseconds)
        }
    }
}
