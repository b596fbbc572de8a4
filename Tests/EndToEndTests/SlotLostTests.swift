import Foundation
import Testing

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
}
