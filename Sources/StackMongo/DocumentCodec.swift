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
        try decode(T.self, from: JSONSerialization.data(withJSONObject: object))
    }

    /// Reads extended JSON text as `T`; `_id` is read as `id`, like every snake_case key.
    static func decode<T: Decodable>(_ type: T.Type, from json: Data) throws -> T {
        try decoder.decode(T.self, from: json)
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
        d.keyDecodingStrategy = .custom { path in ExtendedKey(modelName(path.last!.stringValue)) }
        d.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.container(keyedBy: ExtendedKey.self)
            if let text = try? container.decode(String.self, forKey: ExtendedKey("$date")), let date = parseDate(text) { return date }
            let long = try container.nestedContainer(keyedBy: ExtendedKey.self, forKey: ExtendedKey("$date"))
                .decode(String.self, forKey: ExtendedKey("$numberLong"))
            return Date(timeIntervalSince1970: (Double(long) ?? 0) / 1000)
        }
        return d
    }()

    /// snake_case back to the model's names: `organization_id` → `organizationID`, `avatar_url` →
    /// `avatarURL`, `_id` → `id`. Decoding asks for every key of every document, on every client
    /// thread at once: a key without an underscore is returned as it is, and nothing is shared (a
    /// cache behind a lock made sixteen threads decoding pages of tasks wait on each other for a
    /// third of their CPU).
    static func modelName(_ key: String) -> String {
        guard key.utf8.contains(UInt8(ascii: "_")) else { return key }
        var name = ""
        for (index, part) in key.split(separator: "_").enumerated() {
            if index == 0 {
                name += part
            } else if part == "id" || part == "url" {
                name += part.uppercased()
            } else {
                name += part.prefix(1).uppercased()
                name += part.dropFirst()
            }
        }
        return name
    }

    /// libbson's relaxed extended JSON date, `2026-11-22T09:30:00.123Z` (UTC, milliseconds
    /// optional), read directly: a date formatter per field made decoding a page of tasks take ~80 ms.
    static func parseDate(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"), bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
              let minute = number(14..<16), let second = number(17..<19), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var milliseconds = 0.0
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), let fraction = number(20..<(bytes.count - 1)) else { return nil }
            milliseconds = Double(fraction) / pow(10, Double(bytes.count - 21)) * 1000
        }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: Double(seconds) + milliseconds / 1000)
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
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
