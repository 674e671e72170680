import Foundation
import Metrics
@testable import Reporting
import Scenario
import StackModel
import Testing

@Suite("Baseline comparison", .serialized)
struct ComparisonTests {
    let fixture = ReportTests()

    /// Operations with a latency of `ms` × (0.3 + Exp(1)): independent requests, a floor and a tail.
    static let operations: [(name: String, ms: Double, count: Int)] = [
        ("board", 1, 3000), ("my-tasks", 0.8, 1800), ("search", 2, 700), ("dashboard", 1.5, 1700),
        ("members", 0.5, 100), ("task-stats", 1.2, 1100), ("create-task", 0.9, 600),
    ]

    /// A run: every operation's latency times `factor(name)`, and the run as a whole times
    /// exp(`between` × a normal draw) per operation (a machine that is not the same twice); with a
    /// `stall`, every 25th request of every operation waits that many milliseconds more (a machine
    /// that stalled now and then: the tails move, the medians hardly).
    func run(seed: UInt64, factor: (String) -> Double = { _ in 1 }, between: Double = 0, stall: Double = 0, cores: Int = 2,
             operations: [(name: String, ms: Double, count: Int)] = Self.operations) -> RunReport {
        var draws = SeededRandom(seed: seed)
        var r = fixture.report(operations.map { op in
            let scale = op.ms * factor(op.name) * exp(between * draws.normal())
            var histogram = LatencyHistogram()
            for request in 0..<op.count {
                let stalled = request % 25 == 0 ? stall : 0
                histogram.record(nanoseconds: Int64((scale * (0.3 - log(1 - draws.unit())) + stalled) * 1e6))
            }
            return OperationReport(name: op.name, count: op.count, errors: 0, errorsByClass: [:], denied: 0, seconds: 50,
                                   latencyMs: histogram.summary, serviceMs: histogram.summary, queueMs: histogram.summary, stores: [],
                                   latencyHistogram: histogram)
        })
        r.machine.cores = cores
        return r
    }

    func compare(_ baselines: [RunReport], _ current: RunReport, limits: Comparison.Limits = .init()) -> BaselineComparison {
        Comparison.compare(baselines: baselines, current: current, baseName: "base", limits: limits)
    }

    @Test func unchangedCodeIsFlaggedAboutAsOftenAsAlphaSays() async {
        // 100 same-code runs against one baseline and against five: the false-alarm rate is
        // α = 5 % per run by design; allow what chance gives (binomial(100, 0.05): P(> 12) < 0.1 %).
        let five = (0..<5).map { run(seed: 1000 + UInt64($0)) }
        var flaggedAgainstOne = 0, flaggedAgainstFive = 0
        for trial in 0..<40 {
            await Task.yield() // seconds of work must not hold a cooperative thread other suites' timing checks wait on
            let current = run(seed: 5000 + UInt64(trial))
            if !compare([five[0]], current).findings.allSatisfy({ $0.verdict == .unchanged }) { flaggedAgainstOne += 1 }
            if !compare(five, current).findings.allSatisfy({ $0.verdict == .unchanged }) { flaggedAgainstFive += 1 }
        }
        #expect(flaggedAgainstOne <= 12 && flaggedAgainstFive <= 12, "\(flaggedAgainstOne), \(flaggedAgainstFive) of 100")
    }

    @Test func aSlowerOperationIsARegressionOfExactlyThatOperation() {
        let base = (0..<3).map { run(seed: 10 + UInt64($0)) }
        let slower = compare(base, run(seed: 99, factor: { $0 == "board" ? 1.3 : 1 }))
        #expect(Set(slower.regressions.map(\.operation)) == ["board"], "\(slower.findings.map(\.summary))")
        #expect(slower.regressions.allSatisfy { $0.changeLow > 0 && $0.changeLow < 0.3 && $0.changeHigh > 0.3 }, "the true +30 % inside each interval")
        #expect(slower.drift.allSatisfy { $0.verdict == .steady })
        let faster = compare((0..<3).map { run(seed: 90 + UInt64($0), factor: { $0 == "board" ? 1.3 : 1 }) }, run(seed: 10))
        #expect(faster.regressions.isEmpty && faster.findings.contains { $0.verdict == .improvement && $0.operation == "board" })
    }

