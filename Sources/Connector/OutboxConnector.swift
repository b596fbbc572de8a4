import DebeziumFormat
import Glibc
import KafkaClient
public import Logging
import PgOutputDecoder
public import PostgresLSN
import Synchronization
import WALReader

/// Streams the outbox table's INSERTs from a pgoutput slot to Kafka, at least once.
///
/// Threads: the replication stream is read, decoded, mapped and handed to librdkafka on one dedicated
/// thread (`run`); librdkafka's delivery reports arrive on the producer's poll thread and update the
/// checkpoint tracker; the slot is confirmed from the tracker by the reading thread, which owns the
/// connection. Nothing here runs on Swift's cooperative pool.
public final class OutboxConnector: Sendable {
    public let configuration: ConnectorConfiguration
    let logger: Logger
    private let timingObserver: EventTimingObserver?
    let state: Mutex<SharedState>
    /// Interrupts the reading thread's waits on the socket (stop, fatal delivery error).
    let wakeup = Wakeup()

    /// What the reading thread and the delivery-report thread share.
    struct SharedState: Sendable {
        var tracker = CheckpointTracker(confirmed: .zero)
        var stopRequested = false
        var fatalError: ConnectorError?
        /// Records Kafka refused, for the reading thread to dead-letter (`ErrorPolicy.deadLetter`).
        var deadLetters: [PendingDeadLetter] = []
        var skippedEvents = 0
        var deadLetteredEvents = 0
        /// A session of this process prepared the slot: if it is missing later, it was lost.
        var slotSeen = false
        /// A stop lets the transaction being read finish until then (bounded by the shutdown timeout), so
        /// that none of it is published twice after a restart.
        var finishTransactionBy: ContinuousClock.Instant?
        /// A replication session streams now (for readiness and the `streaming` gauge).
        var streaming = false
        /// The server's WAL end as last heard, minus the confirmed position, at the last status update.
        var slotLagBytes: UInt64 = 0
        /// The last moment Kafka made progress: an acknowledgement, or events starting to wait after none did.
        var lastProgress = ContinuousClock.now
        /// The confirmed transactions the metrics counter has been told of (across sessions).
        var transactionsCounted: UInt64 = 0
        /// The server's timeline in the last session: a new one means a failover.
        var timeline: Int?
        /// Streamed transactions passed the memory bound once: later sessions do not ask for streaming.
        var streamingTurnedOff = false
        /// A stop's flush ended at the shutdown timeout with events Kafka had not acknowledged.
        var unacknowledgedAtStop = 0
        /// Whether Kafka's acknowledgements have stalled, checked at each status update; kept across
        /// sessions, so that a stall that outlives a reconnect is reported as one.
        var stallWatch = AcknowledgementStallWatch()

        /// An event is about to be handed to Kafka. The first of a busy spell starts the acknowledgement wait.
        mutating func eventProduced(in ticket: CheckpointTracker.Ticket) {
            if tracker.eventsInFlight == 0 { lastProgress = .now }
            tracker.eventProduced(in: ticket)
        }
    }

    let metrics = ConnectorMetrics()
    /// The outbox tables' partitions and children seen this run, by relation id.
    let outboxFamily = OutboxFamily()
    /// Relations whose role was logged (a partition mapped to its outbox table, another table ignored): each
    /// is logged once a run, not once a session. The reading thread's alone.
    private let announcedRelations = Mutex<Set<QualifiedTableName>>([])

    public init(configuration: ConnectorConfiguration, logger: Logger, timingObserver: EventTimingObserver? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.timingObserver = timingObserver
        self.state = Mutex(SharedState())
    }

    /// What readiness is judged on; cheap, from any thread.
    public var health: ConnectorHealth {
        state.withLock { shared in
            let inFlight = shared.tracker.eventsInFlight
            return ConnectorHealth(
                streaming: shared.streaming, slotLagBytes: shared.slotLagBytes, eventsInFlight: inFlight,
                acknowledgementWait: inFlight > 0 ? shared.lastProgress.duration(to: .now) : .zero
            )
        }
    }

    /// The position last confirmed (or to be confirmed next) to PostgreSQL.
    public var confirmedPosition: LSN {
        state.withLock { $0.tracker.confirmed }
    }

    /// Asks `run` to stop: it stops reading, waits up to `shutdownTimeout` for Kafka, confirms what was
    /// acknowledged and returns. Safe from any thread, any number of times.
    public func stop() {
        let finishBy = ContinuousClock.now + configuration.shutdownTimeout
        state.withLock { shared in
            if !shared.stopRequested { shared.finishTransactionBy = finishBy }
            shared.stopRequested = true
        }
        wakeup.signal()
    }

    /// Stopping, and no longer finishing the transaction being read: its time is up.
    func mustStopNow(_ shared: SharedState) -> Bool {
        shared.stopRequested && ContinuousClock.now >= (shared.finishTransactionBy ?? .now)
    }

    var stopRequested: Bool {
        state.withLock { $0.stopRequested }
    }

    /// Streams until `stop()` or a fatal error. Suspends the caller; the work runs on its own thread.
    public func run() async throws {
        try await DedicatedThread.run(name: "cdc-wal-reader") { [self] in
            try self.runBlocking()
        }
    }

    /// The reading thread's whole life: the producer, then sessions of streaming with reconnects.
    func runBlocking() throws(ConnectorError) {
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(
                configuration: configuration.producerProperties,
                logger: logger,
                fatalErrorHandler: { [self] error in self.failed(error) },
                deliveryHandler: { [self] report in self.delivered(report) }
            )
        } catch {
            throw .kafka(error)
        }
        defer { producer.shutdown() }
        logger.info("outbox-cdc starting", metadata: [
            "cdc.slot": "\(configuration.slot)", "cdc.publication": "\(configuration.publication)",
            "cdc.table": "\(configuration.debeziumTableIncludeList.map { "table.include.list=\($0)" } ?? configuration.tables.map(\.description).joined(separator: ","))",
            "pg.target": "\(configuration.database)",
            "kafka.brokers": "\(configuration.brokers)", "librdkafka.version": "\(KafkaProducer.librdkafkaVersion)",
            "libpq.version": "\(PostgresConnection.libpqVersion)",
        ])
        if case .debezium(let settings) = configuration.recordFormat {
            logger.info("writing Debezium's records", metadata: [
                "debezium.topic_prefix": "\(settings.topicPrefix)", "debezium.run_id": "\(settings.runID)",
                "debezium.key_converter": "\(settings.keyConverter.kind.rawValue)",
                "debezium.value_converter": "\(settings.valueConverter.kind.rawValue)",
            ])
        }

