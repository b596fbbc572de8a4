import DebeziumFormat
import KafkaClient
import PgOutputDecoder
import PostgresLSN
import PostgresNames
import WALReader

/// Taking over from a polling relay: the rows it left unpublished are read in the snapshot a new slot
/// starts from and published before streaming, so that every row is published once — the pending ones
/// from the snapshot, everything committed later from the slot.
///
/// Under Debezium's change events this is its initial snapshot: every row of the captured tables, in table
/// name order, published as reads (op `r`) with their place in the snapshot (`SnapshotMarker`), carrying the
/// snapshot transaction's xid and start time and the slot's consistent point, as Debezium's snapshot does.
///
/// The slot is first created TEMPORARY, so that PostgreSQL drops it if outbox-cdc dies before Kafka has
/// acknowledged every pending row; only then is it copied to the permanent slot, at the same position.
/// A start that finds the permanent slot has nothing left to hand over.
extension OutboxConnector {
    /// Rows fetched per round trip from the cursor over the pending rows.
    private static let pendingRowsPerFetch = 1000

    /// Publishes the pending rows through a session machine of its own (the same mapping, error policy and
    /// checkpoint rules as streaming), then makes the slot permanent once Kafka has acknowledged every one.
    /// Returns false when a stop came first (nothing permanent happened).
    func handOverPendingRows(
        producer: KafkaProducer, mapper: RowMapper, tables: [QualifiedTableName], source: ReplicationSource, prepared: PreparedSource,
        progress: inout ConnectorProgress
    ) throws(StreamingError) -> Bool {
        let format = configuration.tableFormat
        let temporarySlot = String(configuration.slot.prefix(54)) + "_handover"
        let replication: PostgresConnection
        let exported: ExportedSnapshotSlot
        let reader: PostgresConnection
        do {
            replication = try PostgresConnection.connect(configuration.database, replication: true)
            exported = try replication.createTemporarySlotExportingSnapshot(temporarySlot)
            reader = try PostgresConnection.connect(configuration.database)
            try reader.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try reader.query("SET TRANSACTION SNAPSHOT \(try reader.literal(exported.snapshotName))")
        } catch {
            throw StreamingError(error)
        }
        defer { replication.close() }
        let readsSnapshot = mapper.publishesChangeEvents
        // Debezium snapshots the captured tables in the order of their names.
        let tables = readsSnapshot ? tables.sorted { ($0.schema, $0.name) < ($1.schema, $1.name) } : tables
        if readsSnapshot {
            logger.info("initial snapshot of the captured tables (snapshot.mode): publishing their rows as reads", metadata: [
                "cdc.table": "\(tables.map(\.description).joined(separator: ","))", "cdc.lsn": "\(exported.consistentPoint)",
            ])
        } else {
            logger.info("taking over from a polling relay: publishing the rows it left pending", metadata: [
                "cdc.table_format": "\(format.name)", "cdc.table": "\(tables.map(\.description).joined(separator: ","))",
                "cdc.pending_condition": "\(format.pendingCondition ?? "(every row)")", "cdc.lsn": "\(exported.consistentPoint)",
            ])
        }
        var snapshotTransaction: (id: UInt32?, startTime: Int64) = (nil, 0)
        if readsSnapshot {
            do {
                // Debezium's snapshot reads carry its snapshot transaction's xid and start time.
                let facts = try reader.query("SELECT txid_current() % 4294967296, (extract(epoch FROM now()) * 1000000)::int8").rows.first
                snapshotTransaction = (facts?[0].flatMap { UInt32($0) }, facts?[1].flatMap { Int64($0) } ?? 0)
            } catch {
                throw StreamingError(error)
            }
        }

        var rules = sessionRules(source: source, prepared: prepared)
        rules.heartbeatInterval = nil
        var handOver = HandOver(
            connector: self, producer: producer,
            machine: SessionMachine(rules: rules, progress: progress, decoder: PgOutputDecoder(protocolVersion: 1), mapper: mapper, now: .now)
        )
        defer { progress = handOver.machine.progress }
        handOver.machine.beginHandOver(at: exported.consistentPoint, transactionID: snapshotTransaction.id, startTime: snapshotTransaction.startTime)
        var published = 0
        // A snapshot read waits for the next row, which decides its marker (the last of its table, of the snapshot).
        var held: SnapshotRow?
        func publish(_ row: SnapshotRow, lastOfSnapshot: Bool) throws(StreamingError) -> Bool {
            let marker = SnapshotMarker.of(
                firstTable: row.tableIndex == 0, lastTable: row.tableIndex == tables.count - 1, firstInTable: row.firstInTable,
                lastInTable: row.lastInTable, lastOfSnapshot: lastOfSnapshot
            )
            return try handOver.handleSnapshotRead(row.insert, marker: marker, at: exported.consistentPoint)
        }
        do {
            // One table after the other, all in the one snapshot.
            for (index, table) in tables.enumerated() {
                let relation = try pendingRowsRelation(reader, table: table, relationID: UInt32(index))
                guard try handOver.handle(.relation(relation), at: exported.consistentPoint) else { return false }
                try reader.query(try pendingRowsCursor(reader, table: table, columns: relation.columns.map(\.name)))
                var firstInTable = true
                while true {
                    let batch = try reader.query("FETCH \(Self.pendingRowsPerFetch) FROM outbox_cdc_pending")
                    for row in batch.rows {
                        let columns = row.map { value in
                            value.map { PgOutputMessage.TupleData.Column.text(Array($0.utf8)[...]) } ?? .null
                        }
                        let insert = PgOutputMessage.Insert(transactionID: nil, relationID: relation.relationID, newTuple: .init(columns: columns))
                        published += 1
                        guard readsSnapshot else {
                            guard try handOver.handle(.insert(insert), at: exported.consistentPoint) else { return false }
                            continue
                        }
                        if let previous = held, !(try publish(previous, lastOfSnapshot: false)) { return false }
                        held = SnapshotRow(insert: insert, tableIndex: index, firstInTable: firstInTable, lastInTable: false)
                        firstInTable = false
                    }
                    if batch.rows.count < Self.pendingRowsPerFetch { break }
                }
                if held?.tableIndex == index { held?.lastInTable = true }
                try reader.query("CLOSE outbox_cdc_pending")
            }
            if let last = held, !(try publish(last, lastOfSnapshot: true)) { return false }
            try reader.query("COMMIT")
        } catch let error as StreamingError {
            throw error
        } catch let error as PostgresError {
            throw StreamingError(error)
        } catch {
            throw StreamingError(reason: .transient("\(error)"))
        }
        reader.close()
        let commit = PgOutputMessage.Commit(flags: 0, commitLSN: exported.consistentPoint, endLSN: exported.consistentPoint, commitTimestamp: .init(microsecondsSincePostgresEpoch: 0))
        guard try handOver.handle(.commit(commit), at: exported.consistentPoint) else { return false }
        // Every pending row acknowledged, or nothing permanent happens.
        guard try handOver.settle() else { return false }
        // The commit above may have been what confirmed them: their marks go now, not with a later report.
        markConfirmedRows(handOver.machine.takeConfirmedRows())
        do {
            let control = try PostgresConnection.connect(configuration.database)
            try control.copyLogicalSlot(temporarySlot, to: configuration.slot)
            control.close()
        } catch {
            throw StreamingError(error)
        }
        logger.info(readsSnapshot ? "snapshot published, slot created where it was read" : "handed over: pending rows published, slot created where they were read", metadata: [
            "cdc.events": "\(published)", "cdc.slot": "\(configuration.slot)", "cdc.lsn": "\(exported.consistentPoint)",
        ])
        return true
    }

