import Foundation
import StackModel

/// Which side of the stack a store call goes to; reports name stores by these.
public enum StoreKind: String, Sendable, CaseIterable, Codable {
    case relational = "postgres"
    case document = "mongo"
    case cache = "redis"
}

/// Whose snapshot a task carries.
public enum SnapshotRole: String, Sendable, CaseIterable {
    case assignee, reviewer
}

/// The relational side (PostgreSQL): users, organizations, memberships, roles, permissions.
public protocol RelationalPort: Sendable {
    func ping() async throws
    /// Bulk-loads the relational part of a dataset into empty tables.
    func load(_ dataset: Dataset) async throws
    func user(id: UUIDValue) async throws -> User?
    /// Applies a profile change and returns the updated user, or nil when there is no such user.
    func updateProfile(userID: UUIDValue, change: ProfileChange, at: Date) async throws -> User?
    /// Members of an organization (the membership index on (organization_id, active)).
    func memberIDs(organizationID: UUIDValue, activeOnly: Bool) async throws -> [UUIDValue]
    /// The role-permission join: may this member do `action` on `resource` in this organization?
    func hasPermission(userID: UUIDValue, organizationID: UUIDValue, resource: String, action: String) async throws -> Bool
    func organizationIDs() async throws -> Set<UUIDValue>
    /// Users ordered by id, after `after` (keyset pagination for batch work).
    func users(after: UUIDValue?, limit: Int) async throws -> [User]
    func appendAudit(_ entry: AuditLogEntry) async throws
}

/// The document side (MongoDB): tasks, sprints, activity logs, user snapshots.
public protocol DocumentPort: Sendable {
    func ping() async throws
    func load(_ dataset: Dataset) async throws
    /// `board`: tasks of an organization in a status, newest first.
    func board(organizationID: UUIDValue, status: TaskStatus, limit: Int) async throws -> TaskList
    /// `my-tasks`: tasks of an assignee in a status.
    func tasks(assigneeID: UUIDValue, status: TaskStatus) async throws -> TaskList
    /// `my-active`: active tasks of an assignee in an organization (the partial index).
    func activeTasks(organizationID: UUIDValue, assigneeID: UUIDValue) async throws -> TaskList
    /// `due-soon`: tasks of an organization due in [from, to), soonest first.
    func dueSoon(organizationID: UUIDValue, from: Date, to: Date, limit: Int) async throws -> TaskList
    /// `search`: text search over title, description and tags; any term matches, best score first.
    func search(organizationID: UUIDValue, text: String, limit: Int) async throws -> TaskList
    /// `task-stats`: count and estimated hours per status.
    func taskStats(organizationID: UUIDValue) async throws -> [StatusStat]
    /// Tasks of a sprint (no index in the seed: a collection scan).
    func sprintTasks(sprintID: UUIDValue) async throws -> TaskList
    func task(id: UUIDValue) async throws -> ProjectTask?
    /// The tasks among these ids that exist, in no particular order (reading a run's writes back).
    func tasks(ids: [UUIDValue]) async throws -> [ProjectTask]
    func insertTask(_ task: ProjectTask) async throws
    /// Sets a task's status; returns the task as it was before, or nil when there is no such task.
    func updateStatus(taskID: UUIDValue, to status: TaskStatus, at: Date) async throws -> ProjectTask?
    /// Moves a task to another sprint (nil: the backlog); returns the task as it was before, or nil
    /// when there is no such task.
    func moveTask(taskID: UUIDValue, toSprint sprintID: UUIDValue?, at: Date) async throws -> ProjectTask?
    /// Appends a time entry and adds its hours; false when there is no such task.
    func logTime(taskID: UUIDValue, entry: TimeEntry) async throws -> Bool
    func insertActivity(_ log: ActivityLog) async throws
    /// Newest activity of an organization that has not expired (TTL 30 days).
    func recentActivity(organizationID: UUIDValue, limit: Int) async throws -> [ActivityLog]
    func upsertSnapshot(_ snapshot: UserSnapshot) async throws
    /// Unordered bulk upsert keyed by user id; returns how many were written.
    func bulkUpsertSnapshots(_ snapshots: [UserSnapshot]) async throws -> Int
    func snapshots(userIDs: [UUIDValue]) async throws -> [UserSnapshot]
    /// Ids of tasks whose assignee (or reviewer) is this user.
    func taskIDs(of userID: UUIDValue, as role: SnapshotRole) async throws -> [UUIDValue]
    /// Replaces one task's assignee (or reviewer) snapshot.
    func setSnapshot(_ snapshot: UserSnapshot, as role: SnapshotRole, taskID: UUIDValue) async throws
    /// Replaces the snapshot on every task of that user in one `updateMany`; returns how many changed.
    func setSnapshots(_ snapshot: UserSnapshot, as role: SnapshotRole) async throws -> Int
    /// Tasks of these users whose snapshot in that role is missing or differs from the user's
    /// given snapshot profile (one query for a batch of users).
    func countTasks(withSnapshotsDifferingFrom snapshots: [UserSnapshot], as role: SnapshotRole) async throws -> Int
    /// Tasks that have an assignee but carry no assignee snapshot.
    func countTasksMissingAssigneeSnapshot() async throws -> Int
    func taskCountsByOrganization() async throws -> [UUIDValue: Int]
    func sprint(id: UUIDValue) async throws -> Sprint?
    func saveSprint(_ sprint: Sprint) async throws
}

