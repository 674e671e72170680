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

/// A YAML node with the key path and file it came from, so every error can say where it is, and
/// the part of the scenario format it must match, so keys and ranges are checked as described.
struct YAMLValue {
    let node: Node
    let path: String
    let file: String
    let schema: SchemaNode

    func error(_ message: String) -> ScenarioError {
        ScenarioError(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0, path: path, message: message)
    }

    /// The core schema's tags, which say what the value already is; any other (`!!binary`,
    /// `!!timestamp`, a custom `!tag`) would be read as plain text, silently, so it is refused.
    static let coreTags: Set<String> = ["?", "!", "", "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                                        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
                                        "tag:yaml.org,2002:null"]

    /// Checked on each value as it is read, so a value never read (an anchor's expansion under
    /// an unknown key) costs nothing.
    private func checkTag() throws {
        let tag = node.tag.description
        guard Self.coreTags.contains(tag) else {
            throw error("the YAML tag '\(tag)' is not part of the scenario format; write the value without it")
        }
    }

    /// The scalar text, or an error naming what was expected.
    func scalar(expected: String) throws -> String {
        try checkTag()
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

    /// The format of a scalar here: a variant's scalar form, or the node itself.
    private var scalarSchema: SchemaNode {
        if case .variants(let scalar?, _) = schema { return scalar }
        return schema
    }

    /// A reader asking for a kind the format does not declare here is a bug in stacksim.
    private func mismatch(_ asked: String) -> Never {
        preconditionFailure("the loader reads \(path.isEmpty ? "the root" : path) as \(asked), but ScenarioSchema says \(scalarSchema)")
    }

    func string() throws -> String {
        guard case .text = scalarSchema else { mismatch("text") }
        return try scalar(expected: "a string")
    }

    func seed() throws -> UInt64 {
        guard case .seed = scalarSchema else { mismatch("a seed") }
        let text = try scalar(expected: "a seed (a whole number ≥ 0)")
        guard let seed = UInt64(text.replacingOccurrences(of: "_", with: "")) else {
            throw error("expected a seed (a whole number ≥ 0), got '\(text)'")
        }
        return seed
    }

    func int() throws -> Int {
        guard case .integer(let range) = scalarSchema else { mismatch("a whole number") }
        let text = try scalar(expected: "a whole number")
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else { throw error("expected a whole number, got '\(text)'") }
        guard range.contains(value) else { throw error("expected a whole number in \(range.lowerBound)...\(range.upperBound), got \(value)") }
        return value
    }

    func double() throws -> Double {
        guard case .number(let range) = scalarSchema else { mismatch("a number") }
        let text = try scalar(expected: "a number")
        guard let value = Double(text), value.isFinite else { throw error("expected a number, got '\(text)'") }
        guard range.contains(value) else {
            throw error("expected a number in \(ScenarioText.number(range.lowerBound))...\(ScenarioText.number(range.upperBound)), got \(text)")
        }
        return value
    }

    func bool() throws -> Bool {
        guard case .boolean = scalarSchema else { mismatch("true or false") }
        let text = try scalar(expected: "true or false")
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, got '\(text)'")
        }
    }

    func choice() throws -> String {
        guard case .choice(let choices) = scalarSchema else { mismatch("a choice") }
        let text = try scalar(expected: "one of \(choices.joined(separator: ", "))")
        guard choices.contains(text) else { throw error("expected one of \(choices.joined(separator: ", ")), got '\(text)'") }
        return text
    }

    /// A duration with a unit: `150us`, `200ms`, `30s`, `5m`, `1h`, `7d`.
    func duration() throws -> Duration {
        guard case .duration(let allowZero) = scalarSchema else { mismatch("a duration") }
        let text = try scalar(expected: "a duration like 200ms or 30s")
        guard let value = ScenarioText.duration(text) else { throw error(ScenarioText.durationProblem(text)) }
        if !allowZero && value <= .zero { throw error("expected a duration above zero, got '\(text)'") }
        return value
    }

    /// A rate: `200/s`, `3000/m`, `36000/h`, or a plain number per second.
    func rate() throws -> Double {
        guard case .rate(let allowZero) = scalarSchema else { mismatch("a rate") }
        let text = try scalar(expected: "a rate like 200/s")
        guard let value = ScenarioText.rate(text) else { throw error(ScenarioText.rateProblem(text)) }
        guard value > 0 || (allowZero && value == 0) else { throw error("expected a rate above zero, got '\(text)'") }
        return value
    }

    /// A fraction written as a percentage (`0.1%`) or a number in 0...1.
    func fraction() throws -> Double {
        guard case .fraction = scalarSchema else { mismatch("a fraction") }
        let text = try scalar(expected: "a percentage like 0.1% or a fraction like 0.001")
        guard let value = ScenarioText.fraction(text) else {
            throw error("expected a percentage like 0.1% or a fraction in 0...1, got '\(text)'")
        }
        return value
    }

    func list() throws -> [YAMLValue] {
        guard case .list(let item, let minItems) = schema else { mismatch("a list") }
        try checkTag()
        guard case .sequence(let sequence) = node else { throw error("expected a list, got \(kind)") }
        guard sequence.count >= minItems else { throw error("expected at least \(minItems) item\(minItems == 1 ? "" : "s")") }
        return sequence.enumerated().map { YAMLValue(node: $1, path: "\(path)[\($0)]", file: file, schema: item) }
    }

