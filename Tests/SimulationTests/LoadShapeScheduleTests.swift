import Foundation
import Scenario
import Simulation
import Testing

@Suite("Shaped arrival schedules")
struct LoadShapeScheduleTests {
    func arrivals(_ shape: RateShape, seconds: Int64 = 20, cap: Double? = nil, process: ArrivalProcess = .poisson) -> [Double] {
        var s = scenario("shape", rate: 1, seconds: seconds)
        s.load.phases = [Phase(name: "p", duration: .seconds(seconds), rate: shape)]
        s.load.maxRate = cap
        s.load.arrivals = process
        return ArrivalSchedule(scenario: s, userCount: 10).map { Double($0.at) / 1e9 }
    }

    func count(_ times: [Double], in range: Range<Double>) -> Int { times.count { range.contains($0) } }

    @Test func aRampRisesLinearly() {
        let times = arrivals(.ramp(from: 100, to: 900))
        #expect(abs(times.count - 10_000) < 400, "mean 500/s × 20 s, got \(times.count)")
        let first = count(times, in: 0..<2), last = count(times, in: 18..<20)
        #expect(abs(first - 280) < 60 && abs(last - 1720) < 150, "first 2 s \(first), last 2 s \(last)")
    }

    @Test func stepsHoldEachRate() {
        let times = arrivals(.steps([100, 300, 600]), seconds: 30, process: .uniform)
        #expect(count(times, in: 0..<10) == 1000 || count(times, in: 0..<10) == 999)
        #expect(abs(count(times, in: 10..<20) - 3000) <= 1 && abs(count(times, in: 20..<30) - 6000) <= 1)
    }

    @Test func aSpikeIsWhereItIsDeclared() {
        let times = arrivals(.spike(baseline: 50, peak: 2000, at: .seconds(8), duration: .seconds(2)), process: .uniform)
        #expect(abs(count(times, in: 8..<10) - 4000) <= 2)
        #expect(abs(count(times, in: 0..<8) - 400) <= 2 && abs(count(times, in: 10..<20) - 500) <= 2)
    }

    @Test func aSineWavesAroundItsMean() {
        let times = arrivals(.sine(mean: 400, amplitude: 300, period: .seconds(20)), process: .uniform)
        #expect(abs(times.count - 8000) <= 2)
        let crest = count(times, in: 4..<6), trough = count(times, in: 14..<16)
        #expect(crest > 1300 && trough < 300, "crest \(crest), trough \(trough)")
    }

    @Test func theRateCapHolds() {
        let times = arrivals(.ramp(from: 100, to: 2000), cap: 500, process: .uniform)
        #expect(count(times, in: 15..<20) <= 2501)
        #expect(count(times, in: 0..<2) < 600)
    }

    @Test func eachPhaseUsesItsOwnMix() {
        var s = scenario("mixes", rate: 200, seconds: 5)
        s.load.phases = [Phase(name: "reads", duration: .seconds(5), rate: .constant(200), mix: [MixEntry(operation: "board", weight: 1)]),
                         Phase(name: "writes", duration: .seconds(5), rate: .constant(200),
                               mix: [MixEntry(operation: "create-task", weight: 1)])]
        let ops = Array(ArrivalSchedule(scenario: s, userCount: 10))
        #expect(ops.filter { $0.phase == 0 }.allSatisfy { $0.operation == "board" })
        #expect(ops.filter { $0.phase == 1 }.allSatisfy { $0.operation == "create-task" })
    }

    @Test func dryRunsOfTheSameSeedAreIdentical() {
        var s = scenario("dry", rate: 300, seconds: 30)
        s.load.phases[0].rate = .sine(mean: 300, amplitude: 200, period: .seconds(7))
        let a = SimulationRun.dryRun(s, count: 500).map(\.description)
        let b = SimulationRun.dryRun(s, count: 500).map(\.description)
        #expect(a.count == 500 && a == b)
    }
}
