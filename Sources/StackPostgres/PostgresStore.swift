import Foundation
import StackCore
import StackIO
import StackModel
import Synchronization

/// The relational port on PostgreSQL: prepared statements on nonblocking libpq connections
/// driven by the reactor, a pool per the scenario; schema and bulk loads (COPY) on a blocking
/// session in a thread of its own. Everything lives in stacksim's own schema (default
/// `stacksim`), first on every connection's `search_path`.
public final class PostgresStore: RelationalPort, EvidenceSource {
    private let conninfo: PostgresConninfo
    private let settings: PoolSettings
    private let pool: ConnectionPool<PostgresConnection, MonotonicClock>
    /// Statements executed by name, with the parameters of the first, for the plans after the run.
    private let issued = IssuedCalls<[String?]>()
    /// The server's query identifier of each statement, by name (asked once).
    private let queryIDs = Mutex<[String: String]?>(nil)

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

    /// Times a statement as one call (a span: no awaited closures on the per-call path).
    func query(_ statement: Statement, _ parameters: [String?] = []) async throws -> Rows {
        let call = StoreCallSpan(.relational, statement.name)
        do {
            let connection = try await pool.lease()
            defer { pool.release(connection) }
            let rows = try await connection.query(statement, parameters)
            issued.record(statement.name, first: parameters, took: call.end(failed: false))
            return rows
        } catch {
            issued.record(statement.name, first: parameters, took: call.end(failed: true))
            throw error
        }
    }

    private func session<T: Sendable>(_ work: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let conninfo = conninfo, timeout = settings.connectTimeout
        return try await BlockingThread.run("stacksim-pgwork") { try work(try PostgresSession(conninfo, timeout: timeout)) }
    }

    // MARK: - What stacksim owns

