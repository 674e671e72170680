import Foundation
import Metrics
import Synchronization
import Scenario
import StackCore
import StackModel

/// Why a run stopped before the end of its last phase.
public enum StopReason: Sendable, Equatable {
    /// An `abort_on_fail` threshold failed on the running totals.
    case threshold(String)
    /// Someone asked it to stop: the signal's name (SIGINT, SIGTERM).
    case interrupted(String)

    public var message: String {
        switch self {
        case .threshold(let why): return why
        case .interrupted(let signal): return "interrupted by \(signal)"
        }
    }

    public var isInterruption: Bool {
        if case .interrupted = self { return true }
        return false
    }
}

/// Lets a run be stopped from outside (a signal handler) or from inside (a threshold): the
/// load stops, in-flight requests finish, and everything measured so far is reported.
public final class RunStop: Sendable {
    private let reason = Mutex<StopReason?>(nil)

    public init() {}

    /// Records the first reason only.
    public func request(_ why: StopReason) {
        reason.withLock { if $0 == nil { $0 = why } }
    }

    public var requested: StopReason? { reason.withLock { $0 } }
}

/// What a run is pointed at and how it reports progress.
public struct RunOptions: Sendable {
    /// The stores to run against; nil builds the embedded stack with the scenario's knobs.
    public var stores: StackStores?
    public var target = "embedded"
    public var actions: [ActionDefinition] = BuiltInActions.all
    /// Changes to the generated dataset, applied in order before it is loaded.
    public var datasetSteps: [DatasetStep] = []
    /// Called once per second with the last interval.
    public var progress: (@Sendable (ProgressUpdate) -> Void)?
    public var stop = RunStop()
    /// Which stores to load the dataset into; the others already hold it (a reused live dataset).
    public var load: Set<StoreKind> = Set(StoreKind.allCases)
    /// The time the dataset's dates are generated around; nil: now. A reused dataset keeps its own.
    public var anchor: Date?
    /// Mixed into every request's random stream, so the ids a run creates differ from those of
    /// earlier runs on the same stores (a reused dataset's run number); 0 on fresh stores.
    public var runSalt: UInt64 = 0
    /// Take the stores' own account of the load (`RunResult.evidence`); off, the stores are not
    /// asked at all.
    public var serverEvidence = true
    /// Called once the dataset is in the stores (a live target marks it loaded then).
    public var datasetLoaded: (@Sendable () async throws -> Void)?
    /// Added to the seed of the workload's random streams (arrivals, users' choices, embedded
    /// service times) but not of the dataset: a run that repeats another without replaying its draws.
    public var workloadSalt: UInt64 = 0
    /// The embedded stores' knobs instead of the scenario's (a calibrated model's projection).
    public var embeddedKnobs: [StoreKind: StoreKnobs]?
    /// The application's own time per request besides its store calls (a calibrated model's).
    public var appTime: AppTime?
    /// The machine's cores, when the stores and the application share them (a calibrated model
    /// of co-located servers): every service time and the application's time are done at a share of them.
    public var hostCores: Int?
    /// Of each of those times, the share that is CPU on the cores (the rest waits without one).
    public var hostCPUShare = 1.0
    /// What to ask of the machine's idle CPUs while the load is on (wall time only).
    public var cpuWakeLatency = CPUWakeLatency.auto

    public init() {}
}

public struct ProgressUpdate: Sendable {
    public var elapsedSeconds: Double
    public var totalSeconds: Double
    public var phase: String
    public var throughputPerSecond: Double
    public var targetRate: Double?
    public var errors: Int
    public var totalErrors: Int
    public var p50Ms: Double
    public var p99Ms: Double
    /// nil when the cache could not be asked.
    public var queueDepth: Int?
}

public struct DatasetSummary: Sendable, Codable {
    public var organizations: Int
    public var users: Int
    public var tasks: Int
    public var sprints: Int
    public var activityLogs: Int
    public var generateSeconds: Double
    public var loadSeconds: Double
    /// What each store loaded and how long it took (the stores load at once).
    public var stores: [StoreLoad]
}

/// One store's part of a dataset load: rows (or documents, or keys) and seconds.
public struct StoreLoad: Sendable, Codable {
    public var store: StoreKind
    public var rows: Int
    public var seconds: Double

    public var rowsPerSecond: Double { Double(rows) / max(seconds, 1e-9) }
}

