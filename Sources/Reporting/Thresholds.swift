import Scenario

/// Judges a finished run's report against the scenario's thresholds.
public enum ThresholdEvaluator {
    public static func evaluate(_ thresholds: [Threshold], on report: RunReport) -> [ThresholdResult] {
        Threshold.judge(thresholds, operations: report.operations.map(\.name)) { target, metric in
            switch target {
            case "errors": return report.totals.count > 0 ? report.totals.errorRate : nil
            case "snapshot-lag":
                return report.consistency.snapshotSyncs > 0 ? report.consistency.snapshotLagMs.value(named: metric) : nil
            case "cache-hit-ratio": return report.consistency.cacheHitRatio[metric]
            default:
                guard let op = report.operations.first(where: { $0.name == target }), op.count > 0 else { return nil }
                switch metric {
                case "rate": return Double(op.errors) / Double(op.count)
                case "throughput": return op.throughputPerS
                default: return op.latencyMs.value(named: metric)
                }
            }
        }.map { verdict in
            ThresholdResult(target: verdict.target, metric: verdict.threshold.metric, limit: verdict.threshold.limit,
                            actual: verdict.actual, passed: verdict.passed, location: verdict.threshold.location)
        }
    }
}
