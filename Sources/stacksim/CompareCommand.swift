import ArgumentParser
import Foundation
import Reporting
import Scenario

/// Regression limits, shared by `compare` and `run --baseline`.
struct RegressionOptions: ParsableArguments {
    @Option(help: "A percentile regresses only if it grew by more than this fraction beyond the run's shift (e.g. 10% or 0.1).")
    var maxRelative = "10%"

    @Option(help: "… and by more than this: a share of the operation's baseline p50 (5%), or milliseconds (0.5ms).")
    var minAbsolute = "5%"

    @Option(help: "The chance that a run of unchanged code is flagged at all, shared out over its comparisons.")
    var alpha = 0.05

    @Flag(help: "Compare runs of different scenarios (refused otherwise: their operations are not the same workload).")
    var allowOtherScenario = false

    func limits() throws -> Comparison.Limits {
        guard alpha > 0, alpha < 1 else { throw CommandFailure(status: .badInput, message: "--alpha: expected a probability in (0, 1), got \(alpha)") }
        let relative = Self.fraction(maxRelative)
        guard let relative, relative >= 0 else {
            throw CommandFailure(status: .badInput, message: "--max-relative: expected a percentage like 10%, got '\(maxRelative)'")
        }
        let floor: AbsoluteFloor?
        if minAbsolute.hasSuffix("%") {
            floor = Self.fraction(minAbsolute).map(AbsoluteFloor.ofMedian)
        } else {
            floor = Double(minAbsolute.hasSuffix("ms") ? String(minAbsolute.dropLast(2)) : minAbsolute).map(AbsoluteFloor.milliseconds)
        }
        guard let floor, floor.ms(medianMs: 1) >= 0 else {
            throw CommandFailure(status: .badInput, message: "--min-absolute: expected a share of p50 like 5% or milliseconds like 0.5ms, "
                                 + "got '\(minAbsolute)'")
        }
        return Comparison.Limits(relative: relative, floor: floor, alpha: alpha)
    }

    /// "10%" → 0.1, "0.1" → 0.1.
    static func fraction(_ text: String) -> Double? {
        text.hasSuffix("%") ? Double(text.dropLast()).map { $0 / 100 } : Double(text)
    }

    /// Refuses baseline runs that cannot judge a run of `scenario`: another scenario's (unless
    /// allowed), or ones without an operation that has enough requests to compare.
    /// `clock`: the current run's (`wall` or `virtual`); a baseline in the other one is refused —
    /// simulated and measured latencies are not comparable.
    func check(base: [(name: String, run: RunReport)], scenario: String, clock: String) throws {
        _ = try limits()
        for (name, run) in base {
            if (run.clock ?? ClockKind.wall.rawValue) != clock {
                throw CommandFailure(status: .badInput, message: "\(name): a baseline run in \(run.clock ?? ClockKind.wall.rawValue) time, "
                                     + "this run in \(clock) time: simulated and measured latencies are not comparable")
            }
            if run.scenario.name != scenario && !allowOtherScenario {
                throw CommandFailure(status: .badInput, message: "\(name): a baseline of scenario '\(run.scenario.name)', not "
                                     + "'\(scenario)'; pass --allow-other-scenario if comparing them is meant")
            }
            if !run.operations.contains(where: { $0.ok >= Comparison.minimumCount }) {
                throw CommandFailure(status: .badInput, message: "\(name): nothing to compare against — no operation has "
                                     + "\(Comparison.minimumCount) successful requests or more")
            }
        }
    }

    func compare(base: [(name: String, run: RunReport)], current: RunReport) throws -> BaselineComparison {
        try check(base: base, scenario: current.scenario.name, clock: current.clock ?? ClockKind.wall.rawValue)
        let names = base.map(\.name).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.joined(separator: ", ")
        return Comparison.compare(baselines: base.map(\.run), current: current, baseName: names, limits: try limits())
    }
}

