import Foundation
import Metrics
import Reporting
import Scenario
import Simulation
import StackCore

/// Turns a finished run into its report, thresholds judged.
public enum ReportBuilder {
    public static let version = "0.1.0"

    public static func report(from run: RunResult) -> RunReport {
        let scenario = run.scenario
        let seconds = run.recordedSeconds
        let mixed = scenario.load.mix.filter { $0.weight > 0 }.map(\.operation)
        let names = Operations.builtIn.filter { mixed.contains($0) || run.totals.operations[$0] != nil }
            + run.totals.operations.keys.filter { !Operations.builtIn.contains($0) }.sorted()
        let operations = names.map { OperationReport(name: $0, stats: run.totals.operations[$0] ?? OperationStats(), seconds: seconds) }
        let count = operations.reduce(0) { $0 + $1.count }
        let errors = operations.reduce(0) { $0 + $1.errors }
        let denied = operations.reduce(0) { $0 + $1.denied }
        let offered: Int? = scenario.load.model == .open ? run.schedule.intendedRecorded : nil
        let t = run.totals
        let check = (try? run.consistency.get()) ?? ConsistencyFindings(orphans: 0, missingSnapshots: 0, staleSnapshots: 0, usersChecked: 0)
        let checkError: String? = if case .failure(let failure) = run.consistency { failure.message } else { nil }
        var report = RunReport(
            tool: ToolInfo(version: version),
            scenario: ScenarioInfo(name: scenario.name, description: scenario.description, seed: scenario.seed, file: scenario.file),
            target: run.target, targetNote: targetNote(run.target, clock: scenario.clock), machine: .current(), startedAt: run.startedAt,
            durationS: run.durationSeconds, recordedS: seconds, verdict: .pass, invalidReasons: [], aborted: run.stopReason?.message,
            dataset: DatasetInfo(organizations: run.dataset.organizations, users: run.dataset.users, tasks: run.dataset.tasks,
                                 sprints: run.dataset.sprints, activityLogs: run.dataset.activityLogs,
                                 generateS: run.dataset.generateSeconds, loadS: run.dataset.loadSeconds),
            load: LoadInfo(model: scenario.load.model.rawValue, arrivals: scenario.load.arrivals.rawValue,
                           phases: scenario.load.phases.map(phaseInfo)),
            scheduleLag: ScheduleInfo(intended: run.schedule.intended, late: run.schedule.late, maxLagMs: run.schedule.maxLagMs,
                                   toleranceMs: run.schedule.toleranceMs, maxLateFraction: run.schedule.maxLateFraction,
                                   lag: scenario.clock == .virtual ? nil : run.schedule.lag),
            totals: TotalsInfo(count: count, errors: errors, denied: denied, seconds: seconds, offered: offered,
                               dropped: run.schedule.dropped),
            operations: operations,
            consistency: ConsistencyInfo(
                snapshotLagMs: t.snapshotLag.summary, snapshotSyncs: Int(t.snapshotLag.count),
                cacheHitRatio: t.cache.mapValues(\.ratio), cacheLookups: t.cache, invalidations: t.invalidations,
                invalidatedKeys: t.invalidatedKeys, queueDepthMax: run.stackSamples.compactMap(\.queueDepth).max() ?? 0,
                syncFailures: run.syncFailures, tasksResynced: t.tasksResynced,
                consistencyCheck: ConsistencyCheckInfo(orphans: check.orphans, missingSnapshots: check.missingSnapshots,
                                                       staleSnapshots: check.staleSnapshots, usersChecked: check.usersChecked,
                                                       error: checkError)),
            harness: HarnessInfo(processCpuS: run.processCPUSeconds,
                                 coresUsed: run.durationSeconds > 0 ? run.processCPUSeconds / run.durationSeconds : 0,
                                 clockWaitS: scenario.clock == .virtual ? nil : run.clockWaitSeconds,
                                 hostCpuBusy: run.hostCPUBusy, overhead: scenario.clock == .virtual ? nil : t.harnessOverhead,
                                 cpuWakeLatency: run.cpuWakeLatency),
            thresholds: [],
            breakdowns: Breakdowns(byTenantSize: Breakdowns.rows(t.byTenantClass, order: ["small", "medium", "large"]),
                                   byPhase: Breakdowns.rows(t.byPhase, order: scenario.load.phases.map(\.name))),
            intervals: run.intervals, stackSamples: run.stackSamples)
        report.clock = scenario.clock.rawValue
        report.errorClasses = ErrorClassInfo.classes(operations: operations, samples: run.stackSamples)
        report.server = run.evidence.isEmpty ? nil : serverEvidence(run.evidence, operations: operations)
        let ledger = try? run.ledger.get()
        let ledgerError: String? = if case .failure(let failure) = run.ledger { failure.message } else { nil }
        report.integrity = IntegrityInfo(acknowledgedWrites: run.writesAcknowledged, unknownOutcomeWrites: run.writesUnknown,
                                         checked: ledger?.checked ?? 0, missing: ledger?.missing ?? 0, different: ledger?.different ?? 0,
                                         examples: ledger?.examples ?? [], error: ledgerError, syncJobsLost: run.syncJobsLost,
                                         relogins: run.relogins)
        if !run.schedule.valid {
            report.invalidReasons.append(
                "schedule_lag: \(run.schedule.late) of \(run.schedule.intended) arrivals were dispatched more than "
                    + "\(Format.ms(run.schedule.toleranceMs)) ms late, more than the allowed "
                    + "\(Format.percent(run.schedule.maxLateFraction)) (max \(Format.ms(run.schedule.maxLagMs)) ms); "
                    + "the harness could not keep up, so these latencies describe the harness, not the stack")
        }
        report.thresholds = ThresholdEvaluator.evaluate(scenario.thresholds, on: report) { operation in
            run.totals.operations[operation].map { $0.latency.adding($0.failedLatency).summary }
        }
        report.verdict = run.stopReason?.isInterruption == true ? .interrupted
            : !report.invalidReasons.isEmpty ? .invalid
            : report.thresholds.allSatisfy(\.passed) && run.stopReason == nil ? .pass : .fail
        return report
    }

