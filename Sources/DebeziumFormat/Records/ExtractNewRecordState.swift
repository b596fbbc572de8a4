/// Debezium's `io.debezium.transforms.ExtractNewRecordState` on a change-event record, as 3.6.3 applies it
/// (Fixtures/goldens/unwrap-*, golang-debezium-outbox): the value becomes the `after` row (schema
/// `<prefix>.<schema>.<table>.Value`, not optional), with `add.fields` appended and `add.headers` added after
/// the context headers; a delete follows `delete.tombstone.handling.mode`; Debezium's own tombstone is
/// dropped. Records that are no change event (heartbeats) pass unchanged.
public struct ExtractNewRecordState: Sendable, Equatable {
    /// `delete.tombstone.handling.mode` (goldens unwrap-defaults-schemas, unwrap-options, unwrap-delete-*). Debezium's
    /// own tombstone after a delete is dropped but under `rewrite-with-tombstone`.
    public enum DeleteHandling: String, Sendable, Equatable {
        /// The delete becomes a record whose value is null with the row's (optional) schema (3.6.3's default).
        case tombstone
        /// The delete's `before` row with `__deleted` = `"true"`; creates and updates carry `"false"`.
        case rewrite
        /// `rewrite`, and Debezium's tombstone after the delete is kept.
        case rewriteWithTombstone = "rewrite-with-tombstone"
        /// The delete becomes a Kafka tombstone (a null value without schema).
        case deleteToTombstone = "delete-to-tombstone"
        /// The delete is dropped.
        case drop

        /// Whether creates, updates and deletes carry `__deleted`.
        var rewrites: Bool { self == .rewrite || self == .rewriteWithTombstone }
    }

    /// One `add.fields` entry: an envelope field (`op`, `ts_ms`, …) or a `source.` field, or a source field
    /// named alone (`table`, `lsn`): Debezium looks in the envelope first, then in `source`.
    public struct AddedField: Sendable, Equatable {
        public var name: String

        public init(_ name: String) {
            self.name = name
        }

        /// The field's name in the row: dots become underscores (`source.ts_ms` → `source_ts_ms`).
        var flattenedName: String { name.replacingOccurrences(of: ".", with: "_") }
    }

    public var deleteHandling: DeleteHandling
    public var addedFields: [AddedField]
    public var addedFieldsPrefix: String
    public var addedHeaders: [AddedField]
    public var addedHeadersPrefix: String
    /// `route.by.field`: a row column whose text names the record's topic (the `after` row's, a delete's
    /// `before`; golden unwrap-route-by-field).
    public var routeByField: String?

    public init(
        deleteHandling: DeleteHandling = .tombstone, addedFields: [AddedField] = [], addedFieldsPrefix: String = "__",
        addedHeaders: [AddedField] = [], addedHeadersPrefix: String = "__", routeByField: String? = nil
    ) {
        self.routeByField = routeByField
        self.deleteHandling = deleteHandling
        self.addedFields = addedFields
        self.addedFieldsPrefix = addedFieldsPrefix
        self.addedHeaders = addedHeaders
        self.addedHeadersPrefix = addedHeadersPrefix
    }

