import KafkaClient
import PgOutputDecoder
import PostgresLSN
import WALReader

/// Taking over from a polling relay: the rows it left unpublished are read in the snapshot a new slot
/// starts from and published before streaming, so that every row is published once — the pending ones
/// from the snapshot, everything committed later from the slot.
///
/// The slot is first created TEMPORARY, so that PostgreSQL drops it if outbox-cdc dies before Kafka has
/// acknowledged every pending row; only then is it copied to the permanent slot, at the same position.
/// A start that finds the permanent slot has nothing left to hand over.
extension OutboxConnector {
    /// Rows fetched per round trip from the cursor over the pending rows.
    private static let pendingRowsPerFetch = 1000

    func handOverPendingRows(producer: KafkaProducer, mapper: RowMapper, tables: [QualifiedTableName]) throws(StreamingError) {
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
        logger.info("taking over from a polling relay: publishing the rows it left pending", metadata: [
            "cdc.table_format": "\(format.name)", "cdc.table": "\(tables.map(\.description).joined(separator: ","))",
            "cdc.pending_condition": "\(format.pendingCondition ?? "(every row)")", "cdc.lsn": "\(exported.consistentPoint)",
        ])

        let ticket = state.withLock { $0.tracker.beginTransaction() }
        var published = 0
        do {
            var mapper = mapper
            // One table after the other, all in the one snapshot.
            for (index, table) in tables.enumerated() {
                let relation = try pendingRowsRelation(reader, table: table, relationID: UInt32(index))
                _ = try mapper.register(relation, as: table, at: exported.consistentPoint)
                try reader.query(try pendingRowsCursor(reader, table: table, columns: relation.columns.map(\.name)))
                while true {
                    let batch = try reader.query("FETCH \(Self.pendingRowsPerFetch) FROM outbox_cdc_pending")
                    for row in batch.rows {
                        let columns = row.map { value in
                            value.map { PgOutputMessage.TupleData.Column.text(Array($0.utf8)[...]) } ?? .null
                        }
                        let insert = PgOutputMessage.Insert(transactionID: nil, relationID: relation.relationID, newTuple: .init(columns: columns))
                        let mapped: (OutboxEvent, warning: String?)?
                        do {
                            mapped = try mapper.event(for: insert, at: exported.consistentPoint)
                        } catch {
                            state.withLock { $0.eventProduced(in: ticket) }
                            try poisonedRow(
                                error, insert: insert, table: table, columnNames: relation.columns.map(\.name),
                                lsn: exported.consistentPoint, ticket: ticket, producer: producer
                            ) {}
                            continue
                        }
                        guard let (event, warning) = mapped else { continue }
                        if let warning { logger.warning("\(warning)", metadata: ["event.id": "\(event.eventIDText)"]) }
                        state.withLock { $0.eventProduced(in: ticket) }
                        try produce(event, ticket: ticket, producer: producer) {}
                        published += 1
                    }
                    if batch.rows.count < Self.pendingRowsPerFetch { break }
                }
                try reader.query("CLOSE outbox_cdc_pending")
            }
            try reader.query("COMMIT")
        } catch let error as StreamingError {
            throw error
        } catch let error as PostgresError {
            throw StreamingError(error)
        } catch {
            throw StreamingError(reason: .transient("\(error)"))
        }
        reader.close()
        _ = state.withLock { $0.tracker.commitTransaction(ticket, endLSN: exported.consistentPoint) }

        // Every pending row acknowledged, or nothing permanent happens.
        while !producer.flush(timeout: .milliseconds(200)) || !state.withLock({ $0.tracker.isIdle }) {
            let (stop, fatal) = state.withLock { ($0.stopRequested, $0.fatalError) }
            if let fatal { throw StreamingError(fatal) }
            if stop { throw StreamingError.stopped }
            // Rows Kafka refused complete the snapshot's transaction only once their dead letters are sent.
            try sendPendingDeadLetters(producer: producer) {}
        }
        if let fatal = state.withLock({ $0.fatalError }) { throw StreamingError(fatal) }
        do {
            let control = try PostgresConnection.connect(configuration.database)
            try control.copyLogicalSlot(temporarySlot, to: configuration.slot)
            control.close()
        } catch {
            throw StreamingError(error)
        }
        logger.info("handed over: pending rows published, slot created where they were read", metadata: [
            "cdc.events": "\(published)", "cdc.slot": "\(configuration.slot)", "cdc.lsn": "\(exported.consistentPoint)",
        ])
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
            + "\(try reader.identifier(table.schema)).\(try reader.identifier(table.name))"
        if let condition = format.pendingCondition { sql += " WHERE \(condition)" }
        if let order = format.pendingOrder { sql += " ORDER BY \(order)" }
        return sql
    }
}
