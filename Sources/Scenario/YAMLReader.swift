import Yams

/// A problem with a scenario, located in its file: `file:line:column: key.path: what was expected`.
public struct ScenarioError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var column: Int
    /// The dotted key path, e.g. `load.phases[1].rate`.
    public var path: String
    public var message: String

    public init(file: String, line: Int, column: Int, path: String, message: String) {
        self.file = file; self.line = line; self.column = column; self.path = path; self.message = message
    }

    public var description: String {
        let location = line > 0 ? "\(file):\(line):\(column)" : file
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}

/// A YAML node with the key path and file it came from, so every error can say where it is.
struct YAMLValue {
    let node: Node
    let path: String
    let file: String

    func error(_ message: String) -> ScenarioError {
        ScenarioError(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0, path: path, message: message)
    }

    /// The scalar text, or an error naming what was expected.
    func scalar(expected: String) throws -> String {
        guard case .scalar(let scalar) = node else { throw error("expected \(expected), got \(kind)") }
        return scalar.string
    }

    var kind: String {
        switch node {
        case .scalar(let s): return "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func string() throws -> String {
        try scalar(expected: "a string")
    }

    func int(in range: ClosedRange<Int>? = nil) throws -> Int {
        let text = try scalar(expected: "a whole number")
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else { throw error("expected a whole number, got '\(text)'") }
        if let range, !range.contains(value) { throw error("expected a whole number in \(range.lowerBound)...\(range.upperBound), got \(value)") }
        return value
    }

    func double(minimum: Double? = nil) throws -> Double {
        let text = try scalar(expected: "a number")
        guard let value = Double(text), value.isFinite else { throw error("expected a number, got '\(text)'") }
        if let minimum, value < minimum { throw error("expected a number of at least \(minimum), got \(text)") }
        return value
    }

    func bool() throws -> Bool {
        let text = try scalar(expected: "true or false")
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, got '\(text)'")
        }
    }

    func oneOf(_ choices: [String]) throws -> String {
        let text = try scalar(expected: "one of \(choices.joined(separator: ", "))")
        guard choices.contains(text) else { throw error("expected one of \(choices.joined(separator: ", ")), got '\(text)'") }
        return text
    }

    /// A duration with a unit: `150us`, `200ms`, `30s`, `5m`, `1h`, `7d`.
    func duration(positive: Bool = true) throws -> Duration {
        let text = try scalar(expected: "a duration like 200ms or 30s")
        guard let value = Self.parseDuration(text) else { throw error("expected a duration like 200ms, 30s or 5m, got '\(text)'") }
        if positive && value <= .zero { throw error("expected a duration above zero, got '\(text)'") }
        return value
    }

    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (unit, seconds) in units where text.hasSuffix(unit) {
            guard let number = Double(text.dropLast(unit.count)), number.isFinite, number >= 0 else { continue }
            return .nanoseconds(Int64((number * seconds * 1e9).rounded()))
        }
        return nil
    }

    /// A rate: `200/s`, `3000/m`, `36000/h`, or a plain number per second.
    func rate(allowZero: Bool = false) throws -> Double {
        let text = try scalar(expected: "a rate like 200/s")
        let parts = text.split(separator: "/")
        let per: [String: Double] = ["s": 1, "m": 60, "h": 3600]
        guard let number = Double(parts.first ?? ""), number.isFinite,
              parts.count == 1 || (parts.count == 2 && per[String(parts[1])] != nil)
        else { throw error("expected a rate like 200/s, 3000/m or 36000/h, got '\(text)'") }
        let value = parts.count == 2 ? number / per[String(parts[1])]! : number
        guard value > 0 || (allowZero && value == 0) else { throw error("expected a rate above zero, got '\(text)'") }
        return value
    }

    /// A fraction written as a percentage (`0.1%`) or a number in 0...1.
    func fraction() throws -> Double {
        let text = try scalar(expected: "a percentage like 0.1% or a fraction like 0.001")
        let value = text.hasSuffix("%") ? Double(text.dropLast()).map { $0 / 100 } : Double(text)
        guard let value, (0...1).contains(value) else {
            throw error("expected a percentage like 0.1% or a fraction in 0...1, got '\(text)'")
        }
        return value
    }

    func list() throws -> [YAMLValue] {
        guard case .sequence(let sequence) = node else { throw error("expected a list, got \(kind)") }
        return sequence.enumerated().map { YAMLValue(node: $1, path: "\(path)[\($0)]", file: file) }
    }

    /// The mapping's entries in file order, each key checked against `allowed` (nil: any key).
    func entries(allowed: [String]?) throws -> [(key: String, value: YAMLValue)] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping, got \(kind)") }
        return try mapping.map { key, value in
            let keyValue = YAMLValue(node: key, path: path, file: file)
            let name = try keyValue.scalar(expected: "a key")
            let child = YAMLValue(node: value, path: path.isEmpty ? name : "\(path).\(name)", file: file)
            if let allowed, !allowed.contains(name) {
                throw keyValue.error("unknown key '\(name)'; expected one of: \(allowed.joined(separator: ", "))")
            }
            return (name, child)
        }
    }

    func fields(allowed: [String]) throws -> Fields {
        Fields(owner: self, values: Dictionary(uniqueKeysWithValues: try entries(allowed: allowed).map { ($0.key, $0.value) }))
    }
}

/// The keys of one mapping, after unknown keys were rejected.
struct Fields {
    let owner: YAMLValue
    let values: [String: YAMLValue]

    subscript(key: String) -> YAMLValue? { values[key] }

    func required(_ key: String) throws -> YAMLValue {
        guard let value = values[key] else { throw owner.error("missing required key '\(key)'") }
        return value
    }
}
