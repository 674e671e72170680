import Foundation
import Redaction
import StackCore
@testable import StackIO
import Synchronization
import Testing

/// A clock that moves only when told: sleepers wake when `advance` passes their deadline.
final class ManualClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private let state = Mutex<(now: Instant, sleepers: [(deadline: Instant, continuation: CheckedContinuation<Void, any Error>)])>(
        (Instant(offset: .zero), []))

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .nanoseconds(1) }
    var sleeping: Int { state.withLock { $0.sleepers.count } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try await withCheckedThrowingContinuation { continuation in
            let due = state.withLock { s in
                guard deadline > s.now else { return true }
                s.sleepers.append((deadline, continuation))
                return false
            }
            if due { continuation.resume() }
        }
    }

    func advance(by duration: Duration) {
        let due = state.withLock { s in
            s.now = s.now.advanced(by: duration)
            let now = s.now
            defer { s.sleepers.removeAll { $0.deadline <= now } }
            return s.sleepers.filter { $0.deadline <= now }.map(\.continuation)
        }
        due.forEach { $0.resume() }
    }
}

final class FakeConnection: PooledConnection, @unchecked Sendable {
    let id: Int
    private let flags = Mutex((broken: false, closed: false))
    init(id: Int) { self.id = id }
    var isBroken: Bool { flags.withLock { $0.broken } }
    var isClosed: Bool { flags.withLock { $0.closed } }
    func breakIt() { flags.withLock { $0.broken = true } }
    func close() { flags.withLock { $0.closed = true } }
}

/// Opens fake connections, or fails as told.
final class Opener: Sendable {
    private let state = Mutex((opened: 0, failing: false))
    var opened: Int { state.withLock { $0.opened } }
    func fail(_ on: Bool) { state.withLock { $0.failing = on } }

    func open() throws -> FakeConnection {
        try state.withLock { s in
            if s.failing { throw StoreError(.unavailable, store: .relational, operation: "connect", detail: "refused") }
            s.opened += 1
            return FakeConnection(id: s.opened)
        }
    }
}

@Suite("Connection pool, on a manual clock", .serialized)
struct ConnectionPoolTests {
    static func pool(max: Int = 1, wait: Duration = .seconds(2)) -> (ConnectionPool<FakeConnection, ManualClock>, ManualClock, Opener) {
        let clock = ManualClock(), opener = Opener()
        let settings = PoolSettings(max: max, waitTimeout: wait, backoff: .milliseconds(100), maxBackoff: .seconds(1))
        return (ConnectionPool(store: .relational, settings: settings, clock: clock) { try opener.open() }, clock, opener)
    }

    /// Waits until the clock has `count` sleepers (a waiter's deadline timer is armed).
    static func untilSleeping(_ clock: ManualClock, _ count: Int) async {
        while clock.sleeping < count { await Task.yield() }
    }

    @Test func aWaiterTimesOutWithItsOwnErrorClass() async throws {
        let (pool, clock, _) = Self.pool()
        let held = try await pool.acquire()
        let waiter = Task { try await pool.acquire() }
        await Self.untilSleeping(clock, 1)
        clock.advance(by: .milliseconds(1999))
        await Task.yield()
        clock.advance(by: .milliseconds(1))
        let error = await #expect(throws: StoreError.self) { try await waiter.value }
        #expect(error?.code == .poolTimeout)
        #expect(error?.errorClass == "postgres_pool_timeout")
        _ = held
    }

    @Test func aReleasedConnectionGoesToTheWaiterBeforeItsDeadline() async throws {
        let (pool, clock, opener) = Self.pool()
        let (gate, open) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await pool.withConnection { connection in
                for await _ in gate { break }
                return connection
            }
        }
        while opener.opened < 1 { await Task.yield() }
        let waiter = Task { try await pool.acquire() }
        await Self.untilSleeping(clock, 1)
        open.yield()
        let handed = try await waiter.value
        #expect(handed === (try await holder.value), "the released connection goes to the waiter")
        #expect(opener.opened == 1)
    }

    @Test func aCancelledWaiterLeavesTheQueue() async throws {
        let (pool, clock, _) = Self.pool()
        _ = try await pool.acquire()
        let waiter = Task { try await pool.acquire() }
        await Self.untilSleeping(clock, 1)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        clock.advance(by: .seconds(5))
    }

    @Test func aBrokenConnectionIsReplacedNotReused() async throws {
        let (pool, _, opener) = Self.pool()
        let first = try await pool.withConnection { connection in
            connection.breakIt()
            return connection
        }
        #expect(first.isClosed, "a broken connection is closed when it comes back")
        let second = try await pool.withConnection { $0 }
        #expect(second !== first)
        #expect(opener.opened == 2)
    }

    @Test func anIdleConnectionThatBrokeIsNeverHandedOut() async throws {
        let (pool, _, opener) = Self.pool(max: 2)
        let idle = try await pool.withConnection { $0 }
        idle.breakIt()
        let next = try await pool.withConnection { $0 }
        #expect(next !== idle && idle.isClosed && opener.opened == 2)
    }

    @Test func aConnectionReturnedAfterShutdownIsClosed() async throws {
        let (pool2, _, _) = Self.pool(max: 2)
        let inUse = try await pool2.acquire()
        let returned = try await pool2.withConnection { connection in
            pool2.shutdown()
            return connection
        }
        #expect(returned.isClosed, "returned after shutdown: closed, not kept")
        await #expect(throws: StoreError.self) { try await pool2.acquire() }
        _ = inUse
    }

    @Test func shutdownFailsTheWaiters() async throws {
        let (pool, clock, _) = Self.pool()
        _ = try await pool.acquire()
        let waiter = Task { try await pool.acquire() }
        await Self.untilSleeping(clock, 1)
        pool.shutdown()
        let error = await #expect(throws: StoreError.self) { try await waiter.value }
        #expect(error?.code == .unavailable)
    }

    @Test func aDownServerFailsFastUntilTheBackoffEndsThenOneProbeTries() async throws {
        let (pool, clock, opener) = Self.pool(max: 4)
        opener.fail(true)
        await #expect(throws: StoreError.self) { try await pool.acquire() }
        let fast = await #expect(throws: StoreError.self) { try await pool.acquire() }
        #expect(fast?.code == .unavailable && fast?.detail.contains("failing fast") == true, "no connect attempt inside the backoff")
        opener.fail(false)
        clock.advance(by: .milliseconds(100))
        let back = try await pool.acquire()
        #expect(back.id == 1, "after the backoff a connect is tried, and the server is back")
        _ = try await pool.acquire()
    }
}

