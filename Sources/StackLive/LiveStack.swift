import Foundation
import Redaction
import StackCore
import StackIO
import StackModel
import StackMongo
import StackPostgres
import StackRedis
import Synchronization

/// Where the live servers are, and the places in them stacksim owns: flags, else
/// `STACKSIM_POSTGRES_URL`, `STACKSIM_MONGO_URL`, `STACKSIM_REDIS_URL`, else the ports
/// `make services-up` uses.
public struct LiveURLs: Sendable {
    public var postgres: String
    public var mongo: String
    public var redis: String
    /// stacksim's PostgreSQL schema.
    public var postgresSchema: String
    /// The prefix of every Redis key stacksim reads or writes.
    public var redisPrefix: String

    public init(postgres: String? = nil, mongo: String? = nil, redis: String? = nil, postgresSchema: String? = nil,
                redisPrefix: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.postgres = postgres ?? environment["STACKSIM_POSTGRES_URL"] ?? "postgresql://stacksim:stacksim@127.0.0.1:55432/stacksim"
        self.mongo = mongo ?? environment["STACKSIM_MONGO_URL"] ?? "mongodb://127.0.0.1:57017/stacksim"
        self.redis = redis ?? environment["STACKSIM_REDIS_URL"] ?? "redis://127.0.0.1:56379"
        self.postgresSchema = postgresSchema ?? environment["STACKSIM_POSTGRES_SCHEMA"] ?? "stacksim"
        self.redisPrefix = redisPrefix ?? environment["STACKSIM_REDIS_PREFIX"] ?? "stacksim:"
    }
}

/// Whether a command changes stacksim's places or uses them (`LiveStack.lockPlaces`).
public typealias PlacesMode = PlacesLock.Mode

/// A live server's identity, for reports.
public struct LiveServer: Sendable {
    public var store: StoreKind
    public var url: String
    public var version: String
    public var note: String?
}

/// The three live stores behind the ports, chosen through this factory so nothing above the
/// adapters knows a C type. stacksim touches only its own places in them: a PostgreSQL schema,
/// a MongoDB database and a Redis key prefix, each with a marker.
public final class LiveStack: Sendable {
    public let urls: LiveURLs
    public let postgres: PostgresStore
    public let mongo: MongoStore
    public let redis: RedisStore
    private let placesLock = Mutex<PlacesLock?>(nil)

    /// Checks every address first: a malformed one throws `StoreConfigurationError` (bad input).
    public init(urls: LiveURLs, pool: PoolSettings) throws {
        self.urls = urls
        postgres = try PostgresStore(url: urls.postgres, schema: urls.postgresSchema, pool: pool)
        mongo = try MongoStore(url: urls.mongo, pool: pool)
        redis = try RedisStore(url: urls.redis, prefix: urls.redisPrefix, pool: pool)
    }

    public var stores: StackStores { StackStores(relational: postgres, documents: mongo, cache: redis, executor: Reactor.shared) }

    /// Where stacksim works in each store, for messages.
    public var places: [StoreKind: String] {
        [.relational: "schema '\(postgres.schema)' of \(Redaction.redact(urls.postgres))",
         .document: "database '\(mongo.database)' of \(Redaction.redact(urls.mongo))",
         .cache: "keys '\(redis.prefix)*' of \(Redaction.redact(urls.redis))"]
    }

    /// Takes stacksim's places for this process against other stacksims (`PlacesLock`), until
    /// `shutdown`: exclusively to change them, shared to use them. Waits at most `wait` for each,
    /// telling `waiting` who holds it when it must.
    public func lockPlaces(_ mode: PlacesMode, wait: Duration, waiting: @escaping @Sendable (String) -> Void) async throws {
        let lock = try await postgres.lockPlaces(["schema \(postgres.schema)", mongo.place, redis.place], mode,
                                                 wait: wait, waiting: waiting)
        placesLock.withLock { $0 = lock }
    }

    /// From using the places to changing them (`PlacesLock.takeExclusively`).
    public func takeThePlacesExclusively() async throws {
        try await placesLock.withLock { $0 }?.takeExclusively()
    }

    /// From changing the places to using them: other runs of the dataset may go on beside this one.
    public func shareThePlaces() async throws {
        try await placesLock.withLock { $0 }?.share()
    }

