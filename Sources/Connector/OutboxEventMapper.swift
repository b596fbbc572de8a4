import Clocks
import DebeziumFormat
public import KafkaClient
public import PgOutputDecoder
public import PostgresNames
import PostgresWire

/// One outbox row, turned into what Kafka receives. Byte fields are slices of the decoded message, so
/// mapping copies nothing but the topic name (cached) and bytea payloads (which need unescaping).
public struct OutboxEvent: Sendable {
    public var topic: String
    /// `aggregateid` as UTF-8; nil when the column is NULL.
    public var key: ArraySlice<UInt8>?
    /// The payload as PostgreSQL sends it (jsonb's canonical text, raw bytes for bytea); nil for NULL.
    public var value: ArraySlice<UInt8>?
    /// The event id as its text form (36 characters for a uuid); the `id` header.
    public var eventID: ArraySlice<UInt8>?
    /// What the payload column holds, which decides its schema in Debezium's records.
    public var payloadKind: PayloadKind = .text
    /// The partition the row names; nil leaves it to the key's hash.
    public var partition: Int32?
    /// The record timestamp the row names, Unix milliseconds; nil leaves it to the producer's clock.
    public var timestamp: Int64?
    /// Headers the row carries, after the `id` header when the format writes one.
    public var headers: [KafkaHeader] = []
    /// sarama's hash of the row's partitioning key (`OutboxTableFormat.partitionKeyColumns`): the partition is
    /// this modulo the topic's partition count, which the producer's side learns (`SaramaHashPartitioner`).
    public var partitionKeyHash: Int32?
    /// Whether outbox-cdc's own records carry the `id` header (the Event Router's format does).
    public var idHeader = true

    public enum PayloadKind: Sendable {
        /// json or jsonb: the value is the JSON text.
        case json
        /// bytea: the value is the raw bytes.
        case bytes
        /// Any other type: the value is its text output.
        case text
    }

    public var eventIDText: String {
        eventID.map { String(decoding: $0, as: UTF8.self) } ?? "(null)"
    }
}

/// Why an outbox row cannot become a Kafka record.
public enum OutboxMappingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The Relation message of the outbox table lacks columns the mapping reads (a schema change).
    case columnsMissing([String], table: QualifiedTableName)
    /// A column the mapping reads changed its type while streaming (ALTER TABLE … TYPE) to one read
    /// differently (bytea, json or jsonb, text-like, others by type).
    case columnRetyped(String, table: QualifiedTableName, from: UInt32, to: UInt32)
    /// An Insert names a relation whose Relation message never came.
    case unknownRelation(UInt32)
    /// The row's column count differs from its Relation message.
    case columnCountMismatch(expected: Int, actual: Int)
    /// The routing column is NULL or empty, so there is no topic to publish to.
    case missingRoutingValue(column: String, eventID: String)
    /// A bytea payload whose text form is not `\x` followed by hex digits.
    case malformedBytea(eventID: String)
    /// The partition column holds no whole number from 0 to 2^31-1.
    case badPartition(column: String, eventID: String)
    /// The timestamp column holds no time outbox-cdc can place (infinity, a BC date).
    case badTimestamp(column: String, eventID: String)
    case badHeaders(RowHeadersError, eventID: String)

    public var description: String {
        switch self {
        case .columnsMissing(let columns, let table):
            return "the outbox table \(table) has no column(s) \(columns.joined(separator: ", ")) any more"
        case .columnRetyped(let column, let table, let from, let to):
            return "the column \(column) of the outbox table \(table) changed its type (OID \(from) to \(to)) while streaming; outbox-cdc stops rather than change the records it writes: restart it to accept the new type"
        case .unknownRelation(let id):
            return "a row refers to relation \(id), which the server never described"
        case .columnCountMismatch(let expected, let actual):
            return "a row has \(actual) columns where its relation has \(expected)"
        case .missingRoutingValue(let column, let eventID):
            return "event \(eventID) has no \(column): it cannot be routed to a topic"
        case .malformedBytea(let eventID):
            return "event \(eventID) has a bytea payload that is not in PostgreSQL's hex format"
        case .badPartition(let column, let eventID):
            return "event \(eventID) has a \(column) that is not a partition number (0 or more)"
        case .badTimestamp(let column, let eventID):
            return "event \(eventID) has a \(column) that is not a time a Kafka record can carry"
        case .badHeaders(let error, let eventID):
            return "event \(eventID): \(error)"
        }
    }
}

