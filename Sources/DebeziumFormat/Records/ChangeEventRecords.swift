/// A captured table as Debezium's change events describe it: its name and its columns in table order.
public struct CapturedTable: Sendable, Hashable {
    public struct Column: Sendable, Hashable {
        public var name: String
        public var type: ChangeEventColumnType
        /// The column is nullable (from the catalog: pgoutput does not say).
        public var optional: Bool
        /// The schema default Debezium derives from the column's default expression; nil for none.
        public var defaultValue: ConnectData?
        /// Part of the primary key (pgoutput's Relation flag, REPLICA IDENTITY DEFAULT).
        public var isKey: Bool

        public init(name: String, type: ChangeEventColumnType, optional: Bool, defaultValue: ConnectData? = nil, isKey: Bool) {
            self.name = name
            self.type = type
            self.optional = optional
            self.defaultValue = defaultValue
            self.isKey = isKey
        }
    }

    public var schema: String
    public var name: String
    public var columns: [Column]

    public init(schema: String, name: String, columns: [Column]) {
        self.schema = schema
        self.name = name
        self.columns = columns
    }
}

/// One column of a row as pgoutput sent it.
public enum ChangeEventColumnValue: Sendable, Hashable {
    case null
    /// A TOASTed value the change left as it was: pgoutput does not send it.
    case unchangedToast
    case text(String)
}

/// What Debezium's `source` block says of a change: the connector, the database, the transaction and the
/// change's WAL position.
public struct ChangeEventSource: Sendable, Hashable {
    /// `topic.prefix` (the source's `name`).
    public var connectorName: String
    public var database: String
    /// The transaction's commit time on the server, Unix microseconds (`ts_us`; `ts_ms` and `ts_ns` follow).
    public var commitMicroseconds: Int64
    public var transactionID: UInt32
    /// The change message's LSN.
    public var lsn: UInt64
    /// The end LSN of the last transaction committed before this one since the run started; nil before the
    /// first (`sequence` then begins with null).
    public var lastCommitLSN: UInt64?
    /// `source.snapshot`: where a snapshot read stands in the snapshot; `.none` for a streamed change.
    public var snapshot: SnapshotMarker = .none

    public init(connectorName: String, database: String, commitMicroseconds: Int64, transactionID: UInt32, lsn: UInt64, lastCommitLSN: UInt64?) {
        self.connectorName = connectorName
        self.database = database
        self.commitMicroseconds = commitMicroseconds
        self.transactionID = transactionID
        self.lsn = lsn
        self.lastCommitLSN = lastCommitLSN
    }
}

/// `source.snapshot` of a change event: `false` for a streamed change; for a row of the initial snapshot,
/// where it stands (golden change-snapshot: `first`, `true`, `last_in_data_collection`,
/// `first_in_data_collection`, `last`).
public enum SnapshotMarker: String, Sendable, Hashable {
    case none = "false"
    case inProgress = "true"
    case first
    case last
    case firstInDataCollection = "first_in_data_collection"
    case lastInDataCollection = "last_in_data_collection"

    /// A snapshot row's marker as Debezium's relational snapshot sets it: the last row of the last table is
    /// `last`, the first of the first `first`, then the last and first of any table; the snapshot's very
    /// last row is `last` whatever its table (Debezium holds one record back to mark it so).
    public static func of(firstTable: Bool, lastTable: Bool, firstInTable: Bool, lastInTable: Bool, lastOfSnapshot: Bool) -> SnapshotMarker {
        if lastOfSnapshot || (lastInTable && lastTable) { return .last }
        if firstInTable && firstTable { return .first }
        if lastInTable { return .lastInDataCollection }
        if firstInTable { return .firstInDataCollection }
        return .inProgress
    }
}

/// A change of a captured table, as pgoutput carries it, or a row read by the initial snapshot.
public enum TableChange: Sendable, Hashable {
    case insert(new: [ChangeEventColumnValue])
    /// A row of the initial snapshot (op `r`).
    case read(new: [ChangeEventColumnValue])
    /// `old` is the old row under REPLICA IDENTITY FULL (`'O'`), the old key when the key changed (`'K'`),
    /// nil otherwise.
    case update(old: [ChangeEventColumnValue]?, oldIsKeyOnly: Bool, new: [ChangeEventColumnValue])
    /// `old` is the key columns (`'K'`) or the whole row under FULL (`'O'`).
    case delete(old: [ChangeEventColumnValue], oldIsKeyOnly: Bool)
    case truncate
}

