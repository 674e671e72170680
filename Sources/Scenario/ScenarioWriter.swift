import Foundation

/// A YAML document as an ordered tree, so it can be written with a comment on every key.
public indirect enum YAMLTree: Sendable, Equatable {
    case scalar(String)
    case mapping([YAMLEntry])
    case list([YAMLTree])
}

public struct YAMLEntry: Sendable, Equatable {
    public var key: String
    public var value: YAMLTree

    public init(_ key: String, _ value: YAMLTree) { self.key = key; self.value = value }
}

/// Writes a scenario as YAML with every value filled in: the inverse of `ScenarioLoader`
/// (`make test` checks that loading what it writes gives the same scenario back).
public enum ScenarioWriter {
    public static func tree(_ s: Scenario) -> YAMLTree {
        .mapping([
            YAMLEntry("name", text(s.name)),
            YAMLEntry("description", text(s.description)),
            YAMLEntry("seed", .scalar(String(s.seed))),
            YAMLEntry("clock", .scalar(s.clock.rawValue)),
            YAMLEntry("dataset", dataset(s.dataset)),
            YAMLEntry("stack", stack(s.stack)),
            YAMLEntry("load", load(s.load)),
            YAMLEntry("thresholds", thresholds(s.thresholds, abortAfter: s.abortAfter)),
            YAMLEntry("capacity", capacity(s.capacity)),
        ])
    }

    static func capacity(_ c: CapacitySettings) -> YAMLTree {
        var entries: [YAMLEntry] = []
        if let dimension = c.dimension { entries.append(YAMLEntry("dimension", .scalar(dimension.rawValue))) }
        for (key, load) in [("start", c.start), ("min", c.minimum), ("max", c.maximum)] {
            if let load { entries.append(YAMLEntry(key, number(load))) }
        }
        entries += [
            YAMLEntry("growth", number(c.growth)), YAMLEntry("precision", number(c.precision)),
            YAMLEntry("warmup", duration(c.warmup)), YAMLEntry("probe", duration(c.probe)),
        ]
        if let confirm = c.confirm { entries.append(YAMLEntry("confirm", duration(confirm))) }
        entries += [YAMLEntry("max_probes", int(c.maxProbes)), YAMLEntry("repeats", int(c.repeats)), YAMLEntry("confidence", number(c.confidence))]
        if let rate = c.ratePerOrganization { entries.append(YAMLEntry("rate_per_org", self.rate(rate))) }
        if !c.slo.isEmpty { entries.append(YAMLEntry("slo", thresholds(c.slo, abortAfter: nil))) }
        return .mapping(entries)
    }

