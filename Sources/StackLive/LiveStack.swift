import Foundation
import StackCore
import StackIO
import StackModel
import StackMongo
import StackPostgres
import StackRedis

/// Where the live servers are: flags, else `STACKSIM_POSTGRES_URL`, `STACKSIM_MONGO_URL`,
/// `STACKSIM_REDIS_URL`, else the ports `make services-up` uses.
public struct LiveURLs: Sendable {
    public var postgres: String
    public var mongo: String
    public var redis: String

    public init(postgres: String? = nil, mongo: String? = nil, redis: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.postgres = postgres ?? environment["STACKSIM_POSTGRES_URL"] ?? "postgresql://stacksim:stacksim@127.0.0.1:55432/stacksim"
        self.mongo = mongo ?? environment["STACKSIM_MONGO_URL"] ?? "mongodb://127.0.0.1:57017/stacksim"
        self.redis = redis ?? environment["STACKSIM_REDIS_URL"] ?? "redis://127.0.0.1:56379"
    }

    /// A URL with its password replaced by `***`, for messages and reports.
    public static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? "(a URL)"
    }
}

/// A live server's identity, for reports.
public struct LiveServer: Sendable {
    public var store: StoreKind
    public var url: String
    public var version: String
    public var note: String?
}

/// The three live stores behind the ports, chosen through this factory so nothing above the
/// adapters knows a C type.
public final class LiveStack: Sendable {
    public let urls: LiveURLs
    public let postgres: PostgresStore
    public let mongo: MongoStore
    public let redis: RedisStore

    public init(urls: LiveURLs, pool: PoolSettings) throws {
        self.urls = urls
        postgres = PostgresStore(url: urls.postgres, pool: pool)
        mongo = try MongoStore(url: urls.mongo, pool: pool)
        redis = try RedisStore(url: urls.redis, pool: pool)
    }

    public var stores: StackStores { StackStores(relational: postgres, documents: mongo, cache: redis) }

    /// `SELECT 1`, `ping` and `PING`; each failure names the store, its URL (password redacted) and why.
    public func healthProblems() async -> [String] {
        var problems: [String] = []
        let checks: [(StoreKind, String, @Sendable () async throws -> Void)] = [
            (.relational, urls.postgres, { try await self.postgres.ping() }),
            (.document, urls.mongo, { try await self.mongo.ping() }),
            (.cache, urls.redis, { try await self.redis.ping() }),
        ]
        for (store, url, ping) in checks {
            do {
                try await ping()
            } catch {
                let why = (error as? StoreError)?.detail ?? "\(error)"
                problems.append("\(store.rawValue) at \(LiveURLs.redacted(url)) is unreachable: \(Self.redactingPasswords(why))")
            }
        }
        return problems
    }

    /// Versions of the three servers, and whether MongoDB is the wire-protocol test server.
    public func servers() async throws -> [LiveServer] {
        let mongoInfo = try await mongo.serverInfo()
        return [
            LiveServer(store: .relational, url: LiveURLs.redacted(urls.postgres), version: try await postgres.version(), note: nil),
            LiveServer(store: .document, url: LiveURLs.redacted(urls.mongo), version: mongoInfo.version,
                       note: mongoInfo.testServer ? "the MongoDB wire-protocol test server (mockupdb + mongomock): it proves the libmongoc "
                           + "path, but its latencies do not describe MongoDB" : nil),
            LiveServer(store: .cache, url: LiveURLs.redacted(urls.redis), version: try await redis.version(), note: nil),
        ]
    }

    /// Creates the schema: PostgreSQL tables and indexes, MongoDB collections and indexes; empties Redis.
    /// Returns notes on corrections made for the server at hand.
    @discardableResult
    public func createSchema() async throws -> [String] {
        try await postgres.createSchema()
        try await redis.reset()
        return try await mongo.createSchema()
    }

    /// Empties every store, keeping the schema.
    public func clear() async throws {
        try await postgres.reset()
        try await mongo.clear()
        try await redis.reset()
    }

    /// Drops everything stacksim created.
    public func drop() async throws {
        try await postgres.dropSchema()
        try await mongo.reset()
        try await redis.reset()
    }

    public func shutdown() {
        postgres.shutdown()
        mongo.shutdown()
        redis.shutdown()
    }

    /// Hides anything after `password=` or between `:` and `@` of a URL inside a message.
    static func redactingPasswords(_ text: String) -> String {
        text.replacingOccurrences(of: #"password=\S+"#, with: "password=***", options: .regularExpression)
            .replacingOccurrences(of: #"://([^:/@\s]+):[^@\s]+@"#, with: "://$1:***@", options: .regularExpression)
    }
}
