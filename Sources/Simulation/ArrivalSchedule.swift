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

/// The open model's arrivals: per phase at the phase's rate, Poisson or evenly spaced.
/// A lazy sequence, so a long run never holds its whole schedule in memory.
public struct ArrivalSchedule: Sequence, Sendable {
    public let phases: [Phase]
    public let arrivals: ArrivalProcess
    public let mix: MixChooser
    public let userCount: Int
    public let chooser: KeyChooser
    public let seed: UInt64

    public init(scenario: Scenario, userCount: Int) {
        phases = scenario.load.phases
        arrivals = scenario.load.arrivals
        mix = MixChooser(scenario.load.mix)
        self.userCount = userCount
        chooser = scenario.userChooser
        seed = scenario.seed
    }

    /// Where each phase starts, in nanoseconds after the run's start, plus the end of the last.
    public var boundaries: [Int64] {
        var t: Int64 = 0
        return [0] + phases.map { t += $0.duration.nanoseconds; return t }
    }

    public func makeIterator() -> Iterator { Iterator(schedule: self) }

    public struct Iterator: IteratorProtocol {
        let schedule: ArrivalSchedule
        let ends: [Int64]
        var rng: SeededRandom
        var phase = 0
        var t: Double
        var index = 0

        init(schedule: ArrivalSchedule) {
            self.schedule = schedule
            ends = Array(schedule.boundaries.dropFirst())
            rng = SeededRandom(seed: schedule.seed).fork(7)
            t = 0
        }

        public mutating func next() -> IntendedOperation? {
            while phase < schedule.phases.count {
                let rate = schedule.phases[phase].rate ?? 0
                if rate > 0 {
                    let gap = schedule.arrivals == .poisson ? -log(1 - rng.unit()) / rate : 1 / rate
                    let candidate = t + gap * 1e9
                    if candidate < Double(ends[phase]) {
                        t = candidate
                        let op = IntendedOperation(index: index, at: Int64(t), phase: phase, operation: schedule.mix.choose(&rng),
                                                   userIndex: schedule.chooser.choose(count: schedule.userCount, &rng),
                                                   argument: rng.next())
                        index += 1
                        return op
                    }
                }
                // Memorylessness lets the next phase start its own clock at the boundary.
                t = Double(ends[phase])
                phase += 1
            }
            return nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
