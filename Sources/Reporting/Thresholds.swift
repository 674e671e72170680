import Metrics
import Scenario

/// The value an operation's threshold bounds, from its report.
func operationValue(_ op: OperationReport?, _ threshold: Threshold, allRequests: () -> PercentileSummary?) -> Double? {
    guard let op else { return nil }
    return threshold.operationValue(count: op.count, errors: op.errors, goodput: op.throughputPerS) { includeFailed in
        includeFailed ? allRequests()?.value(named: threshold.metric) : op.latencyMs.value(named: threshold.metric)
    }
}

/// Judges a finished run's report against the scenario's thresholds.
public enum ThresholdEvaluator {
    /// `allRequests`: an operation's latency over successful and failed requests, for thresholds
    /// with `include_failed` (asked only for those).
    public static func evaluate(_ thresholds: [Threshold], on report: RunReport,
                                allRequests: (String) -> PercentileSummary? = { _ in nil }) -> [ThresholdResult] {
        Threshold.judge(thresholds, operations: report.operations.map(\.name)) { target, threshold in
            let metric = threshold.metric
            return switch target {
            case "errors": report.totals.count > 0 ? report.totals.errorRate : Double?.none
            case "snapshot-lag": report.consistency.snapshotSyncs > 0 ? report.consistency.snapshotLagMs.value(named: metric) : nil
            case "cache-hit-ratio": report.consistency.cacheHitRatio[metric]
            default: operationValue(report.operations.first { $0.name == target }, threshold) { allRequests(target) }
            }
        }.map { verdict in
            ThresholdResult(target: verdict.target, metric: verdict.threshold.metric, limit: verdict.threshold.limit,
                            actual: verdict.actual, passed: verdict.passed, location: verdict.threshold.location)
        }
    }
}
