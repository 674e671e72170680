import Foundation
import Metrics
import Scenario

/// A probe's verdict on the SLO, sampling noise accounted for.
public enum ProbeVerdict: String, Sendable, Codable {
    /// Every bound holds with the configured confidence.
    case pass
    /// A bound is broken with the configured confidence.
    case fail
    /// A bound is within the noise of its limit: the probe bounds nothing.
    case inconclusive
    /// The harness could not drive the load (schedule lag): the numbers describe the harness.
    case notDriven = "not_driven"
    /// Stopped before its end.
    case interrupted
}

/// What a probe measured that its SLO is judged on; two probes at one load pool by adding.
public struct ProbeSample: Sendable {
    public var operations: [String: OperationStats]
    public var snapshotLag: LatencyHistogram
    public var cache: [String: CacheCounts]
    public var seconds: Double
    /// Arrivals dropped because too many requests were unfinished: the stack did not hold the load.
    public var dropped: Int
    /// Each operation's successful latency per recorded second: the batches that show how much
    /// neighbouring requests share their fate (a queue makes them), so the verdict's interval widens by it.
    public var batches: [String: [LatencyHistogram]]

    public init(operations: [String: OperationStats], snapshotLag: LatencyHistogram, cache: [String: CacheCounts], seconds: Double,
                dropped: Int, batches: [String: [LatencyHistogram]] = [:]) {
        self.operations = operations; self.snapshotLag = snapshotLag; self.cache = cache; self.seconds = seconds; self.dropped = dropped
        self.batches = batches
    }

    public mutating func pool(_ other: ProbeSample) {
        operations.merge(other.operations) { var a = $0; a.merge($1); return a }
        snapshotLag.add(other.snapshotLag)
        cache.merge(other.cache) { CacheCounts(hits: $0.hits + $1.hits, misses: $0.misses + $1.misses) }
        seconds += other.seconds
        dropped += other.dropped
        batches.merge(other.batches, uniquingKeysWith: +)
    }
}

/// One SLO bound judged on one probe: the estimate, its confidence interval and the outcome.
public struct SLOCheck: Sendable, Codable, Equatable {
    public var target: String
    public var metric: String
    public var limit: Double
    /// nil when there was nothing to measure (no successful request).
    public var estimate: Double?
    /// The interval's ends; `high` nil when the samples cannot bound it from above (too few for that percentile).
    public var low: Double?
    public var high: Double?
    /// Samples behind the estimate.
    public var samples: Int
    public var verdict: ProbeVerdict
}

/// Judges a probe's sample against the SLO. Percentiles get a distribution-free interval from
/// order statistics (the rank of a p-quantile among n samples is Binomial(n, p)); fractions a
/// Wilson score interval; `max` and throughput floors are taken as measured. A bound passes when
/// its whole interval is on the right side of the limit, fails when all of it is on the wrong side.
public struct SLOJudge: Sendable {
    public var slo: [Threshold]
    public var confidence: Double

    public init(slo: [Threshold], confidence: Double) {
        self.slo = slo
        self.confidence = confidence
    }

    /// The checks of every bound, and the probe's verdict: fail if any fails, pass if all pass.
    public func judge(_ sample: ProbeSample, operations: [String]) -> (verdict: ProbeVerdict, checks: [SLOCheck]) {
        let z = StandardNormal.quantile(0.5 + confidence / 2)
        var checks: [SLOCheck] = []
        for threshold in slo {
            let targets = threshold.target == "all" ? operations : [threshold.target]
            for target in targets { checks.append(check(threshold, target: target, sample, z: z)) }
        }
        if sample.dropped > 0 {
            checks.append(SLOCheck(target: "load", metric: "dropped", limit: 0, estimate: Double(sample.dropped), low: nil, high: nil,
                                   samples: sample.dropped, verdict: .fail))
        }
        let verdict: ProbeVerdict = checks.contains { $0.verdict == .fail } ? .fail
            : checks.allSatisfy { $0.verdict == .pass } ? .pass : .inconclusive
        return (verdict, checks)
    }

