import Foundation
import StackModel
import Testing

@Suite("Identifiers")
struct IdentifierTests {
    /// Foundation's UUID text of the same 128 bits: the reference the fast formatter must match.
    static func foundationText(_ id: UUIDValue) -> String {
        var bytes = [UInt8]()
        for word in [id.high, id.low] { bytes += (0..<8).map { UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * $0)) } }
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString.lowercased()
    }

    @Test func printsAndReadsBackAsFoundationDoes() {
        var rng = SeededRandom(seed: 42)
        let ids = [UUIDValue(high: 0, low: 0), UUIDValue(high: .max, low: .max), UUIDValue(high: 1, low: 0xF)]
            + (0..<1000).map { _ in UUIDValue(high: rng.next(), low: rng.next()) }
        for id in ids {
            #expect(id.description == Self.foundationText(id))
            #expect(UUIDValue(id.description) == id)
            #expect(UUIDValue(id.description.uppercased().replacingOccurrences(of: "-", with: "")) == id)
        }
    }

    @Test(arguments: ["", "not-a-uuid", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0",
                      "0123456789abcdef0123456789abcdeg", "+123456789abcdef0123456789abcdef"])
    func refusesWhatIsNotOne(_ text: String) {
        #expect(UUIDValue(text) == nil)
    }
}
