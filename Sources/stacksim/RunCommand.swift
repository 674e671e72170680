import ArgumentParser
import Foundation
import Reporting
import Scenario
import Simulation
import StackCore
import StackLive
import StackSim
import Synchronization

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

    @OptionGroup var projection: ProjectionOptions

    @OptionGroup var machine: MachineOptions

    @Flag(help: "No progress lines.")
    var quiet = false

    @Flag(name: .customLong("no-server-evidence"),
          help: "Do not ask the stores for their own account of the load (statement statistics, plans, command counts).")
    var noServerEvidence = false

    @Option(name: .customLong("dry-run"), help: "Print the first N intended operations (open model) and run nothing.")
    var dryRun: Int?

    @Option(help: "Compare the run against this baseline (a report.json or a stored baseline of several runs; repeatable); exit 11 on a regression.")
    var baseline: [String] = []

    @OptionGroup var limits: RegressionOptions

    func run() async throws {
        try await StackSimCommand.guarded {
            var scenario = try ScenarioFiles.load(self.scenario)
            try overrides.apply(to: &scenario)
            let wakeLatency = try machine.wakeLatency()
            let projected = try projection.apply(to: &scenario, target: live.target)
            try live.validateTarget(for: scenario)
            if let dryRun {
                guard dryRun > 0, scenario.load.model == .open else {
                    throw CommandFailure(status: .badInput, message: "--dry-run: expected a positive count for an open-model scenario "
                                         + "(a closed model's schedule depends on response times)")
                }
                for op in SimulationRun.dryRun(scenario, count: dryRun) { Output.line("\(op)") }
                return .ok
            }
            let directory = out.map { URL(fileURLWithPath: $0) } ?? Self.defaultDirectory(for: scenario.name, at: Date())
            try ReportFiles.checkWritable(directory, flag: out == nil ? "the report directory" : "--out")
            let base = try baseline.flatMap(ReportFiles.readRuns)
            if !base.isEmpty { try limits.check(base: base, scenario: scenario.name, clock: scenario.clock.rawValue) }
            var options = RunOptions()
            options.target = live.target
            options.serverEvidence = !noServerEvidence
            options.cpuWakeLatency = wakeLatency
            projected?.configure(&options, for: scenario)
            if !quiet { options.progress = ProgressPrinter.make(clock: scenario.clock) }
            let stack = live.target == "live" ? try await live.connect(pool: scenario.stack.pool) : nil
            defer { stack?.shutdown() }
            let interrupts = InterruptHandler(stop: options.stop)
            defer { interrupts.cancel() }
            let (result, runReport) = try await Self.execute(scenario, on: stack, options: options)
            var report = runReport
            if let projected { report.mark(projection: projected.info(for: scenario)) }
            if !base.isEmpty { report.baseline = try limits.compare(base: base, current: report) }
            let files = try ReportWriter.write(report, histogramLog: result.histogramLog, to: directory)
            Output.line(TextReports.summary(report))
            Output.line("\nreports: " + files.map(\.relativePath).joined(separator: ", "))
            switch report.verdict {
            case .interrupted: return .interrupted
            case .invalid: return .invalidRun
            case .fail: return .thresholdsFailed
            case .pass: return report.baseline?.regressions.isEmpty == false ? .regression : .ok
            }
        }
    }

    /// One run of `scenario` on the embedded stack (`stack` nil) or a live one, its dataset
    /// prepared, its report built: what `run` does once, and `capacity` once per probe.
    static func execute(_ scenario: Scenario, on stack: LiveStack?, options: RunOptions) async throws -> (RunResult, RunReport) {
        var options = options
        var servers: [ServerInfo]?
        var plan: DatasetPlan?
        if let stack {
            do {
                plan = try await LiveDataset.prepare(stack, scenario: scenario)
                servers = try await stack.servers().map {
                    ServerInfo(store: $0.store.rawValue, url: $0.url, version: $0.version, note: $0.note)
                }
            } catch let error as StoreError {
                throw CommandFailure(status: Self.status(of: error), message: "preparing the live stack failed: \(error)")
            }
            options.stores = stack.stores
            options.load = plan!.load
            options.anchor = plan!.marker.anchor
            options.runSalt = UInt64(plan!.marker.runs)
            options.datasetLoaded = { [plan] in try await LiveDataset.datasetLoaded(stack, plan: plan!) }
        }
        let result: RunResult
        do {
            result = try await SimulationRun.run(scenario, options: options)
        } catch let error as StoreError {
            throw CommandFailure(status: Self.status(of: error), message: "the \(options.target) target failed before the load began: \(error)")
        }
        if let stack, let plan {
            await LiveDataset.recordRun(stack, plan: plan, acknowledgedWrites: result.writesAcknowledged)
        }
        var report = ReportBuilder.report(from: result)
        if let servers, let plan {
            report.servers = servers
            report.targetNote = ReportBuilder.liveNote(servers)
            if plan.reuses {
                report.dataset.reused = true
                report.dataset.loadS = 0
            }
            report.dataset.runsBefore = plan.marker.runs - 1
            report.dataset.writesBefore = plan.marker.writes
        }
        return (result, report)
    }

    /// A store that could not be reached (or answer) before the load is exit 69; anything else it
    /// refused is an internal failure to report, not an unreachable target.
    static func status(of error: StoreError) -> ExitStatus {
        [.unavailable, .timeout, .connectionLost, .poolTimeout, .authentication, .tooManyConnections].contains(error.code)
            ? .targetUnreachable : .internalError
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
    /// `prefix`: what goes in front of every line (the capacity search's probe). Without a
    /// terminal, a line every 10 s: of the run's time, or in virtual time (where a simulated
    /// second can take a millisecond) of the wall's.
    static func make(clock: ClockKind, prefix: @escaping @Sendable () -> String = { "" }) -> @Sendable (ProgressUpdate) -> Void {
        let terminal = isatty(STDOUT_FILENO) == 1
        let wallGate = WallGate(every: .seconds(10))
        return { update in
            let lead = prefix()
            let raw = (lead.isEmpty ? "" : lead + ": ") + TextReports.progressLine(elapsed: update.elapsedSeconds, total: update.totalSeconds, phase: update.phase,
                                                rate: update.throughputPerSecond, target: update.targetRate, errors: update.errors,
                                                totalErrors: update.totalErrors, p50: update.p50Ms, p99: update.p99Ms,
                                                queueDepth: update.queueDepth)
            let line = Output.clean(raw, singleLine: true)
            if terminal {
                FileHandle.standardOutput.write(Data("\r\u{1B}[2K\(line)".utf8))
                if update.elapsedSeconds >= update.totalSeconds { FileHandle.standardOutput.write(Data("\n".utf8)) }
            } else if clock == .virtual ? wallGate.open() || update.elapsedSeconds >= update.totalSeconds
                        : Int(update.elapsedSeconds.rounded()) % 10 == 0 {
                FileHandle.standardOutput.write(Data("\(line)\n".utf8))
            }
        }
    }

    /// Open once every `every` of wall time.
    final class WallGate: Sendable {
        private let last = Mutex<ContinuousClock.Instant?>(nil)
        let every: Duration

        init(every: Duration) { self.every = every }

        func open() -> Bool {
            last.withLock { last in
                let now = ContinuousClock.now
                guard last.map({ now - $0 >= every }) ?? true else { return false }
                last = now
                return true
            }
        }
    }
}

/// On the first SIGINT or SIGTERM (what CI systems send on cancel) the run stops its load,
/// drains and writes its report (exit 130); a second signal exits at once.
final class InterruptHandler {
    private static let signals: [(Int32, String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")]
    private let sources: [any DispatchSourceSignal]

    init(stop: RunStop) {
        sources = Self.signals.map { number, name in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if stop.requested?.isInterruption == true { exit(ExitStatus.interrupted.rawValue) }
                Output.error("\nstacksim: \(name): stopping; writing the report of what ran (again to quit now)")
                stop.request(.interrupted(name))
            }
            source.resume()
            return source
        }
    }

    func cancel() {
        sources.forEach { $0.cancel() }
        for (number, _) in Self.signals { signal(number, SIG_DFL) }
    }
}
