import Foundation
import PortContract
import StackCore
import StackModel
import Synchronization
import Testing

/// Counts what the services report.
final class CountingObserver: StackObserver {
    private let state = Mutex((hits: [String: Int](), misses: [String: Int](), lags: [Duration](), invalidated: [Int]()))

    func cacheLookup(family: String, hit: Bool) {
        state.withLock { if hit { $0.hits[family, default: 0] += 1 } else { $0.misses[family, default: 0] += 1 } }
    }
    func snapshotSynced(lag: Duration, tasksUpdated: Int) { state.withLock { $0.lags.append(lag) } }
    func invalidated(keys: Int) { state.withLock { $0.invalidated.append(keys) } }

    func hits(_ family: String) -> Int { state.withLock { $0.hits[family] ?? 0 } }
    func misses(_ family: String) -> Int { state.withLock { $0.misses[family] ?? 0 } }
    var lags: [Duration] { state.withLock { $0.lags } }
    var invalidated: [Int] { state.withLock { $0.invalidated } }
}

@Suite("Stack logic over the ports")
struct ServicesTests {
    func loadedStack(time: any TimeSource = WallTime()) async throws -> (StackStores, Dataset) {
        let stores = EmbeddedStack.make(time: time)
        let data = PortContract.fixture()
        try await stores.relational.load(data)
        try await stores.documents.load(data)
        return (stores, data)
    }

    @Test func taskStatsAreReadThroughAndInvalidatedForEveryMember() async throws {
        let (stores, data) = try await loadedStack()
        let observer = CountingObserver()
        let cache = CacheService(stores: stores, settings: CacheSettings(), observer: observer)
        let tenant = data.tenants[0]
        let org = tenant.organization.id
        let first = try await cache.taskStats(organizationID: org)
        let second = try await cache.taskStats(organizationID: org)
        #expect(first == second)
        #expect(observer.misses("task_stats") == 1 && observer.hits("task_stats") == 1)
        for member in tenant.memberIDs { _ = try await cache.dashboard(userID: member, organizationID: org) }
        #expect(observer.misses("dashboard") == tenant.memberIDs.count)

        let targeted = try await cache.invalidateTasks(organizationID: org)
        #expect(targeted == 1 + tenant.memberIDs.count, "stats key plus one dashboard key per member")
        #expect(try await stores.cache.get(CacheService.taskStatsKey(org)) == nil)
        for member in tenant.memberIDs {
            #expect(try await stores.cache.get(CacheService.dashboardKey(user: member, org: org)) == nil)
        }
    }

    @Test func cachedEntriesExpireWithTheirTTL() async throws {
        let time = ManualTime(Date())
        let (stores, data) = try await loadedStack(time: time)
        let observer = CountingObserver()
        let cache = CacheService(stores: stores, settings: CacheSettings(taskStatsTTL: .seconds(300)), observer: observer)
        let org = data.organizations[1].id
        _ = try await cache.taskStats(organizationID: org)
        time.advance(by: 299)
        _ = try await cache.taskStats(organizationID: org)
        time.advance(by: 2)
        _ = try await cache.taskStats(organizationID: org)
        #expect(observer.hits("task_stats") == 1 && observer.misses("task_stats") == 2)
    }

