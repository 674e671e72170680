import Foundation

// PostgreSQL-side values (seed 000, with DESIGN.md's corrections: users gain `active`,
// `avatar_url`, `department` and `position`).

public struct Organization: Sendable, Codable, Hashable {
    public var id: UUIDValue
    public var name: String
    public var subdomain: String
    public var plan: String
    public var active: Bool
    /// JSONB in PostgreSQL: flat string settings keep it portable across stores.
    public var settings: [String: String]
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUIDValue, name: String, subdomain: String, plan: String, active: Bool,
                settings: [String: String], createdAt: Date, updatedAt: Date) {
        self.id = id; self.name = name; self.subdomain = subdomain; self.plan = plan
        self.active = active; self.settings = settings; self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

public struct User: Sendable, Codable, Hashable {
    public var id: UUIDValue
    public var email: String
    public var encryptedPassword: String
    public var name: String
    /// Global role: `user` or `admin` (the partial index covers active admins).
    public var role: String
    public var active: Bool
    public var provider: String?
    public var uid: String?
    public var avatarURL: String?
    public var department: String?
    public var position: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: UUIDValue, email: String, encryptedPassword: String, name: String, role: String,
                active: Bool, provider: String?, uid: String?, avatarURL: String?, department: String?,
                position: String?, createdAt: Date, updatedAt: Date) {
        self.id = id; self.email = email; self.encryptedPassword = encryptedPassword; self.name = name
        self.role = role; self.active = active; self.provider = provider; self.uid = uid
        self.avatarURL = avatarURL; self.department = department; self.position = position
        self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

/// The profile fields an `update-profile` action changes and the snapshot sync carries.
public struct ProfileChange: Sendable, Codable, Hashable {
    public var name: String
    public var avatarURL: String?
    public var department: String?
    public var position: String?

    public init(name: String, avatarURL: String?, department: String?, position: String?) {
        self.name = name; self.avatarURL = avatarURL; self.department = department; self.position = position
    }
}

public struct Membership: Sendable, Codable, Hashable {
    public var id: UUIDValue
    public var userID: UUIDValue
    public var organizationID: UUIDValue
    /// The key of one of the organization's roles.
    public var role: String
    public var active: Bool
    public var joinedAt: Date

    public init(id: UUIDValue, userID: UUIDValue, organizationID: UUIDValue, role: String, active: Bool, joinedAt: Date) {
        self.id = id; self.userID = userID; self.organizationID = organizationID
        self.role = role; self.active = active; self.joinedAt = joinedAt
    }
}

public struct Role: Sendable, Codable, Hashable {
    public var id: UUIDValue
    public var organizationID: UUIDValue
    public var name: String
    public var key: String
    public var description: String
    public var systemRole: Bool
    public var active: Bool
    public var createdAt: Date

    public init(id: UUIDValue, organizationID: UUIDValue, name: String, key: String, description: String,
                systemRole: Bool, active: Bool, createdAt: Date) {
        self.id = id; self.organizationID = organizationID; self.name = name; self.key = key
        self.description = description; self.systemRole = systemRole; self.active = active; self.createdAt = createdAt
    }
}

public struct Permission: Sendable, Codable, Hashable {
    public var id: UUIDValue
    public var name: String
    public var resource: String
    public var action: String
    public var createdAt: Date

    public init(id: UUIDValue, name: String, resource: String, action: String, createdAt: Date) {
        self.id = id; self.name = name; self.resource = resource; self.action = action; self.createdAt = createdAt
    }
}

public struct RolePermission: Sendable, Codable, Hashable {
    public var id: UUIDValue
    public var roleID: UUIDValue
    public var permissionID: UUIDValue
    public var granted: Bool

    public init(id: UUIDValue, roleID: UUIDValue, permissionID: UUIDValue, granted: Bool) {
        self.id = id; self.roleID = roleID; self.permissionID = permissionID; self.granted = granted
    }
}

/// A row of `permission_audit_logs`, partitioned by month on `created_at` in PostgreSQL.
public struct AuditLogEntry: Sendable, Codable, Hashable {
    public var id: UUIDValue
    public var organizationID: UUIDValue
    public var userID: UUIDValue
    public var action: String
    public var resourceType: String
    public var resourceID: UUIDValue?
    public var changes: [String: String]
    public var ipAddress: String
    public var userAgent: String
    public var createdAt: Date

    public init(id: UUIDValue, organizationID: UUIDValue, userID: UUIDValue, action: String, resourceType: String,
                resourceID: UUIDValue?, changes: [String: String], ipAddress: String, userAgent: String, createdAt: Date) {
        self.id = id; self.organizationID = organizationID; self.userID = userID; self.action = action
        self.resourceType = resourceType; self.resourceID = resourceID; self.changes = changes
        self.ipAddress = ipAddress; self.userAgent = userAgent; self.createdAt = createdAt
    }
}
