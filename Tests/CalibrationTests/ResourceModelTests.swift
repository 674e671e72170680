@testable import Calibration
import Metrics
import Reporting
import Foundation
import StackCore
import Testing

@Suite("Resource model")
struct ResourceModelTests {
    static let model = ResourceModel(
        calibrated: .init(date: "2026-11-30T09:00:00Z", scenario: "probe", servers: ["postgres 15.1 at postgresql://127.0.0.1:55432/x"],
                          organizations: 10, users: 80, tasks: 400, ratePerS: 20, seconds: 30),
        appMsPerRequest: 0.4, appMsByOperation: ["board": 0.5, "permission-check": 0.1], hostCores: 2,
        stores: [
            "postgres": .init(servers: 2, serversFrom: "the machine's cores", networkMs: 0.1, calls: [
                "permission-check": .init(serviceMs: 0.2, cv: 0.5, samples: 300, examinedPerCall: 1, scalesWithData: false),
                "users-page": .init(serviceMs: 4, clientMs: 0.3, samples: 100, examinedPerCall: 800, scalesWithData: true),
            ]),
            "redis": .init(servers: 1, serversFrom: "one thread", networkMs: 0.05, calls: [:]),
        ])

    @Test func aModelFileReadsBackAsWritten() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID()).yaml").path
        try ModelFile.write(Self.model, to: path)
        #expect(try ModelFile.read(path) == Self.model)
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("# A stacksim resource model"))
    }

    @Test func theKnobsScaleWhatScansWithTheDatasetAndNothingElse() throws {
        let knobs = Self.model.knobs(organizations: 30)
        let postgres = try #require(knobs[.relational])
        #expect(postgres.servers == 2)
        #expect(postgres.network == .microseconds(100))
        #expect(postgres.operations["permission-check"]?.latency == .lognormal(mean: .microseconds(200), cv: 0.5))
        #expect(postgres.operations["users-page"]?.latency == .exponential(mean: .milliseconds(12)), "three times the data, three times the scan")
        #expect(postgres.operations["users-page"]?.clientWork == .microseconds(300), "a page's decoding does not grow with the data")
        #expect(postgres.operations["permission-check"]?.clientWork == nil)
        // A call the calibration did not see takes the store's mean over the calls it did see.
        #expect(postgres.latency == .exponential(mean: .microseconds(1150)))
        let redis = try #require(knobs[.cache])
        #expect(redis.servers == 1 && redis.latency == nil && redis.network == .microseconds(50))
        let app = try #require(Self.model.appTime)
        #expect(app.time(for: "board") == .microseconds(500) && app.time(for: "permission-check") == .microseconds(100))
        #expect(app.time(for: "search") == .microseconds(400), "an operation the calibration did not see takes the mean")
    }

    @Test(arguments: [
        ("kind: other\n", "kind"),
        ("kind: stacksim-model\n", "calibrated: required"),
    ])
    func aBadModelFileIsAnErrorNamingTheFileAndTheKey(text: String, expected: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: ModelFileError.self) { try ModelFile.read(path) }
        #expect(error.description.hasPrefix(path) && error.description.contains(expected), "\(error)")
    }

    @Test func aHostWithoutCoresIsRefused() throws {
        var model = Self.model
        model.hostCores = 0
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("host-\(UUID()).yaml").path
        try ModelFile.write(model, to: path)
        let error = try #require(throws: ModelFileError.self) { try ModelFile.read(path) }
        #expect(error.description.contains("host_cores: expected a positive count"))
    }

    @Test func aStoreWithoutSlotsIsRefused() throws {
        var model = Self.model
        model.stores["redis"]?.servers = 0
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("slots-\(UUID()).yaml").path
        try ModelFile.write(model, to: path)
        let error = try #require(throws: ModelFileError.self) { try ModelFile.read(path) }
        #expect(error.description.contains("stores.redis.servers: expected a positive count"))
    }
}

@Suite("Calibrator")
struct CalibratorTests {
    static func summary(p50: Double, p99: Double, mean: Double) -> PercentileSummary {
        PercentileSummary(p50: p50, p90: p50, p99: p99, p999: p99, max: p99, mean: mean)
    }

    static func operation(_ name: String, count: Int, mean: Double, stores: [StoreCallReport]) -> OperationReport {
        OperationReport(name: name, count: count, errors: 0, errorsByClass: [:], denied: 0, seconds: 10,
                        latencyMs: summary(p50: mean, p99: mean, mean: mean), serviceMs: summary(p50: mean, p99: mean, mean: mean),
                        queueMs: summary(p50: 0, p99: 0, mean: 0), stores: stores)
    }

    static func calls(_ store: String, _ names: [String: Int], perOperation: Double, p50: Double, p99: Double, mean: Double) -> StoreCallReport {
        StoreCallReport(store: store, calls: names.values.reduce(0, +), failures: 0, callsPerOperation: perOperation,
                        latencyMs: summary(p50: p50, p99: p99, mean: mean), callsByName: names)
    }