    @Test(arguments: SyncStrategy.allCases)
    func snapshotSyncRefreshesEveryTaskSnapshot(strategy: SyncStrategy) async throws {
        let (stores, data) = try await loadedStack()
        let observer = CountingObserver()
        let sync = SnapshotSync(stores: stores, strategy: strategy, workers: 2, time: WallTime(), observer: observer)
        let user = data.tasks.first { $0.reviewerID != nil }!.reviewerID!
        let change = ProfileChange(name: "동기화 확인", avatarURL: "https://a/1.png", department: "QA", position: "Lead")
        let committed = Date()
        _ = try await stores.relational.updateProfile(userID: user, change: change, at: committed)
        let stale = try await ConsistencyCheck(stores: stores).run()
        #expect(stale.staleSnapshots > 0, "before the sync, the change shows as stale")

        try await sync.enqueue(userID: user, committedAt: committed)
        #expect(try await sync.depth() == 1)
        var processed = false
        for worker in 0..<sync.workers where !processed {
            processed = try await sync.processNext(worker: worker, wait: .milliseconds(10))
        }
        #expect(processed)
        #expect(observer.lags.count == 1)
        let findings = try await ConsistencyCheck(stores: stores).run()
        #expect(findings.clean, "after the sync nothing is stale: \(findings)")
        #expect(try await stores.documents.snapshots(userIDs: [user]).first?.name == "동기화 확인")
    }

    @Test func batchSyncWritesEveryUsersSnapshotInBatches() async throws {
        let (stores, data) = try await loadedStack()
        for user in data.users.prefix(3) {
            _ = try await stores.relational.updateProfile(userID: user.id, change: ProfileChange(name: "Batch", avatarURL: nil,
                                                                                               department: nil, position: nil), at: Date())
        }
        let written = try await BatchSync(stores: stores, batchSize: 4, time: WallTime()).run()
        #expect(written == data.users.count)
        let snapshots = try await stores.documents.snapshots(userIDs: data.users.prefix(3).map(\.id))
        #expect(snapshots.allSatisfy { $0.name == "Batch" })
    }

    @Test func consistencyCheckFindsOrphansAndMissingSnapshots() async throws {
        let (stores, data) = try await loadedStack()
        #expect(try await ConsistencyCheck(stores: stores).run().clean)
        var orphan = data.tasks[0]
        orphan.id = UUIDValue(high: 42, low: 42)
        orphan.organizationID = UUIDValue(high: 43, low: 43)
        orphan.assigneeSnapshot = nil
        try await stores.documents.insertTask(orphan)
        let findings = try await ConsistencyCheck(stores: stores).run()
        #expect(findings.orphans == 1)
        #expect(findings.missingSnapshots >= 1)
        #expect(findings.usersChecked == data.users.count)
    }

    @Test func activityExpiresWhenTheClockPassesItsTTL() async throws {
        let time = ManualTime(Date())
        let (stores, data) = try await loadedStack(time: time)
        let org = data.organizations[0].id
        let log = ActivityLog(id: UUIDValue(high: 7, low: 7), organizationID: org, userID: data.users[0].id, action: "task.created",
                              resourceType: "Task", resourceID: data.tasks[0].id, changes: [:], createdAt: time.now())
        try await stores.documents.insertActivity(log)
        #expect(try await stores.documents.recentActivity(organizationID: org, limit: 100).contains { $0.id == log.id })
        time.advance(by: ActivityLog.timeToLive + 1)
        #expect(try await stores.documents.recentActivity(organizationID: org, limit: 100).isEmpty)
    }
}

@Suite("Injected service time")
struct ServiceTimeTests {
    @Test func aStallMakesCallsWaitForItsEnd() {
        let stall = Stall(every: .seconds(10), duration: .seconds(2))
        #expect(stall.waitAt(.milliseconds(500)) == .milliseconds(1500))
        #expect(stall.waitAt(.seconds(3)) == .zero)
        #expect(stall.waitAt(.milliseconds(10_100)) == .milliseconds(1900))
    }

    @Test func injectedErrorsAndLatencyApplyPerCall() async throws {
        let knobs = StoreKnobs(latency: .fixed(.milliseconds(20)), operations: ["get": StoreKnobs(errorRate: 1)])
        let stores = EmbeddedStack.make(knobs: [.cache: knobs])
        await #expect(throws: StoreError.self) { _ = try await stores.cache.get("k") }
        let start = ContinuousClock.now
        try await stores.cache.set("k", "v", ttl: nil)
        #expect(ContinuousClock.now - start >= .milliseconds(20))
        let trace = StoreCallTrace()
        try await StoreCallTrace.$current.withValue(trace) { try await stores.cache.set("k", "w", ttl: nil) }
        #expect(trace.recorded.count == 1 && trace.recorded[0].store == .cache && trace.recorded[0].duration >= .milliseconds(20))
    }

