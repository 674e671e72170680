import Foundation
import StackCore
import Yams

/// A calibrated model of a live stack, loadable as the embedded stack's resource model: per
/// store, its service slots and network round trip, and per store call a service time — with
/// whether it grows with the data (the live plan scans) — and what it was calibrated on.
/// `stacksim calibrate` writes it; `run --model` and `capacity --model` project from it.
public struct ResourceModel: Codable, Sendable, Equatable {
    public static let kindName = "stacksim-model"

    public var kind = ResourceModel.kindName
    public var calibrated: Provenance
    /// The application's own time per request besides its store calls (dispatch, connection
    /// checkouts, the work between calls), held on one of its workers.
    public var appMsPerRequest: Double
    /// The same by operation, where the calibration saw it (absent in models written before).
    public var appMsByOperation: [String: Double]?
    /// Of the application's time, the harness's own overhead per request (intended start to first
    /// store call) as measured, at the light probe and, with the servers on this machine, under
    /// load; absent: the application's mean every time.
    public var harnessOverhead: [Overhead]?
    /// The cores of the machine the servers and the application share, when they do (every
    /// server on loopback): each service time and the application's time are done at a share of them.
    public var hostCores: Int?
    /// The host's CPU per request under load against the model's; absent: every modelled time on
    /// the host's cores is CPU.
    public var hostLoad: HostLoad?
    public var stores: [String: StoreModel]

    public init(calibrated: Provenance, appMsPerRequest: Double, appMsByOperation: [String: Double]? = nil, harnessOverhead: [Overhead]? = nil,
                hostCores: Int? = nil, hostLoad: HostLoad? = nil, stores: [String: StoreModel]) {
        self.calibrated = calibrated
        self.appMsPerRequest = appMsPerRequest
        self.appMsByOperation = appMsByOperation
        self.harnessOverhead = harnessOverhead
        self.hostCores = hostCores
        self.hostLoad = hostLoad
        self.stores = stores
    }

    enum CodingKeys: String, CodingKey {
        case kind, calibrated, appMsPerRequest = "app_ms_per_request", appMsByOperation = "app_ms_by_operation", harnessOverhead = "harness_overhead"
        case hostCores = "host_cores"
        case hostLoad = "host_load", stores
    }

    /// The machine's CPU per request measured under load (the utilisation law: its cores' busy
    /// share × cores / requests per second, every process counted) against the model's (every
    /// service time, the client's work and the application's time per request). A light probe's
    /// times hold waits that use no CPU (wake-ups of idle processes); under load the machine does
    /// the same requests with less, so of each modelled time only `cpuShare` is CPU.
    public struct HostLoad: Codable, Sendable, Equatable {
        public var ratePerS: Double
        public var measuredCPUMsPerRequest: Double
        public var modelledMsPerRequest: Double
        /// measured / modelled, at most 1 (CPU the model does not see is not added).
        public var cpuShare: Double

        public init(ratePerS: Double, measuredCPUMsPerRequest: Double, modelledMsPerRequest: Double) {
            self.ratePerS = ratePerS
            self.measuredCPUMsPerRequest = measuredCPUMsPerRequest
            self.modelledMsPerRequest = modelledMsPerRequest
            cpuShare = modelledMsPerRequest > 0 ? min(1, measuredCPUMsPerRequest / modelledMsPerRequest) : 1
        }

        enum CodingKeys: String, CodingKey {
            case ratePerS = "rate_per_s", measuredCPUMsPerRequest = "measured_cpu_ms_per_request"
            case modelledMsPerRequest = "modelled_ms_per_request", cpuShare = "cpu_share"
        }
    }

    /// What the model was calibrated on.
    public struct Provenance: Codable, Sendable, Equatable {
        public var date: String
        public var scenario: String
        /// Each server: store, version and address (credentials redacted).
        public var servers: [String]
        public var organizations: Int
        public var users: Int
        public var tasks: Int
        /// The light load the probe ran at, and for how long (warm-up included).
        public var ratePerS: Double
        public var seconds: Double

        public init(date: String, scenario: String, servers: [String], organizations: Int, users: Int, tasks: Int, ratePerS: Double,
                    seconds: Double) {
            self.date = date; self.scenario = scenario; self.servers = servers; self.organizations = organizations; self.users = users
            self.tasks = tasks; self.ratePerS = ratePerS; self.seconds = seconds
        }

        enum CodingKeys: String, CodingKey {
            case date, scenario, servers, organizations, users, tasks
            case ratePerS = "rate_per_s", seconds
        }
    }

