import Foundation

/// Line and bar charts as inline SVG, drawn by stacksim itself so a report needs no network.
package struct SVGChart {
    package struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var color: String
        var dashed = false

        package init(name: String, points: [(x: Double, y: Double)], color: String, dashed: Bool = false) {
            self.name = name; self.points = points; self.color = color; self.dashed = dashed
        }
    }

    var id: String
    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    /// Tick positions and labels on the x axis; nil: evenly spaced numbers.
    var xTicks: [(Double, String)]?
    var logY = false
    /// Vertical markers (phase boundaries): position and label.
    var markers: [(Double, String)] = []

    package init(id: String, title: String, xLabel: String, yLabel: String, series: [Series], xTicks: [(Double, String)]? = nil,
                 logY: Bool = false, markers: [(Double, String)] = []) {
        self.id = id; self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.xTicks = xTicks
        self.logY = logY; self.markers = markers
    }

    static let width = 680.0, height = 260.0
    static let left = 64.0, right = 16.0, top = 16.0, bottom = 44.0

    package func render() -> String {
        let all = series.flatMap(\.points)
        var body = ""
        if all.isEmpty {
            body = "<text x=\"\(Self.width / 2)\" y=\"\(Self.height / 2)\" text-anchor=\"middle\" class=\"empty\">no data</text>"
        } else {
            body = plot(all)
        }
        return """
            <figure class="chart" id="\(HTML.escape(id))"><figcaption>\(HTML.escape(title))</figcaption>
            <svg viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" role="img" aria-label="\(HTML.escape(title))">\(body)</svg>
            </figure>
            """
    }

    private func plot(_ all: [(x: Double, y: Double)]) -> String {
        let xs = all.map(\.x), ys = all.map(\.y)
        let xMin = xTicks?.map(\.0).min() ?? xs.min()!, xMax = max(xTicks?.map(\.0).max() ?? xs.max()!, xMin + 1e-9)
        let positive = ys.filter { $0 > 0 }
        let yLow = logY ? pow(10, floor(log10(positive.min() ?? 0.001))) : 0
        let yHigh = logY ? pow(10, ceil(log10(max(positive.max() ?? 1, yLow * 10)))) : Self.niceCeiling(ys.max()!)
        let plotW = Self.width - Self.left - Self.right, plotH = Self.height - Self.top - Self.bottom
        func px(_ x: Double) -> Double { Self.left + (x - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double {
            let fraction = logY ? (log10(max(y, yLow)) - log10(yLow)) / (log10(yHigh) - log10(yLow)) : y / yHigh
            return Self.top + plotH * (1 - min(max(fraction, 0), 1))
        }
        var svg = "<rect x=\"\(Self.left)\" y=\"\(Self.top)\" width=\"\(plotW)\" height=\"\(plotH)\" class=\"plot\"/>"
        let yTicks: [Double] = logY
            ? stride(from: log10(yLow), through: log10(yHigh), by: 1).map { pow(10, $0) }
            : (0...4).map { yHigh * Double($0) / 4 }
        for y in yTicks {
            svg += "<line x1=\"\(Self.left)\" x2=\"\(Self.width - Self.right)\" y1=\"\(f(py(y)))\" y2=\"\(f(py(y)))\" class=\"grid\"/>"
            svg += "<text x=\"\(Self.left - 6)\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(Self.label(y))</text>"
        }
        let ticks = xTicks ?? (0...5).map { let x = xMin + (xMax - xMin) * Double($0) / 5; return (x, Self.label(x)) }
        for (x, text) in ticks {
            svg += "<text x=\"\(f(px(x)))\" y=\"\(f(Self.height - Self.bottom + 16))\" text-anchor=\"middle\">\(HTML.escape(text))</text>"
        }
        for (x, text) in markers where x > xMin && x < xMax {
            svg += "<line x1=\"\(f(px(x)))\" x2=\"\(f(px(x)))\" y1=\"\(Self.top)\" y2=\"\(f(Self.top + plotH))\" class=\"marker\"/>"
            svg += "<text x=\"\(f(px(x) + 3))\" y=\"\(f(Self.top + 11))\" class=\"marker-label\">\(HTML.escape(text))</text>"
        }
        for s in series where !s.points.isEmpty {
            let path = s.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.8\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
        }
        svg += "<text x=\"\(f(Self.left + plotW / 2))\" y=\"\(f(Self.height - 6))\" text-anchor=\"middle\" class=\"axis\">\(HTML.escape(xLabel))</text>"
        svg += "<text x=\"14\" y=\"\(f(Self.top + plotH / 2))\" text-anchor=\"middle\" class=\"axis\" transform=\"rotate(-90 14 \(f(Self.top + plotH / 2)))\">\(HTML.escape(yLabel))</text>"
        var legendX = Self.left + 8
        for s in series {
            svg += "<rect x=\"\(f(legendX))\" y=\"\(f(Self.top + 6))\" width=\"12\" height=\"3\" fill=\"\(s.color)\"/>"
            svg += "<text x=\"\(f(legendX + 16))\" y=\"\(f(Self.top + 11))\" class=\"legend\">\(HTML.escape(s.name))</text>"
            legendX += 24 + Double(s.name.count) * 6.5
        }
        return svg
    }

    /// Horizontal bars with values in 0...1 shown as percentages.
    static func bars(id: String, title: String, values: [(String, Double)]) -> String {
        let rowHeight = 26.0, labelWidth = 120.0, barWidth = width - labelWidth - 80
        let h = max(rowHeight * Double(values.count) + 12, 40)
        var svg = ""
        for (index, (name, value)) in values.enumerated() {
            let y = 6 + Double(index) * rowHeight
            svg += "<text x=\"\(labelWidth - 8)\" y=\"\(y + 15)\" text-anchor=\"end\">\(HTML.escape(name))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(barWidth)\" height=\"16\" class=\"plot\"/>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(String(format: "%.1f", barWidth * min(max(value, 0), 1)))\" height=\"16\" fill=\"#2f6fb0\"/>"
            svg += "<text x=\"\(labelWidth + barWidth + 6)\" y=\"\(y + 15)\">\(String(format: "%.1f%%", value * 100))</text>"
        }
        if values.isEmpty { svg = "<text x=\"\(width / 2)\" y=\"24\" text-anchor=\"middle\" class=\"empty\">no data</text>" }
        return """
            <figure class="chart" id="\(HTML.escape(id))"><figcaption>\(HTML.escape(title))</figcaption>
            <svg viewBox="0 0 \(Int(width)) \(Int(h))" role="img" aria-label="\(HTML.escape(title))">\(svg)</svg>
            </figure>
            """
    }

    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        return ([1, 2, 2.5, 5, 10].first { $0 * magnitude >= value } ?? 10) * magnitude
    }

    static func label(_ value: Double) -> String {
        switch abs(value) {
        case 0: return "0"
        case ..<0.01: return String(format: "%.3f", value)
        case ..<1: return String(format: "%.2f", value)
        case ..<10: return String(format: "%.1f", value)
        case ..<10_000: return String(format: "%.0f", value)
        default: return String(format: "%.0fk", value / 1000)
        }
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }
}

/// Escaping for text and attribute values that come from data or scenario files.
package enum HTML {
    /// Text from names and data, made safe for HTML, SVG and XML, in content and attributes:
    /// markup escaped; characters XML 1.0 cannot carry (NUL, most C0 controls, U+FFFE/U+FFFF)
    /// replaced by U+FFFD; and text with right-to-left characters or bidirectional controls
    /// isolated between FSI and PDI, so an override inside cannot reverse what follows it.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var isolate = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isBidiControl || isRightToLeft(scalar) { isolate = true }
            switch scalar {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(xmlCanCarry(scalar) ? scalar : "\u{FFFD}")
            }
        }
        return isolate ? "\u{2068}" + out + "\u{2069}" : out
    }

    static func xmlCanCarry(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    /// The blocks of the right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko, … and
    /// their presentation forms).
    static func isRightToLeft(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0590...0x08FF, 0xFB1D...0xFDFF, 0xFE70...0xFEFF, 0x10800...0x10FFF, 0x1E800...0x1EFFF: return true
        default: return false
        }
    }
}
