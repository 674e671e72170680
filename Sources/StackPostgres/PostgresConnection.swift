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
/// Its handle is used on the reactor thread only.
final class PostgresConnection: PooledConnection, @unchecked Sendable {
    private var handle: OpaquePointer?
    private var socket: Int32 = -1
    private var prepared: Set<String> = []
    private var request: Request?
    private var connecting: (continuation: CheckedContinuation<Void, any Error>, timer: Int)?
    private let broken = Atomic(false)
    private let reactor = Reactor.shared

    private struct Request {
        var statement: Statement
        var parameters: [String?]
        var continuation: CheckedContinuation<Rows, any Error>
        var preparing: Bool
        var rows: Rows = []
        var failure: StoreError?
    }

    var isBroken: Bool { broken.load(ordering: .relaxed) }

    /// Connects within `timeout` to a libpq connection string or `postgresql://` URL.
    static func open(_ conninfo: String, timeout: Duration) async throws -> PostgresConnection {
        let connection = PostgresConnection()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            connection.reactor.execute { connection.start(conninfo, timeout: timeout, continuation) }
        }
        return connection
    }

    func query(_ statement: Statement, _ parameters: [String?]) async throws -> Rows {
        try await withCheckedThrowingContinuation { continuation in
            reactor.execute { [self] in begin(Request(statement: statement, parameters: parameters, continuation: continuation, preparing: false)) }
        }
    }

    func close() {
        reactor.execute { [self] in finish() }
    }

    // MARK: - On the reactor thread

    /// The one place the libpq handle is freed.
    private func finish() {
        guard let handle else { return }
        if socket >= 0 { reactor.thread.unwatch(socket) }
        socket = -1
        PQfinish(handle)
        self.handle = nil
    }

    private func start(_ conninfo: String, timeout: Duration, _ continuation: CheckedContinuation<Void, any Error>) {
        guard let handle = PQconnectStart(conninfo), PQstatus(handle) != CONNECTION_BAD else {
            continuation.resume(throwing: StoreError(.unavailable, store: .relational, operation: "connect", detail: "cannot start a connection"))
            return
        }
        self.handle = handle
        let timer = reactor.thread.after(timeout) { [self] in connected("no answer within \(timeout)") }
        connecting = (continuation, timer)
        poll(PGRES_POLLING_WRITING)
    }

    /// Follows `PQconnectPoll`'s lead until the connection is up or has failed.
    private func poll(_ status: PostgresPollingStatusType) {
        guard let handle else { return }
        switch status {
        case PGRES_POLLING_READING, PGRES_POLLING_WRITING:
            rewatch(write: status == PGRES_POLLING_WRITING) { [self] _, _ in poll(PQconnectPoll(handle)) }
        case PGRES_POLLING_OK:
            PQsetnonblocking(handle, 1)
            rewatch(write: false) { [self] readable, writable in
                if writable { flush() }
                if readable { receive() }
            }
            connected(nil)
        default:
            connected(Self.message(PQerrorMessage(handle)))
        }
    }

    private func rewatch(write: Bool, _ handler: @escaping ReactorLoop.Handler) {
        guard let handle else { return }
        let fd = PQsocket(handle)
        if fd != socket, socket >= 0 { reactor.thread.unwatch(socket) }
        socket = fd
        if fd >= 0 { reactor.thread.watch(fd, write: write, handler: handler) }
    }

    private func connected(_ failure: String?) {
        guard let (continuation, timer) = connecting else { return }
        connecting = nil
        reactor.thread.cancel(timer: timer)
        if let failure {
            broken.store(true, ordering: .relaxed)
            finish()
            continuation.resume(throwing: StoreError(.unavailable, store: .relational, operation: "connect", detail: failure))
        } else {
            continuation.resume()
        }
    }

    private func begin(_ next: Request) {
        guard let handle, !isBroken else {
            next.continuation.resume(throwing: StoreError(.unavailable, store: .relational, operation: next.statement.name,
                                                          detail: "the connection is closed"))
            return
        }
        var next = next
        next.preparing = !prepared.contains(next.statement.name)
        request = next
        let sent: Int32
        if next.preparing {
            sent = PQsendPrepare(handle, next.statement.name, next.statement.sql, 0, nil)
        } else {
            let values = next.parameters.map { $0.map { strdup($0) } ?? nil }
            defer { values.forEach { free($0) } }
            let pointers: [UnsafePointer<CChar>?] = values.map { $0.map { UnsafePointer($0) } }
            sent = PQsendQueryPrepared(handle, next.statement.name, Int32(pointers.count), pointers, nil, nil, 0)
        }
        guard sent == 1 else { return fail(Self.message(PQerrorMessage(handle)), breaking: true) }
        flush()
    }

    /// Writes what libpq has buffered; watches for writability only while some is left.
    private func flush() {
        guard let handle, socket >= 0 else { return }
        let pending = PQflush(handle)
        if pending < 0 { return fail(Self.message(PQerrorMessage(handle)), breaking: true) }
        reactor.thread.interest(socket, write: pending == 1)
    }

    private func receive() {
        guard let handle else { return }
        guard PQconsumeInput(handle) == 1 else { return fail(Self.message(PQerrorMessage(handle)), breaking: true) }
        while request != nil, PQisBusy(handle) == 0 {
            guard let result = PQgetResult(handle) else { return finished() }
            collect(result)
            PQclear(result)
        }
    }

    private func collect(_ result: OpaquePointer) {
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK:
            let rows = Int(PQntuples(result)), columns = Int(PQnfields(result))
            for row in 0..<rows {
                request?.rows.append((0..<columns).map { column in
                    PQgetisnull(result, Int32(row), Int32(column)) == 1 ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
                })
            }
        case PGRES_COMMAND_OK:
            break
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            // 23xxx: integrity constraint violations (unique, foreign key, not null, check).
            let code: StoreError.Code = state.hasPrefix("23") ? .constraint : .protocolError
            let operation = request?.statement.name ?? ""
            request?.failure = StoreError(code, store: .relational, operation: operation,
                                          detail: "\(state) \(Self.message(PQresultErrorMessage(result)))")
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

    private func fail(_ message: String, breaking: Bool) {
        if breaking { broken.store(true, ordering: .relaxed) }
        guard let current = request else { return }
        request = nil
        current.continuation.resume(throwing: StoreError(.unavailable, store: .relational, operation: current.statement.name, detail: message))
    }

    static func message(_ text: UnsafePointer<CChar>?) -> String {
        text.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "unknown error"
    }
}
