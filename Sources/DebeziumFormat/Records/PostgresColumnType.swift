/// A PostgreSQL column as Debezium's PostgreSQL connector types it for Kafka Connect, under its defaults
/// (`time.precision.mode=adaptive`, `binary.handling.mode=bytes`): the Connect schema of the column and the
/// Connect value of its text output (pgoutput sends text). These are what the EventRouter places into the
/// value envelope, headers, partition and record timestamp.
///
/// Only the types an outbox table plausibly places are supported; others are refused with
/// `PostgresValueError.unsupportedType` rather than guessed.
public struct PostgresColumnType: Sendable, Hashable {
    /// `pg_type.oid`, as pgoutput's Relation message gives it.
    public var oid: UInt32
    /// `atttypmod` (-1 when the type has none): a `timestamp(p)`'s precision.
    public var typmod: Int32

    public init(oid: UInt32, typmod: Int32 = -1) {
        self.oid = oid
        self.typmod = typmod
    }

    public static let boolean = PostgresColumnType(oid: 16)
    public static let bytea = PostgresColumnType(oid: 17)
    public static let int8 = PostgresColumnType(oid: 20)
    public static let int2 = PostgresColumnType(oid: 21)
    public static let int4 = PostgresColumnType(oid: 23)
    public static let text = PostgresColumnType(oid: 25)
    public static let json = PostgresColumnType(oid: 114)
    public static let float8 = PostgresColumnType(oid: 701)
    public static let bpchar = PostgresColumnType(oid: 1042)
    public static let varchar = PostgresColumnType(oid: 1043)
    public static let timestamp = PostgresColumnType(oid: 1114)
    public static let timestamptz = PostgresColumnType(oid: 1184)
    public static let uuid = PostgresColumnType(oid: 2950)
    public static let jsonb = PostgresColumnType(oid: 3802)

    /// Debezium's time schema names (each version 1).
    static let timestampName = "io.debezium.time.Timestamp"
    static let microTimestampName = "io.debezium.time.MicroTimestamp"
    static let nanoTimestampName = "io.debezium.time.NanoTimestamp"

    /// Under `adaptive`, `timestamp(0…3)` is milliseconds (`io.debezium.time.Timestamp`), `timestamp(4…6)`
    /// and a plain `timestamp` microseconds (`io.debezium.time.MicroTimestamp`).
    private var timestampIsMilliseconds: Bool { typmod >= 0 && typmod <= 3 }

    /// The Connect schema Debezium gives the column; `optional` is the column's nullability.
    public func connectSchema(optional: Bool) throws(PostgresValueError) -> ConnectSchema {
        switch oid {
        case Self.boolean.oid: return ConnectSchema(type: .boolean, optional: optional)
        case Self.bytea.oid: return ConnectSchema(type: .bytes, optional: optional)
        case Self.int2.oid: return ConnectSchema(type: .int16, optional: optional)
        case Self.int4.oid: return ConnectSchema(type: .int32, optional: optional)
        case Self.int8.oid: return ConnectSchema(type: .int64, optional: optional)
        case Self.float8.oid: return ConnectSchema(type: .float64, optional: optional)
        case Self.text.oid, Self.varchar.oid, Self.bpchar.oid: return ConnectSchema(type: .string, optional: optional)
        case Self.json.oid, Self.jsonb.oid: return .json(optional: optional)
        case Self.uuid.oid: return ConnectSchema(type: .string, optional: optional, name: "io.debezium.data.Uuid", version: 1)
        case Self.timestamp.oid:
            let name = timestampIsMilliseconds ? Self.timestampName : Self.microTimestampName
            return ConnectSchema(type: .int64, optional: optional, name: name, version: 1)
        // Its schema is known (and makes `table.field.event.timestamp` fail as in Debezium); its value's
        // ISO-8601 text is not reproduced here.
        case Self.timestamptz.oid:
            return ConnectSchema(type: .string, optional: optional, name: "io.debezium.time.ZonedTimestamp", version: 1)
        default: throw .unsupportedType(oid: oid)
        }
    }

    /// The Connect value of the column's text output (nil for NULL).
    public func connectData(text: String?) throws(PostgresValueError) -> ConnectData {
        guard let text else { return .null }
        switch oid {
        case Self.boolean.oid:
            switch text {
            case "t": return .boolean(true)
            case "f": return .boolean(false)
            default: throw .malformed(oid: oid, text: text)
            }
        case Self.bytea.oid:
            guard let bytes = HexText.bytea(Array(text.utf8)[...]) else { throw .malformed(oid: oid, text: text) }
            return .bytes(bytes)
        case Self.int2.oid: return .int16(try Self.integer(text, oid: oid))
        case Self.int4.oid: return .int32(try Self.integer(text, oid: oid))
        case Self.int8.oid: return .int64(try Self.integer(text, oid: oid))
        case Self.float8.oid:
            // PostgreSQL writes `Infinity`, `-Infinity` and `NaN`, which Swift reads too.
            guard let value = Double(text) else { throw .malformed(oid: oid, text: text) }
            return .float64(value)
        case Self.text.oid, Self.varchar.oid, Self.bpchar.oid, Self.json.oid, Self.jsonb.oid, Self.uuid.oid:
            return .string(text)
        case Self.timestamp.oid:
            let micros: Int64
            do {
                micros = try DebeziumTimestamp.epochMicroseconds(text)
            } catch {
                throw .timestamp(error)
            }
            // Debezium's `Timestamp` holds milliseconds: the text of a `timestamp(0…3)` has no finer digits.
            return .int64(timestampIsMilliseconds ? DebeziumTimestamp.truncatedMilliseconds(micros) : micros)
        default:
            throw .unsupportedType(oid: oid)
        }
    }

    /// Schema and value together.
    public func connectValue(text: String?, optional: Bool) throws(PostgresValueError) -> ConnectValue {
        ConnectValue(schema: try connectSchema(optional: optional), data: try connectData(text: text))
    }

    private static func integer<T: FixedWidthInteger>(_ text: String, oid: UInt32) throws(PostgresValueError) -> T {
        guard let value = T(text) else { throw .malformed(oid: oid, text: text) }
        return value
    }
}

/// Why a column's value cannot be typed as Debezium types it.
public enum PostgresValueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A column type outside `PostgresColumnType`'s list.
    case unsupportedType(oid: UInt32)
    /// The text is not the type's output form.
    case malformed(oid: UInt32, text: String)
    /// A `timestamp` outside what this reproduces (see `PostgresTimestampError`).
    case timestamp(PostgresTimestampError)

    public var description: String {
        switch self {
        case .unsupportedType(let oid): return "PostgreSQL type oid \(oid) is not supported in an EventRouter placement"
        case .malformed(let oid, let text): return "\"\(text)\" is not the text of PostgreSQL type oid \(oid)"
        case .timestamp(let error): return error.description
        }
    }
}
