import StackCore
import Synchronization

/// A connection a pool can hand out.
public protocol PooledConnection: AnyObject, Sendable {
    /// True once the connection failed; the pool then drops it instead of reusing it.
    var isBroken: Bool { get }
    func close()
}

/// Pool sizes and timeouts (seed 002: at most 20 connections, 10 s to connect, 30 s idle).
public struct PoolSettings: Sendable {
    public var max = 20
    public var connectTimeout: Duration = .seconds(10)
    public var idleTimeout: Duration = .seconds(30)

    public init(max: Int = 20, connectTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(30)) {
        self.max = max
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
    }
}

/// Hands out up to `settings.max` connections, opening them on demand and closing those idle too
/// long. A caller that finds none free waits; that wait is recorded as the store's
/// `connection-wait` call, so reports show it per operation.
public final class ConnectionPool<Connection: PooledConnection>: Sendable {
    public let store: StoreKind
    public let settings: PoolSettings
    private let open: @Sendable () async throws -> Connection
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var idle: [(connection: Connection, since: ContinuousClock.Instant)] = []
        var count = 0
        var waiters: [CheckedContinuation<Next, Never>] = []
        var closed = false
    }

    private enum Next: Sendable { case use(Connection), open, closed }

    public init(store: StoreKind, settings: PoolSettings, open: @escaping @Sendable () async throws -> Connection) {
        self.store = store
        self.settings = settings
        self.open = open
    }

    /// Runs `body` with a connection of its own, returned to the pool afterwards (dropped if broken).
    public func withConnection<T>(_ body: (Connection) async throws -> T) async throws -> T {
        let connection = try await StoreCallTrace.measureConnectionWait(store) { try await acquire() }
        defer { release(connection) }
        return try await body(connection)
    }

    /// Closes every idle connection; later requests fail.
    public func shutdown() {
        let (idle, waiters) = state.withLock { s in
            s.closed = true
            defer { s.idle.removeAll(); s.waiters.removeAll() }
            return (s.idle.map(\.connection), s.waiters)
        }
        idle.forEach { $0.close() }
        waiters.forEach { $0.resume(returning: .closed) }
    }

    private func acquire() async throws -> Connection {
        var expired: [Connection] = []
        let next: Next = await withCheckedContinuation { continuation in
            let now = ContinuousClock.now
            let immediate: Next? = state.withLock { s in
                if s.closed { return .closed }
                while let first = s.idle.first, now - first.since > settings.idleTimeout {
                    expired.append(s.idle.removeFirst().connection)
                    s.count -= 1
                }
                if let free = s.idle.popLast() { return .use(free.connection) }
                if s.count < settings.max {
                    s.count += 1
                    return .open
                }
                s.waiters.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
        expired.forEach { $0.close() }
        switch next {
        case .use(let connection): return connection
        case .closed: throw StoreError(.unavailable, store: store, operation: "connect", detail: "the pool is shut down")
        case .open:
            do {
                return try await open()
            } catch {
                freeSlot()
                throw error
            }
        }
    }

    private func release(_ connection: Connection) {
        if connection.isBroken {
            connection.close()
            freeSlot()
            return
        }
        let waiter: CheckedContinuation<Next, Never>? = state.withLock { s in
            if !s.waiters.isEmpty { return s.waiters.removeFirst() }
            s.idle.append((connection, ContinuousClock.now))
            return nil
        }
        waiter?.resume(returning: .use(connection))
    }

    /// A connection slot was freed (failed to open, or broken): let a waiter open a new one.
    private func freeSlot() {
        let waiter: CheckedContinuation<Next, Never>? = state.withLock { s in
            guard !s.waiters.isEmpty else {
                s.count -= 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        waiter?.resume(returning: .open)
    }
}
