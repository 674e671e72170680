import Foundation
import Metrics

/// Where a probe's time went at one station: a store (its calls, and the wait for its service
/// slots or pooled connections in front of it) or the app's worker queue.
public struct StationLoad: Sendable, Codable, Equatable {
    public static let app = "app"

    /// `postgres`, `mongo`, `redis` or `app`.
    public var station: String
    public var callsPerRequest: Double
    /// Mean time per call, waits left out (app: 0).
    public var msPerCall: Double
    /// Mean wait per call for a slot or a connection (app: per request, for a worker).
    public var waitMsPerCall: Double
    /// What the wait was for: `slot-wait`, `pool-wait`, or `queue` for the app.
    public var wait: String?
    /// The server's own mean time per call, where its evidence gives it (live targets).
    public var serverMsPerCall: Double?

    /// Time a request spends at this station, waits included.
    public var msPerRequest: Double { callsPerRequest * (msPerCall + waitMsPerCall) }

    /// Every station of a probe, from its operations' store calls; `serverMsPerCall` by store.
    public static func of(_ operations: [String: OperationStats], serverMsPerCall: [String: Double] = [:]) -> [StationLoad] {
        let requests = Double(operations.values.reduce(0) { $0 + $1.count })
        guard requests > 0 else { return [] }
        var calls: [String: (count: Int, nanos: Double)] = [:]
        var waits: [String: (nanos: Double, kind: StoreWait)] = [:]
        var queueNanos = 0.0, queued = 0.0
        for stats in operations.values {
            queueNanos += stats.queue.sumNanoseconds
            queued += Double(stats.queue.count)
            for (name, store) in stats.storeCalls {
                if let (owner, kind) = StoreWait.parse(name) {
                    waits[owner, default: (0, kind)].nanos += store.latency.sumNanoseconds
                } else {
                    calls[name, default: (0, 0)].count += store.calls
                    calls[name]!.nanos += store.latency.sumNanoseconds
                }
            }
        }
        var stations = calls.keys.sorted().map { store -> StationLoad in
            let (count, nanos) = calls[store]!
            return StationLoad(station: store, callsPerRequest: Double(count) / requests, msPerCall: nanos / Double(count) / 1e6,
                               waitMsPerCall: (waits[store]?.nanos ?? 0) / Double(count) / 1e6, wait: waits[store]?.kind.rawValue,
                               serverMsPerCall: serverMsPerCall[store])
        }
        stations.append(StationLoad(station: app, callsPerRequest: 1, msPerCall: 0, waitMsPerCall: queued > 0 ? queueNanos / queued / 1e6 : 0,
                                    wait: "queue", serverMsPerCall: nil))
        return stations
    }
}

/// What saturates first: the station whose time per request grows most between the lowest load
/// probed and the first load that did not hold, and the SLO bound that broke there.
public struct Saturation: Sendable, Codable, Equatable {
    public var station: String
    /// The operation and bound that broke first (nil when nothing broke: the search reached its maximum).
    public var operation: String?
    public var bound: String?
    /// The sentence that says it, with the numbers.
    public var evidence: String

    /// `from` is the lowest-load probe, `to` the first that did not hold (or the highest probed);
    /// `describe` writes a load in the search's unit.
    public static func find(from: (load: Double, stations: [StationLoad]), to: (load: Double, stations: [StationLoad], checks: [SLOCheck]),
                            describe: (Double) -> String) -> Saturation? {
        let before = Dictionary(from.stations.map { ($0.station, $0) }) { a, _ in a }
        let growth = to.stations.compactMap { station -> (StationLoad, StationLoad, Double)? in
            guard let base = before[station.station] else { return nil }
            return (base, station, station.msPerRequest - base.msPerRequest)
        }
        guard let (base, top, grew) = growth.max(by: { $0.2 < $1.2 }), grew > 0 else { return nil }
        let waitGrew = top.waitMsPerCall - base.waitMsPerCall > top.msPerCall - base.msPerCall
        let what = top.station == StationLoad.app ? "queue for an app worker"
            : waitGrew ? (top.wait ?? "wait").replacingOccurrences(of: "-", with: " ") : "time per call"
        let (a, b) = waitGrew || top.station == StationLoad.app ? (base.waitMsPerCall, top.waitMsPerCall) : (base.msPerCall, top.msPerCall)
        let unit = top.station == StationLoad.app ? "per request" : "per call"
        var sentence = "\(top.station) \(what) grows from \(ms(a)) to \(ms(b)) \(unit) between \(describe(from.load)) and \(describe(to.load))"
        if let server = top.serverMsPerCall { sentence += " (the server's own time: \(ms(server)) per call)" }
        let others = growth.filter { $0.0.station != top.station && $0.0.station != StationLoad.app }
            .sorted { $0.1.msPerRequest > $1.1.msPerRequest }.prefix(2)
        if !others.isEmpty {
            sentence += " while " + others.map { base, now, _ in
                let steady = now.msPerCall + now.waitMsPerCall <= 1.2 * (base.msPerCall + base.waitMsPerCall) + 0.05
                return "\(now.station) time per call \(steady ? "stays flat" : "grows") (\(ms(base.msPerCall + base.waitMsPerCall)) → "
                    + "\(ms(now.msPerCall + now.waitMsPerCall)))"
            }.joined(separator: " and ")
        }
        let broke = to.checks.filter { $0.verdict != .pass }.max { severity($0) < severity($1) }
        return Saturation(station: top.station, operation: broke?.target, bound: broke.map(SLOBound.describe), evidence: sentence)
    }

    /// How far past its limit a check is (a ratio; floors inverted).
    static func severity(_ check: SLOCheck) -> Double {
        guard let estimate = check.estimate, check.limit > 0 else { return .infinity }
        return check.metric == "throughput" || check.target == "cache-hit-ratio" ? check.limit / max(estimate, 1e-12) : estimate / check.limit
    }

    static func ms(_ value: Double) -> String { SLOBound.ms(value) + " ms" }
}
