public import DebeziumFormat
import KafkaClient
public import PostgresNames
public import WALReader

/// Everything the connector needs to stream one outbox table to Kafka.
public struct ConnectorConfiguration: Sendable {
    public var database: ConnectionSettings
    /// Kafka bootstrap servers, `host:port[,host:port…]`.
    public var brokers: String
    public var slot: String
    public var publication: String
    public var table: QualifiedTableName
    /// Further outbox tables of the same layout (Debezium's `table.include.list` may name several).
    public var additionalTables: [QualifiedTableName] = []
    /// Debezium's `table.include.list`: the outbox tables are the ones it matches, found in the catalog at each
    /// start, and a relation of the stream is an outbox relation when its name matches (as in Debezium).
    /// `table` and `additionalTables` are then superseded.
    public var debeziumTableIncludeList: TableIncludeList?
    /// Create the publication and the slot when missing.
    public var createMissing: Bool
    /// librdkafka properties given by the user; they override `KafkaProducer.defaultConfiguration`.
    public var kafkaProperties: [String: String]
    /// How often a standby status update reports the confirmed position.
    public var statusInterval: Duration
    /// How long a shutdown waits for Kafka to acknowledge what is in flight.
    public var shutdownTimeout: Duration
    /// The pgoutput protocol version; nil picks the highest the server speaks.
    public var protocolVersion: Int?
    public var reconnectBackoff: Backoff
    /// How often a standby instance checks whether the slot has been released.
    public var standbyPollInterval: Duration
    /// Which of the outbox table's columns make which part of a record.
    public var tableFormat: OutboxTableFormat
    /// When the slot is created: first publish the rows a polling relay left pending (`tableFormat`'s
    /// pending condition), read in the snapshot the slot starts from, so that each is published once.
    public var publishPendingRows: Bool
    /// `--mark-published`: once Kafka has acknowledged a row's transaction, set the old relay's own completion
    /// mark on the row (by `tableFormat.eventID`, its primary key), so that the relay could take over again
    /// without sending it a second time. Nil marks nothing.
    public var markPublished: OutboxTableFormat.PublishedMark?
    /// `--retention`: delete (or drop the partitions of) outbox rows older than this, as the old relay's
    /// cleanup did. Nil deletes nothing.
    public var retention: RetentionSettings?
    /// Whether an outbox table is read at all; false for the table-less outbox, where only logical
    /// decoding messages are published.
    public var readsTable: Bool
    /// Publish `pg_logical_emit_message` messages whose prefix is `<messagePrefix>:<topic>` or
    /// `<messagePrefix>-envelope:<topic>` (see `LogicalMessageRouter`); nil publishes none.
    public var messagePrefix: String?
    /// More pgoutput options for START_REPLICATION (Debezium's `slot.stream.params`, e.g. `origin=none` on
    /// PostgreSQL 16+); those outbox-cdc sets or decodes by (`OutboxConnector.ownPluginOptions`) are left out.
    public var extraPluginOptions: [(name: String, value: String)] = []
    /// Drop the slot after an orderly stop (Debezium's `slot.drop.on.stop`, for tests and throwaway setups:
    /// the WAL since the last confirmation is gone with it).
    public var dropSlotOnStop = false
    /// What to do with an event that can never be published as it is.
    public var onError = ErrorPolicy.fail
    /// A statement run at an interval while streaming (Debezium's `heartbeat.action.query`, or outbox-cdc's
    /// own heartbeat, a non-transactional logical message): it writes WAL, so the slot can move on in a
    /// database where nothing else writes.
    public var heartbeat: Heartbeat?
    /// A slot that was dropped or invalidated: stop (the default) or create it anew.
    public var onSlotLost = SlotLostPolicy.fail
    /// Create (or turn) the slot into a failover slot on PostgreSQL 17 and later, so that a standby with
    /// `sync_replication_slots = on` carries it through a promotion.
    public var failoverSlot = true
    /// Create the publication `WITH (publish_via_partition_root = true)`, so a partitioned outbox's rows are
    /// named by the table itself. outbox-cdc's own always does; Debezium's only with `publish.via.partition.root`.
    public var publicationViaPartitionRoot = true
    /// Create a missing publication; nil: as `createMissing` says (Debezium's autocreate mode `disabled`
    /// creates no publication, but still the slot).
    public var createMissingPublication: Bool?
    /// Create a missing publication `FOR ALL TABLES` (Debezium's `publication.autocreate.mode=all_tables`).
    public var createPublicationForAllTables = false
    /// What a publication outbox-cdc creates publishes (`publish = '…'`); nil: inserts only (outbox rows are
    /// inserts). Debezium's change events: every operation `skipped.operations` leaves in.
    public var publishedOperations: String?
    /// Stream changes once started (and the snapshot published); false for Debezium's
    /// `snapshot.mode=initial_only`, which publishes the snapshot and then nothing.
    public var streamsChanges = true
    /// Ask the server to stream large transactions before they commit (pgoutput `streaming`); outbox-cdc
    /// holds their changes until the commit. Off: the server spills them to disk and sends them at commit.
    public var streamInProgress = false
    /// The most pgoutput bytes of streamed transactions to hold; past it, streaming is turned off for the
    /// rest of the run (the server spills instead).
    public var streamMaxHeldBytes = 64 << 20
    /// How often, while streaming, to ask the server for its WAL position (the slot lag) and whether the
    /// outbox tables still exist and are still published.
    public var serverCheckInterval = Duration.seconds(5)
    /// outbox-cdc's own records, or Debezium's.
    public var recordFormat: RecordFormat

