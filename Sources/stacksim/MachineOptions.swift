import ArgumentParser
import Scenario

/// What a run asks of the machine it runs on; shared by `run` and `capacity`.
struct MachineOptions: ParsableArguments {
    @Option(name: .customLong("cpu-wake-latency"),
            help: "auto, off or a limit such as 0us: while the load runs, keep the machine's idle CPUs out of idle states slower to wake (Linux /dev/cpu_dma_latency; needs root or write access to it). auto: 0us on the embedded target, off against a live one.")
    var cpuWakeLatency = "auto"

    /// The flag's value, or bad input saying what was expected.
    func wakeLatency() throws -> CPUWakeLatency {
        guard let value = CPUWakeLatency(parsing: cpuWakeLatency) else {
            throw CommandFailure(status: .badInput,
                                 message: "--cpu-wake-latency: expected auto, off or a whole number of microseconds such as 0us, got '\(cpuWakeLatency)'")
        }
        return value
    }
}