    /// The stores' evidence as the report shows it: shapes by server time, findings drawn from them.
    static func serverEvidence(_ evidence: [StoreEvidence], operations: [OperationReport]) -> ServerEvidenceInfo {
        let stores = evidence.map { e in
            StoreEvidenceInfo(store: e.store.rawValue, source: e.source, shapes: e.shapes.map { call, shape in
                ShapeInfo(call: call, path: shape.path.map { ShapeInfo.Path(rawValue: $0.rawValue)! }, on: shape.on,
                          plan: shape.plan.map { PlanInfo(examined: $0.examined, returned: $0.returned, buffersHit: $0.buffersHit,
                                                          buffersRead: $0.buffersRead, nodes: $0.nodes) }, calls: shape.calls,
                          examined: shape.examined, returned: shape.returned, serverMs: shape.serverNanos.map { Double($0) / 1e6 },
                          clientMs: Double(shape.clientNanos) / 1e6, decodeMs: shape.decodeNanos.map { Double($0) / 1e6 },
                          blocking: shape.blocking)
            }, counters: e.counters, gauges: e.gauges, missing: e.missing)
        }
        return ServerEvidenceInfo(stores: stores, findings: Finding.from(stores),
                                  byOperation: OperationTimeInfo.rows(operations: operations, stores: stores))
    }

    static func phaseInfo(_ phase: Phase) -> PhaseInfo {
        let users: String? = phase.users.map {
            switch $0 {
            case .constant(let n): return "\(n)"
            case .ramp(let a, let b): return "ramp \(a)→\(b)"
            }
        }
        return PhaseInfo(name: phase.name, durationS: phase.duration.seconds, rate: phase.rate?.summary,
                         meanRatePerS: phase.rate?.mean(length: phase.duration.seconds), users: users, record: phase.record)
    }

    static func targetNote(_ target: String, clock: ClockKind) -> String {
        if clock == .virtual {
            return "Simulated time: the embedded stack in virtual time, where only the modelled service times and their queues "
                + "(stack.embedded) take time — not the harness's work nor the engines'. Latencies are simulated milliseconds; "
                + "the schedule is kept exactly, so schedule lag cannot make the run invalid; the same scenario and seed give the same numbers on any machine."
        }
        switch target {
        case "embedded":
            return "The embedded stack runs in-process: its latencies describe stacksim's own in-memory engines, "
                + "not PostgreSQL, MongoDB or Redis. Use it to check the workload and the harness; plan capacity against live servers."
        default:
            return "Measured against live servers."
        }
    }

    /// The target note of a live run: which servers, and a warning when MongoDB was the test server.
    public static func liveNote(_ servers: [ServerInfo]) -> String {
        "Measured against live servers: " + servers.map { server in
            "\(server.store) \(server.version) at \(server.url)" + (server.note.map { " — \($0)" } ?? "")
        }.joined(separator: "; ") + "."
    }
}