enum ReportFiles {
    /// A report.json of the schema this stacksim writes; any other is refused with what to do.
    static func read(_ path: String) throws -> RunReport {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CommandFailure(status: .badInput, message: "\(path): not a stacksim report.json (\(error))")
        }
        return try report(from: data, path: path)
    }

    /// `data`, read from `path`, as a report of this stacksim's schema.
    static func report(from data: Data, path: String) throws -> RunReport {
        struct Version: Decodable { var schemaVersion: Int }
        do {
            let version = try RunReport.decoder().decode(Version.self, from: data).schemaVersion
            guard version == RunReport.currentSchemaVersion else {
                throw CommandFailure(status: .badInput, message: "\(path): report schema \(version), but this stacksim reads schema "
                                     + "\(RunReport.currentSchemaVersion) (docs/report-schema.md); run the scenario again to make a new one")
            }
            return try RunReport.decoder().decode(RunReport.self, from: data)
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(status: .badInput, message: "\(path): not a stacksim report.json (\(error))")
        }
    }

    /// The runs a baseline file holds: a stored baseline's runs, or one report.json.
    static func readRuns(_ path: String) throws -> [(name: String, run: RunReport)] {
        struct Kind: Decodable { var kind: String?; var schemaVersion: Int? }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CommandFailure(status: .badInput, message: "\(path): cannot read it (\(error.localizedDescription))")
        }
        guard (try? RunReport.decoder().decode(Kind.self, from: data))?.kind == BaselineSet.kind else {
            return [(path, try report(from: data, path: path))]
        }
        do {
            let set = try RunReport.decoder().decode(BaselineSet.self, from: data)
            guard set.schemaVersion == RunReport.currentSchemaVersion else {
                throw CommandFailure(status: .badInput, message: "\(path): a baseline of report schema \(set.schemaVersion), but this stacksim "
                                     + "reads schema \(RunReport.currentSchemaVersion); store new runs with `stacksim baseline update`")
            }
            return set.runs.map { (path, $0) }
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(status: .badInput, message: "\(path): not a stacksim baseline (\(error))")
        }
    }

    /// Makes sure the report can be written before anything runs, so no run is lost to it.
    static func checkWritable(_ directory: URL, flag: String) throws {
        let probe = directory.appendingPathComponent(".stacksim-write-check")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data().write(to: probe)
            try FileManager.default.removeItem(at: probe)
        } catch {
            throw CommandFailure(status: .badInput, message: "\(flag): cannot write reports into \(directory.path) "
                                 + "(expected a directory that can be created and written): \(error.localizedDescription)")
        }
    }
}

struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Judge CURRENT against the baseline runs per operation and percentile; exit 11 on a regression.",
        discussion: "Every argument but the last is a baseline: a report.json or a stored baseline of several runs "
            + "(`baseline update`). Several runs let the comparison measure the noise between runs.")

    @Argument(help: "Baseline files, then the report.json to judge.")
    var reports: [String]

    @OptionGroup var limits: RegressionOptions

    func run() async throws {
        try await StackSimCommand.guarded {
            guard reports.count >= 2, let current = reports.last else {
                throw CommandFailure(status: .badInput, message: "compare: expected one or more baseline files and then the report.json to judge")
            }
            let base = try reports.dropLast().flatMap(ReportFiles.readRuns)
            let comparison = try limits.compare(base: base, current: try ReportFiles.read(current))
            guard !comparison.findings.isEmpty else {
                throw CommandFailure(status: .badInput, message: "\(current): nothing to compare — no operation has "
                                     + "\(Comparison.minimumCount) successful requests or more in every report")
            }
            Output.line(TextReports.comparison(comparison))
            return comparison.regressions.isEmpty ? .ok : .regression
        }
    }
}

struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline", abstract: "Manage stored baselines.", subcommands: [Update.self])

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append runs to the stored baseline of their scenario in Reports/baselines/, keeping the last few.")

        @Argument(help: "The report.json files to keep.")
        var reports: [String]

        @Option(help: "Directory of baselines.")
        var directory = "Reports/baselines"

        @Option(help: "How many runs the baseline keeps (the oldest go first).")
        var keep = BaselineSet.defaultKeep

        func run() async throws {
            try await StackSimCommand.guarded {
                guard keep >= 1 else { throw CommandFailure(status: .badInput, message: "--keep: expected 1 or more, got \(keep)") }
                guard !reports.isEmpty else { throw CommandFailure(status: .badInput, message: "baseline update: expected report.json files") }
                let runs = try reports.map(ReportFiles.read)
                for (path, run) in zip(reports, runs) {
                    guard run.verdict != .invalid else {
                        throw CommandFailure(status: .invalidRun, message: "\(path) is an invalid run; it cannot be a baseline")
                    }
                    guard run.scenario.name == runs[0].scenario.name else {
                        throw CommandFailure(status: .badInput, message: "\(path): scenario '\(run.scenario.name)', not '\(runs[0].scenario.name)' "
                                             + "like \(reports[0]); a baseline holds runs of one scenario")
                    }
                }
                let scenario = runs[0].scenario.name
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let target = URL(fileURLWithPath: directory).appendingPathComponent("\(RunCommand.safeName(scenario)).json")
                let existing = FileManager.default.fileExists(atPath: target.path)
                    ? try ReportFiles.readRuns(target.path).map(\.run).filter { $0.scenario.name == scenario } : []
                let set = BaselineSet(scenario: scenario, runs: existing).appending(runs, keep: keep)
                try RunReport.encoder().encode(set).write(to: target, options: .atomic)
                let machine = runs[0].machine
                Output.line("baseline for \(scenario): \(target.relativePath), \(set.runs.count) runs (machine: \(machine.cores) cores, "
                            + "\(machine.os), Swift \(machine.swiftVersion))")
                return .ok
            }
        }
    }
}
