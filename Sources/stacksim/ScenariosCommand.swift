import ArgumentParser
import Foundation
import Scenario

struct ScenariosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List the scenarios in a directory; --validate checks every one, --explain shows one as a run would use it, "
            + "--schema prints the format's JSON Schema."
    )

    @Argument(help: "The directory to list, or one scenario file.")
    var directory = "Scenarios"

    @Flag(help: "Load every scenario (or the one file) and report all errors; exit 64 if any is invalid.")
    var validate = false

    @Option(help: ArgumentHelp("Print this scenario file with every default filled in and where each value came from "
                               + "(flag, file:line or default); takes the same overrides as run.", valueName: "file"))
    var explain: String?

    @OptionGroup var overrides: ScenarioOverrides

    @Flag(help: "Print the JSON Schema of the scenario format (generated from the model; shipped as Scenarios/scenario.schema.json).")
    var schema = false

    func run() async throws {
        try await StackSimCommand.guarded {
            if schema {
                FileHandle.standardOutput.write(ScenarioSchema().jsonSchema())
                return .ok
            }
            if let explain {
                var scenario = try ScenarioFiles.load(explain)
                let flags = try overrides.apply(to: &scenario)
                let text = try ScenarioFiles.failing { try ScenarioLoader.read(explain) }
                Output.text(try ScenarioFiles.failing { try ScenarioExplanation.render(scenario, file: explain, text: text, flags: flags) })
                return .ok
            }
            let files = try ScenarioFiles.list(directory)
            var invalid = 0
            for file in files {
                do {
                    let scenario = try ScenarioFiles.load(file)
                    Output.line("\(file)\n    \(scenario.name): \(scenario.description)")
                } catch let failure as CommandFailure {
                    invalid += 1
                    Output.line("\(file)\n    INVALID: \(failure.message)")
                }
            }
            if validate {
                Output.line("\(files.count - invalid) valid, \(invalid) invalid")
                return invalid == 0 ? .ok : .badInput
            }
            return .ok
        }
    }
}

struct NewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a commented starter scenario, every key at its default.",
        discussion: "Writes <directory>/NAME.yaml; it refuses to overwrite a file."
    )

    @Argument(help: "The scenario's name (letters, digits, - and _).")
    var name: String

    @Option(help: "Where to write it.")
    var directory = "Scenarios"

    func run() async throws {
        try await StackSimCommand.guarded {
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw CommandFailure(status: .badInput, message: "NAME: expected letters, digits, - and _, got '\(name)'")
            }
            let path = "\(directory)/\(name).yaml"
            guard !FileManager.default.fileExists(atPath: path) else {
                throw CommandFailure(status: .badInput, message: "\(path) already exists; choose another NAME or --directory")
            }
            // Editors find the schema beside the file (Scenarios/) or through its absolute path.
            let schemaFile = URL(fileURLWithPath: directory).appendingPathComponent(ScenarioFiles.schemaName)
            let shipped = URL(fileURLWithPath: "Scenarios").appendingPathComponent(ScenarioFiles.schemaName)
            let reference = FileManager.default.fileExists(atPath: schemaFile.path) ? ScenarioFiles.schemaName
                : FileManager.default.fileExists(atPath: shipped.path) ? shipped.standardizedFileURL.path : nil
            let text = ScenarioWriter.starter(name: name, schemaReference: reference)
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
                throw CommandFailure(status: .badInput, message: "\(path): cannot write the file")
            }
            Output.line("wrote \(path); check it with: stacksim scenarios --explain \(path)")
            return .ok
        }
    }
}

/// Scenario files for the commands: loading with exit-status errors, and flag value parsing.
enum ScenarioFiles {
    static func load(_ path: String) throws -> Scenario {
        try failing { try ScenarioLoader().load(file: path) }
    }

    /// The scenario files of a directory, or the one file given.
    static func list(_ directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue { return [directory] }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw CommandFailure(status: .badInput, message: "\(directory): cannot read the directory (expected a directory or a scenario file)")
        }
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { "\(directory)/\($0)" }
    }

    static let schemaName = "scenario.schema.json"

    /// Runs a scenario-reading step, turning its located error into bad input.
    static func failing<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ScenarioError {
            throw CommandFailure(status: .badInput, message: error.description)
        }
    }
}
