import Foundation
@testable import Scenario
import Testing
import Yams

/// The format described once (`ScenarioSchema`) against everything that uses it: the loader,
/// the writer, the tutorial's comments and the authoring guide. (The shipped JSON Schema is
/// compared with the generated one, and validated independently, in Tests/cli/run.sh.)
@Suite("Scenario format")
struct ScenarioFormatTests {
    static let root = ScenarioLoaderTests.packageRoot
    static let everyKey = ["a", "b", "c"].map { root.appendingPathComponent("Tests/fixtures/scenarios/every-key-\($0).yaml").path }

    @Test(arguments: ScenarioLoaderTests.shipped + everyKey)
    func writingAndReadingBackGivesTheSameScenario(file: String) throws {
        let loaded = try ScenarioLoader().load(file: file)
        let written = ScenarioWriter.render(ScenarioWriter.tree(loaded))
        let reread = try ScenarioLoader().parse(written, file: "written")
        #expect(reread.withoutOrigins == loaded.withoutOrigins)
        #expect(ScenarioWriter.render(ScenarioWriter.tree(reread)) == written)
    }

    /// Key paths with list indices as `[]` and author-chosen mapping keys as `*`.
    static func formatPaths(_ node: SchemaNode, _ path: String) -> Set<String> {
        func join(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        switch node {
        case .object(let keys), .variants(_, let keys):
            return keys.reduce(into: Set<String>()) { $0.insert(join($1.name)); $0.formUnion(formPaths($1)) }
        case .map(_, let value): return formatPaths(value, join("*")).union([join("*")])
        case .list(let item, _): return formatPaths(item, path + "[]")
        default: return []
        }
        func formPaths(_ key: SchemaKey) -> Set<String> { formatPaths(key.node, join(key.name)) }
    }

    static func documentPaths(_ node: Node, _ schema: SchemaNode, _ path: String) -> Set<String> {
        func join(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        switch (node, schema) {
        case (.mapping(let mapping), .map(_, let value)):
            return mapping.reduce(into: Set([join("*")])) { $0.formUnion(documentPaths($1.value, value, join("*"))) }
        case (.mapping(let mapping), _):
            return mapping.reduce(into: Set<String>()) { paths, pair in
                let key = pair.key.string!
                paths.insert(join(key))
                if let child = schema.child(key) { paths.formUnion(documentPaths(pair.value, child, join(key))) }
            }
        case (.sequence(let items), .list(let item, _)):
            return items.reduce(into: Set<String>()) { $0.formUnion(documentPaths($1, item, path + "[]")) }
        default: return []
        }
    }

    @Test func theEveryKeyFixturesCoverTheWholeFormat() throws {
        let schema = ScenarioSchema()
        // Every store's knobs take the same keys (their call names aside); one store stands for all.
        // A capacity SLO takes the thresholds' keys (less the aborts); the thresholds stand for it.
        let anyStore = try Regex(#"^stack\.embedded\.(postgres|mongo|redis)"#)
        func merged(_ paths: Set<String>) -> Set<String> {
            Set(paths.map { $0.replacing(anyStore, with: "stack.embedded.*").replacing(/^capacity\.slo\./, with: "thresholds.") })
        }
        let covered = try Self.everyKey.reduce(into: Set<String>()) { paths, file in
            paths.formUnion(Self.documentPaths(try ScenarioLoader.compose(try ScenarioLoader.read(file), file: file), schema.root, ""))
        }
        // Every operation's threshold takes the same keys; one stands for all.
        let format = merged(Self.formatPaths(schema.root, "")).filter {
            !Operations.builtIn.filter { $0 != "board" }.contains(String($0.split(separator: ".").dropFirst().first ?? ""))
                || !$0.hasPrefix("thresholds.")
        }
        #expect(format.subtracting(merged(covered)).sorted() == [])
    }

    @Test func theAuthoringGuideNamesEveryKey() throws {
        let guide = try String(contentsOf: Self.root.appendingPathComponent("Scenarios/README.md"), encoding: .utf8)
        let names = Self.formatPaths(ScenarioSchema().root, "").compactMap { $0.split(separator: ".").last.map(String.init) }
            .map { $0.replacingOccurrences(of: "[]", with: "") }
            .filter { $0 != "*" && !Operations.builtIn.contains($0) }
        #expect(Set(names).filter { !guide.contains("`\($0)`") }.sorted() == [])
    }

    /// Commented-out keys in the tutorial (`# key: value`, and the lines under one) are uncommented
    /// one block at a time, replacing an active sibling with the same key, and the file must load.
    @Test func theTutorialsCommentedKeysAreKeysTheFormatKnows() throws {
        let file = Self.root.appendingPathComponent("Scenarios/default.yaml").path
        let lines = try ScenarioLoader.read(file).components(separatedBy: "\n")
        let keyLike = try Regex(#"^(\s*)# ((- )?\{|[a-z_][a-z0-9_-]*:( |$))"#)
        var blocks: [[Int]] = []
        var index = 0
        while index < lines.count {
            guard let match = lines[index].firstMatch(of: keyLike), !lines[index].contains("yaml-language-server") else {
                index += 1
                continue
            }
            let indent = match.output[1].substring!.count
            var block = [index]
            index += 1
            while index < lines.count, lines[index].hasPrefix(String(repeating: " ", count: indent) + "#   ") {
                block.append(index)
                index += 1
            }
            blocks.append(block)
        }
        #expect(blocks.count >= 8, "the tutorial shows its optional settings as commented-out keys")
        for block in blocks {
            var variant = lines
            for i in block { variant[i] = variant[i].replacingOccurrences(of: "# ", with: "", options: [], range: variant[i].range(of: "# ")) }
            let first = variant[block[0]]
            let indent = first.prefix { $0 == " " }
            if let key = first.dropFirst(indent.count).split(separator: ":").first, !key.hasPrefix("-") {
                let sibling = variant.indices.first { i in
                    !block.contains(i) && variant[i].hasPrefix(indent + key + ":") && variant[i].dropFirst(indent.count).first != " "
                }
                if let sibling { variant[sibling] = indent + "# replaced" }
            }
            do {
                _ = try ScenarioLoader().parse(variant.joined(separator: "\n"), file: file)
            } catch {
                Issue.record("line \(block[0] + 1) of the tutorial documents something the format does not accept: \(error)")
            }
        }
    }

    @Test func explainListsEveryKeyOfTheTutorialWithItsSource() throws {
        let file = Self.root.appendingPathComponent("Scenarios/default.yaml").path
        let text = try ScenarioLoader.read(file)
        var scenario = try ScenarioLoader().load(file: file)
        scenario.load.phases[1].rate = .constant(500)
        let explained = try ScenarioExplanation.render(scenario, file: file, text: text, flags: ["load.phases[1].rate": "--rate 500/s"])
        let body = explained.split(separator: "\n").dropFirst()
        #expect(body.allSatisfy { $0.contains("# default") || $0.contains("# flag ") || $0.contains("# \(file):") })
        #expect(body.contains { $0.hasPrefix("      rate: 500/s") && $0.hasSuffix("# flag --rate 500/s") })
        let organizationsLine = text.components(separatedBy: "\n").firstIndex { $0.hasPrefix("  organizations:") }! + 1
        #expect(body.contains { $0.hasPrefix("  organizations: 30") && $0.hasSuffix("# \(file):\(organizationsLine)") })
        #expect(body.contains { $0.hasPrefix("  think_time:") && $0.hasSuffix("# default") })
        #expect(body.contains { $0.hasPrefix("  # max_rate: not set") })
        // Every key the file sets appears with its own line number.
        let fileKeys = ScenarioExplanation.keyLines(try ScenarioLoader.compose(text, file: file), path: "")
        for (_, line) in fileKeys { #expect(body.contains { $0.hasSuffix("# \(file):\(line)") }, "line \(line)") }
    }

    @Test func aWrongTypeNamesTheKey() {
        #expect {
            _ = try ScenarioLoader().parse("name: x\ndataset:\n  organizations: many\n", file: "wrong.yaml")
        } throws: { error in
            (error as? ScenarioError)?.path == "dataset.organizations" && (error as? ScenarioError)?.line == 3
        }
    }

    @Test func theStarterLoadsAndCommentsEveryKey() throws {
        let text = ScenarioWriter.starter(name: "mine", schemaReference: "scenario.schema.json")
        let scenario = try ScenarioLoader().parse(text, file: "mine.yaml")
        #expect(scenario.name == "mine" && scenario.load.phases.count == 2)
        let keyLines = text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains(":") }
        let uncommented = keyLines.filter { line in
            let key = line.drop { $0 == " " || $0 == "-" }.split(separator: ":")[0]
            return !line.contains("# ") && !Operations.builtIn.contains(String(key)) && !["postgres", "mongo", "redis"].contains(String(key))
        }
        #expect(uncommented == [], "every key line carries its summary from ScenarioSchema")
    }
}
