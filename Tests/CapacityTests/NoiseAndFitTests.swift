@testable import Capacity
import Foundation
@testable import Metrics
import Scenario
import Testing

/// The verdict's intervals and the USL fit, against what theory says they must do.
@Suite("Verdict noise and the USL fit")
struct NoiseAndFitTests {
    /// A small seeded generator (SplitMix64), so the tests draw the same numbers every time.
    struct Draws {
        var state: UInt64
        mutating func unit() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
    }

    @Test func theStandardNormalQuantileInvertsItsDistribution() {
        #expect(abs(StandardNormal.quantile(0.975) - 1.959964) < 1e-5)
        #expect(abs(StandardNormal.quantile(0.5)) < 1e-9)
    }

    /// Over many samples of an exponential distribution, the interval for p99 must contain the
    /// true p99 (ln 100 × mean) about as often as its confidence says.
    @Test func theP99IntervalCoversTheTrueP99AsOftenAsItsConfidenceSays() {
        var draws = Draws(state: 42)
        let meanMs = 5.0, truth = log(100) * meanMs
        let judge = SLOJudge(slo: [Threshold(target: "op", metric: "p99", limit: truth, location: "test")], confidence: 0.95)
        var covered = 0
        let trials = 300
        for _ in 0..<trials {
            var stats = OperationStats()
            for _ in 0..<2000 { stats.recordForTest(latencyMs: -log(1 - draws.unit()) * meanMs) }
            let sample = ProbeSample(operations: ["op": stats], snapshotLag: LatencyHistogram(), cache: [:], seconds: 10, dropped: 0)
            let check = judge.judge(sample, operations: ["op"]).checks[0]
            if let low = check.low, let high = check.high, low <= truth * 1.001, high >= truth * 0.999 { covered += 1 }
        }
        // Binomial(300, 0.95) stays within 0.91...0.99 with overwhelming probability.
        let rate = Double(covered) / Double(trials)
        #expect(rate > 0.91 && rate < 0.99)
    }

    /// With too few samples, a p99 cannot be bounded from above: the verdict cannot be a pass.
    @Test func aP99FromFewSamplesIsNeverAClearPass() {
        var stats = OperationStats()
        for i in 0..<300 { stats.recordForTest(latencyMs: Double(i % 10)) }
        let sample = ProbeSample(operations: ["op": stats], snapshotLag: LatencyHistogram(), cache: [:], seconds: 10, dropped: 0)
        let judged = SLOJudge(slo: [Threshold(target: "op", metric: "p99", limit: 1000, location: "t")], confidence: 0.95)
            .judge(sample, operations: ["op"])
        #expect(judged.verdict == .inconclusive && judged.checks[0].high == nil)
        // 30,000 of the same: now it is bounded, and clearly within 1000 ms.
        var many = OperationStats()
        for i in 0..<30_000 { many.recordForTest(latencyMs: Double(i % 10)) }
        let more = ProbeSample(operations: ["op": many], snapshotLag: LatencyHistogram(), cache: [:], seconds: 10, dropped: 0)
        #expect(SLOJudge(slo: [Threshold(target: "op", metric: "p99", limit: 1000, location: "t")], confidence: 0.95)
            .judge(more, operations: ["op"]).verdict == .pass)
    }

    /// The Wilson interval of 5 errors in 1000 holds 0.5 %, and a bound at 0.5 % is within noise.
    @Test func errorFractionsAreJudgedByTheirInterval() {
        let z = StandardNormal.quantile(0.975)
        let interval = Wilson.interval(successes: 5, of: 1000, z: z)
        #expect(interval.low < 0.005 && interval.high > 0.005 && interval.low > 0.001 && interval.high < 0.012)
        let judge = SLOJudge(slo: [Threshold(target: "errors", metric: "rate", limit: 0.05, location: "t")], confidence: 0.95)
        var stats = OperationStats()
        for _ in 0..<1000 { stats.recordForTest(latencyMs: 1) }
        for _ in 0..<5 { stats.recordForTest(latencyMs: 1, error: "timeout") }
        let sample = ProbeSample(operations: ["op": stats], snapshotLag: LatencyHistogram(), cache: [:], seconds: 1, dropped: 0)
        #expect(judge.judge(sample, operations: ["op"]).verdict == .pass)
        var dropped = sample
        dropped.dropped = 3
        #expect(judge.judge(dropped, operations: ["op"]).verdict == .fail)
    }

    @Test(arguments: [(0.05, 0.001), (0.2, 0.0001), (0.02, 0.00005)])
    func theFitRecoversSigmaAndKappaFromNoisyUSLPoints(sigma: Double, kappa: Double) throws {
        let truth = USLModel(lambda: 100, sigma: sigma, kappa: kappa)
        var draws = Draws(state: 7)
        let points = stride(from: 1.0, through: 200, by: 4).map { n in
            (n: n, x: truth.throughput(at: n) * (1 + 0.02 * (2 * draws.unit() - 1)))
        }
        let fit = try #require(USLFit.fit(points))
        #expect(abs(fit.model.sigma - sigma) / sigma < 0.1)
        #expect(abs(fit.model.kappa - kappa) / kappa < 0.1)
        #expect(fit.poorFit == nil && fit.rSquared > 0.98)
        let peak = try #require(fit.model.peakConcurrency)
        #expect(abs(peak - truth.peakConcurrency!) / truth.peakConcurrency! < 0.1)
    }

    @Test func pointsThatDoNotFollowTheLawAreFlagged() throws {
        var draws = Draws(state: 9)
        let noise = (1...20).map { n in (n: Double(n), x: 50 + 100 * draws.unit()) }
        #expect(try #require(USLFit.fit(noise)).poorFit != nil)
        let saw = (1...20).map { n in (n: Double(n), x: n % 2 == 0 ? 10.0 : 90.0) }
        #expect(try #require(USLFit.fit(saw)).poorFit != nil)
        let three = [(n: 1.0, x: 10.0), (n: 2.0, x: 19.0), (n: 4.0, x: 35.0)]
        #expect(try #require(USLFit.fit(three)).poorFit?.contains("3 points") == true)
    }
}

extension OperationStats {
    /// One request of `latencyMs`, failed with `error` when given.
    mutating func recordForTest(latencyMs: Double, error: String? = nil) {
        let nanos = Int64(latencyMs * 1e6)
        add(OperationSample(operation: "op", latencyNanos: nanos, serviceNanos: nanos, errorClass: error, storeCalls: [], denied: false,
                            recorded: true))
    }
}
