import Foundation

/// One statement of a Swift scenario: a setting, a phase, a threshold, a custom action or a
/// dataset step.
public protocol ScenarioPart {
    func apply(to draft: inout ScenarioDraft)
}

/// A scenario being assembled from its parts.
public struct ScenarioDraft {
    public var script: ScenarioScript
    /// Phases in the order declared; when any is declared they replace the default phases.
    public var phases: [Phase] = []
}

@resultBuilder
public enum ScenarioBuilder {
    public static func buildExpression(_ part: any ScenarioPart) -> [any ScenarioPart] { [part] }
    public static func buildBlock(_ parts: [any ScenarioPart]...) -> [any ScenarioPart] { parts.flatMap { $0 } }
    public static func buildOptional(_ parts: [any ScenarioPart]?) -> [any ScenarioPart] { parts ?? [] }
    public static func buildEither(first parts: [any ScenarioPart]) -> [any ScenarioPart] { parts }
    public static func buildEither(second parts: [any ScenarioPart]) -> [any ScenarioPart] { parts }
    public static func buildArray(_ parts: [[any ScenarioPart]]) -> [any ScenarioPart] { parts.flatMap { $0 } }
}

/// Changes any part of the scenario model: `Configure(\.stack) { $0.syncWorkers = 4 }`.
public struct Configure<Value>: ScenarioPart {
    let keyPath: WritableKeyPath<Scenario, Value>
    let change: (inout Value) -> Void

    public init(_ keyPath: WritableKeyPath<Scenario, Value>, _ change: @escaping (inout Value) -> Void) {
        self.keyPath = keyPath
        self.change = change
    }

    public func apply(to draft: inout ScenarioDraft) { change(&draft.script.scenario[keyPath: keyPath]) }
}

/// The seed of the dataset and the workload.
public struct Seed: ScenarioPart {
    let value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public func apply(to draft: inout ScenarioDraft) { draft.script.scenario.seed = value }
}

/// The scenario's one-line description.
public struct Description: ScenarioPart {
    let text: String
    public init(_ text: String) { self.text = text }
    public func apply(to draft: inout ScenarioDraft) { draft.script.scenario.description = text }
}

/// The load's operation weights, in order: `Mix(["board": 10, "sprint-rollover": 1])`.
public struct Mix: ScenarioPart {
    let entries: [MixEntry]
    public init(_ weights: KeyValuePairs<String, Double>) { entries = weights.map { MixEntry(operation: $0.key, weight: $0.value) } }
    public func apply(to draft: inout ScenarioDraft) { draft.script.scenario.load.mix = entries }
}

extension Phase: ScenarioPart {
    public func apply(to draft: inout ScenarioDraft) { draft.phases.append(self) }
}

extension Threshold: ScenarioPart {
    public func apply(to draft: inout ScenarioDraft) { draft.script.scenario.thresholds.append(self) }

    /// A latency bound: `.latency("board", .p99, below: .milliseconds(50))`; `target` may be `all` or `snapshot-lag`.
    public static func latency(_ target: String, _ percentile: Percentile, below limit: Duration, abortOnFail: Bool = false,
                               fileID: String = #fileID, line: Int = #line) -> Threshold {
        Threshold(target: target, metric: percentile.rawValue, limit: Double(limit.components.seconds) * 1000
                    + Double(limit.components.attoseconds) / 1e15, abortOnFail: abortOnFail, location: "\(fileID):\(line)")
    }

    /// An error-fraction bound on one operation, `all`, or the whole run (`errors`).
    public static func errorRate(_ target: String = "errors", below limit: Double, abortOnFail: Bool = false,
                                 fileID: String = #fileID, line: Int = #line) -> Threshold {
        Threshold(target: target, metric: "rate", limit: limit, abortOnFail: abortOnFail, location: "\(fileID):\(line)")
    }

    /// A throughput floor in requests per second.
    public static func throughput(_ target: String, atLeast limit: Double, abortOnFail: Bool = false,
                                  fileID: String = #fileID, line: Int = #line) -> Threshold {
        Threshold(target: target, metric: "throughput", limit: limit, abortOnFail: abortOnFail, location: "\(fileID):\(line)")
    }

    public enum Percentile: String, Sendable { case p50, p90, p99, p999, max }
}

extension ActionDefinition: ScenarioPart {
    public func apply(to draft: inout ScenarioDraft) { draft.script.actions.append(self) }
}

extension DatasetStep: ScenarioPart {
    public func apply(to draft: inout ScenarioDraft) { draft.script.datasetSteps.append(self) }
}
