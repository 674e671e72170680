import Foundation
import Metrics
import Reporting
import Scenario

/// `capacity.json`: a capacity search's answer, what saturated, the fitted curve and every
/// probe. Documented in docs/capacity.md; a change that removes or renames a field bumps
/// `schemaVersion`.
public struct CapacityReport: Sendable, Codable {
    public static let currentSchemaVersion = 1

    public var schemaVersion = CapacityReport.currentSchemaVersion
    public var tool: ToolInfo
    public var scenario: ScenarioInfo
    public var target: String
    public var targetNote: String
    public var machine: MachineInfo
    public var startedAt: Date
    /// The whole search's wall time: what the answer cost.
    public var durationS: Double
    /// `rate`, `users` or `organizations`.
    public var dimension: String
    public var slo: [SLOBound]
    public var settings: SearchSettingsInfo
    public var outcome: Outcome
    public var saturation: Saturation?
    public var usl: USLInfo?
    public var probes: [ProbeInfo]

    public struct Outcome: Sendable, Codable {
        public var stop: SearchStop
        /// The capacity: the highest load that held, confirmed by a longer run (set only when converged).
        public var capacity: Double?
        /// The highest load that held, and the lowest that did not, in the search's unit.
        public var held: Double?
        public var notHeld: Double?
        /// (notHeld − held) / held: how close the search got.
        public var gap: Double?
        /// The confirmation run's verdict (nil when there was none).
        public var confirmation: ProbeVerdict?
        /// The answer in one sentence.
        public var summary: String
    }

    public struct SearchSettingsInfo: Sendable, Codable {
        public var start: Double
        public var min: Double
        public var max: Double
        public var growth: Double
        public var precision: Double
        public var warmupS: Double
        public var probeS: Double
        public var confirmS: Double
        public var maxProbes: Int
        public var repeats: Int
        public var confidence: Double
        public var ratePerOrg: Double?
    }

    public struct USLInfo: Sendable, Codable {
        public var basis: String
        public var sigma: Double
        public var kappa: Double
        public var lambda: Double
        public var peakConcurrency: Double?
        public var peakThroughputPerS: Double?
        public var rSquared: Double
        public var points: Int
        /// Probes left out because they never reached a steady state.
        public var unsteadyLeftOut: Int
        /// Why the curve should not be read as the system's law (nil: it fits).
        public var poorFit: String?
    }

    public struct ProbeInfo: Sendable, Codable {
        public var index: Int
        public var load: Double
        public var purpose: CapacitySearch.Purpose
        public var verdict: ProbeVerdict
        /// A repeat's verdict is of its samples pooled with these earlier probes' (same load).
        public var pooledWith: [Int]
        /// The probe's own report, relative to the capacity report's directory.
        public var report: String
        public var recordedS: Double
        public var offeredPerS: Double?
        public var goodputPerS: Double
        public var attemptedPerS: Double
        public var errorRate: Double
        public var meanLatencyMs: Double
        /// Requests in the system on average: goodput × mean latency (Little's law).
        public var concurrency: Double
        /// Whether latency stayed level through the probe; false when it kept growing (the queue
        /// never settled, so the concurrency measured depends on the probe's length).
        public var steady: Bool
        public var checks: [SLOCheck]
        public var operations: [OperationPoint]
        public var stations: [StationLoad]
        /// Why the harness could not drive it, when it could not.
        public var invalidReasons: [String]
        /// Generating and loading its dataset (re-seeded per probe for `organizations`; 0 when reused).
        public var datasetLoadS: Double
        /// The share of the harness machine's cores busy during the load (every process on it).
        public var hostCpuBusy: Double?
    }

    public struct OperationPoint: Sendable, Codable {
        public var name: String
        public var count: Int
        /// Successful requests' latency.
        public var latencyMs: PercentileSummary
    }

    public func jsonData() throws -> Data { try RunReport.encoder().encode(self) }
}

/// One SLO bound as the capacity report lists it.
public struct SLOBound: Sendable, Codable, Equatable {
    public var target: String
    public var metric: String
    public var limit: Double
    public var location: String

    public init(_ threshold: Threshold) {
        target = threshold.target; metric = threshold.metric; limit = threshold.limit; location = threshold.location
    }

    /// `board p99 ≤ 50 ms`, `errors ≤ 0.10 %`, `board throughput ≥ 100/s`.
    public var text: String { Self.describe(target: target, metric: metric, limit: limit) }

