import Foundation
import Metrics

/// Writes a run's report files into its directory.
public enum ReportWriter {
    /// Writes `report.json`, `report.md`, `report.html`, `junit.xml`, `intervals.csv` and
    /// `latency.hlog`; returns the files written.
    @discardableResult
    public static func write(_ report: RunReport, histogramLog: [HistogramLog.Line], to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let hlog = HistogramLog.header(startTime: report.startedAt) + histogramLog.map { HistogramLog.format($0) + "\n" }.joined()
        let files: [(String, Data)] = [
            ("report.json", try report.jsonData()),
            ("report.md", Data(TextReports.markdown(report).utf8)),
            ("report.html", Data(HTMLReport.render(report).utf8)),
            ("junit.xml", Data(JUnitReport.render(report).utf8)),
            ("intervals.csv", Data(intervalsCSV(report.intervals).utf8)),
            ("latency.hlog", Data(hlog.utf8)),
        ]
        return try files.map { name, data in
            let url = directory.appendingPathComponent(name)
            try data.write(to: url, options: .atomic)
            return url
        }
    }

    /// time, operation, count, errors, p50, p99, max — one row per operation per second.
    public static func intervalsCSV(_ rows: [IntervalRow]) -> String {
        var csv = "t_s,phase,recorded,operation,count,errors,p50_ms,p99_ms,max_ms\n"
        for r in rows {
            csv += "\(String(format: "%.3f", r.t)),\(csvField(r.phase)),\(r.recorded),\(r.operation),\(r.count),\(r.errors),"
            csv += "\(String(format: "%.4f", r.p50Ms)),\(String(format: "%.4f", r.p99Ms)),\(String(format: "%.4f", r.maxMs))\n"
        }
        return csv
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
