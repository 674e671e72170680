import Foundation
import Metrics
import Synchronization
import Scenario
import StackCore
import StackModel

/// Why a request failed before reaching its operation.
enum RequestFailure: String, Error {
    case sessionMissing = "session_missing"
    case rateLimited = "rate_limited"
    case unknownOperation = "unknown_operation"
}

/// The clock of one run: nanoseconds since the run started, and sleeping until such a moment.
public struct RunClock: Sendable {
    public let timeline: Timeline
    /// The run's time 0 on `timeline`.
    public let start: Int64

    public init(timeline: Timeline = .wall) {
        self.timeline = timeline
        start = timeline.now()
    }

    public var isVirtual: Bool { timeline.virtual != nil }

    public func now() -> Int64 { timeline.now() - start }

    /// The moment `nanoseconds` on the timeline, as nanoseconds since the run started.
    func runNanos(atTimeline nanoseconds: Int64) -> Int64 { nanoseconds - start }

    /// Virtual time only: moves it forward to `moment` (run nanoseconds).
    func advance(to moment: Int64) { timeline.virtual?.advance(to: moment + start) }

    /// How often a long wait looks whether the run was asked to stop.
    static let stopCheck: Int64 = 100_000_000
}

/// Runs a request the way the application serves one — session, rate limit, permission check,
/// then the operation — on one of the app's workers, and records what it cost.
final class RequestRunner: Sendable {
    let context: ActionContext
    let actions: [String: ActionDefinition]
    let recorder: Recorder
    let workers: AppWorkers
    let clock: RunClock
    let rateLimitPerMinute: Int
    let sessionTTL: Duration
    let salt: UInt64
    let observer: any StackObserver
    /// The application's own time per request besides its store calls (a calibrated model's),
    /// waited out on `sleeper` while the request holds its worker (or done at a share of the
    /// `host`'s cores, when the model has the machine's cores shared).
    let appTime: AppTime?
    let host: SharedCores?
    let sleeper: any Sleeper
    /// Set when the graceful stop has run out: requests not started by then are abandoned.
    private let cutOff = Atomic<Bool>(false)
    private let reloginCount = Atomic<Int>(0)
    /// Requests started and not yet recorded, so that each intended request is recorded exactly
    /// once even when the run's deadline comes before its end.
    private let running = Mutex(RunningRequests())

    private struct RunningRequests {
        var next = 0
        var requests: [Int: (operation: String, intended: Int64, phase: Phase, shard: Int, tenantClass: String)] = [:]
    }

    /// The error class of a request still running when the run's deadline passed.
    static let unfinished = "unfinished"

    /// A request's draw of the model's application time comes from its own stream, apart from
    /// the action's choices: the same request draws the same time in any order of requests.
    static let appTimeStream = SeededRandom.stableHash("app-time")

    init(context: ActionContext, actions: [String: ActionDefinition], recorder: Recorder, workers: AppWorkers,
         clock: RunClock, rateLimitPerMinute: Int, sessionTTL: Duration, salt: UInt64, observer: any StackObserver,
         appTime: AppTime? = nil, host: SharedCores? = nil, sleeper: any Sleeper = TaskSleeper()) {
        self.context = context; self.actions = actions; self.recorder = recorder; self.workers = workers
        self.clock = clock; self.rateLimitPerMinute = rateLimitPerMinute; self.sessionTTL = sessionTTL; self.salt = salt
        self.observer = observer; self.appTime = appTime; self.host = host; self.sleeper = sleeper
    }

    /// Requests whose session was gone and whose user logged in again.
    var relogins: Int { reloginCount.load(ordering: .relaxed) }

    /// Runs `operation` for `requester`, latency counted from `intended` (ns after run start);
    /// returns when it ended. `previousEnd` is when the user's previous request ended: the
    /// harness's own overhead is counted from the later of the two.
    @discardableResult
    func execute(_ operation: String, argument: UInt64, requester: Requester, intended: Int64, previousEnd: Int64 = 0,
                 phase: Phase, shard: Int) async -> Int64 {
        guard !isCutOff else { return abandon(operation, requester: requester, intended: intended, phase: phase, shard: shard) }
        let asked = clock.now()
        await workers.acquire()
        guard !isCutOff else {
            workers.release()
            return abandon(operation, requester: requester, intended: intended, phase: phase, shard: shard)
        }
        let actualStart = clock.now()
        let id = running.withLock { r in
            r.next += 1
            r.requests[r.next] = (operation, intended, phase, shard, requester.tenantClass)
            return r.next
        }
        let trace = StoreCallTrace(operation: operation, timeline: clock.timeline)
        var errorClass: String?
        var denied = false
        if let appTime {
            var random = SeededRandom(seed: argument ^ salt).fork(Self.appTimeStream)
            let time = appTime.time(for: operation, busy: appTime.followsLoad ? host?.recentBusy() : nil, &random)
            if let host {
                await host.run(time.work)
                if time.waiting > .zero { try? await sleeper.sleep(for: time.waiting) }
            } else if time.total > .zero {
                try? await sleeper.sleep(for: time.total)
            }
        }
        do {
            denied = try await StoreCallTrace.$current.withValue(trace) {
                try await serve(operation, argument: argument, requester: requester)
            }
        } catch {
            errorClass = Self.classify(error)
        }
        let end = clock.now()
        workers.release()
        // Already recorded as unfinished when the run's deadline passed first.
        guard running.withLock({ $0.requests.removeValue(forKey: id) }) != nil else { return end }
        // Dispatch, hops and hand-offs before the first store call, without the time the request
        // queued behind the target (the user's previous request, the app's workers).
        let harness = trace.firstCallStarted.map { clock.runNanos(atTimeline: $0) - max(intended, previousEnd) - (actualStart - asked) }
        // Waiting for a pooled connection or a service slot is reported beside the store's
        // calls, as `<store>-pool-wait` or `<store>-slot-wait`.
        let calls = trace.recorded.map { call in
            let store = call.store.rawValue
            return StoreCallSample(store: Self.waitKind(call.operation).map { StoreWait.name(store, $0) } ?? store, call: call.operation,
                                   nanos: call.duration.nanoseconds, failed: call.failed)
        }
        recorder.record(OperationSample(operation: operation, latencyNanos: end - intended, serviceNanos: end - actualStart,
                                        errorClass: errorClass, storeCalls: calls, denied: denied, recorded: phase.record,
                                        phase: phase.name, tenantClass: requester.tenantClass, harnessNanos: harness),
                        shard: shard)
        return end
    }

