import Foundation
@testable import StackMongo
import Testing

@Suite("Extended JSON dates and field names")
struct DocumentCodecTests {
    /// The reference: Foundation's formatter, which the fast reader replaced.
    static func reference(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter.date(from: text)
    }

    @Test(arguments: ["2026-11-22T09:30:00.123Z", "2026-11-22T09:30:00Z", "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.999Z",
                      "2024-02-29T12:00:00.5Z", "2000-03-01T00:00:00.010Z", "1900-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"])
    func readsLibbsonDatesAsFoundationDoes(_ text: String) throws {
        let read = try #require(DocumentCodec.parseDate(text))
        let expected = try #require(Self.reference(text))
        #expect(abs(read.timeIntervalSince(expected)) < 0.000_5, "\(text): \(read) vs \(expected)")
    }

    @Test(arguments: ["2026-11-22 09:30:00Z", "2026-13-01T00:00:00Z", "2026-11-22T09:30:00", "2026-11-22T09:30:00.12xZ", "soon"])
    func refusesWhatIsNotOne(_ text: String) {
        #expect(DocumentCodec.parseDate(text) == nil)
    }

    /// The seed's snake_case names back to the model's: what the encoder's `convertToSnakeCase`
    /// wrote, and MongoDB's `_id`.
    @Test func readsSnakeCaseNamesAsTheModelsNames() throws {
        let names = ["title", "organizationID", "avatarURL", "dueDate", "estimatedHours", "createdAt", "sprintID"]
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        for name in names {
            let snake = try #require(try JSONSerialization.jsonObject(with: encoder.encode([name: 1])) as? [String: Int]).keys.first!
            #expect(DocumentCodec.modelName(snake) == name, "\(snake)")
        }
        #expect(DocumentCodec.modelName("_id") == "id")
    }
}