    /// The mapping's entries in file order, each key checked against the format.
    func entries() throws -> [(key: String, value: YAMLValue)] {
        try checkTag()
        guard case .mapping(let mapping) = node else {
            if case .variants(_, let tagged) = schema {
                throw error("expected \(scalarSchema.expectation) or a mapping with one of \(tagged.map(\.name).joined(separator: ", ")), got \(kind)")
            }
            throw error("expected a mapping, got \(kind)")
        }
        let allowed = schema.keys
        return try mapping.map { key, value in
            let keyValue = YAMLValue(node: key, path: path, file: file, schema: .text)
            let name = try keyValue.scalar(expected: "a key")
            if let allowed, !allowed.contains(name) {
                throw keyValue.error("unknown key '\(name)'; expected one of: \(allowed.joined(separator: ", "))")
            }
            let child = YAMLValue(node: value, path: path.isEmpty ? name : "\(path).\(name)", file: file, schema: schema.child(name)!)
            return (name, child)
        }
    }

    /// The mapping's keys, unknown ones rejected and the format's required ones present.
    func fields() throws -> Fields {
        let fields = Fields(owner: self, values: Dictionary(uniqueKeysWithValues: try entries().map { ($0.key, $0.value) }))
        if case .object(let keys) = schema {
            for key in keys where key.required { _ = try fields.required(key.name) }
        }
        return fields
    }

    /// A scalar, or a mapping with exactly one of the variant's tags: (nil, self) or (tag, body).
    func variant() throws -> (tag: String?, body: YAMLValue) {
        guard case .variants(let scalar, let tagged) = schema else { mismatch("a variant") }
        if case .scalar = node, scalar != nil { return (nil, self) }
        let entries = try entries()
        guard entries.count == 1 else {
            let forms = (scalar.map { [$0.expectation] } ?? []) + ["exactly one of \(tagged.map(\.name).joined(separator: ", "))"]
            throw error("expected " + forms.joined(separator: " or "))
        }
        return (entries[0].key, entries[0].value)
    }
}

extension SchemaNode {
    /// What a value of this kind looks like, for messages.
    var expectation: String {
        switch self {
        case .integer: return "a whole number"
        case .duration: return "a duration"
        case .rate: return "a rate like 200/s"
        default: return "a value"
        }
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

/// The scalar grammars of `ScalarGrammar`, parsed and written: the loader reads with these,
/// the writer and the command-line flags use the same.
public enum ScenarioText {
    static let durationUnits: [(unit: String, nanoseconds: Int64)] = [
        ("d", 86_400_000_000_000), ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
        ("ms", 1_000_000), ("us", 1_000), ("µs", 1_000), ("ns", 1),
    ]

    /// A duration, or nil when the text is not one or is longer than `ScenarioLimits.maxDuration`
    /// (`durationProblem` says which).
    public static func duration(_ text: String) -> Duration? {
        guard text.wholeMatch(of: try! Regex(ScalarGrammar.duration)) != nil else { return nil }
        // Longest unit suffix first, so `ms` is not read as `s`.
        for (unit, ns) in durationUnits.sorted(by: { $0.unit.count > $1.unit.count }) where text.hasSuffix(unit) {
            guard let number = Double(text.dropLast(unit.count)) else { return nil }
            let nanoseconds = (number * Double(ns)).rounded()
            guard nanoseconds <= ScenarioLimits.maxDuration.seconds * 1e9 else { return nil }
            return .nanoseconds(Int64(nanoseconds))
        }
        return nil
    }

    /// What is wrong with a text `duration` refused.
    public static func durationProblem(_ text: String) -> String {
        text.wholeMatch(of: try! Regex(ScalarGrammar.duration)) != nil
            ? "expected a duration of at most \(Self.text(ScenarioLimits.maxDuration)), got '\(text)'"
            : "expected a duration like 200ms, 30s or 5m, got '\(text)'"
    }

    /// The shortest exact text for a duration: `10s`, `1500ms`, `333333333ns`.
    public static func text(_ duration: Duration) -> String {
        let ns = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        if ns == 0 { return "0s" }
        let (unit, size) = durationUnits.first { ns % $0.nanoseconds == 0 && $0.unit != "µs" }!
        return "\(ns / size)\(unit)"
    }

    /// A rate per second, or nil when the text is not one or is above `ScenarioLimits.maxRate`
    /// (`rateProblem` says which).
    public static func rate(_ text: String) -> Double? {
        guard text.wholeMatch(of: try! Regex(ScalarGrammar.rate)) != nil else { return nil }
        let parts = text.split(separator: "/")
        guard let number = Double(parts[0]) else { return nil }
        let per: [Substring: Double] = ["s": 1, "m": 60, "h": 3600]
        let value = parts.count == 2 ? number / per[parts[1]]! : number
        return value <= ScenarioLimits.maxRate ? value : nil
    }

    /// What is wrong with a text `rate` refused.
    public static func rateProblem(_ text: String) -> String {
        text.wholeMatch(of: try! Regex(ScalarGrammar.rate)) != nil
            ? "expected a rate of at most \(Self.text(rate: ScenarioLimits.maxRate)), got '\(text)'"
            : "expected a rate like 200/s, 3000/m or 36000/h, got '\(text)'"
    }

    public static func text(rate: Double) -> String { "\(number(rate))/s" }

    public static func fraction(_ text: String) -> Double? {
        let value: Double?
        if text.wholeMatch(of: try! Regex(ScalarGrammar.percentage)) != nil {
            value = Double(text.dropLast()).map { $0 / 100 }
        } else {
            value = Double(text).flatMap { $0.isFinite ? $0 : nil }
        }
        guard let value, (0...1).contains(value) else { return nil }
        return value
    }

    /// A number as YAML writes it: whole numbers without a decimal point, others exactly.
    public static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
