import Reporting
import Scenario
import Simulation
import StackSim
import Testing

@Suite("Server evidence on the embedded stack", .serialized)
struct ServerEvidenceTests {
    /// The seed has no index for tasks by sprint: the embedded engine scans the collection, as
    /// MongoDB would, and the report says so with what it examined; the board has its index.
    @Test func theReportShowsTheScanOfTasksBySprintAndTheBoardsIndex() async throws {
        var s = Scenario(name: "evidence")
        s.dataset.organizations = 6
        s.dataset.usersPerOrganization = .constant(8)
        s.dataset.tasksPerUser = .constant(10)
        s.load.phases = [Phase(name: "steady", duration: .seconds(2), rate: .constant(100))]
        s.load.mix = [MixEntry(operation: "board", weight: 1), MixEntry(operation: "sprint-board", weight: 1)]
        let result = try await SimulationRun.run(s)
        let report = ReportBuilder.report(from: result)
        let server = try #require(report.server)
        let mongo = try #require(server.stores.first { $0.store == "mongo" })
        #expect(mongo.source == "embedded engine" && mongo.missing.isEmpty)
        let tasks = 6 * 8 * 10
        let sprint = try #require(mongo.shapes.first { $0.call == "sprint-tasks" })
        #expect(sprint.path == .collectionScan && sprint.on == "tasks")
        let examined = try #require(sprint.examinedPerCall), returned = try #require(sprint.returnedPerCall)
        #expect(examined >= Double(tasks), "every task is examined: \(examined) of \(tasks)")
        #expect(returned < examined / 5, "for a sprint's share of them: \(returned)")
        let board = try #require(mongo.shapes.first { $0.call == "board" })
        #expect(board.path == .indexScan && board.on == "org_status_created")
        #expect(board.examinedPerCall == board.returnedPerCall, "the index gives exactly the board's tasks")
        let boardCalls = try #require(report.operations.first { $0.name == "board" }?.stores.first { $0.store == "mongo" }?.calls)
        #expect(board.calls == boardCalls, "one board query per board request: \(board.calls) vs \(boardCalls)")
        #expect(server.findings.contains { $0.kind == .scan && $0.call == "sprint-tasks" && $0.text.contains("no index is used for it") })
        #expect(!server.findings.contains { $0.call == "board" })
        // Per operation: the board's calls to MongoDB, the store's time for them beside the board's.
        let boardTime = try #require(server.byOperation.first { $0.operation == "board" && $0.store == "mongo" })
        let share = try #require(boardTime.serverShare)
        #expect(boardTime.calls == boardCalls && share > 0.2 && share < 2, "\(boardTime)")
        let redis = try #require(server.stores.first { $0.store == "redis" })
        #expect((redis.counters["keyspace_hits"] ?? 0) + (redis.counters["keyspace_misses"] ?? 0) > 0)
        let markdown = TextReports.markdown(report), html = HTMLReport.render(report)
        #expect(markdown.contains("keyspace hit ratio over the load"))
        #expect(markdown.contains("## Where the time went") && markdown.contains("sprint-tasks: a scan of tasks"))
        #expect(html.contains("<h2>Where the time went</h2>") && html.contains("sprint-tasks: a scan of tasks"))
    }
}