/// How well the harness kept to its schedule.
public struct ScheduleStats: Sendable, Codable {
    /// Arrivals whose intended time came while the load ran, and those of them in recorded phases.
    public var intended: Int
    public var intendedRecorded: Int
    /// Arrivals not sent because `load.max_outstanding` requests were unfinished.
    public var dropped: Int
    /// Arrivals dispatched later than the tolerance after their intended time.
    public var late: Int
    /// Open model: how late after its intended time each arrival sent was dispatched (the
    /// request loop's wake-ups and the jobs it was running meanwhile); empty for the closed model.
    public var lag = LatencyHistogram()
    public var maxLagMs: Double { lag.maxMilliseconds }
    public var toleranceMs: Double
    public var maxLateFraction: Double
    /// False when the harness fell behind its own schedule on more of the arrivals it sent than
    /// allowed: the latencies then describe the harness, not the stack.
    public var valid: Bool { intended == dropped || Double(late) <= Double(intended - dropped) * maxLateFraction }
}

public struct ConsistencyCheckFailure: Error, Sendable {
    public var message: String
}

public struct RunResult: Sendable {
    public var scenario: Scenario
    public var target: String
    public var startedAt: Date
    public var durationSeconds: Double
    public var recordedSeconds: Double
    public var dataset: DatasetSummary
    public var totals: Totals
    public var intervals: [IntervalRow]
    public var stackSamples: [StackSample]
    /// `latency.hlog`'s lines: per second, one per operation and one untagged (all operations),
    /// each a histogram of the successful requests' latency.
    public var histogramLog: [String]
    /// The consistency check after the run, or why it could not run (a store failing): the
    /// run's measurements are kept either way.
    public var consistency: Result<ConsistencyFindings, ConsistencyCheckFailure>
    public var schedule: ScheduleStats
    public var syncFailures: Int
    /// Snapshot-sync jobs enqueued that never came out of the queue (a cache that lost them).
    public var syncJobsLost: Int
    /// Requests whose session was gone (a cache restart): the user logged in again and went on.
    public var relogins: Int
    /// The acknowledged writes read back after the run, or why they could not be.
    public var ledger: Result<LedgerFindings, ConsistencyCheckFailure>
    /// Writes the stores acknowledged, and writes whose call failed without an answer.
    public var writesAcknowledged: Int
    public var writesUnknown: Int
    /// CPU time (user + system) the whole process used during the load, stores included when embedded.
    public var processCPUSeconds: Double
    /// Of that, the request loop's waiting by the clock for the next arrival or wait to come due
    /// (wall time only): CPU spent on punctuality rather than on requests.
    public var clockWaitSeconds: Double
    /// The share of the machine's cores busy (every process, servers on it included) during the
    /// load; nil where the machine cannot say.
    public var hostCPUBusy: Double?
    /// Whether the machine's CPU wake-up latency was held during the load; nil in virtual time.
    public var cpuWakeLatency: WakeLatencyInfo?
    /// Set when the run stopped before the end of its last phase.
    public var stopReason: StopReason?
    /// Each store's account of its work from the start of the load until it drained (empty
    /// when not asked for).
    public var evidence: [StoreEvidence]
}

/// A change to the generated dataset before it is loaded, written in Swift — a tenant ten times
/// larger, labels on a share of the tasks. Each step draws from its own stream of the scenario's
/// seed, so the same seed still gives the same dataset.
public struct DatasetStep: Sendable {
    public let name: String
    public let apply: @Sendable (inout Dataset, inout SeededRandom) -> Void

    public init(_ name: String, apply: @escaping @Sendable (inout Dataset, inout SeededRandom) -> Void) {
        self.name = name
        self.apply = apply
    }

    /// The scenario's dataset as of `anchor`, with `steps` applied.
    static func generate(_ scenario: Scenario, anchor: Date, steps: [DatasetStep]) -> Dataset {
        var generator = DatasetGenerator(spec: scenario.datasetSpec, seed: scenario.seed, anchor: anchor)
        var dataset = generator.generate()
        let base = SeededRandom(seed: scenario.seed)
        for step in steps {
            var rng = base.fork(SeededRandom.stableHash(step.name))
            step.apply(&dataset, &rng)
        }
        return dataset
    }
}

