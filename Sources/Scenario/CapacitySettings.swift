import Foundation

/// What `stacksim capacity` searches: along which dimension, from where, how finely, and
/// against which SLO. Every default is declared here; `nil` ones follow from the scenario.
public struct CapacitySettings: Sendable, Equatable {
    public enum Dimension: String, Sendable, CaseIterable {
        /// Arrivals per second (open model).
        case rate
        /// Users at once (closed model).
        case users
        /// Organizations in the dataset, each sending `ratePerOrganization` (open model); the
        /// dataset is generated and loaded again for every probe.
        case organizations
    }

    /// nil: `rate` for an open scenario, `users` for a closed one.
    public var dimension: Dimension?
    /// The first probe's load; nil: the scenario's own (its recorded phases' rate, users or organizations).
    public var start: Double?
    /// The lowest load tried when the start fails; nil: start / 16.
    public var minimum: Double?
    /// The highest load tried; nil: start × 1024, within `ScenarioLimits`.
    public var maximum: Double?
    /// Each probe's load times this while every probe holds.
    public var growth = 2.0
    /// Converged when the highest load that held and the lowest that did not are this close (relative).
    public var precision = 0.05
    /// Each probe's warm-up (run, not judged) and judged length.
    public var warmup: Duration = .seconds(5)
    public var probe: Duration = .seconds(20)
    /// The confirmation run at the answer; nil: three probes long.
    public var confirm: Duration?
    /// Search probes at most (repeats included, the confirmation not).
    public var maxProbes = 12
    /// How often an inconclusive probe is run again (its samples pooled) before it counts as not holding.
    public var repeats = 1
    /// Confidence of each verdict's interval: a probe holds, or breaks, only when the interval says so.
    public var confidence = 0.95
    /// `organizations`: arrivals per second each organization sends; nil: the scenario's rate per organization.
    public var ratePerOrganization: Double?
    /// The SLO a probe must meet; empty: the scenario's thresholds.
    public var slo: [Threshold] = []

    public init() {}

    /// The dimension this scenario searches.
    public func dimension(for model: LoadModel) -> Dimension { dimension ?? (model == .closed ? .users : .rate) }

    public static let defaultConfirmProbes = 3
}

extension CapacitySettings.Dimension {
    /// Loads along this dimension are whole numbers (users, organizations).
    public var isWhole: Bool { self != .rate }

    /// `1,240/s`, `35 users`, `120 organizations`.
    public func describe(_ load: Double) -> String {
        let formatter = NumberFormatter()
        formatter.locale = Locale(identifier: "en_US")
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = isWhole || load >= 100 ? 0 : 1
        let number = formatter.string(from: NSNumber(value: load)) ?? "\(load)"
        switch self {
        case .rate: return number + "/s"
        case .users: return number + (load == 1 ? " user" : " users")
        case .organizations: return number + (load == 1 ? " organization" : " organizations")
        }
    }
}
