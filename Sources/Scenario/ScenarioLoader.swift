import Foundation
import Yams

/// Reads scenario YAML into the model. Unknown keys, wrong types and impossible values are
/// errors naming the file, line and what was expected; nothing partial is returned.
public struct ScenarioLoader {
    /// Operation names a mix or threshold may use.
    public var knownOperations: [String]

    public init(knownOperations: [String] = Operations.builtIn) {
        self.knownOperations = knownOperations
    }

    public func load(file: String) throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ScenarioError(file: file, line: 0, column: 0, path: "", message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(file: file, line: 0, column: 0, path: "", message: "the file is not UTF-8 text")
        }
        return try parse(text, file: file)
    }

    public func parse(_ text: String, file: String) throws -> Scenario {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScenarioError(file: file, line: 1, column: 1, path: "", message: "the file is empty; expected a scenario mapping")
            }
            root = node
        } catch let error as YamlError {
            throw Self.locate(error, file: file)
        }
        let doc = try YAMLValue(node: root, path: "", file: file)
            .fields(allowed: ["name", "description", "seed", "dataset", "stack", "load", "thresholds"])
        var scenario = Scenario(name: try doc.required("name").string())
        scenario.file = file
        if let v = doc["description"] { scenario.description = try v.string() }
        if let v = doc["seed"] {
            let text = try v.scalar(expected: "a seed (a whole number)")
            guard let seed = UInt64(text) else { throw v.error("expected a seed (a whole number ≥ 0), got '\(text)'") }
            scenario.seed = seed
        }
        if let v = doc["dataset"] { scenario.dataset = try dataset(v) }
        if let v = doc["stack"] { scenario.stack = try stack(v) }
        if let v = doc["load"] { scenario.load = try load(v) }
        if let v = doc["thresholds"] { try thresholds(v, into: &scenario) }
        return scenario
    }

    static func locate(_ error: YamlError, file: String) -> ScenarioError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ScenarioError(file: file, line: mark.line, column: mark.column, path: "", message: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            return ScenarioError(file: file, line: context.mark.line, column: context.mark.column, path: "",
                                 message: "key \(keys) appears more than once in the mapping that starts here")
        default:
            return ScenarioError(file: file, line: 0, column: 0, path: "", message: "not valid YAML: \(error)")
        }
    }

    // MARK: - Sections

    func dataset(_ value: YAMLValue) throws -> DatasetSettings {
        let f = try value.fields(allowed: ["organizations", "users_per_org", "tasks_per_user", "sprints_per_org"])
        var d = DatasetSettings()
        if let v = f["organizations"] { d.organizations = try v.int(in: 1...100_000) }
        if let v = f["users_per_org"] { d.usersPerOrganization = try size(v, minimum: 1) }
        if let v = f["tasks_per_user"] { d.tasksPerUser = try size(v, minimum: 0) }
        if let v = f["sprints_per_org"] { d.sprintsPerOrganization = try v.int(in: 1...1000) }
        return d
    }

    /// `40`, `{uniform: {min: 1, max: 9}}` or `{zipf: {min: 3, max: 500, s: 1.1}}`.
    func size(_ value: YAMLValue, minimum: Int) throws -> SizeSpec {
        if case .scalar = value.node { return .constant(try value.int(in: minimum...1_000_000)) }
        let (kind, body) = try single(value, of: ["uniform", "zipf"], or: "a number")
        let b = try body.fields(allowed: kind == "zipf" ? ["min", "max", "s"] : ["min", "max"])
        let lo = try b.required("min").int(in: minimum...1_000_000)
        let hiValue = try b.required("max")
        let hi = try hiValue.int(in: minimum...1_000_000)
        guard hi >= lo else { throw hiValue.error("expected max ≥ min (\(lo)), got \(hi)") }
        if kind == "uniform" { return .uniform(min: lo, max: hi) }
        let s = try b["s"]?.double(minimum: 0.01) ?? 1.1
        return .zipf(min: lo, max: hi, s: s)
    }

    /// `2ms`, `{uniform: {min: 1ms, max: 3ms}}` or `{exponential: {mean: 1ms}}`.
    func delay(_ value: YAMLValue) throws -> DelaySpec {
        if case .scalar = value.node { return .fixed(try value.duration(positive: false)) }
        let (kind, body) = try single(value, of: ["fixed", "uniform", "exponential"], or: "a duration")
        switch kind {
        case "fixed": return .fixed(try body.duration(positive: false))
        case "exponential": return .exponential(mean: try body.fields(allowed: ["mean"]).required("mean").duration())
        default:
            let b = try body.fields(allowed: ["min", "max"])
            let lo = try b.required("min").duration(positive: false)
            let hiValue = try b.required("max")
            let hi = try hiValue.duration(positive: false)
            guard hi >= lo else { throw hiValue.error("expected max ≥ min") }
            return .uniform(min: lo, max: hi)
        }
    }

    func stack(_ value: YAMLValue) throws -> StackSettings {
        let f = try value.fields(allowed: ["cache", "sync", "postgres_pool", "app_workers", "rate_limit", "sessions",
                                           "sprint_length", "embedded"])
        var s = StackSettings()
        if let v = f["cache"] {
            let c = try v.fields(allowed: ["task_stats_ttl", "dashboard_ttl"])
            if let t = c["task_stats_ttl"] { s.taskStatsTTL = try t.duration() }
            if let t = c["dashboard_ttl"] { s.dashboardTTL = try t.duration() }
        }
        if let v = f["sync"] {
            let c = try v.fields(allowed: ["strategy", "workers", "batch_size"])
            if let t = c["strategy"] { s.syncStrategy = try t.oneOf(["per-task", "update-many"]) }
            if let t = c["workers"] { s.syncWorkers = try t.int(in: 1...256) }
            if let t = c["batch_size"] { s.batchSize = try t.int(in: 1...100_000) }
        }
        if let v = f["postgres_pool"] {
            s.poolMax = try v.fields(allowed: ["max"]).required("max").int(in: 1...10_000)
        }
        if let v = f["app_workers"] { s.appWorkers = try v.int(in: 1...100_000) }
        if let v = f["rate_limit"] { s.rateLimitPerMinute = try v.fields(allowed: ["per_minute"]).required("per_minute").int(in: 1...10_000_000) }
        if let v = f["sessions"] { s.sessionTTL = try v.fields(allowed: ["ttl"]).required("ttl").duration() }
        if let v = f["sprint_length"] { s.sprintLength = try v.duration() }
        if let v = f["embedded"] {
            for (store, body) in try v.entries(allowed: ["postgres", "mongo", "redis"]) {
                s.embedded[store] = try knobs(body, allowOperations: true)
            }
        }
        return s
    }

    func knobs(_ value: YAMLValue, allowOperations: Bool) throws -> StoreKnobSpec {
        let keys = allowOperations ? ["latency", "stall", "errors", "operations"] : ["latency", "errors"]
        let f = try value.fields(allowed: keys)
        var k = StoreKnobSpec()
        if let v = f["latency"] { k.latency = try delay(v) }
        if let v = f["stall"] {
            let st = try v.fields(allowed: ["every", "for"])
            let every = try st.required("every").duration()
            let forValue = try st.required("for")
            let duration = try forValue.duration()
            guard duration < every else { throw forValue.error("expected a stall shorter than its period (\(every))") }
            k.stallEvery = every
            k.stallFor = duration
        }
        if let v = f["errors"] { k.errorRate = try v.fraction() }
        if let v = f["operations"] {
            for (name, body) in try v.entries(allowed: nil) { k.operations[name] = try knobs(body, allowOperations: false) }
        }
        return k
    }

    func load(_ value: YAMLValue) throws -> LoadSettings {
        let f = try value.fields(allowed: ["model", "arrivals", "think_time", "user_choice", "phases", "mix", "schedule_tolerance",
                                           "max_late_fraction", "max_rate"])
        var l = LoadSettings()
        if let v = f["model"] { l.model = LoadModel(rawValue: try v.oneOf(LoadModel.allCases.map(\.rawValue)))! }
        if let v = f["arrivals"] { l.arrivals = ArrivalProcess(rawValue: try v.oneOf(ArrivalProcess.allCases.map(\.rawValue)))! }
        if let v = f["think_time"] { l.thinkTime = try delay(v) }
        if let v = f["user_choice"] { l.userChoice = try v.oneOf(["uniform", "zipf", "latest", "hotspot"]) }
        if let v = f["schedule_tolerance"] { l.scheduleTolerance = try v.duration() }
        if let v = f["max_late_fraction"] { l.maxLateFraction = try v.fraction() }
        if let v = f["max_rate"] { l.maxRate = try v.rate() }
        if let v = f["mix"] { l.mix = try mix(v) }
        if let v = f["phases"] {
            let items = try v.list()
            guard !items.isEmpty else { throw v.error("expected at least one phase") }
            l.phases = try items.map { try phase($0, model: l.model) }
        } else if l.model == .closed {
            l.phases = l.phases.map { Phase(name: $0.name, duration: $0.duration, users: .constant(10)) }
        }
        return l
    }

    func mix(_ value: YAMLValue) throws -> [MixEntry] {
        let entries = try value.entries(allowed: knownOperations).map { MixEntry(operation: $0.key, weight: try $0.value.double(minimum: 0)) }
        guard entries.contains(where: { $0.weight > 0 }) else { throw value.error("expected at least one operation with a weight above zero") }
        return entries
    }

    func phase(_ value: YAMLValue, model: LoadModel) throws -> Phase {
        let f = try value.fields(allowed: ["name", "duration", "rate", "users", "record", "mix"])
        var p = Phase(name: try f.required("name").string(), duration: try f.required("duration").duration())
        switch model {
        case .open:
            p.rate = try rateShape(try f.required("rate"), phaseLength: p.duration)
            if let users = f["users"] { throw users.error("'users' belongs to the closed model; this scenario's load.model is open") }
        case .closed:
            p.users = try userShape(try f.required("users"))
            if let rate = f["rate"] { throw rate.error("'rate' belongs to the open model; this scenario's load.model is closed") }
        }
        if let v = f["record"] { p.record = try v.bool() }
        if let v = f["mix"] { p.mix = try mix(v) }
        return p
    }

    /// `200/s`, `{ramp: {from, to}}`, `{steps: [..]}`, `{spike: {baseline, peak, at, for}}` or
    /// `{sine: {mean, amplitude, period}}`.
    func rateShape(_ value: YAMLValue, phaseLength: Duration) throws -> RateShape {
        if case .scalar = value.node { return .constant(try value.rate()) }
        let (kind, body) = try single(value, of: ["ramp", "steps", "spike", "sine"], or: "a rate like 200/s")
        switch kind {
        case "ramp":
            let b = try body.fields(allowed: ["from", "to"])
            return .ramp(from: try b.required("from").rate(allowZero: true), to: try b.required("to").rate(allowZero: true))
        case "steps":
            let rates = try body.list().map { try $0.rate(allowZero: true) }
            guard !rates.isEmpty else { throw body.error("expected at least one rate") }
            return .steps(rates)
        case "spike":
            let b = try body.fields(allowed: ["baseline", "peak", "at", "for"])
            let at = try b["at"]?.duration(positive: false) ?? phaseLength / 2
            let forValue = try b.required("for")
            let duration = try forValue.duration()
            guard at + duration <= phaseLength else { throw forValue.error("expected the spike to end within the phase (\(phaseLength))") }
            return .spike(baseline: try b.required("baseline").rate(allowZero: true), peak: try b.required("peak").rate(),
                          at: at, duration: duration)
        default:
            let b = try body.fields(allowed: ["mean", "amplitude", "period"])
            let mean = try b.required("mean").rate()
            let amplitudeValue = try b.required("amplitude")
            let amplitude = try amplitudeValue.rate(allowZero: true)
            guard amplitude <= mean else { throw amplitudeValue.error("expected an amplitude no larger than the mean (\(mean)/s), so the rate never goes below zero") }
            return .sine(mean: mean, amplitude: amplitude, period: try b.required("period").duration())
        }
    }

    /// `10` or `{ramp: {from: 1, to: 50}}`.
    func userShape(_ value: YAMLValue) throws -> UserShape {
        if case .scalar = value.node { return .constant(try value.int(in: 1...1_000_000)) }
        let (_, body) = try single(value, of: ["ramp"], or: "a user count")
        let b = try body.fields(allowed: ["from", "to"])
        return .ramp(from: try b.required("from").int(in: 0...1_000_000), to: try b.required("to").int(in: 0...1_000_000))
    }

    /// A mapping with exactly one of `kinds` as its key.
    func single(_ value: YAMLValue, of kinds: [String], or scalar: String) throws -> (String, YAMLValue) {
        let entries = try value.entries(allowed: kinds)
        guard entries.count == 1 else { throw value.error("expected \(scalar) or exactly one of \(kinds.joined(separator: ", "))") }
        return entries[0]
    }

    func thresholds(_ value: YAMLValue, into scenario: inout Scenario) throws {
        let percentiles = ["p50", "p90", "p99", "p999", "max"]
        let abortKeys = ["abort_on_fail"]
        for (target, body) in try value.entries(allowed: knownOperations + ["all", "snapshot-lag", "errors", "cache-hit-ratio", "abort_after"]) {
            if target == "abort_after" {
                scenario.abortAfter = try body.duration(positive: false)
                continue
            }
            let allowed: [String]? = switch target {
            case "errors": ["rate"] + abortKeys
            case "snapshot-lag": percentiles + abortKeys
            case "cache-hit-ratio": nil
            default: percentiles + ["errors", "throughput"] + abortKeys
            }
            let entries = try body.entries(allowed: allowed)
            let abort = try entries.first { $0.key == "abort_on_fail" }?.value.bool() ?? false
            for (metric, limitValue) in entries where metric != "abort_on_fail" {
                let location = "\(limitValue.file):\(limitValue.node.mark?.line ?? 0)"
                let limit: Double
                var name = metric
                if percentiles.contains(metric) {
                    limit = try limitValue.duration(positive: false).seconds * 1000
                } else if metric == "throughput" {
                    limit = try limitValue.rate()
                } else {
                    limit = try limitValue.fraction()
                    if metric == "errors" { name = "rate" }
                }
                scenario.thresholds.append(Threshold(target: target, metric: name, limit: limit, abortOnFail: abort, location: location))
            }
        }
    }
}

extension Duration {
    /// Seconds as a floating-point number.
    var seconds: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }
}
