import CLibPQ
import Foundation
import StackCore
import StackIO
import Synchronization

/// A named SQL statement, prepared once per connection the first time it runs.
public struct Statement: Sendable {
    public let name: String
    public let sql: String

    public init(_ name: String, _ sql: String) { self.name = name; self.sql = sql }
}

/// Rows as text, as libpq returns them (NULL is nil).
public typealias Rows = [[String?]]

/// One nonblocking libpq connection driven by the reactor: connect with `PQconnectPoll`, prepare
/// and execute with `PQsendPrepare`/`PQsendQueryPrepared`, read with `PQconsumeInput`/`PQisBusy`.
/// Its handle is used on the reactor thread only. Every call has a deadline; a call that misses
/// it, or a connection that breaks, leaves the connection broken for the pool to replace.
final class PostgresConnection: PooledConnection, DeadlineWatched, @unchecked Sendable {
    private var handle: OpaquePointer?
    /// The socket the reactor watches, or -1.
    private var socket: Int32 = -1
    private var prepared: Set<String> = []
    private var request: Request?
    private var connecting: (continuation: CheckedContinuation<Void, any Error>, timer: ReactorTimer)?
    private let broken = Atomic(false)
    private let reactor = Reactor.shared
    private let callTimeout: Duration
    var deadlineWatch = DeadlineWatch()

    /// The call in flight. A class: the connection, its reply handlers and `finished` pass it
    /// around, and as a struct of this size each of those was a copy through value witnesses.
    private final class Request {
        let statement: Statement
        let parameters: [String?]
        let continuation: UnsafeContinuation<Rows, any Error>
        var preparing = false
        let deadline: MonotonicClock.Instant
        var rows: Rows = []
        var failure: StoreError?

        init(statement: Statement, parameters: [String?], continuation: UnsafeContinuation<Rows, any Error>, deadline: MonotonicClock.Instant) {
            self.statement = statement
            self.parameters = parameters
            self.continuation = continuation
            self.deadline = deadline
        }
    }

    private init(callTimeout: Duration) { self.callTimeout = callTimeout }

    var isBroken: Bool { broken.load(ordering: .relaxed) }

