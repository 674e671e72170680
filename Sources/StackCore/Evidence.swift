import Synchronization

/// How a store reached the data of one kind of call.
public enum AccessPath: String, Sendable, Codable, Equatable {
    /// Entries of an index, in its order.
    case indexScan = "index_scan"
    /// Postings of a text index.
    case textIndex = "text_index"
    /// One key or primary-key lookup per item asked for.
    case keyLookup = "key_lookup"
    /// Every document or row of a collection or table.
    case collectionScan = "collection_scan"
    /// A write that finds its target by key.
    case keyedWrite = "keyed_write"
}

/// How a server planned one execution of a kind of call, with parameters drawn from the run
/// (PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS)`): where it read, what it examined and returned.
public struct PlanEvidence: Sendable, Codable, Equatable {
    public var path: AccessPath
    public var on: String
    /// Rows the scans produced or filtered out, and rows the statement returned.
    public var examined: Int
    public var returned: Int
    /// Shared buffers found in memory, and read in.
    public var buffersHit: Int
    public var buffersRead: Int
    /// The plan's nodes, outermost first (`Nested Loop`, `Index Scan using … on …`).
    public var nodes: [String]

    public init(path: AccessPath, on: String, examined: Int, returned: Int, buffersHit: Int, buffersRead: Int, nodes: [String]) {
        self.path = path; self.on = on; self.examined = examined; self.returned = returned
        self.buffersHit = buffersHit; self.buffersRead = buffersRead; self.nodes = nodes
    }
}

/// What a store did for one kind of call (a query shape): its access path and, summed over the
/// calls, what it touched and how long it worked.
public struct ShapeEvidence: Sendable, Codable, Equatable {
    /// nil until a plan says (a live server's statement statistics do not).
    public var path: AccessPath?
    /// The index, collection or table the path is on (`org_status_created`, `tasks`).
    public var on: String?
    /// One execution planned by the server, when it can plan.
    public var plan: PlanEvidence?
    public var calls: Int
    /// Index entries, documents or rows looked at, and those returned; nil when the store does
    /// not say (Redis's command statistics count calls and time only).
    public var examined: Int?
    public var returned: Int?
    /// Time the store's engine spent on these calls (nil when the store does not say), and the
    /// time the calls took as their caller saw it (round trips, waits and injected latency included).
    public var serverNanos: Int64?
    public var clientNanos: Int64
    /// Of `clientNanos`, the client's own work on the reply after it arrived (a live MongoDB
    /// reply turned into the model's values on the client thread); nil when not measured apart.
    public var decodeNanos: Int64?
    /// A call that waits by design (a blocking pop): its callers' time is not work to account for.
    public var blocking = false

    public init(path: AccessPath?, on: String?, calls: Int = 0, examined: Int? = 0, returned: Int? = 0, serverNanos: Int64? = 0,
                clientNanos: Int64 = 0, decodeNanos: Int64? = nil) {
        self.path = path; self.on = on; self.calls = calls; self.examined = examined; self.returned = returned
        self.serverNanos = serverNanos; self.clientNanos = clientNanos; self.decodeNanos = decodeNanos
    }

    /// Counts one more call that examined and returned so many entries.
    mutating func add(examined: Int, returned: Int, serverNanos: Int64, clientNanos: Int64) {
        calls += 1
        self.examined = (self.examined ?? 0) + examined
        self.returned = (self.returned ?? 0) + returned
        self.serverNanos = (self.serverNanos ?? 0) + serverNanos
        self.clientNanos += clientNanos
    }
}

/// A store's own account of its work: per query shape (by store-call name), and its counters
/// (commands, hits, misses, expired keys, …). Cumulative since the store started; `delta` turns
/// two snapshots into what happened between them.
public struct StoreEvidence: Sendable, Codable, Equatable {
    public var store: StoreKind
    /// Where it comes from: `embedded engine`, or the server facility asked.
    public var source: String
    public var shapes: [String: ShapeEvidence]
    /// Counters that only grow (calls per command, keyspace hits and misses, expired keys).
    public var counters: [String: Double]
    /// Values of the moment, not summed (memory in use, a sample's bytes per key).
    public var gauges: [String: Double] = [:]
    /// What this store could not tell, in plain words (never a made-up value instead).
    public var missing: [String]

    public init(store: StoreKind, source: String, shapes: [String: ShapeEvidence] = [:], counters: [String: Double] = [:],
                missing: [String] = []) {
        self.store = store; self.source = source; self.shapes = shapes; self.counters = counters; self.missing = missing
    }

    /// The source an embedded store's evidence names: its own engine, not a server.
    public static let embeddedSource = "embedded engine"

    /// Evidence that could not be had at all, with the reason.
    public static func unavailable(_ store: StoreKind, _ why: String) -> StoreEvidence {
        StoreEvidence(store: store, source: "none", missing: [why])
    }

