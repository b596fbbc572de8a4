#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Histogram

/// One latency distribution to chart: a percentile spectrum, in ascending percentile order.
public struct LatencySeries: Sendable {
    /// Shown as the panel title, e.g. "outbox-cdc", "polling relay (100 ms)", "broker floor".
    public var name: String
    public var points: [LatencyPoint]

    public init(name: String, points: [LatencyPoint]) {
        self.name = name
        self.points = points
    }
}

/// The latency at one percentile.
public struct LatencyPoint: Sendable, Hashable {
    /// 0 ... 100, e.g. 50, 99.9, 100.
    public var percentile: Double
    public var milliseconds: Double

    public init(percentile: Double, milliseconds: Double) {
        self.percentile = percentile
        self.milliseconds = milliseconds
    }
}

extension LatencySeries {
    /// Where the spectrum is sampled: dense in the tail, because the tail is what the chart is for.
    static let sampledPercentiles: [Double] = [
        0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 100,
    ]

    /// The percentile spectrum of `microsecondHistogram`, which records microseconds; no points when it
    /// is empty.
    public init(name: String, microsecondHistogram histogram: Histogram<UInt64>) {
        var points: [LatencyPoint] = []
        if histogram.totalCount > 0 {
            for percentile in Self.sampledPercentiles {
                // `maxRecorded`, not `max`: `max` is the top of the highest bucket and may exceed every value
                // actually recorded; every other sample is clamped to `maxRecorded` too, so the curve stays
                // monotonic.
                let microseconds = percentile >= 100
                    ? histogram.maxRecorded : histogram.valueAtPercentile(percentile)
                let point = LatencyPoint(percentile: percentile, milliseconds: Double(microseconds) / 1000)
                if points.last != point { points.append(point) }
            }
        }
        self.init(name: name, points: points)
    }
}

/// Renders latency distributions as a standalone SVG document, for `outbox-cdc bench latency --svg`.
public enum LatencyChart {
    /// One panel per series, side by side, sharing one logarithmic latency axis.
    public static func svg(title: String, subtitle: String, series: [LatencySeries]) -> String {
        let panels = series.map(Panel.init)
        let axis = LatencyAxis(covering: panels.flatMap { $0.points.map(\.logMilliseconds) })
        let width = Layout.panelWidth * Double(max(1, panels.count))

        var svg = SVGBuilder()
        svg.line("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        svg.line(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(number(width))\" height=\"\(number(Layout.height))\""
                + " viewBox=\"0 0 \(number(width)) \(number(Layout.height))\" font-family=\"sans-serif\">")
        svg.line("<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(number(width))\" height=\"\(number(Layout.height))\" fill=\"#ffffff\"/>")
        svg.text(title, className: "title", x: width / 2, y: 22, attributes: "text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\" fill=\"#222222\"")
        svg.text(subtitle, className: "subtitle", x: width / 2, y: 40, attributes: "text-anchor=\"middle\" font-size=\"12\" fill=\"#555555\"")

        if panels.isEmpty {
            svg.text("no data", className: "no-data", x: width / 2, y: Layout.height / 2, attributes: "text-anchor=\"middle\" font-size=\"14\" fill=\"#888888\"")
        }
        for (index, panel) in panels.enumerated() {
            let colour = Layout.palette[index % Layout.palette.count]
            renderPanel(panel, offsetX: Layout.panelWidth * Double(index), colour: colour, axis: axis, into: &svg)
        }
        svg.line("</svg>")
        return svg.output
    }

    // MARK: - Panels

    /// A series reduced to what can be drawn: finite points, sorted, with their plot coordinates in axis
    /// units (nines, log10 ms).
    struct Panel {
        struct PlottedPoint {
            var point: LatencyPoint
            var nines: Double
            var logMilliseconds: Double
        }

        var name: String
        var points: [PlottedPoint]

        init(_ series: LatencySeries) {
            name = series.name
            points = series.points
                .filter { $0.percentile.isFinite && $0.milliseconds.isFinite }
                .map { point in
                    PlottedPoint(
                        point: point,
                        nines: PercentileAxis.nines(percentile: point.percentile),
                        // Log scale: anything at or below the floor (zero, negative clock skew) sits on it.
                        logMilliseconds: log10(max(point.milliseconds, LatencyAxis.floorMilliseconds)))
                }
                .sorted { $0.point.percentile < $1.point.percentile }
        }

