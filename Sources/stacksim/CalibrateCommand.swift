import ArgumentParser
import Calibration
import Foundation
import Reporting
import Scenario
import Simulation
import StackCore
import StackLive

struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure live servers at a light load and write a resource model to project from.",
        discussion: """
            Runs the scenario's mix against the live servers at a light rate (no queueing), times a do-nothing \
            call to each store for its network round trip and, with the servers on this machine, measures the \
            machine's CPU per request in a second, loaded probe; then writes a model file: per store its service \
            slots, round trip and factors by operation, per store call its mean service time, its measured shape \
            and whether the live plan scans, the application's own time per request, and the share of the \
            modelled times that is CPU. \
            `stacksim run --model FILE` and `stacksim capacity --model FILE` project from it in virtual time.
            """
    )

    @Argument(help: "The scenario file (YAML) whose mix and dataset to calibrate on.")
    var scenario: String

    @Option(help: """
        The light rate of the probe: low enough that no call queues, high enough that the machine does not idle \
        between requests (each call would pay wake-ups that a loaded machine does not).
        """)
    var rate = "100/s"

    @Option(help: "How long the probe is recorded (after a 5 s warm-up), e.g. 30s.")
    var duration = "30s"

    @Option(help: """
        With servers on this machine, the rate of a second, loaded probe (3 s warm-up, 15 s) that measures the \
        machine's CPU per request under load (default: where the light model puts the machine's cores 80 % busy).
        """)
    var loadedRate: String?

    @Option(help: "Where to write the model (default: Reports/<scenario>/model-<timestamp>.yaml).")
    var out: String?

    @OptionGroup var live: LiveOptions

    @Flag(help: "No progress lines.")
    var quiet = false

    func run() async throws {
        try await StackSimCommand.guarded {
            var scenario = try ScenarioFiles.load(self.scenario)
            guard live.target == "live" else {
                throw CommandFailure(status: .badInput, message: "--target: calibrate measures live servers; expected --target live")
            }
            let rate = try ScenarioOverrides.rate(rate, flag: "--rate"), length = try ScenarioOverrides.duration(duration, flag: "--duration")
            let loadedRate = try loadedRate.map { try ScenarioOverrides.rate($0, flag: "--loaded-rate") }
            scenario.clock = .wall
            scenario.load.model = .open
            let path = out ?? Self.defaultPath(for: scenario.name, at: Date())
            try ReportFiles.checkWritable(URL(fileURLWithPath: path).deletingLastPathComponent(), flag: out == nil ? "the model's directory" : "--out")
            let stack = try await live.connect(pool: scenario.stack.pool)
            defer { stack.shutdown() }
            var options = RunOptions()
            options.target = "live"
            if !quiet { options.progress = ProgressPrinter.make(clock: scenario.clock) }
            let interrupts = InterruptHandler(stop: options.stop)
            defer { interrupts.cancel() }
            scenario.load.phases = [Phase(name: "warmup", duration: .seconds(5), rate: .constant(rate), record: false),
                                    Phase(name: "calibrate", duration: length, rate: .constant(rate))]
            let (result, report) = try await RunCommand.execute(scenario, on: stack, options: options)
            guard report.verdict != .interrupted else { return .interrupted }
            guard report.server?.stores.contains(where: { !$0.shapes.isEmpty }) == true else {
                throw CommandFailure(status: .targetUnreachable, message: "the servers gave no account of the calls: nothing to calibrate on")
            }
            let network = try await Self.roundTrips(stack.stores)
            let servers = report.servers ?? []
            // Servers on this machine share its cores with each other and with stacksim.
            let hostCores = servers.allSatisfy(Self.isLocal) ? ProcessInfo.processInfo.activeProcessorCount : nil
            var model = Calibrator.model(from: report, operations: result.totals.operations, harness: result.totals.harnessOverhead,
                                         networkMs: network,
                                         slots: Self.slots(servers, pool: scenario.stack.pool.max), hostCores: hostCores, date: Date())
            if let hostCores {
                // The loaded probe: the machine's CPU per request where wake-ups are shared by many requests.
                guard let demand = Calibrator.demands(model, operations: report.operations)?.host, demand > 0 else {
                    throw CommandFailure(status: .targetUnreachable, message: "the light probe recorded no requests: nothing to calibrate on")
                }
                let loaded = loadedRate ?? max(rate, (Self.loadedShare * 1000 * Double(hostCores) / demand).rounded())
                scenario.load.phases = [Phase(name: "warmup", duration: .seconds(3), rate: .constant(loaded), record: false),
                                        Phase(name: "loaded", duration: .seconds(15), rate: .constant(loaded))]
                let (loadedResult, loadedReport) = try await RunCommand.execute(scenario, on: stack, options: options)
                guard loadedReport.verdict != .interrupted else { return .interrupted }
                model.hostLoad = Calibrator.hostLoad(cores: hostCores, modelledMsPerRequest: demand, loaded: loadedReport)
                if let overhead = Calibrator.overhead(loadedResult.totals.harnessOverhead, hostBusy: loadedReport.harness.hostCpuBusy) {
                    model.harnessOverhead?.append(overhead)
                }
                if model.hostLoad == nil { Output.line("host: the machine's CPU could not be read under load: every modelled time counts as CPU") }
            }
            try ModelFile.write(model, to: path)
            Output.line(Self.describe(model, bounds: Calibrator.bounds(model, operations: report.operations)))
            Output.line("\nmodel: \(path)")
            return .ok
        }
    }

    /// The share of the machine's cores the light model keeps busy at the loaded probe's default rate: near where
    /// they saturate, since the CPU per request falls with load (wake-ups shared by more requests).
    static let loadedShare = 0.8

    /// The median time of a do-nothing call to each store (50 of them), in milliseconds, called
    /// from where a run's requests call the stores (a live stack's reactor thread): from another
    /// thread each call would also pay two thread hops that the run's calls do not.
    static func roundTrips(_ stores: StackStores) async throws -> [String: Double] {
        try await withTaskExecutorPreference(stores.executor) { try await pings(stores) }
    }

    private static func pings(_ stores: StackStores) async throws -> [String: Double] {
        func median(_ ping: () async throws -> Void) async throws -> Double {
            var times: [Double] = []
            for _ in 0..<50 {
                let start = ContinuousClock.now
                try await ping()
                times.append((ContinuousClock.now - start).seconds * 1000)
            }
            return times.sorted()[times.count / 2]
        }
        return [StoreKind.relational.rawValue: try await median { try await stores.relational.ping() },
                StoreKind.document.rawValue: try await median { try await stores.documents.ping() },
                StoreKind.cache.rawValue: try await median { try await stores.cache.ping() }]
    }

    /// How many calls each store serves at once: Redis one; a server on this machine its cores;
    /// the MongoDB test server one; a remote server the pool's connections (its cores are not known from here).
    static func slots(_ servers: [ServerInfo], pool: Int) -> [String: Calibrator.Slots] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var slots: [String: Calibrator.Slots] = [StoreKind.cache.rawValue: .init(count: 1, from: "Redis serves one command at a time")]
        for server in servers where server.store != StoreKind.cache.rawValue {
            slots[server.store] = server.note != nil ? .init(count: 1, from: "the test server serves one request at a time")
                : isLocal(server) ? .init(count: cores, from: "this machine's \(cores) cores (the server is on loopback)")
                : .init(count: pool, from: "the pool's \(pool) connections (a remote server's cores are not known from here)")
        }
        return slots
    }

    static func isLocal(_ server: ServerInfo) -> Bool { ["127.0.0.1", "localhost", "[::1]"].contains { server.url.contains($0) } }

    static func describe(_ model: ResourceModel, bounds: [Calibrator.Bound]) -> String {
        var rows: [[String]] = []
        for (store, s) in model.stores.sorted(by: { $0.key < $1.key }) {
            for (call, c) in s.calls.sorted(by: { $0.key < $1.key }) {
                rows.append([store, call, String(c.samples), Format.ms(c.serviceMs), c.clientMs.map(Format.ms) ?? "–",
                             c.cv.map { String(format: "%.2f", $0) } ?? "1 (exp.)",
                             c.shape?.first { $0.percentile == 99 }.map { String(format: "%.1f", $0.ofMean) } ?? "–",
                             c.examinedPerCall.map(Format.number) ?? "–", c.scalesWithData ? "yes" : "no"])
            }
        }
        let stores = model.stores.sorted(by: { $0.key < $1.key }).map { "\($0.key): \($0.value.servers) slot(s) (\($0.value.serversFrom)), "
            + "round trip \(Format.ms($0.value.networkMs)) ms"
            + ($0.value.scaleByOperation.map { by in
                "; by operation ×" + by.sorted { $0.key < $1.key }.map { "\(String(format: "%.2f", $0.value)) \($0.key)" }.joined(separator: ", ×")
            } ?? "") }
        let byOperation = model.appMsByOperation.map { by in
            " (" + by.sorted { $0.key < $1.key }.map { "\($0.key) \(Format.ms($0.value))" }.joined(separator: ", ") + ")"
        } ?? ""
        let overheads = (model.harnessOverhead ?? []).map { overhead in
            "mean \(Format.ms(overhead.meanMs)) ms"
                + (overhead.shape.first { $0.percentile == 99 }.map { ", p99 \(Format.ms($0.ofMean * overhead.meanMs)) ms" } ?? "")
                + (overhead.hostBusy.map { String(format: " with the machine %.0f %% busy", $0 * 100) } ?? "")
        }
        let tail = overheads.isEmpty ? "" : "; of it the harness's overhead: " + overheads.joined(separator: "; ")
        let app = "app: \(Format.ms(model.appMsPerRequest)) ms per request besides its store calls" + byOperation + tail
        return (["calibrated on \(model.calibrated.scenario): \(model.calibrated.organizations) organizations, "
                 + "\(Format.number(model.calibrated.ratePerS))/s for \(Format.seconds(model.calibrated.seconds))",
                 app,
                 model.hostCores.map { "host: the servers and stacksim share this machine's \($0) cores" } ?? "host: the servers are elsewhere"]
                + (model.hostLoad.map { load in
                    ["host under load: \(Format.ms(load.measuredCPUMsPerRequest)) ms of CPU per request at \(Format.number(load.ratePerS))/s "
                     + "(every process), against \(Format.ms(load.modelledMsPerRequest)) ms modelled: \(String(format: "%.2f", load.cpuShare)) "
                     + "of each modelled time on the cores is CPU"]
                } ?? [])
                + stores
                + ["", Format.table(["store", "call", "calls", "service ms", "client ms", "CV", "p99/mean", "examined", "scales"], rows)]
                + ["", "demand per request and the throughput it allows at most (1 / demand; queues break well before):"]
                + bounds.map { "  \($0.station): \(Format.ms($0.msPerRequest)) ms → \(Format.number($0.maxPerS))/s" }).joined(separator: "\n")
    }

    static func defaultPath(for name: String, at date: Date) -> String {
        RunCommand.defaultDirectory(for: name, at: date).deletingLastPathComponent()
            .appendingPathComponent("model-" + RunCommand.defaultDirectory(for: name, at: date).lastPathComponent + ".yaml").path
    }
}
