import DebeziumFormat
import KafkaClient
import Logging
import PgOutputDecoder
import PostgresLSN
import PostgresNames
import WALReader

/// A session's start: the table, the publication and the slot checked or created, the rows a polling relay
/// left pending handed over, the position to resume from decided, the stream started; then its driver runs.
extension OutboxConnector {
    /// One replication session: connect, check, stream until stopped. Returns normally only on stop; a
    /// reconnect or a fatal error is thrown. `progress` is the run's, carried from session to session.
    func stream(to producer: KafkaProducer, progress: inout ConnectorProgress, onStreaming: () -> Void) throws(StreamingError) {
        var source = ReplicationSource(
            slot: configuration.slot, publication: configuration.publication, table: configuration.table,
            additionalTables: configuration.additionalTables,
            // Change events describe whatever columns a captured table has.
            requiredColumns: configuration.changeEventValueModes == nil ? configuration.tableFormat.columns : [],
            createMissing: configuration.createMissing,
            readsTable: configuration.readsTable
        )
        source.slotKnownToExist = progress.slotSeen
        source.onSlotLost = configuration.onSlotLost
        source.failoverSlot = configuration.failoverSlot
        source.createViaPartitionRoot = configuration.publicationViaPartitionRoot
        source.createsMissingPublication = configuration.createMissingPublication
        source.createForAllTables = configuration.createPublicationForAllTables
        source.publishedOperations = configuration.publishedOperations
        let connection: PostgresConnection
        let preparedSource: PreparedSource
        let prepared: PreparedSlot
        var capturedTables: [QualifiedTableName: CapturedTable] = [:]
        do {
            // Table and publication over an ordinary connection, closed before the walsender starts
            // (on an error, its deinit closes it); the slot over the replication connection that streams.
            let control = try PostgresConnection.connect(configuration.database)
            if let includeList = configuration.debeziumTableIncludeList {
                try matchTables(includeList, on: control, into: &source)
            }
            preparedSource = try control.prepareSource(for: source)
            if let modes = configuration.changeEventValueModes {
                // Before anything streams: a column whose change events are not reproduced stops the start.
                for table in source.tables { capturedTables[table] = try Self.capturedTable(table, modes: modes, on: control) }
            }
            if let condition = configuration.tableFormat.deadLetterCondition, configuration.readsTable, !progress.deadLettersCounted {
                try logDeadLetters(condition, tables: source.tables, on: control)
                progress.deadLettersCounted = true
            }
            // Matched partitions come and go with rotation: only the others are watched for being dropped.
            source.watchedTables = source.tables.filter { if case .partition = preparedSource.shapes[$0] { false } else { true } }
            // Change events capture tables that come and go with the application's schema: Debezium goes on
            // when one is dropped, and so does outbox-cdc (no outbox to lose).
            if configuration.changeEventValueModes != nil { source.watchedTables = [] }
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
                guard try handOverPendingRows(producer: producer, mapper: rowMapper(for: preparedSource, capturedTables: capturedTables), tables: snapshotTables, source: source, prepared: preparedSource, progress: &progress) else {
                    // Stopped before the hand-over was complete: the temporary slot goes with its connection.
                    drain(producer)
                    return
                }
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
        progress.slotSeen = true
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
        guard configuration.streamsChanges else {
            // Debezium's snapshot.mode=initial_only: the snapshot, then nothing; its slot stays as Debezium's does.
            logger.warning("snapshot.mode=initial_only: nothing is streamed; the replication slot stays and holds WAL until it is dropped", metadata: [
                "cdc.slot": "\(configuration.slot)", "cdc.lsn": "\(prepared.confirmedFlush)",
            ])
            connection.close()
            onStreaming()
            while stopDeadline == nil { _ = wakeup.wait(timeout: .seconds(1)) }
            return
        }
        let server = ServerHistory(systemIdentifier: prepared.systemIdentifier, timeline: prepared.timeline)
        var switchPoint: LSN?
        if let previousTimeline = ResumePosition.timelineToLookUp(previous: progress.history, current: server) {
            do {
                switchPoint = try connection.timelineSwitchPoint(of: previousTimeline, current: prepared.timeline)
            } catch {
                throw StreamingError(error)
            }
        }
        let resume = ResumePosition.decide(
            progress: &progress, server: server, serverWAL: prepared.serverWALPosition, slotConfirmed: prepared.confirmedFlush,
            switchPoint: switchPoint
        )
        // The slot's own position is confirmed already, whatever the tracker heard.
        _ = progress.tracker.serverSent(upTo: prepared.confirmedFlush)
        logResume(resume, slotConfirmed: prepared.confirmedFlush, timeline: prepared.timeline)
        let start = resume.start
        let protocolVersion = configuration.protocolVersion
            ?? Self.highestProtocolVersion(serverVersion: connection.serverVersionNumber)

        // In-progress transactions (protocol 2+): `parallel` from protocol 4 on, for Stream Abort's LSN and time.
        let streamInProgress = configuration.streamInProgress && !progress.streamingTurnedOff
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

        let rules = sessionRules(source: source, prepared: preparedSource)
        var driver = SessionDriver(
            connector: self, producer: producer, replication: replication,
            machine: SessionMachine(
                rules: rules, progress: progress,
                decoder: PgOutputDecoder(protocolVersion: protocolVersion),
                mapper: try rowMapper(for: preparedSource, capturedTables: capturedTables), now: .now
            ),
            serverWatch: ServerWatch(
                source: source, database: configuration.database, interval: configuration.serverCheckInterval,
                family: outboxFamily, familyRoots: rules.outboxTablesByLineage
            )
        )
        defer {
            driver.close()
            replication.finish()
        }
        do {
            try driver.run()
            progress = driver.machine.progress
        } catch {
            progress = driver.progressAfterBreak()
            throw error
        }
        if configuration.dropSlotOnStop {
            replication.finish()
            dropSlot()
        }
    }

    /// A captured table as the catalog describes it, its errors as a session's.
    private static func capturedTable(_ table: QualifiedTableName, modes: ColumnValueModes, on control: PostgresConnection) throws(StreamingError) -> CapturedTable {
        do {
            return try control.capturedTable(table, modes: modes)
        } catch {
            if case .catalog(let postgres) = error { throw StreamingError(postgres) }
            throw StreamingError(.capturedTable(error))
        }
    }

    /// This session's rules for its machine.
    /// The old relay's dead letters (rows it gave up on) are left alone: never published from the table,
    /// never deleted. Their count is said once a run, so that nobody mistakes them for outbox-cdc's.
    private func logDeadLetters(_ condition: String, tables: [QualifiedTableName], on control: PostgresConnection) throws(PostgresError) {
        for table in tables {
            let name = try control.identifier(table)
            let count = try control.query("SELECT count(*) FROM \(name) WHERE \(condition)").rows.first?.first ?? nil
            guard let count, count != "0" else { continue }
            logger.warning("the table holds rows the old relay gave up on (its dead letters); outbox-cdc leaves them alone (it neither publishes nor deletes them)", metadata: [
                "cdc.table": "\(table)", "cdc.table_format": "\(configuration.tableFormat.name)", "cdc.dead_letter_condition": "\(condition)",
                "cdc.dead_letter_rows": "\(count)",
            ])
        }
    }

    func sessionRules(source: ReplicationSource, prepared: PreparedSource) -> SessionMachine.Rules {
        SessionMachine.Rules(
            onError: configuration.onError, statusInterval: configuration.statusInterval,
            heartbeatInterval: configuration.heartbeat?.interval, streamMaxHeldBytes: configuration.streamMaxHeldBytes,
            eventIDColumn: configuration.tableFormat.eventID,
            outboxTables: source.readsTable ? source.tables : [],
            outboxTablesByLineage: Self.outboxTablesByLineage(source: source, prepared: prepared),
            publicationListsTables: prepared.publication?.listsTables ?? false,
            includeList: configuration.debeziumTableIncludeList, readsTable: configuration.readsTable,
            publication: configuration.publication, marksPublishedRows: rowMarker != nil
        )
    }

    /// The tables whose partitions and children carry outbox rows: the outbox tables, and (Debezium's list
    /// may match partitions only) the partitioned tables of matched partitions, whose other partitions are
    /// still the outbox's, never another table's.
    private static func outboxTablesByLineage(source: ReplicationSource, prepared: PreparedSource) -> [QualifiedTableName] {
        let outboxTables = source.readsTable ? source.tables : []
        return outboxTables + outboxTables.compactMap { table in
            if case .partition(let root) = prepared.shapes[table], !outboxTables.contains(root) { root } else { nil }
        }
    }

    /// Says where streaming resumes when it is not simply the slot's position.
    private func logResume(_ resume: ResumePosition, slotConfirmed: LSN, timeline: Int) {
        switch resume.reason {
        case .firstSession:
            break
        case .sameHistory(let ahead):
            guard ahead > 0 else { return }
            logger.info("resuming from what Kafka has acknowledged or holds, past the slot's confirmed position: nothing before it is published again", metadata: [
                "cdc.resume_lsn": "\(resume.start)", "pg.slot.confirmed_lsn": "\(slotConfirmed)", "cdc.ahead_of_slot_bytes": .stringConvertible(ahead),
            ])
        case .serverWALBehind(let serverWAL, let handedOver):
            logger.warning("the server's WAL ends before what outbox-cdc had read from it: resuming from the slot's position, so events after it may be published again", metadata: [
                "pg.wal_lsn": "\(serverWAL)", "cdc.read_lsn": "\(handedOver)", "cdc.resume_lsn": "\(resume.start)",
            ])
        case .newTimeline(let previous, let switchPoint, let rewoundFrom):
            var metadata: Logger.Metadata = [
                "pg.timeline.previous": .stringConvertible(previous), "pg.timeline": .stringConvertible(timeline),
                "pg.timeline.switch_lsn": "\(switchPoint.map { "\($0)" } ?? "unknown")", "cdc.lsn": "\(rewoundFrom ?? resume.start)",
            ]
            if rewoundFrom != nil {
                metadata["cdc.resume_lsn"] = "\(resume.start)"
                logger.error("the new primary's history forked before the position outbox-cdc had confirmed: events from the old primary after the fork may have been published although the new primary lacks them; streaming resumes at the fork", metadata: metadata)
            } else {
                logger.info("the server is on a new timeline (a failover); its history includes everything confirmed", metadata: metadata)
            }
        case .otherSystem(let previous):
            logger.warning("the server is another database cluster than before (a new system identifier): resuming from the slot's position", metadata: [
                "pg.system_id.previous": "\(previous)", "cdc.resume_lsn": "\(resume.start)",
            ])
        }
    }
}
