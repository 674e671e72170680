/// After a store is found unreachable, callers fail at once (`unavailable`) for a backoff that
/// doubles with each further failure, instead of queueing behind a dead server; when the
/// backoff is over one caller probes, and the first success clears it. Pure: times come in.
public struct FailFast<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    private let initialBackoff: Duration
    private let maxBackoff: Duration
    private var nextBackoff: Duration
    private var downUntil: Instant?
    private var probing = false

    public init(backoff: Duration, maxBackoff: Duration) {
        initialBackoff = backoff
        self.maxBackoff = maxBackoff
        nextBackoff = backoff
    }

    /// nil: go ahead (perhaps as the probe); else fail fast, the store being down until then.
    public mutating func admit(now: Instant) -> Instant? {
        guard let downUntil else { return nil }
        if now < downUntil || probing { return downUntil }
        probing = true
        return nil
    }

    /// The store answered: it is up.
    public mutating func succeeded() {
        downUntil = nil
        probing = false
        nextBackoff = initialBackoff
    }

    /// The store could not be reached.
    public mutating func failed(now: Instant) {
        probing = false
        downUntil = now.advanced(by: nextBackoff)
        nextBackoff = min(nextBackoff * 2, maxBackoff)
    }

    /// A call admitted as the probe ended without saying whether the store is up.
    public mutating func probeAbandoned() { probing = false }
}
