/// The Kafka Connect value of an outbox record, as the EventRouter builds it from one row: the payload
/// (expanded when `table.expand.json.payload` is on), wrapped in a struct when any column is placed into
/// the `envelope`, or a tombstone under `route.tombstone.on.empty.payload`. Serialize the result with
/// `ConnectRecordSerializer` for the configured value converter.
///
/// It holds state: Debezium caches the envelope's schema for the life of its task, and names it after the
/// route-by value of the first row that built it (see `valueSchema`). Keep one builder per connector run,
/// feed it the rows in commit order, and do not share it across runs.
public struct OutboxValueBuilder: Sendable {
    /// The columns placed into the envelope, in placement order: the row's values for them go into
    /// `Row.envelopeValues` in this order.
    public let envelopeColumns: [String]
    private let envelopeNames: [String]
    private let versioned: Bool
    private let tombstoneOnEmptyPayload: Bool
    private let expander: JSONPayloadExpander?

    /// With `table.field.event.schema.version`: one schema per version number (NULL included).
    private var schemasByVersion: [Int32?: ConnectSchema] = [:]
    /// Without it: one schema per payload schema, in an LRU map of 10 000 entries.
    private var schemasByPayload: [ConnectSchema: (schema: ConnectSchema, lastUse: Int)] = [:]
    private var uses = 0
    /// Debezium's `BoundedConcurrentHashMap(10000, 10, LRU)`. Its ten segments evict within a segment chosen
    /// by Java hash codes; this evicts the least recently used entry overall.
    static let payloadSchemaCacheSize = 10_000

    public init(settings: EventRouterSettings) throws(EventRouterConfigurationError) {
        let placed = settings.additionalFields.filter { $0.placement == .envelope }
        var seen: Set<String> = ["payload"]
        for field in placed where !seen.insert(field.alias).inserted {
            throw .duplicateEnvelopeField(name: field.alias)
        }
        envelopeColumns = placed.map(\.column)
        envelopeNames = placed.map(\.alias)
        versioned = settings.schemaVersionColumn != nil
        tombstoneOnEmptyPayload = settings.tombstoneOnEmptyPayload
        expander = settings.expandJSONPayload ? JSONPayloadExpander(settings: settings) : nil
    }

    /// The schema name of a row of `<schema>.<table>` (Debezium's `after` struct): `<topic.prefix>.<schema>.<table>.Value`.
    public static func rowSchemaName(topicPrefix: String, schema: String, table: String) -> String {
        "\(topicPrefix).\(schema).\(table).Value"
    }

    /// What one row contributes to the value.
    public struct Row: Sendable {
        /// The payload column's schema (from its type and nullability) and value.
        public var payload: ConnectValue
        /// The values of `envelopeColumns`, in order, each with its column's schema.
        public var envelopeValues: [ConnectValue]
        /// The `table.field.event.schema.version` column's value, when that key is set.
        public var schemaVersion: Int32?
        /// The `route.by.field` value (e.g. `Order`): the envelope schema's name includes it.
        public var routedByValue: String
        /// `rowSchemaName(topicPrefix:schema:table:)` of the row's table.
        public var rowSchemaName: String

        public init(payload: ConnectValue, envelopeValues: [ConnectValue] = [], schemaVersion: Int32? = nil,
                    routedByValue: String, rowSchemaName: String) {
            self.payload = payload
            self.envelopeValues = envelopeValues
            self.schemaVersion = schemaVersion
            self.routedByValue = routedByValue
            self.rowSchemaName = rowSchemaName
        }
    }

    /// The value of one record.
    public struct Output: Sendable, Equatable {
        /// The record value; nil for a tombstone (a Kafka null value; key and headers are kept).
        public var value: ConnectValue?
        /// Debezium's WARN line about the JSON expansion, if it logged one for this row.
        public var warning: String?
    }

    /// Builds the value of one row, in Debezium's order: expand the payload, look up (or build and cache)
    /// the envelope schema, fill the envelope, then decide on a tombstone. The cache is updated even for a
    /// row that becomes a tombstone, as in Debezium.
    public mutating func value(for row: Row) throws(OutboxRecordError) -> Output {
        let expanded = try expander?.expand(row.payload) ?? JSONPayloadExpander.Result(value: row.payload, warning: nil)
        let payload = expanded.value
        var value = payload
        if !envelopeNames.isEmpty {
            guard row.envelopeValues.count == envelopeNames.count else {
                throw .placementValueCount(expected: envelopeNames.count, got: row.envelopeValues.count)
            }
            let schema = try valueSchema(for: row, payloadSchema: payload.schema)
            var values = [ConnectData](repeating: .null, count: schema.fields.count)
            try put("payload", payload, into: &values, of: schema)
            for (name, fieldValue) in zip(envelopeNames, row.envelopeValues) {
                try put(name, fieldValue, into: &values, of: schema)
            }
            value = ConnectValue(schema: schema, data: .struct(values))
        }
        if tombstoneOnEmptyPayload, Self.isEmptyPayload(payload.data) {
            return Output(value: nil, warning: expanded.warning)
        }
        return Output(value: value, warning: expanded.warning)
    }

