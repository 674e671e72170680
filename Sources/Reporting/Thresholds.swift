import Scenario

/// Judges a report against the scenario's thresholds.
public enum ThresholdEvaluator {
    public static func evaluate(_ thresholds: [Threshold], on report: RunReport) -> [ThresholdResult] {
        thresholds.flatMap { threshold -> [ThresholdResult] in
            func result(_ target: String, _ actual: Double?, floor: Bool = false) -> ThresholdResult {
                let passed = actual.map { floor ? $0 >= threshold.limit : $0 <= threshold.limit } ?? false
                return ThresholdResult(target: target, metric: threshold.metric, limit: threshold.limit, actual: actual,
                                       passed: passed, location: threshold.location)
            }
            switch threshold.target {
            case "errors":
                return [result("errors", report.totals.errorRate)]
            case "snapshot-lag":
                let consistency = report.consistency
                return [result("snapshot-lag", consistency.snapshotSyncs > 0 ? consistency.snapshotLagMs.value(named: threshold.metric) : nil)]
            case "cache-hit-ratio":
                return [result("cache-hit-ratio", report.consistency.cacheHitRatio[threshold.metric], floor: true)]
            case "all":
                return report.operations.map { result($0.name, value(of: threshold.metric, in: $0)) }
            default:
                let operation = report.operations.first { $0.name == threshold.target }
                return [result(threshold.target, operation.flatMap { value(of: threshold.metric, in: $0) })]
            }
        }
    }

    static func value(of metric: String, in operation: OperationReport) -> Double? {
        if metric == "rate" { return operation.count == 0 ? nil : Double(operation.errors) / Double(operation.count) }
        return operation.count == 0 ? nil : operation.latencyMs.value(named: metric)
    }
}
