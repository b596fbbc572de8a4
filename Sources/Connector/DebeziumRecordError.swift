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
    /// A captured table's change cannot become Debezium's change event (a value not reproduced).
    case changeEvent(ChangeEventValueError, table: QualifiedTableName)
    /// A captured table's column has a type whose change events outbox-cdc does not reproduce.
    case unsupportedColumn(table: QualifiedTableName, column: String, oid: UInt32)

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
        case .changeEvent(let error, let table): return "a change of table \(table): \(error)"
        case .unsupportedColumn(let table, let column, let oid):
            return "column \(column) of table \(table) has a type (oid \(oid)) whose Debezium change-event form outbox-cdc does not"
                + " reproduce; leave the table out of table.include.list or change the column's type"
        }
    }
}
