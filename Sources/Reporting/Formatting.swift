import Foundation

/// Number formatting shared by the text outputs.
public enum Format {
    /// Milliseconds with precision that suits the magnitude: 0.012, 1.35, 42.1, 1234.
    public static func ms(_ value: Double) -> String {
        switch value {
        case ..<1: return String(format: "%.3f", value)
        case ..<10: return String(format: "%.2f", value)
        case ..<1000: return String(format: "%.1f", value)
        default: return String(format: "%.0f", value)
        }
    }

    public static func number(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }

    public static func percent(_ fraction: Double) -> String { String(format: "%.2f%%", fraction * 100) }

    /// A length of time: "42.0 s", "1 h 05 min".
    public static func seconds(_ value: Double) -> String {
        guard value >= 3600 else { return String(format: "%.1f s", value) }
        let minutes = Int((value / 60).rounded())
        return String(format: "%d h %02d min", minutes / 60, minutes % 60)
    }

    /// A relative change with its sign: "+12.5%".
    public static func change(_ fraction: Double) -> String { String(format: "%+.1f%%", fraction * 100) }

    /// A plain-text table with right-aligned columns after the first.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return index == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n")
    }
}
