import PostgresLSN
import WALReader

/// The outbox tables, publication and slots one benchmark run creates, all named after a random run id so
/// that runs never collide, and all removed by `dropAll()`.
struct BenchObjects {
    let runID: String

    init() {
        runID = String(UInt32.random(in: 0x1000_0000 ... 0xFFFF_FFFF), radix: 16)
    }

    var prefix: String { "outbox_cdc_bench_\(runID)" }
    /// The table outbox-cdc reads (in the publication).
    var cdcTable: String { "\(prefix)_cdc" }
    /// The polling relay's table: the same columns, plus the partial index a poller needs.
    var pollTable: String { "\(prefix)_poll" }
    var publication: String { "\(prefix)_pub" }
    var connectorSlot: String { "\(prefix)_slot" }
    /// A second slot over the same WAL, for the bare read that sets the drain's limit.
    var rawReadSlot: String { "\(prefix)_raw" }

    /// The `aggregatetype` of a mode's events; the EventRouter routes it to `outbox.event.<type>`.
    func aggregateType(_ mode: String) -> String { "bench_\(runID)_\(mode)" }
    func topic(_ mode: String) -> String { "outbox.event.\(aggregateType(mode))" }
}

/// Schema and slot management over an ordinary connection. Blocking: call it from a benchmark thread.
struct BenchDatabase {
    let settings: ConnectionSettings
    let objects: BenchObjects

    /// The outbox shape of the Debezium EventRouter defaults, as the seed pollers' tables also have it,
    /// plus `seq` (the order a poller reads in) and `sent` (what a poller marks).
    static func tableDefinition(_ name: String) -> String {
        """
        CREATE TABLE public.\(name) (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            aggregatetype varchar(255) NOT NULL,
            aggregateid varchar(255) NOT NULL,
            type varchar(255) NOT NULL,
            payload jsonb,
            seq bigserial NOT NULL,
            sent boolean NOT NULL DEFAULT false
        )
        """
    }

    func connect() throws -> PostgresConnection {
        try PostgresConnection.connect(settings.renamed("outbox-cdc-bench"))
    }

    /// Tables, the publication of the CDC table, and the connector's slot (plus the raw-read slot when
    /// asked). Returns the slots' starting LSN.
    @discardableResult
    func create(rawReadSlot: Bool = false) throws -> LSN {
        let connection = try connect()
        defer { connection.close() }
        try connection.query(Self.tableDefinition(objects.cdcTable))
        try connection.query(Self.tableDefinition(objects.pollTable))
        try connection.query("CREATE INDEX \(objects.pollTable)_pending ON public.\(objects.pollTable) (seq) WHERE NOT sent")
        try connection.query("CREATE PUBLICATION \(objects.publication) FOR TABLE public.\(objects.cdcTable) WITH (publish = 'insert')")
        let created = try connection.query("SELECT lsn FROM pg_create_logical_replication_slot('\(objects.connectorSlot)', 'pgoutput')")
        if rawReadSlot {
            try connection.query("SELECT pg_create_logical_replication_slot('\(objects.rawReadSlot)', 'pgoutput')")
        }
        guard let text = created[0, "lsn"], let lsn = LSN(text) else {
            throw BenchError("pg_create_logical_replication_slot returned no LSN")
        }
        return lsn
    }

    /// Removes everything `create` made; a slot still held by an exiting process gets a few seconds.
    func dropAll() {
        guard let connection = try? connect() else { return }
        defer { connection.close() }
        for slot in [objects.connectorSlot, objects.rawReadSlot] {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                guard let result = try? connection.query("SELECT active FROM pg_replication_slots WHERE slot_name = '\(slot)'"),
                      let active = result.rows.first?.first else { break }
                if active == "f" {
                    _ = try? connection.query("SELECT pg_drop_replication_slot('\(slot)')")
                    break
                }
                usleepMilliseconds(50)
            }
        }
        _ = try? connection.query("DROP PUBLICATION IF EXISTS \(objects.publication)")
        _ = try? connection.query("DROP TABLE IF EXISTS public.\(objects.cdcTable), public.\(objects.pollTable)")
    }

    /// The slot's confirmed_flush_lsn and the PID of the process streaming from it (the walsender).
    func slotState(_ connection: PostgresConnection, slot: String) throws -> (confirmed: LSN?, activePID: Int32?) {
        let result = try connection.query("SELECT confirmed_flush_lsn, active_pid FROM pg_replication_slots WHERE slot_name = '\(slot)'")
        guard !result.rows.isEmpty else { throw BenchError("slot \(slot) disappeared") }
        return (result[0, "confirmed_flush_lsn"].flatMap { LSN($0) }, result[0, "active_pid"].flatMap { Int32($0) })
    }

    /// Rows the table's scans have read so far (sequential plus index fetches), from the statistics views.
    func rowsScanned(_ connection: PostgresConnection, table: String) throws -> Int {
        // A fresh snapshot of the statistics, not the one this transaction cached.
        try connection.query("SELECT pg_stat_clear_snapshot()")
        let result = try connection.query("""
            SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS scanned
            FROM pg_stat_user_tables WHERE relid = 'public.\(table)'::regclass
            """)
        return result[0, "scanned"].flatMap { Int($0) } ?? 0
    }
}

extension ConnectionSettings {
    /// The same connection with another `application_name`, so pg_stat_activity tells the parts apart.
    func renamed(_ applicationName: String) -> ConnectionSettings {
        var copy = self
        copy.applicationName = applicationName
        return copy
    }
}
