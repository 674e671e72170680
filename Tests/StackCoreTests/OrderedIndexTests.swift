@testable import StackCore
import StackModel
import Testing

/// The blocked index against a plain sorted array, through enough inserts and removals to split
/// blocks many times and empty some.
@Suite("Ordered index")
struct OrderedIndexTests {
    typealias Entry = (sort: Int, id: UUIDValue)

    static func precedes(_ a: Entry, _ b: Entry) -> Bool { a.sort < b.sort || (a.sort == b.sort && a.id < b.id) }

    @Test func answersAsASortedArrayDoes() {
        var rng = SeededRandom(seed: 11)
        var index = OrderedIndex<Int, UUIDValue>()
        var model: [Entry] = []
        for step in 0..<20_000 {
            let entry: Entry = (Int(rng.next() % 500), rng.uuid())
            if step % 3 == 2, !model.isEmpty {
                let victim = model.remove(at: Int(rng.next() % UInt64(model.count)))
                index.remove(victim.sort, victim.id)
            } else {
                model.insert(entry, at: model.firstIndex { !Self.precedes($0, entry) } ?? model.count)
                index.insert(entry.sort, entry.id)
            }
        }
        #expect(index.count == model.count)
        #expect(model.count > 10 * OrderedIndex<Int, UUIDValue>.blockCapacity)
        #expect(index.ascending.map(\.id) == model.map(\.id))
        #expect(index.descending.map(\.id) == model.reversed().map(\.id))
        let first = UUIDValue(high: 0, low: 0)
        for sort in [-1, 0, 7, 250, 499, 500] {
            let rank = model.count { $0.sort < sort }
            #expect(index.rank(sort, first) == rank)
            #expect(index.entries(from: sort, first).prefix(40).map(\.id) == model[rank...].prefix(40).map(\.id))
        }
        let oldest = index.removeFirst(1_500)
        #expect(oldest.map(\.id) == model.prefix(1_500).map(\.id))
        #expect(index.count == model.count - 1_500)
        #expect(index.ascending.map(\.id) == model.dropFirst(1_500).map(\.id))
        index.remove(-5, first)
        #expect(index.count == model.count - 1_500, "removing what is not there changes nothing")
    }
}
