/// Strings for a C call that takes an array of `const char *` (libpq's parameter values,
/// hiredis's command arguments): their bytes side by side, each NUL-terminated, with their
/// lengths — in temporary buffers (on the stack when small), instead of a `strdup` each or an
/// array per call. A nil string is a null pointer (SQL NULL). The buffers live only for `body`.
public func withCArguments<Strings: Collection, Result>(
    _ strings: Strings,
    _ body: (_ pointers: UnsafeMutableBufferPointer<UnsafePointer<CChar>?>, _ lengths: UnsafeMutableBufferPointer<Int>) throws -> Result
) rethrows -> Result where Strings.Element == String? {
    let count = strings.count
    return try withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { lengths in
        var total = 0
        for (index, string) in strings.enumerated() {
            let length = string?.utf8.count ?? 0
            lengths.initializeElement(at: index, to: length)
            total += length + 1
        }
        return try withUnsafeTemporaryAllocation(of: CChar.self, capacity: total) { bytes in
            try withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { pointers in
                var offset = 0
                for (index, string) in strings.enumerated() {
                    guard var string else {
                        pointers.initializeElement(at: index, to: nil)
                        continue
                    }
                    let start = bytes.baseAddress! + offset
                    string.withUTF8 { utf8 in
                        if let source = utf8.baseAddress { UnsafeMutableRawPointer(start).copyMemory(from: source, byteCount: utf8.count) }
                        start[utf8.count] = 0
                    }
                    pointers.initializeElement(at: index, to: UnsafePointer(start))
                    offset += lengths[index] + 1
                }
                return try body(pointers, lengths)
            }
        }
    }
}

/// `withCArguments` for strings none of which is nil (a command's arguments), without first
/// copying them into an array of optionals.
public func withCArguments<Result>(
    _ strings: [String],
    _ body: (_ pointers: UnsafeMutableBufferPointer<UnsafePointer<CChar>?>, _ lengths: UnsafeMutableBufferPointer<Int>) throws -> Result
) rethrows -> Result {
    try withCArguments(strings.lazy.map(Optional.some), body)
}
