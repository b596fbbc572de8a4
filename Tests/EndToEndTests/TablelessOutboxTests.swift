import Foundation
import KafkaClient
import Testing

/// The outbox without a table: `pg_logical_emit_message` in the writer's transaction, nothing stored.
@Suite("The table-less outbox, end to end", .serialized)
struct TablelessOutboxTests {
    @Test func messagesCommittedWithTheirTransactionArePublishedAndRolledBackOnesAreNot() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let topic = "tableless_\(database.suffix)"
        let connector = try ConnectorProcess(database: database, extra: ["--table", "none"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")

        let writer = try database.connect()
        defer { writer.close() }
        // The writer's side, as the README documents it.
        try writer.query("""
            BEGIN;
            SELECT pg_logical_emit_message(true, 'outbox:\(topic)', '{"first": 1}');
            COMMIT;
            """)
        try writer.query("""
            BEGIN;
            SELECT pg_logical_emit_message(true, 'outbox:\(topic)', 'rolled back');
            ROLLBACK;
            """)
        try writer.query("""
            SELECT pg_logical_emit_message(true, 'outbox-envelope:\(topic)',
              json_build_object('key', 'order-17', 'headers', json_build_object('trace', 'abc'), 'value', json_build_object('total', 42))::text)
            """)
        try writer.query("SELECT pg_logical_emit_message(false, 'outbox:\(topic)', 'not transactional'::bytea)")
        try writer.query("SELECT pg_logical_emit_message(true, 'audit:\(topic)', 'another prefix')")

        let reader = try TopicReader(topics: [topic])
        try reader.read(until: 3, log: connector)
        try reader.drain(for: .seconds(2))
        let values = reader.records.map { String(decoding: $0.value ?? [], as: UTF8.self) }
        #expect(Set(values) == [#"{"first": 1}"#, #"{"total" : 42}"#, "not transactional"], "\(values)")
        let envelope = try #require(reader.records.first { $0.key != nil })
        #expect(envelope.key == Array("order-17".utf8))
        #expect(envelope.headers == [KafkaHeader(name: "trace", value: Array("abc".utf8))])

        // Nothing in flight: the slot moves past every message.
        let written = try #require(database.sql("SELECT pg_current_wal_lsn()").rows.first?.first ?? nil)
        try waitFor("the slot to be confirmed past the messages", timeout: .seconds(30)) {
            try database.sql("SELECT confirmed_flush_lsn >= '\(written)'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'slot_\(database.suffix)'")
                .rows.first?.first == "t"
        }
    }
}
