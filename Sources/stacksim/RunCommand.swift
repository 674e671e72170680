import ArgumentParser
import Foundation
import Reporting
import Scenario
import Simulation
import StackLive
import StackSim

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a scenario and write its report.",
        discussion: "Flags override the scenario file. Reports go to Reports/<scenario>/<timestamp>/ unless --out is given."
    )

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @OptionGroup var overrides: ScenarioOverrides

    @Option(help: "Directory to write the report into (default: Reports/<scenario>/<timestamp>).")
    var out: String?

    @OptionGroup var live: LiveOptions

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
            try overrides.apply(to: &scenario)
            try live.validateTarget()
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
            options.target = live.target
            if !quiet { options.progress = ProgressPrinter.make() }
            let stack = live.target == "live" ? try await live.connect(pool: scenario.stack.pool) : nil
            defer { stack?.shutdown() }
            var servers: [ServerInfo]?
            if let stack {
                do {
                    for note in try await stack.createSchema() { print("schema: \(note)") }
                    servers = try await stack.servers().map {
                        ServerInfo(store: $0.store.rawValue, url: $0.url, version: $0.version, note: $0.note)
                    }
                } catch {
                    throw CommandFailure(status: .targetUnreachable, message: "preparing the live stack failed: \(error)")
                }
                options.stores = stack.stores
            }
            let interrupts = InterruptHandler(stop: options.stop)
            let result: RunResult
            do {
                result = try await SimulationRun.run(scenario, options: options)
            } catch {
                throw CommandFailure(status: .targetUnreachable, message: "the \(live.target) target failed: \(error)")
            }
            var report = ReportBuilder.report(from: result)
            if let servers {
                report.servers = servers
                report.targetNote = ReportBuilder.liveNote(servers)
            }
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
