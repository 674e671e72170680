import ArgumentParser
import Foundation
import Scenario

struct ScenariosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List the scenarios in a directory with their descriptions; --validate checks every one."
    )

    @Argument(help: "The directory to list.")
    var directory = "Scenarios"

    @Flag(help: "Load every scenario and report all errors; exit 64 if any is invalid.")
    var validate = false

    func run() async throws {
        try await StackSimCommand.guarded {
            let files = try ScenarioFiles.list(directory)
            var invalid = 0
            for file in files {
                do {
                    let scenario = try ScenarioFiles.load(file)
                    print("\(file)\n    \(scenario.name): \(scenario.description)")
                } catch let failure as CommandFailure {
                    invalid += 1
                    print("\(file)\n    INVALID: \(failure.message)")
                }
            }
            if validate {
                print("\(files.count - invalid) valid, \(invalid) invalid")
                return invalid == 0 ? .ok : .badInput
            }
            return .ok
        }
    }
}

/// Scenario files for the commands: loading with exit-status errors, and flag value parsing.
enum ScenarioFiles {
    static func load(_ path: String) throws -> Scenario {
        do {
            return try ScenarioLoader().load(file: path)
        } catch let error as ScenarioError {
            throw CommandFailure(status: .badInput, message: error.description)
        }
    }

    static func list(_ directory: String) throws -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw CommandFailure(status: .badInput, message: "\(directory): cannot read the directory")
        }
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { "\(directory)/\($0)" }
    }

    /// A flag's duration, read exactly as a scenario's.
    static func duration(_ text: String) -> Duration? {
        try? ScenarioLoader().parse("name: flag\nload: {phases: [{name: x, duration: \(text), rate: 1}]}", file: "--duration")
            .load.phases[0].duration
    }

    static func rate(_ text: String) -> Double? {
        let shape = try? ScenarioLoader().parse("name: flag\nload: {phases: [{name: x, duration: 1s, rate: \(text)}]}", file: "--rate")
            .load.phases[0].rate
        guard case .constant(let value) = shape else { return nil }
        return value
    }
}
