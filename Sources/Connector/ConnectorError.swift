public import KafkaClient
public import PgOutputDecoder
public import PostgresLSN
public import PostgresNames
public import WALReader

/// Why the connector stopped. Each description is one line that names the thing to fix.
public enum ConnectorError: Error, Sendable, CustomStringConvertible {
    case postgres(PostgresError)
    case setup(ReplicationSetupError)
    case replicationMessage(ReplicationMessageError, lsn: LSN)
    case decoding(PgOutputDecodingError, lsn: LSN)
    case mapping(OutboxMappingError, lsn: LSN)
    case kafka(KafkaError)
    /// Kafka refused an event for good; the slot stays before it.
    case deliveryFailed(eventID: String, topic: String, error: KafkaError, confirmed: LSN)
    /// The configured converter cannot write this row (as Kafka Connect could not either).
    /// A row or message Debezium's Event Router would have failed on (its task dies there too).
    case debeziumRecord(DebeziumRecordError, lsn: LSN)
    /// A logical decoding message with the outbox prefix that names no topic or has a broken envelope.
    case message(LogicalMessageError)
    /// Under Debezium's configuration: rows of an outbox table arrive under a partition's or child's name,
    /// which Debezium's table filter drops without a word. outbox-cdc stops instead; the slot stays before them.
    case rowsDebeziumWouldDrop(relation: QualifiedTableName, outbox: QualifiedTableName, lsn: LSN)
    /// Under Debezium's change events: a captured table that cannot be described as Debezium would.
    case capturedTable(CapturedTableError)

    /// What is wrong with the row or message, without the advice about the slot.
    var rowProblem: String {
        switch self {
        case .mapping(let error, _): return "\(error)"
        case .debeziumRecord(let error, _): return "\(error)"
        case .message(let error): return "\(error)"
        default: return description
        }
    }

    /// Kafka still works after this error: it is about one event (a row that cannot be mapped, or a record
    /// Kafka refused for what it is), so what came before it may still be acknowledged before stopping.
    var leavesKafkaWorking: Bool {
        switch self {
        case .mapping, .debeziumRecord, .message, .deliveryFailed, .rowsDebeziumWouldDrop: return true
        default: return false
        }
    }

    /// The error is about one row or message (its mapping or encoding), not about Kafka or PostgreSQL.
    var isAboutOneRow: Bool {
        switch self {
        case .mapping, .debeziumRecord, .message: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .postgres(let error):
            switch error.kind {
            case .authenticationFailed:
                if let hint = error.hint {
                    return "PostgreSQL refused the login: \(error.message) (\(hint): check that file, and the user in --db / OUTBOX_CDC_DB)"
                }
                return "PostgreSQL refused the login: \(error.message) (check the user and password in --db / OUTBOX_CDC_DB)"
            case .databaseMissing:
                return "PostgreSQL has no such database: \(error.message) (check the database name in --db / OUTBOX_CDC_DB, or create it)"
            case .roleMissing:
                return "PostgreSQL has no such role: \(error.message) (check the user in --db / OUTBOX_CDC_DB, or CREATE ROLE … LOGIN REPLICATION)"
            case .invalidConnectionOption:
                return "libpq cannot use the connection string: \(error.message) (fix the option in --db / OUTBOX_CDC_DB)"
            case .replicationPermissionDenied:
                return "the database role may not open a replication connection: \(error.message) (ALTER ROLE <role> WITH REPLICATION)"
            case .tlsFailed:
                return "TLS to PostgreSQL failed: \(error.message) (check sslmode, sslrootcert, the host name and sslcert/sslkey in --db)"
            default:
                return "PostgreSQL: \(error)"
            }
        case .setup(let error):
            return error.description
        case .replicationMessage(let error, let lsn):
            return "malformed replication message near \(lsn): \(error)"
        case .decoding(let error, let lsn):
            return "cannot decode the pgoutput message at \(lsn): \(error)"
        case .mapping(let error, let lsn):
            return "cannot map the outbox row at \(lsn): \(error)"
        case .kafka(let error):
            return "Kafka: \(error)"
        case .deliveryFailed(let eventID, let topic, let error, let confirmed):
            return "Kafka refused event \(eventID) for topic \(topic): \(error); the slot stays confirmed at \(confirmed), so a restart publishes it again"
        case .debeziumRecord(let error, let lsn):
            return "cannot write Debezium's record at \(lsn): \(error)"
        case .message(let error):
            return "cannot publish a logical decoding message: \(error)"
        case .capturedTable(let error):
            return error.description
        case .rowsDebeziumWouldDrop(let relation, let outbox, let lsn):
            return "rows of the outbox table \(outbox) arrive at \(lsn) under the name of its partition or child \(relation) (the publication sent them so when they were written), and Debezium 3.6.3 drops such rows without a word because table.include.list does not name \(relation); outbox-cdc stops rather than lose them. The slot stays before them: publish them with outbox-cdc's own format (run it once without --debezium-config on this slot until they are past), or add \(relation.schema).\(relation.name) to table.include.list if Debezium should publish that table's rows"
        }
    }
}
