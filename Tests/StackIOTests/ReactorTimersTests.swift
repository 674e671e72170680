@testable import StackIO
import StackCore
import Testing

@Suite("Reactor timers")
struct ReactorTimersTests {
    /// Records which timers ran, in order.
    final class Log {
        var fired: [String] = []
    }

    @Test func timersOfDifferentLengthsFireInDeadlineOrderAndCancelledOnesNot() {
        let start = MonotonicClock.Instant.now, log = Log()
        var timers = ReactorTimers()
        func arm(_ name: String, _ ms: Int, at offset: Int) -> ReactorTimer {
            timers.arm(after: .milliseconds(ms), now: start + .milliseconds(offset)) { log.fired.append(name) }
        }
        _ = arm("mongo-1", 30, at: 0)        // due 30
        _ = arm("postgres-1", 10, at: 1)     // due 11
        let cancelled = arm("postgres-2", 10, at: 2)  // due 12, cancelled
        _ = arm("mongo-2", 30, at: 3)        // due 33
        _ = arm("postgres-3", 10, at: 25)    // due 35
        timers.cancel(cancelled)
        #expect(timers.nextDeadline == start + .milliseconds(11))
        #expect(timers.due(at: start + .milliseconds(10)).isEmpty)
        for job in timers.due(at: start + .milliseconds(31)) { job.job() }
        #expect(log.fired == ["postgres-1", "mongo-1"])
        #expect(timers.nextDeadline == start + .milliseconds(33))
        for job in timers.due(at: start + .milliseconds(40)) { job.job() }
        #expect(log.fired == ["postgres-1", "mongo-1", "mongo-2", "postgres-3"])
        #expect(timers.nextDeadline == nil && timers.count == 0, "no queue is left behind")
    }

    /// Ten thousand fired timers of one length leave nothing behind but the timer still pending.
    @Test func onlyPendingTimersRemain() {
        let start = MonotonicClock.Instant.now
        var timers = ReactorTimers()
        for i in 0..<10_000 { _ = timers.arm(after: .seconds(1), now: start + .microseconds(i)) {} }
        _ = timers.arm(after: .seconds(5), now: start) {}
        #expect(timers.due(at: start + .seconds(2)).count == 10_000)
        #expect(timers.count == 1)
    }

    /// A cancelled timer's job (and what it holds: a call's batch, its commands) is released when
    /// it is cancelled, not at its deadline; cancelled timers at the head never set the next wake-up.
    @Test func cancellingReleasesTheJobAtOnce() {
        final class Held {}
        let start = MonotonicClock.Instant.now
        var timers = ReactorTimers()
        weak var watched: Held?
        var ids: [ReactorTimer] = []
        do {
            let held = Held()
            watched = held
            ids.append(timers.arm(after: .seconds(5), now: start) { _ = held })
        }
        ids.append(timers.arm(after: .seconds(5), now: start + .milliseconds(1)) {})
        let pending = timers.arm(after: .seconds(5), now: start + .milliseconds(2)) {}
        #expect(watched != nil)
        timers.cancel(ids[0])
        #expect(watched == nil, "cancelling dropped the job")
        #expect(timers.nextDeadline == start + .seconds(5) + .milliseconds(1))
        timers.cancel(ids[1])
        #expect(timers.nextDeadline == start + .seconds(5) + .milliseconds(2), "cancelled heads are skipped")
        timers.cancel(ids[1])
        #expect(timers.count == 1)
        let fired = timers.due(at: start + .seconds(6))
        #expect(fired.map(\.timer) == [pending])
        #expect(timers.count == 0 && timers.nextDeadline == nil)
    }

    /// Cancelling in any order leaves only the pending timers, whichever order calls answer in.
    @Test func cancellingOutOfOrderKeepsThePendingOnes() {
        let start = MonotonicClock.Instant.now
        var timers = ReactorTimers()
        let all = (0..<3_000).map { i in timers.arm(after: .seconds(1), now: start + .microseconds(i)) {} }
        let cancelledInOrder = all.shuffled().prefix(2_000)
        for timer in cancelledInOrder { timers.cancel(timer) }
        let cancelled = Set(cancelledInOrder)
        let fired = timers.due(at: start + .seconds(2)).map(\.timer)
        #expect(fired == all.filter { !cancelled.contains($0) })
        #expect(timers.count == 0)
    }
}
