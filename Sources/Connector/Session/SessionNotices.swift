import Clocks
import KafkaClient
import Logging
import PostgresLSN

/// The reading thread's log lines and metrics for what its session machine reports.
extension OutboxConnector {
    func say(_ notice: SessionNotice) {
        switch notice {
        case .acknowledged(let timing):
            acknowledged(timing)
        case .heartbeatNotDelivered(let error):
            logger.warning("Kafka did not take a heartbeat record", metadata: ["error": "\(error)"])
        case .relationDescribed(let name, let relationID, let isOutbox):
            logger.debug("relation described", metadata: [
                "pg.relation": "\(name)", "pg.relation_id": .stringConvertible(relationID), "cdc.is_outbox": "\(isOutbox)",
            ])
        case .relationRole(let role, let relationID, let position):
            announce(role, relationID: relationID, lsn: position)
        case .mappingWarning(let warning, let eventID, let position):
            logger.warning("\(warning)", metadata: ["event.id": "\(eventID)", "cdc.lsn": "\(position)"])
        case .rowIgnored(let table, let reason):
            metrics.rowIgnored(table: table, reason: reason)
        case .outboxTruncated(let position):
            logger.info("TRUNCATE of the outbox table ignored", metadata: ["cdc.lsn": "\(position)"])
        case .finishingTransactionBeforeStop:
            logger.info("stopping: finishing the transaction being read first")
        case .skipped(let eventID, let position, let error, let table):
            logger.error("skipped an event that cannot be published", metadata: [
                "event.id": "\(eventID)", "cdc.lsn": "\(position)", "error": "\(error)", "cdc.on_error": "skip",
            ])
            metrics.rowIgnored(table: table?.description ?? "unknown", reason: .onErrorSkip)
        case .skippedRefusedRecord(let eventID, let topic, let error, let lsn):
            metrics.rowIgnored(table: "unknown", reason: .onErrorSkip)
            logger.error("skipped an event Kafka refuses", metadata: [
                "event.id": "\(eventID)", "kafka.topic": "\(topic)", "error": "\(error)", "cdc.on_error": "skip",
                "cdc.lsn": "\(lsn.map { "\($0)" } ?? "in a transaction still arriving")",
            ])
        case .deadLettered(let eventID, let position, let error, let topic):
            logger.error("sent an event that cannot be published to the dead-letter topic", metadata: [
                "event.id": "\(eventID)", "cdc.lsn": "\(position)", "error": "\(error)", "kafka.topic": "\(topic)",
            ])
        case .refusedRecordDeadLettered(let eventID, let reason, let topic):
            logger.error("Kafka refused an event; sent it to the dead-letter topic", metadata: [
                "event.id": "\(eventID)", "error": "\(reason)", "kafka.topic": "\(topic)",
            ])
        case .streamedTransactionCommitted(let transactionID, let changes, let position):
            logger.debug("streamed transaction committed", metadata: [
                "pg.xid": .stringConvertible(transactionID), "cdc.changes": .stringConvertible(changes), "cdc.lsn": "\(position)",
            ])
        case .streamedTooMuch(let heldBytes, let position):
            logger.warning("streamed transactions held in memory passed --stream-max-held-bytes; reconnecting without --stream-in-progress for the rest of this run", metadata: [
                "cdc.held_bytes": .stringConvertible(heldBytes), "cdc.lsn": "\(position)",
            ])
        case .transactionContinued(let transactionID, let passedOver, let commitLSN):
            logger.info("continuing the transaction the broken session was reading: its changes already handed to Kafka are not published again", metadata: [
                "pg.xid": .stringConvertible(transactionID), "cdc.changes_passed_over": .stringConvertible(passedOver), "cdc.lsn": "\(commitLSN)",
            ])
        }
    }

    /// Kafka acknowledged an event: its commit-to-acknowledgement time.
    func acknowledged(_ timing: AcknowledgementTiming) {
        let behind = max(0, timing.acknowledgedAt - timing.commitTime)
        metrics.commitToAcknowledgement.recordNanoseconds(behind * 1000)
        metrics.lastAcknowledgedEventDelay.record(Double(behind) / 1_000_000)
        timingObserver?.acknowledged(timing)
    }

    /// A status update told the server of a position Kafka's acknowledgement had completed, this long after
    /// that acknowledgement reached outbox-cdc.
    func confirmed(acknowledgementToConfirmationMicroseconds microseconds: Int64) {
        metrics.acknowledgementToConfirmation.recordNanoseconds(microseconds * 1000)
        timingObserver?.confirmed(microseconds)
    }

    /// librdkafka took a record: its timings, and a trace line. The event id's text is made only when the line
    /// is written.
    func handedToKafka(_ record: RecordToProduce, readAt: Int64) {
        recordsHandedToKafka.add(1, ordering: .relaxed)
        if let timingObserver, record.commitTime != 0 {
            timingObserver.produced(ProduceTiming(
                commitTime: record.commitTime, walSentTime: record.walSentTime, readTime: readAt, producedTime: WallClock.nowMicroseconds()
            ))
        }
        guard logger.logLevel <= .trace else { return }
        logger.trace("produced", metadata: ["event.id": "\(record.event.eventIDText)", "kafka.topic": "\(record.event.topic)", "cdc.lsn": "\(record.position)"])
    }

    /// Gauges and the confirmed-transactions counter at each status update, and a stall of Kafka's
    /// acknowledgements when one began, goes on or ended.
    func recordStatus(_ update: StatusUpdate, producerQueueDepth: Int) {
        // Microseconds, as PostgreSQL's commit times; a clock behind the server's reads as no age, not a negative one.
        let oldestAge = update.oldestUnacknowledgedCommitTime.map { max(0, WallClock.nowMicroseconds() - $0) }
        metrics.confirmedLSN.record(Double(update.confirmed.rawValue))
        metrics.slotLagBytes.record(Double(update.slotLagBytes))
        metrics.eventsInFlight.record(update.eventsInFlight)
        metrics.producerQueueDepth.record(producerQueueDepth)
        metrics.oldestUnacknowledgedEventAge.record(Double(oldestAge ?? 0) / 1_000_000)
        if update.newlyConfirmedTransactions > 0 {
            metrics.transactionsConfirmed.increment(by: Int(update.newlyConfirmedTransactions))
        }
        if let stall = update.stall {
            logStall(stall, eventsWaiting: update.eventsInFlight, oldestAgeMicroseconds: oldestAge)
        }
    }

    /// Logs a relation's role the first time this run sees it (the machine says it once): a partition or
    /// child mapped to its outbox table, or another table whose rows are ignored.
    private func announce(_ role: RelationRole, relationID: UInt32, lsn: LSN) {
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

}
