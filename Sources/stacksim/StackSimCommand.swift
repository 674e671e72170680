import ArgumentParser
import Foundation
import StackSim

@main
struct StackSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stacksim",
        abstract: "Load-test harness and simulator for the PostgreSQL + MongoDB + Redis task-management stack.",
        discussion: """
            Exit codes: 0 ok, 1 internal error, 10 thresholds failed, 11 regression, 12 invalid run \
            (the harness fell behind its schedule), 64 bad input, 69 target unreachable, 130 interrupted.
            """,
        version: ReportBuilder.version,
        subcommands: [RunCommand.self, CompareCommand.self, BaselineCommand.self, ScenariosCommand.self, NewCommand.self, DbCommand.self, BenchCommand.self]
    )

    /// Runs a command body, turning failures into their documented exit status.
    static func guarded(_ body: () async throws -> ExitStatus) async throws {
        let status: ExitStatus
        do {
            status = try await body()
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("stacksim: \(failure.message)\n".utf8))
            throw failure.status.exitCode
        }
        if status != .ok { throw status.exitCode }
    }
}
