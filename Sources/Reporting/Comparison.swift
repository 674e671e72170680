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
/// hold: it grew by more than `relative` (default 20 %), by more than `absoluteMs` (default
/// 0.5 ms), and the per-second values of the two runs differ beyond noise — a one-sided
/// Mann-Whitney U test at `alpha` (default 0.01) on the recorded seconds' p50 or p99. The rank
/// test needs no assumption about the shape of latency distributions and uses the run's own
/// second-to-second variation as its noise, so a rerun of the same code is not a regression.
public enum Comparison {
    public static let percentiles = ["p50", "p99"]
    static let minimumCount = 30
    static let minimumSeconds = 5

    public static func compare(base: RunReport, current: RunReport, baseName: String, relative: Double = 0.2,
                               absoluteMs: Double = 0.5, alpha: Double = 0.01) -> BaselineComparison {
        var findings: [ComparisonFinding] = []
        for op in current.operations {
            guard let old = base.operations.first(where: { $0.name == op.name }),
                  old.count >= minimumCount, op.count >= minimumCount else { continue }
            for percentile in percentiles {
                let b = old.latencyMs.value(named: percentile)!, c = op.latencyMs.value(named: percentile)!
                let before = perSecond(base, op.name, percentile), after = perSecond(current, op.name, percentile)
                let enough = before.count >= minimumSeconds && after.count >= minimumSeconds
                let slower = enough ? mannWhitneyGreater(after, than: before) : nil
                let faster = enough ? mannWhitneyGreater(before, than: after) : nil
                var verdict = ComparisonFinding.Verdict.unchanged
                if c > b * (1 + relative) && c - b > absoluteMs && (slower.map { $0 < alpha } ?? true) {
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
                                  findings: findings, warnings: warnings(base: base, current: current))
    }

    static func perSecond(_ report: RunReport, _ operation: String, _ percentile: String) -> [Double] {
        report.intervals.filter { $0.recorded && $0.operation == operation && $0.count > 0 }
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