/// Maps outbox INSERTs to Kafka records as the table format says: by default the way Debezium's Outbox
/// Event Router does (topic `outbox.event.<aggregatetype>`, key `aggregateid`, value `payload`, header `id`).
///
/// Holds the relation cache (relation id → column positions): the decoder stays stateless about
/// relations, and a new Relation message for the table (after ALTER TABLE) simply replaces the entry.
public struct OutboxEventMapper: Sendable {
    /// Where the mapped columns sit in the outbox table's rows.
    private struct OutboxLayout: Sendable {
        var columnCount: Int
        var id: Int?
        var topic: Int
        var key: Int?
        var value: Int
        var valueKind: OutboxEvent.PayloadKind
        var partition: Int?
        var timestamp: Int?
        var traceContext: Int?
        var headers: HeaderLayout
        var partitionKeys: [Int]
        /// outbox-event-bus's envelope: the uuid, msg_type and mime_type columns.
        var envelope: (uuid: Int, messageType: Int, mimeType: Int)?
        /// The type of each column the format reads, by name: a later Relation message must keep them.
        var mappedTypes: [String: UInt32]
    }

    private enum HeaderLayout: Sendable {
        case none
        case jsonObject(Int)
        case jsonPairs(Int)
        case jsonObjectScalars(Int)
        case textArrays(names: Int, values: Int)
    }

    /// The outbox tables; rows of other tables map to nothing.
    public let tables: Set<QualifiedTableName>
    public let format: OutboxTableFormat
    /// Layouts of the outbox table by relation id; other relations map to nil (ignored).
    private var relations: [UInt32: OutboxLayout?] = [:]
    /// Topic names by routing-column bytes, so the hot path builds no string for a known topic.
    private var topics: [ArraySlice<UInt8>: String] = [:]
    private let topicPrefix: String
    /// Unix microseconds now: the publication time outbox-event-bus's envelope carries.
    private let wallClock: @Sendable () -> Int64
    private static let topicCacheLimit = 10_000
    private static let byteaTypeOID: UInt32 = 17
    private static let jsonTypeOID: UInt32 = 114
    private static let jsonbTypeOID: UInt32 = 3802

    public init(table: QualifiedTableName, format: OutboxTableFormat = .eventRouter, wallClock: (@Sendable () -> Int64)? = nil) {
        self.init(tables: [table], format: format, wallClock: wallClock)
    }

    public init(tables: [QualifiedTableName], format: OutboxTableFormat = .eventRouter, wallClock: (@Sendable () -> Int64)? = nil) {
        self.tables = Set(tables)
        self.format = format
        self.wallClock = wallClock ?? { WallClock.nowMicroseconds() }
        if case .prefixed(_, let prefix) = format.topic {
            topicPrefix = prefix
        } else {
            topicPrefix = ""
        }
    }

    /// Takes a Relation message into the cache; returns whether it describes an outbox table (by name).
    @discardableResult
    public mutating func register(_ relation: PgOutputMessage.Relation) throws(OutboxMappingError) -> Bool {
        let table = QualifiedTableName(schema: relation.namespace, name: relation.name)
        return try register(relation, as: tables.contains(table) ? table : nil)
    }

    /// Whether the relation has every column the format reads, so its rows could be an outbox table's.
    public func fits(_ relation: PgOutputMessage.Relation) -> Bool {
        format.columns.allSatisfy { name in relation.columns.contains { $0.name == name } }
    }

