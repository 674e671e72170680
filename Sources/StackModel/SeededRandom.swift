/// A fast, seedable pseudo-random generator (xoshiro256**), seeded through SplitMix64.
///
/// The same seed gives the same sequence on every machine; `fork(_:)` derives an independent
/// stream for a named purpose so that adding a consumer does not shift everyone else's values.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)
    /// Set by `identifying(tenant:)`: the namespace and next serial of the ids `uuid()` hands out.
    private var identity: (tenant: UInt64, serial: UInt64)?

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
    /// The most tenants `identifying(tenant:)` keeps apart: tenant numbers below this.
    public static let identifiedTenants: UInt64 = 1 << 27

    /// This stream, handing out ids unique by construction: the `n`-th id of tenant `t` carries
    /// (t, n) through a bijection, so two ids of one dataset never collide, whatever the draws.
    /// Tenant 0 is for ids outside any tenant; datasets use `organization index + 1`.
    public func identifying(tenant: UInt64) -> SeededRandom {
        precondition(tenant < Self.identifiedTenants, "tenant number \(tenant) out of range")
        var copy = self
        copy.identity = (tenant, 0)
        return copy
    }

    /// A version-4 UUID: numbered within its tenant after `identifying(tenant:)`, else drawn (and
    /// then never equal to a numbered one: the two kinds differ in a bit before the bijection).
    public mutating func uuid() -> UUIDValue {
        let key: UInt64
        if let (tenant, serial) = identity {
            key = tenant << 34 | serial
            identity = (tenant, serial + 1)
        } else {
            key = 1 << 61 | (next() >> 3)
        }
        return UUIDValue(high: (next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000,
                         low: Self.permute62(key) | 0x8000_0000_0000_0000)
    }

    /// A bijection of the 62-bit numbers (xor-shifts and odd multipliers modulo 2^62) that
    /// scatters consecutive keys.
    static func permute62(_ key: UInt64) -> UInt64 {
        let mask: UInt64 = (1 << 62) - 1
        var x = key & mask
        x = ((x ^ (x >> 31)) &* 0xBF58_476D_1CE4_E5B9) & mask
        x = ((x ^ (x >> 29)) &* 0x94D0_49BB_1331_11EB) & mask
        return x ^ (x >> 32)
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