    public struct StoreModel: Codable, Sendable, Equatable {
        /// Calls served at once (cores, or Redis's one thread); the rest queue.
        public var servers: Int
        /// Why that many.
        public var serversFrom: String
        /// The round trip of a call that does nothing, outside the store's slots.
        public var networkMs: Double
        public var calls: [String: CallModel]
        /// By operation, what its calls to this store took beside their mean (time less the round
        /// trip, measured in that operation over the calls' mean): the same query can cost less
        /// in one operation than in another. Absent: 1.
        public var scaleByOperation: [String: Double]?

        public init(servers: Int, serversFrom: String, networkMs: Double, calls: [String: CallModel], scaleByOperation: [String: Double]? = nil) {
            self.servers = servers; self.serversFrom = serversFrom; self.networkMs = networkMs; self.calls = calls
            self.scaleByOperation = scaleByOperation
        }

        enum CodingKeys: String, CodingKey {
            case servers, serversFrom = "servers_from", networkMs = "network_ms", calls, scaleByOperation = "scale_by_operation"
        }
    }

    public struct CallModel: Codable, Sendable, Equatable {
        /// Mean service time: the callers' mean time per call less the network round trip and
        /// the client's own work on the reply.
        public var serviceMs: Double
        /// The client's own mean work per call on the reply after it arrived (decoding a MongoDB
        /// reply on the client's thread): host CPU outside the store's slots; nil where none was measured.
        public var clientMs: Double?
        /// The coefficient of variation of the call's time less its round trip (its shape's where it
        /// has one; a log-normal's where it has none); nil when the calibration could not tell
        /// (then exponential, CV 1).
        public var cv: Double?
        /// The measured shape of the call's time less its round trip: its quantiles over its mean.
        /// Each call draws its service and the client's work together from it (a bigger reply
        /// costs both), so a projection keeps the measured body and tail.
        public var shape: [ShapePoint]?
        public var samples: Int
        /// Rows, documents or entries the live plan examined per call, when the store said.
        public var examinedPerCall: Double?
        /// The live plan scans: its service time grows in proportion to the dataset.
        public var scalesWithData: Bool

        public init(serviceMs: Double, clientMs: Double? = nil, cv: Double? = nil, shape: [ShapePoint]? = nil, samples: Int,
                    examinedPerCall: Double?, scalesWithData: Bool) {
            self.serviceMs = serviceMs; self.clientMs = clientMs; self.cv = cv; self.shape = shape; self.samples = samples
            self.examinedPerCall = examinedPerCall; self.scalesWithData = scalesWithData
        }

        enum CodingKeys: String, CodingKey {
            case serviceMs = "service_ms", clientMs = "client_ms", cv, shape, samples, examinedPerCall = "examined_per_call"
            case scalesWithData = "scales_with_data"
        }

        /// `shape` as a distribution; nil when it has none or it makes none.
        var quantileShape: QuantileShape? { shape.flatMap(ShapePoint.distribution) }

        /// The store's knobs for this call on a dataset `growth` times the calibrated one: the
        /// service (grown where the live plan scans) and the client's work drawn together around
        /// their sum — by the measured shape, else log-normal, else exponential — the client's share
        /// outside the slot.
        func knobs(growth: Double) -> StoreKnobs {
            let service = serviceMs * (scalesWithData ? growth : 1), client = clientMs ?? 0
            let mean = Duration.nanoseconds(Int64((service + client) * 1e6))
            let latency: DelayDistribution = quantileShape.map { .empirical(mean: mean, shape: $0) }
                ?? cv.map { .lognormal(mean: mean, cv: $0) } ?? .exponential(mean: mean)
            return StoreKnobs(latency: latency, clientShare: service + client > 0 ? client / (service + client) : 0)
        }
    }

    /// The harness's overhead per request measured at one load: the machine's busy share then
    /// (every process; nil when not known), its mean and its shape (percentiles over the mean).
    public struct Overhead: Codable, Sendable, Equatable {
        public var hostBusy: Double?
        public var meanMs: Double
        public var shape: [ShapePoint]

        public init(hostBusy: Double?, meanMs: Double, shape: [ShapePoint]) {
            self.hostBusy = hostBusy
            self.meanMs = meanMs
            self.shape = shape
        }

        enum CodingKeys: String, CodingKey {
            case hostBusy = "host_busy", meanMs = "mean_ms", shape
        }