    public init(
        database: ConnectionSettings,
        brokers: String,
        slot: String = "outbox",
        publication: String = "outbox_pub",
        table: QualifiedTableName = QualifiedTableName(schema: "public", name: "outbox"),
        createMissing: Bool = true,
        kafkaProperties: [String: String] = [:],
        statusInterval: Duration = .seconds(1),
        shutdownTimeout: Duration = .seconds(30),
        protocolVersion: Int? = nil,
        reconnectBackoff: Backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(30)),
        standbyPollInterval: Duration = .seconds(1),
        tableFormat: OutboxTableFormat = .eventRouter,
        publishPendingRows: Bool = false,
        readsTable: Bool = true,
        messagePrefix: String? = "outbox",
        recordFormat: RecordFormat = .native
    ) {
        self.database = database
        self.brokers = brokers
        self.slot = slot
        self.publication = publication
        self.table = table
        self.createMissing = createMissing
        self.kafkaProperties = kafkaProperties
        self.statusInterval = statusInterval
        self.shutdownTimeout = shutdownTimeout
        self.protocolVersion = protocolVersion
        self.reconnectBackoff = reconnectBackoff
        self.standbyPollInterval = standbyPollInterval
        self.tableFormat = tableFormat
        self.publishPendingRows = publishPendingRows
        self.readsTable = readsTable
        self.messagePrefix = messagePrefix
        self.recordFormat = recordFormat
    }

    /// Every outbox table, the first one first.
    public var tables: [QualifiedTableName] { [table] + additionalTables }

    /// The full librdkafka configuration: `KafkaProducer.defaultConfiguration` (at-least-once, ordered per
    /// key, Java-compatible partitioning, bounded memory, low latency), then the brokers, then the user's
    /// properties.
    public var producerProperties: [String: String] {
        KafkaProducer.configuration(brokers: brokers, clientID: "outbox-cdc", overrides: kafkaProperties)
    }
}

/// What happens every `interval` while streaming: a statement run on an ordinary connection, and under
/// Debezium's format with `heartbeat.interval.ms` a heartbeat record (`DebeziumRecordSettings.heartbeatTopicsPrefix`).
public struct Heartbeat: Sendable, Equatable {
    public var interval: Duration
    /// Nil: no statement (Debezium's heartbeat without `heartbeat.action.query` only writes its record).
    public var statement: String?

    public init(interval: Duration, statement: String?) {
        self.interval = interval
        self.statement = statement
    }

    /// outbox-cdc's own: a non-transactional logical decoding message, which writes WAL and publishes nothing.
    public static func walMessage(every interval: Duration) -> Heartbeat {
        Heartbeat(interval: interval, statement: "SELECT pg_logical_emit_message(false, 'outbox-cdc.heartbeat', '')")
    }
}

/// Capped exponential backoff for reconnecting.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    private var current: Duration?

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The next delay: `initial`, then doubling up to `maximum`.
    public mutating func next() -> Duration {
        let delay = current.map { min($0 * 2, maximum) } ?? initial
        current = delay
        return delay
    }

    public mutating func reset() {
        current = nil
    }
}

extension ConnectorConfiguration {
    /// How the captured tables' values are written, when the records are Debezium's change events.
    var changeEventValueModes: ColumnValueModes? {
        guard case .debezium(let settings) = recordFormat, case .changeEvents(let changeEvents) = settings.records else { return nil }
        return changeEvents.valueModes
    }
}
