import Foundation
import Metrics

/// One operation and percentile judged against a baseline.
public struct ComparisonFinding: Codable, Sendable {
    public enum Verdict: String, Codable, Sendable {
        case regression, improvement, unchanged
    }

    public var operation: String
    public var percentile: String
    /// The baseline runs' value (their geometric mean) and this run's, as measured.
    public var baselineMs: Double
    public var currentMs: Double
    /// The change beyond the run-wide shift: current / (baseline × shift) − 1.
    public var change: Double
    /// The change's confidence interval, at the comparison's `confidence`.
    public var changeLow: Double
    public var changeHigh: Double
    /// The smallest slowdown this comparison calls a regression: a true change this large is
    /// flagged about half the time, larger ones more often. "Unchanged" with a resolution of
    /// +40 % means "too noisy to tell" for anything smaller.
    public var resolution: Double
    /// The absolute floor a change had to pass, in milliseconds.
    public var floorMs: Double
    public var verdict: Verdict

    public var summary: String {
        "\(operation) \(percentile): \(Format.ms(baselineMs)) → \(Format.ms(currentMs)) ms "
            + "(\(Format.change(change)) beyond the run's shift, interval \(Format.change(changeLow)) … \(Format.change(changeHigh)), "
            + "resolution \(Format.change(resolution))): \(verdict.rawValue)"
    }
}

/// How much one percentile of every operation moved together: the machine, or a change on
/// every request's path — from inside a run the two look alike, so it is drift, not a regression.
public struct RunShift: Codable, Sendable {
    public enum Verdict: String, Codable, Sendable {
        case slower, faster, steady
    }

    public var percentile: String
    /// The median change across operations, current / baseline − 1, and its interval.
    public var change: Double
    public var changeLow: Double
    public var changeHigh: Double
    public var verdict: Verdict
}

/// The noise a percentile's comparison allowed for. One run's log-percentile varies by its
/// sampling variance (from the order-statistic interval) times `overdispersion` — requests in a
/// queue are not independent — plus `betweenRunsSpread`² (a standard deviation of the log value)
/// — a machine is not the same twice. Both are
/// fitted to the spread between the baseline's runs when it holds two or more; otherwise they
/// are the defaults measured on a shared 2-core machine (docs/performance.md).
public struct NoiseModel: Codable, Sendable {
    public var percentile: String
    public var overdispersion: Double
    public var betweenRunsSpread: Double
    /// Baseline runs the model was fitted to; 0 when it is the default.
    public var fittedToRuns: Int
}

public struct BaselineComparison: Codable, Sendable {
    /// What the baseline is: its files.
    public var baseline: String
    public var baselineRuns: Int
    public var relativeLimit: Double
    /// The absolute floor as given (`5% of p50` or `0.5 ms`).
    public var absoluteFloor: String
    /// The chance that a run of unchanged code shows any regression (or improvement) at all,
    /// shared out over the comparisons.
    public var alpha: Double
    /// The two-sided level of each comparison's interval (Bonferroni: 1 − alpha / comparisons).
    public var confidence: Double
    public var noise: [NoiseModel]
    public var drift: [RunShift]
    public var findings: [ComparisonFinding]
    /// Differences that make the comparison less trustworthy (another machine, seed, target),
    /// drift, and what could not be judged.
    public var warnings: [String]

    public var regressions: [ComparisonFinding] { findings.filter { $0.verdict == .regression } }
}

/// The smallest absolute change that counts, on the operation's own scale by default.
public enum AbsoluteFloor: Sendable, Equatable, CustomStringConvertible {
    case milliseconds(Double)
    /// A fraction of the operation's baseline median.
    case ofMedian(Double)

    public func ms(medianMs: Double) -> Double {
        switch self {
        case .milliseconds(let ms): return ms
        case .ofMedian(let fraction): return fraction * medianMs
        }
    }

    public var description: String {
        switch self {
        case .milliseconds(let ms): return "\(Format.ms(ms)) ms"
        case .ofMedian(let fraction): return "\(Format.percent(fraction)) of p50"
        }
    }
}

