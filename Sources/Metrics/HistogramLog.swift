import CZlib
import Foundation
import Histogram

/// HdrHistogram's interval log (`.hlog`, format 1.3): one line per interval, each holding a
/// histogram in the V2 compressed encoding (big-endian header, ZigZag LEB128 counts with runs of
/// zeros folded, deflated, Base64). HdrHistogram's own log tools read it.
public enum HistogramLog {
    static let encodingCookie: UInt32 = 0x1C84_9303 | 0x10
    static let compressedCookie: UInt32 = 0x1C84_9304 | 0x10

    public struct Line: Sendable, Equatable {
        /// nil for the untagged line (all operations together).
        public var tag: String?
        /// Seconds since the log's start time.
        public var start: Double
        public var length: Double
        public var histogram: LatencyHistogram

        public init(tag: String?, start: Double, length: Double, histogram: LatencyHistogram) {
            self.tag = tag; self.start = start; self.length = length; self.histogram = histogram
        }
    }

    public enum DecodingError: Error, CustomStringConvertible {
        case malformed(String)

        public var description: String {
            switch self { case .malformed(let why): return "malformed histogram log: \(why)" }
        }
    }

    /// The header: format version, start time, legend.
    public static func header(startTime: Date) -> String {
        let seconds = String(format: "%.3f", startTime.timeIntervalSince1970)
        return """
            #[Histogram log format version 1.3]
            #[StartTime: \(seconds) (seconds since epoch), \(ISO8601DateFormatter().string(from: startTime))]
            #[stacksim: values in nanoseconds; Interval_Max in milliseconds; untagged lines are all operations]
            "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"

            """
    }

    /// One log line: `Tag=board,1.000,1.000,2.345,HISTF…`.
    public static func format(_ line: Line) -> String {
        let prefix = line.tag.map { "Tag=\($0)," } ?? ""
        return prefix + String(format: "%.3f,%.3f,%.3f,", line.start, line.length, line.histogram.maxMilliseconds)
            + line.histogram.encoded
    }

    /// Parses the lines of a log back into histograms (comments and the legend skipped).
    public static func parse(_ text: String) throws -> [Line] {
        try text.split(separator: "\n").compactMap { raw -> Line? in
            var fields = raw.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#"), !first.hasPrefix("\"") else { return nil }
            var tag: String?
            if first.hasPrefix("Tag=") { tag = String(first.dropFirst(4)); fields.removeFirst() }
            guard fields.count == 4, let start = Double(fields[0]), let length = Double(fields[1]) else {
                throw DecodingError.malformed("line '\(raw.prefix(60))'")
            }
            return Line(tag: tag, start: start, length: length, histogram: try LatencyHistogram(encoded: fields[3]))
        }
    }

    // MARK: - V2 encoding

    static func encode(_ histogram: Histogram<UInt64>) -> Data {
        let layout = BucketLayout(digits: Int(histogram.numberOfSignificantValueDigits.rawValue),
                                  lowest: histogram.lowestDiscernibleValue)
        var counts: [Int: UInt64] = [:]
        for step in histogram.recordedValues() { counts[layout.index(of: step.value), default: 0] += UInt64(step.count) }
        var payload = Data()
        var index = 0
        let limit = (counts.keys.max() ?? -1) + 1
        while index < limit {
            let count = counts[index] ?? 0
            if count == 0 {
                var zeros = 1
                while index + zeros < limit && (counts[index + zeros] ?? 0) == 0 { zeros += 1 }
                putZigZag(zeros > 1 ? -Int64(zeros) : 0, into: &payload)
                index += zeros
            } else {
                putZigZag(Int64(count), into: &payload)
                index += 1
            }
        }
        var plain = Data()
        plain.appendBigEndian(encodingCookie)
        plain.appendBigEndian(UInt32(payload.count))
        plain.appendBigEndian(UInt32(0))
        plain.appendBigEndian(UInt32(histogram.numberOfSignificantValueDigits.rawValue))
        plain.appendBigEndian(histogram.lowestDiscernibleValue)
        plain.appendBigEndian(histogram.highestTrackableValue)
        plain.appendBigEndian((1.0).bitPattern)
        plain.append(payload)
        let deflated = deflate(plain)
        var out = Data()
        out.appendBigEndian(compressedCookie)
        out.appendBigEndian(UInt32(deflated.count))
        out.append(deflated)
        return out
    }

