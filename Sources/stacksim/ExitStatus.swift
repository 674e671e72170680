import ArgumentParser

/// Every exit code stacksim uses, in one place (README "Exit codes" lists the same).
enum ExitStatus: Int32, CaseIterable {
    case ok = 0
    /// An unexpected internal failure.
    case internalError = 1
    /// The run finished but a threshold in the scenario failed.
    case thresholdsFailed = 10
    /// `compare` or `--baseline` found a regression.
    case regression = 11
    /// The harness could not keep to its schedule: the numbers describe the harness, not the stack.
    case invalidRun = 12
    /// `capacity`: the search ended before it converged (probe budget spent): a lower bound only.
    case notConverged = 13
    /// A scenario file or a flag is wrong; nothing was run.
    case badInput = 64
    /// A store could not be reached.
    case targetUnreachable = 69
    /// Stopped by SIGINT.
    case interrupted = 130

    var exitCode: ExitCode { ExitCode(rawValue) }
}

/// An error that ends the command with a message and a specific exit status.
struct CommandFailure: Error, CustomStringConvertible {
    var status: ExitStatus
    var message: String

    var description: String { message }
}