/// One record of Debezium's change events, before the converters: the Kafka Connect key and value (nil:
/// a Kafka null) and the headers Debezium puts before its context headers.
public struct ChangeEventRecord: Sendable, Equatable {
    public var topic: String
    public var key: ConnectValue?
    public var value: ConnectValue?
    /// `__debezium.newkey` / `__debezium.oldkey` of a primary-key change: the other key, with its schema, for the
    /// header converter (Kafka Connect's SimpleHeaderConverter writes its JSON text, `keyText`).
    public var leadingHeaders: [(name: String, key: ConnectValue?)]
    /// Headers after the context headers (ExtractNewRecordState's `add.headers`), as Connect values with their
    /// envelope schemas for the header converter.
    public var trailingHeaders: [(name: String, value: ConnectValue)] = []

    public init(topic: String, key: ConnectValue?, value: ConnectValue?, leadingHeaders: [(name: String, key: ConnectValue?)] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.leadingHeaders = leadingHeaders
    }

    public static func == (left: ChangeEventRecord, right: ChangeEventRecord) -> Bool {
        left.topic == right.topic && left.key == right.key && left.value == right.value
            && left.leadingHeaders.map(\.name) == right.leadingHeaders.map(\.name) && left.leadingHeaders.map(\.key) == right.leadingHeaders.map(\.key)
            && left.trailingHeaders.map(\.name) == right.trailingHeaders.map(\.name) && left.trailingHeaders.map(\.value) == right.trailingHeaders.map(\.value)
    }
}

/// Builds Debezium 3.6.3's change-event records (no transform) for one captured table: the
/// `<prefix>.<schema>.<table>` topic, the primary-key struct as key, the envelope as value (`before`,
/// `after`, `source`, `transaction`, `op`, `ts_ms`, `ts_us`, `ts_ns`), a tombstone after each delete, a
/// primary-key change as delete (+ tombstone) and create with the `__debezium.newkey` / `oldkey` headers.
/// Pure: the caller gives the processing time (the envelope's top-level times) and the source facts.
public struct ChangeEventRecordBuilder: Sendable {
    public static let debeziumVersion = "3.6.3.Final"
    /// What Debezium puts in place of an unchanged TOASTed value it was not sent.
    public static let unavailableValuePlaceholder = "__debezium_unavailable_value"

    public let table: CapturedTable
    public let topic: String
    public let tombstonesOnDelete: Bool
    public let keySchema: ConnectSchema?
    public let rowSchema: ConnectSchema
    public let envelopeSchema: ConnectSchema
    private let keyIndices: [Int]

    /// `topicPrefix` and `delimiter` as `topic.prefix` and `topic.delimiter` set them.
    public init(table: CapturedTable, topicPrefix: String, delimiter: String = ".", tombstonesOnDelete: Bool = true) throws(ChangeEventValueError) {
        self.table = table
        self.tombstonesOnDelete = tombstonesOnDelete
        let base = [topicPrefix, table.schema, table.name].joined(separator: delimiter)
        topic = base
        var fields: [ConnectField] = []
        var keyFields: [ConnectField] = []
        var keyIndices: [Int] = []
        for (index, column) in table.columns.enumerated() {
            var schema = try column.type.schema(optional: column.optional)
            schema.defaultValue = column.defaultValue
            fields.append(ConnectField(name: column.name, schema: schema))
            if column.isKey {
                keyFields.append(ConnectField(name: column.name, schema: schema))
                keyIndices.append(index)
            }
        }
        self.keyIndices = keyIndices
        // Schema names keep Debezium's dots, whatever the topic delimiter.
        let schemaBase = "\(topicPrefix).\(table.schema).\(table.name)"
        keySchema = keyFields.isEmpty ? nil : .struct(name: "\(schemaBase).Key", optional: false, fields: keyFields)
        rowSchema = .struct(name: "\(schemaBase).Value", optional: true, fields: fields)
        envelopeSchema = .struct(name: "\(schemaBase).Envelope", optional: false, version: 2, fields: [
            ConnectField(name: "before", schema: rowSchema),
            ConnectField(name: "after", schema: rowSchema),
            ConnectField(name: "source", schema: Self.sourceSchema),
            ConnectField(name: "transaction", schema: Self.transactionSchema),
            ConnectField(name: "op", schema: ConnectSchema(type: .string, optional: false)),
            ConnectField(name: "ts_ms", schema: ConnectSchema(type: .int64, optional: true)),
            ConnectField(name: "ts_us", schema: ConnectSchema(type: .int64, optional: true)),
            ConnectField(name: "ts_ns", schema: ConnectSchema(type: .int64, optional: true)),
        ])
    }

