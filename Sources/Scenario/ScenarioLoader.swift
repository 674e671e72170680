import Foundation
import Yams

/// Reads scenario YAML into the model. Unknown keys, wrong types and impossible values are
/// errors naming the file, line and what was expected; nothing partial is returned.
public struct ScenarioLoader {
    /// Operation names a mix or threshold may use.
    public var knownOperations: [String] { schema.operations }
    public let schema: ScenarioSchema

    public init(knownOperations: [String] = Operations.builtIn) {
        schema = ScenarioSchema(operations: knownOperations)
    }

    public func load(file: String) throws -> Scenario {
        try parse(try Self.read(file), file: file)
    }

    /// A file's text, or a located error saying why it cannot be read.
    public static func read(_ file: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ScenarioError(file: file, line: 0, column: 0, path: "", message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(file: file, line: 0, column: 0, path: "", message: "the file is not UTF-8 text")
        }
        return text
    }

    /// The YAML tree of a scenario text, with YAML errors located.
    public static func compose(_ text: String, file: String) throws -> Node {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ScenarioError(file: file, line: 1, column: 1, path: "", message: "the file is empty; expected a scenario mapping")
            }
            return node
        } catch let error as YamlError {
            throw locate(error, file: file)
        }
    }

    public func parse(_ text: String, file: String) throws -> Scenario {
        let root = try Self.compose(text, file: file)
        let doc = try YAMLValue(node: root, path: "", file: file, schema: schema.root).fields()
        var scenario = Scenario(name: try doc.required("name").string())
        scenario.file = file
        if let v = doc["description"] { scenario.description = try v.string() }
        if let v = doc["seed"] { scenario.seed = try v.seed() }
        if let v = doc["clock"] { scenario.clock = ClockKind(rawValue: try v.choice())! }
        if let v = doc["dataset"] { scenario.dataset = try dataset(v) }
        if let v = doc["stack"] { scenario.stack = try stack(v) }
        if let v = doc["load"] { scenario.load = try load(v) }
        if let v = doc["thresholds"] {
            let (bounds, abortAfter) = try thresholds(v)
            scenario.thresholds = bounds
            if let abortAfter { scenario.abortAfter = abortAfter }
        }
        if let v = doc["capacity"] { scenario.capacity = try capacity(v, model: scenario.load.model) }
        if let (path, message) = ScenarioLimits.current.violation(in: scenario) {
            let mark = Self.node(at: path, in: root)?.mark
            throw ScenarioError(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, path: path, message: message)
        }
        return scenario
    }

    /// The node at a dotted path of mapping keys, when the file has it.
    static func node(at path: String, in root: Node) -> Node? {
        path.split(separator: ".").reduce(Optional(root)) { node, key in node?.mapping?[Node(String(key))] }
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
        let f = try value.fields()
        var d = DatasetSettings()
        if let v = f["organizations"] { d.organizations = try v.int() }
        if let v = f["users_per_org"] { d.usersPerOrganization = try size(v) }
        if let v = f["tasks_per_user"] { d.tasksPerUser = try size(v) }
        if let v = f["sprints_per_org"] { d.sprintsPerOrganization = try v.int() }
        return d
    }

    /// `40`, `{uniform: {min: 1, max: 9}}` or `{zipf: {min: 3, max: 500, s: 1.1}}`.
    func size(_ value: YAMLValue) throws -> SizeSpec {
        let (kind, body) = try value.variant()
        guard let kind else { return .constant(try body.int()) }
        let b = try body.fields()
        let lo = try b.required("min").int()
        let hiValue = try b.required("max")
        let hi = try hiValue.int()
        guard hi >= lo else { throw hiValue.error("expected max ≥ min (\(lo)), got \(hi)") }
        if kind == "uniform" { return .uniform(min: lo, max: hi) }
        return .zipf(min: lo, max: hi, s: try b["s"]?.double() ?? SizeSpec.defaultZipfSkew)
    }

    /// `2ms`, `{uniform: {min: 1ms, max: 3ms}}` or `{exponential: {mean: 1ms}}`.
    func delay(_ value: YAMLValue) throws -> DelaySpec {
        let (kind, body) = try value.variant()
        switch kind {
        case nil, "fixed": return .fixed(try body.duration())
        case "exponential": return .exponential(mean: try body.fields().required("mean").duration())
        default:
            let b = try body.fields()
            let lo = try b.required("min").duration()
            let hiValue = try b.required("max")
            let hi = try hiValue.duration()
            guard hi >= lo else { throw hiValue.error("expected max ≥ min") }
            return .uniform(min: lo, max: hi)
        }
    }

    func stack(_ value: YAMLValue) throws -> StackSettings {
        let f = try value.fields()
        var s = StackSettings()
        if let v = f["cache"] {
            let c = try v.fields()
            if let t = c["task_stats_ttl"] { s.taskStatsTTL = try t.duration() }
            if let t = c["dashboard_ttl"] { s.dashboardTTL = try t.duration() }
        }
        if let v = f["sync"] {
            let c = try v.fields()
            if let t = c["strategy"] { s.syncStrategy = try t.choice() }
            if let t = c["workers"] { s.syncWorkers = try t.int() }
            if let t = c["batch_size"] { s.batchSize = try t.int() }
        }
        if let v = f["pool"] {
            let p = try v.fields()
            if let t = p["max"] { s.pool.max = try t.int() }
            if let t = p["connect_timeout"] { s.pool.connectTimeout = try t.duration() }
            if let t = p["idle_timeout"] { s.pool.idleTimeout = try t.duration() }
            if let t = p["wait_timeout"] { s.pool.waitTimeout = try t.duration() }
            if let t = p["call_timeout"] { s.pool.callTimeout = try t.duration() }
        }
        if let v = f["app_workers"] { s.appWorkers = try v.int() }
        if let v = f["rate_limit"] { s.rateLimitPerMinute = try v.fields().required("per_minute").int() }
        if let v = f["sessions"] { s.sessionTTL = try v.fields().required("ttl").duration() }
        if let v = f["sprint_length"] { s.sprintLength = try v.duration() }
        if let v = f["embedded"] {
            for (store, body) in try v.entries() { s.embedded[store] = try knobs(body) }
        }
        return s
    }

    func knobs(_ value: YAMLValue) throws -> StoreKnobSpec {
        let f = try value.fields()
        var k = StoreKnobSpec()
        if let v = f["latency"] { k.latency = try delay(v) }
        if let v = f["stall"] {
            let st = try v.fields()
            let every = try st.required("every").duration()
            let forValue = try st.required("for")
            let duration = try forValue.duration()
            guard duration < every else { throw forValue.error("expected a stall shorter than its period (\(every))") }
            k.stallEvery = every
            k.stallFor = duration
        }
        if let v = f["outage"] {
            let o = try v.fields()
            k.outageAt = try o.required("at").duration()
            k.outageFor = try o.required("for").duration()
        }
        if let v = f["errors"] { k.errorRate = try v.fraction() }
        if let v = f["servers"] { k.servers = try v.int() }
        if let v = f["operations"] {
            for (name, body) in try v.entries() { k.operations[name] = try knobs(body) }
        }
        return k
    }

    func load(_ value: YAMLValue) throws -> LoadSettings {
        let f = try value.fields()
        var l = LoadSettings()
        if let v = f["model"] { l.model = LoadModel(rawValue: try v.choice())! }
        if let v = f["arrivals"] { l.arrivals = ArrivalProcess(rawValue: try v.choice())! }
        if let v = f["think_time"] { l.thinkTime = try delay(v) }
        if let v = f["user_choice"] { l.userChoice = try v.choice() }
        if let v = f["schedule_tolerance"] { l.scheduleTolerance = try v.duration() }
        if let v = f["max_late_fraction"] { l.maxLateFraction = try v.fraction() }
        if let v = f["max_rate"] { l.maxRate = try v.rate() }
        if let v = f["graceful_stop"] { l.gracefulStop = try v.duration() }
        if let v = f["max_outstanding"] { l.maxOutstanding = try v.int() }
        if let v = f["mix"] { l.mix = try mix(v) }
        if let v = f["phases"] {
            l.phases = try v.list().map { try phase($0, model: l.model) }
        } else if l.model == .closed {
            l.phases = LoadSettings.defaultClosedPhases
        }
        return l
    }

    func mix(_ value: YAMLValue) throws -> [MixEntry] {
        let entries = try value.entries().map { MixEntry(operation: $0.key, weight: try $0.value.double()) }
        guard entries.contains(where: { $0.weight > 0 }) else { throw value.error("expected at least one operation with a weight above zero") }
        return entries
    }

    func phase(_ value: YAMLValue, model: LoadModel) throws -> Phase {
        let f = try value.fields()
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
        let (kind, body) = try value.variant()
        switch kind {
        case nil: return .constant(try body.rate())
        case "ramp":
            let b = try body.fields()
            return .ramp(from: try b.required("from").rate(), to: try b.required("to").rate())
        case "steps":
            return .steps(try body.list().map { try $0.rate() })
        case "spike":
            let b = try body.fields()
            let at = try b["at"]?.duration() ?? phaseLength / 2
            let forValue = try b.required("for")
            let duration = try forValue.duration()
            guard at + duration <= phaseLength else { throw forValue.error("expected the spike to end within the phase (\(phaseLength))") }
            return .spike(baseline: try b.required("baseline").rate(), peak: try b.required("peak").rate(), at: at, duration: duration)
        default:
            let b = try body.fields()
            let mean = try b.required("mean").rate()
            let amplitudeValue = try b.required("amplitude")
            let amplitude = try amplitudeValue.rate()
            guard amplitude <= mean else { throw amplitudeValue.error("expected an amplitude no larger than the mean (\(mean)/s), so the rate never goes below zero") }
            return .sine(mean: mean, amplitude: amplitude, period: try b.required("period").duration())
        }
    }

    /// `10` or `{ramp: {from: 1, to: 50}}`.
    func userShape(_ value: YAMLValue) throws -> UserShape {
        let (kind, body) = try value.variant()
        guard kind != nil else { return .constant(try body.int()) }
        let b = try body.fields()
        return .ramp(from: try b.required("from").int(), to: try b.required("to").int())
    }

    /// The bounds under `thresholds` (or `capacity.slo`), and `abort_after` when given.
    func thresholds(_ value: YAMLValue) throws -> ([Threshold], Duration?) {
        var bounds: [Threshold] = []
        var abortAfter: Duration?
        for (target, body) in try value.entries() {
            if target == "abort_after" {
                abortAfter = try body.duration()
                continue
            }
            let entries = try body.entries()
            let abort = try entries.first { $0.key == "abort_on_fail" }?.value.bool() ?? false
            let includeFailed = try entries.first { $0.key == "include_failed" }?.value.bool() ?? false
            for (metric, limitValue) in entries where metric != "abort_on_fail" && metric != "include_failed" {
                let location = "\(limitValue.file):\(limitValue.node.mark?.line ?? 0)"
                let limit: Double
                var name = metric
                if Threshold.percentiles.contains(metric) {
                    limit = try limitValue.duration().seconds * 1000
                } else if metric == "throughput" {
                    limit = try limitValue.rate()
                } else {
                    limit = try limitValue.fraction()
                    if metric == "errors" { name = "rate" }
                }
                bounds.append(Threshold(target: target, metric: name, limit: limit, abortOnFail: abort, includeFailed: includeFailed,
                                        location: location))
            }
        }
        return (bounds, abortAfter)
    }

    func capacity(_ value: YAMLValue, model: LoadModel) throws -> CapacitySettings {
        let f = try value.fields()
        var c = CapacitySettings()
        if let v = f["dimension"] {
            let dimension = CapacitySettings.Dimension(rawValue: try v.choice())!
            let wanted: LoadModel = dimension == .users ? .closed : .open
            guard wanted == model else {
                throw v.error("the '\(dimension.rawValue)' dimension needs load.model: \(wanted.rawValue); this scenario's is \(model.rawValue)")
            }
            c.dimension = dimension
        }
        let whole = c.dimension(for: model).isWhole
        func load(_ key: String) throws -> Double? {
            guard let v = f[key] else { return nil }
            let load = try v.rate()
            if whole, load != load.rounded() || load < 1 {
                throw v.error("expected a whole number of \(c.dimension(for: model).rawValue), got \(ScenarioText.number(load))")
            }
            return load
        }
        c.start = try load("start")
        c.minimum = try load("min")
        c.maximum = try load("max")
        if let lo = c.minimum, let hi = c.maximum, lo > hi { throw f["max"]!.error("expected max ≥ min (\(ScenarioText.number(lo)))") }
        if let start = c.start, let lo = c.minimum, start < lo { throw f["start"]!.error("expected start ≥ min (\(ScenarioText.number(lo)))") }
        if let start = c.start, let hi = c.maximum, start > hi { throw f["start"]!.error("expected start ≤ max (\(ScenarioText.number(hi)))") }
        if let v = f["growth"] { c.growth = try v.double() }
        if let v = f["precision"] {
            c.precision = try v.fraction()
            guard c.precision > 0 else { throw v.error("expected a precision above zero (e.g. 5%)") }
        }
        if let v = f["warmup"] { c.warmup = try v.duration() }
        if let v = f["probe"] { c.probe = try v.duration() }
        if let v = f["confirm"] { c.confirm = try v.duration() }
        if let v = f["max_probes"] { c.maxProbes = try v.int() }
        if let v = f["repeats"] { c.repeats = try v.int() }
        if let v = f["confidence"] {
            c.confidence = try v.fraction()
            guard (0.5...0.9999).contains(c.confidence) else { throw v.error("expected a confidence from 50% to 99.99%") }
        }
        if let v = f["rate_per_org"] {
            guard c.dimension == .organizations else { throw v.error("rate_per_org belongs to dimension: organizations") }
            c.ratePerOrganization = try v.rate()
        }
        if let v = f["slo"] { c.slo = try thresholds(v).0 }
        return c
    }
}

extension Duration {
    /// Seconds as a floating-point number.
    var seconds: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }
}
