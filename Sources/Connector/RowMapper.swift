import KafkaClient
import PgOutputDecoder
import PostgresLSN
import PostgresNames

/// A session's mapping from outbox rows and logical decoding messages to finished records (topic, key,
/// value, headers, partition, timestamp): outbox-cdc's own, or Debezium's.
enum RowMapper: Sendable {
    case native(OutboxEventMapper, messages: LogicalMessageRouter?)
    case debezium(DebeziumOutboxMapper, databaseName: String)

    /// Takes a Relation message into the cache as the relation of `outboxTable`'s rows (nil: another
    /// table's); returns whether it is an outbox relation.
    mutating func register(_ relation: PgOutputMessage.Relation, as outboxTable: QualifiedTableName?, at lsn: LSN) throws(StreamingError) -> Bool {
        switch self {
        case .native(var mapper, let messages):
            defer { self = .native(mapper, messages: messages) }
            do { return try mapper.register(relation, as: outboxTable) } catch { throw StreamingError(.mapping(error, lsn: lsn)) }
        case .debezium(var mapper, let databaseName):
            defer { self = .debezium(mapper, databaseName: databaseName) }
            do { return try mapper.register(relation, as: outboxTable) } catch { throw StreamingError(.debeziumRecord(error, lsn: lsn)) }
        }
    }

    /// Debezium's records need a table's NOT NULL columns, read at the start for the tables known then.
    func needsNotNullColumns(of table: QualifiedTableName) -> Bool {
        guard case .debezium(let mapper, _) = self else { return false }
        return !mapper.knowsColumns(of: table)
    }

    mutating func learnNotNullColumns(_ columns: Set<String>, of table: QualifiedTableName) {
        guard case .debezium(var mapper, let databaseName) = self else { return }
        mapper.learnNotNullColumns(columns, of: table)
        self = .debezium(mapper, databaseName: databaseName)
    }

    /// Whether the relation has every column the format reads.
    func fits(_ relation: PgOutputMessage.Relation) -> Bool {
        switch self {
        case .native(let mapper, _): mapper.fits(relation)
        case .debezium(let mapper, _): mapper.fits(relation)
        }
    }

    /// The record for an INSERT into the outbox table (nil for other tables), and a warning to log.
    mutating func event(for insert: PgOutputMessage.Insert, at lsn: LSN) throws(StreamingError) -> (OutboxEvent, warning: String?)? {
        switch self {
        case .native(var mapper, let messages):
            defer { self = .native(mapper, messages: messages) }
            let event: OutboxEvent?
            do { event = try mapper.event(for: insert) } catch { throw StreamingError(.mapping(error, lsn: lsn)) }
            return event.map { (Self.withIDHeader($0), nil) }
        case .debezium(var mapper, let databaseName):
            defer { self = .debezium(mapper, databaseName: databaseName) }
            do { return try mapper.event(for: insert) } catch { throw StreamingError(.debeziumRecord(error, lsn: lsn)) }
        }
    }

    /// The record for a logical decoding message, or nil when the format leaves it out.
    func event(for message: PgOutputMessage.LogicalMessage, transaction: DebeziumOutboxMapper.TransactionContext) throws(StreamingError) -> OutboxEvent? {
        switch self {
        case .native(_, let messages):
            guard let messages else { return nil }
            do { return try messages.event(for: message) } catch { throw StreamingError(.message(error)) }
        case .debezium(let mapper, let databaseName):
            do {
                return try mapper.event(for: message, transaction: transaction, databaseName: databaseName)
            } catch {
                throw StreamingError(.debeziumRecord(error, lsn: message.lsn))
            }
        }
    }

    /// outbox-cdc's own records carry the event id first, as the Event Router's `id` header.
    private static func withIDHeader(_ event: OutboxEvent) -> OutboxEvent {
        guard event.idHeader else { return event }
        var event = event
        event.headers.insert(KafkaHeader(name: "id", value: event.eventID.map(Array.init)), at: 0)
        event.idHeader = false
        return event
    }
}
