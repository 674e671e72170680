// swift-tools-version: 6.0
import PackageDescription

/// Release builds optimise across modules: the stores' generic pools, indexes and state machines
/// are specialised where they are used instead of looking up type metadata on every call.
let optimized: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "stacksim",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stacksim", targets: ["stacksim"]),
        .library(name: "StackSim", targets: ["StackSim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .target(name: "StackModel", swiftSettings: optimized),
        .target(name: "Redaction", swiftSettings: optimized),
        .target(name: "StackCore", dependencies: ["StackModel", "CLinux"], swiftSettings: optimized),
        .target(name: "PortContract", dependencies: ["StackCore"], swiftSettings: optimized),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibPQ", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMongoC", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev"])]),
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CEpoll"),
        .systemLibrary(name: "CLinux"),
        .target(name: "StackIO", dependencies: ["StackCore", "CEpoll"], swiftSettings: optimized),
        .target(name: "StackPostgres", dependencies: ["StackIO", "CLibPQ"], swiftSettings: optimized),
        .target(name: "StackRedis", dependencies: ["StackIO", "CHiredis"], swiftSettings: optimized),
        .target(name: "StackMongo", dependencies: ["StackIO", "CMongoC"], swiftSettings: optimized),
        .target(name: "StackLive", dependencies: ["StackPostgres", "StackRedis", "StackMongo", "Redaction"], swiftSettings: optimized),
        .target(name: "Metrics", dependencies: ["CZlib", .product(name: "Histogram", package: "hdrhistogram-swift")], swiftSettings: optimized),
        .target(name: "Scenario", dependencies: ["Yams"], swiftSettings: optimized),
        .target(name: "Simulation", dependencies: ["StackModel", "StackCore", "Metrics", "Scenario", "CLinux"], swiftSettings: optimized),
        .target(name: "Reporting", dependencies: ["Metrics", "Scenario", "Redaction"], swiftSettings: optimized),
        .target(name: "Capacity", dependencies: ["Metrics", "Scenario", "Reporting"], swiftSettings: optimized),
        .target(name: "Calibration", dependencies: ["StackCore", "Metrics", "Reporting", "Yams"], swiftSettings: optimized),
        .target(name: "StackSim", dependencies: ["Simulation", "Reporting", "Scenario", "StackCore", "StackModel", "Metrics", "Capacity"], swiftSettings: optimized),
        .executableTarget(
            name: "stacksim",
            dependencies: [
                "StackSim", "StackLive", "Redaction", "Capacity", "Calibration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: optimized
        ),
        .testTarget(name: "StackModelTests", dependencies: ["StackModel"]),
        .testTarget(name: "StackCoreTests", dependencies: ["StackCore", "PortContract"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "StackModel"]),
        .testTarget(name: "ScenarioTests", dependencies: ["Scenario"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Metrics", "Scenario", "StackCore", "StackModel"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Simulation", "StackModel"]),
        .testTarget(name: "StackSimTests", dependencies: ["StackSim"]),
        .testTarget(name: "CapacityTests", dependencies: ["Capacity", "Metrics", "Scenario"]),
        .testTarget(name: "CalibrationTests", dependencies: ["Calibration", "Reporting", "StackCore", "StackModel", "Metrics"]),
        .testTarget(name: "StackMongoTests", dependencies: ["StackMongo"]),
        .testTarget(name: "StackPostgresTests", dependencies: ["StackPostgres"]),
        .testTarget(name: "StackIOTests", dependencies: ["StackIO", "StackCore", "Redaction"]),
        .testTarget(name: "LiveTests", dependencies: ["StackLive", "StackSim", "PortContract", "StackPostgres", "StackIO"]),
    ]
)

// Shared settings for every target, applied in one place.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    // A nonisolated async function runs on its caller's executor (SE-0461): a request's calls
    // stay on the request loop without a task switch — each switch looks up the task's executor
    // preference under a lock. Nothing here relies on leaving the caller's executor: blocking
    // calls run on threads of their own.
    settings.append(.enableUpcomingFeature("NonisolatedNonsendingByDefault"))
    target.swiftSettings = settings
}