    /// A call that waited 30 ms of its 50 ms for a connection: the wait is its own row, not part
    /// of the call's time, so the per-store breakdown does not count it twice.
    @Test func aConnectionWaitIsReportedBesideTheCallNotInsideIt() async throws {
        let trace = StoreCallTrace()
        let start = ContinuousClock.now
        try await StoreCallTrace.$current.withValue(trace) {
            // As a live adapter times a call: the call's span, inside it the connection wait's.
            let call = StoreCallSpan(.relational, "query")
            let wait = StoreCallSpan(.relational, StoreCallTrace.connectionWait, waitsInside: false)
            try await Task.sleep(for: .milliseconds(30))
            wait.end(failed: false)
            try await Task.sleep(for: .milliseconds(20))
            call.end(failed: false)
        }
        let elapsed = ContinuousClock.now - start
        let wait = try #require(trace.recorded.first { $0.operation == StoreCallTrace.connectionWait })
        let call = try #require(trace.recorded.first { $0.operation == "query" })
        #expect(wait.duration >= .milliseconds(30))
        #expect(call.duration >= .milliseconds(20) && call.duration <= elapsed - wait.duration, "\(call.duration) of \(elapsed)")
    }
}

/// The service slots' bookkeeping, without tasks: first come, first served, never more than the slots.
@Suite("Service slots")
struct ServiceSlotTests {
    @Test func slotsGoToWaitersInArrivalOrderAndNeverMoreThanTheCount() {
        var slots = SlotState(slots: 2)
        let first = [1, 2, 3, 4, 5].map { slots.acquire(UInt64($0)) }
        #expect(first == [true, true, false, false, false])
        #expect(slots.queued == 3 && slots.free == 0)
        let third = slots.release()
        #expect(third == 3)
        let withdrawn = (slots.withdraw(4), slots.withdraw(4), slots.withdraw(1))
        #expect(withdrawn == (true, false, false))
        let fifth = slots.release()
        #expect(fifth == 5 && slots.queued == 0)
        let freed = (slots.release(), slots.release())
        #expect(freed == (nil, nil) && slots.free == 2)
        // A newcomer never jumps a queue, even with a slot just freed.
        let later = [6, 7, 8].map { slots.acquire(UInt64($0)) }
        #expect(later == [true, true, false])
        let eighth = slots.release()
        #expect(eighth == 8)
    }

    @Test func aCancelledWaiterLeavesWithoutTheSlot() async throws {
        let slots = ServiceSlots(count: 1)
        try await slots.acquire()
        let waiter = Task { try await slots.acquire() }
        while slots.queued == 0 { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(slots.queued == 0)
        slots.release()
        try await slots.acquire()
        slots.release()
    }
}

@Suite("Processor sharing")
struct ProcessorSharingTests {
    /// One core: a job of 10 alone from 0; a second of 10 at 4 halves both rates, so the first
    /// (6 left) ends at 16 and the second (4 left then) at 20.
    @Test func anArrivalSlowsTheJobInServiceAndADepartureSpeedsUpTheRest() {
        var cores = ProcessorSharing(cores: 1)
        cores.add(1, work: 10, at: 0)
        #expect(cores.nextDone == 10)
        cores.add(2, work: 10, at: 4)
        #expect(cores.nextDone == 16)
        #expect(cores.takeDone(at: 15).isEmpty)
        #expect(cores.takeDone(at: 16) == [1])
        #expect(cores.nextDone == 20)
        #expect(cores.takeDone(at: 20) == [2] && cores.running == 0 && cores.nextDone == nil)
    }

