import Foundation

/// Builds a dataset from a spec and a seed. Deterministic: the same seed, spec and anchor give the
/// same dataset byte for byte (`Dataset.canonicalBytes`). Timestamps are offsets from `anchor`,
/// the moment the data is "as of" (a run passes its start time, tests a fixed date).
public struct DatasetGenerator {
    public static let sprintLength: TimeInterval = 14 * 86_400
    /// Role keys every organization has, with the permissions each grants.
    public static let roleGrants: [(key: String, name: String, actions: Set<String>)] = [
        ("owner", "Owner", ["read", "create", "update", "delete", "manage"]),
        ("admin", "Admin", ["read", "create", "update", "delete"]),
        ("member", "Member", ["read", "create", "update"]),
        ("viewer", "Viewer", ["read"]),
    ]
    public static let resources = ["task", "sprint", "organization", "member", "report"]
    public static let actions = ["read", "create", "update", "delete", "manage"]

    let spec: DatasetSpec
    let anchor: Date
    var rng: SeededRandom

    public init(spec: DatasetSpec, seed: UInt64, anchor: Date) {
        self.spec = spec
        self.anchor = anchor
        self.rng = SeededRandom(seed: seed).fork(1)
    }

    public mutating func generate() -> Dataset {
        var data = Dataset(anchor: anchor)
        data.permissions = makePermissions()
        let usersPerOrg = spec.usersPerOrganization.sampler()
        let tasksPerUser = spec.tasksPerUser.sampler()
        var emailCounter = 0
        for orgIndex in 0..<spec.organizations {
            var tenantRNG = rng.fork(UInt64(orgIndex) + 100).identifying(tenant: UInt64(orgIndex) + 1)
            let org = makeOrganization(index: orgIndex, &tenantRNG)
            data.organizations.append(org)
            let roles = makeRoles(org: org, permissions: data.permissions, into: &data, &tenantRNG)
            let sprints = makeSprints(org: org, &tenantRNG)
            data.sprints += sprints
            var tenant = Tenant(organization: org, memberIDs: [], sprintIDs: sprints.map(\.id), taskIDsByMember: [:])
            let memberCount = usersPerOrg.sample(&tenantRNG)
            var members: [User] = []
            for memberIndex in 0..<memberCount {
                emailCounter += 1
                let user = makeUser(emailNumber: emailCounter, &tenantRNG)
                members.append(user)
                tenant.memberIDs.append(user.id)
                data.users.append(user)
                data.snapshots.append(UserSnapshot(of: user, syncedAt: user.updatedAt))
                let roleKey = memberIndex == 0 ? "owner"
                    : tenantRNG.chance(0.1) ? "admin" : tenantRNG.chance(0.06) ? "viewer" : "member"
                data.memberships.append(Membership(id: tenantRNG.uuid(), userID: user.id, organizationID: org.id,
                                                   role: roleKey, active: memberIndex == 0 || tenantRNG.chance(0.97),
                                                   joinedAt: user.createdAt))
            }
            for user in members {
                let count = tasksPerUser.sample(&tenantRNG)
                var ids: [UUIDValue] = []
                for _ in 0..<count {
                    let reviewer = members.count > 1 && tenantRNG.chance(0.5) ? tenantRNG.pick(members) : nil
                    let task = makeTask(org: org, assignee: user, reviewer: reviewer, creator: tenantRNG.pick(members),
                                        sprints: sprints, number: data.tasks.count + 1, &tenantRNG)
                    ids.append(task.id)
                    data.tasks.append(task)
                    if tenantRNG.chance(0.5) {
                        data.activityLogs.append(makeActivity(task: task, &tenantRNG))
                    }
                }
                tenant.taskIDsByMember[user.id] = ids
            }
            for _ in 0..<3 {
                data.auditLogs.append(makeAudit(org: org, actor: tenantRNG.pick(members), role: tenantRNG.pick(roles), &tenantRNG))
            }
            data.tenants.append(tenant)
        }
        return data
    }

    // MARK: - Pieces

    private func date(daysAgo: Double) -> Date {
        anchor.addingTimeInterval(-(daysAgo * 86_400).rounded())
    }

    private func makePermissions() -> [Permission] {
        var local = rng.fork(2).identifying(tenant: 0)
        return Self.resources.flatMap { resource in
            Self.actions.map { action in
                Permission(id: local.uuid(), name: "\(resource).\(action)", resource: resource, action: action,
                           createdAt: date(daysAgo: 400))
            }
        }
    }