    @Test func aRunWideSlowdownIsDriftNotARegressionOfEachOperation() {
        let base = (0..<3).map { run(seed: 20 + UInt64($0)) }
        let drifted = compare(base, run(seed: 98, factor: { _ in 1.3 }))
        #expect(drifted.regressions.isEmpty, "\(drifted.regressions.map(\.summary))")
        #expect(drifted.drift.allSatisfy { $0.verdict == .slower && abs($0.change - 0.3) < 0.08 }, "\(drifted.drift)")
        #expect(drifted.warnings.contains { $0.contains("the whole run is slower at p50") })
        // …and on top of the drift, search is twice as slow still: that is a regression.
        let worse = compare(base, run(seed: 98, factor: { $0 == "search" ? 2.6 : 1.3 }))
        #expect(Set(worse.regressions.map(\.operation)) == ["search"])
    }

    @Test func noiseBetweenRunsIsMeasuredFromTheBaselineRuns() {
        // Five baseline runs whose operations wander by 10 % (log sd) from run to run.
        let noisy = (0..<5).map { run(seed: 30 + UInt64($0), between: 0.1) }
        let comparison = compare(noisy, run(seed: 97, between: 0.1))
        for model in comparison.noise {
            #expect(model.fittedToRuns == 5 && model.betweenRunsSpread > 0.05 && model.betweenRunsSpread < 0.16, "\(model)")
        }
        // That noise widens the intervals: the same 30 % slowdown of one operation is harder to
        // tell, and the resolution says so.
        let quiet = compare((0..<5).map { run(seed: 30 + UInt64($0)) }, run(seed: 97))
        let board = { (c: BaselineComparison) in c.findings.first { $0.operation == "board" && $0.percentile == "p50" }!.resolution }
        #expect(board(comparison) > 2 * board(quiet), "\(board(comparison)) vs \(board(quiet))")
        #expect(quiet.noise.allSatisfy { $0.betweenRunsSpread < 0.04 && $0.overdispersion < 1.6 }, "\(quiet.noise)")
    }

    @Test func tailsThatMoveTogetherAreNotNoiseOfTheMedians() {
        // Two operations with enough requests for a p99, two with too few (as in the CLI's short
        // scenario): p99 has no run shift of its own to take out. One baseline run stalled now
        // and then, so every p99 moved together and the medians did not; board is 4x slower now.
        let few: [(name: String, ms: Double, count: Int)] = [("board", 0.25, 900), ("my-tasks", 0.22, 900), ("search", 0.25, 120), ("members", 0.2, 120)]
        let base = [run(seed: 62, operations: few), run(seed: 63, stall: 2, operations: few)]
        let comparison = compare(base, run(seed: 64, factor: { $0 == "board" ? 4 : 1 }, operations: few))
        let p50 = comparison.noise.first { $0.percentile == "p50" }!
        #expect(p50.betweenRunsSpread < 0.1, "the stalls are the p99's noise, not the medians': \(comparison.noise)")
        #expect(comparison.regressions.contains { $0.operation == "board" && $0.percentile == "p50" }, "\(comparison.findings.map(\.summary))")
        #expect(!comparison.regressions.contains { $0.operation != "board" })
    }

    @Test func theResolutionTellsUnchangedFromTooNoisyToTell() {
        let comparison = compare([run(seed: 40)], run(seed: 41))
        let board = comparison.findings.first { $0.operation == "board" && $0.percentile == "p50" }!
        let search = comparison.findings.first { $0.operation == "search" && $0.percentile == "p99" }!
        // 3,000 requests pin a median far better than 700 pin a p99…
        #expect(board.resolution < search.resolution)
        #expect(board.resolution >= Comparison.Limits().relative && search.resolution > 0.2, "\(board.resolution), \(search.resolution)")
        // …and 100 cannot bound a p99 at all: it is not judged, and the comparison says so.
        #expect(!comparison.findings.contains { $0.operation == "members" && $0.percentile == "p99" })
        #expect(comparison.warnings.contains { $0.contains("too few requests to bound members p99") })
    }

