import ArgumentParser
import Foundation
import Reporting
import Scenario
import Simulation

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a scenario and write its report.",
        discussion: "Flags override the scenario file. Reports go to Reports/<scenario>/<timestamp>/ unless --out is given."
    )

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @Option(help: "Total length of the recorded phases (e.g. 20s, 5m); each recorded phase is scaled in proportion, warm-up keeps its length.")
    var duration: String?

    @Option(help: "Arrival rate for every open-model phase (e.g. 500/s).")
    var rate: String?

    @Option(help: "Concurrent users for every closed-model phase.")
    var users: Int?

    @Option(help: "Seed for the dataset and the workload.")
    var seed: UInt64?

    @Option(help: "Directory to write the report into (default: Reports/<scenario>/<timestamp>).")
    var out: String?

    @Option(help: "Where to run: embedded (in-process stack).")
    var target = "embedded"

    @Flag(help: "No progress lines.")
    var quiet = false

    @Option(name: .customLong("dry-run"), help: "Print the first N intended operations (open model) and run nothing.")
    var dryRun: Int?

    @Option(help: "Compare the run against this baseline report.json; exit 11 on a regression.")
    var baseline: String?

    @OptionGroup var limits: RegressionOptions

    func run() async throws {
        try await StackSimCommand.guarded {
            var scenario = try ScenarioFiles.load(self.scenario)
            try applyOverrides(to: &scenario)
            guard target == "embedded" else {
                throw CommandFailure(status: .badInput, message: "--target: expected embedded, got '\(target)'")
            }
            if let dryRun {
                guard dryRun > 0, scenario.load.model == .open else {
                    throw CommandFailure(status: .badInput, message: "--dry-run: expected a positive count for an open-model scenario "
                                         + "(a closed model's schedule depends on response times)")
                }
                for op in SimulationRun.dryRun(scenario, count: dryRun) { print(op) }
                return .ok
            }
            let base = try baseline.map(ReportFiles.read)
            _ = try limits.relative()
            var options = RunOptions()
            options.target = target
            if !quiet { options.progress = ProgressPrinter.make() }
            let interrupts = InterruptHandler(stop: options.stop)
            let result: RunResult
            do {
                result = try await SimulationRun.run(scenario, options: options)
            } catch {
                throw CommandFailure(status: .targetUnreachable, message: "the \(target) target failed: \(error)")
            }
            var report = ReportBuilder.report(from: result)
            if let base, let baseline { report.baseline = try limits.compare(base: base, baseName: baseline, current: report) }
            let directory = out.map { URL(fileURLWithPath: $0) } ?? Self.defaultDirectory(for: scenario.name, at: result.startedAt)
            let files = try ReportWriter.write(report, histogramLog: result.histogramLog, to: directory)
            interrupts.cancel()
            print(TextReports.summary(report))
            print("\nreports: " + files.map(\.relativePath).joined(separator: ", "))
            switch report.verdict {
            case "interrupted": return .interrupted
            case "invalid": return .invalidRun
            case "fail": return .thresholdsFailed
            default: return report.baseline?.regressions.isEmpty == false ? .regression : .ok
            }
        }
    }

    func applyOverrides(to scenario: inout Scenario) throws {
        if let seed { scenario.seed = seed }
        if let duration {
            guard let total = ScenarioFiles.duration(duration), total > .zero else {
                throw CommandFailure(status: .badInput, message: "--duration: expected a duration like 20s or 5m, got '\(duration)'")
            }
            let recorded = scenario.load.phases.filter(\.record).reduce(Duration.zero) { $0 + $1.duration }
            guard recorded > .zero else { throw CommandFailure(status: .badInput, message: "--duration: the scenario has no recorded phase") }
            for index in scenario.load.phases.indices where scenario.load.phases[index].record {
                scenario.load.phases[index].duration = total * (scenario.load.phases[index].duration / recorded)
            }
        }
        if let rate {
            guard scenario.load.model == .open else {
                throw CommandFailure(status: .badInput, message: "--rate: the scenario uses the closed model; use --users")
            }
            guard let value = ScenarioFiles.rate(rate) else {
                throw CommandFailure(status: .badInput, message: "--rate: expected a rate like 500/s, got '\(rate)'")
            }
            for index in scenario.load.phases.indices { scenario.load.phases[index].rate = .constant(value) }
        }
        if let users {
            guard scenario.load.model == .closed, users > 0 else {
                throw CommandFailure(status: .badInput, message: "--users: expected a positive count for a closed-model scenario")
            }
            for index in scenario.load.phases.indices { scenario.load.phases[index].users = .constant(users) }
        }
    }

    static func safeName(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
    }

    static func defaultDirectory(for name: String, at date: Date) -> URL {
        let safeName = safeName(name)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return URL(fileURLWithPath: "Reports").appendingPathComponent(safeName).appendingPathComponent(formatter.string(from: date))
    }
}

/// Prints progress: a live line each second on a terminal, a plain line every 10 s otherwise.
enum ProgressPrinter {
    static func make() -> @Sendable (ProgressUpdate) -> Void {
        let terminal = isatty(STDOUT_FILENO) == 1
        return { update in
            let line = TextReports.progressLine(elapsed: update.elapsedSeconds, total: update.totalSeconds, phase: update.phase,
                                                rate: update.throughputPerSecond, target: update.targetRate, errors: update.errors,
                                                totalErrors: update.totalErrors, p50: update.p50Ms, p99: update.p99Ms,
                                                queueDepth: update.queueDepth)
            if terminal {
                FileHandle.standardOutput.write(Data("\r\u{1B}[2K\(line)".utf8))
                if update.elapsedSeconds >= update.totalSeconds { FileHandle.standardOutput.write(Data("\n".utf8)) }
            } else if Int(update.elapsedSeconds.rounded()) % 10 == 0 {
                FileHandle.standardOutput.write(Data("\(line)\n".utf8))
            }
        }
    }
}

/// On the first SIGINT the run stops its load, drains and writes its report (exit 130); a
/// second SIGINT exits at once.
final class InterruptHandler {
    private let source: any DispatchSourceSignal

    init(stop: RunStop) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if stop.requested == .interrupted { exit(ExitStatus.interrupted.rawValue) }
            FileHandle.standardError.write(Data("\nstacksim: stopping; writing the report of what ran (SIGINT again to quit now)\n".utf8))
            stop.request(.interrupted)
        }
        source.resume()
    }

    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
