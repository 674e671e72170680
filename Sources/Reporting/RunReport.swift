import Foundation
import Metrics
import Scenario

/// What a run's report concludes.
public enum RunVerdict: String, Sendable, Codable {
    /// Every threshold held.
    case pass
    /// A threshold failed (or an `abort_on_fail` threshold stopped the run).
    case fail
    /// The harness could not keep its schedule: the latencies describe the harness.
    case invalid
    /// Stopped before its end.
    case interrupted
}

/// `report.json`: the contract CI users build on. Documented in docs/report-schema.md; any
/// change that removes or renames a field bumps `schemaVersion`.
public struct RunReport: Codable, Sendable {
    public static let currentSchemaVersion = 3

    public var schemaVersion = RunReport.currentSchemaVersion
    public var tool: ToolInfo
    public var scenario: ScenarioInfo
    public var target: String
    /// What the target's numbers mean (e.g. that the embedded stack is in-process).
    public var targetNote: String
    /// `wall`, or `virtual`: simulated time, in which the latencies are the modelled service
    /// times and queues and the harness's own time is none. Absent in reports written before it.
    public var clock: String?
    /// Set when the run is a projection from a calibrated model, not a measurement.
    public var projection: ProjectionInfo?
    /// The live servers measured (absent for the embedded stack).
    public var servers: [ServerInfo]?
    public var machine: MachineInfo
    public var startedAt: Date
    public var durationS: Double
    public var recordedS: Double
    public var verdict: RunVerdict
    public var invalidReasons: [String]
    /// Set when an `abort_on_fail` threshold stopped the run early.
    public var aborted: String?
    public var dataset: DatasetInfo
    public var load: LoadInfo
    public var scheduleLag: ScheduleInfo
    public var totals: TotalsInfo
    public var operations: [OperationReport]
    public var consistency: ConsistencyInfo
    public var harness: HarnessInfo
    public var thresholds: [ThresholdResult]
    /// The comparison against `--baseline`, when one was given.
    public var baseline: BaselineComparison?
    public var breakdowns: Breakdowns
    public var intervals: [IntervalRow]
    public var stackSamples: [StackSample]
    /// Every error class seen while recording, with its store and when it happened.
    public var errorClasses: [ErrorClassInfo] = []
    /// Whether what the stack acknowledged is still there after the run.
    public var integrity: IntegrityInfo?
    /// What each store did, by its own account, and what that says.
    public var server: ServerEvidenceInfo?

    public init(schemaVersion: Int = RunReport.currentSchemaVersion, tool: ToolInfo, scenario: ScenarioInfo, target: String, targetNote: String, machine: MachineInfo, startedAt: Date, durationS: Double, recordedS: Double, verdict: RunVerdict, invalidReasons: [String], aborted: String? = nil, dataset: DatasetInfo, load: LoadInfo, scheduleLag: ScheduleInfo, totals: TotalsInfo, operations: [OperationReport], consistency: ConsistencyInfo, harness: HarnessInfo, thresholds: [ThresholdResult], baseline: BaselineComparison? = nil, breakdowns: Breakdowns, intervals: [IntervalRow], stackSamples: [StackSample]) {
        self.schemaVersion = schemaVersion
        self.tool = tool
        self.scenario = scenario
        self.target = target
        self.targetNote = targetNote
        self.machine = machine
        self.startedAt = startedAt
        self.durationS = durationS
        self.recordedS = recordedS
        self.verdict = verdict
        self.invalidReasons = invalidReasons
        self.aborted = aborted
        self.dataset = dataset
        self.load = load
        self.scheduleLag = scheduleLag
        self.totals = totals
        self.operations = operations
        self.consistency = consistency
        self.harness = harness
        self.thresholds = thresholds
        self.baseline = baseline
        self.breakdowns = breakdowns
        self.intervals = intervals
        self.stackSamples = stackSamples
    }
}

public struct ToolInfo: Codable, Sendable {
    public var name = "stacksim"
    public var version: String

    public init(name: String = "stacksim", version: String) {
        self.name = name
        self.version = version
    }
}

public struct ScenarioInfo: Codable, Sendable {
    public var name: String
    public var description: String
    public var seed: UInt64
    public var file: String?

    public init(name: String, description: String, seed: UInt64, file: String?) {
        self.name = name
        self.description = description
        self.seed = seed
        self.file = file
    }
}