        /// Drawn from its shape around its mean, at its busy share; nil when the shape makes no distribution.
        var measured: AppTime.Overhead? {
            ShapePoint.distribution(shape).map {
                AppTime.Overhead(hostBusy: hostBusy, distribution: .empirical(mean: .nanoseconds(Int64(meanMs * 1e6)), shape: $0))
            }
        }
    }

    /// One point of a call's measured shape: its time less the round trip at `percentile`, over the mean.
    public struct ShapePoint: Codable, Sendable, Equatable {
        public var percentile: Double
        public var ofMean: Double

        public init(percentile: Double, ofMean: Double) {
            self.percentile = percentile
            self.ofMean = ofMean
        }

        enum CodingKeys: String, CodingKey {
            case percentile, ofMean = "of_mean"
        }

        /// `points` as a distribution; nil when they make none.
        static func distribution(_ points: [ShapePoint]) -> QuantileShape? {
            QuantileShape(probabilities: points.map { $0.percentile / 100 }, values: points.map(\.ofMean))
        }
    }

    /// The embedded stores' knobs that play this model for a dataset of `organizations`: each
    /// call's service time around its mean (scaled by the dataset's growth where the live plan
    /// scans), calls the calibration did not see exponential at the store's mean, the network
    /// round trip outside the slots.
    public func knobs(organizations: Int) -> [StoreKind: StoreKnobs] {
        let growth = Double(organizations) / Double(max(1, calibrated.organizations))
        var knobs: [StoreKind: StoreKnobs] = [:]
        for (name, store) in stores {
            guard let kind = StoreKind(rawValue: name) else { continue }
            let observed = store.calls.values.filter { $0.samples > 0 }
            let samples = observed.reduce(0) { $0 + $1.samples }
            let average = samples == 0 ? nil : observed.reduce(0.0) { $0 + $1.serviceMs * Double($1.samples) } / Double(samples)
            knobs[kind] = StoreKnobs(latency: average.map { .exponential(mean: .nanoseconds(Int64($0 * 1e6))) }, servers: store.servers,
                                     operations: store.calls.mapValues { $0.knobs(growth: growth) },
                                     network: store.networkMs > 0 ? .nanoseconds(Int64(store.networkMs * 1e6)) : nil,
                                     scaleByOperation: store.scaleByOperation ?? [:])
        }
        return knobs
    }

    /// The application's time per request, by operation where calibrated; nil when it has none.
    public var appTime: AppTime? {
        func duration(_ ms: Double) -> Duration { .nanoseconds(Int64(ms * 1e6)) }
        let byOperation = appMsByOperation ?? [:]
        guard appMsPerRequest > 0 || byOperation.values.contains(where: { $0 > 0 }) else { return nil }
        return AppTime(perRequest: duration(appMsPerRequest), byOperation: byOperation.mapValues(duration),
                       overheads: (harnessOverhead ?? []).compactMap(\.measured))
    }
}

/// A model file that cannot be used, with where and why.
public struct ModelFileError: Error, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
}

