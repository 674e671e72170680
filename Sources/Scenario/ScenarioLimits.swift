import Foundation

/// The largest values a scenario may ask for: what one stacksim process can represent and hold
/// in memory on the machine it runs on. Every value the loader or a flag accepts is inside
/// these bounds, so no input can crash the process or exhaust its memory. Fixed bounds come
/// from representation (a duration is nanoseconds in an `Int64`) and from what one generator
/// process can do; the others are a quarter of the machine's memory divided by what one unit
/// costs, measured on the embedded stack (docs/report-schema.md, "Limits").
public struct ScenarioLimits: Sendable, Equatable {
    public var memoryBytes: UInt64

    public init(memoryBytes: UInt64) { self.memoryBytes = memoryBytes }

    public static let current = ScenarioLimits(memoryBytes: ProcessInfo.processInfo.physicalMemory)

    /// Any one duration: ten years (an `Int64` of nanoseconds reaches 292).
    public static let maxDuration: Duration = .seconds(3650 * 86_400)
    /// Any one rate: a million arrivals a second, several times what one process dispatches
    /// (docs/performance.md); a higher rate could only be dropped.
    public static let maxRate = 1_000_000.0
    /// Any one mix weight: sums of many stay exact and finite.
    public static let maxWeight = 1e9

    /// Memory one recorded second keeps until the report is written: an interval row and a
    /// histogram-log line per operation, a stack sample, and their JSON.
    static let bytesPerSecond: UInt64 = 32 << 10
    /// Memory one closed-model virtual user costs (its place in the request loop's queue, its
    /// random stream and, while it waits for a reply, its request's task): 0.3–2.6 KiB
    /// measured (docs/performance.md).
    static let bytesPerVirtualUser: UInt64 = 4 << 10
    /// Memory one request sent and not yet finished costs (its task and closure).
    static let bytesPerOutstanding: UInt64 = 8 << 10
    /// Memory one task of the dataset costs on the embedded stack (row, document, snapshot,
    /// indexes, and its share of users and activity): 1.9 KiB measured (docs/performance.md).
    static let bytesPerTask: UInt64 = 4 << 10

    private var budget: UInt64 { memoryBytes / 4 }

    /// The whole load (every phase and the graceful stop): each second is kept for the report.
    public var maxRunLength: Duration { .seconds(Int64(min(budget / Self.bytesPerSecond, 3650 * 86_400))) }
    /// Closed-model users at once.
    public var maxVirtualUsers: Int { Int(budget / Self.bytesPerVirtualUser) }
    /// Open-model requests sent and not yet finished; arrivals beyond are dropped and counted.
    public var maxOutstanding: Int { Int(budget / Self.bytesPerOutstanding) }
    /// Tasks in the largest dataset the sizes could draw (every organization at its largest).
    public var maxDatasetTasks: Int { Int(budget / Self.bytesPerTask) }

    /// The first value of `scenario` beyond a bound that spans several keys (each key's own
    /// bound is checked where it is read): the key path and what was expected.
    public func violation(in scenario: Scenario) -> (path: String, message: String)? {
        let length = scenario.load.totalDuration + scenario.load.gracefulStop
        if length > maxRunLength {
            return ("load.phases", "expected the phases and the graceful stop to last at most \(ScenarioText.text(maxRunLength)) "
                    + "(each second is kept for the report; \(memoryBytes >> 20) MiB of memory), got \(ScenarioText.text(length))")
        }
        let users = scenario.load.phases.compactMap(\.users?.maximum).max() ?? 0
        if users > maxVirtualUsers {
            return ("load.phases", "expected at most \(maxVirtualUsers) users at once on this machine, got \(users)")
        }
        if let asked = scenario.load.maxOutstanding, asked > maxOutstanding {
            return ("load.max_outstanding", "expected at most \(maxOutstanding) on this machine, got \(asked)")
        }
        let d = scenario.dataset
        let tasks = Double(d.organizations) * d.usersPerOrganization.mean * d.tasksPerUser.mean
        if tasks > Double(maxDatasetTasks) {
            return ("dataset", "expected a dataset of at most \(maxDatasetTasks) tasks on this machine (organizations × mean "
                    + "users_per_org × mean tasks_per_user), got about \(ScenarioText.number(tasks.rounded()))")
        }
        return nil
    }
}

extension SizeSpec {
    /// The mean of the sizes this spec draws (a zipf size is `min + k` with P(k) ∝ (k + 1)^-s).
    public var mean: Double {
        switch self {
        case .constant(let n): return Double(n)
        case .uniform(let lo, let hi): return Double(lo + hi) / 2
        case .zipf(let lo, let hi, let s):
            var weights = 0.0, weighted = 0.0
            for k in 0...(hi - lo) {
                let w = 1 / pow(Double(k + 1), s)
                weights += w
                weighted += w * Double(k)
            }
            return Double(lo) + weighted / weights
        }
    }
}
