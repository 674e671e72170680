import Foundation

/// Student's t distribution's quantile, by the Cornish–Fisher expansion around the normal's
/// (within 1 % of the exact value from 3 degrees of freedom up; the normal's beyond 200).
public enum StudentT {
    public static func quantile(_ p: Double, df: Int) -> Double {
        let z = StandardNormal.quantile(p)
        guard df < 200 else { return z }
        let v = Double(max(df, 1))
        let z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z
        return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v)
    }
}

/// The Wilson score interval of a proportion.
public enum Wilson {
    public static func interval(successes: Int, of n: Int, z: Double) -> (low: Double, high: Double) {
        let n = Double(n), p = Double(successes) / n, z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return (max(0, centre - half), min(1, centre + half))
    }
}

/// The standard normal distribution's quantile function.
public enum StandardNormal {
    public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.squareRoot()) }

    /// The x with cdf(x) = p, found by bisection (exact to 1e-12; p in (0, 1)).
    public static func quantile(_ p: Double) -> Double {
        var lo = -40.0, hi = 40.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(mid) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }
}
