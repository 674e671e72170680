import Foundation

/// The scenario format described once: the loader takes its keys, value kinds and ranges from
/// here, `scenarios --schema` turns it into the JSON Schema editors use, and `new` and
/// `scenarios --explain` take their comments from it.
public indirect enum SchemaNode: Sendable {
    case text
    case choice([String])
    case integer(ClosedRange<Int>)
    case number(ClosedRange<Double>)
    /// A whole number ≥ 0 that fits 64 bits.
    case seed
    case boolean
    /// At most `ScenarioLimits.maxDuration`.
    case duration(allowZero: Bool)
    /// At most `ScenarioLimits.maxRate`.
    case rate(allowZero: Bool)
    case fraction
    /// A mapping with these keys and no others.
    case object([SchemaKey])
    /// A mapping whose keys the author chooses: from `keys`, or any when nil.
    case map(keys: [String]?, value: SchemaNode)
    case list(SchemaNode, minItems: Int)
    /// A scalar (when `scalar` is set) or a mapping with exactly one of the `tagged` keys.
    case variants(scalar: SchemaNode?, tagged: [SchemaKey])

    /// The keys a mapping here may have; nil when any key is allowed or this is not a mapping.
    public var keys: [String]? {
        switch self {
        case .object(let keys): return keys.map(\.name)
        case .map(let keys, _): return keys
        case .variants(_, let tagged): return tagged.map(\.name)
        default: return nil
        }
    }

    /// The node of the value under `key`.
    public func child(_ key: String) -> SchemaNode? {
        switch self {
        case .object(let keys): return keys.first { $0.name == key }?.node
        case .map(let keys, let value): return keys == nil || keys!.contains(key) ? value : nil
        case .variants(_, let tagged): return tagged.first { $0.name == key }?.node
        default: return nil
        }
    }

    /// The node of a list's items.
    public var item: SchemaNode? {
        if case .list(let item, _) = self { return item }
        return nil
    }
}

/// One key of a mapping: its name, its value's kind and one line saying what it does.
public struct SchemaKey: Sendable {
    public var name: String
    public var node: SchemaNode
    public var summary: String
    public var required: Bool

    public init(_ name: String, _ node: SchemaNode, _ summary: String, required: Bool = false) {
        self.name = name; self.node = node; self.summary = summary; self.required = required
    }
}

/// Scalar grammars shared by the loader and the JSON Schema.
public enum ScalarGrammar {
    public static let duration = #"^[0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h|d)$"#
    public static let rate = #"^[0-9]+(\.[0-9]+)?(/[smh])?$"#
    public static let percentage = #"^[0-9]+(\.[0-9]+)?%$"#
}

/// The scenario format for a set of operation names (the built-ins plus any custom actions).
public struct ScenarioSchema: Sendable {
    public let operations: [String]
    public let root: SchemaNode

    public init(operations: [String] = Operations.builtIn) {
        self.operations = operations
        root = Self.scenario(operations: operations)
    }

