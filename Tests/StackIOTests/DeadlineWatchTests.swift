@testable import StackIO
import StackCore
import Synchronization
import Testing

@Suite("Deadline watch", .serialized)
struct DeadlineWatchTests {
    /// Calls in flight by deadline, and what the watch's checks found, touched on the reactor thread.
    final class Calls: DeadlineWatched, @unchecked Sendable {
        var pending: [MonotonicClock.Instant] = []
        /// Each check: when it ran and how many deadlines it found missed.
        var checks: [(at: MonotonicClock.Instant, missed: Int)] = []
        var deadlineWatch = DeadlineWatch()

        func watch(_ deadline: MonotonicClock.Instant) { watch(deadline, on: Reactor.shared.thread) }

        /// Fails the calls past their deadline; the next deadline to watch for.
        func overdue(_ now: MonotonicClock.Instant) -> MonotonicClock.Instant? {
            let missed = pending.filter { $0 <= now }
            checks.append((now, missed.count))
            pending.removeAll { $0 <= now }
            return pending.min()
        }
    }

    /// Runs `body` on the reactor thread, then lets `wait` pass.
    private func onReactor(_ calls: Calls, wait: Duration, _ body: @escaping @Sendable (Calls) -> Void) async throws {
        Reactor.shared.execute { body(calls) }
        try await Task.sleep(for: wait)
    }

    @Test func eachMissedDeadlineIsFoundOnceAndTheWatchMovesOnToTheNext() async throws {
        let calls = Calls()
        let start = MonotonicClock.Instant.now
        try await onReactor(calls, wait: .milliseconds(600)) { calls in
            for offset in [40, 120] {
                let deadline = start + .milliseconds(offset)
                calls.pending.append(deadline)
                calls.watch(deadline)
            }
        }
        let checks = try await Self.read(calls)
        #expect(checks.map(\.missed) == [1, 1], "one check per missed deadline, none once no call is left: \(checks)")
        #expect(checks.count == 2 && checks[0].at >= start + .milliseconds(40) && checks[1].at >= start + .milliseconds(120))
    }

    @Test func anEarlierDeadlineIsWatchedForAtOnceAndTheLaterTimerThenDoesNothing() async throws {
        let calls = Calls()
        let start = MonotonicClock.Instant.now
        try await onReactor(calls, wait: .milliseconds(900)) { calls in
            // A long call's deadline first (a blocking pop), then a short one's.
            let late = start + .milliseconds(600), early = start + .milliseconds(30)
            calls.watch(late)
            calls.pending.append(early)
            calls.watch(early)
        }
        let checks = try await Self.read(calls)
        #expect(checks.count == 1 && checks[0].missed == 1, "\(checks)")
        #expect(checks.first.map { $0.at < start + .milliseconds(600) } ?? false, "found before the later deadline's timer")
    }

    @Test func aDeadlineAfterTheArmedOneArmsNoSecondTimer() async throws {
        let calls = Calls()
        let start = MonotonicClock.Instant.now
        try await onReactor(calls, wait: .milliseconds(400)) { calls in
            // Calls answered in time leave their deadlines unwatched: only the first armed a timer.
            for offset in [50, 60, 70] { calls.watch(start + .milliseconds(offset)) }
        }
        let checks = try await Self.read(calls)
        #expect(checks.count == 1 && checks[0].missed == 0, "\(checks)")
    }

    /// The checks, read on the reactor thread.
    private static func read(_ calls: Calls) async throws -> [(at: MonotonicClock.Instant, missed: Int)] {
        let checks = Mutex<[(at: MonotonicClock.Instant, missed: Int)]?>(nil)
        Reactor.shared.execute { checks.withLock { $0 = calls.checks } }
        for _ in 0..<200 {
            if let done = checks.withLock({ $0 }) { return done }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw CancellationError()
    }
}
