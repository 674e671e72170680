import Foundation
import Metrics
import Scenario
import StackCore
import StackModel
import Synchronization

/// Requests sent and not yet finished, up to a limit.
final class Outstanding: Sendable {
    private let count = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Takes a place; false when all `limit` are taken.
    func enter() -> Bool {
        if count.wrappingAdd(1, ordering: .relaxed).newValue <= limit { return true }
        count.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    func leave() { count.wrappingSubtract(1, ordering: .relaxed) }
}

/// Drives the load through the scenario's phases — the open model's arrival schedule or the
/// closed model's users — while its `series` cuts the measurements into one-second intervals.
actor LoadDriver {
    let scenario: Scenario
    let clock: RunClock
    let runner: RequestRunner
    let users: [UserActor]
    let recorder: Recorder
    let schedule: ArrivalSchedule

    /// Cuts the measurements into seconds on its own actor, so dispatch never waits for it.
    let series: IntervalCollector
    /// The thread the arrivals are released from and, on the embedded stack, the requests run on.
    nonisolated let loop: RequestLoop
    /// Where the stores' calls are cheapest from (a live stack's I/O thread), if anywhere: the
    /// requests run there instead of on the loop.
    nonisolated let storeExecutor: (any TaskExecutor)?
    private var collector: Task<Void, Never>?

    let stop: RunStop

    init(scenario: Scenario, clock: RunClock, loop: RequestLoop, storeExecutor: (any TaskExecutor)?, runner: RequestRunner, users: [UserActor],
         recorder: Recorder, sync: SnapshotSync, stop: RunStop, progress: (@Sendable (ProgressUpdate) -> Void)?) {
        self.stop = stop
        self.loop = loop
        self.storeExecutor = storeExecutor
        self.scenario = scenario; self.clock = clock; self.runner = runner; self.users = users
        self.recorder = recorder
        schedule = ArrivalSchedule(scenario: scenario, userCount: users.count)
        series = IntervalCollector(scenario: scenario, recorder: recorder, sync: sync, schedule: schedule, stop: stop,
                                   executor: clock.isVirtual ? loop : nil, progress: progress)
    }

    nonisolated var end: Int64 { schedule.end }

    /// Runs the load to the end of the last phase, or until a stop is asked for (then within a
    /// tenth of a second, wherever the run is in its phases); returns how well the schedule was kept.
    func drive() async -> ScheduleStats {
        let phaseToggles = Task(executorPreference: background) { [recorder, loop, boundaries = schedule.boundaries, scenario, stop] in
            for (index, phase) in scenario.load.phases.enumerated() {
                await loop.sleep(until: boundaries[index], unless: stop)
                guard stop.requested == nil else { return }
                recorder.setRecording(phase.record)
            }
        }
        collector = Task(executorPreference: background) { [series, loop] in
            var second: Int64 = 1
            while !Task.isCancelled {
                do { try await loop.sleep(until: second * 1_000_000_000) } catch { return }
                await series.collect(upTo: second * 1_000_000_000)
                second += 1
            }
        }
        let stats = switch scenario.load.model {
        case .open: await dispatchOpen()
        case .closed: await runClosed()
        }
        // The load lasts to the end of the last phase (past its last arrival), unless stopped.
        await loop.sleep(until: schedule.end, unless: stop)
        phaseToggles.cancel()
        await phaseToggles.value
        return stats
    }

    /// Where the run's own tasks run: in virtual time on the loop that moves the time, so that
    /// it knows of their waits; otherwise on the pool (nil).
    nonisolated var background: (any TaskExecutor)? { clock.isVirtual ? loop : nil }

    /// Lets the request loop's thread end: the run has drained.
    nonisolated func finishRequests() { loop.finish() }

    /// Collects the last partial interval after the run has drained.
    func finishIntervals() async {
        collector?.cancel()
        await collector?.value
        await series.collect(upTo: clock.now())
    }

    /// Open model: every arrival is handed to its user at its intended time, whether or not
    /// earlier requests have finished. The request loop checks for due arrivals between any two
    /// jobs, so they go out on time unless the loop's thread is saturated; lateness of the
    /// harness itself is counted. An arrival finding `load.max_outstanding` requests not yet
    /// finished is not sent but counted as dropped: memory stays bounded however far the stack
    /// falls behind.
    private func dispatchOpen() async -> ScheduleStats {
        let (loop, clock, users, runner, stop, phases) = (loop, clock, users, runner, stop, scenario.load.phases)
        let requests = storeExecutor ?? loop
        // Requests that run on the loop start on its thread, the one releasing them.
        let startsHere = storeExecutor == nil
        let tolerance = scenario.load.scheduleTolerance.nanoseconds
        let shards = recorder.shardCount
        let outstanding = Outstanding(limit: scenario.load.maxOutstanding ?? ScenarioLimits.current.maxOutstanding)
        let arrivals = Arrivals(schedule: schedule, stats: emptyScheduleStats())
        return await withCheckedContinuation { (done: CheckedContinuation<ScheduleStats, Never>) in
            loop.releasing {
                while let op = arrivals.next {
                    let now = clock.now()
                    if stop.requested != nil { break }
                    // Looks whether a stop was asked for at least every `stopCheck`.
                    if op.at > now { return min(op.at, now + RunClock.stopCheck) }
                    // The next arrival is drawn once this one is sent: its draw is not this one's delay.
                    defer { arrivals.advance() }
                    let phase = phases[op.phase]
                    arrivals.stats.intended += 1
                    if phase.record { arrivals.stats.intendedRecorded += 1 }
                    guard outstanding.enter() else {
                        arrivals.stats.dropped += 1
                        continue
                    }
                    let lag = now - op.at
                    if lag > tolerance { arrivals.stats.late += 1 }
                    arrivals.stats.lag.record(nanoseconds: lag)
                    users[op.userIndex].submit(on: requests, startingHere: startsHere) { requester, previousEnd in
                        let end = await runner.execute(op.operation, argument: op.argument, requester: requester, intended: op.at,
                                                       previousEnd: previousEnd, phase: phase, shard: op.userIndex % shards)
                        outstanding.leave()
                        return end
                    }
                }
                if let stats = arrivals.end() { done.resume(returning: stats) }
                return nil
            }
        }
    }

    /// The open model's arrivals still to send and what sending them has shown; used on the
    /// request loop's thread only.
    private final class Arrivals: @unchecked Sendable {
        private var iterator: ArrivalSchedule.Iterator
        private var ended = false
        private(set) var next: ArrivalSchedule.Element?
        var stats: ScheduleStats

        init(schedule: ArrivalSchedule, stats: ScheduleStats) {
            iterator = schedule.makeIterator()
            next = iterator.next()
            self.stats = stats
        }

        func advance() { next = iterator.next() }

        /// The stats, the first time the schedule is found finished or stopped.
        func end() -> ScheduleStats? {
            defer { ended = true; next = nil }
            return ended ? nil : stats
        }
    }

    private func emptyScheduleStats() -> ScheduleStats {
        ScheduleStats(intended: 0, intendedRecorded: 0, dropped: 0, late: 0, toleranceMs: scenario.load.scheduleTolerance.seconds * 1000,
                      maxLateFraction: scenario.load.maxLateFraction)
    }

    /// Closed model: each virtual user sends a request, waits for the reply, thinks, repeats.
    /// A phase's `users` shape says how many of them are active at each moment. A thinking user
    /// is an entry in the request loop's queue of due times, not a sleeping task: a hundred
    /// thousand idle users cost a few megabytes.
    private func runClosed() async -> ScheduleStats {
        let maxUsers = scenario.load.phases.compactMap(\.users?.maximum).max() ?? 0
        let users = ClosedUsers(driver: self, count: maxUsers)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            users.finished = done
            loop.releasing { users.release() }
        }
        return emptyScheduleStats()
    }

