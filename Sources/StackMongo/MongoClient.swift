import CMongoC
import Foundation
import StackCore
import StackIO
import Synchronization

/// libmongoc is blocking only: commands run on a sized pool of threads, each with its own client
/// from one `mongoc_client_pool_t`. Callers await a slot; the time spent waiting is recorded as
/// the store's `connection-wait`. Every command has a deadline on the caller's side (the wait for
/// a thread plus the call timeout) and on the socket's (`socketTimeoutMS`); after the server is
/// found unreachable, commands fail fast for a backoff. The pool and clients are freed in
/// `shutdown` only.
final class MongoClient: Sendable {
    /// The database stacksim owns: the URL's, else `stacksim`.
    let database: String
    /// The servers the URL names.
    let servers: MongoServers
    private let jobs = Jobs()
    private let workers: Int
    private let settings: PoolSettings
    private let failFast: Mutex<FailFast<MonotonicClock.Instant>>

    init(url: String, settings: PoolSettings) throws {
        mongoc_init()
        // libmongoc's own log lines (monitor retries, stream warnings) would interleave with the
        // progress output; every failure reaches the caller as a typed error instead.
        mongoc_log_set_handler(nil, nil)
        self.settings = settings
        failFast = Mutex(FailFast(backoff: settings.backoff, maxBackoff: settings.maxBackoff))
        func ms(_ d: Duration) -> Int { max(1, Int(d / .milliseconds(1))) }
        let options = "connectTimeoutMS=\(ms(settings.connectTimeout))&serverSelectionTimeoutMS=\(ms(min(settings.connectTimeout, settings.callTimeout)))"
            + "&socketTimeoutMS=\(ms(settings.callTimeout))&maxIdleTimeMS=\(ms(settings.idleTimeout))&heartbeatFrequencyMS=1000"
        var error = bson_error_t()
        guard url.hasPrefix("mongodb://") || url.hasPrefix("mongodb+srv://"),
              let uri = mongoc_uri_new_with_error(url + (url.contains("?") ? "&" : "?") + options, &error)
        else {
            let why = url.hasPrefix("mongodb") ? Self.message(&error) : "expected mongodb://host:port/database"
            throw StoreConfigurationError(store: .document, message: "not a MongoDB URL: \(why)")
        }
        defer { mongoc_uri_destroy(uri) }
        database = mongoc_uri_get_database(uri).map { String(cString: $0) } ?? "stacksim"
        servers = Self.servers(uri)
        guard let pool = mongoc_client_pool_new(uri) else {
            throw StoreError(.unavailable, store: .document, operation: "connect", detail: "cannot create a client pool")
        }
        mongoc_client_pool_set_error_api(pool, 2)
        let threads = settings.max
        mongoc_client_pool_max_size(pool, UInt32(threads))
        workers = threads
        let handle = PoolHandle(pool)
        for index in 0..<threads {
            NamedThread.start("stacksim-mdb\(index)") { [jobs] in
                let client = mongoc_client_pool_pop(handle.pool)!
                while let job = jobs.next() { job(client) }
                mongoc_client_pool_push(handle.pool, client)
                if jobs.finished() { mongoc_client_pool_destroy(handle.pool) }
            }
        }
        jobs.expect(workers: threads)
    }

    /// Runs a command document (extended JSON, command name first) and returns its reply.
    func command(_ name: String, _ json: String) async throws -> MongoReply {
        try await command(name, json) { $0 }.value
    }

