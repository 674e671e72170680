/// The JSON the read-through caches keep, written and read byte by byte: Foundation's coders
/// cost more than all the rest of a cached request on the embedded stack.
enum CacheJSON: Equatable {
    case string(String)
    case number(Double)
    case array([CacheJSON])
    /// Keys in the order written.
    case object([(String, CacheJSON)])

    static func == (a: CacheJSON, b: CacheJSON) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        default: false
        }
    }

    var text: String {
        var out: [UInt8] = []
        out.reserveCapacity(plainSize)
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The written size when nothing needs escaping: room for the text in one allocation.
    private var plainSize: Int {
        switch self {
        case .string(let s): s.utf8.count + 2
        case .number: 24
        case .array(let items): items.reduce(items.count + 2) { $0 + $1.plainSize }
        case .object(let fields): fields.reduce(fields.count + 2) { $0 + $1.0.utf8.count + 3 + $1.1.plainSize }
        }
    }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .string(var s):
            out.append(UInt8(ascii: "\""))
            s.withUTF8 { Self.appendEscaped($0, to: &out) }
            out.append(UInt8(ascii: "\""))
        case .number(let n):
            out.append(contentsOf: (n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : "\(n)").utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in fields.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                CacheJSON.string(key).write(into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends a string's bytes escaped, each run that needs no escape in one copy: most strings
    /// (ids, titles) are a single run.
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var runStart = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
            case UInt8(ascii: "\n"): out += Array("\\n".utf8)
            default: out += Array("\\u00".utf8) + hex(byte >> 4) + hex(byte & 0xF)
            }
            runStart = index + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
    }

    private static func hex(_ nibble: UInt8) -> [UInt8] { [nibble < 10 ? nibble + 48 : nibble + 87] }

    /// Reads what `text` writes (strings, numbers, arrays, objects); nil for anything else.
    init?(text: String) {
        var text = text
        guard let value = text.withUTF8({ bytes -> CacheJSON? in
            var reader = Reader(bytes: bytes)
            guard let value = reader.value(), reader.atEnd else { return nil }
            return value
        }) else { return nil }
        self = value
    }

    subscript(key: String) -> CacheJSON? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var number: Double? { if case .number(let n) = self { n } else { nil } }
    var array: [CacheJSON]? { if case .array(let a) = self { a } else { nil } }

    private struct Reader {
        static let numberBytes = Set("-+.eE0123456789".utf8)
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0

        var atEnd: Bool { at == bytes.count }

        mutating func value() -> CacheJSON? {
            guard at < bytes.count else { return nil }
            switch bytes[at] {
            case UInt8(ascii: "\""): return string().map(CacheJSON.string)
            case UInt8(ascii: "["):
                at += 1
                var items: [CacheJSON] = []
                if take(UInt8(ascii: "]")) { return .array(items) }
                repeat {
                    guard let item = value() else { return nil }
                    items.append(item)
                } while take(UInt8(ascii: ","))
                return take(UInt8(ascii: "]")) ? .array(items) : nil
            case UInt8(ascii: "{"):
                at += 1
                var fields: [(String, CacheJSON)] = []
                if take(UInt8(ascii: "}")) { return .object(fields) }
                repeat {
                    guard let key = string(), take(UInt8(ascii: ":")), let item = value() else { return nil }
                    fields.append((key, item))
                } while take(UInt8(ascii: ","))
                return take(UInt8(ascii: "}")) ? .object(fields) : nil
            default:
                let start = at
                while at < bytes.count, Self.numberBytes.contains(bytes[at]) { at += 1 }
                return Double(String(decoding: bytes[start..<at], as: UTF8.self)).map(CacheJSON.number)
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard at < bytes.count, bytes[at] == byte else { return false }
            at += 1
            return true
        }

        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            // Most strings have no escapes: made from their bytes at once.
            let start = at
            while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\") { at += 1 }
            if at < bytes.count, bytes[at] == UInt8(ascii: "\"") {
                at += 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at - 1]), as: UTF8.self)
            }
            var out = Array(bytes[start..<at])
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard at < bytes.count else { return nil }
                    let escaped = bytes[at]
                    at += 1
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
                    case UInt8(ascii: "u"):
                        guard at + 4 <= bytes.count, let code = UInt8(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16)
                        else { return nil }
                        out.append(code)
                        at += 4
                    default: out.append(escaped)
                    }
                default: out.append(byte)
                }
            }
            return nil
        }
    }
}
