import StackModel

/// A table by id split 256 ways by the id's hash, so that it grows a part at a time: an insert
/// never rehashes more than a 256th of the entries. One dictionary of activity entries doubling
/// at 100,000 held the document store's lock — and every request behind it — for 10–15 ms, and
/// the stall doubles with each doubling: in an hour's run, a tail no server would have.
struct IDTable<Value> {
    private var parts = [[UUIDValue: Value]](repeating: [:], count: 256)
    /// Kept as entries come and go: summing the parts touches 256 tables, and a collection scan's
    /// count of entries examined (sprint-board's) is read on every call.
    private(set) var count = 0

    /// The part by the hash's top byte (dictionaries place entries by its low bits, with a seed of their own).
    private static func part(_ id: UUIDValue) -> Int { Int(UInt(bitPattern: id._rawHashValue(seed: 0)) >> (UInt.bitWidth - 8)) }

    subscript(id: UUIDValue) -> Value? {
        get { parts[Self.part(id)][id] }
        _modify {
            let part = Self.part(id), before = parts[part].count
            defer { count += parts[part].count - before }
            yield &parts[part][id]
        }
    }

    @discardableResult
    mutating func updateValue(_ value: Value, forKey id: UUIDValue) -> Value? {
        let old = parts[Self.part(id)].updateValue(value, forKey: id)
        if old == nil { count += 1 }
        return old
    }

    @discardableResult
    mutating func removeValue(forKey id: UUIDValue) -> Value? {
        let old = parts[Self.part(id)].removeValue(forKey: id)
        if old != nil { count -= 1 }
        return old
    }

    var values: some Sequence<Value> { parts.lazy.flatMap(\.values) }
}

extension IDTable: Sendable where Value: Sendable {}
