/// One reactor timer standing watch over a connection's call deadlines, instead of a timer armed
/// and cancelled per call. A call tells it its deadline; the timer is armed only when none is
/// armed for an earlier moment. When it fires, `overdue` fails what has missed its deadline and
/// says which deadline is next (nil: no call is waiting), and the watch re-arms for it. A call
/// answered in time costs a clock read and a comparison; with calls flowing the timer fires
/// about once per call timeout. Used on the reactor thread only.
public final class DeadlineWatch {
    public typealias Instant = ContinuousClock.Instant
    private let loop: ReactorLoop
    private let overdue: (_ now: Instant) -> Instant?
    /// The moment the armed timer fires at; nil when none is armed.
    private var armedFor: Instant?

    public init(on loop: ReactorLoop, overdue: @escaping (_ now: Instant) -> Instant?) {
        self.loop = loop
        self.overdue = overdue
    }

    /// Watches for `deadline`, unless a timer already fires at or before it (that check then
    /// moves on to this deadline).
    public func watch(_ deadline: Instant) {
        if let armedFor, armedFor <= deadline { return }
        arm(at: deadline)
    }

    private func arm(at deadline: Instant) {
        armedFor = deadline
        loop.after(deadline - .now) { [weak self] in self?.fire(armedFor: deadline) }
    }

    private func fire(armedFor deadline: Instant) {
        // A timer superseded by one armed for an earlier deadline leaves the watch to that one.
        guard armedFor == deadline else { return }
        armedFor = nil
        if let next = overdue(.now) { arm(at: next) }
    }
}
