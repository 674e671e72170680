@testable import Simulation
import Testing

@Suite("Request loop", .serialized)
struct RequestLoopTests {
    @Test func theHeapHandsOutWhatIsDueEarliestFirst() {
        var heap = DueHeap<Int>()
        var rng = SystemRandomNumberGenerator()
        let dues = (0..<500).map { _ in Int64.random(in: 0..<1_000, using: &rng) }
        for (index, due) in dues.enumerated() { heap.push(due, index) }
        var taken: [Int] = []
        heap.popDue(at: 499, into: &taken)
        #expect(taken.map { dues[$0] } == dues.filter { $0 <= 499 }.sorted())
        #expect(heap.min.map { $0.due } == dues.filter { $0 > 499 }.min())
    }

    /// Runs `body` on a started loop with no arrivals; finishes the loop after.
    private func withLoop(keepsAwake: Bool = false, _ body: (RequestLoop, RunClock) async throws -> Void) async rethrows {
        let clock = RunClock()
        let loop = RequestLoop(clock: clock, keepsAwake: keepsAwake)
        loop.start()
        defer { loop.finish() }
        try await body(loop, clock)
    }

    @Test func waitsOnTheLoopEndWhenDueAndInTheOrderTheyAreDue() async throws {
        try await withLoop { loop, clock in
            // In the order they ended.
            let all = try await withThrowingTaskGroup(of: (due: Int64, ended: Int64).self) { group in
                for index in 0..<50 {
                    group.addTask(executorPreference: loop) {
                        let wait = Duration.microseconds(500 + (index * 7_919) % 20_000)
                        let due = clock.now() + wait.nanoseconds
                        try await loop.sleep(for: wait)
                        return (due, clock.now())
                    }
                }
                var ends: [(due: Int64, ended: Int64)] = []
                for try await end in group { ends.append(end) }
                return ends
            }
            #expect(all.count == 50)
            #expect(all.allSatisfy { $0.ended >= $0.due })
            #expect(all.map(\.due) == all.map(\.due).sorted())
        }
    }

    @Test func aWaitFromAnotherThreadWakesTheIdleLoop() async throws {
        try await withLoop { loop, clock in
            let due = clock.now() + Duration.milliseconds(5).nanoseconds
            try await loop.sleep(for: .milliseconds(5))
            #expect(clock.now() >= due)
        }
    }

    /// Kept awake, the loop waits through the end of each idle stretch by the clock instead of
    /// asleep. Five waits of 5 ms would show 2 ms of it; asking for a fifth of that leaves room
    /// for wake-ups that come late into the stretch, and all of them would have to.
    @Test func keptAwakeItWaitsTheEndOfEachIdleStretchByTheClock() async throws {
        try await withLoop(keepsAwake: true) { loop, clock in
            for _ in 0..<5 {
                let due = clock.now() + Duration.milliseconds(5).nanoseconds
                try await loop.sleep(for: .milliseconds(5))
                #expect(clock.now() >= due)
            }
            #expect(loop.clockWaitNanoseconds >= RequestLoop.awakeStretch)
        }
    }

    @Test func waitsStillEndAfterTheLoopHasFinished() async throws {
        let clock = RunClock()
        let loop = RequestLoop(clock: clock)
        loop.start()
        let pending = Task(executorPreference: loop) {
            let due = clock.now() + Duration.milliseconds(30).nanoseconds
            try await loop.sleep(for: .milliseconds(30))
            return clock.now() >= due
        }
        try await Task.sleep(for: .milliseconds(5))
        loop.finish()
        let due = clock.now() + Duration.milliseconds(2).nanoseconds
        try await loop.sleep(for: .milliseconds(2))
        #expect(clock.now() >= due)
        #expect(try await pending.value)
    }
}
