import Foundation
import StackCore

/// Reads `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` into the evidence a report shows: a
/// sequential scan anywhere makes the statement a scan of that table; otherwise the first index
/// it reads names its path. Rows examined are what the scan nodes produced or filtered away,
/// over all their loops.
enum PostgresPlan {
    static func read(_ text: String) -> PlanEvidence? {
        guard let top = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])?.first,
              let root = top["Plan"] as? [String: Any] else { return nil }
        var nodes: [[String: Any]] = []
        func walk(_ node: [String: Any]) {
            nodes.append(node)
            for child in node["Plans"] as? [[String: Any]] ?? [] { walk(child) }
        }
        walk(root)
        func int(_ node: [String: Any], _ key: String) -> Int { (node[key] as? NSNumber)?.intValue ?? 0 }
        func type(_ node: [String: Any]) -> String { node["Node Type"] as? String ?? "?" }
        let scans = nodes.filter { type($0).hasSuffix("Scan") }
        let sequential = scans.first { type($0) == "Seq Scan" }
        let indexed = scans.first { $0["Index Name"] != nil }
        let (path, on): (AccessPath, String)
        if let sequential {
            (path, on) = (.collectionScan, sequential["Relation Name"] as? String ?? "?")
        } else if let indexed {
            (path, on) = (.indexScan, indexed["Index Name"] as? String ?? "?")
        } else if type(root) == "ModifyTable" || type(root) == "Result" {
            (path, on) = (.keyedWrite, root["Relation Name"] as? String ?? "?")
        } else {
            return nil
        }
        // A bitmap index scan feeds its heap scan: count the heap side only.
        let examined = scans.filter { type($0) != "Bitmap Index Scan" }.reduce(0) { total, node in
            total + (int(node, "Actual Rows") + int(node, "Rows Removed by Filter") + int(node, "Rows Removed by Index Recheck"))
                * max(1, int(node, "Actual Loops"))
        }
        let described = nodes.map { node -> String in
            var words = type(node)
            if let index = node["Index Name"] as? String { words += " using \(index)" }
            if let relation = node["Relation Name"] as? String { words += " on \(relation)" }
            return words
        }
        return PlanEvidence(path: path, on: on, examined: examined, returned: int(root, "Actual Rows"),
                            buffersHit: int(root, "Shared Hit Blocks"), buffersRead: int(root, "Shared Read Blocks"), nodes: described)
    }
}
