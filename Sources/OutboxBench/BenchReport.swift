import Clocks
public import Foundation
public import Histogram

/// One mode's latency figures; encodes to the JSON shape `bench latency --json` documents.
public struct LatencyRun: Sendable, Encodable {
    public var mode: String
    public var targetRate: Int
    public var achievedRate: Double = 0
    /// Measured events that reached the consumer.
    public var events = 0
    /// Measured events that never reached the consumer (at-least-once says this stays 0).
    public var lost = 0
    public var p50Milliseconds: Double
    public var p90Milliseconds: Double
    public var p99Milliseconds: Double
    public var p999Milliseconds: Double
    public var maxMilliseconds: Double
    /// The relay process's peak resident set size (nil for the bare broker run).
    public var peakRSSBytes: Int?
    /// CPU of the relay process, percent of one core, over its working window.
    public var relayCPUPercent: Double?
    /// CPU of the PostgreSQL backend serving the relay (the walsender, or the poller's connection).
    public var databaseBackendCPUPercent: Double?
    public var databaseQueriesPerSecond: Double?
    public var databaseRowsScanned: Int?
    /// To Kafka's acknowledgement: for cdc, inside outbox-cdc from PostgreSQL's commit time (whole run);
    /// for the broker floor, from produce.
    public var toAckP50Milliseconds: Double?
    public var toAckP99Milliseconds: Double?
    /// Inside outbox-cdc: from PostgreSQL's commit time to handing the event to librdkafka, the share of
    /// the latency outbox-cdc itself (with the walsender) adds.
    public var commitToProduceP50Milliseconds: Double?
    public var commitToProduceP99Milliseconds: Double?
    /// CPU of the broker process, percent of one core, when its PID was given.
    public var brokerCPUPercent: Double?
    /// Inside outbox-cdc, commit-to-acknowledgement split into stages by owner (the relay's log at stop):
    /// commit-to-send (PostgreSQL), send-to-read and read-to-produce (outbox-cdc), produce-to-acknowledgement
    /// (librdkafka and the broker).
    public var stages: [LatencyStage] = []
    /// Milliseconds per second of the window that the relay's threads, its database backend and the broker's
    /// threads spent runnable but waiting for a CPU.
    public var relayRunQueueWait: Double?
    public var databaseBackendRunQueueWait: Double?
    public var brokerRunQueueWait: Double?

    /// `histogram` records microseconds.
    public init(mode: String, targetRate: Int, histogram: Histogram<UInt64>) {
        self.mode = mode
        self.targetRate = targetRate
        func milliseconds(_ micros: UInt64) -> Double { (Double(micros) / 10).rounded() / 100 }
        let empty = histogram.totalCount == 0
        p50Milliseconds = empty ? 0 : milliseconds(histogram.valueAtPercentile(50))
        p90Milliseconds = empty ? 0 : milliseconds(histogram.valueAtPercentile(90))
        p99Milliseconds = empty ? 0 : milliseconds(histogram.valueAtPercentile(99))
        p999Milliseconds = empty ? 0 : milliseconds(histogram.valueAtPercentile(99.9))
        maxMilliseconds = empty ? 0 : milliseconds(histogram.max)
    }

