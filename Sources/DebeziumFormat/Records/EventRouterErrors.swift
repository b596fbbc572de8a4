/// An EventRouter setting that cannot work with the outbox table. Debezium finds most of these only when the
/// first row arrives, and its task dies then; outbox-cdc can refuse them before streaming. Each description
/// names the EventRouter key to fix.
public enum EventRouterConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `route.topic.regex` does not compile (Kafka Connect's `RegexRouter` fails to start).
    case invalidTopicRegex(pattern: String, reason: String)
    /// `route.topic.replacement` is not a valid Java `Matcher` replacement for the regex (Java throws on the
    /// first record that matches).
    case invalidTopicReplacement(replacement: String, reason: String)
    /// `table.field.event.timestamp` names a column that is not an INT64 with a Debezium time name
    /// (a `timestamptz` is an `io.debezium.time.ZonedTimestamp` string): Debezium's task dies with
    /// `DataException: Field '<column>' is not of type INT64` (event-timestamp-timestamptz).
    case eventTimestampColumnType(column: String, found: String)
    /// `table.fields.additional.placement` puts a non-INT32 column into `partition`
    /// (`Struct.getInt32` throws `Field '<column>' is not of type INT32`).
    case partitionColumnType(column: String, found: String)
    /// `table.field.event.schema.version` names a non-INT32 column (`Struct.getInt32` throws).
    case schemaVersionColumnType(column: String, found: String)
    /// Two envelope placements share a name, or one is named `payload` (Kafka's `SchemaBuilder` refuses a
    /// duplicate field name).
    case duplicateEnvelopeField(name: String)

    public var description: String {
        switch self {
        case .invalidTopicRegex(let pattern, let reason):
            return "route.topic.regex \"\(pattern)\" is not a valid regular expression: \(reason)"
        case .invalidTopicReplacement(let replacement, let reason):
            return "route.topic.replacement \"\(replacement)\" is not valid for route.topic.regex: \(reason)"
        case .eventTimestampColumnType(let column, let found):
            return "table.field.event.timestamp: Field '\(column)' is not of type INT64 (it is \(found)); Debezium takes only"
                + " timestamp without time zone (io.debezium.time.Timestamp/MicroTimestamp/NanoTimestamp) and its task would die"
        case .partitionColumnType(let column, let found):
            return "table.fields.additional.placement: Field '\(column)' is not of type INT32 (it is \(found)); a partition"
                + " placement needs an integer column"
        case .schemaVersionColumnType(let column, let found):
            return "table.field.event.schema.version: Field '\(column)' is not of type INT32 (it is \(found))"
        case .duplicateEnvelopeField(let name):
            return "table.fields.additional.placement: the value envelope would have two fields named \"\(name)\""
        }
    }
}

/// Why one outbox row cannot become a record. Where Debezium meets the same row its task dies, so the caller
/// should stop rather than skip (skipping would publish what Debezium never did).
public enum OutboxRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `route.by.field` column is NULL: Kafka Connect's `RegexRouter` throws a NullPointerException.
    case routeByValueIsNull(column: String)
    /// A value does not fit the Connect schema it is put under (`Struct.put`'s `DataException`), e.g. an
    /// expanded payload whose schema differs from the one cached for its schema version.
    case envelopeValueRejected(field: String, reason: String)
    /// The envelope needs the payload's schema, and an expanded payload came out without one (Debezium:
    /// `SchemaBuilderException: fieldSchema for field payload cannot be null` or an NPE in its cache).
    case envelopeWithoutPayloadSchema
    /// The caller passed a different number of values than there are placements of that kind.
    case placementValueCount(expected: Int, got: Int)
    /// A partition placement's value is negative (the Java producer's `Invalid partition`).
    case negativePartition(Int32)
    /// An expanded JSON payload nests deeper than `JSONPayloadExpander.maximumExpansionDepth`: Debezium
    /// would expand it (up to 1000 levels), outbox-cdc does not, so the row cannot be reproduced.
    case payloadTooDeepToExpand(depth: Int, limit: Int)
    /// A header value's type has no reproducible `SimpleHeaderConverter` text here.
    case unsupportedHeaderValue(name: String, javaClass: String)
    /// A value's data does not match the type its schema declares (a caller error).
    case dataDoesNotMatchSchema(column: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .routeByValueIsNull(let column):
            return "route.by.field column \(column) is NULL; Debezium's RegexRouter fails the task on such a row"
        case .envelopeValueRejected(let field, let reason):
            return "the value envelope's field \(field) rejects the row's value: \(reason)"
        case .envelopeWithoutPayloadSchema:
            return "the expanded JSON payload has no schema, which the value envelope needs (Debezium fails the task)"
        case .placementValueCount(let expected, let got):
            return "expected \(expected) placement values, got \(got)"
        case .negativePartition(let partition):
            return "Invalid partition: \(partition)"
        case .payloadTooDeepToExpand(let depth, let limit):
            return "the JSON payload nests \(depth) levels deep; table.expand.json.payload is reproduced up to \(limit) levels"
        case .unsupportedHeaderValue(let name, let javaClass):
            return "header \(name): no reproducible text for a \(javaClass) value"
        case .dataDoesNotMatchSchema(let column, let expected, let found):
            return "column \(column): the value is a \(found), its schema says \(expected)"
        }
    }
}
