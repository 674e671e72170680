import ArgumentParser
import Foundation
import Reporting

/// Regression limits, shared by `compare` and `run --baseline`.
struct RegressionOptions: ParsableArguments {
    @Option(help: "A percentile regresses only if it grew by more than this fraction (e.g. 20% or 0.2).")
    var maxRelative = "20%"

    @Option(help: "… and by more than this many milliseconds.")
    var minAbsoluteMs = 0.5

    @Option(help: "Significance level of the Mann-Whitney U test on per-second values.")
    var alpha = 0.01

    @Flag(help: "Compare runs of different scenarios (refused otherwise: their operations are not the same workload).")
    var allowOtherScenario = false

    func relative() throws -> Double {
        let value = maxRelative.hasSuffix("%") ? Double(maxRelative.dropLast()).map { $0 / 100 } : Double(maxRelative)
        guard let value, value >= 0 else {
            throw CommandFailure(status: .badInput, message: "--max-relative: expected a percentage like 20%, got '\(maxRelative)'")
        }
        return value
    }

    /// Refuses a baseline that cannot judge a run of `scenario`: another scenario's (unless
    /// allowed), or one without an operation that has enough requests to compare.
    func check(base: RunReport, baseName: String, scenario: String) throws {
        guard minAbsoluteMs >= 0, alpha > 0, alpha < 1 else {
            throw CommandFailure(status: .badInput, message: "--min-absolute-ms must be ≥ 0 and --alpha in (0, 1)")
        }
        _ = try relative()
        if base.scenario.name != scenario && !allowOtherScenario {
            throw CommandFailure(status: .badInput, message: "\(baseName): a baseline of scenario '\(base.scenario.name)', not "
                                 + "'\(scenario)'; pass --allow-other-scenario if comparing them is meant")
        }
        if !base.operations.contains(where: { $0.ok >= Comparison.minimumCount }) {
            throw CommandFailure(status: .badInput, message: "\(baseName): nothing to compare against — no operation has "
                                 + "\(Comparison.minimumCount) successful requests or more")
        }
    }

    func compare(base: RunReport, baseName: String, current: RunReport) throws -> BaselineComparison {
        try check(base: base, baseName: baseName, scenario: current.scenario.name)
        return Comparison.compare(base: base, current: current, baseName: baseName, relative: try relative(),
                                  absoluteMs: minAbsoluteMs, alpha: alpha)
    }
}

enum ReportFiles {
    /// A report.json of the schema this stacksim writes; any other is refused with what to do.
    static func read(_ path: String) throws -> RunReport {
        struct Version: Decodable { var schemaVersion: Int }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
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
        abstract: "Judge CURRENT against BASE per operation and percentile; exit 11 on a regression.")

    @Argument(help: "The baseline report.json.")
    var base: String

    @Argument(help: "The report.json to judge.")
    var current: String

    @OptionGroup var limits: RegressionOptions

    func run() async throws {
        try await StackSimCommand.guarded {
            let comparison = try limits.compare(base: try ReportFiles.read(base), baseName: base, current: try ReportFiles.read(current))
            guard !comparison.findings.isEmpty else {
                throw CommandFailure(status: .badInput, message: "\(current): nothing to compare — no operation has "
                                     + "\(Comparison.minimumCount) successful requests or more in both reports")
            }
            for warning in comparison.warnings { Output.line("warning: \(warning)") }
            for finding in comparison.findings { Output.line(finding.summary) }
            Output.line("\(comparison.regressions.count) regressions in \(comparison.findings.count) comparisons")
            return comparison.regressions.isEmpty ? .ok : .regression
        }
    }
}

struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline", abstract: "Manage stored baselines.", subcommands: [Update.self])

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store a run's report.json as the baseline for its scenario in Reports/baselines/.")

        @Argument(help: "The report.json to keep.")
        var report: String

        @Option(help: "Directory of baselines.")
        var directory = "Reports/baselines"

        func run() async throws {
            try await StackSimCommand.guarded {
                let parsed = try ReportFiles.read(report)
                guard parsed.verdict != "invalid" else {
                    throw CommandFailure(status: .invalidRun, message: "\(report) is an invalid run; it cannot be a baseline")
                }
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let target = URL(fileURLWithPath: directory).appendingPathComponent("\(RunCommand.safeName(parsed.scenario.name)).json")
                try parsed.jsonData().write(to: target, options: .atomic)
                Output.line("baseline for \(parsed.scenario.name): \(target.relativePath) (machine: \(parsed.machine.cores) cores, "
                      + "\(parsed.machine.os), Swift \(parsed.machine.swiftVersion))")
                return .ok
            }
        }
    }
}
