import Foundation
@testable import StackPostgres
import StackModel
import Testing

/// COPY's text lines, written byte by byte, against what Foundation would write.
@Suite("COPY text")
struct CopyTextTests {
    @Test func escapesWhatCopyReadsAsSyntaxAndWritesNullsAsBackslashN() {
        let c = CopyText()
        #expect(c.line("plain", nil, "tab\there", "new\nline", "back\\slash", "cr\r", "한국어 ✓", "") ==
                "plain\t\\N\ttab\\there\tnew\\nline\tback\\\\slash\tcr\\r\t한국어 ✓\t")
    }

    /// Dates from 1900 to 2200 and before 1970, to the microsecond, as Foundation's UTC calendar reads them.
    @Test func writesTimesAsTheirUTCDateToTheMicrosecond() {
        var rng = SeededRandom(seed: 4)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = CopyText()
        let dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: 951_782_400)]
            + (0..<2_000).map { _ in Date(timeIntervalSince1970: Double(Int64(rng.next() % 9_467_280_000_000_000)) / 1e6 - 2_208_988_800) }
        for date in dates {
            let micros = (date.timeIntervalSince1970 * 1e6).rounded()
            let whole = Date(timeIntervalSince1970: (micros / 1e6).rounded(.down))
            let p = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: whole)
            let fraction = Int64(micros) - Int64((micros / 1e6).rounded(.down)) * 1_000_000
            let expected = String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", p.year!, p.month!, p.day!, p.hour!, p.minute!,
                                  p.second!, fraction)
            #expect(c.time(date) == expected, "\(date.timeIntervalSince1970)")
        }
    }
}
