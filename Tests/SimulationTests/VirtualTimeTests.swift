import Foundation
import Metrics
import Scenario
@testable import Simulation
import StackCore
import StackModel
import Synchronization
import Testing

/// Stations of service slots driven in virtual time by the request loop, against queueing
/// theory computed here: M/M/1, M/M/c (Erlang C) and two M/M/1 stations in tandem (Jackson's
/// product form; by Reich's theorem a customer's two sojourns are independent exponentials).
@Suite("Virtual time", .serialized)
struct VirtualTimeTests {
    /// What the customers of one simulation share: their draws and their response times.
    final class Customers: Sendable {
        let responses = Mutex(LatencyHistogram())
        let arrivals: Mutex<(rng: SeededRandom, next: Int64, sent: Int)>
        let service: Mutex<SeededRandom>
        let finished = Atomic<Int>(0)

        init(seed: UInt64) {
            arrivals = Mutex((SeededRandom(seed: seed), 0, 0))
            service = Mutex(SeededRandom(seed: seed &+ 1))
        }

        func exponential(mean seconds: Double) -> Duration {
            .nanoseconds(Int64(-log(1 - service.withLock { $0.unit() }) * seconds * 1e9))
        }
    }

    /// How a station serves: `servers` slots in arrival order, or `cores` shared by every
    /// customer present (processor sharing).
    enum Discipline {
        case slots(Int)
        case shared(cores: Int)
    }

    enum Server {
        case slots(ServiceSlots)
        case cores(SharedCores)
    }