/// Runs one scenario: builds and loads the dataset, starts the actors, drives the load through
/// its phases, measures, and checks consistency at the end.
public enum SimulationRun {
    public static func run(_ scenario: Scenario, options: RunOptions = RunOptions()) async throws -> RunResult {
        // Virtual time starts at the dataset's anchor; without one given, at a fixed moment, so
        // that the same scenario and seed give the same run on any machine.
        let virtual = scenario.clock == .virtual ? VirtualTime(anchor: options.anchor ?? VirtualTime.defaultAnchor) : nil
        let time: any TimeSource = virtual ?? WallTime()
        let load = LoadClock(timeline: Timeline(virtual: virtual))
        var workload = scenario
        workload.seed = scenario.seed &+ options.workloadSalt
        let host = options.hostCores.map { SharedCores(cores: $0, cpuShare: options.hostCPUShare, load: load) }
        let stores = options.stores ?? EmbeddedStack.make(knobs: options.embeddedKnobs ?? scenario.embeddedKnobs, seed: workload.seed, time: time,
                                                          load: load, host: host)
        try await stores.relational.ping()
        try await stores.documents.ping()
        try await stores.cache.ping()

        let (dataset, summary) = try await seed(scenario, into: stores, anchor: options.anchor ?? time.now(), steps: options.datasetSteps,
                                                load: options.load)
        try await options.datasetLoaded?()

        let operations = Set((scenario.load.mix + scenario.load.phases.flatMap { $0.mix ?? [] }).map(\.operation))
        let recorder = Recorder(shards: max(4, 2 * ProcessInfo.processInfo.activeProcessorCount), operations: operations.count,
                                groups: scenario.load.phases.count + Requester.tenantClasses.count)
        let observer = RecordingObserver(recorder: recorder)
        let sync = SnapshotSync(stores: stores, strategy: scenario.syncStrategy, workers: scenario.stack.syncWorkers,
                                time: time, observer: observer)
        let evidenceBefore = options.serverEvidence ? await evidence(of: stores, until: .now + scenario.stack.pool.callTimeout) : []
        let sprintsByOrganization = Dictionary(grouping: dataset.sprints, by: \.organizationID)
        let tenants = dataset.tenants.enumerated().map { index, tenant in
            TenantActor(tenant: tenant, sprint: SprintActor(sprints: sprintsByOrganization[tenant.organization.id] ?? [],
                                                            seed: scenario.seed &+ UInt64(index)))
        }
        let users = zip(dataset.tenants, tenants).flatMap { tenant, actor in
            let tenantClass = Requester.tenantClass(members: tenant.memberIDs.count)
            return tenant.memberIDs.map {
                UserActor(requester: Requester(userID: $0, organizationID: tenant.organization.id, sessionToken: sessionToken($0),
                                               tenantClass: tenantClass, tenant: actor))
            }
        }
        // Held from here to the drain's end: the load, not the dataset's loading or the checks
        // after. A hold not had is made up for by the loop keeping its core awake.
        let (wakeHold, wakeLatency) = virtual == nil ? WakeLatencyHold.acquire(options.cpuWakeLatency, target: options.target) : (nil, nil)
        // The schedule's time 0: after the actors exist, so that building them (70k users at
        // 3,000 organizations) is not counted as lateness of the first arrivals.
        let clock = RunClock(timeline: load.timeline)
        let loop = RequestLoop(clock: clock, keepsAwake: wakeLatency?.loopAwakeUs != nil)
        loop.start()
        // In virtual time every task of the simulation runs on the loop that moves the time.
        let background: (any TaskExecutor)? = virtual == nil ? nil : loop
        // The stack's own work (snapshot sync, sprint roll-over, the stores' own tasks) runs where
        // the requests do: on the cooperative pool it contended with them for the embedded stores'
        // locks, and a convoy of futex hand-offs between the two threads stalled requests for 100 ms
        // at a time; a blocking pop's timeout started on the pool woke one of its threads, at tens
        // of microseconds a wake-up on a virtual machine, for every job the sync workers took.
        let stackWork: any TaskExecutor = virtual == nil ? stores.executor ?? loop : loop
        load.mark(sleeper: loop, executor: stackWork)
        let ledger = WriteLedger(clock: clock)
        let context = ActionContext(stores: stores, cache: CacheService(stores: stores, settings: scenario.cacheSettings, observer: observer),
                                    sync: sync, time: time, ledger: ledger)
        let runner = RequestRunner(context: context, actions: Dictionary(options.actions.map { ($0.name, $0) }) { a, _ in a },
                                   recorder: recorder, workers: AppWorkers(limit: scenario.stack.appWorkers), clock: clock,
                                   rateLimitPerMinute: scenario.stack.rateLimitPerMinute, sessionTTL: scenario.stack.sessionTTL,
                                   salt: options.runSalt, observer: observer, appTime: options.appTime, host: host, sleeper: load)
        let workers = (0..<sync.workers).map { SyncWorker(index: $0, sync: sync, sleeper: load) }
        let workerTasks = workers.map { worker in Task(executorPreference: stackWork) { await worker.run() } }

        let startedAt = Date()
        let cpuStart = processCPUSeconds()
        // The machine's busy share: a calibrated model's cores where it has them; else, in wall
        // time, the real machine's (in virtual time the real machine's CPU only says how fast it simulates).
        let hostStart = host == nil && virtual == nil ? HostCPU.now() : nil
        let modelledStart = host?.reading()
        let driver = LoadDriver(scenario: workload, clock: clock, loop: loop, storeExecutor: stores.executor, runner: runner, users: users, recorder: recorder,
                                sync: sync, stop: options.stop, progress: options.progress)
        let sprintTask = Task(executorPreference: stackWork) {
            await driver.rollSprints(tenants: tenants, stores: stores, time: time, every: scenario.stack.sprintLength)
        }
        // What servers' sessions wait on, sampled in wall time: not in virtual time (the embedded stores have no sessions).
        let waitSampler = options.serverEvidence && virtual == nil ? Task { await sampleWaits(of: stores) } : nil
        // The load, its drain and the sync jobs' end, in virtual time on the loop that moves the time.
        let (schedule, loadEnded, hostBusy, syncJobsLost) = await withTaskExecutorPreference(background) {
            let schedule = await driver.drive()
            let loadEnded = clock.now()
            let hostBusy = if let host, let modelledStart { host.busyFraction(since: modelledStart) }
                else { hostStart.flatMap { start in HostCPU.now()?.busyFraction(since: start) } }
            // Whatever the servers do, the load and its drain end by here: queued requests get the
            // graceful stop to start, running ones one call timeout more; any still running then are
            // recorded as unfinished. In virtual time the graceful stop is simulated time and the
            // deadline only a safety net.
            let drainTime = scenario.load.gracefulStop + scenario.stack.pool.callTimeout
            let hardDeadline = ContinuousClock.now + (virtual == nil ? drainTime : max(drainTime, .seconds(600)))
            let gracefulStop = Task(executorPreference: background) { [stop = options.stop] in
                let deadline = clock.now() + scenario.load.gracefulStop.nanoseconds
                while stop.requested == nil, clock.now() < deadline {
                    do { try await loop.sleep(until: min(deadline, clock.now() + 20_000_000)) } catch { return }
                }
                runner.cutOffQueuedRequests()
            }
            do {
                try await Deadline.run(until: hardDeadline, on: background) { for user in users { await user.drain() } }
            } catch {
                runner.cutOffQueuedRequests()
                runner.recordUnfinished()
            }
            gracefulStop.cancel()
            let syncJobsLost = await waitForSync(sync, on: loop, until: min(hardDeadline, ContinuousClock.now + .seconds(30)))
            sprintTask.cancel()
            for task in workerTasks { task.cancel() }
            await driver.finishIntervals()
            driver.finishRequests()
            return (schedule, loadEnded, hostBusy, syncJobsLost)
        }
        wakeHold?.release()
        waitSampler?.cancel()
        let waits = await waitSampler?.value ?? [:]
        let hardDeadline = ContinuousClock.now + scenario.stack.pool.callTimeout
        var serverEvidence: [StoreEvidence] = []
        if options.serverEvidence {
            let evidenceAfter = await evidence(of: stores, until: hardDeadline)
            serverEvidence = zip(evidenceAfter, evidenceBefore).map { $0.delta(since: $1) }
            for (index, sampled) in waits { serverEvidence[index].counters.merge(sampled, uniquingKeysWith: +) }
            await attachPlans(of: stores, to: &serverEvidence, until: ContinuousClock.now + scenario.stack.pool.callTimeout)
        }
        let cpuSeconds = processCPUSeconds() - cpuStart
        let clockWaitSeconds = Double(loop.clockWaitNanoseconds) / 1e9
        let duration = Date().timeIntervalSince(startedAt)
        var syncFailures = 0
        for worker in workers { syncFailures += await worker.failures }

        // The checks after the run: at most one call timeout past the drain's deadline.
        let checksDeadline = max(hardDeadline, ContinuousClock.now) + scenario.stack.pool.callTimeout
        let consistency = await check(until: checksDeadline) {
            try await ConsistencyCheck(stores: stores, batchSize: scenario.stack.batchSize).run()
        }
        let ledgerFindings = await check(until: checksDeadline) { try await ledger.verify(stores) }
        return RunResult(scenario: scenario, target: options.target, startedAt: startedAt, durationSeconds: duration,
                         recordedSeconds: driver.series.recordedSeconds(upTo: min(loadEnded, driver.end)),
                         dataset: summary, totals: recorder.totals(), intervals: await driver.series.intervals,
                         stackSamples: await driver.series.stackSamples, histogramLog: await driver.series.histogramLog, consistency: consistency, schedule: schedule,
                         syncFailures: syncFailures, syncJobsLost: syncJobsLost, relogins: runner.relogins, ledger: ledgerFindings,
                         writesAcknowledged: ledger.acknowledged, writesUnknown: ledger.unknownOutcome,
                         processCPUSeconds: cpuSeconds, clockWaitSeconds: clockWaitSeconds, hostCPUBusy: hostBusy,
                         cpuWakeLatency: wakeLatency,
                         stopReason: options.stop.requested,
                         evidence: serverEvidence)
    }