/// Judges a run against one or more baseline runs with every recorded request, not summaries.
///
/// For each percentile (p50, p99) and operation, each run's value comes with a distribution-free
/// interval from its histogram (`LatencyHistogram.quantileInterval`), i.e. a sampling variance of
/// the log value. The baseline runs are fitted as log value = operation + run shift; the
/// current run's **shift** (the median change across operations) absorbs a machine that is
/// slower or faster as a whole, and an operation is judged on what is left: how much more it
/// changed than the rest of the run. That residual's noise is the two runs' sampling variances
/// times an overdispersion, plus a between-run variance, both fitted to the baseline runs'
/// residuals when there are two or more (`NoiseModel`).
///
/// A percentile regresses when its change's interval lies above zero at the Bonferroni-shared
/// level (`alpha` across all comparisons of the run, so a run of unchanged code is flagged with
/// probability about `alpha`), and the change exceeds both `relative` and the absolute floor —
/// a floor on the operation's own scale, so it means the same to a 0.3 ms and a 300 ms operation.
public enum Comparison {
    public static let percentiles: [(name: String, fraction: Double)] = [("p50", 0.5), ("p99", 0.99)]
    /// Successful requests an operation needs in every run to be compared.
    public static let minimumCount = 30
    /// The noise assumed with a single baseline run (measured on this project's 2-core machine
    /// with `make bench-gate`, rounded up; docs/performance.md).
    public static let defaultOverdispersion = 1.5
    public static let defaultBetweenRunsSpread = 0.05
    /// Sampling variance of a median across m operations ≈ π/2 × one operation's / m.
    static let medianVarianceFactor = Double.pi / 2
    /// A run's sampling error is read off its ±1 standard error interval (68 %): narrow enough
    /// to exist for a p99 of 150 requests, where a 95 % one would run past the largest value.
    static let sampleZ = 1.0

    public struct Limits: Sendable {
        public var relative: Double
        public var floor: AbsoluteFloor
        public var alpha: Double

        public init(relative: Double = 0.1, floor: AbsoluteFloor = .ofMedian(0.05), alpha: Double = 0.05) {
            self.relative = relative
            self.floor = floor
            self.alpha = alpha
        }
    }

    /// One run's log-percentile of one operation and its sampling variance.
    struct Point {
        var log: Double
        var variance: Double
    }

    public static func compare(baselines: [RunReport], current: RunReport, baseName: String,
                               limits: Limits = Limits()) -> BaselineComparison {
        precondition(!baselines.isEmpty, "at least one baseline run")
        var warnings = baselines.flatMap { differences(base: $0, current: current) }.uniqued()
        let histograms = comparableHistograms(baselines + [current])
        let baselineMedianMs = Dictionary(uniqueKeysWithValues: histograms.map { op in
            (op.name, op.runs.dropLast().map { $0.milliseconds(atPercentile: 50) }.mean)
        })
        var unjudged: [String] = []
        var measured: [(percentile: String, operations: [(name: String, runs: [Point])])] = []
        for percentile in percentiles {
            var operations: [(name: String, runs: [Point])] = []
            for (name, runs) in histograms {
                let points = runs.map { point($0, percentile.fraction) }
                if points.allSatisfy({ $0 != nil }) { operations.append((name, points.map { $0! })) } else { unjudged.append("\(name) \(percentile.name)") }
            }
            measured.append((percentile.name, operations))
        }
        let comparisons = measured.reduce(0) { $0 + $1.operations.count }
        let confidence = 1 - limits.alpha / Double(max(comparisons, 1))
        let z = StandardNormal.quantile(1 - (1 - confidence) / 2)
        var findings: [ComparisonFinding] = [], noise: [NoiseModel] = [], drift: [RunShift] = []
        var fits = measured.map { BaselineFit($0.operations.map { Array($0.runs.dropLast()) }) }
        // The machine's run-to-run wander is one thing, whichever percentile shows it: each
        // percentile gets the larger of the estimates (the better-pinned one usually comes from
        // the medians), and its overdispersion is refitted under it. A percentile with too few
        // operations to take out a run shift counts the whole run's wander as noise — a tail
        // that moved together — which is its own to widen, never the others'.
        let between = fits.filter { $0.fitted && $0.removesRunShift }.map(\.betweenRunsSpread).max()
        if let between {
            for index in fits.indices where fits[index].fitted && (fits[index].removesRunShift || fits[index].betweenRunsSpread < between) {
                fits[index].fitNoise(betweenRunsSpread: between)
            }
        }
        for ((percentile, operations), fit) in zip(measured, fits) where !operations.isEmpty {
            noise.append(NoiseModel(percentile: percentile, overdispersion: fit.overdispersion, betweenRunsSpread: fit.betweenRunsSpread,
                                    fittedToRuns: fit.fitted ? fit.runs : 0))
            let current = operations.map { $0.runs.last! }
            let shift = fit.shift(of: current)
            drift.append(runShift(percentile, shift, z: StandardNormal.quantile(0.975), relative: limits.relative))
            for (index, operation) in operations.enumerated() {
                findings.append(judge(operation.name, percentile, index: index, current: current[index], fit: fit, shift: shift,
                                      floorMs: limits.floor.ms(medianMs: baselineMedianMs[operation.name] ?? 0), z: z, limits: limits))
            }
        }
        for shift in drift where shift.verdict != .steady {
            warnings.append("the whole run is \(shift.verdict.rawValue) at \(shift.percentile) (median change "
                            + "\(Format.change(shift.change)) across operations): drift — a \(shift.verdict == .slower ? "slower" : "faster") "
                            + "machine, or a change on every request's path; operations are judged against it")
        }
        if !unjudged.isEmpty {
            warnings.append("too few requests to bound \(unjudged.joined(separator: ", ")) in every run: not judged")
        }
        return BaselineComparison(baseline: baseName, baselineRuns: baselines.count, relativeLimit: limits.relative,
                                  absoluteFloor: limits.floor.description, alpha: limits.alpha, confidence: confidence,
                                  noise: noise, drift: drift, findings: findings, warnings: warnings)
    }

