import Foundation
import Synchronization
import StackModel

/// Redis in miniature: string values with TTLs (expired lazily on access and actively once a
/// second, as Redis does), INCR counters, and lists with LPUSH / BRPOP that wake a blocked popper.
public final class EmbeddedCacheStore: CachePort, EvidenceSource {
    private let state = Mutex(Keyspace())
    private let behaviour: StoreBehaviour
    private let time: any TimeSource

    public init(behaviour: StoreBehaviour, time: any TimeSource) {
        self.behaviour = behaviour
        self.time = time
    }

    struct Entry {
        var value: String
        var expiresAt: Date?

        func isLive(at now: Date) -> Bool { expiresAt.map { $0 > now } ?? true }
    }

    struct ListQueue {
        var items: [String] = []
        var head = 0
        var count: Int { items.count - head }

        mutating func popOldest() -> String? {
            guard head < items.count else { return nil }
            defer {
                head += 1
                if head > 1024 && head * 2 > items.count { items.removeFirst(head); head = 0 }
            }
            return items[head]
        }
    }

    struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<String?, Never>
    }

    struct Keyspace {
        var values: [CacheKey: Entry] = [:]
        var lists: [CacheKey: ListQueue] = [:]
        var waiters: [CacheKey: [Waiter]] = [:]
        var nextWaiterID: UInt64 = 0
        var lastSweep = Date.distantPast

        /// The live entry for `key`, deleting it first if it has expired.
        mutating func live(_ key: CacheKey, now: Date) -> Entry? {
            sweepIfDue(now: now)
            guard let entry = values[key] else { return nil }
            guard entry.isLive(at: now) else {
                values[key] = nil
                return nil
            }
            return entry
        }

        mutating func sweepIfDue(now: Date) {
            guard now.timeIntervalSince(lastSweep) >= 1 else { return }
            lastSweep = now
            values = values.filter { $0.value.isLive(at: now) }
        }

        mutating func removeWaiter(_ id: UInt64, queue: CacheKey) -> CheckedContinuation<String?, Never>? {
            guard let index = waiters[queue]?.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters[queue]!.remove(at: index).continuation
        }
    }

    private static func expiry(_ ttl: Duration?, from now: Date) -> Date? {
        ttl.map { now.addingTimeInterval($0.seconds) }
    }

    public func ping() async throws {
        try await behaviour.serve("ping") {}
    }

    public func evidence() async throws -> StoreEvidence { behaviour.evidence.snapshot }

    /// A GET, counted as Redis counts it: a keyspace hit or miss.
    public func get(_ key: String) async throws -> String? {
        let value = try await behaviour.query("get", .keyLookup, on: "keyspace", returned: { $0 == nil ? 0 : 1 }) { examined in
            examined += 1
            let key = CacheKey(key)
            return state.withLock { $0.live(key, now: time.now())?.value }
        }
        behaviour.evidence.count(value == nil ? "keyspace_misses" : "keyspace_hits")
        return value
    }

    public func set(_ key: String, _ value: String, ttl: Duration?) async throws {
        try await behaviour.serve("set") {
            let now = time.now(), key = CacheKey(key)
            state.withLock { $0.values[key] = Entry(value: value, expiresAt: Self.expiry(ttl, from: now)) }
        }
    }

    public func setMany(_ entries: [(key: String, value: String)], ttl: Duration?) async throws {
        try await behaviour.serve("set-many") {
            let expiresAt = Self.expiry(ttl, from: time.now())
            state.withLock { s in
                for (key, value) in entries { s.values[CacheKey(key)] = Entry(value: value, expiresAt: expiresAt) }
            }
        }
    }

    public func delete(_ keys: [String]) async throws -> Int {
        try await behaviour.serve("del") {
            let now = time.now()
            return state.withLock { s in
                s.sweepIfDue(now: now)
                // One lookup per key and kind: a task write deletes every member's dashboard.
                return keys.count { text in
                    let key = CacheKey(text)
                    let value = s.values.removeValue(forKey: key), list = s.lists.removeValue(forKey: key)
                    return list != nil || value?.isLive(at: now) == true
                }
            }
        }
    }

    public func increment(_ key: String, ttl: Duration) async throws -> Int {
        try await behaviour.serve("incr") {
            let now = time.now(), key = CacheKey(key)
            return try state.withLock { s in
                guard let entry = s.live(key, now: now) else {
                    s.values[key] = Entry(value: "1", expiresAt: Self.expiry(ttl, from: now))
                    return 1
                }
                guard let value = Int(entry.value) else {
                    throw StoreError(.protocolError, store: .cache, operation: "incr", detail: "value is not an integer")
                }
                s.values[key]!.value = String(value + 1)
                return value + 1
            }
        }
    }

    public func timeToLive(_ key: String) async throws -> Duration? {
        try await behaviour.serve("ttl") {
            let now = time.now(), key = CacheKey(key)
            return state.withLock { s in
                s.live(key, now: now)?.expiresAt.map { .milliseconds(Int64($0.timeIntervalSince(now) * 1000)) }
            }
        }
    }

    public func push(_ queue: String, _ value: String) async throws {
        try await behaviour.serve("lpush") {
            let key = CacheKey(queue)
            let waiter = state.withLock { s -> CheckedContinuation<String?, Never>? in
                if var waiting = s.waiters[key], !waiting.isEmpty {
                    let first = waiting.removeFirst()
                    s.waiters[key] = waiting
                    return first.continuation
                }
                s.lists[key, default: ListQueue()].items.append(value)
                return nil
            }
            waiter?.resume(returning: value)
        }
    }

    public func pop(_ queue: String, timeout: Duration) async throws -> String? {
        let key = CacheKey(queue)
        let ready = try await behaviour.serve("brpop") { state.withLock { $0.lists[key]?.popOldest() } }
        if let ready { return ready }
        let id = state.withLock { s -> UInt64 in s.nextWaiterID += 1; return s.nextWaiterID }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                let immediate = state.withLock { s -> String?? in
                    if let value = s.lists[key]?.popOldest() { return .some(value) }
                    s.waiters[key, default: []].append(Waiter(id: id, continuation: continuation))
                    return .none
                }
                if case .some(let value) = immediate {
                    continuation.resume(returning: value)
                    return
                }
                Task(executorPreference: behaviour.load.executor) { [self] in
                    try? await behaviour.load.sleep(for: timeout)
                    state.withLock { $0.removeWaiter(id, queue: key) }?.resume(returning: nil)
                }
            }
        } onCancel: {
            state.withLock { $0.removeWaiter(id, queue: key) }?.resume(returning: nil)
        }
    }

    public func length(_ queue: String) async throws -> Int {
        try await behaviour.serve("llen") { state.withLock { $0.lists[CacheKey(queue)]?.count ?? 0 } }
    }
}