    /// Connects within `timeout`.
    static func open(_ conninfo: PostgresConninfo, timeout: Duration, callTimeout: Duration) async throws -> PostgresConnection {
        let connection = PostgresConnection(callTimeout: callTimeout)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            connection.reactor.execute { connection.start(conninfo, timeout: timeout, continuation) }
        }
        return connection
    }

    func query(_ statement: Statement, _ parameters: [String?]) async throws -> Rows {
        try await withUnsafeThrowingContinuation { continuation in
            if reactor.runsHere {
                send(statement, parameters, continuation)
            } else {
                reactor.execute { [self] in send(statement, parameters, continuation) }
            }
        }
    }

    func close() {
        reactor.execute { [self] in finish() }
    }

    // MARK: - On the reactor thread

    /// Fails the call in flight once past its deadline, breaking the connection; else gives its
    /// deadline to watch for.
    func overdue(_ now: MonotonicClock.Instant) -> MonotonicClock.Instant? {
        guard let request else { return nil }
        guard request.deadline <= now else { return request.deadline }
        fail(.timeout, "no answer within \(callTimeout)", breaking: true)
        return nil
    }

    private func send(_ statement: Statement, _ parameters: [String?], _ continuation: UnsafeContinuation<Rows, any Error>) {
        let deadline = MonotonicClock.Instant.now + callTimeout
        watch(deadline, on: reactor.thread)
        begin(Request(statement: statement, parameters: parameters, continuation: continuation, deadline: deadline))
    }

    /// The one place the libpq handle is freed.
    private func finish() {
        guard let handle else { return }
        broken.store(true, ordering: .relaxed)
        stopWatching()
        PQfinish(handle)
        self.handle = nil
        fail(.connectionLost, "the connection was closed", breaking: true)
    }

    private func start(_ conninfo: PostgresConninfo, timeout: Duration, _ continuation: CheckedContinuation<Void, any Error>) {
        let handle = conninfo.withParameters { PQconnectStartParams($0, $1, 0) }
        guard let handle else {
            return continuation.resume(throwing: StoreError(.unavailable, store: .relational, operation: "connect",
                                                            detail: "cannot allocate a connection"))
        }
        self.handle = handle
        let timer = reactor.thread.after(timeout) { [self] in connected(.unavailable, "no answer within \(timeout)") }
        connecting = (continuation, timer)
        guard PQstatus(handle) != CONNECTION_BAD else { return connected(.unavailable, Self.message(PQerrorMessage(handle))) }
        poll(PGRES_POLLING_WRITING)
    }

    /// Follows `PQconnectPoll`'s lead until the connection is up or has failed.
    private func poll(_ status: PostgresPollingStatusType) {
        guard let handle else { return }
        switch status {
        case PGRES_POLLING_READING, PGRES_POLLING_WRITING:
            watch(write: status == PGRES_POLLING_WRITING) { [self] _, _ in poll(PQconnectPoll(handle)) }
        case PGRES_POLLING_OK:
            guard PQsetnonblocking(handle, 1) == 0 else { return connected(.unavailable, Self.message(PQerrorMessage(handle))) }
            watch(write: false) { [self] readable, writable in
                if writable { flush() }
                if readable { receive() }
            }
            connected(nil, nil)
        default:
            let message = Self.message(PQerrorMessage(handle))
            connected(PostgresErrorCode.connectCode(message: message), message)
        }
    }

    /// Watches libpq's current socket; libpq may switch sockets while connecting (several hosts)
    /// and closes its socket itself when the connection drops, so the watch follows `PQsocket`.
    private func watch(write: Bool, _ handler: @escaping ReactorLoop.Handler) {
        guard let handle else { return }
        let fd = PQsocket(handle)
        if fd != socket { stopWatching() }
        guard fd >= 0 else { return }
        do {
            try reactor.thread.watch(fd, write: write, handler: handler)
            socket = fd
        } catch {
            fail(.connectionLost, "\(error)", breaking: true)
            connected(.unavailable, "\(error)")
        }
    }

    /// Stops watching the socket: unregistered while libpq still has it open, only forgotten once
    /// libpq has closed it (its number may already belong to another connection).
    private func stopWatching() {
        guard socket >= 0 else { return }
        if let handle, PQsocket(handle) == socket {
            reactor.thread.unwatch(socket)
        } else {
            reactor.thread.forget(socket)
        }
        socket = -1
    }

    private func connected(_ code: StoreError.Code?, _ failure: String?) {
        guard let (continuation, timer) = connecting else { return }
        connecting = nil
        reactor.thread.cancel(timer: timer)
        if let code, let failure {
            broken.store(true, ordering: .relaxed)
            finish()
            continuation.resume(throwing: StoreError(code, store: .relational, operation: "connect", detail: failure))
        } else {
            continuation.resume()
        }
    }

    private func begin(_ next: Request) {
        guard let handle, !isBroken else {
            next.continuation.resume(throwing: StoreError(.connectionLost, store: .relational, operation: next.statement.name,
                                                          detail: "the connection is closed"))
            return
        }
        next.preparing = !prepared.contains(next.statement.name)
        request = next
        let sent: Int32
        if next.preparing {
            sent = PQsendPrepare(handle, next.statement.name, next.statement.sql, 0, nil)
        } else {
            // libpq copies the values into its output buffer. The name through `withCString`: a
            // String passed as a C pointer is first copied into an array of its own.
            sent = next.statement.name.withCString { name in
                withCArguments(next.parameters) { values, _ in
                    PQsendQueryPrepared(handle, name, Int32(values.count), values.baseAddress, nil, nil, 0)
                }
            }
        }
        guard sent == 1 else { return lost() }
        flush()
    }

    /// Writes what libpq has buffered; watches for writability only while some is left.
    private func flush() {
        guard let handle, socket >= 0 else { return }
        let pending = PQflush(handle)
        if pending < 0 { return lost() }
        do {
            try reactor.thread.interest(socket, write: pending == 1)
        } catch {
            fail(.connectionLost, "\(error)", breaking: true)
        }
    }

    private func receive() {
        guard let handle else { return }
        guard PQconsumeInput(handle) == 1 else { return lost() }
        while request != nil, PQisBusy(handle) == 0 {
            guard let result = PQgetResult(handle) else { return finished() }
            collect(result)
            PQclear(result)
        }
        // An idle connection that reads EOF (a server restart) is broken before anyone uses it.
        if request == nil, PQstatus(handle) == CONNECTION_BAD { lost() }
    }

    private func collect(_ result: OpaquePointer) {
        guard let request else { return }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK:
            let rows = Int(PQntuples(result)), columns = Int(PQnfields(result))
            request.rows.reserveCapacity(request.rows.count + rows)
            for row in 0..<rows {
                request.rows.append((0..<columns).map { column in
                    PQgetisnull(result, Int32(row), Int32(column)) == 1 ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
                })
            }
        case PGRES_COMMAND_OK:
            break
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            let code = PostgresErrorCode.code(sqlstate: state)
            if code == .connectionLost { broken.store(true, ordering: .relaxed) }
            request.failure = StoreError(code, store: .relational, operation: request.statement.name,
                                          detail: Self.message(PQresultErrorMessage(result)), serverCode: state.isEmpty ? nil : state)
        }
    }

    /// The current step's results are all in: prepared → execute; executed → answer.
    private func finished() {
        guard let current = request else { return }
        if current.preparing && current.failure == nil {
            prepared.insert(current.statement.name)
            return begin(current)
        }
        request = nil
        if let failure = current.failure {
            current.continuation.resume(throwing: failure)
        } else {
            current.continuation.resume(returning: current.rows)
        }
    }

    /// The connection broke (EOF, reset, a failed write): libpq may have closed its socket.
    private func lost() {
        let message = handle.map { Self.message(PQerrorMessage($0)) } ?? "the connection is closed"
        broken.store(true, ordering: .relaxed)
        stopWatching()
        fail(.connectionLost, message, breaking: true)
    }

    private func fail(_ code: StoreError.Code, _ message: String, breaking: Bool) {
        if breaking { broken.store(true, ordering: .relaxed) }
        guard let current = request else { return }
        request = nil
        current.continuation.resume(throwing: StoreError(code, store: .relational, operation: current.statement.name, detail: message))
    }

    /// libpq's message, copied at once: the text lives in the handle or result it came from.
    static func message(_ text: UnsafePointer<CChar>?) -> String {
        text.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "unknown error"
    }
}
