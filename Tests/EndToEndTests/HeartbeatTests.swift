import Foundation
import PostgresLSN
import Testing

/// `--heartbeat-interval-ms`: a non-transactional logical decoding message at an interval writes WAL of the
/// slot's own database, so its confirmed position keeps moving where nothing else writes; the message itself
/// is never published.
@Suite("Heartbeat")
struct HeartbeatTests {
    @Test func heartbeatsMoveAnIdleSlotAndPublishNothing() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database, extra: ["--heartbeat-interval-ms", "200", "--log-level", "debug"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: slot)
        func heartbeatConnections() throws -> String? {
            try database.sql("""
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                  AND query LIKE '%pg_logical_emit_message(false, ''outbox-cdc.heartbeat''%'
                """).rows.first?.first ?? nil
        }
        // The first beat comes an interval after streaming starts (later on a busy machine); in a cluster where
        // other databases write, keepalives may move the slot before it, so the slot is watched from then on.
        try waitFor("the first heartbeat", timeout: .seconds(30)) { try heartbeatConnections() != "0" }
        let start = try #require(try database.slot(slot)?.confirmed)
        // Heartbeat messages are in the slot's stream (pg_logical_slot_peek would consume nothing: the slot
        // is active), and the confirmed position passes them while nothing is in flight.
        try waitFor("the idle slot to move past heartbeats", timeout: .seconds(30)) {
            (try database.slot(slot)?.confirmed).map { $0 > start } ?? false
        }
        #expect(try heartbeatConnections() == "1", "one connection runs the heartbeat")
        #expect(!connector.log.contains("\"kafka.topic\":\"outbox-cdc.heartbeat\"") && !connector.log.contains("produced"), "nothing published")
    }
}
