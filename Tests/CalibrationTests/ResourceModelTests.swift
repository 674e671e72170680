@testable import Calibration
@testable import Metrics
import Reporting
import Foundation
import StackCore
import StackModel
import Testing

@Suite("Resource model")
struct ResourceModelTests {
    static let overheadShape: [ResourceModel.ShapePoint] = [.init(percentile: 0, ofMean: 0.2), .init(percentile: 90, ofMean: 0.6),
                                                            .init(percentile: 99, ofMean: 5), .init(percentile: 100, ofMean: 20)]
    static let model = ResourceModel(
        calibrated: .init(date: "2026-11-30T09:00:00Z", scenario: "probe", servers: ["postgres 15.1 at postgresql://127.0.0.1:55432/x"],
                          organizations: 10, users: 80, tasks: 400, ratePerS: 20, seconds: 30),
        appMsPerRequest: 0.4, appMsByOperation: ["board": 0.5, "permission-check": 0.1],
        harnessOverhead: [.init(hostBusy: 0.1, meanMs: 0.05, shape: overheadShape), .init(hostBusy: 0.7, meanMs: 0.2, shape: overheadShape)],
        hostCores: 2,
        hostLoad: .init(ratePerS: 500, measuredCPUMsPerRequest: 1.5, modelledMsPerRequest: 2),
        stores: [
            "postgres": .init(servers: 2, serversFrom: "the machine's cores", networkMs: 0.1, calls: [
                "permission-check": .init(serviceMs: 0.2, cv: 0.5, samples: 300, examinedPerCall: 1, scalesWithData: false),
                "users-page": .init(serviceMs: 4, clientMs: 0.3, samples: 100, examinedPerCall: 800, scalesWithData: true),
            ]),
            "redis": .init(servers: 1, serversFrom: "one thread", networkMs: 0.05, calls: [:], scaleByOperation: ["board": 0.8]),
            "mongo": .init(servers: 1, serversFrom: "one thread", networkMs: 0.2, calls: [
                "board": .init(serviceMs: 1, clientMs: 0.5, cv: 0.9, shape: [.init(percentile: 0, ofMean: 0.5), .init(percentile: 50, ofMean: 0.8),
                                                                             .init(percentile: 99, ofMean: 3), .init(percentile: 100, ofMean: 6)],
                               samples: 200, examinedPerCall: nil, scalesWithData: false),
            ]),
        ])