    /// The node at a dotted key path (`load.phases[0].rate`); nil for a path the format lacks.
    public func node(at path: String) -> SchemaNode? {
        var node = root
        for part in path.split(separator: ".") where !part.isEmpty {
            var name = Substring(part)
            var indices = 0
            while name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
                name = name[..<open]
                indices += 1
            }
            guard let next = node.child(String(name)) else { return nil }
            node = next
            for _ in 0..<indices {
                guard let item = node.item else { return nil }
                node = item
            }
        }
        return node
    }

    /// The one-line summary of the key at `path`, if it has one.
    public func summary(at path: String) -> String? {
        let parts = path.split(separator: ".")
        guard let last = parts.last else { return nil }
        let name = String(last.prefix { $0 != "[" })
        let parent = node(at: parts.dropLast().joined(separator: "."))
        switch parent {
        case .object(let keys), .variants(_, let keys): return keys.first { $0.name == name }?.summary
        default: return nil
        }
    }

    // MARK: - The format

    static func scenario(operations: [String]) -> SchemaNode {
        .object([
            SchemaKey("name", .text, "shown in reports; also the report directory's name", required: true),
            SchemaKey("description", .text, "one line on what the scenario is for"),
            SchemaKey("seed", .seed, "same seed → same dataset and same intended operations"),
            SchemaKey("clock", .choice(ClockKind.allCases.map(\.rawValue)),
                      "wall (default) or virtual: simulated time, embedded stack only — runs as fast as its work, deterministic"),
            SchemaKey("dataset", dataset, "the seeded dataset loaded before the run"),
            SchemaKey("stack", stack, "settings of the system under test"),
            SchemaKey("load", load(operations: operations), "how requests arrive"),
            SchemaKey("thresholds", thresholds(operations: operations, abort: true),
                      "pass/fail bounds; a failed threshold makes the run exit 10"),
            SchemaKey("capacity", capacity(operations: operations), "how `stacksim capacity` searches for the most load that meets the SLO"),
        ])
    }

    static func capacity(operations: [String]) -> SchemaNode {
        .object([
            SchemaKey("dimension", .choice(CapacitySettings.Dimension.allCases.map(\.rawValue)),
                      "rate (open model), users (closed) or organizations (open, dataset re-seeded per probe); default: the model's"),
            SchemaKey("start", .rate(allowZero: false), "the first probe's load (default: the scenario's own)"),
            SchemaKey("min", .rate(allowZero: false), "the lowest load tried when the start fails (default: start / 16)"),
            SchemaKey("max", .rate(allowZero: false), "the highest load tried (default: start × 1024)"),
            SchemaKey("growth", .number(1.05...100), "each probe's load × this while probes hold, before bisecting"),
            SchemaKey("precision", .fraction, "converged when the highest load held and the lowest not held are this close"),
            SchemaKey("warmup", .duration(allowZero: true), "each probe's warm-up, run but not judged"),
            SchemaKey("probe", .duration(allowZero: false), "each probe's judged length"),
            SchemaKey("confirm", .duration(allowZero: false), "the confirmation run at the answer (default: three probes)"),
            SchemaKey("max_probes", .integer(2...1000), "search probes at most, repeats included"),
            SchemaKey("repeats", .integer(0...10), "runs again (samples pooled) of a probe whose verdict is within noise"),
            SchemaKey("confidence", .fraction, "confidence of each verdict's interval: 50% to 99.99%"),
            SchemaKey("rate_per_org", .rate(allowZero: false), "organizations: arrivals per second each organization sends"),
            SchemaKey("slo", thresholds(operations: operations, abort: false), "what a probe must meet (default: the scenario's thresholds)"),
        ])
    }

    static let dataset = SchemaNode.object([
        SchemaKey("organizations", .integer(1...100_000), "tenants"),
        SchemaKey("users_per_org", size(minimum: 1), "members per organization: a number, {uniform: {min, max}} or {zipf: {min, max, s}}"),
        SchemaKey("tasks_per_user", size(minimum: 0), "tasks assigned per user: a size, as users_per_org"),
        SchemaKey("sprints_per_org", .integer(1...1000), "two-week sprints around today: older closed, one active, the rest planned"),
    ])

    static func size(minimum: Int) -> SchemaNode {
        let count = SchemaNode.integer(minimum...1_000_000)
        return .variants(scalar: count, tagged: [
            SchemaKey("uniform", .object([
                SchemaKey("min", count, "smallest size", required: true),
                SchemaKey("max", count, "largest size (≥ min)", required: true),
            ]), "every size in min...max equally likely"),
            SchemaKey("zipf", .object([
                SchemaKey("min", count, "smallest size", required: true),
                SchemaKey("max", count, "largest size (≥ min)", required: true),
                SchemaKey("s", .number(0.01...100), "skew: higher means more small ones (default 1.1)"),
            ]), "many small, a few large"),
        ])
    }

    static let delay = SchemaNode.variants(scalar: .duration(allowZero: true), tagged: [
        SchemaKey("fixed", .duration(allowZero: true), "always this long"),
        SchemaKey("uniform", .object([
            SchemaKey("min", .duration(allowZero: true), "shortest", required: true),
            SchemaKey("max", .duration(allowZero: true), "longest (≥ min)", required: true),
        ]), "every duration in min...max equally likely"),
        SchemaKey("exponential", .object([SchemaKey("mean", .duration(allowZero: false), "the mean", required: true)]),
                  "memoryless, with this mean"),
    ])

    static let stack = SchemaNode.object([
        SchemaKey("cache", .object([
            SchemaKey("task_stats_ttl", .duration(allowZero: false), "task_stats:{org}, read-through (seed 000)"),
            SchemaKey("dashboard_ttl", .duration(allowZero: false), "dashboard:{user}:{org}, read-through (seed 000)"),
        ]), "read-through cache lifetimes"),
        SchemaKey("sync", .object([
            SchemaKey("strategy", .choice(["per-task", "update-many"]), "per-task (one update per task, as the seed) or update-many"),
            SchemaKey("workers", .integer(1...256), "snapshot-sync worker actors draining the job queue"),
            SchemaKey("batch_size", .integer(1...100_000), "users per bulk upsert in the batch sync and the consistency check"),
        ]), "the user-snapshot sync from PostgreSQL to MongoDB"),
        SchemaKey("pool", .object([
            SchemaKey("max", .integer(1...10_000), "connections at most"),
            SchemaKey("connect_timeout", .duration(allowZero: false), "how long opening a connection may take"),
            SchemaKey("idle_timeout", .duration(allowZero: false), "an unused connection is closed after this"),
            SchemaKey("wait_timeout", .duration(allowZero: false), "how long a call waits for a free connection before 'pool_timeout'"),
            SchemaKey("call_timeout", .duration(allowZero: false), "how long one store call may take before 'timeout'"),
        ]), "each store's connection pool and deadlines on a live target (seed 002)"),
        SchemaKey("app_workers", .integer(1...100_000), "requests the simulated app serves at once; the rest queue"),
        SchemaKey("rate_limit", .object([SchemaKey("per_minute", .integer(1...10_000_000), "requests", required: true)]),
                  "requests per user per minute before 'rate_limited' (seed 003)"),
        SchemaKey("sessions", .object([SchemaKey("ttl", .duration(allowZero: false), "lifetime", required: true)]),
                  "session lifetime (seed 003)"),
        SchemaKey("sprint_length", .duration(allowZero: false), "run time each tenant's active sprint lasts before it closes"),
        SchemaKey("embedded", .object(Operations.storeCalls.map { store, calls in
            SchemaKey(store, knobs(calls: calls), "knobs of the embedded \(store) store")
        }), "service-time and failure knobs of the embedded stores: postgres, mongo, redis"),
    ])

    /// A store's knobs; with `calls`, the store-wide ones and overrides for those calls by name.
    static func knobs(calls: [String]?) -> SchemaNode {
        var keys = [SchemaKey("latency", delay, "added service time per call: a duration, {uniform: {min, max}} or {exponential: {mean}}")]
        if calls != nil {
            keys.append(SchemaKey("stall", .object([
                SchemaKey("every", .duration(allowZero: false), "period", required: true),
                SchemaKey("for", .duration(allowZero: false), "pause (shorter than the period)", required: true),
            ]), "a periodic pause: calls wait it out"))
        }
        keys.append(SchemaKey("errors", .fraction, "fraction of calls that fail"))
        keys.append(SchemaKey("servers", .integer(1...100_000),
                              "service slots: calls served at once, the rest wait (queue time); on a call, a station of its own"))
        if let calls {
            keys.append(SchemaKey("outage", .object([
                SchemaKey("at", .duration(allowZero: true), "start, after the run began", required: true),
                SchemaKey("for", .duration(allowZero: false), "length", required: true),
            ]), "every call fails at once ('unavailable') for a while: a store going down and coming back"))
            keys.append(SchemaKey("operations", .map(keys: calls, value: knobs(calls: nil)),
                                  "per store-call overrides of latency, errors and servers, by the call names reports show"))
        }
        return .object(keys)
    }

    static func load(operations: [String]) -> SchemaNode {
        .object([
            SchemaKey("model", .choice(LoadModel.allCases.map(\.rawValue)), "open (arrivals at a rate) or closed (users with think time)"),
            SchemaKey("arrivals", .choice(ArrivalProcess.allCases.map(\.rawValue)), "poisson or uniform inter-arrival times (open model)"),
            SchemaKey("think_time", delay, "closed model: pause between a user's requests"),
            SchemaKey("user_choice", .choice(UserChoice.all), "which user an arrival belongs to: uniform, zipf, latest, hotspot"),
            SchemaKey("schedule_tolerance", .duration(allowZero: false), "arrivals dispatched later than this count as schedule lag"),
            SchemaKey("max_late_fraction", .fraction, "more late arrivals than this makes the run invalid (exit 12)"),
            SchemaKey("max_rate", .rate(allowZero: false), "a cap on every phase's instantaneous arrival rate"),
            SchemaKey("graceful_stop", .duration(allowZero: true), "after the load, queued requests get this long to start; the rest are 'abandoned' errors"),
            SchemaKey("max_outstanding", .integer(1...Int(Int32.max)),
                      "open model: requests sent and unfinished at most; arrivals beyond are dropped and counted (default: what memory holds)"),
            SchemaKey("phases", .list(phase(operations: operations), minItems: 1),
                      "run in order; each: name, duration, rate (open) or users (closed), record and an optional mix"),
            SchemaKey("mix", mix(operations: operations), "relative weights of the operations"),
        ])
    }

    static func mix(operations: [String]) -> SchemaNode {
        .map(keys: operations, value: .number(0...ScenarioLimits.maxWeight))
    }

    static func phase(operations: [String]) -> SchemaNode {
        let rate = SchemaNode.rate(allowZero: true)
        let rateShape = SchemaNode.variants(scalar: .rate(allowZero: false), tagged: [
            SchemaKey("ramp", .object([
                SchemaKey("from", rate, "rate at the start", required: true),
                SchemaKey("to", rate, "rate at the end", required: true),
            ]), "linear from one rate to another"),
            SchemaKey("steps", .list(rate, minItems: 1), "equal-length steps through the listed rates"),
            SchemaKey("spike", .object([
                SchemaKey("baseline", rate, "rate outside the spike", required: true),
                SchemaKey("peak", .rate(allowZero: false), "rate during the spike", required: true),
                SchemaKey("at", .duration(allowZero: true), "start, into the phase (default: half way)"),
                SchemaKey("for", .duration(allowZero: false), "length (ends within the phase)", required: true),
            ]), "a burst"),
            SchemaKey("sine", .object([
                SchemaKey("mean", .rate(allowZero: false), "centre", required: true),
                SchemaKey("amplitude", rate, "swing either side (≤ mean)", required: true),
                SchemaKey("period", .duration(allowZero: false), "one full wave", required: true),
            ]), "a wave"),
        ])
        let users = SchemaNode.integer(0...1_000_000)
        let userShape = SchemaNode.variants(scalar: .integer(1...1_000_000), tagged: [
            SchemaKey("ramp", .object([
                SchemaKey("from", users, "users at the start", required: true),
                SchemaKey("to", users, "users at the end", required: true),
            ]), "linear from one count to another"),
        ])
        return .object([
            SchemaKey("name", .text, "shown in reports and the per-phase breakdown", required: true),
            SchemaKey("duration", .duration(allowZero: false), "how long the phase runs", required: true),
            SchemaKey("rate", rateShape, "open model: arrivals per second, or a shape (ramp, steps, spike, sine)"),
            SchemaKey("users", userShape, "closed model: active users, or {ramp: {from, to}}"),
            SchemaKey("record", .boolean, "false for a warm-up: run but not counted in the totals"),
            SchemaKey("mix", mix(operations: operations), "this phase's weights instead of the load's"),
        ])
    }

    /// Threshold bounds; `abort`: with `abort_on_fail` and `abort_after` (a run's, not an SLO's).
    static func thresholds(operations: [String], abort: Bool) -> SchemaNode {
        let latency = Threshold.percentiles.map { SchemaKey($0, .duration(allowZero: true), "upper bound on this percentile") }
        let aborts = abort ? [SchemaKey("abort_on_fail", .boolean, "stop the run as soon as this fails (after abort_after)")] : []
        let perOperation = SchemaNode.object(latency + [
            SchemaKey("errors", .fraction, "upper bound on the error fraction"),
            SchemaKey("throughput", .rate(allowZero: false), "a floor on successful requests per second"),
        ] + aborts + [
            SchemaKey("include_failed", .boolean, "latency bounds over failed requests too (default: successful requests only)"),
        ])
        let families = Operations.cacheFamilies.map { SchemaKey($0, .fraction, "a floor on this cache family's hit ratio") }
        return .object(operations.map { SchemaKey($0, perOperation, "bounds on this operation") } + [
            SchemaKey("all", perOperation, "bounds on every operation"),
            SchemaKey("snapshot-lag", .object(latency + aborts), "profile commit → all task snapshots updated"),
            SchemaKey("errors", .object([SchemaKey("rate", .fraction, "upper bound")] + aborts), "the whole run's error rate"),
            SchemaKey("cache-hit-ratio", .object(families), "floors per cache family"),
        ] + (abort ? [SchemaKey("abort_after", .duration(allowZero: true), "recorded load before abort_on_fail thresholds may stop a run")] : []))
    }
}