    /// Each operation with enough successful requests in every run, and its histogram per run.
    static func comparableHistograms(_ runs: [RunReport]) -> [(name: String, runs: [LatencyHistogram])] {
        runs.last!.operations.compactMap { op in
            let histograms = runs.map { run -> LatencyHistogram? in
                guard let mine = run.operations.first(where: { $0.name == op.name }), mine.ok >= minimumCount,
                      let histogram = try? mine.recordedLatency() else { return nil }
                return histogram
            }
            guard histograms.allSatisfy({ $0 != nil }) else { return nil }
            return (op.name, histograms.map { $0! })
        }
    }

    static func point(_ histogram: LatencyHistogram, _ fraction: Double) -> Point? {
        guard let interval = histogram.quantileInterval(fraction, z: sampleZ), interval.estimateMs > 0 else { return nil }
        let error = interval.logStandardError(z: sampleZ)
        return error.isFinite ? Point(log: log(interval.estimateMs), variance: error * error) : nil
    }
}

extension Comparison {
    /// The baseline's log values fitted as operation level + run shift (a two-way table solved by
    /// alternating means over runs and medians over operations, robust to one odd operation), and
    /// the noise of one run's value around its fit.
    struct BaselineFit {
        var points: [[Point]]
        var level: [Double]
        var runShifts: [Double]
        var overdispersion = Comparison.defaultOverdispersion
        var betweenRunsSpread = Comparison.defaultBetweenRunsSpread
        var fitted = false

        var runs: Int { points.first?.count ?? 0 }
        /// Whether there are operations enough for a run's shift (their median change) to be
        /// told from one operation's.
        var removesRunShift: Bool { points.count >= 3 }

        init(_ points: [[Point]]) {
            self.points = points
            let runs = points.first?.count ?? 0
            runShifts = Array(repeating: 0, count: runs)
            level = points.map { $0.map(\.log).mean }
            if removesRunShift {
                for _ in 0..<5 {
                    runShifts = (0..<runs).map { r in points.indices.map { points[$0][r].log - level[$0] }.median }
                    level = points.map { op in zip(op, runShifts).map { $0.log - $1 }.mean }
                }
                let centre = runShifts.mean
                runShifts = runShifts.map { $0 - centre }
                level = level.map { $0 + centre }
            }
            if runs >= 2 { fitNoise() }
        }

        /// Each residual², scaled for the fitted level (× k / (k − 1)), regressed on its sampling
        /// variance: slope the overdispersion (≥ 1), intercept the between-run variance (≥ 0, or
        /// `betweenRunsSpread`² when given). A squared residual varies with the square of its
        /// expectation, so the fit is weighted by that (iteratively reweighted least squares):
        /// the precise operations pin the between-run variance, the imprecise ones the overdispersion.
        mutating func fitNoise(betweenRunsSpread fixed: Double? = nil) {
            let k = Double(runs)
            var pairs: [(v: Double, y: Double)] = []
            for (op, row) in points.enumerated() {
                for (r, point) in row.enumerated() {
                    let residual = point.log - level[op] - runShifts[r]
                    pairs.append((point.variance, residual * residual * k / (k - 1)))
                }
            }
            var slope = overdispersion, intercept = fixed.map { $0 * $0 } ?? betweenRunsSpread * betweenRunsSpread
            for _ in 0..<8 {
                let weights = pairs.map { 1 / pow(max(slope * $0.v + intercept, 1e-12), 2) }
                func sum(_ term: (Double, Double) -> Double) -> Double { zip(weights, pairs).reduce(0) { $0 + $1.0 * term($1.1.v, $1.1.y) } }
                if fixed == nil {
                    let w = sum { _, _ in 1 }, meanV = sum { v, _ in v } / w, meanY = sum { _, y in y } / w
                    let sxx = sum { v, _ in (v - meanV) * (v - meanV) }
                    slope = sxx > 0 ? sum { v, y in (v - meanV) * (y - meanY) } / sxx : 1
                    intercept = meanY - slope * meanV
                    if slope < 1 { slope = 1; intercept = max(0, meanY - meanV) }
                    guard intercept < 0 else { continue }
                    intercept = 0
                }
                slope = max(1, sum { v, y in v * (y - intercept) } / max(sum { v, _ in v * v }, .leastNonzeroMagnitude))
            }
            overdispersion = slope
            betweenRunsSpread = intercept.squareRoot()
            fitted = true
        }

