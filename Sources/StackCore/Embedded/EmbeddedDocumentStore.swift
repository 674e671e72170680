import Foundation
import Synchronization
import StackModel

/// MongoDB in miniature: the seed's collections and indexes — `{organization_id, status,
/// created_at: -1}`, `{assignee_id, status}`, `{due_date}`, the text index (language `none`),
/// the partial `{organization_id, assignee_id}` for active statuses, the TTL index on
/// `activity_logs.created_at`, unique `user_snapshots.user_id`. Queries the seed gives no index
/// (tasks by sprint, by reviewer) scan the collection, as the server would.
public final class EmbeddedDocumentStore: DocumentPort, EvidenceSource {
    private let state = Mutex(Collections())
    private let behaviour: StoreBehaviour
    private let time: any TimeSource

    public init(behaviour: StoreBehaviour, time: any TimeSource) {
        self.behaviour = behaviour
        self.time = time
    }

    struct OrgStatus: Hashable { var organization: UUIDValue; var status: TaskStatus }
    struct AssigneeStatus: Hashable { var assignee: UUIDValue; var status: TaskStatus }
    struct OrgAssignee: Hashable { var organization: UUIDValue; var assignee: UUIDValue }

    struct Collections {
        var tasks: [UUIDValue: ProjectTask] = [:]
        /// idx_tasks_org_status_created; sort key is -created_at so the newest come first.
        var orgStatusCreated: [OrgStatus: OrderedIndex<Double>] = [:]
        var assigneeStatus: [AssigneeStatus: Set<UUIDValue>] = [:]
        /// idx_tasks_org_assignee_active: only tasks in an active status are indexed.
        var orgAssigneeActive: [OrgAssignee: Set<UUIDValue>] = [:]
        var dueDate = OrderedIndex<Double>()
        var text: [String: Set<UUIDValue>] = [:]
        var sprints: [UUIDValue: Sprint] = [:]
        var activity: [UUIDValue: ActivityLog] = [:]
        /// idx_activity_logs_ttl on created_at.
        var activityTTL = OrderedIndex<Double>()
        var snapshots: [UUIDValue: UserSnapshot] = [:]

        mutating func index(_ task: ProjectTask, bulk: Bool = false) {
            let created = -task.createdAt.timeIntervalSince1970
            if bulk {
                orgStatusCreated[OrgStatus(organization: task.organizationID, status: task.status), default: .init()]
                    .appendUnsorted(created, task.id)
            } else {
                orgStatusCreated[OrgStatus(organization: task.organizationID, status: task.status), default: .init()]
                    .insert(created, task.id)
            }
            if let assignee = task.assigneeID {
                assigneeStatus[AssigneeStatus(assignee: assignee, status: task.status), default: []].insert(task.id)
                if task.status.isActive {
                    orgAssigneeActive[OrgAssignee(organization: task.organizationID, assignee: assignee), default: []].insert(task.id)
                }
            }
            if let due = task.dueDate {
                if bulk { dueDate.appendUnsorted(due.timeIntervalSince1970, task.id) } else { dueDate.insert(due.timeIntervalSince1970, task.id) }
            }
            for token in TextIndex.tokens(of: task) { text[token, default: []].insert(task.id) }
        }

        /// Removes the entries that depend on status (the only indexed field that changes).
        mutating func unindexStatus(_ task: ProjectTask) {
            orgStatusCreated[OrgStatus(organization: task.organizationID, status: task.status)]?
                .remove(-task.createdAt.timeIntervalSince1970, task.id)
            if let assignee = task.assigneeID {
                assigneeStatus[AssigneeStatus(assignee: assignee, status: task.status)]?.remove(task.id)
                orgAssigneeActive[OrgAssignee(organization: task.organizationID, assignee: assignee)]?.remove(task.id)
            }
        }

        mutating func reindexStatus(_ task: ProjectTask) {
            orgStatusCreated[OrgStatus(organization: task.organizationID, status: task.status), default: .init()]
                .insert(-task.createdAt.timeIntervalSince1970, task.id)
            if let assignee = task.assigneeID {
                assigneeStatus[AssigneeStatus(assignee: assignee, status: task.status), default: []].insert(task.id)
                if task.status.isActive {
                    orgAssigneeActive[OrgAssignee(organization: task.organizationID, assignee: assignee), default: []].insert(task.id)
                }
            }
        }

