import Foundation

// MongoDB-side documents (seed 000).

public enum TaskStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case todo, inProgress = "in_progress", review, done

    /// The statuses the partial index `idx_tasks_org_assignee_active` covers.
    public static let active: [TaskStatus] = [.todo, .inProgress, .review]
    public var isActive: Bool { self != .done }
}

/// The denormalised copy of a user that tasks carry, and the `user_snapshots` document.
public struct UserSnapshot: Sendable, Codable, Hashable {
    public var userID: UUIDValue
    public var name: String
    public var email: String
    public var avatarURL: String?
    public var department: String?
    public var position: String?
    public var syncedAt: Date

    public init(userID: UUIDValue, name: String, email: String, avatarURL: String?, department: String?,
                position: String?, syncedAt: Date) {
        self.userID = userID; self.name = name; self.email = email; self.avatarURL = avatarURL
        self.department = department; self.position = position; self.syncedAt = syncedAt
    }

    public init(of user: User, syncedAt: Date) {
        self.init(userID: user.id, name: user.name, email: user.email, avatarURL: user.avatarURL,
                  department: user.department, position: user.position, syncedAt: syncedAt)
    }

    /// Whether the snapshot carries the user's current profile (ignores `syncedAt`).
    public func matches(_ user: User) -> Bool {
        name == user.name && email == user.email && avatarURL == user.avatarURL
            && department == user.department && position == user.position
    }

    /// Whether two snapshots carry the same profile (ignores `syncedAt`).
    public func sameProfile(as other: UserSnapshot) -> Bool {
        name == other.name && email == other.email && avatarURL == other.avatarURL
            && department == other.department && position == other.position
    }
}

public struct TimeEntry: Sendable, Codable, Hashable {
    public var userID: UUIDValue
    public var hours: Double
    public var description: String
    public var loggedAt: Date

    public init(userID: UUIDValue, hours: Double, description: String, loggedAt: Date) {
        self.userID = userID; self.hours = hours; self.description = description; self.loggedAt = loggedAt
    }
}

/// A `tasks` document. (Named so it never shadows Swift's `Task`.)
///
/// The fields live in one copy-on-write box: the embedded store hands tasks out by the page, and
/// copying a task is then one reference count instead of a dozen strings and arrays.
@dynamicMemberLookup
public struct ProjectTask: Sendable, Codable, Hashable {
    public struct Fields: Sendable, Codable, Hashable {
        public var id: UUIDValue
        public var organizationID: UUIDValue
        public var sprintID: UUIDValue?
        public var createdByID: UUIDValue
        public var taskKey: String
        public var title: String
        public var description: String
        public var taskType: String
        public var assigneeID: UUIDValue?
        public var reviewerID: UUIDValue?
        public var assigneeSnapshot: UserSnapshot?
        public var reviewerSnapshot: UserSnapshot?
        public var status: TaskStatus
        public var priority: String
        public var position: Int
        public var estimatedHours: Double
        public var actualHours: Double
        public var timeEntries: [TimeEntry]
        public var dueDate: Date?
        public var startDate: Date?
        public var completedAt: Date?
        public var tags: [String]
        public var labels: [String]
        public var createdAt: Date
        public var updatedAt: Date
    }

    @usableFromInline final class Box: @unchecked Sendable {
        @usableFromInline var fields: Fields
        @usableFromInline init(_ fields: Fields) { self.fields = fields }
    }

    @usableFromInline var box: Box

