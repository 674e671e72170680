@testable import Capacity
import Testing

/// What saturates first, from the stations' time per request at the lowest load and where the SLO broke.
@Suite("What saturates first")
struct SaturationTests {
    static func station(_ name: String, calls: Double = 1, ms: Double, wait: Double = 0, server: Double? = nil) -> StationLoad {
        StationLoad(station: name, callsPerRequest: calls, msPerCall: ms, waitMsPerCall: wait, wait: "slot-wait", serverMsPerCall: server)
    }

    static let broke = [SLOCheck(target: "board", metric: "p99", limit: 50, estimate: 80, low: 70, high: 90, samples: 5000, verdict: .fail),
                        SLOCheck(target: "search", metric: "p99", limit: 50, estimate: 55, low: 45, high: 65, samples: 900, verdict: .inconclusive)]

    static func find(_ from: [StationLoad], _ to: [StationLoad], cpu: (Double?, Double?) = (nil, nil)) -> Saturation? {
        Saturation.find(from: (100, from, cpu.0), to: (1000, to, broke, cpu.1), describe: { "\(Int($0))/s" })
    }

    @Test func theStationWhoseWaitGrowsMostIsNamedWithItsNumbers() throws {
        let found = try #require(Self.find([Self.station("mongo", ms: 2, wait: 0.1), Self.station("postgres", ms: 1)],
                                           [Self.station("mongo", ms: 2, wait: 40), Self.station("postgres", ms: 1.1)]))
        #expect(found.station == "mongo")
        #expect(found.evidence.contains("mongo slot wait grows from 0.100 ms to 40.0 ms per call between 100/s and 1000/s"))
        #expect(found.evidence.contains("postgres time per call stays flat"))
        #expect(found.operation == "board" && found.bound?.hasPrefix("board p99 ≤ 50.0 ms") == true)
    }

    /// A store whose own time stays flat is not the bottleneck, however slow its calls look from outside.
    @Test func aStoreWhoseOwnTimeStaysFlatIsNotNamed() throws {
        let found = try #require(Self.find(
            [Self.station("redis", calls: 2, ms: 0.3, server: 0.002), Self.station("mongo", ms: 3)],
            [Self.station("redis", calls: 2, ms: 3, server: 0.002), Self.station("mongo", ms: 6)]))
        #expect(found.station == "mongo")
        #expect(found.evidence.contains("redis's own time per call stays flat"))
    }

    /// In a projection the busy machine is the model's: named as such, with no advice to move servers.
    @Test func aProjectionsBusyCoresAreTheModelledMachines() throws {
        let found = try #require(Saturation.find(from: (100, [Self.station("mongo", ms: 2)], 0.2), to: (1000, [Self.station("mongo", ms: 9)], Self.broke, 0.97),
                                                 machine: .modelled, describe: { "\(Int($0))/s" }))
        #expect(found.station == Saturation.modelledCPU && found.subject == "the modelled machine's CPU")
        #expect(found.evidence.contains("97.00% of its cores busy at 1000/s") && !found.evidence.contains("separate machines"))
    }

    @Test func aBusyMachineIsNamedInsteadOfAStore() throws {
        let found = try #require(Self.find([Self.station("mongo", ms: 2)], [Self.station("mongo", ms: 9)], cpu: (0.2, 0.97)))
        #expect(found.station == Saturation.cpu)
        #expect(found.evidence.contains("97.00% of its cores busy at 1000/s, 20.00% at 100/s"))
    }

    @Test func nothingGrowingNamesNothing() {
        #expect(Self.find([Self.station("mongo", ms: 2)], [Self.station("mongo", ms: 2)]) == nil)
    }
}
