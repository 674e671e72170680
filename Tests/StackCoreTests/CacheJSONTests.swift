import Foundation
@testable import StackCore
import StackModel
import Testing

/// The caches' hand-written JSON: what it writes, Foundation reads as the same values, and it
/// reads back what it wrote.
@Suite("Cache JSON")
struct CacheJSONTests {
    static let awkward = ["plain", "say \"hi\"", "back\\slash", "two\nlines", "tab\tbell\u{7}", "한국어 검색", "", "{[,:]}"]

    @Test func writesJSONThatFoundationReadsAndReadsItBack() throws {
        let value = CacheJSON.object([
            ("strings", .array(Self.awkward.map(CacheJSON.string))),
            ("numbers", .array([0, 3, -7, 12.5, 0.1, 1e20, -2.25e-7].map(CacheJSON.number))),
            ("nested", .object([("empty", .array([])), ("none", .object([]))])),
        ])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(value.text.utf8)) as? [String: Any])
        #expect(parsed["strings"] as? [String] == Self.awkward)
        #expect((parsed["numbers"] as? [Double]) == [0, 3, -7, 12.5, 0.1, 1e20, -2.25e-7])
        #expect(CacheJSON(text: value.text) == value)
    }

    @Test func cachedValuesRoundTripAndAnythingElseIsAMiss() {
        let dashboard = Dashboard(activeTasks: Self.awkward, stats: [StatusStat(status: .inProgress, count: 3, totalHours: 12.5)],
                                  recentActivity: ["task.created 1"])
        #expect(CacheJSON(text: dashboard.json.text).flatMap(Dashboard.init(json:)) == dashboard)
        for junk in ["", "{", "[1,]", "{\"stats\":[]}", "\"unterminated", "[{\"status\":\"nope\",\"count\":1,\"total_hours\":1}]"] {
            #expect(CacheJSON(text: junk).flatMap([StatusStat].init(json:)) == nil, "\(junk)")
            #expect(CacheJSON(text: junk).flatMap(Dashboard.init(json:)) == nil, "\(junk)")
        }
    }
}
