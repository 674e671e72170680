import Foundation
import StackModel

/// What the cross-database check found (seed 000's `CrossDbSyncService`).
public struct ConsistencyFindings: Sendable, Codable, Equatable {
    /// Tasks whose organization does not exist in PostgreSQL.
    public var orphans: Int
    /// Users with no `user_snapshots` document, plus tasks with an assignee but no snapshot.
    public var missingSnapshots: Int
    /// Snapshot documents older than their user (profile differs), plus task snapshots that
    /// differ from their user's profile.
    public var staleSnapshots: Int
    public var usersChecked: Int

    public var clean: Bool { orphans == 0 && missingSnapshots == 0 && staleSnapshots == 0 }

    public init(orphans: Int, missingSnapshots: Int, staleSnapshots: Int, usersChecked: Int) {
        self.orphans = orphans; self.missingSnapshots = missingSnapshots
        self.staleSnapshots = staleSnapshots; self.usersChecked = usersChecked
    }
}

public struct ConsistencyCheck: Sendable {
    public let stores: StackStores
    public let batchSize: Int

    public init(stores: StackStores, batchSize: Int = 100) {
        self.stores = stores
        self.batchSize = max(1, batchSize)
    }

    public func run() async throws -> ConsistencyFindings {
        let organizations = try await stores.relational.organizationIDs()
        let orphans = try await stores.documents.taskCountsByOrganization()
            .filter { !organizations.contains($0.key) }.values.reduce(0, +)
        var findings = ConsistencyFindings(orphans: orphans,
                                           missingSnapshots: try await stores.documents.countTasksMissingAssigneeSnapshot(),
                                           staleSnapshots: 0, usersChecked: 0)
        var after: UUIDValue?
        while true {
            let users = try await stores.relational.users(after: after, limit: batchSize)
            guard let last = users.last else { return findings }
            after = last.id
            findings.usersChecked += users.count
            let stored = Dictionary(try await stores.documents.snapshots(userIDs: users.map(\.id)).map { ($0.userID, $0) },
                                    uniquingKeysWith: { a, _ in a })
            for user in users {
                guard let snapshot = stored[user.id] else { findings.missingSnapshots += 1; continue }
                if !snapshot.matches(user) { findings.staleSnapshots += 1 }
            }
            let current = users.map { UserSnapshot(of: $0, syncedAt: $0.updatedAt) }
            for role in SnapshotRole.allCases {
                findings.staleSnapshots += try await stores.documents.countTasks(withSnapshotsDifferingFrom: current, as: role)
            }
        }
    }
}
