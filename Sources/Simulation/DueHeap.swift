/// Elements by the run-clock moment they are due, the earliest on top (a binary min-heap).
struct DueHeap<Element> {
    private var entries: [(due: Int64, element: Element)] = []

    var min: (due: Int64, element: Element)? { entries.first }

    mutating func push(_ due: Int64, _ element: Element) {
        entries.append((due, element))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].due < entries[parent].due else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func popMin() -> Element {
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast().element
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].due < entries[smallest].due { smallest = left }
            if right < entries.count, entries[right].due < entries[smallest].due { smallest = right }
            guard smallest != parent else { return top }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }

    /// Takes every element due at or before `now`, earliest first.
    mutating func popDue(at now: Int64, into taken: inout [Element]) {
        while let top = entries.first, top.due <= now { taken.append(popMin()) }
    }
}
