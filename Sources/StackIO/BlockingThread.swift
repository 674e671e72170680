import Foundation
import StackCore

/// Runs blocking work (a bulk load, a schema change) on a thread of its own, so it never
/// occupies Swift's cooperative pool.
public enum BlockingThread {
    public static func run<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            NamedThread.start(name) { continuation.resume(with: Result { try body() }) }
        }
    }
}
