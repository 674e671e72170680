import CHiredis
import Foundation
import StackCore
import StackIO
import Synchronization

/// A Redis reply, copied out of hiredis's memory.
public indirect enum RedisReply: Sendable, Equatable {
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
        default: throw RedisServerError(message: String(cString: r.str))
        }
    }
}

struct RedisServerError: Error { var message: String }

/// One hiredis async context driven by the reactor: commands are written and replies read on
/// the reactor thread; callers await them. Pipelining is free — several commands in one call.
final class RedisConnection: PooledConnection, @unchecked Sendable {
    // Touched only on the reactor thread.
    private var context: UnsafeMutablePointer<redisAsyncContext>?
    private var wantsWrite = false
    private var connected: CheckedContinuation<Void, any Error>?
    private var timeout: Int?
    private let broken = Atomic(false)
    private let reactor = Reactor.shared

    var isBroken: Bool { broken.load(ordering: .relaxed) }

    /// Opens a connection within `timeout`.
    static func open(host: String, port: Int, timeout: Duration) async throws -> RedisConnection {
        let connection = RedisConnection()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            connection.reactor.execute { connection.start(host: host, port: port, timeout: timeout, continuation) }
        }
        return connection
    }

    /// Sends `commands` together and returns their replies in order; a server error in any throws.
    func send(_ commands: [[String]]) async throws -> [RedisReply] {
        try await withThrowingTaskGroup(of: (Int, RedisReply).self) { group in
            let pending = commands.map { _ in Pending() }
            for (index, item) in pending.enumerated() { group.addTask { (index, try await item.value()) } }
            reactor.execute { [self] in
                for (command, item) in zip(commands, pending) { write(command, item) }
            }
            var replies = [RedisReply](repeating: .null, count: commands.count)
            for try await (index, reply) in group { replies[index] = reply }
            return replies
        }
    }

    func close() {
        reactor.execute { [self] in
            if let context { redisAsyncDisconnect(context) }
        }
    }

    // MARK: - On the reactor thread

    private func start(host: String, port: Int, timeout: Duration, _ continuation: CheckedContinuation<Void, any Error>) {
        guard let context = redisAsyncConnect(host, Int32(port)), context.pointee.err == 0 else {
            continuation.resume(throwing: StoreError(.unavailable, store: .cache, operation: "connect",
                                                     detail: "cannot connect to \(host):\(port)"))
            return
        }
        self.context = context
        connected = continuation
        let me = Unmanaged.passRetained(self).toOpaque()
        context.pointee.ev.data = me
        context.pointee.ev.addRead = { RedisConnection.from($0).watch(write: nil) }
        context.pointee.ev.delRead = { _ in }
        context.pointee.ev.addWrite = { RedisConnection.from($0).watch(write: true) }
        context.pointee.ev.delWrite = { RedisConnection.from($0).watch(write: false) }
        context.pointee.ev.cleanup = { data in
            let connection = Unmanaged<RedisConnection>.fromOpaque(data!).takeRetainedValue()
            connection.ended(reason: "the connection closed")
        }
        context.pointee.data = me
        redisAsyncSetConnectCallback(context) { context, status in
            let connection = RedisConnection.from(context!.pointee.data)
            if status == 0 {
                connection.finishConnect(nil)
            } else {
                let reason = withUnsafeBytes(of: context!.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                connection.finishConnect("cannot connect: \(reason)")
            }
        }
        self.timeout = reactor.thread.after(timeout) { [self] in
            finishConnect("no answer within \(timeout)")
            if let context = self.context { redisAsyncFree(context) }
        }
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
            continuation.resume()
        }
    }

    private func ended(reason: String) {
        broken.store(true, ordering: .relaxed)
        if let fd = context?.pointee.c.fd { reactor.thread.unwatch(fd) }
        context = nil
        finishConnect(reason)
    }

    private func watch(write: Bool?) {
        guard let context else { return }
        if let write { wantsWrite = write }
        reactor.thread.watch(context.pointee.c.fd, write: wantsWrite) { [self] readable, writable in
            if readable, let context = self.context { redisAsyncHandleRead(context) }
            if writable, let context = self.context { redisAsyncHandleWrite(context) }
        }
    }

    private func write(_ command: [String], _ pending: Pending) {
        guard let context else {
            pending.fail(StoreError(.unavailable, store: .cache, operation: command.first ?? "", detail: "the connection is closed"))
            return
        }
        let arguments = command.map { strdup($0) }
        defer { arguments.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = arguments.map { UnsafePointer($0) }
        var lengths = command.map { $0.utf8.count }
        let box = Unmanaged.passRetained(pending).toOpaque()
        let status = redisAsyncCommandArgv(context, { _, reply, box in
            let pending = Unmanaged<Pending>.fromOpaque(box!).takeRetainedValue()
            guard let reply = reply?.assumingMemoryBound(to: redisReply.self) else {
                pending.fail(StoreError(.unavailable, store: .cache, operation: "reply", detail: "the connection closed"))
                return
            }
            do {
                pending.succeed(try RedisReply(reply))
            } catch let error as RedisServerError {
                pending.fail(StoreError(.protocolError, store: .cache, operation: "reply", detail: error.message))
            } catch {
                pending.fail(error)
            }
        }, box, Int32(command.count), &pointers, &lengths)
        if status != REDIS_OK {
            Unmanaged<Pending>.fromOpaque(box).release()
            pending.fail(StoreError(.unavailable, store: .cache, operation: command.first ?? "", detail: "cannot send"))
        }
    }
}

/// A reply not yet arrived: resolved once, on the reactor thread; awaited elsewhere.
final class Pending: Sendable {
    private let state = Mutex<(result: Result<RedisReply, any Error>?, waiter: CheckedContinuation<RedisReply, any Error>?)>((nil, nil))

    func value() async throws -> RedisReply {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { s -> Result<RedisReply, any Error>? in
                if let result = s.result { return result }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    func succeed(_ reply: RedisReply) { resolve(.success(reply)) }
    func fail(_ error: any Error) { resolve(.failure(error)) }

    private func resolve(_ result: Result<RedisReply, any Error>) {
        let waiter = state.withLock { s -> CheckedContinuation<RedisReply, any Error>? in
            guard s.result == nil else { return nil }
            s.result = result
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(with: result)
    }
}
