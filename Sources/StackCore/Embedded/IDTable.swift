import StackModel

/// A table by id split 256 ways by the id's hash, so that it grows a part at a time: an insert
/// never rehashes more than a 256th of the entries. One dictionary of activity entries doubling
/// at 100,000 held the document store's lock — and every request behind it — for 10–15 ms, and
/// the stall doubles with each doubling: in an hour's run, a tail no server would have.
struct IDTable<Value> {
    private var parts = [[UUIDValue: Value]](repeating: [:], count: 256)

    /// The part by the hash's top byte (dictionaries place entries by its low bits, with a seed of their own).
    private static func part(_ id: UUIDValue) -> Int { Int(UInt(bitPattern: id._rawHashValue(seed: 0)) >> (UInt.bitWidth - 8)) }

    subscript(id: UUIDValue) -> Value? {
        get { parts[Self.part(id)][id] }
        _modify { yield &parts[Self.part(id)][id] }
    }

    @discardableResult
    mutating func updateValue(_ value: Value, forKey id: UUIDValue) -> Value? {
        parts[Self.part(id)].updateValue(value, forKey: id)
    }

    @discardableResult
    mutating func removeValue(forKey id: UUIDValue) -> Value? {
        parts[Self.part(id)].removeValue(forKey: id)
    }

    var count: Int { parts.reduce(0) { $0 + $1.count } }

    var values: some Sequence<Value> { parts.lazy.flatMap(\.values) }
}
