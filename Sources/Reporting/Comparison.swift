import Foundation
import Metrics

/// One operation and percentile judged against a baseline.
public struct ComparisonFinding: Codable, Sendable {
    public enum Verdict: String, Codable, Sendable {
        case regression, improvement, unchanged
    }

    public var operation: String
    public var percentile: String
    public var baselineMs: Double
    public var currentMs: Double
    /// (current − baseline) / baseline.
    public var change: Double
    /// One-sided Mann-Whitney U p-value over the per-second values (nil: too few seconds to test).
    public var pValue: Double?
    public var verdict: Verdict

    public var summary: String {
        let p = pValue.map { String(format: ", p = %.4f", $0) } ?? ", too few seconds for a noise test"
        return "\(operation) \(percentile): \(Format.ms(baselineMs)) → \(Format.ms(currentMs)) ms "
            + "(\(String(format: "%+.1f", change * 100))%\(p)): \(verdict.rawValue)"
    }
}

public struct BaselineComparison: Codable, Sendable {
    /// What the baseline is: its scenario and start time.
    public var baseline: String
    public var relativeLimit: Double
    public var absoluteLimitMs: Double
    public var alpha: Double
    public var findings: [ComparisonFinding]
    /// Differences that make the comparison less trustworthy (another machine, seed, target).
    public var warnings: [String]

    public var regressions: [ComparisonFinding] { findings.filter { $0.verdict == .regression } }
}

/// Judges a run against a baseline. A percentile of an operation regresses only when all three
/// hold, after scaling the baseline by the run-wide shift (below): it grew by more than
/// `relative` (default 20 %), by more than `absoluteMs` (default 0.5 ms), and the per-second
/// values of the two runs differ beyond noise — a one-sided Mann-Whitney U test at `alpha`
/// (default 0.01) on the recorded seconds' p50 or p99. The rank test assumes nothing about the
/// shape of latency distributions and uses each run's second-to-second variation as its noise.
///
/// Between runs a shared machine drifts as a whole (a busy neighbour slows every request alike).
/// The run-wide shift — the median change of that percentile across operations — absorbs it: an
/// operation regresses when it slowed *more than the rest of the run*. A run-wide slowdown
/// beyond the relative limit is reported as a warning, because from inside one cannot tell a
/// slower machine from a change on every request's path.
public enum Comparison {
    public static let percentiles = ["p50", "p99"]
    /// Successful requests an operation needs in both runs to be compared.
    public static let minimumCount = 30
    static let minimumSeconds = 5

    public static func compare(base: RunReport, current: RunReport, baseName: String, relative: Double = 0.2,
                               absoluteMs: Double = 0.5, alpha: Double = 0.01) -> BaselineComparison {
        let pairs = current.operations.compactMap { op -> (old: OperationReport, new: OperationReport)? in
            guard let old = base.operations.first(where: { $0.name == op.name }),
                  old.ok >= minimumCount, op.ok >= minimumCount else { return nil }
            return (old, op)
        }
        var findings: [ComparisonFinding] = []
        var warnings = warnings(base: base, current: current)
        for percentile in percentiles {
            let shift = runWideShift(pairs.map { ($0.old.latencyMs.value(named: percentile)!, $0.new.latencyMs.value(named: percentile)!) })
            if shift > 1 + relative {
                warnings.append("the whole run is slower at \(percentile) (median change \(String(format: "%+.0f%%", (shift - 1) * 100)) "
                                + "across operations): a slower machine, or a change on every request's path; operations are judged "
                                + "against that shift")
            }
            let scale = max(shift, 1)
            for (old, op) in pairs {
                let b = old.latencyMs.value(named: percentile)!, c = op.latencyMs.value(named: percentile)!
                let before = perSecond(base, op.name, percentile), after = perSecond(current, op.name, percentile)
                let enough = before.count >= minimumSeconds && after.count >= minimumSeconds
                let slower = enough ? mannWhitneyGreater(after, than: before.map { $0 * scale }) : nil
                let faster = enough ? mannWhitneyGreater(before, than: after) : nil
                let expected = b * scale
                var verdict = ComparisonFinding.Verdict.unchanged
                if c > expected * (1 + relative) && c - expected > absoluteMs && (slower.map { $0 < alpha } ?? true) {
                    verdict = .regression
                } else if b > c * (1 + relative) && b - c > absoluteMs && (faster.map { $0 < alpha } ?? true) {
                    verdict = .improvement
                }
                findings.append(ComparisonFinding(operation: op.name, percentile: percentile, baselineMs: b, currentMs: c,
                                                  change: b > 0 ? (c - b) / b : 0,
                                                  pValue: verdict == .improvement ? faster : slower, verdict: verdict))
            }
        }
        return BaselineComparison(baseline: baseName, relativeLimit: relative, absoluteLimitMs: absoluteMs, alpha: alpha,
                                  findings: findings, warnings: warnings)
    }