    /// The application's time is what an operation's latency has beyond its calls; the waits
    /// for a pooled connection count as the application's (the embedded stack has no pools).
    @Test func theApplicationsTimeIsTheLatencyBeyondTheCalls() {
        let board = Self.operation("board", count: 300, mean: 6.0, stores: [
            Self.calls("mongo", ["board": 300], perOperation: 1, p50: 4, p99: 8, mean: 4.5),
            Self.calls("mongo-pool-wait", ["connection-wait": 300], perOperation: 1, p50: 0.1, p99: 0.2, mean: 0.1),
            Self.calls("redis", ["get": 300, "incr": 300], perOperation: 2, p50: 0.3, p99: 1, mean: 0.5),
        ])
        let check = Self.operation("permission-check", count: 100, mean: 1.0, stores: [
            Self.calls("postgres", ["permission-check": 200], perOperation: 2, p50: 0.3, p99: 0.9, mean: 0.35),
        ])
        // board: 6 − 4.5 − 2 × 0.5 = 0.5 ms; permission-check: 1 − 2 × 0.35 = 0.3 ms; by requests.
        let app = Calibrator.appTimes([board, check])
        #expect(abs(app.perRequest - (0.5 * 300 + 0.3 * 100) / 400) < 1e-9)
        #expect(abs(app.byOperation["board"]! - 0.5) < 1e-9 && abs(app.byOperation["permission-check"]! - 0.3) < 1e-9)
    }

    /// A call's spread comes from a log-normal through its median and p99 (round trip taken
    /// off), only where the store serves that one call in the operation.
    @Test func aCallsSpreadIsTheLogNormalThroughItsMedianAndTail() throws {
        let cv = 0.4, sigma = log1p(cv * cv).squareRoot(), median = 3.0, network = 0.5
        let p99 = median * exp(2.326_348 * sigma)
        let board = Self.operation("board", count: 300, mean: 6.0, stores: [
            Self.calls("mongo", ["board": 300], perOperation: 1, p50: median + network, p99: p99 + network, mean: 4),
            Self.calls("redis", ["get": 300, "incr": 300], perOperation: 2, p50: 0.3, p99: 1, mean: 0.5),
        ])
        let spreads = Calibrator.variations([board], networkMs: ["mongo": network])
        let found = try #require(spreads["mongo"]?["board"])
        #expect(abs(found - cv) < 1e-6, "found \(found)")
        #expect(spreads["redis"] == nil, "two calls in one histogram say nothing about either")
    }

    /// Each station's demand is its calls' service per request over its slots; the host's is
    /// every service time and the application's time over its cores.
    @Test func theBusiestStationBoundsThroughput() {
        var model = ResourceModelTests.model
        model.stores["redis"]?.calls = ["get": .init(serviceMs: 0.2, clientMs: 0.1, samples: 300, examinedPerCall: nil, scalesWithData: false)]
        let board = Self.operation("board", count: 300, mean: 6.0, stores: [
            Self.calls("postgres", ["users-page": 300], perOperation: 1, p50: 4, p99: 8, mean: 4),
            Self.calls("postgres-pool-wait", ["connection-wait": 300], perOperation: 1, p50: 0.1, p99: 0.2, mean: 0.1),
            Self.calls("redis", ["get": 300], perOperation: 1, p50: 0.3, p99: 1, mean: 0.3),
        ])
        let check = Self.operation("permission-check", count: 100, mean: 1.0, stores: [
            Self.calls("postgres", ["permission-check": 200], perOperation: 2, p50: 0.3, p99: 0.9, mean: 0.3),
        ])
        let bounds = Calibrator.bounds(model, operations: [board, check])
        // postgres: (300 × 4 + 200 × 0.2) / 400 requests / 2 slots = 1.55 ms (users-page's client work
        // is not the server's); redis: 300 × 0.2 / 400 = 0.15 ms; host: (3.1 + 0.15 + 0.4 app + the
        // client's 300 × (0.3 + 0.1) / 400 = 0.3) / 2 cores = 1.975 ms.
        #expect(bounds.map(\.station) == ["host", "postgres", "redis"])
        for (bound, expected) in zip(bounds, [1.975, 1.55, 0.15]) { #expect(abs(bound.msPerRequest - expected) < 1e-9, "\(bound)") }
        #expect(abs(bounds[0].maxPerS - 1000 / 1.975) < 1e-9)
    }

    /// A call's service time is the callers' time less the round trip and the client's work on
    /// the reply, which the model keeps apart as the caller's.
    @Test func theClientsWorkOnTheReplyIsNotTheServers() {
        let shape = ShapeInfo(call: "board", path: nil, on: nil, calls: 200, examined: nil, returned: nil, serverMs: nil,
                              clientMs: 200 * 2.5, decodeMs: 200 * 1.2)
        let call = Calibrator.call(shape, networkMs: 0.1, cv: 0.4)
        #expect(abs(call.serviceMs - 1.2) < 1e-9 && abs((call.clientMs ?? 0) - 1.2) < 1e-9 && call.cv == 0.4 && call.samples == 200)
        let unmeasured = Calibrator.call(ShapeInfo(call: "get", path: nil, on: nil, calls: 10, examined: nil, returned: nil, serverMs: nil,
                                                   clientMs: 3), networkMs: 0.1, cv: nil)
        #expect(abs(unmeasured.serviceMs - 0.2) < 1e-9 && unmeasured.clientMs == nil)
    }
}