    /// What happened between `earlier` and this snapshot.
    public func delta(since earlier: StoreEvidence) -> StoreEvidence {
        var result = self
        for (name, shape) in shapes {
            guard let before = earlier.shapes[name] else { continue }
            result.shapes[name]!.calls -= before.calls
            result.shapes[name]!.examined = shape.examined.map { $0 - (before.examined ?? 0) }
            result.shapes[name]!.returned = shape.returned.map { $0 - (before.returned ?? 0) }
            result.shapes[name]!.serverNanos = shape.serverNanos.map { $0 - (before.serverNanos ?? 0) }
            result.shapes[name]!.clientNanos -= before.clientNanos
            result.shapes[name]!.decodeNanos = shape.decodeNanos.map { $0 - (before.decodeNanos ?? 0) }
            if shape.calls == before.calls { result.shapes[name] = nil }
        }
        for (name, value) in counters { result.counters[name] = value - (earlier.counters[name] ?? 0) }
        return result
    }
}

/// A store whose work can be accounted for.
public protocol EvidenceSource: Sendable {
    /// The store's cumulative evidence now.
    func evidence() async throws -> StoreEvidence
    /// Once, after the load: each kind of call the store can plan, planned with parameters the
    /// run used, by call name.
    func plans() async throws -> [String: PlanEvidence]
    /// Sampled once a second during the load: what the store's sessions are waiting on now, as
    /// counts by wait (`Lock:transactionid`); nil when the store cannot say.
    func waits() async throws -> [String: Double]?
}

extension EvidenceSource {
    public func plans() async throws -> [String: PlanEvidence] { [:] }
    public func waits() async throws -> [String: Double]? { nil }
}

extension StoreEvidence {
    /// The plans put to their shapes; a shape without an access path takes the plan's.
    public mutating func attach(_ plans: [String: PlanEvidence]) {
        for (call, plan) in plans where shapes[call] != nil {
            shapes[call]!.plan = plan
            if shapes[call]!.path == nil {
                shapes[call]!.path = plan.path
                shapes[call]!.on = plan.on
            }
        }
    }
}

extension StackStores {
    /// The three stores in `StoreKind` order, each with its evidence source when it has one.
    public var evidenceSources: [(kind: StoreKind, source: (any EvidenceSource)?)] {
        [(.relational, relational as? any EvidenceSource), (.document, documents as? any EvidenceSource),
         (.cache, cache as? any EvidenceSource)]
    }
}

/// A live adapter's own count of what it sent, by name (a statement, a command): how many, their
/// time as the caller saw it, and what the first one carried (its parameters, its command), to
/// set beside the server's statistics and to plan after the run.
public final class IssuedCalls<First: Sendable>: Sendable {
    public struct Entry: Sendable {
        public var calls = 0
        public var nanos: Int64 = 0
        /// Of `nanos`, the time spent on the replies after they arrived.
        public var decodeNanos: Int64 = 0
        public let first: First

        mutating func add(_ took: Duration, decoding: Duration) {
            calls += 1
            nanos += took.nanoseconds
            decodeNanos += decoding.nanoseconds
        }
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// Counts one call named `name` that took `took`, `decoding` of it spent on the reply after
    /// it arrived; `first` is kept from the first one only.
    public func record(_ name: String, first: @autoclosure () -> First, took: Duration, decoding: Duration = .zero) {
        // One hash lookup per call: the default subscript's in-place access.
        entries.withLock { $0[name, default: Entry(first: first())].add(took, decoding: decoding) }
    }

    public var snapshot: [String: Entry] { entries.withLock { $0 } }
}

/// Collects an embedded engine's evidence as its calls run.
public final class EngineEvidence: Sendable {
    private let store: StoreKind
    private let state = Mutex(StoreEvidence(store: .relational, source: ""))

    public init(store: StoreKind) {
        self.store = store
        state.withLock { $0 = StoreEvidence(store: store, source: StoreEvidence.embeddedSource) }
    }

    /// Counts one call of shape `call`, served by `path` on `on`, that examined and returned so
    /// many entries in `serverNanos` of engine time and `clientNanos` as its caller saw it.
    public func record(_ call: String, _ path: AccessPath, on: String, examined: Int, returned: Int, serverNanos: Int64,
                       clientNanos: Int64) {
        state.withLock { e in
            e.shapes[call, default: ShapeEvidence(path: path, on: on)].add(examined: examined, returned: returned,
                                                                           serverNanos: serverNanos, clientNanos: clientNanos)
        }
    }

    /// Adds to a counter (a command's calls, cache hits, expired keys).
    public func count(_ counter: String, _ amount: Double = 1) {
        state.withLock { $0.counters[counter, default: 0] += amount }
    }

    public var snapshot: StoreEvidence { state.withLock { $0 } }
}
