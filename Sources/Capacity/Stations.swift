import Foundation
import Metrics
import Reporting
import Scenario

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

    /// The station named when the harness machine's CPU was the limit.
    public static let cpu = "cpu"
    /// The station named when a projection's modelled machine (its shared cores) was the limit.
    public static let modelledCPU = "modelled-cpu"

    /// Whose CPU a probe's busy share is: the machine the harness ran on, or the machine a
    /// calibrated model's cores stand for (a projection).
    public enum Machine: Sendable {
        case harness, modelled
    }
    /// A machine this busy (share of all its cores) is saturated: every station on it slows.
    public static let busyMachine = 0.85

    /// The saturating station as a sentence's subject: `mongo`, `the app's workers`, `the harness machine's CPU`.
    public var subject: String { Self.subject(of: station) }

    static func subject(of station: String) -> String {
        switch station {
        case StationLoad.app: return "the app's workers (stack.app_workers)"
        case Self.cpu: return "the harness machine's CPU"
        case Self.modelledCPU: return "the modelled machine's CPU"
        default: return station
        }
    }

    /// `from` is the lowest-load probe, `to` the first that did not hold (or the highest probed),
    /// each with the share of `machine`'s cores busy; `describe` writes a load in the search's unit.
    /// A store whose own account (its server time per call) stays flat is not what saturates,
    /// however much longer its calls take as the client sees them: that time is spent outside it.
    public static func find(from: (load: Double, stations: [StationLoad], cpu: Double?),
                            to: (load: Double, stations: [StationLoad], checks: [SLOCheck], cpu: Double?),
                            machine: Machine = .harness, describe: (Double) -> String) -> Saturation? {
        let before = Dictionary(from.stations.map { ($0.station, $0) }) { a, _ in a }
        let pairs = to.stations.compactMap { now in before[now.station].map { (base: $0, now: now) } }
        let broke = to.checks.filter { $0.verdict != .pass }.max { severity($0) < severity($1) }
        func named(_ station: String, _ evidence: String) -> Saturation {
            Saturation(station: station, operation: broke?.target, bound: broke.map(SLOBound.describe), evidence: evidence)
        }
        func perCall(_ s: StationLoad) -> Double { s.msPerCall + s.waitMsPerCall }
        let between = "between \(describe(from.load)) and \(describe(to.load))"
        if let busy = to.cpu, busy >= busyMachine {
            let earlier = from.cpu.map { ", \(Format.percent($0)) at \(describe(from.load))" } ?? ""
            let slowed = pairs.filter { $0.now.station != StationLoad.app }
                .map { "\($0.now.station) \(ms(perCall($0.base))) → \(ms(perCall($0.now)))" }.joined(separator: ", ")
            let (station, limit) = switch machine {
            case .harness: (cpu, "this machine, not one store, is the limit; run the servers and stacksim on separate machines to find the stack's")
            case .modelled: (modelledCPU, "the servers and the application sharing these cores, not one store, are the limit")
            }
            return named(station, "\(subject(of: station)): \(Format.percent(busy)) of its cores busy at \(describe(to.load))\(earlier), "
                         + "and every store's time per call grows together (\(slowed)) — \(limit)")
        }
        /// Growth of a request's time at a station, the station's own account preferred to the client's.
        func growth(_ base: StationLoad, _ now: StationLoad) -> Double {
            guard let serverBefore = base.serverMsPerCall, let serverNow = now.serverMsPerCall else { return now.msPerRequest - base.msPerRequest }
            return now.callsPerRequest * (serverNow - serverBefore + now.waitMsPerCall - base.waitMsPerCall)
        }
        guard let (base, top) = pairs.max(by: { growth($0.base, $0.now) < growth($1.base, $1.now) }), growth(base, top) > 0 else { return nil }
        var sentence: String
        if top.station == StationLoad.app {
            sentence = "the app's queue for a worker grows from \(ms(base.waitMsPerCall)) to \(ms(top.waitMsPerCall)) per request \(between)"
        } else if top.waitMsPerCall - base.waitMsPerCall > top.msPerCall - base.msPerCall {
            let wait = (top.wait ?? "wait").replacingOccurrences(of: "-", with: " ")
            sentence = "\(top.station) \(wait) grows from \(ms(base.waitMsPerCall)) to \(ms(top.waitMsPerCall)) per call \(between)"
        } else {
            sentence = "\(top.station) time per call grows from \(ms(base.msPerCall)) to \(ms(top.msPerCall)) \(between)"
            if let a = base.serverMsPerCall, let b = top.serverMsPerCall { sentence += " (by its own account \(ms(a)) → \(ms(b)))" }
        }
        let others = pairs.filter { $0.now.station != top.station && $0.now.station != StationLoad.app }
            .sorted { $0.now.msPerRequest > $1.now.msPerRequest }.prefix(2)
        if !others.isEmpty {
            sentence += " while " + others.map { base, now in
                if let a = base.serverMsPerCall, let b = now.serverMsPerCall {
                    return "\(now.station)'s own time per call \(flat(a, b) ? "stays flat" : "grows") (\(ms(a)) → \(ms(b)); "
                        + "\(ms(perCall(base))) → \(ms(perCall(now))) as the client sees it)"
                }
                return "\(now.station) time per call \(flat(perCall(base), perCall(now)) ? "stays flat" : "grows") "
                    + "(\(ms(perCall(base))) → \(ms(perCall(now))))"
            }.joined(separator: " and ")
        }
        return named(top.station, sentence)
    }

    static func flat(_ before: Double, _ after: Double) -> Bool { after <= 1.2 * before + 0.05 }

    /// How far past its limit a check is (a ratio; floors inverted).
    static func severity(_ check: SLOCheck) -> Double {
        guard let estimate = check.estimate, check.limit > 0 else { return .infinity }
        return Threshold.isFloor(target: check.target, metric: check.metric) ? check.limit / max(estimate, 1e-12) : estimate / check.limit
    }

    static func ms(_ value: Double) -> String { Format.ms(value) + " ms" }
}
