import Foundation

/// The result of a run: what `bidline bench` prints, and writes with `--json`, `--hgrm` and `--svg`.
public struct BenchReport: Sendable {
    public var scenario: String
    public var mode: String
    public var connections: Int
    public var seconds: Double
    public var recorder: LatencyRecorder
    public var extra: [(String, String)] = []

    public init(scenario: String, mode: String, connections: Int, seconds: Double, recorder: LatencyRecorder) {
        self.scenario = scenario
        self.mode = mode
        self.connections = connections
        self.seconds = seconds
        self.recorder = recorder
    }

    public var throughputPerSecond: Double { seconds > 0 ? Double(recorder.total) / seconds : 0 }

    /// Human-readable summary.
    public var text: String {
        var lines: [String] = []
        lines.append("scenario \(scenario), \(mode), \(connections) connections, \(String(format: "%.2f", seconds)) s")
        lines.append("requests \(recorder.total) (ok \(recorder.ok), errors \(recorder.errorCount))")
        lines.append("throughput \(Int(throughputPerSecond.rounded())) requests/s")
        lines.append("latency µs " + recorder.percentiles.map { "\($0.name)=\($0.micros)" }.joined(separator: " "))
        for (code, count) in recorder.errors.sorted(by: { $0.key < $1.key }) { lines.append("error \(code): \(count)") }
        for (key, value) in extra { lines.append("\(key): \(value)") }
        return lines.joined(separator: "\n")
    }

    /// The `--json` summary: `throughput_per_second`, `latency_micros` {p50, p90, p99, p999, p9999, max},
    /// `errors` by code, and the run's parameters.
    public var json: String {
        var object: [String: Any] = [
            "scenario": scenario, "mode": mode, "connections": connections, "seconds": seconds,
            "requests": recorder.total, "ok": recorder.ok, "throughput_per_second": throughputPerSecond,
            "latency_micros": Dictionary(uniqueKeysWithValues: recorder.percentiles.map { ($0.name, $0.micros) }),
            "errors": recorder.errors,
        ]
        for (key, value) in extra { object[key] = value }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// A latency-by-percentile chart (log scale of 1/(1−p), like HdrHistogram's plotter) as standalone SVG.
    public var svg: String {
        let width = 800.0, height = 420.0, left = 70.0, bottom = 50.0, top = 30.0, right = 20.0
        var points: [(x: Double, y: Double)] = []
        for exponent in stride(from: 0.0, through: 5.0, by: 0.05) {
            let percentile = 100.0 * (1 - pow(10, -exponent))
            points.append((exponent, Double(recorder.histogram.valueAtPercentile(percentile))))
        }
        let maxY = max(1, points.map(\.y).max() ?? 1) * 1.1
        func px(_ x: Double) -> Double { left + x / 5.0 * (width - left - right) }
        func py(_ y: Double) -> Double { height - bottom - y / maxY * (height - bottom - top) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(left)\" y=\"18\" font-size=\"14\">bidline bench \(scenario) (\(mode)): latency by percentile, µs</text>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"black\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"black\"/>\n"
        for (exponent, label) in [(0.0, "0%"), (1.0, "90%"), (2.0, "99%"), (3.0, "99.9%"), (4.0, "99.99%"), (5.0, "99.999%")] {
            svg += "<text x=\"\(px(exponent) - 15)\" y=\"\(height - bottom + 18)\">\(label)</text>\n"
            svg += "<line x1=\"\(px(exponent))\" y1=\"\(top)\" x2=\"\(px(exponent))\" y2=\"\(height - bottom)\" stroke=\"#ddd\"/>\n"
        }
        for step in 0...4 {
            let value = maxY * Double(step) / 4
            svg += "<text x=\"5\" y=\"\(py(value) + 4)\">\(Int(value))</text>\n"
        }
        let path = points.map { "\(String(format: "%.1f", px($0.x))),\(String(format: "%.1f", py($0.y)))" }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"\(path)\"/>\n"
        svg += "<text x=\"\(width / 2 - 40)\" y=\"\(height - 10)\">percentile</text>\n</svg>\n"
        return svg
    }
}

/// Reads the value column of an `.hgrm` file back: `(value, percentile)` pairs (tests, comparisons).
public func parseHgrm(_ text: String) -> [(value: Double, percentile: Double)] {
    text.split(separator: "\n").compactMap { line in
        let columns = line.split(separator: " ")
        guard columns.count >= 3, let value = Double(columns[0]), let percentile = Double(columns[1]) else { return nil }
        return (value, percentile)
    }
}
