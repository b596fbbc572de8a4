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

    let bytesPublished = Counter(label: MetricDescription.bytesPublished.name)
    let transactionsConfirmed = Counter(label: MetricDescription.transactionsConfirmed.name)
    let confirmedLSN = Gauge(label: MetricDescription.confirmedLSN.name)
    let slotLagBytes = Gauge(label: MetricDescription.slotLagBytes.name)
    let oldestUnacknowledgedEventAge = Gauge(label: MetricDescription.oldestUnacknowledgedEventAge.name)
    let lastAcknowledgedEventDelay = Gauge(label: MetricDescription.lastAcknowledgedEventDelay.name)
    let commitToAcknowledgement = Timer(label: MetricDescription.commitToAcknowledgement.name)
    let acknowledgementToConfirmation = Timer(label: MetricDescription.acknowledgementToConfirmation.name)
    let eventsInFlight = Gauge(label: MetricDescription.eventsInFlight.name)
    let producerQueueDepth = Gauge(label: MetricDescription.producerQueueDepth.name)
    let reconnects = Counter(label: MetricDescription.reconnects.name)
    let streaming = Gauge(label: MetricDescription.streaming.name)

    private struct TopicCounters {
        var published: Counter
        var failed: Counter
    }
    private let topics = Mutex<[String: TopicCounters]>([:])
    /// `outbox_cdc_rows_ignored_total` by table and reason; at most `maximumTopics` table labels, like topics.
    private struct IgnoredCounters {
        /// The label of each table seen: itself, or `_other` past the limit.
        var labels: [String: String] = [:]
        var distinctLabels = 0
        var counters: [IgnoredCounterKey: Counter] = [:]
    }
    private struct IgnoredCounterKey: Hashable {
        var label: String
        var reason: IgnoredRowReason
    }
    private let ignored = Mutex(IgnoredCounters())

    /// A row that reached outbox-cdc and was not published, for a reason it can name.
    func rowIgnored(table: String, reason: IgnoredRowReason) {
        let counter = ignored.withLock { state in
            let label: String
            if let known = state.labels[table] {
                label = known
            } else {
                label = state.distinctLabels < Self.maximumTopics ? table : Self.otherTopics
                if label == table { state.distinctLabels += 1 }
                state.labels[table] = label
            }
            let key = IgnoredCounterKey(label: label, reason: reason)
            if let counter = state.counters[key] { return counter }
            let counter = Counter(label: MetricDescription.rowsIgnored.name, dimensions: [("table", label), ("reason", reason.rawValue)])
            state.counters[key] = counter
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
                published: Counter(label: MetricDescription.eventsPublished.name, dimensions: [("topic", label)]),
                failed: Counter(label: MetricDescription.eventsFailed.name, dimensions: [("topic", label)])
            )
            topics[label] = counters
            return counters
        }
    }
}

/// The counters of `--mark-published`.
final class MarkerMetrics: Sendable {
    let marked = Counter(label: MetricDescription.rowsMarked.name)
    let failedBatches = Counter(label: MetricDescription.rowMarkBatchesFailed.name)
    let dropped = Counter(label: MetricDescription.rowsNotMarked.name)
}

/// The counters of `--retention`.
final class RetentionMetrics: Sendable {
    let rowsDeleted = Counter(label: MetricDescription.rowsDeletedByRetention.name)
    let partitionsDropped = Counter(label: MetricDescription.partitionsDroppedByRetention.name)
    let failures = Counter(label: MetricDescription.retentionFailures.name)
}

/// A metric's name and what it means. swift-metrics carries no help text, so the executable, which serves
/// the exposition, adds each one's `# HELP` line from `all`.
public struct MetricDescription: Sendable {
    public let name: String
    public let help: String