    /// A row of the initial snapshot, with what its marker depends on.
    private struct SnapshotRow {
        var insert: PgOutputMessage.Insert
        var tableIndex: Int
        var firstInTable: Bool
        var lastInTable: Bool
    }

    /// Drives the hand-over's machine: no replication stream, so status updates are not sent and reading
    /// means the next row.
    private struct HandOver {
        let connector: OutboxConnector
        let producer: KafkaProducer
        var machine: SessionMachine

        /// Hands one row (or the Relation, or the Commit) to the machine and carries out what it asks until it
        /// wants the next. Returns false on a stop.
        mutating func handle(_ message: PgOutputMessage, at position: LSN) throws(StreamingError) -> Bool {
            machine.enqueue(message, at: position)
            return try carryOut()
        }

        /// Hands one row of the initial snapshot to the machine, as a read at its place in the snapshot.
        mutating func handleSnapshotRead(_ row: PgOutputMessage.Insert, marker: SnapshotMarker, at position: LSN) throws(StreamingError) -> Bool {
            machine.enqueueSnapshotRead(row, marker: marker, at: position)
            return try carryOut()
        }

        /// Waits until Kafka has acknowledged every row (dead letters included). Returns false on a stop.
        mutating func settle() throws(StreamingError) -> Bool {
            while !machine.isSettled {
                _ = producer.flush(timeout: .milliseconds(200))
                guard try carryOut() else { return false }
            }
            return true
        }

        private mutating func carryOut() throws(StreamingError) -> Bool {
            while true {
                _ = connector.takeDeliveries(into: &machine)
                if connector.stopDeadline != nil { return false }
                switch machine.nextAction(now: .now) {
                case .read, .sendStatus, .runHeartbeat:
                    // Between rows: nothing to read, no stream to tell.
                    return true
                case .produce(let record):
                    connector.produce(record, with: producer, reportingTo: &machine)
                case .waitForQueueRoom(let timeout):
                    _ = producer.waitForQueueSpace(timeout: timeout)
                    machine.queueMayHaveRoom()
                case .notice(let notice):
                    connector.say(notice)
                case .ask(let question):
                    throw StreamingError(reason: .transient("the hand-over of pending rows needed the catalog (\(question)), which it does not ask"))
                case .finish:
                    return false
                case .fail(let error, _):
                    throw StreamingError(error)
                case .reconnect(let reason):
                    throw StreamingError(reason: .transient(reason))
                }
            }
        }
    }

    /// The outbox table's columns, in the table's order, as a Relation for the mapper: the cursor reads them
    /// all, as pgoutput sends them all.
    private func pendingRowsRelation(_ reader: PostgresConnection, table: QualifiedTableName, relationID: UInt32) throws -> PgOutputMessage.Relation {
        PgOutputMessage.Relation(
            transactionID: nil, relationID: relationID, namespace: table.schema, name: table.name, replicaIdentity: .default,
            columns: try reader.columns(of: table).map { column in
                .init(flags: 0, name: column.name, typeOID: column.typeOID, typeModifier: column.typeModifier)
            }
        )
    }

    private func pendingRowsCursor(_ reader: PostgresConnection, table: QualifiedTableName, columns: [String]) throws -> String {
        let format = configuration.tableFormat
        let list = try columns.map { name in try reader.identifier(name) }.joined(separator: ", ")
        var sql = "DECLARE outbox_cdc_pending NO SCROLL CURSOR FOR SELECT \(list) FROM "
            + (try reader.identifier(table))
        if let condition = format.pendingCondition { sql += " WHERE \(condition)" }
        if let order = format.pendingOrder { sql += " ORDER BY \(order)" }
        return sql
    }
}