    /// Changes the dataset's markers from what they say now, not from `marker` as this process
    /// read it: runs sharing the places take turns at it (`PlacesLock.whileHoldingTheMarkers`), so
    /// none loses another's count. Writes to the stores that hold `marker`'s dataset; where none
    /// does yet (a run about to load it), changes `marker` alone. Returns the marker changed.
    public func updateMarkers(_ marker: DatasetMarker, _ change: @escaping @Sendable (inout DatasetMarker) -> Void) async throws -> DatasetMarker {
        let update: @Sendable () async throws -> DatasetMarker = { [self] in
            var current = marker
            var holders = Set<StoreKind>()
            for (store, holding) in try await holdings() {
                guard case .stacksim(let found) = holding, found.dataset == marker.dataset, found.layout == marker.layout else { continue }
                holders.insert(store)
                current.runs = max(current.runs, found.runs)
                current.writes = max(current.writes, found.writes)
            }
            change(&current)
            try await writeMarkers(current, to: holders)
            return current
        }
        guard let lock = placesLock.withLock({ $0 }) else { return try await update() }
        return try await lock.whileHoldingTheMarkers(update)
    }

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
                let why = (error as? StoreError).map { "\($0.code.rawValue): \($0.detail)" } ?? "\(error)"
                problems.append(Redaction.redact("\(store.rawValue) at \(url) is unreachable: \(why)"))
            }
        }
        return problems
    }

    /// Versions of the three servers, and whether MongoDB is the wire-protocol test server.
    public func servers() async throws -> [LiveServer] {
        let mongoInfo = try await mongo.serverInfo()
        return [
            LiveServer(store: .relational, url: Redaction.redact(urls.postgres), version: try await postgres.version(), note: nil),
            LiveServer(store: .document, url: Redaction.redact(urls.mongo), version: mongoInfo.version,
                       note: mongoInfo.testServer ? "the MongoDB wire-protocol test server (mockupdb + mongomock): it proves the libmongoc "
                           + "path, but its latencies do not describe MongoDB" : nil),
            LiveServer(store: .cache, url: Redaction.redact(urls.redis), version: try await redis.version(), note: nil),
        ]
    }

    // MARK: - What stacksim owns

    /// What each store holds where stacksim would work.
    public func holdings() async throws -> [StoreKind: StoreHolding] {
        let pg = try await postgres.inspect()
        let mongoFound = try await mongo.inspect()
        let redisMarker = try await redis.ownedValue("marker")
        let keys = redisMarker == nil ? try await redis.ownedKeys(limit: 5) : []
        return [.relational: Self.holding(pg.marker, pg.tables.isEmpty ? nil : "\(pg.tables.count) table(s) (\(Self.some(pg.tables)))"),
                .document: Self.holding(mongoFound.marker, mongoFound.collections.isEmpty ? nil
                                            : "\(mongoFound.collections.count) collection(s) (\(Self.some(mongoFound.collections)))"),
                .cache: Self.holding(redisMarker, keys.isEmpty ? nil : "key(s) such as \(Self.some(keys))")]
    }

    /// A place with a marker is stacksim's; without one it is empty or holds `found`.
    private static func holding(_ marker: String?, _ found: String?) -> StoreHolding {
        if let marker { return DatasetMarker.parse(marker).map { .stacksim($0) } ?? .foreign("a marker stacksim cannot read") }
        return found.map { .foreign($0) } ?? .empty
    }

    private static func some(_ names: [String]) -> String { names.prefix(5).joined(separator: ", ") }

    /// Creates stacksim's objects in `stores` with `marker`, first deleting whatever stacksim had
    /// made there (`holdings` says what: a place created without data, an older load). Places
    /// holding anything else must have been refused before. Returns what was deleted, and notes
    /// on corrections made for the server at hand.
    @discardableResult
    /// Clears stacksim's places in `stores` and creates them anew, marked as not loaded yet
    /// (`writeMarkers` once the dataset is in).
    public func recreate(_ stores: Set<StoreKind>, marker: DatasetMarker,
                         holdings: [StoreKind: StoreHolding]) async throws -> (deleted: [String], notes: [String]) {
        let deleted = try await dropOwned(holdings.filter { stores.contains($0.key) })
        return (deleted, try await create(stores, marker: marker.unloaded))
    }

    private func create(_ stores: Set<StoreKind>, marker: DatasetMarker) async throws -> [String] {
        var notes: [String] = []
        if stores.contains(.relational) { try await postgres.createSchema(marker: marker.text) }
        if stores.contains(.document) { notes += try await mongo.createSchema(marker: marker.text) }
        if stores.contains(.cache) { try await redis.setOwnedValue("marker", marker.text) }
        return notes
    }

    /// Writes `marker` into `stores` (every store by default).
    public func writeMarkers(_ marker: DatasetMarker, to stores: Set<StoreKind> = Set(StoreKind.allCases)) async throws {
        if stores.contains(.relational) { try await postgres.writeMarker(marker.text) }
        if stores.contains(.document) { try await mongo.writeMarker(marker.text) }
        if stores.contains(.cache) { try await redis.setOwnedValue("marker", marker.text) }
    }

    /// Deletes what stacksim made in the stores whose marker says so; returns what it deleted,
    /// per store. Foreign or empty places are not touched.
    public func dropOwned(_ holdings: [StoreKind: StoreHolding]) async throws -> [String] {
        var done: [String] = []
        let places = self.places
        for store in StoreKind.allCases {
            guard case .stacksim = holdings[store] else { continue }
            var deleted = "deleted stacksim's \(places[store]!)"
            switch store {
            case .relational: if let note = try await postgres.dropOwned() { deleted += "; \(note)" }
            case .document: try await mongo.dropOwned()
            case .cache: try await redis.deleteOwnedKeys()
            }
            done.append(deleted)
        }
        return done
    }

    /// Empties the stack's tables, collections and keys, keeping schema and markers (tests).
    public func clear() async throws {
        try await postgres.clear()
        try await mongo.clear()
        let marker = try await redis.ownedValue("marker")
        try await redis.deleteOwnedKeys()
        if let marker { try await redis.setOwnedValue("marker", marker) }
    }

    public func shutdown() {
        placesLock.withLock { $0?.release() }
        postgres.shutdown()
        mongo.shutdown()
        redis.shutdown()
    }
}