    /// Poisson arrivals at `rate` per second through `stations` in turn (each serving at `mu`
    /// per second: exponential service of mean `1/mu` seconds, or exactly `1/mu` when `fixed`),
    /// `customers` of them; every response time.
    static func simulate(rate: Double, stations: [(Discipline, mu: Double)], fixed: Bool = false, customers count: Int,
                         seed: UInt64) async -> LatencyHistogram {
        let load = LoadClock(timeline: Timeline(virtual: VirtualTime(anchor: VirtualTime.defaultAnchor)))
        let clock = RunClock(timeline: load.timeline)
        let loop = RequestLoop(clock: clock)
        loop.start()
        defer { loop.finish() }
        load.mark(sleeper: loop, executor: loop)
        let servers = stations.map { station -> Server in
            switch station.0 {
            case .slots(let count): .slots(ServiceSlots(count: count))
            case .shared(let cores): .cores(SharedCores(cores: cores, load: load))
            }
        }
        let means = stations.map { 1 / $0.mu }
        let customers = Customers(seed: seed)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            loop.releasing {
                customers.arrivals.withLock { a -> Int64? in
                    while a.sent < count {
                        guard a.next <= clock.now() else { return a.next }
                        let arrived = a.next
                        a.sent += 1
                        a.next += Int64(-log(1 - a.rng.unit()) / rate * 1e9)
                        Task(executorPreference: loop) {
                            for (server, mean) in zip(servers, means) {
                                let work = fixed ? Duration.nanoseconds(Int64(mean * 1e9)) : customers.exponential(mean: mean)
                                switch server {
                                case .slots(let slots):
                                    try? await slots.acquire()
                                    try? await loop.sleep(for: work)
                                    slots.release()
                                case .cores(let cores):
                                    await cores.run(work)
                                }
                            }
                            let response = clock.now() - arrived
                            customers.responses.withLock { $0.record(nanoseconds: response) }
                            if customers.finished.add(1, ordering: .relaxed).newValue == count { done.resume() }
                        }
                    }
                    return nil
                }
            }
        }
        return customers.responses.withLock { $0 }
    }

    /// Erlang C: the probability that an arrival waits at a station of `c` servers offered `a = λ/μ` erlangs.
    static func erlangC(servers c: Int, offered a: Double) -> Double {
        var term = 1.0, sum = 0.0
        for k in 0..<c {
            sum += term
            term *= a / Double(k + 1)
        }
        let waiting = term / (1 - a / Double(c))
        return waiting / (sum + waiting)
    }

    /// P(response > t) at an M/M/c station: no wait (1 − C) and Exp(μ) service, or an
    /// Exp(θ = cμ − λ) wait and then the service (hypoexponential).
    static func survival(_ t: Double, servers c: Int, lambda: Double, mu: Double) -> Double {
        let wait = erlangC(servers: c, offered: lambda / mu), theta = Double(c) * mu - lambda
        let both = abs(theta - mu) < 1e-9 ? (1 + mu * t) * exp(-mu * t) : (theta * exp(-mu * t) - mu * exp(-theta * t)) / (theta - mu)
        return (1 - wait) * exp(-mu * t) + wait * both
    }

    /// The t at which a decreasing survival function reaches `tail`.
    static func quantile(tail: Double, _ survival: (Double) -> Double) -> Double {
        var low = 0.0, high = 1.0
        while survival(high) > tail { high *= 2 }
        for _ in 0..<100 {
            let mid = (low + high) / 2
            if survival(mid) > tail { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }

    /// The whole stack in virtual time: modelled stores, queues, sync workers, TTLs, sprints.
    @Test func aRunInVirtualTimeIsTheSameRunEveryTime() async throws {
        var s = scenario("virtual", rate: 300, seconds: 20)
        s.clock = .virtual
        var mongo = StoreKnobSpec(), postgres = StoreKnobSpec()
        mongo.servers = 2
        mongo.latency = .exponential(mean: .milliseconds(3))
        postgres.servers = 1
        postgres.latency = .exponential(mean: .microseconds(500))
        s.stack.embedded = ["mongo": mongo, "postgres": postgres]
        let started = ContinuousClock.now
        let first = try await SimulationRun.run(s), second = try await SimulationRun.run(s)
        #expect(ContinuousClock.now - started < .seconds(40), "two 20 s runs take less than their duration")
        #expect(first.totals.operations == second.totals.operations)
        #expect(first.totals.snapshotLag == second.totals.snapshotLag)
        #expect(first.intervals == second.intervals)
        let board = try #require(first.totals.operations["board"])
        #expect(board.latency.milliseconds(atPercentile: 50) >= 1, "the modelled service times are what latencies are made of")
        #expect(first.schedule.late == 0 && first.totals.snapshotLag.count > 0)
        #expect(first.clockWaitSeconds == 0, "the loop moves the time instead of waiting for it")
        #expect(try first.consistency.get().clean)
    }

    /// Calls to `stores` (one each), all started at time 0 of a virtual clock, and when each
    /// ended (sorted), in milliseconds; with `cores`, the stores share a host of that many.
    static func callEnds(_ knobs: StoreKnobs, stores: [StoreKind], call: String, cores: Int?, cpuShare: Double = 1,
                         inOperation operation: String = "") async -> [Double] {
        let load = LoadClock(timeline: Timeline(virtual: VirtualTime(anchor: VirtualTime.defaultAnchor)))
        let clock = RunClock(timeline: load.timeline)
        let loop = RequestLoop(clock: clock)
        loop.start()
        loop.releasing { nil }
        defer { loop.finish() }
        load.mark(sleeper: loop, executor: loop)
        let host = cores.map { SharedCores(cores: $0, cpuShare: cpuShare, load: load) }
        let behaviours = Dictionary(Set(stores).map { ($0, StoreBehaviour(store: $0, knobs: knobs, seed: 1, load: load, host: host)) },
                                    uniquingKeysWith: { a, _ in a })
        // Started from a task on the loop, every call is queued there before the loop can find
        // itself idle and move the time (started from elsewhere, a call could start at 1 ms).
        return await Task(executorPreference: loop) {
            await withTaskGroup(of: Double.self) { group in
                for store in stores {
                    group.addTask(executorPreference: loop) {
                        _ = try? await StoreCallTrace.$current.withValue(StoreCallTrace(operation: operation, timeline: load.timeline)) {
                            try await behaviours[store]!.serve(call) {}
                        }
                        return Double(clock.now()) / 1e6
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }.sorted()
            }
        }.value
    }

    /// Two stores of one slot each, 1 ms per call: on machines of their own two calls end
    /// together after 1 ms; sharing one core, each gets half of it and both end after 2 ms.
    @Test(arguments: [nil, 1] as [Int?])
    func storesOnOneHostShareItsCores(cores: Int?) async {
        let ends = await Self.callEnds(StoreKnobs(latency: .fixed(.milliseconds(1)), servers: 1), stores: [.relational, .cache],
                                       call: "call", cores: cores)
        #expect(ends == (cores == nil ? [1, 1] : [2, 2]))
    }

    /// The client's work on a reply holds no slot: two calls to a store of one slot, each 4 ms of
    /// which a quarter is service and the rest the client's work, end at 4 and 5 ms (the client's work side by side,
    /// then one service after the other); held in the slot they would end at 4 and 8 ms. On one
    /// shared core the client's work is shared too: both finish it at 6 ms, then 7 and 8.
    @Test(arguments: [nil, 1] as [Int?])
    func theClientsWorkHoldsNoSlot(cores: Int?) async {
        let knobs = StoreKnobs(servers: 1, operations: ["board": StoreKnobs(latency: .fixed(.milliseconds(4)), clientShare: 0.75)])
        let ends = await Self.callEnds(knobs, stores: [.document, .document], call: "board", cores: cores)
        #expect(ends == (cores == nil ? [4, 5] : [7, 8]))
    }

    /// Of each job on the shared cores only the CPU share contends for them: two 2 ms calls on one
    /// core end at 4 ms when all of it is CPU, at 3 ms when half is (1 ms of waiting side by side,
    /// then 1 ms of CPU each at half the core).
    @Test(arguments: [(1.0, 4.0), (0.5, 3.0)])
    func onlyTheCPUShareOfAJobContendsForTheCores(share: Double, end: Double) async {
        let ends = await Self.callEnds(StoreKnobs(latency: .fixed(.milliseconds(2)), servers: 1), stores: [.relational, .cache],
                                       call: "call", cores: 1, cpuShare: share)
        #expect(ends == [end, end])
    }

    /// A calibrated model's factor for an operation scales its calls there, and only there.
    @Test(arguments: [("permission-check", 1.0), ("board", 4.0)])
    func anOperationsScaleIsAppliedToItsCalls(operation: String, end: Double) async {
        let knobs = StoreKnobs(latency: .fixed(.milliseconds(4)), servers: 1, scaleByOperation: ["permission-check": 0.25])
        let ends = await Self.callEnds(knobs, stores: [.relational], call: "permission-check", cores: nil, inOperation: operation)
        #expect(ends == [end])
    }

    @Test func virtualTimeMovesOnlyToWhatIsDueAndNoFasterThanTheWork() async throws {
        let clock = RunClock(timeline: Timeline(virtual: VirtualTime(anchor: VirtualTime.defaultAnchor)))
        let loop = RequestLoop(clock: clock)
        loop.start()
        loop.releasing { nil }
        let started = ContinuousClock.now
        let ended = try await Task(executorPreference: loop) {
            try await loop.sleep(for: .seconds(3600))
            return clock.now()
        }.value
        loop.finish()
        #expect(ended == Duration.seconds(3600).nanoseconds, "an hour's wait ends exactly an hour later in virtual time")
        #expect(ContinuousClock.now - started < .seconds(5), "and takes no hour of wall time")
    }
}

/// Queueing theory against the stations in virtual time: millions of simulated customers, a
/// minute and more of one core. `make test` runs this suite on its own, after the others, so
/// that it does not slow their timing checks.
@Suite("Queueing theory in virtual time", .serialized)
struct QueueingTheoryTests {
    static func expectClose(_ measured: Double, _ expected: Double, within: Double, _ what: String) {
        #expect(abs(measured - expected) <= within * expected, "\(what): measured \(measured) ms, theory \(expected) ms")
    }

    @Test(arguments: [(1, 0.5), (1, 0.8), (1, 0.9), (4, 0.5), (4, 0.8), (4, 0.9)])
    func aStationMatchesErlangC(servers: Int, utilisation: Double) async {
        let mu = 1000.0, lambda = utilisation * Double(servers) * mu
        // Near saturation the waits are correlated for longer: more customers for the same precision.
        let customers = utilisation > 0.85 ? 2_000_000 : utilisation > 0.6 ? 600_000 : 200_000
        let measured = await VirtualTimeTests.simulate(rate: lambda, stations: [(.slots(servers), mu)], customers: customers, seed: 7)
        let wait = VirtualTimeTests.erlangC(servers: servers, offered: lambda / mu)
        let mean = 1 / mu + wait / (Double(servers) * mu - lambda)
        let p99 = VirtualTimeTests.quantile(tail: 0.01) { VirtualTimeTests.survival($0, servers: servers, lambda: lambda, mu: mu) }
        Self.expectClose(measured.meanMilliseconds, mean * 1000, within: 0.03, "M/M/\(servers) at ρ \(utilisation): mean")
        Self.expectClose(measured.milliseconds(atPercentile: 99), p99 * 1000, within: 0.03, "M/M/\(servers) at ρ \(utilisation): p99")
    }

    @Test func twoStationsInTandemMatchJacksonsProductForm() async {
        let lambda = 600.0, mu = (1000.0, 1500.0)
        let measured = await VirtualTimeTests.simulate(rate: lambda, stations: [(.slots(1), mu.0), (.slots(1), mu.1)], customers: 400_000, seed: 11)
        let (a, b) = (mu.0 - lambda, mu.1 - lambda)
        let p99 = VirtualTimeTests.quantile(tail: 0.01) { t in (b * exp(-a * t) - a * exp(-b * t)) / (b - a) }
        Self.expectClose(measured.meanMilliseconds, (1 / a + 1 / b) * 1000, within: 0.03, "tandem: mean")
        Self.expectClose(measured.milliseconds(atPercentile: 99), p99 * 1000, within: 0.03, "tandem: p99")
    }

    /// Processor sharing is insensitive to the service's distribution: at one core every
    /// customer of a fixed `D` spends `D / (1 − ρ)` (M/G/1-PS), more than first-come-first-served's
    /// `D + ρD / (2(1 − ρ))`, since every arrival slows the customers in service.
    @Test(arguments: [0.5, 0.8])
    func oneSharedCoreMatchesProcessorSharing(utilisation: Double) async {
        let mu = 1000.0, lambda = utilisation * mu
        let measured = await VirtualTimeTests.simulate(rate: lambda, stations: [(.shared(cores: 1), mu)], fixed: true,
                                                       customers: utilisation > 0.6 ? 600_000 : 200_000, seed: 13)
        Self.expectClose(measured.meanMilliseconds, 1 / mu / (1 - utilisation) * 1000, within: 0.03, "M/D/1-PS at ρ \(utilisation): mean")
    }

    /// Two cores shared by exponential customers: the number present is M/M/2's birth-death
    /// process, so the mean response is M/M/2's, `1 / (μ(1 − ρ²))`.
    @Test func twoSharedCoresMatchMM2() async {
        let mu = 1000.0, utilisation = 0.8, lambda = utilisation * 2 * mu
        let measured = await VirtualTimeTests.simulate(rate: lambda, stations: [(.shared(cores: 2), mu)], customers: 600_000, seed: 17)
        Self.expectClose(measured.meanMilliseconds, 1 / (mu * (1 - utilisation * utilisation)) * 1000, within: 0.03, "M/M/2-PS at ρ 0.8: mean")
    }

}
