import Metrics
import Synchronization

/// The connector's metrics, recorded through swift-metrics: the executable chooses the backend (Prometheus);
/// without one they cost next to nothing. Each metric is created once; the per-topic counters are created
/// the first time a topic is seen, and there are at most `maximumTopics` of them so that a runaway routing
/// column cannot grow the label set without bound.
final class ConnectorMetrics: Sendable {
    static let maximumTopics = 1_000
    /// The label value for topics past `maximumTopics`.
    static let otherTopics = "_other"

    let bytesPublished = Counter(label: "outbox_cdc_bytes_published_total")
    let transactionsConfirmed = Counter(label: "outbox_cdc_transactions_confirmed_total")
    let confirmedLSN = Gauge(label: "outbox_cdc_confirmed_lsn")
    let slotLagBytes = Gauge(label: "outbox_cdc_slot_lag_bytes")
    /// Now minus the commit time of the oldest event Kafka has not acknowledged; 0 when none waits. It grows
    /// while Kafka stalls, which is what "how far behind" has to show.
    let oldestUnacknowledgedEventAge = Gauge(label: "outbox_cdc_oldest_unacknowledged_event_age_seconds")
    /// The newest acknowledged event's acknowledgement time minus its commit time: the latency of the last
    /// delivery. It keeps its value while nothing is acknowledged, so it cannot show a stall.
    let lastAcknowledgedEventDelay = Gauge(label: "outbox_cdc_last_acknowledged_event_delay_seconds")
    let commitToAcknowledgement = Timer(label: "outbox_cdc_commit_to_ack_seconds")
    let eventsInFlight = Gauge(label: "outbox_cdc_events_in_flight")
    let producerQueueDepth = Gauge(label: "outbox_cdc_producer_queue_depth")
    let reconnects = Counter(label: "outbox_cdc_reconnects_total")
    let streaming = Gauge(label: "outbox_cdc_streaming")

    private struct TopicCounters {
        var published: Counter
        var failed: Counter
    }
    private let topics = Mutex<[String: TopicCounters]>([:])
    /// `outbox_cdc_rows_ignored_total` by table and reason; at most `maximumTopics` tables, like topics.
    private let ignored = Mutex<[String: Counter]>([:])

    /// A row that reached outbox-cdc and was not published, for a reason it can name.
    func rowIgnored(table: String, reason: IgnoredRowReason) {
        let counter = ignored.withLock { counters in
            let key = "\(table)\u{0}\(reason.rawValue)"
            if let counter = counters[key] { return counter }
            let tables = Set(counters.keys.map { $0.prefix { $0 != "\u{0}" } })
            let label = tables.count < Self.maximumTopics || tables.contains(Substring(table)) ? table : Self.otherTopics
            let labelKey = "\(label)\u{0}\(reason.rawValue)"
            if let counter = counters[labelKey] { return counter }
            let counter = Counter(label: "outbox_cdc_rows_ignored_total", dimensions: [("table", label), ("reason", reason.rawValue)])
            counters[labelKey] = counter
            return counter
        }
        counter.increment()
    }

    func published(topic: String, bytes: Int) {
        counters(for: topic).published.increment()
        bytesPublished.increment(by: bytes)
    }

    func failed(topic: String) {
        counters(for: topic).failed.increment()
    }

    private func counters(for topic: String) -> TopicCounters {
        topics.withLock { topics in
            if let counters = topics[topic] { return counters }
            let label = topics.count < Self.maximumTopics ? topic : Self.otherTopics
            if let counters = topics[label] { return counters }
            let counters = TopicCounters(
                published: Counter(label: "outbox_cdc_events_published_total", dimensions: [("topic", label)]),
                failed: Counter(label: "outbox_cdc_events_failed_total", dimensions: [("topic", label)])
            )
            topics[label] = counters
            return counters
        }
    }
}

/// Why a row that reached outbox-cdc was not published. Each is counted in `outbox_cdc_rows_ignored_total`.
public enum IgnoredRowReason: String, Sendable, CaseIterable {
    /// A row of a table that is not an outbox table, which the publication publishes too (`FOR ALL TABLES`,
    /// `FOR TABLES IN SCHEMA`, or a table listed beside the outbox).
    case otherTable = "other_table"
    /// An UPDATE of an outbox row: only inserts are events.
    case update
    /// A DELETE of an outbox row (usually in the transaction that inserted it; the insert was published).
    case delete
    /// An event that could not be published, skipped under `--on-error skip` (logged at error level).
    case onErrorSkip = "on_error_skip"
}

/// What readiness is judged on (`/readyz`).
public struct ConnectorHealth: Sendable {
    /// A replication session streams from the slot now: false while standing by or reconnecting.
    public var streaming: Bool
    /// The server's end of WAL minus the confirmed position, at the last status update.
    public var slotLagBytes: UInt64
    public var eventsInFlight: Int
    /// How long events have been in flight with no acknowledgement from Kafka; zero when none are.
    public var acknowledgementWait: Duration
}