    /// The records of one change. `processedNanoseconds` is Debezium's processing time (Unix ns), the
    /// envelope's top-level `ts_*`.
    public func records(for change: TableChange, source: ChangeEventSource, processedNanoseconds: Int64) throws(ChangeEventValueError) -> [ChangeEventRecord] {
        switch change {
        case .insert(let new):
            let after = try row(new)
            return [record(key: try key(of: new), before: .null, after: after, op: "c", source: source, processed: processedNanoseconds)]
        case .read(let new):
            let after = try row(new)
            return [record(key: try key(of: new), before: .null, after: after, op: "r", source: source, processed: processedNanoseconds)]
        case .update(let old, let oldIsKeyOnly, let new):
            let newKey = try key(of: new)
            let oldKey: ConnectValue?
            if let old { oldKey = try key(of: old) } else { oldKey = nil }
            if let old, oldIsKeyOnly || (keySchema != nil && oldKey != newKey) {
                // The key changed: Debezium sends a delete of the old key (and its tombstone), then a create.
                var records = deleteRecords(key: oldKey, before: try oldRow(old, keyOnly: oldIsKeyOnly), source: source, processed: processedNanoseconds)
                for index in records.indices {
                    records[index].leadingHeaders = [("__debezium.newkey", newKey)]
                }
                var create = record(key: newKey, before: .null, after: try row(new), op: "c", source: source, processed: processedNanoseconds)
                create.leadingHeaders = [("__debezium.oldkey", oldKey)]
                return records + [create]
            }
            var before = ConnectData.null
            if let old { before = try row(old) }
            return [record(key: newKey, before: before, after: try row(new), op: "u", source: source, processed: processedNanoseconds)]
        case .delete(let old, let oldIsKeyOnly):
            return deleteRecords(key: try key(of: old), before: try oldRow(old, keyOnly: oldIsKeyOnly), source: source, processed: processedNanoseconds)
        case .truncate:
            return [record(key: nil, before: .null, after: .null, op: "t", source: source, processed: processedNanoseconds)]
        }
    }

    private func deleteRecords(key: ConnectValue?, before: ConnectData, source: ChangeEventSource, processed: Int64) -> [ChangeEventRecord] {
        var records = [record(key: key, before: before, after: .null, op: "d", source: source, processed: processed)]
        if tombstonesOnDelete {
            records.append(ChangeEventRecord(topic: topic, key: key, value: nil, leadingHeaders: []))
        }
        return records
    }

    private func record(key: ConnectValue?, before: ConnectData, after: ConnectData, op: String, source: ChangeEventSource, processed: Int64) -> ChangeEventRecord {
        let processedMicroseconds = processed / 1_000
        let envelope = ConnectData.struct([
            before, after, sourceData(source, table: table), .null, .string(op),
            .int64(processedMicroseconds / 1_000), .int64(processedMicroseconds), .int64(processed),
        ])
        return ChangeEventRecord(topic: topic, key: key, value: ConnectValue(schema: envelopeSchema, data: envelope), leadingHeaders: [])
    }

    /// The row struct of a whole tuple.
    private func row(_ values: [ChangeEventColumnValue]) throws(ChangeEventValueError) -> ConnectData {
        guard values.count == table.columns.count else { throw .notReproduced(text: "\(values.count) columns", why: "the table has \(table.columns.count)") }
        var data: [ConnectData] = []
        data.reserveCapacity(values.count)
        for (column, value) in zip(table.columns, values) {
            switch value {
            case .null: data.append(.null)
            case .text(let text): data.append(try column.type.data(text: text))
            case .unchangedToast: data.append(try Self.placeholder(for: column.type))
            }
        }
        return .struct(data)
    }

    /// The `before` of a delete or key change: the whole old row under FULL; under DEFAULT the key columns,
    /// and for every other column null, or if it is NOT NULL its schema default or its type's empty value.
    private func oldRow(_ values: [ChangeEventColumnValue], keyOnly: Bool) throws(ChangeEventValueError) -> ConnectData {
        guard keyOnly else { return try row(values) }
        guard case .struct(var data) = try row(values) else { return .null }
        for (index, column) in table.columns.enumerated() where !column.isKey && data[index] == .null && !column.optional {
            data[index] = column.defaultValue ?? Self.emptyValue(of: rowSchema.fields[index].schema)
        }
        return .struct(data)
    }

