import Foundation
import Metrics
@testable import Reporting
import Testing

@Suite("Baseline comparison")
struct ComparisonTests {
    let fixture = ReportTests()

    /// A report whose operations' per-second p50/p99 are drawn from `values(second)`.
    func report(_ operations: [String: (Int) -> (p50: Double, p99: Double)], seconds: Int = 20, cores: Int = 2) -> RunReport {
        var r = fixture.report(operations.keys.sorted().map { name in
            let rows = (0..<seconds).map { operations[name]!($0) }
            let p50 = rows.map(\.p50).sorted()[seconds / 2], p99 = rows.map(\.p99).sorted()[seconds * 99 / 100]
            var op = fixture.operation(name, p99: p99, count: 1000)
            op.latencyMs.p50 = p50
            return op
        })
        r.intervals = operations.keys.sorted().flatMap { name in
            (0..<seconds).map { t in
                let v = operations[name]!(t)
                return IntervalRow(t: Double(t + 1), phase: "steady", recorded: true, operation: name, count: 50, errors: 0,
                                   p50Ms: v.p50, p99Ms: v.p99, maxMs: v.p99 * 1.5)
            }
        }
        r.machine.cores = cores
        return r
    }

    /// Deterministic jitter in [-1, 1).
    func noise(_ seed: Int, _ t: Int) -> Double {
        var rng = UInt64(truncatingIfNeeded: seed &* 7919 &+ t &* 104_729) &* 0x9E37_79B9_7F4A_7C15
        rng ^= rng >> 29
        return Double(rng % 2000) / 1000 - 1
    }

    @Test func aRerunOfTheSameCodeIsNotARegression() {
        let base = report(["board": { (2 + 0.3 * noise(1, $0), 8 + 2 * noise(2, $0)) }, "search": { (1 + 0.2 * noise(3, $0), 5 + noise(4, $0)) }])
        let again = report(["board": { (2 + 0.3 * noise(5, $0), 8 + 2 * noise(6, $0)) }, "search": { (1 + 0.2 * noise(7, $0), 5 + noise(8, $0)) }])
        let comparison = Comparison.compare(base: base, current: again, baseName: "base")
        #expect(comparison.regressions.isEmpty, "\(comparison.findings.map(\.summary))")
        #expect(comparison.findings.count == 4)
        #expect(comparison.warnings.isEmpty)
    }

    @Test func aSlowerOperationIsARegressionOfExactlyThatOperation() {
        let base = report(["board": { (2 + 0.3 * noise(1, $0), 8 + 2 * noise(2, $0)) }, "search": { (1 + 0.2 * noise(3, $0), 5 + noise(4, $0)) }])
        let slower = report(["board": { (4 + 0.3 * noise(5, $0), 14 + 2 * noise(6, $0)) }, "search": { (1 + 0.2 * noise(7, $0), 5 + noise(8, $0)) }])
        let comparison = Comparison.compare(base: base, current: slower, baseName: "base")
        #expect(Set(comparison.regressions.map(\.operation)) == ["board"])
        #expect(comparison.regressions.allSatisfy { ($0.pValue ?? 1) < 0.01 })
        let faster = Comparison.compare(base: slower, current: base, baseName: "slower")
        #expect(faster.regressions.isEmpty && faster.findings.contains { $0.verdict == .improvement && $0.operation == "board" })
    }

    @Test func smallOrNoisyChangesStayUnchanged() {
        let base = report(["board": { (2 + noise(1, $0), 8 + 6 * noise(2, $0)) }])
        // 30 % higher p99 but within the second-to-second noise: the rank test does not call it.
        let noisy = report(["board": { (2 + noise(3, $0), 10.4 + 6 * noise(4, $0)) }])
        #expect(Comparison.compare(base: base, current: noisy, baseName: "b").regressions.isEmpty)
        // Significant but tiny in absolute terms (0.1 ms on 0.2 ms): under the absolute limit.
        let tinyBase = report(["board": { (0.2 + 0.001 * noise(1, $0), 0.3 + 0.001 * noise(2, $0)) }])
        let tinyUp = report(["board": { (0.3 + 0.001 * noise(1, $0), 0.4 + 0.001 * noise(2, $0)) }])
        #expect(Comparison.compare(base: tinyBase, current: tinyUp, baseName: "b").regressions.isEmpty)
    }

    @Test func aRunWideDriftIsAWarningAndOperationsAreJudgedAgainstIt() {
        let names = ["board", "search", "members", "dashboard"]
        let base = report(Dictionary(uniqueKeysWithValues: names.enumerated().map { i, n in
            (n, { (t: Int) in (2 + 0.2 * noise(i, t), 8 + noise(i + 9, t)) })
        }))
        // The whole machine is 60 % slower: every operation shifts alike.
        let drift = report(Dictionary(uniqueKeysWithValues: names.enumerated().map { i, n in
            (n, { (t: Int) in (3.2 + 0.2 * noise(i + 20, t), 12.8 + noise(i + 30, t)) })
        }))
        let drifted = Comparison.compare(base: base, current: drift, baseName: "b")
        #expect(drifted.regressions.isEmpty, "\(drifted.regressions.map(\.summary))")
        #expect(drifted.warnings.contains { $0.contains("whole run is slower") })
        // …and on top of the drift, search is three times slower still: that is a regression.
        var worse = drift
        worse.operations = worse.operations.map { op in
            guard op.name == "search" else { return op }
            var slower = op
            slower.latencyMs.p50 *= 3
            slower.latencyMs.p99 *= 3
            return slower
        }
        worse.intervals = worse.intervals.map { row in
            guard row.operation == "search" else { return row }
            var slower = row
            slower.p50Ms *= 3
            slower.p99Ms *= 3
            return slower
        }
        #expect(Set(Comparison.compare(base: base, current: worse, baseName: "b").regressions.map(\.operation)) == ["search"])
    }

    @Test func anotherMachineIsAWarning() {
        let base = report(["board": { _ in (2, 8) }], cores: 8)
        let comparison = Comparison.compare(base: base, current: report(["board": { _ in (2, 8) }], cores: 2), baseName: "b")
        #expect(comparison.warnings.contains { $0.contains("another machine") })
    }

    @Test func theRankTestSeparatesWhatDiffers() {
        let same = (0..<20).map(Double.init)
        #expect(abs(Comparison.mannWhitneyGreater(same, than: same) - 0.5) < 0.1)
        #expect(Comparison.mannWhitneyGreater(same.map { $0 + 100 }, than: same) < 0.001)
        #expect(Comparison.mannWhitneyGreater(same, than: same.map { $0 + 100 }) > 0.999)
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
