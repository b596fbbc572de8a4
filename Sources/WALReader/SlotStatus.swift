public import PostgresLSN
public import PostgresNames

/// What `outbox-cdc status` reports: the slot as `pg_replication_slots` describes it, and the publication.
public struct SlotStatus: Sendable {
    public struct Slot: Sendable {
        public var plugin: String?
        public var slotType: String
        public var database: String?
        public var activePID: Int?
        public var confirmedFlush: LSN?
        public var restartLSN: LSN?
        /// `reserved`, `extended`, `unreserved` or `lost`.
        public var walStatus: String?
        /// The server's WAL position minus the confirmed position: what is not yet confirmed.
        public var lagBytes: Int64?
        /// The server's WAL position minus restart_lsn: WAL the slot keeps on the server's disk.
        public var retainedBytes: Int64?
        /// nil before PostgreSQL 17, which has no failover slots.
        public var failover: Bool?
    }

    public struct Publication: Sendable {
        public var settings: PublicationSettings
        /// The tables it publishes, each as PostgreSQL would quote it.
        public var tables: [String]
    }

    /// An outbox table: how it is built (nil when it does not exist).
    public struct OutboxTable: Sendable {
        public var table: QualifiedTableName
        public var shape: OutboxTableShape?
    }

    public var slotName: String
    public var slot: Slot?
    public var publicationName: String
    public var publication: Publication?
    public var outboxTables: [OutboxTable] = []
    public var serverVersion: Int
    public var inRecovery: Bool
}

extension PostgresConnection {
    /// Reads the slot's and the publication's state over an ordinary connection.
    public func slotStatus(slot: String, publication: String, tables: [QualifiedTableName] = []) throws(PostgresError) -> SlotStatus {
        let inRecovery = try isInRecovery()
        let slotState = try replicationSlot(slot, inRecovery: inRecovery)
        var publicationState: SlotStatus.Publication?
        if let settings = try publicationSettings(publication) {
            let tables = try query("""
                SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_publication_tables
                WHERE pubname = \(try literal(publication)) ORDER BY 1
                """).rows.compactMap { $0.first ?? nil }
            publicationState = SlotStatus.Publication(settings: settings, tables: tables)
        }
        var status = SlotStatus(
            slotName: slot, slot: slotState, publicationName: publication, publication: publicationState,
            serverVersion: serverVersionNumber, inRecovery: inRecovery
        )
        for table in tables {
            status.outboxTables.append(SlotStatus.OutboxTable(table: table, shape: try tableShape(of: table)))
        }
        return status
    }

    /// The server is a standby (in recovery).
    func isInRecovery() throws(PostgresError) -> Bool {
        try query("SELECT pg_is_in_recovery() AS in_recovery")[0, "in_recovery"] == "t"
    }

    /// The slot as `pg_replication_slots` describes it; nil when there is none. Works on ordinary and
    /// replication connections alike. On a standby the WAL position is its replay position.
    func replicationSlot(_ slot: String, inRecovery: Bool) throws(PostgresError) -> SlotStatus.Slot? {
        // Failover slots came with PostgreSQL 17; older servers have no such column.
        let hasFailoverSlots = serverVersionNumber >= 170_000
        let position = inRecovery ? "pg_last_wal_replay_lsn()" : "pg_current_wal_lsn()"
        let rows = try query("""
            SELECT plugin, slot_type, database, active_pid, confirmed_flush_lsn, restart_lsn, wal_status,
                   pg_wal_lsn_diff(\(position), confirmed_flush_lsn)::bigint AS lag_bytes,
                   pg_wal_lsn_diff(\(position), restart_lsn)::bigint AS retained_bytes\(hasFailoverSlots ? ", failover" : "")
            FROM pg_replication_slots WHERE slot_name = \(try literal(slot))
            """)
        guard !rows.rows.isEmpty else { return nil }
        return SlotStatus.Slot(
            plugin: rows[0, "plugin"], slotType: rows[0, "slot_type"] ?? "", database: rows[0, "database"],
            activePID: rows[0, "active_pid"].flatMap { Int($0) },
            confirmedFlush: rows[0, "confirmed_flush_lsn"].flatMap(LSN.init),
            restartLSN: rows[0, "restart_lsn"].flatMap(LSN.init), walStatus: rows[0, "wal_status"],
            lagBytes: rows[0, "lag_bytes"].flatMap { Int64($0) },
            retainedBytes: rows[0, "retained_bytes"].flatMap { Int64($0) },
            failover: hasFailoverSlots ? rows[0, "failover"] == "t" : nil
        )
    }
}
