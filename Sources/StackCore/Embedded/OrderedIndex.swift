import StackModel

/// A sorted secondary index: (sort key, document id) pairs kept in order, like one B-tree.
/// Ties on the sort key are broken by id, so every entry has one place.
///
/// Entries live in blocks of at most `blockCapacity`, so an insert or a removal moves at most a
/// block's worth of entries, whatever the index holds (a million due dates at 3,000 tenants).
struct OrderedIndex<Sort: Comparable, ID: Comparable> {
    typealias Entry = (sort: Sort, id: ID)

    static var blockCapacity: Int { 512 }

    private var blocks: [[Entry]] = []
    private(set) var count = 0

    private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.sort < b.sort || (a.sort == b.sort && a.id < b.id)
    }

    /// The block an entry (sort, id) belongs in: the first whose last entry is not less than it
    /// (the last block when it is beyond every entry).
    private func block(for entry: Entry) -> Int {
        var low = 0, high = blocks.count
        while low < high {
            let mid = (low + high) / 2
            if Self.precedes(blocks[mid][blocks[mid].count - 1], entry) { low = mid + 1 } else { high = mid }
        }
        return min(low, blocks.count - 1)
    }

    private static func position(in block: [Entry], of entry: Entry) -> Int {
        var low = 0, high = block.count
        while low < high {
            let mid = (low + high) / 2
            if precedes(block[mid], entry) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// How many entries sort before (sort, id): the rank a B-tree walk starting there would have.
    func rank(_ sort: Sort, _ id: ID) -> Int {
        guard !blocks.isEmpty else { return 0 }
        let entry = (sort, id), b = block(for: entry)
        return blocks[..<b].reduce(0) { $0 + $1.count } + Self.position(in: blocks[b], of: entry)
    }

    mutating func insert(_ sort: Sort, _ id: ID) {
        count += 1
        guard !blocks.isEmpty else { blocks = [[(sort, id)]]; return }
        let entry = (sort, id), b = block(for: entry)
        blocks[b].insert(entry, at: Self.position(in: blocks[b], of: entry))
        if blocks[b].count > 2 * Self.blockCapacity {
            let upper = Array(blocks[b][Self.blockCapacity...])
            blocks[b].removeSubrange(Self.blockCapacity...)
            blocks.insert(upper, at: b + 1)
        }
    }

    mutating func remove(_ sort: Sort, _ id: ID) {
        guard !blocks.isEmpty else { return }
        let entry = (sort, id), b = block(for: entry)
        let at = Self.position(in: blocks[b], of: entry)
        guard at < blocks[b].count, blocks[b][at].id == id, blocks[b][at].sort == sort else { return }
        blocks[b].remove(at: at)
        count -= 1
        if blocks[b].isEmpty { blocks.remove(at: b) }
    }

    /// Removes and returns the first `k` entries (the oldest, for a TTL index).
    mutating func removeFirst(_ k: Int) -> [Entry] {
        var removed: [Entry] = []
        while removed.count < k, !blocks.isEmpty {
            let take = min(k - removed.count, blocks[0].count)
            removed += blocks[0][..<take]
            if take == blocks[0].count { blocks.removeFirst() } else { blocks[0].removeFirst(take) }
        }
        count -= removed.count
        return removed
    }

    /// The entries from the first not less than (sort, id), in order.
    func entries(from sort: Sort, _ id: ID) -> some Sequence<Entry> {
        let start: (block: Int, offset: Int)
        if blocks.isEmpty {
            start = (0, 0)
        } else {
            let b = block(for: (sort, id))
            start = (b, Self.position(in: blocks[b], of: (sort, id)))
        }
        return blocks[start.block...].enumerated().lazy.flatMap { i, block in i == 0 ? block[start.offset...] : block[...] }
    }

    /// Every entry, in order.
    var ascending: some Sequence<Entry> { blocks.lazy.flatMap { $0 } }

    /// Every entry, last first.
    var descending: some Sequence<Entry> { blocks.reversed().lazy.flatMap { $0.reversed() } }
}
