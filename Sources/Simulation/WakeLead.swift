/// How much earlier than due the request loop asks the kernel to wake it, learnt from the
/// kernel's lateness in waking it (tens of microseconds on a virtual machine); what is left of
/// the way when it wakes early is waited out by looking at the clock, which costs CPU.
///
/// Two ways to follow the lateness, for two kinds of sleep:
/// - `lateOnes`, for long sleeps: up quickly (a quarter of the way to a later wake-up), down
///   slowly (a thirty-second of the way to an earlier one). After a deep idle stretch wakes very
///   late, the lead stays long for a while, so the next arrivals are not released late; it sits
///   near the 80th percentile of the lateness.
/// - `median`, for short sleeps at high arrival rates: one step towards each wake-up, up or down
///   alike, so it settles where as many lie above as below. A lead at a high quantile would make
///   nearly every short sleep end early and wait most of a lead by the clock: about 6 µs of CPU
///   per request at 20,000 arrivals a second; at the median half end a few microseconds late.
///   The step is an eighth of the lead (at least 1 µs): from zero to a slow machine's hundreds of
///   microseconds in a few dozen wake-ups.
struct WakeLead: Sendable {
    enum Tracking: Sendable { case lateOnes, median }

    let tracking: Tracking
    private(set) var nanoseconds: Int64 = 0
    static let max: Int64 = 200_000
    static let minStep: Int64 = 1_000

    init(_ tracking: Tracking) { self.tracking = tracking }

    /// Learns from one wake-up that came `late` nanoseconds after the moment asked for.
    mutating func learn(late: Int64) {
        guard late >= 0, late != nanoseconds else { return }
        let next: Int64
        switch tracking {
        case .lateOnes:
            next = nanoseconds + (late - nanoseconds) / (late > nanoseconds ? 4 : 32)
        case .median:
            let step = Swift.max(Self.minStep, nanoseconds / 8)
            next = nanoseconds + (late > nanoseconds ? step : -step)
        }
        nanoseconds = Swift.min(Self.max, Swift.max(0, next))
    }
}
