import Clocks
import DebeziumFormat
import KafkaClient
import PgOutputDecoder
import PostgresLSN
import PostgresNames

/// A session's mapping from rows and logical decoding messages to finished records (topic, key, value,
/// headers, partition, timestamp): outbox-cdc's own, Debezium's Outbox Event Router's, or Debezium's change
/// events of the captured tables.
enum RowMapper: Sendable {
    case native(OutboxEventMapper, messages: LogicalMessageRouter?)
    case debezium(DebeziumOutboxMapper, messages: DebeziumMessageWriter, databaseName: String)
    case changeEvents(ChangeEventMapper, messages: DebeziumMessageWriter, connectorName: String, databaseName: String)

    /// Takes a Relation message into the cache as the relation of `outboxTable`'s rows (nil: another
    /// table's); returns whether it is an outbox (captured) relation.
    mutating func register(_ relation: PgOutputMessage.Relation, as outboxTable: QualifiedTableName?, at lsn: LSN) throws(StreamingError) -> Bool {
        switch self {
        case .native(var mapper, let messages):
            defer { self = .native(mapper, messages: messages) }
            do { return try mapper.register(relation, as: outboxTable) } catch { throw StreamingError(.mapping(error, lsn: lsn)) }
        case .debezium(var mapper, let messages, let databaseName):
            defer { self = .debezium(mapper, messages: messages, databaseName: databaseName) }
            do { return try mapper.register(relation, as: outboxTable) } catch { throw StreamingError(.debeziumRecord(error, lsn: lsn)) }
        case .changeEvents(var mapper, let messages, let connectorName, let databaseName):
            defer { self = .changeEvents(mapper, messages: messages, connectorName: connectorName, databaseName: databaseName) }
            do { try mapper.register(relation, captured: outboxTable) } catch { throw StreamingError(.debeziumRecord(error, lsn: lsn)) }
            return outboxTable != nil
        }
    }

    /// What the catalog must say before a Relation message of `table`, an outbox (captured) table, can be
    /// taken: Debezium's records need facts pgoutput does not send, read at the start for the tables known
    /// then.
    func catalogQuestion(before relation: PgOutputMessage.Relation, of table: QualifiedTableName) -> CatalogQuestion? {
        switch self {
        case .native: nil
        case .debezium(let mapper, _, _): mapper.knowsColumns(of: table) ? nil : .notNullColumns(table)
        case .changeEvents(let mapper, _, _, _): mapper.needsCatalog(for: relation, table: table) ? .capturedTable(table) : nil
        }
    }

    /// Takes the catalog's answer to `catalogQuestion`.
    mutating func learn(_ answer: CatalogAnswer, about table: QualifiedTableName) {
        switch (self, answer) {
        case (.debezium(var mapper, let messages, let databaseName), .notNullColumns(let columns)):
            mapper.learnNotNullColumns(columns, of: table)
            self = .debezium(mapper, messages: messages, databaseName: databaseName)
        case (.changeEvents(var mapper, let messages, let connectorName, let databaseName), .capturedTable(let captured?)):
            mapper.learn(captured)
            self = .changeEvents(mapper, messages: messages, connectorName: connectorName, databaseName: databaseName)
        default:
            break
        }
    }

    /// Whether the relation has every column the format reads.
    func fits(_ relation: PgOutputMessage.Relation) -> Bool {
        switch self {
        case .native(let mapper, _): mapper.fits(relation)
        case .debezium(let mapper, _, _): mapper.fits(relation)
        // Change events describe whatever columns a table has.
        case .changeEvents: true
        }
    }

    /// Every change of a captured table is published (creates, updates, deletes, truncates), not only inserts.
    var publishesChangeEvents: Bool {
        if case .changeEvents = self { true } else { false }
    }

    /// The record for an INSERT into the outbox table (nil for other tables), and a warning to log.
    mutating func event(for insert: PgOutputMessage.Insert, at lsn: LSN) throws(StreamingError) -> (OutboxEvent, warning: String?)? {
        switch self {
        case .native(var mapper, let messages):
            defer { self = .native(mapper, messages: messages) }
            let event: OutboxEvent?
            do { event = try mapper.event(for: insert) } catch { throw StreamingError(.mapping(error, lsn: lsn)) }
            return event.map { (Self.withIDHeader($0), nil) }
        case .debezium(var mapper, let messages, let databaseName):
            defer { self = .debezium(mapper, messages: messages, databaseName: databaseName) }
            do { return try mapper.event(for: insert) } catch { throw StreamingError(.debeziumRecord(error, lsn: lsn)) }
        case .changeEvents:
            return nil
        }
    }

    /// The change records of a change of a captured table (none for other tables, or for formats that publish
    /// outbox rows), stamped with the time of their processing.
    func changeRecords(
        for change: TableChange, relationID: UInt32, transaction: DebeziumTransactionContext, at lsn: LSN, snapshot: SnapshotMarker = .none
    ) throws(StreamingError) -> [OutboxEvent] {
        guard case .changeEvents(let mapper, _, let connectorName, let databaseName) = self else { return [] }
        var source = ChangeEventSource(
            connectorName: connectorName, database: databaseName, commitMicroseconds: transaction.commitTime,
            transactionID: transaction.transactionID ?? 0, lsn: lsn.rawValue, lastCommitLSN: transaction.lastCommitEndLSN?.rawValue
        )
        source.snapshot = snapshot
        do {
            return try mapper.records(for: change, relationID: relationID, source: source, processedNanoseconds: WallClock.nowNanoseconds())
        } catch {
            throw StreamingError(.debeziumRecord(error, lsn: lsn))
        }
    }

    /// Whether rows of the relation are captured as change events (nil: not known yet, or another format).
    func captures(relationID: UInt32) -> Bool? {
        guard case .changeEvents(let mapper, _, _, _) = self else { return nil }
        return mapper.captures(relationID: relationID)
    }

    /// The record for a logical decoding message, or nil when the format leaves it out.
    func event(for message: PgOutputMessage.LogicalMessage, transaction: DebeziumTransactionContext) throws(StreamingError) -> OutboxEvent? {
        switch self {
        case .native(_, let messages):
            guard let messages else { return nil }
            do { return try messages.event(for: message) } catch { throw StreamingError(.message(error)) }
        case .debezium(_, let messages, let databaseName), .changeEvents(_, let messages, _, let databaseName):
            do {
                return try messages.event(for: message, transaction: transaction, databaseName: databaseName)
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
