import Foundation
import Reporting
import Scenario

/// `capacity.md` and `capacity.html`: the answer first, then what saturated, the curve, and the probes.
public enum CapacityPages {
    public static func markdown(_ r: CapacityReport) -> String {
        let unit = CapacitySettings.Dimension(rawValue: r.dimension) ?? .rate
        var md = "# Capacity of \(r.scenario.name)\n\n**\(r.outcome.summary)**\n\n"
        if let saturation = r.saturation { md += "What saturates first: \(saturation.evidence).\n\n" }
        md += "SLO: " + r.slo.map(\.text).joined(separator: ", ") + ". Each verdict has \(Format.percent(r.settings.confidence)) "
            + "confidence: a probe holds only when every bound's interval is within its limit, and breaks only when one is "
            + "wholly beyond it; anything else is within noise (`inconclusive`), is repeated with its samples pooled, and never "
            + "counts as a load that held.\n\n"
        md += "Search: \(r.probes.count) probes in \(Format.number(r.durationS)) s on \(r.target); stop: `\(r.outcome.stop.rawValue)`.\n\n"
        md += "## Probes\n\n| # | load | purpose | verdict | goodput/s | offered/s | errors | concurrency | "
            + "bounds (measured [interval]) | report |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for p in r.probes {
            let checks = p.checks.map { c in
                "\(SLOBound.describe(target: c.target, metric: c.metric, limit: c.limit)): \(interval(c)) \(c.verdict.rawValue)"
            }.joined(separator: "; ")
            let pooled = p.pooledWith.isEmpty ? "" : " (pooled with " + p.pooledWith.map(String.init).joined(separator: ", ") + ")"
            let offered = p.offeredPerS.map(Format.number) ?? "–"
            let cells: [String] = [String(p.index), unit.describe(p.load), p.purpose.rawValue + pooled, p.verdict.rawValue,
                                   Format.number(p.goodputPerS), offered, Format.percent(p.errorRate), Format.number(p.concurrency),
                                   cell(checks), "[\(p.report)](\(p.report)/report.md)"]
            md += "| " + cells.joined(separator: " | ") + " |\n"
        }
        md += "\n## Time per request at each station\n\nMean milliseconds a request spends at each store (its calls plus the "
            + "wait for a service slot or a pooled connection in front of it) and in the app's worker queue.\n\n"
        let stations = stationNames(r)
        md += "| load | " + stations.joined(separator: " | ") + " |\n|---|" + String(repeating: "---|", count: stations.count) + "\n"
        for p in r.probes {
            let byName = Dictionary(p.stations.map { ($0.station, $0) }) { a, _ in a }
            let cells = stations.map { byName[$0].map(stationCell) ?? "–" }
            md += "| \(unit.describe(p.load)) | " + cells.joined(separator: " | ") + " |\n"
        }
        md += "\n## Scalability curve\n\n" + uslText(r.usl) + "\n\n## What this answer means\n\n" + meaning(r) + "\n"
        return md
    }

    /// `2.10 (1 × 0.20 + slot-wait 1.90)`: ms per request, calls × time per call + wait per call.
    static func stationCell(_ s: StationLoad) -> String {
        if s.station == StationLoad.app { return "queue " + Format.ms(s.waitMsPerCall) }
        let wait = s.waitMsPerCall > 0 ? " + \(s.wait ?? "wait") " + Format.ms(s.waitMsPerCall) : ""
        return Format.ms(s.msPerRequest) + " (" + Format.number(s.callsPerRequest) + " × " + Format.ms(s.msPerCall) + wait + ")"
    }

    static func interval(_ c: SLOCheck) -> String {
        guard let estimate = c.estimate else { return "no data" }
        let v = { SLOBound.value($0, metric: c.metric, target: c.target) }
        return v(estimate) + " [" + (c.low.map(v) ?? "–") + ", " + (c.high.map(v) ?? "unbounded") + "]"
    }

    static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }

    static func stationNames(_ r: CapacityReport) -> [String] {
        var names: [String] = []
        for p in r.probes { for s in p.stations where !names.contains(s.station) { names.append(s.station) } }
        return names
    }

    static func uslText(_ usl: CapacityReport.USLInfo?) -> String {
        guard let usl else { return "Too few probes to fit the Universal Scalability Law." }
        var text = "Universal Scalability Law fitted to \(usl.points) probes (\(usl.basis))"
            + (usl.unsteadyLeftOut > 0 ? "; \(usl.unsteadyLeftOut) left out whose latency kept growing (no steady state, so no concurrency to speak of)" : "")
            + ": σ (contention) "
            + String(format: "%.4f", usl.sigma) + ", κ (coherency) " + String(format: "%.6f", usl.kappa) + ", λ "
            + Format.number(usl.lambda) + "/s per unit of concurrency, R² " + String(format: "%.3f", usl.rSquared) + ". "
        if let peak = usl.peakConcurrency, let x = usl.peakThroughputPerS {
            text += "Peak: \(Format.number(x))/s at concurrency \(Format.number(peak))."
        } else if let x = usl.peakThroughputPerS {
            text += "No coherency cost found: throughput approaches \(Format.number(x))/s."
        }
        if let poor = usl.poorFit { text += "\n\n**Poor fit — do not read these parameters as the system's law:** \(poor)." }
        return text
    }

    static func meaning(_ r: CapacityReport) -> String {
        if r.targetNote.hasPrefix("Projection") {
            return r.targetNote + " Its accuracy is that of the model: docs/capacity.md says how it was measured against live servers."
        }
        if r.target == "embedded" {
            return "This ran on the embedded stack: its capacity is that of the resource model in the scenario (service slots "
                + "and service times under `stack.embedded`), not of PostgreSQL, MongoDB or Redis. It checks the method and "
                + "answers what-if questions about a modelled stack; plan real hardware against live servers or a model calibrated from them."
        }
        return "Measured against live servers (\(r.targetNote)). The answer holds for this dataset, this mix, these servers and "
            + "this harness machine; a probe the harness could not drive is never taken as a bound."
    }

    public static func html(_ r: CapacityReport) -> String {
        let e = HTML.escape
        let unit = CapacitySettings.Dimension(rawValue: r.dimension) ?? .rate
        // One point per load: the last probe there (a repeat's samples are pooled with the earlier ones').
        let driven = Dictionary(r.probes.filter { $0.verdict != .notDriven && $0.verdict != .interrupted }.map { ($0.load, $0) }) { _, later in later }
            .values.sorted { $0.load < $1.load }
        let palette = HTMLReport.palette
        func colour(_ i: Int) -> String { palette[i % palette.count] }
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(r.scenario.name)) — stacksim capacity</title>
            <style>\(HTMLReport.css)</style></head><body>
            <header><h1>Capacity of \(e(r.scenario.name))</h1><p>\(e(r.scenario.description))</p></header>
            <section class="verdict \(r.outcome.stop == .converged || r.outcome.stop == .maxLoad ? "pass" : "fail")"><h2>\(e(r.outcome.summary))</h2>
            """
        if let saturation = r.saturation { page += "<p>What saturates first: \(e(saturation.evidence)).</p>" }
        page += "<p>SLO: \(e(r.slo.map(\.text).joined(separator: ", "))).</p></section>"
        page += "<section><h2>Curves</h2><div class=\"grid\">"
        let xLabel = unit == .rate ? "offered load (/s)" : unit.rawValue
        var throughput: [SVGChart.Series] = [SVGChart.Series(name: "goodput", points: driven.map { ($0.load, $0.goodputPerS) }, color: colour(0))]
        if unit != CapacitySettings.Dimension.users {
            throughput.append(SVGChart.Series(name: "offered", points: driven.map { ($0.load, $0.offeredPerS ?? $0.load) }, color: colour(5), dashed: true))
        }
        page += SVGChart(id: "throughput", title: "Throughput against load", xLabel: xLabel, yLabel: "/s", series: throughput).render()
        // The percentile the SLO's first latency bound judges (p99 when it bounds none).
        let slo = r.slo.first { SLOJudge.fraction(of: $0.metric) != nil || $0.metric == "max" }
        let metric = slo?.metric ?? "p99"
        var latency: [SVGChart.Series] = []
        for (i, op) in Set(driven.flatMap { $0.operations.map(\.name) }).sorted().enumerated() {
            latency.append(SVGChart.Series(name: "\(op) \(metric)", points: driven.compactMap { p in
                p.operations.first { $0.name == op }.flatMap { o in o.latencyMs.value(named: metric).map { (p.load, max($0, 0.001)) } }
            }, color: colour(i)))
        }
        if let slo, let lo = driven.first?.load, let hi = driven.last?.load {
            latency.append(SVGChart.Series(name: "SLO \(SLOBound.describe(target: slo.target, metric: slo.metric, limit: slo.limit))",
                                           points: [(lo, slo.limit), (hi, slo.limit)], color: "#b03a2e", dashed: true))
        }
        page += SVGChart(id: "latency", title: "\(metric) per operation against load", xLabel: xLabel, yLabel: "ms", series: latency,
                         logY: true).render()
        let stations = stationNames(r)
        let perStation = stations.enumerated().map { i, name in
            SVGChart.Series(name: name, points: driven.compactMap { p in
                p.stations.first { $0.station == name }.map { (p.load, max($0.msPerRequest, 0.001)) }
            }, color: colour(i))
        }
        page += SVGChart(id: "stations", title: "Time per request at each station", xLabel: xLabel, yLabel: "ms", series: perStation,
                         logY: true).render()
        if let usl = r.usl {
            let model = USLModel(lambda: usl.lambda, sigma: usl.sigma, kappa: usl.kappa)
            let steady = driven.filter(\.steady).sorted { $0.concurrency < $1.concurrency }
            let top = max(steady.map(\.concurrency).max() ?? 1, usl.peakConcurrency.map { $0 * 1.2 } ?? 0, 1)
            let curve = (0...60).map { i -> (x: Double, y: Double) in
                let n = max(top * Double(i) / 60, 0.01)
                return (n, model.throughput(at: n))
            }
            page += SVGChart(id: "usl", title: "USL fit" + (usl.poorFit == nil ? "" : " (poor fit)"), xLabel: "concurrency", yLabel: "/s",
                             series: [SVGChart.Series(name: "measured", points: steady.map { ($0.concurrency, $0.goodputPerS) }, color: colour(0)),
                                      SVGChart.Series(name: "USL", points: curve, color: colour(1), dashed: true)]).render()
        }
        page += "</div><p>\(e(uslText(r.usl)))</p></section>"
        page += "<section><h2>Probes</h2><table><thead><tr><th>#</th><th>load</th><th>purpose</th><th>verdict</th><th>goodput/s</th>"
            + "<th>errors</th><th>bounds</th><th>report</th></tr></thead><tbody>"
        for p in r.probes {
            let checks = p.checks.map { "\(SLOBound.describe(target: $0.target, metric: $0.metric, limit: $0.limit)): \(interval($0))" }
            page += "<tr><td>\(p.index)</td><td>\(e(unit.describe(p.load)))</td><td>\(p.purpose.rawValue)</td><td>\(p.verdict.rawValue)</td>"
                + "<td>\(Format.number(p.goodputPerS))</td><td>\(Format.percent(p.errorRate))</td><td>\(e(checks.joined(separator: "; ")))</td>"
                + "<td><a href=\"\(e(p.report))/report.html\">\(e(p.report))</a></td></tr>"
        }
        page += "</tbody></table></section><section><h2>What this answer means</h2><p>\(e(meaning(r)))</p></section></body></html>\n"
        return page
    }
}
