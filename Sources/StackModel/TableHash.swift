/// The hash the embedded stores' hot tables are keyed by, in place of `Hasher`'s SipHash, whose
/// set-up and finish per lookup were a tenth of a request's CPU: a 64-bit multiply–xorshift
/// mixer (splitmix64's finaliser, taking a second word in the middle). Keys are stacksim's own
/// (ids, cache keys), never chosen by an adversary, so flooding is not a concern.
public enum TableHash {
    /// Two words mixed into one, every input bit reaching every output bit.
    @inlinable public static func mix(_ first: UInt64, _ second: UInt64) -> UInt64 {
        var mixed = first &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 31) ^ second) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 29)
    }

    /// A string's UTF-8 bytes, eight at a time.
    public static func bytes(of text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            var hash = UInt64(raw.count)
            var offset = 0
            while offset + 8 <= raw.count {
                hash = mix(hash, raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset += 8
            }
            var tail: UInt64 = 0
            for (index, byte) in raw[offset...].enumerated() { tail |= UInt64(byte) << (8 * index) }
            return mix(hash, tail)
        }
    }

    /// A table's bucket hash of `hash` (what `_rawHashValue(seed:)` returns): the table's seed
    /// mixed in, so that copying one table into another in its order stays linear.
    @inlinable public static func forTable(_ hash: UInt64, second: UInt64 = 0, seed: Int) -> Int {
        Int(truncatingIfNeeded: mix(hash ^ UInt64(truncatingIfNeeded: seed), second))
    }
}
