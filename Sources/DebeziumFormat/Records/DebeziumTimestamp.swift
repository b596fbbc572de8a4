import PostgresWire

/// How Debezium reads PostgreSQL's text output of a `timestamp` (without time zone), as pgoutput sends it
/// under DateStyle ISO (`PostgresTimestamp.init(isoText:)`): as a `LocalDateTime`, counting microseconds
/// since 1970-01-01T00:00 as if it were UTC (`io.debezium.time.MicroTimestamp`), in the proleptic Gregorian
/// calendar PostgreSQL uses too.
public enum DebeziumTimestamp {
    /// Microseconds since the epoch, read as UTC (`2024-05-06 07:08:09.123456` → 1714979289123456).
    public static func epochMicroseconds(_ text: String) throws(PostgresTimestampError) -> Int64 {
        let timestamp: PostgresTimestamp
        do {
            timestamp = try PostgresTimestamp(isoText: text)
        } catch {
            switch error {
            case .infinite: throw .infinity(text)
            case .beforeCommonEra: throw .beforeCommonEra(text)
            case .outOfRange: throw .outOfRange(text)
            case .malformed: throw .malformed(text)
            }
        }
        // Read from text, the time is within 64-bit microseconds since 1970.
        guard let microseconds = timestamp.unixEpochMicroseconds else { throw .outOfRange(text) }
        return microseconds
    }

    /// The Kafka record timestamp Debezium derives from a `MicroTimestamp`: `µs / 1000`, Java's long
    /// division, which truncates toward zero (`1999-12-31 23:59:59.999` → 946684799999).
    public static func truncatedMilliseconds(_ microseconds: Int64) -> Int64 {
        microseconds / 1_000
    }

    /// `table.field.event.timestamp` from the column's text: milliseconds since the epoch, read as UTC.
    public static func epochMilliseconds(_ text: String) throws(PostgresTimestampError) -> Int64 {
        truncatedMilliseconds(try epochMicroseconds(text))
    }
}

/// Why a `timestamp`'s text is not turned into microseconds.
public enum PostgresTimestampError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `infinity` or `-infinity`: Debezium maps these to sentinel values this does not reproduce.
    case infinity(String)
    /// A date before the Common Era (`… BC`), which this does not reproduce.
    case beforeCommonEra(String)
    /// Beyond the range of 64-bit microseconds since 1970.
    case outOfRange(String)
    /// Not `YYYY-MM-DD HH:MM:SS[.ffffff]` (another DateStyle, or not a timestamp).
    case malformed(String)

    public var description: String {
        switch self {
        case .infinity(let text): return "timestamp \(text) is infinite; its Debezium value is not reproduced"
        case .beforeCommonEra(let text): return "timestamp \(text) is before the Common Era; its Debezium value is not reproduced"
        case .outOfRange(let text): return "timestamp \(text) is out of the range of microseconds since 1970"
        case .malformed(let text): return "\"\(text)\" is not a timestamp in DateStyle ISO (YYYY-MM-DD HH:MM:SS[.ffffff])"
        }
    }
}
