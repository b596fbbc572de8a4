public import DebeziumFormat
import KafkaClient

/// How records are written to Kafka.
public enum RecordFormat: Sendable {
    /// outbox-cdc's own: the payload's bytes as the value, the key column's bytes as the key, an `id` header.
    case native
    /// Byte for byte what a Debezium PostgreSQL connector with the Outbox Event Router writes under the
    /// same converters.
    case debezium(DebeziumRecordSettings)
}

/// What a Debezium deployment's configuration decides about its records.
public struct DebeziumRecordSettings: Sendable {
    public var keyConverter: ConverterSetting
    public var valueConverter: ConverterSetting
    /// `topic.prefix`, the value of the `__debezium.context.connectorLogicalName` header.
    public var topicPrefix: String
    /// `extended.headers.enabled`: the `__debezium.context.*` headers (Debezium 3.3 and later).
    public var contextHeaders: Bool
    /// A new one per start, as Debezium draws a UUID v7 per task start.
    public var runID: String

    public init(keyConverter: ConverterSetting, valueConverter: ConverterSetting, topicPrefix: String, contextHeaders: Bool, runID: String) {
        self.keyConverter = keyConverter
        self.valueConverter = valueConverter
        self.topicPrefix = topicPrefix
        self.contextHeaders = contextHeaders
        self.runID = runID
    }
}

/// Turns a mapped outbox row into Debezium's key, value and headers. Built per session, because the
/// schemas' `optional` comes from the table's NOT NULL constraints, read when the session starts.
struct DebeziumRecordEncoder: Sendable {
    private let key: ConnectRecordSerializer
    private let value: ConnectRecordSerializer
    private let keySchema: ConnectSchema
    private let payloadOptional: Bool
    private let leadingHeaders: [KafkaHeader]

    init(settings: DebeziumRecordSettings, format: OutboxTableFormat, notNullColumns: Set<String>) {
        key = ConnectRecordSerializer(converter: settings.keyConverter)
        value = ConnectRecordSerializer(converter: settings.valueConverter)
        keySchema = ConnectSchema(type: .string, optional: !(format.key.map(notNullColumns.contains) ?? false))
        payloadOptional = !notNullColumns.contains(format.value)
        // Debezium's order: logical name, task id, connector type, run id; the EventRouter's `id` follows.
        leadingHeaders = settings.contextHeaders ? [
            KafkaHeader(name: "__debezium.context.connectorLogicalName", value: Array(settings.topicPrefix.utf8)),
            KafkaHeader(name: "__debezium.context.taskId", value: Array("0".utf8)),
            KafkaHeader(name: "__debezium.context.connectorName", value: Array("postgresql".utf8)),
            KafkaHeader(name: "__debezium.context.runId", value: Array(settings.runID.utf8)),
        ] : []
    }

    func encode(_ event: OutboxEvent) throws(ConnectSerializationError) -> (key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader]) {
        let keyData: ConnectData = event.key.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null
        let payloadData: ConnectData
        let payloadSchema: ConnectSchema
        switch event.payloadKind {
        case .json:
            payloadData = event.value.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null
            payloadSchema = .json(optional: payloadOptional)
        case .text:
            payloadData = event.value.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null
            payloadSchema = ConnectSchema(type: .string, optional: payloadOptional)
        case .bytes:
            payloadData = event.value.map { .bytes(Array($0)) } ?? .null
            payloadSchema = ConnectSchema(type: .bytes, optional: payloadOptional)
        }
        return (
            key: try key.serialize(keyData, schema: keySchema),
            value: try value.serialize(payloadData, schema: payloadSchema),
            headers: leadingHeaders + [KafkaHeader(name: "id", value: event.eventID.map(Array.init))]
        )
    }
}
