import Foundation
import StackCore
import StackIO
import StackModel

/// The relational port on PostgreSQL: prepared statements on nonblocking libpq connections
/// driven by the reactor, a pool per the scenario; schema and bulk loads (COPY) on a blocking
/// session in a thread of its own. Everything lives in stacksim's own schema (default
/// `stacksim`), first on every connection's `search_path`.
public final class PostgresStore: RelationalPort {
    private let conninfo: PostgresConninfo
    private let settings: PoolSettings
    private let pool: ConnectionPool<PostgresConnection, ContinuousClock>

    /// Any address libpq takes (`postgresql://…` or `host=… dbname=…`); the password never
    /// appears in errors. A malformed address or schema name throws `StoreConfigurationError`.
    public init(url: String, schema: String, pool settings: PoolSettings) throws {
        let conninfo = try PostgresConninfo(url, schema: schema)
        self.conninfo = conninfo
        self.settings = settings
        pool = ConnectionPool(store: .relational, settings: settings) {
            try await PostgresConnection.open(conninfo, timeout: settings.connectTimeout, callTimeout: settings.callTimeout)
        }
    }

    /// The schema stacksim works in.
    public var schema: String { conninfo.schema }

    public func shutdown() { pool.shutdown() }

    func query(_ statement: Statement, _ parameters: [String?] = []) async throws -> Rows {
        try await StoreCallTrace.measure(.relational, statement.name) {
            try await pool.withConnection { try await $0.query(statement, parameters) }
        }
    }

    private func session<T: Sendable>(_ work: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let conninfo = conninfo, timeout = settings.connectTimeout
        return try await BlockingThread.run("stacksim-postgres-session") { try work(try PostgresSession(conninfo, timeout: timeout)) }
    }

    // MARK: - What stacksim owns

