import Histogram

/// An HdrHistogram of nanoseconds from 1 ns to one hour. Values beyond the range are clamped to
/// it and counted, never dropped. Totals keep 3 significant digits; per-second intervals and
/// per-store breakdowns keep 2, which makes them small enough to roll every second.
public struct LatencyHistogram: Sendable, Codable, Equatable {
    public static let highest: UInt64 = 3_600_000_000_000
    public private(set) var histogram: Histogram<UInt64>
    public private(set) var clamped: UInt64 = 0

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
        _ = histogram.record(min(value, Self.highest))
    }

    /// Records `count` occurrences of one value (used when decoding a log).
    mutating func record(nanoseconds: Int64, count: UInt64) {
        _ = histogram.record(UInt64(max(0, nanoseconds)), count: count)
    }

    public mutating func add(_ other: LatencyHistogram) {
        histogram.add(other.histogram)
        clamped += other.clamped
    }

    /// This histogram and `other` together.
    public func adding(_ other: LatencyHistogram) -> LatencyHistogram {
        var sum = self
        sum.add(other)
        return sum
    }

    public var count: UInt64 { histogram.totalCount }

    /// The value at a percentile (0...100), in milliseconds.
    public func milliseconds(atPercentile p: Double) -> Double {
        count == 0 ? 0 : Double(histogram.valueAtPercentile(p)) / 1e6
    }

    /// The percentiles of an HdrHistogram-style curve.
    static let curvePercentiles: [Double] = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100]

    /// Percentiles for an HdrHistogram-style curve: 0, 50, 75, 90, 95, 99, 99.5, 99.9, … 99.999, 100.
    public var curve: [CurvePoint] {
        guard count > 0 else { return [] }
        return zip(Self.curvePercentiles, milliseconds(atPercentiles: Self.curvePercentiles)).map { CurvePoint(percentile: $0, ms: $1) }
    }

    /// The values at ascending percentiles, in milliseconds, from one walk over the recorded
    /// buckets: the same values as `milliseconds(atPercentile:)` one by one (HdrHistogram's
    /// definition), at a fraction of the cost when a report asks for many.
    public func milliseconds(atPercentiles percentiles: [Double]) -> [Double] {
        guard count > 0 else { return percentiles.map { _ in 0 } }
        let total = Double(count)
        var values = [Double](repeating: 0, count: percentiles.count)
        var next = 0
        // Percentile 0 is the minimum, 100 and above the maximum, as in `valueAtPercentile`.
        while next < percentiles.count, percentiles[next] == 0 {
            values[next] = Double(histogram.min) / 1e6
            next += 1
        }
        for step in histogram.recordedValues() {
            while next < percentiles.count, percentiles[next] < 100 {
                let wanted = Swift.max(1, UInt64((Swift.min(Swift.max(percentiles[next].nextDown, 0), 100) * total / 100).rounded(.up)))
                guard step.totalCountToThisValue >= wanted else { break }
                let value = Swift.max(Swift.min(histogram.highestEquivalentForValue(step.value), histogram.maxRecorded), histogram.min)
                values[next] = Double(value) / 1e6
                next += 1
            }
            if next == percentiles.count || percentiles[next] >= 100 { break }
        }
        for index in next..<percentiles.count { values[index] = Double(histogram.maxRecorded) / 1e6 }
        return values
    }

    public var maxMilliseconds: Double { count == 0 ? 0 : Double(histogram.max) / 1e6 }
    public var meanMilliseconds: Double { count == 0 ? 0 : histogram.mean / 1e6 }

    public var summary: PercentileSummary {
        let p = milliseconds(atPercentiles: [50, 90, 99, 99.9])
        return PercentileSummary(p50: p[0], p90: p[1], p99: p[2], p999: p[3], max: maxMilliseconds, mean: meanMilliseconds)
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
