import Foundation
import StackCore
import StackIO
import StackModel

/// The document port on MongoDB through libmongoc: each call is one command, run on the
/// client threads of `MongoClient`.
public final class MongoStore: DocumentPort, EvidenceSource {
    private let client: MongoClient
    /// Calls by name, with their command and the first one sent (its JSON), to be explained
    /// after the run.
    private let issued = IssuedCalls<(command: String, json: String)>()

    /// `mongodb://host:port/database`; credentials in the URL never appear in errors.
    public init(url: String, pool settings: PoolSettings) throws {
        client = try MongoClient(url: url, settings: settings)
    }

    public func shutdown() { client.shutdown() }

    // MARK: - Commands

    /// Runs a command and reads its reply (on the client's thread), both inside the call's
    /// measurement: a write error in the reply fails the call.
    private func send<T>(_ call: String, _ command: String, _ collection: String, _ fields: [(String, Any)],
                         reading read: @escaping @Sendable (MongoReply) throws -> T) async throws -> T {
        let json = DocumentCodec.ordered([(command, collection)] + fields)
        var decoding = Duration.zero
        return try await StoreCallTrace.measure(.document, call, took: { issued.record(call, first: (command, json), took: $0, decoding: decoding) }) {
            let answer = try await client.command(call, json, reading: read)
            decoding = answer.decoding
            return answer.value
        }
    }

    // MARK: - Evidence

    /// `serverStatus` opcounters beside stacksim's own count of the commands it sent
    /// (`sent.<command>`), and per call stacksim's count and time; the server's own time per
    /// query shape needs its profiler, which is not asked.
    public func evidence() async throws -> StoreEvidence {
        var e = StoreEvidence(store: .document, source: "serverStatus opcounters")
        for (call, mine) in issued.snapshot {
            e.shapes[call] = ShapeEvidence(path: nil, on: nil, calls: mine.calls, examined: nil, returned: nil, serverNanos: nil,
                                           clientNanos: mine.nanos, decodeNanos: mine.decodeNanos)
            e.counters["sent.\(mine.first.command)", default: 0] += Double(mine.calls)
        }
        e.missing.append("time per query shape: it needs the server's profiler, which stacksim does not turn on")
        do {
            let status = try await client.command("server-status", DocumentCodec.ordered([("serverStatus", 1)])).document()
            for (name, value) in status["opcounters"] as? [String: Any] ?? [:] {
                if let number = (value as? NSNumber)?.doubleValue { e.counters["opcounters.\(name)"] = number }
            }
        } catch {
            e.missing.append("serverStatus: \(error)")
        }
        do {
            for collection in ["tasks", "activity_logs", "user_snapshots", "sprints"] {
                let reply = try await client.command("index-stats", DocumentCodec.ordered([
                    ("aggregate", collection), ("pipeline", [["$indexStats": [String: Any]()]]), ("cursor", [String: Any]()),
                ])).document()
                var uses = 0.0
                for index in Self.batch(reply) {
                    let ops = ((index["accesses"] as? [String: Any])?["ops"] as? NSNumber)?.doubleValue ?? 0
                    e.counters["index.\(collection).\(index["name"] as? String ?? "?").idx_scan"] = ops
                    uses += ops
                }
                e.counters["table.\(collection).idx_scan"] = uses
            }
        } catch {
            e.missing.append("index usage ($indexStats): \(error)")
        }
        return e
    }

    /// Each read shape explained once with the first command of the run (`executionStats`):
    /// the winning plan's access path and index, keys and documents examined, documents
    /// returned. A server that cannot explain says so in the error, which the run reports.
    public func plans() async throws -> [String: PlanEvidence] {
        var plans: [String: PlanEvidence] = [:]
        for (call, mine) in issued.snapshot where ["find", "aggregate", "count"].contains(mine.first.command) {
            let reply = try await client.command("explain", "{\"explain\": \(mine.first.json), \"verbosity\": \"executionStats\"}").document()
            if let plan = MongoPlan.read(reply) { plans[call] = plan }
        }
        return plans
    }

    private func run(_ call: String, _ command: String, _ collection: String, _ fields: [(String, Any)]) async throws -> [String: Any] {
        try await send(call, command, collection, fields) { try $0.document() }
    }

