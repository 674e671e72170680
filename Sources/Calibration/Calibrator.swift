import Foundation
import Metrics
import Reporting

/// Fits a resource model to a light run against live servers: per store call, the callers'
/// mean time per call less a do-nothing call's round trip and the client's own work on the
/// reply (measured apart, host CPU outside the store) is its service time; whether the
/// live plan scans (a sequential or collection scan) says whether it grows with the dataset.
public enum Calibrator {
    /// A store's service slots and why that many.
    public struct Slots: Sendable {
        public var count: Int
        public var from: String

        public init(count: Int, from: String) {
            self.count = count
            self.from = from
        }
    }

    /// The model of the stack `report` measured; `networkMs` and `slots` by store name.
    public static func model(from report: RunReport, networkMs: [String: Double], slots: [String: Slots], hostCores: Int?,
                             date: Date) -> ResourceModel {
        var stores: [String: ResourceModel.StoreModel] = [:]
        let spreads = variations(report.operations, networkMs: networkMs)
        for evidence in report.server?.stores ?? [] {
            let network = networkMs[evidence.store] ?? 0
            var calls: [String: ResourceModel.CallModel] = [:]
            for shape in evidence.shapes where shape.calls > 0 && !shape.blocking {
                calls[shape.call] = call(shape, networkMs: network, cv: spreads[evidence.store]?[shape.call])
            }
            let slot = slots[evidence.store] ?? Slots(count: 1, from: "not known: one")
            stores[evidence.store] = ResourceModel.StoreModel(servers: slot.count, serversFrom: slot.from, networkMs: network, calls: calls)
        }
        let formatter = ISO8601DateFormatter()
        let provenance = ResourceModel.Provenance(
            date: formatter.string(from: date), scenario: report.scenario.name,
            servers: (report.servers ?? []).map { "\($0.store) \($0.version) at \($0.url)" + ($0.note == nil ? "" : " (test server)") },
            organizations: report.dataset.organizations, users: report.dataset.users, tasks: report.dataset.tasks,
            ratePerS: report.totals.attemptedPerS, seconds: report.load.phases.reduce(0) { $0 + $1.durationS })
        let app = appTimes(report.operations)
        return ResourceModel(calibrated: provenance, appMsPerRequest: app.perRequest, appMsByOperation: app.byOperation, hostCores: hostCores,
                             stores: stores)
    }

    /// One kind of call: the callers' mean time less the round trip and the client's own work on
    /// the reply, which stays the caller's (host CPU outside the store's slots).
    static func call(_ shape: ShapeInfo, networkMs: Double, cv: Double?) -> ResourceModel.CallModel {
        let calls = Double(shape.calls), client = shape.decodeMs.map { $0 / calls }
        return ResourceModel.CallModel(serviceMs: max(0, shape.clientMs / calls - networkMs - (client ?? 0)), clientMs: client, cv: cv,
                                       samples: shape.calls, examinedPerCall: shape.examinedPerCall ?? shape.plan.map { Double($0.examined) },
                                       scalesWithData: scans(shape))
    }

    /// The application's mean time per request besides its store calls: each operation's mean
    /// latency less its calls' (connection waits stay in: the embedded stack has no pools), and
    /// their mean over the requests.
    static func appTimes(_ operations: [OperationReport]) -> (perRequest: Double, byOperation: [String: Double]) {
        var byOperation: [String: Double] = [:], total = 0.0, requests = 0
        for operation in operations where operation.count > 0 {
            let calls = operation.stores.filter { StoreWait.parse($0.store) == nil }.reduce(0) { $0 + $1.callsPerOperation * $1.latencyMs.mean }
            let app = max(0, operation.latencyMs.mean - calls)
            byOperation[operation.name] = app
            total += app * Double(operation.count)
            requests += operation.count
        }
        return (requests == 0 ? 0 : total / Double(requests), byOperation)
    }

    /// Each store call's coefficient of variation, from the operations where a store serves that
    /// call only: a log-normal through the calls' median and 99th percentile, the round trip
    /// taken off (σ = ln(p99 / p50) / z₀.₉₉, CV = √(e^σ² − 1)), averaged over those operations by calls.
    static func variations(_ operations: [OperationReport], networkMs: [String: Double]) -> [String: [String: Double]] {
        var weighted: [String: [String: (sum: Double, calls: Int)]] = [:]
        for operation in operations {
            for store in operation.stores where StoreWait.parse(store.store) == nil && store.callsByName.count == 1 {
                let network = networkMs[store.store] ?? 0
                let median = store.latencyMs.p50 - network, tail = store.latencyMs.p99 - network
                guard median > 0, tail > median, let call = store.callsByName.keys.first else { continue }
                let sigma = log(tail / median) / StandardNormal.quantile(0.99)
                weighted[store.store, default: [:]][call, default: (0, 0)].sum += (exp(sigma * sigma) - 1).squareRoot() * Double(store.calls)
                weighted[store.store]![call]!.calls += store.calls
            }
        }
        return weighted.mapValues { $0.mapValues { $0.sum / Double($0.calls) } }
    }

    /// A station's demand per request: the service time its calls ask of it per request, over
    /// its slots.
    public struct Bound: Sendable, Equatable {
        public var station: String
        public var msPerRequest: Double
        /// No load above this can be served, however the requests queue.
        public var maxPerS: Double { msPerRequest > 0 ? 1000 / msPerRequest : .infinity }
    }

    /// The asymptotic bounds of operational analysis (Lazowska et al. 1984, ch. 5): each station
    /// can serve at most 1 / its demand requests per second, so the busiest bounds the stack's
    /// throughput. The host's cores serve every call's service time, the client's work on the
    /// replies and the application's own time. Busiest first; `operations` says how many of each
    /// call a request makes.
    public static func bounds(_ model: ResourceModel, operations: [OperationReport]) -> [Bound] {
        let requests = Double(operations.reduce(0) { $0 + $1.count })
        guard requests > 0 else { return [] }
        var work: [String: Double] = [:], clientWork = 0.0
        for operation in operations {
            for store in operation.stores {
                guard let calls = model.stores[store.store]?.calls else { continue }
                for (call, count) in store.callsByName {
                    work[store.store, default: 0] += Double(count) * (calls[call]?.serviceMs ?? 0)
                    clientWork += Double(count) * (calls[call]?.clientMs ?? 0)
                }
            }
        }
        var bounds = work.compactMap { store, ms in
            model.stores[store].map { Bound(station: store, msPerRequest: ms / requests / Double($0.servers)) }
        }
        if let cores = model.hostCores {
            let hostWork = work.values.reduce(0, +) + clientWork
            bounds.append(Bound(station: "host", msPerRequest: (hostWork / requests + model.appMsPerRequest) / Double(cores)))
        }
        return bounds.sorted { $0.msPerRequest > $1.msPerRequest }
    }

    /// The live plan reads the whole table or collection, and that is a lot of it: a planner
    /// scans a table of a few dozen rows rather than use its index, which says nothing about a
    /// larger dataset.
    static func scans(_ shape: ShapeInfo) -> Bool {
        let scan = shape.path == .collectionScan || (shape.plan?.nodes ?? []).contains { $0.contains("Seq Scan") || $0.contains("COLLSCAN") }
        let examined = shape.examinedPerCall ?? shape.plan.map { Double($0.examined) } ?? 0
        return scan && examined >= minimumScan
    }

    /// Rows or documents per call below which a scan is not taken to grow with the data.
    static let minimumScan = 1_000.0
}