    enum CodingKeys: String, CodingKey {
        case mode, targetRate = "target_rate", achievedRate = "achieved_rate", events, lost
        case p50Milliseconds = "p50_ms", p90Milliseconds = "p90_ms", p99Milliseconds = "p99_ms"
        case p999Milliseconds = "p999_ms", maxMilliseconds = "max_ms", peakRSSBytes = "peak_rss_bytes"
        case relayCPUPercent = "relay_cpu_percent", databaseBackendCPUPercent = "db_backend_cpu_percent"
        case databaseQueriesPerSecond = "db_queries_per_s", databaseRowsScanned = "db_rows_scanned"
        case commitToAckP50 = "commit_to_ack_p50_ms", commitToAckP99 = "commit_to_ack_p99_ms"
        case produceToAckP50 = "produce_to_ack_p50_ms", produceToAckP99 = "produce_to_ack_p99_ms"
        case commitToProduceP50 = "commit_to_produce_p50_ms", commitToProduceP99 = "commit_to_produce_p99_ms"
        case brokerCPUPercent = "broker_cpu_percent"
        case stages
        case relayRunQueueWait = "relay_run_queue_wait_ms_per_s", databaseBackendRunQueueWait = "db_backend_run_queue_wait_ms_per_s"
        case brokerRunQueueWait = "broker_run_queue_wait_ms_per_s"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mode, forKey: .mode)
        try container.encode(targetRate, forKey: .targetRate)
        try container.encode((achievedRate * 10).rounded() / 10, forKey: .achievedRate)
        try container.encode(events, forKey: .events)
        try container.encode(p50Milliseconds, forKey: .p50Milliseconds)
        try container.encode(p90Milliseconds, forKey: .p90Milliseconds)
        try container.encode(p99Milliseconds, forKey: .p99Milliseconds)
        try container.encode(p999Milliseconds, forKey: .p999Milliseconds)
        try container.encode(maxMilliseconds, forKey: .maxMilliseconds)
        try container.encode(peakRSSBytes, forKey: .peakRSSBytes)
        try container.encode(lost, forKey: .lost)
        try container.encodeIfPresent(relayCPUPercent, forKey: .relayCPUPercent)
        try container.encodeIfPresent(databaseBackendCPUPercent, forKey: .databaseBackendCPUPercent)
        try container.encodeIfPresent(databaseQueriesPerSecond, forKey: .databaseQueriesPerSecond)
        try container.encodeIfPresent(databaseRowsScanned, forKey: .databaseRowsScanned)
        let broker = mode == LatencyMode.broker.rawValue
        try container.encodeIfPresent(toAckP50Milliseconds, forKey: broker ? .produceToAckP50 : .commitToAckP50)
        try container.encodeIfPresent(toAckP99Milliseconds, forKey: broker ? .produceToAckP99 : .commitToAckP99)
        try container.encodeIfPresent(commitToProduceP50Milliseconds, forKey: .commitToProduceP50)
        try container.encodeIfPresent(commitToProduceP99Milliseconds, forKey: .commitToProduceP99)
        try container.encodeIfPresent(brokerCPUPercent, forKey: .brokerCPUPercent)
        if !stages.isEmpty { try container.encode(stages, forKey: .stages) }
        try container.encodeIfPresent(relayRunQueueWait, forKey: .relayRunQueueWait)
        try container.encodeIfPresent(databaseBackendRunQueueWait, forKey: .databaseBackendRunQueueWait)
        try container.encodeIfPresent(brokerRunQueueWait, forKey: .brokerRunQueueWait)
    }
}

/// One stage of an event's way through outbox-cdc, as its log reports the distribution at stop.
public struct LatencyStage: Sendable, Encodable {
    /// The relay's name for it: commit-to-send, send-to-read, read-to-produce, produce-to-acknowledgement.
    public var name: String
    /// Whose time it is: PostgreSQL, outbox-cdc, or librdkafka and the broker.
    public var owner: String
    public var p50Milliseconds: Double
    public var p99Milliseconds: Double
    public var p999Milliseconds: Double
    public var maxMilliseconds: Double

    /// The relay's stages in order, with their owners.
    static let owners: [(name: String, owner: String)] = [
        ("commit-to-send", "PostgreSQL"), ("send-to-read", "outbox-cdc"), ("read-to-produce", "outbox-cdc"),
        ("produce-to-acknowledgement", "librdkafka and the broker"),
    ]

    enum CodingKeys: String, CodingKey {
        case name, owner, p50Milliseconds = "p50_ms", p99Milliseconds = "p99_ms", p999Milliseconds = "p999_ms", maxMilliseconds = "max_ms"
    }
}

/// Everything `bench latency` measured: `latency` holds the relays (cdc, poll), `broker_floor` the bare
/// broker at the same rate.
public struct LatencyReport: Sendable, Encodable {
    public struct Settings: Sendable, Encodable {
        var rate: Int
        var durationSeconds: Double
        var warmupSeconds: Double
        var writers: Int
        var payloadBytes: Int
        var pollIntervalMilliseconds: Int64
        var batchSize: Int
        var consumerFetchWaitMilliseconds: Int

        init(_ options: LatencyBenchmark.Options) {
            rate = options.rate
            durationSeconds = options.duration.seconds
            warmupSeconds = options.warmup.seconds
            writers = options.writers
            payloadBytes = options.payloadBytes
            pollIntervalMilliseconds = options.pollInterval.nanoseconds / 1_000_000
            batchSize = options.batchSize
            consumerFetchWaitMilliseconds = options.fetchWaitMilliseconds
        }

        enum CodingKeys: String, CodingKey {
            case rate, durationSeconds = "duration_s", warmupSeconds = "warmup_s", writers, payloadBytes = "payload_bytes"
            case pollIntervalMilliseconds = "poll_interval_ms", batchSize = "batch_size"
            case consumerFetchWaitMilliseconds = "consumer_fetch_wait_max_ms"
        }
    }

    public var latency: [LatencyRun] = []
    public var brokerFloor: LatencyRun?
    public var settings: Settings
    /// Microsecond histograms by mode, for the picture; not part of the JSON.
    public var histograms: [(mode: String, histogram: Histogram<UInt64>)] = []

