import Foundation
import Synchronization
import StackCore
import StackModel

/// A tenant (organization): owns its users' task lists and its sprint actor.
public actor TenantActor {
    public let organizationID: UUIDValue
    public let sprint: SprintActor
    private var tasksByMember: [UUIDValue: [UUIDValue]]
    private var allTasks: [UUIDValue]

    init(tenant: Tenant, sprint: SprintActor) {
        organizationID = tenant.organization.id
        self.sprint = sprint
        tasksByMember = tenant.taskIDsByMember
        allTasks = tenant.memberIDs.flatMap { tenant.taskIDsByMember[$0] ?? [] }
    }

    /// One of the user's tasks (any of the org's when they have none), chosen by `argument`.
    func pickTask(for userID: UUIDValue, _ argument: UInt64) -> UUIDValue? {
        let own = tasksByMember[userID] ?? []
        let pool = own.isEmpty ? allTasks : own
        return pool.isEmpty ? nil : pool[Int(argument % UInt64(pool.count))]
    }

    func add(taskID: UUIDValue, for userID: UUIDValue) {
        tasksByMember[userID, default: []].append(taskID)
        allTasks.append(taskID)
    }
}

/// A tenant's sprints: planning → active (metrics and burndown recomputed as tasks move) → closed
/// (retrospective written), rolled over by the run every `sprint_length`.
public actor SprintActor {
    private var sprintIDs: [UUIDValue]
    private var activeIndex: Int?
    private var movedSinceRecompute = 0
    /// Moves in the active sprint after which the next move recomputes its metrics.
    static let recomputeEvery = 10
    private var rng: SeededRandom

    init(sprints: [Sprint], seed: UInt64) {
        sprintIDs = sprints.map(\.id)
        activeIndex = sprints.firstIndex { $0.status == .active }
        rng = SeededRandom(seed: seed)
    }

    public var activeSprintID: UUIDValue? { activeIndex.map { sprintIDs[$0] } }

    /// The planned sprint after the active one, if there is one yet.
    public var nextSprintID: UUIDValue? {
        activeIndex.flatMap { $0 + 1 < sprintIDs.count ? sprintIDs[$0 + 1] : nil }
    }

    /// Counts a move in a sprint; true when the active sprint's metrics are due a recompute.
    func taskMoved(in sprintID: UUIDValue) -> Bool {
        guard sprintID == activeSprintID else { return false }
        movedSinceRecompute += 1
        return movedSinceRecompute >= Self.recomputeEvery
    }

    /// Recomputes the active sprint's metrics from its tasks and appends a burndown point.
    func recomputeMetrics(stores: StackStores, now: Date) async throws {
        guard let id = activeSprintID, var sprint = try await stores.documents.sprint(id: id) else { return }
        // Summed as it is read: a task list kept across the awaits below would keep the store's
        // table shared while other requests write to it.
        let tally = SprintTally(try await stores.documents.sprintTasks(sprintID: id))
        let burndown = Array((sprint.metrics.burndown + [BurndownPoint(date: now, remainingHours: tally.remainingHours)]).suffix(60))
        sprint.metrics = SprintMetrics(tally, burndown: burndown)
        sprint.capacity.allocatedHours = tally.estimatedHours
        sprint.updatedAt = now
        try await stores.documents.saveSprint(sprint)
        movedSinceRecompute = 0
    }

    /// Closes the active sprint with a retrospective and activates the next one, planning a new
    /// sprint when none is left.
    func rollOver(stores: StackStores, now: Date) async throws {
        if activeIndex != nil {
            try await recomputeMetrics(stores: stores, now: now)
            if let id = activeSprintID, var closing = try await stores.documents.sprint(id: id) {
                closing.status = .closed
                closing.retrospective = DatasetGenerator.retrospective(&rng)
                closing.updatedAt = now
                try await stores.documents.saveSprint(closing)
            }
        }
        let next = (activeIndex ?? -1) + 1
        if next >= sprintIDs.count {
            guard let last = sprintIDs.last, let previous = try await stores.documents.sprint(id: last) else { return }
            let planned = DatasetGenerator.nextSprint(after: previous, &rng)
            try await stores.documents.saveSprint(planned)
            sprintIDs.append(planned.id)
        }
        guard var opening = try await stores.documents.sprint(id: sprintIDs[next]) else { return }
        opening.status = .active
        opening.updatedAt = now
        try await stores.documents.saveSprint(opening)
        activeIndex = next
        movedSinceRecompute = 0
    }
}

/// A user: performs one request at a time, in the order they were intended.
public actor UserActor {
    public let requester: Requester
    /// The last request queued, giving the moment it ended; each new one waits for it. A lock
    /// rather than actor state, so the request loop can queue without a hop and without reordering.
    private let tail = Mutex<Task<Int64, Never>?>(nil)

    init(requester: Requester) {
        self.requester = requester
    }

    /// Queues a request behind this user's earlier ones; `request` is given when the previous one
    /// ended (0 for none) and returns when it ended itself. With `startingHere` (the caller's
    /// thread is `executor`'s) the request runs at once on the calling thread until it first
    /// waits, instead of being queued on the executor as a job for later. One caller at a time
    /// per user: the request loop's release of arrivals.
    nonisolated func submit(on executor: any TaskExecutor, startingHere: Bool,
                            _ request: @escaping @Sendable (Requester, _ previousEnd: Int64) async -> Int64) {
        let requester = requester
        let previous = tail.withLock { $0 }
        // Not under the lock: a request started here runs its first stretch before this returns.
        // Each task's closure calls `run` itself: one closure per request, not one wrapping another.
        let task = startingHere
            ? Task.immediate(executorPreference: executor) { await Self.run(request, requester, after: previous) }
            : Task(executorPreference: executor) { await Self.run(request, requester, after: previous) }
        tail.withLock { $0 = task }
    }

    private static func run(_ request: @Sendable (Requester, _ previousEnd: Int64) async -> Int64, _ requester: Requester,
                            after previous: Task<Int64, Never>?) async -> Int64 {
        let previousEnd = await previous?.value ?? 0
        return await request(requester, previousEnd)
    }

    /// Waits until every submitted request has finished.
    func drain() async {
        _ = await tail.withLock { $0 }?.value
    }
}

/// Drains one shard of the snapshot-sync queue until stopped.
public actor SyncWorker {
    let index: Int
    let sync: SnapshotSync
    /// What times its pause after a failure: the run's clock.
    let sleeper: any Sleeper
    private(set) var failures = 0

    init(index: Int, sync: SnapshotSync, sleeper: any Sleeper) {
        self.index = index
        self.sync = sync
        self.sleeper = sleeper
    }

    func run() async {
        while !Task.isCancelled {
            do {
                _ = try await sync.processNext(worker: index, wait: .milliseconds(250))
            } catch {
                // A lost job is counted and the worker keeps going, as a job runner would retry later.
                failures += 1
                try? await sleeper.sleep(for: .milliseconds(50))
            }
        }
    }
}
