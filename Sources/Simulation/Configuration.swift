import StackCore
import StackModel
import Scenario

/// Turns the scenario's plain settings into the types the model and the stack use.
extension Scenario {
    public var datasetSpec: DatasetSpec {
        DatasetSpec(organizations: dataset.organizations, usersPerOrganization: dataset.usersPerOrganization.distribution,
                    tasksPerUser: dataset.tasksPerUser.distribution, sprintsPerOrganization: dataset.sprintsPerOrganization)
    }

    public var cacheSettings: CacheSettings {
        CacheSettings(taskStatsTTL: stack.taskStatsTTL, dashboardTTL: stack.dashboardTTL)
    }

    public var syncStrategy: SyncStrategy { SyncStrategy(rawValue: stack.syncStrategy) ?? .perTask }

    public var userChooser: KeyChooser { KeyChooser(rawValue: load.userChoice) ?? .uniform }

    /// The embedded stores' knobs, by store kind.
    public var embeddedKnobs: [StoreKind: StoreKnobs] {
        var result: [StoreKind: StoreKnobs] = [:]
        for kind in StoreKind.allCases {
            if let spec = stack.embedded[kind.rawValue] { result[kind] = spec.knobs }
        }
        return result
    }
}

extension SizeSpec {
    var distribution: IntDistribution {
        switch self {
        case .constant(let v): return .constant(v)
        case .uniform(let lo, let hi): return .uniform(min: lo, max: hi)
        case .zipf(let lo, let hi, let s): return .zipf(min: lo, max: hi, s: s)
        }
    }
}

extension DelaySpec {
    var distribution: DelayDistribution {
        switch self {
        case .fixed(let d): return .fixed(d)
        case .uniform(let lo, let hi): return .uniform(min: lo, max: hi)
        case .exponential(let mean): return .exponential(mean: mean)
        }
    }
}

extension StoreKnobSpec {
    var knobs: StoreKnobs {
        var stall: Stall?
        if let every = stallEvery, let duration = stallFor { stall = Stall(every: every, duration: duration) }
        var outage: Outage?
        if let at = outageAt, let duration = outageFor { outage = Outage(at: at, duration: duration) }
        return StoreKnobs(latency: latency?.distribution, stall: stall, outage: outage, errorRate: errorRate ?? 0,
                          servers: servers, operations: operations.mapValues(\.knobs))
    }
}
