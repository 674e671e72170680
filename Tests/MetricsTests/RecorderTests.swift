import Metrics
import Testing

@Suite("Recorder")
struct RecorderTests {
    func sample(_ op: String, latencyMs: Double, serviceMs: Double, error: String? = nil, recorded: Bool = true) -> OperationSample {
        OperationSample(operation: op, latencyNanos: Int64(latencyMs * 1e6), serviceNanos: Int64(serviceMs * 1e6), errorClass: error,
                        storeCalls: [StoreCallSample(store: "mongo", nanos: Int64(serviceMs * 5e5), failed: error != nil)],
                        denied: false, recorded: recorded)
    }

    @Test func shardsMergeIntoExactTotals() {
        let recorder = Recorder(shards: 4)
        for i in 1...1000 {
            recorder.record(sample("board", latencyMs: Double(i), serviceMs: Double(i) / 10, error: i % 100 == 0 ? "injected" : nil),
                            shard: i)
        }
        let board = recorder.totals().operations["board"]!
        #expect(board.count == 1000)
        #expect(board.errors == ["injected": 10])
        // The ten failures (100, 200, … 1000 ms) are not in the latency: the 495th of 990 successes is 499 ms.
        #expect(abs(board.latency.milliseconds(atPercentile: 50) - 499) <= 0.5)
        #expect(abs(board.latency.milliseconds(atPercentile: 99) - 990) <= 1)
        #expect(abs(board.latency.maxMilliseconds - 1000) <= 1)
        #expect(abs(board.service.milliseconds(atPercentile: 99) - 99) <= 0.1)
        #expect(board.storeCalls["mongo"]?.calls == 1000 && board.storeCalls["mongo"]?.failures == 10)
    }

    @Test func fastFailuresStayOutOfTheSuccessfulRequestsLatency() {
        let recorder = Recorder(shards: 2)
        for i in 0..<100 { recorder.record(sample("board", latencyMs: 20, serviceMs: 18), shard: i) }
        for i in 0..<400 { recorder.record(sample("board", latencyMs: 0.5, serviceMs: 0.5, error: "redis_unavailable"), shard: i) }
        let board = recorder.totals().operations["board"]!
        #expect(board.count == 500 && board.succeeded == 100 && board.errorCount == 400)
        #expect(abs(board.latency.milliseconds(atPercentile: 50) - 20) <= 0.02, "p50 of successes only, not dragged to 0.5 ms")
        #expect(board.latency.count == 100 && board.service.count == 100)
        #expect(board.failedLatency.count == 400 && abs(board.failedLatency.milliseconds(atPercentile: 99) - 0.5) <= 0.001)
        let second = recorder.takeInterval().operations["board"]!
        #expect(second.count == 500 && second.succeeded == 100 && second.latency.count == 100)
    }

    @Test func theMeanIsExact() {
        var h = LatencyHistogram()
        for ns: Int64 in [1_000, 2_000, 4_000_123, 9_999_999_999] { h.record(nanoseconds: ns) }
        #expect(abs(h.meanMilliseconds - Double(1_000 + 2_000 + 4_000_123 + 9_999_999_999) / 4 / 1e6) < 1e-9)
    }

    @Test func unrecordedSamplesStayInIntervalsOnly() {
        let recorder = Recorder(shards: 2)
        recorder.record(sample("board", latencyMs: 1, serviceMs: 1, recorded: false), shard: 0)
        recorder.record(sample("board", latencyMs: 2, serviceMs: 1, recorded: true), shard: 1)
        #expect(recorder.totals().operations["board"]?.count == 1)
        let interval = recorder.takeInterval().operations
        #expect(interval["board"]?.count == 2)
        #expect(recorder.takeInterval().operations.isEmpty, "taking an interval resets it")
    }

    /// Stats built before the run for the operations it may record show up nowhere until an
    /// operation is recorded, and then hold exactly its samples, interval after interval.
    @Test func preparedStatsAppearOnlyOnceRecorded() {
        let recorder = Recorder(shards: 2, operations: 3, groups: 2)
        #expect(recorder.totals().operations.isEmpty && recorder.takeInterval().operations.isEmpty)
        for second in 0..<3 {
            for i in 0..<10 { recorder.record(sample("board", latencyMs: Double(3 - second), serviceMs: 1), shard: i) }
            let interval = recorder.takeInterval().operations
            #expect(Array(interval.keys) == ["board"] && interval["board"]?.count == 10)
            #expect(abs((interval["board"]?.latency.milliseconds(atPercentile: 100) ?? 0) - Double(3 - second)) < 0.01)
        }
        let totals = recorder.totals()
        #expect(Array(totals.operations.keys) == ["board"] && totals.operations["board"]?.count == 30)
        #expect(totals.byPhase.count == 1 && totals.byTenantClass.count == 1)
    }

    @Test func valuesBeyondTheRangeAreClampedNotDropped() {
        var histogram = LatencyHistogram()
        histogram.record(nanoseconds: Int64(LatencyHistogram.highest) * 2)
        histogram.record(nanoseconds: -5)
        #expect(histogram.count == 2)
        #expect(histogram.clamped == 1)
    }

    @Test func stackEventsCountOnlyWhileRecording() {
        let recorder = Recorder(shards: 1)
        recorder.recordCacheLookup(family: "dashboard", hit: true)
        recorder.setRecording(true)
        recorder.recordCacheLookup(family: "dashboard", hit: false)
        recorder.recordCacheLookup(family: "dashboard", hit: true)
        recorder.recordSnapshotLag(nanoseconds: 3_000_000, tasksUpdated: 4)
        let totals = recorder.totals()
        #expect(totals.cache["dashboard"] == CacheCounts(hits: 1, misses: 1))
        #expect(totals.snapshotLag.count == 1 && totals.tasksResynced == 4)
    }
}
