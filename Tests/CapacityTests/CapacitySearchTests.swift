@testable import Capacity
import Scenario
import Testing

/// The search as a state machine, driven by made-up verdicts.
@Suite("Capacity search")
struct CapacitySearchTests {
    static func settings(start: Double = 100, minimum: Double = 10, maximum: Double = 100_000, precision: Double = 0.05,
                         maxProbes: Int = 20, repeats: Int = 1, whole: Bool = false) -> CapacitySearch.Settings {
        CapacitySearch.Settings(start: start, minimum: minimum, maximum: maximum, growth: 2, precision: precision, maxProbes: maxProbes,
                                repeats: repeats, whole: whole)
    }

    /// Runs a search against `verdict(load, purpose)`; returns how it stopped, what held, and every probe asked.
    static func run(_ settings: CapacitySearch.Settings, _ verdict: (Double, CapacitySearch.Purpose) -> ProbeVerdict)
        -> (stop: SearchStop, search: CapacitySearch, asked: [(Double, CapacitySearch.Purpose)]) {
        var search = CapacitySearch(settings)
        var asked: [(Double, CapacitySearch.Purpose)] = []
        while true {
            switch search.next() {
            case .finished(let stop): return (stop, search, asked)
            case .probe(let load, let purpose):
                asked.append((load, purpose))
                search.record(verdict(load, purpose))
            }
        }
    }

    @Test(arguments: [137.0, 999.0, 12.5, 5000.0])
    func itFindsAKnownCapacityWithinThePrecisionAndConfirmsIt(capacity: Double) {
        let (stop, search, asked) = Self.run(Self.settings()) { load, _ in load <= capacity ? .pass : .fail }
        #expect(stop == .converged)
        let held = search.held!
        #expect(held <= capacity && (capacity - held) / capacity <= 0.05)
        #expect(asked.last!.1 == .confirm && asked.last!.0 == held)
        #expect(asked.filter { $0.1 == .grow }.map(\.0).allSatisfy { [100, 200, 400, 800, 1600, 3200, 6400, 50, 25, 12.5].contains($0) })
    }

    @Test func growthIsGeometricThenItBisects() {
        let (_, _, asked) = Self.run(Self.settings()) { load, _ in load <= 300 ? .pass : .fail }
        #expect(asked.map(\.0).prefix(5) == [100, 200, 400, 300, 350])
        #expect(asked.map(\.1).prefix(5) == [.grow, .grow, .grow, .bisect, .bisect])
    }

    @Test func anInconclusiveProbeIsRepeatedThenCountsAsNotHeld() {
        let (stop, search, asked) = Self.run(Self.settings()) { load, _ in load < 150 ? .pass : load < 250 ? .inconclusive : .fail }
        #expect(stop == .converged)
        let repeats = asked.filter { $0.1 == .repeat }
        #expect(!repeats.isEmpty)
        // Each repeat follows the probe it repeats, at the same load.
        for (index, probe) in asked.enumerated() where probe.1 == .repeat { #expect(asked[index - 1].0 == probe.0) }
        #expect(search.held! < 150 && search.notHeld! >= 150 && search.notHeld! < 250)
    }

    @Test func aRepeatThatClearsIsABound() {
        var firstAt200 = true
        let (_, search, _) = Self.run(Self.settings()) { load, purpose in
            if load == 200, purpose != .repeat, firstAt200 { firstAt200 = false; return .inconclusive }
            return load <= 210 ? .pass : .fail
        }
        #expect(search.held! >= 200)
    }

    @Test func aLoadTheHarnessCannotDriveEndsTheSearchWithoutAnAnswer() {
        let (stop, search, _) = Self.run(Self.settings()) { load, _ in load >= 800 ? .notDriven : .pass }
        #expect(stop == .harnessLimit)
        #expect(search.held == 400 && search.notHeld == nil)
    }

    @Test func aStartThatFailsShrinksDownToTheMinimum() {
        let (stop, _, asked) = Self.run(Self.settings(start: 100, minimum: 10)) { _, _ in .fail }
        #expect(stop == .failsAtMinimum)
        #expect(asked.map(\.0) == [100, 50, 25, 12.5, 10])
        let (found, search, _) = Self.run(Self.settings(start: 100, minimum: 10)) { load, _ in load <= 30 ? .pass : .fail }
        #expect(found == .converged && search.held! <= 30 && search.held! >= 28.5)
    }

    @Test func holdingAtTheMaximumStopsThere() {
        let (stop, search, asked) = Self.run(Self.settings(start: 100, maximum: 500)) { _, _ in .pass }
        #expect(stop == .maxLoad && search.held == 500)
        #expect(asked.map(\.0) == [100, 200, 400, 500])
    }

    @Test func theBudgetCountsRepeatsAndLeavesALowerBound() {
        let (stop, search, asked) = Self.run(Self.settings(maxProbes: 4)) { load, _ in load <= 1000 ? .pass : .inconclusive }
        #expect(stop == .budgetSpent)
        #expect(asked.count == 4 && search.held == 800)
    }

    @Test func aConfirmationThatFailsSendsTheSearchBelowIt() {
        var confirmations = 0
        let (stop, search, _) = Self.run(Self.settings()) { load, purpose in
            if purpose == .confirm {
                confirmations += 1
                return confirmations == 1 ? .fail : .pass
            }
            return load <= 300 ? .pass : .fail
        }
        #expect(stop == .converged)
        #expect(confirmations == 2)
        #expect(search.held! < 300 && search.held! > 280)
    }

    @Test func wholeLoadsStayWholeAndConvergeToNeighbours() {
        let (stop, search, asked) = Self.run(Self.settings(start: 3, minimum: 1, precision: 0.01, whole: true)) { load, _ in load <= 17 ? .pass : .fail }
        #expect(stop == .converged)
        #expect(asked.allSatisfy { $0.0 == $0.0.rounded() })
        #expect(search.held == 17 && search.notHeld == 18)
    }

    @Test func anInterruptionEndsTheSearch() {
        let (stop, _, asked) = Self.run(Self.settings()) { load, _ in load >= 400 ? .interrupted : .pass }
        #expect(stop == .interrupted && asked.count == 3)
    }
}

/// What a scenario's `capacity:` section resolves to, and what each probe runs.
@Suite("Capacity plan")
struct CapacityPlanTests {
    static func scenario(_ configure: (inout Scenario) -> Void = { _ in }) -> Scenario {
        var s = Scenario(name: "plan")
        s.load.phases = [Phase(name: "warm", duration: .seconds(5), rate: .constant(10), record: false),
                         Phase(name: "steady", duration: .seconds(10), rate: .constant(300), mix: [MixEntry(operation: "board", weight: 1)])]
        s.load.maxRate = 50
        s.thresholds = [Threshold(target: "board", metric: "p99", limit: 50, abortOnFail: true, location: "plan.yaml:9")]
        configure(&s)
        return s
    }

