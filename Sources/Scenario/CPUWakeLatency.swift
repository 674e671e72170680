import Foundation

/// How quickly the machine's idle CPUs must be able to wake while a run's load is on, asked of
/// Linux's power-management QoS (`/dev/cpu_dma_latency`, as `cyclictest` does): a limit below an
/// idle state's exit latency keeps the CPUs out of that state. On a virtual machine whose idle
/// CPUs halt (a VM exit), a thread that sleeps until its next arrival wakes 80–500 µs late and
/// finds its caches cold; held at 0 µs, an idle CPU polls instead, so the request loop wakes on
/// time and spends less CPU waiting by the clock and on each request. A polling CPU still yields
/// at once to any thread that becomes runnable: the hold costs the machine power, not the other
/// processes their CPU. The kernel drops the request when the file is closed, also when the
/// process dies.
public enum CPUWakeLatency: Sendable, Equatable {
    /// Held at 0 µs on the embedded target in wall time; left alone against a live target,
    /// whose servers on the same machine would then wake faster than they do without a run.
    case auto
    case off
    case limit(microseconds: Int32)

    public static let device = "/dev/cpu_dma_latency"
    /// The cpuidle driver: the limit steers its idle states, and with none (`none`) an idle CPU
    /// halts whatever the limit.
    public static let idleDriver = "/sys/devices/system/cpu/cpuidle/current_driver"

    /// `auto`, `off` or a limit such as `0us` or `20us`; nil for anything else.
    public init?(parsing text: String) {
        switch text {
        case "auto": self = .auto
        case "off": self = .off
        default:
            guard text.hasSuffix("us"), let value = Int32(text.dropLast(2)), value >= 0 else { return nil }
            self = .limit(microseconds: value)
        }
    }

    /// The limit to hold for a wall-time run on `target`, or the report's account of why none is.
    public func limit(target: String) -> Result<Int32, WakeLatencyInfo> {
        switch self {
        case .off: return .failure(WakeLatencyInfo(state: .off, note: "--cpu-wake-latency off"))
        case .limit(let microseconds): return .success(microseconds)
        case .auto where target == "embedded": return .success(0)
        case .auto:
            return .failure(WakeLatencyInfo(state: .off, note: "a \(target) target: its servers on this machine would wake "
                                            + "faster too (--cpu-wake-latency 0us holds it anyway)"))
        }
    }
}

/// What a run's report says about the machine's CPU wake-up latency: held (at `limitUs`
/// microseconds), off, or asked for but unavailable, with why.
public struct WakeLatencyInfo: Codable, Sendable, Equatable, Error {
    public enum State: String, Codable, Sendable { case held, off, unavailable }
    public var state: State
    public var limitUs: Int?
    public var note: String?
    /// Unavailable: the request loop kept its own core awake instead, waiting by the clock
    /// through the last this many microseconds of each idle stretch (at most a quarter of it).
    public var loopAwakeUs: Int?

    public init(state: State, limitUs: Int? = nil, note: String? = nil, loopAwakeUs: Int? = nil) {
        self.state = state
        self.limitUs = limitUs
        self.note = note
        self.loopAwakeUs = loopAwakeUs
    }

    /// The limit idle CPUs were held to, or nil when they were left alone (off, unavailable).
    public var heldLimitUs: Int? { state == .held ? limitUs ?? 0 : nil }
}