public struct MachineInfo: Codable, Sendable {
    public var cores: Int
    public var memoryBytes: UInt64
    public var os: String
    public var kernel: String
    public var swiftVersion: String

    public init(cores: Int, memoryBytes: UInt64, os: String, kernel: String, swiftVersion: String) {
        self.cores = cores
        self.memoryBytes = memoryBytes
        self.os = os
        self.kernel = kernel
        self.swiftVersion = swiftVersion
    }
}

public struct DatasetInfo: Codable, Sendable {
    /// On a live target: the dataset already in the stores was used, nothing was loaded.
    public var reused: Bool?
    /// Runs made on the reused dataset before this one, and the writes they had acknowledged.
    public var runsBefore: Int?
    public var writesBefore: Int?
    public var organizations: Int
    public var users: Int
    public var tasks: Int
    public var sprints: Int
    public var activityLogs: Int
    public var generateS: Double
    public var loadS: Double

    public init(organizations: Int, users: Int, tasks: Int, sprints: Int, activityLogs: Int, generateS: Double, loadS: Double) {
        self.organizations = organizations
        self.users = users
        self.tasks = tasks
        self.sprints = sprints
        self.activityLogs = activityLogs
        self.generateS = generateS
        self.loadS = loadS
    }
}

public struct PhaseInfo: Codable, Sendable {
    public var name: String
    public var durationS: Double
    /// Open model: the rate shape (`400/s`, `ramp 100/s→800/s`, …) and its mean.
    public var rate: String?
    public var meanRatePerS: Double?
    /// Closed model: the user count or ramp.
    public var users: String?
    public var record: Bool

    public init(name: String, durationS: Double, rate: String?, meanRatePerS: Double?, users: String?, record: Bool) {
        self.name = name
        self.durationS = durationS
        self.rate = rate
        self.meanRatePerS = meanRatePerS
        self.users = users
        self.record = record
    }
}

public struct LoadInfo: Codable, Sendable {
    public var model: String
    public var arrivals: String
    public var phases: [PhaseInfo]

    public init(model: String, arrivals: String, phases: [PhaseInfo]) {
        self.model = model
        self.arrivals = arrivals
        self.phases = phases
    }
}

public struct ScheduleInfo: Codable, Sendable {
    public var intended: Int
    public var late: Int
    public var maxLagMs: Double
    public var toleranceMs: Double
    public var maxLateFraction: Double
    /// Open model, wall time: how late the arrivals sent were dispatched, every one of them.
    /// Absent for the closed model, in virtual time and in reports written before it was measured.
    public var lagMs: PercentileSummary?

    public init(intended: Int, late: Int, maxLagMs: Double, toleranceMs: Double, maxLateFraction: Double, lag: LatencyHistogram? = nil) {
        self.intended = intended
        self.late = late
        self.maxLagMs = maxLagMs
        self.toleranceMs = toleranceMs
        self.maxLateFraction = maxLateFraction
        lagMs = lag.flatMap { $0.count > 0 ? $0.summary : nil }
    }

    /// The arrivals' lateness in a line: its worst, with its median and p99 where measured.
    var lagNote: String {
        guard let lag = lagMs else { return "max \(Format.ms(maxLagMs)) ms" }
        return "p50 \(Format.ms(lag.p50)) ms, p99 \(Format.ms(lag.p99)) ms, max \(Format.ms(maxLagMs)) ms"
    }
}

/// The recorded requests. Throughput is goodput — successful requests per second; the attempted
/// and offered rates beside it show overload as the gap between them.
public struct TotalsInfo: Codable, Sendable {
    /// Requests completed, successful (`ok`, 403s included) or failed (`errors`).
    public var count: Int
    public var ok: Int
    public var errors: Int
    public var denied: Int
    public var errorRate: Double
    /// Successful requests per recorded second.
    public var throughputPerS: Double
    /// Completed requests (successful or failed) per recorded second.
    public var attemptedPerS: Double
    /// Open model: arrivals the schedule intended per recorded second (nil for the closed model,
    /// whose users only ask when answered).
    public var offeredPerS: Double?
    /// Open model: arrivals never sent because the requests outstanding had reached the
    /// harness's bound (`load.max_outstanding`); they count in the offered rate only.
    public var dropped: Int

