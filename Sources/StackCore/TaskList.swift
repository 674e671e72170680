import StackModel

/// The tasks a query returned, in its order. A live store hands over the tasks it decoded; the
/// embedded store hands over its task table as it was at the query (a copy-on-write snapshot: one
/// reference, however many tasks) and the ids of the answer, and a task is looked up when it is
/// read. Most of a run's reads never look at the tasks they get, and copying each one out cost
/// the harness a reference-count increment per task — the first touch of the task's memory, 10 %
/// of the default mix's CPU — which no server pays on the client's behalf.
///
/// The snapshot is a value: a list reads the same whatever the store does later. The price is
/// paid by a write made while a list is still held: it copies the part of the table it changes (a
/// 256th of the tasks). Copy the tasks out with `Array(_)` before a loop that writes as it goes.
public struct TaskList: RandomAccessCollection, ExpressibleByArrayLiteral, Sendable {
    private enum Storage: Sendable {
        case tasks([ProjectTask])
        /// Every id is in the table: the embedded store's indexes hold only tasks it has.
        case table(IDTable<ProjectTask>, [UUIDValue])
    }

    private let storage: Storage

    public init(_ tasks: [ProjectTask]) { storage = .tasks(tasks) }

    public init(arrayLiteral tasks: ProjectTask...) { self.init(tasks) }

    init(_ table: IDTable<ProjectTask>, ids: [UUIDValue]) { storage = .table(table, ids) }

    public var startIndex: Int { 0 }

    public var endIndex: Int {
        switch storage {
        case .tasks(let tasks): tasks.count
        case .table(_, let ids): ids.count
        }
    }

    public subscript(position: Int) -> ProjectTask {
        switch storage {
        case .tasks(let tasks): tasks[position]
        case .table(let table, let ids): table[ids[position]]!
        }
    }
}
