import Foundation
import StackModel

/// Cache settings (seed 000): task stats for 5 minutes, dashboards for 10.
public struct CacheSettings: Sendable, Equatable {
    public var taskStatsTTL: Duration = .seconds(300)
    public var dashboardTTL: Duration = .seconds(600)

    public init(taskStatsTTL: Duration = .seconds(300), dashboardTTL: Duration = .seconds(600)) {
        self.taskStatsTTL = taskStatsTTL
        self.dashboardTTL = dashboardTTL
    }
}

/// What the dashboard shows a user: their active tasks, the org's stats, recent activity.
public struct Dashboard: Sendable, Codable, Equatable {
    public var activeTasks: [String]
    public var stats: [StatusStat]
    public var recentActivity: [String]
}

/// The read-through caches and their invalidation, written once over the ports (seed 000's
/// `CacheService`).
public struct CacheService: Sendable {
    public let stores: StackStores
    public let settings: CacheSettings
    public let observer: any StackObserver

    public init(stores: StackStores, settings: CacheSettings, observer: any StackObserver) {
        self.stores = stores
        self.settings = settings
        self.observer = observer
    }

    public static func taskStatsKey(_ org: UUIDValue) -> String { "task_stats:\(org)" }
    public static func dashboardKey(user: UUIDValue, org: UUIDValue) -> String { "dashboard:\(user):\(org)" }

    public func taskStats(organizationID: UUIDValue) async throws -> [StatusStat] {
        try await readThrough(family: "task_stats", key: Self.taskStatsKey(organizationID), ttl: settings.taskStatsTTL) {
            try await stores.documents.taskStats(organizationID: organizationID)
        }
    }

    public func dashboard(userID: UUIDValue, organizationID: UUIDValue) async throws -> Dashboard {
        try await readThrough(family: "dashboard", key: Self.dashboardKey(user: userID, org: organizationID),
                              ttl: settings.dashboardTTL) {
            let active = try await stores.documents.activeTasks(organizationID: organizationID, assigneeID: userID)
            let stats = try await taskStats(organizationID: organizationID)
            let recent = try await stores.documents.recentActivity(organizationID: organizationID, limit: 10)
            return Dashboard(activeTasks: active.prefix(20).map(\.title), stats: stats,
                             recentActivity: recent.map { "\($0.action) \($0.resourceID)" })
        }
    }

    /// After a task write: drop the org's stats and the dashboard of every member (the seed's
    /// fan-out, whose cost grows with the organization). Returns how many keys it targeted.
    @discardableResult
    public func invalidateTasks(organizationID: UUIDValue) async throws -> Int {
        let members = try await stores.relational.memberIDs(organizationID: organizationID, activeOnly: false)
        let keys = [Self.taskStatsKey(organizationID)] + members.map { Self.dashboardKey(user: $0, org: organizationID) }
        _ = try await stores.cache.delete(keys)
        observer.invalidated(keys: keys.count)
        return keys.count
    }

    private func readThrough<T: Codable>(family: String, key: String, ttl: Duration,
                                         compute: () async throws -> T) async throws -> T {
        if let cached = try await stores.cache.get(key), let value = try? JSONDecoder().decode(T.self, from: Data(cached.utf8)) {
            observer.cacheLookup(family: family, hit: true)
            return value
        }
        observer.cacheLookup(family: family, hit: false)
        let value = try await compute()
        try await stores.cache.set(key, String(decoding: try JSONEncoder().encode(value), as: UTF8.self), ttl: ttl)
        return value
    }
}
