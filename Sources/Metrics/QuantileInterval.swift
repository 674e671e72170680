import Foundation

/// A distribution-free confidence interval for a quantile, from the recorded values themselves.
///
/// The number of values at or below the true p-quantile is Binomial(n, p), so the interval runs
/// between the order statistics whose ranks cut the same tail off either side of that binomial.
/// Those ranks fall between two order statistics; interpolating between them by the binomial's
/// probability at the boundary (Hettmansperger and Sheather, 1986) keeps the coverage near its
/// nominal level instead of rounding it up — which matters for a p99 from a few hundred values.
public struct QuantileInterval: Sendable, Equatable {
    /// 0 when the interval reaches below the smallest value.
    public var lowerMs: Double
    public var estimateMs: Double
    /// nil when it reaches above the largest value: not bounded by this sample.
    public var upperMs: Double?

    /// The estimate's standard error on the log scale, read off the interval's width (the log
    /// of a latency quantile is close to normal): what comparing two runs needs. Infinite when
    /// the interval is unbounded.
    public func logStandardError(z: Double) -> Double {
        guard lowerMs > 0, let upperMs, upperMs > 0 else { return .infinity }
        return (log(upperMs) - log(lowerMs)) / (2 * z)
    }
}

extension LatencyHistogram {
    /// The interval for the `p`-quantile (0 < p < 1) with the two-sided confidence `z` stands for
    /// (1.96: 95 %); nil when nothing was recorded. Values are taken as independent draws unless
    /// `inflation` (≥ 1, see the capacity verdict's batch variance) says neighbours vary together:
    /// the ranks then come from the binomial of n / inflation draws, scaled back to n.
    public func quantileInterval(_ p: Double, z: Double, inflation: Double = 1) -> QuantileInterval? {
        let n = Double(count)
        guard n > 0, p > 0, p < 1 else { return nil }
        let effective = max(1, (n / max(inflation, 1)).rounded())
        let ranks = Binomial(n: Int(effective), p: p), scale = n / effective
        let tail = StandardNormal.cdf(-z)
        // Lower: the rank r with P(B < r) = tail; upper: the rank with P(B < r) = 1 − tail.
        let low = ranks.rank(whereBelowIs: tail) * scale, high = ranks.rank(whereBelowIs: 1 - tail) * scale
        return QuantileInterval(lowerMs: low < 1 ? 0 : milliseconds(atRank: low),
                                estimateMs: milliseconds(atPercentile: p * 100),
                                upperMs: high > n ? nil : milliseconds(atRank: high))
    }

    /// The order statistic at a fractional rank in 1…n, linear between its two neighbours.
    func milliseconds(atRank rank: Double) -> Double {
        let n = Double(count), below = rank.rounded(.down), above = rank.rounded(.up)
        let a = milliseconds(atPercentile: below * 100 / n), b = milliseconds(atPercentile: above * 100 / n)
        return a + (b - a) * (rank - below)
    }
}

/// The Binomial(n, p) distribution, for choosing order-statistic ranks.
struct Binomial {
    var n: Int
    var p: Double

    /// ln P(B = k).
    func logMass(_ k: Int) -> Double {
        lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)
            + Double(k) * log(p) + Double(n - k) * log1p(-p)
    }

    /// The fractional rank r at which P(B < r) reaches `level`: the integer k with
    /// P(B < k) ≤ level < P(B ≤ k), plus the share of P(B = k) that `level` lies past P(B < k).
    /// Ranks count from 1, so B = k means the (k + 1)-th value is the first above the quantile.
    func rank(whereBelowIs level: Double) -> Double {
        // Masses summed from 12 standard deviations below the mean: what lies beyond is
        // negligible, and a large n costs no more than its spread.
        let mean = Double(n) * p, spread = (mean * (1 - p)).squareRoot()
        let first = max(0, Int((mean - 12 * spread - 10).rounded(.down)))
        let last = min(n, Int((mean + 12 * spread + 10).rounded(.up)))
        var below = 0.0
        for k in first...last {
            let mass = exp(logMass(k))
            if below + mass > level { return Double(k) + (level - below) / mass }
            below += mass
        }
        return Double(last) + 1
    }
}
