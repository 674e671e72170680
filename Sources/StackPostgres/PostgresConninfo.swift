import CLibPQ
import Foundation
import StackCore

/// A PostgreSQL address in any form libpq takes (`postgresql://` URL or `key=value` conninfo),
/// parsed and checked once, with stacksim's schema put first on every connection's
/// `search_path` — so every statement touches stacksim's own schema and nothing else.
struct PostgresConninfo: Sendable {
    private(set) var keywords: [String]
    private(set) var values: [String]
    let schema: String

    /// Sets (or replaces) one parameter.
    mutating func set(_ keyword: String, _ value: String) {
        if let index = keywords.firstIndex(of: keyword) {
            values[index] = value
        } else {
            keywords.append(keyword)
            values.append(value)
        }
    }

    /// Checks the address (a bad one is bad input, not an unreachable server) and the schema name.
    init(_ conninfo: String, schema: String) throws {
        guard Self.isIdentifier(schema) else {
            throw StoreConfigurationError(store: .relational, message: "schema '\(schema)': expected a lower-case SQL identifier "
                                          + "(letters, digits, _; not starting with a digit)")
        }
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &error) else {
            let why = error.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "not a connection string"
            if let error { PQfreemem(error) }
            throw StoreConfigurationError(store: .relational, message: "not a PostgreSQL URL or conninfo: \(why)")
        }
        defer { PQconninfoFree(options) }
        var keywords: [String] = [], values: [String] = []
        var userOptions = ""
        var option = options
        while let keyword = option.pointee.keyword {
            let name = String(cString: keyword)
            if let value = option.pointee.val.map({ String(cString: $0) }) {
                if name == "options" {
                    userOptions = value
                } else {
                    keywords.append(name)
                    values.append(value)
                }
                if name == "port", value.split(separator: ",").contains(where: { Int($0) == nil }) {
                    throw StoreConfigurationError(store: .relational, message: "port '\(value)': expected a number")
                }
            }
            option += 1
        }
        keywords.append("options")
        values.append((userOptions.isEmpty ? "" : userOptions + " ") + "-c search_path=\(schema),public")
        self.keywords = keywords
        self.values = values
        self.schema = schema
    }

    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63,
              first == "_" || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    /// Calls `body` with the NULL-terminated keyword and value arrays libpq's `…Params` calls take.
    func withParameters<T>(_ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
        let k = keywords.map { strdup($0) }, v = values.map { strdup($0) }
        defer { (k + v).forEach { free($0) } }
        let kp: [UnsafePointer<CChar>?] = k.map { UnsafePointer($0) } + [nil]
        let vp: [UnsafePointer<CChar>?] = v.map { UnsafePointer($0) } + [nil]
        return kp.withUnsafeBufferPointer { kb in vp.withUnsafeBufferPointer { vb in body(kb.baseAddress!, vb.baseAddress!) } }
    }
}

/// What a PostgreSQL error means for the caller, from its SQLSTATE.
enum PostgresErrorCode {
    static func code(sqlstate: String) -> StoreError.Code {
        switch sqlstate {
        case "23505": return .uniqueViolation
        case "40P01": return .deadlock
        case "40001": return .serializationFailure
        case "53300": return .tooManyConnections
        case "57014": return .queryCanceled
        case "28000", "28P01": return .authentication
        // admin_shutdown, crash_shutdown, cannot_connect_now: the server is going away or not ready.
        case "57P01", "57P02", "57P03": return .connectionLost
        default:
            if sqlstate.hasPrefix("23") { return .constraint }
            if sqlstate.hasPrefix("08") { return .connectionLost }
            return .server
        }
    }

    /// A connect failure's code: refused credentials are not an outage.
    static func connectCode(message: String) -> StoreError.Code {
        message.contains("password authentication failed") || message.contains("no password supplied") ? .authentication : .unavailable
    }
}