    @Test func theAbsoluteFloorScalesWithTheOperation() {
        let base = (50..<53).map { run(seed: $0) }, slower = run(seed: 53, factor: { $0 == "my-tasks" ? 1.4 : 1 })
        // 40 % on a 0.8 ms operation passes the default floor (5 % of its p50)…
        #expect(compare(base, slower).regressions.contains { $0.operation == "my-tasks" && $0.percentile == "p50" })
        // …but not a floor of 1 ms, set by hand.
        let floor = Comparison.Limits(floor: .milliseconds(1))
        #expect(!compare(base, slower, limits: floor).regressions.contains { $0.operation == "my-tasks" && $0.percentile == "p50" })
        #expect(AbsoluteFloor.ofMedian(0.05).ms(medianMs: 300) == 15 && AbsoluteFloor.ofMedian(0.05).ms(medianMs: 0.3) == 0.015)
    }

    @Test func aReportWithItsComparisonReadsBack() throws {
        var current = run(seed: 80)
        current.baseline = compare([run(seed: 81)], current)
        let decoded = try RunReport.decoder().decode(RunReport.self, from: current.jsonData())
        #expect(decoded.baseline?.findings.count == current.baseline?.findings.count)
        #expect(decoded.baseline?.noise.first?.betweenRunsSpread == Comparison.defaultBetweenRunsSpread)
    }

    @Test func anotherMachineIsAWarning() {
        let comparison = compare([run(seed: 60, cores: 8)], run(seed: 61))
        #expect(comparison.warnings.contains { $0.contains("another machine") })
    }

    @Test func idleCPUsHeldInOneRunOnlyIsAWarning() {
        var held = run(seed: 62), alone = run(seed: 63), unavailable = run(seed: 64)
        held.harness.cpuWakeLatency = WakeLatencyInfo(state: .held, limitUs: 0)
        alone.harness.cpuWakeLatency = WakeLatencyInfo(state: .off)
        unavailable.harness.cpuWakeLatency = WakeLatencyInfo(state: .unavailable, limitUs: 0, note: "no access")
        #expect(compare([alone], held).warnings.contains {
            $0.contains("idle CPUs left alone, this run with them held to wake within 0 µs")
        })
        #expect(compare([held], unavailable).warnings.contains { $0.contains("held to wake within 0 µs, this run with them left alone") })
        #expect(!compare([alone], unavailable).warnings.contains { $0.contains("idle CPUs") })
        #expect(!compare([held], held).warnings.contains { $0.contains("idle CPUs") })
        // The request loop keeping its core awake moves latencies as a hold does.
        var awake = run(seed: 65)
        awake.harness.cpuWakeLatency = WakeLatencyInfo(state: .unavailable, limitUs: 0, note: "no cpuidle driver", loopAwakeUs: 400)
        #expect(compare([unavailable], awake).warnings.contains {
            $0.contains("idle CPUs left alone, this run with them not held but the request loop's core kept awake")
        })
        #expect(!compare([awake], awake).warnings.contains { $0.contains("idle CPUs") })
    }

    @Test func aBaselineSetKeepsTheLastRunsWithoutTheirPerSecondRows() throws {
        var first = run(seed: 70)
        first.intervals = [IntervalRow(t: 1, phase: "steady", recorded: true, operation: "board", count: 1, errors: 0, p50Ms: 1, p99Ms: 1, maxMs: 1)]
        let set = BaselineSet(scenario: "unit", runs: [first]).appending((71..<77).map { run(seed: $0) }, keep: 5)
        let kept = set.runs.map(\.intervals.count)
        #expect(kept == [0, 0, 0, 0, 0])
        let decoded = try RunReport.decoder().decode(BaselineSet.self, from: RunReport.encoder().encode(set))
        #expect(try decoded.runs[0].operations[0].recordedLatency() == run(seed: 72).operations[0].recordedLatency())
    }
}

