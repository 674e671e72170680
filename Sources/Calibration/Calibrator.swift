import Foundation
import Metrics
import Reporting
import StackCore

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

    /// The model of the stack `report` measured; `operations` are the run's measurements behind
    /// it (their histograms give each call's shape), `networkMs` and `slots` by store name.
    /// `harness` is the run's own overhead per request, a part of the application's time.
    public static func model(from report: RunReport, operations: [String: OperationStats], harness: LatencyHistogram,
                             networkMs: [String: Double], slots: [String: Slots], hostCores: Int?, date: Date) -> ResourceModel {
        var stores: [String: ResourceModel.StoreModel] = [:]
        let times = callTimes(operations)
        for evidence in report.server?.stores ?? [] {
            let network = networkMs[evidence.store] ?? 0
            var calls: [String: ResourceModel.CallModel] = [:]
            for shape in evidence.shapes where shape.calls > 0 && !shape.blocking {
                calls[shape.call] = call(shape, networkMs: network, times: times[evidence.store]?[shape.call])
            }
            let slot = slots[evidence.store] ?? Slots(count: 1, from: "not known: one")
            let scales = scales(evidence.store, report.operations, calls: calls, networkMs: network)
            stores[evidence.store] = ResourceModel.StoreModel(servers: slot.count, serversFrom: slot.from, networkMs: network, calls: calls,
                                                              scaleByOperation: scales.isEmpty ? nil : scales)
        }
        let formatter = ISO8601DateFormatter()
        let provenance = ResourceModel.Provenance(
            date: formatter.string(from: date), scenario: report.scenario.name,
            servers: (report.servers ?? []).map { "\($0.store) \($0.version) at \($0.url)" + ($0.note == nil ? "" : " (test server)") },
            organizations: report.dataset.organizations, users: report.dataset.users, tasks: report.dataset.tasks,
            ratePerS: report.totals.attemptedPerS, seconds: report.load.phases.reduce(0) { $0 + $1.durationS })
        let app = appTimes(report.operations)
        return ResourceModel(calibrated: provenance, appMsPerRequest: app.perRequest, appMsByOperation: app.byOperation,
                             harnessOverhead: overhead(harness, hostBusy: report.harness.hostCpuBusy).map { [$0] },
                             hostCores: hostCores, stores: stores)
    }

    /// One kind of call: the callers' mean time less the round trip and the client's own work on
    /// the reply, which stays the caller's (host CPU outside the store's slots); the shape of its
    /// times where `times` has enough of them.
    static func call(_ shape: ShapeInfo, networkMs: Double, times: LatencyHistogram?) -> ResourceModel.CallModel {
        let calls = Double(shape.calls), client = shape.decodeMs.map { $0 / calls }
        let measured = times.flatMap { Self.shape(of: $0, networkMs: networkMs) }
        return ResourceModel.CallModel(serviceMs: max(0, shape.clientMs / calls - networkMs - (client ?? 0)), clientMs: client, cv: measured?.cv,
                                       shape: measured.map(points), samples: shape.calls,
                                       examinedPerCall: shape.examinedPerCall ?? shape.plan.map { Double($0.examined) },
                                       scalesWithData: scans(shape))
    }

    /// By operation, its calls to `store` beside the model's mean for them: the time they took
    /// there less the round trip, over the modelled service and client's work of that mix of
    /// calls. Only operations with `minimumCalls` calls to the store and calls that cost something.
    static func scales(_ store: String, _ operations: [OperationReport], calls: [String: ResourceModel.CallModel],
                       networkMs: Double) -> [String: Double] {
        var scales: [String: Double] = [:]
        for operation in operations {
            guard let measured = operation.stores.first(where: { $0.store == store }), measured.calls >= minimumCalls else { continue }
            let modelled = measured.callsByName.reduce(0.0) { sum, call in
                sum + Double(call.value) * (calls[call.key].map { $0.serviceMs + ($0.clientMs ?? 0) } ?? 0)
            } / Double(measured.calls)
            if modelled > 0 { scales[operation.name] = max(0, measured.latencyMs.mean - networkMs) / modelled }
        }
        return scales
    }

    /// The percentiles a call's shape is kept at: its body in tenths, its tail closer.
    static let shapePercentiles: [Double] = [0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98, 99, 99.5, 99.9, 100]

    /// Calls below which a histogram's tail says too little to keep its shape, or an operation's
    /// mean too little for its factor.
    static let minimumCalls = 50

    /// A run's own overhead per request (`harness`) with the machine's busy share then; nil with
    /// fewer than `minimumCalls` requests.
    public static func overhead(_ harness: LatencyHistogram, hostBusy: Double?) -> ResourceModel.Overhead? {
        shape(of: harness, networkMs: 0).map { .init(hostBusy: hostBusy, meanMs: harness.meanMilliseconds, shape: points($0)) }
    }

    /// `shape`'s points at `shapePercentiles` (where `shape(of:networkMs:)` read it).
    static func points(_ shape: QuantileShape) -> [ResourceModel.ShapePoint] {
        zip(shapePercentiles, shape.values).map { ResourceModel.ShapePoint(percentile: $0, ofMean: $1) }
    }

    /// A call's measured times less the round trip (never below 0), at `shapePercentiles`, over
    /// their mean; nil with fewer than `minimumCalls` or nothing left after the round trip.
    static func shape(of times: LatencyHistogram, networkMs: Double) -> QuantileShape? {
        guard times.count >= UInt64(minimumCalls) else { return nil }
        let values = shapePercentiles.map { max(0, times.milliseconds(atPercentile: $0) - networkMs) }
        return QuantileShape(probabilities: shapePercentiles.map { $0 / 100 }, values: values)
    }

    /// Each store call's times, from the operations where the store serves that call only (a
    /// histogram of two kinds of call says nothing about either), merged over those operations.
    static func callTimes(_ operations: [String: OperationStats]) -> [String: [String: LatencyHistogram]] {
        var times: [String: [String: LatencyHistogram]] = [:]
        for stats in operations.values {
            for (store, calls) in stats.storeCalls where StoreWait.parse(store) == nil {
                guard calls.callsByName.count == 1, let call = calls.callsByName.keys.first else { continue }
                times[store, default: [:]][call, default: LatencyHistogram(.coarse)].add(calls.latency)
            }
        }
        return times
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

    /// A station's demand per request: the service time its calls ask of it per request, over
    /// its slots.
    public struct Bound: Sendable, Equatable {
        public var station: String
        public var msPerRequest: Double
        /// No load above this can be served, however the requests queue.
        public var maxPerS: Double { msPerRequest > 0 ? 1000 / msPerRequest : .infinity }
    }

    /// What the model asks of each station per request: each store's service time, and the
    /// host's time — every service time, the client's work on the replies and the application's
    /// time, before `host_load`'s share of CPU — with each operation's factors; nil without requests.
    public static func demands(_ model: ResourceModel, operations: [OperationReport]) -> (stores: [String: Double], host: Double)? {
        let requests = Double(operations.reduce(0) { $0 + $1.count })
        guard requests > 0 else { return nil }
        var work: [String: Double] = [:], clientWork = 0.0
        for operation in operations {
            for store in operation.stores {
                guard let modelled = model.stores[store.store] else { continue }
                let scale = modelled.scaleByOperation?[operation.name] ?? 1
                for (call, count) in store.callsByName {
                    work[store.store, default: 0] += Double(count) * (modelled.calls[call]?.serviceMs ?? 0) * scale
                    clientWork += Double(count) * (modelled.calls[call]?.clientMs ?? 0) * scale
                }
            }
        }
        return (work.mapValues { $0 / requests }, (work.values.reduce(0, +) + clientWork) / requests + model.appMsPerRequest)
    }

    /// The asymptotic bounds of operational analysis (Lazowska et al. 1984, ch. 5): each station
    /// can serve at most 1 / its demand requests per second, so the busiest bounds the stack's
    /// throughput. A store's demand is its service time per request over its slots; the host's
    /// its CPU per request (`demands`' host time × the share that is CPU) over its cores.
    /// Busiest first; `operations` says how many of each call a request makes.
    public static func bounds(_ model: ResourceModel, operations: [OperationReport]) -> [Bound] {
        guard let demand = demands(model, operations: operations) else { return [] }
        var bounds = demand.stores.compactMap { store, ms in
            model.stores[store].map { Bound(station: store, msPerRequest: ms / Double($0.servers)) }
        }
        if let cores = model.hostCores {
            bounds.append(Bound(station: "host", msPerRequest: demand.host * (model.hostLoad?.cpuShare ?? 1) / Double(cores)))
        }
        return bounds.sorted { $0.msPerRequest > $1.msPerRequest }
    }

    /// The host's CPU per request under load, from a loaded probe's busy share of the machine's
    /// `cores` (every process) and its rate, against the model's host time per request
    /// (`demands`' host); nil when the probe could not read the machine's CPU or ran no requests.
    public static func hostLoad(cores: Int, modelledMsPerRequest: Double, loaded report: RunReport) -> ResourceModel.HostLoad? {
        guard let busy = report.harness.hostCpuBusy, report.totals.attemptedPerS > 0 else { return nil }
        let rate = report.totals.attemptedPerS
        return ResourceModel.HostLoad(ratePerS: rate, measuredCPUMsPerRequest: busy * Double(cores) * 1000 / rate,
                                      modelledMsPerRequest: modelledMsPerRequest)
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
