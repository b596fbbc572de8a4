public import PgOutputDecoder
public import WALReader

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
    /// An Insert names a relation whose Relation message never came.
    case unknownRelation(UInt32)
    /// The row's column count differs from its Relation message.
    case columnCountMismatch(expected: Int, actual: Int)
    /// The routing column is NULL or empty, so there is no topic to publish to.
    case missingRoutingValue(column: String, eventID: String)
    /// A bytea payload whose text form is not `\x` followed by hex digits.
    case malformedBytea(eventID: String)

    public var description: String {
        switch self {
        case .columnsMissing(let columns, let table):
            return "the outbox table \(table) has no column(s) \(columns.joined(separator: ", ")) any more"
        case .unknownRelation(let id):
            return "a row refers to relation \(id), which the server never described"
        case .columnCountMismatch(let expected, let actual):
            return "a row has \(actual) columns where its relation has \(expected)"
        case .missingRoutingValue(let column, let eventID):
            return "event \(eventID) has no \(column): it cannot be routed to a topic"
        case .malformedBytea(let eventID):
            return "event \(eventID) has a bytea payload that is not in PostgreSQL's hex format"
        }
    }
}

/// The outbox table's columns the mapping reads. The defaults are the Outbox Event Router's
/// (`table.field.event.id`, `table.field.event.key`, `table.field.event.payload`, `route.by.field`).
public struct OutboxColumns: Sendable, Equatable {
    public var id = "id"
    public var key = "aggregateid"
    public var payload = "payload"
    public var routing = "aggregatetype"

    public init() {}

    public init(id: String, key: String, payload: String, routing: String) {
        self.id = id
        self.key = key
        self.payload = payload
        self.routing = routing
    }

    /// Every column named, each once, in the order id, routing, key, payload.
    public var required: [String] {
        var names: [String] = []
        for name in [id, routing, key, payload] where !names.contains(name) { names.append(name) }
        return names
    }
}

/// Maps outbox INSERTs to Kafka records the way Debezium's Outbox Event Router does by default:
/// topic `outbox.event.<routing column>`, key the key column, value the payload, header `id`.
///
/// Holds the relation cache (relation id → column positions): the decoder stays stateless about
/// relations, and a new Relation message for the table (after ALTER TABLE) simply replaces the entry.
public struct OutboxEventMapper: Sendable {
    public static let topicPrefix = "outbox.event."

    /// Where the mapped columns sit in the outbox table's rows.
    private struct OutboxLayout: Sendable {
        var columnCount: Int
        var id: Int
        var routing: Int
        var key: Int
        var payload: Int
        var payloadKind: OutboxEvent.PayloadKind
    }

    public let table: QualifiedTableName
    public let columns: OutboxColumns
    /// Layouts of the outbox table by relation id; other relations map to nil (ignored).
    private var relations: [UInt32: OutboxLayout?] = [:]
    /// Topic names by aggregatetype bytes, so the hot path builds no string for a known type.
    private var topics: [ArraySlice<UInt8>: String] = [:]
    private static let topicCacheLimit = 10_000
    private static let byteaTypeOID: UInt32 = 17
    private static let jsonTypeOID: UInt32 = 114
    private static let jsonbTypeOID: UInt32 = 3802

    public init(table: QualifiedTableName, columns: OutboxColumns = OutboxColumns()) {
        self.table = table
        self.columns = columns
    }

    /// Takes a Relation message into the cache; returns whether it describes the outbox table.
    @discardableResult
    public mutating func register(_ relation: PgOutputMessage.Relation) throws(OutboxMappingError) -> Bool {
        guard relation.namespace == table.schema, relation.name == table.name else {
            relations[relation.relationID] = .some(nil)
            return false
        }
        func position(_ name: String) -> Int? {
            relation.columns.firstIndex { $0.name == name }
        }
        guard let id = position(columns.id), let routing = position(columns.routing),
              let key = position(columns.key), let payload = position(columns.payload)
        else {
            let missing = columns.required.filter { position($0) == nil }
            throw .columnsMissing(missing, table: table)
        }
        let payloadKind: OutboxEvent.PayloadKind = switch relation.columns[payload].typeOID {
        case Self.byteaTypeOID: .bytes
        case Self.jsonTypeOID, Self.jsonbTypeOID: .json
        default: .text
        }
        relations[relation.relationID] = OutboxLayout(
            columnCount: relation.columns.count, id: id, routing: routing, key: key, payload: payload,
            payloadKind: payloadKind
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
        let eventID = values[layout.id].bytes
        guard let routing = values[layout.routing].bytes, !routing.isEmpty else {
            throw .missingRoutingValue(column: columns.routing, eventID: Self.text(eventID))
        }
        var value = values[layout.payload].bytes
        if layout.payloadKind == .bytes, case .text(let escaped) = values[layout.payload] {
            guard let raw = Self.unescapeBytea(escaped) else { throw .malformedBytea(eventID: Self.text(eventID)) }
            value = raw[...]
        }
        return OutboxEvent(
            topic: topic(for: routing), key: values[layout.key].bytes, value: value, eventID: eventID,
            payloadKind: layout.payloadKind
        )
    }

    private mutating func topic(for routing: ArraySlice<UInt8>) -> String {
        if let topic = topics[routing] { return topic }
        if topics.count >= Self.topicCacheLimit { topics.removeAll() }
        let topic = Self.topicPrefix + String(decoding: routing, as: UTF8.self)
        // Store a compact copy: a slice key would keep the whole replication message alive.
        topics[ArraySlice(Array(routing))] = topic
        return topic
    }

    private static func text(_ bytes: ArraySlice<UInt8>?) -> String {
        bytes.map { String(decoding: $0, as: UTF8.self) } ?? "(null)"
    }

    /// Decodes bytea's text output, `\x` then two hex digits a byte (bytea_output = hex, the default
    /// since PostgreSQL 9.0 and what logical replication sends).
    static func unescapeBytea(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count >= 2, text.count % 2 == 0,
              text[text.startIndex] == UInt8(ascii: "\\"), text[text.startIndex + 1] == UInt8(ascii: "x")
        else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((text.count - 2) / 2)
        var index = text.startIndex + 2
        while index < text.endIndex {
            guard let high = hexValue(text[index]), let low = hexValue(text[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
