/// The clock `ContinuousClock` reads (`CLOCK_BOOTTIME`), with an instant the compiler sees
/// through. `ContinuousClock.Instant` is a resilient type of the concurrency library: outside it,
/// every optional of one, comparison and copy goes through the runtime's value witnesses and a
/// metadata lookup. On the reactor's path that every live call takes (its deadline, the timers,
/// the pool's lease and release) that was several per cent of a call's user time.
public struct MonotonicClock: Clock {
    public struct Instant: InstantProtocol, Sendable {
        /// Nanoseconds since boot.
        public var nanoseconds: Int64

        public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

        public static var now: Instant { Instant(nanoseconds: Timeline.monotonicNanoseconds()) }

        public func advanced(by duration: Duration) -> Instant { Instant(nanoseconds: nanoseconds + duration.nanoseconds) }

        public func duration(to other: Instant) -> Duration { .nanoseconds(other.nanoseconds - nanoseconds) }

        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

        public static func + (lhs: Instant, rhs: Duration) -> Instant { lhs.advanced(by: rhs) }

        public static func - (lhs: Instant, rhs: Instant) -> Duration { rhs.duration(to: lhs) }
    }

    public init() {}

    public var now: Instant { .now }

    public var minimumResolution: Duration { .nanoseconds(1) }

    /// Sleeps on `ContinuousClock`, which reads the same clock.
    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try await Task.sleep(for: Instant.now.duration(to: deadline), tolerance: tolerance, clock: .continuous)
    }
}
