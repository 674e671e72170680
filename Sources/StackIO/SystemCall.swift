import Foundation

/// A failed system call, with its name and errno: the one way StackIO reports them.
public struct SystemCallError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var errno: Int32

    public var description: String { "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Every system call StackIO makes goes through here (swift-nio's `System.swift` is the model):
/// a negative result becomes a `SystemCallError`, EINTR is retried.
public enum SystemCall {
    /// Runs `body` until it is not interrupted; throws on any other failure.
    @discardableResult
    public static func check<T: BinaryInteger>(_ name: String, _ body: () -> T) throws -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let error = Foundation.errno
            if error == EINTR { continue }
            throw SystemCallError(call: name, errno: error)
        }
    }

    /// For calls on the reactor's own descriptors, where a failure other than the `allowing`
    /// ones means the process cannot do live I/O any more: that is a bug worth stopping for.
    @discardableResult
    public static func retrying<T: BinaryInteger>(_ name: String, allowing allowed: Set<Int32> = [], _ body: () -> T) -> T {
        do {
            return try check(name, body)
        } catch let error as SystemCallError where allowed.contains(error.errno) {
            return -1
        } catch {
            fatalError("stacksim reactor: \(error)")
        }
    }

    /// For set-up calls without which nothing can run.
    public static func must<T: BinaryInteger>(_ name: String, _ body: () -> T) -> T { retrying(name, body) }
}
