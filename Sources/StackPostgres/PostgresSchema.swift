import Foundation

/// The relational schema of DESIGN.md §1, with the seed's corrections: indexes as separate
/// statements, an `active` column (and the profile columns snapshots read) on `users`, the audit
/// log partitioned by month.
enum PostgresSchema {
    static let tables = ["permission_audit_logs", "role_permissions", "permissions", "roles", "organization_memberships", "users",
                         "organizations"]
    static let markerTable = "stacksim_marker"

    /// The marker: one row saying stacksim made this schema's tables, whether the schema too, and
    /// whether it installed `pg_trgm` there (`owns_trigram`, set once it has).
    static func createMarker(schema: String, ownsSchema: Bool) -> String {
        """
        CREATE TABLE \(schema).\(markerTable) AS
        SELECT 'stacksim'::text AS created_by, \(ownsSchema)::boolean AS owns_schema, false AS owns_trigram, now() AS created_at,
               ''::text AS text
        """
    }

    /// A SQL string literal.
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    /// The tables and indexes, created in `schema` (unqualified names resolve there through the
    /// connection's `search_path`); the trigram operator class from wherever `pg_trgm` lives.
    static func create(schema: String, trigramSchema: String, now: Date) -> [String] {
        [
            // Set again here: a search_path naming a schema that did not exist yet skipped it.
            "SET search_path TO \(schema), public",
            """
            CREATE TABLE organizations (
                id uuid PRIMARY KEY, name text NOT NULL, subdomain text NOT NULL, plan text NOT NULL,
                active boolean NOT NULL DEFAULT true, settings jsonb NOT NULL DEFAULT '{}',
                created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)
            """,
            "CREATE UNIQUE INDEX organizations_subdomain ON organizations (subdomain)",
            "CREATE INDEX organizations_settings ON organizations USING gin (settings)",
            """
            CREATE TABLE users (
                id uuid PRIMARY KEY, email text NOT NULL, encrypted_password text NOT NULL, name text NOT NULL,
                role text NOT NULL DEFAULT 'user', active boolean NOT NULL DEFAULT true, provider text, uid text,
                avatar_url text, department text, position text,
                created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)
            """,
            "CREATE UNIQUE INDEX users_email ON users (email)",
            "CREATE UNIQUE INDEX users_provider_uid ON users (provider, uid)",
            "CREATE INDEX users_active_admins ON users (id) WHERE role = 'admin' AND active = true",
            "CREATE INDEX users_name_trgm ON users USING gin (name \(trigramSchema).gin_trgm_ops)",
            """
            CREATE TABLE organization_memberships (
                id uuid PRIMARY KEY, user_id uuid NOT NULL REFERENCES users, organization_id uuid NOT NULL REFERENCES organizations,
                role text NOT NULL, active boolean NOT NULL DEFAULT true, joined_at timestamptz NOT NULL)
            """,
            "CREATE UNIQUE INDEX memberships_user_organization ON organization_memberships (user_id, organization_id)",
            "CREATE INDEX memberships_organization_active ON organization_memberships (organization_id, active)",
            """
            CREATE TABLE roles (
                id uuid PRIMARY KEY, organization_id uuid NOT NULL REFERENCES organizations, name text NOT NULL, key text NOT NULL,
                description text NOT NULL, system_role boolean NOT NULL, active boolean NOT NULL, created_at timestamptz NOT NULL)
            """,
            "CREATE UNIQUE INDEX roles_organization_key ON roles (organization_id, key)",
            """
            CREATE TABLE permissions (
                id uuid PRIMARY KEY, name text NOT NULL, resource text NOT NULL, action text NOT NULL, created_at timestamptz NOT NULL)
            """,
            "CREATE UNIQUE INDEX permissions_resource_action ON permissions (resource, action)",
            """
            CREATE TABLE role_permissions (
                id uuid PRIMARY KEY, role_id uuid NOT NULL REFERENCES roles, permission_id uuid NOT NULL REFERENCES permissions,
                granted boolean NOT NULL)
            """,
            "CREATE UNIQUE INDEX role_permissions_role_permission ON role_permissions (role_id, permission_id)",
            """
            CREATE TABLE permission_audit_logs (
                id uuid NOT NULL, organization_id uuid NOT NULL, user_id uuid NOT NULL, action text NOT NULL,
                resource_type text NOT NULL, resource_id uuid, changes jsonb NOT NULL DEFAULT '{}', ip_address inet,
                user_agent text, created_at timestamptz NOT NULL, PRIMARY KEY (id, created_at)
            ) PARTITION BY RANGE (created_at)
            """,
            "CREATE INDEX audit_organization_created ON permission_audit_logs (organization_id, created_at DESC)",
            "CREATE TABLE permission_audit_logs_default PARTITION OF permission_audit_logs DEFAULT",
        ] + monthlyPartitions(around: now)
    }

    /// A partition per month from a year before `now` to two months after; anything else lands
    /// in the default partition.
    static func monthlyPartitions(around now: Date) -> [String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let thisMonth = calendar.date(from: calendar.dateComponents([.year, .month], from: now))!
        return (-12...2).map { offset in
            let start = calendar.date(byAdding: .month, value: offset, to: thisMonth)!
            let end = calendar.date(byAdding: .month, value: 1, to: start)!
            let c = calendar.dateComponents([.year, .month], from: start)
            let name = String(format: "permission_audit_logs_%04d_%02d", c.year!, c.month!)
            return "CREATE TABLE \(name) PARTITION OF permission_audit_logs FOR VALUES FROM ('\(day(start))') TO ('\(day(end))')"
        }
    }

    static func day(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: date)
    }

    /// Only stacksim's own tables, qualified; no CASCADE, so nothing of anyone else's that
    /// depends on them goes with them (the drop fails instead).
    static func drop(schema: String) -> String {
        "DROP TABLE IF EXISTS " + (tables + [markerTable]).map { "\(schema).\($0)" }.joined(separator: ", ")
    }

    static func truncate(schema: String) -> String { "TRUNCATE " + tables.map { "\(schema).\($0)" }.joined(separator: ", ") }
}