    @Test func defaultsFollowTheScenariosOwnLoad() throws {
        let plan = try CapacityPlan.make(Self.scenario()).get()
        #expect(plan.dimension == .rate)
        #expect(plan.search.start == 300 && plan.search.minimum == 300.0 / 16 && plan.search.maximum == 300 * 1024)
        #expect(plan.confirm == plan.probe * 3 && plan.slo.count == 1)
    }

    @Test func aProbeRunsTheNamedLoadWithoutCapsOrAborts() throws {
        let probe = try CapacityPlan.make(Self.scenario()).get().scenario(load: 750, length: .seconds(8))
        #expect(probe.load.phases.map(\.name) == ["warmup", "probe"])
        #expect(probe.load.phases.allSatisfy { $0.rate == .constant(750) && $0.mix == [MixEntry(operation: "board", weight: 1)] })
        #expect(probe.load.phases.map(\.record) == [false, true] && probe.load.phases[1].duration == .seconds(8))
        #expect(probe.load.maxRate == nil && probe.thresholds.allSatisfy { !$0.abortOnFail })
    }

    @Test func organizationsScaleTheDatasetAtAFixedRateEach() throws {
        let plan = try CapacityPlan.make(Self.scenario { $0.dataset.organizations = 30; $0.capacity.dimension = .organizations }).get()
        #expect(plan.ratePerOrganization == 10 && plan.search.whole)
        let probe = plan.scenario(load: 45, length: .seconds(5))
        #expect(probe.dataset.organizations == 45 && probe.load.phases.last?.rate == .constant(450))
    }

    @Test func impossibleSearchesAreRefusedNamingTheKey() {
        guard case .failure(let none) = CapacityPlan.make(Self.scenario { $0.thresholds = [] }) else { Issue.record("no SLO accepted"); return }
        #expect(none.key == "capacity.slo")
        guard case .failure(let big) = CapacityPlan.make(Self.scenario { $0.capacity.maximum = 2e6 }) else { Issue.record("2e6/s accepted"); return }
        #expect(big.key == "capacity.max")
    }

    /// The summary says whether the load above the capacity broke the SLO or only could not be
    /// shown to hold it (its samples were too noisy).
    @Test(arguments: [ProbeVerdict.fail, .inconclusive])
    func theSummarySaysHowTheNextLoadFailedToHold(above: ProbeVerdict) {
        let (stop, search, asked) = CapacitySearchTests.run(CapacitySearchTests.settings()) { load, _ in load <= 137 ? .pass : above }
        let probes = asked.enumerated().map { index, probe in
            CapacityReport.ProbeInfo(index: index + 1, load: probe.0, purpose: probe.1, verdict: probe.0 <= 137 ? .pass : above, pooledWith: [],
                                     report: "", recordedS: 8, offeredPerS: probe.0, goodputPerS: probe.0, attemptedPerS: probe.0, errorRate: 0,
                                     meanLatencyMs: 1, concurrency: 0.1, steady: true, checks: [], operations: [], stations: [],
                                     invalidReasons: [], datasetLoadS: 0, hostCpuBusy: nil)
        }
        let slo = [Threshold(target: "board", metric: "p99", limit: 100, location: "test")]
        let summary = CapacityReport.outcome(stop, search: search, confirmation: .pass, probes: probes, slo: slo, saturation: nil,
                                             describe: { "\($0)/s" }).summary
        #expect(summary.contains(above == .fail ? "did not hold" : "could not be shown to hold within the noise of its samples"), "\(summary)")
    }
}
