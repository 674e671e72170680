import Foundation
import Scenario
@testable import Simulation
import Testing

@Suite("CPU wake-up latency")
struct WakeLatencyTests {
    @Test func theFlagTakesAutoOffOrWholeMicroseconds() {
        #expect(CPUWakeLatency(parsing: "auto") == .auto)
        #expect(CPUWakeLatency(parsing: "off") == .off)
        #expect(CPUWakeLatency(parsing: "0us") == .limit(microseconds: 0))
        #expect(CPUWakeLatency(parsing: "25us") == .limit(microseconds: 25))
        for bad in ["", "us", "-1us", "5ms", "5", "1.5us", "on"] { #expect(CPUWakeLatency(parsing: bad) == nil, "\(bad)") }
    }

    @Test func autoHoldsZeroOnTheEmbeddedTargetAndLeavesALiveOneAlone() throws {
        #expect(try CPUWakeLatency.auto.limit(target: "embedded").get() == 0)
        #expect(try CPUWakeLatency.limit(microseconds: 10).limit(target: "live").get() == 10)
        guard case .failure(let live) = CPUWakeLatency.auto.limit(target: "live") else { Issue.record("auto held on live"); return }
        #expect(live.state == .off && live.note?.contains("--cpu-wake-latency 0us") == true)
        guard case .failure(let off) = CPUWakeLatency.off.limit(target: "embedded") else { Issue.record("off held"); return }
        #expect(off.state == .off)
    }

    /// The kernel reads the limit as a native 32-bit integer written to the device; regular
    /// files stand in for it and for the cpuidle driver's name.
    @Test func aHoldWritesTheLimitAndSaysWhyWhenItCannot() throws {
        let (path, driver) = try standIns(driver: "haltpoll")
        defer { remove(path, driver) }
        let (hold, info) = WakeLatencyHold.acquire(.limit(microseconds: 7), target: "live", path: path, idleDriver: driver)
        #expect(info == WakeLatencyInfo(state: .held, limitUs: 7))
        #expect(info.loopAwakeUs == nil)
        hold?.release()
        let bytes = try #require(FileManager.default.contents(atPath: path))
        #expect(bytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) } == 7 && bytes.count == 4)

        let missing = path + "-missing"
        let (none, refused) = WakeLatencyHold.acquire(.auto, target: "embedded", path: missing, idleDriver: driver)
        #expect(none == nil && refused.state == .unavailable && refused.limitUs == 0)
        #expect(refused.note?.hasPrefix("\(missing): No such file or directory") == true)
        #expect(refused.loopAwakeUs == Int(RequestLoop.awakeStretch / 1000))
        let (_, off) = WakeLatencyHold.acquire(.off, target: "embedded", path: missing, idleDriver: driver)
        #expect(off.state == .off && off.loopAwakeUs == nil)
    }

    /// Without a cpuidle driver an idle CPU halts whatever the limit: nothing is held, and the
    /// report says why rather than claiming a hold that changes nothing.
    @Test func noCpuidleDriverMeansNoHold() throws {
        let (path, driver) = try standIns(driver: "none")
        defer { remove(path, driver) }
        let (hold, info) = WakeLatencyHold.acquire(.auto, target: "embedded", path: path, idleDriver: driver)
        #expect(hold == nil && info.state == .unavailable && info.limitUs == 0 && info.heldLimitUs == nil)
        #expect(info.note?.contains("no cpuidle driver") == true)
        // The request loop makes up for it: it keeps its own core awake.
        #expect(info.loopAwakeUs == Int(RequestLoop.awakeStretch / 1000))
        #expect(FileManager.default.contents(atPath: path)?.isEmpty == true)
    }

    /// An empty file for the device, and one holding the cpuidle driver's name as sysfs has it.
    private func standIns(driver name: String) throws -> (device: String, driver: String) {
        let device = FileManager.default.temporaryDirectory.appendingPathComponent("wake-\(UUID().uuidString)").path
        guard FileManager.default.createFile(atPath: device, contents: nil),
              FileManager.default.createFile(atPath: device + "-driver", contents: Data((name + "\n").utf8))
        else { throw CocoaError(.fileWriteUnknown) }
        return (device, device + "-driver")
    }

    private func remove(_ files: String...) {
        for file in files { try? FileManager.default.removeItem(atPath: file) }
    }
}
