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
        guard text.contains("@") || text.range(of: "pass", options: .caseInsensitive) != nil
            || text.range(of: "pwd", options: .caseInsensitive) != nil else { return text }
        var result = text
        for (expression, template) in rules {
            let range = NSRange(result.startIndex..., in: result)
            result = expression.stringByReplacingMatches(in: result, range: range, withTemplate: template)
        }
        return result
    }
}
