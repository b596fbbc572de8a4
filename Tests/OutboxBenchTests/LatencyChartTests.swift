import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Histogram
import OutboxBench
import Testing

/// The parts of a chart the tests read, taken from the SVG by a real XML parser: a document that does not
/// parse yields nil, so every test that reads a chart also checks it is well-formed.
private struct ParsedChart {
    struct Panel {
        var title: String?
        var yTicks: [String] = []
        var xTicks: [String] = []
        var markerLabels: [String] = []
        var markerXs: [Double] = []
        var curvePoints: [(x: Double, y: Double)] = []
        var hasNoDataNote = false
    }

    var title: String?
    var subtitle: String?
    var panels: [Panel] = []
    var hasNoDataNote = false

    init?(_ svg: String) {
        let collector = ElementCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse(), collector.rootName == "svg" else { return nil }
        for element in collector.elements {
            let text = element.text
            guard let panelIndex = element.panelIndex else {
                switch element.className {
                case "title": title = text
                case "subtitle": subtitle = text
                case "no-data": hasNoDataNote = true
                default: break
                }
                continue
            }
            while panels.count <= panelIndex { panels.append(Panel()) }
            switch element.className {
            case "panel-title": panels[panelIndex].title = text
            case "y-tick": panels[panelIndex].yTicks.append(text)
            case "x-tick": panels[panelIndex].xTicks.append(text)
            case "marker-label": panels[panelIndex].markerLabels.append(text)
            case "no-data": panels[panelIndex].hasNoDataNote = true
            case "marker": panels[panelIndex].markerXs.append(Double(element.attributes["cx"] ?? "") ?? .nan)
            case "curve":
                panels[panelIndex].curvePoints = (element.attributes["points"] ?? "")
                    .split(separator: " ")
                    .compactMap { pair in
                        let parts = pair.split(separator: ",")
                        guard parts.count == 2, let x = Double(parts[0]), let y = Double(parts[1]) else { return nil }
                        return (x, y)
                    }
            default: break
            }
        }
    }
}

/// Flattens the document into elements with their class, text and enclosing panel.
private final class ElementCollector: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var className: String?
        var attributes: [String: String]
        var text: String
        var panelIndex: Int?
    }

    private(set) var elements: [Element] = []
    private(set) var rootName: String?
    private var open: [Element] = []
    private var panelCount = 0

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if rootName == nil { rootName = elementName }
        let className = attributes["class"]
        var panelIndex = open.last?.panelIndex
        if elementName == "g", className == "panel" {
            panelIndex = panelCount
            panelCount += 1
        }
        open.append(Element(name: elementName, className: className, attributes: attributes, text: "", panelIndex: panelIndex))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !open.isEmpty else { return }
        open[open.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let element = open.popLast() else { return }
        elements.append(element)
    }
}

private func spectrum(_ pairs: [(Double, Double)]) -> [LatencyPoint] {
    pairs.map { LatencyPoint(percentile: $0.0, milliseconds: $0.1) }
}

@Suite("LatencyChart")
struct LatencyChartTests {
    private let outboxCDC = LatencySeries(
        name: "outbox-cdc", points: spectrum([(0, 1.2), (50, 2.5), (90, 4), (99, 20), (99.9, 35), (100, 50)]))
    private let pollingRelay = LatencySeries(
        name: "polling relay (100 ms)", points: spectrum([(0, 0.5), (50, 55), (99, 110), (100, 300)]))
    private let brokerFloor = LatencySeries(
        name: "broker floor", points: spectrum([(0, 0.8), (50, 1), (99, 3), (100, 9)]))

    @Test("a well-formed document with one titled panel per series")
    func panelsPerSeries() throws {
        let svg = LatencyChart.svg(
            title: "Commit to consume", subtitle: "10,000 events", series: [outboxCDC, pollingRelay, brokerFloor])
        let chart = try #require(ParsedChart(svg))
        #expect(chart.title == "Commit to consume")
        #expect(chart.subtitle == "10,000 events")
        #expect(chart.panels.map(\.title) == ["outbox-cdc", "polling relay (100 ms)", "broker floor"])
        #expect(svg.contains("width=\"1260\""))
        #expect(svg.contains("height=\"360\""))
        for panel in chart.panels {
            #expect(panel.xTicks == ["0%", "90%", "99%", "99.9%", "99.99%"])
        }
    }

