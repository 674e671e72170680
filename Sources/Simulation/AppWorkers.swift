import Synchronization

/// The simulated application's request workers: at most `limit` requests run at once, the rest
/// wait in arrival order. The wait is queueing — in latency, not in service time.
final class AppWorkers: Sendable {
    private struct State {
        var available: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
        var head = 0
    }
    private let state: Mutex<State>

    init(limit: Int) {
        state = Mutex(State(available: limit))
    }

    func acquire() async {
        let acquired = state.withLock { s -> Bool in
            guard s.available > 0 else { return false }
            s.available -= 1
            return true
        }
        if acquired { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                if s.available > 0 { s.available -= 1; return true }
                s.waiting.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.head < s.waiting.count else {
                s.available += 1
                return nil
            }
            let continuation = s.waiting[s.head]
            s.head += 1
            if s.head > 1024 && s.head * 2 > s.waiting.count { s.waiting.removeFirst(s.head); s.head = 0 }
            return continuation
        }
        next?.resume()
    }
}
