/// Pool sizes and deadlines (seed 002: at most 20 connections, 10 s to connect, 30 s idle).
public struct PoolSettings: Sendable {
    public var max: Int
    public var connectTimeout: Duration
    public var idleTimeout: Duration
    /// How long a caller may wait for a free connection before failing with `pool_timeout`.
    public var waitTimeout: Duration
    /// How long a call may wait for its answer before failing with `timeout`.
    public var callTimeout: Duration
    /// After a failed connect, calls fail fast (`unavailable`) for this long, doubling on each
    /// further failure up to `maxBackoff`, instead of queueing behind a server that is down.
    public var backoff: Duration
    public var maxBackoff: Duration

    public init(max: Int = 20, connectTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(30),
                waitTimeout: Duration = .seconds(5), callTimeout: Duration = .seconds(5),
                backoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(1)) {
        self.max = max
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.waitTimeout = waitTimeout
        self.callTimeout = callTimeout
        self.backoff = backoff
        self.maxBackoff = maxBackoff
    }
}

/// The connection pool's decisions, with no I/O and no clock of its own: every event comes in
/// with the time it happened, every decision goes out as an action for the driver to carry out.
/// Tested on its own with made-up instants (postgres-nio's `_ConnectionPoolModule` is the model).
public struct PoolStateMachine<Connection: AnyObject, Instant: InstantProtocol> where Instant.Duration == Duration, Instant: Sendable {
    public typealias WaiterID = Int

    public enum LeaseAction {
        /// Use this idle connection.
        case use(Connection)
        /// A slot is reserved: open a new connection, then report `opened` or `openFailed`.
        case open
        /// Wait; fail the waiter with `pool_timeout` if it is still waiting at `deadline`.
        case wait(deadline: Instant)
        /// Fail now: the pool is shut down, or the server was found down moments ago.
        case fail(Failure)
    }

    public enum Failure: Equatable, Sendable {
        case shutDown
        /// The last connect failed; calls fail fast until `until`.
        case serverDown(until: Instant)
        case waitTimedOut
    }

    /// What to do with a connection that came back, or with a slot that came free.
    public enum ReleaseAction {
        /// Hand it to a waiter.
        case handOver(Connection, to: WaiterID)
        /// Keep it idle.
        case keep
        /// Close it (broken, or the pool is shut down); a waiter may take the slot and open anew.
        case close(Connection, thenOpenFor: WaiterID?)
    }

    public let settings: PoolSettings
    private var idle: [(connection: Connection, since: Instant)] = []
    /// Connections open or being opened.
    private var count = 0
    private var waiters: [(id: WaiterID, deadline: Instant)] = []
    private var isShutDown = false
    private var failFast: FailFast<Instant>

    public init(settings: PoolSettings) {
        self.settings = settings
        failFast = FailFast(backoff: settings.backoff, maxBackoff: settings.maxBackoff)
    }

    public var openConnections: Int { count }
    public var idleConnections: Int { idle.count }
    public var waiting: Int { waiters.count }

    /// A caller wants a connection. `isBroken` says which idle connections died while idle; they
    /// are returned in `close` and their slots freed, as are those idle past `idleTimeout`.
    public mutating func lease(_ waiter: WaiterID, now: Instant, isBroken: (Connection) -> Bool)
        -> (action: LeaseAction, close: [Connection]) {
        let (action, close) = leaseWithoutWaiting(now: now, isBroken: isBroken)
        if let action { return (action, close) }
        let deadline = now.advanced(by: settings.waitTimeout)
        waiters.append((waiter, deadline))
        return (.wait(deadline: deadline), close)
    }

    /// `lease` for a caller not yet ready to wait: nil instead of `.wait`, and no waiter kept (the
    /// caller then asks `lease`). Most calls find a connection free and never need to wait.
    public mutating func leaseWithoutWaiting(now: Instant, isBroken: (Connection) -> Bool)
        -> (action: LeaseAction?, close: [Connection]) {
        if isShutDown { return (.fail(.shutDown), []) }
        var close: [Connection] = []
        while let first = idle.first, first.since.duration(to: now) > settings.idleTimeout {
            close.append(idle.removeFirst().connection)
            count -= 1
        }
        while let last = idle.popLast() {
            if isBroken(last.connection) {
                close.append(last.connection)
                count -= 1
                continue
            }
            return (.use(last.connection), close)
        }
        if count < settings.max {
            if let downUntil = failFast.admit(now: now) { return (.fail(.serverDown(until: downUntil)), close) }
            count += 1
            return (.open, close)
        }
        return (nil, close)
    }

    /// A connection opened: the server is up.
    public mutating func opened() { failFast.succeeded() }

    /// Opening failed. When the server is unreachable every waiter fails fast with it (they would
    /// only queue behind a dead server) and calls fail fast for a backoff; otherwise the freed
    /// slot goes to the next waiter.
    public mutating func openFailed(now: Instant, serverDown: Bool) -> (failWaiters: [WaiterID], openFor: WaiterID?) {
        guard serverDown else {
            failFast.probeAbandoned()
            return ([], freeSlot())
        }
        count -= 1
        failFast.failed(now: now)
        defer { waiters.removeAll() }
        return (waiters.map(\.id), nil)
    }

    /// A connection came back from its caller.
    public mutating func release(_ connection: Connection, broken: Bool, now: Instant) -> ReleaseAction {
        if broken || isShutDown { return .close(connection, thenOpenFor: freeSlot()) }
        if !waiters.isEmpty { return .handOver(connection, to: waiters.removeFirst().id) }
        idle.append((connection, now))
        return .keep
    }

    /// The waiter's deadline passed; true when it was still waiting (fail it with `pool_timeout`).
    public mutating func timedOut(_ waiter: WaiterID) -> Bool { removeWaiter(waiter) }

    /// The waiter's task was cancelled; true when it was still waiting (fail it with cancellation).
    public mutating func cancelled(_ waiter: WaiterID) -> Bool { removeWaiter(waiter) }

    /// Stops the pool: idle connections to close, waiters to fail. Connections in use are closed
    /// when they come back.
    public mutating func shutdown() -> (close: [Connection], failWaiters: [WaiterID]) {
        isShutDown = true
        defer { idle.removeAll(); waiters.removeAll() }
        count -= idle.count
        return (idle.map(\.connection), waiters.map(\.id))
    }

    /// A slot came free: the first waiter opens a connection in it, or the count shrinks.
    private mutating func freeSlot() -> WaiterID? {
        if !isShutDown, !waiters.isEmpty { return waiters.removeFirst().id }
        count -= 1
        return nil
    }

    private mutating func removeWaiter(_ waiter: WaiterID) -> Bool {
        guard let index = waiters.firstIndex(where: { $0.id == waiter }) else { return false }
        waiters.remove(at: index)
        return true
    }
}
