import Foundation
import StackCore
import StackModel
import Testing

/// The embedded document store answers tenant-scoped queries from structures of its own, but
/// reports what the seed's plan examines: checked here against that plan walked by brute force
/// over every tenant's documents.
@Suite("Work the seed's plans examine")
struct ExaminedTests {
    static let anchor = Date(timeIntervalSince1970: 1_760_000_000)

    static func loaded() async throws -> (EmbeddedDocumentStore, StoreBehaviour, Dataset) {
        var generator = DatasetGenerator(spec: DatasetSpec(organizations: 8, usersPerOrganization: .uniform(min: 3, max: 20),
                                                           tasksPerUser: .uniform(min: 5, max: 30), sprintsPerOrganization: 4),
                                         seed: 5, anchor: anchor)
        let dataset = generator.generate()
        let behaviour = StoreBehaviour(store: .document, knobs: .none, seed: 1)
        let store = EmbeddedDocumentStore(behaviour: behaviour, time: ManualTime(anchor))
        try await store.load(dataset)
        return (store, behaviour, dataset)
    }

    static func examined(_ behaviour: StoreBehaviour, _ call: String) -> Int {
        behaviour.evidence.snapshot.shapes[call]?.examined ?? 0
    }

    @Test func dueSoonCountsTheDueDatesOfEveryTenantItWalks() async throws {
        let (store, behaviour, dataset) = try await Self.loaded()
        // The due_date index: every tenant's tasks by (due date, id).
        let index = dataset.tasks.compactMap { task in task.dueDate.map { (due: $0, task: task) } }
            .sorted { ($0.due, $0.task.id) < ($1.due, $1.task.id) }
        for (org, days, limit) in [(0, 3.0, 50), (3, 14.0, 5), (7, 30.0, 1), (5, 1.0, 0), (2, 60.0, 1_000)] {
            let organization = dataset.organizations[org].id
            let from = Self.anchor, to = Self.anchor.addingTimeInterval(days * 86_400)
            var walked = 0
            var expected: [UUIDValue] = []
            for entry in index where entry.due >= from {
                guard entry.due < to, expected.count < limit else { break }
                walked += 1
                if entry.task.organizationID == organization { expected.append(entry.task.id) }
            }
            let before = Self.examined(behaviour, "due-soon")
            let found = try await store.dueSoon(organizationID: organization, from: from, to: to, limit: limit)
            #expect(found.map(\.id) == expected)
            #expect(Self.examined(behaviour, "due-soon") - before == walked, "org \(org), \(days) days, limit \(limit)")
        }
    }

    /// The text index's words, by brute force: lower-cased runs of letters and digits.
    static func tokens(_ text: String) -> Set<String> {
        Set(text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init))
    }

    static func tokens(_ task: ProjectTask) -> Set<String> {
        tokens(([task.title, task.description] + task.tags).joined(separator: " "))
    }

    /// The answer is the tenant's tasks ranked by how many of the words they contain, then by id,
    /// cut at the limit: checked against every task scored and sorted.
    @Test func searchRanksByWordsMatchedThenID() async throws {
        let (store, _, dataset) = try await Self.loaded()
        let words: [String] = Array(DatasetGenerator.searchTerms.prefix(4))
        let texts: [String] = words + ["\(words[0]) \(words[1])", "\(words[1]) \(words[2]) \(words[3])", "\(words[0]) zebra"]
        for (index, text) in texts.enumerated() {
            let org = index % dataset.organizations.count, limit = index == texts.count - 1 ? 1_000 : 7
            let organization = dataset.organizations[org].id, terms = Self.tokens(text)
            var scored: [(id: UUIDValue, score: Int)] = []
            for task in dataset.tasks where task.organizationID == organization {
                let score = Self.tokens(task).intersection(terms).count
                if score > 0 { scored.append((task.id, score)) }
            }
            scored.sort { a, b in a.score != b.score ? a.score > b.score : a.id < b.id }
            let expected: [UUIDValue] = scored.prefix(limit).map { $0.id }
            let found = try await store.search(organizationID: organization, text: text, limit: limit)
            #expect(found.map(\.id) == expected, "org \(org), \"\(text)\", limit \(limit)")
        }
    }

    @Test func searchCountsEveryTenantsPostingsAndSprintTasksTheWholeCollection() async throws {
        let (store, behaviour, dataset) = try await Self.loaded()
        let organization = dataset.organizations[1].id
        for term in DatasetGenerator.searchTerms.prefix(6) {
            let terms = Self.tokens(term)
            let postings = dataset.tasks.reduce(0) { $0 + Self.tokens($1).intersection(terms).count }
            let before = Self.examined(behaviour, "search")
            let found = try await store.search(organizationID: organization, text: term, limit: 20)
            #expect(Self.examined(behaviour, "search") - before == postings, "\(term)")
            #expect(found.allSatisfy { $0.organizationID == organization && !Self.tokens($0).isDisjoint(with: terms) })
        }
        let sprint = dataset.sprints[0].id
        let tasks = try await store.sprintTasks(sprintID: sprint)
        #expect(tasks.map(\.id) == dataset.tasks.filter { $0.sprintID == sprint }.sorted { $0.position < $1.position }.map(\.id))
        #expect(Self.examined(behaviour, "sprint-tasks") == dataset.tasks.count)
    }
}