    public init(count: Int, errors: Int, denied: Int, seconds: Double, offered: Int?, dropped: Int) {
        self.count = count
        self.ok = count - errors
        self.errors = errors
        self.denied = denied
        errorRate = count > 0 ? Double(errors) / Double(count) : 0
        throughputPerS = seconds > 0 ? Double(count - errors) / seconds : 0
        attemptedPerS = seconds > 0 ? Double(count) / seconds : 0
        offeredPerS = offered.map { seconds > 0 ? Double($0) / seconds : 0 }
        self.dropped = dropped
    }
}

public struct StoreCallReport: Codable, Sendable {
    public var store: String
    public var calls: Int
    public var failures: Int
    public var callsPerOperation: Double
    public var latencyMs: PercentileSummary
    /// The calls by store-call name (`board`, `get`, …).
    public var callsByName: [String: Int]

    public init(store: String, calls: Int, failures: Int, callsPerOperation: Double, latencyMs: PercentileSummary,
                callsByName: [String: Int] = [:]) {
        self.store = store
        self.calls = calls
        self.failures = failures
        self.callsPerOperation = callsPerOperation
        self.latencyMs = latencyMs
        self.callsByName = callsByName
    }
}

public struct OperationReport: Codable, Sendable {
    public var name: String
    /// Requests completed, successful (`ok`) or failed (`errors`).
    public var count: Int
    public var ok: Int
    public var errors: Int
    public var errorsByClass: [String: Int]
    /// Requests the permission check refused (answered 403; not errors).
    public var denied: Int
    /// Successful requests per recorded second (goodput); `attemptedPerS` counts failures too.
    public var throughputPerS: Double
    public var attemptedPerS: Double
    /// From the intended start: what a user felt. Successful requests only, like service and queue.
    public var latencyMs: PercentileSummary
    /// The failed requests' latency, from intended start to failure (nil when none failed).
    public var failedLatencyMs: PercentileSummary?
    /// From the actual start: what the stack took once the request got a worker.
    public var serviceMs: PercentileSummary
    /// Latency minus service time: the wait before the request started (its user busy, no worker free).
    public var queueMs: PercentileSummary
    /// The percentile curves of latency and service time, for HdrHistogram-style plots.
    public var latencyCurve: [CurvePoint]
    public var serviceCurve: [CurvePoint]
    public var stores: [StoreCallReport]
    /// Every successful request's latency: the histogram behind `latencyMs`, in HdrHistogram's
    /// compressed encoding (`LatencyHistogram(encoded:)`), so a baseline comparison can judge a
    /// percentile with the samples rather than with summaries.
    public var latencyHistogram: String?

    public init(name: String, count: Int, errors: Int, errorsByClass: [String: Int], denied: Int, seconds: Double, latencyMs: PercentileSummary, failedLatencyMs: PercentileSummary? = nil, serviceMs: PercentileSummary, queueMs: PercentileSummary, latencyCurve: [CurvePoint] = [], serviceCurve: [CurvePoint] = [], stores: [StoreCallReport], latencyHistogram: LatencyHistogram? = nil) {
        self.name = name
        self.count = count
        self.ok = count - errors
        self.errors = errors
        self.errorsByClass = errorsByClass
        self.denied = denied
        throughputPerS = seconds > 0 ? Double(count - errors) / seconds : 0
        attemptedPerS = seconds > 0 ? Double(count) / seconds : 0
        self.latencyMs = latencyMs
        self.failedLatencyMs = failedLatencyMs
        self.serviceMs = serviceMs
        self.queueMs = queueMs
        self.latencyCurve = latencyCurve
        self.serviceCurve = serviceCurve
        self.stores = stores
        self.latencyHistogram = latencyHistogram?.encoded
    }

    /// `latencyHistogram` decoded; nil when the report has none.
    public func recordedLatency() throws -> LatencyHistogram? {
        try latencyHistogram.map(LatencyHistogram.init(encoded:))
    }
}

public struct ConsistencyCheckInfo: Codable, Sendable {
    public var orphans: Int
    public var missingSnapshots: Int
    public var staleSnapshots: Int
    public var usersChecked: Int
    /// Set when the check itself failed (a store erring); the counts are then not meaningful.
    public var error: String?

