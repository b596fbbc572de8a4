import Clocks
import DebeziumFormat
import Glibc
import KafkaClient
public import Logging
import PgOutputDecoder
import PostgresNames
public import PostgresLSN
import Synchronization
import Threads
import WALReader

/// Streams the outbox table's INSERTs from a pgoutput slot to Kafka, at least once.
///
/// Threads: the replication stream is read, decoded, mapped and handed to librdkafka on one dedicated
/// thread (`run`), where a `SessionDriver` carries out what a `SessionMachine` decides; librdkafka's
/// delivery reports arrive on the producer's poll thread, which posts them to a `DeliveryInbox` for the
/// reading thread. Besides that inbox, the threads share only `control`: the lifecycle, the stop request and
/// the health figures. Nothing here runs on Swift's cooperative pool.
public final class OutboxConnector: Sendable {
    public let configuration: ConnectorConfiguration
    let logger: Logger
    let timingObserver: EventTimingObserver?
    /// Interrupts the reading thread's waits on the socket (a stop, a delivery report).
    let wakeup = Wakeup()
    /// Delivery reports, from the producer's poll thread to the reading thread.
    let inbox: DeliveryInbox
    let control = Mutex(Control())
    /// Records librdkafka has taken this run, each of which gets one delivery report (the reading thread's count).
    let recordsHandedToKafka = Atomic<Int>(0)

    /// What any thread may read or set: the lifecycle and the stop request, and the figures readiness is
    /// judged on (written by the reading thread).
    struct Control: Sendable {
        var lifecycle = ConnectorLifecycle.starting
        /// A stop lets the transaction being read finish until then (bounded by the shutdown timeout), so that
        /// none of it is published twice after a restart.
        var stopBy: ContinuousClock.Instant?
        var slotLagBytes: UInt64 = 0
        var eventsInFlight = 0
        var lastProgress = ContinuousClock.now
        var confirmed = LSN.zero
        /// A stop's flush ended at the shutdown timeout with events Kafka had not acknowledged.
        var unacknowledgedAtStop = 0
    }

    let metrics = ConnectorMetrics()
    /// The outbox tables' partitions and children seen this run, by relation id.
    let outboxFamily = OutboxFamily()
    /// `--mark-published`: the old relay's marks on the rows of confirmed transactions, on a thread of its own.
    let rowMarker: PublishedRowMarker?
    /// `--retention`: the old relay's cleanup, on a thread of its own, once streaming.
    let retention: OutboxRetention?

    public init(configuration: ConnectorConfiguration, logger: Logger, timingObserver: EventTimingObserver? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.timingObserver = timingObserver
        self.inbox = DeliveryInbox(wakeup: wakeup)
        var readsOutboxRows = configuration.readsTable
        if case .debezium = configuration.recordFormat { readsOutboxRows = false }
        if let mark = configuration.markPublished, readsOutboxRows, let key = configuration.tableFormat.eventID {
            rowMarker = PublishedRowMarker(database: configuration.database, mark: mark, primaryKeyColumn: key, logger: logger)
        } else {
            rowMarker = nil
        }
        if let settings = configuration.retention, configuration.readsTable {
            retention = OutboxRetention(database: configuration.database, tables: configuration.tables, settings: settings, logger: logger)
        } else {
            retention = nil
        }
    }

    /// What is done for the relay being replaced, beside publishing: its marks and its cleanup, said at start.
    private func logTakeover() {
        guard configuration.readsTable else { return }
        let format = configuration.tableFormat
        if let mark = rowMarker != nil ? configuration.markPublished : nil {
            let what: String = switch mark {
            case .delete: "delete"
            case .update(let assignments, _): assignments
            }
            logger.info("marking published rows as the old relay did, once Kafka has acknowledged their transaction (--mark-published)", metadata: [
                "cdc.table_format": "\(format.name)", "cdc.mark": "\(what)", "cdc.mark_by": "\(format.eventID ?? "")",
            ])
        }
        if let retention = configuration.retention {
            let isDefault = retention.age == format.defaultRetention
            logger.info("retention: deleting outbox rows older than the retention age\(isDefault ? " (the \(format.name) relay's own cleanup interval)" : "")", metadata: [
                "cdc.retention_s": "\(retention.age.milliseconds / 1000)", "cdc.retention_column": "\(retention.column)",
                "cdc.retention_keeps": "\(retention.keepCondition ?? "nothing")",
            ])
            if rowMarker == nil, case .update(let assignments, _)? = format.publishedMark, assignments.contains(retention.column) {
                logger.warning("retention measures age by a column only --mark-published sets, and marks are off: nothing will be deleted; name another with --retention-column", metadata: [
                    "cdc.retention_column": "\(retention.column)",
                ])
            }
        } else if format.name != "eventrouter", format.name != "generic" {
            logger.info("retention: off, outbox rows are kept (--retention deletes them)", metadata: ["cdc.table_format": "\(format.name)"])
        }
    }

    /// Hands the rows of newly confirmed transactions to the marker (`--mark-published`).
    func markConfirmedRows(_ rows: [PublishedRow]) {
        rowMarker?.submit(rows)
    }

