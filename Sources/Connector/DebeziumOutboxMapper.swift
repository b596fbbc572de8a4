import DebeziumFormat
import KafkaClient
import PgOutputDecoder
import PostgresLSN
import PostgresNames

/// Turns outbox rows into the records Debezium's Outbox Event Router writes: topic, key, value, headers,
/// partition and timestamp, final bytes all. Holds the relation cache, the column types Debezium's schemas
/// follow, and the Event Router's value-schema cache, so it lives as long as a replication session.
struct DebeziumOutboxMapper: Sendable {
    private struct Column: Sendable {
        var name: String
        var type: PostgresColumnType
        var optional: Bool
    }

    /// The outbox table's columns by name, and the placements that need their types.
    private struct Layout: Sendable {
        var columnCount: Int
        var positions: [String: Int]
        var columns: [Column]
        var partition: OutboxPartitionPlacement?
        var timestamp: EventTimestampField?
        /// `<topic.prefix>.<schema>.<table>.Value`, which envelope schema names derive from.
        var rowSchemaName: String
    }

    private let settings: DebeziumRecordSettings
    private let eventRouter: EventRouterSettings
    private var notNullColumns: [QualifiedTableName: Set<String>]
    private let router: OutboxTopicRouter
    private var values: OutboxValueBuilder
    private let headerPlacements: OutboxHeaderPlacements
    private let keySerializer: ConnectRecordSerializer
    private let valueSerializer: ConnectRecordSerializer
    private let leadingHeaders: [KafkaHeader]
    private var relations: [UInt32: Layout?] = [:]

    /// `notNullColumns` has an entry for each outbox table: rows of other tables map to nothing.
    init(settings: DebeziumRecordSettings, eventRouter: EventRouterSettings, notNullColumns: [QualifiedTableName: Set<String>]) throws(DebeziumRecordError) {
        self.settings = settings
        self.eventRouter = eventRouter
        self.notNullColumns = notNullColumns
        do {
            router = try OutboxTopicRouter(settings: eventRouter)
            values = try OutboxValueBuilder(settings: eventRouter)
        } catch {
            throw .configuration(error)
        }
        headerPlacements = OutboxHeaderPlacements(settings: eventRouter)
        keySerializer = ConnectRecordSerializer(converter: settings.keyConverter)
        valueSerializer = ConnectRecordSerializer(converter: settings.valueConverter)
        // The Event Router's `id` follows the context headers.
        leadingHeaders = settings.contextHeaderList
    }

    /// Every column the Event Router settings read.
    private var namedColumns: [String] {
        let router = eventRouter
        var names = [router.eventIDColumn, router.eventKeyColumn, router.payloadColumn, router.routeByField]
        names += [router.timestampColumn, router.schemaVersionColumn].compactMap { $0 }
        names += router.additionalFields.map(\.column)
        var unique: [String] = []
        for name in names where !unique.contains(name) { unique.append(name) }
        return unique
    }

    /// Takes a Relation message into the cache; returns whether it describes an outbox table (by name).
    @discardableResult
    mutating func register(_ relation: PgOutputMessage.Relation) throws(DebeziumRecordError) -> Bool {
        let table = QualifiedTableName(schema: relation.namespace, name: relation.name)
        return try register(relation, as: notNullColumns[table] != nil ? table : nil)
    }

    func knowsColumns(of table: QualifiedTableName) -> Bool { notNullColumns[table] != nil }

    /// A table found after the start (Debezium's list matched a partition created since).
    mutating func learnNotNullColumns(_ columns: Set<String>, of table: QualifiedTableName) {
        notNullColumns[table] = columns
    }

    /// Whether the relation has every column the Event Router reads.
    func fits(_ relation: PgOutputMessage.Relation) -> Bool {
        namedColumns.allSatisfy { name in relation.columns.contains { $0.name == name } }
    }

    /// Takes a Relation message into the cache as the relation of `outboxTable`'s rows, or, when nil, of
    /// another table's rows that map to nothing.
    @discardableResult
    mutating func register(_ relation: PgOutputMessage.Relation, as outboxTable: QualifiedTableName?) throws(DebeziumRecordError) -> Bool {
        guard let table = outboxTable, let notNull = notNullColumns[table] else {
            relations[relation.relationID] = .some(nil)
            return false
        }
        let columns = relation.columns.map { column in
            Column(name: column.name, type: PostgresColumnType(oid: column.typeOID, typmod: column.typeModifier),
                   optional: !notNull.contains(column.name))
        }
        var positions: [String: Int] = [:]
        for (index, column) in columns.enumerated() where positions[column.name] == nil { positions[column.name] = index }
        let missing = namedColumns.filter { positions[$0] == nil }
        guard missing.isEmpty else { throw .columnsMissing(missing, table: table) }
        func schema(_ name: String) -> ConnectSchema? {
            positions[name].flatMap { try? columns[$0].type.connectSchema(optional: columns[$0].optional) }
        }
        do {
            let partition = try OutboxPartitionPlacement(settings: eventRouter, columnSchema: schema)
            let timestamp = try eventRouter.timestampColumn.map { column throws(EventRouterConfigurationError) in
                try EventTimestampField(column: column, schema: schema(column))
            }
            relations[relation.relationID] = Layout(
                columnCount: columns.count, positions: positions, columns: columns, partition: partition, timestamp: timestamp,
                rowSchemaName: OutboxValueBuilder.rowSchemaName(topicPrefix: settings.topicPrefix, schema: table.schema, table: table.name)
            )
        } catch {
            throw .configuration(error)
        }
        return true
    }

