/// One second of one operation, as time series and `intervals.csv` show it.
public struct IntervalRow: Sendable, Codable, Equatable {
    /// Seconds since the run started (end of the interval).
    public var t: Double
    public var phase: String
    /// False for warm-up intervals: kept in the time series, excluded from the totals.
    public var recorded: Bool
    public var operation: String
    /// Requests completed this second, successful (`ok`) or failed (`errors`).
    public var count: Int
    public var ok: Int
    public var errors: Int
    /// Latency of this second's successful requests.
    public var p50Ms: Double
    public var p99Ms: Double
    public var maxMs: Double

    public init(t: Double, phase: String, recorded: Bool, operation: String, count: Int, errors: Int,
                p50Ms: Double, p99Ms: Double, maxMs: Double) {
        self.t = t; self.phase = phase; self.recorded = recorded; self.operation = operation; self.count = count
        self.ok = count - errors; self.errors = errors; self.p50Ms = p50Ms; self.p99Ms = p99Ms; self.maxMs = maxMs
    }
}

/// Stack-wide values sampled once per interval.
public struct StackSample: Sendable, Codable, Equatable {
    public var t: Double
    public var phase: String
    /// Sync jobs queued; nil when the cache could not be asked (it was down).
    public var queueDepth: Int?
    public var snapshotLagP99Ms: Double
    /// Successful requests completed this second (goodput), and all completed (`attemptedPerS`).
    public var throughputPerS: Double
    public var attemptedPerS: Double
    public var targetRatePerS: Double?
    /// All operations' successful requests together, this second.
    public var p50Ms: Double
    public var p99Ms: Double
    public var errors: Int
    /// This second's errors by class (`postgres_timeout`, `redis_connection_lost`, …).
    public var errorsByClass: [String: Int]

    public init(t: Double, phase: String, queueDepth: Int?, snapshotLagP99Ms: Double, throughputPerS: Double, attemptedPerS: Double,
                targetRatePerS: Double?, p50Ms: Double, p99Ms: Double, errors: Int, errorsByClass: [String: Int] = [:]) {
        self.t = t; self.phase = phase; self.queueDepth = queueDepth; self.snapshotLagP99Ms = snapshotLagP99Ms
        self.throughputPerS = throughputPerS; self.attemptedPerS = attemptedPerS; self.targetRatePerS = targetRatePerS
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
