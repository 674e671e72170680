/// A 128-bit identifier printed as a UUID; a value type so that ids hash and compare fast.
public struct UUIDValue: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    /// What a dictionary or set of ids hashes by (the standard library's customisation point for
    /// it): both words and the table's seed through `TableHash` — ids key nearly every lookup the
    /// embedded stores make. `hash(into:)`, for types that contain ids, is unchanged.
    public func _rawHashValue(seed: Int) -> Int { TableHash.forTable(high, second: low, seed: seed) }

    /// Lowercase, dashed at 8-4-4-4-12. Written byte by byte: ids are formatted for every
    /// store call on a live target, and building them from substrings was a fifth of a call's CPU.
    public var description: String {
        String(unsafeUninitializedCapacity: 36) { write(into: $0, at: 0) }
    }

    /// `prefix`, then this id and `next` (when given), each after `separator` — "dashboard:<user>:<org>",
    /// "task.created <id>" — in one allocation: an interpolation formats each id into a string of
    /// its own and then grows the result (most of a cache miss's allocations on the embedded stack).
    public func text(after prefix: String, separator: UInt8, then next: UUIDValue? = nil) -> String {
        var prefix = prefix
        let count = prefix.utf8.count
        return String(unsafeUninitializedCapacity: count + 37 + (next == nil ? 0 : 37)) { out in
            prefix.withUTF8 { UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer($0)) }
            out[count] = separator
            var end = write(into: out, at: count + 1)
            if let next {
                out[end] = separator
                end = next.write(into: out, at: end + 1)
            }
            return end
        }
    }

    /// Writes the 36 characters of `description` from `start`; returns the position after them.
    private func write(into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var position = start
        for nibble in 0..<32 {
            if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                out[position] = UInt8(ascii: "-")
                position += 1
            }
            let digit = UInt8(((nibble < 16 ? high : low) >> UInt64(60 - 4 * (nibble % 16))) & 0xF)
            out[position] = digit < 10 ? digit + UInt8(ascii: "0") : digit - 10 + UInt8(ascii: "a")
            position += 1
        }
        return position
    }

    /// Reads 32 hex digits, dashes anywhere ignored (either case).
    public init?(_ text: String) {
        var words: (UInt64, UInt64) = (0, 0)
        var digits = 0
        for byte in text.utf8 where byte != UInt8(ascii: "-") {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            guard digits < 32 else { return nil }
            if digits < 16 { words.0 = words.0 << 4 | UInt64(value) } else { words.1 = words.1 << 4 | UInt64(value) }
            digits += 1
        }
        guard digits == 32 else { return nil }
        self.init(high: words.0, low: words.1)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = UUIDValue(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a UUID: \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
