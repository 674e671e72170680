import Foundation

/// Documents between Swift values and MongoDB extended JSON, which libbson reads and writes:
/// field names in the seed's snake_case, `id` as `_id`, dates as BSON dates.
enum DocumentCodec {
    /// A value as a JSON object (dates as `{"$date": {"$numberLong": ms}}`), `id` renamed `_id`.
    static func document<T: Encodable>(_ value: T) throws -> [String: Any] {
        var object = restoringDates(try JSONSerialization.jsonObject(with: encoder.encode(value))) as! [String: Any]
        if let id = object.removeValue(forKey: "id") { object["_id"] = id }
        return object
    }

    /// A JSON value for a single encodable (a date, a snapshot) inside a filter or an update.
    static func value<T: Encodable>(_ value: T) throws -> Any {
        (restoringDates(try JSONSerialization.jsonObject(with: encoder.encode([value]))) as! [Any])[0]
    }

    /// The encoder writes dates as marked strings (its key strategy would rename `$numberLong`);
    /// here they become extended-JSON dates.
    private static func restoringDates(_ value: Any) -> Any {
        switch value {
        case let text as String where text.hasPrefix(dateMark):
            return ["$date": ["$numberLong": String(text.dropFirst(dateMark.count))]]
        case let object as [String: Any]: return object.mapValues(restoringDates)
        case let list as [Any]: return list.map(restoringDates)
        default: return value
        }
    }

    private static let dateMark = "\u{1}date:"

    static func decode<T: Decodable>(_ type: T.Type, _ object: [String: Any]) throws -> T {
        var object = object
        if let id = object.removeValue(forKey: "_id") { object["id"] = id }
        return try decoder.decode(T.self, from: JSONSerialization.data(withJSONObject: object))
    }

    static func date(_ date: Date) -> [String: Any] {
        ["$date": ["$numberLong": String(Int64((date.timeIntervalSince1970 * 1000).rounded()))]]
    }

    /// Extended JSON text with keys in the given order — MongoDB reads a command's name from its
    /// first key, and index and sort specifications are ordered.
    static func ordered(_ fields: [(String, Any)]) -> String {
        "{" + fields.map { key, value in "\(quote(key)):\(json(value))" }.joined(separator: ",") + "}"
    }

    static func json(_ value: Any) -> String {
        if let text = value as? Ordered { return text.json }
        if let list = value as? [Ordered] { return "[" + list.map(\.json).joined(separator: ",") + "]" }
        let data = try! JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private static func quote(_ key: String) -> String { json(key) }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(dateMark + String(Int64((date.timeIntervalSince1970 * 1000).rounded())))
        }
        return e
    }()

    private static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        // snake_case back to the model's names: `organization_id` → `organizationID`, `avatar_url` → `avatarURL`.
        d.keyDecodingStrategy = .custom { path in
            let parts = path.last!.stringValue.split(separator: "_")
            let name = parts.enumerated().map { index, part in
                index == 0 ? String(part) : ["id": "ID", "url": "URL"][String(part)] ?? part.prefix(1).uppercased() + part.dropFirst()
            }.joined()
            return ExtendedKey(name)
        }
        d.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.container(keyedBy: ExtendedKey.self)
            if let text = try? container.decode(String.self, forKey: ExtendedKey("$date")), let date = parseDate(text) { return date }
            let long = try container.nestedContainer(keyedBy: ExtendedKey.self, forKey: ExtendedKey("$date"))
                .decode(String.self, forKey: ExtendedKey("$numberLong"))
            return Date(timeIntervalSince1970: (Double(long) ?? 0) / 1000)
        }
        return d
    }()

    private static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

/// Pre-rendered, ordered extended JSON (a sort or index specification) inside a command.
struct Ordered {
    let json: String
    init(_ fields: [(String, Any)]) { json = DocumentCodec.ordered(fields) }
}

struct ExtendedKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