    public init(orphans: Int, missingSnapshots: Int, staleSnapshots: Int, usersChecked: Int, error: String? = nil) {
        self.orphans = orphans
        self.missingSnapshots = missingSnapshots
        self.staleSnapshots = staleSnapshots
        self.usersChecked = usersChecked
        self.error = error
    }
}

public struct ConsistencyInfo: Codable, Sendable {
    /// Profile commit in PostgreSQL → every task snapshot of that user updated in MongoDB.
    public var snapshotLagMs: PercentileSummary
    public var snapshotSyncs: Int
    public var cacheHitRatio: [String: Double]
    public var cacheLookups: [String: CacheCounts]
    public var invalidations: Int
    public var invalidatedKeys: Int
    public var queueDepthMax: Int
    public var syncFailures: Int
    public var tasksResynced: Int
    public var consistencyCheck: ConsistencyCheckInfo

    public init(snapshotLagMs: PercentileSummary, snapshotSyncs: Int, cacheHitRatio: [String: Double], cacheLookups: [String: CacheCounts], invalidations: Int, invalidatedKeys: Int, queueDepthMax: Int, syncFailures: Int, tasksResynced: Int, consistencyCheck: ConsistencyCheckInfo) {
        self.snapshotLagMs = snapshotLagMs
        self.snapshotSyncs = snapshotSyncs
        self.cacheHitRatio = cacheHitRatio
        self.cacheLookups = cacheLookups
        self.invalidations = invalidations
        self.invalidatedKeys = invalidatedKeys
        self.queueDepthMax = queueDepthMax
        self.syncFailures = syncFailures
        self.tasksResynced = tasksResynced
        self.consistencyCheck = consistencyCheck
    }
}

public struct HarnessInfo: Codable, Sendable {
    /// CPU seconds the stacksim process used while the load ran (embedded stores included).
    public var processCpuS: Double
    /// `processCpuS` divided by the run's wall time: cores kept busy.
    public var coresUsed: Double
    /// Of `processCpuS`, the request loop's waiting by the clock for the next arrival to come
    /// due, on a core it keeps busy so that arrivals leave on time (the kernel wakes a sleeping
    /// thread tens of microseconds late): punctuality's price, not the requests' work. Absent in
    /// virtual time and in reports written before it was measured.
    public var clockWaitS: Double?
    /// The share of the machine's cores busy while the load ran, every process on it counted
    /// (servers on the same machine included); in a projection, the modelled machine's cores;
    /// absent where the machine cannot say (and in virtual time without a model).
    public var hostCpuBusy: Double?
    /// The harness's own time per recorded request, from its intended start (or the end of the
    /// user's previous request) to its first store call, the wait for an app worker left out:
    /// dispatch, task start and hand-offs. `overheadCount` requests measured (every one that
    /// reached a store). Absent in reports written before it was measured.
    public var overheadMs: PercentileSummary?
    public var overheadCount: Int?
    /// Whether the machine's idle CPUs were kept quick to wake during the load (`--cpu-wake-latency`):
    /// wake-ups, and so the harness's punctuality and CPU per request, depend on it. Absent in
    /// virtual time and in reports written before it was asked for.
    public var cpuWakeLatency: WakeLatencyInfo?

    public init(processCpuS: Double, coresUsed: Double, clockWaitS: Double? = nil, hostCpuBusy: Double? = nil,
                overhead: LatencyHistogram? = nil, cpuWakeLatency: WakeLatencyInfo? = nil) {
        self.processCpuS = processCpuS
        self.coresUsed = coresUsed
        self.clockWaitS = clockWaitS
        self.hostCpuBusy = hostCpuBusy
        self.cpuWakeLatency = cpuWakeLatency
        overheadMs = overhead?.summary
        overheadCount = overhead.map { Int($0.count) }
    }
}

public struct ThresholdResult: Codable, Sendable {
    public var target: String
    public var metric: String
    public var limit: Double
    public var actual: Double?
    public var passed: Bool
    public var location: String

    public init(target: String, metric: String, limit: Double, actual: Double?, passed: Bool, location: String) {
        self.target = target
        self.metric = metric
        self.limit = limit
        self.actual = actual
        self.passed = passed
        self.location = location
    }
}