/// A key of the embedded cache with its `TableHash`, worked out once from its bytes: a task
/// write deletes every member's dashboard key, and SipHashing each key twice (values, lists) was
/// most of that DEL's CPU.
struct CacheKey: Hashable {
    let text: String
    private let hash: UInt64

    init(_ text: String) {
        self.text = text
        hash = TableHash.bytes(of: text)
    }

    static func == (a: CacheKey, b: CacheKey) -> Bool { a.hash == b.hash && a.text == b.text }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    func _rawHashValue(seed: Int) -> Int { TableHash.forTable(hash, seed: seed) }
}

/// Builds the whole embedded stack.
public enum EmbeddedStack {
    /// `load`: when the run's load began, for knobs timed from it (an outage), and what times the
    /// stores' waits. `host`: the machine's cores, when the stores share them (co-located servers).
    public static func make(knobs: [StoreKind: StoreKnobs] = [:], seed: UInt64 = 0,
                            time: any TimeSource = WallTime(), load: LoadClock = LoadClock(), host: SharedCores? = nil) -> StackStores {
        func behaviour(_ kind: StoreKind, _ salt: UInt64) -> StoreBehaviour {
            StoreBehaviour(store: kind, knobs: knobs[kind] ?? .none, seed: seed &+ salt, load: load, host: host)
        }
        return StackStores(
            relational: EmbeddedRelationalStore(behaviour: behaviour(.relational, 1)),
            documents: EmbeddedDocumentStore(behaviour: behaviour(.document, 2), time: time),
            cache: EmbeddedCacheStore(behaviour: behaviour(.cache, 3), time: time))
    }
}
