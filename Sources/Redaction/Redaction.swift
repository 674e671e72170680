import Foundation

/// Hides credentials in any text stacksim prints or writes, in every form a connection string
/// takes: `scheme://user:password@host`, `redis://password@host`, libpq's key-value conninfo
/// (`password=…`, quoted or not) and query parameters (`?password=…`). Applied where text leaves
/// the process — messages, progress, reports — so no error path can carry a password out.
public enum Redaction {
    public static let mask = "***"

    private static let rules: [(NSRegularExpression, String)] = [
        // scheme://user:secret@ — the userinfo's password, up to the last @ of the token.
        (#"([A-Za-z][A-Za-z0-9+.-]*://)([^:/@\s]*):(\S*)@"#, "$1$2:\(mask)@"),
        // redis://secret@ — Redis takes a lone userinfo as the password.
        (#"(rediss?://)([^:/@\s]+)@"#, "$1\(mask)@"),
        // password=secret, password = 'se cret', ?password=…&, pwd=…, passwd=…
        (#"(?i)\b(password|passwd|pwd|pass)(\s*=\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s&;,'"]*)"#, "$1$2\(mask)"),
    ].map { pattern, template in (try! NSRegularExpression(pattern: pattern), template) }

    /// `text` with every credential replaced by `***`.
    public static func redact(_ text: String) -> String {
        guard mayHoldCredential(text) else { return text }
        var result = text
        for (expression, template) in rules {
            let range = NSRange(result.startIndex..., in: result)
            result = expression.stringByReplacingMatches(in: result, range: range, withTemplate: template)
        }
        return result
    }

    /// Whether a rule could match: a userinfo's `@`, or `pass` or `pwd` followed (past the rest of
    /// a keyword such as `password`, and any space) by `=`. Reports say "pass" and "passed" in many
    /// places; the expressions run only over text that may hold a credential. A byte outside ASCII
    /// may be any letter or space here, as the expressions fold case and take Unicode's spaces.
    static func mayHoldCredential(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func isAny(_ i: Int, _ letter: Character) -> Bool {
            i < bytes.count && (bytes[i] | 0x20 == letter.asciiValue! || bytes[i] >= 0x80)
        }
        func isLetterOrSpace(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || byte == 0x20 || (0x09...0x0D).contains(byte) || byte >= 0x80
        }
        for (i, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "@") { return true }
            guard byte | 0x20 == UInt8(ascii: "p"),
                  isAny(i + 1, "a") && isAny(i + 2, "s") && isAny(i + 3, "s") || isAny(i + 1, "w") && isAny(i + 2, "d")
            else { continue }
            var j = i + 1
            while j < bytes.count, isLetterOrSpace(bytes[j]) { j += 1 }
            if j < bytes.count, bytes[j] == UInt8(ascii: "=") { return true }
        }
        return false
    }
}
