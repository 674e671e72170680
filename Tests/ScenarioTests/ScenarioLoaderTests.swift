import Foundation
import Scenario
import Testing

@Suite("Scenario files")
struct ScenarioLoaderTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var shipped: [String] {
        let dir = packageRoot.appendingPathComponent("Scenarios")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted().map { dir.appendingPathComponent($0).path }
    }

    @Test func shippedScenariosExist() {
        #expect(Self.shipped.contains { $0.hasSuffix("default.yaml") } && Self.shipped.contains { $0.hasSuffix("workday.yaml") })
    }

    @Test(arguments: shipped)
    func shippedScenarioLoads(file: String) throws {
        let scenario = try ScenarioLoader().load(file: file)
        #expect(!scenario.name.isEmpty && !scenario.description.isEmpty)
        #expect(scenario.load.phases.contains { $0.record })
    }

    @Test func theTutorialSetsEveryOperationAndItsDocumentedValues() throws {
        let scenario = try ScenarioLoader().load(file: Self.packageRoot.appendingPathComponent("Scenarios/default.yaml").path)
        #expect(Set(scenario.load.mix.map(\.operation)) == Set(Operations.builtIn))
        #expect(scenario.seed == 42)
        #expect(scenario.load.phases.map(\.record) == [false, true])
        #expect(scenario.load.phases[1].rate == .constant(400))
        #expect(scenario.dataset.usersPerOrganization == .zipf(min: 3, max: 150, s: 1.1))
        #expect(scenario.thresholds.contains { $0.target == "board" && $0.metric == "p99" && $0.limit == 50 })
        #expect(scenario.thresholds.contains { $0.target == "errors" && $0.metric == "rate" && abs($0.limit - 0.001) < 1e-12 })
    }

    @Test func valuesAreParsedWithTheirUnits() throws {
        let scenario = try ScenarioLoader().parse("""
            name: units
            stack:
              cache: { task_stats_ttl: 90s, dashboard_ttl: 1.5m }
              embedded:
                mongo: { latency: {uniform: {min: 150us, max: 2ms}}, stall: {every: 5s, for: 250ms}, errors: 0.5% }
            load:
              phases: [{ name: a, duration: 2m, rate: 3000/m }]
            """, file: "units.yaml")
        #expect(scenario.stack.taskStatsTTL == .seconds(90))
        #expect(scenario.stack.dashboardTTL == .seconds(90))
        #expect(scenario.load.phases[0].rate == .constant(50))
        let mongo = try #require(scenario.stack.embedded["mongo"])
        #expect(mongo.latency == .uniform(min: .microseconds(150), max: .milliseconds(2)))
        #expect(mongo.stallEvery == .seconds(5) && mongo.stallFor == .milliseconds(250))
        #expect(mongo.errorRate == 0.005)
    }

    /// Each bad file, and the location and words its error must carry.
    static let badFiles: [(yaml: String, line: Int, path: String, words: String)] = [
        ("name: x\nload:\n  modle: open\n", 3, "load", "unknown key 'modle'"),
        ("name: x\ndataset:\n  organizations: many\n", 3, "dataset.organizations", "expected a whole number"),
        ("name: x\ndataset:\n  organizations: 0\n", 3, "dataset.organizations", "1...100000"),
        ("name: x\ndataset:\n  users_per_org: {zipf: {min: 50, max: 10}}\n", 3, "dataset.users_per_org.zipf.max", "max ≥ min"),
        ("name: x\nload:\n  phases:\n    - {name: a, duration: 10, rate: 5/s}\n", 4, "load.phases[0].duration", "duration like"),
        ("name: x\nload:\n  phases:\n    - {name: a, duration: 10s, rate: fast}\n", 4, "load.phases[0].rate", "rate like"),
        ("name: x\nload:\n  phases:\n    - {name: a, duration: 10s}\n", 4, "load.phases[0]", "missing required key 'rate'"),
        ("name: x\nload:\n  model: closed\n  phases:\n    - {name: a, duration: 10s, rate: 5/s}\n", 5, "load.phases[0]", "missing required key 'users'"),
        ("name: x\nload:\n  mix: {board: 1, teleport: 2}\n", 3, "load.mix", "unknown key 'teleport'"),
        ("name: x\nload:\n  mix: {board: 0}\n", 3, "load.mix", "weight above zero"),
        ("name: x\nthresholds:\n  bored: {p99: 10ms}\n", 3, "thresholds", "unknown key 'bored'"),
        ("name: x\nthresholds:\n  board: {p98: 10ms}\n", 3, "thresholds.board", "unknown key 'p98'"),
        ("name: x\nthresholds:\n  errors: {rate: 150%}\n", 3, "thresholds.errors.rate", "percentage"),
        ("name: x\nstack:\n  embedded:\n    mongo: {stall: {every: 1s, for: 2s}}\n", 4, "stack.embedded.mongo.stall.for", "shorter than its period"),
        ("name: x\nstack:\n  embedded:\n    mysql: {latency: 1ms}\n", 4, "stack.embedded", "unknown key 'mysql'"),
        ("name: x\nstack:\n  sync: {strategy: eventually}\n", 3, "stack.sync.strategy", "per-task, update-many"),
        ("seed: 1\n", 1, "", "missing required key 'name'"),
        ("name: x\nseed: -4\n", 2, "seed", "whole number"),
        ("name: x\nload: [1, 2\n", 3, "", "not valid YAML"),
        ("name: x\nname: y\n", 1, "", "'name' appears more than once"),
        // Values beyond what the program can represent or hold: refused with the bound.
        ("name: x\nload:\n  phases:\n    - {name: a, duration: 99999999999d, rate: 5/s}\n", 4, "load.phases[0].duration", "at most 3650d"),
        ("name: x\nstack:\n  sessions: {ttl: 1e400s}\n", 3, "stack.sessions.ttl", "duration like"),
        ("name: x\nload:\n  phases:\n    - {name: a, duration: 1s, rate: 1000000000000/s}\n", 4, "load.phases[0].rate", "at most 1000000/s"),
        ("name: x\nload:\n  mix: {board: 1e308, members: 1}\n", 3, "load.mix.board", "number in 0...1000000000"),
        ("name: x\nload:\n  model: closed\n  phases:\n    - {name: a, duration: 1s, users: 100000000000}\n", 5,
         "load.phases[0].users", "1...1000000"),
        ("name: x\ndataset:\n  organizations: 100000\n  users_per_org: 1000000\n", 3, "dataset", "at most"),
        ("name: x\nload:\n  phases:\n    - {name: a, duration: 3000d, rate: 5/s}\n", 4, "load.phases", "to last at most"),
        // Mistakes: a misspelt store call, a YAML tag the format does not use.
        ("name: x\nstack:\n  embedded:\n    mongo: {operations: {bord: {latency: 1ms}}}\n", 4, "stack.embedded.mongo.operations",
         "unknown key 'bord'"),
        ("name: !!binary aGVsbG8=\n", 1, "name", "YAML tag 'tag:yaml.org,2002:binary'"),
        ("name: x\ndescription: !custom thing\n", 2, "description", "YAML tag '!custom'"),
    ]

    @Test(arguments: badFiles.indices)
    func badInputIsAnErrorNamingFileLineAndExpectation(index: Int) {
        let bad = Self.badFiles[index]
        do {
            _ = try ScenarioLoader().parse(bad.yaml, file: "bad.yaml")
            Issue.record("accepted a bad file: \(bad.yaml)")
        } catch let error as ScenarioError {
            #expect(error.file == "bad.yaml")
            #expect(error.line == bad.line, "\(error)")
            #expect(error.path == bad.path, "\(error)")
            #expect(error.description.contains(bad.words), "\(error)")
            #expect(error.description.hasPrefix("bad.yaml:\(bad.line):"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func limitsFollowTheMachinesMemory() throws {
        var scenario = Scenario(name: "x")
        scenario.load.phases = [Phase(name: "a", duration: .seconds(86_400), rate: .constant(1))]
        let small = ScenarioLimits(memoryBytes: 1 << 30), large = ScenarioLimits(memoryBytes: 64 << 30)
        #expect(small.violation(in: scenario)?.path == "load.phases", "a day of load is beyond what 1 GiB keeps")
        #expect(large.violation(in: scenario) == nil)
        #expect(small.maxVirtualUsers < large.maxVirtualUsers && small.maxOutstanding < large.maxOutstanding)
        scenario.load.phases[0].duration = .seconds(60)
        scenario.load.maxOutstanding = large.maxOutstanding
        #expect(small.violation(in: scenario)?.path == "load.max_outstanding")
    }

    @Test func anOutageKnobIsReadWithItsTimes() throws {
        let scenario = try ScenarioLoader().parse("name: x\nstack:\n  embedded:\n    redis: {outage: {at: 5s, for: 5s}}\n", file: "o.yaml")
        #expect(scenario.stack.embedded["redis"]?.outageAt == .seconds(5) && scenario.stack.embedded["redis"]?.outageFor == .seconds(5))
    }

    @Test func aMissingFileIsAnError() {
        #expect(throws: ScenarioError.self) { try ScenarioLoader().load(file: "/nonexistent/scenario.yaml") }
    }
}
