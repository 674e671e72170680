import CMongoC
import Foundation
import StackCore
import StackIO
import Synchronization

/// libmongoc is blocking only: commands run on a sized pool of threads, each with its own client
/// from one `mongoc_client_pool_t`. Callers await a slot; the time spent waiting is recorded as
/// the store's `connection-wait`. The pool and clients are freed in `shutdown` only.
final class MongoClient: Sendable {
    let database: String
    private let jobs = Jobs()
    private let workers: Int

    init(url: String, settings: PoolSettings) throws {
        mongoc_init()
        let timeout = Int(settings.connectTimeout / .milliseconds(1)), idle = Int(settings.idleTimeout / .milliseconds(1))
        let options = "connectTimeoutMS=\(timeout)&serverSelectionTimeoutMS=\(timeout)&maxIdleTimeMS=\(idle)"
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(url + (url.contains("?") ? "&" : "?") + options, &error)
        else { throw StoreError(.unavailable, store: .document, operation: "connect", detail: "not a MongoDB URL: \(Self.message(&error))") }
        defer { mongoc_uri_destroy(uri) }
        database = mongoc_uri_get_database(uri).map { String(cString: $0) } ?? "stacksim"
        guard let pool = mongoc_client_pool_new(uri) else {
            throw StoreError(.unavailable, store: .document, operation: "connect", detail: "cannot create a client pool")
        }
        mongoc_client_pool_set_error_api(pool, 2)
        let threads = settings.max
        mongoc_client_pool_max_size(pool, UInt32(threads))
        workers = threads
        let handle = PoolHandle(pool)
        for index in 0..<threads {
            let thread = Thread { [jobs] in
                let client = mongoc_client_pool_pop(handle.pool)!
                while let job = jobs.next() { job(client) }
                mongoc_client_pool_push(handle.pool, client)
                if jobs.finished() { mongoc_client_pool_destroy(handle.pool) }
            }
            thread.name = "stacksim-mongo-\(index)"
            thread.start()
        }
        jobs.expect(workers: threads)
    }

    /// Runs a command document (extended JSON, command name first) and returns its reply.
    func command(_ name: String, _ json: String) async throws -> MongoReply {
        let enqueued = ContinuousClock.now
        let (waited, reply) = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Duration, MongoReply), any Error>) in
            let database = self.database
            jobs.submit { client in
                let waited = ContinuousClock.now - enqueued
                continuation.resume(with: Result { (waited, try Self.run(client, database, name, json)) })
            }
        }
        StoreCallTrace.record(.document, StoreCallTrace.connectionWait, duration: waited, failed: false)
        return reply
    }

    func shutdown() { jobs.close() }

    private static func run(_ client: OpaquePointer, _ database: String, _ name: String, _ json: String) throws -> MongoReply {
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
        defer { bson_destroy(replyDocument) }
        guard ok else {
            let code: StoreError.Code = error.domain == MONGOC_ERROR_SERVER_SELECTION.rawValue || error.domain == MONGOC_ERROR_STREAM.rawValue
                ? .unavailable : error.code == 11000 ? .constraint : .protocolError
            throw StoreError(code, store: .document, operation: name, detail: message(&error))
        }
        var length = 0
        guard let text = bson_as_relaxed_extended_json(replyDocument, &length) else {
            throw StoreError(.protocolError, store: .document, operation: name, detail: "the reply is not valid BSON")
        }
        defer { bson_free(text) }
        return MongoReply(command: name, json: Data(bytes: text, count: length))
    }

    private static func message(_ error: inout bson_error_t) -> String {
        withUnsafeBytes(of: &error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
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
            let duplicate = (first["code"] as? Int) == 11000
            throw StoreError(duplicate ? .constraint : .protocolError, store: .document, operation: command,
                             detail: first["errmsg"] as? String ?? "write error")
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