    public static let eventsPublished = MetricDescription(
        name: "outbox_cdc_events_published_total",
        help: "Events Kafka acknowledged, by topic (at most 1000 topics; more count as _other).")
    public static let eventsFailed = MetricDescription(
        name: "outbox_cdc_events_failed_total", help: "Deliveries Kafka refused, by topic.")
    public static let bytesPublished = MetricDescription(
        name: "outbox_cdc_bytes_published_total", help: "Key and value bytes Kafka acknowledged.")
    public static let transactionsConfirmed = MetricDescription(
        name: "outbox_cdc_transactions_confirmed_total", help: "Transactions confirmed to PostgreSQL.")
    public static let confirmedLSN = MetricDescription(
        name: "outbox_cdc_confirmed_lsn", help: "The position confirmed to PostgreSQL, as a number.")
    public static let slotLagBytes = MetricDescription(
        name: "outbox_cdc_slot_lag_bytes", help: "The server's WAL position minus the confirmed position, in bytes.")
    public static let oldestUnacknowledgedEventAge = MetricDescription(
        name: "outbox_cdc_oldest_unacknowledged_event_age_seconds",
        help: "Now minus the PostgreSQL commit time of the oldest event Kafka has not acknowledged; 0 when none waits.")
    public static let lastAcknowledgedEventDelay = MetricDescription(
        name: "outbox_cdc_last_acknowledged_event_delay_seconds",
        help: "The newest acknowledged event's acknowledgement time minus its commit time; unchanged while nothing is acknowledged.")
    public static let commitToAcknowledgement = MetricDescription(
        name: "outbox_cdc_commit_to_ack_seconds", help: "Commit on PostgreSQL to acknowledgement by Kafka, per event.")
    public static let acknowledgementToConfirmation = MetricDescription(
        name: "outbox_cdc_ack_to_confirmation_seconds",
        help: "From Kafka's acknowledgement that completed a transaction reaching outbox-cdc to the status update that confirmed it to PostgreSQL.")
    public static let eventsInFlight = MetricDescription(
        name: "outbox_cdc_events_in_flight", help: "Events handed to Kafka and not yet acknowledged.")
    public static let producerQueueDepth = MetricDescription(
        name: "outbox_cdc_producer_queue_depth", help: "Messages in librdkafka's queue, in flight or awaiting their report.")
    public static let reconnects = MetricDescription(
        name: "outbox_cdc_reconnects_total", help: "Replication sessions that broke and were reopened.")
    public static let streaming = MetricDescription(
        name: "outbox_cdc_streaming", help: "1 while this instance streams from the slot, 0 when standing by or reconnecting.")
    public static let rowsIgnored = MetricDescription(
        name: "outbox_cdc_rows_ignored_total",
        help: "Rows that reached outbox-cdc and were not published, by table and reason (other_table, update, delete, on_error_skip).")

    public static let rowsMarked = MetricDescription(
        name: "outbox_cdc_rows_marked_total",
        help: "Published rows given the old relay's completion mark (--mark-published).")
    public static let rowMarkBatchesFailed = MetricDescription(
        name: "outbox_cdc_row_mark_batches_failed_total", help: "Batches of --mark-published that failed and were tried again.")
    public static let rowsNotMarked = MetricDescription(
        name: "outbox_cdc_rows_not_marked_total",
        help: "Published rows left without the old relay's mark because marking fell a whole queue behind.")
    public static let rowsDeletedByRetention = MetricDescription(
        name: "outbox_cdc_retention_rows_deleted_total", help: "Outbox rows deleted by --retention.")
    public static let partitionsDroppedByRetention = MetricDescription(
        name: "outbox_cdc_retention_partitions_dropped_total", help: "Outbox partitions detached and dropped by --retention.")
    public static let retentionFailures = MetricDescription(
        name: "outbox_cdc_retention_failures_total", help: "Retention statements that failed (tried again at the next pass).")

    /// Every metric the connector records.
    public static let all: [MetricDescription] = [
        eventsPublished, eventsFailed, bytesPublished, transactionsConfirmed, confirmedLSN, slotLagBytes,
        oldestUnacknowledgedEventAge, lastAcknowledgedEventDelay, commitToAcknowledgement, acknowledgementToConfirmation, eventsInFlight,
        producerQueueDepth, reconnects, streaming, rowsIgnored, rowsMarked, rowMarkBatchesFailed, rowsNotMarked,
        rowsDeletedByRetention, partitionsDroppedByRetention, retentionFailures,
    ]
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