/// The cache side (Redis): string keys with TTLs, counters, and list queues.
public protocol CachePort: Sendable {
    func ping() async throws
    func get(_ key: String) async throws -> String?
    func set(_ key: String, _ value: String, ttl: Duration?) async throws
    /// Sets many keys in one round trip (pipelined on a server).
    func setMany(_ entries: [(key: String, value: String)], ttl: Duration?) async throws
    /// Deletes keys; returns how many existed.
    func delete(_ keys: [String]) async throws -> Int
    /// INCR, setting the TTL when the key is created; returns the new value.
    func increment(_ key: String, ttl: Duration) async throws -> Int
    /// Remaining time to live; nil when the key is missing or has none.
    func timeToLive(_ key: String) async throws -> Duration?
    /// LPUSH onto a queue.
    func push(_ queue: String, _ value: String) async throws
    /// BRPOP: the oldest element, waiting up to `timeout`; nil on time-out.
    func pop(_ queue: String, timeout: Duration) async throws -> String?
    func length(_ queue: String) async throws -> Int
}

/// The three stores a run talks to.
public struct StackStores: Sendable {
    public var relational: any RelationalPort
    public var documents: any DocumentPort
    public var cache: any CachePort
    /// Where calls to these stores are cheapest from (a live stack's I/O thread: a call made
    /// there resumes its caller without a thread hand-off); nil: anywhere.
    public var executor: (any TaskExecutor)?

    public init(relational: any RelationalPort, documents: any DocumentPort, cache: any CachePort, executor: (any TaskExecutor)? = nil) {
        self.relational = relational
        self.documents = documents
        self.cache = cache
        self.executor = executor
    }
}

/// An error from a store, with the store, the call and what went wrong; never a credential.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure: reports count errors by `<store>_<code>`.
    public enum Code: String, Sendable, CaseIterable {
        /// A failure the embedded store's knobs injected.
        case injected
        /// The reply was not what the protocol promised.
        case protocolError = "protocol"
        /// A unique key was already taken (PostgreSQL 23505, MongoDB 11000).
        case uniqueViolation = "unique_violation"
        /// Another integrity constraint failed (PostgreSQL 23xxx).
        case constraint
        /// The server could not be reached, or was found down moments ago: failed fast.
        case unavailable
        /// The connection broke while the call was on it (reset, EOF, server shutdown).
        case connectionLost = "connection_lost"
        /// No answer within the call timeout.
        case timeout
        /// No pooled connection became free within the pool's wait timeout.
        case poolTimeout = "pool_timeout"
        /// PostgreSQL 40P01.
        case deadlock
        /// PostgreSQL 40001.
        case serializationFailure = "serialization_failure"
        /// PostgreSQL 53300, or a Redis/MongoDB refusal for the same reason.
        case tooManyConnections = "too_many_connections"
        /// PostgreSQL 57014 (statement timeout, cancel request), MongoDB 50 (maxTimeMS).
        case queryCanceled = "query_canceled"
        /// The server refused the credentials.
        case authentication
        /// Any other error the server answered; `serverCode` says which.
        case server
    }
    public var code: Code
    public var store: StoreKind
    public var operation: String
    public var detail: String
    /// The server's own code: a PostgreSQL SQLSTATE, a Redis error prefix, a MongoDB error code.
    public var serverCode: String?

    public init(_ code: Code, store: StoreKind, operation: String, detail: String, serverCode: String? = nil) {
        self.code = code; self.store = store; self.operation = operation; self.detail = detail; self.serverCode = serverCode
    }

    /// The class reports count this error under, e.g. `postgres_timeout`, `redis_server_LOADING`.
    public var errorClass: String {
        let base = "\(store.rawValue)_\(code.rawValue)"
        guard code == .server, let serverCode, !serverCode.isEmpty else { return base }
        return base + "_" + serverCode
    }

    public var description: String {
        "\(store.rawValue) \(operation): \(code.rawValue)\(serverCode.map { " [\($0)]" } ?? ""): \(detail)"
    }
}

/// stacksim would have to touch what is not its own, or another stacksim's work in progress: an
/// object of someone else's depends on or sits among what it made, or another stacksim held its
/// places past the wait. Nothing was touched; bad input, like a place holding data stacksim did
/// not create.
public struct PlacesRefusal: Error, CustomStringConvertible, Sendable {
    /// Which store, what was in the way and what to do.
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// A live store's address or settings are malformed: bad input, found before anything connects.
public struct StoreConfigurationError: Error, CustomStringConvertible, Sendable {
    public var store: StoreKind
    public var message: String

    public init(store: StoreKind, message: String) {
        self.store = store
        self.message = message
    }

    public var description: String { "\(store.rawValue): \(message)" }
}
