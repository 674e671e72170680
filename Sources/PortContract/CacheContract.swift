import Foundation
import StackCore
import StackModel

extension PortContract {
    static let cacheChecks: [ContractCheck] = [
        ContractCheck(name: "cache: ping answers") { s in try await s.cache.ping() },
        ContractCheck(name: "cache: get, set, overwrite, delete") { s in
            try expect(try await s.cache.get("contract:a") == nil, "a missing key reads nil")
            try await s.cache.set("contract:a", "1", ttl: nil)
            try await s.cache.set("contract:a", "두 번째", ttl: nil)
            try expect(try await s.cache.get("contract:a") == "두 번째", "the last write wins, UTF-8 intact")
            try await s.cache.setMany([("contract:b", "x"), ("contract:c", "y")], ttl: .seconds(60))
            try expect(try await s.cache.get("contract:c") == "y", "set-many writes every key")
            try expect(try await s.cache.delete(["contract:a", "contract:b", "contract:missing"]) == 2, "delete counts existing keys")
            try expect(try await s.cache.get("contract:a") == nil, "a deleted key reads nil")
        },
        ContractCheck(name: "cache: keys expire after their TTL") { s in
            try await s.cache.set("contract:ttl", "v", ttl: .milliseconds(300))
            let ttl = try await s.cache.timeToLive("contract:ttl")
            try expect(ttl != nil && ttl! > .zero && ttl! <= .milliseconds(300), "a fresh key reports its remaining TTL")
            try expect(try await s.cache.timeToLive("contract:none") == nil, "a missing key has no TTL")
            try await Task.sleep(for: .milliseconds(450))
            try expect(try await s.cache.get("contract:ttl") == nil, "the key is gone after its TTL")
        },
        ContractCheck(name: "cache: counters increment and take their TTL on creation") { s in
            try expect(try await s.cache.increment("contract:n", ttl: .seconds(60)) == 1, "a new counter starts at 1")
            try expect(try await s.cache.increment("contract:n", ttl: .seconds(60)) == 2, "then counts up")
            let ttl = try await s.cache.timeToLive("contract:n")
            try expect(ttl != nil && ttl! <= .seconds(60) && ttl! > .seconds(50), "the counter expires with its window")
        },
        ContractCheck(name: "cache: queues are first in, first out") { s in
            for item in ["a", "b", "c"] { try await s.cache.push("contract:q", item) }
            try expect(try await s.cache.length("contract:q") == 3, "length counts queued items")
            var popped: [String] = []
            for _ in 0..<3 { popped.append(try await s.cache.pop("contract:q", timeout: .milliseconds(100)) ?? "-") }
            try expect(popped == ["a", "b", "c"], "items leave in the order they came")
            try expect(try await s.cache.length("contract:q") == 0, "an emptied queue has length 0")
        },
        ContractCheck(name: "cache: a blocked pop times out, or wakes on a push") { s in
            let start = ContinuousClock.now
            try expect(try await s.cache.pop("contract:empty", timeout: .milliseconds(200)) == nil, "an empty queue times out with nil")
            try expect(ContinuousClock.now - start >= .milliseconds(150), "the pop waited for its timeout")
            let cache = s.cache
            let waiter = Task { try await cache.pop("contract:wake", timeout: .seconds(5)) }
            try await Task.sleep(for: .milliseconds(100))
            let pushed = ContinuousClock.now
            try await s.cache.push("contract:wake", "hello")
            try expect(try await waiter.value == "hello", "the waiting pop receives the pushed item")
            try expect(ContinuousClock.now - pushed < .seconds(1), "it wakes promptly")
        },
    ]
}
