import Foundation
import Metrics
import Reporting
import Scenario
import Testing

@Suite("Reports")
struct ReportTests {
    func operation(_ name: String, p99: Double, errors: Int = 0, count: Int = 100) -> OperationReport {
        let summary = PercentileSummary(p50: p99 / 4, p90: p99 / 2, p99: p99, p999: p99 * 2, max: p99 * 3, mean: p99 / 3)
        return OperationReport(name: name, count: count, errors: errors, errorsByClass: errors > 0 ? ["injected": errors] : [:],
                               denied: 0, seconds: 10, latencyMs: summary, serviceMs: summary, queueMs: summary, stores: [])
    }

    func report(_ operations: [OperationReport], lagP99: Double = 40, name: String = "unit") -> RunReport {
        let lag = PercentileSummary(p50: lagP99 / 2, p90: lagP99, p99: lagP99, p999: lagP99, max: lagP99, mean: lagP99 / 2)
        let count = operations.reduce(0) { $0 + $1.count }, errors = operations.reduce(0) { $0 + $1.errors }
        return RunReport(
            tool: ToolInfo(version: "test"), scenario: ScenarioInfo(name: name, description: "d", seed: 1, file: "x.yaml"),
            target: "embedded", targetNote: "note", machine: MachineInfo(cores: 2, memoryBytes: 1 << 30, os: "test", kernel: "k", swiftVersion: "6"),
            startedAt: Date(timeIntervalSince1970: 1_700_000_000), durationS: 10, recordedS: 10, verdict: .pass, invalidReasons: [],
            dataset: DatasetInfo(organizations: 1, users: 2, tasks: 3, sprints: 4, activityLogs: 5, generateS: 0, loadS: 0),
            load: LoadInfo(model: "open", arrivals: "poisson", phases: [PhaseInfo(name: "steady", durationS: 10, rate: "10/s", meanRatePerS: 10, users: nil, record: true)]),
            scheduleLag: ScheduleInfo(intended: count, late: 0, maxLagMs: 0, toleranceMs: 10, maxLateFraction: 0.01),
            totals: TotalsInfo(count: count, errors: errors, denied: 0, seconds: 10, offered: count, dropped: 0),
            operations: operations,
            consistency: ConsistencyInfo(snapshotLagMs: lag, snapshotSyncs: 3, cacheHitRatio: ["task_stats": 0.5],
                                         cacheLookups: ["task_stats": CacheCounts(hits: 1, misses: 1)], invalidations: 1, invalidatedKeys: 5,
                                         queueDepthMax: 0, syncFailures: 0, tasksResynced: 2,
                                         consistencyCheck: ConsistencyCheckInfo(orphans: 0, missingSnapshots: 0, staleSnapshots: 0, usersChecked: 2)),
            harness: HarnessInfo(processCpuS: 1, coresUsed: 0.1), thresholds: [],
            breakdowns: Breakdowns(byTenantSize: [], byPhase: []), intervals: [], stackSamples: [])
    }