    /// Where the connector is in its life.
    public var lifecycle: ConnectorLifecycle {
        control.withLock { $0.lifecycle }
    }

    /// What readiness is judged on; cheap, from any thread.
    public var health: ConnectorHealth {
        control.withLock { control in
            ConnectorHealth(
                streaming: control.lifecycle == .streaming, slotLagBytes: control.slotLagBytes, eventsInFlight: control.eventsInFlight,
                acknowledgementWait: control.eventsInFlight > 0 ? control.lastProgress.duration(to: .now) : .zero
            )
        }
    }

    /// The position last confirmed (or to be confirmed next) to PostgreSQL.
    public var confirmedPosition: LSN {
        control.withLock { $0.confirmed }
    }

    /// Asks `run` to stop: it stops reading, waits up to `shutdownTimeout` for Kafka, confirms what was
    /// acknowledged and returns. Safe from any thread, any number of times.
    public func stop() {
        let finishBy = ContinuousClock.now + configuration.shutdownTimeout
        control.withLock { control in
            guard control.stopBy == nil else { return }
            control.stopBy = finishBy
            if control.lifecycle == .starting || control.lifecycle == .streaming { control.lifecycle = .stopping }
        }
        wakeup.signal()
    }

    /// The stop's deadline, once `stop()` was called.
    var stopDeadline: ContinuousClock.Instant? {
        control.withLock { $0.stopBy }
    }