/// Reads and writes model files (YAML).
public enum ModelFile {
    public static func read(_ path: String) throws -> ResourceModel {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ModelFileError(file: path, message: "cannot read the file (\(error.localizedDescription))")
        }
        struct Kind: Decodable { var kind: String? }
        let kind = (try? YAMLDecoder().decode(Kind.self, from: text))?.kind
        guard kind == ResourceModel.kindName else {
            throw ModelFileError(file: path, message: "kind: expected \(ResourceModel.kindName), got " + (kind.map { "'\($0)'" } ?? "none"))
        }
        let model: ResourceModel
        do { model = try YAMLDecoder().decode(ResourceModel.self, from: text) } catch let error as DecodingError {
            throw ModelFileError(file: path, message: describe(error))
        } catch {
            throw ModelFileError(file: path, message: "not a stacksim model: \(error)")
        }
        if let cores = model.hostCores, cores <= 0 {
            throw ModelFileError(file: path, message: "host_cores: expected a positive count of cores")
        }
        if let share = model.hostLoad?.cpuShare, !(share > 0 && share <= 1) {
            throw ModelFileError(file: path, message: "host_load.cpu_share: expected a share of CPU above 0 and at most 1")
        }
        guard model.appMsPerRequest >= 0 else {
            throw ModelFileError(file: path, message: "app_ms_per_request: expected a time in milliseconds ≥ 0")
        }
        if let (operation, _) = model.appMsByOperation?.first(where: { !($0.value >= 0) }) {
            throw ModelFileError(file: path, message: "app_ms_by_operation.\(operation): expected a time in milliseconds ≥ 0")
        }
        for (index, overhead) in (model.harnessOverhead ?? []).enumerated() {
            let key = "harness_overhead[\(index)]"
            guard overhead.meanMs >= 0 else { throw ModelFileError(file: path, message: "\(key).mean_ms: expected a time in milliseconds ≥ 0") }
            guard overhead.measured != nil else { throw ModelFileError(file: path, message: "\(key).shape: " + shapeExpected) }
            if let busy = overhead.hostBusy, !(busy >= 0 && busy <= 1) {
                throw ModelFileError(file: path, message: "\(key).host_busy: expected a share of the machine's cores from 0 to 1")
            }
        }
        for (name, store) in model.stores {
            guard StoreKind(rawValue: name) != nil else {
                throw ModelFileError(file: path, message: "stores.\(name): expected one of postgres, mongo, redis")
            }
            guard store.servers > 0 else { throw ModelFileError(file: path, message: "stores.\(name).servers: expected a positive count") }
            if let (call, _) = store.calls.first(where: { !($0.value.serviceMs >= 0) }) {
                throw ModelFileError(file: path, message: "stores.\(name).calls.\(call).service_ms: expected a time in milliseconds ≥ 0")
            }
            if let (call, _) = store.calls.first(where: { $0.value.clientMs.map { !($0 >= 0) } ?? false }) {
                throw ModelFileError(file: path, message: "stores.\(name).calls.\(call).client_ms: expected a time in milliseconds ≥ 0")
            }
            if let (call, _) = store.calls.first(where: { $0.value.cv.map { !($0 > 0) } ?? false }) {
                throw ModelFileError(file: path, message: "stores.\(name).calls.\(call).cv: expected a coefficient of variation > 0")
            }
            if let (operation, _) = store.scaleByOperation?.first(where: { !($0.value >= 0) }) {
                throw ModelFileError(file: path, message: "stores.\(name).scale_by_operation.\(operation): expected a factor ≥ 0")
            }
            if let (call, _) = store.calls.first(where: { $0.value.shape != nil && $0.value.quantileShape == nil }) {
                throw ModelFileError(file: path, message: "stores.\(name).calls.\(call).shape: " + shapeExpected)
            }
        }
        return model
    }

    private static let shapeExpected = "expected percentiles increasing from 0 to 100 with of_mean values ≥ 0 that never decrease and are not all 0"

    public static func write(_ model: ResourceModel, to path: String) throws {
        let header = """
            # A stacksim resource model, written by `stacksim calibrate` (docs/capacity.md, "Projection").
            # Per store: `servers` calls served at once, `network_ms` round trip outside them and factors
            # on its calls by operation; per store call: the mean service time, the client's own work on
            # the reply (`client_ms`, outside the slots), the shape of its times (percentiles over the
            # mean) and whether it grows with the dataset (the live plan scans); the application's time
            # per request and per operation, and of it the harness's overhead as measured at each
            # probe's load (`harness_overhead`); with `host_cores`, the share of those times that is CPU
            # under load (`host_load.cpu_share`). Load it with `stacksim run --model FILE` or
            # `stacksim capacity --model FILE`.

            """
        guard let node = try Yams.compose(yaml: YAMLEncoder().encode(model)) else { return }
        try (header + Yams.serialize(node: decimals(node))).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// `node` with its numbers as decimals (`0.25`, `10.0`) instead of the encoder's scientific
    /// notation (`2.5e-1`, `1e+1`), which YAML 1.1 readers such as PyYAML take for strings. Each
    /// is Swift's shortest form that reads back as the same value.
    static func decimals(_ node: Node) -> Node {
        switch node {
        case .scalar(let scalar):
            guard node.tag == Tag(.float), let value = node.float, value.isFinite else { return node }
            var text = "\(value)"
            if text.contains("e"), !text.contains(".") { text = text.replacingOccurrences(of: "e", with: ".0e") }
            return .scalar(.init(text, scalar.tag, scalar.style))
        case .mapping(let mapping):
            return .mapping(.init(mapping.map { (decimals($0.key), decimals($0.value)) }, mapping.tag, mapping.style))
        case .sequence(let sequence):
            return .sequence(.init(sequence.map(decimals), sequence.tag, sequence.style))
        case .alias:
            return node
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): required"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    static func path(_ keys: [any CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }
}
