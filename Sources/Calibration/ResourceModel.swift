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
    /// The cores of the machine the servers and the application share, when they do (every
    /// server on loopback): each service time and the application's time are done at a share of them.
    public var hostCores: Int?
    public var stores: [String: StoreModel]

    public init(calibrated: Provenance, appMsPerRequest: Double, appMsByOperation: [String: Double]? = nil, hostCores: Int? = nil,
                stores: [String: StoreModel]) {
        self.calibrated = calibrated
        self.appMsPerRequest = appMsPerRequest
        self.appMsByOperation = appMsByOperation
        self.hostCores = hostCores
        self.stores = stores
    }

    enum CodingKeys: String, CodingKey {
        case kind, calibrated, appMsPerRequest = "app_ms_per_request", appMsByOperation = "app_ms_by_operation", hostCores = "host_cores"
        case stores
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

        public init(servers: Int, serversFrom: String, networkMs: Double, calls: [String: CallModel]) {
            self.servers = servers; self.serversFrom = serversFrom; self.networkMs = networkMs; self.calls = calls
        }

        enum CodingKeys: String, CodingKey {
            case servers, serversFrom = "servers_from", networkMs = "network_ms", calls
        }
    }

    public struct CallModel: Codable, Sendable, Equatable {
        /// Mean service time: the callers' mean time per call less the network round trip and
        /// the client's own work on the reply.
        public var serviceMs: Double
        /// The client's own mean work per call on the reply after it arrived (decoding a MongoDB
        /// reply on the client's thread): host CPU outside the store's slots; nil where none was measured.
        public var clientMs: Double?
        /// The service time's coefficient of variation (log-normal), from its median and 99th
        /// percentile; nil when the calibration could not tell (then exponential, CV 1).
        public var cv: Double?
        public var samples: Int
        /// Rows, documents or entries the live plan examined per call, when the store said.
        public var examinedPerCall: Double?
        /// The live plan scans: its service time grows in proportion to the dataset.
        public var scalesWithData: Bool

        public init(serviceMs: Double, clientMs: Double? = nil, cv: Double? = nil, samples: Int, examinedPerCall: Double?,
                    scalesWithData: Bool) {
            self.serviceMs = serviceMs; self.clientMs = clientMs; self.cv = cv; self.samples = samples
            self.examinedPerCall = examinedPerCall; self.scalesWithData = scalesWithData
        }

        enum CodingKeys: String, CodingKey {
            case serviceMs = "service_ms", clientMs = "client_ms", cv, samples, examinedPerCall = "examined_per_call"
            case scalesWithData = "scales_with_data"
        }

        /// The client's work per call as the embedded stores charge it.
        var clientWork: Duration? { clientMs.flatMap { $0 > 0 ? .nanoseconds(Int64($0 * 1e6)) : nil } }

        /// Its service time for a dataset `growth` times the calibrated one.
        func distribution(growth: Double) -> DelayDistribution {
            let mean = Duration.nanoseconds(Int64(serviceMs * (scalesWithData ? growth : 1) * 1e6))
            return cv.map { .lognormal(mean: mean, cv: $0) } ?? .exponential(mean: mean)
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
                                     operations: store.calls.mapValues { StoreKnobs(latency: $0.distribution(growth: growth),
                                                                                    clientWork: $0.clientWork) },
                                     network: store.networkMs > 0 ? .nanoseconds(Int64(store.networkMs * 1e6)) : nil)
        }
        return knobs
    }

    /// The application's time per request, by operation where calibrated; nil when it has none.
    public var appTime: AppTime? {
        func duration(_ ms: Double) -> Duration { .nanoseconds(Int64(ms * 1e6)) }
        let byOperation = appMsByOperation ?? [:]
        guard appMsPerRequest > 0 || byOperation.values.contains(where: { $0 > 0 }) else { return nil }
        return AppTime(perRequest: duration(appMsPerRequest), byOperation: byOperation.mapValues(duration))
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
        guard model.appMsPerRequest >= 0 else {
            throw ModelFileError(file: path, message: "app_ms_per_request: expected a time in milliseconds ≥ 0")
        }
        if let (operation, _) = model.appMsByOperation?.first(where: { !($0.value >= 0) }) {
            throw ModelFileError(file: path, message: "app_ms_by_operation.\(operation): expected a time in milliseconds ≥ 0")
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
        }
        return model
    }

    public static func write(_ model: ResourceModel, to path: String) throws {
        let header = """
            # A stacksim resource model, written by `stacksim calibrate` (docs/capacity.md, "Projection").
            # Per store: `servers` calls served at once and `network_ms` round trip outside them; per
            # store call: the mean service time, the client's own work on the reply (`client_ms`, outside
            # the slots), and whether it grows with the dataset (the live plan scans); the application's
            # time per request and per operation. Load it with `stacksim run --model FILE` or
            # `stacksim capacity --model FILE`.

            """
        try (header + YAMLEncoder().encode(model)).write(toFile: path, atomically: true, encoding: .utf8)
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
