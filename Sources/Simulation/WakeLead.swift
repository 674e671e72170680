/// How much earlier than due the request loop asks the kernel to wake it: the median of the
/// kernel's lateness in waking it (tens of microseconds on a virtual machine), learnt as it goes.
///
/// Half the wake-ups then come early and wait the rest of the way by the clock, and half come a
/// few microseconds late, which the latency (measured from the intended start) shows. A lead at a
/// high quantile of the lateness made nearly every wake-up early and waited by the clock most of
/// a lead each time: about 6 µs of CPU per request at 20,000 arrivals a second.
///
/// Each lateness seen moves the estimate one step towards it, up or down by the same step, so it
/// settles where as many lie above as below. The step is an eighth of the lead (at least 1 µs): it
/// climbs from zero to a slow machine's hundreds of microseconds in a few dozen wake-ups, and
/// stays within a step of the median once there.
struct WakeLead: Sendable {
    private(set) var nanoseconds: Int64 = 0
    static let max: Int64 = 200_000
    static let minStep: Int64 = 1_000

    /// Learns from one wake-up that came `late` nanoseconds after the moment asked for.
    mutating func learn(late: Int64) {
        guard late >= 0, late != nanoseconds else { return }
        let step = Swift.max(Self.minStep, nanoseconds / 8)
        nanoseconds = Swift.min(Self.max, Swift.max(0, nanoseconds + (late > nanoseconds ? step : -step)))
    }
}