@Suite("HTML and JUnit")
struct HTMLAndJUnitTests {
    let fixture = ReportTests()

    @Test func htmlEscapesEveryStringFromDataAndDrawsEveryChart() {
        var r = fixture.report([fixture.operation("board", p99: 3)], name: "<script>alert('x')</script>")
        r.scenario.description = "a \"quoted\" <b>description</b>"
        r.load.phases[0].name = "<img src=x onerror=alert(1)>"
        r.stackSamples = (1...5).map { StackSample(t: Double($0), phase: "steady", queueDepth: $0, snapshotLagP99Ms: 2, throughputPerS: 10, attemptedPerS: 10,
                                                   targetRatePerS: 10, p50Ms: 1, p99Ms: 3, errors: 0) }
        r.operations[0].latencyCurve = [CurvePoint(percentile: 0, ms: 0.1), CurvePoint(percentile: 99, ms: 3)]
        let html = HTMLReport.render(r)
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        for id in ["latency-over-time", "throughput-over-time", "errors-over-time", "snapshot-lag-over-time", "queue-depth-over-time",
                   "percentiles-board", "cache-hit-ratio"] {
            #expect(html.contains("id=\"\(id)\""), "\(id)")
        }
        #expect(!html.contains("http://") && !html.contains("https://"), "self-contained: no external resources")
    }

    @Test func junitHasACasePerThresholdAndComparison() throws {
        var r = fixture.report([fixture.operation("board", p99: 30)])
        r.thresholds = [ThresholdResult(target: "board", metric: "p99", limit: 10, actual: 30, passed: false, location: "x.yaml:3"),
                        ThresholdResult(target: "errors", metric: "rate", limit: 0.01, actual: 0, passed: true, location: "x.yaml:4")]
        let xml = JUnitReport.render(r)
        #expect(xml.contains("tests=\"3\" failures=\"1\""))
        #expect(xml.contains("<testcase classname=\"stacksim.thresholds\" name=\"board p99 ≤ 10.0 ms\""))
        #expect(xml.contains("<failure message=\"30.0 ms against a limit of 10.0 ms (x.yaml:3)\""))
    }

    @Test func anyTextGivesWellFormedXMLAndIsolatedBidirectionalText() {
        let hostile = "run\u{0}\u{1B}[31m\u{202E}desrever\u{FFFF} שלום"
        var r = fixture.report([fixture.operation("board", p99: 3)], name: hostile)
        r.thresholds = [ThresholdResult(target: "board", metric: "p99", limit: 1, actual: 3, passed: false, location: hostile)]
        let junit = JUnitReport.render(r), html = HTMLReport.render(r)
        for text in [junit, html] {
            let forbidden = text.unicodeScalars.filter { !HTML.xmlCanCarry($0) }
            #expect(forbidden.isEmpty, "characters XML 1.0 cannot carry: \(forbidden.map { String($0.value, radix: 16) })")
        }
        #expect(junit.contains("run\u{FFFD}\u{FFFD}[31m"), "NUL and ESC replaced")
        // The override is closed inside an isolate: FSI … PDI around the name, wherever it appears.
        #expect(html.contains("<h1>\u{2068}run\u{FFFD}\u{FFFD}[31m\u{202E}desrever\u{FFFD} שלום\u{2069}</h1>"))
        #expect(!HTML.escape("plain ascii").contains("\u{2068}"), "plain text is left as it is")
    }
}

extension SeededRandom {
    /// A standard normal draw (Box–Muller).
    mutating func normal() -> Double { (-2 * log(1 - unit())).squareRoot() * cos(2 * .pi * unit()) }
}