    private func find<T: Decodable & Sendable>(_ call: String, _ type: T.Type, in collection: String, _ filter: [String: Any],
                                    sort: [(String, Any)]? = nil, limit: Int? = nil, projection: [String: Any]? = nil) async throws -> [T] {
        var fields: [(String, Any)] = [("filter", filter)]
        if let sort { fields.append(("sort", Ordered(sort))) }
        if let limit { fields.append(("limit", limit)) }
        if let projection { fields.append(("projection", projection)) }
        fields += [("batchSize", 100_000), ("singleBatch", true)]
        return try await send(call, "find", collection, fields) { try $0.batch(of: T.self) }
    }

    private func aggregate(_ call: String, in collection: String, _ pipeline: [[String: Any]]) async throws -> [[String: Any]] {
        Self.batch(try await run(call, "aggregate", collection, [("pipeline", pipeline), ("cursor", ["batchSize": 100_000])]))
    }

    /// Updates; returns how many documents matched (plus upserts).
    @discardableResult
    private func update(_ call: String, in collection: String, _ updates: [[String: Any]]) async throws -> Int {
        try await run(call, "update", collection, [("updates", updates), ("ordered", false)])["n"] as? Int ?? 0
    }

    /// A task query's answer, as the port hands it over.
    private func findTasks(_ call: String, _ filter: [String: Any], sort: [(String, Any)]? = nil, limit: Int? = nil) async throws -> TaskList {
        TaskList(try await find(call, ProjectTask.self, in: "tasks", filter, sort: sort, limit: limit))
    }

    private func findAndModify(_ call: String, _ id: UUIDValue, _ update: [String: Any]) async throws -> ProjectTask? {
        let reply = try await run(call, "findAndModify", "tasks", [("query", ["_id": "\(id)"]), ("update", update), ("new", false)])
        guard let value = reply["value"] as? [String: Any] else { return nil }
        return try DocumentCodec.decode(ProjectTask.self, value)
    }

    private func insert<T: Encodable>(_ call: String, into collection: String, _ values: [T]) async throws {
        for start in stride(from: 0, to: values.count, by: 1000) {
            let documents = try values[start..<min(start + 1000, values.count)].map { try DocumentCodec.document($0) }
            _ = try await run(call, "insert", collection, [("documents", documents), ("ordered", false)])
        }
    }

    private static func batch(_ reply: [String: Any]) -> [[String: Any]] {
        ((reply["cursor"] as? [String: Any])?["firstBatch"] as? [[String: Any]]) ?? []
    }

    private static var byID: [(String, Any)] { [("_id", 1)] }

    // MARK: - Schema

    /// Whether the server takes `$in` in a partial index filter (MongoDB 6.0+), and its version.
    public func serverInfo() async throws -> (version: String, testServer: Bool) {
        let info = try await client.command("build-info", DocumentCodec.ordered([("buildInfo", 1)])).document()
        return (info["version"] as? String ?? "unknown", info["stacksimTestServer"] as? Bool ?? false)
    }

    /// The collections stacksim creates in its database, the marker's last.
    public static let ownedCollections = ["tasks", "sprints", "activity_logs", "user_snapshots", markerCollection]
    static let markerCollection = "stacksim_marker"

    /// The database stacksim works in.
    public var database: String { client.database }
    /// stacksim's database on these servers, in one spelling whatever the URL's (`ServerAddress`):
    /// what another stacksim on the same database also calls it.
    public var place: String { "database '\(client.database)' of mongodb \(client.servers.canonical)" }

    /// The collections in stacksim's database, and the marker's text if there is one.
    public func inspect() async throws -> (collections: [String], marker: String?) {
        let reply = try await client.command("list-collections", DocumentCodec.ordered([("listCollections", 1), ("nameOnly", true)])).document()
        let names = Self.batch(reply).compactMap { $0["name"] as? String }.sorted()
        guard names.contains(Self.markerCollection) else { return (names, nil) }
        let found = try await client.command("read-marker", DocumentCodec.ordered([("find", Self.markerCollection), ("filter", ["_id": "marker"])]))
        let marker = Self.batch(try found.document()).first?["text"] as? String
        return (names, marker)
    }

    /// Writes (or replaces) the marker saying what stacksim made here.
    public func writeMarker(_ text: String) async throws {
        _ = try await client.command("write-marker", DocumentCodec.ordered([
            ("update", Self.markerCollection),
            ("updates", [["q": ["_id": "marker"], "u": ["_id": "marker", "text": text], "upsert": true]]),
        ])).document()
    }

