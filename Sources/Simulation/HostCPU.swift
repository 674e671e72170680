import Foundation

/// The whole machine's CPU time, from Linux's /proc/stat: what every process on it used,
/// servers included — so a run can tell when the machine, not one store, was the limit.
struct HostCPU {
    var busy: Double
    var total: Double

    /// Now; nil where /proc/stat cannot be read (not Linux).
    static func now() -> HostCPU? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 5 else { return nil }
        let total = fields.prefix(8).reduce(0, +)
        return HostCPU(busy: total - fields[3] - fields[4], total: total)
    }

    /// The share of all cores busy between `earlier` and this reading.
    func busyFraction(since earlier: HostCPU) -> Double? {
        let total = self.total - earlier.total
        return total > 0 ? (busy - earlier.busy) / total : nil
    }
}