    /// Takes a Relation message into the cache as the relation of `outboxTable`'s rows (the table itself, or
    /// its partition or child), or, when nil, of another table's rows that map to nothing.
    @discardableResult
    public mutating func register(_ relation: PgOutputMessage.Relation, as outboxTable: QualifiedTableName?) throws(OutboxMappingError) -> Bool {
        guard let table = outboxTable else {
            relations[relation.relationID] = .some(nil)
            return false
        }
        func position(_ name: String?) -> Int? {
            name.flatMap { name in relation.columns.firstIndex { $0.name == name } }
        }
        /// A column the format needs; a missing one names every missing column.
        func required(_ name: String) throws(OutboxMappingError) -> Int {
            guard let index = position(name) else {
                throw .columnsMissing(format.columns.filter { position($0) == nil }, table: table)
            }
            return index
        }
        let topic = try required(format.topic.column)
        let value = try required(format.value)
        let headers: HeaderLayout
        switch format.headers {
        case .none: headers = .none
        case .jsonObject(let column): headers = .jsonObject(try required(column))
        case .jsonPairs(let column): headers = .jsonPairs(try required(column))
        case .jsonObjectScalars(let column): headers = .jsonObjectScalars(try required(column))
        case .textArrays(let names, let values): headers = .textArrays(names: try required(names), values: try required(values))
        }
        var partitionKeys: [Int] = []
        for name in format.partitionKeyColumns { partitionKeys.append(try required(name)) }
        let envelope: (uuid: Int, messageType: Int, mimeType: Int)?
        switch format.valueSource {
        case .column: envelope = nil
        case .outboxEventBusEnvelope(let uuid, let messageType, let mimeType):
            envelope = (try required(uuid), try required(messageType), try required(mimeType))
        }
        // The optional columns are named by the format too: missing, they are missing.
        for name in [format.eventID, format.key, format.partition, format.timestamp, format.traceContext].compactMap({ $0 }) { _ = try required(name) }
        let valueKind: OutboxEvent.PayloadKind = switch relation.columns[value].typeOID {
        case Self.byteaTypeOID: .bytes
        case Self.jsonTypeOID, Self.jsonbTypeOID: .json
        default: .text
        }
        var mappedTypes: [String: UInt32] = [:]
        for name in format.columns {
            if let index = position(name) { mappedTypes[name] = relation.columns[index].typeOID }
        }
        // A new Relation message for the table (after ALTER TABLE) replaces the layout, but not the types of
        // the mapped columns: their records would change shape in mid-stream.
        if case .some(.some(let previous)) = relations[relation.relationID] {
            for (name, oid) in mappedTypes.sorted(by: { $0.key < $1.key }) {
                if let old = previous.mappedTypes[name], Self.readClass(old) != Self.readClass(oid) {
                    throw .columnRetyped(name, table: table, from: old, to: oid)
                }
            }
        }
        relations[relation.relationID] = OutboxLayout(
            columnCount: relation.columns.count, id: position(format.eventID), topic: topic, key: position(format.key),
            value: value, valueKind: valueKind, partition: position(format.partition),
            timestamp: position(format.timestamp), traceContext: position(format.traceContext), headers: headers,
            partitionKeys: partitionKeys, envelope: envelope, mappedTypes: mappedTypes
        )
        return true
    }

