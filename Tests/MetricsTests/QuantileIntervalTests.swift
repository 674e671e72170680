import Foundation
@testable import Metrics
import StackModel
import Testing

@Suite("Quantile intervals", .serialized)
struct QuantileIntervalTests {
    /// How often the 95 % interval from `n` exponential values (mean 200 µs) holds the true
    /// quantile, −ln(1 − p) × mean, over `trials` samples. It yields between samples: seconds of
    /// work must not hold a cooperative thread that other suites' timing checks wait on.
    func coverage(p: Double, n: Int, trials: Int, seed: UInt64) async -> Double {
        let meanNs = 200_000.0, truth = -log1p(-p) * meanNs / 1e6
        var draws = SeededRandom(seed: seed), held = 0
        for _ in 0..<trials {
            await Task.yield()
            var histogram = LatencyHistogram()
            for _ in 0..<n { histogram.record(nanoseconds: Int64(-log(1 - draws.unit()) * meanNs)) }
            let interval = histogram.quantileInterval(p, z: StandardNormal.quantile(0.975))!
            if interval.lowerMs <= truth, let upper = interval.upperMs, truth <= upper { held += 1 }
        }
        return Double(held) / Double(trials)
    }

    @Test(arguments: [(0.5, 300), (0.5, 1000), (0.99, 1000), (0.99, 2000)])
    func theNinetyFivePercentIntervalHoldsTheTrueQuantileNinetyFivePercentOfTheTime(p: Double, n: Int) async {
        let held = await coverage(p: p, n: n, trials: 1500, seed: UInt64(n) &* 31 &+ UInt64(p * 100))
        #expect(held >= 0.93 && held <= 0.97, "p\(p * 100) of \(n): held \(held)")
    }

    @Test func ranksFollowTheBinomial() {
        // Binomial(10, 0.5): P(B < 2) = 11/1024, P(B = 2) = 45/1024.
        let ranks = Binomial(n: 10, p: 0.5)
        #expect(abs(ranks.rank(whereBelowIs: 11.0 / 1024) - 2) < 1e-9)
        #expect(abs(ranks.rank(whereBelowIs: 33.5 / 1024) - 2.5) < 1e-9)
        // Symmetric: the upper rank mirrors the lower one around n + 1 ranks… shifted by one.
        #expect(abs(ranks.rank(whereBelowIs: 1 - 11.0 / 1024) - 9) < 1e-9)
    }

    @Test func anIntervalBeyondTheSampleIsUnbounded() {
        var histogram = LatencyHistogram()
        for ms in 1...20 { histogram.record(nanoseconds: Int64(ms) * 1_000_000) }
        let interval = histogram.quantileInterval(0.99, z: 1.96)!
        #expect(interval.upperMs == nil && interval.logStandardError(z: 1.96).isInfinite)
        var hundred = LatencyHistogram()
        for ms in 1...100 { hundred.record(nanoseconds: Int64(ms) * 1_000_000) }
        // Binomial(100, 0.5): the 95 % ranks lie about 10 either side of the 50th value.
        let median = hundred.quantileInterval(0.5, z: 1.96)!
        #expect(median.lowerMs > 38 && median.lowerMs < 42 && median.upperMs! > 59 && median.upperMs! < 63, "\(median)")
        // Values that move together: the same sample gives a wider interval.
        let inflated = hundred.quantileInterval(0.5, z: 1.96, inflation: 4)!
        #expect(inflated.lowerMs < median.lowerMs && inflated.upperMs! > median.upperMs!)
    }
}
