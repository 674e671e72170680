import CHiredis
import Foundation
import StackCore
import StackIO
import Synchronization

/// A Redis reply, copied out of hiredis's memory.
public enum RedisReply: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case array([RedisReply])
    case null
    case status(String)

    init(_ reply: UnsafeMutablePointer<redisReply>) throws {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING: self = .string(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_STATUS: self = .status(String(cString: r.str))
        case REDIS_REPLY_INTEGER: self = .integer(Int(r.integer))
        case REDIS_REPLY_NIL: self = .null
        case REDIS_REPLY_ARRAY: self = .array(try (0..<r.elements).map { try RedisReply(r.element[$0]!) })
        default: throw RedisServerError(message: r.str.map { String(cString: $0) } ?? "an error reply without text")
        }
    }
}

/// An error reply (`-LOADING …`, `-NOAUTH …`): its first word is Redis's own code.
struct RedisServerError: Error {
    var message: String

    var storeError: StoreError {
        let prefix = String(message.prefix { !$0.isWhitespace })
        let code: StoreError.Code = switch prefix {
        case "NOAUTH", "WRONGPASS": .authentication
        case "LOADING", "MASTERDOWN", "BUSY": .unavailable
        default: message.hasPrefix("ERR max number of clients") ? .tooManyConnections : .server
        }
        return StoreError(code, store: .cache, operation: "reply", detail: message, serverCode: prefix.isEmpty ? nil : prefix)
    }
}

/// One hiredis async context driven by the reactor: commands are written and replies read on
/// the reactor thread; callers await them. Pipelining is free — several commands in one call.
final class RedisConnection: PooledConnection, DeadlineWatched, AfterJobs, @unchecked Sendable {
    // Touched only on the reactor thread.
    private var context: UnsafeMutablePointer<redisAsyncContext>?
    private var isConnected = false
    private var flushQueued = false
    private var flushing = false
    private var connected: CheckedContinuation<Void, any Error>?
    private var timeout: ReactorTimer?
    private let broken = Atomic(false)
    private let reactor = Reactor.shared
    private let callTimeout: Duration
    /// Batches sent and not yet known to be answered; answered ones are dropped when the
    /// deadline watch checks or the list grows.
    private var waiting: [Batch] = []
    var deadlineWatch = DeadlineWatch()

    private init(callTimeout: Duration) { self.callTimeout = callTimeout }

    var isBroken: Bool { broken.load(ordering: .relaxed) }

