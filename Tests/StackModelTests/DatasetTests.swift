import Foundation
import StackModel
import Testing

@Suite("Seeded dataset")
struct DatasetTests {
    static let anchor = Date(timeIntervalSince1970: 1_760_000_000)
    static let spec = DatasetSpec(organizations: 12, usersPerOrganization: .zipf(min: 3, max: 120, s: 1.1),
                                  tasksPerUser: .uniform(min: 5, max: 15), sprintsPerOrganization: 4)

    static func make(seed: UInt64) -> Dataset {
        var generator = DatasetGenerator(spec: spec, seed: seed, anchor: anchor)
        return generator.generate()
    }

    @Test func theSameSeedGivesTheSameBytes() throws {
        let a = try Self.make(seed: 42).canonicalBytes()
        let b = try Self.make(seed: 42).canonicalBytes()
        #expect(a == b)
        #expect(a.count > 10_000)
    }

    @Test func anotherSeedGivesAnotherDataset() throws {
        #expect(try Self.make(seed: 42).canonicalBytes() != Self.make(seed: 43).canonicalBytes())
    }

    @Test func keysThatMustBeUniqueAre() {
        let data = Self.make(seed: 7)
        #expect(Set(data.users.map(\.email)).count == data.users.count)
        #expect(Set(data.users.map(\.id)).count == data.users.count)
        #expect(Set(data.organizations.map(\.subdomain)).count == data.organizations.count)
        #expect(Set(data.tasks.map(\.id)).count == data.tasks.count)
        #expect(Set(data.memberships.map { "\($0.userID)\($0.organizationID)" }).count == data.memberships.count)
    }

    @Test func everyTaskCarriesItsAssigneesSnapshotAndBelongsToItsOrganization() {
        let data = Self.make(seed: 9)
        let users = Dictionary(uniqueKeysWithValues: data.users.map { ($0.id, $0) })
        let members = Dictionary(grouping: data.memberships, by: \.organizationID).mapValues { Set($0.map(\.userID)) }
        for task in data.tasks {
            let assignee = users[task.assigneeID!]!
            #expect(task.assigneeSnapshot?.matches(assignee) == true)
            #expect(members[task.organizationID]!.contains(assignee.id))
            if let sprint = task.sprintID { #expect(data.sprints.contains { $0.id == sprint && $0.organizationID == task.organizationID }) }
        }
        #expect(data.snapshots.count == data.users.count)
    }

    @Test func organizationSizesAreSkewedWithinTheirRange() {
        var generator = DatasetGenerator(spec: DatasetSpec(organizations: 400, usersPerOrganization: .zipf(min: 3, max: 500, s: 1.1),
                                                           tasksPerUser: .constant(0), sprintsPerOrganization: 1),
                                         seed: 1, anchor: Self.anchor)
        let sizes = generator.generate().tenants.map(\.memberIDs.count).sorted()
        #expect(sizes.first! >= 3 && sizes.last! <= 500)
        let median = sizes[sizes.count / 2]
        let mean = Double(sizes.reduce(0, +)) / Double(sizes.count)
        #expect(Double(median) < mean / 2, "a long tail: median \(median), mean \(mean)")
        #expect(sizes.last! > 100, "some organizations are large")
    }

    @Test func sprintsSurroundTheAnchorWithOneActive() {
        let data = Self.make(seed: 3)
        for tenant in data.tenants {
            let sprints = data.sprints.filter { $0.organizationID == tenant.organization.id }
            #expect(sprints.count { $0.status == .active } == 1)
            let active = sprints.first { $0.status == .active }!
            #expect(active.startDate <= data.anchor && active.endDate >= data.anchor)
            #expect(sprints.filter { $0.status == .closed }.allSatisfy { $0.retrospective != nil && $0.endDate < data.anchor })
        }
    }

    @Test func contentMixesKoreanAndEnglish() {
        let data = Self.make(seed: 5)
        let hangul = { (s: String) in s.unicodeScalars.contains { (0xAC00...0xD7A3).contains($0.value) } }
        #expect(data.users.contains { hangul($0.name) } && data.users.contains { !hangul($0.name) })
        #expect(data.tasks.contains { hangul($0.title) } && data.tasks.contains { !hangul($0.title) })
    }
}

@Suite("Random streams and distributions")
struct RandomTests {
    @Test func forkedStreamsAreIndependentAndRepeatable() {
        let base = SeededRandom(seed: 99)
        var a = base.fork(1), b = base.fork(1), c = base.fork(2)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(first != (0..<5).map { _ in c.next() })
    }

    @Test(arguments: KeyChooser.allCases)
    func choosersStayInRange(chooser: KeyChooser) {
        var rng = SeededRandom(seed: 1)
        var counts = [Int](repeating: 0, count: 50)
        for _ in 0..<20_000 { counts[chooser.choose(count: 50, &rng)] += 1 }
        #expect(counts.reduce(0, +) == 20_000)
        if chooser != .uniform { #expect(counts.max()! > 3 * 400, "\(chooser) concentrates on hot keys") }
    }
}
