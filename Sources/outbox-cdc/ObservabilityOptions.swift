import ArgumentParser
import Foundation
import Connector
import Logging
import Metrics
import Prometheus

/// `--metrics-address` and the readiness bounds. Only the executable bootstraps swift-metrics: the
/// connector records through its API and never learns the backend.
struct ObservabilityOptions: ParsableArguments {
    @Option(name: .customLong("metrics-address"), help: ArgumentHelp(
        "Serve Prometheus metrics on /metrics, liveness on /healthz and readiness on /readyz at host:port (e.g. 0.0.0.0:9464). [env: OUTBOX_CDC_METRICS_ADDRESS] (default: none)",
        valueName: "host:port"))
    var metricsAddress: String?

    @Option(name: .customLong("ready-max-lag-bytes"), help: "/readyz fails when the slot lags the server's WAL by more than this. [env: OUTBOX_CDC_READY_MAX_LAG_BYTES] (default: 1073741824)")
    var readyMaxLagBytes: Int?

    @Option(name: .customLong("ready-max-ack-wait-ms"), help: "/readyz fails when events have waited this long for any acknowledgement from Kafka. [env: OUTBOX_CDC_READY_MAX_ACK_WAIT_MS] (default: 30000)")
    var readyMaxAcknowledgementWaitMilliseconds: Int?

    /// The readiness bounds, checked before anything starts.
    struct Settings {
        var address: String?
        var maximumLagBytes: UInt64
        var maximumAcknowledgementWait: Duration
    }

    func settings(_ environment: Environment) throws -> Settings {
        Settings(
            address: environment.resolve(metricsAddress, "OUTBOX_CDC_METRICS_ADDRESS"),
            maximumLagBytes: UInt64(try environment.integer(readyMaxLagBytes, "OUTBOX_CDC_READY_MAX_LAG_BYTES", "--ready-max-lag-bytes", range: 1...Int.max) ?? 1 << 30),
            maximumAcknowledgementWait: .milliseconds(try environment.integer(
                readyMaxAcknowledgementWaitMilliseconds, "OUTBOX_CDC_READY_MAX_ACK_WAIT_MS", "--ready-max-ack-wait-ms", range: 1...86_400_000) ?? 30_000)
        )
    }

    /// Bootstraps swift-metrics with a Prometheus registry when there is somewhere to serve it; returns it.
    static func bootstrapMetrics(_ settings: Settings) -> PrometheusCollectorRegistry? {
        guard settings.address != nil else { return nil }
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Commit to acknowledgement is milliseconds when healthy, seconds when Kafka struggles.
        factory.durationHistogramBuckets[MetricDescription.commitToAcknowledgement.name] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
            .seconds(10), .seconds(30), .seconds(60),
        ]
        // Acknowledgement to confirmation is about the 10 ms spacing of prompt updates when healthy.
        factory.durationHistogramBuckets[MetricDescription.acknowledgementToConfirmation.name] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(12), .milliseconds(15),
            .milliseconds(20), .milliseconds(30), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// Starts the listener for `connector`; nil without `--metrics-address`.
    static func serve(_ settings: Settings, registry: PrometheusCollectorRegistry?, connector: OutboxConnector, logger: Logger) throws -> OperationsEndpoint? {
        guard let address = settings.address, let registry else { return nil }
        let helpTexts = Dictionary(uniqueKeysWithValues: MetricDescription.all.map { ($0.name, $0.help) })
        let endpoint = try OperationsEndpoint(address: address) { path in
            switch path {
            case "/metrics":
                return .init(
                    status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                    body: Self.addingHelp(to: registry.emitToBuffer(), from: helpTexts)
                )
            case "/healthz":
                return .init(status: 200, body: Array("alive\n".utf8))
            case "/readyz":
                let reasons = Self.unreadiness(connector.health, settings)
                return reasons.isEmpty
                    ? .init(status: 200, body: Array("ready\n".utf8))
                    : .init(status: 503, body: Array(("not ready: " + reasons.joined(separator: "; ") + "\n").utf8))
            default:
                return .init(status: 404, body: Array("/metrics, /healthz or /readyz\n".utf8))
            }
        }
        logger.info("serving metrics and health", metadata: ["http.address": "\(address)", "http.paths": "/metrics /healthz /readyz"])
        return endpoint
    }

    /// The exposition with a `# HELP` line before each `# TYPE` line of a metric that has a help text. The
    /// metrics are recorded through swift-metrics, whose API carries no help text, so the registry writes
    /// none; the texts come from the connector's `MetricDescription`s instead.
    static func addingHelp(to exposition: [UInt8], from helpTexts: [String: String]) -> [UInt8] {
        let typePrefix = Array("# TYPE ".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(exposition.count + helpTexts.count * 100)
        for line in exposition.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if line.starts(with: typePrefix) {
                let name = String(decoding: line.dropFirst(typePrefix.count).prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self)
                if let help = helpTexts[name] {
                    // The text format escapes backslashes and line feeds in help text.
                    let escaped = help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
                    output += Array("# HELP \(name) \(escaped)\n".utf8)
                }
            }
            output += line
            output.append(UInt8(ascii: "\n"))
        }
        // The split adds a line feed after the last piece, which the exposition's own final one already ended.
        if exposition.last == UInt8(ascii: "\n") || exposition.isEmpty { output.removeLast() }
        return output
    }

    /// Why the connector is not ready; empty when it is.
    static func unreadiness(_ health: ConnectorHealth, _ settings: Settings) -> [String] {
        var reasons: [String] = []
        if !health.streaming { reasons.append("not streaming (standing by, connecting or reconnecting)") }
        if health.slotLagBytes > settings.maximumLagBytes {
            reasons.append("the slot lags by \(health.slotLagBytes) bytes (bound \(settings.maximumLagBytes))")
        }
        if health.acknowledgementWait > settings.maximumAcknowledgementWait {
            reasons.append("\(health.eventsInFlight) events have had no acknowledgement from Kafka for \(health.acknowledgementWait.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))")
        }
        return reasons
    }
}
