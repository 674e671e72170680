@testable import Simulation
import Foundation
import Testing

@Suite("Wake lead")
struct WakeLeadTests {
    /// Lateness drawn from a seeded log-normal-like spread (a kernel's wake-ups: a body and a tail).
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

    @Test func settlesAtTheMedianOfTheLatenessItSees() {
        for (median, seed) in [(15_000.0, 1 as UInt64), (120_000, 2), (3_000, 3)] {
            let samples = lateness(count: 20_000, median: median, seed: seed)
            var lead = WakeLead()
            // Once settled (the second half), how many wake-ups came before the lead: early ones.
            var early = 0
            for (index, late) in samples.enumerated() {
                if index >= 10_000, late < lead.nanoseconds { early += 1 }
                lead.learn(late: late)
            }
            let sorted = samples.sorted(), sampleMedian = Double(sorted[sorted.count / 2])
            let step = max(Double(WakeLead.minStep), sampleMedian / 8)
            #expect(abs(Double(lead.nanoseconds) - sampleMedian) <= 2 * step, "median \(sampleMedian) ns, lead \(lead.nanoseconds) ns")
            #expect((4_500...5_500).contains(early), "\(early) of 10,000 wake-ups came before the lead (median \(sampleMedian) ns)")
        }
    }

    @Test func climbsFromZeroInAFewDozenWakeUpsAndStopsAtItsCeiling() {
        var lead = WakeLead()
        var wakeUps = 0
        while lead.nanoseconds < 150_000, wakeUps < 1_000 {
            lead.learn(late: 150_000)
            wakeUps += 1
        }
        // 1 µs steps to 8 µs, then an eighth more each time: 8 + ln(150/8) / ln(9/8) ≈ 33.
        #expect(wakeUps <= 40)
        for _ in 0..<1_000 { lead.learn(late: 10_000_000) }
        #expect(lead.nanoseconds == WakeLead.max)
        for _ in 0..<1_000 { lead.learn(late: 0) }
        #expect(lead.nanoseconds == 0)
    }

    @Test func aWakeUpBeforeTheMomentAskedForTeachesNothing() {
        var lead = WakeLead()
        for _ in 0..<20 { lead.learn(late: 30_000) }
        let learnt = lead.nanoseconds
        lead.learn(late: -5_000)
        #expect(lead.nanoseconds == learnt)
    }
}
