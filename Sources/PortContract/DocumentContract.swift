import Foundation
import StackCore
import StackModel

extension PortContract {
    static func newTask(_ data: Dataset, org: Int = 0, status: TaskStatus = .todo, createdAt: Date = Date(),
                        title: String = "Contract probe 계약") -> ProjectTask {
        let tenant = data.tenants[org]
        let assignee = data.users.first { $0.id == tenant.memberIDs[0] }!
        var r = SeededRandom(seed: UInt64(createdAt.timeIntervalSince1970 * 1000))
        var task = DatasetGenerator.newTask(organizationID: tenant.organization.id, creator: assignee.id,
                                            assignee: UserSnapshot(of: assignee, syncedAt: createdAt), sprintID: tenant.sprintIDs.first,
                                            now: createdAt, &r)
        task.title = title
        task.status = status
        return task
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static let documentChecks: [ContractCheck] = [
        ContractCheck(name: "documents: ping answers") { s in try await s.documents.ping() },
        ContractCheck(name: "documents: board is newest first, one status, limited") { s in
            let data = try await loaded(s)
            let org = data.organizations[0].id
            for status in TaskStatus.allCases {
                let expected = data.tasks.filter { $0.organizationID == org && $0.status == status }
                    .sorted { $0.createdAt != $1.createdAt ? $0.createdAt > $1.createdAt : $0.id < $1.id }
                let board = try await s.documents.board(organizationID: org, status: status, limit: 3)
                // BSON dates keep milliseconds: compare at that precision.
                try expect(board.map { milliseconds($0.createdAt) } == expected.prefix(3).map { milliseconds($0.createdAt) },
                           "board(\(status)) newest first, limit 3")
                try expect(board.allSatisfy { $0.status == status && $0.organizationID == org }, "board holds only that org and status")
            }
        },
        ContractCheck(name: "documents: tasks by ids returns those that exist") { s in
            let data = try await loaded(s)
            let wanted = Array(data.tasks.prefix(3).map(\.id)) + [UUIDValue(high: 1, low: 2)]
            let found = try await s.documents.tasks(ids: wanted)
            try expect(Set(found.map(\.id)) == Set(wanted.prefix(3)), "the three existing tasks, not the missing one")
            try expect(try await s.documents.tasks(ids: []).isEmpty, "no ids, no tasks")
        },
        ContractCheck(name: "documents: tasks of an assignee in a status") { s in
            let data = try await loaded(s)
            let user = data.tenants[1].memberIDs[0]
            for status in TaskStatus.allCases {
                let found = try await s.documents.tasks(assigneeID: user, status: status)
                let expected = data.tasks.filter { $0.assigneeID == user && $0.status == status }
                try expect(Set(found.map(\.id)) == Set(expected.map(\.id)), "my-tasks(\(status))")
            }
        },
        ContractCheck(name: "documents: active tasks use only active statuses") { s in
            let data = try await loaded(s)
            let tenant = data.tenants[0]
            for user in tenant.memberIDs {
                let found = try await s.documents.activeTasks(organizationID: tenant.organization.id, assigneeID: user)
                let expected = data.tasks.filter { $0.assigneeID == user && $0.organizationID == tenant.organization.id && $0.status.isActive }
                try expect(Set(found.map(\.id)) == Set(expected.map(\.id)), "my-active for \(user)")
            }
        },
        ContractCheck(name: "documents: due soon is a date range of one org, soonest first") { s in
            let data = try await loaded(s)
            let org = data.organizations[2].id
            let from = data.anchor.addingTimeInterval(-20 * 86_400), to = data.anchor.addingTimeInterval(20 * 86_400)
            let found = try await s.documents.dueSoon(organizationID: org, from: from, to: to, limit: 1000)
            let expected = data.tasks.filter { $0.organizationID == org && $0.dueDate.map { $0 >= from && $0 < to } ?? false }
            try expect(Set(found.map(\.id)) == Set(expected.map(\.id)), "due-soon finds exactly the org's tasks in range")
            try expect(found.map { $0.dueDate! } == found.map { $0.dueDate! }.sorted(), "due-soon is sorted by due date")
            let limited = try await s.documents.dueSoon(organizationID: org, from: from, to: to, limit: 2)
            try expect(limited.count == min(2, expected.count), "due-soon honours its limit")
        },
        ContractCheck(name: "documents: text search matches any term in title, description or tags, per org") { s in
            let data = try await loaded(s)
            let probe = newTask(data, org: 1, title: "결제모듈 zebra-probe")
            try await s.documents.insertTask(probe)
            let hits = try await s.documents.search(organizationID: probe.organizationID, text: "zebra nothing", limit: 10)
            try expect(hits.map(\.id) == [probe.id], "an English term finds the probe")
            let korean = try await s.documents.search(organizationID: probe.organizationID, text: "결제모듈", limit: 10)
            try expect(korean.map(\.id) == [probe.id], "a whole Korean word finds the probe (language none)")
            let otherOrg = try await s.documents.search(organizationID: data.organizations[0].id, text: "zebra", limit: 10)
            try expect(otherOrg.isEmpty, "search stays inside the organization")
            let tag = probe.tags[0]
            let tagged = try await s.documents.search(organizationID: probe.organizationID, text: tag, limit: 1000)
            try expect(tagged.contains { $0.id == probe.id }, "a tag finds the probe")
        },
        ContractCheck(name: "documents: task stats count and sum hours per status") { s in
            let data = try await loaded(s)
            let org = data.organizations[1].id
            let stats = try await s.documents.taskStats(organizationID: org)
            for status in TaskStatus.allCases {
                let tasks = data.tasks.filter { $0.organizationID == org && $0.status == status }
                let row = stats.first { $0.status == status }
                try expect((row?.count ?? 0) == tasks.count, "count of \(status)")
                try expect(abs((row?.totalHours ?? 0) - tasks.reduce(0) { $0 + $1.estimatedHours }) < 1e-9, "hours of \(status)")
            }
        },
        ContractCheck(name: "documents: sprint tasks, sprints read and saved") { s in
            let data = try await loaded(s)
            let sprint = data.sprints[0]
            let found = try await s.documents.sprintTasks(sprintID: sprint.id)
            try expect(Set(found.map(\.id)) == Set(data.tasks.filter { $0.sprintID == sprint.id }.map(\.id)), "tasks of the sprint")
            var changed = try await s.documents.sprint(id: sprint.id)
            try expect(changed?.name == sprint.name, "sprint reads back")
            changed?.status = .closed
            changed?.metrics = SprintMetrics(tasks: found, burndown: [BurndownPoint(date: Date(), remainingHours: 12)])
            try await s.documents.saveSprint(changed!)
            let read = try await s.documents.sprint(id: sprint.id)
            try expect(read?.status == .closed && read?.metrics.totalTasks == found.count && read?.metrics.burndown.count == 1,
                       "a saved sprint reads back with its metrics")
        },
        ContractCheck(name: "documents: a task moves between sprints and to the backlog") { s in
            let data = try await loaded(s)
            let from = data.sprints[0], to = data.sprints[1]
            guard let task = data.tasks.first(where: { $0.sprintID == from.id }) else {
                throw ContractFailure(message: "the fixture has a task in its first sprint", line: #line)
            }
            let before = try await s.documents.moveTask(taskID: task.id, toSprint: to.id, at: Date())
            try expect(before?.sprintID == from.id, "the move returns the task as it was")
            try expect(try await s.documents.sprintTasks(sprintID: to.id).contains { $0.id == task.id }, "the task is in its new sprint")
            try expect(try await !s.documents.sprintTasks(sprintID: from.id).contains { $0.id == task.id }, "and not in its old one")
            _ = try await s.documents.moveTask(taskID: task.id, toSprint: nil, at: Date())
            try expect(try await s.documents.task(id: task.id)?.sprintID == nil, "a task moves to the backlog")
            try expect(try await s.documents.moveTask(taskID: UUIDValue(high: 0, low: 9), toSprint: nil, at: Date()) == nil,
                       "moving a task that does not exist changes nothing")
        },
        ContractCheck(name: "documents: insert and status update move a task between indexes") { s in
            let data = try await loaded(s)
            let task = newTask(data, org: 2, status: .todo, createdAt: Date().addingTimeInterval(3600))
            try await s.documents.insertTask(task)
            try expect(try await s.documents.task(id: task.id)?.title == task.title, "inserted task reads back")
            let board = try await s.documents.board(organizationID: task.organizationID, status: .todo, limit: 1)
            try expect(board.first?.id == task.id, "the newest todo heads the board")
            let before = try await s.documents.updateStatus(taskID: task.id, to: .done, at: Date())
            try expect(before?.status == .todo, "update returns the task as it was")
            try expect(board.first?.status == .todo && board.count == 1, "a task list read before a write does not change with it")
            try expect(!(try await s.documents.board(organizationID: task.organizationID, status: .todo, limit: 1000).contains { $0.id == task.id }),
                       "it left the todo board")
            try expect(try await s.documents.board(organizationID: task.organizationID, status: .done, limit: 1).first?.id == task.id,
                       "it heads the done board")
            let active = try await s.documents.activeTasks(organizationID: task.organizationID, assigneeID: task.assigneeID!)
            try expect(!active.contains { $0.id == task.id }, "a done task leaves the partial active index")
            try expect(try await s.documents.task(id: task.id)?.completedAt != nil, "done sets completed_at")
            try expect(try await s.documents.updateStatus(taskID: UUIDValue(high: 3, low: 3), to: .done, at: Date()) == nil,
                       "updating an unknown task returns nil")
        },
        ContractCheck(name: "documents: time entries add hours") { s in
            let data = try await loaded(s)
            let task = data.tasks[3]
            let entry = TimeEntry(userID: task.assigneeID!, hours: 2.5, description: "계약 테스트", loggedAt: Date())
            try expect(try await s.documents.logTime(taskID: task.id, entry: entry), "log-time finds the task")
            let read = try await s.documents.task(id: task.id)
            try expect(read?.timeEntries.count == task.timeEntries.count + 1, "one more time entry")
            try expect(abs((read?.actualHours ?? 0) - task.actualHours - 2.5) < 1e-9, "actual hours grow by the entry")
        },
        ContractCheck(name: "documents: activity is newest first, per org, and expires after 30 days") { s in
            let data = try await loaded(s)
            let org = data.organizations[0].id
            let user = data.users[0].id
            let old = ActivityLog(id: UUIDValue(high: 5, low: 1), organizationID: org, userID: user, action: "task.created",
                                  resourceType: "Task", resourceID: data.tasks[0].id, changes: [:],
                                  createdAt: Date().addingTimeInterval(-31 * 86_400))
            let fresh = ActivityLog(id: UUIDValue(high: 5, low: 2), organizationID: org, userID: user, action: "task.status_changed",
                                    resourceType: "Task", resourceID: data.tasks[0].id, changes: ["from": "todo", "to": "done"],
                                    createdAt: Date().addingTimeInterval(1))
            try await s.documents.insertActivity(old)
            try await s.documents.insertActivity(fresh)
            let recent = try await s.documents.recentActivity(organizationID: org, limit: 1000)
            try expect(recent.first?.id == fresh.id, "the newest entry comes first")
            try expect(!recent.contains { $0.id == old.id }, "an entry past its 30-day TTL is gone")
            try expect(recent.allSatisfy { $0.organizationID == org }, "only that organization's activity")
            try expect(recent.map(\.createdAt) == recent.map(\.createdAt).sorted(by: >), "newest first throughout")
            try expect(recent.allSatisfy { $0.createdAt > Date().addingTimeInterval(-ActivityLog.timeToLive) }, "nothing expired")
        },
        ContractCheck(name: "documents: snapshots upsert one per user, singly and in bulk") { s in
            let data = try await loaded(s)
            let user = data.users[2]
            var snapshot = UserSnapshot(of: user, syncedAt: Date())
            snapshot.name = "새 이름"
            try await s.documents.upsertSnapshot(snapshot)
            try await s.documents.upsertSnapshot(snapshot)
            let read = try await s.documents.snapshots(userIDs: [user.id])
            try expect(read.count == 1 && read[0].name == "새 이름", "one snapshot per user, updated")
            let all = data.users.map { UserSnapshot(of: $0, syncedAt: Date()) }
            try expect(try await s.documents.bulkUpsertSnapshots(all) == all.count, "bulk upsert reports every write")
            let back = try await s.documents.snapshots(userIDs: data.users.map(\.id))
            try expect(back.count == data.users.count, "every user has exactly one snapshot")
        },
        ContractCheck(name: "documents: task snapshots by role, per task and many at once") { s in
            let data = try await loaded(s)
            let assignee = data.tenants[0].memberIDs[0]
            let ids = try await s.documents.taskIDs(of: assignee, as: .assignee)
            try expect(Set(ids) == Set(data.tasks.filter { $0.assigneeID == assignee }.map(\.id)), "tasks by assignee")
            guard let reviewer = data.tasks.first(where: { $0.reviewerID != nil })?.reviewerID else { return }
            let reviewed = try await s.documents.taskIDs(of: reviewer, as: .reviewer)
            try expect(Set(reviewed) == Set(data.tasks.filter { $0.reviewerID == reviewer }.map(\.id)), "tasks by reviewer")
            let user = data.users.first { $0.id == assignee }!
            var renamed = UserSnapshot(of: user, syncedAt: Date())
            renamed.name = "Renamed Person"
            try expect(try await s.documents.countTasks(withSnapshotsDifferingFrom: [renamed], as: .assignee) == ids.count,
                       "every task of the user differs from the renamed profile")
            try await s.documents.setSnapshot(renamed, as: .assignee, taskID: ids[0])
            try expect(try await s.documents.task(id: ids[0])?.assigneeSnapshot?.name == "Renamed Person", "one task updated")
            try expect(try await s.documents.countTasks(withSnapshotsDifferingFrom: [renamed], as: .assignee) == ids.count - 1,
                       "the rest still differ")
            try expect(try await s.documents.setSnapshots(renamed, as: .assignee) == ids.count, "updateMany reaches every task")
            try expect(try await s.documents.countTasks(withSnapshotsDifferingFrom: [renamed], as: .assignee) == 0, "none differ now")
        },
        ContractCheck(name: "documents: missing snapshots and task counts per organization") { s in
            let data = try await loaded(s)
            try expect(try await s.documents.countTasksMissingAssigneeSnapshot() == 0, "the fixture has every snapshot")
            var bare = newTask(data, org: 1)
            bare.assigneeSnapshot = nil
            try await s.documents.insertTask(bare)
            try expect(try await s.documents.countTasksMissingAssigneeSnapshot() == 1, "a task without its snapshot is counted")
            let counts = try await s.documents.taskCountsByOrganization()
            for org in data.organizations {
                let expected = data.tasks.count { $0.organizationID == org.id } + (org.id == bare.organizationID ? 1 : 0)
                try expect(counts[org.id] == expected, "task count of \(org.subdomain)")
            }
        },
    ]
}