    /// The median of current / baseline across operations (1 with fewer than three operations,
    /// where a median says nothing about the run as a whole).
    static func runWideShift(_ values: [(baseline: Double, current: Double)]) -> Double {
        let ratios = values.filter { $0.baseline > 0 }.map { $0.current / $0.baseline }.sorted()
        guard ratios.count >= 3 else { return 1 }
        let mid = ratios.count / 2
        return ratios.count % 2 == 1 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2
    }

    static func perSecond(_ report: RunReport, _ operation: String, _ percentile: String) -> [Double] {
        report.intervals.filter { $0.recorded && $0.operation == operation && $0.ok > 0 }
            .map { percentile == "p50" ? $0.p50Ms : $0.p99Ms }
    }

    static func warnings(base: RunReport, current: RunReport) -> [String] {
        var result: [String] = []
        let a = base.machine, b = current.machine
        if a.cores != b.cores || a.memoryBytes != b.memoryBytes || a.os != b.os || a.kernel != b.kernel || a.swiftVersion != b.swiftVersion {
            result.append("the baseline ran on another machine (\(a.cores) cores, \(a.memoryBytes >> 20) MiB, \(a.os), kernel \(a.kernel), "
                          + "Swift \(a.swiftVersion)); differences may be the machine's")
        }
        if base.target != current.target { result.append("the baseline ran against \(base.target), this run against \(current.target)") }
        if base.scenario.name != current.scenario.name || base.scenario.seed != current.scenario.seed {
            result.append("the baseline ran scenario \(base.scenario.name) seed \(base.scenario.seed)")
        }
        return result
    }

    /// One-sided p-value that values in `a` tend to be greater than those in `b` (normal
    /// approximation with tie and continuity corrections).
    public static func mannWhitneyGreater(_ a: [Double], than b: [Double]) -> Double {
        let n1 = Double(a.count), n2 = Double(b.count), n = n1 + n2
        let pooled = (a.map { ($0, 0) } + b.map { ($0, 1) }).sorted { $0.0 < $1.0 }
        var ranks = [Double](repeating: 0, count: pooled.count)
        var tieTerm = 0.0
        var i = 0
        while i < pooled.count {
            var j = i
            while j + 1 < pooled.count && pooled[j + 1].0 == pooled[i].0 { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { ranks[k] = rank }
            let t = Double(j - i + 1)
            tieTerm += t * t * t - t
            i = j + 1
        }
        let rankSumA = zip(pooled, ranks).filter { $0.0.1 == 0 }.reduce(0) { $0 + $1.1 }
        let u = rankSumA - n1 * (n1 + 1) / 2
        let mean = n1 * n2 / 2
        let variance = n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else { return u > mean ? 0 : 1 }
        let z = (u - mean - 0.5) / variance.squareRoot()
        return 0.5 * erfc(z / 2.0.squareRoot())
    }
}
