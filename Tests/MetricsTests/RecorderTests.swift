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
        #expect(abs(board.latency.milliseconds(atPercentile: 50) - 500) <= 0.5)
        #expect(abs(board.latency.milliseconds(atPercentile: 99) - 990) <= 1)
        #expect(abs(board.latency.maxMilliseconds - 1000) <= 1)
        #expect(abs(board.service.milliseconds(atPercentile: 99) - 99) <= 0.1)
        #expect(board.storeCalls["mongo"]?.calls == 1000 && board.storeCalls["mongo"]?.failures == 10)
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
