import Foundation
import Synchronization

/// Where the embedded stores read "now" for TTLs and freshness; tests pass a manual one.
public protocol TimeSource: Sendable {
    func now() -> Date
}

public struct WallTime: TimeSource {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that only moves when told to.
public final class ManualTime: TimeSource {
    private let current: Mutex<Date>

    public init(_ start: Date) { current = Mutex(start) }

    public func now() -> Date { current.withLock { $0 } }

    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