    /// Creates the collections with the seed's indexes (and its corrections: the text index in
    /// language `none`, as MongoDB has no Korean; the active-status partial index only where the
    /// server accepts `$in` in it, a plain index otherwise), then the marker. Only into a
    /// database that holds nothing else (the caller checked).
    public func createSchema(marker: String) async throws -> [String] {
        let version = try await serverInfo().version
        let major = Int(version.prefix { $0.isNumber }) ?? 0
        var notes = ["text index language 'none' (MongoDB has no Korean analyser)"]
        var active: [(String, Any)] = [("name", "org_assignee_active")]
        if major >= 6 {
            active.append(("partialFilterExpression", ["status": ["$in": TaskStatus.active.map(\.rawValue)]]))
        } else {
            notes.append("server \(version) refuses $in in a partial index: org_assignee_active is a full index")
        }
        try await writeMarker(marker)
        try await indexes("tasks", [
            [("key", Ordered([("organization_id", 1), ("status", 1), ("created_at", -1)])), ("name", "org_status_created")],
            [("key", Ordered([("assignee_id", 1), ("status", 1)])), ("name", "assignee_status")],
            [("key", Ordered([("due_date", 1)])), ("name", "due_date")],
            [("key", Ordered([("title", "text"), ("description", "text"), ("tags", "text")])), ("name", "text"),
             ("default_language", "none")],
            [("key", Ordered([("organization_id", 1), ("assignee_id", 1)]))] + active,
        ])
        try await indexes("activity_logs", [[("key", Ordered([("created_at", 1)])), ("name", "ttl"),
                                              ("expireAfterSeconds", Int(ActivityLog.timeToLive))]])
        try await indexes("user_snapshots", [[("key", Ordered([("user_id", 1)])), ("name", "user_id"), ("unique", true)]])
        try await indexes("sprints", [[("key", Ordered([("organization_id", 1), ("status", 1)])), ("name", "org_status")]])
        return notes
    }

    private func indexes(_ collection: String, _ specs: [[(String, Any)]]) async throws {
        _ = try await run("create-indexes", "createIndexes", collection, [("indexes", specs.map(Ordered.init))])
    }

    /// Drops the collections stacksim created, the marker last, and nothing else.
    public func dropOwned() async throws {
        for collection in Self.ownedCollections {
            do {
                _ = try await run("drop", "drop", collection, [])
            } catch let error as StoreError where error.serverCode == "26" || error.detail.contains("ns not found") {
                continue
            }
        }
    }

    /// Deletes every document of the stack's collections, keeping collections, indexes and the
    /// marker (the integration tests).
    public func clear() async throws {
        for collection in Self.ownedCollections.dropLast() {
            _ = try await run("clear", "delete", collection, [("deletes", [["q": [String: Any](), "limit": 0]])])
        }
    }

    // MARK: - The port

    public func ping() async throws {
        _ = try await StoreCallTrace.measure(.document, "ping") { try await client.command("ping", DocumentCodec.ordered([("ping", 1)])) }
    }

    public func load(_ dataset: Dataset) async throws {
        try await insert("load", into: "tasks", dataset.tasks)
        try await insert("load", into: "sprints", dataset.sprints)
        try await insert("load", into: "activity_logs", dataset.activityLogs)
        try await insert("load", into: "user_snapshots", dataset.snapshots)
    }

    public func board(organizationID: UUIDValue, status: TaskStatus, limit: Int) async throws -> TaskList {
        try await findTasks("board", ["organization_id": "\(organizationID)", "status": status.rawValue], sort: [("created_at", -1)], limit: limit)
    }

    public func tasks(assigneeID: UUIDValue, status: TaskStatus) async throws -> TaskList {
        try await findTasks("my-tasks", ["assignee_id": "\(assigneeID)", "status": status.rawValue], sort: Self.byID)
    }

    public func activeTasks(organizationID: UUIDValue, assigneeID: UUIDValue) async throws -> TaskList {
        try await findTasks("my-active", ["organization_id": "\(organizationID)", "assignee_id": "\(assigneeID)",
                                          "status": ["$in": TaskStatus.active.map(\.rawValue)]], sort: Self.byID)
    }

