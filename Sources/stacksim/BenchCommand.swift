import ArgumentParser
import Foundation
import StackLive
import StackSim

/// Closed-loop throughput of single store calls through stacksim's adapters, for comparison
/// with pgbench and redis-benchmark at the same concurrency (bench/live.sh runs all three).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Throughput of single store calls on the live stack at 1, 4 and 16 connections.",
        discussion: "Seeds the scenario's dataset, then for each connection count runs that many callers in a closed loop: "
            + "permission-check (PostgreSQL), GET (Redis) and board (MongoDB). Prints PARAMS (the values used, for pgbench's "
            + "script) and one RESULT line per call and count, with the process's CPU time per call (user + system, and user alone)."
    )

    @Argument(help: "The scenario whose dataset to seed.") var scenario: String
    @OptionGroup var live: LiveOptions
    @Option(help: "Connection counts, comma-separated.") var connections = "1,4,16"
    @Option(help: "Length of each measurement (e.g. 5s).") var duration = "5s"
    @Option(help: "The calls to measure, comma-separated: \(Call.names(separator: ", ")).") var calls = Call.names(separator: ",")

    /// The store calls the bench measures, in the order it measures them.
    enum Call: String, CaseIterable {
        case permissionCheck = "permission-check", get, board

        static func names(separator: String) -> String { allCases.map(\.rawValue).joined(separator: separator) }
    }

    func run() async throws {
        try await StackSimCommand.guarded {
            let counts = connections.split(separator: ",").compactMap { Int($0) }
            guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 }) else {
                throw CommandFailure(status: .badInput, message: "--connections: expected counts like 1,4,16, got '\(connections)'")
            }
            guard let length = ScenarioText.duration(duration), length > .zero else {
                throw CommandFailure(status: .badInput, message: "--duration: expected a duration like 5s, got '\(duration)'")
            }
            let chosen = calls.split(separator: ",").map { Call(rawValue: String($0)) }
            guard !chosen.isEmpty, !chosen.contains(nil) else {
                throw CommandFailure(status: .badInput, message: "--calls: expected some of \(Call.names(separator: ", ")) (comma-separated), got '\(calls)'")
            }
            let scenario = try ScenarioFiles.load(scenario)
            var pool = scenario.stack.pool
            pool.max = counts.max()!
            let stack = try await live.liveOnly().connect(pool: pool)
            defer { stack.shutdown() }
            let plan = try await LiveDataset.prepare(stack, scenario: scenario)
            let (dataset, _) = try await SimulationRun.seed(scenario, into: stack.stores, anchor: plan.marker.anchor ?? Date(), load: plan.load)
            let tenant = dataset.tenants.max { $0.memberIDs.count < $1.memberIDs.count }!
            let user = tenant.memberIDs[0], organization = tenant.organization.id
            let key = "bench:key"
            try await stack.redis.set(key, String(repeating: "x", count: 64), ttl: nil)
            Output.line("PARAMS user=\(user) organization=\(organization) resource=task action=read key=\(stack.redis.prefix)\(key) schema=\(stack.postgres.schema)")
            func body(of call: Call) -> @Sendable () async throws -> Void {
                switch call {
                case .permissionCheck:
                    return { _ = try await stack.postgres.hasPermission(userID: user, organizationID: organization, resource: "task", action: "read") }
                case .get: return { _ = try await stack.redis.get(key) }
                case .board: return { _ = try await stack.mongo.board(organizationID: organization, status: .todo, limit: 50) }
                }
            }
            for count in counts {
                for call in Call.allCases where chosen.contains(call) {
                    let before = SimulationRun.processCPUTimes()
                    let (done, seconds) = try await Self.closedLoop(callers: count, for: length, on: stack.stores.executor, body(of: call))
                    let after = SimulationRun.processCPUTimes()
                    func perCall(_ cpu: Double) -> String { String(format: "%.2f", cpu / Double(max(done, 1)) * 1e6) }
                    Output.line("RESULT call=\(call.rawValue) connections=\(count) calls=\(done) rate=" + String(format: "%.0f", Double(done) / seconds)
                                + " cpu_us_per_call=" + perCall(after.user + after.system - before.user - before.system)
                                + " user_us_per_call=" + perCall(after.user - before.user))
                }
            }
            return .ok
        }
    }

    /// `callers` tasks on `executor`, each calling `call` back to back until `length` has passed.
    static func closedLoop(callers: Int, for length: Duration, on executor: (any TaskExecutor)?,
                           _ call: @escaping @Sendable () async throws -> Void) async throws -> (Int, Double) {
        let start = MonotonicClock.Instant.now, end = start + length
        let done = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<callers {
                group.addTask(executorPreference: executor) {
                    var n = 0
                    while MonotonicClock.Instant.now < end {
                        try await call()
                        n += 1
                    }
                    return n
                }
            }
            return try await group.reduce(0, +)
        }
        return (done, (MonotonicClock.Instant.now - start).seconds)
    }
}