/// Latency of each operation within a group, so a noisy neighbour, a large-tenant penalty or a
/// bad phase is visible.
public struct Breakdowns: Codable, Sendable {
    /// By the size of the requester's organization: `small` (<10 members), `medium` (<50), `large`.
    public var byTenantSize: [BreakdownRow]
    /// By phase, warm-up included.
    public var byPhase: [BreakdownRow]

    public init(byTenantSize: [BreakdownRow], byPhase: [BreakdownRow]) {
        self.byTenantSize = byTenantSize
        self.byPhase = byPhase
    }

    /// Rows from a recorder's breakdown, groups in `order` (others after, sorted), operations sorted.
    public static func rows(_ stats: [BreakdownKey: CoarseStats], order: [String]) -> [BreakdownRow] {
        let groups = order.filter { g in stats.keys.contains { $0.group == g } }
            + Set(stats.keys.map(\.group)).subtracting(order).sorted()
        return groups.flatMap { group in
            stats.keys.filter { $0.group == group }.map(\.operation).sorted().map { operation in
                let s = stats[BreakdownKey(group: group, operation: operation)]!
                return BreakdownRow(group: group, operation: operation, count: s.count, errors: s.errors,
                                    p50Ms: s.latency.milliseconds(atPercentile: 50), p99Ms: s.latency.milliseconds(atPercentile: 99),
                                    maxMs: s.latency.maxMilliseconds)
            }
        }
    }
}

public struct BreakdownRow: Codable, Sendable {
    public var group: String
    public var operation: String
    public var count: Int
    public var errors: Int
    public var p50Ms: Double
    public var p99Ms: Double
    public var maxMs: Double
}

extension RunReport {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    public func jsonData() throws -> Data { try Self.encoder().encode(self) }

    public static func read(from url: URL) throws -> RunReport {
        try decoder().decode(RunReport.self, from: Data(contentsOf: url))
    }
}

extension OperationReport {
    /// An operation's report from its merged stats over `seconds` of recorded load.
    public init(name: String, stats: OperationStats, seconds: Double) {
        self.init(name: name, count: stats.count, errors: stats.errorCount, errorsByClass: stats.errors, denied: stats.denied,
                  seconds: seconds, latencyMs: stats.latency.summary,
                  failedLatencyMs: stats.failedLatency.count > 0 ? stats.failedLatency.summary : nil, serviceMs: stats.service.summary, queueMs: stats.queue.summary,
                  latencyCurve: stats.latency.curve, serviceCurve: stats.service.curve,
                  stores: stats.storeCalls.keys.sorted().map { store in
                      let calls = stats.storeCalls[store]!
                      return StoreCallReport(store: store, calls: calls.calls, failures: calls.failures,
                                             callsPerOperation: stats.count > 0 ? Double(calls.calls) / Double(stats.count) : 0,
                                             latencyMs: calls.latency.summary, callsByName: calls.callsByName)
                  },
                  latencyHistogram: stats.latency)
    }
}

/// A live server a run measured.
public struct ServerInfo: Codable, Sendable {
    public var store: String
    public var url: String
    public var version: String
    public var note: String?

    public init(store: String, url: String, version: String, note: String?) {
        self.store = store; self.url = url; self.version = version; self.note = note
    }
}

/// One error class: `<store>_<code>` for store errors (`postgres_timeout`,
/// `redis_connection_lost`, `mongo_server_2`), or the request's own (`abandoned`, `unfinished`,
/// `rate_limited`, `session_missing`, `internal`).
public struct ErrorClassInfo: Codable, Sendable, Equatable {
    public var errorClass: String
    /// `postgres`, `mongo`, `redis`, or nil for the request's own classes.
    public var store: String?
    /// Recorded requests that failed with it.
    public var count: Int
    /// Seconds since the run started of the first and last interval it was seen in (warm-up included).
    public var firstS: Double?
    public var lastS: Double?

    enum CodingKeys: String, CodingKey {
        case errorClass = "class", store, count, firstS, lastS
    }

    public init(errorClass: String, store: String?, count: Int, firstS: Double?, lastS: Double?) {
        self.errorClass = errorClass; self.store = store; self.count = count; self.firstS = firstS; self.lastS = lastS
    }
}