    public func dueSoon(organizationID: UUIDValue, from: Date, to: Date, limit: Int) async throws -> TaskList {
        try await findTasks("due-soon", ["organization_id": "\(organizationID)", "due_date": ["$gte": DocumentCodec.date(from), "$lt": DocumentCodec.date(to)]],
                            sort: [("due_date", 1)], limit: limit)
    }

    /// Text search; results are not ranked by score (the test server cannot), only limited.
    public func search(organizationID: UUIDValue, text: String, limit: Int) async throws -> TaskList {
        try await findTasks("search", ["organization_id": "\(organizationID)", "$text": ["$search": text]], limit: limit)
    }

    public func taskStats(organizationID: UUIDValue) async throws -> [StatusStat] {
        let rows = try await aggregate("task-stats", in: "tasks", [
            ["$match": ["organization_id": "\(organizationID)"]],
            ["$group": ["_id": "$status", "count": ["$sum": 1], "hours": ["$sum": "$estimated_hours"]]],
        ])
        let byStatus = Dictionary(rows.compactMap { row in (row["_id"] as? String).map { ($0, row) } }) { a, _ in a }
        return TaskStatus.allCases.compactMap { status in
            guard let row = byStatus[status.rawValue], let count = row["count"] as? Int, count > 0 else { return nil }
            return StatusStat(status: status, count: count, totalHours: (row["hours"] as? NSNumber)?.doubleValue ?? 0)
        }
    }

    public func sprintTasks(sprintID: UUIDValue) async throws -> TaskList {
        try await findTasks("sprint-tasks", ["sprint_id": "\(sprintID)"], sort: [("position", 1)])
    }

    public func task(id: UUIDValue) async throws -> ProjectTask? {
        try await find("task", ProjectTask.self, in: "tasks", ["_id": "\(id)"], limit: 1).first
    }

    public func tasks(ids: [UUIDValue]) async throws -> [ProjectTask] {
        guard !ids.isEmpty else { return [] }
        return try await find("tasks", ProjectTask.self, in: "tasks", ["_id": ["$in": ids.map { "\($0)" }]])
    }

    public func insertTask(_ task: ProjectTask) async throws {
        try await insert("insert-task", into: "tasks", [task])
    }

    public func updateStatus(taskID: UUIDValue, to status: TaskStatus, at: Date) async throws -> ProjectTask? {
        var update: [String: Any] = ["$set": ["status": status.rawValue, "updated_at": DocumentCodec.date(at)]]
        if status == .done {
            update["$set"] = ["status": status.rawValue, "updated_at": DocumentCodec.date(at), "completed_at": DocumentCodec.date(at)]
        } else {
            update["$unset"] = ["completed_at": ""]
        }
        return try await findAndModify("update-status", taskID, update)
    }

    public func moveTask(taskID: UUIDValue, toSprint sprintID: UUIDValue?, at: Date) async throws -> ProjectTask? {
        var update: [String: Any] = ["$set": ["updated_at": DocumentCodec.date(at)]]
        if let sprintID {
            update["$set"] = ["updated_at": DocumentCodec.date(at), "sprint_id": "\(sprintID)"]
        } else {
            update["$unset"] = ["sprint_id": ""]
        }
        return try await findAndModify("move-task", taskID, update)
    }

    public func logTime(taskID: UUIDValue, entry: TimeEntry) async throws -> Bool {
        try await update("log-time", in: "tasks", [[
            "q": ["_id": "\(taskID)"],
            "u": ["$push": ["time_entries": try DocumentCodec.value(entry)], "$inc": ["actual_hours": entry.hours],
                  "$set": ["updated_at": DocumentCodec.date(entry.loggedAt)]],
        ]]) > 0
    }

    public func insertActivity(_ log: ActivityLog) async throws {
        try await insert("insert-activity", into: "activity_logs", [log])
    }

    public func recentActivity(organizationID: UUIDValue, limit: Int) async throws -> [ActivityLog] {
        let cutoff = Date().addingTimeInterval(-ActivityLog.timeToLive)
        return try await find("recent-activity", ActivityLog.self, in: "activity_logs",
                              ["organization_id": "\(organizationID)", "created_at": ["$gt": DocumentCodec.date(cutoff)]],
                              sort: [("created_at", -1)], limit: limit)
    }