    /// Inlinable, so that a field's key path is folded into a plain access where it is used.
    @inlinable public subscript<Value>(dynamicMember path: WritableKeyPath<Fields, Value>) -> Value {
        get { box.fields[keyPath: path] }
        set {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.fields) }
            box.fields[keyPath: path] = newValue
        }
    }

    public var remainingHours: Double { max(0, box.fields.estimatedHours - box.fields.actualHours) }

    public init(id: UUIDValue, organizationID: UUIDValue, sprintID: UUIDValue?, createdByID: UUIDValue, taskKey: String,
                title: String, description: String, taskType: String, assigneeID: UUIDValue?, reviewerID: UUIDValue?,
                assigneeSnapshot: UserSnapshot?, reviewerSnapshot: UserSnapshot?, status: TaskStatus, priority: String,
                position: Int, estimatedHours: Double, actualHours: Double, timeEntries: [TimeEntry], dueDate: Date?,
                startDate: Date?, completedAt: Date?, tags: [String], labels: [String], createdAt: Date, updatedAt: Date) {
        box = Box(Fields(
            id: id, organizationID: organizationID, sprintID: sprintID, createdByID: createdByID, taskKey: taskKey,
            title: title, description: description, taskType: taskType, assigneeID: assigneeID, reviewerID: reviewerID,
            assigneeSnapshot: assigneeSnapshot, reviewerSnapshot: reviewerSnapshot, status: status, priority: priority,
            position: position, estimatedHours: estimatedHours, actualHours: actualHours, timeEntries: timeEntries,
            dueDate: dueDate, startDate: startDate, completedAt: completedAt, tags: tags, labels: labels,
            createdAt: createdAt, updatedAt: updatedAt))
    }

    /// Encoded and decoded as the plain document, field by field.
    public init(from decoder: any Decoder) throws { box = Box(try Fields(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try box.fields.encode(to: encoder) }

    public static func == (a: Self, b: Self) -> Bool { a.box === b.box || a.box.fields == b.box.fields }
    public func hash(into hasher: inout Hasher) { hasher.combine(box.fields) }
}

public enum SprintStatus: String, Sendable, Codable, CaseIterable {
    case planning, active, closed
}

public struct SprintCapacity: Sendable, Codable, Hashable {
    public var totalHours: Double
    public var allocatedHours: Double
    public var availableHours: Double { max(0, totalHours - allocatedHours) }

    public init(totalHours: Double, allocatedHours: Double) {
        self.totalHours = totalHours; self.allocatedHours = allocatedHours
    }
}

public struct BurndownPoint: Sendable, Codable, Hashable {
    public var date: Date
    public var remainingHours: Double

    public init(date: Date, remainingHours: Double) {
        self.date = date; self.remainingHours = remainingHours
    }
}

public struct SprintMetrics: Sendable, Codable, Hashable {
    public var totalTasks: Int
    public var completedTasks: Int
    public var inProgressTasks: Int
    public var todoTasks: Int
    public var completionRate: Double
    public var burndown: [BurndownPoint]

    public static let empty = SprintMetrics(SprintTally([]), burndown: [])

    public init(_ tally: SprintTally, burndown: [BurndownPoint]) {
        totalTasks = tally.total
        completedTasks = tally.completed
        inProgressTasks = tally.inProgress
        todoTasks = tally.todo
        completionRate = totalTasks == 0 ? 0 : (Double(completedTasks) * 1000 / Double(totalTasks)).rounded() / 10
        self.burndown = burndown
    }

    public init(tasks: some Sequence<ProjectTask>, burndown: [BurndownPoint]) {
        self.init(SprintTally(tasks), burndown: burndown)
    }
}

/// A sprint's tasks summed in one pass: what its metrics, its burndown point and its allocated
/// capacity need.
public struct SprintTally: Sendable {
    public private(set) var total = 0
    public private(set) var completed = 0
    /// In progress or in review.
    public private(set) var inProgress = 0
    public private(set) var todo = 0
    /// Estimated less logged hours of the tasks not done.
    public private(set) var remainingHours = 0.0
    public private(set) var estimatedHours = 0.0

    public init(_ tasks: some Sequence<ProjectTask>) {
        for task in tasks {
            total += 1
            switch task.status {
            case .done: completed += 1
            case .inProgress, .review: inProgress += 1; remainingHours += task.remainingHours
            case .todo: todo += 1; remainingHours += task.remainingHours
            }
            estimatedHours += task.estimatedHours
        }
    }
}

public struct Retrospective: Sendable, Codable, Hashable {
    public var wentWell: [String]
    public var toImprove: [String]
    public var actionItems: [String]

    public init(wentWell: [String], toImprove: [String], actionItems: [String]) {
        self.wentWell = wentWell; self.toImprove = toImprove; self.actionItems = actionItems
    }
}

public struct Sprint: Sendable, Codable, Hashable {
    public var id: UUIDValue
    public var organizationID: UUIDValue
    public var name: String
    public var goal: String
    public var status: SprintStatus
    public var startDate: Date
    public var endDate: Date
    public var capacity: SprintCapacity
    public var metrics: SprintMetrics
    public var retrospective: Retrospective?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUIDValue, organizationID: UUIDValue, name: String, goal: String, status: SprintStatus,
                startDate: Date, endDate: Date, capacity: SprintCapacity, metrics: SprintMetrics,
                retrospective: Retrospective?, createdAt: Date, updatedAt: Date) {
        self.id = id; self.organizationID = organizationID; self.name = name; self.goal = goal; self.status = status
        self.startDate = startDate; self.endDate = endDate; self.capacity = capacity; self.metrics = metrics
        self.retrospective = retrospective; self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

/// An `activity_logs` document; expires 30 days after `createdAt` (TTL index).
public struct ActivityLog: Sendable, Codable, Hashable {
    public var id: UUIDValue
    public var organizationID: UUIDValue
    public var userID: UUIDValue
    public var action: String
    public var resourceType: String
    public var resourceID: UUIDValue
    public var changes: [String: String]
    public var createdAt: Date

    public static let timeToLive: TimeInterval = 30 * 24 * 3600

    public init(id: UUIDValue, organizationID: UUIDValue, userID: UUIDValue, action: String, resourceType: String,
                resourceID: UUIDValue, changes: [String: String], createdAt: Date) {
        self.id = id; self.organizationID = organizationID; self.userID = userID; self.action = action
        self.resourceType = resourceType; self.resourceID = resourceID; self.changes = changes; self.createdAt = createdAt
    }
}

/// One row of the `task-stats` aggregation: count and hours per status.
public struct StatusStat: Sendable, Codable, Hashable {
    public var status: TaskStatus
    public var count: Int
    public var totalHours: Double

    public init(status: TaskStatus, count: Int, totalHours: Double) {
        self.status = status; self.count = count; self.totalHours = totalHours
    }
}
