import ArgumentParser
import Scenario

/// The flags that override a scenario file, shared by `run` and `scenarios --explain`.
struct ScenarioOverrides: ParsableArguments {
    @Option(help: "Total length of the recorded phases (e.g. 20s, 5m); each recorded phase is scaled in proportion, warm-up keeps its length.")
    var duration: String?

    @Option(help: "Arrival rate for every open-model phase (e.g. 500/s).")
    var rate: String?

    @Option(help: "Concurrent users for every closed-model phase.")
    var users: Int?

    @Option(help: "Seed for the dataset and the workload.")
    var seed: UInt64?

    @Option(help: "wall, or virtual: simulated time on the embedded stack — the run takes as long as its work and gives the same result on any machine (overrides clock).")
    var clock: String?

    /// Applies the flags; returns the key paths they set, each with the flag that set it.
    @discardableResult
    func apply(to scenario: inout Scenario) throws -> [String: String] {
        var sources: [String: String] = [:]
        let phases = scenario.load.phases.indices
        if let seed {
            scenario.seed = seed
            sources["seed"] = "--seed \(seed)"
        }
        if let clock {
            scenario.clock = try Self.clock(clock)
            sources["clock"] = "--clock \(clock)"
        }
        if let duration {
            let total = try Self.duration(duration, flag: "--duration")
            let recorded = scenario.load.phases.filter(\.record).reduce(Duration.zero) { $0 + $1.duration }
            guard recorded > .zero else { throw CommandFailure(status: .badInput, message: "--duration: the scenario has no recorded phase") }
            for index in phases where scenario.load.phases[index].record {
                scenario.load.phases[index].duration = total * (scenario.load.phases[index].duration / recorded)
                sources["load.phases[\(index)].duration"] = "--duration \(duration)"
            }
        }
        if let rate {
            guard scenario.load.model == .open else {
                throw CommandFailure(status: .badInput, message: "--rate: the scenario uses the closed model; use --users")
            }
            let value = try Self.rate(rate, flag: "--rate")
            for index in phases {
                scenario.load.phases[index].rate = .constant(value)
                sources["load.phases[\(index)].rate"] = "--rate \(rate)"
            }
        }
        if let users {
            guard scenario.load.model == .closed, users > 0 else {
                throw CommandFailure(status: .badInput, message: "--users: expected a positive count for a closed-model scenario")
            }
            for index in phases {
                scenario.load.phases[index].users = .constant(users)
                sources["load.phases[\(index)].users"] = "--users \(users)"
            }
        }
        if let (path, message) = ScenarioLimits.current.violation(in: scenario) {
            let flag = sources.first { $0.key.hasPrefix(path) }?.value
            throw CommandFailure(status: .badInput, message: "\(flag ?? scenario.file ?? scenario.name): \(path): \(message)")
        }
        return sources
    }

    /// `--clock`'s value, or bad input saying what was expected.
    static func clock(_ text: String) throws -> ClockKind {
        guard let kind = ClockKind(rawValue: text) else {
            throw CommandFailure(status: .badInput, message: "--clock: expected wall or virtual, got '\(text)'")
        }
        return kind
    }

    /// A flag's positive duration, or bad input naming the flag and what was expected.
    static func duration(_ text: String, flag: String) throws -> Duration {
        guard let value = ScenarioText.duration(text), value > .zero else {
            throw CommandFailure(status: .badInput, message: "\(flag): " + ScenarioText.durationProblem(text))
        }
        return value
    }

    /// A flag's positive rate, or bad input naming the flag and what was expected.
    static func rate(_ text: String, flag: String) throws -> Double {
        guard let value = ScenarioText.rate(text), value > 0 else {
            throw CommandFailure(status: .badInput, message: "\(flag): " + ScenarioText.rateProblem(text))
        }
        return value
    }
}
