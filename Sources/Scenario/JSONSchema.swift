import Foundation

extension ScenarioSchema {
    /// The JSON Schema (draft 2020-12) of the scenario format, for editors with a YAML language
    /// server. Generated from `root`; `make test` checks the shipped copy matches.
    public func jsonSchema() -> Data {
        var document = Self.json(root, summary: "A stacksim scenario (see Scenarios/README.md)")
        document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        document["$id"] = "https://stacksim.dev/scenario.schema.json"
        document["title"] = "stacksim scenario"
        // Sorted keys and stable spacing, so the generated file only changes when the format does.
        let data = try! JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return data + Data("\n".utf8)
    }

    static func json(_ node: SchemaNode, summary: String? = nil) -> [String: Any] {
        var schema: [String: Any]
        switch node {
        case .text: schema = ["type": "string"]
        case .choice(let values): schema = ["enum": values]
        case .integer(let range): schema = ["type": "integer", "minimum": range.lowerBound, "maximum": range.upperBound]
        case .number(let range): schema = ["type": "number", "minimum": range.lowerBound, "maximum": range.upperBound]
        case .seed: schema = ["type": "integer", "minimum": 0]
        case .boolean: schema = ["type": "boolean"]
        case .duration: schema = ["type": "string", "pattern": ScalarGrammar.duration]
        case .rate(let allowZero):
            var number: [String: Any] = allowZero ? ["type": "number", "minimum": 0] : ["type": "number", "exclusiveMinimum": 0]
            number["maximum"] = ScenarioLimits.maxRate
            schema = ["anyOf": [number, ["type": "string", "pattern": ScalarGrammar.rate]]]
        case .fraction:
            schema = ["anyOf": [["type": "number", "minimum": 0, "maximum": 1], ["type": "string", "pattern": ScalarGrammar.percentage]]]
        case .object(let keys):
            schema = ["type": "object", "additionalProperties": false,
                      "properties": Dictionary(uniqueKeysWithValues: keys.map { ($0.name, json($0.node, summary: $0.summary)) })]
            let required = keys.filter(\.required).map(\.name)
            if !required.isEmpty { schema["required"] = required }
        case .map(let keys, let value):
            schema = ["type": "object", "additionalProperties": json(value)]
            if let keys { schema["propertyNames"] = ["enum": keys] }
        case .list(let item, let minItems):
            schema = ["type": "array", "items": json(item), "minItems": minItems]
        case .variants(let scalar, let tagged):
            let mappings: [[String: Any]] = tagged.map { key in
                ["type": "object", "additionalProperties": false, "required": [key.name],
                 "properties": [key.name: json(key.node, summary: key.summary)]]
            }
            schema = ["oneOf": (scalar.map { [json($0)] } ?? []) + mappings]
        }
        if let summary { schema["description"] = summary }
        return schema
    }
}