    /// Opens a connection within `timeout`; each later `send` gets `callTimeout` to answer.
    static func open(host: String, port: Int, timeout: Duration, callTimeout: Duration) async throws -> RedisConnection {
        let connection = RedisConnection(callTimeout: callTimeout)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            connection.reactor.execute { connection.start(host: host, port: port, timeout: timeout, continuation) }
        }
        return connection
    }

    /// Sends `commands` together (pipelined) and returns their replies in order; a server error
    /// in any throws. A reply that takes longer than the call timeout (plus `extra`, for blocking
    /// commands) fails with `timeout` and breaks the connection: its reply can no longer be told
    /// apart from the next call's.
    func send(_ commands: [[String]], extra: Duration = .zero) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        let limit = callTimeout + extra
        return try await withUnsafeThrowingContinuation { continuation in
            if reactor.runsHere {
                write(Batch(commands, limit: limit, continuation), commands)
            } else {
                reactor.execute { [self] in write(Batch(commands, limit: limit, continuation), commands) }
            }
        }
    }

    func close() {
        reactor.execute { [self] in
            broken.store(true, ordering: .relaxed)
            if let context { redisAsyncDisconnect(context) }
        }
    }

    // MARK: - On the reactor thread

    /// Fails a batch past its deadline with `timeout` and breaks the connection (the others then
    /// fail as the connection closes); else gives the next deadline to watch for.
    func overdue(_ now: MonotonicClock.Instant) -> MonotonicClock.Instant? {
        waiting.removeAll { !$0.isPending }
        guard let first = waiting.min(by: { $0.deadline < $1.deadline }) else { return nil }
        guard first.deadline <= now else { return first.deadline }
        first.fail(StoreError(.timeout, store: .cache, operation: first.operation, detail: "no answer within \(first.limit)"))
        broken.store(true, ordering: .relaxed)
        if let context { redisAsyncDisconnect(context) }
        return nil
    }

    private func start(host: String, port: Int, timeout: Duration, _ continuation: CheckedContinuation<Void, any Error>) {
        guard let context = redisAsyncConnect(host, Int32(port)) else {
            return continuation.resume(throwing: StoreError(.unavailable, store: .cache, operation: "connect",
                                                            detail: "cannot allocate a connection to \(host):\(port)"))
        }
        guard context.pointee.err == 0 else {
            let reason = Self.errorText(context)
            redisAsyncFree(context)
            return continuation.resume(throwing: StoreError(.unavailable, store: .cache, operation: "connect",
                                                            detail: "cannot connect to \(host):\(port): \(reason)"))
        }
        self.context = context
        connected = continuation
        let me = Unmanaged.passRetained(self).toOpaque()
        context.pointee.ev.data = me
        context.pointee.ev.addRead = { _ in }
        context.pointee.ev.delRead = { _ in }
        context.pointee.ev.addWrite = { RedisConnection.from($0).wantsWrite() }
        context.pointee.ev.delWrite = { RedisConnection.from($0).interest(write: false) }
        context.pointee.ev.cleanup = { data in
            let connection = Unmanaged<RedisConnection>.fromOpaque(data!).takeRetainedValue()
            connection.ended(reason: "the connection closed")
        }
        context.pointee.data = me
        do {
            try reactor.thread.watch(context.pointee.c.fd, write: false) { [self] readable, writable in
                if readable, let context = self.context { redisAsyncHandleRead(context) }
                if writable, let context = self.context { redisAsyncHandleWrite(context) }
            }
        } catch {
            finishConnect("cannot watch the socket: \(error)")
            return redisAsyncDisconnect(context)
        }
        redisAsyncSetConnectCallback(context) { context, status in
            let connection = RedisConnection.from(context!.pointee.data)
            if status == 0 {
                connection.finishConnect(nil)
            } else {
                // Read now: hiredis frees the context (and its error text) after this callback.
                connection.finishConnect("cannot connect: \(RedisConnection.errorText(context!))")
            }
        }
        self.timeout = reactor.thread.after(timeout) { [self] in
            finishConnect("no answer within \(timeout)")
            if let context = self.context { redisAsyncFree(context) }
        }
    }

    /// hiredis's error text for a context, copied while it is valid. In the async context
    /// `errstr` is a pointer into the inner context's `errstr` buffer.
    private static func errorText(_ context: UnsafePointer<redisAsyncContext>) -> String {
        guard let text = context.pointee.errstr else { return "unknown error" }
        let message = String(cString: text)
        return message.isEmpty ? "unknown error (hiredis error \(context.pointee.err))" : message
    }

    private static func from(_ data: UnsafeMutableRawPointer?) -> RedisConnection {
        Unmanaged<RedisConnection>.fromOpaque(data!).takeUnretainedValue()
    }

    private func finishConnect(_ failure: String?) {
        if let timeout { reactor.thread.cancel(timer: timeout) }
        timeout = nil
        guard let continuation = connected else { return }
        connected = nil
        if let failure {
            broken.store(true, ordering: .relaxed)
            continuation.resume(throwing: StoreError(.unavailable, store: .cache, operation: "connect", detail: failure))
        } else {
            isConnected = true
            continuation.resume()
        }
    }

    private func ended(reason: String) {
        broken.store(true, ordering: .relaxed)
        if let fd = context?.pointee.c.fd { reactor.thread.unwatch(fd) }
        context = nil
        finishConnect(reason)
    }

    private func interest(write: Bool) {
        guard let context else { return }
        do {
            try reactor.thread.interest(context.pointee.c.fd, write: write)
        } catch {
            broken.store(true, ordering: .relaxed)
            redisAsyncDisconnect(context)
        }
    }

    /// hiredis has output to send. Connected, it is written once the reactor's current batch of
    /// jobs is done — every command of the batch in one write; waiting for writability only when
    /// the socket is full (or while connecting).
    private func wantsWrite() {
        guard isConnected, !flushing else { return interest(write: true) }
        guard !flushQueued else { return }
        flushQueued = true
        reactor.thread.afterJobs(self)
    }

    /// `wantsWrite`'s job: the output queued in this batch, written.
    func afterJobs() {
        flushQueued = false
        guard let context else { return }
        flushing = true
        redisAsyncHandleWrite(context)
        flushing = false
    }

    /// Watches a batch's deadline and hands its commands to hiredis.
    private func write(_ batch: Batch, _ commands: [[String]]) {
        if waiting.count >= 16 { waiting.removeAll { !$0.isPending } }
        waiting.append(batch)
        watch(batch.deadline, on: reactor.thread)
        for command in commands { write(command, batch) }
    }

    private func write(_ command: [String], _ batch: Batch) {
        guard let context else {
            return batch.fail(StoreError(.connectionLost, store: .cache, operation: command.first ?? "", detail: "the connection is closed"))
        }
        let retained = Unmanaged.passRetained(batch).toOpaque()
        // hiredis copies the arguments into its output buffer.
        let status = withCArguments(command) { pointers, lengths in
            // The reply's callback hands it to its batch.
            return redisAsyncCommandArgv(context, { _, reply, batch in
                let batch = Unmanaged<Batch>.fromOpaque(batch!).takeRetainedValue()
                guard let reply = reply?.assumingMemoryBound(to: redisReply.self) else {
                    return batch.fail(StoreError(.connectionLost, store: .cache, operation: "reply", detail: "the connection closed"))
                }
                do {
                    batch.receive(try RedisReply(reply))
                } catch let error as RedisServerError {
                    batch.fail(error.storeError)
                } catch {
                    batch.fail(error)
                }
            }, retained, Int32(command.count), pointers.baseAddress, lengths.baseAddress)
        }
        if status != REDIS_OK {
            Unmanaged<Batch>.fromOpaque(retained).release()
            broken.store(true, ordering: .relaxed)
            batch.fail(StoreError(.connectionLost, store: .cache, operation: command.first ?? "", detail: "cannot send: \(Self.errorText(context))"))
        }
    }
}

/// The replies of one `send`, filled in on the reactor thread as they arrive — in the order its
/// commands were written, as one connection answers pipelined commands; the caller resumes
/// once, when the last arrives or the first failure does.
private final class Batch {
    private var replies: [RedisReply] = []
    private let count: Int
    /// The first command's name and the time the batch is given, to name a timeout.
    let operation: String
    let limit: Duration
    let deadline: MonotonicClock.Instant
    private var continuation: UnsafeContinuation<[RedisReply], any Error>?

    init(_ commands: [[String]], limit: Duration, _ continuation: UnsafeContinuation<[RedisReply], any Error>) {
        count = commands.count
        operation = commands[0].first ?? ""
        self.limit = limit
        deadline = .now + limit
        replies.reserveCapacity(count)
        self.continuation = continuation
    }

    var isPending: Bool { continuation != nil }

    func receive(_ reply: RedisReply) {
        replies.append(reply)
        if replies.count == count { answer(.success(replies)) }
    }

    func fail(_ error: any Error) { answer(.failure(error)) }

    private func answer(_ result: Result<[RedisReply], any Error>) {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume(with: result)
    }
}