    /// A check's bound and what was measured: `board p99 34.2 ms against ≤ 20 ms`.
    static func describe(_ check: SLOCheck) -> String {
        let bound = describe(target: check.target, metric: check.metric, limit: check.limit)
        guard let estimate = check.estimate else { return bound + " (no data)" }
        return bound + " (measured " + value(estimate, metric: check.metric, target: check.target) + ")"
    }

    static func describe(target: String, metric: String, limit: Double) -> String {
        if target == "load" { return "no arrivals dropped" }
        let floor = Threshold.isFloor(target: target, metric: metric)
        let name = target == "errors" ? "errors" : target == "cache-hit-ratio" ? "\(metric) hit ratio" : "\(target) \(metric == "rate" ? "errors" : metric)"
        return "\(name) \(floor ? "≥" : "≤") \(value(limit, metric: metric, target: target))"
    }

    static func value(_ v: Double, metric: String, target: String) -> String {
        if target == "load" { return String(Int(v)) }
        if metric == "rate" || target == "errors" || target == "cache-hit-ratio" { return Format.percent(v) }
        if metric == "throughput" { return Format.number(v) + "/s" }
        return Format.ms(v) + " ms"
    }
}

extension CapacityReport {
    /// The report of a search so far: `stopped` when the run was asked to stop (a search still
    /// asking for probes then ended interrupted).
    /// `cpu` says whose CPU the probes' `hostCpuBusy` is.
    public static func make(plan: CapacityPlan, search: CapacitySearch, probes: [ProbeInfo], stopped: Bool, target: String,
                            targetNote: String, tool: ToolInfo, machine: MachineInfo, cpu: Saturation.Machine = .harness,
                            started: Date) -> CapacityReport {
        var finished = search
        let stopReason: SearchStop = if case .finished(let why) = finished.next() { why } else { stopped ? .interrupted : .budgetSpent }
        let confirmation = probes.last { $0.purpose == .confirm }?.verdict
        let describe = plan.dimension.describe
        let driven = probes.filter { $0.verdict != .notDriven && $0.verdict != .interrupted }
        var saturation: Saturation?
        if let first = driven.min(by: { $0.load < $1.load }),
           let last = driven.last(where: { $0.load == search.notHeld }) ?? driven.max(by: { $0.load < $1.load }), last.load > first.load {
            saturation = Saturation.find(from: (first.load, first.stations, first.hostCpuBusy), to: (last.load, last.stations, last.checks, last.hostCpuBusy),
                                         machine: cpu, describe: describe)
        }
        let steady = driven.filter { $0.steady && $0.goodputPerS > 0 }
        let fit = USLFit.fit(steady.map { (n: $0.concurrency, x: $0.goodputPerS) })
        let usl = fit.map { fit in
            CapacityReport.USLInfo(basis: "concurrency = goodput × mean latency (Little's law), throughput = goodput",
                                   sigma: fit.model.sigma, kappa: fit.model.kappa, lambda: fit.model.lambda,
                                   peakConcurrency: fit.model.peakConcurrency, peakThroughputPerS: fit.model.peakThroughput,
                                   rSquared: fit.rSquared, points: fit.points, unsteadyLeftOut: driven.count(where: { !$0.steady }),
                                   poorFit: fit.poorFit)
        }
        let outcome = Self.outcome(stopReason, search: search, confirmation: confirmation, probes: probes, slo: plan.slo,
                                   saturation: saturation, describe: describe)
        let s = plan.search
        return CapacityReport(
            tool: tool,
            scenario: ScenarioInfo(name: plan.base.name, description: plan.base.description, seed: plan.base.seed, file: plan.base.file),
            target: target, targetNote: targetNote, machine: machine, startedAt: started,
            durationS: Date().timeIntervalSince(started), dimension: plan.dimension.rawValue, slo: plan.slo.map(SLOBound.init),
            settings: .init(start: s.start, min: s.minimum, max: s.maximum, growth: s.growth, precision: s.precision,
                            warmupS: CapacityPlan.seconds(plan.warmup), probeS: CapacityPlan.seconds(plan.probe),
                            confirmS: CapacityPlan.seconds(plan.confirm),
                            maxProbes: s.maxProbes, repeats: s.repeats, confidence: plan.confidence, ratePerOrg: plan.ratePerOrganization),
            outcome: outcome, saturation: saturation, usl: usl, probes: probes)
    }