        /// The TTL monitor: deletes activity older than 30 days.
        mutating func expireActivity(now: Date) {
            let cutoff = now.timeIntervalSince1970 - ActivityLog.timeToLive
            let expired = activityTTL.lowerBound(cutoff)
            guard expired > 0 else { return }
            for entry in activityTTL.entries[0..<expired] { activity[entry.id] = nil }
            activityTTL.removeFirst(expired)
        }

        func taskIDs(of user: UUIDValue, as role: SnapshotRole) -> [UUIDValue] {
            switch role {
            case .assignee:
                return TaskStatus.allCases.flatMap { assigneeStatus[AssigneeStatus(assignee: user, status: $0)] ?? [] }
            case .reviewer:
                return tasks.values.filter { $0.reviewerID == user }.map(\.id)
            }
        }
    }

    public func ping() async throws {
        try await behaviour.serve("ping") {}
    }

    public func evidence() async throws -> StoreEvidence { behaviour.evidence.snapshot }

    public func load(_ dataset: Dataset) async throws {
        try await behaviour.serve("load") {
            try state.withLock { c in
                for task in dataset.tasks {
                    guard c.tasks.updateValue(task, forKey: task.id) == nil else {
                        throw StoreError(.uniqueViolation, store: .document, operation: "load", detail: "duplicate task _id")
                    }
                    c.index(task, bulk: true)
                }
                for key in c.orgStatusCreated.keys { c.orgStatusCreated[key]!.sort() }
                c.dueDate.sort()
                for sprint in dataset.sprints { c.sprints[sprint.id] = sprint }
                for log in dataset.activityLogs {
                    c.activity[log.id] = log
                    c.activityTTL.appendUnsorted(log.createdAt.timeIntervalSince1970, log.id)
                }
                c.activityTTL.sort()
                for snapshot in dataset.snapshots { c.snapshots[snapshot.userID] = snapshot }
                c.expireActivity(now: time.now())
            }
        }
    }

    public func board(organizationID: UUIDValue, status: TaskStatus, limit: Int) async throws -> [ProjectTask] {
        try await behaviour.query("board", .indexScan, on: "org_status_created", returned: \.count) { examined in
            state.withLock { c in
                guard let index = c.orgStatusCreated[OrgStatus(organization: organizationID, status: status)] else { return [] }
                let entries = index.entries.prefix(limit)
                examined += entries.count
                return entries.compactMap { c.tasks[$0.id] }
            }
        }
    }

    public func tasks(assigneeID: UUIDValue, status: TaskStatus) async throws -> [ProjectTask] {
        try await behaviour.query("my-tasks", .indexScan, on: "assignee_status", returned: \.count) { examined in
            state.withLock { c in
                let ids = c.assigneeStatus[AssigneeStatus(assignee: assigneeID, status: status)] ?? []
                examined += ids.count
                return ids.sorted().compactMap { c.tasks[$0] }
            }
        }
    }

    public func activeTasks(organizationID: UUIDValue, assigneeID: UUIDValue) async throws -> [ProjectTask] {
        try await behaviour.query("my-active", .indexScan, on: "org_assignee_active", returned: \.count) { examined in
            state.withLock { c in
                let ids = c.orgAssigneeActive[OrgAssignee(organization: organizationID, assignee: assigneeID)] ?? []
                examined += ids.count
                return ids.sorted().compactMap { c.tasks[$0] }
            }
        }
    }

    public func dueSoon(organizationID: UUIDValue, from: Date, to: Date, limit: Int) async throws -> [ProjectTask] {
        try await behaviour.query("due-soon", .indexScan, on: "due_date", returned: \.count) { examined in
            state.withLock { c in
                let start = c.dueDate.lowerBound(from.timeIntervalSince1970)
                let end = to.timeIntervalSince1970
                var found: [ProjectTask] = []
                for entry in c.dueDate.entries[start...] {
                    guard entry.sort < end, found.count < limit else { break }
                    examined += 1
                    if let task = c.tasks[entry.id], task.organizationID == organizationID { found.append(task) }
                }
                return found
            }
        }
    }