    /// Two cores: two jobs run at full speed; a third makes each run at two thirds.
    @Test func jobsUpToTheCoresRunAtFullSpeed() {
        var cores = ProcessorSharing(cores: 2)
        cores.add(1, work: 6, at: 0)
        cores.add(2, work: 6, at: 0)
        #expect(cores.nextDone == 6)
        cores.add(3, work: 6, at: 0)
        #expect(cores.nextDone == 9)
        #expect(cores.takeDone(at: 9) == [1, 2, 3])
    }

    /// The cores' work is their busy time: on two cores, one job of 6 alone, then three at once
    /// (both cores busy), then none.
    @Test func theWorkDoneIsTheCoresBusyTime() {
        var cores = ProcessorSharing(cores: 2)
        cores.add(1, work: 6, at: 0)
        #expect(cores.worked(by: 4) == 4)
        _ = cores.takeDone(at: 6)
        cores.add(2, work: 6, at: 10)
        cores.add(3, work: 6, at: 10)
        cores.add(4, work: 6, at: 10)
        #expect(cores.worked(by: 13) == 6 + 6)
        _ = cores.takeDone(at: 19)
        #expect(cores.worked(by: 30) == 6 + 18, "idle cores do no work")
    }

    @Test func whenTimeStopsEveryJobEnds() {
        var cores = ProcessorSharing(cores: 1)
        cores.add(1, work: 5, at: 0)
        cores.add(2, work: 1, at: 0)
        #expect(cores.takeAll() == [2, 1] && cores.running == 0)
    }
}

@Suite("Recent busy share")
struct RecentBusyTests {
    /// Both cores busy from the first reading: after one window the average is 1 − 1/e, whether
    /// read once at its end or also halfway; idle after that, it decays by e per window.
    @Test func theAverageFollowsTheBusyShareByItsWindow() {
        let window: Int64 = 1_000_000_000
        var once = RecentBusy(window: .seconds(1)), twice = RecentBusy(window: .seconds(1))
        #expect(once.update(worked: 0, at: 0, cores: 2) == 0 && twice.update(worked: 0, at: 0, cores: 2) == 0)
        let full = 1 - exp(-1.0)
        #expect(abs(once.update(worked: 2 * Double(window), at: window, cores: 2) - full) < 1e-12)
        _ = twice.update(worked: Double(window), at: window / 2, cores: 2)
        #expect(abs(twice.update(worked: 2 * Double(window), at: window, cores: 2) - full) < 1e-12)
        #expect(abs(once.update(worked: 2 * Double(window), at: 2 * window, cores: 2) - full * exp(-1.0)) < 1e-12)
    }

    /// Half the cores busy for long: the average settles at a half; reading twice at one moment changes nothing.
    @Test func aSteadyLoadSettlesAtItsShare() {
        var recent = RecentBusy(window: .seconds(1))
        var share = 0.0
        for second in 0...20 { share = recent.update(worked: Double(second) * 1e9, at: Int64(second) * 1_000_000_000, cores: 2) }
        #expect(abs(share - 0.5) < 1e-6)
        #expect(recent.update(worked: 20e9, at: 20_000_000_000, cores: 2) == share)
    }
}

@Suite("Delay distributions")
struct DelayDistributionTests {
    /// Drawn log-normal delays have the mean, the spread and the 99th percentile the closed
    /// form gives: median e^μ, p99 e^(μ + 2.326σ), σ² = ln(1 + CV²), μ = ln(mean) − σ²/2.
    @Test(arguments: [0.3, 1.0, 2.0])
    func logNormalDelaysHaveTheirMeanSpreadAndTail(cv: Double) {
        var rng = SeededRandom(seed: 3)
        let mean = 2.0, distribution = DelayDistribution.lognormal(mean: .milliseconds(2), cv: cv)
        let draws = (0..<200_000).map { _ in distribution.sample(&rng).seconds * 1000 }.sorted()
        let average = draws.reduce(0, +) / Double(draws.count)
        let spread = (draws.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(draws.count)).squareRoot() / average
        let sigma = log1p(cv * cv).squareRoot(), mu = log(mean) - sigma * sigma / 2
        let p99 = exp(mu + 2.326_348 * sigma)
        #expect(abs(average - mean) < 0.02 * mean, "mean \(average)")
        #expect(abs(spread - cv) < 0.05 * cv, "CV \(spread)")
        #expect(abs(draws[198_000] - p99) < 0.03 * p99, "p99 \(draws[198_000]) against \(p99)")
    }
}

@Suite("Quantile shapes")
struct QuantileShapeTests {
    /// A shape of a body and a far tail: 0 to 1 over the first half, 1 to 2 up to 0.99, 2 to 50
    /// over the last hundredth. Its mean by hand: 0.5 × 0.5 + 0.49 × 1.5 + 0.01 × 26 = 1.245;
    /// E[Q²] = 0.5 × 1/3 + 0.49 × 7/3 + 0.01 × (4 + 100 + 2500)/3.
    static let points = (probabilities: [0, 0.5, 0.99, 1.0], values: [0.0, 1, 2, 50])

