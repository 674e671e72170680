import Foundation
import Synchronization
import StackModel

/// PostgreSQL in miniature: the seed's tables with their unique constraints and secondary
/// indexes (email, (provider, uid), subdomain, memberships by user / by (organization, active),
/// the partial active-admin index, roles by (organization, key), role-permissions by role),
/// and the audit log partitioned by month.
public final class EmbeddedRelationalStore: RelationalPort, EvidenceSource {
    private let tables = Mutex(Tables())
    private let behaviour: StoreBehaviour

    public init(behaviour: StoreBehaviour) {
        self.behaviour = behaviour
    }

    struct Tables {
        var users: [UUIDValue: User] = [:]
        var userIDsInOrder = OrderedIndex<UUIDValue, UUIDValue>()
        var userByEmail: [String: UUIDValue] = [:]
        var userByProvider: [String: UUIDValue] = [:]
        var activeAdmins: Set<UUIDValue> = []
        var organizations: [UUIDValue: Organization] = [:]
        var organizationBySubdomain: [String: UUIDValue] = [:]
        var memberships: [UUIDValue: Membership] = [:]
        var membershipByUserOrganization: [Pair: UUIDValue] = [:]
        var membershipsByOrganization: [UUIDValue: [UUIDValue]] = [:]
        var membershipsByUser: [UUIDValue: [UUIDValue]] = [:]
        var roles: [UUIDValue: Role] = [:]
        var roleByOrganizationKey: [OrganizationKey: UUIDValue] = [:]
        var permissionByResourceAction: [ResourceAction: UUIDValue] = [:]
        var grants: Set<Pair> = []
        /// `permission_audit_logs` partitions, keyed `YYYY_MM`.
        var auditPartitions: [String: [AuditLogEntry]] = [:]

        struct Pair: Hashable { var a: UUIDValue; var b: UUIDValue }
        struct OrganizationKey: Hashable { var organization: UUIDValue; var key: String }
        struct ResourceAction: Hashable { var resource: String; var action: String }

        mutating func insert(_ user: User) throws {
            guard userByEmail[user.email] == nil else { throw violation("users.email", user.email) }
            if let provider = user.provider, let uid = user.uid {
                guard userByProvider[provider + ":" + uid] == nil else { throw violation("users(provider, uid)", uid) }
                userByProvider[provider + ":" + uid] = user.id
            }
            users[user.id] = user
            userIDsInOrder.insert(user.id, user.id)
            userByEmail[user.email] = user.id
            if user.role == "admin" && user.active { activeAdmins.insert(user.id) }
        }

        mutating func insert(_ org: Organization) throws {
            guard organizationBySubdomain[org.subdomain] == nil else { throw violation("organizations.subdomain", org.subdomain) }
            organizations[org.id] = org
            organizationBySubdomain[org.subdomain] = org.id
        }

        mutating func insert(_ m: Membership) throws {
            let key = Pair(a: m.userID, b: m.organizationID)
            guard membershipByUserOrganization[key] == nil else { throw violation("organization_memberships(user_id, organization_id)", "\(m.userID)") }
            guard users[m.userID] != nil, organizations[m.organizationID] != nil else {
                throw violation("organization_memberships foreign key", "\(m.id)")
            }
            memberships[m.id] = m
            membershipByUserOrganization[key] = m.id
            membershipsByOrganization[m.organizationID, default: []].append(m.id)
            membershipsByUser[m.userID, default: []].append(m.id)
        }

        mutating func insert(_ role: Role) throws {
            let key = OrganizationKey(organization: role.organizationID, key: role.key)
            guard roleByOrganizationKey[key] == nil else { throw violation("roles(organization_id, key)", role.key) }
            roles[role.id] = role
            roleByOrganizationKey[key] = role.id
        }

        func violation(_ constraint: String, _ value: String) -> StoreError {
            StoreError(.constraint, store: .relational, operation: "insert", detail: "duplicate or missing key for \(constraint)")
        }

