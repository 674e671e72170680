import Histogram

/// An HdrHistogram of nanoseconds from 1 ns to one hour. Values beyond the range are clamped to
/// it and counted, never dropped. Totals keep 3 significant digits; per-second intervals and
/// per-store breakdowns keep 2, which makes them small enough to roll every second.
public struct LatencyHistogram: Sendable, Codable, Equatable {
    public static let highest: UInt64 = 3_600_000_000_000
    public private(set) var histogram: Histogram<UInt64>
    public private(set) var clamped: UInt64 = 0
    /// The recorded values' sum (clamped values as recorded), for an exact mean without a walk.
    public private(set) var sumNanoseconds: Double = 0

    public enum Precision: Sendable {
        case full, coarse
    }

    public init(_ precision: Precision = .full) {
        histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: Self.highest,
                                      numberOfSignificantValueDigits: precision == .full ? .three : .two)
    }

    public mutating func record(nanoseconds: Int64) {
        let value = UInt64(max(0, nanoseconds))
        if value > Self.highest { clamped += 1 }
        sumNanoseconds += Double(min(value, Self.highest))
        _ = histogram.record(min(value, Self.highest))
    }

    /// Records `count` occurrences of one value (used when decoding a log).
    mutating func record(nanoseconds: Int64, count: UInt64) {
        _ = histogram.record(UInt64(max(0, nanoseconds)), count: count)
        sumNanoseconds += Double(max(0, nanoseconds)) * Double(count)
    }

    public mutating func add(_ other: LatencyHistogram) {
        // An empty one adds nothing, and merging walks every bucket: a report merges one per
        // operation and shard, most failure histograms empty.
        guard other.count > 0 else { return }
        histogram.add(other.histogram)
        clamped += other.clamped
        sumNanoseconds += other.sumNanoseconds
    }

    /// This histogram and `other` together.
    public func adding(_ other: LatencyHistogram) -> LatencyHistogram {
        var sum = self
        sum.add(other)
        return sum
    }

    public var count: UInt64 { histogram.totalCount }

    /// Values recorded above `nanoseconds` (to the histogram's precision).
    public func count(above nanoseconds: UInt64) -> UInt64 {
        let from = histogram.nextNonEquivalentForValue(nanoseconds)
        return from > Self.highest ? 0 : histogram.count(within: from...Self.highest)
    }

    /// The value at a percentile (0...100), in milliseconds.
    public func milliseconds(atPercentile p: Double) -> Double {
        count == 0 ? 0 : Double(histogram.valueAtPercentile(p)) / 1e6
    }

    /// Percentiles for an HdrHistogram-style curve: 0, 50, 75, 90, 95, 99, 99.5, 99.9, … 99.999, 100.
    public var curve: [CurvePoint] {
        guard count > 0 else { return [] }
        return [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100].map {
            CurvePoint(percentile: $0, ms: milliseconds(atPercentile: $0))
        }
    }

    public var maxMilliseconds: Double { count == 0 ? 0 : Double(histogram.max) / 1e6 }
    public var meanMilliseconds: Double { count == 0 ? 0 : sumNanoseconds / Double(count) / 1e6 }

    public var summary: PercentileSummary {
        PercentileSummary(p50: milliseconds(atPercentile: 50), p90: milliseconds(atPercentile: 90),
                          p99: milliseconds(atPercentile: 99), p999: milliseconds(atPercentile: 99.9),
                          max: maxMilliseconds, mean: meanMilliseconds)
    }

    public static func == (a: Self, b: Self) -> Bool { a.histogram == b.histogram && a.clamped == b.clamped }
}

/// Percentiles in milliseconds, as reports print them.
public struct PercentileSummary: Sendable, Codable, Equatable {
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    public var mean: Double

    public init(p50: Double, p90: Double, p99: Double, p999: Double, max: Double, mean: Double) {
        self.p50 = p50; self.p90 = p90; self.p99 = p99; self.p999 = p999; self.max = max; self.mean = mean
    }

    /// The value of `p50`, `p90`, `p99`, `p999` or `max`.
    public func value(named name: String) -> Double? {
        switch name {
        case "p50": return p50
        case "p90": return p90
        case "p99": return p99
        case "p999": return p999
        case "max": return max
        default: return nil
        }
    }
}

public struct CurvePoint: Sendable, Codable, Equatable {
    public var percentile: Double
    public var ms: Double

    public init(percentile: Double, ms: Double) {
        self.percentile = percentile
        self.ms = ms
    }
}
