public import DebeziumFormat
public import PostgresNames

/// Why an outbox row or a message cannot become Debezium's record. Where Debezium's task would die on the
/// row, outbox-cdc stops too, without confirming past it.
public enum DebeziumRecordError: Error, Sendable, CustomStringConvertible {
    case configuration(EventRouterConfigurationError)
    case columnsMissing([String], table: QualifiedTableName)
    case columnType(PostgresValueError, column: String)
    case record(OutboxRecordError, eventID: String)
    case serialization(ConnectSerializationError, eventID: String)
    case message(LogicalDecodingMessageRecord.ValueError, prefix: String)
    case messagePrefixList(key: String, pattern: String)

    public var description: String {
        switch self {
        case .configuration(let error): return "\(error)"
        case .columnsMissing(let columns, let table):
            return "the outbox table \(table) lacks the column(s) \(columns.joined(separator: ", ")) the Event Router settings name"
        case .columnType(let error, let column): return "column \(column): \(error)"
        case .record(let error, let eventID): return "event \(eventID): \(error)"
        case .serialization(let error, let eventID): return "event \(eventID): \(error)"
        case .message(let error, let prefix): return "logical decoding message with prefix '\(prefix)': \(error)"
        case .messagePrefixList(let key, let pattern): return "\(key): '\(pattern)' is not a regular expression"
        }
    }
}
