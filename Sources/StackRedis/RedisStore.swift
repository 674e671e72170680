import Foundation
import StackCore
import StackIO

/// The cache port on a Redis server, through hiredis's async API on the reactor.
public final class RedisStore: CachePort {
    private let pool: ConnectionPool<RedisConnection>
    private let password: String?

    /// `redis://[:password@]host:port`; the password is used for AUTH and never shown.
    public init(url: String, pool settings: PoolSettings) throws {
        guard let parts = URLComponents(string: url), parts.scheme == "redis", let host = parts.host else {
            throw StoreError(.unavailable, store: .cache, operation: "connect", detail: "expected a URL like redis://127.0.0.1:6379")
        }
        let port = parts.port ?? 6379
        password = parts.password ?? parts.user.flatMap { $0.isEmpty ? nil : $0 }
        let password = self.password
        pool = ConnectionPool(store: .cache, settings: settings) {
            let connection = try await RedisConnection.open(host: host, port: port, timeout: settings.connectTimeout)
            if let password { _ = try await connection.send([["AUTH", password]]) }
            return connection
        }
    }

    /// Runs commands on one pooled connection, timed as the call `name`.
    private func run(_ name: String, _ commands: [[String]]) async throws -> [RedisReply] {
        try await StoreCallTrace.measure(.cache, name) {
            try await pool.withConnection { try await $0.send(commands) }
        }
    }

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
        if case .string(let value) = try await one("get", ["GET", key]) { return value }
        return nil
    }

    public func set(_ key: String, _ value: String, ttl: Duration?) async throws {
        _ = try await one("set", Self.setCommand(key, value, ttl))
    }

    public func setMany(_ entries: [(key: String, value: String)], ttl: Duration?) async throws {
        guard !entries.isEmpty else { return }
        _ = try await run("set-many", entries.map { Self.setCommand($0.key, $0.value, ttl) })
    }

    private static func setCommand(_ key: String, _ value: String, _ ttl: Duration?) -> [String] {
        ttl.map { ["SET", key, value, "PX", milliseconds($0)] } ?? ["SET", key, value]
    }

    public func delete(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        if case .integer(let n) = try await one("del", ["DEL"] + keys) { return n }
        return 0
    }

    public func increment(_ key: String, ttl: Duration) async throws -> Int {
        let replies = try await run("incr", [["INCR", key], ["PEXPIRE", key, Self.milliseconds(ttl), "NX"]])
        guard case .integer(let value) = replies[0] else {
            throw StoreError(.protocolError, store: .cache, operation: "incr", detail: "INCR did not answer a number")
        }
        return value
    }

    public func timeToLive(_ key: String) async throws -> Duration? {
        guard case .integer(let ms) = try await one("ttl", ["PTTL", key]), ms >= 0 else { return nil }
        return .milliseconds(ms)
    }

    public func push(_ queue: String, _ value: String) async throws {
        _ = try await one("lpush", ["LPUSH", queue, value])
    }

    public func pop(_ queue: String, timeout: Duration) async throws -> String? {
        let seconds = String(format: "%.3f", max(0.001, Double(timeout / .milliseconds(1)) / 1000))
        guard case .array(let pair) = try await one("brpop", ["BRPOP", queue, seconds]), pair.count == 2,
              case .string(let value) = pair[1] else { return nil }
        return value
    }

    public func length(_ queue: String) async throws -> Int {
        if case .integer(let n) = try await one("llen", ["LLEN", queue]) { return n }
        return 0
    }

    /// Deletes every key (FLUSHDB): `db reset` and the integration tests.
    public func reset() async throws {
        _ = try await one("flushdb", ["FLUSHDB"])
    }

    public func shutdown() { pool.shutdown() }
}