    static func waitKind(_ operation: String) -> StoreWait? {
        switch operation {
        case StoreCallTrace.connectionWait: return .pool
        case StoreCallTrace.slotWait: return .slot
        default: return nil
        }
    }

    /// Ends the graceful stop: requests still queued are recorded as abandoned instead of run;
    /// those already running finish.
    func cutOffQueuedRequests() { cutOff.store(true, ordering: .relaxed) }

    private var isCutOff: Bool { cutOff.load(ordering: .relaxed) }

    /// The run's deadline passed: requests still running are recorded now as `unfinished`
    /// errors, with the time they had taken as latency (a lower bound), and not again later.
    func recordUnfinished() {
        let now = clock.now()
        let left = running.withLock { r in
            defer { r.requests.removeAll() }
            return r.requests.values
        }
        for request in left {
            recorder.record(OperationSample(operation: request.operation, latencyNanos: now - request.intended, serviceNanos: 0,
                                            errorClass: Self.unfinished, storeCalls: [], denied: false,
                                            recorded: request.phase.record, phase: request.phase.name, tenantClass: request.tenantClass),
                            shard: request.shard)
        }
    }

    /// A request that never started: an error whose latency is how long it waited, a lower bound.
    private func abandon(_ operation: String, requester: Requester, intended: Int64, phase: Phase, shard: Int) -> Int64 {
        let now = clock.now()
        recorder.record(OperationSample(operation: operation, latencyNanos: now - intended, serviceNanos: 0,
                                        errorClass: OperationSample.abandoned, storeCalls: [], denied: false,
                                        recorded: phase.record, phase: phase.name, tenantClass: requester.tenantClass),
                        shard: shard)
        return now
    }

    /// The request pipeline; returns true when the permission check refused it.
    private func serve(_ operation: String, argument: UInt64, requester: Requester) async throws -> Bool {
        guard let action = actions[operation] else { throw RequestFailure.unknownOperation }
        let cache = context.stores.cache
        let session = try await cache.get(requester.sessionKey)
        observer.cacheLookup(family: "session", hit: session != nil)
        if session == nil { try await logIn(requester) }
        let minute = Int(context.time.now().timeIntervalSince1970 / 60)
        let requests = try await cache.increment(requester.rateKeyPrefix + String(minute), ttl: .seconds(60))
        guard requests <= rateLimitPerMinute else { throw RequestFailure.rateLimited }
        guard try await context.stores.relational.hasPermission(userID: requester.userID, organizationID: requester.organizationID,
                                                                resource: action.resource, action: action.permission)
        else { return true }
        var rng = SeededRandom(seed: argument ^ salt)
        try await action.run(context, requester, &rng)
        return false
    }

    /// The session is gone (expired, or lost with a cache restart): the application sends the
    /// user to log in again — their account is read, a new session stored — and the request goes on.
    private func logIn(_ requester: Requester) async throws {
        guard try await context.stores.relational.user(id: requester.userID) != nil else { throw RequestFailure.sessionMissing }
        try await context.stores.cache.set(requester.sessionKey, "\(requester.userID)", ttl: sessionTTL)
        reloginCount.add(1, ordering: .relaxed)
    }

    static func classify(_ error: any Error) -> String {
        switch error {
        case let e as StoreError: return e.errorClass
        case let e as RequestFailure: return e.rawValue
        case is CancellationError: return "cancelled"
        default: return "internal"
        }
    }
}

/// Feeds stack events into the recorder.
struct RecordingObserver: StackObserver {
    let recorder: Recorder

    func cacheLookup(family: String, hit: Bool) { recorder.recordCacheLookup(family: family, hit: hit) }
    func snapshotSynced(lag: Duration, tasksUpdated: Int) { recorder.recordSnapshotLag(nanoseconds: lag.nanoseconds, tasksUpdated: tasksUpdated) }
    func invalidated(keys: Int) { recorder.recordInvalidation(keys: keys) }
}
