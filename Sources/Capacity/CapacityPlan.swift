import Foundation
import Scenario

/// A scenario's capacity search resolved: the dimension, the loads it may try, the SLO, and the
/// scenario each probe runs. `problem` names what makes a search impossible before any probe.
public struct CapacityPlan: Sendable {
    public let base: Scenario
    public let dimension: CapacitySettings.Dimension
    public let search: CapacitySearch.Settings
    public let slo: [Threshold]
    public let warmup: Duration
    public let probe: Duration
    public let confirm: Duration
    public let confidence: Double
    /// `organizations`: arrivals per second per organization.
    public let ratePerOrganization: Double?

    /// The plan, or the problem with the scenario (the key and what was expected).
    public static func make(_ scenario: Scenario, limits: ScenarioLimits = .current) -> Result<CapacityPlan, CapacityPlanProblem> {
        let c = scenario.capacity
        let dimension = c.dimension(for: scenario.load.model)
        let slo = c.slo.isEmpty ? scenario.thresholds : c.slo
        guard !slo.isEmpty else {
            return .failure(.init(key: "capacity.slo", message: "a capacity search needs an SLO: give the scenario thresholds or capacity.slo"))
        }
        let recorded = scenario.load.phases.filter(\.record)
        let phases = recorded.isEmpty ? scenario.load.phases : recorded
        var seconds = 0.0, arrivals = 0.0
        for phase in phases {
            let length = Self.seconds(phase.duration)
            seconds += length
            arrivals += (phase.rate?.mean(length: length) ?? 0) * length
        }
        let ownRate = seconds > 0 ? arrivals / seconds : 0
        let own: Double = switch dimension {
        case .rate: ownRate
        case .users: Double(phases.compactMap(\.users?.maximum).max() ?? 1)
        case .organizations: Double(scenario.dataset.organizations)
        }
        let ceiling: Double = switch dimension {
        case .rate: ScenarioLimits.maxRate
        case .users: Double(limits.maxVirtualUsers)
        case .organizations:
            min(100_000, (Double(limits.maxDatasetTasks)
                          / max(scenario.dataset.usersPerOrganization.mean * scenario.dataset.tasksPerUser.mean, 1)).rounded(.down))
        }
        let whole = dimension.isWhole
        let start = c.start ?? max(whole ? own.rounded() : own, whole ? 1 : 0.001)
        let maximum = c.maximum ?? min(start * 1024, ceiling)
        guard maximum <= ceiling else {
            return .failure(.init(key: "capacity.max", message: "expected at most \(ScenarioText.number(ceiling)) \(dimension.rawValue) "
                                  + "on this machine, got \(ScenarioText.number(maximum))"))
        }
        guard start <= maximum else {
            return .failure(.init(key: "capacity.start", message: "expected a start at most the maximum (\(ScenarioText.number(maximum)))"))
        }
        let minimum = c.minimum ?? (whole ? max(1, (start / 16).rounded(.down)) : start / 16)
        var ratePerOrganization: Double?
        if dimension == .organizations {
            ratePerOrganization = c.ratePerOrganization ?? ownRate / Double(max(scenario.dataset.organizations, 1))
            guard ratePerOrganization! * maximum <= ScenarioLimits.maxRate else {
                return .failure(.init(key: "capacity.max", message: "expected max × rate_per_org at most \(ScenarioText.number(ScenarioLimits.maxRate))/s"))
            }
        }
        let search = CapacitySearch.Settings(start: start, minimum: min(minimum, start), maximum: maximum, growth: c.growth,
                                             precision: c.precision, maxProbes: c.maxProbes, repeats: c.repeats, whole: whole)
        return .success(CapacityPlan(base: scenario, dimension: dimension, search: search, slo: slo, warmup: c.warmup, probe: c.probe,
                                     confirm: c.confirm ?? c.probe * CapacitySettings.defaultConfirmProbes, confidence: c.confidence,
                                     ratePerOrganization: ratePerOrganization))
    }

    /// The scenario a probe runs: a warm-up (not recorded) and `length` recorded at `load`, the
    /// base scenario's mix, the SLO as its thresholds. Rate caps and early aborts are left out, so
    /// the load offered is the load named.
    public func scenario(load: Double, length: Duration) -> Scenario {
        var s = base
        let mix = base.load.phases.last(where: \.record)?.mix
        func phase(_ name: String, _ duration: Duration, record: Bool) -> Phase {
            switch dimension {
            case .rate: return Phase(name: name, duration: duration, rate: .constant(load), record: record, mix: mix)
            case .users: return Phase(name: name, duration: duration, users: .constant(Int(load)), record: record, mix: mix)
            case .organizations:
                return Phase(name: name, duration: duration, rate: .constant(ratePerOrganization! * load), record: record, mix: mix)
            }
        }
        if dimension == .organizations { s.dataset.organizations = Int(load) }
        s.load.phases = (warmup > .zero ? [phase("warmup", warmup, record: false)] : []) + [phase("probe", length, record: true)]
        s.load.maxRate = nil
        s.thresholds = slo.map { var t = $0; t.abortOnFail = false; return t }
        return s
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// The operations a threshold on `all` judges: those the mix runs.
    public var operations: [String] {
        let mix = base.load.phases.last(where: \.record)?.mix ?? base.load.mix
        return mix.filter { $0.weight > 0 }.map(\.operation)
    }
}

public struct CapacityPlanProblem: Error, Sendable {
    public var key: String
    public var message: String
}
