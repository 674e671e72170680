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

/// Simulated time: it stands still while the run works and jumps, when the run has nothing left
/// to do before the next moment something is due, straight to that moment. A run on it takes as
/// long as its work, not its duration, and gives the same result on any machine.
public final class VirtualTime: TimeSource {
    private let nanoseconds = Atomic<Int64>(0)
    /// The calendar time at virtual 0.
    public let anchor: Date

    public init(anchor: Date) { self.anchor = anchor }

    /// Where a run's virtual time starts when nothing else says: Monday 2026-01-05 09:00 UTC.
    public static let defaultAnchor = Date(timeIntervalSince1970: 1_767_603_600)

    /// Nanoseconds since virtual 0.
    public var elapsed: Int64 { nanoseconds.load(ordering: .acquiring) }

    /// Moves the time forward to `moment` (never back).
    public func advance(to moment: Int64) {
        _ = nanoseconds.max(moment, ordering: .acquiringAndReleasing)
    }

    public func now() -> Date { anchor.addingTimeInterval(Double(elapsed) / 1e9) }
}

/// The time a run measures by: the machine's monotonic clock, or virtual time.
public struct Timeline: Sendable {
    public let virtual: VirtualTime?

    public static let wall = Timeline(virtual: nil)

    public init(virtual: VirtualTime?) { self.virtual = virtual }

    /// Nanoseconds on the machine's monotonic clock (since boot), or since virtual 0.
    @inline(__always)
    public func now() -> Int64 {
        if let virtual { return virtual.elapsed }
        return Self.monotonicNanoseconds()
    }

    /// The clock `ContinuousClock` reads (`CLOCK_BOOTTIME`), read directly: through `Duration`'s
    /// 128-bit arithmetic a reading cost more than the request loop's other work per arrival.
    @inline(__always)
    public static func monotonicNanoseconds() -> Int64 {
        var time = timespec()
        let result = clock_gettime(CLOCK_BOOTTIME, &time)
        precondition(result == 0, "clock_gettime(CLOCK_BOOTTIME) failed: errno \(errno)")
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