    /// The closed model's virtual users, driven from the request loop's thread only.
    private final class ClosedUsers: @unchecked Sendable {
        let driver: LoadDriver
        let mixes: [MixChooser]
        let think: DelayDistribution
        /// Each virtual user's random stream and the dataset user it acts as.
        var streams: [SeededRandom]
        let userIndex: [Int]
        /// Thinking users by the moment their next request is intended (a binary min-heap).
        var due = DueHeap<Int>()
        var running = 0
        var finished: CheckedContinuation<Void, Never>?

        init(driver: LoadDriver, count: Int) {
            self.driver = driver
            let scenario = driver.scenario
            mixes = scenario.load.phases.map { MixChooser($0.mix ?? scenario.load.mix) }
            let think = scenario.load.thinkTime.distribution
            self.think = think
            var streams = (0..<count).map { SeededRandom(seed: scenario.seed).fork(10_000 + UInt64($0)) }
            let population = driver.users.count
            userIndex = (0..<count).map { index in scenario.userChooser.choose(count: population, &streams[index]) }
            self.streams = streams
            for index in 0..<count { thinks(index, from: 0) }
        }

        /// The user thinks from `now`, then sends its next request if that is before the load ends.
        func thinks(_ index: Int, from now: Int64) {
            let next = now + think.sample(&streams[index]).nanoseconds
            if next < driver.schedule.end { due.push(next, index) }
        }

        /// Sends the requests that are due; returns when the next one is (at least every `stopCheck`).
        func release() -> Int64? {
            let (clock, schedule, stop) = (driver.clock, driver.schedule, driver.stop)
            while let (intended, index) = due.min, stop.requested == nil {
                let now = clock.now()
                guard intended <= now else { return min(intended, now + RunClock.stopCheck) }
                due.popMin()
                let phaseIndex = schedule.phaseIndex(at: intended)
                let phase = driver.scenario.load.phases[phaseIndex]
                let into = Double(intended - schedule.boundaries[phaseIndex]) / 1e9
                if index >= phase.users?.users(at: into, length: phase.duration.seconds) ?? 0 {
                    // Not active yet: look again shortly (a ramp adds users as it goes).
                    due.push(min(schedule.boundaries[phaseIndex + 1], intended + 50_000_000), index)
                    continue
                }
                let operation = mixes[phaseIndex].choose(&streams[index])
                let argument = streams[index].next()
                running += 1
                Task(executorPreference: driver.loop) { [self] in
                    let (runner, requester, shard) = (driver.runner, driver.users[userIndex[index]].requester, index % driver.recorder.shardCount)
                    // The request where the stores are cheapest to call from; its user back on the loop.
                    _ = await withTaskExecutorPreference(driver.storeExecutor) {
                        await runner.execute(operation, argument: argument, requester: requester, intended: intended, phase: phase, shard: shard)
                    }
                    running -= 1
                    thinks(index, from: clock.now())
                    _ = release()
                }
            }
            if stop.requested != nil || due.min == nil, running == 0, let done = finished {
                finished = nil
                done.resume()
            }
            return nil
        }
    }

    /// Rolls one tenant's sprint over at a time, so that each tenant's sprint lasts `every`.
    nonisolated func rollSprints(tenants: [TenantActor], stores: StackStores, time: any TimeSource, every: Duration) async {
        guard !tenants.isEmpty else { return }
        let step = every / tenants.count
        var next = 0
        while !Task.isCancelled {
            do { try await loop.sleep(until: clock.now() + step.nanoseconds) } catch { return }
            try? await tenants[next % tenants.count].sprint.rollOver(stores: stores, now: time.now())
            next += 1
        }
    }
}

