import Capacity
import Foundation
import Metrics
import Reporting
import Scenario
import Simulation
import StackCore

/// Runs a capacity search: asks `CapacitySearch` for probes, runs each as a full run with its own
/// report, judges it on the SLO with its noise, and writes the capacity report after every
/// probe — so a search stopped at any point leaves what it found.
public struct CapacityRun {
    /// One probe, as the command runs it on its target: the scenario to run, the stop to obey, and
    /// the salt of its workload's random streams (`RunOptions.workloadSalt`).
    public typealias Probe = @Sendable (_ scenario: Scenario, _ stop: RunStop, _ salt: UInt64) async throws -> (RunResult, RunReport)

    public let plan: CapacityPlan
    public let target: String
    public let directory: URL
    public let stop: RunStop
    /// Told before each probe: its number, load and purpose, and the search's bounds so far.
    public var announce: @Sendable (_ index: Int, _ load: Double, _ purpose: CapacitySearch.Purpose, _ held: Double?, _ notHeld: Double?) -> Void
        = { _, _, _, _, _ in }

    public init(plan: CapacityPlan, target: String, directory: URL, stop: RunStop) {
        self.plan = plan; self.target = target; self.directory = directory; self.stop = stop
    }

    public func run(probe: Probe) async throws -> CapacityReport {
        let started = Date()
        var search = CapacitySearch(plan.search)
        let judge = SLOJudge(slo: plan.slo, confidence: plan.confidence)
        var probes: [CapacityReport.ProbeInfo] = []
        var pool: (load: Double, sample: ProbeSample, indices: [Int])?
        var report: CapacityReport?
        while case .probe(let load, let purpose) = search.next() {
            let index = probes.count + 1
            announce(index, load, purpose, search.held, search.notHeld)
            let length = purpose == .confirm ? plan.confirm : plan.probe
            // Probes share their random draws (differences between loads are the load's, not the
            // draw's); a repeat and the confirmation draw afresh, so they add independent samples.
            let salt: UInt64 = purpose == .repeat || purpose == .confirm ? UInt64(index) : 0
            let (result, runReport) = try await probe(plan.scenario(load: load, length: length), stop, salt)
            let name = String(format: "probe-%02d", index)
            try ReportWriter.write(runReport, histogramLog: result.histogramLog, to: directory.appendingPathComponent(name))
            var sample = ProbeSample(operations: result.totals.operations, snapshotLag: result.totals.snapshotLag, cache: result.totals.cache,
                                     seconds: result.recordedSeconds, dropped: result.schedule.dropped, batches: try Self.batches(of: result))
            var pooledWith: [Int] = []
            if purpose == .repeat, let earlier = pool, earlier.load == load {
                sample.pool(earlier.sample)
                pooledWith = earlier.indices
            }
            pool = (load, sample, pooledWith + [index])
            let (judged, checks) = judge.judge(sample, operations: plan.operations)
            let verdict: ProbeVerdict = result.stopReason?.isInterruption == true ? .interrupted
                : runReport.verdict == .invalid ? .notDriven : judged
            search.record(verdict)
            let stations = StationLoad.of(result.totals.operations, serverMsPerCall: Self.serverMsPerCall(result.evidence))
            probes.append(.init(index: index, load: load, purpose: purpose, verdict: verdict, pooledWith: pooledWith, report: name,
                                run: runReport, checks: checks, stations: stations))
            report = makeReport(started: started, probes: probes, search: search, base: runReport)
            try write(report!)
        }
        // The search asks for a probe first, so at least one has run and been reported.
        return report!
    }

    func makeReport(started: Date, probes: [CapacityReport.ProbeInfo], search: CapacitySearch, base: RunReport) -> CapacityReport {
        CapacityReport.make(plan: plan, search: search, probes: probes, stopped: stop.requested != nil, target: target,
                            targetNote: base.targetNote, tool: ToolInfo(version: ReportBuilder.version),
                            machine: .current(), cpu: base.projection == nil ? .harness : .modelled, started: started)
    }

    /// Each operation's per-second histograms of the recorded seconds, read back from the run's `latency.hlog` lines.
    static func batches(of result: RunResult) throws -> [String: [LatencyHistogram]] {
        let recorded = Set(result.intervals.filter(\.recorded).map { Int(($0.t * 1000).rounded()) })
        var batches: [String: [LatencyHistogram]] = [:]
        for line in try HistogramLog.parse(result.histogramLog.joined(separator: "\n")) {
            guard let tag = line.tag, recorded.contains(Int(((line.start + line.length) * 1000).rounded())) else { continue }
            batches[tag, default: []].append(line.histogram)
        }
        return batches
    }

    /// The servers' own mean time per call, by store, where their evidence has it.
    static func serverMsPerCall(_ evidence: [StoreEvidence]) -> [String: Double] {
        var result: [String: Double] = [:]
        for store in evidence {
            let timed = store.shapes.values.filter { $0.serverNanos != nil && $0.calls > 0 }
            let calls = timed.reduce(0) { $0 + $1.calls }
            guard calls > 0, store.source != StoreEvidence.embeddedSource else { continue }
            result[store.store.rawValue] = Double(timed.reduce(Int64(0)) { $0 + $1.serverNanos! }) / Double(calls) / 1e6
        }
        return result
    }

    /// `capacity.json`, `capacity.md` and `capacity.html`, rewritten after every probe.
    public func write(_ report: CapacityReport) throws {
        try ReportWriter.write([("capacity.json", String(decoding: try report.jsonData(), as: UTF8.self)),
                                ("capacity.md", CapacityPages.markdown(report)), ("capacity.html", CapacityPages.html(report))],
                               to: directory)
    }
}
