import DebeziumFormat
import KafkaClient
import PostgresLSN
import PostgresNames
import WALReader

/// What `SessionMachine` asks its driver to do next. The driver carries out exactly one action and reports
/// its outcome back (a message read, a record's fate, a catalog answer) before asking again.
enum SessionAction {
    /// Nothing else is due: wait for the next replication message at most this long.
    case read(timeout: Duration)
    /// Hand this record to librdkafka, and report its `ProduceResult`.
    case produce(RecordToProduce)
    /// librdkafka's queue is full: wait until it has room (at most this long), then call `queueMayHaveRoom`.
    case waitForQueueRoom(Duration)
    /// Tell the server what is confirmed.
    case sendStatus(StatusUpdate)
    /// Run the heartbeat statement (`--heartbeat-interval-ms`) on an ordinary connection.
    case runHeartbeat
    /// The stream cannot go on without this answer from the catalog: ask, and call `answered`.
    case ask(CatalogQuestion)
    /// Something worth logging or counting; changes nothing.
    case notice(SessionNotice)
    /// Stopping: let Kafka acknowledge what is in flight (bounded), feed the outcomes back, send
    /// `finalStatus()`, and end the session.
    case finish
    /// End the run with this error. `drainFirst`: Kafka still works, so what came before may still be
    /// acknowledged and confirmed first, so that less is repeated.
    case fail(ConnectorError, drainFirst: Bool)
    /// End the session and connect again (the next session decides where to resume).
    case reconnect(reason: String)
}

/// One record for librdkafka, and what its acceptance means for the checkpoint.
struct RecordToProduce {
    var event: OutboxEvent
    var owner: Owner
    /// The WAL position of the change it comes from, for logs and error messages.
    var position: LSN
    /// The commit time of its transaction on the server (Unix microseconds, 0 when unknown), for timings.
    var commitTime: Int64
    /// When the walsender sent the message the record comes from, by the server's clock (Unix microseconds, 0
    /// when it came from no stream), for timings.
    var walSentTime: Int64 = 0
    /// A dead letter: if Kafka refuses it too, that is fatal (there is nowhere left to put it).
    var isDeadLetter = false

    enum Owner {
        /// An event of the transaction being read; once librdkafka has it, the change counts as handled.
        case change(CheckpointTracker.Ticket)
        /// A non-transactional logical decoding message: a transaction of its own, confirmed at its position.
        /// The ticket is opened when the record is first offered to librdkafka.
        case ownTransaction(endLSN: LSN, ticket: CheckpointTracker.Ticket?)
        /// A dead letter of a record Kafka refused, completing that record's transaction.
        case refusedRecord(CheckpointTracker.Ticket)
    }

    /// The ticket the record is produced under (once it has one).
    var ticket: CheckpointTracker.Ticket? {
        switch owner {
        case .change(let ticket), .refusedRecord(let ticket): ticket
        case .ownTransaction(_, let ticket): ticket
        }
    }
}

/// A standby status update, with what the driver records as metrics beside it.
struct StatusUpdate: Equatable {
    var confirmed: LSN
    /// Ask the server for a keepalive back (only while nothing is in flight: its WAL end is then confirmed).
    var replyRequested: Bool
    /// The confirmed position moved since the last update.
    var confirmedMoved: Bool
    var slotLagBytes: UInt64
    var eventsInFlight: Int
    var newlyConfirmedTransactions: UInt64
    /// When the oldest event Kafka has not acknowledged committed (Unix microseconds); nil when none waits.
    var oldestUnacknowledgedCommitTime: Int64?
    var stall: AcknowledgementStallWatch.Report?
    /// From taking in the acknowledgement that moved the confirmed position to this update.
    var confirmationDelay: Duration? = nil
    /// When that acknowledgement reached outbox-cdc (Unix microseconds, stamped on the delivery-report
    /// thread): the driver measures from it to the update's sending, outbox-cdc's whole share of the time
    /// between Kafka's acknowledgement and the server's knowing (what a kill -9 repeats beyond what was in
    /// flight). Nil when the position moved without an acknowledgement (a keepalive's WAL end).
    var confirmingAcknowledgementArrivedAt: Int64? = nil
}

/// What the machine needs the catalog for: a relation's role is decided at its first row, and Debezium's
/// records need facts of a table pgoutput does not send.
enum CatalogQuestion: Hashable, Sendable {
    /// What relation id `relationID` (named `name` by the stream) is now, and its ancestors.
    case lineage(relationID: UInt32, name: QualifiedTableName)
    /// How a table is built now (partitioned, and its partitions).
    case shape(QualifiedTableName)
    /// A table's NOT NULL columns (Debezium's record schemas need them).
    case notNullColumns(QualifiedTableName)
    /// A captured table's columns as Debezium's change events describe them.
    case capturedTable(QualifiedTableName)
}

enum CatalogAnswer: Sendable {
    /// The catalog's lineage of the relation (nil: gone), and the outbox table it was a partition or child of
    /// when this run last looked.
    case lineage(RelationLineage?, knownDescendantOf: QualifiedTableName?)
    case shape(OutboxTableShape?)
    case notNullColumns(Set<String>)
    /// Nil: the table no longer exists (the Relation message alone then describes it).
    case capturedTable(CapturedTable?)
}

/// Things worth a log line or a metric. The driver says them; the machine's decisions do not depend on them.
enum SessionNotice {
    /// Kafka acknowledged an event of a transaction whose commit time is known.
    case acknowledged(AcknowledgementTiming)
    case relationDescribed(QualifiedTableName, relationID: UInt32, isOutbox: Bool)
    /// Kafka did not take a heartbeat record: worth a warning, nothing more (the next beat comes).
    case heartbeatNotDelivered(String)
    /// The role of a relation other than an outbox table, the first time this run sees it.
    case relationRole(RelationRole, relationID: UInt32, position: LSN)
    case mappingWarning(String, eventID: String, position: LSN)
    case rowIgnored(table: String, reason: IgnoredRowReason)
    case outboxTruncated(position: LSN)
    case finishingTransactionBeforeStop
    /// An event that cannot be published, skipped under `--on-error skip`.
    case skipped(eventID: String, position: LSN, error: ConnectorError, table: QualifiedTableName?)
    /// A record Kafka refused in a delivery report, skipped under `--on-error skip`.
    case skippedRefusedRecord(eventID: String, topic: String, error: String, lsn: LSN?)
    /// An event that cannot be published, sent to the dead-letter topic.
    case deadLettered(eventID: String, position: LSN, error: ConnectorError, topic: String)
    /// A record Kafka refused in a delivery report, sent to the dead-letter topic.
    case refusedRecordDeadLettered(eventID: String, reason: String, topic: String)
    case streamedTransactionCommitted(transactionID: UInt32, changes: Int, position: LSN)
    case streamedTooMuch(heldBytes: Int, position: LSN)
    /// A transaction a broken session had begun is read again: its first `passedOver` changes were handled.
    case transactionContinued(transactionID: UInt32, passedOver: Int, commitLSN: LSN)
}