@Suite("Pool state machine")
struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine<FakeConnection, ManualClock.Instant>
    let t0 = ManualClock.Instant(offset: .zero)

    @Test func connectionsIdlePastTheirTimeoutAreClosed() {
        var machine = Machine(settings: PoolSettings(max: 2, idleTimeout: .seconds(30)))
        guard case .open = machine.lease(1, now: t0, isBroken: { _ in false }).action else { Issue.record("expected open"); return }
        machine.opened()
        let connection = FakeConnection(id: 1)
        guard case .keep = machine.release(connection, broken: false, now: t0) else { Issue.record("expected keep"); return }
        let later = machine.lease(2, now: t0.advanced(by: .seconds(31)), isBroken: { _ in false })
        #expect(later.close.map(\.id) == [1])
        guard case .open = later.action else { Issue.record("expected a new connection"); return }
        #expect(machine.openConnections == 1)
    }

    /// The pool's fast path asks without waiting: a full pool says nil and keeps no waiter, so a
    /// connection released meanwhile is kept idle, not handed to a caller that never waited.
    @Test func leasingWithoutWaitingKeepsNoWaiter() {
        var machine = Machine(settings: PoolSettings(max: 1))
        guard case .open? = machine.leaseWithoutWaiting(now: t0, isBroken: { _ in false }).action else {
            Issue.record("expected open"); return
        }
        machine.opened()
        #expect(machine.leaseWithoutWaiting(now: t0, isBroken: { _ in false }).action == nil)
        #expect(machine.waiting == 0)
        let connection = FakeConnection(id: 1)
        guard case .keep = machine.release(connection, broken: false, now: t0) else { Issue.record("expected keep"); return }
        guard case .use(let again)? = machine.leaseWithoutWaiting(now: t0, isBroken: { _ in false }).action else {
            Issue.record("expected the idle connection"); return
        }
        #expect(again === connection)
        guard case .wait = machine.lease(2, now: t0, isBroken: { _ in false }).action else { Issue.record("expected wait"); return }
        #expect(machine.waiting == 1)
    }

    @Test func backoffDoublesUpToItsLimit() {
        var machine = Machine(settings: PoolSettings(max: 2, backoff: .milliseconds(100), maxBackoff: .milliseconds(300)))
        var now = t0
        var waits: [Duration] = []
        for _ in 0..<4 {
            _ = machine.lease(1, now: now, isBroken: { _ in false })
            _ = machine.openFailed(now: now, serverDown: true)
            guard case .fail(.serverDown(let until)) = machine.lease(2, now: now, isBroken: { _ in false }).action else {
                Issue.record("expected fail fast"); return
            }
            waits.append(now.duration(to: until))
            now = until
        }
        #expect(waits == [.milliseconds(100), .milliseconds(200), .milliseconds(300), .milliseconds(300)])
    }
}

@Suite("Redaction")
struct RedactionTests {
    @Test(arguments: [
        "postgresql://app:S3cr3t-pw@db.example:5432/app",
        "host=127.0.0.1 port=5432 user=app password=S3cr3t-pw dbname=app",
        "host=db password='S3cr3t-pw' dbname=app",
        "postgresql://app@db/app?password=S3cr3t-pw&sslmode=disable",
        "postgresql://app:S3cr3t-pw@db:notaport/app",
        "redis://:S3cr3t-pw@127.0.0.1:6379",
        "redis://S3cr3t-pw@127.0.0.1:6379",
        "redis://default:S3cr3t-pw@127.0.0.1:6379/0",
        "mongodb://app:S3cr3t-pw@127.0.0.1:27017/app?authSource=admin",
        "cannot connect to mongodb://app:S3cr3t-pw@127.0.0.1/app: refused",
        "PASSWORD = S3cr3t-pw",
        "options: pwd=S3cr3t-pw;",
        "password\u{2003}=\u{2003}S3cr3t-pw",
    ])
    func everyFormOfConnectionStringLosesItsPassword(_ text: String) {
        let redacted = Redaction.redact(text)
        #expect(!redacted.contains("S3cr3t-pw"), "\(redacted)")
        #expect(redacted.contains(Redaction.mask))
    }

    @Test func textWithoutCredentialsIsUntouched() {
        let text = "board p99 42 ms; passed 3 thresholds; user@example.com wrote"
        #expect(Redaction.redact(text) == text)
    }
}
