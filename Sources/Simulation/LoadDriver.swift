import Foundation
import Metrics
import Scenario
import StackCore
import StackModel

/// Drives the load through the scenario's phases — the open model's arrival schedule or the
/// closed model's users — and cuts the measurements into one-second intervals.
actor LoadDriver {
    let scenario: Scenario
    let clock: RunClock
    let runner: RequestRunner
    let users: [UserActor]
    let recorder: Recorder
    let sync: SnapshotSync
    let progress: (@Sendable (ProgressUpdate) -> Void)?
    let boundaries: [Int64]

    private(set) var intervals: [IntervalRow] = []
    private(set) var stackSamples: [StackSample] = []
    private var collector: Task<Void, Never>?
    private var lastCollected: Int64 = 0
    private var totalErrors = 0

    init(scenario: Scenario, clock: RunClock, runner: RequestRunner, users: [UserActor], recorder: Recorder,
         sync: SnapshotSync, progress: (@Sendable (ProgressUpdate) -> Void)?) {
        self.scenario = scenario; self.clock = clock; self.runner = runner; self.users = users
        self.recorder = recorder; self.sync = sync; self.progress = progress
        var t: Int64 = 0
        boundaries = [0] + scenario.load.phases.map { t += $0.duration.nanoseconds; return t }
    }

    nonisolated var end: Int64 { boundaries.last! }

    func phaseIndex(at t: Int64) -> Int {
        max(0, min(scenario.load.phases.count - 1, (boundaries.lastIndex { $0 <= t } ?? 0)))
    }

    /// Runs the load to the end of the last phase; returns how well the schedule was kept.
    func drive() async -> ScheduleStats {
        let phaseToggles = Task { [recorder, clock, boundaries, scenario] in
            for (index, phase) in scenario.load.phases.enumerated() {
                try? await clock.sleep(until: boundaries[index])
                recorder.setRecording(phase.record)
            }
        }
        collector = Task {
            var second: Int64 = 1
            while !Task.isCancelled {
                do { try await clock.sleep(until: second * 1_000_000_000) } catch { return }
                await collect(upTo: second * 1_000_000_000)
                second += 1
            }
        }
        let stats = switch scenario.load.model {
        case .open: await dispatchOpen()
        case .closed: await runClosed()
        }
        await phaseToggles.value
        return stats
    }

    /// Collects the last partial interval after the run has drained.
    func finishIntervals() async {
        collector?.cancel()
        await collector?.value
        await collect(upTo: clock.now())
    }

    private func collect(upTo t: Int64) async {
        let length = Double(t - lastCollected) / 1e9
        guard length > 0 else { return }
        lastCollected = t
        let (operations, lag) = recorder.takeInterval()
        let seconds = Double(t) / 1e9
        let inRun = t - 1 <= end
        let phase = scenario.load.phases[phaseIndex(at: t - 1)]
        let phaseName = inRun ? phase.name : "drain"
        let recorded = inRun && phase.record
        intervals += IntervalRow.rows(t: seconds, phase: phaseName, recorded: recorded, operations: operations)
        var merged = IntervalStats()
        for stats in operations.values { merged.merge(stats) }
        totalErrors += merged.errors
        let depth = (try? await sync.depth()) ?? -1
        let targetRate = inRun ? (scenario.load.model == .open ? phase.rate : nil) : nil
        stackSamples.append(StackSample(t: seconds, phase: phaseName, queueDepth: depth,
                                        snapshotLagP99Ms: lag.milliseconds(atPercentile: 99),
                                        throughputPerS: Double(merged.count) / length, targetRatePerS: targetRate))

        progress?(ProgressUpdate(elapsedSeconds: seconds, totalSeconds: Double(end) / 1e9, phase: phaseName,
                                 throughputPerSecond: Double(merged.count) / length, targetRate: targetRate,
                                 errors: merged.errors, totalErrors: totalErrors,
                                 p50Ms: merged.latency.milliseconds(atPercentile: 50),
                                 p99Ms: merged.latency.milliseconds(atPercentile: 99), queueDepth: depth))
    }

    /// Open model: every arrival is handed to its user at its intended time, whether or not
    /// earlier requests have finished. Lateness of the harness itself is counted.
    private func dispatchOpen() async -> ScheduleStats {
        let schedule = ArrivalSchedule(scenario: scenario, userCount: users.count)
        let tolerance = scenario.load.scheduleTolerance.nanoseconds
        var stats = ScheduleStats(intended: 0, late: 0, maxLagMs: 0, toleranceMs: Double(tolerance) / 1e6)
        for op in schedule {
            if op.at > clock.now() { try? await clock.sleep(until: op.at) }
            let lag = clock.now() - op.at
            stats.intended += 1
            if lag > tolerance { stats.late += 1 }
            stats.maxLagMs = max(stats.maxLagMs, Double(lag) / 1e6)
            let recorded = scenario.load.phases[op.phase].record
            let shard = op.userIndex % recorder.shardCount
            await users[op.userIndex].submit { [runner] requester in
                await runner.execute(op.operation, argument: op.argument, requester: requester, intended: op.at,
                                     recorded: recorded, shard: shard)
            }
        }
        return stats
    }

    /// Closed model: each virtual user sends a request, waits for the reply, thinks, repeats.
    /// A phase's `users` says how many of them are active in it.
    private func runClosed() async -> ScheduleStats {
        let maxUsers = scenario.load.phases.compactMap(\.users).max() ?? 0
        let mix = MixChooser(scenario.load.mix)
        let think = scenario.load.thinkTime.distribution
        await withTaskGroup(of: Void.self) { group in
            for virtualUser in 0..<maxUsers {
                group.addTask { [self] in await closedUser(virtualUser, mix: mix, think: think) }
            }
        }
        return ScheduleStats(intended: 0, late: 0, maxLagMs: 0, toleranceMs: scenario.load.scheduleTolerance.seconds * 1000)
    }

    private nonisolated func closedUser(_ index: Int, mix: MixChooser, think: DelayDistribution) async {
        var rng = SeededRandom(seed: scenario.seed).fork(10_000 + UInt64(index))
        let user = users[scenario.userChooser.choose(count: users.count, &rng)]
        var intended = Int64(think.sample(&rng).nanoseconds)
        while intended < end {
            let phaseIndex = max(0, (boundaries.lastIndex { $0 <= intended } ?? 0))
            let phase = scenario.load.phases[min(phaseIndex, scenario.load.phases.count - 1)]
            if index >= phase.users ?? 0 {
                intended = boundaries[phaseIndex + 1]
                continue
            }
            if intended > clock.now() { try? await clock.sleep(until: intended) }
            let operation = mix.choose(&rng)
            await runner.execute(operation, argument: rng.next(), requester: user.requester, intended: intended,
                                 recorded: phase.record, shard: index % recorder.shardCount)
            intended = clock.now() + think.sample(&rng).nanoseconds
        }
    }

    /// Rolls one tenant's sprint over at a time, so that each tenant's sprint lasts `every`.
    nonisolated func rollSprints(tenants: [TenantActor], stores: StackStores, time: any TimeSource, every: Duration) async {
        guard !tenants.isEmpty else { return }
        let step = every / tenants.count
        var next = 0
        while !Task.isCancelled {
            do { try await Task.sleep(for: step) } catch { return }
            try? await tenants[next % tenants.count].sprint.rollOver(stores: stores, now: time.now())
            next += 1
        }
    }
}