    @Test func aModelFileReadsBackAsWritten() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID()).yaml").path
        try ModelFile.write(Self.model, to: path)
        #expect(try ModelFile.read(path) == Self.model)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("# A stacksim resource model"))
        #expect(text.contains("cpu_share: 0.75") && text.contains("percentile: 99.0") && !text.contains("e+"),
                "numbers as decimals, which every YAML reader takes for numbers")
    }

    @Test func theKnobsScaleWhatScansWithTheDatasetAndNothingElse() throws {
        let knobs = Self.model.knobs(organizations: 30)
        let postgres = try #require(knobs[.relational])
        #expect(postgres.servers == 2)
        #expect(postgres.network == .microseconds(100))
        #expect(postgres.operations["permission-check"]?.latency == .lognormal(mean: .microseconds(200), cv: 0.5))
        #expect(postgres.operations["permission-check"]?.clientShare == 0)
        // Three times the data, three times the scan (12 ms); a page's decoding (0.3 ms) does not grow.
        #expect(postgres.operations["users-page"]?.latency == .exponential(mean: .microseconds(12_300)))
        #expect(postgres.operations["users-page"]?.clientShare == 0.3 / 12.3)
        let board = try #require(knobs[.document]?.operations["board"])
        let shape = try #require(QuantileShape(probabilities: [0, 0.5, 0.99, 1], values: [0.5, 0.8, 3, 6]))
        #expect(board.latency == .empirical(mean: .microseconds(1500), shape: shape), "drawn from its measured shape")
        #expect(board.clientShare == 0.5 / 1.5)
        // A call the calibration did not see takes the store's mean over the calls it did see.
        #expect(postgres.latency == .exponential(mean: .microseconds(1150)))
        let redis = try #require(knobs[.cache])
        #expect(redis.servers == 1 && redis.latency == nil && redis.network == .microseconds(50) && redis.scaleByOperation == ["board": 0.8])
        let app = try #require(Self.model.appTime)
        #expect(app.mean(for: "board") == .microseconds(500) && app.mean(for: "permission-check") == .microseconds(100))
        #expect(app.mean(for: "search") == .microseconds(400), "an operation the calibration did not see takes the mean")
    }

    /// Of the application's time, the harness's overhead is drawn as measured and the rest is
    /// the same every time: the draws keep each operation's mean and put 1 % of them above the
    /// rest plus the overhead's p99.
    @Test func theApplicationsTimeKeepsTheOverheadsMeasuredTail() throws {
        let app = try #require(Self.model.appTime)
        #expect(app.overheads.map(\.distribution.mean) == [.microseconds(50), .microseconds(200)])
        // At the light probe's load: permission-check: 100 µs, of it 50 µs the overhead's mean, its p99 the shape's (over its
        // piecewise-linear mean) times 50 µs.
        let shape = try #require(QuantileShape(probabilities: [0, 0.9, 0.99, 1], values: [0.2, 0.6, 5, 20]))
        let p99 = .microseconds(50) + .microseconds(50) * shape.value(at: 0.99)
        var rng = SeededRandom(seed: 7), total = Duration.zero, above = 0, least = Duration.seconds(1)
        let draws = 200_000
        for _ in 0..<draws {
            let time = app.time(for: "permission-check", busy: 0.1, &rng).total
            total += time
            least = min(least, time)
            if time > p99 { above += 1 }
        }
        #expect(abs((total / draws).seconds / 100e-6 - 1) < 0.02, "mean \(total / draws)")
        #expect(abs(Double(above) / Double(draws) - 0.01) < 0.001, "\(above) of \(draws) above p99")
        #expect(least >= .microseconds(50), "the rest of the application's time is always there: \(least)")
        var first = SeededRandom(seed: 3), again = SeededRandom(seed: 3)
        #expect(app.time(for: "board", busy: 0.3, &first) == app.time(for: "board", busy: 0.3, &again), "the same stream draws the same time")
        let withoutOverhead = AppTime(perRequest: app.perRequest, byOperation: app.byOperation)
        #expect(withoutOverhead.time(for: "board", busy: 0.3, &rng) == .init(work: .microseconds(500), waiting: .zero),
                "no overhead measured: the mean every time, all of it work")
    }

    /// Between the loads the overhead was measured at, it is drawn from the busier one with a
    /// chance in proportion to how far the machine's busy share is towards it on an M/M/1 queue's
    /// scale of waiting, ρ / (1 − ρ); beyond them, from the nearest. The rest of the time is the
    /// operation's mean less the light overhead's; what the busier overhead adds is waiting, so
    /// the work per request stays the operation's mean.
    @Test(arguments: [nil, 0.05, 0.1, 0.4, 0.55, 0.9] as [Double?])
    func theOverheadFollowsTheMachinesLoad(busy: Double?) throws {
        let app = try #require(Self.model.appTime)
        // permission-check: 100 µs, 50 of it the light overhead's (at 10 % busy); at 70 % busy the overhead's mean is 200 µs.
        let wait = { (rho: Double) in rho / (1 - rho) }
        let towardsLoaded = busy.map { min(1, max(0, (wait($0) - wait(0.1)) / (wait(0.7) - wait(0.1)))) } ?? 0
        let expectedMicroseconds = 100 + 150 * towardsLoaded
        var rng = SeededRandom(seed: 11), total = Duration.zero, work = Duration.zero
        let draws = 200_000
        for _ in 0..<draws {
            let time = app.time(for: "permission-check", busy: busy, &rng)
            total += time.total
            work += time.work
        }
        let mean = (total / draws).seconds * 1e6, meanWork = (work / draws).seconds * 1e6
        #expect(abs(mean / expectedMicroseconds - 1) < 0.02, "busy \(String(describing: busy)): mean \(mean) µs")
        #expect(abs(meanWork / 100 - 1) < 0.02, "busy \(String(describing: busy)): work \(meanWork) µs")
    }

    @Test func anOverheadThatMakesNoDistributionIsRefused() throws {
        var model = Self.model
        model.harnessOverhead?[1].shape[1].ofMean = 0.1
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("overhead-\(UUID()).yaml").path
        try ModelFile.write(model, to: path)
        var error = try #require(throws: ModelFileError.self) { try ModelFile.read(path) }
        #expect(error.description.contains("harness_overhead[1].shape: expected percentiles increasing from 0 to 100"), "\(error)")
        model = Self.model
        model.harnessOverhead?[0].meanMs = -1
        try ModelFile.write(model, to: path)
        error = try #require(throws: ModelFileError.self) { try ModelFile.read(path) }
        #expect(error.description.contains("harness_overhead[0].mean_ms: expected a time in milliseconds ≥ 0"), "\(error)")
        model = Self.model
        model.harnessOverhead?[1].hostBusy = 1.5
        try ModelFile.write(model, to: path)
        error = try #require(throws: ModelFileError.self) { try ModelFile.read(path) }
        #expect(error.description.contains("harness_overhead[1].host_busy: expected a share of the machine's cores from 0 to 1"), "\(error)")
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

    @Test func aShapeThatMakesNoDistributionIsRefused() throws {
        var model = Self.model
        model.stores["mongo"]?.calls["board"]?.shape?[2].ofMean = 0.1
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shape-\(UUID()).yaml").path
        try ModelFile.write(model, to: path)
        let error = try #require(throws: ModelFileError.self) { try ModelFile.read(path) }
        #expect(error.description.contains("stores.mongo.calls.board.shape: expected percentiles increasing from 0 to 100"), "\(error)")
    }

    /// Of each modelled time, the share that is CPU is what the loaded machine measured over the
    /// model's, never above all of it.
    @Test func theHostsCPUShareIsMeasuredOverModelled() throws {
        #expect(Self.model.hostLoad?.cpuShare == 0.75)
        #expect(ResourceModel.HostLoad(ratePerS: 500, measuredCPUMsPerRequest: 2, modelledMsPerRequest: 1.6).cpuShare == 1)
        var model = Self.model
        model.hostLoad?.cpuShare = 0
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("share-\(UUID()).yaml").path
        try ModelFile.write(model, to: path)
        let error = try #require(throws: ModelFileError.self) { try ModelFile.read(path) }
        #expect(error.description.contains("host_load.cpu_share: expected a share of CPU above 0 and at most 1"))
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

    /// A call's shape is its measured times less the round trip, over their mean, taken only
    /// where the store serves that one call in an operation; too few calls give none.
    @Test func aCallsShapeIsItsMeasuredTimesLessTheRoundTrip() throws {
        var board = OperationStats(), check = OperationStats()
        // 1,000 board calls of 1.5 ms and 1 of 2.5; 100 mixed calls to Redis; 10 permission checks.
        for nanos in Array(repeating: Int64(1_500_000), count: 1_000) + [2_500_000] {
            board.storeCalls["mongo", default: StoreCallStats()].add(StoreCallSample(store: "mongo", call: "board", nanos: nanos, failed: false))
        }
        for i in 0..<100 {
            board.storeCalls["redis", default: StoreCallStats()].add(StoreCallSample(store: "redis", call: i % 2 == 0 ? "get" : "incr",
                                                                                      nanos: 200_000, failed: false))
        }
        for _ in 0..<10 {
            check.storeCalls["postgres", default: StoreCallStats()].add(StoreCallSample(store: "postgres", call: "permission-check",
                                                                                         nanos: 300_000, failed: false))
        }
        let times = Calibrator.callTimes(["board": board, "permission-check": check])
        #expect(times["redis"] == nil, "two calls in one histogram say nothing about either")
        let boardTimes = try #require(times["mongo"]?["board"]), checkTimes = try #require(times["postgres"]?["permission-check"])
        let shape = try #require(Calibrator.shape(of: boardTimes, networkMs: 0.5))
        #expect(shape.probabilities == Calibrator.shapePercentiles.map { $0 / 100 })
        // 1 ms at every percentile but the last (2 ms), over the piecewise mean 1 + 0.001 × 0.5.
        #expect(abs(shape.values[0] - 1 / 1.0005) < 0.01 && abs(shape.values.last! - 2 / 1.0005) < 0.03, "\(shape)")
        #expect(Calibrator.shape(of: checkTimes, networkMs: 0.1) == nil,
                "ten calls are too few for a shape")
    }

    /// An operation's factor for a store is what its calls took there less the round trip, over
    /// the model's service and client's work for that mix of calls.
    @Test func anOperationsCallsAreScaledToWhatTheyTookThere() {
        let calls: [String: ResourceModel.CallModel] = [
            "get": .init(serviceMs: 0.15, clientMs: 0.05, samples: 400, examinedPerCall: nil, scalesWithData: false),
            "incr": .init(serviceMs: 0, samples: 400, examinedPerCall: nil, scalesWithData: false),
        ]
        let check = Self.operation("permission-check", count: 100, mean: 1.0, stores: [
            Self.calls("redis", ["get": 100, "incr": 100], perOperation: 2, p50: 0.1, p99: 0.5, mean: 0.15),
        ])
        let few = Self.operation("search", count: 10, mean: 1.0, stores: [
            Self.calls("redis", ["get": 10], perOperation: 1, p50: 0.1, p99: 0.5, mean: 0.5),
        ])
        // (0.15 − 0.1 round trip) / ((100 × 0.2 + 100 × 0) / 200) = 0.5; ten calls are too few to say.
        let scales = Calibrator.scales("redis", [check, few], calls: calls, networkMs: 0.1)
        #expect(scales.count == 1 && abs((scales["permission-check"] ?? 0) - 0.5) < 1e-9, "\(scales)")
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
        // is not the server's); redis, its calls 0.8 of their mean inside board: 300 × 0.2 × 0.8 / 400
        // = 0.12 ms; host: (3.1 + 0.12 + 0.4 app + the client's 300 × (0.3 + 0.1 × 0.8) / 400 = 0.285)
        // = 3.905 ms, of which 0.75 is CPU, over 2 cores = 1.464375 ms.
        #expect(bounds.map(\.station) == ["postgres", "host", "redis"])
        for (bound, expected) in zip(bounds, [1.55, 1.464375, 0.12]) { #expect(abs(bound.msPerRequest - expected) < 1e-9, "\(bound)") }
        #expect(abs(bounds[1].maxPerS - 1000 / 1.464375) < 1e-9)
    }

    /// A call's service time is the callers' time less the round trip and the client's work on
    /// the reply, which the model keeps apart as the caller's.
    @Test func theClientsWorkOnTheReplyIsNotTheServers() {
        let shape = ShapeInfo(call: "board", path: nil, on: nil, calls: 200, examined: nil, returned: nil, serverMs: nil,
                              clientMs: 200 * 2.5, decodeMs: 200 * 1.2)
        let call = Calibrator.call(shape, networkMs: 0.1, times: nil)
        #expect(abs(call.serviceMs - 1.2) < 1e-9 && abs((call.clientMs ?? 0) - 1.2) < 1e-9 && call.samples == 200)
        #expect(call.shape == nil && call.cv == nil, "no times, no shape: exponential")
        let unmeasured = Calibrator.call(ShapeInfo(call: "get", path: nil, on: nil, calls: 10, examined: nil, returned: nil, serverMs: nil,
                                                   clientMs: 3), networkMs: 0.1, times: nil)
        #expect(abs(unmeasured.serviceMs - 0.2) < 1e-9 && unmeasured.clientMs == nil)
    }
}