    /// Runs a command and reads its reply with `read` on the client thread that ran it: decoding
    /// a large reply keeps off the caller's thread (the request loop, the reactor). A reply the
    /// server gave counts as an answer for failing fast even when `read` rejects it. `decoding`
    /// is the client's time from the reply's arrival to its value (BSON to JSON, then `read`).
    func command<T>(_ name: String, _ json: String,
                    reading read: @escaping @Sendable (MongoReply) throws -> T) async throws -> (value: T, decoding: Duration) {
        let enqueued = MonotonicClock.Instant.now
        if failFast.withLock({ $0.admit(now: enqueued) }) != nil {
            throw StoreError(.unavailable, store: .document, operation: name,
                             detail: "the server did not answer a moment ago; failing fast until the next try")
        }
        let settings = self.settings, database = self.database
        typealias Answer = (waited: Duration, decoding: Duration, read: Handover<Result<T, any Error>>)
        do {
            let answer = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Answer, any Error>) in
                let once = OnceContinuation(continuation)
                let limit = settings.waitTimeout + settings.callTimeout
                // The deadline is a reactor timer: no task on Swift's pool per call. Resuming once
                // makes it a no-op when the call answered first.
                let reactor = Reactor.shared
                reactor.execute {
                    reactor.thread.after(limit) {
                        once.resume(with: .failure(StoreError(.timeout, store: .document, operation: name, detail: "no answer within \(limit)")))
                    }
                }
                jobs.submit { client in
                    let waited = MonotonicClock.Instant.now - enqueued
                    guard !once.isDone else { return }
                    guard waited <= settings.waitTimeout else {
                        return once.resume(with: .failure(StoreError(.poolTimeout, store: .document, operation: name,
                                                                     detail: "no client thread came free within \(settings.waitTimeout)")))
                    }
                    once.resume(with: Result {
                        let (reply, answered) = try Self.run(client, database, name, json)
                        let value = Result { try read(reply) }
                        return (waited, MonotonicClock.Instant.now - answered, Handover(value))
                    })
                }
            }
            failFast.withLock { $0.succeeded() }
            StoreCallTrace.record(.document, StoreCallTrace.connectionWait, duration: answer.waited, failed: false)
            return (try answer.read.value.get(), answer.decoding)
        } catch let error as StoreError {
            failFast.withLock { error.code == .unavailable ? $0.failed(now: .now) : $0.probeAbandoned() }
            throw error
        }
    }

    func shutdown() { jobs.close() }

    /// The servers the URL names, as they are written: its SRV name, or each host and port.
    private static func servers(_ uri: OpaquePointer) -> MongoServers {
        if let srv = mongoc_uri_get_srv_hostname(uri) { return .srv(String(cString: srv)) }
        var hosts: [(host: String, port: Int)] = []
        var node = mongoc_uri_get_hosts(uri)
        while let host = node {
            hosts.append((withUnsafeBytes(of: host.pointee.host) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }, Int(host.pointee.port)))
            node = UnsafePointer(host.pointee.next)
        }
        return .hosts(hosts)
    }

    /// The reply, and when it arrived (before libbson turned it into JSON).
    private static func run(_ client: OpaquePointer, _ database: String, _ name: String,
                            _ json: String) throws -> (MongoReply, answered: MonotonicClock.Instant) {
        var error = bson_error_t()
        let bytes = Array(json.utf8)
        guard let command = bson_new_from_json(bytes, bytes.count, &error) else {
            throw StoreError(.protocolError, store: .document, operation: name, detail: "bad command: \(message(&error))")
        }
        defer { bson_destroy(command) }
        // bson_t must be 128-byte aligned; Swift sees it as opaque, so it is allocated here.
        let reply = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 128)
        defer { reply.deallocate() }
        let replyDocument = OpaquePointer(reply)
        let ok = mongoc_client_command_simple(client, database, command, nil, replyDocument, &error)
        let answered = MonotonicClock.Instant.now
        defer { bson_destroy(replyDocument) }
        guard ok else { throw failure(name, &error) }
        var length = 0
        guard let text = bson_as_relaxed_extended_json(replyDocument, &length) else {
            throw StoreError(.protocolError, store: .document, operation: name, detail: "the reply is not valid BSON")
        }
        defer { bson_free(text) }
        return (MongoReply(command: name, json: Data(bytes: text, count: length)), answered)
    }

    /// A libmongoc error as a `StoreError` with MongoDB's own code where the server gave one.
    private static func failure(_ name: String, _ error: inout bson_error_t) -> StoreError {
        let text = message(&error)
        switch error.domain {
        case MONGOC_ERROR_SERVER_SELECTION.rawValue:
            return StoreError(.unavailable, store: .document, operation: name, detail: text)
        case MONGOC_ERROR_STREAM.rawValue:
            let timedOut = text.contains("timeout") || text.contains("timed out")
            return StoreError(timedOut ? .timeout : .connectionLost, store: .document, operation: name, detail: text)
        case MONGOC_ERROR_CLIENT.rawValue where error.code == MONGOC_ERROR_CLIENT_AUTHENTICATE.rawValue:
            return StoreError(.authentication, store: .document, operation: name, detail: text)
        case MONGOC_ERROR_SERVER.rawValue, MONGOC_ERROR_QUERY.rawValue, MONGOC_ERROR_WRITE_CONCERN.rawValue:
            return StoreError(MongoErrorCode.code(Int(error.code)), store: .document, operation: name, detail: text,
                              serverCode: String(error.code))
        default:
            return StoreError(.protocolError, store: .document, operation: name, detail: text)
        }
    }

    private static func message(_ error: inout bson_error_t) -> String {
        withUnsafeBytes(of: &error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// A value made on one thread and handed to another that alone uses it from then on.
struct Handover<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) { self.value = value }
}

