@testable import StackCore
import StackModel
import Testing

/// The split table against a plain dictionary, through inserts, in-place changes and removals,
/// its count kept along.
@Suite("Id table")
struct IDTableTests {
    @Test func answersAsADictionaryDoes() {
        var rng = SeededRandom(seed: 5)
        var table = IDTable<Int>()
        var model: [UUIDValue: Int] = [:]
        var ids: [UUIDValue] = []
        for step in 0..<30_000 {
            switch step % 5 {
            case 0, 1:
                let id = rng.uuid()
                ids.append(id)
                #expect(table.updateValue(step, forKey: id) == model.updateValue(step, forKey: id))
            case 2:
                let id = rng.uuid()
                ids.append(id)
                table[id] = step
                model[id] = step
            case 3:
                let id = ids[Int(rng.next() % UInt64(ids.count))]
                table[id]? += 1
                model[id]? += 1
            default:
                let id = ids[Int(rng.next() % UInt64(ids.count))]
                #expect(table.removeValue(forKey: id) == model.removeValue(forKey: id))
            }
            if step % 1_000 == 0 { #expect(table.count == model.count) }
        }
        #expect(table.count == model.count && model.count > 10_000)
        #expect(ids.allSatisfy { table[$0] == model[$0] })
        #expect(table.values.sorted() == model.values.sorted())
        table[ids[0]] = nil
        #expect(table[ids[0]] == nil && table.count == model.count - (model[ids[0]] == nil ? 0 : 1))
    }
}