    /// Each store's evidence now, in `StoreKind` order; a store that cannot give it (or not by
    /// `deadline`) says why.
    static func evidence(of stores: StackStores, until deadline: ContinuousClock.Instant) async -> [StoreEvidence] {
        var result: [StoreEvidence] = []
        for (kind, source) in stores.evidenceSources {
            guard let source else {
                result.append(.unavailable(kind, "server evidence is not collected from live servers in this version"))
                continue
            }
            do {
                result.append(try await Deadline.run(until: deadline) { try await source.evidence() })
            } catch {
                result.append(.unavailable(kind, "the store did not give its evidence: \(error)"))
            }
        }
        return result
    }

    /// Once a second until cancelled, what each store's sessions wait on: counters by store index,
    /// `waits.<event>` (sessions seen waiting, summed over the samples) and `waits.samples`.
    static func sampleWaits(of stores: StackStores) async -> [Int: [String: Double]] {
        var totals: [Int: [String: Double]] = [:]
        while !Task.isCancelled {
            for (index, store) in stores.evidenceSources.enumerated() {
                guard let source = store.source,
                      // nil: the store cannot say, or did not answer in time.
                      let waits = try? await Deadline.run(until: .now + .milliseconds(250), { try await source.waits() }) else { continue }
                totals[index, default: [:]]["waits.samples", default: 0] += 1
                for (wait, sessions) in waits { totals[index]!["waits.\(wait)", default: 0] += sessions }
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { break }
        }
        return totals
    }

    /// Each store's plans of the calls it served, attached to their shapes; a store that cannot
    /// plan them (or not by `deadline`) says so.
    static func attachPlans(of stores: StackStores, to evidence: inout [StoreEvidence], until deadline: ContinuousClock.Instant) async {
        for (index, store) in stores.evidenceSources.enumerated() {
            guard let source = store.source else { continue }
            do {
                evidence[index].attach(try await Deadline.run(until: deadline) { try await source.plans() })
            } catch {
                evidence[index].missing.append("the plans could not be had: \(error)")
            }
        }
    }

    /// The first `count` operations the open model intends, generated as they are read.
    public static func dryRun(_ scenario: Scenario, count: Int, datasetSteps: [DatasetStep] = []) -> PrefixSequence<ArrivalSchedule> {
        let users = DatasetStep.generate(scenario, anchor: Date(timeIntervalSince1970: 0), steps: datasetSteps).users.count
        return ArrivalSchedule(scenario: scenario, userCount: users).prefix(count)
    }

    /// A check after the run, bounded by `deadline`; its failure is reported, not thrown.
    static func check<T: Sendable>(until deadline: ContinuousClock.Instant,
                                   _ body: @escaping @Sendable () async throws -> T) async -> Result<T, ConsistencyCheckFailure> {
        do {
            return .success(try await Deadline.run(until: deadline, body))
        } catch is DeadlineExceeded {
            return .failure(ConsistencyCheckFailure(message: "not finished by the run's deadline (a store did not answer in time)"))
        } catch {
            return .failure(ConsistencyCheckFailure(message: "\(error)"))
        }
    }

    /// Generates the scenario's dataset as of `anchor` and loads it into the `load` stores.
    @discardableResult
    public static func seed(_ scenario: Scenario, into stores: StackStores, anchor: Date = Date(),
                            steps: [DatasetStep] = [], load parts: Set<StoreKind> = Set(StoreKind.allCases)) async throws -> (Dataset, DatasetSummary) {
        let generateStart = Date()
        let dataset = DatasetStep.generate(scenario, anchor: anchor, steps: steps)
        let loadStart = Date()
        let loads = try await load(dataset, into: stores, scenario: scenario, parts: parts)
        let summary = DatasetSummary(organizations: dataset.organizations.count, users: dataset.users.count,
                                     tasks: dataset.tasks.count, sprints: dataset.sprints.count,
                                     activityLogs: dataset.activityLogs.count,
                                     generateSeconds: loadStart.timeIntervalSince(generateStart),
                                     loadSeconds: Date().timeIntervalSince(loadStart), stores: loads)
        return (dataset, summary)
    }

    /// The dataset into the chosen stores at once: its tables, its documents, a session per
    /// user; returns what each store loaded and how long it took.
    static func load(_ dataset: Dataset, into stores: StackStores, scenario: Scenario, parts: Set<StoreKind>) async throws -> [StoreLoad] {
        func timed(_ store: StoreKind, rows: Int, _ body: () async throws -> Void) async throws -> StoreLoad? {
            guard parts.contains(store) else { return nil }
            let start = ContinuousClock.now
            try await body()
            return StoreLoad(store: store, rows: rows, seconds: (ContinuousClock.now - start).seconds)
        }
        let d = dataset
        async let relational = timed(.relational, rows: d.organizations.count + d.users.count + d.memberships.count + d.roles.count
                                     + d.permissions.count + d.rolePermissions.count + d.auditLogs.count) {
            try await stores.relational.load(d)
        }
        async let documents = timed(.document, rows: d.tasks.count + d.sprints.count + d.activityLogs.count + d.snapshots.count) {
            try await stores.documents.load(d)
        }
        let cache = try await timed(.cache, rows: d.users.count) {
            let sessions = d.users.map { (key: "session:\(sessionToken($0.id))", value: "\($0.id)") }
            for start in stride(from: 0, to: sessions.count, by: 1000) {
                try await stores.cache.setMany(Array(sessions[start..<min(start + 1000, sessions.count)]), ttl: scenario.stack.sessionTTL)
            }
        }
        return try await [relational, documents, cache].compactMap { $0 }
    }

    static func sessionToken(_ userID: UUIDValue) -> String {
        String(userID.high ^ 0x5EED_5EED_5EED_5EED, radix: 16) + String(userID.low.byteSwapped, radix: 16)
    }

    /// Waits (up to `deadline`) until every sync job of the run has been applied or is known
    /// lost; returns how many were lost — enqueued, but gone from the queue without being
    /// applied (a cache restarted without persistence).
    static func waitForSync(_ sync: SnapshotSync, on loop: RequestLoop, until deadline: ContinuousClock.Instant) async -> Int {
        var emptyChecks = 0
        while ContinuousClock.now < deadline, !sync.isSettled {
            // Nothing queued and nothing being applied, twice in a row: the rest were lost.
            if sync.inProgress == 0, (try? await sync.depth()) == 0 { emptyChecks += 1 } else { emptyChecks = 0 }
            if emptyChecks >= 2 { break }
            try? await loop.sleep(for: .milliseconds(10))
        }
        return sync.unsettled
    }

    /// User and system CPU time the process has used so far.
    public static func processCPUSeconds() -> Double {
        let times = processCPUTimes()
        return times.user + times.system
    }

    /// The process's CPU time so far, user and system apart, in seconds.
    public static func processCPUTimes() -> (user: Double, system: Double) {
        var usage = rusage()
        // RUSAGE_SELF and a valid buffer: it cannot fail.
        precondition(getrusage(RUSAGE_SELF.rawValue, &usage) == 0, "getrusage failed")
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return (seconds(usage.ru_utime), seconds(usage.ru_stime))
    }
}