    private func key(of values: [ChangeEventColumnValue]) throws(ChangeEventValueError) -> ConnectValue? {
        guard let keySchema else { return nil }
        guard case .struct(let data) = try row(values) else { return nil }
        return ConnectValue(schema: keySchema, data: .struct(keyIndices.map { data[$0] }))
    }

    /// The key as SimpleHeaderConverter writes a newkey/oldkey header: its JSON without schema, whatever the
    /// converter.
    public static func keyText(_ key: ConnectValue?) -> String {
        guard let key, let schema = key.schema else { return "null" }
        let serializer = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": "false"]))
        return (try? serializer.serialize(key.data, schema: schema)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    /// The value a NOT NULL column without a default takes in a DEFAULT-identity delete's `before`.
    static func emptyValue(of schema: ConnectSchema) -> ConnectData {
        switch schema.type {
        case .string: .string("")
        case .bytes: .bytes([])
        case .boolean: .boolean(false)
        case .int16: .int16(0)
        case .int32: .int32(0)
        case .int64: .int64(0)
        case .float32: .float32(0)
        case .float64: .float64(0)
        case .array: .array([])
        case .struct: .null
        }
    }

    /// The unchanged-TOAST placeholder in the column's type: its text, its bytes, or an array of its bytes.
    static func placeholder(for type: ChangeEventColumnType) throws(ChangeEventValueError) -> ConnectData {
        let schema = try type.schema(optional: true)
        let bytes = Array(unavailableValuePlaceholder.utf8)
        switch schema.type {
        case .string: return .string(unavailableValuePlaceholder)
        case .bytes: return .bytes(bytes)
        case .array where schema.items?.type == .int32: return .array(bytes.map { .int32(Int32($0)) })
        case .array where schema.items?.type == .string: return .array([.string(unavailableValuePlaceholder)])
        default: throw .notReproduced(text: unavailableValuePlaceholder, why: "an unchanged TOASTed value of this type")
        }
    }

    // MARK: - source and transaction

    static let sourceSchema: ConnectSchema = {
        var snapshot = ConnectSchema(type: .string, optional: true, name: "io.debezium.data.Enum", version: 1)
        snapshot.parameters = [ConnectSchemaParameter("allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental")]
        snapshot.defaultValue = .string("false")
        let string = ConnectSchema(type: .string, optional: false)
        let optionalString = ConnectSchema(type: .string, optional: true)
        let optionalLong = ConnectSchema(type: .int64, optional: true)
        return .struct(name: "io.debezium.connector.postgresql.Source", optional: false, version: 1, fields: [
            ConnectField(name: "version", schema: string), ConnectField(name: "connector", schema: string),
            ConnectField(name: "name", schema: string), ConnectField(name: "ts_ms", schema: ConnectSchema(type: .int64, optional: false)),
            ConnectField(name: "snapshot", schema: snapshot), ConnectField(name: "db", schema: string),
            ConnectField(name: "sequence", schema: optionalString), ConnectField(name: "ts_us", schema: optionalLong),
            ConnectField(name: "ts_ns", schema: optionalLong), ConnectField(name: "schema", schema: string),
            ConnectField(name: "table", schema: string), ConnectField(name: "txId", schema: optionalLong),
            ConnectField(name: "lsn", schema: optionalLong), ConnectField(name: "xmin", schema: optionalLong),
            ConnectField(name: "origin", schema: optionalString), ConnectField(name: "origin_lsn", schema: optionalLong),
        ])
    }()

    static let transactionSchema: ConnectSchema = .struct(name: "event.block", optional: true, version: 1, fields: [
        ConnectField(name: "id", schema: ConnectSchema(type: .string, optional: false)),
        ConnectField(name: "total_order", schema: ConnectSchema(type: .int64, optional: false)),
        ConnectField(name: "data_collection_order", schema: ConnectSchema(type: .int64, optional: false)),
    ])

    private func sourceData(_ source: ChangeEventSource, table: CapturedTable) -> ConnectData {
        // `sequence` is a JSON array of two decimal strings, itself held as a string.
        let last = source.lastCommitLSN.map { "\"\($0)\"" } ?? "null"
        return .struct([
            .string(Self.debeziumVersion), .string("postgresql"), .string(source.connectorName),
            .int64(source.commitMicroseconds / 1_000), .string(source.snapshot.rawValue), .string(source.database),
            .string("[\(last),\"\(source.lsn)\"]"), .int64(source.commitMicroseconds), .int64(source.commitMicroseconds * 1_000),
            .string(table.schema), .string(table.name), .int64(Int64(source.transactionID)), .int64(Int64(bitPattern: source.lsn)),
            .null, .null, .null,
        ])
    }
}
