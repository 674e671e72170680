import ArgumentParser
import Foundation
import Redaction
import StackCore
import StackSim

@main
struct StackSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stacksim",
        abstract: "Load-test harness and simulator for the PostgreSQL + MongoDB + Redis task-management stack.",
        discussion: """
            Exit codes: 0 ok, 1 internal error, 10 thresholds failed, 11 regression, 12 invalid run \
            (the harness fell behind its schedule), 13 a capacity search that did not converge, 64 bad input (including a live target that holds data stacksim did \
            not create, or another dataset, or objects of others that depend on stacksim's, or places another stacksim kept past --wait-for-places), 69 target unreachable before the run, 130 interrupted (SIGINT or SIGTERM).
            """,
        version: ReportBuilder.version,
        subcommands: [RunCommand.self, CapacityCommand.self, CalibrateCommand.self, CompareCommand.self, BaselineCommand.self, ScenariosCommand.self, NewCommand.self, DbCommand.self, BenchCommand.self]
    )

    /// Runs a command body, turning failures into their documented exit status.
    static func guarded(_ body: () async throws -> ExitStatus) async throws {
        let status: ExitStatus
        do {
            status = try await body()
        } catch let failure as CommandFailure {
            Output.error("stacksim: \(failure.message)")
            throw failure.status.exitCode
        } catch let refusal as PlacesRefusal {
            Output.error("stacksim: \(refusal)")
            throw ExitStatus.badInput.exitCode
        }
        if status != .ok { throw status.exitCode }
    }
}

/// Everything the commands print goes through here: credentials redacted, control characters
/// of names and data escaped so they cannot drive the terminal.
enum Output {
    static func line(_ text: String) {
        Self.text(text + "\n")
    }

    /// Text as it is, cleaned: for output that brings its own line breaks.
    static func text(_ text: String) {
        FileHandle.standardOutput.write(Data(clean(text).utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((clean(text) + "\n").utf8))
    }

    /// Redacts credentials and escapes control characters other than line breaks and tabs (all
    /// of them with `singleLine`), and the bidirectional controls that could make text display
    /// reversed: written as `\u{1b}`.
    static func clean(_ text: String, singleLine: Bool = false) -> String {
        var out = ""
        for scalar in Redaction.redact(text).unicodeScalars {
            let category = scalar.properties.generalCategory
            let lineBreak = scalar == "\n" || scalar == "\t"
            let control = category == .control || category == .lineSeparator || category == .paragraphSeparator
            if (control && (singleLine || !lineBreak)) || scalar.properties.isBidiControl {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
