import Synchronization
import Foundation
import StackModel

/// How a user's task snapshots are refreshed: one update per task as in the seed, or one
/// `updateMany` per role.
public enum SyncStrategy: String, Sendable, CaseIterable, Codable {
    case perTask = "per-task"
    case updateMany = "update-many"
}

/// A queued request to refresh one user's snapshots.
public struct SyncJob: Sendable, Codable, Equatable {
    public var userID: UUIDValue
    /// When the profile change committed in PostgreSQL (seconds since 1970).
    public var committedAt: Double

    public init(userID: UUIDValue, committedAt: Date) {
        self.userID = userID
        self.committedAt = committedAt.timeIntervalSince1970
    }
}

/// The real-time snapshot sync (seed 000's `MongodbSnapshotSyncJob`), written over the ports.
/// Jobs are sharded by user across `workers` queues, so two changes of one user are applied in
/// commit order and an older profile never overwrites a newer one.
public struct SnapshotSync: Sendable {
    public let stores: StackStores
    public let strategy: SyncStrategy
    public let workers: Int
    public let time: any TimeSource
    public let observer: any StackObserver
    private let progress = SyncProgress()

    public init(stores: StackStores, strategy: SyncStrategy, workers: Int, time: any TimeSource, observer: any StackObserver) {
        self.stores = stores
        self.strategy = strategy
        self.workers = max(1, workers)
        self.time = time
        self.observer = observer
    }

    public func queue(forWorker index: Int) -> String { "queue:snapshot_sync:\(index)" }

    public func queue(for userID: UUIDValue) -> String {
        queue(forWorker: Int(truncatingIfNeeded: (userID.low ^ userID.high) % UInt64(workers)))
    }

    public func enqueue(userID: UUIDValue, committedAt: Date) async throws {
        let job = String(decoding: try JSONEncoder().encode(SyncJob(userID: userID, committedAt: committedAt)), as: UTF8.self)
        progress.enqueued.add(1, ordering: .relaxed)
        do {
            try await stores.cache.push(queue(for: userID), job)
        } catch {
            progress.finished.add(1, ordering: .relaxed)
            throw error
        }
    }

    /// True when every job this process enqueued has been applied (or failed): the end of a run
    /// waits for this, not for an empty queue, which a popped job still being applied would fool.
    public var isSettled: Bool { unsettled == 0 }

    /// Jobs enqueued by this process and not yet applied or failed.
    public var unsettled: Int {
        max(0, progress.enqueued.load(ordering: .relaxed) - progress.finished.load(ordering: .relaxed))
    }

    /// Jobs taken from a queue and being applied now.
    public var inProgress: Int { progress.applying.load(ordering: .relaxed) }

    /// Jobs waiting across all worker queues.
    public func depth() async throws -> Int {
        var total = 0
        for index in 0..<workers { total += try await stores.cache.length(queue(forWorker: index)) }
        return total
    }

    /// Takes one job from a worker's queue and applies it; false when the queue stayed empty.
    public func processNext(worker index: Int, wait: Duration) async throws -> Bool {
        guard let raw = try await stores.cache.pop(queue(forWorker: index), timeout: wait) else { return false }
        progress.applying.add(1, ordering: .relaxed)
        defer {
            progress.finished.add(1, ordering: .relaxed)
            progress.applying.subtract(1, ordering: .relaxed)
        }
        let job = try JSONDecoder().decode(SyncJob.self, from: Data(raw.utf8))
        try await apply(job)
        return true
    }

    /// Refreshes the user's snapshot document and every task snapshot that carries them.
    public func apply(_ job: SyncJob) async throws {
        guard let user = try await stores.relational.user(id: job.userID) else { return }
        let snapshot = UserSnapshot(of: user, syncedAt: time.now())
        try await stores.documents.upsertSnapshot(snapshot)
        var updated = 0
        for role in SnapshotRole.allCases {
            switch strategy {
            case .perTask:
                for taskID in try await stores.documents.taskIDs(of: user.id, as: role) {
                    try await stores.documents.setSnapshot(snapshot, as: role, taskID: taskID)
                    updated += 1
                }
            case .updateMany:
                updated += try await stores.documents.setSnapshots(snapshot, as: role)
            }
        }
        let lag = time.now().timeIntervalSince1970 - job.committedAt
        observer.snapshotSynced(lag: .nanoseconds(Int64(max(0, lag) * 1e9)), tasksUpdated: updated)
    }
}

/// The batch sync (seed 000's `BatchSyncJob`): every user's snapshot, upserted in unordered
/// bulk writes of `batchSize`.
public struct BatchSync: Sendable {
    public let stores: StackStores
    public let batchSize: Int
    public let time: any TimeSource

    public init(stores: StackStores, batchSize: Int, time: any TimeSource) {
        self.stores = stores
        self.batchSize = max(1, batchSize)
        self.time = time
    }

    /// Returns how many snapshots were written.
    @discardableResult
    public func run() async throws -> Int {
        var written = 0
        var after: UUIDValue?
        while true {
            let users = try await stores.relational.users(after: after, limit: batchSize)
            guard let last = users.last else { return written }
            let now = time.now()
            written += try await stores.documents.bulkUpsertSnapshots(users.map { UserSnapshot(of: $0, syncedAt: now) })
            after = last.id
        }
    }
}

/// Jobs enqueued and finished by this process, shared by every copy of a `SnapshotSync`.
private final class SyncProgress: Sendable {
    let enqueued = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    /// Jobs taken from a queue and not yet finished.
    let applying = Atomic<Int>(0)
}
