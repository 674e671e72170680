import StackCore
import StackModel
import Scenario

/// One operation the load intends to run: when, what, for whom, with which arguments.
/// Fully determined by the seed and the scenario; the clock decides only when it really runs.
public struct IntendedOperation: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    /// Nanoseconds after the run's start.
    public var at: Int64
    public var phase: Int
    public var operation: String
    /// Index into the run's user list.
    public var userIndex: Int
    /// Seeds the operation's own choices (which task, which status, which search term).
    public var argument: UInt64

    public var description: String {
        let ms = Double(at) / 1e6
        return "#\(index) t=\(String(format: "%.3f", ms))ms phase=\(phase) \(operation) user=\(userIndex) arg=\(String(argument, radix: 16))"
    }
}

/// Weighted choice of an operation by the mix.
public struct MixChooser: Sendable {
    private let names: [String]
    private let cumulative: [Double]

    public init(_ mix: [MixEntry]) {
        let used = mix.filter { $0.weight > 0 }
        names = used.map(\.operation)
        var total = 0.0
        cumulative = used.map { total += $0.weight; return total }
    }

    public func choose(_ rng: inout SeededRandom) -> String {
        let u = rng.unit() * cumulative.last!
        return names[cumulative.firstIndex { u < $0 } ?? names.count - 1]
    }
}

/// The cumulative arrival intensity Λ(t) of one phase — the expected number of arrivals by
/// time t — integrated in 10 ms steps as the arrivals ask for it, so its memory does not grow
/// with the phase's length. Arrival times come from inverting it (time rescaling), which turns
/// unit-rate arrivals into arrivals that follow any rate shape.
struct CumulativeIntensity {
    static let step = 0.01
    let shape: RateShape
    let length: Double
    let cap: Double?
    let steps: Int
    /// The step the last target fell in, and Λ at its start and its end.
    private var index = 1
    private var below = 0.0
    private var above: Double

    init(shape: RateShape, length: Double, cap: Double?) {
        self.shape = shape; self.length = length; self.cap = cap
        steps = max(1, Int((length / Self.step).rounded(.up)))
        above = 0
        above = increment(1)
    }

    /// Λ's growth over step `k` (1-based): the capped rate at its middle times its width.
    private func increment(_ k: Int) -> Double {
        let t0 = Double(k - 1) * Self.step, t1 = min(Double(k) * Self.step, length)
        let rate = min(max(shape.rate(at: (t0 + t1) / 2, length: length), 0), cap ?? .infinity)
        return rate * max(0, t1 - t0)
    }

    /// The moment (seconds into the phase) at which Λ reaches `target`; nil when it never does.
    /// Targets must not decrease from one call to the next.
    mutating func time(reaching target: Double) -> Double? {
        while above < target {
            guard index < steps else { return nil }
            index += 1
            below = above
            above += increment(index)
        }
        guard target > 0 else { return 0 }
        let rise = above - below
        let fraction = rise > 0 ? (target - below) / rise : 0
        return min(length, (Double(index - 1) + fraction) * Self.step)
    }
}

/// The open model's arrivals: each phase's rate shape, Poisson or evenly spaced, under the
/// load's rate cap, each phase with its own mix. A lazy sequence: a long run never holds its
/// whole schedule in memory.
public struct ArrivalSchedule: Sequence, Sendable {
    public let phases: [Phase]
    public let arrivals: ArrivalProcess
    public let mixes: [MixChooser]
    public let maxRate: Double?
    public let userCount: Int
    public let chooser: KeyChooser
    public let seed: UInt64
    /// Where each phase starts, in nanoseconds after the run's start, plus the end of the last.
    public let boundaries: [Int64]

    public init(scenario: Scenario, userCount: Int) {
        phases = scenario.load.phases
        arrivals = scenario.load.arrivals
        mixes = phases.map { MixChooser($0.mix ?? scenario.load.mix) }
        maxRate = scenario.load.maxRate
        self.userCount = userCount
        chooser = scenario.userChooser
        seed = scenario.seed
        var t: Int64 = 0
        boundaries = [0] + phases.map { t += $0.duration.nanoseconds; return t }
    }

    /// The end of the last phase, in nanoseconds after the run's start.
    public var end: Int64 { boundaries.last! }

    /// The phase `t` ns after the run's start falls in (the first before it, the last after it).
    public func phaseIndex(at t: Int64) -> Int {
        Swift.max(0, Swift.min(phases.count - 1, (boundaries.lastIndex { $0 <= t } ?? 0)))
    }

    /// The intended arrival rate `t` ns after the run's start, the cap applied; nil outside the
    /// run or for a closed-model phase.
    public func targetRate(at t: Int64) -> Double? {
        guard t >= 0, t < end else { return nil }
        let index = phaseIndex(at: t)
        guard let shape = phases[index].rate else { return nil }
        let rate = shape.rate(at: Double(t - boundaries[index]) / 1e9, length: phases[index].duration.seconds)
        return Swift.min(Swift.max(rate, 0), maxRate ?? .infinity)
    }

    public func makeIterator() -> Iterator { Iterator(schedule: self) }

    public struct Iterator: IteratorProtocol {
        let schedule: ArrivalSchedule
        let starts: [Int64]
        var rng: SeededRandom
        var phase = -1
        var intensity: CumulativeIntensity?
        var target = 0.0
        var index = 0

        init(schedule: ArrivalSchedule) {
            self.schedule = schedule
            starts = schedule.boundaries
            rng = SeededRandom(seed: schedule.seed).fork(7)
        }

        public mutating func next() -> IntendedOperation? {
            while true {
                if intensity != nil {
                    target += schedule.arrivals == .poisson ? -log(1 - rng.unit()) : 1
                    if let t = intensity?.time(reaching: target), let length = intensity?.length, t < length {
                        let op = IntendedOperation(index: index, at: starts[phase] + Int64(t * 1e9), phase: phase,
                                                   operation: schedule.mixes[phase].choose(&rng),
                                                   userIndex: schedule.chooser.choose(count: schedule.userCount, &rng),
                                                   argument: rng.next())
                        index += 1
                        return op
                    }
                }
                // Memorylessness lets each phase start its own clock at its boundary.
                phase += 1
                guard phase < schedule.phases.count else { return nil }
                let p = schedule.phases[phase]
                intensity = p.rate.map { CumulativeIntensity(shape: $0, length: p.duration.seconds, cap: schedule.maxRate) }
                target = 0
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
