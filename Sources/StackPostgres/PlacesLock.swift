import Foundation
import StackCore
import StackIO
import Synchronization

/// A lock on stacksim's places across processes, so that two stacksims never create, load or
/// delete the same places at once, nor one reload or delete them under another's run: held
/// exclusively while a command changes them, shared while a run uses them (runs of one dataset go
/// side by side). PostgreSQL advisory locks, one per place, on a session of its own: the server
/// lets go of them when the session ends, whatever happens to the process.
public final class PlacesLock: Sendable {
    public enum Mode: Sendable {
        case exclusive, shared

        fileprivate var lock: String { self == .exclusive ? "pg_advisory_lock" : "pg_advisory_lock_shared" }
        fileprivate var tryLock: String { self == .exclusive ? "pg_try_advisory_lock" : "pg_try_advisory_lock_shared" }
        fileprivate var unlock: String { self == .exclusive ? "pg_advisory_unlock" : "pg_advisory_unlock_shared" }
    }

    /// The session, used by one blocking call at a time (the lock's steps follow each other).
    private final class Session: @unchecked Sendable {
        let connection: PostgresSession
        init(_ connection: PostgresSession) { self.connection = connection }
    }

    private struct State {
        var session: Session?
        var mode: Mode
    }

    private let state: Mutex<State>
    /// In one order for every process, so that two never wait for each other.
    private let places: [String]
    private let wait: Duration
    private let waiting: @Sendable (String) -> Void

    private init(_ session: Session, places: [String], mode: Mode, wait: Duration, waiting: @escaping @Sendable (String) -> Void) {
        state = Mutex(State(session: session, mode: mode))
        self.places = places
        self.wait = wait
        self.waiting = waiting
    }

    /// Takes every place's lock in `mode`, waiting at most `wait` for each, and telling `waiting`
    /// who holds one when it has to wait; past the wait it throws `PlacesRefusal`.
    static func take(_ places: [String], _ mode: Mode, conninfo: PostgresConninfo, connectTimeout: Duration, wait: Duration,
                     waiting: @escaping @Sendable (String) -> Void) async throws -> PlacesLock {
        let places = places.sorted()
        let session = try await BlockingThread.run("stacksim-pglock") {
            let connection = try PostgresSession(conninfo, timeout: connectTimeout)
            try connection.execute("SET application_name = 'stacksim (pid \(getpid()))'")
            try connection.execute("SET lock_timeout = '\(Int((wait / .milliseconds(1)).rounded(.up)))ms'")
            try acquire(places, mode, on: connection, wait: wait, waiting: waiting)
            return Session(connection)
        }
        return PlacesLock(session, places: places, mode: mode, wait: wait, waiting: waiting)
    }

    /// To change places it holds shared: lets go of them, then waits for them alone (so never
    /// holding while waiting: two processes doing this cannot deadlock). What others did to the
    /// places meanwhile is for the caller to look at again.
    public func takeExclusively() async throws {
        try await change(to: .exclusive) { [places, wait, waiting] connection in
            try Self.release(places, .shared, on: connection)
            try Self.acquire(places, .exclusive, on: connection, wait: wait, waiting: waiting)
        }
    }

    /// From exclusive to shared: other runs may use the places too; no command may change them.
    public func share() async throws {
        try await change(to: .shared) { [places] connection in
            // Shared first: there is no moment without a lock.
            for place in places { try connection.execute("SELECT \(Mode.shared.lock)(\(Self.key(place)))") }
            try Self.release(places, .exclusive, on: connection)
        }
    }

    /// Runs `body` holding the places' markers alone: a short exclusive lock of its own beside the
    /// places' lock, so runs sharing the places change their markers (the run count that salts a
    /// run's ids, the writes) one at a time, each from what the last one wrote.
    public func whileHoldingTheMarkers<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        guard let held = state.withLock({ $0.session }) else { return try await body() }
        let keys = places.map { "markers of " + $0 }
        try await BlockingThread.run("stacksim-pglock") { [wait] in
            for (taken, key) in keys.enumerated() {
                do {
                    try held.connection.execute("SELECT \(Mode.exclusive.lock)(\(Self.key(key)))")
                } catch let error as StoreError where error.serverCode == "55P03" {
                    try Self.release(keys.prefix(taken), .exclusive, on: held.connection)
                    throw PlacesRefusal("places: another stacksim kept \(key) for more than \(Self.seconds(wait)); nothing was changed")
                }
            }
        }
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        try await BlockingThread.run("stacksim-pglock") { try Self.release(keys, .exclusive, on: held.connection) }
        return try result.get()
    }

    /// Lets go of every lock: the session ends.
    public func release() {
        state.withLock { $0.session = nil }
    }

    private func change(to mode: Mode, _ steps: @escaping @Sendable (PostgresSession) throws -> Void) async throws {
        let held = state.withLock { state -> Session? in
            guard state.mode != mode else { return nil }
            state.mode = mode
            return state.session
        }
        guard let held else { return }
        try await BlockingThread.run("stacksim-pglock") { try steps(held.connection) }
    }

    private static func acquire(_ places: [String], _ mode: Mode, on connection: PostgresSession, wait: Duration,
                                waiting: @Sendable (String) -> Void) throws {
        let seconds = seconds(wait)
        for place in places {
            if try connection.execute("SELECT \(mode.tryLock)(\(key(place)))").first == "t" { continue }
            let holders = try connection.execute("""
                SELECT coalesce(nullif(a.application_name, ''), 'a client') || ' at backend ' || l.pid FROM pg_locks l
                JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid()
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND ((l.classid::bigint << 32) | l.objid::bigint) = \(key(place))
                """)
            let who = holders.isEmpty ? "another stacksim" : holders.joined(separator: ", ")
            waiting("places: \(who) is using \(place); waiting up to \(seconds) for it")
            do {
                try connection.execute("SELECT \(mode.lock)(\(key(place)))")
            } catch let error as StoreError where error.serverCode == "55P03" {
                throw PlacesRefusal("places: \(who) kept \(place) for more than \(seconds); nothing was touched. Try again when it "
                                    + "is done, or give this command places of its own (--postgres-schema, the database in "
                                    + "--mongo-url, --redis-prefix)")
            }
        }
    }

    private static func release(_ places: some Sequence<String>, _ mode: Mode, on connection: PostgresSession) throws {
        for place in places { try connection.execute("SELECT \(mode.unlock)(\(key(place)))") }
    }

    /// A wait as messages give it: whole seconds, rounded up.
    private static func seconds(_ wait: Duration) -> String { "\(Int((wait / .seconds(1)).rounded(.up))) s" }

    /// The lock's key: a place's description hashed by the server.
    private static func key(_ place: String) -> String {
        "hashtextextended(\(PostgresSchema.literal("stacksim places: " + place)), 0)"
    }
}
