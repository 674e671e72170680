/// Strings for a C call that takes an array of `const char *` (libpq's parameter values,
/// hiredis's command arguments): their bytes side by side in one buffer, each NUL-terminated,
/// with their lengths — one allocation for all of them instead of a `strdup` each. A nil
/// string is a null pointer (SQL NULL). The arrays are `inout` for C signatures that take them
/// as mutable pointers.
public func withCArguments<Strings: Collection, Result>(_ strings: Strings,
                                                       _ body: (_ pointers: inout [UnsafePointer<CChar>?], _ lengths: inout [Int]) throws -> Result)
    rethrows -> Result where Strings.Element == String? {
    var lengths = strings.map { $0?.utf8.count ?? 0 }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(lengths.reduce(strings.count, +))
    for string in strings {
        if var string { string.withUTF8 { bytes.append(contentsOf: $0) } }
        bytes.append(0)
    }
    return try bytes.withUnsafeBytes { buffer in
        var offset = 0
        var pointers: [UnsafePointer<CChar>?] = zip(strings, lengths).map { string, length in
            defer { offset += length + 1 }
            return string == nil ? nil : (buffer.baseAddress! + offset).assumingMemoryBound(to: CChar.self)
        }
        return try body(&pointers, &lengths)
    }
}

/// `withCArguments` for strings none of which is nil (a command's arguments), without first
/// copying them into an array of optionals.
public func withCArguments<Result>(_ strings: [String],
                                   _ body: (_ pointers: inout [UnsafePointer<CChar>?], _ lengths: inout [Int]) throws -> Result)
    rethrows -> Result {
    try withCArguments(strings.lazy.map(Optional.some), body)
}