    private func makeOrganization(index: Int, _ r: inout SeededRandom) -> Organization {
        let stem = r.pick(Vocabulary.companyStems), suffix = r.pick(Vocabulary.companySuffixes)
        let created = date(daysAgo: Double(r.int(in: 60...900)))
        return Organization(id: r.uuid(), name: "\(stem) \(suffix)", subdomain: "org\(index + 1)",
                            plan: r.pick(Vocabulary.plans), active: true,
                            settings: ["timezone": r.chance(0.7) ? "Asia/Seoul" : "UTC",
                                       "locale": r.chance(0.6) ? "ko" : "en",
                                       "week_start": r.chance(0.8) ? "monday" : "sunday"],
                            createdAt: created, updatedAt: created)
    }

    private func makeRoles(org: Organization, permissions: [Permission], into data: inout Dataset,
                           _ r: inout SeededRandom) -> [Role] {
        Self.roleGrants.map { grant in
            let role = Role(id: r.uuid(), organizationID: org.id, name: grant.name, key: grant.key,
                            description: "\(grant.name) of \(org.name)", systemRole: true, active: true,
                            createdAt: org.createdAt)
            data.roles.append(role)
            for permission in permissions where grant.actions.contains(permission.action) {
                data.rolePermissions.append(RolePermission(id: r.uuid(), roleID: role.id, permissionID: permission.id,
                                                           granted: true))
            }
            return role
        }
    }

    private func makeUser(emailNumber: Int, _ r: inout SeededRandom) -> User {
        let korean = r.chance(0.6)
        let familyIndex = r.int(in: 0...(Vocabulary.koreanFamilyNames.count - 1))
        let name = korean
            ? Vocabulary.koreanFamilyNames[familyIndex] + r.pick(Vocabulary.koreanGivenNames)
            : "\(r.pick(Vocabulary.englishFirstNames)) \(r.pick(Vocabulary.englishLastNames))"
        let local = korean ? Vocabulary.romanisedFamilyNames[familyIndex] : name.split(separator: " ")[0].lowercased()
        let provider: String? = r.chance(0.3) ? r.pick(["google", "github"]) : nil
        let created = date(daysAgo: Double(r.int(in: 1...700)))
        let salt = String(r.next(), radix: 36)
        return User(id: r.uuid(), email: "\(local).\(emailNumber)@example.com",
                    encryptedPassword: "$2a$12$" + salt + String(r.next(), radix: 36), name: name,
                    role: r.chance(0.03) ? "admin" : "user", active: r.chance(0.98), provider: provider,
                    uid: provider.map { _ in String(emailNumber) },
                    avatarURL: r.chance(0.7) ? "https://avatars.example.com/\(emailNumber).png" : nil,
                    department: r.pick(Vocabulary.departments), position: r.pick(Vocabulary.positions),
                    createdAt: created, updatedAt: created)
    }

    /// Sprints of two weeks around the anchor: the older half closed, one active, the rest planned.
    private func makeSprints(org: Organization, _ r: inout SeededRandom) -> [Sprint] {
        let activeIndex = spec.sprintsPerOrganization / 2
        return (0..<spec.sprintsPerOrganization).map { i in
            let start = anchor.addingTimeInterval(Double(i - activeIndex) * Self.sprintLength - 3 * 86_400)
            let status: SprintStatus = i < activeIndex ? .closed : i == activeIndex ? .active : .planning
            let total = Double(r.int(in: 80...320))
            return Sprint(id: r.uuid(), organizationID: org.id, name: "Sprint \(i + 1)", goal: r.pick(Vocabulary.sprintGoals),
                          status: status, startDate: start, endDate: start.addingTimeInterval(Self.sprintLength - 1),
                          capacity: SprintCapacity(totalHours: total, allocatedHours: (total * r.unit()).rounded()),
                          metrics: .empty, retrospective: status == .closed ? Self.retrospective(&r) : nil,
                          createdAt: start.addingTimeInterval(-3 * 86_400), updatedAt: start)
        }
    }

    public static func retrospective(_ r: inout SeededRandom) -> Retrospective {
        Retrospective(wentWell: [r.pick(Vocabulary.wentWell)], toImprove: [r.pick(Vocabulary.toImprove)],
                      actionItems: [r.pick(Vocabulary.actionItems)])
    }

