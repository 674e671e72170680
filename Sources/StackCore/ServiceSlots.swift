import Synchronization

/// Who holds a station's slots and who waits for one, in arrival order: the pure part of
/// `ServiceSlots`, tested without tasks.
public struct SlotState: Sendable {
    public private(set) var free: Int
    private var waiting: [UInt64] = []
    private var head = 0
    /// Waiters that gave up before their turn, skipped when it comes.
    private var withdrawn: Set<UInt64> = []

    public init(slots: Int) { free = slots }

    /// Calls waiting for a slot.
    public var queued: Int { waiting.count - head - withdrawn.count }

    /// Takes a slot for `id` if one is free (true); otherwise `id` joins the queue.
    public mutating func acquire(_ id: UInt64) -> Bool {
        if free > 0, queued == 0 {
            free -= 1
            return true
        }
        waiting.append(id)
        return false
    }

    /// Gives a slot back: the first waiter still waiting gets it (its id), or it becomes free.
    public mutating func release() -> UInt64? {
        while head < waiting.count {
            let next = waiting[head]
            head += 1
            if head > 64, head * 2 > waiting.count {
                waiting.removeFirst(head)
                head = 0
            }
            if withdrawn.remove(next) == nil { return next }
        }
        free += 1
        return nil
    }

    /// `id` stops waiting; false when it was not waiting (it already holds a slot, or never asked).
    public mutating func withdraw(_ id: UInt64) -> Bool {
        guard !withdrawn.contains(id), waiting[head...].contains(id) else { return false }
        withdrawn.insert(id)
        return true
    }
}

/// A station of `count` service slots (a database's cores or connections, Redis's one thread):
/// at most `count` calls are served at once, the rest wait their turn in arrival order.
public final class ServiceSlots: Sendable {
    private struct Station {
        var slots: SlotState
        var nextID: UInt64 = 0
        var continuations: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        /// Ids cancelled, or given a slot, before their continuation was stored.
        var cancelledEarly: Set<UInt64> = []
        var grantedEarly: Set<UInt64> = []
    }

    private let station: Mutex<Station>
    public let count: Int

    public init(count: Int) {
        self.count = count
        station = Mutex(Station(slots: SlotState(slots: count)))
    }

    /// Waits for a slot; throws `CancellationError` if the task is cancelled while waiting (it
    /// then holds no slot). Every successful `acquire` must be followed by one `release`.
    public func acquire() async throws {
        let (id, granted) = station.withLock { s -> (UInt64, Bool) in
            s.nextID += 1
            return (s.nextID, s.slots.acquire(s.nextID))
        }
        if granted { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let early = station.withLock { s -> Result<Void, any Error>? in
                    if s.cancelledEarly.remove(id) != nil { return .failure(CancellationError()) }
                    if s.grantedEarly.remove(id) != nil { return .success(()) }
                    s.continuations[id] = continuation
                    return nil
                }
                if let early { continuation.resume(with: early) }
            }
        } onCancel: {
            let continuation = station.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard s.slots.withdraw(id) else { return nil }
                guard let continuation = s.continuations.removeValue(forKey: id) else {
                    s.cancelledEarly.insert(id)
                    return nil
                }
                return continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    public func release() {
        let next = station.withLock { s -> CheckedContinuation<Void, any Error>? in
            guard let id = s.slots.release() else { return nil }
            guard let continuation = s.continuations.removeValue(forKey: id) else {
                s.grantedEarly.insert(id)
                return nil
            }
            return continuation
        }
        next?.resume()
    }

    /// Calls waiting for a slot now.
    public var queued: Int { station.withLock { $0.slots.queued } }
}
