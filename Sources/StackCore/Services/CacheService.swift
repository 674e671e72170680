import Foundation
import StackModel
import Synchronization

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
    private let invalidation = InvalidationKeys()

    public init(stores: StackStores, settings: CacheSettings, observer: any StackObserver) {
        self.stores = stores
        self.settings = settings
        self.observer = observer
    }

    public static func taskStatsKey(_ org: UUIDValue) -> String { org.text(after: "task_stats", separator: UInt8(ascii: ":")) }
    public static func dashboardKey(user: UUIDValue, org: UUIDValue) -> String {
        user.text(after: "dashboard", separator: UInt8(ascii: ":"), then: org)
    }

    public func taskStats(organizationID: UUIDValue) async throws -> [StatusStat] {
        try await readThrough(family: "task_stats", key: Self.taskStatsKey(organizationID), ttl: settings.taskStatsTTL) {
            try await stores.documents.taskStats(organizationID: organizationID)
        }
    }

    public func dashboard(userID: UUIDValue, organizationID: UUIDValue) async throws -> Dashboard {
        try await readThrough(family: "dashboard", key: Self.dashboardKey(user: userID, org: organizationID),
                              ttl: settings.dashboardTTL) {
            // The titles are read at once: a task list kept across the awaits below would keep the
            // embedded store's table shared while other requests write to it. A closure, not
            // `\.title`: a task's fields are dynamic members, and a key path to one passed as a
            // function is projected at run time (2 % of the embedded stack's CPU).
            let active = try await stores.documents.activeTasks(organizationID: organizationID, assigneeID: userID).prefix(20).map { $0.title }
            let stats = try await taskStats(organizationID: organizationID)
            let recent = try await stores.documents.recentActivity(organizationID: organizationID, limit: 10)
            return Dashboard(activeTasks: active, stats: stats,
                             recentActivity: recent.map { $0.resourceID.text(after: $0.action, separator: UInt8(ascii: " ")) })
        }
    }

    /// After a task write: drop the org's stats and the dashboard of every member (the seed's
    /// fan-out, whose cost grows with the organization). Returns how many keys it targeted.
    @discardableResult
    public func invalidateTasks(organizationID: UUIDValue) async throws -> Int {
        let members = try await stores.relational.memberIDs(organizationID: organizationID, activeOnly: false)
        let keys = invalidation.keys(organizationID: organizationID, members: members)
        _ = try await stores.cache.delete(keys)
        observer.invalidated(keys: keys.count)
        return keys.count
    }

    /// The cached value, or `compute`'s stored for `ttl`; a cached value that does not read
    /// back (written by another version) counts as a miss.
    private func readThrough<T: CacheValue>(family: String, key: String, ttl: Duration,
                                            compute: () async throws -> T) async throws -> T {
        if let cached = try await stores.cache.get(key), let json = CacheJSON(text: cached), let value = T(json: json) {
            observer.cacheLookup(family: family, hit: true)
            return value
        }
        observer.cacheLookup(family: family, hit: false)
        let value = try await compute()
        try await stores.cache.set(key, value.json.text, ttl: ttl)
        return value
    }
}

/// The keys a task write deletes in each organization, kept while its members stay the same:
/// formatting two ids per member on every write was a fifth of the write's CPU.
private final class InvalidationKeys: Sendable {
    private let known = Mutex<[UUIDValue: (members: [UUIDValue], keys: [String])]>([:])

    func keys(organizationID: UUIDValue, members: [UUIDValue]) -> [String] {
        if let memo = known.withLock({ $0[organizationID] }), memo.members == members { return memo.keys }
        let keys = [CacheService.taskStatsKey(organizationID)]
            + members.map { CacheService.dashboardKey(user: $0, org: organizationID) }
        known.withLock { $0[organizationID] = (members, keys) }
        return keys
    }
}

/// What the read-through caches keep, as JSON.
protocol CacheValue {
    var json: CacheJSON { get }
    init?(json: CacheJSON)
}

extension StatusStat: CacheValue {
    var json: CacheJSON {
        .object([("status", .string(status.rawValue)), ("count", .number(Double(count))), ("total_hours", .number(totalHours))])
    }

    init?(json: CacheJSON) {
        guard let status = json["status"]?.string.flatMap(TaskStatus.init(rawValue:)), let count = json["count"]?.number,
              let hours = json["total_hours"]?.number else { return nil }
        self.init(status: status, count: Int(count), totalHours: hours)
    }
}

extension Array: CacheValue where Element: CacheValue {
    var json: CacheJSON { .array(map(\.json)) }

    init?(json: CacheJSON) {
        guard let items = json.array else { return nil }
        var values: [Element] = []
        for item in items {
            guard let value = Element(json: item) else { return nil }
            values.append(value)
        }
        self = values
    }
}

extension String: CacheValue {
    var json: CacheJSON { .string(self) }
    init?(json: CacheJSON) {
        guard let text = json.string else { return nil }
        self = text
    }
}

extension Dashboard: CacheValue {
    var json: CacheJSON {
        .object([("active_tasks", activeTasks.json), ("stats", stats.json), ("recent_activity", recentActivity.json)])
    }

    init?(json: CacheJSON) {
        guard let active = json["active_tasks"].flatMap([String].init(json:)), let stats = json["stats"].flatMap([StatusStat].init(json:)),
              let recent = json["recent_activity"].flatMap([String].init(json:)) else { return nil }
        self.init(activeTasks: active, stats: stats, recentActivity: recent)
    }
}
