import Foundation
import StackCore
import StackIO

/// The cache port on a Redis server, through hiredis's async API on the reactor. Every key it
/// reads or writes carries its prefix (default `stacksim:`), so it shares a server with other
/// applications without touching their keys.
public final class RedisStore: CachePort, EvidenceSource {
    private let pool: ConnectionPool<RedisConnection, MonotonicClock>
    /// Put before every key: the keys stacksim owns.
    public let prefix: String
    private let address: RedisAddress
    /// Commands sent by name (`GET`, `SET`, …) and the time of the calls that sent them, to set
    /// beside the server's own statistics.
    private let sent = IssuedCalls<Void>()

    /// `redis://[[user]:password@]host[:port][/db]`; the password is used for AUTH and never shown.
    public init(url: String, prefix: String, pool settings: PoolSettings) throws {
        let address = try RedisAddress(url)
        guard !prefix.isEmpty else {
            throw StoreConfigurationError(store: .cache, message: "key prefix: expected a non-empty prefix such as 'stacksim:'")
        }
        self.prefix = prefix
        self.address = address
        pool = ConnectionPool(store: .cache, settings: settings) {
            let connection = try await RedisConnection.open(host: address.host, port: address.port, timeout: settings.connectTimeout,
                                                            callTimeout: settings.callTimeout)
            var setup: [[String]] = []
            if let password = address.password { setup.append(["AUTH"] + (address.user.map { [$0] } ?? []) + [password]) }
            if let database = address.database { setup.append(["SELECT", String(database)]) }
            do {
                if !setup.isEmpty { _ = try await connection.send(setup) }
            } catch {
                connection.close()
                throw error
            }
            return connection
        }
    }

    /// The keys stacksim owns on this server, in one spelling whatever the URL's
    /// (`ServerAddress`): what another stacksim on the same keys also calls them.
    public var place: String {
        "keys '\(prefix)*' in database \(address.database ?? 0) of redis \(ServerAddress.canonical(host: address.host, port: address.port))"
    }

    /// Runs commands on one pooled connection, timed as the call `name` (a span: no awaited
    /// closures on the per-call path).
    private func run(_ name: String, _ commands: [[String]], extra: Duration = .zero) async throws -> [RedisReply] {
        let call = StoreCallSpan(.cache, name)
        do {
            let connection = try await pool.lease()
            defer { pool.release(connection) }
            let replies = try await connection.send(commands, extra: extra)
            count(commands, took: call.end(failed: false))
            return replies
        } catch {
            count(commands, took: call.end(failed: true))
            throw error
        }
    }

    /// Runs commands outside any measured call (set-up, markers, clean-up).
    func unmeasured(_ commands: [[String]]) async throws -> [RedisReply] {
        let start = ContinuousClock.now
        defer { count(commands, took: ContinuousClock.now - start) }
        return try await pool.withConnection { try await $0.send(commands) }
    }

    /// Counts commands sent; the call's time goes to its first command.
    private func count(_ commands: [[String]], took: Duration) {
        for (index, command) in commands.enumerated() {
            sent.record(Self.statName(command), first: (), took: index == 0 ? took : .zero)
        }
    }

    // MARK: - Evidence

    /// The server's own statistics: calls and time per command (`INFO commandstats`), keyspace
    /// hits and misses, expired and evicted keys, memory, slow-log entries, and bytes per key
    /// family from a sample of stacksim's keys. Server-wide: other clients' commands count too.
    /// The commands this asks with are sent outside the counts.
    public func evidence() async throws -> StoreEvidence {
        let asked = [["INFO", "commandstats"], ["INFO", "stats"], ["INFO", "memory"], ["SLOWLOG", "GET", "1"]]
        let replies = try await pool.withConnection { try await $0.send(asked) }
        // Counted after the replies are read, as the server counts a command once it has run.
        defer { count(asked, took: .zero) }
        let sentNow = sent.snapshot
        var evidence = StoreEvidence(store: .cache, source: "redis INFO commandstats, stats, memory; SLOWLOG")
        for (name, fields) in Self.infoSections(replies[0]) where name.hasPrefix("cmdstat_") {
            let command = String(name.dropFirst("cmdstat_".count)).uppercased()
            let stats = Self.fields(fields)
            let calls = Int(stats["calls"] ?? 0)
            evidence.counters["server_calls.\(command)"] = Double(calls)
            evidence.counters["sent.\(command)"] = Double(sentNow[command]?.calls ?? 0)
            // Every command the server has run, so that a delta starts from its count, not from zero.
            guard !Self.evidenceCommands.contains(command) else { continue }
            var shape = ShapeEvidence(path: Self.reads.contains(command) ? .keyLookup : .keyedWrite, on: "keyspace", calls: calls,
                                      examined: nil, returned: nil, serverNanos: Int64((stats["usec"] ?? 0) * 1000),
                                      clientNanos: sentNow[command]?.nanos ?? 0)
            shape.blocking = command == "BRPOP"
            evidence.shapes[command.lowercased()] = shape
        }
        let stats = Self.numbers(replies[1])
        for counter in ["keyspace_hits", "keyspace_misses", "expired_keys", "evicted_keys", "total_commands_processed"] {
            if let value = stats[counter] { evidence.counters[counter] = value }
        }
        let memory = Self.numbers(replies[2])
        for gauge in ["used_memory", "used_memory_peak", "maxmemory"] {
            if let value = memory[gauge] { evidence.gauges[gauge] = value }
        }
        // Slow-log ids only grow: the newest id + 1 counts the entries ever raised.
        if case .array(let entries) = replies[3], case .array(let newest)? = entries.first, case .integer(let id)? = newest.first {
            evidence.counters["slowlog_entries"] = Double(id + 1)
        } else {
            evidence.counters["slowlog_entries"] = 0
        }
        for (family, bytes) in try await keyFamilyBytes() { evidence.gauges["key_bytes_mean.\(family)"] = bytes }
        return evidence
    }

