@testable import Simulation
import Foundation
import Testing

@Suite("Wake lead")
struct WakeLeadTests {
    /// Lateness drawn from a seeded log-normal spread around `median` (a kernel's wake-ups: a body and a tail).
    private func lateness(count: Int, median: Double, seed: UInt64) -> [Int64] {
        var state = seed
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        return (0..<count).map { _ in
            // Box–Muller: a standard normal, then exp(σ·z) around the median.
            let z = (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
            return Int64(median * exp(0.5 * z))
        }
    }

    /// Of the wake-ups after the first half (once settled), how many came before the lead, and the lead at the end.
    private func settle(_ tracking: WakeLead.Tracking, _ samples: [Int64]) -> (early: Int, lead: WakeLead) {
        var lead = WakeLead(tracking)
        var early = 0
        for (index, late) in samples.enumerated() {
            if index >= samples.count / 2, late < lead.nanoseconds { early += 1 }
            lead.learn(late: late)
        }
        return (early, lead)
    }

    @Test func theShortSleepsLeadSettlesAtTheMedianOfTheLatenessItSees() {
        for (median, seed) in [(15_000.0, 1 as UInt64), (120_000, 2), (3_000, 3)] {
            let samples = lateness(count: 20_000, median: median, seed: seed)
            let (early, lead) = settle(.median, samples)
            let sorted = samples.sorted(), sampleMedian = Double(sorted[sorted.count / 2])
            let step = max(Double(WakeLead.minStep), sampleMedian / 8)
            #expect(abs(Double(lead.nanoseconds) - sampleMedian) <= 2 * step, "median \(sampleMedian) ns, lead \(lead.nanoseconds) ns")
            #expect((4_500...5_500).contains(early), "\(early) of 10,000 wake-ups came before the lead (median \(sampleMedian) ns)")
        }
    }

    @Test func theLongSleepsLeadFollowsTheLateWakeUps() {
        for (median, seed) in [(15_000.0, 4 as UInt64), (120_000, 5)] {
            let (early, _) = settle(.lateOnes, lateness(count: 20_000, median: median, seed: seed))
            // Up by a quarter, down by a thirty-second: well above the median, below the tail.
            #expect((6_500...9_500).contains(early), "\(early) of 10,000 wake-ups came before the lead (median \(median) ns)")
        }
        // One deep sleep's very late wake-up keeps the lead long for the wake-ups after it.
        var lead = WakeLead(.lateOnes)
        for _ in 0..<200 { lead.learn(late: 15_000) }
        lead.learn(late: 415_000)
        for _ in 0..<10 { lead.learn(late: 15_000) }
        #expect(lead.nanoseconds > 60_000, "lead \(lead.nanoseconds) ns ten wake-ups after a 415 µs one")
    }

    @Test func climbsFromZeroInAFewDozenWakeUpsAndStaysWithinItsBounds() {
        for tracking in [WakeLead.Tracking.median, .lateOnes] {
            var lead = WakeLead(tracking)
            var wakeUps = 0
            while lead.nanoseconds < 140_000, wakeUps < 1_000 {
                lead.learn(late: 150_000)
                wakeUps += 1
            }
            // Median: 1 µs steps to 8 µs, then an eighth more each time, 8 + ln(140/8) / ln(9/8) ≈ 33;
            // late ones: a quarter of the way each time, ln(150/10) / ln(4/3) ≈ 9.4.
            #expect(wakeUps <= 40, "\(tracking): \(wakeUps) wake-ups")
            for _ in 0..<1_000 { lead.learn(late: 10_000_000) }
            #expect(lead.nanoseconds == WakeLead.max)
            for _ in 0..<1_000 { lead.learn(late: 0) }
            #expect(lead.nanoseconds < 1_000, "\(tracking): \(lead.nanoseconds) ns")
        }
    }

    @Test func aWakeUpBeforeTheMomentAskedForTeachesNothing() {
        for tracking in [WakeLead.Tracking.median, .lateOnes] {
            var lead = WakeLead(tracking)
            for _ in 0..<20 { lead.learn(late: 30_000) }
            let learnt = lead.nanoseconds
            lead.learn(late: -5_000)
            #expect(lead.nanoseconds == learnt)
        }
    }
}
