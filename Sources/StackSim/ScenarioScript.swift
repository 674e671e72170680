import Foundation

/// A scenario with what only Swift can say: custom actions and dataset steps. Built with
/// `ScenarioScript(name) { ... }` or read from a YAML file whose mix may use the custom actions.
public struct ScenarioScript: Sendable {
    public var scenario: Scenario
    /// Actions besides the built-in ones; their names can be used in the mix and thresholds.
    public var actions: [ActionDefinition] = []
    public var datasetSteps: [DatasetStep] = []

    public init(_ name: String, @ScenarioBuilder _ parts: () -> [any ScenarioPart]) {
        var draft = ScenarioDraft(script: ScenarioScript(scenario: Scenario(name: name)))
        for part in parts() { part.apply(to: &draft) }
        if !draft.phases.isEmpty { draft.script.scenario.load.phases = draft.phases }
        self = draft.script
    }

    public init(scenario: Scenario, actions: [ActionDefinition] = [], datasetSteps: [DatasetStep] = []) {
        self.scenario = scenario
        self.actions = actions
        self.datasetSteps = datasetSteps
    }

    /// A YAML scenario file that may use `actions` in its mix and thresholds.
    public init(file: String, actions: [ActionDefinition] = [], datasetSteps: [DatasetStep] = []) throws {
        let loader = ScenarioLoader(knownOperations: Operations.builtIn + actions.map(\.name))
        self.init(scenario: try loader.load(file: file), actions: actions, datasetSteps: datasetSteps)
    }

    /// The operation names this script's scenarios may use.
    public var operations: [String] { Operations.builtIn + actions.map(\.name).filter { !Operations.builtIn.contains($0) } }

    /// Checks the scenario by the same rules as a YAML file (it is written out and read back,
    /// custom rate shapes aside), so a Swift scenario cannot say what a file could not.
    public func validate() throws {
        var checked = scenario
        for index in checked.load.phases.indices {
            if case .custom = checked.load.phases[index].rate { checked.load.phases[index].rate = .constant(1) }
        }
        let yaml = ScenarioWriter.render(ScenarioWriter.tree(checked))
        do {
            _ = try ScenarioLoader(knownOperations: operations).parse(yaml, file: "scenario '\(scenario.name)'")
        } catch let error as ScenarioError {
            throw ScenarioError(file: error.file, line: 0, column: 0, path: error.path, message: error.message)
        }
    }

    /// Validates, runs on the embedded stack (or `options.stores`), and writes the reports to
    /// `directory` when given. Returns the report, thresholds judged.
    public func run(options: RunOptions = RunOptions(), reportsTo directory: URL? = nil) async throws -> RunReport {
        try validate()
        var options = options
        options.actions = BuiltInActions.all.filter { builtIn in !actions.contains { $0.name == builtIn.name } } + actions
        options.datasetSteps = datasetSteps
        let result = try await SimulationRun.run(scenario, options: options)
        let report = ReportBuilder.report(from: result)
        if let directory { _ = try ReportWriter.write(report, histogramLog: result.histogramLog, to: directory) }
        return report
    }
}
