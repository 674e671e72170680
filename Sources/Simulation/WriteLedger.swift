import Foundation
import Synchronization
import StackCore
import StackModel

/// A write an action makes, as the ledger keeps it.
public enum LedgeredWrite: Sendable {
    case taskCreated(ProjectTask)
    case statusChanged(task: UUIDValue, to: TaskStatus)
    case timeLogged(task: UUIDValue, TimeEntry)
    case profileUpdated(user: UUIDValue, ProfileChange)
}

/// Every write the stack acknowledged during a run, read back after it (memtier and YCSB verify
/// what they wrote): an acknowledged write that is missing or different afterwards was lost.
/// Writes whose outcome is unknown (the call failed, e.g. timed out) are kept too: they may or
/// may not have been applied, so they make the expected value of their key ambiguous, never wrong.
public final class WriteLedger: Sendable {
    private let clock: RunClock
    private let state = Mutex(State())

    /// One write to a key whose last value counts: when it started and, if acknowledged, ended.
    struct Attempt<Value: Sendable>: Sendable {
        var start: Int64
        /// nil: the outcome is unknown.
        var end: Int64?
        var value: Value
    }

    struct State {
        var acknowledged = 0
        var unknownOutcome = 0
        var created: [UUIDValue] = []
        var statuses: [UUIDValue: [Attempt<TaskStatus>]] = [:]
        var timeEntries: [(task: UUIDValue, entry: TimeEntry)] = []
        var profiles: [UUIDValue: [Attempt<ProfileChange>]] = [:]
    }

    init(clock: RunClock) { self.clock = clock }

    /// Acknowledged writes so far, and writes whose call failed without an answer.
    public var acknowledged: Int { state.withLock { $0.acknowledged } }
    public var unknownOutcome: Int { state.withLock { $0.unknownOutcome } }

    /// Runs `body`, which makes `write` and returns whether it applied (false: nothing to write
    /// to, e.g. no such task), and keeps what happened.
    @discardableResult
    func track(_ write: LedgeredWrite, _ body: () async throws -> Bool) async throws -> Bool {
        let start = clock.now()
        do {
            let applied = try await body()
            if applied { keep(write, start: start, end: clock.now()) }
            return applied
        } catch {
            keep(write, start: start, end: nil)
            throw error
        }
    }

    private func keep(_ write: LedgeredWrite, start: Int64, end: Int64?) {
        state.withLock { s in
            if end == nil { s.unknownOutcome += 1 } else { s.acknowledged += 1 }
            switch write {
            case .taskCreated(let task):
                if end != nil { s.created.append(task.id) }
            case .statusChanged(let task, let status):
                s.statuses[task, default: []].append(Attempt(start: start, end: end, value: status))
            case .timeLogged(let task, let entry):
                if end != nil { s.timeEntries.append((task, entry)) }
            case .profileUpdated(let user, let change):
                s.profiles[user, default: []].append(Attempt(start: start, end: end, value: change))
            }
        }
    }

    /// Values a key may end with: every write not certainly followed by an acknowledged one
    /// that started after it ended. Empty when no write to it was acknowledged (nothing to check).
    static func possibleFinals<Value>(_ attempts: [Attempt<Value>]) -> [Value] {
        let acknowledged = attempts.filter { $0.end != nil }
        guard let latestStart = acknowledged.map(\.start).max() else { return [] }
        return attempts.filter { attempt in attempt.end.map { $0 >= latestStart } ?? true }.map(\.value)
    }

    /// Reads every acknowledged write back from the stores.
    func verify(_ stores: StackStores) async throws -> LedgerFindings {
        let s = state.withLock { $0 }
        var findings = LedgerFindings()
        var taskIDs = Set(s.created)
        taskIDs.formUnion(s.statuses.keys)
        taskIDs.formUnion(s.timeEntries.map(\.task))
        var tasks: [UUIDValue: ProjectTask] = [:]
        let ids = Array(taskIDs)
        for start in stride(from: 0, to: ids.count, by: 500) {
            for task in try await stores.documents.tasks(ids: Array(ids[start..<min(start + 500, ids.count)])) { tasks[task.id] = task }
        }
        for id in s.created {
            findings.checked += 1
            if tasks[id] == nil { findings.lost("task \(id) was created and acknowledged, but is missing") }
        }
        for (id, attempts) in s.statuses {
            let finals = Self.possibleFinals(attempts)
            guard !finals.isEmpty else { continue }
            findings.checked += 1
            guard let task = tasks[id] else { findings.lost("task \(id): its status was set, but the task is missing"); continue }
            if !finals.contains(task.status) {
                findings.differ("task \(id): status is \(task.status.rawValue), expected \(finals.map(\.rawValue).joined(separator: " or "))")
            }
        }
        for (id, entry) in s.timeEntries {
            findings.checked += 1
            let found = tasks[id]?.timeEntries.contains { e in
                e.userID == entry.userID && e.hours == entry.hours && e.description == entry.description
                    && abs(e.loggedAt.timeIntervalSince(entry.loggedAt)) < 0.002
            } ?? false
            if !found { findings.lost("task \(id): a logged time entry of \(entry.hours) h is missing") }
        }
        for (id, attempts) in s.profiles {
            let finals = Self.possibleFinals(attempts)
            guard !finals.isEmpty else { continue }
            findings.checked += 1
            guard let user = try await stores.relational.user(id: id) else { findings.lost("user \(id) is missing"); continue }
            let now = ProfileChange(name: user.name, avatarURL: user.avatarURL, department: user.department, position: user.position)
            if !finals.contains(now) { findings.differ("user \(id): profile is not the last one written") }
        }
        return findings
    }
}

/// What reading the acknowledged writes back found.
/// (The counts of writes acknowledged and of unknown outcome are the ledger's own, in `RunResult`.)
public struct LedgerFindings: Sendable, Equatable {
    /// Keys read back (a task created, a status, a time entry, a profile).
    public var checked = 0
    public var missing = 0
    public var different = 0
    /// The first few problems, in words.
    public var examples: [String] = []

    mutating func lost(_ what: String) {
        missing += 1
        if examples.count < 10 { examples.append(what) }
    }

    mutating func differ(_ what: String) {
        different += 1
        if examples.count < 10 { examples.append(what) }
    }
}
