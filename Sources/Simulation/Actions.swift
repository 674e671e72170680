import Foundation
import StackCore
import StackModel

/// What an action runs against: the stores and the stack logic written over them.
public struct ActionContext: Sendable {
    public let stores: StackStores
    public let cache: CacheService
    public let sync: SnapshotSync
    public let time: any TimeSource
    /// Keeps the writes the stack acknowledged, to read them back after the run.
    public let ledger: WriteLedger
}

/// Who is making a request.
public struct Requester: Sendable {
    public let userID: UUIDValue
    public let organizationID: UUIDValue
    public let sessionToken: String
    /// `small` (under 10 members), `medium` (under 50) or `large`: reports break latency down by it.
    public let tenantClass: String
    let tenant: TenantActor
    /// The keys of the user's session and the prefix of their rate-limit counters, built once
    /// rather than for every request.
    let sessionKey: String
    let rateKeyPrefix: String

    init(userID: UUIDValue, organizationID: UUIDValue, sessionToken: String, tenantClass: String, tenant: TenantActor) {
        self.userID = userID; self.organizationID = organizationID; self.sessionToken = sessionToken
        self.tenantClass = tenantClass; self.tenant = tenant
        sessionKey = "session:\(sessionToken)"
        rateKeyPrefix = "rate:\(userID):"
    }

    /// The requester's organization's sprints: which is active, which comes next.
    public var sprints: SprintActor { tenant.sprint }

    /// Tenants by size: fewer than 10 members, fewer than 50, the rest.
    public static let tenantClasses = ["small", "medium", "large"]

    public static func tenantClass(members: Int) -> String {
        tenantClasses[members < 10 ? 0 : members < 50 ? 1 : 2]
    }
}

/// A named user action: the permission the request pipeline checks, then the work.
public struct ActionDefinition: Sendable {
    public let name: String
    public let resource: String
    public let permission: String
    public let run: @Sendable (ActionContext, Requester, inout SeededRandom) async throws -> Void

    public init(name: String, resource: String, permission: String,
                run: @escaping @Sendable (ActionContext, Requester, inout SeededRandom) async throws -> Void) {
        self.name = name; self.resource = resource; self.permission = permission; self.run = run
    }
}

