/// A Kafka header as a record carries it: a name and bytes, or no value at all.
public struct RecordHeader: Sendable, Equatable {
    public var name: String
    /// nil: a header without a value (Debezium's for a NULL column), not zero-length bytes.
    public var value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}

/// Kafka Connect's `SimpleHeaderConverter`, the worker's default header converter: a header's Connect value
/// as the UTF-8 of `Values.convertToString`. Strings as they are; integers in decimal; booleans
/// `true`/`false`; a Debezium `MicroTimestamp` (an INT64) as its microsecond count (`1714979289123456`);
/// a float or double as Java's `Float.toString`/`Double.toString`; NULL → a header with a null value (envelope-unversioned,
/// additional-placement). Other value classes are refused rather than guessed.
public enum SimpleHeaderConverter {
    public static func headerValue(_ data: ConnectData, name: String) throws(OutboxRecordError) -> [UInt8]? {
        switch data {
        case .null: return nil
        case .string(let text): return Array(text.utf8)
        case .boolean, .int16, .int32, .int64, .float32, .float64:
            // These render without a schema and without failing.
            return (try? JavaToString.render(data, schema: nil)).map { Array($0.utf8) }
        case .bytes, .array, .struct:
            throw .unsupportedHeaderValue(name: name, javaClass: data.javaClassName)
        }
    }
}

/// The `header` placements of `table.fields.additional.placement`: after the EventRouter's `id` header,
/// one header per placement, in placement-config order, named by its alias or else its column
/// (additional-placement: `eventType`, `aggregatetype`).
public struct OutboxHeaderPlacements: Sendable, Equatable {
    /// The columns whose values `headers(values:)` takes, in this order.
    public let columns: [String]
    /// The header names, aligned with `columns`.
    public let names: [String]

    public init(settings: EventRouterSettings) {
        let placed = settings.additionalFields.filter { $0.placement == .header }
        columns = placed.map(\.column)
        names = placed.map(\.alias)
    }

    /// The placement headers for one row; `values` holds the row's values of `columns`, in order.
    public func headers(values: [ConnectData]) throws(OutboxRecordError) -> [RecordHeader] {
        guard values.count == columns.count else { throw .placementValueCount(expected: columns.count, got: values.count) }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(names.count)
        for (name, value) in zip(names, values) {
            headers.append(RecordHeader(name: name, value: try SimpleHeaderConverter.headerValue(value, name: name)))
        }
        return headers
    }
}

/// A `<column>:partition` placement: the record goes to the partition the column names. Debezium reads it
/// with `Struct.getInt32`, so the column must be an `integer`; NULL leaves the partition to the key hash
/// (additional-placement). With several partition placements the last one wins, as in Debezium.
public struct OutboxPartitionPlacement: Sendable, Equatable {
    public let column: String

    /// The last partition placement of `settings`, checked against its column's schema; nil without one.
    public init?(settings: EventRouterSettings, columnSchema: (String) -> ConnectSchema?) throws(EventRouterConfigurationError) {
        guard let placement = settings.additionalFields.last(where: { $0.placement == .partition }) else { return nil }
        try self.init(column: placement.column, schema: columnSchema(placement.column))
    }

    public init(column: String, schema: ConnectSchema?) throws(EventRouterConfigurationError) {
        guard let schema, schema.type == .int32 else {
            throw .partitionColumnType(column: column, found: schema.map(Self.describe) ?? "missing")
        }
        self.column = column
    }

    /// The partition for the column's value; nil for NULL (the producer then hashes the key).
    public func partition(_ data: ConnectData) throws(OutboxRecordError) -> Int32? {
        switch data {
        case .null: return nil
        case .int32(let partition):
            guard partition >= 0 else { throw .negativePartition(partition) }
            return partition
        default:
            throw .dataDoesNotMatchSchema(column: column, expected: "INT32", found: data.javaClassName)
        }
    }

    static func describe(_ schema: ConnectSchema) -> String {
        schema.type.connectName + (schema.name.map { " (\($0))" } ?? "")
    }
}

/// `table.field.event.timestamp`: the Kafka record timestamp from a column. Debezium reads the column with
/// `Struct.getInt64` and scales it by its schema name: `io.debezium.time.Timestamp` as is,
/// `MicroTimestamp` / 1000, `NanoTimestamp` / 1 000 000 (Java's truncating division); NULL falls back to
/// the processing time. Any other column type kills Debezium's task on the first row (a `timestamptz` is a
/// `ZonedTimestamp` string: `Field 'created_at' is not of type INT64`, event-timestamp-timestamptz); here
/// it is refused when the field is made.
public struct EventTimestampField: Sendable, Equatable {
    public let column: String
    private let divisor: Int64

    public init(column: String, schema: ConnectSchema?) throws(EventRouterConfigurationError) {
        guard let schema, schema.type == .int64 else {
            throw .eventTimestampColumnType(column: column, found: schema.map(OutboxPartitionPlacement.describe) ?? "missing")
        }
        switch schema.name {
        case PostgresColumnType.timestampName?: divisor = 1
        case PostgresColumnType.microTimestampName?: divisor = 1_000
        case PostgresColumnType.nanoTimestampName?: divisor = 1_000_000
        // Debezium: `Unsupported field type … for event timestamp` on the first non-null value.
        default: throw .eventTimestampColumnType(column: column, found: OutboxPartitionPlacement.describe(schema))
        }
        self.column = column
    }

    /// The record timestamp in milliseconds since the epoch; nil for NULL (use the processing time, the
    /// change event's `ts_ms`).
    public func milliseconds(_ data: ConnectData) throws(OutboxRecordError) -> Int64? {
        switch data {
        case .null: return nil
        case .int64(let value): return value / divisor
        default: throw .dataDoesNotMatchSchema(column: column, expected: "INT64", found: data.javaClassName)
        }
    }
}
