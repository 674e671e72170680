/// An integer-valued distribution, as scenarios describe sizes (users per org, tasks per user).
public enum IntDistribution: Sendable, Equatable, Codable {
    case constant(Int)
    case uniform(min: Int, max: Int)
    /// Zipf over [min, max]: P(min + k) ∝ 1 / (k + 1)^s — a few large values, many small ones.
    case zipf(min: Int, max: Int, s: Double)

    public var range: ClosedRange<Int> {
        switch self {
        case .constant(let v): return v...v
        case .uniform(let lo, let hi), .zipf(let lo, let hi, _): return lo...hi
        }
    }

    /// A sampler with whatever tables the distribution needs precomputed.
    public func sampler() -> IntSampler { IntSampler(self) }
}

public struct IntSampler: Sendable {
    private let distribution: IntDistribution
    private let cumulative: [Double]

    init(_ distribution: IntDistribution) {
        self.distribution = distribution
        if case .zipf(let lo, let hi, let s) = distribution {
            var total = 0.0
            cumulative = (0...(hi - lo)).map { k in
                total += 1 / pow(Double(k + 1), s)
                return total
            }.map { $0 / total }
        } else {
            cumulative = []
        }
    }

    public func sample(_ rng: inout SeededRandom) -> Int {
        switch distribution {
        case .constant(let v): return v
        case .uniform(let lo, let hi): return rng.int(in: lo...hi)
        case .zipf(let lo, _, _):
            let u = rng.unit()
            var low = 0, high = cumulative.count - 1
            while low < high {
                let mid = (low + high) / 2
                if cumulative[mid] < u { low = mid + 1 } else { high = mid }
            }
            return lo + low
        }
    }
}

/// Index choice over a population, for picking which user or task an operation touches.
public enum KeyChooser: String, Sendable, Codable, CaseIterable {
    /// Every key equally likely.
    case uniform
    /// A few keys are hot (YCSB-style zipf with s = 0.99).
    case zipf
    /// The newest keys are hot.
    case latest
    /// 20 % of keys receive 80 % of accesses.
    case hotspot

    public func choose(count: Int, _ rng: inout SeededRandom) -> Int {
        precondition(count > 0)
        switch self {
        case .uniform:
            return Int(rng.next() % UInt64(count))
        case .zipf, .latest:
            // Inverse-CDF approximation of a bounded zipf(0.99) without a table per population.
            let u = rng.unit()
            let rank = Int(pow(Double(count) + 1, u)) - 1
            let k = min(max(rank, 0), count - 1)
            return self == .latest ? count - 1 - k : k
        case .hotspot:
            let hot = max(1, count / 5)
            if rng.chance(0.8) || hot == count { return Int(rng.next() % UInt64(hot)) }
            return hot + Int(rng.next() % UInt64(count - hot))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
