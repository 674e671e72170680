import Foundation
import Metrics
import Redaction

/// Writes a run's report files into its directory.
public enum ReportWriter {
    /// Writes `report.json`, `report.md`, `report.html`, `junit.xml`, `intervals.csv` and
    /// `latency.hlog`; returns the files written.
    @discardableResult
    public static func write(_ report: RunReport, histogramLog: [String], to directory: URL) throws -> [URL] {
        let files: [(String, String)] = [
            ("report.json", String(decoding: try report.jsonData(), as: UTF8.self)),
            ("report.md", TextReports.markdown(report)),
            ("report.html", HTMLReport.render(report)),
            ("junit.xml", JUnitReport.render(report)),
            ("intervals.csv", intervalsCSV(report.intervals)),
        ]
        let hlog = HistogramLog.header(startTime: report.startedAt) + histogramLog.map { redactingTag($0) + "\n" }.joined()
        let written = try write(files, to: directory)
        return written + [try save(hlog, as: "latency.hlog", in: directory)]
    }

    /// Writes each (name, text) into `directory`, atomically: whatever path an error message
    /// took into a report, no credential leaves in it.
    @discardableResult
    public static func write(_ files: [(name: String, text: String)], to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try files.map { name, text in try save(Redaction.redact(text), as: name, in: directory) }
    }

    /// Writes `text` as it is into `directory`, which exists.
    private static func save(_ text: String, as name: String, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url, options: .atomic)
        return url
    }

    /// A histogram log line with its tag redacted and its histogram as it was: base64 is no
    /// credential but can read like one (`…+pWd==` is `pwd=` to the redaction), and masking it
    /// would lose that interval's histogram.
    static func redactingTag(_ line: String) -> String {
        guard let payload = line.lastIndex(of: ",") else { return Redaction.redact(line) }
        return Redaction.redact(String(line[..<payload])) + line[payload...]
    }

    /// One row per operation per second: completed, successful, failed, and the successful ones' latency.
    public static func intervalsCSV(_ rows: [IntervalRow]) -> String {
        var csv = "t_s,phase,recorded,operation,count,ok,errors,p50_ms,p99_ms,max_ms\n"
        for r in rows {
            csv += "\(String(format: "%.3f", r.t)),\(csvField(r.phase)),\(r.recorded),\(csvField(r.operation)),\(r.count),\(r.ok),\(r.errors),"
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
