import DebeziumFormat
import KafkaClient
import PgOutputDecoder
import PostgresNames

/// Turns the changes of the captured tables into the records Debezium's PostgreSQL connector writes without
/// an Event Router: change events (`ChangeEventRecordBuilder`), through ExtractNewRecordState when the
/// configuration has it, converted as the Kafka Connect worker converts them (`ChangeEventRecordWriter`).
///
/// A relation's record builder is made from its Relation message, which says the columns as the WAL has
/// them (names, order, types), and from what the catalog says of the table and pgoutput does not
/// (nullability, schema defaults, the primary key, an enum's labels). Lives as long as a session.
struct ChangeEventMapper: Sendable {
    private let settings: ChangeEventSettings
    private let topicPrefix: String
    private let writer: ChangeEventRecordWriter
    /// `skipped.operations`: Debezium drops these changes itself, whatever the publication sends.
    private let skippedOperations: Set<ReplicationSettings.Operation>
    /// The catalog's description of each captured table, read at the start or when a Relation message named a
    /// column or type it did not have.
    private var catalog: [QualifiedTableName: CapturedTable]
    /// The builder of each captured relation; nil for a relation whose rows are not captured.
    private var builders: [UInt32: ChangeEventRecordBuilder?] = [:]

    init(
        records: DebeziumRecordSettings, settings: ChangeEventSettings, skippedOperations: Set<ReplicationSettings.Operation>,
        capturedTables: [QualifiedTableName: CapturedTable]
    ) {
        self.settings = settings
        self.skippedOperations = skippedOperations
        topicPrefix = records.topicPrefix
        writer = ChangeEventRecordWriter(settings: records)
        catalog = capturedTables
    }

    /// Whether the catalog must be read for `relation` first: it is a captured table the catalog as last read
    /// does not describe column for column as the Relation message does (a table created or altered since).
    func needsCatalog(for relation: PgOutputMessage.Relation, table: QualifiedTableName) -> Bool {
        guard let known = catalog[table] else { return true }
        return relation.columns.contains { column in
            guard let fact = known.columns.first(where: { $0.name == column.name }) else { return true }
            return fact.type.type != Self.type(of: column)
        }
    }

    /// What the catalog says of `table` now.
    mutating func learn(_ table: CapturedTable) {
        catalog[QualifiedTableName(schema: table.schema, name: table.name)] = table
    }

    /// Takes a Relation message: a captured table's gets a record builder, any other relation's rows map to
    /// nothing. Types are the Relation's (the WAL's); nullability and key membership are the catalog's column
    /// of the same name, as Debezium takes them, and its default and enum labels where the type is still the
    /// same. A column the catalog does not have (dropped again since the WAL was written) is taken as nullable,
    /// with no default and outside the key; a type whose change events are not reproduced stops.
    mutating func register(_ relation: PgOutputMessage.Relation, captured table: QualifiedTableName?) throws(DebeziumRecordError) {
        guard let table else {
            builders[relation.relationID] = .some(nil)
            return
        }
        let known = catalog[table]
        var columns: [CapturedTable.Column] = []
        for column in relation.columns {
            let type = Self.type(of: column)
            guard let fact = known?.columns.first(where: { $0.name == column.name }) else {
                columns.append(CapturedTable.Column(name: column.name, type: ChangeEventColumnType(type: type, modes: settings.valueModes), optional: true, isKey: false))
                continue
            }
            let sameType = fact.type.type == type
            columns.append(CapturedTable.Column(
                name: column.name,
                type: sameType ? fact.type : ChangeEventColumnType(type: type, enumLabels: fact.type.type.oid == type.oid ? fact.type.enumLabels : nil, modes: settings.valueModes),
                optional: fact.optional, defaultValue: sameType ? fact.defaultValue : nil, isKey: fact.isKey
            ))
        }
        for column in columns where !column.type.isSupported {
            throw .unsupportedColumn(table: table, column: column.name, oid: column.type.type.oid)
        }
        do {
            builders[relation.relationID] = try ChangeEventRecordBuilder(
                table: CapturedTable(schema: table.schema, name: table.name, columns: columns), topicPrefix: topicPrefix,
                delimiter: settings.topicDelimiter, tombstonesOnDelete: settings.tombstonesOnDelete
            )
        } catch {
            throw .changeEvent(error, table: table)
        }
    }

    /// Whether rows of the relation are captured (nil: no Relation message described it yet).
    func captures(relationID: UInt32) -> Bool? {
        builders[relationID].map { $0 != nil }
    }

    /// The records of one change of a captured relation, in Debezium's order; none for another relation's.
    /// `processedNanoseconds` (Unix) is the envelope's processing time.
    func records(
        for change: TableChange, relationID: UInt32, source: ChangeEventSource, processedNanoseconds: Int64
    ) throws(DebeziumRecordError) -> [OutboxEvent] {
        guard let builder = builders[relationID] ?? nil, !(Self.operation(of: change).map(skippedOperations.contains) ?? false) else {
            return []
        }
        let table = QualifiedTableName(schema: builder.table.schema, name: builder.table.name)
        var changeRecords: [ChangeEventRecord]
        do {
            changeRecords = try builder.records(for: change, source: source, processedNanoseconds: processedNanoseconds)
            if let transform = settings.extractNewRecordState {
                var transformed: [ChangeEventRecord] = []
                for record in changeRecords {
                    if let kept = try transform.apply(record) { transformed.append(kept) }
                }
                changeRecords = transformed
            }
        } catch {
            throw .changeEvent(error, table: table)
        }
        var events: [OutboxEvent] = []
        events.reserveCapacity(changeRecords.count)
        for record in changeRecords { events.append(try writer.event(for: record)) }
        return events
    }

    /// The operation `skipped.operations` names a change by: a key-changing update is an update there, though
    /// its records are a delete and a create.
    private static func operation(of change: TableChange) -> ReplicationSettings.Operation? {
        switch change {
        case .insert: .create
        // `skipped.operations` names no snapshot reads.
        case .read: nil
        case .update: .update
        case .delete: .delete
        case .truncate: .truncate
        }
    }

    /// The values of a tuple as the builder takes them: text (outbox-cdc never asks pgoutput for binary).
    static func values(_ tuple: PgOutputMessage.TupleData) -> [ChangeEventColumnValue] {
        tuple.columns.map { column in
            switch column {
            case .null: .null
            case .unchangedToast: .unchangedToast
            case .text(let bytes), .binary(let bytes): .text(String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    private static func type(of column: PgOutputMessage.Relation.Column) -> PostgresColumnType {
        PostgresColumnType(oid: column.typeOID, typmod: column.typeModifier)
    }
}