    /// The Kafka record for an INSERT into the outbox table, or nil for a row of another table.
    public mutating func event(for insert: PgOutputMessage.Insert) throws(OutboxMappingError) -> OutboxEvent? {
        guard let cached = relations[insert.relationID] else {
            throw .unknownRelation(insert.relationID)
        }
        guard let layout = cached else { return nil }
        let values = insert.newTuple.columns
        guard values.count == layout.columnCount else {
            throw .columnCountMismatch(expected: layout.columnCount, actual: values.count)
        }
        let eventID = layout.id.flatMap { values[$0].bytes }
        guard let routing = values[layout.topic].bytes, !routing.isEmpty else {
            throw .missingRoutingValue(column: format.topic.column, eventID: Self.text(eventID))
        }
        var value = values[layout.value].bytes
        if layout.valueKind == .bytes, case .text(let escaped) = values[layout.value] {
            guard let raw = HexText.bytea(escaped) else { throw .malformedBytea(eventID: Self.text(eventID)) }
            value = raw[...]
        }
        var key = layout.key.flatMap { values[$0].bytes }
        if format.keyNullWhenEmpty, key?.isEmpty == true { key = nil }
        if let (uuid, messageType, mimeType) = layout.envelope {
            let empty: ArraySlice<UInt8> = []
            value = OutboxEventBusEnvelope.render(
                topic: routing, uuid: values[uuid].bytes ?? empty, publishedAtMicroseconds: wallClock(),
                messageType: values[messageType].bytes ?? empty, mimeType: values[mimeType].bytes ?? empty, payload: value ?? empty
            )[...]
        }
        var event = OutboxEvent(
            topic: topic(for: routing), key: key, value: value, eventID: eventID,
            payloadKind: layout.envelope == nil ? layout.valueKind : .json
        )
        event.idHeader = format.idHeader
        if key != nil, let partitionKey = layout.partitionKeys.lazy.compactMap({ values[$0].bytes }).first(where: { !$0.isEmpty }) {
            // sarama places a keyless record at random, whatever its partitioning key.
            event.partitionKeyHash = SaramaHashPartitioner.hash(partitionKey)
        }
        if let column = layout.partition, let text = values[column].bytes {
            guard let partition = Int32(String(decoding: text, as: UTF8.self)), partition >= 0 else {
                throw .badPartition(column: format.partition ?? "", eventID: Self.text(eventID))
            }
            event.partition = partition
        }
        if let column = layout.timestamp, let text = values[column].bytes {
            // PostgreSQL's text of a `timestamp` or `timestamptz`; without an offset the time is read as UTC.
            guard let microseconds = (try? PostgresTimestamp(isoText: text, offset: .allowed))?.unixEpochMicroseconds else {
                throw .badTimestamp(column: format.timestamp ?? "", eventID: Self.text(eventID))
            }
            // Kafka's record time is in milliseconds; truncate as Kafka's Java clients do.
            event.timestamp = microseconds / 1000
        }
        do {
            switch layout.headers {
            case .none:
                break
            case .jsonObject(let column):
                if let text = values[column].bytes { event.headers = try RowHeaders.jsonObject(text, column: format.headers.columns[0]) }
            case .jsonPairs(let column):
                if let text = values[column].bytes { event.headers = try RowHeaders.jsonPairs(text, column: format.headers.columns[0]) }
            case .jsonObjectScalars(let column):
                if let text = values[column].bytes { event.headers = try RowHeaders.jsonObjectScalars(text, column: format.headers.columns[0]) }
            case .textArrays(let names, let headerValues):
                let columnNames = format.headers.columns
                event.headers = try RowHeaders.textArrays(
                    names: values[names].bytes, values: values[headerValues].bytes, columns: (columnNames[0], columnNames[1])
                )
            }
        } catch {
            throw .badHeaders(error, eventID: Self.text(eventID))
        }
        if let column = layout.traceContext, let text = values[column].bytes {
            // An invalid trace context is dropped, as W3C Trace Context asks of a receiver: never the event.
            event.headers += TraceContext.headers(from: text)
        }
        return event
    }

    /// Types whose values outbox-cdc reads the same way: a change within a class (varchar to text, json to
    /// jsonb) changes no record, a change across classes would.
    private static func readClass(_ oid: UInt32) -> UInt32 {
        switch oid {
        case 25, 1042, 1043: return 25  // text, bpchar, varchar
        case jsonTypeOID, jsonbTypeOID: return jsonbTypeOID
        default: return oid
        }
    }

    private mutating func topic(for routing: ArraySlice<UInt8>) -> String {
        if let topic = topics[routing] { return topic }
        if topics.count >= Self.topicCacheLimit { topics.removeAll() }
        let topic = topicPrefix + String(decoding: routing, as: UTF8.self)
        // Store a compact copy: a slice key would keep the whole replication message alive.
        topics[ArraySlice(Array(routing))] = topic
        return topic
    }

    private static func text(_ bytes: ArraySlice<UInt8>?) -> String {
        bytes.map { String(decoding: $0, as: UTF8.self) } ?? "(null)"
    }
}