    init(settings: Settings) {
        self.settings = settings
    }

    mutating func add(_ run: LatencyRun, histogram: Histogram<UInt64>) {
        if run.mode == LatencyMode.broker.rawValue {
            brokerFloor = run
        } else {
            latency.append(run)
        }
        histograms.append((run.mode, histogram))
    }

    enum CodingKeys: String, CodingKey {
        case latency, brokerFloor = "broker_floor", settings
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(latency, forKey: .latency)
        try container.encodeIfPresent(brokerFloor, forKey: .brokerFloor)
        try container.encode(settings, forKey: .settings)
    }

    /// The terminal table.
    public var table: String {
        var rows = [["mode", "rate/s", "events", "lost", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "RSS MiB", "relay CPU", "db CPU", "broker CPU", "db q/s", "rows scanned"]]
        for run in latency + (brokerFloor.map { [$0] } ?? []) {
            rows.append([
                run.mode, format(run.achievedRate, digits: 0), "\(run.events)", "\(run.lost)",
                format(run.p50Milliseconds), format(run.p90Milliseconds), format(run.p99Milliseconds),
                format(run.p999Milliseconds), format(run.maxMilliseconds),
                run.peakRSSBytes.map { format(Double($0) / 1_048_576, digits: 1) } ?? "-",
                run.relayCPUPercent.map { format($0, digits: 1) + "%" } ?? "-",
                run.databaseBackendCPUPercent.map { format($0, digits: 1) + "%" } ?? "-",
                run.brokerCPUPercent.map { format($0, digits: 1) + "%" } ?? "-",
                run.databaseQueriesPerSecond.map { format($0, digits: 1) } ?? "-",
                run.databaseRowsScanned.map { "\($0)" } ?? "-",
            ])
        }
        var text = renderTable(rows)
        if let cdc = latency.first(where: { $0.mode == "cdc" }), let p50 = cdc.commitToProduceP50Milliseconds, let p99 = cdc.commitToProduceP99Milliseconds {
            text += "outbox-cdc commit-to-produce (its own share): p50 \(format(p50)) ms, p99 \(format(p99)) ms\n"
        }
        if let cdc = latency.first(where: { $0.mode == "cdc" }), let p50 = cdc.toAckP50Milliseconds, let p99 = cdc.toAckP99Milliseconds {
            text += "outbox-cdc commit-to-acknowledgement: p50 \(format(p50)) ms, p99 \(format(p99)) ms\n"
        }
        if let cdc = latency.first(where: { $0.mode == "cdc" }), !cdc.stages.isEmpty {
            text += "outbox-cdc by stage, p50 / p99 / p99.9 ms:\n"
            for stage in cdc.stages {
                text += "  \(stage.name) (\(stage.owner)): \(format(stage.p50Milliseconds)) / \(format(stage.p99Milliseconds)) / \(format(stage.p999Milliseconds))\n"
            }
        }
        if let broker = brokerFloor, let p50 = broker.toAckP50Milliseconds, let p99 = broker.toAckP99Milliseconds {
            text += "broker produce-to-acknowledgement: p50 \(format(p50)) ms, p99 \(format(p99)) ms\n"
        }
        for run in (brokerFloor.map { [$0] } ?? []) + latency {
            let waits = [("relay", run.relayRunQueueWait), ("its database backend", run.databaseBackendRunQueueWait), ("broker", run.brokerRunQueueWait)]
                .compactMap { name, wait in wait.map { "\(name) \(format($0))" } }
            guard !waits.isEmpty else { continue }
            text += "\(run.mode): waiting for a CPU, ms per s: \(waits.joined(separator: ", "))\n"
        }
        if let cdc = latency.first(where: { $0.mode == "cdc" }), let poll = latency.first(where: { $0.mode == "poll" }), cdc.p50Milliseconds > 0 {
            text += "poll p50 / cdc p50: \(format(poll.p50Milliseconds / cdc.p50Milliseconds, digits: 1))x\n"
        }
        return text
    }
}

