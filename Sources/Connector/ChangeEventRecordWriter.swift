import DebeziumFormat
import KafkaClient

/// Turns Debezium's change-event records (`ChangeEventRecordBuilder`, `ExtractNewRecordState`,
/// `DebeziumHeartbeatRecord`) into Kafka records as a Kafka Connect worker, or Debezium Server's Kafka sink,
/// writes them: key and value through the configured converters; headers `__debezium.newkey`/`oldkey` first,
/// then the context headers, then the transform's, through the header converter (Connect's
/// SimpleHeaderConverter text; the server's header format: JSON with or without schemas, or text without
/// null headers; goldens-server/change-events*); the partition left to the key's hash (a null key's to the
/// producer), the timestamp to the producer's clock (Debezium's change records carry the send time, not the
/// envelope's).
struct ChangeEventRecordWriter: Sendable {
    private let keySerializer: ConnectRecordSerializer
    private let valueSerializer: ConnectRecordSerializer
    private let contextHeaders: [KafkaHeader]
    private let topicPrefix: String
    private let sink: DebeziumSink

    init(settings: DebeziumRecordSettings) {
        keySerializer = ConnectRecordSerializer(converter: settings.keyConverter)
        valueSerializer = ConnectRecordSerializer(converter: settings.valueConverter)
        contextHeaders = settings.contextHeaderList
        topicPrefix = settings.topicPrefix
        sink = settings.sink
    }

    func event(for record: ChangeEventRecord) throws(DebeziumRecordError) -> OutboxEvent {
        let key = try record.key.flatMap { key throws(DebeziumRecordError) in try serialize(key, with: keySerializer, topic: record.topic) }
        let value = try record.value.flatMap { value throws(DebeziumRecordError) in try serialize(value, with: valueSerializer, topic: record.topic) }
        let headers = try headers(of: record, name: { Self.name(of: record, key: key) })
        var event = OutboxEvent(topic: record.topic, key: key.map { $0[...] }, value: value.map { $0[...] }, eventID: key.map { $0[...] })
        event.headers = headers
        event.idHeader = false
        return event
    }

    /// A heartbeat at `milliseconds` (Unix), without headers: on partition 0 as Debezium places it, or under
    /// Debezium Server, whose sink sends no partition, on its key's hash.
    func heartbeat(heartbeatTopicsPrefix: String, milliseconds: Int64) throws(DebeziumRecordError) -> OutboxEvent {
        let topic = DebeziumHeartbeatRecord.topic(topicPrefix: topicPrefix, heartbeatTopicsPrefix: heartbeatTopicsPrefix)
        let key = try serialize(DebeziumHeartbeatRecord.key(topicPrefix: topicPrefix), with: keySerializer, topic: topic)
        let value = try serialize(DebeziumHeartbeatRecord.value(milliseconds: milliseconds), with: valueSerializer, topic: topic)
        var event = OutboxEvent(topic: topic, key: key.map { $0[...] }, value: value.map { $0[...] }, eventID: nil)
        if sink == .kafkaConnect { event.partition = 0 }
        event.idHeader = false
        return event
    }

    private func headers(of record: ChangeEventRecord, name: () -> String) throws(DebeziumRecordError) -> [KafkaHeader] {
        switch sink {
        case .kafkaConnect, .debeziumServer(headers: .simpleText):
            var headers = record.leadingHeaders.map { KafkaHeader(name: $0.name, value: Array(ChangeEventRecordBuilder.keyText($0.key).utf8)) } + contextHeaders
            for header in record.trailingHeaders {
                do {
                    headers.append(KafkaHeader(name: header.name, value: try SimpleHeaderConverter.headerValue(header.value.data, name: header.name)))
                } catch {
                    throw .record(error, eventID: name())
                }
            }
            // Debezium Server's engine leaves out a header whose converted value is null.
            return sink == .kafkaConnect ? headers : headers.filter { $0.value != nil }
        case .debeziumServer(headers: .json(let schemas)):
            let json = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": schemas ? "true" : "false"]))
            // Debezium adds the context headers as required strings, the keys with their schema.
            let context = contextHeaders.map { header in
                (header.name, ConnectValue(schema: ConnectSchema(type: .string, optional: false), data: .string(String(decoding: header.value ?? [], as: UTF8.self))))
            }
            let leading = record.leadingHeaders.map { ($0.name, $0.key ?? ConnectValue(schema: nil, data: .null)) }
            var headers: [KafkaHeader] = []
            for (name, value) in leading + context + record.trailingHeaders.map({ ($0.name, $0.value) }) {
                headers.append(KafkaHeader(name: name, value: try serialize(value, with: json, topic: record.topic) ?? Array("null".utf8)))
            }
            return headers
        }
    }

    private func serialize(_ value: ConnectValue, with serializer: ConnectRecordSerializer, topic: String) throws(DebeziumRecordError) -> [UInt8]? {
        do {
            return try serializer.serialize(value)
        } catch {
            throw .serialization(error, eventID: topic)
        }
    }

    /// How logs name a change record: its topic and key.
    private static func name(of record: ChangeEventRecord, key: [UInt8]?) -> String {
        record.topic + " " + (key.map { String(decoding: $0, as: UTF8.self) } ?? "(null key)")
    }
}
