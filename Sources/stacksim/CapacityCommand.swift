import ArgumentParser
import Capacity
import Foundation
import Reporting
import Scenario
import Simulation
import StackLive
import StackSim
import Synchronization

struct CapacityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity",
        abstract: "Search for the most load the stack holds within its SLO, and name what saturates first.",
        discussion: """
            Grows the load geometrically until a probe breaks the SLO, bisects, and confirms the answer with a longer run; \
            every probe is a full run with its own report. The scenario's `capacity:` section (Scenarios/README.md) sets the \
            dimension, the loads, the probe lengths and the SLO (default: its thresholds). Reports go to \
            Reports/<scenario>/capacity-<timestamp>/ unless --out is given. Exit codes: 0 found (or the SLO holds at the \
            highest load allowed), 10 the SLO fails even at the lowest load, 12 the harness could not drive a probe's load, \
            13 the search did not converge (a lower bound only), 64 bad input, 69 target unreachable, 130 interrupted.
            """
    )

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @Option(help: "The first probe's load (overrides capacity.start): a rate (500/s) or a count of users or organizations.")
    var start: String?

    @Option(help: "The highest load to try (overrides capacity.max).")
    var max: String?

    @Option(help: "Each probe's judged length (overrides capacity.probe), e.g. 20s.")
    var probe: String?

    @Option(name: .customLong("max-probes"), help: "Search probes at most (overrides capacity.max_probes).")
    var maxProbes: Int?

    @Option(help: "Seed for the dataset and the workload.")
    var seed: UInt64?

    @Option(help: "wall, or virtual: every probe in simulated time on the embedded stack (overrides clock).")
    var clock: String?

    @Option(help: "Directory to write the capacity report into (default: Reports/<scenario>/capacity-<timestamp>).")
    var out: String?

    @OptionGroup var live: LiveOptions

    @OptionGroup var projection: ProjectionOptions

    @OptionGroup var machine: MachineOptions

    @Flag(help: "No progress lines.")
    var quiet = false

    @Flag(name: .customLong("no-server-evidence"), help: "Do not ask the stores for their own account of each probe.")
    var noServerEvidence = false

    func run() async throws {
        try await StackSimCommand.guarded {
            var scenario = try ScenarioFiles.load(self.scenario)
            try applyFlags(to: &scenario)
            let wakeLatency = try machine.wakeLatency()
            let projected = try projection.apply(to: &scenario, target: live.target)
            try live.validateTarget(for: scenario)
            let plan: CapacityPlan
            switch CapacityPlan.make(scenario) {
            case .success(let made): plan = made
            case .failure(let problem):
                throw CommandFailure(status: .badInput, message: "\(scenario.file ?? scenario.name): \(problem.key): \(problem.message)")
            }
            if plan.dimension == .organizations, live.target == "live" {
                throw CommandFailure(status: .badInput, message: "capacity.dimension: organizations re-seeds the dataset for every probe, "
                                     + "which on a live target would replace the stores' dataset each time; use the embedded target, "
                                     + "or the rate dimension with the dataset the servers hold")
            }
            let directory = out.map { URL(fileURLWithPath: $0) } ?? Self.defaultDirectory(for: scenario.name, at: Date())
            try ReportFiles.checkWritable(directory, flag: out == nil ? "the report directory" : "--out")
            let stack = live.target == "live" ? try await live.connect(pool: scenario.stack.pool) : nil
            defer { stack?.shutdown() }
            let stop = RunStop()
            let interrupts = InterruptHandler(stop: stop)
            defer { interrupts.cancel() }
            var search = CapacityRun(plan: plan, target: live.target, directory: directory, stop: stop)
            let status = ProbeStatus()
            search.announce = { [quiet] index, load, purpose, held, notHeld in
                let bounds = "held " + (held.map(plan.dimension.describe) ?? "–") + ", not held " + (notHeld.map(plan.dimension.describe) ?? "–")
                status.set("probe \(index) \(purpose.rawValue) at \(plan.dimension.describe(load)) [\(bounds)]")
                if !quiet { Output.line("capacity: probe \(index) (\(purpose.rawValue)) at \(plan.dimension.describe(load)); \(bounds)") }
            }
            let evidence = !noServerEvidence, target = live.target
            let progress = quiet ? nil : ProgressPrinter.make(clock: scenario.clock, prefix: { status.get() })
            let report = try await search.run { probeScenario, stop, salt in
                var options = RunOptions()
                options.workloadSalt = salt
                options.target = target
                options.serverEvidence = evidence
                options.cpuWakeLatency = wakeLatency
                options.stop = stop
                options.progress = progress
                projected?.configure(&options, for: probeScenario)
                var (result, report) = try await RunCommand.execute(probeScenario, on: stack, options: options)
                if let projected { report.mark(projection: projected.info(for: probeScenario)) }
                return (result, report)
            }
            Output.line("\n" + report.outcome.summary)
            if let saturation = report.saturation { Output.line("what saturates first: \(saturation.evidence)") }
            Output.line("\nreports: " + ["capacity.json", "capacity.md", "capacity.html"].map { directory.appendingPathComponent($0).relativePath }
                .joined(separator: ", ") + " (and each probe's under probe-NN/)")
            return switch report.outcome.stop {
            case .converged, .maxLoad: .ok
            case .failsAtMinimum: .thresholdsFailed
            case .harnessLimit: .invalidRun
            case .budgetSpent: .notConverged
            case .interrupted: .interrupted
            }
        }
    }

    /// The flags over the file's `capacity:` section; a wrong value names its flag.
    func applyFlags(to scenario: inout Scenario) throws {
        if let seed { scenario.seed = seed }
        if let clock { scenario.clock = try ScenarioOverrides.clock(clock) }
        func load(_ text: String, _ flag: String) throws -> Double {
            let value = try ScenarioOverrides.rate(text, flag: flag)
            if scenario.capacity.dimension(for: scenario.load.model).isWhole, value != value.rounded() {
                throw CommandFailure(status: .badInput, message: "\(flag): expected a whole number of \(scenario.capacity.dimension(for: scenario.load.model).rawValue), got \(text)")
            }
            return value
        }
        if let start { scenario.capacity.start = try load(start, "--start") }
        if let max { scenario.capacity.maximum = try load(max, "--max") }
        if let lo = scenario.capacity.start, let hi = scenario.capacity.maximum, lo > hi {
            throw CommandFailure(status: .badInput, message: "--start/--max: expected the start (\(ScenarioText.number(lo))) at most the maximum (\(ScenarioText.number(hi)))")
        }
        if let probe { scenario.capacity.probe = try ScenarioOverrides.duration(probe, flag: "--probe") }
        if let maxProbes {
            guard (2...1000).contains(maxProbes) else {
                throw CommandFailure(status: .badInput, message: "--max-probes: expected 2 to 1000, got \(maxProbes)")
            }
            scenario.capacity.maxProbes = maxProbes
        }
    }

    static func defaultDirectory(for name: String, at date: Date) -> URL {
        let run = RunCommand.defaultDirectory(for: name, at: date)
        return run.deletingLastPathComponent().appendingPathComponent("capacity-" + run.lastPathComponent)
    }
}

/// The line in front of every progress line: which probe is running.
final class ProbeStatus: Sendable {
    private let text = Mutex("")

    func set(_ value: String) { text.withLock { $0 = value } }
    func get() -> String { text.withLock { $0 } }
}