    /// `route.tombstone.on.empty.payload`'s test, `payload == null || payload.toString().trim().isEmpty()`:
    /// NULL, and a string of nothing but characters ≤ U+0020 (tombstone-text: `''`, `'   '`, `E'\n\t'`).
    /// A bytea or an expanded struct never prints empty in Java, so only NULL makes those a tombstone.
    public static func isEmptyPayload(_ payload: ConnectData) -> Bool {
        switch payload {
        case .null: return true
        case .string(let text): return JavaString.trimsToEmpty(text)
        default: return false
        }
    }

    /// The envelope schema, as `EventRouterDelegate.getValueSchema` caches it. A new schema is named
    /// `<topic.prefix>.<schema>.<table>.<route-by value>.Value` and holds `payload` (the payload's current
    /// schema) and the envelope columns' schemas, and is optional: false. Cached:
    /// - with a schema-version column, per version number for the builder's life, NULL version included
    ///   (with no `version` member): later rows of another aggregate type reuse the first one's name
    ///   (additional-placement: Customer rows with version 1 named `…Order.Value`);
    /// - without one, per payload schema: for an unexpanded payload that is one schema per table, named
    ///   after the first route-by value seen (envelope-unversioned).
    private mutating func valueSchema(for row: Row, payloadSchema: ConnectSchema?) throws(OutboxRecordError) -> ConnectSchema {
        if versioned {
            if let schema = schemasByVersion[row.schemaVersion] { return schema }
            let schema = try buildSchema(for: row, payloadSchema: payloadSchema, version: row.schemaVersion)
            schemasByVersion[row.schemaVersion] = schema
            return schema
        }
        // Debezium's map takes no null key.
        guard let payloadSchema else { throw .envelopeWithoutPayloadSchema }
        uses += 1
        if let cached = schemasByPayload[payloadSchema] {
            schemasByPayload[payloadSchema] = (cached.schema, uses)
            return cached.schema
        }
        let schema = try buildSchema(for: row, payloadSchema: payloadSchema, version: nil)
        if schemasByPayload.count >= Self.payloadSchemaCacheSize,
           let oldest = schemasByPayload.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            schemasByPayload[oldest] = nil
        }
        schemasByPayload[payloadSchema] = (schema, uses)
        return schema
    }

    private func buildSchema(for row: Row, payloadSchema: ConnectSchema?, version: Int32?) throws(OutboxRecordError) -> ConnectSchema {
        guard let payloadSchema else { throw .envelopeWithoutPayloadSchema }
        var fields = [ConnectField(name: "payload", schema: payloadSchema)]
        for (name, value) in zip(envelopeNames, row.envelopeValues) {
            guard let schema = value.schema else {
                throw .envelopeValueRejected(field: name, reason: "the column's schema is missing")
            }
            fields.append(ConnectField(name: name, schema: schema))
        }
        return .struct(name: Self.envelopeName(rowSchemaName: row.rowSchemaName, routedByValue: row.routedByValue),
                       optional: false, version: version.map(Int.init), fields: fields)
    }

    /// `getSchemaName`: the route-by value inserted before the row schema name's last segment.
    static func envelopeName(rowSchemaName: String, routedByValue: String) -> String {
        guard let lastDot = rowSchemaName.lastIndex(of: ".") else { return routedByValue + "." + rowSchemaName }
        return rowSchemaName[...lastDot] + routedByValue + "." + rowSchemaName[rowSchemaName.index(after: lastDot)...]
    }

    /// `Struct.put(name, value)`: the field must exist in the (possibly cached) schema and take the value.
    private func put(_ name: String, _ value: ConnectValue, into values: inout [ConnectData], of schema: ConnectSchema) throws(OutboxRecordError) {
        guard let index = schema.fieldIndex(name) else {
            throw .envelopeValueRejected(field: name, reason: "\(name) is not a valid field name")
        }
        let fieldSchema = schema.fields[index].schema
        switch value.data {
        case .null:
            guard fieldSchema.optional else {
                throw .envelopeValueRejected(field: name, reason: "Invalid value: null used for required field: \"\(name)\"")
            }
        // A Struct or List is accepted only under the schema it was built for.
        case .struct, .array:
            guard value.schema == fieldSchema else {
                throw .envelopeValueRejected(field: name, reason: "Struct schemas do not match.")
            }
        default:
            guard ConnectSchemaCheck.accepts(fieldSchema.type, value.data) else {
                throw .envelopeValueRejected(
                    field: name,
                    reason: "Invalid Java object for schema with type \(fieldSchema.type.connectName): \(value.data.javaClassName) for field: \"\(name)\"")
            }
        }
        values[index] = value.data
    }
}