    /// The transformed record; nil when the transform drops it.
    public func apply(_ record: ChangeEventRecord) throws(ChangeEventValueError) -> ChangeEventRecord? {
        guard let value = record.value else {
            // Debezium's tombstone after a delete: the delete itself stands for it now, but where kept.
            return deleteHandling == .rewriteWithTombstone ? record : nil
        }
        guard let envelopeSchema = value.schema, envelopeSchema.name?.hasSuffix(".Envelope") == true,
              case .struct(let envelope) = value.data,
              let beforeIndex = envelopeSchema.fieldIndex("before"), let afterIndex = envelopeSchema.fieldIndex("after"),
              let opIndex = envelopeSchema.fieldIndex("op"), let sourceIndex = envelopeSchema.fieldIndex("source"),
              case .string(let op) = envelope[opIndex]
        else { return record }
        let rowSchema = envelopeSchema.fields[afterIndex].schema
        var transformed = record
        if let routeByField, let topic = try Self.topic(routedBy: routeByField, row: envelope[op == "d" ? beforeIndex : afterIndex], schema: rowSchema) {
            transformed.topic = topic
        }
        transformed.trailingHeaders = try addedHeaders.map { header throws(ChangeEventValueError) in
            // Optional, without a default, like the added fields (goldens-server/change-events-unwrap-schemas).
            let found = try Self.lookUp(header, envelope: envelope, schema: envelopeSchema, sourceIndex: sourceIndex)
            var schema = found.schema
            schema.optional = true
            schema.defaultValue = nil
            return (addedHeadersPrefix + header.flattenedName, ConnectValue(schema: schema, data: found.data))
        }
        if op == "d" {
            switch deleteHandling {
            case .tombstone:
                transformed.value = ConnectValue(schema: rowSchema, data: .null)
                return transformed
            case .deleteToTombstone:
                transformed.value = nil
                return transformed
            case .drop:
                return nil
            case .rewrite, .rewriteWithTombstone:
                break
            }
        }
        // A truncate has no row to extract: the SMT drops it (unwrap-truncate).
        let rowIndex = op == "d" ? beforeIndex : afterIndex
        guard case .struct(var row) = envelope[rowIndex] else { return nil }
        var schema = rowSchema
        schema.optional = false
        if deleteHandling.rewrites {
            schema.fields.append(ConnectField(name: "__deleted", schema: ConnectSchema(type: .string, optional: true)))
            row.append(.string(op == "d" ? "true" : "false"))
        }
        for field in addedFields {
            let found = try Self.lookUp(field, envelope: envelope, schema: envelopeSchema, sourceIndex: sourceIndex)
            var fieldSchema = found.schema
            fieldSchema.optional = true
            fieldSchema.defaultValue = nil
            schema.fields.append(ConnectField(name: addedFieldsPrefix + field.flattenedName, schema: fieldSchema))
            row.append(found.data)
        }
        transformed.value = ConnectValue(schema: schema, data: .struct(row))
        return transformed
    }

    /// The topic a row names in `field`; nil (the record keeps its topic) when the value is NULL
    /// (errors-tolerance-all-route). A field that is missing or not text fails the record, as the SMT's
    /// `Struct.getString` does.
    private static func topic(routedBy field: String, row: ConnectData, schema: ConnectSchema) throws(ChangeEventValueError) -> String? {
        guard case .struct(let values) = row, let index = schema.fieldIndex(field), schema.fields[index].schema.type == .string else {
            throw .transformFails("ExtractNewRecordState's route.by.field=\(field) names no text column of this row")
        }
        guard case .string(let topic) = values[index] else { return nil }
        return topic
    }

    /// An envelope or source field's schema and value.
    private static func lookUp(
        _ field: AddedField, envelope: [ConnectData], schema: ConnectSchema, sourceIndex: Int
    ) throws(ChangeEventValueError) -> (schema: ConnectSchema, data: ConnectData) {
        let sourceSchema = schema.fields[sourceIndex].schema
        var name = field.name
        if name.hasPrefix("source.") {
            name.removeFirst("source.".count)
        } else if let index = schema.fieldIndex(name), index != sourceIndex {
            return (schema.fields[index].schema, envelope[index])
        }
        guard let index = sourceSchema.fieldIndex(name), case .struct(let source) = envelope[sourceIndex] else {
            throw .transformFails("ExtractNewRecordState names \(field.name), no field of the change event or its source")
        }
        return (sourceSchema.fields[index].schema, source[index])
    }
}

/// Debezium's heartbeat record (`heartbeat.interval.ms`): topic `<heartbeat.topics.prefix>.<topic.prefix>`,
/// key `{serverName}`, value `{ts_ms}`, written to partition 0 with no headers, passed unchanged by
/// ExtractNewRecordState.
public enum DebeziumHeartbeatRecord {
    public static let defaultTopicsPrefix = "__debezium-heartbeat"

    public static func topic(topicPrefix: String, heartbeatTopicsPrefix: String = defaultTopicsPrefix) -> String {
        heartbeatTopicsPrefix + "." + topicPrefix
    }

    public static func key(topicPrefix: String) -> ConnectValue {
        ConnectValue(
            schema: .struct(name: "io.debezium.connector.common.ServerNameKey", optional: false, version: 1, fields: [
                ConnectField(name: "serverName", schema: ConnectSchema(type: .string, optional: false)),
            ]),
            data: .struct([.string(topicPrefix)])
        )
    }

    /// `milliseconds`: when Debezium made the heartbeat, Unix milliseconds.
    public static func value(milliseconds: Int64) -> ConnectValue {
        ConnectValue(
            schema: .struct(name: "io.debezium.connector.common.Heartbeat", optional: false, version: 1, fields: [
                ConnectField(name: "ts_ms", schema: ConnectSchema(type: .int64, optional: false)),
            ]),
            data: .struct([.int64(milliseconds)])
        )
    }
}
