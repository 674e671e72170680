import StackModel

/// A sorted secondary index: (sort key, document id) pairs kept in order, like one B-tree.
/// Ties on the sort key are broken by id, so every entry has one place.
struct OrderedIndex<Sort: Comparable> {
    private(set) var entries: [(sort: Sort, id: UUIDValue)] = []

    var count: Int { entries.count }

    /// The position of the first entry not less than (sort, id).
    func lowerBound(_ sort: Sort, _ id: UUIDValue = UUIDValue(high: 0, low: 0)) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            let e = entries[mid]
            if e.sort < sort || (e.sort == sort && e.id < id) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    mutating func insert(_ sort: Sort, _ id: UUIDValue) {
        entries.insert((sort, id), at: lowerBound(sort, id))
    }

    mutating func remove(_ sort: Sort, _ id: UUIDValue) {
        let at = lowerBound(sort, id)
        if at < entries.count, entries[at].id == id, entries[at].sort == sort { entries.remove(at: at) }
    }

    /// Removes the first `k` entries (the oldest, for a TTL index).
    mutating func removeFirst(_ k: Int) {
        entries.removeFirst(k)
    }

    /// Appends without keeping order, for bulk loads; call `sort()` after.
    mutating func appendUnsorted(_ sort: Sort, _ id: UUIDValue) {
        entries.append((sort, id))
    }

    mutating func sort() {
        entries.sort { $0.sort < $1.sort || ($0.sort == $1.sort && $0.id < $1.id) }
    }
}