    /// Takes the lock on `places` for this process (`PlacesLock`), on a session of its own.
    public func lockPlaces(_ places: [String], _ mode: PlacesLock.Mode, wait: Duration,
                           waiting: @escaping @Sendable (String) -> Void) async throws -> PlacesLock {
        try await PlacesLock.take(places, mode, conninfo: conninfo, connectTimeout: settings.connectTimeout, wait: wait, waiting: waiting)
    }

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
            var trgm = try Self.trigramSchema(s)
            if trgm == nil {
                do {
                    try s.execute("CREATE EXTENSION pg_trgm SCHEMA \(schema)")
                    try s.execute("UPDATE \(schema).\(PostgresSchema.markerTable) SET owns_trigram = true")
                } catch let error as StoreError where error.code == .uniqueViolation || error.serverCode == "42710" {
                    // Another client installed it meanwhile (two stacksim schemas created at once).
                    trgm = try Self.trigramSchema(s)
                    if trgm == nil { throw error }
                }
            }
            for statement in PostgresSchema.create(schema: schema, trigramSchema: trgm ?? schema, now: now) { try s.execute(statement) }
        }
    }

    /// Where the `pg_trgm` stacksim installed in `schema` goes when that schema does: into another
    /// of stacksim's schemas (one with a marker) whose objects use it — when everything outside
    /// `schema` that uses it is in such schemas. nil when nothing outside uses it (it is dropped)
    /// or something not stacksim's does (dropping it is refused, with the server's list).
    private static func trigramHeir(_ s: PostgresSession, leaving schema: String) throws -> String? {
        let heir = try s.execute("""
            WITH extension AS (SELECT oid FROM pg_extension WHERE extname = 'pg_trgm'),
            members AS (SELECT m.classid, m.objid FROM pg_depend m, extension e
                        WHERE m.refclassid = 'pg_extension'::regclass AND m.refobjid = e.oid AND m.deptype = 'e'),
            users AS (SELECT DISTINCT (pg_identify_object(d.classid, d.objid, d.objsubid)).schema AS name FROM pg_depend d, extension e
                      WHERE d.deptype IN ('n', 'a')
                        AND ((d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid)
                             OR (d.refclassid, d.refobjid) IN (SELECT classid, objid FROM members))
                        AND (d.classid, d.objid) NOT IN (SELECT classid, objid FROM members)
                        -- An operator class's own operators and functions are not users of it.
                        AND d.classid NOT IN ('pg_amop'::regclass, 'pg_amproc'::regclass))
            SELECT CASE WHEN bool_and(EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                              WHERE n.nspname = u.name AND c.relname = \(PostgresSchema.literal(PostgresSchema.markerTable))))
                        THEN min(u.name) END
            FROM users u WHERE u.name IS DISTINCT FROM \(PostgresSchema.literal(schema))
            """).first
        return heir?.isEmpty == false ? heir : nil
    }

    /// The schema `pg_trgm` is installed in, if it is.
    private static func trigramSchema(_ s: PostgresSession) throws -> String? {
        try s.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'").first
    }

    /// Replaces the marker's text.
    public func writeMarker(_ text: String) async throws {
        let schema = self.schema
        try await session { _ = try $0.execute("UPDATE \(schema).\(PostgresSchema.markerTable) SET text = \(PostgresSchema.literal(text))") }
    }

    /// Drops what the marker says stacksim made: its tables and the marker, the `pg_trgm` it
    /// installed in the schema (handed to another stacksim schema that uses it, `trigramHeir`), and
    /// the schema when it created it. In one transaction and without CASCADE, so that nothing
    /// stacksim did not make goes with them: an object of someone else's that depends on them (a
    /// view over a table, an index using the trigram operators) or sits in a schema stacksim
    /// created stops the drop, and nothing changes (`PlacesRefusal`). In a schema it did not
    /// create, a `pg_trgm` it installed that others' objects have come to use stays, said in the
    /// returned note.
    public func dropOwned() async throws -> String? {
        let schema = self.schema
        return try await session { s in
            func marker(_ field: String) throws -> Bool {
                try s.execute("SELECT \(field) FROM \(schema).\(PostgresSchema.markerTable) m").first == "t"
            }
            let ownsSchema = try marker("owns_schema")
            // A pg_trgm in a schema stacksim created is its own (as on markers from before `owns_trigram`).
            let ownsTrigram = try ownsSchema || marker("coalesce((to_jsonb(m) ->> 'owns_trigram')::boolean, false)")
            let trigram = try ownsTrigram && Self.trigramSchema(s) == schema
            try s.execute("BEGIN")
            do {
                var note: String?
                try s.execute(PostgresSchema.drop(schema: schema))
                if trigram {
                    if let heir = try Self.trigramHeir(s, leaving: schema) {
                        try s.execute("ALTER EXTENSION pg_trgm SET SCHEMA \(heir)")
                    } else if ownsSchema {
                        try s.execute("DROP EXTENSION pg_trgm")
                    } else {
                        try s.execute("SAVEPOINT trigram")
                        do {
                            try s.execute("DROP EXTENSION pg_trgm")
                        } catch let error as StoreError where error.serverCode == "2BP01" {
                            try s.execute("ROLLBACK TO SAVEPOINT trigram")
                            note = "kept the pg_trgm it installed in schema '\(schema)', which others' objects use: "
                                + Self.serverLines(error).joined(separator: "; ")
                        }
                    }
                }
                if ownsSchema { try s.execute("DROP SCHEMA \(schema)") }
                try s.execute("COMMIT")
                return note
            } catch let error as StoreError where error.serverCode == "2BP01" {
                // A failed rollback (a lost connection) ends the transaction too; the refusal is the news.
                _ = try? s.execute("ROLLBACK")
                throw PlacesRefusal("postgres: nothing deleted in schema '\(schema)': objects stacksim did not create depend "
                                    + "on what it made there or sit in that schema (\(Self.serverLines(error).joined(separator: "; "))). "
                                    + "Drop or move them, then run db reset again")
            } catch {
                _ = try? s.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// A server error's lines without its hint: for a failed drop it says to use CASCADE, which
    /// would delete the other objects too.
    private static func serverLines(_ error: StoreError) -> [String] {
        error.detail.split(separator: "\n").filter { !$0.hasPrefix("HINT:") }
            .map { $0.replacingOccurrences(of: "ERROR:  ", with: "").replacingOccurrences(of: "DETAIL:  ", with: "") }
    }

    /// Empties every table, keeping the schema and the marker (the integration tests).
    public func clear() async throws {
        let schema = self.schema
        try await session { _ = try $0.execute(PostgresSchema.truncate(schema: schema)) }
    }

    public func version() async throws -> String {
        try await session { try $0.execute("SHOW server_version").first ?? "unknown" }
    }

    // MARK: - Evidence

    /// Every statement the port prepares.
    static let statements = [ping, user, updateProfile, members, permission, organizationIDs, usersPage, audit]

    /// Per statement stacksim prepares: calls, execution time, rows and buffers from
    /// `pg_stat_statements` (said missing when the server lacks it), beside stacksim's own count
    /// and time (`sent.<call>`); scans per table and per index of stacksim's schema from the
    /// statistics views; connections in use and allowed.
    public func evidence() async throws -> StoreEvidence {
        let schema = self.schema
        let mine = issued.snapshot
        let known = queryIDs.withLock { $0 }
        let (evidence, ids) = try await session { s in
            var e = StoreEvidence(store: .relational, source: "pg_stat_statements, pg_stat_user_tables, pg_stat_user_indexes")
            let ids = try known ?? Self.queryIdentifiers(s)
            let statements = try Self.statementStatistics(s)
            if case .failure(let why) = statements {
                e.source = "pg_stat_user_tables, pg_stat_user_indexes"
                e.missing.append(why.message)
            }
            for statement in Self.statements {
                e.counters["sent.\(statement.name)"] = Double(mine[statement.name]?.calls ?? 0)
                guard case .success(let byID) = statements, let id = ids[statement.name], let row = byID[id] else { continue }
                e.counters["server_calls.\(statement.name)"] = row.calls
                e.counters["buffers_hit.\(statement.name)"] = row.hit
                e.counters["buffers_read.\(statement.name)"] = row.read
                e.shapes[statement.name] = ShapeEvidence(path: nil, on: nil, calls: Int(row.calls), examined: nil, returned: Int(row.rows),
                                                         serverNanos: Int64(row.milliseconds * 1e6), clientNanos: mine[statement.name]?.nanos ?? 0)
            }
            let tables = try Self.json(s, "SELECT relname AS name, seq_scan, coalesce(idx_scan, 0) AS idx_scan, seq_tup_read, "
                                       + "coalesce(idx_tup_fetch, 0) AS idx_tup_fetch FROM pg_stat_user_tables WHERE schemaname = '\(schema)'")
            for table in tables {
                for field in ["seq_scan", "idx_scan", "seq_tup_read", "idx_tup_fetch"] {
                    e.counters["table.\(table["name"] as? String ?? "?").\(field)"] = (table[field] as? NSNumber)?.doubleValue ?? 0
                }
            }
            for index in try Self.json(s, "SELECT relname AS table, indexrelname AS name, idx_scan FROM pg_stat_user_indexes "
                                       + "WHERE schemaname = '\(schema)'") {
                let key = "index.\(index["table"] as? String ?? "?").\(index["name"] as? String ?? "?").idx_scan"
                e.counters[key] = (index["idx_scan"] as? NSNumber)?.doubleValue ?? 0
            }
            e.gauges["connections"] = Double(try s.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()").first ?? "") ?? 0
            e.gauges["max_connections"] = Double(try s.execute("SHOW max_connections").first ?? "") ?? 0
            return (e, ids)
        }
        queryIDs.withLock { $0 = ids }
        return evidence
    }

    struct StatementRow { var calls: Double; var milliseconds: Double; var rows: Double; var hit: Double; var read: Double }
    struct Missing: Error { var message: String }

    /// The server's query identifier of each statement — what `pg_stat_statements` keys its
    /// rows by (their text has constants replaced, so text does not match): the statement
    /// prepared and explained, not run.
    static func queryIdentifiers(_ s: PostgresSession) throws -> [String: String] {
        var ids: [String: String] = [:]
        for statement in statements {
            try s.execute("PREPARE stacksim_id AS \(statement.sql)")
            defer { _ = try? s.execute("DEALLOCATE stacksim_id") }
            let parameters = statement.sql.matches(of: try Regex(#"\$([0-9]+)"#)).compactMap { Int($0.output[1].substring ?? "") }.max() ?? 0
            let arguments = parameters == 0 ? "" : "(" + Array(repeating: "NULL", count: parameters).joined(separator: ", ") + ")"
            let text = try s.execute("EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE stacksim_id\(arguments)").joined()
            if let top = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])?.first,
               let id = top["Query Identifier"] as? NSNumber {
                ids[statement.name] = id.stringValue
            }
        }
        return ids
    }

    /// `pg_stat_statements` of this database by query identifier, or why it cannot be had.
    static func statementStatistics(_ s: PostgresSession) throws -> Result<[String: StatementRow], Missing> {
        guard let home = try s.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                                       + "WHERE e.extname = 'pg_stat_statements'").first else {
            return .failure(Missing(message: "pg_stat_statements is not installed in this database: no per-statement calls, time or rows "
                                    + "(CREATE EXTENSION pg_stat_statements, with it in shared_preload_libraries); table and index scan "
                                    + "counts stand in"))
        }
        let rows: [[String: Any]]
        do {
            rows = try json(s, "SELECT queryid::text AS id, calls, total_exec_time, rows, shared_blks_hit, shared_blks_read "
                            + "FROM \(home).pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())")
        } catch {
            return .failure(Missing(message: "pg_stat_statements is installed but cannot be read (is it in shared_preload_libraries?): \(error)"))
        }
        var byID: [String: StatementRow] = [:]
        for row in rows {
            guard let id = row["id"] as? String else { continue }
            func number(_ key: String) -> Double { (row[key] as? NSNumber)?.doubleValue ?? 0 }
            var total = byID[id] ?? StatementRow(calls: 0, milliseconds: 0, rows: 0, hit: 0, read: 0)
            total.calls += number("calls"); total.milliseconds += number("total_exec_time"); total.rows += number("rows")
            total.hit += number("shared_blks_hit"); total.read += number("shared_blks_read")
            byID[id] = total
        }
        return .success(byID)
    }

    /// Rows of a query as JSON objects (the session reads one text column).
    static func json(_ s: PostgresSession, _ sql: String) throws -> [[String: Any]] {
        let text = try s.execute("SELECT coalesce(json_agg(t), '[]')::text FROM (\(sql)) t").first ?? "[]"
        return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]) ?? []
    }

    /// Each statement stacksim ran, planned once with the first parameters it ran with:
    /// `EXPLAIN (ANALYZE, BUFFERS)` inside a transaction that is rolled back, so a write changes
    /// nothing.
    /// The sessions of this database waiting now, by wait event (`pg_stat_activity`).
    public func waits() async throws -> [String: Double]? {
        try await session { s in
            var waits: [String: Double] = [:]
            for row in try Self.json(s, "SELECT wait_event_type || ':' || wait_event AS wait, count(*) AS sessions FROM pg_stat_activity "
                                     + "WHERE datname = current_database() AND state = 'active' AND wait_event IS NOT NULL "
                                     + "AND pid <> pg_backend_pid() GROUP BY 1") {
                waits[row["wait"] as? String ?? "?"] = (row["sessions"] as? NSNumber)?.doubleValue ?? 0
            }
            return waits
        }
    }

    /// A statement that cannot be run again as it was (an insert of the same key) has no plan.
    public func plans() async throws -> [String: PlanEvidence] {
        let samples = issued.snapshot.mapValues(\.first)
        return try await session { s in
            var plans: [String: PlanEvidence] = [:]
            for statement in Self.statements where statement.name != "ping" {
                guard let parameters = samples[statement.name] else { continue }
                let arguments = parameters.map { $0.map(PostgresSchema.literal) ?? "NULL" }.joined(separator: ", ")
                try s.execute("PREPARE stacksim_plan AS \(statement.sql)")
                defer { _ = try? s.execute("DEALLOCATE stacksim_plan") }
                try s.execute("BEGIN")
                defer { _ = try? s.execute("ROLLBACK") }
                guard let text = try? s.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE stacksim_plan"
                                                + (arguments.isEmpty ? "" : "(\(arguments))")).joined() else { continue }
                if let plan = PostgresPlan.read(text) { plans[statement.name] = plan }
            }
            return plans
        }
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
        try await query(Self.user, [id.description]).first.map(Self.user(from:))
    }

    public func updateProfile(userID: UUIDValue, change: ProfileChange, at: Date) async throws -> User? {
        try await query(Self.updateProfile, [userID.description, change.name, change.avatarURL, change.department, change.position,
                                             Self.epoch(at)]).first.map(Self.user(from:))
    }

    public func memberIDs(organizationID: UUIDValue, activeOnly: Bool) async throws -> [UUIDValue] {
        try await query(Self.members, [organizationID.description, String(activeOnly)]).compactMap { $0[0].flatMap(UUIDValue.init) }
    }

    public func hasPermission(userID: UUIDValue, organizationID: UUIDValue, resource: String, action: String) async throws -> Bool {
        try await query(Self.permission, [userID.description, organizationID.description, resource, action]).first?[0] == "t"
    }

    public func organizationIDs() async throws -> Set<UUIDValue> {
        Set(try await query(Self.organizationIDs).compactMap { $0[0].flatMap(UUIDValue.init) })
    }

    public func users(after: UUIDValue?, limit: Int) async throws -> [User] {
        try await query(Self.usersPage, [after?.description, String(limit)]).map(Self.user(from:))
    }

    public func appendAudit(_ entry: AuditLogEntry) async throws {
        _ = try await query(Self.audit, [entry.id.description, entry.organizationID.description, entry.userID.description, entry.action, entry.resourceType,
                                         entry.resourceID?.description, Self.json(entry.changes), entry.ipAddress, entry.userAgent,
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

/// COPY's text format: tab-separated, `\N` for NULL, backslash escapes. Written byte by byte:
/// Foundation's string replacing and date formatting were ~250 µs of client CPU per row.
struct CopyText {
    func line(_ values: String?...) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(values.reduce(0) { $0 + ($1?.utf8.count ?? 2) + 1 })
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "\t")) }
            guard let value else {
                out += [UInt8(ascii: "\\"), UInt8(ascii: "N")]
                continue
            }
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                default: out.append(byte)
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`, to the microsecond PostgreSQL keeps.
    func time(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1e6).rounded())
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = seconds - days * 86_400
        let (year, month, day) = Self.civil(days: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(inDay / 3600, 2)):\(pad(inDay / 60 % 60, 2)):\(pad(inDay % 60, 2))"
            + ".\(pad(fraction, 6))+00"
    }

    /// The proleptic Gregorian date of a day number (0 = 1970-01-01), after Howard Hinnant's
    /// `civil_from_days`.
    static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    func bool(_ value: Bool) -> String { value ? "t" : "f" }
}
