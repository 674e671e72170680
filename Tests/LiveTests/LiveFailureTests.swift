import Foundation
import Metrics
import Scenario
import Simulation
import StackCore
import StackIO
import StackLive
import StackSim
import Synchronization
import Testing

/// Servers that restart or hang in the middle of a live run, one store at a time: the run ends
/// on time, counts the errors by class and store, recovers, accounts for every request, and the
/// ledger finds no acknowledged PostgreSQL or MongoDB write lost. Needs root (scripts/services.sh
/// restarts PostgreSQL as the postgres user); `make test` runs it.
@Suite("Live stack under failures", .enabled(if: Live.enabled, "set STACKSIM_LIVE_TESTS=1 with the servers up (make test does)"),
       .serialized)
struct LiveFailureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The tutorial, small and steady: 6 organizations at 30 requests/s, uniform arrivals.
    static func scenario(seconds: Int, callTimeout: Duration, gracefulStop: Duration) throws -> Scenario {
        var scenario = try ScenarioLoader().load(file: root.appendingPathComponent("Scenarios/default.yaml").path)
        scenario.dataset.organizations = 6
        scenario.load.arrivals = .uniform
        scenario.load.phases = [Phase(name: "steady", duration: .seconds(seconds), rate: .constant(30))]
        scenario.load.gracefulStop = gracefulStop
        scenario.stack.pool.callTimeout = callTimeout
        scenario.stack.pool.waitTimeout = callTimeout
        scenario.stack.pool.connectTimeout = callTimeout
        return scenario
    }

    /// A stack in places of its own, freshly created.
    static func stack(_ name: String, _ scenario: Scenario, urls: LiveURLs? = nil) async throws -> LiveStack {
        let urls = urls ?? LiveURLs(mongo: Live.mongoURL(database: name), postgresSchema: name, redisPrefix: name + ":")
        let p = scenario.stack.pool
        let stack = try LiveStack(urls: urls, pool: PoolSettings(max: p.max, connectTimeout: p.connectTimeout, idleTimeout: p.idleTimeout,
                                                                waitTimeout: p.waitTimeout, callTimeout: p.callTimeout))
        try await stack.recreate(Set(StoreKind.allCases), marker: DatasetMarker(dataset: nil, description: nil, anchor: nil),
                                holdings: try await stack.holdings())
        return stack
    }

    /// Runs `command` once the run's progress passes `at` seconds; returns when it ran (seconds
    /// since the run started) and when it finished.
    final class Fault: Sendable {
        let at: Double
        /// A shell command, run from the package's root.
        let command: String
        private let times = Mutex<(start: Date?, end: Date?)>((nil, nil))

        init(at: Double, _ command: String) { self.at = at; self.command = command }

        func maybeFire(_ update: ProgressUpdate) {
            guard update.elapsedSeconds >= at else { return }
            let go = times.withLock { t in
                guard t.start == nil else { return false }
                t.start = Date()
                return true
            }
            guard go else { return }
            // system(3) on a thread of its own: it blocks until the command (and only it) has exited.
            Thread.detachNewThread { [self] in
                let status = system("cd '\(LiveFailureTests.root.path)' && \(command) >/dev/null 2>&1")
                if status != 0 { print("fault '\(command)' exited with status \(status)") }
                times.withLock { $0.end = Date() }
            }
        }

        /// When the fault began and ended, once it has ended (waiting up to 30 s for it).
        func window() async -> (start: Date, end: Date)? {
            for _ in 0..<300 {
                if let window = times.withLock({ t in t.start.flatMap { s in t.end.map { (s, $0) } } }) { return window }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return nil
        }
    }

    static func run(_ scenario: Scenario, on stack: LiveStack, fault: Fault) async throws -> (RunResult, RunReport, Double) {
        var options = RunOptions()
        options.stores = stack.stores
        options.target = "live"
        options.progress = { fault.maybeFire($0) }
        let wallStart = ContinuousClock.now
        let result = try await SimulationRun.run(scenario, options: options)
        let wall = (ContinuousClock.now - wallStart) / .seconds(1)
        return (result, ReportBuilder.report(from: result), wall)
    }

    /// Successful requests completed in each second of the run.
    static func goodput(_ result: RunResult) -> [Int: Int] {
        var perSecond: [Int: Int] = [:]
        for row in result.intervals { perSecond[Int(row.t.rounded()), default: 0] += row.count - row.errors }
        return perSecond
    }

    @Test(arguments: [StoreKind.relational, .cache, .document])
    func aServerRestartedMidRunIsRiddenOut(_ store: StoreKind) async throws {
        // 3 s per call: the checks after the run get one call timeout past the drain's, and reading
        // back the six organizations from the MongoDB test server took 3.1–3.4 s on a slow night.
        let callTimeout = 3.0
        let scenario = try Self.scenario(seconds: 22, callTimeout: .seconds(callTimeout), gracefulStop: .seconds(5))
        let name = "stacksim_restart_\(store.rawValue)"
        let stack = try await Self.stack(name, scenario)
        defer { stack.shutdown() }
        let command = "bash scripts/services.sh restart-\(store.rawValue) 1"
        let fault = Fault(at: 6, command)
        let (result, report, wall) = try await Self.run(scenario, on: stack, fault: fault)
        let window = try #require(await fault.window(), "the restart ran")
        let back = window.end.timeIntervalSince(result.startedAt)

        // Ends on time, at most one call timeout for the checks after the drain's deadline.
        let limit: Double = 22 + 5 + callTimeout + callTimeout + 20
        #expect(wall < limit, "the run took \(wall) s of wall time, loading the data included")
        // Every intended request is accounted for, exactly once.
        let recorded = report.operations.reduce(0) { $0 + $1.count }
        #expect(recorded == result.schedule.intended, "succeeded + failed + abandoned = \(recorded), intended \(result.schedule.intended)")
        // Throughput comes back within 5 s of the server's return.
        let goodput = Self.goodput(result)
        let before = (2..<Int(window.start.timeIntervalSince(result.startedAt))).compactMap { goodput[$0] }
        let after = (Int(back.rounded(.up)) + 5..<Int(back.rounded(.up)) + 8).compactMap { goodput[$0] }
        let beforeMean = Double(before.reduce(0, +)) / Double(max(1, before.count))
        let afterMean = Double(after.reduce(0, +)) / Double(max(1, after.count))
        let recovered = !after.isEmpty && afterMean >= 0.9 * beforeMean
        let series = goodput.keys.sorted().map { "\($0): \(goodput[$0]!)" }.joined(separator: ", ")
        #expect(recovered, "goodput \(beforeMean)/s before the restart, \(afterMean)/s 5–8 s after the server came back (\(series))")
        // The outage shows as errors of that store (Redis: sessions lost, users logged in again).
        let storeErrors = report.errorClasses.filter { $0.store == store.rawValue }
        if store == .cache {
            #expect(result.relogins > 0 || !storeErrors.isEmpty, "a Redis restart loses the sessions: users log in again")
        } else {
            #expect(!storeErrors.isEmpty, "errors of \(store.rawValue) during its outage: \(report.errorClasses)")
        }
        #expect(storeErrors.allSatisfy { $0.firstS != nil }, "each class says when it was seen")
        // Nothing acknowledged by PostgreSQL or MongoDB was lost.
        let ledger = try result.ledger.get()
        #expect(result.writesAcknowledged > 0)
        #expect(ledger.missing == 0 && ledger.different == 0, "\(ledger.examples)")
        _ = try await stack.dropOwned(try await stack.holdings())
    }

    @Test(arguments: [StoreKind.relational, .cache, .document])
    func aServerThatStopsAnsweringEndsTheRunOnTimeWithTimeouts(_ store: StoreKind) async throws {
        let scenario = try Self.scenario(seconds: 8, callTimeout: .seconds(1), gracefulStop: .seconds(2))
        let defaults = LiveURLs()
        let target = Int(URLComponents(string: [defaults.postgres, defaults.mongo, defaults.redis][StoreKind.allCases.firstIndex(of: store)!])!.port!)
        let proxy = Process(), output = Pipe()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        proxy.arguments = [Self.root.appendingPathComponent("Tests/support/stall_proxy.py").path, String(target)]
        proxy.standardOutput = output
        try proxy.run()
        defer { proxy.terminate() }
        // The proxy prints the port it listens on.
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        let proxyPort = try #require(Int(line.trimmingCharacters(in: .whitespacesAndNewlines)), "the proxy's port, got '\(line)'")
        let name = "stacksim_stall_\(store.rawValue)"
        func through(_ url: String) -> String {
            var parts = URLComponents(string: url)!
            parts.port = proxyPort
            return parts.string!
        }
        var urls = LiveURLs(mongo: Live.mongoURL(database: name), postgresSchema: name, redisPrefix: name + ":")
        switch store {
        case .relational: urls.postgres = through(urls.postgres)
        case .document: urls.mongo = through(urls.mongo)
        case .cache: urls.redis = through(urls.redis)
        }
        let stack = try await Self.stack(name, scenario, urls: urls)
        defer { stack.shutdown() }
        let stall = Fault(at: 3, "kill -USR1 \(proxy.processIdentifier)")
        let (result, report, _) = try await Self.run(scenario, on: stack, fault: stall)
        let loadToEnd = Date().timeIntervalSince(result.startedAt)
        #expect(await stall.window() != nil)
        // duration + graceful stop + one call timeout for the drain, one more for the checks (+ 2 s slack).
        #expect(loadToEnd < 8 + 2 + 1 + 1 + 2, "load, drain and checks took \(loadToEnd) s")
        let timeouts = report.errorClasses.filter { $0.store == store.rawValue && ($0.errorClass.hasSuffix("_timeout") || $0.errorClass.hasSuffix("_unavailable")) }
        #expect(!timeouts.isEmpty, "timeouts of \(store.rawValue): \(report.errorClasses)")
        let recorded = report.operations.reduce(0) { $0 + $1.count }
        #expect(recorded == result.schedule.intended)
    }
}
