/// `junit.xml`: a test case per threshold and per baseline comparison, plus one for the run's
/// validity, so CI systems show them natively; the run suite's properties carry the rates and
/// the failed requests by error class.
public enum JUnitReport {
    struct Case {
        var suite: String
        var name: String
        var failure: String?
    }

    public static func render(_ report: RunReport) -> String {
        var cases = [Case(suite: "run", name: "the harness kept its schedule",
                          failure: report.invalidReasons.isEmpty ? nil : report.invalidReasons.joined(separator: "; "))]
        if let aborted = report.aborted { cases.append(Case(suite: "run", name: "ran to the end", failure: aborted)) }
        for t in report.thresholds {
            let limit = TextReports.value(t.metric)(t.limit)
            let actual = t.actual.map(TextReports.value(t.metric)) ?? "no data"
            cases.append(Case(suite: "thresholds", name: "\(t.target) \(t.metric) \(t.metric == "throughput" || t.target == "cache-hit-ratio" ? "≥" : "≤") \(limit)",
                              failure: t.passed ? nil : "\(actual) against a limit of \(limit) (\(t.location))"))
        }
        for finding in report.baseline?.findings ?? [] {
            cases.append(Case(suite: "baseline", name: "\(finding.operation) \(finding.percentile) has not regressed",
                              failure: finding.verdict == .regression ? finding.summary : nil))
        }
        let suites = ["run", "thresholds", "baseline"].filter { s in cases.contains { $0.suite == s } }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"stacksim \(HTML.escape(report.scenario.name))\" tests=\"\(cases.count)\" "
        xml += "failures=\"\(cases.count { $0.failure != nil })\" errors=\"0\" time=\"\(report.durationS)\">\n"
        for suite in suites {
            let members = cases.filter { $0.suite == suite }
            xml += "  <testsuite name=\"\(suite)\" tests=\"\(members.count)\" failures=\"\(members.count { $0.failure != nil })\" "
            xml += "errors=\"0\" skipped=\"0\" time=\"0\">\n"
            if suite == "run" { xml += properties(report) }
            for c in members {
                xml += "    <testcase classname=\"stacksim.\(suite)\" name=\"\(HTML.escape(c.name))\" time=\"0\""
                if let failure = c.failure {
                    xml += ">\n      <failure message=\"\(HTML.escape(failure))\" type=\"\(suite)\">\(HTML.escape(failure))</failure>\n    </testcase>\n"
                } else {
                    xml += "/>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    static func properties(_ report: RunReport) -> String {
        let t = report.totals
        var values = [("goodput_per_s", Format.number(t.throughputPerS)), ("attempted_per_s", Format.number(t.attemptedPerS)),
                      ("requests_ok", "\(t.ok)"), ("requests_failed", "\(t.errors)")]
        if let offered = t.offeredPerS { values.append(("offered_per_s", Format.number(offered))) }
        values += report.errorClasses.map { ("error_class.\($0.errorClass)", "\($0.count)") }
        return "    <properties>\n" + values.map { "      <property name=\"\(HTML.escape($0.0))\" value=\"\($0.1)\"/>\n" }.joined()
            + "    </properties>\n"
    }
}
