import Foundation

/// Content for what users create during a run, drawn from the same vocabulary as the dataset.
extension DatasetGenerator {
    public static var searchTerms: [String] { Vocabulary.searchTerms }
    public static var timeEntryNotes: [String] { Vocabulary.timeEntryNotes }

    /// A task a user creates now, assigned to themselves.
    public static func newTask(organizationID: UUIDValue, creator: UUIDValue, assignee: UserSnapshot?, sprintID: UUIDValue?,
                               now: Date, _ r: inout SeededRandom) -> ProjectTask {
        let korean = r.chance(0.5)
        let title = korean ? "\(r.pick(Vocabulary.koreanObjects)) \(r.pick(Vocabulary.koreanVerbs))"
                           : "\(r.pick(Vocabulary.englishVerbs)) \(r.pick(Vocabulary.englishObjects))"
        return ProjectTask(
            id: r.uuid(), organizationID: organizationID, sprintID: sprintID, createdByID: creator,
            taskKey: "TASK-\(r.next() % 1_000_000)", title: title, description: r.pick(Vocabulary.descriptions),
            taskType: r.pick(Vocabulary.taskTypes), assigneeID: creator, reviewerID: nil, assigneeSnapshot: assignee,
            reviewerSnapshot: nil, status: .todo, priority: r.pick(Vocabulary.priorities), position: r.int(in: 1...100_000),
            estimatedHours: Double(r.int(in: 1...16)), actualHours: 0, timeEntries: [],
            dueDate: now.addingTimeInterval(Double(r.int(in: 1...21)) * 86_400), startDate: now, completedAt: nil,
            tags: [r.pick(Vocabulary.tags)], labels: [], createdAt: now, updatedAt: now)
    }

    /// A profile edit: a new display name, department or position.
    public static func profileChange(_ r: inout SeededRandom) -> ProfileChange {
        let name = r.chance(0.6)
            ? r.pick(Vocabulary.koreanFamilyNames) + r.pick(Vocabulary.koreanGivenNames)
            : "\(r.pick(Vocabulary.englishFirstNames)) \(r.pick(Vocabulary.englishLastNames))"
        return ProfileChange(name: name, avatarURL: r.chance(0.5) ? "https://avatars.example.com/u\(r.next() % 100_000).png" : nil,
                             department: r.pick(Vocabulary.departments), position: r.pick(Vocabulary.positions))
    }

    /// A sprint planned after the last one, for when a tenant runs out of planned sprints.
    public static func nextSprint(after previous: Sprint, _ r: inout SeededRandom) -> Sprint {
        let total = Double(r.int(in: 80...320))
        let start = previous.endDate.addingTimeInterval(1)
        let number = (Int(previous.name.split(separator: " ").last ?? "") ?? 0) + 1
        return Sprint(id: r.uuid(), organizationID: previous.organizationID, name: "Sprint \(number)",
                      goal: r.pick(Vocabulary.sprintGoals), status: .planning, startDate: start,
                      endDate: start.addingTimeInterval(sprintLength - 1),
                      capacity: SprintCapacity(totalHours: total, allocatedHours: (total * r.unit()).rounded()),
                      metrics: .empty, retrospective: nil, createdAt: previous.endDate, updatedAt: previous.endDate)
    }
}