    @Test func aShapeIsScaledToAMeanOfOneAndKnowsItsSpread() throws {
        let shape = try #require(QuantileShape(probabilities: Self.points.probabilities, values: Self.points.values))
        let mean = 1.245, square = (0.5 / 3 + 0.49 * 7 / 3 + 0.01 * 2604 / 3) / (mean * mean)
        #expect(abs(shape.value(at: 0.99) - 2 / mean) < 1e-12)
        #expect(abs(shape.value(at: 0.25) - 0.5 / mean) < 1e-12, "linear between the points")
        #expect(abs(shape.cv - (square - 1).squareRoot()) < 1e-12)
    }

    /// Drawn by inversion, the delays have the shape's mean and put the tail's hundredth above its 99th percentile.
    @Test func drawsFromAShapeHaveItsMeanAndItsTail() throws {
        let shape = try #require(QuantileShape(probabilities: Self.points.probabilities, values: Self.points.values))
        let distribution = DelayDistribution.empirical(mean: .milliseconds(3), shape: shape)
        var rng = SeededRandom(seed: 5)
        let draws = (0..<200_000).map { _ in distribution.sample(&rng).seconds * 1000 }
        let average = draws.reduce(0, +) / Double(draws.count), p99 = 3 * 2 / 1.245
        let above = Double(draws.filter { $0 > p99 }.count) / Double(draws.count)
        #expect(abs(average - 3) < 0.02 * 3, "mean \(average)")
        #expect(abs(above - 0.01) < 0.001, "share above the 99th percentile: \(above)")
        #expect(distribution.mean == .milliseconds(3))
    }

    @Test func eachDistributionKnowsItsMean() {
        #expect(DelayDistribution.fixed(.milliseconds(2)).mean == .milliseconds(2))
        #expect(DelayDistribution.uniform(min: .milliseconds(1), max: .milliseconds(4)).mean == .microseconds(2500))
        #expect(DelayDistribution.exponential(mean: .milliseconds(3)).mean == .milliseconds(3))
        #expect(DelayDistribution.lognormal(mean: .milliseconds(5), cv: 0.4).mean == .milliseconds(5))
    }

    @Test(arguments: [
        ([0.5, 1.0], [1.0, 2.0]),       // not from 0
        ([0.0, 1.0], [2.0, 1.0]),       // decreasing
        ([0.0, 0.5, 0.5, 1], [1.0, 1, 1, 1]), // not increasing
        ([0.0, 1.0], [0.0, 0.0]),       // nothing
        ([0.0, 1.0], [-1.0, 1.0]),      // negative
    ])
    func pointsThatMakeNoDistributionAreRefused(probabilities: [Double], values: [Double]) {
        #expect(QuantileShape(probabilities: probabilities, values: values) == nil)
    }
}