    @Test("every panel has the same decade gridlines, spanning all series")
    func sharedLatencyAxis() throws {
        let svg = LatencyChart.svg(title: "t", subtitle: "s", series: [outboxCDC, pollingRelay, brokerFloor])
        let chart = try #require(ParsedChart(svg))
        // 0.5 ms (polling relay's p0) to 300 ms (its max): the decades 0.1 to 1000 ms.
        for panel in chart.panels {
            #expect(panel.yTicks == ["0.1", "1", "10", "100", "1000"])
        }
        // The curve uses the shared axis too: broker floor's p50 (1 ms) sits on the 1 ms gridline, a quarter
        // of the way up the -1 ... 3 decade axis, although that series alone spans only 0.8 ... 9 ms.
        let brokerMedianY = try #require(chart.panels[2].curvePoints.dropFirst().first?.y)
        let plotTop = 80.0, plotBottom = 312.0
        let expectedY = plotBottom - (0 - -1) / 4 * (plotBottom - plotTop) // log10(1 ms) on a -1...3 axis
        #expect(abs(brokerMedianY - expectedY) < 0.06)
    }

    @Test("percentiles sit on the nines scale, p100 on the last tick")
    func ninesScale() throws {
        let series = LatencySeries(
            name: "n", points: spectrum([(0, 1), (90, 2), (99, 3), (99.9, 4), (99.99, 5), (100, 6)]))
        let chart = try #require(ParsedChart(LatencyChart.svg(title: "t", subtitle: "s", series: [series])))
        let xs = chart.panels[0].curvePoints.map(\.x)
        // The plot spans x 64 ... 398 in a 420-px panel: a quarter of its width per nine.
        let expected = [64, 147.5, 231, 314.5, 398, 398]
        #expect(xs.count == expected.count)
        for (x, want) in zip(xs, expected) {
            #expect(abs(x - want) < 0.06, "x \(x), expected \(want)")
        }
    }