    private static func upsert(_ snapshot: UserSnapshot) throws -> [String: Any] {
        ["q": ["user_id": "\(snapshot.userID)"], "u": try DocumentCodec.document(snapshot), "upsert": true]
    }

    public func upsertSnapshot(_ snapshot: UserSnapshot) async throws {
        try await update("upsert-snapshot", in: "user_snapshots", [try Self.upsert(snapshot)])
    }

    public func bulkUpsertSnapshots(_ snapshots: [UserSnapshot]) async throws -> Int {
        guard !snapshots.isEmpty else { return 0 }
        try await update("bulk-upsert-snapshots", in: "user_snapshots", try snapshots.map(Self.upsert))
        return snapshots.count
    }

    public func snapshots(userIDs: [UUIDValue]) async throws -> [UserSnapshot] {
        let found = try await find("snapshots", UserSnapshot.self, in: "user_snapshots", ["user_id": ["$in": userIDs.map { "\($0)" }]])
        let byUser = Dictionary(found.map { ($0.userID, $0) }) { a, _ in a }
        return userIDs.compactMap { byUser[$0] }
    }

    private static func field(_ role: SnapshotRole) -> (id: String, snapshot: String) {
        role == .assignee ? ("assignee_id", "assignee_snapshot") : ("reviewer_id", "reviewer_snapshot")
    }

    private struct TaskID: Decodable { var id: UUIDValue }

    public func taskIDs(of userID: UUIDValue, as role: SnapshotRole) async throws -> [UUIDValue] {
        try await find("task-ids-\(role.rawValue)", TaskID.self, in: "tasks", [Self.field(role).id: "\(userID)"], sort: Self.byID,
                       projection: ["_id": 1]).map(\.id)
    }

    public func setSnapshot(_ snapshot: UserSnapshot, as role: SnapshotRole, taskID: UUIDValue) async throws {
        try await update("set-snapshot", in: "tasks", [["q": ["_id": "\(taskID)"],
                                                        "u": ["$set": [Self.field(role).snapshot: try DocumentCodec.value(snapshot)]]]])
    }

    public func setSnapshots(_ snapshot: UserSnapshot, as role: SnapshotRole) async throws -> Int {
        try await update("set-snapshots", in: "tasks", [["q": [Self.field(role).id: "\(snapshot.userID)"],
                                                         "u": ["$set": [Self.field(role).snapshot: try DocumentCodec.value(snapshot)]],
                                                         "multi": true]])
    }

    public func countTasks(withSnapshotsDifferingFrom snapshots: [UserSnapshot], as role: SnapshotRole) async throws -> Int {
        guard !snapshots.isEmpty else { return 0 }
        let expected = Dictionary(snapshots.map { ($0.userID, $0) }) { a, _ in a }
        let tasks = try await find("count-stale-snapshots", ProjectTask.self, in: "tasks",
                                   [Self.field(role).id: ["$in": snapshots.map { "\($0.userID)" }]])
        return tasks.count { task in
            let (user, carried) = role == .assignee ? (task.assigneeID, task.assigneeSnapshot) : (task.reviewerID, task.reviewerSnapshot)
            guard let user, let want = expected[user] else { return false }
            return carried.map { !$0.sameProfile(as: want) } ?? true
        }
    }

    public func countTasksMissingAssigneeSnapshot() async throws -> Int {
        try await run("count-missing-snapshots", "count", "tasks",
                      [("query", ["assignee_id": ["$exists": true], "assignee_snapshot": ["$exists": false]])])["n"] as? Int ?? 0
    }

    public func taskCountsByOrganization() async throws -> [UUIDValue: Int] {
        let rows = try await aggregate("task-counts", in: "tasks", [["$group": ["_id": "$organization_id", "n": ["$sum": 1]]]])
        return Dictionary(rows.compactMap { row in
            guard let id = (row["_id"] as? String).flatMap(UUIDValue.init), let n = row["n"] as? Int else { return nil }
            return (id, n)
        }) { a, b in a + b }
    }

    public func sprint(id: UUIDValue) async throws -> Sprint? {
        try await find("sprint", Sprint.self, in: "sprints", ["_id": "\(id)"], limit: 1).first
    }

    public func saveSprint(_ sprint: Sprint) async throws {
        try await update("save-sprint", in: "sprints", [["q": ["_id": "\(sprint.id)"], "u": try DocumentCodec.document(sprint), "upsert": true]])
    }
}