/// The acknowledged writes read back after the run, and what the cache lost.
public struct IntegrityInfo: Codable, Sendable, Equatable {
    /// Writes the stores acknowledged (tasks created, statuses changed, time logged, profiles updated).
    public var acknowledgedWrites: Int
    /// Writes whose call failed without saying whether it was applied (they are not expected).
    public var unknownOutcomeWrites: Int
    public var checked: Int
    /// Acknowledged writes missing afterwards, and keys whose value is none that could be last.
    public var missing: Int
    public var different: Int
    public var examples: [String]
    /// Why the read-back did not finish, when it did not.
    public var error: String?
    /// Snapshot-sync jobs enqueued that never came out of the queue.
    public var syncJobsLost: Int
    /// Requests whose session was gone, whose users logged in again.
    public var relogins: Int

    public init(acknowledgedWrites: Int, unknownOutcomeWrites: Int, checked: Int, missing: Int, different: Int, examples: [String],
                error: String?, syncJobsLost: Int, relogins: Int) {
        self.acknowledgedWrites = acknowledgedWrites; self.unknownOutcomeWrites = unknownOutcomeWrites; self.checked = checked
        self.missing = missing; self.different = different; self.examples = examples; self.error = error
        self.syncJobsLost = syncJobsLost; self.relogins = relogins
    }
}

extension ErrorClassInfo {
    /// Error classes from the operations' totals, with when each was seen from the time series.
    public static func classes(operations: [OperationReport], samples: [StackSample]) -> [ErrorClassInfo] {
        var counts: [String: Int] = [:]
        for op in operations { counts.merge(op.errorsByClass, uniquingKeysWith: +) }
        return counts.keys.sorted().map { name in
            let seen = samples.filter { ($0.errorsByClass[name] ?? 0) > 0 }.map(\.t)
            let store = ["postgres", "mongo", "redis"].first { name.hasPrefix($0 + "_") }
            return ErrorClassInfo(errorClass: name, store: store, count: counts[name]!, firstS: seen.min(), lastS: seen.max())
        }
    }
}

/// The stores' own account of a run: per query shape, how it was served and what it touched.
public struct ServerEvidenceInfo: Codable, Sendable, Equatable {
    public var stores: [StoreEvidenceInfo]
    /// What the evidence shows, in plain words, each with the shape it rests on.
    public var findings: [Finding]
    /// Per operation and store: the time its store calls took as it saw them, and the store's
    /// own time for those calls.
    public var byOperation: [OperationTimeInfo]

    public init(stores: [StoreEvidenceInfo], findings: [Finding], byOperation: [OperationTimeInfo] = []) {
        self.stores = stores; self.findings = findings; self.byOperation = byOperation
    }

    /// Every store's shapes, the most store time first (then the most callers' time).
    public var rankedShapes: [(store: String, shape: ShapeInfo)] {
        stores.flatMap { store in store.shapes.map { (store.store, $0) } }
            .sorted { ($0.shape.serverMs ?? -1, $0.shape.clientMs, $1.shape.call) > ($1.shape.serverMs ?? -1, $1.shape.clientMs, $0.shape.call) }
    }
}

public struct StoreEvidenceInfo: Codable, Sendable, Equatable {
    public var store: String
    /// `embedded engine`, a server facility, or `none`.
    public var source: String
    public var shapes: [ShapeInfo]
    public var counters: [String: Double]
    /// Values at the end of the load (memory in use, bytes per key of a sample).
    public var gauges: [String: Double]
    /// What could not be had, and why.
    public var missing: [String]
    /// The store's time and its callers' time for the same calls, blocking calls left out, and
    /// the share of the one in the other (nil without callers' time).
    public var serverMs: Double
    public var clientMs: Double
    public var serverShareOfClientTime: Double?

    public init(store: String, source: String, shapes: [ShapeInfo], counters: [String: Double], gauges: [String: Double] = [:],
                missing: [String]) {
        self.store = store; self.source = source; self.shapes = shapes; self.counters = counters; self.gauges = gauges
        self.missing = missing
        let worked = shapes.filter { !$0.blocking && $0.serverMs != nil }
        serverMs = worked.reduce(0) { $0 + ($1.serverMs ?? 0) }
        clientMs = worked.reduce(0) { $0 + $1.clientMs }
        serverShareOfClientTime = clientMs > 0 ? serverMs / clientMs : nil
    }
}