        /// One run's variance of an operation's log value with sampling variance `v`.
        func variance(sampling v: Double) -> Double { overdispersion * v + betweenRunsSpread * betweenRunsSpread }

        /// The current run's shift against the fitted levels, and its variance.
        func shift(of current: [Point]) -> (value: Double, variance: Double) {
            guard removesRunShift else { return (0, 0) }
            let value = current.indices.map { current[$0].log - level[$0] }.median
            let spread = current.indices.map { variance(sampling: current[$0].variance) + baselineVariance($0) }.mean
            return (value, Comparison.medianVarianceFactor * spread / Double(current.count))
        }

        /// The variance of an operation's fitted level: one run's, over the number of runs.
        func baselineVariance(_ op: Int) -> Double {
            points[op].map { variance(sampling: $0.variance) }.mean / Double(runs)
        }
    }

    static func runShift(_ percentile: String, _ shift: (value: Double, variance: Double), z: Double, relative: Double) -> RunShift {
        let half = z * shift.variance.squareRoot()
        let change = exp(shift.value) - 1, low = exp(shift.value - half) - 1, high = exp(shift.value + half) - 1
        let verdict: RunShift.Verdict = change > relative && low > 0 ? .slower
            : 1 / (1 + change) - 1 > relative && high < 0 ? .faster : .steady
        return RunShift(percentile: percentile, change: change, changeLow: low, changeHigh: high, verdict: verdict)
    }

    static func judge(_ name: String, _ percentile: String, index: Int, current: Point, fit: BaselineFit,
                      shift: (value: Double, variance: Double), floorMs: Double, z: Double, limits: Limits) -> ComparisonFinding {
        let expected = fit.level[index] + shift.value
        let residual = current.log - expected
        let sd = (fit.variance(sampling: current.variance) + fit.baselineVariance(index) + shift.variance).squareRoot()
        let currentMs = exp(current.log), expectedMs = exp(expected)
        let change = exp(residual) - 1, low = exp(residual - z * sd) - 1, high = exp(residual + z * sd) - 1
        var verdict = ComparisonFinding.Verdict.unchanged
        if low > 0 && change > limits.relative && currentMs - expectedMs > floorMs {
            verdict = .regression
        } else if high < 0 && 1 / (1 + change) - 1 > limits.relative && expectedMs - currentMs > floorMs {
            verdict = .improvement
        }
        let resolution = max(limits.relative, exp(z * sd) - 1, floorMs / expectedMs)
        return ComparisonFinding(operation: name, percentile: percentile, baselineMs: exp(fit.level[index]), currentMs: currentMs,
                                 change: change, changeLow: low, changeHigh: high, resolution: resolution, floorMs: floorMs,
                                 verdict: verdict)
    }

    static func differences(base: RunReport, current: RunReport) -> [String] {
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
        let before = base.harness.cpuWakeLatency, now = current.harness.cpuWakeLatency
        if before?.heldLimitUs != now?.heldLimitUs || before?.loopAwakeUs != now?.loopAwakeUs {
            result.append("the baseline ran with idle CPUs \(TextReports.idleCPUs(before)), "
                          + "this run with them \(TextReports.idleCPUs(now)) "
                          + "(--cpu-wake-latency); wake-ups move latencies, most at low rates")
        }
        return result
    }
}

extension Array where Element == Double {
    var mean: Double { isEmpty ? 0 : reduce(0, +) / Double(count) }

    var median: Double {
        guard !isEmpty else { return 0 }
        let sorted = sorted(), mid = count / 2
        return count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

/// A stored baseline: the last few runs of one scenario (`baseline update` appends, keeping at
/// most `BaselineSet.defaultKeep`). Several runs let a comparison measure the noise between runs
/// on the machine instead of assuming it. Runs keep their summaries and histograms; their
/// per-second rows are dropped, which no comparison reads.
public struct BaselineSet: Codable, Sendable {
    public static let kind = "stacksim-baseline"
    public static let defaultKeep = 5

    public var kind = BaselineSet.kind
    public var schemaVersion = RunReport.currentSchemaVersion
    public var scenario: String
    public var runs: [RunReport]

    public init(scenario: String, runs: [RunReport]) {
        self.scenario = scenario
        self.runs = runs
        for index in self.runs.indices {
            self.runs[index].intervals = []
            self.runs[index].stackSamples = []
        }
    }

    /// `runs` with `added` after them, the oldest dropped beyond `keep`.
    public func appending(_ added: [RunReport], keep: Int) -> BaselineSet {
        BaselineSet(scenario: scenario, runs: Array((runs + added).suffix(keep)))
    }
}