    /// Streams until `stop()`, the task's cancellation (an orderly stop too) or a fatal error. Suspends the
    /// caller; the work runs on its own thread.
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await DedicatedThread.run(name: "cdc-wal-reader") { [self] in
                do {
                    try self.runBlocking()
                    self.enter(.stopped)
                } catch {
                    self.enter(.failed)
                    throw error
                }
            }
        } onCancel: {
            self.stop()
        }
    }

    func enter(_ lifecycle: ConnectorLifecycle) {
        control.withLock { control in
            // A stop asked for stays asked for: streaming again after it is still stopping.
            if lifecycle == .streaming, control.stopBy != nil {
                control.lifecycle = .stopping
            } else {
                control.lifecycle = lifecycle
            }
        }
        metrics.streaming.record(lifecycle == .streaming ? 1 : 0)
    }

    /// The reading thread's whole life: the producer, then sessions of streaming with reconnects.
    func runBlocking() throws(ConnectorError) {
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(
                configuration: configuration.producerProperties,
                logger: logger,
                fatalErrorHandler: { [inbox] error in inbox.post(.producerFailed(error)) },
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
        logTakeover()
        if case .debezium(let settings) = configuration.recordFormat {
            logger.info("writing Debezium's records", metadata: [
                "debezium.topic_prefix": "\(settings.topicPrefix)", "debezium.run_id": "\(settings.runID)",
                "debezium.key_converter": "\(settings.keyConverter.kind.rawValue)",
                "debezium.value_converter": "\(settings.valueConverter.kind.rawValue)",
            ])
        }

        var progress = ConnectorProgress()
        rowMarker?.start()
        defer {
            retention?.stop()
            if let rowMarker {
                rowMarker.submit(progress.takeConfirmedRows())
                // The marks of the last confirmations get a moment; what is left is logged, not lost: the
                // events are in Kafka, only the old relay's bookkeeping lags.
                rowMarker.finish(by: .now + min(configuration.shutdownTimeout, .seconds(10)))
            }
        }
        var backoff = configuration.reconnectBackoff
        var standingBy = false
        while stopDeadline == nil {
            do {
                try stream(to: producer, progress: &progress, onStreaming: {
                    backoff.reset()
                    standingBy = false
                    enter(.streaming)
                    // The slot exists now (after any handover): rows deleted from here on are in its WAL.
                    retention?.start()
                })
                notStreaming()
                return
            } catch {
                notStreaming()
                switch error.reason {
                case .fatal(let fatal):
                    throw fatal
                case .slotBusy(let reason):
                    // Hot standby: another instance streams from the slot. Poll at a short fixed
                    // interval so that a takeover is quick, and say so once rather than every time.
                    if !standingBy {
                        logger.info("standing by: \(reason); taking over when it is released", metadata: [
                            "cdc.slot": "\(configuration.slot)",
                        ])
                        standingBy = true
                    }
                    wait(configuration.standbyPollInterval, progress: &progress)
                case .transient(let reason):
                    metrics.reconnects.increment()
                    let delay = backoff.next()
                    logger.warning("replication interrupted; reconnecting", metadata: [
                        "error": "\(reason)", "retry.in_ms": .stringConvertible(delay.milliseconds),
                    ])
                    wait(delay, progress: &progress)
                }
                if let fatal = progress.fatalError { throw fatal }
            }
        }
        // Stopped while not connected: what was in flight still gets its chance to be acknowledged,
        // and the next start resumes from the slot's last confirmation.
        drain(producer)
        absorbDeliveries(into: &progress)
    }

    /// The row mapper for a session. Debezium's needs the table's NOT NULL columns, read per session, and
    /// starts its value-schema cache afresh, as a restarted Debezium task does; its change events need the
    /// captured tables as the catalog describes them (`capturedTables`).
    func rowMapper(for source: PreparedSource, capturedTables: [QualifiedTableName: CapturedTable] = [:]) throws(StreamingError) -> RowMapper {
        guard case .debezium(let settings) = configuration.recordFormat else {
            return .native(
                OutboxEventMapper(tables: configuration.tables, format: configuration.tableFormat),
                messages: configuration.messagePrefix.map(LogicalMessageRouter.init(prefix:))
            )
        }
        do {
            let messages = try DebeziumMessageWriter(settings: settings)
            switch settings.records {
            case .outboxEvents(let eventRouter):
                let mapper = try DebeziumOutboxMapper(settings: settings, eventRouter: eventRouter, notNullColumns: source.notNullColumns)
                return .debezium(mapper, messages: messages, databaseName: source.database)
            case .changeEvents(let changeEvents):
                let mapper = ChangeEventMapper(
                    records: settings, settings: changeEvents, skippedOperations: settings.skippedOperations, capturedTables: capturedTables
                )
                return .changeEvents(mapper, messages: messages, connectorName: settings.topicPrefix, databaseName: source.database)
            }
        } catch {
            throw StreamingError(.debeziumRecord(error, lsn: .zero))
        }
    }

    /// The outbox tables as Debezium's `table.include.list` selects them: every table of the catalog it matches.
    func matchTables(_ includeList: TableIncludeList, on control: PostgresConnection, into source: inout ReplicationSource) throws {
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
    func logTableShapes(_ prepared: PreparedSource) {
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

    private func notStreaming() {
        control.withLock { control in
            if control.lifecycle == .streaming { control.lifecycle = .starting }
            // Unknown until the next session has asked the server again.
            control.slotLagBytes = 0
        }
        metrics.streaming.record(0)
    }

    /// The slot's health at each start: how much WAL it pins and whether it is near invalidation.
    func logSlotState(_ slot: SlotState) {
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
    func dropSlot() {
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
    func drain(_ producer: KafkaProducer) {
        if !producer.flush(timeout: configuration.shutdownTimeout) {
            let outstanding = producer.outstandingMessageCount
            control.withLock { $0.unacknowledgedAtStop = outstanding }
            logger.warning("Kafka did not acknowledge every event before the shutdown timeout; they are published again after a restart", metadata: [
                "kafka.outstanding": .stringConvertible(outstanding),
            ])
        } else {
            control.withLock { $0.unacknowledgedAtStop = 0 }
            inbox.waitUntilPosted(recordsHandedToKafka.load(ordering: .relaxed), timeout: .seconds(1))
        }
    }

    /// After `run` returned: how many events Kafka had not acknowledged when the stop's time ran out (they
    /// are published again after a restart); 0 for a complete stop.
    public var eventsUnacknowledgedAtStop: Int {
        control.withLock { $0.unacknowledgedAtStop }
    }

    /// Sleeps, but wakes for `stop()`; what Kafka reports meanwhile is applied to `progress`.
    private func wait(_ delay: Duration, progress: inout ConnectorProgress) {
        let deadline = ContinuousClock.now.advanced(by: delay)
        while stopDeadline == nil, ContinuousClock.now < deadline {
            _ = wakeup.wait(timeout: ContinuousClock.now.duration(to: deadline))
            absorbDeliveries(into: &progress)
        }
    }

    /// Applies what Kafka reported while no session runs (between sessions, at the last drain).
    func absorbDeliveries(into progress: inout ConnectorProgress) {
        for outcome in inbox.takeAll() {
            if let notice = progress.apply(outcome, policy: configuration.onError, now: .now) { say(notice) }
        }
        markConfirmedRows(progress.takeConfirmedRows())
        publishHealth(of: progress, slotLagBytes: nil)
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

    /// A delivery report, on the producer's poll thread: counted, and posted to the reading thread.
    private func delivered(_ report: DeliveryReport) {
        if report.correlation == Self.heartbeatCorrelation {
            inbox.post(.heartbeatReported(report.error))
            return
        }
        if let error = report.error {
            metrics.failed(topic: report.topic)
            inbox.post(.failed(report.correlation, topic: report.topic, eventID: report.idHeaderString ?? "(no id)", error: error, undelivered: report.undelivered))
        } else {
            metrics.published(topic: report.topic, bytes: report.byteCount)
            inbox.post(.acknowledged(report.correlation, at: WallClock.nowMicroseconds(), sinceProduce: report.microsecondsSinceProduce))
        }
    }

    /// The figures readiness is judged on, from the reading thread's progress.
    func publishHealth(of progress: ConnectorProgress, slotLagBytes: UInt64?) {
        control.withLock { control in
            control.eventsInFlight = progress.tracker.eventsInFlight
            control.lastProgress = progress.lastProgress
            control.confirmed = progress.tracker.confirmed
            if let slotLagBytes { control.slotLagBytes = slotLagBytes }
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
}
