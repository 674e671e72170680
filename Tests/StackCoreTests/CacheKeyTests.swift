import Foundation
@testable import StackCore
import StackModel
import Testing

@Suite("Cache keys")
struct CacheKeyTests {
    /// Keys are equal exactly when their texts are, whatever the length (words and tails) or bytes.
    @Test func keysAreEqualExactlyWhenTheirTextsAre() {
        let texts = ["", "a", "abcdefg", "abcdefgh", "abcdefghi", "abcdefgi", "dashboard:ключ", "dashboard:ключи",
                     "task_stats:0", "task_stats:1", "session:" + String(repeating: "x", count: 64)]
        for a in texts {
            for b in texts {
                #expect((CacheKey(a) == CacheKey(b)) == (a == b), "'\(a)' and '\(b)'")
            }
            #expect(CacheKey(a).hashValue == CacheKey(a).hashValue)
        }
        var keys: [CacheKey: Int] = [:]
        for (index, text) in texts.enumerated() { keys[CacheKey(text)] = index }
        #expect(texts.indices.allSatisfy { keys[CacheKey(texts[$0])] == $0 })
    }

    /// The keys a task write deletes (every member's dashboard in an organization, 2^16 of them
    /// over 512 organizations), and keys that differ in one late byte, spread over a table's
    /// buckets as a random hash would: ~e^-1 empty, none fuller than about ten; another seed
    /// moves them.
    @Test func keysSpreadOverATablesBuckets() {
        var rng = SeededRandom(seed: 11)
        let organizations = (0..<512).map { _ in rng.uuid() }
        let dashboards = (0..<65_536).map { CacheService.dashboardKey(user: rng.uuid(), org: organizations[$0 % 512]) }
        let numbered = (0..<65_536).map { "ratelimit:user-\($0):29000000" }
        for (texts, seed) in zip([dashboards, numbered], [0, 12_345]) {
            let keys = texts.map(CacheKey.init)
            var buckets = [Int](repeating: 0, count: 65_536)
            for key in keys { buckets[key._rawHashValue(seed: seed) & 0xFFFF] += 1 }
            let emptyShare = Double(buckets.count { $0 == 0 }) / 65_536
            #expect(emptyShare < exp(-1) + 0.01, "empty buckets \(emptyShare)")
            #expect(buckets.max()! <= 10)
            let unmoved = keys.count { $0._rawHashValue(seed: seed) & 0xFFFF == $0._rawHashValue(seed: seed &+ 1) & 0xFFFF }
            #expect(unmoved < keys.count / 100, "\(unmoved) keys keep their bucket under another seed")
        }
    }
}
