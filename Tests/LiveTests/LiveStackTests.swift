import Foundation
import PortContract
import StackCore
import StackIO
import StackLive
@testable import StackPostgres
import StackSim
import Testing

/// Against real servers: PostgreSQL and Redis, and MongoDB or its wire-protocol test server.
/// `make test` starts them (scripts/services.sh) and sets STACKSIM_LIVE_TESTS=1; the URLs come
/// from STACKSIM_*_URL or the services' defaults.
enum Live {
    static let enabled = ProcessInfo.processInfo.environment["STACKSIM_LIVE_TESTS"] == "1"
    /// The tests' own places, apart from those the command-line checks use.
    static let urls = LiveURLs(mongo: mongoURL(database: "stacksim_tests"), postgresSchema: "stacksim_tests", redisPrefix: "stacksim-tests:")
    static let stack: LiveStack? = enabled ? try? LiveStack(urls: urls, pool: PoolSettings()) : nil
    /// Fresh places with a marker and no dataset: the tests load their own.
    static let prepared: Task<Void, any Error> = Task {
        let stack = Live.stack!
        try await stack.recreate(Set(StoreKind.allCases), marker: DatasetMarker(dataset: nil, description: nil, anchor: nil),
                                holdings: try await stack.holdings())
    }

    static func mongoURL(database: String) -> String {
        let base = ProcessInfo.processInfo.environment["STACKSIM_MONGO_URL"] ?? "mongodb://127.0.0.1:57017/stacksim"
        guard var parts = URLComponents(string: base) else { return base }
        parts.path = "/" + database
        return parts.string ?? base
    }
}

@Suite("Live stack", .enabled(if: Live.enabled, "set STACKSIM_LIVE_TESTS=1 with the servers up (make test does)"), .serialized)
struct LiveStackTests {
    @Test func theServersAnswerTheirHealthChecks() async throws {
        let stack = try #require(Live.stack)
        #expect(await stack.healthProblems() == [])
        let servers = try await stack.servers()
        #expect(servers.map(\.store) == [.relational, .document, .cache])
        #expect(servers[0].version.hasPrefix("15"))
    }

    @Test(arguments: PortContract.checks)
    func contract(_ check: ContractCheck) async throws {
        let stack = try #require(Live.stack)
        try await Live.prepared.value
        try await stack.clear()
        try await check.run(stack.stores)
    }

    /// 16 calls busy on each store at once must not block Swift's cooperative pool: a ticker on
    /// the pool keeps its 5 ms beat within 100 ms. (A blocking call on the pool would hold it for
    /// the 300 ms a call takes.) The calls are cheap to decode, so the ticker competes with
    /// waiting, not with CPU work on the pool — but it does compete for the machine's two cores
    /// with the MongoDB test server answering 16 threads: a clean clone's `make test` saw it 29 ms
    /// late once, over the 15 ms this allowed before.
    @Test func theCooperativePoolStaysResponsiveWhileEveryStoreIsBusy() async throws {
        let stack = try #require(Live.stack)
        try await Live.prepared.value
        try await stack.clear()
        let worstLateness = try await withThrowingTaskGroup(of: Duration.self) { group in
            for _ in 0..<16 {
                group.addTask { _ = try await stack.postgres.query(Statement("sleep", "SELECT pg_sleep(0.3)")); return .zero }
                group.addTask { _ = try await stack.redis.pop("idle-queue", timeout: .milliseconds(300)); return .zero }
                // The test server answers one command at a time: 16 client threads wait on it at once.
                group.addTask {
                    for _ in 0..<20 { try await stack.mongo.ping() }
                    return .zero
                }
            }
            group.addTask {
                var worst = Duration.zero
                for _ in 0..<60 {
                    let start = ContinuousClock.now
                    try await Task.sleep(for: .milliseconds(5))
                    worst = max(worst, ContinuousClock.now - start - .milliseconds(5))
                }
                return worst
            }
            return try await group.reduce(.zero, max)
        }
        #expect(worstLateness < .milliseconds(100), "the ticker was \(worstLateness) late")
    }

    /// Runs sharing places count on the markers one at a time: each gets a run number of its own
    /// (it salts the ids a run creates) and no run's count or writes are lost. Four stacks (four
    /// processes' worth of connections and locks) count five runs each at once, in places of
    /// their own.
    @Test func runsSharingThePlacesEachCountOnTheMarkers() async throws {
        let urls = LiveURLs(mongo: Live.mongoURL(database: "stacksim_tests_markers"), postgresSchema: "stacksim_tests_markers",
                            redisPrefix: "stacksim-tests-markers:")
        let stacks = try (0..<4).map { _ in try LiveStack(urls: urls, pool: PoolSettings()) }
        let first = stacks[0]
        let marker = DatasetMarker(dataset: "markers-test", description: "the markers test's", anchor: nil)
        try await first.recreate(Set(StoreKind.allCases), marker: marker, holdings: try await first.holdings())
        try await first.writeMarkers(marker)
        for stack in stacks { try await stack.lockPlaces(.shared, wait: .seconds(30)) { _ in } }
        let numbers = try await withThrowingTaskGroup(of: [Int].self) { group in
            for stack in stacks {
                group.addTask {
                    var mine: [Int] = []
                    for _ in 0..<5 { mine.append(try await stack.updateMarkers(marker) { $0.runs += 1; $0.writes += 2 }.runs) }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(numbers.sorted() == Array(1...20))
        var counted = marker
        counted.runs = 20
        counted.writes = 40
        let holdings = try await first.holdings()
        #expect(holdings == [.relational: .stacksim(counted), .document: .stacksim(counted), .cache: .stacksim(counted)])
        for stack in stacks { stack.shutdown() }
        let cleaner = try LiveStack(urls: urls, pool: PoolSettings())
        defer { cleaner.shutdown() }
        _ = try await cleaner.dropOwned(holdings)
    }

    @Test func aShortenedTutorialRunsCleanAgainstTheLiveStack() async throws {
        let stack = try #require(Live.stack)
        try await Live.prepared.value
        try await stack.clear()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var scenario = try ScenarioLoader().load(file: root.appendingPathComponent("Scenarios/default.yaml").path)
        scenario.dataset.organizations = 6
        scenario.load.phases = [Phase(name: "warmup", duration: .seconds(2), rate: .constant(20), record: false),
                                Phase(name: "steady", duration: .seconds(10), rate: .constant(40))]
        var options = RunOptions()
        options.stores = stack.stores
        options.target = "live"
        let report = try await ScenarioScript(scenario: scenario).run(options: options)
        #expect(report.operations.count == Operations.builtIn.count)
        #expect(report.operations.allSatisfy { $0.count > 0 }, "every operation ran")
        #expect(report.totals.errors == 0)
        #expect(report.consistency.snapshotSyncs > 0)
        let check = report.consistency.consistencyCheck
        #expect(check.error == nil && check.orphans == 0 && check.missingSnapshots == 0 && check.staleSnapshots == 0)
    }
}