    public func search(organizationID: UUIDValue, text: String, limit: Int) async throws -> [ProjectTask] {
        try await behaviour.query("search", .textIndex, on: "text", returned: \.count) { examined in
            state.withLock { c in
                var scores: [UUIDValue: Int] = [:]
                for term in TextIndex.tokens(text) {
                    let postings = c.text[term] ?? []
                    examined += postings.count
                    for id in postings { scores[id, default: 0] += 1 }
                }
                return scores.compactMap { id, score -> (ProjectTask, Int)? in
                    guard let task = c.tasks[id], task.organizationID == organizationID else { return nil }
                    return (task, score)
                }
                .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.id < $1.0.id }
                .prefix(limit).map(\.0)
            }
        }
    }

    public func taskStats(organizationID: UUIDValue) async throws -> [StatusStat] {
        // An aggregation: every entry it reads is used, so all count as returned.
        try await behaviour.query("task-stats", .indexScan, on: "org_status_created",
                                  returned: { $0.reduce(0) { $0 + $1.count } }) { examined in
            state.withLock { c in
                TaskStatus.allCases.compactMap { status in
                    guard let index = c.orgStatusCreated[OrgStatus(organization: organizationID, status: status)],
                          index.count > 0 else { return nil }
                    examined += index.count
                    let hours = index.entries.reduce(0.0) { $0 + (c.tasks[$1.id]?.estimatedHours ?? 0) }
                    return StatusStat(status: status, count: index.count, totalHours: hours)
                }
            }
        }
    }

    public func sprintTasks(sprintID: UUIDValue) async throws -> [ProjectTask] {
        try await behaviour.query("sprint-tasks", .collectionScan, on: "tasks", returned: \.count) { examined in
            state.withLock { c in
                examined += c.tasks.count
                return c.tasks.values.filter { $0.sprintID == sprintID }.sorted { $0.position < $1.position }
            }
        }
    }

    public func task(id: UUIDValue) async throws -> ProjectTask? {
        try await behaviour.query("task", .keyLookup, on: "_id_", returned: { $0 == nil ? 0 : 1 }) { examined in
            examined += 1
            return state.withLock { $0.tasks[id] }
        }
    }

    public func tasks(ids: [UUIDValue]) async throws -> [ProjectTask] {
        try await behaviour.query("tasks", .keyLookup, on: "_id_", returned: \.count) { examined in
            examined += ids.count
            return state.withLock { c in ids.compactMap { c.tasks[$0] } }
        }
    }

    public func insertTask(_ task: ProjectTask) async throws {
        try await behaviour.serve("insert-task") {
            try state.withLock { c in
                guard c.tasks[task.id] == nil else {
                    throw StoreError(.uniqueViolation, store: .document, operation: "insert-task", detail: "duplicate task _id")
                }
                c.tasks[task.id] = task
                c.index(task)
            }
        }
    }

    public func updateStatus(taskID: UUIDValue, to status: TaskStatus, at: Date) async throws -> ProjectTask? {
        try await behaviour.serve("update-status") {
            state.withLock { c -> ProjectTask? in
                guard let before = c.tasks[taskID] else { return nil }
                var after = before
                after.status = status
                after.updatedAt = at
                after.completedAt = status == .done ? at : nil
                c.unindexStatus(before)
                c.tasks[taskID] = after
                c.reindexStatus(after)
                return before
            }
        }
    }

    public func moveTask(taskID: UUIDValue, toSprint sprintID: UUIDValue?, at: Date) async throws -> ProjectTask? {
        try await behaviour.serve("move-task") {
            state.withLock { c -> ProjectTask? in
                guard let before = c.tasks[taskID] else { return nil }
                c.tasks[taskID]?.sprintID = sprintID
                c.tasks[taskID]?.updatedAt = at
                return before
            }
        }
    }

    public func logTime(taskID: UUIDValue, entry: TimeEntry) async throws -> Bool {
        try await behaviour.serve("log-time") {
            state.withLock { c in
                guard var task = c.tasks[taskID] else { return false }
                task.timeEntries.append(entry)
                task.actualHours += entry.hours
                task.updatedAt = entry.loggedAt
                c.tasks[taskID] = task
                return true
            }
        }
    }

    public func insertActivity(_ log: ActivityLog) async throws {
        try await behaviour.serve("insert-activity") {
            state.withLock { c in
                c.activity[log.id] = log
                c.activityTTL.insert(log.createdAt.timeIntervalSince1970, log.id)
                c.expireActivity(now: time.now())
            }
        }
    }

    public func recentActivity(organizationID: UUIDValue, limit: Int) async throws -> [ActivityLog] {
        try await behaviour.serve("recent-activity") {
            let cutoff = time.now().timeIntervalSince1970 - ActivityLog.timeToLive
            return state.withLock { c in
                // No org index in the seed: walk the TTL index from the newest end, as the server would,
                // stopping at entries the TTL monitor has not removed yet but the query must not return.
                var found: [ActivityLog] = []
                for entry in c.activityTTL.entries.reversed() {
                    guard found.count < limit, entry.sort > cutoff else { break }
                    if let log = c.activity[entry.id], log.organizationID == organizationID { found.append(log) }
                }
                return found
            }
        }
    }

    public func upsertSnapshot(_ snapshot: UserSnapshot) async throws {
        try await behaviour.serve("upsert-snapshot") { state.withLock { $0.snapshots[snapshot.userID] = snapshot } }
    }

    public func bulkUpsertSnapshots(_ snapshots: [UserSnapshot]) async throws -> Int {
        try await behaviour.serve("bulk-upsert-snapshots") {
            state.withLock { c in
                for snapshot in snapshots { c.snapshots[snapshot.userID] = snapshot }
                return snapshots.count
            }
        }
    }

    public func snapshots(userIDs: [UUIDValue]) async throws -> [UserSnapshot] {
        try await behaviour.serve("snapshots") { state.withLock { c in userIDs.compactMap { c.snapshots[$0] } } }
    }

    public func taskIDs(of userID: UUIDValue, as role: SnapshotRole) async throws -> [UUIDValue] {
        let (path, on): (AccessPath, String) = role == .assignee ? (.indexScan, "assignee_status") : (.collectionScan, "tasks")
        return try await behaviour.query("task-ids-\(role.rawValue)", path, on: on, returned: \.count) { examined in
            state.withLock { c in
                let ids = c.taskIDs(of: userID, as: role)
                examined += role == .assignee ? ids.count : c.tasks.count
                return ids.sorted()
            }
        }
    }

    public func setSnapshot(_ snapshot: UserSnapshot, as role: SnapshotRole, taskID: UUIDValue) async throws {
        try await behaviour.serve("set-snapshot") {
            state.withLock { c in
                guard var task = c.tasks[taskID] else { return }
                if role == .assignee { task.assigneeSnapshot = snapshot } else { task.reviewerSnapshot = snapshot }
                c.tasks[taskID] = task
            }
        }
    }

    public func setSnapshots(_ snapshot: UserSnapshot, as role: SnapshotRole) async throws -> Int {
        try await behaviour.serve("set-snapshots") {
            state.withLock { c in
                let ids = c.taskIDs(of: snapshot.userID, as: role)
                for id in ids {
                    if role == .assignee { c.tasks[id]?.assigneeSnapshot = snapshot } else { c.tasks[id]?.reviewerSnapshot = snapshot }
                }
                return ids.count
            }
        }
    }

    public func countTasks(withSnapshotsDifferingFrom snapshots: [UserSnapshot], as role: SnapshotRole) async throws -> Int {
        try await behaviour.serve("count-stale-snapshots") {
            state.withLock { c in
                let expected = Dictionary(snapshots.map { ($0.userID, $0) }, uniquingKeysWith: { a, _ in a })
                func differs(_ task: ProjectTask) -> Bool {
                    let (user, carried) = role == .assignee ? (task.assigneeID, task.assigneeSnapshot) : (task.reviewerID, task.reviewerSnapshot)
                    guard let user, let want = expected[user] else { return false }
                    return carried.map { !$0.sameProfile(as: want) } ?? true
                }
                if role == .assignee {
                    return snapshots.reduce(0) { total, s in total + c.taskIDs(of: s.userID, as: .assignee).count { differs(c.tasks[$0]!) } }
                }
                return c.tasks.values.count(where: differs)
            }
        }
    }

    public func countTasksMissingAssigneeSnapshot() async throws -> Int {
        try await behaviour.serve("count-missing-snapshots") {
            state.withLock { c in c.tasks.values.count { $0.assigneeID != nil && $0.assigneeSnapshot == nil } }
        }
    }

    public func taskCountsByOrganization() async throws -> [UUIDValue: Int] {
        try await behaviour.serve("task-counts") {
            state.withLock { c in
                c.orgStatusCreated.reduce(into: [UUIDValue: Int]()) { $0[$1.key.organization, default: 0] += $1.value.count }
            }
        }
    }

    public func sprint(id: UUIDValue) async throws -> Sprint? {
        try await behaviour.serve("sprint") { state.withLock { $0.sprints[id] } }
    }

    public func saveSprint(_ sprint: Sprint) async throws {
        try await behaviour.serve("save-sprint") { state.withLock { $0.sprints[sprint.id] = sprint } }
    }
}

/// Tokenising for the text index, language `none`: lower-cased words, no stemming, no stop words
/// (MongoDB has no Korean analyser, so Korean words match whole, as on the server).
enum TextIndex {
    static func tokens(_ text: String) -> Set<String> {
        Set(text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init))
    }

    static func tokens(of task: ProjectTask) -> Set<String> {
        tokens(task.title + " " + task.description + " " + task.tags.joined(separator: " "))
    }
}