    /// Status follows the sprint: closed sprints are mostly done, planned ones not started.
    private func status(in sprint: Sprint?, _ r: inout SeededRandom) -> TaskStatus {
        switch sprint?.status {
        case .closed: return r.chance(0.9) ? .done : .inProgress
        case .active: return r.pick([.todo, .todo, .inProgress, .inProgress, .review, .done])
        case .planning: return .todo
        case nil: return r.chance(0.8) ? .todo : .inProgress
        }
    }

    private func makeTask(org: Organization, assignee: User, reviewer: User?, creator: User, sprints: [Sprint],
                          number: Int, _ r: inout SeededRandom) -> ProjectTask {
        let sprint = sprints.isEmpty || r.chance(0.2) ? nil : r.pick(sprints)
        let status = status(in: sprint, &r)
        let windowStart = sprint?.startDate ?? date(daysAgo: 20)
        // Created before the anchor, even for tasks already planned into future sprints.
        let created = min(windowStart.addingTimeInterval(Double(r.int(in: 0...(10 * 86_400)))),
                          anchor.addingTimeInterval(-Double(r.int(in: 3_600...(5 * 86_400)))))
        let estimated = Double(r.int(in: 1...16))
        let entries: [TimeEntry] = status == .todo ? [] : (0..<r.int(in: 1...3)).map { k in
            TimeEntry(userID: assignee.id, hours: Double(r.int(in: 1...8)) / 2, description: r.pick(Vocabulary.timeEntryNotes),
                      loggedAt: created.addingTimeInterval(Double(k + 1) * 3_600))
        }
        let korean = r.chance(0.5)
        let title = korean ? "\(r.pick(Vocabulary.koreanObjects)) \(r.pick(Vocabulary.koreanVerbs))"
                           : "\(r.pick(Vocabulary.englishVerbs)) \(r.pick(Vocabulary.englishObjects))"
        let tags = Array(Set((0..<r.int(in: 1...4)).map { _ in r.pick(Vocabulary.tags) })).sorted()
        let labels = Array(Set((0..<r.int(in: 0...2)).map { _ in r.pick(Vocabulary.labels) })).sorted()
        let due = (sprint?.endDate ?? anchor).addingTimeInterval(Double(r.int(in: -5...5)) * 86_400)
        return ProjectTask(
            id: r.uuid(), organizationID: org.id, sprintID: sprint?.id, createdByID: creator.id, taskKey: "TASK-\(number)",
            title: title, description: r.pick(Vocabulary.descriptions), taskType: r.pick(Vocabulary.taskTypes),
            assigneeID: assignee.id, reviewerID: reviewer?.id,
            assigneeSnapshot: UserSnapshot(of: assignee, syncedAt: assignee.updatedAt),
            reviewerSnapshot: reviewer.map { UserSnapshot(of: $0, syncedAt: $0.updatedAt) },
            status: status, priority: r.pick(Vocabulary.priorities), position: number * 100,
            estimatedHours: estimated, actualHours: entries.reduce(0) { $0 + $1.hours }, timeEntries: entries,
            dueDate: due, startDate: sprint?.startDate, completedAt: status == .done ? created.addingTimeInterval(86_400) : nil,
            tags: tags, labels: labels, createdAt: created, updatedAt: created)
    }

    private func makeActivity(task: ProjectTask, _ r: inout SeededRandom) -> ActivityLog {
        // Some entries are older than the 30-day TTL on purpose: the stores must expire them.
        ActivityLog(id: r.uuid(), organizationID: task.organizationID, userID: task.assigneeID ?? task.createdByID,
                    action: "task.created", resourceType: "Task", resourceID: task.id,
                    changes: ["status": task.status.rawValue], createdAt: date(daysAgo: Double(r.int(in: 0...40)) + r.unit()))
    }

    private func makeAudit(org: Organization, actor: User?, role: Role, _ r: inout SeededRandom) -> AuditLogEntry {
        AuditLogEntry(id: r.uuid(), organizationID: org.id, userID: actor?.id ?? org.id, action: "role.granted",
                      resourceType: "Role", resourceID: role.id, changes: ["role": role.key],
                      ipAddress: "10.\(r.int(in: 0...255)).\(r.int(in: 0...255)).\(r.int(in: 1...254))",
                      userAgent: "Mozilla/5.0", createdAt: date(daysAgo: Double(r.int(in: 0...60))))
    }
}