/// One operation's calls to one store: their time as the operation saw it (recorded requests),
/// and the store's own time for them — each call at its kind's mean store time over the load.
public struct OperationTimeInfo: Codable, Sendable, Equatable {
    public var operation: String
    public var store: String
    public var calls: Int
    public var clientMs: Double
    /// nil when the store does not time some of these calls.
    public var serverMs: Double?
    public var serverShare: Double?

    public init(operation: String, store: String, calls: Int, clientMs: Double, serverMs: Double?) {
        self.operation = operation; self.store = store; self.calls = calls; self.clientMs = clientMs; self.serverMs = serverMs
        serverShare = serverMs.flatMap { clientMs > 0 ? $0 / clientMs : nil }
    }

    /// Each operation's store calls against the stores' mean time per kind of call.
    public static func rows(operations: [OperationReport], stores: [StoreEvidenceInfo]) -> [OperationTimeInfo] {
        var meanServerMs: [String: [String: Double]] = [:]
        for store in stores {
            for shape in store.shapes where shape.calls > 0 {
                if let total = shape.serverMs { meanServerMs[store.store, default: [:]][shape.call] = total / Double(shape.calls) }
            }
        }
        return operations.flatMap { op in
            op.stores.filter { meanServerMs[$0.store] != nil }.map { calls in
                let means = meanServerMs[calls.store]!
                let timed = calls.callsByName.allSatisfy { means[$0.key] != nil }
                let server = calls.callsByName.reduce(0.0) { $0 + Double($1.value) * (means[$1.key] ?? 0) }
                return OperationTimeInfo(operation: op.name, store: calls.store, calls: calls.calls,
                                         clientMs: Double(calls.calls) * calls.latencyMs.mean, serverMs: timed ? server : nil)
            }
        }
    }
}

/// One query shape (a store call by name) over the run.
public struct ShapeInfo: Codable, Sendable, Equatable {
    /// How the store reached the data (StackCore's `AccessPath`, as reports name it).
    public enum Path: String, Codable, Sendable {
        case indexScan = "index_scan", textIndex = "text_index", keyLookup = "key_lookup"
        case collectionScan = "collection_scan", keyedWrite = "keyed_write"
    }

    public var call: String
    /// nil when the store did not say (no plan).
    public var path: Path?
    /// The index, collection or table it used.
    public var on: String?
    /// One execution the server planned with parameters from the run (`EXPLAIN (ANALYZE, BUFFERS)`).
    public var plan: PlanInfo?
    public var calls: Int
    /// nil when the store does not say.
    public var examinedPerCall: Double?
    public var returnedPerCall: Double?
    /// The store's own time (nil when it does not say), and the callers' time, in total over the calls.
    public var serverMs: Double?
    public var clientMs: Double
    /// Of `clientMs`, the client's own work on the replies after they arrived (decoding a live
    /// MongoDB reply); nil when not measured apart.
    public var decodeMs: Double?
    /// A call that waits by design (a blocking pop), left out of the store's share of time.
    public var blocking: Bool

    public init(call: String, path: Path?, on: String?, plan: PlanInfo? = nil, calls: Int, examined: Int?, returned: Int?,
                serverMs: Double?, clientMs: Double, decodeMs: Double? = nil, blocking: Bool = false) {
        self.decodeMs = decodeMs
        self.blocking = blocking
        self.plan = plan
        self.call = call; self.path = path; self.on = on; self.calls = calls
        examinedPerCall = examined.map { calls > 0 ? Double($0) / Double(calls) : 0 }
        returnedPerCall = returned.map { calls > 0 ? Double($0) / Double(calls) : 0 }
        self.serverMs = serverMs; self.clientMs = clientMs
    }
}

/// One planned execution of a statement.
public struct PlanInfo: Codable, Sendable, Equatable {
    public var examined: Int
    public var returned: Int
    public var buffersHit: Int
    public var buffersRead: Int
    /// The plan's nodes, outermost first.
    public var nodes: [String]

    public init(examined: Int, returned: Int, buffersHit: Int, buffersRead: Int, nodes: [String]) {
        self.examined = examined; self.returned = returned; self.buffersHit = buffersHit; self.buffersRead = buffersRead
        self.nodes = nodes
    }
}

