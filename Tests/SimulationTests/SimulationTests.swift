import Foundation
import Scenario
import Simulation
import Testing

func scenario(_ name: String, rate: Double, seconds: Int64, mix: [String] = Operations.builtIn) -> Scenario {
    var s = Scenario(name: name)
    s.dataset.organizations = 5
    s.dataset.usersPerOrganization = .uniform(min: 3, max: 12)
    s.dataset.tasksPerUser = .constant(6)
    s.dataset.sprintsPerOrganization = 3
    s.load.phases = [Phase(name: "steady", duration: .seconds(seconds), rate: rate)]
    s.load.mix = mix.map { MixEntry(operation: $0, weight: 1) }
    s.stack.sprintLength = .seconds(1)
    return s
}

@Suite("Arrival schedule")
struct ScheduleTests {
    func first(_ n: Int, of s: Scenario) -> [IntendedOperation] {
        Array(ArrivalSchedule(scenario: s, userCount: 100).prefix(n))
    }

    @Test func theSameSeedGivesTheSameIntendedOperations() {
        let s = scenario("det", rate: 500, seconds: 10)
        let a = first(2000, of: s), b = first(2000, of: s)
        #expect(a == b)
        #expect(a.map(\.description) == b.map(\.description))
        var other = s
        other.seed = 43
        #expect(first(2000, of: other) != a)
    }

    @Test func arrivalsFollowThePhasesAndRates() {
        var s = scenario("phases", rate: 100, seconds: 10)
        s.load.phases = [Phase(name: "a", duration: .seconds(10), rate: 100), Phase(name: "b", duration: .seconds(10), rate: 400)]
        let all = Array(ArrivalSchedule(scenario: s, userCount: 10))
        let a = all.filter { $0.phase == 0 }, b = all.filter { $0.phase == 1 }
        #expect(abs(a.count - 1000) < 150, "about 100/s × 10 s, got \(a.count)")
        #expect(abs(b.count - 4000) < 300, "about 400/s × 10 s, got \(b.count)")
        #expect(a.allSatisfy { $0.at < 10_000_000_000 } && b.allSatisfy { $0.at >= 10_000_000_000 && $0.at < 20_000_000_000 })
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.at <= $1.at }, "intended starts never go backwards")
        s.load.arrivals = .uniform
        let even = Array(ArrivalSchedule(scenario: s, userCount: 10))
        #expect(even.filter { $0.phase == 0 }.count == 999 || even.filter { $0.phase == 0 }.count == 1000)
    }

    @Test func theMixIsFollowed() {
        var s = scenario("mix", rate: 1000, seconds: 20)
        s.load.mix = [MixEntry(operation: "board", weight: 3), MixEntry(operation: "search", weight: 1)]
        let ops = Array(ArrivalSchedule(scenario: s, userCount: 10)).map(\.operation)
        let share = Double(ops.count { $0 == "board" }) / Double(ops.count)
        #expect(abs(share - 0.75) < 0.02)
        #expect(Set(ops) == ["board", "search"])
    }
}

@Suite("Runs on the embedded stack", .serialized)
struct RunTests {
    @Test func everyOperationRunsWithoutErrorsAndTheStackStaysConsistent() async throws {
        let result = try await SimulationRun.run(scenario("all-ops", rate: 150, seconds: 3))
        for name in Operations.builtIn {
            let stats = try #require(result.totals.operations[name], "\(name) ran")
            #expect(stats.count > 0)
            #expect(stats.errorCount == 0, "\(name): \(stats.errors)")
        }
        #expect(result.totals.snapshotLag.count > 0, "profile updates were synced and their lag measured")
        #expect(result.totals.cache["task_stats"] != nil && result.totals.cache["dashboard"] != nil)
        #expect(result.consistency.clean, "\(result.consistency)")
        #expect(result.schedule.valid)
        #expect(!result.intervals.isEmpty && !result.stackSamples.isEmpty)
    }

    /// A store that stalls for D every T under an open model at rate R: a fraction D/T of the
    /// requests arrive during a stall and wait uniformly in [0, D]. Latency from the intended
    /// start must show exactly that; service time must not, because the requests that queue
    /// behind the app's two workers have not started yet.
    @Test func latencyFromIntendedStartShowsAStallThatServiceTimeDoesNot() async throws {
        let stall = 0.3, period = 2.0
        var s = scenario("stall", rate: 200, seconds: 8, mix: ["board", "my-tasks"])
        s.load.arrivals = .uniform
        s.stack.appWorkers = 2
        var knobs = StoreKnobSpec()
        knobs.stallEvery = .seconds(period)
        knobs.stallFor = .milliseconds(Int64(stall * 1000))
        s.stack.embedded = ["mongo": knobs]
        let result = try await SimulationRun.run(s)
        var latency = result.totals.operations["board"]!
        latency.merge(result.totals.operations["my-tasks"]!)
        let fraction = stall / period
        for percentile in [90.0, 95.0, 99.0] {
            let q = 1 - percentile / 100
            let expected = stall * 1000 * (1 - q / fraction)
            let measured = latency.latency.milliseconds(atPercentile: percentile)
            #expect(abs(measured - expected) <= expected * 0.1 + 3, "p\(percentile): expected \(expected) ms, measured \(measured) ms")
        }
        let serviceP99 = latency.service.milliseconds(atPercentile: 99)
        #expect(serviceP99 < 20, "service-time p99 \(serviceP99) ms stays clear of the \(stall * 1000) ms stall")
        #expect(latency.latency.milliseconds(atPercentile: 50) < 20, "most requests never see the stall")
    }

    @Test func theClosedModelRunsUsersWithThinkTime() async throws {
        var s = scenario("closed", rate: 1, seconds: 2)
        s.load.model = .closed
        s.load.phases = [Phase(name: "steady", duration: .seconds(2), users: 4)]
        s.load.thinkTime = .fixed(.milliseconds(20))
        let result = try await SimulationRun.run(s)
        let count = result.totals.operations.values.reduce(0) { $0 + $1.count }
        // 4 users, each at most one request per 20 ms think: at most 400 in 2 s.
        #expect(count > 100 && count <= 400, "\(count) requests")
        #expect(result.totals.operations.values.allSatisfy { $0.errorCount == 0 })
    }

    @Test func aStarvedHarnessMarksItsRunInvalid() async throws {
        let result = try await SimulationRun.run(scenario("starved", rate: 200_000, seconds: 1, mix: ["search", "sprint-board"]))
        #expect(result.schedule.late > 0)
        #expect(!result.schedule.valid, "\(result.schedule.late) of \(result.schedule.intended) late")
    }
}