    static func outcome(_ stop: SearchStop, search: CapacitySearch, confirmation: ProbeVerdict?, probes: [ProbeInfo],
                        slo: [Threshold], saturation: Saturation?, describe: (Double) -> String) -> CapacityReport.Outcome {
        let within = "within " + slo.map { SLOBound($0).text }.joined(separator: ", ")
        let held = search.held, notHeld = search.notHeld
        let gap = held.flatMap { h in notHeld.map { ($0 - h) / h } }
        let saturates = saturation.map { "; \($0.subject) saturate\($0.station == StationLoad.app ? "" : "s") first" } ?? ""
        let lower = held.map { "holds at least \(describe($0)) \(within)" } ?? "no load tried held \(within)"
        // A load that never clearly failed is one whose samples could not show it held.
        let failed = notHeld.map { load in probes.last { $0.load == load }?.verdict == .inconclusive
            ? "could not be shown to hold within the noise of its samples" : "did not hold" } ?? ""
        let summary: String
        switch stop {
        case .converged:
            let next = notHeld.map { ", the next load tried, \(describe($0)) (+\(Format.percent(gap ?? 0))), \(failed)" } ?? ""
            let edge = confirmation == .inconclusive ? " (its confirmation run was within the noise of the SLO: this is the edge)" : ""
            summary = "Holds \(describe(held ?? 0)) \(within)\(next)\(saturates)\(edge)."
        case .maxLoad:
            summary = "Holds at least \(describe(held ?? 0)), the highest load the search may try, \(within); raise capacity.max to look further."
        case .failsAtMinimum:
            let last = probes.last { $0.verdict != .pass }
            let broke = last?.checks.filter { $0.verdict != .pass }.map(SLOBound.describe) ?? []
            summary = (last?.verdict == .inconclusive
                ? "Cannot show the SLO is met even at the lowest load tried, \(describe(notHeld ?? 0)), within the noise of its samples "
                    + "(longer probes would tell): "
                : "Breaks the SLO even at the lowest load tried, \(describe(notHeld ?? 0)): ") + broke.joined(separator: "; ") + "."
        case .budgetSpent:
            summary = "Did not converge in \(search.probes) probes: \(lower) (a lower bound)"
                + (notHeld.map { "; \(describe($0)) \(failed)" } ?? "") + "."
        case .harnessLimit:
            let load = probes.last { $0.verdict == .notDriven }.map { describe($0.load) } ?? "the next load"
            summary = "The harness could not drive \(load) (it fell behind its schedule): \(lower) — a lower bound, not a capacity."
        case .interrupted:
            summary = "Interrupted after \(probes.count) probes: \(lower) so far (a lower bound)."
        }
        return Outcome(stop: stop, capacity: stop == .converged ? held : nil, held: held, notHeld: notHeld, gap: gap,
                                      confirmation: confirmation, summary: summary)
    }
}

extension CapacityReport.ProbeInfo {
    /// A probe as the report lists it, from its run's report.
    public init(index: Int, load: Double, purpose: CapacitySearch.Purpose, verdict: ProbeVerdict, pooledWith: [Int], report name: String,
                run: RunReport, checks: [SLOCheck], stations: [StationLoad]) {
        let ok = run.operations.reduce(0) { $0 + $1.ok }
        let meanMs = ok > 0 ? run.operations.reduce(0) { $0 + $1.latencyMs.mean * Double($1.ok) } / Double(ok) : 0
        // Latency level through the probe: the typical latency of its last third against its first.
        let seconds = Dictionary(grouping: run.intervals.filter { $0.recorded && $0.ok > 0 }, by: \.t).sorted { $0.key < $1.key }.map { rows in
            rows.value.reduce(0) { $0 + $1.p50Ms * Double($1.ok) } / Double(rows.value.reduce(0) { $0 + $1.ok })
        }
        let third = seconds.count / 3
        let first = seconds.prefix(third), last = seconds.suffix(third)
        let steady = third == 0 || last.reduce(0, +) / Double(third) <= 2 * first.reduce(0, +) / Double(third) + 1
        self.init(
            index: index, load: load, purpose: purpose, verdict: verdict, pooledWith: pooledWith, report: name, recordedS: run.recordedS,
            offeredPerS: run.totals.offeredPerS, goodputPerS: run.totals.throughputPerS, attemptedPerS: run.totals.attemptedPerS,
            errorRate: run.totals.errorRate, meanLatencyMs: meanMs, concurrency: run.totals.throughputPerS * meanMs / 1000, steady: steady,
            checks: checks,
            operations: run.operations.map { .init(name: $0.name, count: $0.count, latencyMs: $0.latencyMs) },
            stations: stations, invalidReasons: run.invalidReasons, datasetLoadS: run.dataset.generateS + run.dataset.loadS,
            hostCpuBusy: run.harness.hostCpuBusy)
    }
}