/// The operations of DESIGN.md §1, each as a request body.
public enum BuiltInActions {
    public static let all: [ActionDefinition] = [
        .init(name: "board", resource: "task", permission: "read") { ctx, who, rng in
            _ = try await ctx.stores.documents.board(organizationID: who.organizationID,
                                                     status: rng.pick(TaskStatus.allCases), limit: 50)
        },
        .init(name: "my-tasks", resource: "task", permission: "read") { ctx, who, rng in
            _ = try await ctx.stores.documents.tasks(assigneeID: who.userID, status: rng.pick(TaskStatus.active))
        },
        .init(name: "my-active", resource: "task", permission: "read") { ctx, who, _ in
            _ = try await ctx.stores.documents.activeTasks(organizationID: who.organizationID, assigneeID: who.userID)
        },
        .init(name: "due-soon", resource: "task", permission: "read") { ctx, who, rng in
            let now = ctx.time.now()
            let days = Double(rng.int(in: 3...14))
            _ = try await ctx.stores.documents.dueSoon(organizationID: who.organizationID, from: now,
                                                       to: now.addingTimeInterval(days * 86_400), limit: 50)
        },
        .init(name: "search", resource: "task", permission: "read") { ctx, who, rng in
            _ = try await ctx.stores.documents.search(organizationID: who.organizationID,
                                                      text: rng.pick(DatasetGenerator.searchTerms), limit: 20)
        },
        .init(name: "task-stats", resource: "report", permission: "read") { ctx, who, _ in
            _ = try await ctx.cache.taskStats(organizationID: who.organizationID)
        },
        .init(name: "dashboard", resource: "report", permission: "read") { ctx, who, _ in
            _ = try await ctx.cache.dashboard(userID: who.userID, organizationID: who.organizationID)
        },
        .init(name: "sprint-board", resource: "sprint", permission: "read") { ctx, who, _ in
            guard let sprint = await who.tenant.sprint.activeSprintID else { return }
            _ = try await ctx.stores.documents.sprintTasks(sprintID: sprint)
        },
        .init(name: "sprint-metrics", resource: "sprint", permission: "read") { ctx, who, _ in
            try await who.tenant.sprint.recomputeMetrics(stores: ctx.stores, now: ctx.time.now())
        },
        .init(name: "create-task", resource: "task", permission: "create") { ctx, who, rng in
            let now = ctx.time.now()
            let sprint = await who.tenant.sprint.activeSprintID
            let snapshot = try await ctx.stores.documents.snapshots(userIDs: [who.userID]).first
            let task = DatasetGenerator.newTask(organizationID: who.organizationID, creator: who.userID, assignee: snapshot,
                                                sprintID: rng.chance(0.7) ? sprint : nil, now: now, &rng)
            try await ctx.ledger.track(.taskCreated(task)) {
                try await ctx.stores.documents.insertTask(task)
                return true
            }
            await who.tenant.add(taskID: task.id, for: who.userID)
            try await recordActivity(ctx, who, "task.created", task.id, ["status": task.status.rawValue], &rng)
            try await ctx.cache.invalidateTasks(organizationID: who.organizationID)
        },
        .init(name: "update-status", resource: "task", permission: "update") { ctx, who, rng in
            guard let taskID = await who.tenant.pickTask(for: who.userID, rng.next()) else { return }
            let status = rng.pick(TaskStatus.allCases)
            var changed: ProjectTask?
            try await ctx.ledger.track(.statusChanged(task: taskID, to: status)) {
                changed = try await ctx.stores.documents.updateStatus(taskID: taskID, to: status, at: ctx.time.now())
                return changed != nil
            }
            guard let before = changed else { return }
            try await recordActivity(ctx, who, "task.status_changed", taskID,
                                     ["from": before.status.rawValue, "to": status.rawValue], &rng)
            try await ctx.cache.invalidateTasks(organizationID: who.organizationID)
            if let sprint = before.sprintID, await who.tenant.sprint.taskMoved(in: sprint) {
                try await who.tenant.sprint.recomputeMetrics(stores: ctx.stores, now: ctx.time.now())
            }
        },
        .init(name: "log-time", resource: "task", permission: "update") { ctx, who, rng in
            guard let taskID = await who.tenant.pickTask(for: who.userID, rng.next()) else { return }
            let entry = TimeEntry(userID: who.userID, hours: Double(rng.int(in: 1...8)) / 2,
                                  description: rng.pick(DatasetGenerator.timeEntryNotes), loggedAt: ctx.time.now())
            guard try await ctx.ledger.track(.timeLogged(task: taskID, entry), {
                try await ctx.stores.documents.logTime(taskID: taskID, entry: entry)
            }) else { return }
            try await recordActivity(ctx, who, "task.time_logged", taskID, ["hours": String(entry.hours)], &rng)
            try await ctx.cache.invalidateTasks(organizationID: who.organizationID)
        },
        .init(name: "update-profile", resource: "organization", permission: "read") { ctx, who, rng in
            let now = ctx.time.now()
            let change = DatasetGenerator.profileChange(&rng)
            guard try await ctx.ledger.track(.profileUpdated(user: who.userID, change), {
                try await ctx.stores.relational.updateProfile(userID: who.userID, change: change, at: now) != nil
            }) else { return }
            try await ctx.stores.relational.appendAudit(AuditLogEntry(
                id: rng.uuid(), organizationID: who.organizationID, userID: who.userID, action: "user.profile_updated",
                resourceType: "User", resourceID: who.userID, changes: ["name": change.name],
                ipAddress: "127.0.0.1", userAgent: "stacksim", createdAt: now))
            try await ctx.sync.enqueue(userID: who.userID, committedAt: now)
        },
        .init(name: "permission-check", resource: "organization", permission: "read") { ctx, who, rng in
            _ = try await ctx.stores.relational.hasPermission(userID: who.userID, organizationID: who.organizationID,
                                                             resource: rng.pick(DatasetGenerator.resources),
                                                             action: rng.pick(DatasetGenerator.actions))
        },
        .init(name: "members", resource: "member", permission: "read") { ctx, who, _ in
            _ = try await ctx.stores.relational.memberIDs(organizationID: who.organizationID, activeOnly: true)
        },
    ]

    private static func recordActivity(_ ctx: ActionContext, _ who: Requester, _ action: String, _ taskID: UUIDValue,
                                       _ changes: [String: String], _ rng: inout SeededRandom) async throws {
        try await ctx.stores.documents.insertActivity(ActivityLog(
            id: rng.uuid(), organizationID: who.organizationID, userID: who.userID, action: action, resourceType: "Task",
            resourceID: taskID, changes: changes, createdAt: ctx.time.now()))
    }
}
