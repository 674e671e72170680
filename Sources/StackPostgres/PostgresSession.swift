import CLibPQ
import Foundation
import StackCore

/// A blocking libpq connection for work outside the measured run — the schema, bulk loads with
/// COPY, resets — used on a thread of its own (`BlockingThread`).
final class PostgresSession {
    private let handle: OpaquePointer

    init(_ conninfo: PostgresConninfo, timeout: Duration) throws {
        // connect_timeout bounds the blocking connect (libpq takes whole seconds, at least 2).
        var parameters = conninfo
        parameters.set("connect_timeout", String(max(2, Int((timeout / .seconds(1)).rounded(.up)))))
        guard let handle = parameters.withParameters({ PQconnectdbParams($0, $1, 0) }) else {
            throw StoreError(.unavailable, store: .relational, operation: "connect", detail: "cannot allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = PostgresConnection.message(PQerrorMessage(handle))
            PQfinish(handle)
            throw StoreError(PostgresErrorCode.connectCode(message: message), store: .relational, operation: "connect", detail: message)
        }
        self.handle = handle
        try execute("SET client_min_messages = warning")
    }

    deinit { PQfinish(handle) }

    /// Runs one statement; returns the first column of its rows.
    @discardableResult
    func execute(_ sql: String) throws -> [String] {
        guard let result = PQexec(handle, sql) else { throw failure("execute", PQerrorMessage(handle)) }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK: return []
        case PGRES_TUPLES_OK: return (0..<PQntuples(result)).map { String(cString: PQgetvalue(result, $0, 0)) }
        default: throw failure("execute", PQresultErrorMessage(result), state: PQresultErrorField(result, Int32(UInt8(ascii: "C"))))
        }
    }

    /// COPY rows (already in COPY's text format, one line each) into `table`.
    func copy(_ table: String, columns: [String], lines: [String]) throws {
        guard !lines.isEmpty else { return }
        guard let start = PQexec(handle, "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN") else {
            throw failure("copy", PQerrorMessage(handle))
        }
        let status = PQresultStatus(start)
        PQclear(start)
        guard status == PGRES_COPY_IN else { throw failure("copy", PQerrorMessage(handle)) }
        var chunk = ""
        for line in lines {
            chunk += line
            chunk += "\n"
            if chunk.utf8.count > 1 << 20 { try send(&chunk) }
        }
        try send(&chunk)
        guard PQputCopyEnd(handle, nil) == 1 else { throw failure("copy", PQerrorMessage(handle)) }
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if PQresultStatus(result) != PGRES_COMMAND_OK {
                throw failure("copy \(table)", PQresultErrorMessage(result), state: PQresultErrorField(result, Int32(UInt8(ascii: "C"))))
            }
        }
    }

    private func send(_ chunk: inout String) throws {
        guard !chunk.isEmpty else { return }
        let sent = chunk.withCString { PQputCopyData(handle, $0, Int32(strlen($0))) }
        guard sent == 1 else { throw failure("copy", PQerrorMessage(handle)) }
        chunk = ""
    }

    private func failure(_ operation: String, _ message: UnsafePointer<CChar>?, state: UnsafePointer<CChar>? = nil) -> StoreError {
        let sqlstate = state.map { String(cString: $0) } ?? ""
        let code: StoreError.Code = sqlstate.isEmpty ? (PQstatus(handle) == CONNECTION_BAD ? .connectionLost : .protocolError)
            : PostgresErrorCode.code(sqlstate: sqlstate)
        return StoreError(code, store: .relational, operation: operation, detail: PostgresConnection.message(message),
                          serverCode: sqlstate.isEmpty ? nil : sqlstate)
    }
}
