import Foundation
@testable import Simulation
import StackSim
import Testing

@Suite("Swift scenarios")
struct ScenarioScriptTests {
    /// A custom action from port calls: an organization's members, then a cache read.
    static let orgPulse = ActionDefinition(name: "org-pulse", resource: "member", permission: "read") { ctx, who, _ in
        _ = try await ctx.stores.relational.memberIDs(organizationID: who.organizationID, activeOnly: true)
        _ = try await ctx.stores.cache.get("pulse:\(who.organizationID)")
    }

    @Test func theBuilderSaysWhatYAMLSays() throws {
        let yaml = try ScenarioLoader().parse("""
            name: same
            description: Both ways.
            seed: 9
            dataset: { organizations: 5, tasks_per_user: { uniform: { min: 1, max: 4 } } }
            stack: { sync: { workers: 4 }, embedded: { mongo: { latency: 1ms } } }
            load:
              arrivals: uniform
              phases:
                - { name: warm, duration: 5s, rate: 50/s, record: false }
                - { name: peak, duration: 20s, rate: { ramp: { from: 50/s, to: 200/s } }, mix: { board: 1 } }
              mix: { board: 3, search: 1 }
            thresholds:
              board: { p99: 20ms }
              errors: { rate: 0.1% }
            """, file: "same.yaml")
        let swift = ScenarioScript("same") {
            Description("Both ways.")
            Seed(9)
            Configure(\.dataset) { $0.organizations = 5; $0.tasksPerUser = .uniform(min: 1, max: 4) }
            Configure(\.stack) { stack in
                stack.syncWorkers = 4
                var mongo = StoreKnobSpec()
                mongo.latency = .fixed(.milliseconds(1))
                stack.embedded["mongo"] = mongo
            }
            Configure(\.load.arrivals) { $0 = .uniform }
            Phase(name: "warm", duration: .seconds(5), rate: .constant(50), record: false)
            Phase(name: "peak", duration: .seconds(20), rate: .ramp(from: 50, to: 200), mix: [MixEntry(operation: "board", weight: 1)])
            Mix(["board": 3, "search": 1])
            Threshold.latency("board", .p99, below: .milliseconds(20))
            Threshold.errorRate(below: 0.001)
        }
        #expect(swift.scenario.withoutOrigins == yaml.withoutOrigins)
        #expect(swift.scenario.thresholds[0].location.hasPrefix("StackSimTests/ScenarioScriptTests.swift:"))
    }

    @Test func aSwiftScenarioIsCheckedByTheFileRules() {
        let unknown = ScenarioScript("bad") { Mix(["board": 1, "teleport": 2]) }
        #expect { try unknown.validate() } throws: { ($0 as? ScenarioError)?.description.contains("unknown key 'teleport'") == true }
        let known = ScenarioScript("good") { Self.orgPulse; Mix(["board": 1, "org-pulse": 2]) }
        #expect(throws: Never.self) { try known.validate() }
        let sine = ScenarioScript("wave") { Phase(name: "w", duration: .seconds(10), rate: .sine(mean: 10, amplitude: 20, period: .seconds(5))) }
        #expect { try sine.validate() } throws: { ($0 as? ScenarioError)?.path == "load.phases[0].rate.sine.amplitude" }
    }

    @Test func aCustomActionIsMeasuredAndReportedLikeABuiltInOne() async throws {
        let script = ScenarioScript("pulse") {
            Self.orgPulse
            Configure(\.dataset) { $0.organizations = 4; $0.usersPerOrganization = .constant(5); $0.tasksPerUser = .constant(3) }
            Phase(name: "steady", duration: .seconds(3), rate: .constant(80))
            Mix(["board": 1, "org-pulse": 3])
            Threshold.latency("org-pulse", .p99, below: .seconds(1))
        }
        let report = try await script.run()
        let pulse = try #require(report.operations.first { $0.name == "org-pulse" })
        #expect(pulse.count > 100 && pulse.errors == 0)
        #expect(Set(pulse.stores.map(\.store)) == ["postgres", "redis"])
        #expect(pulse.stores.allSatisfy { $0.callsPerOperation >= 1 })
        #expect(report.thresholds.contains { $0.target == "org-pulse" && $0.passed })
    }

    @Test func aCustomRateShapeDrivesArrivals() {
        // 100/s for the first half of a 10 s phase, nothing after.
        let halfOn = CustomRate("half-on") { t, length in t < length / 2 ? 100 : 0 }
        let script = ScenarioScript("shaped") {
            Configure(\.load.arrivals) { $0 = .uniform }
            Configure(\.dataset) { $0.organizations = 2 }
            Phase(name: "shaped", duration: .seconds(10), rate: .custom(halfOn))
        }
        #expect(throws: Never.self) { try script.validate() }
        let ops = Array(SimulationRun.dryRun(script.scenario, count: 10_000))
        #expect(abs(ops.count - 500) <= 1)
        #expect(ops.allSatisfy { $0.at < 5_000_000_000 })
    }

    @Test func datasetStepsChangeTheDatasetTheSameWayForTheSameSeed() {
        let label = DatasetStep("label-a-third") { dataset, rng in
            for i in dataset.tasks.indices where rng.unit() < 1.0 / 3 { dataset.tasks[i].labels.append("carry-over") }
        }
        var scenario = Scenario(name: "labels")
        scenario.dataset.organizations = 3
        let first = DatasetStep.generate(scenario, anchor: Date(timeIntervalSince1970: 0), steps: [label])
        let second = DatasetStep.generate(scenario, anchor: Date(timeIntervalSince1970: 0), steps: [label])
        let labelled = first.tasks.filter { $0.labels.contains("carry-over") }.map(\.id)
        #expect(!labelled.isEmpty && labelled.count < first.tasks.count)
        #expect(labelled == second.tasks.filter { $0.labels.contains("carry-over") }.map(\.id))
    }
}