    @Test func errorClassesAndTheLedgerReachEveryReaderFacingFormat() throws {
        var operations = [operation("board", p99: 30)]
        operations[0].errors = 7
        operations[0].errorsByClass = ["postgres_timeout": 5, "abandoned": 2]
        let samples = [StackSample(t: 3, phase: "steady", queueDepth: nil, snapshotLagP99Ms: 0, throughputPerS: 1, attemptedPerS: 1, targetRatePerS: 10,
                                   p50Ms: 1, p99Ms: 2, errors: 5, errorsByClass: ["postgres_timeout": 5]),
                       StackSample(t: 9, phase: "steady", queueDepth: 0, snapshotLagP99Ms: 0, throughputPerS: 1, attemptedPerS: 1, targetRatePerS: 10,
                                   p50Ms: 1, p99Ms: 2, errors: 2, errorsByClass: ["abandoned": 2])]
        var r = report(operations)
        r.stackSamples = samples
        r.errorClasses = ErrorClassInfo.classes(operations: operations, samples: samples)
        r.integrity = IntegrityInfo(acknowledgedWrites: 40, unknownOutcomeWrites: 1, checked: 39, missing: 0, different: 0, examples: [],
                                    error: nil, syncJobsLost: 3, relogins: 12)
        #expect(r.errorClasses == [ErrorClassInfo(errorClass: "abandoned", store: nil, count: 2, firstS: 9, lastS: 9),
                                   ErrorClassInfo(errorClass: "postgres_timeout", store: "postgres", count: 5, firstS: 3, lastS: 3)])
        let markdown = TextReports.markdown(r), html = HTMLReport.render(r), summary = TextReports.summary(r)
        #expect(markdown.contains("| postgres\\_timeout | postgres | 5 | at 3.0 s |"))
        #expect(markdown.contains("3.0 s: postgres\\_timeout × 5"))
        #expect(html.contains("<td><code>postgres_timeout</code></td><td>postgres</td><td>5</td><td>3.0</td>") && html.contains("3 sync jobs lost"))
        #expect(html.contains("id=\"errors-over-time\""), "and per second, by class, in a chart")
        #expect(summary.contains("postgres_timeout 5 (at 3.0 s)") && summary.contains("12 re-logins"))
        let json = String(decoding: try r.jsonData(), as: UTF8.self)
        #expect(json.contains("\"errors_by_class\" : {") && json.contains("\"sync_jobs_lost\" : 3"))
    }

    @Test func unusedIndexesAreThoseOfTablesTheLoadReadThatNoReadUsed() {
        let store = StoreEvidenceInfo(store: "postgres", source: "test", shapes: [], counters: [
            "table.users.seq_scan": 0, "table.users.idx_scan": 40, "index.users.users_pkey.idx_scan": 40,
            "index.users.users_email.idx_scan": 0, "table.audit_2026_11.seq_scan": 0, "table.audit_2026_11.idx_scan": 0,
            "index.audit_2026_11.audit_2026_11_pkey.idx_scan": 0,
        ], missing: [])
        let findings = Finding.from([store])
        #expect(findings.count == 1 && findings[0].kind == .unusedIndexes)
        #expect(findings[0].text.contains("users.users_email") && !findings[0].text.contains("users_pkey")
                && !findings[0].text.contains("audit"), "only indexes of tables the load read: \(findings[0].text)")
    }

    func thresholds(_ yaml: String) throws -> [Threshold] {
        try ScenarioLoader().parse("name: t\nthresholds:\n" + yaml, file: "t.yaml").thresholds
    }

    @Test func thresholdsPassAndFailOnTheRightOperation() throws {
        let r = report([operation("board", p99: 30), operation("search", p99: 80, errors: 1)])
        let results = ThresholdEvaluator.evaluate(try thresholds("""
              board: { p99: 50ms }
              search: { p99: 50ms, errors: 5% }
              all: { max: 200ms }
              snapshot-lag: { p99: 5s }
              errors: { rate: 0.1% }
              cache-hit-ratio: { task_stats: 60% }
              members: { throughput: 5/s }
            """), on: r)
        let verdicts = Dictionary(results.map { ("\($0.target).\($0.metric)", $0.passed) }, uniquingKeysWith: { a, b in a && b })
        #expect(verdicts["board.p99"] == true)
        #expect(verdicts["search.p99"] == false)
        #expect(verdicts["search.rate"] == true)
        #expect(verdicts["board.max"] == true && verdicts["search.max"] == false)
        #expect(verdicts["snapshot-lag.p99"] == true)
        #expect(verdicts["errors.rate"] == false, "1 error in 200 is 0.5%")
        #expect(verdicts["cache-hit-ratio.task_stats"] == false, "50% is under a 60% floor")
        #expect(verdicts["members.throughput"] == false, "members did not run at all")
        #expect(results.first { $0.target == "search" && $0.metric == "p99" }?.location == "t.yaml:4")
    }

    @Test func throughputIsAFloorAndAbortOnFailIsParsed() throws {
        let parsed = try thresholds("  abort_after: 3s\n  board: { throughput: 8/s, abort_on_fail: true }\n")
        #expect(parsed.count == 1 && parsed[0].abortOnFail && parsed[0].isFloor && parsed[0].limit == 8)
        let results = ThresholdEvaluator.evaluate(parsed, on: report([operation("board", p99: 3)]))
        #expect(results[0].passed, "10/s meets an 8/s floor")
    }

    @Test func aThresholdWithoutDataFails() throws {
        let results = ThresholdEvaluator.evaluate(try thresholds("  members: { p99: 10ms }\n"),
                                                  on: report([operation("members", p99: 1, count: 0)]))
        #expect(results.count == 1 && !results[0].passed && results[0].actual == nil)
    }

    @Test func theJSONReportCarriesTheDocumentedFields() throws {
        let data = try report([operation("board", p99: 3)]).jsonData()
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["schema_version", "scenario", "target", "machine", "started_at", "duration_s", "operations", "consistency"] {
            #expect(json[key] != nil, "\(key)")
        }
        let op = try #require((json["operations"] as? [[String: Any]])?.first)
        for key in ["name", "count", "errors", "throughput_per_s", "latency_ms", "service_ms"] { #expect(op[key] != nil, "\(key)") }
        let latency = try #require(op["latency_ms"] as? [String: Any])
        for key in ["p50", "p90", "p99", "p999", "max"] { #expect(latency[key] != nil, "\(key)") }
        let consistency = try #require(json["consistency"] as? [String: Any])
        for key in ["snapshot_lag_ms", "cache_hit_ratio", "consistency_check"] { #expect(consistency[key] != nil, "\(key)") }
        let check = try #require(consistency["consistency_check"] as? [String: Any])
        for key in ["orphans", "missing_snapshots", "stale_snapshots"] { #expect(check[key] != nil, "\(key)") }
        let machine = try #require(json["machine"] as? [String: Any])
        for key in ["cores", "memory_bytes", "os", "swift_version"] { #expect(machine[key] != nil, "\(key)") }
        let decoded = try RunReport.decoder().decode(RunReport.self, from: data)
        #expect(decoded.operations[0].latencyMs.p99 == 3)
    }

    /// How late the arrivals were dispatched reaches the report: its percentiles in the JSON, its
    /// median and p99 beside the worst in every format; without it (closed model, virtual time,
    /// older reports) the worst alone.
    @Test func theArrivalsLatenessReachesEveryFormat() throws {
        var lag = LatencyHistogram()
        for micros in 1...1_000 { lag.record(nanoseconds: Int64(micros) * 1_000) }
        var r = report([operation("board", p99: 3)])
        r.scheduleLag = ScheduleInfo(intended: 1_000, late: 0, maxLagMs: lag.maxMilliseconds, toleranceMs: 10, maxLateFraction: 0.01, lag: lag)
        let line = "1000 arrivals late (p50 0.500 ms, p99 0.990 ms, max 1.00 ms)"
        #expect(TextReports.summary(r).contains("0 of " + line))
        #expect(TextReports.markdown(r).contains("(p50 0.500 ms, p99 0.990 ms, max 1.00 ms)"))
        #expect(HTMLReport.render(r).contains("0 of " + line))
        let json = try #require(try JSONSerialization.jsonObject(with: r.jsonData()) as? [String: Any])
        let schedule = try #require(json["schedule_lag"] as? [String: Any])
        let percentiles = try #require(schedule["lag_ms"] as? [String: Double])
        #expect(abs(percentiles["p50"]! - 0.5) < 0.001 && abs(percentiles["p99"]! - 0.99) < 0.001, "\(percentiles)")
        #expect(try RunReport.decoder().decode(RunReport.self, from: r.jsonData()).scheduleLag.lagMs == r.scheduleLag.lagMs)

        r.scheduleLag = ScheduleInfo(intended: 1_000, late: 0, maxLagMs: 4.2, toleranceMs: 10, maxLateFraction: 0.01)
        #expect(TextReports.summary(r).contains("0 of 1000 arrivals late (max 4.20 ms)"))
        let without = try #require(try JSONSerialization.jsonObject(with: r.jsonData()) as? [String: Any])
        #expect((without["schedule_lag"] as? [String: Any])?["lag_ms"] == nil)
    }

    @Test func markdownLeadsWithTheVerdictAndEscapesScenarioText() {
        var r = report([operation("board", p99: 3)], name: "<script>alert(1)</script> | x")
        r.verdict = .fail
        let md = TextReports.markdown(r)
        #expect(md.hasPrefix("# &lt;script&gt;alert(1)&lt;/script&gt; \\| x: FAIL"))
        #expect(!md.contains("<script>"))
        #expect(md.contains("| board | 100 | 0 |"))
    }

    @Test func theHistogramLogKeepsItsHistogramsAndRedactsItsTags() throws {
        // Base64 that reads like `pwd=` to the redaction, and a tag that holds a credential.
        let histogram = "1.000,1.000,0.120,HISTFAAAAEx4nJNpmSzMwMDAxwABTFCaEUzOhPGZGZiaGbqd+pWd=="
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hlog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try ReportWriter.write(report([operation("board", p99: 2)]), histogramLog: ["Tag=board," + histogram, "Tag=redis://S3cr3t@h," + histogram],
                               to: directory)
        let lines = try String(contentsOf: directory.appendingPathComponent("latency.hlog"), encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("Tag=") }.map(String.init)
        #expect(lines == ["Tag=board," + histogram, "Tag=redis://***@h," + histogram])
    }

    @Test func theSummaryShowsEveryOperation() {
        let text = TextReports.summary(report([operation("board", p99: 3), operation("search", p99: 9)]))
        #expect(text.contains("board") && text.contains("search") && text.contains("snapshot lag"))
    }
}
