import ArgumentParser
import Calibration
import Reporting
import Scenario
import Simulation
import StackCore

/// `--model` and `--organizations`: a projection from a calibrated model, on the embedded stack
/// in virtual time, at a dataset size of one's choosing. Shared by `run` and `capacity`.
struct ProjectionOptions: ParsableArguments {
    @Option(help: "Project from this calibrated model (stacksim calibrate): the embedded stack plays it in virtual time.")
    var model: String?

    @Option(help: "Organizations in the dataset (overrides dataset.organizations): project to a size not measured.")
    var organizations: Int?

    /// A projection to make: the model, and what the report says about it.
    struct Projection: Sendable {
        var model: ResourceModel
        var file: String

        /// Sets the stores' knobs for `scenario`'s dataset and the application's time per request.
        func configure(_ options: inout RunOptions, for scenario: Scenario) {
            options.embeddedKnobs = model.knobs(organizations: scenario.dataset.organizations)
            options.appTime = model.appTime
            options.hostCores = model.hostCores
            options.hostCPUShare = model.hostLoad?.cpuShare ?? 1
        }

        func info(for scenario: Scenario) -> ProjectionInfo {
            let c = model.calibrated
            return ProjectionInfo(model: file, calibratedOn: "\(c.scenario), \(c.organizations) organizations, \(c.date)", servers: c.servers,
                                  organizations: scenario.dataset.organizations, calibratedOrganizations: c.organizations)
        }
    }

    /// Applies the flags to `scenario`; the projection when `--model` was given.
    func apply(to scenario: inout Scenario, target: String) throws -> Projection? {
        if let organizations {
            guard organizations > 0 else { throw CommandFailure(status: .badInput, message: "--organizations: expected a positive count") }
            scenario.dataset.organizations = organizations
            if let (path, message) = ScenarioLimits.current.violation(in: scenario) {
                throw CommandFailure(status: .badInput, message: "--organizations \(organizations): \(path): \(message)")
            }
        }
        guard let model else { return nil }
        guard target == "embedded" else {
            throw CommandFailure(status: .badInput, message: "--model: a projection runs on the embedded stack in virtual time; drop --target live")
        }
        let loaded: ResourceModel
        do { loaded = try ModelFile.read(model) } catch let error as ModelFileError {
            throw CommandFailure(status: .badInput, message: "--model: \(error)")
        }
        scenario.clock = .virtual
        return Projection(model: loaded, file: model)
    }
}
