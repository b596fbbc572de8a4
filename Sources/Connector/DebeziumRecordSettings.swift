public import DebeziumFormat
import KafkaClient

/// How records are written to Kafka.
public enum RecordFormat: Sendable {
    /// outbox-cdc's own: the value column's bytes as the value, the key column's bytes as the key, an `id`
    /// header for the Event Router's table.
    case native
    /// Byte for byte what a Debezium PostgreSQL connector writes under the same configuration: the Outbox
    /// Event Router's events, or the captured tables' change events.
    case debezium(DebeziumRecordSettings)
}

/// Where Debezium's records come from, which decides their headers, partition and timestamp.
public enum DebeziumSink: Sendable, Equatable {
    /// A Kafka Connect worker: header values as SimpleHeaderConverter's text (a NULL column a null value);
    /// the Event Router's placed partition and event timestamp.
    case kafkaConnect
    /// Debezium Server's Kafka sink: header values through its header format; the partition from the key's
    /// hash and the producer's clock, whatever the Event Router placed (the sink sends neither).
    case debeziumServer(headers: ServerHeaderFormat)
}

/// Debezium Server's header format (`debezium.format.header` and its options).
public enum ServerHeaderFormat: Sendable, Equatable {
    /// `json` / `jsonbytearray`: each value through JsonConverter, with or without its schema envelope.
    case json(schemas: Bool)
    /// `…header.class=…SimpleHeaderConverter`: text as Kafka Connect writes it, but a header whose value is
    /// null is left out.
    case simpleText
}

/// What a Debezium deployment's configuration decides about its records.
public struct DebeziumRecordSettings: Sendable {
    public var keyConverter: ConverterSetting
    public var valueConverter: ConverterSetting
    /// `topic.prefix`: the `__debezium.context.connectorLogicalName` header, the envelope schema names and
    /// the logical decoding messages' topic `<topic.prefix>.message`.
    public var topicPrefix: String
    /// `extended.headers.enabled`: the `__debezium.context.*` headers (Debezium 3.3 and later).
    public var contextHeaders: Bool
    /// A new one per start, as Debezium draws a UUID v7 per task start.
    public var runID: String
    /// What the connector publishes: outbox events (every Event Router option: routing, placements,
    /// tombstones, JSON expansion), or change events (topic naming, value modes, ExtractNewRecordState).
    public var records: DebeziumRecordKind
    /// `message.prefix.include.list` / `exclude.list`: comma-separated regular expressions, each matching a
    /// whole prefix. Nil publishes every logical decoding message (Debezium's default).
    public var messagePrefixIncludeList: String?
    public var messagePrefixExcludeList: String?
    public var sink: DebeziumSink
    /// With `heartbeat.interval.ms`, Debezium writes a heartbeat record every interval to
    /// `<prefix>.<topic.prefix>` (`topic.heartbeat.prefix`, default `__debezium-heartbeat`), whatever the
    /// transforms (the EventRouter passes it on: golden heartbeat-records). Nil: no heartbeat records.
    public var heartbeatTopicsPrefix: String?
    /// `skipped.operations`, which change events leave out whatever the publication sends (outbox events are
    /// inserts, which the setting never skips).
    public var skippedOperations: Set<ReplicationSettings.Operation> = [.truncate]

    public init(
        keyConverter: ConverterSetting, valueConverter: ConverterSetting, topicPrefix: String, contextHeaders: Bool,
        runID: String, records: DebeziumRecordKind, messagePrefixIncludeList: String? = nil,
        messagePrefixExcludeList: String? = nil, sink: DebeziumSink = .kafkaConnect
    ) {
        self.sink = sink
        self.keyConverter = keyConverter
        self.valueConverter = valueConverter
        self.topicPrefix = topicPrefix
        self.contextHeaders = contextHeaders
        self.runID = runID
        self.records = records
        self.messagePrefixIncludeList = messagePrefixIncludeList
        self.messagePrefixExcludeList = messagePrefixExcludeList
    }
}

extension DebeziumRecordSettings {
    /// The `__debezium.context.*` headers in Debezium's order (logical name, task id, connector type, run id),
    /// none when `extended.headers.enabled` is off. Every record of a connector carries them first.
    var contextHeaderList: [KafkaHeader] {
        guard contextHeaders else { return [] }
        return [
            KafkaHeader(name: "__debezium.context.connectorLogicalName", value: Array(topicPrefix.utf8)),
            KafkaHeader(name: "__debezium.context.taskId", value: Array("0".utf8)),
            KafkaHeader(name: "__debezium.context.connectorName", value: Array("postgresql".utf8)),
            KafkaHeader(name: "__debezium.context.runId", value: Array(runID.utf8)),
        ]
    }
}