        var backoff = configuration.reconnectBackoff
        var standingBy = false
        while !stopRequested {
            do {
                try stream(to: producer, onStreaming: {
                    backoff.reset()
                    standingBy = false
                    state.withLock { $0.streaming = true }
                    metrics.streaming.record(1)
                })
                notStreaming()
                return
            } catch {
                notStreaming()
                switch error.reason {
                case .fatal(let fatal):
                    throw fatal
                case .stopped:
                    break
                case .slotBusy(let reason):
                    // Hot standby: another instance streams from the slot. Poll at a short fixed
                    // interval so that a takeover is quick, and say so once rather than every time.
                    if !standingBy {
                        logger.info("standing by: \(reason); taking over when it is released", metadata: [
                            "cdc.slot": "\(configuration.slot)",
                        ])
                        standingBy = true
                    }
                    wait(configuration.standbyPollInterval)
                case .transient(let reason):
                    state.withLock { $0.tracker.abandonOpenTransaction() }
                    metrics.reconnects.increment()
                    let delay = backoff.next()
                    logger.warning("replication interrupted; reconnecting", metadata: [
                        "error": "\(reason)", "retry.in_ms": .stringConvertible(delay.milliseconds),
                    ])
                    wait(delay)
                }
            }
        }
        // Stopped while not connected: what was in flight still gets its chance to be acknowledged,
        // and the next start resumes from the slot's last confirmation.
        drain(producer)
    }

    /// The row mapper for a session. Debezium's needs the table's NOT NULL columns, read per session, and
    /// starts its value-schema cache afresh, as a restarted Debezium task does.
    func rowMapper(for source: PreparedSource) throws(StreamingError) -> RowMapper {
        guard case .debezium(let settings) = configuration.recordFormat else {
            return .native(
                OutboxEventMapper(tables: configuration.tables, format: configuration.tableFormat),
                messages: configuration.messagePrefix.map(LogicalMessageRouter.init(prefix:))
            )
        }
        do {
            let mapper = try DebeziumOutboxMapper(settings: settings, notNullColumns: source.notNullColumns)
            return .debezium(mapper, databaseName: source.database)
        } catch {
            throw StreamingError(.debeziumRecord(error, lsn: .zero))
        }
    }

    /// One replication session: connect, check, stream until stopped. Returns normally only on stop.
    private func stream(to producer: KafkaProducer, onStreaming: () -> Void) throws(StreamingError) {
        var source = ReplicationSource(
            slot: configuration.slot, publication: configuration.publication, table: configuration.table,
            additionalTables: configuration.additionalTables,
            requiredColumns: configuration.tableFormat.columns, createMissing: configuration.createMissing,
            readsTable: configuration.readsTable
        )
        source.slotKnownToExist = state.withLock { $0.slotSeen }
        source.onSlotLost = configuration.onSlotLost
        source.failoverSlot = configuration.failoverSlot
        source.createViaPartitionRoot = configuration.publicationViaPartitionRoot
        source.createsMissingPublication = configuration.createMissingPublication
        source.createForAllTables = configuration.createPublicationForAllTables
        let connection: PostgresConnection
        let preparedSource: PreparedSource
        let prepared: PreparedSlot
        do {
            // Table and publication over an ordinary connection, closed before the walsender starts
            // (on an error, its deinit closes it); the slot over the replication connection that streams.
            let control = try PostgresConnection.connect(configuration.database)
            if let includeList = configuration.debeziumTableIncludeList {
                try matchTables(includeList, on: control, into: &source)
            }
            preparedSource = try control.prepareSource(for: source)
            // Matched partitions come and go with rotation: only the others are watched for being dropped.
            source.watchedTables = source.tables.filter { if case .partition = preparedSource.shapes[$0] { false } else { true } }
            // Only a start that will create the slot hands over; asking whether it exists is needed only then.
            let mayHandOver = configuration.publishPendingRows && configuration.readsTable && configuration.createMissing
            let handOver = try mayHandOver && !control.slotExists(configuration.slot)
            control.close()
            if handOver {
                // A partition whose partitioned table is read too holds no row of its own to add.
                let snapshotTables = source.tables.filter { table in
                    if case .partition(let root) = preparedSource.shapes[table], source.tables.contains(root) { return false }
                    // A child of an inheritance parent that is read too: the parent's SELECT includes its rows.
                    return !source.tables.contains { parent in
                        if case .inheritanceParent(let children) = preparedSource.shapes[parent] { children.contains(table) } else { false }
                    }
                }
                try handOverPendingRows(producer: producer, mapper: rowMapper(for: preparedSource), tables: snapshotTables)
            }
            connection = try PostgresConnection.connect(configuration.database, replication: true)
            prepared = try connection.prepareSlot(for: source)
        } catch let error as StreamingError {
            throw error
        } catch {
            switch ReplicationStartError(error) {
            case .postgres(let error): throw StreamingError(error)
            case .setup(let error): throw StreamingError(error)
            }
        }
        if preparedSource.publicationCreated {
            logger.info("created publication", metadata: ["cdc.publication": "\(configuration.publication)"])
        }
        logTableShapes(preparedSource)
        for (table, filter) in preparedSource.rowFilters.sorted(by: { $0.key.description < $1.key.description }) {
            logger.warning("the publication filters the rows of an outbox table: rows its filter leaves out are never sent, so outbox-cdc can neither publish nor count them", metadata: [
                "cdc.publication": "\(configuration.publication)", "cdc.table": "\(table)", "pg.row_filter": "\(filter)",
            ])
        }
        state.withLock { $0.slotSeen = true }
        if let loss = prepared.recreatedAfterLoss {
            logger.error("the replication slot was lost and has been created anew (--on-slot-lost recreate): events committed between the lost slot's position and the new one may not have been published", metadata: [
                "cdc.slot": "\(configuration.slot)", "cdc.slot_lost": "\(loss.reason)",
                "cdc.lost_confirmed_lsn": "\(loss.lostConfirmed.map { "\($0)" } ?? "unknown")",
                "cdc.tracker_confirmed_lsn": "\(confirmedPosition)", "cdc.lsn": "\(prepared.confirmedFlush)",
            ])
        } else if prepared.slotCreated {
            logger.info("created replication slot", metadata: ["cdc.slot": "\(configuration.slot)", "cdc.lsn": "\(prepared.confirmedFlush)"])
        }
        logSlotState(prepared.slotState)
        try resumeOnANewTimeline(prepared, connection: connection)
        let start = state.withLock { shared in
            // After a reconnect the tracker may be ahead of what the server has heard.
            _ = shared.tracker.serverSent(upTo: prepared.confirmedFlush)
            return max(shared.tracker.confirmed, prepared.confirmedFlush)
        }
        let protocolVersion = configuration.protocolVersion
            ?? Self.highestProtocolVersion(serverVersion: connection.serverVersionNumber)

        // In-progress transactions (protocol 2+): `parallel` from protocol 4 on, for Stream Abort's LSN and time.
        let streamInProgress = configuration.streamInProgress && !state.withLock { $0.streamingTurnedOff }
        let streaming = streamInProgress && protocolVersion >= 2 ? (protocolVersion >= 4 ? "parallel" : "on") : "off"
        let streamingOption = streaming == "off" ? [] : [("streaming", streaming)]
        let replication: ReplicationStream
        do {
            replication = try ReplicationStream.start(
                on: connection, slot: configuration.slot, from: start,
                pluginOptions: [
                    ("proto_version", "\(protocolVersion)"),
                    ("publication_names", try connection.identifier(configuration.publication)),
                    ("messages", "true"),
                ] + streamingOption + configuration.extraPluginOptions.filter { !Self.ownPluginOptions.contains($0.name) },
                wakeup: wakeup
            )
        } catch {
            throw StreamingError(error)
        }
        logger.info("streaming", metadata: [
            "cdc.slot": "\(configuration.slot)", "cdc.lsn": "\(start)", "pg.version": .stringConvertible(connection.serverVersionNumber),
            "pg.system_id": "\(prepared.systemIdentifier)", "pgoutput.protocol_version": .stringConvertible(protocolVersion),
            "pgoutput.streaming": "\(streaming)",
        ])
        onStreaming()

        var session = StreamingSession(
            connector: self, producer: producer, replication: replication,
            decoder: PgOutputDecoder(protocolVersion: protocolVersion),
            mapper: try rowMapper(for: preparedSource), source: source, prepared: preparedSource
        )
        defer {
            session.serverWatch.close()
            replication.finish()
        }
        do {
            try session.run()
        } catch {
            if case .stopped = error.reason {
                // Stopped while the producer queue was full: fall through to the orderly stop.
            } else {
                // A row that cannot be published, or a record Kafka refused, leaves Kafka working: let what
                // came before it be acknowledged (as Debezium's task had sent it before dying), so that less
                // is repeated.
                if case .fatal(let fatal) = error.reason, fatal.leavesKafkaWorking { drain(producer) }
                // Whatever broke, what Kafka did acknowledge is still worth confirming.
                try? session.sendStatus()
                throw error
            }
        }
        // Stopping: give Kafka its bounded time, then tell the server exactly what was acknowledged.
        drain(producer)
        try session.sendStatus()
        let (skipped, deadLettered) = state.withLock { ($0.skippedEvents, $0.deadLetteredEvents) }
        logger.info("stopped", metadata: [
            "cdc.lsn": "\(confirmedPosition)", "cdc.events_skipped": .stringConvertible(skipped), "cdc.events_dead_lettered": .stringConvertible(deadLettered),
        ])
        if configuration.dropSlotOnStop {
            replication.finish()
            dropSlot()
        }
    }

    /// The outbox tables as Debezium's `table.include.list` selects them: every table of the catalog it matches.
    private func matchTables(_ includeList: TableIncludeList, on control: PostgresConnection, into source: inout ReplicationSource) throws {
        let matched = try control.catalogTables().filter { includeList.includes(schema: $0.schema, table: $0.name) }
        guard let first = matched.first else {
            let database = try control.query("SELECT current_database()").rows.first?.first ?? nil
            throw ReplicationSetupError.noTableMatches(includeList: includeList.text, database: database ?? "")
        }
        source.table = first
        source.additionalTables = Array(matched.dropFirst())
        source.tablesMatchedByPattern = true
    }

    /// Each outbox table's shape and how its rows reach the publication.
    private func logTableShapes(_ prepared: PreparedSource) {
        guard configuration.readsTable, let publication = prepared.publication else { return }
        for table in prepared.shapes.keys.sorted(by: { $0.description < $1.description }) {
            guard let shape = prepared.shapes[table] else { continue }
            var metadata: Logger.Metadata = [
                "cdc.table": "\(table)", "pg.table_kind": "\(shape.summary)", "cdc.publication": "\(configuration.publication)",
                "pg.publication_route": "\(publication.route(for: shape))",
            ]
            switch shape {
            case .partitioned(let partitions): metadata["pg.partitions"] = "\(partitions.map(\.description).joined(separator: ","))"
            case .inheritanceParent(let children): metadata["pg.children"] = "\(children.map(\.description).joined(separator: ","))"
            case .ordinary, .partition: break
            }
            logger.info("outbox table", metadata: metadata)
        }
    }

    /// Logs a relation's role the first time this run sees it: a partition or child mapped to its outbox
    /// table, or another table whose rows are ignored. Returns nothing; the role decides the mapping.
    func announce(_ role: RelationRole, relationID: UInt32, lsn: LSN) {
        if case .outbox = role { return }
        guard announcedRelations.withLock({ $0.insert(role.relation).inserted }) else { return }
        switch role {
        case .outbox:
            break
        case .descendant(let table, let outbox):
            logger.info("rows of \(table) are published as rows of the outbox table \(outbox), of which it is a partition or child", metadata: [
                "pg.relation": "\(table)", "pg.relation_id": .stringConvertible(relationID), "cdc.table": "\(outbox)", "cdc.lsn": "\(lsn)",
            ])
        case .goneWithOutboxColumns(let table, let outbox):
            logger.warning("rows of \(table), which no longer exists, are published as rows of the outbox table \(outbox): it has the outbox's columns and may have been its partition or child (a repeat is possible, a loss is not)", metadata: [
                "pg.relation": "\(table)", "pg.relation_id": .stringConvertible(relationID), "cdc.table": "\(outbox)", "cdc.lsn": "\(lsn)",
            ])
        case .otherTable(let table):
            logger.info("rows of \(table) are not published: it is not an outbox table, but the publication sends it (counted in outbox_cdc_rows_ignored_total)", metadata: [
                "pg.relation": "\(table)", "pg.relation_id": .stringConvertible(relationID), "cdc.publication": "\(configuration.publication)",
                "cdc.ignored_reason": "\(IgnoredRowReason.otherTable.rawValue)",
            ])
        case .otherTableWithOutboxColumns(let table):
            logger.warning("rows of \(table) are not published: it has the outbox's columns but is not an outbox table, nor a partition or child of one that this run has seen (counted in outbox_cdc_rows_ignored_total). If it was detached from the outbox before outbox-cdc read its rows, republish them", metadata: [
                "pg.relation": "\(table)", "pg.relation_id": .stringConvertible(relationID), "cdc.publication": "\(configuration.publication)",
                "cdc.ignored_reason": "\(IgnoredRowReason.otherTable.rawValue)", "cdc.lsn": "\(lsn)",
            ])
        }
    }

    /// After a failover the server is a promoted standby on a new timeline. If that standby never had the
    /// end of the old primary's WAL (asynchronous replication without `synchronized_standby_slots`), its
    /// history forked before what this process confirmed: the new primary's transactions after the fork
    /// must still be read, so the position goes back to the fork (never before the slot's own position).
    /// What the old primary alone had may have been published: it cannot be taken back, and is logged.
    private func resumeOnANewTimeline(_ prepared: PreparedSlot, connection: PostgresConnection) throws(StreamingError) {
        let previous = state.withLock { shared -> Int? in
            defer { shared.timeline = prepared.timeline }
            return shared.timeline
        }
        guard let previous, previous != prepared.timeline else { return }
        let switchPoint: LSN?
        do {
            switchPoint = try connection.timelineSwitchPoint(of: previous, current: prepared.timeline)
        } catch {
            throw StreamingError(error)
        }
        let (confirmed, rewoundTo) = state.withLock { shared -> (LSN, LSN?) in
            let confirmed = shared.tracker.confirmed
            // Without the history, only the slot's own position is known to be on the new timeline.
            let safe = max(min(confirmed, switchPoint ?? prepared.confirmedFlush), prepared.confirmedFlush)
            guard confirmed > safe else { return (confirmed, nil) }
            shared.tracker.rewind(to: safe)
            return (confirmed, safe)
        }
        var metadata: Logger.Metadata = [
            "pg.timeline.previous": .stringConvertible(previous), "pg.timeline": .stringConvertible(prepared.timeline),
            "pg.timeline.switch_lsn": "\(switchPoint.map { "\($0)" } ?? "unknown")", "cdc.lsn": "\(confirmed)",
        ]
        if let rewoundTo {
            metadata["cdc.resume_lsn"] = "\(rewoundTo)"
            logger.error("the new primary's history forked before the position outbox-cdc had confirmed: events from the old primary after the fork may have been published although the new primary lacks them; streaming resumes at the fork", metadata: metadata)
        } else {
            logger.info("the server is on a new timeline (a failover); its history includes everything confirmed", metadata: metadata)
        }
    }

    private func notStreaming() {
        state.withLock { shared in
            shared.streaming = false
            // Unknown until the next session has asked the server again.
            shared.slotLagBytes = 0
        }
        metrics.streaming.record(0)
    }

    /// The slot's health at each start: how much WAL it pins and whether it is near invalidation.
    private func logSlotState(_ slot: SlotState) {
        if slot.madeFailover {
            logger.info("made the replication slot a failover slot, so that a standby with sync_replication_slots = on carries it", metadata: ["cdc.slot": "\(configuration.slot)"])
        }
        var metadata: Logger.Metadata = [
            "cdc.slot": "\(configuration.slot)", "pg.slot.wal_status": "\(slot.walStatus)",
            // A number when the server knows it (the slot has a restart position), else "unknown".
            "pg.slot.retained_wal_bytes": slot.retainedBytes.map { .stringConvertible($0) } ?? "unknown",
        ]
        if let failover = slot.failover { metadata["pg.slot.failover"] = "\(failover)" }
        if slot.walStatus == "unreserved" {
            // One more checkpoint may invalidate it: the operator should hear this at once.
            logger.warning("the replication slot is past max_slot_wal_keep_size and may be invalidated at the next checkpoint", metadata: metadata)
        } else {
            logger.info("replication slot", metadata: metadata)
        }
    }

    /// `slot.drop.on.stop`: after the stop, the slot goes (a failure to drop it is only logged).
    private func dropSlot() {
        var lastError: (any Error)?
        // The walsender may take a moment to release the slot after the copy ends.
        for _ in 0..<50 {
            do {
                let control = try PostgresConnection.connect(configuration.database)
                defer { control.close() }
                try control.query("SELECT pg_drop_replication_slot(\(try control.literal(configuration.slot)))")
                logger.info("dropped replication slot", metadata: ["cdc.slot": "\(configuration.slot)"])
                return
            } catch {
                lastError = error
                usleep(100_000)
            }
        }
        logger.warning("could not drop the replication slot", metadata: [
            "cdc.slot": "\(configuration.slot)", "error": "\(lastError.map { "\($0)" } ?? "")",
        ])
    }

    /// Waits (bounded) for Kafka to acknowledge what is in flight.
    private func drain(_ producer: KafkaProducer) {
        if !producer.flush(timeout: configuration.shutdownTimeout) {
            let outstanding = producer.outstandingMessageCount
            state.withLock { $0.unacknowledgedAtStop = outstanding }
            logger.warning("Kafka did not acknowledge every event before the shutdown timeout; they are published again after a restart", metadata: [
                "kafka.outstanding": .stringConvertible(outstanding),
            ])
        } else {
            state.withLock { $0.unacknowledgedAtStop = 0 }
        }
    }

    /// After `run` returned: how many events Kafka had not acknowledged when the stop's time ran out (they
    /// are published again after a restart); 0 for a complete stop.
    public var eventsUnacknowledgedAtStop: Int {
        state.withLock { $0.unacknowledgedAtStop }
    }

    /// Sleeps, but wakes for `stop()`.
    private func wait(_ delay: Duration) {
        let deadline = ContinuousClock.now.advanced(by: delay)
        while !stopRequested, ContinuousClock.now < deadline {
            _ = wakeup.wait(timeout: ContinuousClock.now.duration(to: deadline))
        }
    }

    /// The pgoutput options outbox-cdc sets itself, or whose other values would change what it decodes
    /// (binary tuples, in-progress streaming, two-phase): a configuration does not replace them.
    static let ownPluginOptions: Set<String> = ["proto_version", "publication_names", "messages", "binary", "streaming", "two_phase"]

    /// pgoutput 1 (PostgreSQL 10+), 2 (14+, streaming), 3 (15+, two-phase), 4 (16+, parallel streaming).
    static func highestProtocolVersion(serverVersion: Int) -> Int {
        switch serverVersion {
        case 160_000...: return 4
        case 150_000...: return 3
        case 140_000...: return 2
        default: return 1
        }
    }

    /// A fatal producer error (the idempotent producer lost its guarantees): stop streaming.
    private func failed(_ error: KafkaError) {
        let first = state.withLock { shared -> Bool in
            guard shared.fatalError == nil else { return false }
            shared.fatalError = .kafka(error)
            return true
        }
        if first { wakeup.signal() }
    }

    /// A delivery report, on the producer's poll thread.
    private func delivered(_ report: DeliveryReport) {
        if let error = report.error {
            metrics.failed(topic: report.topic)
            if takeRefusedDelivery(report, error: error) { return }
            let fatal = state.withLock { shared -> Bool in
                guard shared.fatalError == nil else { return false }
                shared.fatalError = .deliveryFailed(
                    eventID: report.idHeaderString ?? "(no id)", topic: report.topic, error: error,
                    confirmed: shared.tracker.confirmed
                )
                return true
            }
            if fatal { wakeup.signal() }
            return
        }
        let commitTime = state.withLock { shared in
            let commitTime = shared.tracker.commitTime(of: report.correlation)
            _ = shared.tracker.eventAcknowledged(in: report.correlation)
            shared.lastProgress = .now
            return commitTime
        }
        metrics.published(topic: report.topic, bytes: report.byteCount)
        if let commitTime, commitTime != 0 {
            let now = UnixTime.nowMicroseconds()
            let behind = max(0, now - commitTime)
            metrics.commitToAcknowledgement.recordNanoseconds(behind * 1000)
            metrics.lastAcknowledgedEventDelay.record(Double(behind) / 1_000_000)
            timingObserver?.acknowledged(commitTime, now)
        }
    }

    /// A stall of Kafka's acknowledgements began, goes on or ended (`AcknowledgementStallWatch`).
    func logStall(_ report: AcknowledgementStallWatch.Report, eventsWaiting: Int, oldestAgeMicroseconds: Int64?) {
        var metadata: Logger.Metadata = ["kafka.events_waiting": .stringConvertible(eventsWaiting)]
        if let oldestAgeMicroseconds {
            metadata["cdc.oldest_unacknowledged_age_ms"] = .stringConvertible(oldestAgeMicroseconds / 1000)
        }
        switch report {
        case .began(let since):
            metadata["kafka.ack_wait_ms"] = .stringConvertible(since.milliseconds)
            logger.warning("Kafka has acknowledged nothing for \(since.secondsText) s while \(eventsWaiting) events wait; is the broker reachable and working?", metadata: metadata)
        case .continues(let since):
            metadata["kafka.ack_wait_ms"] = .stringConvertible(since.milliseconds)
            logger.warning("Kafka has still acknowledged nothing, for \(since.secondsText) s while \(eventsWaiting) events wait", metadata: metadata)
        case .ended(let lasted):
            logger.info("Kafka acknowledges again after a stall of \(lasted.secondsText) s", metadata: [
                "kafka.stall_ms": .stringConvertible(lasted.milliseconds), "kafka.events_waiting": .stringConvertible(eventsWaiting),
            ])
        }
    }

    // MARK: - The reading thread's session

    /// A Relation message as described in this session, and the role of its relation once a row needed it.
    struct DescribedRelation {
        var relation: PgOutputMessage.Relation
        var table: QualifiedTableName
        /// `table` as metrics and logs print it, made once.
        var tableLabel: String
        var role: RelationRole?
        var columnNames: [String] { relation.columns.map(\.name) }
    }

    /// The state of one replication session, owned by the reading thread.
    private struct StreamingSession {
        let connector: OutboxConnector
        let producer: KafkaProducer
        let replication: ReplicationStream
        var decoder: PgOutputDecoder
        var mapper: RowMapper
        /// The transaction being received (its xid and commit time on the server, Unix microseconds, 0 when
        /// unknown; kept after its Commit) and the last commit LSN: for event timing and Debezium's messages.
        var transaction = DebeziumOutboxMapper.TransactionContext(transactionID: nil, commitTime: 0, lastCommitLSN: nil)
        /// What each Relation message said, by relation id: to describe a row that cannot be mapped, and to
        /// tell a TRUNCATE of the outbox from others.
        var relations: [UInt32: DescribedRelation] = [:]
        /// A stop was asked for while a transaction was being read, and it is being read to its end.
        var finishingBeforeStop = false
        /// The ordinary connection the heartbeat statement runs on, opened at the first beat.
        var heartbeatConnection: PostgresConnection?
        var lastHeartbeat = ContinuousClock.now
        var serverWatch: ServerWatch
        /// With `--stream-in-progress`: transactions streamed before their commit, held until it.
        var streamed = StreamedTransactions()
        /// The ticket of the transaction being received.
        var ticket: CheckpointTracker.Ticket?
        /// The WAL position of the message being handled, for error messages.
        var position = LSN.zero
        var lastStatus = ContinuousClock.now
        var lastReportedPosition = LSN.zero
        /// The server's end of WAL as last heard (XLogData and keepalives), for the slot lag.
        var serverWALEnd = LSN.zero

        /// This session's outbox tables (none for the table-less outbox).
        let outboxTables: [QualifiedTableName]
        /// The tables whose partitions and children carry outbox rows: the outbox tables, and the partitioned
        /// tables of partitions Debezium's list matched.
        let outboxTablesByLineage: [QualifiedTableName]
        /// The publication names its tables (not FOR ALL TABLES, no schema).
        let publicationListsTables: Bool

        var logger: Logger { connector.logger }

        init(connector: OutboxConnector, producer: KafkaProducer, replication: ReplicationStream,
             decoder: PgOutputDecoder, mapper: RowMapper, source: ReplicationSource, prepared: PreparedSource) {
            self.connector = connector
            let outboxTables = source.readsTable ? source.tables : []
            self.outboxTables = outboxTables
            // Debezium's list may match partitions only: their partitioned table's other partitions are still the
            // outbox's, never another table's.
            self.outboxTablesByLineage = outboxTables + outboxTables.compactMap { table in
                if case .partition(let root) = prepared.shapes[table], !outboxTables.contains(root) { root } else { nil }
            }
            self.publicationListsTables = prepared.publication?.listsTables ?? false
            self.serverWatch = ServerWatch(
                source: source, database: connector.configuration.database, interval: connector.configuration.serverCheckInterval,
                family: connector.outboxFamily, familyRoots: outboxTablesByLineage
            )
            self.producer = producer
            self.replication = replication
            self.decoder = decoder
            self.mapper = mapper
        }

        /// The least time between two status updates sent because the confirmed position moved (under load
        /// at most a hundred a second; the `--status-interval-ms` keepalive comes besides).
        static let promptConfirmationSpacing = Duration.milliseconds(10)

        mutating func run() throws(StreamingError) {
            let interval = connector.configuration.statusInterval
            while true {
                let (stop, stopNow, fatal, deadLetters, confirmed, waiting) = connector.state.withLock {
                    ($0.stopRequested, connector.mustStopNow($0), $0.fatalError, !$0.deadLetters.isEmpty, $0.tracker.confirmed,
                     $0.tracker.eventsInFlight > 0)
                }
                if let fatal { throw StreamingError(fatal) }
                // Confirm promptly: what Kafka has acknowledged is told to the server within a spacing, not at
                // the next status interval, so that a crash repeats as little as the acknowledgements allow.
                if confirmed != lastReportedPosition, lastStatus.duration(to: .now) >= Self.promptConfirmationSpacing {
                    try sendStatus(askingForReply: false)
                }
                // Stopping between transactions, or when finishing this one takes too long; a transaction cut
                // short is confirmed by nothing and read again after a restart.
                if stop {
                    if ticket == nil || stopNow { return }
                    if !finishingBeforeStop {
                        finishingBeforeStop = true
                        logger.info("stopping: finishing the transaction being read first")
                    }
                }
                if deadLetters {
                    try connector.sendPendingDeadLetters(producer: producer) { () throws(StreamingError) in try keepServerInformed() }
                }
                beatIfDue()
                do {
                    try serverWatch.checkIfDue(streamedUpTo: serverWALEnd, logger: logger)
                } catch {
                    throw StreamingError(error)
                }
                var untilStatus = interval - lastStatus.duration(to: .now)
                // While events wait for Kafka, their acknowledgements move the confirmed position: look again
                // within the spacing even when the server sends nothing.
                if waiting { untilStatus = min(untilStatus, Self.promptConfirmationSpacing) }
                if let heartbeat = connector.configuration.heartbeat {
                    untilStatus = min(untilStatus, heartbeat.interval - lastHeartbeat.duration(to: .now))
                }
                let read: ReplicationStream.ReadResult
                do {
                    read = try replication.read(timeout: max(untilStatus, .zero))
                } catch {
                    throw StreamingError(error)
                }
                if case .message(let bytes) = read {
                    try handle(bytes[...])
                }
                if lastStatus.duration(to: .now) >= interval {
                    try sendStatus()
                }
            }
        }

        /// Tells the server what is confirmed. While idle it also asks for a keepalive back, whose
        /// WAL end then confirms the WAL other tables wrote meanwhile.
        /// `askingForReply: false` for the prompt updates, which only pass on a new confirmed position: asking
        /// each of them for a keepalive would make a busy server answer a hundred times a second.
        mutating func sendStatus(askingForReply: Bool = true) throws(StreamingError) {
            // The server's WAL position as last asked: the walsender's own positions only say how far it has decoded.
            let walEnd = max(serverWALEnd, serverWatch.serverWAL ?? .zero)
            let now = ContinuousClock.now
            let (confirmed, lag, idle, inFlight, newlyConfirmed, oldestCommitTime, stall) = connector.state.withLock { shared in
                let confirmed = shared.tracker.confirmed
                shared.slotLagBytes = walEnd > confirmed ? walEnd.rawValue - confirmed.rawValue : 0
                let newlyConfirmed = shared.tracker.transactionsConfirmed - shared.transactionsCounted
                shared.transactionsCounted = shared.tracker.transactionsConfirmed
                let inFlight = shared.tracker.eventsInFlight
                let stall = shared.stallWatch.check(now: now, eventsWaiting: inFlight, lastProgress: shared.lastProgress)
                return (confirmed, shared.slotLagBytes, shared.tracker.isIdle, inFlight, newlyConfirmed,
                        shared.tracker.oldestUnacknowledgedCommitTime, stall)
            }
            // Microseconds, as PostgreSQL's commit times; a clock behind the server's reads as no age, not a negative one.
            let oldestAge = oldestCommitTime.map { max(0, UnixTime.nowMicroseconds() - $0) } ?? 0
            recordMetrics(confirmed: confirmed, slotLagBytes: lag, inFlight: inFlight, newlyConfirmedTransactions: newlyConfirmed,
                          oldestUnacknowledgedAgeMicroseconds: oldestAge)
            if let stall { connector.logStall(stall, eventsWaiting: inFlight, oldestAgeMicroseconds: oldestCommitTime.map { _ in oldestAge }) }
            var status = StandbyStatusUpdate(confirmed: confirmed, clientTime: PostgresMicroseconds.now)
            status.replyRequested = idle && askingForReply
            do {
                try replication.send(status)
            } catch {
                throw StreamingError(error)
            }
            lastStatus = .now
            if confirmed != lastReportedPosition {
                logger.debug("confirmed", metadata: ["cdc.lsn": "\(confirmed)"])
                lastReportedPosition = confirmed
            }
        }

        /// Gauges and the confirmed-transactions counter, at each status update.
        private func recordMetrics(
            confirmed: LSN, slotLagBytes: UInt64, inFlight: Int, newlyConfirmedTransactions: UInt64,
            oldestUnacknowledgedAgeMicroseconds: Int64
        ) {
            let metrics = connector.metrics
            metrics.confirmedLSN.record(Double(confirmed.rawValue))
            metrics.slotLagBytes.record(Double(slotLagBytes))
            metrics.eventsInFlight.record(inFlight)
            metrics.producerQueueDepth.record(producer.outstandingMessageCount)
            metrics.oldestUnacknowledgedEventAge.record(Double(oldestUnacknowledgedAgeMicroseconds) / 1_000_000)
            if newlyConfirmedTransactions > 0 {
                metrics.transactionsConfirmed.increment(by: Int(newlyConfirmedTransactions))
            }
        }

        private mutating func handle(_ bytes: ArraySlice<UInt8>) throws(StreamingError) {
            let message: ReplicationMessage
            do {
                message = try ReplicationMessage.parse(bytes)
            } catch {
                throw StreamingError(.replicationMessage(error, lsn: position))
            }
            switch message {
            case .primaryKeepalive(let keepalive):
                serverWALEnd = max(serverWALEnd, keepalive.walEnd)
                // A streamed transaction still open is in flight too: its WAL end is not confirmed past it.
                if streamed.isEmpty {
                    connector.state.withLock { _ = $0.tracker.serverSent(upTo: keepalive.walEnd) }
                }
                if keepalive.replyRequested { try sendStatus() }
            case .xLogData(let data):
                position = data.walStart
                serverWALEnd = max(serverWALEnd, data.walEnd)
                try handle(pgoutput: data.payload)
            }
        }

        private mutating func handle(pgoutput payload: ArraySlice<UInt8>) throws(StreamingError) {
            let message: PgOutputMessage
            do {
                message = try decoder.decode(payload)
            } catch {
                throw StreamingError(.decoding(error, lsn: position))
            }
            if streamed.take(message, at: position, bytes: payload.count) {
                if streamed.heldBytes > connector.configuration.streamMaxHeldBytes { try streamedTooMuch() }
                return
            }
            if case .streamCommit(let commit) = message {
                try replay(commit)
            } else {
                try handle(decoded: message)
            }
        }

        /// Holding streamed transactions would pass the memory bound: reconnect without streaming, so that
        /// the server spills them to its disk and sends each at its commit (and backpressure bounds memory).
        private func streamedTooMuch() throws(StreamingError) {
            connector.state.withLock { $0.streamingTurnedOff = true }
            logger.warning("streamed transactions held in memory passed --stream-max-held-bytes; reconnecting without --stream-in-progress for the rest of this run", metadata: [
                "cdc.held_bytes": .stringConvertible(streamed.heldBytes), "cdc.lsn": "\(position)",
            ])
            throw StreamingError(reason: .transient("streaming of in-progress transactions turned off"))
        }

        /// A streamed transaction committed: its held changes, handled as one ordinary transaction.
        private mutating func replay(_ commit: PgOutputMessage.StreamCommit) throws(StreamingError) {
            let changes = streamed.commit(commit)
            logger.debug("streamed transaction committed", metadata: [
                "pg.xid": .stringConvertible(commit.transactionID), "cdc.changes": .stringConvertible(changes.count), "cdc.lsn": "\(commit.commitLSN)",
            ])
            try handle(decoded: .begin(.init(finalLSN: commit.commitLSN, commitTimestamp: commit.commitTimestamp, transactionID: commit.transactionID)))
            for change in changes {
                position = change.position
                try handle(decoded: change.message)
            }
            try handle(decoded: .commit(.init(flags: 0, commitLSN: commit.commitLSN, endLSN: commit.endLSN, commitTimestamp: commit.commitTimestamp)))
        }

        private mutating func handle(decoded message: PgOutputMessage) throws(StreamingError) {
            switch message {
            case .begin(let begin):
                let commitTime = begin.commitTimestamp.unixEpochMicroseconds ?? 0
                transaction.transactionID = begin.transactionID
                transaction.commitTime = commitTime
                ticket = connector.state.withLock { $0.tracker.beginTransaction(commitTime: commitTime) }
            case .relation(let relation):
                // An outbox table by name is known at once. Any other relation's role waits for its first row:
                // a publication via the partition root also describes the partition itself, whose id no row
                // then carries, and most relations of a FOR ALL TABLES publication need no catalog question.
                let name = QualifiedTableName(schema: relation.namespace, name: relation.name)
                // A relation described again (after ALTER TABLE) keeps the role it has, so that the mapper
                // compares the new columns with the old layout.
                let known = relations[relation.relationID].flatMap { $0.table == name ? $0.role : nil }
                let role: RelationRole? = known ?? (isOutboxTable(name) ? .outbox(name) : nil)
                if role != nil, mapper.needsNotNullColumns(of: name) {
                    // A table Debezium's list matched after the start (a partition created since).
                    mapper.learnNotNullColumns(try serverWatch.notNullColumns(of: name), of: name)
                }
                let isOutbox = try mapper.register(relation, as: role?.outboxTable, at: position)
                relations[relation.relationID] = DescribedRelation(relation: relation, table: name, tableLabel: name.description, role: role)
                logger.debug("relation described", metadata: [
                    "pg.relation": "\(name)", "pg.relation_id": .stringConvertible(relation.relationID), "cdc.is_outbox": "\(isOutbox)",
                ])
            case .insert(let insert):
                guard let ticket else { return }
                try resolveRole(of: insert.relationID)
                let mapped: (OutboxEvent, warning: String?)?
                do {
                    mapped = try mapper.event(for: insert, at: position)
                } catch {
                    connector.state.withLock { $0.eventProduced(in: ticket) }
                    try connector.poisonedRow(
                        error, insert: insert, table: relations[insert.relationID]?.table,
                        columnNames: relations[insert.relationID]?.columnNames, lsn: position, ticket: ticket,
                        producer: producer
                    ) { () throws(StreamingError) in try keepServerInformed() }
                    return
                }
                guard let (event, warning) = mapped else {
                    if let table = relations[insert.relationID]?.tableLabel {
                        connector.metrics.rowIgnored(table: table, reason: .otherTable)
                    }
                    return
                }
                if let warning {
                    logger.warning("\(warning)", metadata: ["event.id": "\(event.eventIDText)", "cdc.lsn": "\(position)"])
                }
                connector.state.withLock { $0.eventProduced(in: ticket) }
                try publish(event, ticket: ticket)
            case .commit(let commit):
                if let ticket {
                    connector.state.withLock { _ = $0.tracker.commitTransaction(ticket, endLSN: commit.endLSN) }
                }
                ticket = nil
                transaction.transactionID = nil
                transaction.lastCommitLSN = commit.commitLSN
            case .message(let message):
                try handle(message)
            case .truncate(let truncate) where truncate.relationIDs.contains(where: { relations[$0]?.role?.outboxTable != nil }):
                // Emptying the outbox publishes nothing (Debezium publishes nothing for it either), but say so.
                logger.info("TRUNCATE of the outbox table ignored", metadata: ["cdc.lsn": "\(position)"])
            case .update(let update):
                // Only inserts are events; a publication made by hand may send the rest.
                countIgnored(update.relationID, as: .update)
            case .delete(let delete):
                countIgnored(delete.relationID, as: .delete)
            default:
                // Other truncates and the rest publish nothing.
                break
            }
        }

        /// Under Debezium's list with the publication via the root: rows of a partition the list matches arrive
        /// under its partitioned table's name, which the list does not match, and Debezium drops them (a
        /// partition created since the start, which the start check could not see).
        private mutating func stopIfRootOfMatchedPartitions(_ name: QualifiedTableName) throws(StreamingError) {
            guard let list = connector.configuration.debeziumTableIncludeList else { return }
            guard case .partitioned(let partitions) = try serverWatch.shape(of: name),
                  let matched = partitions.first(where: { list.includes(schema: $0.schema, table: $0.name) }) else { return }
            throw StreamingError(.setup(.partitionRowsNamedByUnmatchedRoot(matched, root: name, publication: connector.configuration.publication)))
        }

        /// An outbox table by its name alone: one of this session's, or one Debezium's list matches (as Debezium
        /// decides per row, a partition created since the start included).
        private func isOutboxTable(_ name: QualifiedTableName) -> Bool {
            if RelationRole.isKnownByName(name, outboxTables: outboxTables) { return true }
            guard connector.configuration.readsTable, let list = connector.configuration.debeziumTableIncludeList else { return false }
            return list.includes(schema: name.schema, table: name.name)
        }

        /// An UPDATE or DELETE: never published, always counted, without asking the catalog (no role is
        /// needed to know it is not an event).
        private func countIgnored(_ relationID: UInt32, as reason: IgnoredRowReason) {
            guard let known = relations[relationID] else { return }
            switch known.role {
            case .otherTable, .otherTableWithOutboxColumns: connector.metrics.rowIgnored(table: known.tableLabel, reason: .otherTable)
            case .outbox, .descendant, .goneWithOutboxColumns, nil: connector.metrics.rowIgnored(table: known.tableLabel, reason: reason)
            }
        }

        /// Decides the role of a relation not named as an outbox table, at its first row: what the catalog says
        /// of its id now (a partition or child of an outbox table, or another table). The mapper then takes
        /// a partition's or child's Relation as its outbox table's. Not being able to ask ends the session as
        /// transient: a relation of unknown role must not have its rows passed over.
        private mutating func resolveRole(of relationID: UInt32) throws(StreamingError) {
            guard var known = relations[relationID], known.role == nil else { return }
            let lineage = try serverWatch.lineage(ofRelation: relationID, named: known.table)
            let relation = known.relation
            let role = RelationRole.of(
                known.table, outboxTables: outboxTablesByLineage,
                knownDescendantOf: connector.outboxFamily.outboxTable(ofDescendant: relationID), lineage: lineage,
                publicationListsTables: publicationListsTables, fitsOutbox: mapper.fits(relation)
            )
            if case .otherTable(let name) = role, connector.configuration.debeziumTableIncludeList != nil {
                try stopIfRootOfMatchedPartitions(name)
            }
            if let outbox = role.outboxTable {
                // Debezium publishes a row only under a name its table filter includes: rows named by a
                // partition or child are dropped by it. Stopping is the one deliberate difference (README).
                if case .debezium = mapper {
                    throw StreamingError(.rowsDebeziumWouldDrop(relation: known.table, outbox: outbox, lsn: position))
                }
                _ = try mapper.register(relation, as: outbox, at: position)
            }
            known.role = role
            relations[relationID] = known
            connector.announce(role, relationID: relationID, lsn: position)
        }

        /// A `pg_logical_emit_message` with the outbox prefix. A transactional one belongs to the transaction
        /// being received; a non-transactional one arrives on its own and is confirmed at its own position.
        private mutating func handle(_ message: PgOutputMessage.LogicalMessage) throws(StreamingError) {
            let mapped: OutboxEvent?
            var failure: StreamingError?
            do { mapped = try mapper.event(for: message, transaction: transaction) } catch {
                mapped = nil
                failure = error
            }
            if !message.isTransactional { transaction.lastCommitLSN = message.lsn }
            guard mapped != nil || failure != nil else { return }
            // A transactional message rides its transaction's ticket; another gets one of its own, confirmed at
            // the message's own position (not past it: it may repeat after a restart, never be skipped).
            let ownTicket = message.isTransactional ? nil : connector.state.withLock { $0.tracker.beginTransaction() }
            guard let ticket = ownTicket ?? ticket else { return }
            connector.state.withLock { $0.eventProduced(in: ticket) }
            if let failure {
                try connector.poisonedMessage(failure, message: message, ticket: ticket, producer: producer) { () throws(StreamingError) in
                    try keepServerInformed()
                }
            } else if let mapped {
                try publish(mapped, ticket: ticket)
            }
            if let ownTicket {
                connector.state.withLock { _ = $0.tracker.commitTransaction(ownTicket, endLSN: message.lsn) }
            }
        }

        /// Runs the heartbeat statement when its interval has passed. A failure is logged and retried at the
        /// next interval on a new connection: a heartbeat helps the slot along, it never decides what is published.
        private mutating func beatIfDue() {
            guard let heartbeat = connector.configuration.heartbeat, lastHeartbeat.duration(to: .now) >= heartbeat.interval else { return }
            lastHeartbeat = .now
            do {
                let connection = try heartbeatConnection ?? PostgresConnection.connect(connector.configuration.database)
                heartbeatConnection = connection
                try connection.query(heartbeat.statement)
            } catch {
                heartbeatConnection?.close()
                heartbeatConnection = nil
                logger.warning("the heartbeat statement failed", metadata: ["error": "\(error)"])
            }
        }

        /// The server must keep hearing from us while we are not reading.
        private mutating func keepServerInformed() throws(StreamingError) {
            if lastStatus.duration(to: .now) >= connector.configuration.statusInterval {
                try sendStatus()
            }
        }

        /// Hands one event to librdkafka; a full queue pauses reading until deliveries make room.
        private mutating func publish(_ event: OutboxEvent, ticket: CheckpointTracker.Ticket) throws(StreamingError) {
            try connector.produce(event, ticket: ticket, producer: producer, lsn: position) { () throws(StreamingError) in
                try keepServerInformed()
            }
            if let observer = connector.timingObserver, transaction.commitTime != 0 {
                observer.produced(transaction.commitTime, UnixTime.nowMicroseconds())
            }
            logger.trace("produced", metadata: ["event.id": "\(event.eventIDText)", "kafka.topic": "\(event.topic)", "cdc.lsn": "\(position)"])
        }
    }

    /// Hands one record to librdkafka, waiting while its queue is full (calling `whileWaiting` between
    /// tries) unless a stop or a fatal error comes first.
    func produce(
        _ event: OutboxEvent, ticket: CheckpointTracker.Ticket, producer: KafkaProducer, lsn: LSN? = nil,
        refusal: ErrorPolicy? = nil, whileWaiting: () throws(StreamingError) -> Void
    ) throws(StreamingError) {
        while true {
            switch producer.produce(
                topic: event.topic, key: event.key, value: event.value, headers: event.headers,
                partition: event.partition, timestamp: event.timestamp, correlation: ticket
            ) {
            case .enqueued:
                return
            case .queueFull:
                let (stopNow, fatal) = state.withLock { (mustStopNow($0), $0.fatalError) }
                if let fatal { throw StreamingError(fatal) }
                // Stopping with a full queue and no time left: this transaction is not confirmed, so the
                // event is read again after a restart.
                if stopNow { throw StreamingError.stopped }
                producer.waitForQueueSpace(timeout: .milliseconds(100))
                try whileWaiting()
            case .failed(let error):
                if refusal == .fail {
                    throw StreamingError(.deliveryFailed(eventID: event.eventIDText, topic: event.topic, error: error, confirmed: confirmedPosition))
                }
                try refusedRecord(event, error: error, lsn: lsn ?? confirmedPosition, ticket: ticket, producer: producer, whileWaiting: whileWaiting)
                return
            }
        }
    }
}

