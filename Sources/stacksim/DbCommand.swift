import ArgumentParser
import Foundation
import StackCore
import StackLive
import StackSim

struct DbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Create, load or delete stacksim's own schema, collections and keys on the live servers.",
        discussion: """
            stacksim works only in its own places: a PostgreSQL schema (--postgres-schema, default stacksim), the \
            MongoDB database of --mongo-url (default stacksim) and Redis keys under a prefix (--redis-prefix, default \
            'stacksim:'). Each holds a marker naming the dataset in it; nothing without that marker is ever changed.
            """,
        subcommands: [Init.self, Seed.self, Reset.self]
    )

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create stacksim's schema, collections, indexes and markers, with no data.")
        @OptionGroup var live: LiveOptions

        func run() async throws {
            try await StackSimCommand.guarded {
                let stack = try await live.liveOnly().connect(pool: PoolSpec(), places: .exclusive)
                defer { stack.shutdown() }
                let holdings = try await stack.holdings()
                let empty = Set(StoreKind.allCases.filter { holdings[$0] == .empty })
                try DbCommand.refuseForeign(holdings, stack)
                let marker = DatasetMarker(dataset: nil, description: nil, anchor: nil)
                for note in try await stack.recreate(empty, marker: marker, holdings: holdings).notes { Output.line("schema: \(note)") }
                Output.line(empty.isEmpty ? "stacksim's places already exist; nothing created"
                            : "created stacksim's places in " + empty.map(\.rawValue).sorted().joined(separator: ", "))
                return .ok
            }
        }
    }

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load the scenario's dataset into stacksim's places, replacing stacksim's own earlier data (COPY, bulk inserts, pipelining).")
        @Argument(help: "The scenario whose dataset to load.") var scenario: String
        @OptionGroup var live: LiveOptions

        func run() async throws {
            try await StackSimCommand.guarded {
                let scenario = try ScenarioFiles.load(scenario)
                let stack = try await live.liveOnly().connect(pool: scenario.stack.pool, places: .exclusive)
                defer { stack.shutdown() }
                let holdings = try await stack.holdings()
                try DbCommand.refuseForeign(holdings, stack)
                let identity = LiveDataset.identity(scenario)
                let anchor = Date()
                let marker = DatasetMarker(dataset: identity.fingerprint, description: identity.description, anchor: anchor)
                let (deleted, notes) = try await stack.recreate(Set(StoreKind.allCases), marker: marker, holdings: holdings)
                for line in deleted + notes.map({ "schema: \($0)" }) { Output.line(line) }
                let (_, summary) = try await SimulationRun.seed(scenario, into: stack.stores, anchor: anchor)
                try await stack.writeMarkers(marker)
                let rows = summary.organizations + summary.users + summary.tasks + summary.sprints + summary.activityLogs
                let rate = Double(rows) / max(summary.loadSeconds, 1e-9)
                Output.line("loaded \(summary.organizations) organizations, \(summary.users) users, \(summary.tasks) tasks, \(summary.sprints) sprints, "
                            + "\(summary.activityLogs) activity logs in " + String(format: "%.2f s (%.0f rows/s)", summary.loadSeconds, rate))
                for load in summary.stores {
                    Output.line("  \(load.store.rawValue): \(load.rows) rows in " + String(format: "%.2f s (%.0f rows/s)", load.seconds, load.rowsPerSecond))
                }
                return .ok
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete what stacksim created on the live servers (only where its marker is), after asking.")
        @OptionGroup var live: LiveOptions
        @Flag(help: "Delete without asking (required when not on a terminal).") var yes = false

        func run() async throws {
            try await StackSimCommand.guarded {
                let stack = try await live.liveOnly().connect(pool: PoolSpec(), places: .exclusive)
                defer { stack.shutdown() }
                let holdings = try await stack.holdings()
                let places = stack.places
                let owned = StoreKind.allCases.filter { if case .stacksim = holdings[$0] { true } else { false } }
                for store in StoreKind.allCases {
                    if case .foreign(let what) = holdings[store] {
                        Output.line("left alone: \(places[store]!) holds \(what) that stacksim did not create")
                    }
                }
                guard !owned.isEmpty else {
                    Output.line("nothing of stacksim's to delete")
                    return .ok
                }
                if !yes {
                    guard isatty(STDIN_FILENO) == 1 else {
                        throw CommandFailure(status: .badInput, message: "--yes: db reset deletes data; confirm with --yes when not on a terminal")
                    }
                    Output.line("delete stacksim's " + owned.map { places[$0]! }.joined(separator: "; ") + "? [y/N] ")
                    guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                        Output.line("nothing deleted")
                        return .ok
                    }
                }
                for line in try await stack.dropOwned(holdings) { Output.line(line) }
                return .ok
            }
        }
    }

    /// Exit 64 naming each place that holds something stacksim did not create.
    static func refuseForeign(_ holdings: [StoreKind: StoreHolding], _ stack: LiveStack) throws {
        let places = stack.places
        let foreign = StoreKind.allCases.compactMap { store -> String? in
            guard case .foreign(let what) = holdings[store] else { return nil }
            return DatasetPlan.foreignRefusal(store, place: places[store]!, what: what)
        }
        guard foreign.isEmpty else {
            throw CommandFailure(status: .badInput, message: "the live stores were not touched:\n  " + foreign.joined(separator: "\n  "))
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