    static func decode(_ data: Data) throws -> LatencyHistogram {
        var reader = ByteReader(data: data)
        guard try reader.uint32() == compressedCookie else { throw DecodingError.malformed("not a V2 compressed histogram") }
        let length = Int(try reader.uint32())
        let plain = try inflate(try reader.bytes(length))
        var body = ByteReader(data: plain)
        guard try body.uint32() == encodingCookie else { throw DecodingError.malformed("not a V2 histogram") }
        let payloadLength = Int(try body.uint32())
        _ = try body.uint32()
        let digits = Int(try body.uint32())
        let lowest = try body.uint64(), highest = try body.uint64()
        _ = try body.uint64()
        guard lowest == 1, highest == LatencyHistogram.highest, digits == 2 || digits == 3 else {
            throw DecodingError.malformed("unexpected range or precision")
        }
        var histogram = LatencyHistogram(digits == 3 ? .full : .coarse)
        let layout = BucketLayout(digits: digits, lowest: lowest)
        var payload = ByteReader(data: try body.bytes(payloadLength))
        var index = 0
        while !payload.atEnd {
            let value = try payload.zigZag()
            if value < 0 {
                index += Int(-value)
            } else {
                if value > 0 { histogram.record(nanoseconds: Int64(layout.value(at: index)), count: UInt64(value)) }
                index += 1
            }
        }
        return histogram
    }

    static func putZigZag(_ value: Int64, into data: inout Data) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        for _ in 0..<8 {
            if v < 0x80 { data.append(UInt8(v)); return }
            data.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        data.append(UInt8(truncatingIfNeeded: v))
    }

    static func deflate(_ data: Data) -> Data {
        var size = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = data.withUnsafeBytes { source in
            compress2(&out, &size, source.bindMemory(to: Bytef.self).baseAddress, uLong(data.count), Z_DEFAULT_COMPRESSION)
        }
        precondition(status == Z_OK, "zlib compress2 failed with \(status)")
        return Data(out.prefix(Int(size)))
    }

    static func inflate(_ data: Data) throws -> Data {
        var capacity = max(1024, data.count * 8)
        while capacity <= 1 << 28 {
            var size = uLong(capacity)
            var out = [UInt8](repeating: 0, count: capacity)
            let status = data.withUnsafeBytes { source in
                uncompress(&out, &size, source.bindMemory(to: Bytef.self).baseAddress, uLong(data.count))
            }
            if status == Z_OK { return Data(out.prefix(Int(size))) }
            guard status == Z_BUF_ERROR else { throw DecodingError.malformed("zlib status \(status)") }
            capacity *= 4
        }
        throw DecodingError.malformed("histogram too large")
    }
}

/// HdrHistogram's mapping between values and count-array indexes, for the encoding.
struct BucketLayout {
    let unitMagnitude: Int
    let subBucketHalfCountMagnitude: Int
    let subBucketHalfCount: Int
    let subBucketMask: UInt64
    let leadingZeroCountBase: Int

    init(digits: Int, lowest: UInt64) {
        unitMagnitude = 63 - lowest.leadingZeroBitCount
        let largestSingleUnit = 2 * UInt64(pow(10, Double(digits)))
        let subBucketCountMagnitude = Int(ceil(log2(Double(largestSingleUnit))))
        subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
        subBucketHalfCount = 1 << subBucketHalfCountMagnitude
        subBucketMask = (UInt64(1 << subBucketCountMagnitude) - 1) << UInt64(unitMagnitude)
        leadingZeroCountBase = 64 - unitMagnitude - subBucketHalfCountMagnitude - 1
    }

    func index(of value: UInt64) -> Int {
        let bucket = leadingZeroCountBase - (value | subBucketMask).leadingZeroBitCount
        let subBucket = Int(value >> UInt64(bucket + unitMagnitude))
        return ((bucket + 1) << subBucketHalfCountMagnitude) + subBucket - subBucketHalfCount
    }

    func value(at index: Int) -> UInt64 {
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucket < 0 {
            subBucket -= subBucketHalfCount
            bucket = 0
        }
        return UInt64(subBucket) << UInt64(bucket + unitMagnitude)
    }
}

struct ByteReader {
    let data: Data
    var offset = 0

    var atEnd: Bool { offset >= data.count }

    mutating func bytes(_ n: Int) throws -> Data {
        guard n >= 0, offset + n <= data.count else { throw HistogramLog.DecodingError.malformed("truncated") }
        defer { offset += n }
        return data.subdata(in: data.startIndex + offset..<data.startIndex + offset + n)
    }

    mutating func uint32() throws -> UInt32 { try bytes(4).reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func uint64() throws -> UInt64 { try bytes(8).reduce(0) { $0 << 8 | UInt64($1) } }

    mutating func zigZag() throws -> Int64 {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 56, by: 7) {
            let byte = try bytes(1).first!
            result |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte < 0x80 { return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1) }
        }
        result |= UInt64(try bytes(1).first!) << 56
        return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1)
    }
}

extension Data {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

extension LatencyHistogram {
    /// The histogram in HdrHistogram's V2 compressed encoding, Base64: what a `.hlog` line holds,
    /// and what a report keeps so a later comparison can use every recorded value.
    public var encoded: String { HistogramLog.encode(histogram).base64EncodedString() }

    public init(encoded: String) throws {
        guard let data = Data(base64Encoded: encoded) else { throw HistogramLog.DecodingError.malformed("not Base64") }
        self = try HistogramLog.decode(data)
    }
}