    /// Block YAML, each key's line followed by `comment(path)` when it has one. With a `schema`,
    /// settings the format has but the tree leaves unset are listed too, commented out — except
    /// under `thresholds`, where an unset bound is simply not checked.
    public static func render(_ tree: YAMLTree, schema: SchemaNode? = nil, comment: (String) -> String? = { _ in nil }) -> String {
        var lines: [String] = []
        func line(_ text: String, _ path: String) {
            if let note = comment(path), !note.isEmpty {
                lines.append(text + String(repeating: " ", count: max(1, 44 - text.count)) + "# " + note)
            } else {
                lines.append(text)
            }
        }
        func entries(_ items: [YAMLEntry], schema: SchemaNode?, indent: String, firstPrefix: String?, path: String) {
            for (index, entry) in items.enumerated() {
                let prefix = index == 0 ? firstPrefix ?? indent : indent
                let keyPath = path.isEmpty ? entry.key : "\(path).\(entry.key)"
                let child = keyPath == "thresholds" || keyPath == "capacity.slo" ? nil : schema?.child(entry.key)
                switch entry.value {
                case .scalar(let value): line("\(prefix)\(entry.key): \(value)", keyPath)
                case .mapping(let children) where children.isEmpty: line("\(prefix)\(entry.key): {}", keyPath)
                case .mapping(let children):
                    line("\(prefix)\(entry.key):", keyPath)
                    entries(children, schema: child, indent: indent + "  ", firstPrefix: nil, path: keyPath)
                case .list(let items) where items.allSatisfy(\.isScalar):
                    line("\(prefix)\(entry.key): [\(items.compactMap(\.scalarText).joined(separator: ", "))]", keyPath)
                case .list(let items):
                    line("\(prefix)\(entry.key):", keyPath)
                    for (i, item) in items.enumerated() {
                        guard case .mapping(let children) = item else { continue }
                        entries(children, schema: child?.item, indent: indent + "    ", firstPrefix: indent + "  - ", path: "\(keyPath)[\(i)]")
                    }
                }
            }
            if case .object(let keys) = schema {
                for key in keys where !items.contains(where: { $0.key == key.name }) {
                    line("\(indent)# \(key.name): not set", path.isEmpty ? key.name : "\(path).\(key.name)")
                }
            }
        }
        if case .mapping(let root) = tree { entries(root, schema: schema, indent: "", firstPrefix: nil, path: "") }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Sections

    static func dataset(_ d: DatasetSettings) -> YAMLTree {
        .mapping([
            YAMLEntry("organizations", int(d.organizations)),
            YAMLEntry("users_per_org", size(d.usersPerOrganization)),
            YAMLEntry("tasks_per_user", size(d.tasksPerUser)),
            YAMLEntry("sprints_per_org", int(d.sprintsPerOrganization)),
        ])
    }

    static func size(_ size: SizeSpec) -> YAMLTree {
        switch size {
        case .constant(let n): return int(n)
        case .uniform(let lo, let hi): return .mapping([YAMLEntry("uniform", .mapping([YAMLEntry("min", int(lo)), YAMLEntry("max", int(hi))]))])
        case .zipf(let lo, let hi, let s):
            return .mapping([YAMLEntry("zipf", .mapping([YAMLEntry("min", int(lo)), YAMLEntry("max", int(hi)), YAMLEntry("s", number(s))]))])
        }
    }

    static func delay(_ delay: DelaySpec) -> YAMLTree {
        switch delay {
        case .fixed(let d): return duration(d)
        case .uniform(let lo, let hi):
            return .mapping([YAMLEntry("uniform", .mapping([YAMLEntry("min", duration(lo)), YAMLEntry("max", duration(hi))]))])
        case .exponential(let mean): return .mapping([YAMLEntry("exponential", .mapping([YAMLEntry("mean", duration(mean))]))])
        }
    }

    static func stack(_ s: StackSettings) -> YAMLTree {
        .mapping([
            YAMLEntry("cache", .mapping([YAMLEntry("task_stats_ttl", duration(s.taskStatsTTL)),
                                        YAMLEntry("dashboard_ttl", duration(s.dashboardTTL))])),
            YAMLEntry("sync", .mapping([YAMLEntry("strategy", .scalar(s.syncStrategy)), YAMLEntry("workers", int(s.syncWorkers)),
                                       YAMLEntry("batch_size", int(s.batchSize))])),
            YAMLEntry("pool", .mapping([YAMLEntry("max", int(s.pool.max)), YAMLEntry("connect_timeout", duration(s.pool.connectTimeout)),
                                       YAMLEntry("idle_timeout", duration(s.pool.idleTimeout)),
                                       YAMLEntry("wait_timeout", duration(s.pool.waitTimeout)),
                                       YAMLEntry("call_timeout", duration(s.pool.callTimeout))])),
            YAMLEntry("app_workers", int(s.appWorkers)),
            YAMLEntry("rate_limit", .mapping([YAMLEntry("per_minute", int(s.rateLimitPerMinute))])),
            YAMLEntry("sessions", .mapping([YAMLEntry("ttl", duration(s.sessionTTL))])),
            YAMLEntry("sprint_length", duration(s.sprintLength)),
            YAMLEntry("embedded", .mapping(["postgres", "mongo", "redis"].compactMap { store in
                s.embedded[store].map { YAMLEntry(store, knobs($0)) }
            })),
        ])
    }

    static func knobs(_ k: StoreKnobSpec) -> YAMLTree {
        var entries: [YAMLEntry] = []
        if let latency = k.latency { entries.append(YAMLEntry("latency", delay(latency))) }
        if let every = k.stallEvery, let pause = k.stallFor {
            entries.append(YAMLEntry("stall", .mapping([YAMLEntry("every", duration(every)), YAMLEntry("for", duration(pause))])))
        }
        if let at = k.outageAt, let length = k.outageFor {
            entries.append(YAMLEntry("outage", .mapping([YAMLEntry("at", duration(at)), YAMLEntry("for", duration(length))])))
        }
        if let rate = k.errorRate { entries.append(YAMLEntry("errors", number(rate))) }
        if let servers = k.servers { entries.append(YAMLEntry("servers", int(servers))) }
        if !k.operations.isEmpty {
            entries.append(YAMLEntry("operations", .mapping(k.operations.keys.sorted().map { YAMLEntry($0, knobs(k.operations[$0]!)) })))
        }
        return .mapping(entries)
    }

    static func load(_ l: LoadSettings) -> YAMLTree {
        var entries = [
            YAMLEntry("model", .scalar(l.model.rawValue)),
            YAMLEntry("arrivals", .scalar(l.arrivals.rawValue)),
            YAMLEntry("think_time", delay(l.thinkTime)),
            YAMLEntry("user_choice", .scalar(l.userChoice)),
            YAMLEntry("schedule_tolerance", duration(l.scheduleTolerance)),
            YAMLEntry("max_late_fraction", number(l.maxLateFraction)),
        ]
        if let cap = l.maxRate { entries.append(YAMLEntry("max_rate", rate(cap))) }
        entries.append(YAMLEntry("graceful_stop", duration(l.gracefulStop)))
        if let limit = l.maxOutstanding { entries.append(YAMLEntry("max_outstanding", .scalar(String(limit)))) }
        entries.append(YAMLEntry("phases", .list(l.phases.map(phase))))
        entries.append(YAMLEntry("mix", mix(l.mix)))
        return .mapping(entries)
    }

    static func mix(_ mix: [MixEntry]) -> YAMLTree {
        .mapping(mix.map { YAMLEntry($0.operation, number($0.weight)) })
    }

    static func phase(_ p: Phase) -> YAMLTree {
        var entries = [YAMLEntry("name", text(p.name)), YAMLEntry("duration", duration(p.duration))]
        if let shape = p.rate { entries.append(YAMLEntry("rate", rateShape(shape))) }
        if let users = p.users { entries.append(YAMLEntry("users", userShape(users))) }
        entries.append(YAMLEntry("record", .scalar(String(p.record))))
        if let mix = p.mix { entries.append(YAMLEntry("mix", self.mix(mix))) }
        return .mapping(entries)
    }

    static func rateShape(_ shape: RateShape) -> YAMLTree {
        func tagged(_ tag: String, _ fields: [YAMLEntry]) -> YAMLTree { .mapping([YAMLEntry(tag, .mapping(fields))]) }
        switch shape {
        case .constant(let r): return rate(r)
        case .ramp(let a, let b): return tagged("ramp", [YAMLEntry("from", rate(a)), YAMLEntry("to", rate(b))])
        case .steps(let rates): return .mapping([YAMLEntry("steps", .list(rates.map(rate)))])
        case .spike(let baseline, let peak, let at, let length):
            return tagged("spike", [YAMLEntry("baseline", rate(baseline)), YAMLEntry("peak", rate(peak)),
                                    YAMLEntry("at", duration(at)), YAMLEntry("for", duration(length))])
        case .sine(let mean, let amplitude, let period):
            return tagged("sine", [YAMLEntry("mean", rate(mean)), YAMLEntry("amplitude", rate(amplitude)),
                                   YAMLEntry("period", duration(period))])
        case .custom(let shape): return text("custom shape '\(shape.name)' (defined in Swift)")
        }
    }

    static func userShape(_ shape: UserShape) -> YAMLTree {
        switch shape {
        case .constant(let n): return int(n)
        case .ramp(let a, let b): return .mapping([YAMLEntry("ramp", .mapping([YAMLEntry("from", int(a)), YAMLEntry("to", int(b))]))])
        }
    }

    /// One mapping per target in order of first appearance; `abort_on_fail` and `include_failed`
    /// when any of the target's thresholds has them.
    static func thresholds(_ thresholds: [Threshold], abortAfter: Duration?) -> YAMLTree {
        var targets: [String] = []
        for t in thresholds where !targets.contains(t.target) { targets.append(t.target) }
        var entries = abortAfter.map { [YAMLEntry("abort_after", duration($0))] } ?? []
        for target in targets {
            let group = thresholds.filter { $0.target == target }
            var limits: [YAMLEntry] = group.map { t in
                if Threshold.percentiles.contains(t.metric) { return YAMLEntry(t.metric, duration(.nanoseconds(Int64((t.limit * 1e6).rounded())))) }
                if t.metric == "throughput" { return YAMLEntry(t.metric, rate(t.limit)) }
                return YAMLEntry(t.metric == "rate" && target != "errors" ? "errors" : t.metric, number(t.limit))
            }
            if group.contains(where: \.abortOnFail) { limits.append(YAMLEntry("abort_on_fail", .scalar("true"))) }
            if group.contains(where: \.includeFailed) { limits.append(YAMLEntry("include_failed", .scalar("true"))) }
            entries.append(YAMLEntry(target, .mapping(limits)))
        }
        return .mapping(entries)
    }

    // MARK: - Scalars

    static func int(_ value: Int) -> YAMLTree { .scalar(String(value)) }
    static func number(_ value: Double) -> YAMLTree { .scalar(ScenarioText.number(value)) }
    static func duration(_ value: Duration) -> YAMLTree { .scalar(ScenarioText.text(value)) }
    static func rate(_ value: Double) -> YAMLTree { .scalar(ScenarioText.text(rate: value)) }

    /// A string, quoted when plain YAML would read it as something else.
    static func text(_ value: String) -> YAMLTree {
        let special = ["", "~", "null", "true", "false", "yes", "no", "on", "off"]
        let plain = !special.contains(value.lowercased()) && Double(value) == nil
            && value.first.map { $0.isLetter || $0.isNumber } == true && value.last != " "
            && !value.contains(": ") && !value.contains(" #") && !value.contains(where: { "{}[]&*!|>'\"%@`\n\t\\".contains($0) })
        guard !plain else { return .scalar(value) }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
        return .scalar("\"\(escaped)\"")
    }
}

extension YAMLTree {
    var isScalar: Bool { if case .scalar = self { true } else { false } }
    var scalarText: String? { if case .scalar(let text) = self { text } else { nil } }
}

extension ScenarioWriter {
    /// A starter scenario for `stacksim new`: a warm-up and a steady phase, two thresholds, and
    /// every other key at its default, each line commented with what the key does.
    public static func starter(name: String, schemaReference: String?) -> String {
        var scenario = Scenario(name: name)
        scenario.description = "What this scenario measures, in one line."
        scenario.load.phases = [
            Phase(name: "warmup", duration: .seconds(10), rate: .constant(100), record: false),
            Phase(name: "steady", duration: .seconds(60), rate: .constant(200)),
        ]
        scenario.thresholds = [
            Threshold(target: "board", metric: "p99", limit: 50, location: "starter"),
            Threshold(target: "errors", metric: "rate", limit: 0.001, location: "starter"),
        ]
        let schema = ScenarioSchema()
        let header = (schemaReference.map { "# yaml-language-server: $schema=\($0)\n" } ?? "")
            + "# \(name) — written by `stacksim new`. Every key is shown at its default; delete what you do not change.\n"
            + "# Durations take a unit (150us, 200ms, 30s, 5m, 1h, 7d); rates: 200/s, 3000/m; fractions: 0.1% or 0.001.\n"
            + "# Scenarios/README.md is the authoring guide; `stacksim scenarios --explain FILE` shows what a run will use.\n\n"
        return header + render(tree(scenario), schema: schema.root) { schema.summary(at: $0) }
    }
}