        /// The first point at or above `percentile`, as a percentile table would read it.
        func point(atOrAbove percentile: Double) -> PlottedPoint? {
            points.first { $0.point.percentile >= percentile }
        }

        /// The largest latency of the series. Where the curve is flat at its top (several percentiles in
        /// the slowest bucket), the highest percentile: the max belongs at the right end of the spectrum.
        var maximum: PlottedPoint? {
            points.reduce(nil) { best, candidate in
                guard let best, best.point.milliseconds > candidate.point.milliseconds else { return candidate }
                return best
            }
        }
    }

    private static func renderPanel(
        _ panel: Panel, offsetX: Double, colour: String, axis: LatencyAxis, into svg: inout SVGBuilder
    ) {
        let plot = PlotArea(offsetX: offsetX)
        svg.line("<g class=\"panel\">")
        svg.text(panel.name, className: "panel-title", x: offsetX + Layout.panelWidth / 2, y: 66, attributes: "text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\" fill=\"\(colour)\"")
        svg.line("<rect class=\"plot-area\" x=\"\(number(plot.left))\" y=\"\(number(plot.top))\" width=\"\(number(plot.width))\" height=\"\(number(plot.height))\" fill=\"#fafafa\" stroke=\"#cccccc\"/>")

        for exponent in axis.minorGridlineLogValues {
            let y = plot.y(logMilliseconds: exponent, axis: axis)
            svg.line("<line class=\"y-minor-grid\" x1=\"\(number(plot.left))\" y1=\"\(number(y))\" x2=\"\(number(plot.right))\" y2=\"\(number(y))\" stroke=\"#eeeeee\"/>")
        }
        for exponent in axis.decadeExponents {
            let y = plot.y(logMilliseconds: Double(exponent), axis: axis)
            svg.line("<line class=\"y-grid\" x1=\"\(number(plot.left))\" y1=\"\(number(y))\" x2=\"\(number(plot.right))\" y2=\"\(number(y))\" stroke=\"#d8d8d8\"/>")
            svg.text(LatencyAxis.decadeLabel(exponent), className: "y-tick", x: plot.left - 6, y: y + 4, attributes: "text-anchor=\"end\" font-size=\"11\" fill=\"#444444\"")
        }
        for (index, label) in PercentileAxis.tickLabels.enumerated() {
            let x = plot.x(nines: Double(index))
            svg.line("<line class=\"x-grid\" x1=\"\(number(x))\" y1=\"\(number(plot.top))\" x2=\"\(number(x))\" y2=\"\(number(plot.bottom))\" stroke=\"#d8d8d8\"/>")
            svg.text(label, className: "x-tick", x: x, y: plot.bottom + 16, attributes: "text-anchor=\"middle\" font-size=\"11\" fill=\"#444444\"")
        }
        svg.text("percentile", className: "x-axis-title", x: plot.left + plot.width / 2, y: plot.bottom + 34, attributes: "text-anchor=\"middle\" font-size=\"12\" fill=\"#444444\"")
        let yTitleX = offsetX + 14
        let yTitleY = plot.top + plot.height / 2
        svg.text("latency (ms, log scale)", className: "y-axis-title", x: yTitleX, y: yTitleY, attributes: "text-anchor=\"middle\" font-size=\"12\" fill=\"#444444\" transform=\"rotate(-90 \(number(yTitleX)) \(number(yTitleY)))\"")

        guard !panel.points.isEmpty else {
            svg.text("no data", className: "no-data", x: plot.left + plot.width / 2, y: plot.top + plot.height / 2, attributes: "text-anchor=\"middle\" font-size=\"13\" fill=\"#888888\"")
            svg.line("</g>")
            return
        }

        let coordinates = panel.points.map { point in
            "\(number(plot.x(nines: point.nines))),\(number(plot.y(logMilliseconds: point.logMilliseconds, axis: axis)))"
        }
        svg.line("<polyline class=\"curve\" points=\"\(coordinates.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" stroke-linejoin=\"round\"/>")

        let readings: [(label: String, point: Panel.PlottedPoint?)] = [
            ("p50", panel.point(atOrAbove: 50)),
            ("p99", panel.point(atOrAbove: 99)),
            ("max", panel.maximum),
        ]
        // Sparse series can have two readings land on one point; one dot labelled "p99/max" reads better
        // than two labels printed over each other.
        var markers: [(label: String, point: Panel.PlottedPoint)] = []
        for case let (label, point?) in readings {
            if let last = markers.last, last.point.point == point.point {
                markers[markers.count - 1].label += "/" + label
            } else {
                markers.append((label, point))
            }
        }
        for marker in markers {
            let point = marker.point
            let x = plot.x(nines: point.nines)
            let y = plot.y(logMilliseconds: point.logMilliseconds, axis: axis)
            svg.line("<circle class=\"marker\" cx=\"\(number(x))\" cy=\"\(number(y))\" r=\"4\" fill=\"\(colour)\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>")
            // Labels on the right half would run off the plot, so they grow leftwards from their dot there;
            // near the top they go below the dot so they stay clear of the panel title. A white outline
            // (painted under the glyphs) keeps them legible where they cross the curve or a gridline.
            let anchorsAtEnd = x > plot.left + plot.width / 2
            let labelX = anchorsAtEnd ? x - 7 : x + 7
            let labelY = y - 8 < plot.top + 12 ? y + 16 : y - 8
            let text = "\(marker.label) \(formatMilliseconds(point.point.milliseconds)) ms"
            svg.text(text, className: "marker-label", x: labelX, y: labelY, attributes: "text-anchor=\"\(anchorsAtEnd ? "end" : "start")\" font-size=\"11\" fill=\"#222222\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"")
        }
        svg.line("</g>")
    }

    // MARK: - Axes

    /// The percentile axis on the "nines" scale, where each tick is one more nine: 0%, 90%, 99%, 99.9%,
    /// 99.99%. Equal spacing per nine is what makes a tail visible at all.
    enum PercentileAxis {
        static let tickLabels = ["0%", "90%", "99%", "99.9%", "99.99%"]
        static var maximumNines: Double { Double(tickLabels.count - 1) }

        /// log10(1 / (1 - p/100)), clamped to the axis: p100 (infinitely many nines) lands on the last tick.
        static func nines(percentile: Double) -> Double {
            let fraction = min(max(percentile, 0), 100) / 100
            guard fraction < 1 else { return maximumNines }
            return min(-log10(1 - fraction), maximumNines)
        }
    }

    /// The latency axis every panel shares: whole decades of milliseconds, from the decade at or below the
    /// fastest point to the one at or above the slowest.
    struct LatencyAxis {
        /// A log axis has no zero: this is where zero and negative latencies are drawn.
        static let floorMilliseconds = 0.01
        /// More decades than this would crowd the labels, so gridlines then skip decades.
        static let maximumLabelledDecades = 8

        var minimumExponent: Int
        var maximumExponent: Int
        var decadeStep: Int

        init(covering logValues: [Double]) {
            guard let lowest = logValues.min(), let highest = logValues.max() else {
                // Nothing to plot: a range typical of the benchmark keeps empty panels readable.
                self.init(minimumExponent: -1, maximumExponent: 2)
                return
            }
            let low = Int(Self.snapped(lowest).rounded(.down))
            let high = Int(Self.snapped(highest).rounded(.up))
            // A single value on a decade would give a zero-height axis.
            self.init(minimumExponent: low, maximumExponent: max(high, low + 1))
        }

        private init(minimumExponent: Int, maximumExponent: Int) {
            let span = maximumExponent - minimumExponent
            let step = max(1, (span + Self.maximumLabelledDecades - 1) / Self.maximumLabelledDecades)
            self.minimumExponent = minimumExponent
            // Round the top up to a whole step so the last gridline is the top edge.
            self.maximumExponent = minimumExponent + (span + step - 1) / step * step
            self.decadeStep = step
        }

        /// log10 of an exact power of ten may come out a hair off (2.9999999999999996); such a value must
        /// not pull in a whole extra decade.
        private static func snapped(_ logValue: Double) -> Double {
            let nearest = logValue.rounded()
            return abs(logValue - nearest) < 1e-9 ? nearest : logValue
        }

        var span: Double { Double(maximumExponent - minimumExponent) }

        var decadeExponents: [Int] {
            Array(stride(from: minimumExponent, through: maximumExponent, by: decadeStep))
        }

        /// 2 and 5 within each decade, only while every decade has its own gridline.
        var minorGridlineLogValues: [Double] {
            guard decadeStep == 1 else { return [] }
            return (minimumExponent..<maximumExponent).flatMap { exponent in
                [Double(exponent) + log10(2.0), Double(exponent) + log10(5.0)]
            }
        }

        /// "0.01", "0.1", "1", "10", ... "1000000", then "1e7": built from the exponent, so no power of ten is
        /// ever computed (10^309 would be infinite).
        static func decadeLabel(_ exponent: Int) -> String {
            switch exponent {
            case ..<0: "0." + String(repeating: "0", count: -exponent - 1) + "1"
            case 0...6: "1" + String(repeating: "0", count: exponent)
            default: "1e\(exponent)"
            }
        }
    }

    /// Fixed layout, in pixels.
    enum Layout {
        static let panelWidth = 420.0
        static let height = 360.0
        static let plotLeftMargin = 64.0
        static let plotRightMargin = 22.0
        static let plotTop = 80.0
        static let plotBottom = 312.0
        static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    }

    /// One panel's plot rectangle and its axis-to-pixel mappings.
    struct PlotArea {
        var left: Double
        var right: Double
        var top: Double { Layout.plotTop }
        var bottom: Double { Layout.plotBottom }
        var width: Double { right - left }
        var height: Double { bottom - top }

        init(offsetX: Double) {
            left = offsetX + Layout.plotLeftMargin
            right = offsetX + Layout.panelWidth - Layout.plotRightMargin
        }

        func x(nines: Double) -> Double {
            left + min(max(nines, 0), PercentileAxis.maximumNines) / PercentileAxis.maximumNines * width
        }

        func y(logMilliseconds: Double, axis: LatencyAxis) -> Double {
            let fraction = (logMilliseconds - Double(axis.minimumExponent)) / axis.span
            return bottom - min(max(fraction, 0), 1) * height
        }
    }

    // MARK: - Text

    /// Accumulates the document line by line.
    struct SVGBuilder {
        private(set) var output = ""

        mutating func line(_ text: String) {
            output += text
            output += "\n"
        }

        mutating func text(_ content: String, className: String, x: Double, y: Double, attributes: String) {
            line("<text class=\"\(className)\" x=\"\(number(x))\" y=\"\(number(y))\" \(attributes)>\(escapeXML(content))</text>")
        }
    }

    /// Escapes text for element content and attribute values. Control characters XML 1.0 cannot hold at
    /// all (even escaped) are dropped, so a stray byte in a series name cannot make the document unreadable.
    static func escapeXML(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// A pixel coordinate with one decimal. Coordinates are clamped to the canvas, so they fit an Int.
    static func number(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = tenths.magnitude
        let fraction = magnitude % 10
        return fraction == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(fraction)"
    }

    /// A latency with three significant digits and no trailing zeros: "0.5", "12.3", "250", "1234".
    static func formatMilliseconds(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        let magnitude = abs(value)
        // Beyond this the scaled value could overflow Int; such latencies are nonsense anyway.
        guard magnitude < 1e12 else { return "\(value)" }
        var decimals = 0
        var threshold = 100.0
        while magnitude > 0, magnitude < threshold, decimals < 6 {
            decimals += 1
            threshold /= 10
        }
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((magnitude * Double(scale)).rounded())
        let sign = value < 0 && scaled != 0 ? "-" : ""
        var fraction = String(scaled % scale)
        fraction = String(repeating: "0", count: max(0, decimals - fraction.count)) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        return fraction.isEmpty ? "\(sign)\(scaled / scale)" : "\(sign)\(scaled / scale).\(fraction)"
    }
}
