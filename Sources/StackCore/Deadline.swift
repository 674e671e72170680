import Synchronization

/// A continuation that is resumed once: by the work, or by its deadline, whichever comes first.
/// For work that cannot be interrupted (a blocking C call on a thread of its own, a drain of
/// requests), where the waiter must not wait past its deadline even when the work does.
public final class OnceContinuation<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, any Error>?>

    public init(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation = Mutex(continuation)
    }

    /// True once resumed: later work for it can be skipped.
    public var isDone: Bool { continuation.withLock { $0 == nil } }

    public func resume(with result: Result<Value, any Error>) {
        let taken = continuation.withLock { c in
            defer { c = nil }
            return c
        }
        taken?.resume(with: result)
    }
}

/// The deadline passed before the work finished.
public struct DeadlineExceeded: Error, Sendable {}

public enum Deadline {
    /// `body`'s result, or `DeadlineExceeded` at `deadline`; the work itself goes on unawaited,
    /// on `executor` if given (in virtual time, the run's: the work is part of the simulation).
    public static func run<T: Sendable>(until deadline: ContinuousClock.Instant, on executor: (any TaskExecutor)? = nil,
                                        _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let once = OnceContinuation(continuation)
            let timer = Task {
                try await Task.sleep(until: deadline, clock: .continuous)
                once.resume(with: .failure(DeadlineExceeded()))
            }
            Task(executorPreference: executor) {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                timer.cancel()
                once.resume(with: result)
            }
        }
    }
}
