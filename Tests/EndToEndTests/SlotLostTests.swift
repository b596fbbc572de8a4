import Foundation
import Testing
import WALReader

/// A slot dropped under outbox-cdc is never created anew silently.
@Suite("The slot is lost")
struct SlotLostTests {
    /// Drops the slot between outbox-cdc's reconnects: terminate its walsender, drop, until the drop wins.
    private func dropUnderneath(_ database: TestDatabase, slot: String) throws {
        try waitFor("the slot to be dropped", timeout: .seconds(30)) {
            _ = try database.sql("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '\(slot)' AND active_pid IS NOT NULL")
            let dropped = try? database.sql("SELECT pg_drop_replication_slot('\(slot)')")
            return dropped != nil
        }
    }

    @Test func byDefaultADroppedSlotStopsOutboxCDCSayingWhatMayBeLost() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        try dropUnderneath(database, slot: slot)
        #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        #expect(connector.log.contains("was lost (dropped while outbox-cdc was streaming from it)") && connector.log.contains("--on-slot-lost recreate"),
                "\(connector.log)")
        #expect(try database.slot(slot) == nil, "no slot was created silently")
    }

    @Test func recreateCreatesItAnewAndLogsTheGapAtErrorLevel() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database, extra: ["--on-slot-lost", "recreate"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: slot)
        try dropUnderneath(database, slot: slot)
        try waitFor("the slot to be created anew", timeout: .seconds(30)) { connector.log.contains("has been created anew") }
        #expect(connector.log.contains(" error ") || connector.log.contains("\"level\":\"error\""), "at error level:\n\(connector.log)")
        try database.waitUntilActive(slot: slot)
        var writer = try OutboxWriter(database: database)
        let events = try writer.commit([("Lost\(database.suffix)", "k")])
        let reader = try TopicReader(topics: ["outbox.event.Lost\(database.suffix)"])
        try reader.read(until: 1, log: connector)
        #expect(reader.eventIDs == Set(events.map(\.id)), "streaming goes on from the new slot")
    }

    /// A slot that fell further behind than `max_slot_wal_keep_size` while outbox-cdc was stopped is
    /// invalidated at the next checkpoint (`wal_status = lost`): outbox-cdc refuses to go on from it, saying
    /// what may be lost; `--on-slot-lost recreate` creates it anew and logs the gap at error level.
    @Test func aSlotInvalidatedPastMaxSlotWALKeepSizeStopsOutboxCDCAndRecreateLogsTheGap() throws {
        let cluster = try ThrowawayCluster(walLevel: "logical", settings: ["max_slot_wal_keep_size": "1MB", "max_wal_size": "32MB"])
        defer { cluster.stop() }
        let database = cluster.url
        @discardableResult func sql(_ statement: String) throws -> QueryResult {
            let connection = try PostgresConnection.connect(ConnectionSettings(database))
            defer { connection.close() }
            return try connection.query(statement)
        }
        try sql("""
            CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype text NOT NULL, aggregateid text NOT NULL,
                                 type text NOT NULL, payload jsonb)
            """)
        let type = "Invalidated\(UInt64.random(in: 0 ... .max))"
        func insertEvent() throws -> String {
            let id = UUID().uuidString.lowercased()
            try sql("INSERT INTO outbox VALUES ('\(id)', '\(type)', 'k', 't', '{}')")
            return id
        }
        let arguments = ["--db", database, "--brokers", try TestStack.brokers(), "--slot", "keep", "--publication", "keep_pub", "--status-interval-ms", "200"]
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])

        let first = try ConnectorProcess(arguments)
        try waitFor("the slot to stream", timeout: .seconds(30)) {
            try sql("SELECT active AND confirmed_flush_lsn IS NOT NULL FROM pg_replication_slots WHERE slot_name = 'keep'").rows.first?.first == "t"
        }
        let published = try insertEvent()
        try reader.read(until: 1, log: first)
        first.terminate()
        #expect(first.waitForExit(timeout: .seconds(30)) == 0, "\(first.log)")

        // While it is stopped: an event, then more WAL than the slot may keep, then a checkpoint.
        _ = try insertEvent()
        try sql("CREATE TABLE filler (x text)")
        for _ in 0 ..< 3 {
            try sql("INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 2000)")
            try sql("SELECT pg_switch_wal()")
        }
        try sql("CHECKPOINT")
        try waitFor("the slot to be invalidated", timeout: .seconds(30)) {
            try sql("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'keep'").rows.first?.first == "lost"
        }

        let refused = try ConnectorProcess(arguments)
        #expect(refused.waitForExit(timeout: .seconds(30)) == 1, "\(refused.log)")
        #expect(refused.log.contains("was lost (invalidated: wal_status is lost") && refused.log.contains("may not have been published")
                    && refused.log.contains("--on-slot-lost recreate"), "says what may be lost and how to recover:\n\(refused.log)")
        #expect(try sql("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'keep'").rows.first?.first == "lost",
                "the lost slot is left as it was")

        let recreating = try ConnectorProcess(arguments + ["--on-slot-lost", "recreate"])
        defer {
            recreating.terminate()
            _ = recreating.waitForExit(timeout: .seconds(30))
        }
        try waitFor("the slot to be created anew", timeout: .seconds(30)) { recreating.log.contains("has been created anew") }
        #expect(recreating.log.contains(" error ") || recreating.log.contains("\"level\":\"error\""), "at error level:\n\(recreating.log)")
        try waitFor("the new slot to stream", timeout: .seconds(30)) {
            try sql("SELECT active AND wal_status <> 'lost' FROM pg_replication_slots WHERE slot_name = 'keep'").rows.first?.first == "t"
        }
        let after = try insertEvent()
        try reader.read(until: 2, log: recreating)
        #expect(reader.eventIDs.isSuperset(of: [published, after]), "streaming goes on from the new slot")
    }
}
