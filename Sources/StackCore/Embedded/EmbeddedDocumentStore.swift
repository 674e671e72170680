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
    struct OrgTerm: Hashable { var organization: UUIDValue; var term: String }
    typealias Index = OrderedIndex<Double, UUIDValue>
    static let firstID = UUIDValue(high: 0, low: 0)

    /// The seed's indexes, and structures of the store's own that answer the queries the seed's
    /// indexes serve badly (tasks by sprint or reviewer, text search and due dates within one
    /// organization) in time that does not grow with the other tenants' data. Those queries still
    /// report what the seed's plan examines (a collection scan, every posting of a term, the due
    /// dates of every tenant in the range): the evidence is the server's, the CPU is not.
    struct Collections {
        var tasks = IDTable<ProjectTask>()
        /// idx_tasks_org_status_created; sort key is -created_at so the newest come first.
        var orgStatusCreated: [OrgStatus: Index] = [:]
        /// The estimated hours of the tasks in each `orgStatusCreated` entry: task-stats' sums.
        var hoursByOrgStatus: [OrgStatus: Double] = [:]
        var assigneeStatus: [AssigneeStatus: Set<UUIDValue>] = [:]
        /// idx_tasks_org_assignee_active: only tasks in an active status are indexed.
        var orgAssigneeActive: [OrgAssignee: Set<UUIDValue>] = [:]
        /// idx_tasks_due_date, for what a due-soon plan walks; `dueDateByOrg` finds the answer.
        var dueDate = Index()
        var dueDateByOrg: [UUIDValue: Index] = [:]
        /// The text index's postings per organization, and each term's postings in the seed's
        /// index (all organizations), which is what a search examines.
        var text: [OrgTerm: Set<UUIDValue>] = [:]
        var postings: [String: Int] = [:]
        /// Each sprint's tasks in board order (position, then id).
        var bySprint: [UUIDValue: OrderedIndex<Int, UUIDValue>] = [:]
        var byReviewer: [UUIDValue: Set<UUIDValue>] = [:]
        var sprints: [UUIDValue: Sprint] = [:]
        var activity = IDTable<ActivityLog>()
        /// idx_activity_logs_ttl on created_at, and the same per organization for recent activity.
        var activityTTL = Index()
        var activityByOrg: [UUIDValue: Index] = [:]
        var snapshots: [UUIDValue: UserSnapshot] = [:]

        mutating func index(_ task: ProjectTask, terms: Set<String>) {
            addStatus(task)
            if let due = task.dueDate {
                dueDate.insert(due.timeIntervalSince1970, task.id)
                dueDateByOrg[task.organizationID, default: Index()].insert(due.timeIntervalSince1970, task.id)
            }
            for term in terms {
                text[OrgTerm(organization: task.organizationID, term: term), default: []].insert(task.id)
                postings[term, default: 0] += 1
            }
            if let sprint = task.sprintID { bySprint[sprint, default: .init()].insert(task.position, task.id) }
            if let reviewer = task.reviewerID { byReviewer[reviewer, default: []].insert(task.id) }
        }

        /// Adds the entries that depend on status (the only indexed field that changes).
        mutating func addStatus(_ task: ProjectTask) {
            let key = OrgStatus(organization: task.organizationID, status: task.status)
            orgStatusCreated[key, default: Index()].insert(-task.createdAt.timeIntervalSince1970, task.id)
            hoursByOrgStatus[key, default: 0] += task.estimatedHours
            if let assignee = task.assigneeID {
                assigneeStatus[AssigneeStatus(assignee: assignee, status: task.status), default: []].insert(task.id)
                if task.status.isActive {
                    orgAssigneeActive[OrgAssignee(organization: task.organizationID, assignee: assignee), default: []].insert(task.id)
                }
            }
        }

        mutating func removeStatus(_ task: ProjectTask) {
            let key = OrgStatus(organization: task.organizationID, status: task.status)
            orgStatusCreated[key]?.remove(-task.createdAt.timeIntervalSince1970, task.id)
            hoursByOrgStatus[key]? -= task.estimatedHours
            if let assignee = task.assigneeID {
                assigneeStatus[AssigneeStatus(assignee: assignee, status: task.status)]?.remove(task.id)
                orgAssigneeActive[OrgAssignee(organization: task.organizationID, assignee: assignee)]?.remove(task.id)
            }
        }

        mutating func insert(_ log: ActivityLog) {
            activity[log.id] = log
            activityTTL.insert(log.createdAt.timeIntervalSince1970, log.id)
            activityByOrg[log.organizationID, default: Index()].insert(log.createdAt.timeIntervalSince1970, log.id)
        }

        /// The TTL monitor: deletes activity older than 30 days.
        mutating func expireActivity(now: Date) {
            let cutoff = now.timeIntervalSince1970 - ActivityLog.timeToLive
            for entry in activityTTL.removeFirst(activityTTL.rank(cutoff, firstID)) {
                if let log = activity.removeValue(forKey: entry.id) { activityByOrg[log.organizationID]?.remove(entry.sort, entry.id) }
            }
        }

        func taskIDs(of user: UUIDValue, as role: SnapshotRole) -> [UUIDValue] {
            switch role {
            case .assignee: return TaskStatus.allCases.flatMap { assigneeStatus[AssigneeStatus(assignee: user, status: $0)] ?? [] }
            case .reviewer: return Array(byReviewer[user] ?? [])
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
                var terms = TextIndex.Memo()
                for task in dataset.tasks {
                    guard c.tasks.updateValue(task, forKey: task.id) == nil else {
                        throw StoreError(.uniqueViolation, store: .document, operation: "load", detail: "duplicate task _id")
                    }
                    c.index(task, terms: terms.tokens(of: task))
                }
                for sprint in dataset.sprints { c.sprints[sprint.id] = sprint }
                for log in dataset.activityLogs { c.insert(log) }
                for snapshot in dataset.snapshots { c.snapshots[snapshot.userID] = snapshot }
                c.expireActivity(now: time.now())
            }
        }
    }

    public func board(organizationID: UUIDValue, status: TaskStatus, limit: Int) async throws -> TaskList {
        try await behaviour.query("board", .indexScan, on: "org_status_created", returned: \.count) { examined in
            state.withLock { c in
                guard let index = c.orgStatusCreated[OrgStatus(organization: organizationID, status: status)] else { return [] }
                let found = index.ascending.prefix(limit).map(\.id)
                examined += found.count
                return TaskList(c.tasks, ids: found)
            }
        }
    }

    public func tasks(assigneeID: UUIDValue, status: TaskStatus) async throws -> TaskList {
        try await behaviour.query("my-tasks", .indexScan, on: "assignee_status", returned: \.count) { examined in
            state.withLock { c in
                let ids = c.assigneeStatus[AssigneeStatus(assignee: assigneeID, status: status)] ?? []
                examined += ids.count
                return TaskList(c.tasks, ids: ids.sorted())
            }
        }
    }

    public func activeTasks(organizationID: UUIDValue, assigneeID: UUIDValue) async throws -> TaskList {
        try await behaviour.query("my-active", .indexScan, on: "org_assignee_active", returned: \.count) { examined in
            state.withLock { c in
                let ids = c.orgAssigneeActive[OrgAssignee(organization: organizationID, assignee: assigneeID)] ?? []
                examined += ids.count
                return TaskList(c.tasks, ids: ids.sorted())
            }
        }
    }

    public func dueSoon(organizationID: UUIDValue, from: Date, to: Date, limit: Int) async throws -> TaskList {
        try await behaviour.query("due-soon", .indexScan, on: "due_date", returned: \.count) { examined in
            state.withLock { c in
                let start = from.timeIntervalSince1970, end = to.timeIntervalSince1970
                var found: [Index.Entry] = []
                if let index = c.dueDateByOrg[organizationID] {
                    for entry in index.entries(from: start, Self.firstID) {
                        guard entry.sort < end, found.count < limit else { break }
                        found.append(entry)
                    }
                }
                // The seed's plan walks every tenant's due dates from `from` until it has `limit`
                // of this organization's, or reaches `to`.
                let first = c.dueDate.rank(start, Self.firstID)
                let last = limit > 0 && found.count == limit
                    ? c.dueDate.rank(found[limit - 1].sort, found[limit - 1].id) + 1
                    : limit > 0 ? c.dueDate.rank(end, Self.firstID) : first
                examined += last - first
                return TaskList(c.tasks, ids: found.map(\.id))
            }
        }
    }

    public func search(organizationID: UUIDValue, text: String, limit: Int) async throws -> TaskList {
        try await behaviour.query("search", .textIndex, on: "text", returned: \.count) { examined in
            state.withLock { c in
                let terms = TextIndex.tokens(text)
                for term in terms { examined += c.postings[term] ?? 0 }
                let matches = terms.map { c.text[OrgTerm(organization: organizationID, term: $0)] ?? [] }
                // Most searches are one word: every match scores 1, and the first ids are the answer.
                guard matches.count > 1 else { return TaskList(c.tasks, ids: (matches.first ?? []).smallest(limit, by: <)) }
                var scores: [UUIDValue: Int] = [:]
                for ids in matches { for id in ids { scores[id, default: 0] += 1 } }
                let ranked = scores.smallest(limit) { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                return TaskList(c.tasks, ids: ranked.map(\.key))
            }
        }
    }

    public func taskStats(organizationID: UUIDValue) async throws -> [StatusStat] {
        // An aggregation: every entry it reads is used, so all count as returned.
        try await behaviour.query("task-stats", .indexScan, on: "org_status_created",
                                  returned: { $0.reduce(0) { $0 + $1.count } }) { examined in
            state.withLock { c in
                TaskStatus.allCases.compactMap { status in
                    let key = OrgStatus(organization: organizationID, status: status)
                    guard let index = c.orgStatusCreated[key], index.count > 0 else { return nil }
                    examined += index.count
                    return StatusStat(status: status, count: index.count, totalHours: c.hoursByOrgStatus[key] ?? 0)
                }
            }
        }
    }

    public func sprintTasks(sprintID: UUIDValue) async throws -> TaskList {
        try await behaviour.query("sprint-tasks", .collectionScan, on: "tasks", returned: \.count) { examined in
            state.withLock { c in
                examined += c.tasks.count
                return TaskList(c.tasks, ids: c.bySprint[sprintID]?.ascending.map(\.id) ?? [])
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
                c.index(task, terms: TextIndex.tokens(of: task))
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
                c.removeStatus(before)
                c.tasks[taskID] = after
                c.addStatus(after)
                return before
            }
        }
    }

    public func moveTask(taskID: UUIDValue, toSprint sprintID: UUIDValue?, at: Date) async throws -> ProjectTask? {
        try await behaviour.serve("move-task") {
            state.withLock { c -> ProjectTask? in
                guard let before = c.tasks[taskID] else { return nil }
                if let old = before.sprintID { c.bySprint[old]?.remove(before.position, taskID) }
                if let new = sprintID { c.bySprint[new, default: .init()].insert(before.position, taskID) }
                c.tasks[taskID]?.sprintID = sprintID
                c.tasks[taskID]?.updatedAt = at
                return before
            }
        }
    }

    public func logTime(taskID: UUIDValue, entry: TimeEntry) async throws -> Bool {
        try await behaviour.serve("log-time") {
            state.withLock { c in
                guard c.tasks[taskID] != nil else { return false }
                c.tasks[taskID]!.timeEntries.append(entry)
                c.tasks[taskID]!.actualHours += entry.hours
                c.tasks[taskID]!.updatedAt = entry.loggedAt
                return true
            }
        }
    }

    public func insertActivity(_ log: ActivityLog) async throws {
        try await behaviour.serve("insert-activity") {
            state.withLock { c in
                c.insert(log)
                c.expireActivity(now: time.now())
            }
        }
    }

    public func recentActivity(organizationID: UUIDValue, limit: Int) async throws -> [ActivityLog] {
        try await behaviour.serve("recent-activity") {
            let cutoff = time.now().timeIntervalSince1970 - ActivityLog.timeToLive
            return state.withLock { c in
                // Newest first, leaving out entries the TTL monitor has not removed yet but the
                // query must not return.
                var found: [ActivityLog] = []
                for entry in c.activityByOrg[organizationID]?.descending ?? Index().descending {
                    guard found.count < limit, entry.sort > cutoff else { break }
                    if let log = c.activity[entry.id] { found.append(log) }
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
                guard c.tasks[taskID] != nil else { return }
                if role == .assignee { c.tasks[taskID]!.assigneeSnapshot = snapshot } else { c.tasks[taskID]!.reviewerSnapshot = snapshot }
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
                return expected.keys.reduce(0) { total, user in total + c.taskIDs(of: user, as: role).count { differs(c.tasks[$0]!) } }
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

extension Sequence {
    /// The first `count` elements in `areInIncreasingOrder`, in that order: a ranking's top without
    /// sorting all of it.
    func smallest(_ count: Int, by areInIncreasingOrder: (Element, Element) -> Bool) -> [Element] {
        guard count > 0 else { return [] }
        var kept: [Element] = []
        kept.reserveCapacity(count)
        for element in self {
            if kept.count == count {
                guard areInIncreasingOrder(element, kept[count - 1]) else { continue }
                kept.removeLast()
            }
            // After the kept elements it does not precede: the order is stable among equals.
            var low = 0, high = kept.count
            while low < high {
                let middle = (low + high) / 2
                if areInIncreasingOrder(element, kept[middle]) { high = middle } else { low = middle + 1 }
            }
            kept.insert(element, at: low)
        }
        return kept
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

    /// Tokens of whole fields, each string tokenised once: a dataset's titles, descriptions and
    /// tags come from a small vocabulary. (A text's tokens are the union of its fields' tokens.)
    struct Memo {
        private var known: [String: Set<String>] = [:]

        mutating func tokens(of task: ProjectTask) -> Set<String> {
            ([task.title, task.description] + task.tags).reduce(into: Set<String>()) { all, field in
                if let cached = known[field] { all.formUnion(cached); return }
                let fresh = TextIndex.tokens(field)
                known[field] = fresh
                all.formUnion(fresh)
            }
        }
    }
}
