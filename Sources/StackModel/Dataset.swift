import Foundation

/// How big and what shape the generated dataset is; comes from the scenario's `dataset:` block.
public struct DatasetSpec: Sendable, Equatable {
    public var organizations: Int
    public var usersPerOrganization: IntDistribution
    public var tasksPerUser: IntDistribution
    public var sprintsPerOrganization: Int

    public init(organizations: Int, usersPerOrganization: IntDistribution, tasksPerUser: IntDistribution,
                sprintsPerOrganization: Int) {
        self.organizations = organizations
        self.usersPerOrganization = usersPerOrganization
        self.tasksPerUser = tasksPerUser
        self.sprintsPerOrganization = sprintsPerOrganization
    }
}

/// One organization's slice of the dataset, with the indexes the simulation needs.
public struct Tenant: Sendable {
    public var organization: Organization
    public var memberIDs: [UUIDValue]
    public var sprintIDs: [UUIDValue]
    /// Task ids per member, in generation order.
    public var taskIDsByMember: [UUIDValue: [UUIDValue]]
}

/// Everything loaded into the stores before a run.
public struct Dataset: Sendable {
    public var anchor: Date
    public var organizations: [Organization] = []
    public var users: [User] = []
    public var memberships: [Membership] = []
    public var roles: [Role] = []
    public var permissions: [Permission] = []
    public var rolePermissions: [RolePermission] = []
    public var auditLogs: [AuditLogEntry] = []
    public var tasks: [ProjectTask] = []
    public var sprints: [Sprint] = []
    public var activityLogs: [ActivityLog] = []
    public var snapshots: [UserSnapshot] = []
    public var tenants: [Tenant] = []

    /// The dataset as canonical JSON (sorted keys, dates as seconds): equal seeds give equal bytes.
    public func canonicalBytes() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        var out = Data()
        out.append(try encoder.encode(organizations)); out.append(try encoder.encode(users))
        out.append(try encoder.encode(memberships)); out.append(try encoder.encode(roles))
        out.append(try encoder.encode(permissions)); out.append(try encoder.encode(rolePermissions))
        out.append(try encoder.encode(auditLogs)); out.append(try encoder.encode(tasks))
        out.append(try encoder.encode(sprints)); out.append(try encoder.encode(activityLogs))
        out.append(try encoder.encode(snapshots))
        return out
    }
}
