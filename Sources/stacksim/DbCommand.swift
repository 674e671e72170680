import ArgumentParser
import Foundation
import StackLive
import StackSim

struct DbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Create, load or drop the live stack's schema and data.",
        subcommands: [Init.self, Seed.self, Reset.self]
    )

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the PostgreSQL schema and the MongoDB collections and indexes.")
        @OptionGroup var live: LiveOptions

        func run() async throws {
            try await StackSimCommand.guarded {
                let stack = try await live.liveOnly().connect(pool: PoolSpec())
                defer { stack.shutdown() }
                for note in try await stack.createSchema() { print("schema: \(note)") }
                print("schema created on postgres, mongo; redis emptied")
                return .ok
            }
        }
    }

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the schema and load the scenario's dataset (COPY, unordered bulk inserts, pipelining).")
        @Argument(help: "The scenario whose dataset to load.") var scenario: String
        @OptionGroup var live: LiveOptions

        func run() async throws {
            try await StackSimCommand.guarded {
                let scenario = try ScenarioFiles.load(scenario)
                let stack = try await live.liveOnly().connect(pool: scenario.stack.pool)
                defer { stack.shutdown() }
                try await stack.createSchema()
                let (_, summary) = try await SimulationRun.seed(scenario, into: stack.stores)
                let rows = summary.organizations + summary.users + summary.tasks + summary.sprints + summary.activityLogs
                let rate = Double(rows) / max(summary.loadSeconds, 1e-9)
                print("loaded \(summary.organizations) organizations, \(summary.users) users, \(summary.tasks) tasks, \(summary.sprints) sprints, "
                      + "\(summary.activityLogs) activity logs in " + String(format: "%.2f s (%.0f rows/s)", summary.loadSeconds, rate))
                return .ok
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop everything stacksim created on the live servers.")
        @OptionGroup var live: LiveOptions

        func run() async throws {
            try await StackSimCommand.guarded {
                let stack = try await live.liveOnly().connect(pool: PoolSpec())
                defer { stack.shutdown() }
                try await stack.drop()
                print("dropped the stacksim schema, collections and keys")
                return .ok
            }
        }
    }
}

extension LiveOptions {
    /// `db` works on live servers only.
    func liveOnly() throws -> LiveOptions {
        guard target == "live" else {
            throw CommandFailure(status: .badInput, message: "--target: db commands need --target live, got '\(target)'")
        }
        return self
    }
}