/// Something the evidence shows that the stack's owners should know.
public struct Finding: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Every document or row read to return a few.
        case scan
        /// An index read far more entries than the call returned (a filter after the index).
        case unselectiveIndex = "unselective_index"
        /// Indexes of tables the load read that no read used (each one still costs every write).
        case unusedIndexes = "unused_indexes"
    }

    public var kind: Kind
    public var store: String
    public var call: String
    public var text: String

    /// Findings from a run's evidence, store by store.
    public static func from(_ stores: [StoreEvidenceInfo]) -> [Finding] {
        stores.flatMap { store in shapeFindings(store) + (unusedIndexes(store).map { [$0] } ?? []) }
    }

    /// From `table.<t>.seq_scan`/`idx_scan` and `index.<t>.<i>.idx_scan`: the indexes of tables
    /// the load read (scanned or looked up) that were never used.
    static func unusedIndexes(_ store: StoreEvidenceInfo) -> Finding? {
        func reads(_ table: Substring) -> Double {
            (store.counters["table.\(table).seq_scan"] ?? 0) + (store.counters["table.\(table).idx_scan"] ?? 0)
        }
        let unused = store.counters.keys.sorted().compactMap { key -> String? in
            let parts = key.split(separator: ".")
            guard parts.count == 4, parts[0] == "index", parts[3] == "idx_scan", store.counters[key] == 0, reads(parts[1]) > 0 else { return nil }
            return "\(parts[1]).\(parts[2])"
        }
        guard !unused.isEmpty else { return nil }
        return Finding(kind: .unusedIndexes, store: store.store, call: "",
                       text: "indexes no read used while the load read their tables: \(unused.joined(separator: ", ")) — each still costs "
                           + "every write (the server's counts, flushed at most once a second)")
    }

    /// Findings from the shapes: scans, and indexes, that examine ten or more entries per one
    /// returned and at least a hundred per call (reading a small lookup table whole is cheap).
    static func shapeFindings(_ store: StoreEvidenceInfo) -> [Finding] {
        store.shapes.compactMap { shape -> Finding? in
            // Per call from the store's counts, else from the one planned execution.
            guard let examined = shape.examinedPerCall ?? shape.plan.map({ Double($0.examined) }),
                  let returned = shape.returnedPerCall ?? shape.plan.map({ Double($0.returned) }),
                  let path = shape.path, let on = shape.on else { return nil }
            let ratio = examined / max(returned, 1)
            guard examined >= 100 else { return nil }
            let perCall = shape.examinedPerCall == nil ? "in the planned execution" : "per call"
            let touched = "\(Format.number(examined)) examined \(perCall) for \(Format.number(returned)) returned"
            guard ratio >= 10 else { return nil }
            switch path {
            case .collectionScan:
                return Finding(kind: .scan, store: store.store, call: shape.call,
                               text: "\(shape.call): a scan of \(on), \(touched) — no index is used for it")
            case .indexScan, .textIndex:
                return Finding(kind: .unselectiveIndex, store: store.store, call: shape.call,
                               text: "\(shape.call): index \(on), \(touched) — the index does not narrow it to what is asked")
            default:
                return nil
            }
        }
    }
}

/// A run projected from a calibrated model (`--model`): which model, calibrated on what, at which size.
public struct ProjectionInfo: Codable, Sendable {
    public var model: String
    public var calibratedOn: String
    public var servers: [String]
    public var organizations: Int
    public var calibratedOrganizations: Int

    public init(model: String, calibratedOn: String, servers: [String], organizations: Int, calibratedOrganizations: Int) {
        self.model = model; self.calibratedOn = calibratedOn; self.servers = servers; self.organizations = organizations
        self.calibratedOrganizations = calibratedOrganizations
    }

    /// What the report says about it.
    public var note: String {
        "Projection, not a measurement: the embedded stack in virtual time playing the model \(model) "
            + "(calibrated on \(calibratedOn) against \(servers.joined(separator: "; "))), at \(organizations) organizations"
            + (organizations == calibratedOrganizations ? "." : " (\(String(format: "%.1f", Double(organizations) / Double(max(1, calibratedOrganizations))))× the calibrated dataset; calls whose live plan scans grow with it).")
    }
}

extension RunReport {
    /// Marks the report as a projection from a calibrated model.
    public mutating func mark(projection: ProjectionInfo) {
        self.projection = projection
        targetNote = projection.note + " " + targetNote
    }
}