/// `bench drain`'s figures.
public struct DrainReport: Sendable, Encodable {
    public var events: Int
    public var seconds: Double
    public var eventsPerSecond: Double
    public var rawReadEventsPerSecond: Double
    public var rawProduceEventsPerSecond: Double
    public var ratioToLimit: Double
    public var peakRSSBytes: Int
    public var rowsPerTransaction: Int
    public var payloadBytes: Int
    public var walBytes: Int
    /// outbox-cdc's CPU over the whole drain (user + system).
    public var relayCPUSeconds: Double
    /// The same, per thread name, read just before it stopped (threads that used no CPU left out).
    public var relayThreadCPUSeconds: [String: Double]
    /// The CPU of the walsender serving it, when it could be read from /proc.
    public var walsenderCPUSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case events, seconds, eventsPerSecond = "events_per_s", rawReadEventsPerSecond = "raw_read_events_per_s"
        case rawProduceEventsPerSecond = "raw_produce_events_per_s", ratioToLimit = "ratio_to_limit"
        case peakRSSBytes = "peak_rss_bytes", rowsPerTransaction = "rows_per_transaction", payloadBytes = "payload_bytes"
        case walBytes = "wal_bytes", relayCPUSeconds = "relay_cpu_s", relayThreadCPUSeconds = "relay_thread_cpu_s"
        case walsenderCPUSeconds = "walsender_cpu_s"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(events, forKey: .events)
        try container.encode((seconds * 1000).rounded() / 1000, forKey: .seconds)
        try container.encode(eventsPerSecond.rounded(), forKey: .eventsPerSecond)
        try container.encode(rawReadEventsPerSecond.rounded(), forKey: .rawReadEventsPerSecond)
        try container.encode(rawProduceEventsPerSecond.rounded(), forKey: .rawProduceEventsPerSecond)
        try container.encode((ratioToLimit * 1000).rounded() / 1000, forKey: .ratioToLimit)
        try container.encode(peakRSSBytes, forKey: .peakRSSBytes)
        try container.encode(rowsPerTransaction, forKey: .rowsPerTransaction)
        try container.encode(payloadBytes, forKey: .payloadBytes)
        try container.encode(walBytes, forKey: .walBytes)
        try container.encode((relayCPUSeconds * 1000).rounded() / 1000, forKey: .relayCPUSeconds)
        try container.encode(busyThreads.reduce(into: [String: Double]()) { $0[$1.name] = ($1.seconds * 1000).rounded() / 1000 }, forKey: .relayThreadCPUSeconds)
        try container.encodeIfPresent(walsenderCPUSeconds.map { ($0 * 1000).rounded() / 1000 }, forKey: .walsenderCPUSeconds)
    }

    public var table: String {
        renderTable([
            ["", "events/s", "seconds"],
            ["outbox-cdc (to every acknowledgement)", format(eventsPerSecond, digits: 0), format(seconds, digits: 3)],
            ["raw limit: bare libpq read of the slot", format(rawReadEventsPerSecond, digits: 0), format(Double(events) / max(rawReadEventsPerSecond, 1), digits: 3)],
            ["raw limit: bare librdkafka producer", format(rawProduceEventsPerSecond, digits: 0), format(Double(events) / max(rawProduceEventsPerSecond, 1), digits: 3)],
        ]) + "\(events) events, \(rowsPerTransaction) per transaction, \(payloadBytes)-byte payloads; ratio to the smaller limit: \(format(ratioToLimit * 100, digits: 1))%; peak RSS \(format(Double(peakRSSBytes) / 1_048_576, digits: 1)) MiB\n"
            + "CPU while draining: outbox-cdc \(format(relayCPUSeconds, digits: 2)) s, its walsender \(walsenderCPUSeconds.map { format($0, digits: 2) + " s" } ?? "unknown")\n"
            + "outbox-cdc CPU by thread: \(busyThreads.map { "\($0.name) \(format($0.seconds, digits: 2)) s" }.joined(separator: ", "))\n"
    }

    /// Threads that used CPU, busiest first.
    private var busyThreads: [(name: String, seconds: Double)] {
        relayThreadCPUSeconds.filter { $0.value >= 0.005 }.map { (name: $0.key, seconds: $0.value) }
            .sorted { $0.seconds != $1.seconds ? $0.seconds > $1.seconds : $0.name < $1.name }
    }
}

/// JSON with sorted keys and indentation, for files people read and diff.
public func encodeJSON(_ value: some Encodable) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var data = try encoder.encode(value)
    data.append(UInt8(ascii: "\n"))
    return data
}

func format(_ value: Double, digits: Int = 2) -> String {
    guard value.isFinite else { return "-" }
    return String(format: "%.\(digits)f", value)
}

func renderTable(_ rows: [[String]]) -> String {
    guard let header = rows.first else { return "" }
    var widths = header.map(\.count)
    for row in rows {
        for (column, cell) in row.enumerated() where column < widths.count {
            widths[column] = max(widths[column], cell.count)
        }
    }
    var text = ""
    for (index, row) in rows.enumerated() {
        let cells = row.enumerated().map { column, cell in
            // Text left-aligned in the first column, figures right-aligned.
            let padding = String(repeating: " ", count: max(0, widths[column] - cell.count))
            return column == 0 ? cell + padding : padding + cell
        }
        text += cells.joined(separator: "  ") + "\n"
        if index == 0 {
            text += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        }
    }
    return text
}
