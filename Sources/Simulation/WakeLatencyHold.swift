import Foundation
import Scenario

/// A held CPU wake-up latency limit: written to the QoS device and kept until `release`.
final class WakeLatencyHold {
    private var descriptor: Int32

    /// Opens `path` and writes `microseconds` as the kernel expects (a native 32-bit integer);
    /// throws the report's account of why not (no permission, no such device).
    init(microseconds: Int32, path: String = CPUWakeLatency.device) throws(WakeLatencyInfo) {
        descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let denied = errno == EACCES || errno == EPERM
            throw WakeLatencyInfo(state: .unavailable, limitUs: Int(microseconds),
                                  note: "\(path): \(String(cString: strerror(errno)))" + (denied ? " (it takes root or write access to the device)" : ""))
        }
        var value = microseconds
        let written = withUnsafeBytes(of: &value) { write(descriptor, $0.baseAddress, $0.count) }
        guard written == MemoryLayout<Int32>.size else {
            let reason = written < 0 ? String(cString: strerror(errno)) : "wrote \(written) of 4 bytes"
            _ = close(descriptor)
            descriptor = -1
            throw WakeLatencyInfo(state: .unavailable, limitUs: Int(microseconds), note: "\(path): \(reason)")
        }
    }

    /// Hands the CPUs back to their idle states; later calls do nothing.
    func release() {
        guard descriptor >= 0 else { return }
        _ = close(descriptor)
        descriptor = -1
    }

    deinit { release() }

    /// Holds what `request` asks for a run, if anything: the hold (nil when none) and what the
    /// report says. Without a cpuidle driver (`idleDriver` reads `none`) a limit would change
    /// nothing, so none is held and the report says why. A hold asked for and not had is made up
    /// for by the request loop, which then keeps its own core awake (`loopAwakeUs`).
    static func acquire(_ request: CPUWakeLatency, target: String, path: String = CPUWakeLatency.device,
                        idleDriver: String = CPUWakeLatency.idleDriver) -> (WakeLatencyHold?, WakeLatencyInfo) {
        switch request.limit(target: target) {
        case .failure(let info): return (nil, info)
        case .success(let microseconds):
            let driver = (try? String(contentsOfFile: idleDriver, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            do throws(WakeLatencyInfo) {
                if driver == "none" {
                    throw WakeLatencyInfo(state: .unavailable, limitUs: Int(microseconds),
                                          note: "no cpuidle driver: \(idleDriver) reads none, so idle CPUs halt whatever the limit")
                }
                return (try WakeLatencyHold(microseconds: microseconds, path: path), WakeLatencyInfo(state: .held, limitUs: Int(microseconds)))
            } catch {
                var info = error
                info.loopAwakeUs = Int(RequestLoop.awakeStretch / 1000)
                return (nil, info)
            }
        }
    }
}
