import Calibration
import Foundation
import StackCore
import Testing

@Suite("Resource model")
struct ResourceModelTests {
    static let model = ResourceModel(
        calibrated: .init(date: "2026-11-30T09:00:00Z", scenario: "probe", servers: ["postgres 15.1 at postgresql://127.0.0.1:55432/x"],
                          organizations: 10, users: 80, tasks: 400, ratePerS: 20, seconds: 30),
        stores: [
            "postgres": .init(servers: 2, serversFrom: "the machine's cores", networkMs: 0.1, calls: [
                "permission-check": .init(serviceMs: 0.2, samples: 300, examinedPerCall: 1, scalesWithData: false),
                "users-page": .init(serviceMs: 4, samples: 100, examinedPerCall: 800, scalesWithData: true),
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
        #expect(postgres.operations["permission-check"]?.latency == .exponential(mean: .microseconds(200)))
        #expect(postgres.operations["users-page"]?.latency == .exponential(mean: .milliseconds(12)), "three times the data, three times the scan")
        // A call the calibration did not see takes the store's mean over the calls it did see.
        #expect(postgres.latency == .exponential(mean: .microseconds(1150)))
        let redis = try #require(knobs[.cache])
        #expect(redis.servers == 1 && redis.latency == nil && redis.network == .microseconds(50))
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

    @Test func aStoreWithoutSlotsIsRefused() throws {
        var model = Self.model
        model.stores["redis"]?.servers = 0
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("slots-\(UUID()).yaml").path
        try ModelFile.write(model, to: path)
        let error = try #require(throws: ModelFileError.self) { try ModelFile.read(path) }
        #expect(error.description.contains("stores.redis.servers: expected a positive count"))
    }
}

