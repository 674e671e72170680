import Foundation
import StackCore
import StackModel

/// A contract check failed: what was expected, and where in the contract.
public struct ContractFailure: Error, CustomStringConvertible {
    public var message: String
    public var line: UInt

    public var description: String { "PortContract.swift:\(line): \(message)" }
}

/// One behaviour every implementation of the ports must show, run against fresh, empty stores.
public struct ContractCheck: Sendable, CustomStringConvertible {
    public let name: String
    public let run: @Sendable (StackStores) async throws -> Void

    public var description: String { name }
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) throws {
    if !condition { throw ContractFailure(message: message(), line: line) }
}

/// The port contract, written against the ports only, so that the embedded stores and the live
/// adapters are held to the same behaviour.
public enum PortContract {
    /// A small dataset as of now: three organizations, their members, tasks and sprints.
    public static func fixture() -> Dataset {
        var generator = DatasetGenerator(spec: DatasetSpec(organizations: 3, usersPerOrganization: .uniform(min: 4, max: 7),
                                                           tasksPerUser: .constant(5), sprintsPerOrganization: 3),
                                         seed: 11, anchor: Date())
        return generator.generate()
    }

    static func loaded(_ stores: StackStores) async throws -> Dataset {
        let data = fixture()
        try await stores.relational.load(data)
        try await stores.documents.load(data)
        return data
    }

    public static let checks: [ContractCheck] = relationalChecks + documentChecks + cacheChecks

    // MARK: - Relational

    static let relationalChecks: [ContractCheck] = [
        ContractCheck(name: "relational: ping answers") { s in try await s.relational.ping() },
        ContractCheck(name: "relational: users load and read back by id") { s in
            let data = try await loaded(s)
            for user in data.users.prefix(5) {
                let read = try await s.relational.user(id: user.id)
                try expect(read?.email == user.email && read?.name == user.name, "user \(user.id) reads back as loaded")
            }
            try expect(try await s.relational.user(id: UUIDValue(high: 1, low: 1)) == nil, "an unknown id reads as nil")
        },
        ContractCheck(name: "relational: duplicate e-mail is refused") { s in
            var data = fixture()
            data.users.append(User(id: UUIDValue(high: 9, low: 9), email: data.users[0].email, encryptedPassword: "x", name: "dup",
                                   role: "user", active: true, provider: nil, uid: nil, avatarURL: nil, department: nil,
                                   position: nil, createdAt: Date(), updatedAt: Date()))
            var refused = false
            do { try await s.relational.load(data) } catch { refused = true }
            try expect(refused, "loading two users with one e-mail fails on the unique index")
        },
        ContractCheck(name: "relational: profile update persists and returns the new row") { s in
            let data = try await loaded(s)
            let user = data.users[1]
            let at = Date()
            let change = ProfileChange(name: "변경된 이름", avatarURL: nil, department: "QA", position: "Lead")
            let updated = try await s.relational.updateProfile(userID: user.id, change: change, at: at)
            try expect(updated?.name == "변경된 이름" && updated?.department == "QA" && updated?.avatarURL == nil, "update returns the new profile")
            let read = try await s.relational.user(id: user.id)
            try expect(read?.name == "변경된 이름" && read?.position == "Lead", "the change is visible to a later read")
            try expect(abs((read?.updatedAt.timeIntervalSince1970 ?? 0) - at.timeIntervalSince1970) < 0.01, "updated_at is the commit time")
            try expect(try await s.relational.updateProfile(userID: UUIDValue(high: 2, low: 2), change: change, at: at) == nil,
                       "updating an unknown user returns nil")
        },
        ContractCheck(name: "relational: members of an organization, active or all") { s in
            let data = try await loaded(s)
            for tenant in data.tenants {
                let all = Set(try await s.relational.memberIDs(organizationID: tenant.organization.id, activeOnly: false))
                try expect(all == Set(tenant.memberIDs), "all members of \(tenant.organization.subdomain)")
                let active = Set(try await s.relational.memberIDs(organizationID: tenant.organization.id, activeOnly: true))
                let expected = Set(data.memberships.filter { $0.organizationID == tenant.organization.id && $0.active }.map(\.userID))
                try expect(active == expected, "active members of \(tenant.organization.subdomain)")
            }
        },
        ContractCheck(name: "relational: permission check joins membership, role and grants") { s in
            let data = try await loaded(s)
            let org = data.tenants[0].organization.id
            let owner = data.memberships.first { $0.organizationID == org && $0.role == "owner" }!
            try expect(try await s.relational.hasPermission(userID: owner.userID, organizationID: org, resource: "task", action: "manage"),
                       "the owner may manage tasks")
            let other = data.tenants[1].organization.id
            try expect(!(try await s.relational.hasPermission(userID: owner.userID, organizationID: other, resource: "task", action: "read")),
                       "a non-member may not read another organization's tasks")
            let member = data.memberships.first { $0.role == "member" && $0.active }!
            try expect(try await s.relational.hasPermission(userID: member.userID, organizationID: member.organizationID,
                                                            resource: "task", action: "update"), "a member may update tasks")
            try expect(!(try await s.relational.hasPermission(userID: member.userID, organizationID: member.organizationID,
                                                              resource: "task", action: "delete")), "a member may not delete tasks")
        },
        ContractCheck(name: "relational: organization ids") { s in
            let data = try await loaded(s)
            try expect(try await s.relational.organizationIDs() == Set(data.organizations.map(\.id)), "every organization id")
        },
        ContractCheck(name: "relational: users page in id order, each exactly once") { s in
            let data = try await loaded(s)
            var seen: [UUIDValue] = []
            var after: UUIDValue?
            while true {
                let page = try await s.relational.users(after: after, limit: 4)
                guard let last = page.last else { break }
                try expect(page.count <= 4, "a page holds at most its limit")
                seen += page.map(\.id)
                after = last.id
            }
            try expect(seen == data.users.map(\.id).sorted(), "pages cover every user once, in id order")
        },
        ContractCheck(name: "relational: audit entries are accepted into their month's partition") { s in
            let data = try await loaded(s)
            let user = data.users[0]
            for daysAgo in [0.0, 40, 75] {
                try await s.relational.appendAudit(AuditLogEntry(
                    id: UUIDValue(high: UInt64(daysAgo) + 1, low: 77), organizationID: data.organizations[0].id, userID: user.id,
                    action: "role.granted", resourceType: "Role", resourceID: nil, changes: ["role": "admin"],
                    ipAddress: "127.0.0.1", userAgent: "contract", createdAt: Date().addingTimeInterval(-daysAgo * 86_400)))
            }
        },
    ]
}
