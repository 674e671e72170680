import Foundation
import StackCore

/// Reads an `explain` reply (`executionStats` verbosity) into the evidence a report shows: a
/// collection scan anywhere in the winning plan makes the shape a scan; else its index scan
/// names the index (a text stage, the text index). Found wherever the reply nests them (a find's
/// `queryPlanner`, an aggregation's `$cursor` stage).
enum MongoPlan {
    static func read(_ reply: [String: Any]) -> PlanEvidence? {
        guard let winning = first("winningPlan", in: reply) as? [String: Any] else { return nil }
        var stages: [[String: Any]] = []
        func walk(_ stage: [String: Any]) {
            stages.append(stage)
            if let input = stage["inputStage"] as? [String: Any] { walk(input) }
            for input in stage["inputStages"] as? [[String: Any]] ?? [] { walk(input) }
        }
        walk(winning)
        func name(_ stage: [String: Any]) -> String { stage["stage"] as? String ?? "?" }
        let (path, on): (AccessPath, String)
        if stages.contains(where: { name($0) == "COLLSCAN" }) {
            (path, on) = (.collectionScan, first("namespace", in: reply) as? String ?? "collection")
        } else if let index = stages.first(where: { $0["indexName"] != nil }) {
            (path, on) = (stages.contains { name($0).hasPrefix("TEXT") } ? .textIndex : .indexScan, index["indexName"] as? String ?? "?")
        } else {
            return nil
        }
        let stats = first("executionStats", in: reply) as? [String: Any] ?? [:]
        func int(_ key: String) -> Int { (stats[key] as? NSNumber)?.intValue ?? 0 }
        return PlanEvidence(path: path, on: on, examined: max(int("totalKeysExamined"), int("totalDocsExamined")),
                            returned: int("nReturned"), buffersHit: 0, buffersRead: 0,
                            nodes: stages.map { stage in name(stage) + ((stage["indexName"] as? String).map { " using \($0)" } ?? "") })
    }

    /// The first value under `key`, searching nested documents and arrays depth first.
    static func first(_ key: String, in value: Any) -> Any? {
        if let document = value as? [String: Any] {
            if let found = document[key] { return found }
            for (_, child) in document { if let found = first(key, in: child) { return found } }
        } else if let array = value as? [Any] {
            for child in array { if let found = first(key, in: child) { return found } }
        }
        return nil
    }
}
