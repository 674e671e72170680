import StackCore
import Synchronization

/// A connection a pool can hand out.
public protocol PooledConnection: AnyObject, Sendable {
    /// True once the connection failed; the pool then drops it instead of reusing it.
    var isBroken: Bool { get }
    func close()
}

/// Hands out up to `settings.max` healthy connections, opening them on demand, closing those
/// idle too long or broken. A caller that finds none free waits at most `waitTimeout`
/// (`pool_timeout`); after a failed connect, callers fail fast (`unavailable`) for a backoff
/// instead of queueing behind a dead server. The decisions are `PoolStateMachine`'s; this is its
/// driver, with the clock as a parameter so tests run it on a manual one.
public final class ConnectionPool<Connection: PooledConnection, PoolClock: Clock>: Sendable
where PoolClock.Duration == Duration, PoolClock: Sendable {
    public let store: StoreKind
    public let settings: PoolSettings
    private let clock: PoolClock
    private let open: @Sendable () async throws -> Connection
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var machine: PoolStateMachine<Connection, PoolClock.Instant>
        var waiters: [Int: CheckedContinuation<Connection?, any Error>] = [:]
        var nextWaiter = 0
    }

    public init(store: StoreKind, settings: PoolSettings, clock: PoolClock,
                open: @escaping @Sendable () async throws -> Connection) {
        self.store = store
        self.settings = settings
        self.clock = clock
        self.open = open
        state = Mutex(State(machine: PoolStateMachine(settings: settings)))
    }

    /// Runs `body` with a connection of its own, returned to the pool afterwards (closed if broken).
    public func withConnection<T>(_ body: (Connection) async throws -> T) async throws -> T {
        let connection = try await lease()
        defer { release(connection) }
        return try await body(connection)
    }

    /// A connection of the caller's own, to give back with `release`; the wait for it is recorded
    /// as the store's connection wait. `withConnection` without a closure, for the per-call path.
    public func lease() async throws -> Connection {
        let wait = StoreCallSpan(store, StoreCallTrace.connectionWait, waitsInside: false)
        do {
            let connection = try await acquire()
            wait.end(failed: false)
            return connection
        } catch {
            wait.end(failed: true)
            throw error
        }
    }

    /// Closes every idle connection and fails every waiter; connections in use close when returned.
    public func shutdown() {
        let (close, failed) = state.withLock { s in
            let (close, ids) = s.machine.shutdown()
            return (close, ids.compactMap { s.waiters.removeValue(forKey: $0) })
        }
        close.forEach { $0.close() }
        failed.forEach { $0.resume(throwing: failure(.shutDown)) }
    }

    func acquire() async throws -> Connection {
        // Most calls find a connection free: no continuation, no cancellation handler.
        let now = clock.now
        let (immediate, closeNow) = state.withLock { $0.machine.leaseWithoutWaiting(now: now) { $0.isBroken } }
        closeNow.forEach { $0.close() }
        switch immediate {
        case .use(let connection): return connection
        case .open: return try await openConnection()
        case .fail(let reason): throw failure(reason)
        case .wait, nil: return try await acquireWaiting()
        }
    }

    private func acquireWaiting() async throws -> Connection {
        let id = state.withLock { s in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        let connection: Connection? = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let now = clock.now
                let (action, close) = state.withLock { s in
                    let decision = s.machine.lease(id, now: now) { $0.isBroken }
                    if case .wait = decision.action { s.waiters[id] = continuation }
                    return decision
                }
                close.forEach { $0.close() }
                switch action {
                case .use(let connection): continuation.resume(returning: connection)
                case .open: continuation.resume(returning: nil)
                case .fail(let reason): continuation.resume(throwing: failure(reason))
                case .wait(let deadline): expire(id, at: deadline)
                }
            }
        } onCancel: {
            let waiter = state.withLock { s in s.machine.cancelled(id) ? s.waiters.removeValue(forKey: id) : nil }
            waiter?.resume(throwing: CancellationError())
        }
        if let connection { return connection }
        return try await openConnection()
    }

    /// Opens a connection in a slot the state machine reserved.
    private func openConnection() async throws -> Connection {
        do {
            let connection = try await open()
            state.withLock { $0.machine.opened() }
            return connection
        } catch {
            let serverDown = (error as? StoreError).map { [.unavailable, .timeout, .connectionLost].contains($0.code) } ?? false
            let now = clock.now
            let (failed, next) = state.withLock { s in
                let (ids, next) = s.machine.openFailed(now: now, serverDown: serverDown)
                return (ids.compactMap { s.waiters.removeValue(forKey: $0) }, next.flatMap { s.waiters.removeValue(forKey: $0) })
            }
            failed.forEach { $0.resume(throwing: error) }
            next?.resume(returning: nil)
            throw error
        }
    }

    /// Gives back a leased connection: to a waiter, to the idle ones, or closed if broken.
    public func release(_ connection: Connection) {
        let now = clock.now
        let (action, waiter) = state.withLock { s in
            let action = s.machine.release(connection, broken: connection.isBroken, now: now)
            switch action {
            case .handOver(_, let id): return (action, s.waiters.removeValue(forKey: id))
            case .close(_, let id?): return (action, s.waiters.removeValue(forKey: id))
            default: return (action, nil)
            }
        }
        switch action {
        case .handOver(let connection, _): waiter?.resume(returning: connection)
        case .close(let connection, _):
            connection.close()
            waiter?.resume(returning: nil)
        case .keep: break
        }
    }

    /// Fails the waiter with `pool_timeout` if it is still waiting at `deadline`.
    private func expire(_ id: Int, at deadline: PoolClock.Instant) {
        Task { [clock] in
            try? await clock.sleep(until: deadline, tolerance: nil)
            let waiter = state.withLock { s in s.machine.timedOut(id) ? s.waiters.removeValue(forKey: id) : nil }
            waiter?.resume(throwing: failure(.waitTimedOut))
        }
    }

    private func failure(_ reason: PoolStateMachine<Connection, PoolClock.Instant>.Failure) -> StoreError {
        switch reason {
        case .shutDown:
            return StoreError(.unavailable, store: store, operation: "connect", detail: "the pool is shut down")
        case .serverDown:
            return StoreError(.unavailable, store: store, operation: "connect",
                              detail: "the server did not answer the last connect; failing fast until the next try")
        case .waitTimedOut:
            return StoreError(.poolTimeout, store: store, operation: "connect",
                              detail: "no connection came free within \(settings.waitTimeout)")
        }
    }
}

extension ConnectionPool where PoolClock == MonotonicClock {
    public convenience init(store: StoreKind, settings: PoolSettings, open: @escaping @Sendable () async throws -> Connection) {
        self.init(store: store, settings: settings, clock: MonotonicClock(), open: open)
    }
}