    /// Whether stacksim's schema exists, the marker's text if it has one, and the tables in it.
    public func inspect() async throws -> (schemaExists: Bool, marker: String?, tables: [String]) {
        let schema = self.schema
        return try await session { s in
            let exists = try s.execute("SELECT 1 FROM pg_namespace WHERE nspname = '\(schema)'").isEmpty == false
            guard exists else { return (false, nil, []) }
            let tables = try s.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                       + "WHERE n.nspname = '\(schema)' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition "
                                       + "ORDER BY 1")
            let marker = tables.contains(PostgresSchema.markerTable)
                ? try s.execute("SELECT text FROM \(schema).\(PostgresSchema.markerTable)").first : nil
            return (true, marker, tables)
        }
    }

    /// Creates stacksim's schema (or fills an empty one someone made for it), its tables and
    /// indexes, and the marker. `pg_trgm` is used where it is installed, else installed into
    /// stacksim's schema, so it goes with it.
    public func createSchema(marker: String, now: Date = Date()) async throws {
        let schema = self.schema
        try await session { s in
            let created = try s.execute("SELECT 1 FROM pg_namespace WHERE nspname = '\(schema)'").isEmpty
            if created { try s.execute("CREATE SCHEMA \(schema)") }
            try s.execute(PostgresSchema.createMarker(schema: schema, ownsSchema: created))
            try s.execute("UPDATE \(schema).\(PostgresSchema.markerTable) SET text = \(PostgresSchema.literal(marker))")
            let trgm = try s.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                                     + "WHERE e.extname = 'pg_trgm'").first
            if trgm == nil { try s.execute("CREATE EXTENSION pg_trgm SCHEMA \(schema)") }
            for statement in PostgresSchema.create(schema: schema, trigramSchema: trgm ?? schema, now: now) { try s.execute(statement) }
        }
    }

    /// Replaces the marker's text.
    public func writeMarker(_ text: String) async throws {
        let schema = self.schema
        try await session { _ = try $0.execute("UPDATE \(schema).\(PostgresSchema.markerTable) SET text = \(PostgresSchema.literal(text))") }
    }

    /// Drops what the marker says stacksim made: the whole schema when stacksim created it, else
    /// its tables and the marker only.
    public func dropOwned() async throws {
        let schema = self.schema
        try await session { s in
            let owns = try s.execute("SELECT owns_schema FROM \(schema).\(PostgresSchema.markerTable)").first == "t"
            if owns {
                try s.execute("DROP SCHEMA \(schema) CASCADE")
            } else {
                try s.execute(PostgresSchema.drop(schema: schema))
            }
        }
    }

    /// Empties every table, keeping the schema and the marker (the integration tests).
    public func clear() async throws {
        let schema = self.schema
        try await session { _ = try $0.execute(PostgresSchema.truncate(schema: schema)) }
    }

    public func version() async throws -> String {
        try await session { try $0.execute("SHOW server_version").first ?? "unknown" }
    }

    // MARK: - The port

    static let ping = Statement("ping", "SELECT 1")
    static let userColumns = """
        id, email, encrypted_password, name, role, active, provider, uid, avatar_url, department, position,
        extract(epoch FROM created_at)::float8, extract(epoch FROM updated_at)::float8
        """
    static let user = Statement("user", "SELECT \(userColumns) FROM users WHERE id = $1")
    static let updateProfile = Statement("update-profile", """
        UPDATE users SET name = $2, avatar_url = $3, department = $4, position = $5, updated_at = to_timestamp($6::float8)
        WHERE id = $1 RETURNING \(userColumns)
        """)
    static let members = Statement("members", """
        SELECT user_id FROM organization_memberships WHERE organization_id = $1 AND (active OR NOT $2::boolean) ORDER BY joined_at, id
        """)
    static let permission = Statement("permission-check", """
        SELECT EXISTS (
            SELECT 1 FROM organization_memberships m
            JOIN roles r ON r.organization_id = m.organization_id AND r.key = m.role AND r.active
            JOIN role_permissions rp ON rp.role_id = r.id AND rp.granted
            JOIN permissions p ON p.id = rp.permission_id
            WHERE m.user_id = $1 AND m.organization_id = $2 AND m.active AND p.resource = $3 AND p.action = $4)
        """)
    static let organizationIDs = Statement("organization-ids", "SELECT id FROM organizations")
    static let usersPage = Statement("users-page", "SELECT \(userColumns) FROM users WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2")
    static let audit = Statement("audit", """
        INSERT INTO permission_audit_logs (id, organization_id, user_id, action, resource_type, resource_id, changes, ip_address,
                                           user_agent, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::inet, $9, to_timestamp($10::float8))
        """)

    public func ping() async throws {
        _ = try await query(Self.ping)
    }

    public func user(id: UUIDValue) async throws -> User? {
        try await query(Self.user, ["\(id)"]).first.map(Self.user(from:))
    }

    public func updateProfile(userID: UUIDValue, change: ProfileChange, at: Date) async throws -> User? {
        try await query(Self.updateProfile, ["\(userID)", change.name, change.avatarURL, change.department, change.position,
                                             Self.epoch(at)]).first.map(Self.user(from:))
    }

    public func memberIDs(organizationID: UUIDValue, activeOnly: Bool) async throws -> [UUIDValue] {
        try await query(Self.members, ["\(organizationID)", String(activeOnly)]).compactMap { $0[0].flatMap(UUIDValue.init) }
    }

    public func hasPermission(userID: UUIDValue, organizationID: UUIDValue, resource: String, action: String) async throws -> Bool {
        try await query(Self.permission, ["\(userID)", "\(organizationID)", resource, action]).first?[0] == "t"
    }

    public func organizationIDs() async throws -> Set<UUIDValue> {
        Set(try await query(Self.organizationIDs).compactMap { $0[0].flatMap(UUIDValue.init) })
    }

    public func users(after: UUIDValue?, limit: Int) async throws -> [User] {
        try await query(Self.usersPage, [after.map { "\($0)" }, String(limit)]).map(Self.user(from:))
    }

    public func appendAudit(_ entry: AuditLogEntry) async throws {
        _ = try await query(Self.audit, ["\(entry.id)", "\(entry.organizationID)", "\(entry.userID)", entry.action, entry.resourceType,
                                         entry.resourceID.map { "\($0)" }, Self.json(entry.changes), entry.ipAddress, entry.userAgent,
                                         Self.epoch(entry.createdAt)])
    }

    /// Loads the relational part of a dataset with one COPY per table.
    public func load(_ dataset: Dataset) async throws {
        let schema = self.schema
        try await StoreCallTrace.measure(.relational, "load") {
            try await session { s in
                let c = CopyText()
                try s.copy("organizations", columns: ["id", "name", "subdomain", "plan", "active", "settings", "created_at", "updated_at"],
                           lines: dataset.organizations.map { c.line("\($0.id)", $0.name, $0.subdomain, $0.plan, c.bool($0.active),
                                                                     Self.json($0.settings), c.time($0.createdAt), c.time($0.updatedAt)) })
                try s.copy("users", columns: ["id", "email", "encrypted_password", "name", "role", "active", "provider", "uid", "avatar_url",
                                              "department", "position", "created_at", "updated_at"],
                           lines: dataset.users.map { c.line("\($0.id)", $0.email, $0.encryptedPassword, $0.name, $0.role, c.bool($0.active),
                                                             $0.provider, $0.uid, $0.avatarURL, $0.department, $0.position,
                                                             c.time($0.createdAt), c.time($0.updatedAt)) })
                try s.copy("organization_memberships", columns: ["id", "user_id", "organization_id", "role", "active", "joined_at"],
                           lines: dataset.memberships.map { c.line("\($0.id)", "\($0.userID)", "\($0.organizationID)", $0.role,
                                                                   c.bool($0.active), c.time($0.joinedAt)) })
                try s.copy("roles", columns: ["id", "organization_id", "name", "key", "description", "system_role", "active", "created_at"],
                           lines: dataset.roles.map { c.line("\($0.id)", "\($0.organizationID)", $0.name, $0.key, $0.description,
                                                             c.bool($0.systemRole), c.bool($0.active), c.time($0.createdAt)) })
                try s.copy("permissions", columns: ["id", "name", "resource", "action", "created_at"],
                           lines: dataset.permissions.map { c.line("\($0.id)", $0.name, $0.resource, $0.action, c.time($0.createdAt)) })
                try s.copy("role_permissions", columns: ["id", "role_id", "permission_id", "granted"],
                           lines: dataset.rolePermissions.map { c.line("\($0.id)", "\($0.roleID)", "\($0.permissionID)", c.bool($0.granted)) })
                try s.copy("permission_audit_logs", columns: ["id", "organization_id", "user_id", "action", "resource_type", "resource_id",
                                                              "changes", "ip_address", "user_agent", "created_at"],
                           lines: dataset.auditLogs.map { c.line("\($0.id)", "\($0.organizationID)", "\($0.userID)", $0.action,
                                                                 $0.resourceType, $0.resourceID.map { "\($0)" }, Self.json($0.changes),
                                                                 $0.ipAddress, $0.userAgent, c.time($0.createdAt)) })
                for table in PostgresSchema.tables { try s.execute("ANALYZE \(schema).\(table)") }
            }
        }
    }

    // MARK: - Values

    static func epoch(_ date: Date) -> String { String(date.timeIntervalSince1970) }

    static func json(_ map: [String: String]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: map, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func user(from row: [String?]) -> User {
        func date(_ i: Int) -> Date { Date(timeIntervalSince1970: row[i].flatMap(Double.init) ?? 0) }
        return User(id: row[0].flatMap(UUIDValue.init) ?? UUIDValue(high: 0, low: 0), email: row[1] ?? "", encryptedPassword: row[2] ?? "",
                    name: row[3] ?? "", role: row[4] ?? "", active: row[5] == "t", provider: row[6], uid: row[7], avatarURL: row[8],
                    department: row[9], position: row[10], createdAt: date(11), updatedAt: date(12))
    }
}

/// COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
struct CopyText {
    private let formatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()

    func line(_ values: String?...) -> String {
        values.map { value in
            guard let value else { return "\\N" }
            return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        }.joined(separator: "\t")
    }

    func time(_ date: Date) -> String { formatter.string(from: date) }
    func bool(_ value: Bool) -> String { value ? "t" : "f" }
}