/// A command's reply as relaxed extended JSON: decoded straight into model values where the
/// shape is known (a find's documents), read as a generic document otherwise.
struct MongoReply: Sendable {
    let command: String
    let json: Data

    /// The reply as a document; a write error in it becomes a `StoreError`.
    func document() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw StoreError(.protocolError, store: .document, operation: command, detail: "the reply is not a document")
        }
        if let errors = object["writeErrors"] as? [[String: Any]], let first = errors.first {
            let code = first["code"] as? Int ?? 0
            throw StoreError(MongoErrorCode.code(code), store: .document, operation: command,
                             detail: first["errmsg"] as? String ?? "write error", serverCode: String(code))
        }
        return object
    }

    /// The documents of a single-batch cursor reply, decoded as `T`.
    func batch<T: Decodable>(of type: T.Type) throws -> [T] {
        do {
            return try DocumentCodec.decode(CursorReply<T>.self, from: json).cursor.firstBatch
        } catch {
            throw StoreError(.protocolError, store: .document, operation: command, detail: "unexpected documents in the reply: \(error)")
        }
    }

    private struct CursorReply<Document: Decodable>: Decodable {
        struct Cursor: Decodable { var firstBatch: [Document] }
        var cursor: Cursor
    }
}

/// What a MongoDB error code means for the caller.
enum MongoErrorCode {
    static func code(_ code: Int) -> StoreError.Code {
        switch code {
        case 11000, 11001: return .uniqueViolation
        case 50: return .queryCanceled
        case 18: return .authentication
        // Interrupted at shutdown, shutdown in progress, not primary, primary stepped down.
        case 11600, 11602, 91, 189, 10107, 13435: return .connectionLost
        default: return .server
        }
    }
}

/// The client pool pointer, handed to the worker threads that own its clients.
private struct PoolHandle: @unchecked Sendable {
    let pool: OpaquePointer
    init(_ pool: OpaquePointer) { self.pool = pool }
}

/// The work queue the Mongo threads take commands from.
private final class Jobs: Sendable {
    typealias Job = @Sendable (OpaquePointer) -> Void
    private let condition = NSCondition()
    private let state = Mutex<(queue: [Job], closed: Bool, running: Int)>(([], false, 0))

    func expect(workers: Int) { state.withLock { $0.running = workers } }

    func submit(_ job: @escaping Job) {
        condition.lock()
        state.withLock { $0.queue.append(job) }
        condition.signal()
        condition.unlock()
    }

    /// The next job, waiting for one; nil once closed and drained.
    func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let (job, closed) = state.withLock { s -> (Job?, Bool) in
                s.queue.isEmpty ? (nil, s.closed) : (s.queue.removeFirst(), s.closed)
            }
            if let job { return job }
            if closed { return nil }
            condition.wait()
        }
    }

    func close() {
        condition.lock()
        state.withLock { $0.closed = true }
        condition.broadcast()
        condition.unlock()
    }

    /// Called by each worker on the way out; true for the last one.
    func finished() -> Bool { state.withLock { s in s.running -= 1; return s.running == 0 } }
}

/// The servers a MongoDB URL names: an SRV name, or hosts and ports.
enum MongoServers {
    case srv(String)
    case hosts([(host: String, port: Int)])

    /// In one spelling whatever the URL's: host names resolved (`ServerAddress`), sorted.
    var canonical: String {
        switch self {
        case .srv(let name): return "srv " + name.lowercased()
        case .hosts(let hosts): return Set(hosts.map { ServerAddress.canonical(host: $0.host, port: $0.port) }).sorted().joined(separator: ",")
        }
    }
}