    func check(_ t: Threshold, target: String, _ sample: ProbeSample, z: Double) -> SLOCheck {
        func made(_ estimate: Double?, _ low: Double?, _ high: Double?, samples: Int) -> SLOCheck {
            SLOCheck(target: target, metric: t.metric, limit: t.limit, estimate: estimate, low: low, high: high, samples: samples,
                     verdict: Self.verdict(t, low: low, high: high, hasValue: estimate != nil))
        }
        switch target {
        case "errors":
            let count = sample.operations.values.reduce(0) { $0 + $1.count }
            let errors = sample.operations.values.reduce(0) { $0 + $1.errorCount }
            return fraction(errors, of: count, z: z, made)
        case "snapshot-lag":
            return percentile(t.metric, sample.snapshotLag, batches: [], z: z, made)
        case "cache-hit-ratio":
            let counts = sample.cache[t.metric] ?? CacheCounts()
            return fraction(counts.hits, of: counts.hits + counts.misses, z: z, made)
        default:
            let stats = sample.operations[target] ?? OperationStats()
            switch t.metric {
            case "rate": return fraction(stats.errorCount, of: stats.count, z: z, made)
            case "throughput":
                let goodput = sample.seconds > 0 ? Double(stats.succeeded) / sample.seconds : 0
                return made(stats.count > 0 ? goodput : nil, goodput, goodput, samples: stats.count)
            default:
                return percentile(t.metric, t.includeFailed ? stats.latency.adding(stats.failedLatency) : stats.latency,
                                  batches: sample.batches[target] ?? [], z: z, made)
            }
        }
    }

    func fraction(_ hits: Int, of count: Int, z: Double, _ made: (Double?, Double?, Double?, Int) -> SLOCheck) -> SLOCheck {
        guard count > 0 else { return made(nil, nil, nil, 0) }
        let interval = Wilson.interval(successes: hits, of: count, z: z)
        return made(Double(hits) / Double(count), interval.low, interval.high, count)
    }

    func percentile(_ metric: String, _ histogram: LatencyHistogram, batches: [LatencyHistogram], z: Double,
                    _ made: (Double?, Double?, Double?, Int) -> SLOCheck) -> SLOCheck {
        let n = Int(histogram.count)
        guard n > 0 else { return made(nil, nil, nil, 0) }
        guard let p = Self.fraction(of: metric) else {
            let max = histogram.maxMilliseconds
            return made(max, max, max, n)
        }
        let estimate = UInt64(histogram.histogram.valueAtPercentile(p * 100))
        let inflation = BatchVariance.inflation(batches, above: estimate)
        let interval = histogram.quantileInterval(p, z: inflation.map { StudentT.quantile(0.5 + confidence / 2, df: $0.batches - 1) } ?? z,
                                                  inflation: inflation?.factor ?? 1)!
        return made(interval.estimateMs, interval.lowerMs, interval.upperMs, n)
    }

    /// `p99` → 0.99; nil for `max`.
    static func fraction(of metric: String) -> Double? {
        switch metric {
        case "p50": return 0.5
        case "p90": return 0.9
        case "p99": return 0.99
        case "p999": return 0.999
        default: return nil
        }
    }

    static func verdict(_ t: Threshold, low: Double?, high: Double?, hasValue: Bool) -> ProbeVerdict {
        guard hasValue else { return .fail }
        if t.isFloor {
            if let low, low >= t.limit { return .pass }
            if let high, high < t.limit { return .fail }
            return .inconclusive
        }
        if let high, high <= t.limit { return .pass }
        if let low, low > t.limit { return .fail }
        return .inconclusive
    }
}

/// How much more a fraction of requests varies than independent requests would: the variance of
/// the batch means (one batch per recorded second) of the share above a value, over the binomial
/// variance. Queues make neighbouring requests slow together, so a p99 from n requests knows less
/// than n independent draws would; this widens its interval by that much (never narrows it).
public enum BatchVariance {
    /// nil with fewer than two batches, or when batches vary no more than independent draws.
    public static func inflation(_ batches: [LatencyHistogram], above value: UInt64) -> (factor: Double, batches: Int)? {
        let counts = batches.map { (n: Double($0.count), x: Double($0.count(above: value))) }.filter { $0.n > 0 }
        let n = counts.reduce(0) { $0 + $1.n }, x = counts.reduce(0) { $0 + $1.x }
        guard counts.count >= 2, n > 0, x > 0, x < n else { return nil }
        let f = x / n, k = Double(counts.count)
        let batchVariance = k / (k - 1) * counts.reduce(0) { $0 + pow($1.x - f * $1.n, 2) } / (n * n)
        let factor = batchVariance / (f * (1 - f) / n)
        return factor > 1 ? (factor, counts.count) : nil
    }
}
