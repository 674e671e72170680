import Yams

/// The effective scenario with every default filled in, each key annotated with where its
/// value came from: a command-line flag, a line of the file, or stacksim's default.
public enum ScenarioExplanation {
    /// - Parameters:
    ///   - flags: key path → the flag that set it (`load.phases[1].rate` → `--rate 500/s`); a
    ///     flag on a path covers everything under it.
    public static func render(_ scenario: Scenario, schema: ScenarioSchema = ScenarioSchema(), file: String, text: String,
                              flags: [String: String]) throws -> String {
        let lines = keyLines(try ScenarioLoader.compose(text, file: file), path: "")
        let body = ScenarioWriter.render(ScenarioWriter.tree(scenario), schema: schema.root) { path in
            if let flag = ancestors(of: path).lazy.compactMap({ flags[$0] }).first { return "flag \(flag)" }
            if let line = lines[path] { return "\(file):\(line)" }
            return "default"
        }
        let header = "# \(scenario.name): the effective scenario — every key, and where its value came from "
            + "(flag, file:line or default)\n"
        return header + body
    }

    /// The line of every key and list item in a YAML tree, by dotted key path.
    static func keyLines(_ node: Node, path: String) -> [String: Int] {
        var lines: [String: Int] = [:]
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                let name = key.string ?? ""
                let child = path.isEmpty ? name : "\(path).\(name)"
                lines[child] = key.mark?.line ?? 0
                lines.merge(keyLines(value, path: child)) { first, _ in first }
            }
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() {
                lines.merge(keyLines(item, path: "\(path)[\(index)]")) { first, _ in first }
            }
        default: break
        }
        return lines
    }

    /// `a.b[1].c`, `a.b[1]`, `a.b`, `a`.
    static func ancestors(of path: String) -> [String] {
        var result = [path]
        var current = Substring(path)
        while let cut = current.lastIndex(where: { $0 == "." || $0 == "[" }) {
            current = current[..<cut]
            result.append(String(current))
        }
        return result
    }
}
