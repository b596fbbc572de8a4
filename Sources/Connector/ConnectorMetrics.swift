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
    let timeBehindSource = Gauge(label: "outbox_cdc_time_behind_source_seconds")
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
            let counter = Counter(label: "outbox_cdc_rows_ignored_total", dimensions: [("table", label), ("reason", reason.rawValue)])
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
