@testable import StackCore
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
}