    /// The record for an INSERT into the outbox table, or nil for a row of another table; with the warning
    /// Debezium would log for it (a payload left unexpanded).
    mutating func event(for insert: PgOutputMessage.Insert) throws(DebeziumRecordError) -> (OutboxEvent, warning: String?)? {
        guard let cached = relations[insert.relationID], let layout = cached else { return nil }
        let row = insert.newTuple.columns
        guard row.count == layout.columnCount else {
            throw .columnType(.malformed(oid: 0, text: "a row of \(row.count) columns"), column: "(the row)")
        }
        let router = eventRouter
        func value(_ name: String) throws(DebeziumRecordError) -> ConnectValue {
            // Every named column was found at registration.
            let index = layout.positions[name] ?? 0
            let column = layout.columns[index]
            do {
                return try column.type.connectValue(text: row[index].bytes.map { String(decoding: $0, as: UTF8.self) }, optional: column.optional)
            } catch {
                throw .columnType(error, column: name)
            }
        }
        let idData = try value(router.eventIDColumn).data
        let eventID: String = if case .string(let text) = idData { text } else { "(null)" }
        /// The Event Router's own failures on this row, named by the event.
        func routed<T>(_ body: () throws(OutboxRecordError) -> T) throws(DebeziumRecordError) -> T {
            do { return try body() } catch { throw .record(error, eventID: eventID) }
        }
        let routeBy = try value(router.routeByField)
        let routedBy: String? = if case .string(let text) = routeBy.data { text } else { nil }
        let topic = try routed { () throws(OutboxRecordError) in try self.router.topic(forRoutedByValue: routedBy, column: router.routeByField) }
        var version: Int32?
        if let column = router.schemaVersionColumn, case .int32(let number) = try value(column).data { version = number }
        var envelope: [ConnectValue] = []
        for column in values.envelopeColumns { envelope.append(try value(column)) }
        let valueRow = OutboxValueBuilder.Row(
            payload: try value(router.payloadColumn), envelopeValues: envelope, schemaVersion: version,
            routedByValue: routedBy ?? "", rowSchemaName: layout.rowSchemaName
        )
        let output = try routed { () throws(OutboxRecordError) in try values.value(for: valueRow) }
        let headers = try headers(id: try value(router.eventIDColumn), placed: headerPlacements.columns.map(value), eventID: eventID)
        let key = try serialize(try value(router.eventKeyColumn), with: keySerializer, eventID: eventID)
        var recordValue: [UInt8]?
        if let built = output.value { recordValue = try serialize(built, with: valueSerializer, eventID: eventID) }
        var event = OutboxEvent(topic: topic, key: key?[...], value: recordValue?[...], eventID: Array(eventID.utf8)[...])
        event.headers = headers
        event.idHeader = false
        // Debezium Server's sink sends neither the placed partition nor the event timestamp.
        guard settings.sink == .kafkaConnect else { return (event, output.warning) }
        if let placement = layout.partition {
            let data = try value(placement.column).data
            event.partition = try routed { () throws(OutboxRecordError) in try placement.partition(data) }
        }
        if let field = layout.timestamp {
            let data = try value(field.column).data
            event.timestamp = try routed { () throws(OutboxRecordError) in try field.milliseconds(data) }
        }
        return (event, output.warning)
    }

    /// The `__debezium.context.*` headers, `id`, then the placed columns, as the sink writes header values.
    private func headers(id: ConnectValue, placed: [ConnectValue], eventID: String) throws(DebeziumRecordError) -> [KafkaHeader] {
        switch settings.sink {
        case .kafkaConnect, .debeziumServer(headers: .simpleText):
            let text: [KafkaHeader]
            do {
                let idHeader = try SimpleHeaderConverter.headerValue(id.data, name: "id")
                let placedHeaders = try headerPlacements.headers(values: placed.map(\.data))
                text = leadingHeaders + [KafkaHeader(name: "id", value: idHeader)]
                    + placedHeaders.map { KafkaHeader(name: $0.name, value: $0.value) }
            } catch {
                throw .record(error, eventID: eventID)
            }
            // Debezium Server's engine leaves out a header whose converted value is null.
            return settings.sink == .kafkaConnect ? text : text.filter { $0.value != nil }
        case .debeziumServer(headers: .json(let schemas)):
            let json = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": schemas ? "true" : "false"]))
            // Debezium adds the context headers as required strings.
            let context = leadingHeaders.map { header in
                (header.name, ConnectValue(schema: ConnectSchema(type: .string, optional: false), data: .string(String(decoding: header.value ?? [], as: UTF8.self))))
            }
            var headers: [KafkaHeader] = []
            for (name, value) in context + [("id", id)] + zip(headerPlacements.names, placed).map({ ($0, $1) }) {
                headers.append(KafkaHeader(name: name, value: try serialize(value, with: json, eventID: eventID) ?? Array("null".utf8)))
            }
            return headers
        }
    }

    private func serialize(_ value: ConnectValue, with serializer: ConnectRecordSerializer, eventID: String) throws(DebeziumRecordError) -> [UInt8]? {
        do {
            return try serializer.serialize(value)
        } catch {
            throw .serialization(error, eventID: eventID)
        }
    }
}
