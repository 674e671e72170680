import StackCore

/// One reactor timer standing watch over a connection's call deadlines, instead of a timer armed
/// and cancelled per call. A call tells it its deadline; the timer is armed only when none is
/// armed for an earlier moment. When it fires, the watched connection's `overdue` fails what has
/// missed its deadline and says which deadline is next (nil: no call is waiting), and the watch
/// re-arms for it. A call answered in time costs a clock read and a comparison; with calls
/// flowing the timer fires about once per call timeout. Used on the reactor thread only.
public struct DeadlineWatch {
    public typealias Instant = MonotonicClock.Instant
    /// The moment the armed timer fires at; nil when none is armed.
    fileprivate var armedFor: Instant?

    public init() {}
}

/// A connection whose calls a `DeadlineWatch` stands watch over; it keeps the watch.
public protocol DeadlineWatched: AnyObject {
    var deadlineWatch: DeadlineWatch { get set }
    /// Fails the calls past their deadline at `now`; the next deadline to watch for, or nil.
    func overdue(_ now: DeadlineWatch.Instant) -> DeadlineWatch.Instant?
}

extension DeadlineWatched {
    /// Watches for `deadline` on `loop`, unless a timer already fires at or before it (that check
    /// then moves on to this deadline).
    public func watch(_ deadline: DeadlineWatch.Instant, on loop: ReactorLoop) {
        if let armedFor = deadlineWatch.armedFor, armedFor <= deadline { return }
        arm(at: deadline, on: loop)
    }

    /// The armed timer holds the connection until it fires, at most a call timeout: no weak
    /// reference, which would give the connection a side table and every retain and release of
    /// it the runtime's slow path.
    private func arm(at deadline: DeadlineWatch.Instant, on loop: ReactorLoop) {
        deadlineWatch.armedFor = deadline
        loop.after(deadline - .now) { [self] in fire(armedFor: deadline, on: loop) }
    }

    private func fire(armedFor deadline: DeadlineWatch.Instant, on loop: ReactorLoop) {
        // A timer superseded by one armed for an earlier deadline leaves the watch to that one.
        guard deadlineWatch.armedFor == deadline else { return }
        deadlineWatch.armedFor = nil
        if let next = overdue(.now) { arm(at: next, on: loop) }
    }
}
