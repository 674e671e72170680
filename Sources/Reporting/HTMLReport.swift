import Foundation
import Metrics

/// `report.html`: one self-contained page (inline CSS, inline SVG, no script, no network) that
/// reads on a laptop screen and prints.
public enum HTMLReport {
    package static let palette = ["#2f6fb0", "#d9822b", "#2e8b57", "#b03a2e", "#7d3c98", "#5d6d7e"]

    public static func render(_ report: RunReport) -> String {
        let e = HTML.escape
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(report.scenario.name)) — stacksim report</title>
            <style>\(css)</style></head><body>
            <header><h1>\(e(report.scenario.name))</h1><p>\(e(report.scenario.description))</p></header>

            """
        page += verdictBox(report)
        page += "<section><h2>Operations</h2><p>\(HTML.escape(TextReports.operationsNote))</p>"
        page += operationsTable(report) + "</section>"
        page += errorsTable(report)
        page += serverSection(report.server)
        page += "<section><h2>Over time</h2><div class=\"grid\">"
        page += timeCharts(report).joined()
        page += "</div></section>"
        page += "<section><h2>Percentile curves</h2><p>HdrHistogram style: the x axis stretches the tail (90%, 99%, 99.9%, …); "
        page += "solid is latency from intended start, dashed is service time.</p><div class=\"grid\">"
        page += report.operations.map(percentileChart).joined()
        page += "</div></section>"
        page += "<section><h2>Consistency and caches</h2><div class=\"grid\">"
        page += SVGChart.bars(id: "cache-hit-ratio", title: "Cache hit ratio per family",
                              values: report.consistency.cacheHitRatio.keys.sorted().map { ($0, report.consistency.cacheHitRatio[$0]!) })
        page += "</div>" + consistencyList(report) + "</section>"
        page += "<section><h2>Run</h2>" + contextTable(report) + "</section></body></html>\n"
        return page
    }

    static func verdictBox(_ report: RunReport) -> String {
        let e = HTML.escape
        var box = "<section class=\"verdict \(report.verdict.rawValue)\"><h2>Verdict: \(report.verdict.rawValue.uppercased())</h2><p>"
        box += "\(TextReports.headline(report)), target <code>\(e(report.target))</code>.</p>"
        box += "<p class=\"note\">\(e(report.targetNote))</p><ul>"
        for reason in report.invalidReasons { box += "<li><strong>Invalid run:</strong> \(e(reason))</li>" }
        if let aborted = report.aborted { box += "<li><strong>Stopped early:</strong> \(e(aborted))</li>" }
        for t in report.thresholds {
            let actual = t.actual.map(TextReports.value(t.metric)) ?? "no data"
            box += "<li class=\"\(t.passed ? "pass" : "fail")\">\(t.passed ? "✔" : "✘") \(e(t.target)) \(e(t.metric)): \(e(actual)) "
            box += "(limit \(e(TextReports.value(t.metric)(t.limit))), \(e(t.location)))</li>"
        }
        if let comparison = report.baseline {
            box += "<li>Against the baseline \(e(comparison.baseline)): \(comparison.regressions.count) regressions</li>"
            for finding in comparison.findings where finding.verdict != .unchanged {
                box += "<li class=\"\(finding.verdict == .regression ? "fail" : "pass")\">\(e(finding.summary))</li>"
            }
            for warning in comparison.warnings { box += "<li class=\"warn\">\(e(warning))</li>" }
        }
        return box + "</ul></section>"
    }

    static func operationsTable(_ report: RunReport) -> String {
        var html = "<table><thead><tr>" + TextReports.operationColumns.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>"
        for op in report.operations {
            html += "<tr>" + TextReports.operationCells(op).map { "<td>\(HTML.escape($0))</td>" }.joined() + "</tr>"
        }
        return html + "</tbody></table>"
    }

    /// Error classes, their store, count and when they were seen (the chart below shows them over time).
    static func errorsTable(_ report: RunReport) -> String {
        guard !report.errorClasses.isEmpty else { return "" }
        var html = "<section><h2>Errors by class</h2><p>Failed requests by class; <em>Errors over time</em> below shows each class "
        html += "per second.</p><table><thead><tr><th>class</th><th>store</th><th>count</th><th>first s</th><th>last s</th></tr></thead><tbody>"
        for e in report.errorClasses {
            html += "<tr><td><code>\(HTML.escape(e.errorClass))</code></td><td>\(e.store ?? "–")</td><td>\(e.count)</td>"
            html += "<td>\(e.firstS.map(Format.number) ?? "–")</td><td>\(e.lastS.map(Format.number) ?? "–")</td></tr>"
        }
        return html + "</tbody></table></section>"
    }

    /// "Where the time went", as in report.md.
    static func serverSection(_ server: ServerEvidenceInfo?) -> String {
        guard let server else { return "" }
        let e = HTML.escape
        var html = "<section><h2>Where the time went</h2><p>\(e(TextReports.serverNote))</p><table><thead><tr><th>store</th>"
        html += "<th>evidence from</th><th>store ms</th><th>callers' ms</th><th>share</th></tr></thead><tbody>"
        for store in server.stores {
            let t = TextReports.storeTimes(store)
            html += "<tr><td>\(store.store)</td><td>\(e(store.source))</td><td>\(t.server)</td><td>\(t.client)</td><td>\(t.share)</td></tr>"
        }
        html += "</tbody></table>"
        if !server.byOperation.isEmpty {
            html += "<table><thead><tr>" + ["operation", "store", "calls", "callers' ms", "store ms", "share"].map { "<th>\($0)</th>" }.joined()
                + "</tr></thead><tbody>"
            for row in server.byOperation {
                html += "<tr><td>\(e(row.operation))</td><td>\(row.store)</td><td>\(row.calls)</td><td>\(Format.ms(row.clientMs))</td>"
                html += "<td>\(row.serverMs.map(Format.ms) ?? "–")</td><td>\(row.serverShare.map(Format.percent) ?? "–")</td></tr>"
            }
            html += "</tbody></table>"
        }
        let keyspace = TextReports.serverNotes(server).map { "<li>\(e($0))</li>" }
        let missing = keyspace + server.stores.flatMap { store in
            store.missing.map { "<li>\(store.store): <strong>not available</strong> — \(e($0))</li>" }
        }
        if !missing.isEmpty { html += "<ul>" + missing.joined() + "</ul>" }
        let shapes = server.rankedShapes
        if !shapes.isEmpty {
            html += "<table><thead><tr>" + ["store", "call", "served by", "on", "calls", "examined/call", "returned/call", "store ms"]
                .map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>"
            for (store, s) in shapes.prefix(15) {
                html += "<tr><td>\(store)</td><td>\(e(s.call))</td><td>\(s.path?.rawValue ?? "–")</td><td>\(e(s.on ?? "–"))</td><td>\(s.calls)</td>"
                html += "<td>\(s.examinedPerCall.map(Format.number) ?? "–")</td><td>\(s.returnedPerCall.map(Format.number) ?? "–")</td><td>\(s.serverMs.map(Format.ms) ?? "–")</td></tr>"
            }
            html += "</tbody></table>"
        }
        let planned = shapes.filter { $0.1.plan != nil }
        if !planned.isEmpty {
            html += "<h3>Plans</h3><ul>" + planned.map { store, s in
                let p = s.plan!
                return "<li>\(store) \(e(s.call)): \(e(p.nodes.joined(separator: " → "))); \(p.examined) examined, \(p.returned) returned; "
                    + "buffers \(p.buffersHit) hit, \(p.buffersRead) read</li>"
            }.joined() + "</ul>"
        }
        if !server.findings.isEmpty {
            html += "<h3>Findings</h3><ul>" + server.findings.map { "<li class=\"warn\">\(e($0.text))</li>" }.joined() + "</ul>"
        }
        return html + "</section>"
    }

    /// Phase boundaries, in seconds since the start, for markers on time charts.
    static func phaseMarkers(_ report: RunReport) -> [(Double, String)] {
        var t = 0.0
        return report.load.phases.map { phase in
            defer { t += phase.durationS }
            return (t, phase.name)
        }
    }

    static func timeCharts(_ report: RunReport) -> [String] {
        let samples = report.stackSamples.filter { $0.phase != "drain" }
        let markers = phaseMarkers(report)
        func chart(_ id: String, _ title: String, _ yLabel: String, _ series: [SVGChart.Series], logY: Bool = false) -> String {
            SVGChart(id: id, title: title, xLabel: "seconds", yLabel: yLabel, series: series, logY: logY, markers: markers).render()
        }
        let target = samples.compactMap { s in s.targetRatePerS.map { (x: s.t, y: $0) } }
        return [
            chart("latency-over-time", "Latency over time (all operations' successful requests)", "ms", [
                .init(name: "p50", points: samples.map { ($0.t, $0.p50Ms) }, color: palette[0]),
                .init(name: "p99", points: samples.map { ($0.t, $0.p99Ms) }, color: palette[1]),
            ], logY: true),
            chart("throughput-over-time", "Throughput: successful, attempted and target", "requests/s", [
                .init(name: "ok (goodput)", points: samples.map { ($0.t, $0.throughputPerS) }, color: palette[0]),
                .init(name: "attempted", points: samples.map { ($0.t, $0.attemptedPerS) }, color: palette[3]),
                .init(name: "target", points: target, color: palette[5], dashed: true),
            ]),
            chart("errors-over-time", "Errors over time, by class (the six most frequent)", "errors/s",
                  [.init(name: "all errors", points: samples.map { ($0.t, Double($0.errors)) }, color: palette[3])]
                    + report.errorClasses.sorted { $0.count > $1.count }.prefix(6).enumerated().map { index, e in
                        .init(name: e.errorClass, points: samples.map { ($0.t, Double($0.errorsByClass[e.errorClass] ?? 0)) },
                              color: palette[(index + 4) % palette.count], dashed: true)
                    }),
            chart("snapshot-lag-over-time", "Snapshot lag (p99 per second)", "ms", [
                .init(name: "p99", points: samples.filter { $0.snapshotLagP99Ms > 0 }.map { ($0.t, $0.snapshotLagP99Ms) }, color: palette[2]),
            ]),
            chart("queue-depth-over-time", "Snapshot-sync queue depth", "jobs", [
                .init(name: "depth", points: samples.compactMap { s in s.queueDepth.map { (s.t, Double($0)) } }, color: palette[4]),
            ]),
        ]
    }

    /// x = log10(1 / (1 - p)): 0 at 0 %, 1 at 90 %, 2 at 99 %, …
    static func percentileChart(_ op: OperationReport) -> String {
        func x(_ p: Double) -> Double { -log10(max(1 - p / 100, 1e-5)) }
        func points(_ curve: [CurvePoint]) -> [(x: Double, y: Double)] { curve.map { (x($0.percentile), max($0.ms, 0.001)) } }
        let ticks: [(Double, String)] = [(0, "0%"), (1, "90%"), (2, "99%"), (3, "99.9%"), (4, "99.99%"), (5, "99.999%")]
        return SVGChart(id: "percentiles-\(op.name)", title: "\(op.name): latency by percentile", xLabel: "percentile", yLabel: "ms",
                        series: [.init(name: "latency", points: points(op.latencyCurve), color: palette[0]),
                                 .init(name: "service", points: points(op.serviceCurve), color: palette[1], dashed: true)],
                        xTicks: ticks, logY: true).render()
    }

    static func consistencyList(_ report: RunReport) -> String {
        let c = report.consistency, check = c.consistencyCheck
        return """
            <ul><li>Snapshot lag: \(c.snapshotSyncs) syncs, p50 \(Format.ms(c.snapshotLagMs.p50)) ms, p99 \(Format.ms(c.snapshotLagMs.p99)) ms, \
            max \(Format.ms(c.snapshotLagMs.max)) ms; \(c.syncFailures) failed jobs; queue depth max \(c.queueDepthMax).</li>
            <li>Invalidations: \(c.invalidations), deleting \(c.invalidatedKeys) keys.</li>
            \(check.error.map { "<li><strong>Consistency check could not run:</strong> \(HTML.escape($0))</li>" } ?? "")
            \(report.integrity.map { "<li>Acknowledged \(HTML.escape(TextReports.integritySentence($0)))</li>" } ?? "")
            <li>Consistency check: \(check.orphans) orphaned tasks, \(check.missingSnapshots) missing and \(check.staleSnapshots) stale \
            snapshots over \(check.usersChecked) users.</li></ul>
            """
    }

    static func contextTable(_ report: RunReport) -> String {
        let e = HTML.escape, m = report.machine
        let rows: [(String, String)] = [
            ("scenario", "\(report.scenario.name) (\(report.scenario.file ?? "built in")), seed \(report.scenario.seed)"),
            ("target", report.target),
            ("load", "\(report.load.model), \(report.load.arrivals) arrivals; " + report.load.phases.map {
                "\($0.name) \(Format.number($0.durationS)) s" + ($0.rate.map { " @ \($0)" } ?? "") + ($0.users.map { " × \($0) users" } ?? "")
            }.joined(separator: ", ")),
            ("dataset", "\(report.dataset.organizations) orgs, \(report.dataset.users) users, \(report.dataset.tasks) tasks"),
            ("schedule", "\(report.scheduleLag.late) of \(report.scheduleLag.intended) arrivals late (\(report.scheduleLag.lagNote))"),
            ("machine", "\(m.cores) cores, \(m.memoryBytes / (1 << 20)) MiB, \(m.os), kernel \(m.kernel), Swift \(m.swiftVersion)"),
            ("started", ISO8601DateFormatter().string(from: report.startedAt) + ", \(Format.number(report.durationS)) s"),
            ("tool", "\(report.tool.name) \(report.tool.version), report schema \(report.schemaVersion)"),
        ]
        return "<table class=\"context\">" + rows.map { "<tr><th>\(e($0.0))</th><td>\(e($0.1))</td></tr>" }.joined() + "</table>"
    }

    package static let css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430;max-width:1440px;margin:0 auto;padding:16px 24px}
        h1{margin:.2em 0}h2{margin:1.2em 0 .4em;font-size:1.2em}
        .verdict{border:2px solid #888;border-radius:6px;padding:8px 16px;background:#f6f7f9}
        .verdict.pass{border-color:#2e8b57;background:#eef8f1}.verdict.fail,.verdict.invalid{border-color:#b03a2e;background:#fbeeec}
        .verdict ul{list-style:none;padding-left:0}li.fail{color:#b03a2e}li.pass{color:#2e6b47}li.warn{color:#9a6700}.note{color:#555}
        table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin:8px 0}
        th,td{border-bottom:1px solid #dde1e6;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
        table.context th{text-align:left;color:#555}table.context td{text-align:left}
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}
        figure.chart{margin:0;border:1px solid #dde1e6;border-radius:6px;padding:6px}figcaption{font-weight:600;margin-bottom:4px}
        svg{width:100%;height:auto}svg text{font-size:11px;fill:#333}svg .axis{fill:#555}svg .legend{font-size:11px}
        svg .plot{fill:#fbfcfd;stroke:#c9ced6}svg .grid{stroke:#e6e9ee}svg .marker{stroke:#999;stroke-dasharray:3 3}
        svg .marker-label{fill:#777;font-size:10px}svg .empty{fill:#999}
        @media print{body{max-width:none;padding:0}.grid{grid-template-columns:1fr 1fr}figure.chart{break-inside:avoid}}
        """
}