    @Test("p50, p99 and max are labelled with the histogram's values")
    func markersFromHistogram() throws {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        for milliseconds in 1...100 {
            _ = histogram.record(UInt64(milliseconds) * 1000)
        }
        let series = LatencySeries(name: "known", microsecondHistogram: histogram)

        // 3 significant digits: 50 ms falls in a 32-µs bucket (reported as its top, 50.015 ms) and 99 ms in
        // a 64-µs one (99.007 ms); max is the exact largest recorded value.
        #expect(series.points.first == LatencyPoint(percentile: 0, milliseconds: 1))
        #expect(series.points.first { $0.percentile == 50 }?.milliseconds == 50.015)
        #expect(series.points.first { $0.percentile == 99 }?.milliseconds == 99.007)
        #expect(series.points.last == LatencyPoint(percentile: 100, milliseconds: 100))
        #expect(series.points.map(\.percentile) == [
            0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 100,
        ])

        let chart = try #require(ParsedChart(LatencyChart.svg(title: "t", subtitle: "s", series: [series])))
        #expect(chart.panels[0].markerLabels == ["p50 50 ms", "p99 99 ms", "max 100 ms"])
    }

    @Test("markers read the nearest point at or above their percentile")
    func markersFromSparsePoints() throws {
        let series = LatencySeries(name: "sparse", points: spectrum([(0, 0.25), (60, 1.5), (99.5, 12.34), (100, 1234.5)]))
        let chart = try #require(ParsedChart(LatencyChart.svg(title: "t", subtitle: "s", series: [series])))
        #expect(chart.panels[0].markerLabels == ["p50 1.5 ms", "p99 12.3 ms", "max 1235 ms"])
    }

    @Test("a flat top puts the max marker at the highest percentile")
    func maxAtRightEnd() throws {
        let series = LatencySeries(name: "flat", points: spectrum([(0, 1), (50, 2), (99, 5), (99.9, 8), (100, 8)]))
        let chart = try #require(ParsedChart(LatencyChart.svg(title: "t", subtitle: "s", series: [series])))
        #expect(chart.panels[0].markerLabels == ["p50 2 ms", "p99 5 ms", "max 8 ms"])
        // p50 at 0.30 nines, p99 at 2, max at p100 = the plot's right edge (x 64 ... 398).
        let xs = chart.panels[0].markerXs
        #expect(xs.count == 3)
        #expect(abs((xs.first ?? 0) - (64 + 0.30103 / 4 * 334)) < 0.06)
        #expect(abs((xs.dropFirst().first ?? 0) - 231) < 0.06)
        #expect(xs.last == 398)
    }

    @Test("an empty histogram gives no points")
    func emptyHistogram() {
        let histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        #expect(LatencySeries(name: "empty", microsecondHistogram: histogram).points.isEmpty)
    }

    @Test("text is escaped")
    func escaping() throws {
        let name = "a & b <c> \"d\""
        let svg = LatencyChart.svg(
            title: "<script>", subtitle: "x & y",
            series: [LatencySeries(name: name, points: spectrum([(50, 1), (100, 2)]))])
        #expect(!svg.contains("<script>"))
        #expect(svg.contains("a &amp; b &lt;c&gt; &quot;d&quot;"))
        let chart = try #require(ParsedChart(svg))
        #expect(chart.title == "<script>")
        #expect(chart.subtitle == "x & y")
        #expect(chart.panels.map(\.title) == [name])
    }

    @Test("no series: a well-formed document that says there is no data")
    func noSeries() throws {
        let chart = try #require(ParsedChart(LatencyChart.svg(title: "t", subtitle: "s", series: [])))
        #expect(chart.panels.isEmpty)
        #expect(chart.hasNoDataNote)
    }

    @Test("a series without points gets an empty panel beside the others")
    func emptySeries() throws {
        let svg = LatencyChart.svg(
            title: "t", subtitle: "s", series: [LatencySeries(name: "empty", points: []), brokerFloor])
        let chart = try #require(ParsedChart(svg))
        #expect(chart.panels.map(\.title) == ["empty", "broker floor"])
        #expect(chart.panels[0].hasNoDataNote)
        #expect(chart.panels[0].curvePoints.isEmpty)
        #expect(chart.panels[0].markerLabels.isEmpty)
        // The empty panel still shares the axis the other series sets (0.8 ... 9 ms).
        #expect(chart.panels[0].yTicks == ["0.1", "1", "10"])
        #expect(chart.panels[1].yTicks == ["0.1", "1", "10"])
    }

    @Test("zero and negative latencies sit on the 0.01 ms floor; labels keep the real value")
    func zeroAndNegative() throws {
        let series = LatencySeries(name: "z", points: spectrum([(0, -3), (50, 0), (99, 0.5), (100, 2)]))
        let chart = try #require(ParsedChart(LatencyChart.svg(title: "t", subtitle: "s", series: [series])))
        #expect(chart.panels[0].yTicks == ["0.01", "0.1", "1", "10"])
        #expect(chart.panels[0].markerLabels == ["p50 0 ms", "p99 0.5 ms", "max 2 ms"])
        let ys = chart.panels[0].curvePoints.map(\.y)
        #expect(ys.count == 4)
        #expect(ys.prefix(2).allSatisfy { abs($0 - 312) < 0.06 })
    }

    @Test("NaN and infinite points are skipped")
    func nonFinitePoints() throws {
        let series = LatencySeries(
            name: "nan", points: spectrum([(0, 1), (.nan, 2), (50, .nan), (90, .infinity), (99, 4), (100, 8)]))
        let chart = try #require(ParsedChart(LatencyChart.svg(title: "t", subtitle: "s", series: [series])))
        #expect(chart.panels[0].curvePoints.count == 3)
        #expect(chart.panels[0].yTicks == ["1", "10"])
        // No finite point at p50 or above it before p99: the p50 marker reads p99's point, and shares its dot.
        #expect(chart.panels[0].markerLabels == ["p50/p99 4 ms", "max 8 ms"])
        #expect(chart.panels[0].markerXs.count == 2)
        let allNaN = LatencySeries(name: "all nan", points: spectrum([(50, .nan), (.infinity, 1)]))
        let empty = try #require(ParsedChart(LatencyChart.svg(title: "t", subtitle: "s", series: [allNaN])))
        #expect(empty.panels[0].hasNoDataNote)
    }

    @Test("a single point still gets a one-decade axis")
    func singlePoint() throws {
        let series = LatencySeries(name: "one", points: spectrum([(100, 1)]))
        let chart = try #require(ParsedChart(LatencyChart.svg(title: "t", subtitle: "s", series: [series])))
        #expect(chart.panels[0].yTicks == ["1", "10"])
        #expect(chart.panels[0].curvePoints.count == 1)
        // Nothing at or above p50 but the p100 point itself, so all three markers read it: one dot.
        #expect(chart.panels[0].markerLabels == ["p50/p99/max 1 ms"])
        #expect(chart.panels[0].markerXs == [398])
    }

    @Test("an absurd range thins the gridlines instead of drawing hundreds")
    func hugeRange() throws {
        let series = LatencySeries(name: "wild", points: spectrum([(0, 0.001), (100, .greatestFiniteMagnitude)]))
        let chart = try #require(ParsedChart(LatencyChart.svg(title: "t", subtitle: "s", series: [series])))
        let ticks = chart.panels[0].yTicks
        #expect(ticks.count <= 9)
        #expect(ticks.first == "0.01")
        #expect(ticks.last.map { $0.hasPrefix("1e") } == true)
    }
}
