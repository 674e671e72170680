// swift-tools-version: 6.0
// An engineer's own scenario package: depends on stacksim by path, defines a custom action and
// a Swift scenario, and runs it. `make example` (and `make test`) builds and runs it.
import PackageDescription

let package = Package(
    name: "sprint-rollover",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "stacksim", path: "../..")],
    targets: [
        .executableTarget(
            name: "SprintRollover",
            dependencies: [.product(name: "StackSim", package: "stacksim")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