        static func partition(of date: Date) -> String {
            let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
            return String(format: "%04d_%02d", c.year!, c.month!)
        }
    }

    public func ping() async throws {
        try await behaviour.serve("ping") {}
    }

    public func evidence() async throws -> StoreEvidence { behaviour.evidence.snapshot }

    public func load(_ dataset: Dataset) async throws {
        try await behaviour.serve("load") {
            try tables.withLock { t in
                for org in dataset.organizations { try t.insert(org) }
                for user in dataset.users { try t.insert(user) }
                for m in dataset.memberships { try t.insert(m) }
                for role in dataset.roles { try t.insert(role) }
                for p in dataset.permissions { t.permissionByResourceAction[.init(resource: p.resource, action: p.action)] = p.id }
                for rp in dataset.rolePermissions where rp.granted { t.grants.insert(.init(a: rp.roleID, b: rp.permissionID)) }
                for entry in dataset.auditLogs { t.auditPartitions[Tables.partition(of: entry.createdAt), default: []].append(entry) }
            }
        }
    }

    public func user(id: UUIDValue) async throws -> User? {
        try await behaviour.query("user", .keyLookup, on: "users_pkey", returned: { $0 == nil ? 0 : 1 }) { examined in
            examined += 1
            return tables.withLock { $0.users[id] }
        }
    }

    public func updateProfile(userID: UUIDValue, change: ProfileChange, at: Date) async throws -> User? {
        try await behaviour.serve("update-profile") {
            tables.withLock { t -> User? in
                guard var user = t.users[userID] else { return nil }
                user.name = change.name
                user.avatarURL = change.avatarURL
                user.department = change.department
                user.position = change.position
                user.updatedAt = at
                t.users[userID] = user
                return user
            }
        }
    }

    public func memberIDs(organizationID: UUIDValue, activeOnly: Bool) async throws -> [UUIDValue] {
        try await behaviour.query("members", .indexScan, on: "memberships_organization_active", returned: \.count) { examined in
            tables.withLock { t in
                let ids = t.membershipsByOrganization[organizationID] ?? []
                examined += ids.count
                return ids.compactMap { id in
                    guard let m = t.memberships[id], !activeOnly || m.active else { return nil }
                    return m.userID
                }
            }
        }
    }

    public func hasPermission(userID: UUIDValue, organizationID: UUIDValue, resource: String, action: String) async throws -> Bool {
        // Membership by (user, organization), its role by (organization, key), the permission by
        // (resource, action), the grant by (role, permission): four unique-index lookups.
        try await behaviour.query("permission-check", .keyLookup, on: "memberships_user_organization",
                                  returned: { $0 ? 1 : 0 }) { examined in
            examined += 4
            return tables.withLock { t in
                guard let membershipID = t.membershipByUserOrganization[.init(a: userID, b: organizationID)],
                      let membership = t.memberships[membershipID], membership.active,
                      let roleID = t.roleByOrganizationKey[.init(organization: organizationID, key: membership.role)],
                      let role = t.roles[roleID], role.active,
                      let permissionID = t.permissionByResourceAction[.init(resource: resource, action: action)]
                else { return false }
                return t.grants.contains(.init(a: roleID, b: permissionID))
            }
        }
    }

    public func organizationIDs() async throws -> Set<UUIDValue> {
        try await behaviour.serve("organization-ids") { tables.withLock { Set($0.organizations.keys) } }
    }

    public func users(after: UUIDValue?, limit: Int) async throws -> [User] {
        try await behaviour.serve("users-page") {
            tables.withLock { t in
                let first = after ?? UUIDValue(high: 0, low: 0)
                return t.userIDsInOrder.entries(from: first, first).lazy.filter { $0.id != after }
                    .prefix(limit).compactMap { t.users[$0.id] }
            }
        }
    }

    public func appendAudit(_ entry: AuditLogEntry) async throws {
        try await behaviour.serve("audit") {
            tables.withLock { $0.auditPartitions[Tables.partition(of: entry.createdAt), default: []].append(entry) }
        }
    }
}