    static let reads: Set<String> = ["GET", "TTL", "PTTL", "LLEN", "BRPOP", "PING", "EXISTS"]
    /// What asking for evidence sends: counted (so server and client counts stay comparable), not
    /// shown as the load's work.
    static let evidenceCommands: Set<String> = ["INFO", "SLOWLOG|GET", "MEMORY|USAGE", "SCAN"]

    /// Mean bytes per key by family (the name's first part after the prefix), from MEMORY USAGE
    /// of up to 200 of stacksim's keys.
    private func keyFamilyBytes() async throws -> [String: Double] {
        let reply = try await unmeasured([["SCAN", "0", "MATCH", Self.globEscaped(prefix) + "*", "COUNT", "200"]])[0]
        guard case .array(let parts) = reply, parts.count == 2, case .array(let found) = parts[1] else { return [:] }
        let keys = found.compactMap { if case .string(let key) = $0 { return key } else { return nil } }
        guard !keys.isEmpty else { return [:] }
        let sizes = try await unmeasured(keys.map { ["MEMORY", "USAGE", $0] })
        var totals: [String: (bytes: Int, keys: Int)] = [:]
        for (key, size) in zip(keys, sizes) {
            guard case .integer(let bytes) = size else { continue }
            let family = String(key.dropFirst(prefix.count).prefix { $0 != ":" })
            totals[family, default: (0, 0)].bytes += bytes
            totals[family]!.keys += 1
        }
        return totals.mapValues { Double($0.bytes) / Double($0.keys) }
    }

    /// A command's name as `INFO commandstats` reports it: `GET`, or `SLOWLOG|GET` for a container
    /// command with its subcommand.
    static func statName(_ command: [String]) -> String {
        // Commands are written in capitals: upper-casing them again would allocate per call.
        let name = command[0].utf8.contains(where: { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }) ? command[0].uppercased() : command[0]
        return ["SLOWLOG", "MEMORY", "CONFIG", "CLIENT", "OBJECT"].contains(name) && command.count > 1
            ? "\(name)|\(command[1].uppercased())" : name
    }

