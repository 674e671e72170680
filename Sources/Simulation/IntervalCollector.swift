import Foundation
import Metrics
import Scenario
import StackCore

/// Cuts a run's measurements into one-second intervals — time series, histogram-log lines,
/// stack samples, progress — and judges `abort_on_fail` thresholds on the running totals.
actor IntervalCollector {
    let scenario: Scenario
    let recorder: Recorder
    let sync: SnapshotSync
    let schedule: ArrivalSchedule
    let progress: (@Sendable (ProgressUpdate) -> Void)?
    /// Where the stores are asked from: in virtual time the loop that moves the time.
    let executor: (any TaskExecutor)?

    private(set) var intervals: [IntervalRow] = []
    private(set) var stackSamples: [StackSample] = []
    /// `latency.hlog` lines, encoded as they are cut: a second costs a few hundred bytes, not a histogram.
    private(set) var histogramLog: [String] = []
    private var lastCollected: Int64 = 0
    private var totalErrors = 0
    let stop: RunStop

    init(scenario: Scenario, recorder: Recorder, sync: SnapshotSync, schedule: ArrivalSchedule, stop: RunStop, executor: (any TaskExecutor)?,
         progress: (@Sendable (ProgressUpdate) -> Void)?) {
        self.scenario = scenario; self.recorder = recorder; self.sync = sync; self.schedule = schedule; self.progress = progress
        self.executor = executor
        self.stop = stop
    }

    nonisolated var end: Int64 { schedule.end }

    func collect(upTo t: Int64) async {
        let length = Double(t - lastCollected) / 1e9
        guard length > 0 else { return }
        lastCollected = t
        let (operations, lag) = recorder.takeInterval()
        let seconds = Double(t) / 1e9
        let start = seconds - length
        let inRun = t - 1 <= end
        let phase = scenario.load.phases[schedule.phaseIndex(at: t - 1)]
        let phaseName = inRun ? phase.name : "drain"
        let recorded = inRun && phase.record
        intervals += IntervalRow.rows(t: seconds, phase: phaseName, recorded: recorded, operations: operations)
        var merged = CoarseStats()
        for name in operations.keys.sorted() {
            merged.merge(operations[name]!)
            histogramLog.append(HistogramLog.format(HistogramLog.Line(tag: name, start: start, length: length,
                                                                      histogram: operations[name]!.latency)))
        }
        histogramLog.append(HistogramLog.format(HistogramLog.Line(tag: nil, start: start, length: length, histogram: merged.latency)))
        totalErrors += merged.errors
        // Asked with a short deadline: a cache that does not answer must not stall the time series.
        let depth = try? await Deadline.run(until: .now + .milliseconds(250), on: executor) { [sync] in try await sync.depth() }
        let targetRate = schedule.targetRate(at: t - 1)
        stackSamples.append(StackSample(t: seconds, phase: phaseName, queueDepth: depth,
                                        snapshotLagP99Ms: lag.milliseconds(atPercentile: 99),
                                        throughputPerS: Double(merged.succeeded) / length,
                                        attemptedPerS: Double(merged.count) / length, targetRatePerS: targetRate,
                                        p50Ms: merged.latency.milliseconds(atPercentile: 50),
                                        p99Ms: merged.latency.milliseconds(atPercentile: 99), errors: merged.errors,
                                        errorsByClass: merged.errorClasses))

        checkAbortThresholds(at: t)
        progress?(ProgressUpdate(elapsedSeconds: seconds, totalSeconds: Double(end) / 1e9, phase: phaseName,
                                 throughputPerSecond: Double(merged.succeeded) / length, targetRate: targetRate,
                                 errors: merged.errors, totalErrors: totalErrors,
                                 p50Ms: merged.latency.milliseconds(atPercentile: 50),
                                 p99Ms: merged.latency.milliseconds(atPercentile: 99), queueDepth: depth))
    }

    /// Recorded seconds of load up to `t` ns after the start.
    nonisolated func recordedSeconds(upTo t: Int64) -> Double {
        scenario.load.phases.indices.reduce(0.0) { total, index in
            guard scenario.load.phases[index].record else { return total }
            return total + Double(max(0, min(t, schedule.boundaries[index + 1]) - schedule.boundaries[index])) / 1e9
        }
    }

    /// Judges `abort_on_fail` thresholds on the running totals, every second once enough recorded
    /// load has run, so a failing run stops within a second of failing.
    private func checkAbortThresholds(at t: Int64) {
        let watched = scenario.thresholds.filter(\.abortOnFail)
        let seconds = recordedSeconds(upTo: t)
        guard !watched.isEmpty, seconds >= scenario.abortAfter.seconds, stop.requested == nil else { return }
        let totals = recorder.latencyTotals()
        let failed = Threshold.judge(watched, operations: totals.operations.keys.sorted()) { target, threshold in
            RunningTotals(totals: totals, recordedSeconds: seconds).value(target: target, threshold: threshold)
        }.first { !$0.passed }
        if let failed {
            let actual = failed.actual.map { String(format: "%.3f", $0) } ?? "no data"
            stop.request(.threshold("threshold \(failed.target).\(failed.threshold.metric) (\(failed.threshold.location)) failed at "
                + String(format: "%.0f", Double(t) / 1e9) + " s: \(actual) against \(failed.threshold.limit)"))
        }
    }

}

/// Threshold values from the recorder's running totals.
struct RunningTotals {
    let totals: LatencyTotals
    let recordedSeconds: Double

    func value(target: String, threshold: Threshold) -> Double? {
        switch target {
        case "errors":
            let count = totals.operations.values.reduce(0) { $0 + $1.count }
            return count > 0 ? Double(totals.operations.values.reduce(0) { $0 + $1.errors }) / Double(count) : nil
        case "snapshot-lag":
            return totals.snapshotLag.count > 0 ? totals.snapshotLag.summary.value(named: threshold.metric) : nil
        case "cache-hit-ratio":
            return totals.cache[threshold.metric]?.ratio
        default:
            guard let op = totals.operations[target] else { return nil }
            let goodput = recordedSeconds > 0 ? Double(op.count - op.errors) / recordedSeconds : 0
            return threshold.operationValue(count: op.count, errors: op.errors, goodput: goodput) { includeFailed in
                (includeFailed ? op.latency.adding(op.failedLatency) : op.latency).summary.value(named: threshold.metric)
            }
        }
    }
}