/// Per-event timings, for whoever measures them (the executable logs their distributions at stop). Both
/// closures get the event's commit time on PostgreSQL and the moment in question, Unix microseconds; they
/// run once per event, so they must be cheap.
public struct EventTimingObserver: Sendable {
    /// On the reading thread, when librdkafka has taken the event.
    public var produced: @Sendable (_ commitTime: Int64, _ producedTime: Int64) -> Void
    /// On the delivery-report thread, when Kafka has acknowledged it.
    public var acknowledged: @Sendable (_ commitTime: Int64, _ acknowledgedTime: Int64) -> Void

    public init(
        produced: @escaping @Sendable (Int64, Int64) -> Void,
        acknowledged: @escaping @Sendable (Int64, Int64) -> Void
    ) {
        self.produced = produced
        self.acknowledged = acknowledged
    }
}

/// What ends a session: a fatal `ConnectorError`, a transient condition worth a reconnect, or a stop.
struct StreamingError: Error {
    enum Reason {
        case fatal(ConnectorError)
        case transient(String)
        /// The slot is active in another process (a hot standby waits for it).
        case slotBusy(String)
        case stopped
    }
    var reason: Reason

    static let stopped = StreamingError(reason: .stopped)

    init(reason: Reason) { self.reason = reason }

    init(_ error: ConnectorError) { self.reason = .fatal(error) }

    init(_ error: PostgresError) {
        if error.sqlState == SQLState.objectInUse {
            // START_REPLICATION lost the race for a slot another process just took.
            reason = .slotBusy(error.message)
        } else {
            reason = error.isTransient ? .transient(error.description) : .fatal(.postgres(error))
        }
    }

    init(_ error: ReplicationSetupError) {
        if case .slotActive = error {
            reason = .slotBusy(error.description)
        } else {
            reason = .fatal(.setup(error))
        }
    }
}
