import Foundation
import Metrics
import Scenario

/// The terminal summary and `report.md`.
public enum TextReports {
    /// The summary printed when a run ends.
    public static func summary(_ report: RunReport) -> String {
        let rows = report.operations.map { op in
            [op.name, "\(op.count)", "\(op.errors)", "\(op.denied)", Format.number(op.throughputPerS),
             Format.ms(op.latencyMs.p50), Format.ms(op.latencyMs.p99), Format.ms(op.latencyMs.p999), Format.ms(op.latencyMs.max),
             Format.ms(op.serviceMs.p99), op.failedLatencyMs.map { Format.ms($0.p99) } ?? "–"]
        }
        let c = report.consistency
        var lines = [
            "\(report.scenario.name) on \(report.target): \(report.verdict.rawValue.uppercased()) — \(headline(report))",
            "",
            Format.table(["operation", "count", "err", "403", "ok/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "svc p99", "failed p99"], rows),
            "",
            "snapshot lag: \(c.snapshotSyncs) syncs, p50 \(Format.ms(c.snapshotLagMs.p50)) ms, p99 \(Format.ms(c.snapshotLagMs.p99)) ms, "
                + "max \(Format.ms(c.snapshotLagMs.max)) ms; queue depth max \(c.queueDepthMax)",
            "cache hit ratio: " + c.cacheHitRatio.keys.sorted().map { "\($0) \(Format.percent(c.cacheHitRatio[$0]!))" }.joined(separator: ", "),
            c.consistencyCheck.error.map { "consistency check FAILED to run: \($0)" }
                ?? ("consistency check: \(c.consistencyCheck.orphans) orphans, \(c.consistencyCheck.missingSnapshots) missing, "
                    + "\(c.consistencyCheck.staleSnapshots) stale snapshots (\(c.consistencyCheck.usersChecked) users checked)"),
            report.clock == "virtual"
                ? "time: virtual — \(Format.seconds(report.load.phases.reduce(0) { $0 + $1.durationS })) simulated in "
                    + "\(Format.seconds(report.durationS)) of wall time (harness \(String(format: "%.2f", report.harness.coresUsed)) cores busy); "
                    + "latencies are the modelled service times and queues"
                : "harness: \(String(format: "%.2f", report.harness.coresUsed)) cores busy\(clockWaitNote(report.harness))\(overheadNote(report.harness))\(wakeLatencyNote(report.harness)); "
                    + "schedule: \(report.scheduleLag.late) of \(report.scheduleLag.intended) arrivals late (\(report.scheduleLag.lagNote))",
        ]
        if !report.errorClasses.isEmpty {
            lines.append("errors by class: " + report.errorClasses.map { "\($0.errorClass) \($0.count)\(seen($0))" }.joined(separator: ", "))
        }
        lines += report.integrity.map { [integritySentence($0)] } ?? []
        lines += abandonedNote(report).map { [$0] } ?? []
        lines += droppedNote(report).map { [$0] } ?? []
        lines += report.invalidReasons.map { "INVALID: \($0)" }
        lines += report.aborted.map { ["ABORTED: \($0)"] } ?? []
        lines += report.baseline?.regressions.map { "REGRESSION \($0.summary)" } ?? []
        lines += report.baseline?.warnings.map { "warning: \($0)" } ?? []
        lines += report.thresholds.filter { !$0.passed }.map { "FAILED threshold \($0.target).\($0.metric): \(describe($0)) (\($0.location))" }
        return lines.joined(separator: "\n")
    }

    /// When an error class was seen: "(12–17 s)".
    static func seen(_ e: ErrorClassInfo) -> String {
        guard let first = e.firstS, let last = e.lastS else { return "" }
        return first == last ? " (at \(Format.number(first)) s)" : " (\(Format.number(first))–\(Format.number(last)) s)"
    }

    /// What reading the acknowledged writes back found, in one sentence.
    static func integritySentence(_ i: IntegrityInfo) -> String {
        let readBack = i.error.map { "NOT read back: \($0)" }
            ?? "\(i.missing) missing, \(i.different) different of \(i.checked) read back"
        return "writes: \(i.acknowledgedWrites) acknowledged, \(readBack); \(i.unknownOutcomeWrites) with unknown outcome; "
            + "\(i.syncJobsLost) sync jobs lost; \(i.relogins) re-logins"
    }

    /// "Where the time went": per store, its own time against its callers'; the shapes by the
    /// store's time, with how they were served; what the evidence shows.
    static func serverSection(_ server: ServerEvidenceInfo?) -> String {
        guard let server else { return "" }
        var md = "\n## Where the time went\n\n\(serverNote)\n\n| store | evidence from | store ms | callers' ms | share |\n|---|---|---:|---:|---:|\n"
        for store in server.stores {
            let shares = storeTimes(store)
            md += "| \(store.store) | \(escape(store.source)) | \(shares.server) | \(shares.client) | \(shares.share) |\n"
        }
        if !server.byOperation.isEmpty {
            md += "\n| operation | store | calls | callers' ms | store ms | share |\n|---|---|---:|---:|---:|---:|\n"
            for row in server.byOperation {
                md += "| \(escape(row.operation)) | \(row.store) | \(row.calls) | \(Format.ms(row.clientMs)) | "
                md += "\(row.serverMs.map(Format.ms) ?? "–") | \(row.serverShare.map(Format.percent) ?? "–") |\n"
            }
        }
        for line in serverNotes(server) { md += "\n- \(line)" }
        if !serverNotes(server).isEmpty { md += "\n" }
        for store in server.stores where !store.missing.isEmpty {
            md += "\n" + store.missing.map { "- \(store.store): **not available** — \(escape($0))" }.joined(separator: "\n") + "\n"
        }
        let shapes = server.rankedShapes
        if !shapes.isEmpty {
            md += "\n| store | call | served by | on | calls | examined/call | returned/call | store ms | mean ms |\n"
            md += "|---|---|---|---|---:|---:|---:|---:|---:|\n"
            for (store, s) in shapes.prefix(15) {
                md += "| \(store) | \(escape(s.call)) | \(s.path?.rawValue ?? "–") | \(escape(s.on ?? "–")) | \(s.calls) | "
                md += "\(s.examinedPerCall.map(Format.number) ?? "–") | "
                md += "\(s.returnedPerCall.map(Format.number) ?? "–") | \(s.serverMs.map(Format.ms) ?? "–") | "
                md += "\(s.serverMs.map { Format.ms(s.calls > 0 ? $0 / Double(s.calls) : 0) } ?? "–") |\n"
            }
        }
        let planned = shapes.filter { $0.1.plan != nil }
        if !planned.isEmpty {
            md += "\n**Plans** (one execution each, parameters from the run):\n\n"
            for (store, s) in planned {
                let p = s.plan!
                md += "- \(store) \(escape(s.call)): \(escape(p.nodes.joined(separator: " → "))); \(p.examined) examined, "
                md += "\(p.returned) returned; buffers \(p.buffersHit) hit, \(p.buffersRead) read\n"
            }
        }
        if !server.findings.isEmpty {
            md += "\n**Findings**\n\n" + server.findings.map { "- \(escape($0.text))" }.joined(separator: "\n") + "\n"
        }
        return md
    }

    /// The cache's hit ratio as the server counts it (every GET), beside the caller's own per
    /// cache family in the consistency section; and what sessions were seen waiting on.
    static func serverNotes(_ server: ServerEvidenceInfo) -> [String] {
        server.stores.compactMap(waitLine) + server.stores.compactMap { store in
            let hits = store.counters["keyspace_hits"] ?? 0, misses = store.counters["keyspace_misses"] ?? 0
            guard hits + misses > 0 else { return nil }
            return "\(store.store): the server's keyspace hit ratio over the load \(Format.percent(hits / (hits + misses))) "
                + "(\(Int(hits)) hits, \(Int(misses)) misses; every GET, sessions included — stacksim's own, "
                + "per cache family, is under Consistency and caches)"
        }
    }

    /// "postgres: sessions waiting, sampled once a second (12 samples): Lock:transactionid 3, …".
    static func waitLine(_ store: StoreEvidenceInfo) -> String? {
        guard let samples = store.counters["waits.samples"], samples > 0 else { return nil }
        let waits = store.counters.filter { $0.key.hasPrefix("waits.") && $0.key != "waits.samples" && $0.value > 0 }
            .sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        let seen = waits.isEmpty ? "none" : waits.map { "\($0.key.dropFirst("waits.".count)) \(Int($0.value))" }.joined(separator: ", ")
        return "\(store.store): sessions seen waiting, sampled once a second (\(Int(samples)) samples): \(seen)"
    }

    /// A store's own time, its callers' time for the same calls, and the share, as printed.
    static func storeTimes(_ store: StoreEvidenceInfo) -> (server: String, client: String, share: String) {
        guard let share = store.serverShareOfClientTime else { return ("–", "–", "–") }
        return (Format.ms(store.serverMs), Format.ms(store.clientMs), Format.percent(share))
    }

    static let serverNote = "Each store's own account of the load (warm-up and background work included, from the start of "
        + "the load until it drained): how each kind of call was served, what it examined for what it returned, and the "
        + "store's time beside the time its callers saw for the same calls (blocking pops, which wait by design, left out)."

    /// What the operations table's columns mean, in every format.
    static let operationsNote = "Latency is measured from each request's intended start, service time from when it got a worker — "
        + "both of successful requests (a 403 answer included); ok/s is successful requests per recorded second. Failed requests' "
        + "latency, from intended start to failure, is in the last columns."

    /// Errors by class and store, when they happened, and a second-by-second timeline.
    static func errorsSection(_ report: RunReport) -> String {
        guard !report.errorClasses.isEmpty else { return "" }
        var md = "\n## Errors by class\n\n| class | store | count | seen |\n|---|---|---:|---|\n"
        for e in report.errorClasses {
            md += "| \(escape(e.errorClass)) | \(e.store ?? "—") | \(e.count) | \(seen(e).trimmingCharacters(in: CharacterSet(charactersIn: " ()"))) |\n"
        }
        let seconds = report.stackSamples.filter { !$0.errorsByClass.isEmpty }
        if !seconds.isEmpty {
            md += "\nSeconds with errors (time since start: class × count):\n\n"
            for s in seconds.prefix(120) {
                md += "- \(Format.number(s.t)) s: " + s.errorsByClass.keys.sorted().map { "\(escape($0)) × \(s.errorsByClass[$0]!)" }
                    .joined(separator: ", ") + "\n"
            }
            if seconds.count > 120 { md += "- … \(seconds.count - 120) more seconds in `report.json` (`stack_samples`)\n" }
        }
        return md
    }

    /// How much of the cores busy went on waiting by the clock for arrivals, where measured.
    static func clockWaitNote(_ harness: HarnessInfo) -> String {
        guard let wait = harness.clockWaitS, harness.processCpuS > 0 else { return "" }
        return ", \(String(format: "%.2f", harness.coresUsed * wait / harness.processCpuS)) of them waiting by the clock for arrivals"
    }

    /// The harness's own overhead per request, in microseconds, when the report has it.
    static func overheadNote(_ harness: HarnessInfo) -> String {
        guard let o = harness.overheadMs, let count = harness.overheadCount, count > 0 else { return "" }
        func us(_ ms: Double) -> String { String(format: "%.0f", ms * 1000) }
        return ", own overhead per request p50 \(us(o.p50)) µs, p99 \(us(o.p99)) µs, max \(us(o.max)) µs"
    }

    /// Whether the machine's idle CPUs were held quick to wake, when it was asked for.
    static func wakeLatencyNote(_ harness: HarnessInfo) -> String {
        guard let wake = harness.cpuWakeLatency else { return "" }
        switch wake.state {
        case .held: return ", idle CPUs \(idleCPUs(wake))"
        case .unavailable:
            return ", idle CPUs not held quick to wake (\(wake.note ?? "unavailable"))"
                + (wake.loopAwakeUs.map { "; the request loop kept its core awake instead, \(loopAwake($0))" } ?? "")
        case .off: return ""
        }
    }

    /// What a run did with the machine's idle CPUs (nil: reports written before it was asked).
    static func idleCPUs(_ wake: WakeLatencyInfo?) -> String {
        if let limit = wake?.heldLimitUs { return "held to wake within \(limit) µs" }
        if wake?.loopAwakeUs != nil { return "not held but the request loop's core kept awake" }
        return "left alone"
    }

    /// How the request loop kept its core awake when idle CPUs could not be held.
    static func loopAwake(_ microseconds: Int) -> String {
        "waiting by the clock through the last \(microseconds) µs of each idle stretch (at most a quarter of it)"
    }

    /// Requests the graceful stop gave up on: the target fell behind the offered load.
    static func abandonedNote(_ report: RunReport) -> String? {
        let abandoned = report.operations.reduce(0) { $0 + ($1.errorsByClass[OperationSample.abandoned] ?? 0) }
        guard abandoned > 0 else { return nil }
        return "graceful stop: \(abandoned) requests were still queued when it ran out — the target fell behind the offered load; "
            + "they count as 'abandoned' errors, with the time they waited as latency"
    }

    /// Arrivals never sent: the requests outstanding had reached the harness's bound.
    static func droppedNote(_ report: RunReport) -> String? {
        guard report.totals.dropped > 0 else { return nil }
        return "dropped: \(report.totals.dropped) arrivals were not sent because load.max_outstanding requests were unfinished — "
            + "the target fell far behind the offered load; they count in the offered rate only"
    }

    static func describe(_ t: ThresholdResult) -> String {
        let actual = t.actual.map(value(t.metric)) ?? "no data"
        return "\(actual) against a limit of \(value(t.metric)(t.limit))"
    }

    static func value(_ metric: String) -> (Double) -> String {
        if metric.hasPrefix("p") || metric == "max" { return { Format.ms($0) + " ms" } }
        if metric == "throughput" { return { Format.number($0) + "/s" } }
        return { Format.percent($0) }
    }

    /// The operations table's columns, the same in every report format: latency and service time
    /// of successful requests, then the failed requests' own latency.
    static let operationColumns = ["operation", "count", "errors", "403", "ok/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms",
                                   "max ms", "service p99 ms", "queue p99 ms", "failed p50 ms", "failed p99 ms"]

    /// One operation's cells under `operationColumns`; the name is left for the format to escape.
    static func operationCells(_ op: OperationReport) -> [String] {
        let l = op.latencyMs
        return [op.name, "\(op.count)", "\(op.errors)", "\(op.denied)", Format.number(op.throughputPerS), Format.ms(l.p50),
                Format.ms(l.p90), Format.ms(l.p99), Format.ms(l.p999), Format.ms(l.max), Format.ms(op.serviceMs.p99),
                Format.ms(op.queueMs.p99), op.failedLatencyMs.map { Format.ms($0.p50) } ?? "–",
                op.failedLatencyMs.map { Format.ms($0.p99) } ?? "–"]
    }

    /// The run in one sentence: requests, goodput beside the attempted and offered rates, errors.
    static func headline(_ report: RunReport) -> String {
        let t = report.totals
        let offered = t.offeredPerS.map { ", offered \(Format.number($0))/s" } ?? ""
        return "\(t.count) requests (\(t.ok) ok, \(t.errors) failed) in \(Format.number(report.recordedS)) s recorded: "
            + "goodput \(Format.number(t.throughputPerS))/s (attempted \(Format.number(t.attemptedPerS))/s\(offered)), "
            + "errors \(Format.percent(t.errorRate))"
    }

    /// `report.md`: verdict first, then a table per operation, then the stack's consistency.
    public static func markdown(_ report: RunReport) -> String {
        var md = "# \(escape(report.scenario.name)): \(report.verdict.rawValue.uppercased())\n\n"
        md += "\(headline(report)), target `\(report.target)`, seed \(report.scenario.seed).\n\n"
        md += "> \(escape(report.targetNote))\n\n"
        for reason in report.invalidReasons { md += "- **Invalid run:** \(escape(reason))\n" }
        if let aborted = report.aborted { md += "- **Stopped early:** \(escape(aborted))\n" }
        if !report.thresholds.isEmpty {
            md += "## Thresholds\n\n| | target | metric | limit | actual | where |\n|---|---|---|---:|---:|---|\n"
            for t in report.thresholds {
                md += "| \(t.passed ? "pass" : "**FAIL**") | \(escape(t.target)) | \(t.metric) | \(value(t.metric)(t.limit)) | "
                md += "\(t.actual.map(value(t.metric)) ?? "no data") | \(escape(t.location)) |\n"
            }
            md += "\n"
        }
        md += "## Operations\n\n\(operationsNote)\n\n"
        md += "| " + operationColumns.joined(separator: " | ") + " |\n"
        md += "|---" + String(repeating: "|---:", count: operationColumns.count - 1) + "|\n"
        for op in report.operations {
            var cells = operationCells(op)
            cells[0] = escape(cells[0])
            md += "| " + cells.joined(separator: " | ") + " |\n"
        }
        md += baselineSection(report.baseline)
        md += breakdown("By organization size", "size", report.breakdowns.byTenantSize)
        md += breakdown("By phase", "phase", report.breakdowns.byPhase)
        md += "\n## Store calls inside each operation\n\n| operation | store | calls/op | p50 ms | p99 ms | max ms | failures |\n"
        md += "|---|---|---:|---:|---:|---:|---:|\n"
        for op in report.operations {
            for s in op.stores {
                md += "| \(escape(op.name)) | \(s.store) | \(String(format: "%.2f", s.callsPerOperation)) | \(Format.ms(s.latencyMs.p50)) | "
                md += "\(Format.ms(s.latencyMs.p99)) | \(Format.ms(s.latencyMs.max)) | \(s.failures) |\n"
            }
        }
        md += errorsSection(report)
        md += serverSection(report.server)
        let c = report.consistency
        md += "\n## Consistency and caches\n\n"
        md += "- Snapshot lag (profile commit → all task snapshots updated): \(c.snapshotSyncs) syncs, p50 \(Format.ms(c.snapshotLagMs.p50)) ms, "
        md += "p99 \(Format.ms(c.snapshotLagMs.p99)) ms, max \(Format.ms(c.snapshotLagMs.max)) ms; \(c.tasksResynced) task snapshots rewritten; "
        md += "\(c.syncFailures) failed jobs; queue depth max \(c.queueDepthMax).\n"
        for family in c.cacheHitRatio.keys.sorted() {
            let counts = c.cacheLookups[family]!
            md += "- Cache `\(escape(family))`: hit ratio \(Format.percent(c.cacheHitRatio[family]!)) (\(counts.hits) hits, \(counts.misses) misses).\n"
        }
        md += "- Invalidations: \(c.invalidations), deleting \(c.invalidatedKeys) keys "
        md += "(\(c.invalidations > 0 ? Format.number(Double(c.invalidatedKeys) / Double(c.invalidations)) : "0") per write: the member fan-out).\n"
        let check = c.consistencyCheck
        if let error = check.error { md += "- Consistency check **could not run**: \(escape(error))\n" }
        md += "- Consistency check: \(check.orphans) orphaned tasks, \(check.missingSnapshots) missing and \(check.staleSnapshots) stale "
        md += "snapshots over \(check.usersChecked) users.\n"
        if let i = report.integrity {
            md += "- Acknowledged \(escape(integritySentence(i))).\n"
            for example in i.examples { md += "  - \(escape(example))\n" }
        }
        md += "\n"
        md += "## Run\n\n| | |\n|---|---|\n"
        md += "| scenario | \(escape(report.scenario.name)) (`\(escape(report.scenario.file ?? "built in"))`), seed \(report.scenario.seed) |\n"
        md += "| load | \(report.load.model), \(report.load.arrivals) arrivals; phases: "
        md += report.load.phases.map { p in
            "\(escape(p.name)) \(Format.number(p.durationS)) s" + (p.rate.map { " @ \(escape($0))" } ?? "")
                + (p.users.map { " × \(escape($0)) users" } ?? "") + (p.record ? "" : " (not recorded)")
        }.joined(separator: ", ") + " |\n"
        md += "| dataset | \(report.dataset.organizations) orgs, \(report.dataset.users) users, \(report.dataset.tasks) tasks, "
        md += "\(report.dataset.sprints) sprints; " + (report.dataset.reused == true
            ? "reused from the stores (\(report.dataset.runsBefore ?? 0) earlier runs, \(report.dataset.writesBefore ?? 0) writes since it was loaded) |\n"
            : "loaded in \(String(format: "%.2f", report.dataset.loadS)) s |\n")
        md += "| schedule | \(report.scheduleLag.late) of \(report.scheduleLag.intended) arrivals later than \(Format.ms(report.scheduleLag.toleranceMs)) ms "
        md += "(\(report.scheduleLag.lagNote)) |\n"
        if let note = abandonedNote(report) { md += "| graceful stop | \(escape(note)) |\n" }
        if let note = droppedNote(report) { md += "| dropped | \(escape(note)) |\n" }
        md += "| harness | \(String(format: "%.2f", report.harness.coresUsed)) cores busy (\(String(format: "%.1f", report.harness.processCpuS)) CPU s)"
            + "\(clockWaitNote(report.harness))"
            + "\(overheadNote(report.harness))\(escape(wakeLatencyNote(report.harness))) |\n"
        let m = report.machine
        md += "| machine | \(m.cores) cores, \(m.memoryBytes / (1 << 20)) MiB, \(escape(m.os)), kernel \(escape(m.kernel)), Swift \(m.swiftVersion) |\n"
        md += "| started | \(ISO8601DateFormatter().string(from: report.startedAt)), \(Format.number(report.durationS)) s |\n"
        md += "| tool | \(report.tool.name) \(report.tool.version), report schema \(report.schemaVersion) |\n"
        return md
    }

    /// `compare`'s output: warnings, the noise and drift it allowed for, every finding, a count.
    public static func comparison(_ comparison: BaselineComparison) -> String {
        var lines = comparison.warnings.map { "warning: \($0)" }
        lines += comparison.noise.map(describe) + comparison.drift.map(describe)
        lines += comparison.findings.map(\.summary)
        lines.append("\(comparison.regressions.count) regressions in \(comparison.findings.count) comparisons "
                     + "(\(comparison.baselineRuns) baseline \(comparison.baselineRuns == 1 ? "run" : "runs"), intervals at \(Format.percent(comparison.confidence)))")
        return lines.joined(separator: "\n")
    }

    static func describe(_ model: NoiseModel) -> String {
        "noise at \(model.percentile): sampling × \(String(format: "%.2f", model.overdispersion)), between runs ±\(Format.percent(model.betweenRunsSpread)) "
            + (model.fittedToRuns > 0 ? "(fitted to \(model.fittedToRuns) baseline runs)" : "(defaults: one baseline run)")
    }

    static func describe(_ shift: RunShift) -> String {
        "run-wide shift at \(shift.percentile): \(Format.change(shift.change)) (\(Format.change(shift.changeLow)) … "
            + "\(Format.change(shift.changeHigh))): \(shift.verdict.rawValue)"
    }

    static func baselineSection(_ comparison: BaselineComparison?) -> String {
        guard let comparison else { return "" }
        var md = "\n## Against the baseline\n\nBaseline: \(escape(comparison.baseline)) (\(comparison.baselineRuns) "
        md += comparison.baselineRuns == 1 ? "run). " : "runs). "
        md += "A percentile regresses when its change beyond the run's shift has an interval above zero (\(Format.percent(comparison.confidence)) "
        md += "each; α = \(comparison.alpha) across the run) and exceeds \(Format.percent(comparison.relativeLimit)) and "
        md += "\(escape(comparison.absoluteFloor)). Resolution: the smallest slowdown each comparison could call.\n\n"
        for warning in comparison.warnings { md += "> Warning: \(escape(warning))\n\n" }
        md += (comparison.noise.map(describe) + comparison.drift.map(describe)).map { "- \($0)\n" }.joined()
        md += "\n| operation | percentile | baseline ms | current ms | change | interval | resolution | verdict |\n"
        md += "|---|---|---:|---:|---:|---:|---:|---|\n"
        for f in comparison.findings {
            md += "| \(escape(f.operation)) | \(f.percentile) | \(Format.ms(f.baselineMs)) | \(Format.ms(f.currentMs)) | "
            md += "\(Format.change(f.change)) | \(Format.change(f.changeLow)) … \(Format.change(f.changeHigh)) | "
            md += "\(Format.change(f.resolution)) | \(f.verdict == .regression ? "**regression**" : f.verdict.rawValue) |\n"
        }
        return md
    }

    static func breakdown(_ title: String, _ column: String, _ rows: [BreakdownRow]) -> String {
        guard !rows.isEmpty else { return "" }
        var md = "\n## \(title)\n\n| \(column) | operation | count | errors | p50 ms | p99 ms | max ms |\n|---|---|---:|---:|---:|---:|---:|\n"
        for r in rows {
            md += "| \(escape(r.group)) | \(escape(r.operation)) | \(r.count) | \(r.errors) | \(Format.ms(r.p50Ms)) | "
            md += "\(Format.ms(r.p99Ms)) | \(Format.ms(r.maxMs)) |\n"
        }
        return md
    }

    /// Escapes text from data or scenario files for Markdown tables and HTML-capable renderers:
    /// HTML's escapes, then Markdown's own markup characters.
    static func escape(_ text: String) -> String {
        var out = ""
        for ch in HTML.escape(text) {
            switch ch {
            case "|", "`", "*", "_", "[", "]": out += "\\\(ch)"
            case "\n": out += " "
            default: out.append(ch)
            }
        }
        return out
    }

    /// One progress line: phase, elapsed/total, achieved vs target rate, errors, p50/p99.
    public static func progressLine(elapsed: Double, total: Double, phase: String, rate: Double, target: Double?,
                                    errors: Int, totalErrors: Int, p50: Double, p99: Double, queueDepth: Int?) -> String {
        let rateText = target.map { "ok \(Format.number(rate))/\(Format.number($0)) req/s" } ?? "ok \(Format.number(rate)) req/s"
        let phase = phase.count > 24 ? phase.prefix(23) + "…" : phase
        return "[\(phase)] \(String(format: "%4.0f", elapsed))/\(String(format: "%.0f", total)) s  \(rateText)  "
            + "errors \(errors) (total \(totalErrors))  p50 \(Format.ms(p50)) ms  p99 \(Format.ms(p99)) ms  queue \(queueDepth.map(String.init) ?? "?")"
    }
}
