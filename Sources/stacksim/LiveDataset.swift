import Foundation
import Scenario
import StackCore
import StackLive
import StackModel
import StackSim

/// Puts a scenario's dataset on the live stores: reuses it where stacksim's markers say it is
/// already there, creates and loads it where the stores are empty, and refuses — touching
/// nothing — where they hold anything else.
enum LiveDataset {
    /// The dataset a scenario generates, named by what determines it: seed, sizes, dataset
    /// steps and the stores' layout. The scenario's name, load and thresholds do not count.
    static func identity(_ scenario: Scenario, steps: [String] = []) -> DatasetIdentity {
        let d = scenario.dataset
        let description = "seed \(scenario.seed), \(d.organizations) organizations, users per organization \(d.usersPerOrganization), "
            + "tasks per user \(d.tasksPerUser), \(d.sprintsPerOrganization) sprints per organization"
            + (steps.isEmpty ? "" : ", steps \(steps.joined(separator: ", "))")
        let text = "layout \(DatasetMarker.currentLayout); \(description)"
        return DatasetIdentity(fingerprint: String(SeededRandom.stableHash(text), radix: 16), description: description)
    }

    /// Decides and prepares; throws exit 64 with what was found and what to do when the stores
    /// hold anything stacksim did not make or another dataset. The run takes its number on the
    /// markers before it begins, so no two runs share one (it salts the ids a run creates), even
    /// when a run cannot record its end.
    static func prepare(_ stack: LiveStack, scenario: Scenario) async throws -> DatasetPlan {
        func look() async throws -> (holdings: [StoreKind: StoreHolding], plan: DatasetPlan) {
            let holdings = try await stack.holdings()
            return (holdings, DatasetPlan.decide(holdings, want: identity(scenario), places: stack.places, anchor: Date()))
        }
        var (holdings, plan) = try await look()
        if plan.refusals.isEmpty, !plan.reuses {
            // Loading changes the places: wait until no other stacksim uses them, then look again —
            // one may have loaded this very dataset meanwhile.
            try await stack.takeThePlacesExclusively()
            (holdings, plan) = try await look()
        }
        guard plan.refusals.isEmpty else {
            throw CommandFailure(status: .badInput, message: "the live stores were not touched:\n  "
                                 + plan.refusals.joined(separator: "\n  "))
        }
        if plan.reuses {
            Output.line("dataset: reusing the one in the stores (\(plan.marker.datasetDescription ?? "?")); loading nothing. "
                        + "\(plan.marker.runs) earlier run(s) wrote \(plan.marker.writes) acknowledged change(s) to it since it was loaded")
        } else {
            // A place of stacksim's made without data (`db init`) is cleared and created anew.
            let (deleted, notes) = try await stack.recreate(plan.load, marker: plan.marker, holdings: holdings)
            for line in deleted + notes.map({ "schema: \($0)" }) { Output.line(line) }
            let kept = Set(StoreKind.allCases).subtracting(plan.load)
            Output.line("dataset: loading into " + plan.load.map(\.rawValue).sorted().joined(separator: ", ")
                        + (kept.isEmpty ? "" : "; reusing it in " + kept.map(\.rawValue).sorted().joined(separator: ", ")))
        }
        // The run's number, counted on the stores that hold the dataset; the stores being loaded
        // get the dataset's marker once it is in (`datasetLoaded`).
        plan.marker = try await stack.updateMarkers(plan.marker) { $0.runs += 1 }
        // Prepared: other runs of this dataset may use the places beside this one.
        try await stack.shareThePlaces()
        return plan
    }

    /// Marks the stores just loaded as holding the dataset.
    static func datasetLoaded(_ stack: LiveStack, plan: DatasetPlan) async throws {
        try await stack.writeMarkers(plan.marker, to: plan.load)
    }

    /// Records the run's writes on the markers: the dataset now carries them too.
    static func recordRun(_ stack: LiveStack, plan: DatasetPlan, acknowledgedWrites: Int) async {
        do {
            _ = try await stack.updateMarkers(plan.marker) { $0.writes += acknowledgedWrites }
        } catch {
            Output.error("stacksim: warning: could not record this run on the stores' markers: \(error)")
        }
    }
}