    /// `INFO` text as (field, value) lines, comments and blanks left out.
    static func infoSections(_ reply: RedisReply) -> [(String, String)] {
        guard case .string(let text) = reply else { return [] }
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]))
        }
    }

    /// The numeric fields of an `INFO` section.
    static func numbers(_ reply: RedisReply) -> [String: Double] {
        Dictionary(infoSections(reply).compactMap { name, value in Double(value).map { (name, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    /// `calls=1,usec=2,…` (a commandstats line), as numbers.
    static func fields(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Double(parts[1]) { result[String(parts[0])] = value }
        }
        return result
    }

    private func key(_ name: String) -> String { prefix + name }

    private func one(_ name: String, _ command: [String]) async throws -> RedisReply {
        try await run(name, [command])[0]
    }

    private static func milliseconds(_ duration: Duration) -> String {
        String(Int64(max(1, (duration / .milliseconds(1)).rounded(.up))))
    }

    public func ping() async throws {
        _ = try await one("ping", ["PING"])
    }

    /// `INFO server`'s redis_version.
    public func version() async throws -> String {
        guard case .string(let info) = try await one("info", ["INFO", "server"]) else { return "unknown" }
        return info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }.map { String($0.dropFirst(14)) } ?? "unknown"
    }

    public func get(_ key: String) async throws -> String? {
        if case .string(let value) = try await one("get", ["GET", self.key(key)]) { return value }
        return nil
    }

    public func set(_ key: String, _ value: String, ttl: Duration?) async throws {
        _ = try await one("set", Self.setCommand(self.key(key), value, ttl))
    }

    public func setMany(_ entries: [(key: String, value: String)], ttl: Duration?) async throws {
        guard !entries.isEmpty else { return }
        _ = try await run("set-many", entries.map { Self.setCommand(key($0.key), $0.value, ttl) })
    }

    private static func setCommand(_ key: String, _ value: String, _ ttl: Duration?) -> [String] {
        ttl.map { ["SET", key, value, "PX", milliseconds($0)] } ?? ["SET", key, value]
    }

    public func delete(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        if case .integer(let n) = try await one("del", ["DEL"] + keys.map { self.key($0) }) { return n }
        return 0
    }

    public func increment(_ key: String, ttl: Duration) async throws -> Int {
        let key = self.key(key)
        let replies = try await run("incr", [["INCR", key], ["PEXPIRE", key, Self.milliseconds(ttl), "NX"]])
        guard case .integer(let value) = replies[0] else {
            throw StoreError(.protocolError, store: .cache, operation: "incr", detail: "INCR did not answer a number")
        }
        return value
    }

    public func timeToLive(_ key: String) async throws -> Duration? {
        guard case .integer(let ms) = try await one("ttl", ["PTTL", self.key(key)]), ms >= 0 else { return nil }
        return .milliseconds(ms)
    }

    public func push(_ queue: String, _ value: String) async throws {
        _ = try await one("lpush", ["LPUSH", self.key(queue), value])
    }

    public func pop(_ queue: String, timeout: Duration) async throws -> String? {
        let seconds = String(format: "%.3f", max(0.001, Double(timeout / .milliseconds(1)) / 1000))
        // BRPOP blocks on the server for `timeout`: the call's deadline starts after it.
        guard case .array(let pair) = try await run("brpop", [["BRPOP", self.key(queue), seconds]], extra: timeout)[0], pair.count == 2,
              case .string(let value) = pair[1] else { return nil }
        return value
    }

    public func length(_ queue: String) async throws -> Int {
        if case .integer(let n) = try await one("llen", ["LLEN", self.key(queue)]) { return n }
        return 0
    }

    // MARK: - What stacksim owns

    /// Up to `limit` keys under the prefix (SCAN, never KEYS: it does not block the server).
    public func ownedKeys(limit: Int = .max) async throws -> [String] {
        var keys: [String] = [], cursor = "0"
        repeat {
            let reply = try await unmeasured([["SCAN", cursor, "MATCH", Self.globEscaped(prefix) + "*", "COUNT", "1000"]])[0]
            guard case .array(let parts) = reply, parts.count == 2, case .string(let next) = parts[0], case .array(let found) = parts[1]
            else { throw StoreError(.protocolError, store: .cache, operation: "scan", detail: "SCAN did not answer [cursor, keys]") }
            keys += found.compactMap { if case .string(let key) = $0 { return key } else { return nil } }
            cursor = next
        } while cursor != "0" && keys.count < limit
        return keys
    }

    /// Deletes every key under the prefix and nothing else; returns how many.
    @discardableResult
    public func deleteOwnedKeys() async throws -> Int {
        var deleted = 0
        let keys = try await ownedKeys()
        for start in stride(from: 0, to: keys.count, by: 1000) {
            if case .integer(let n) = try await unmeasured([["UNLINK"] + keys[start..<min(start + 1000, keys.count)]])[0] { deleted += n }
        }
        return deleted
    }

    /// The value of an owned key, outside any measured call.
    public func ownedValue(_ name: String) async throws -> String? {
        if case .string(let value) = try await unmeasured([["GET", key(name)]])[0] { return value }
        return nil
    }

    public func setOwnedValue(_ name: String, _ value: String) async throws {
        _ = try await unmeasured([["SET", key(name), value]])
    }

    /// `prefix` with SCAN's glob characters escaped, so it matches itself only.
    static func globEscaped(_ prefix: String) -> String {
        var escaped = ""
        for character in prefix {
            if "*?[]\\^".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    public func shutdown() { pool.shutdown() }
}

/// A Redis URL, checked: a malformed one is bad input, not an unreachable server.
struct RedisAddress {
    var host: String
    var port: Int
    var user: String?
    var password: String?
    var database: Int?

    init(_ url: String) throws {
        let expected = "expected a URL like redis://[:password@]127.0.0.1:6379[/0]"
        guard url.hasPrefix("redis://") else { throw StoreConfigurationError(store: .cache, message: "not a Redis URL: \(expected)") }
        guard let parts = URLComponents(string: url), let host = parts.host, !host.isEmpty else {
            throw StoreConfigurationError(store: .cache, message: "not a valid Redis URL (check the port and any special characters "
                                          + "in the password, which must be percent-encoded): \(expected)")
        }
        self.host = host
        port = parts.port ?? 6379
        // redis://secret@host: a lone userinfo is the password; redis://user:secret@host: ACL user and password.
        if let password = parts.password {
            self.password = password.removingPercentEncoding ?? password
            user = parts.user.flatMap { $0.isEmpty ? nil : $0 }
        } else {
            self.password = parts.user.flatMap { $0.isEmpty ? nil : ($0.removingPercentEncoding ?? $0) }
        }
        let path = parts.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else {
                throw StoreConfigurationError(store: .cache, message: "database '\(path)': expected a number such as /0")
            }
            self.database = database
        }
    }
}
