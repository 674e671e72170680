/// A fast, seedable pseudo-random generator (xoshiro256**), seeded through SplitMix64.
///
/// The same seed gives the same sequence on every machine; `fork(_:)` derives an independent
/// stream for a named purpose so that adding a consumer does not shift everyone else's values.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var mixer = seed
        state = (Self.splitMix(&mixer), Self.splitMix(&mixer), Self.splitMix(&mixer), Self.splitMix(&mixer))
    }

    /// A name as a number that is the same on every machine and in every run (FNV-1a): for
    /// deriving streams and identities from text, where `hashValue` changes per process.
    public static func stableHash(_ text: String) -> UInt64 {
        text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    /// An independent stream for `purpose`, derived from this generator's seed state only.
    public func fork(_ purpose: UInt64) -> SeededRandom {
        SeededRandom(seed: state.0 ^ (purpose &* 0x9E37_79B9_7F4A_7C15) ^ state.2.rotatedLeft(17))
    }

    public mutating func next() -> UInt64 {
        let result = (state.1 &* 5).rotatedLeft(7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = state.3.rotatedLeft(45)
        return result
    }

    /// A uniform double in [0, 1).
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    private static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension UInt64 {
    @inlinable func rotatedLeft(_ k: UInt64) -> UInt64 { (self << k) | (self >> (64 - k)) }
}

extension SeededRandom {
    /// A version-4 UUID drawn from this stream.
    public mutating func uuid() -> UUIDValue {
        UUIDValue(high: (next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000,
                  low: (next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000)
    }

    public mutating func pick<T>(_ items: [T]) -> T {
        items[Int(next() % UInt64(items.count))]
    }

    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    public mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }
}
