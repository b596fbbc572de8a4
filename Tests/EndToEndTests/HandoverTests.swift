import Foundation
import KafkaClient
import Testing
import WALReader

/// Taking over from the relay a team runs today, without changing a writer or a consumer.
@Suite("Handover from another relay", .serialized)
struct HandoverTests {
    /// gox's table as its migrations leave it (github.com/angusgyoung/gox, internal/migrations: the
    /// initial schema, id as uuid, the json headers column).
    static let goxTable = """
        CREATE TABLE gox_outbox (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            created_timestamp timestamp without time zone DEFAULT (now() AT TIME ZONE 'utc'),
            updated_timestamp timestamp,
            status varchar(8) NOT NULL DEFAULT 'PENDING',
            topic varchar(128) NOT NULL,
            partition smallint NOT NULL,
            key varchar(64) NOT NULL,
            message bytea NOT NULL,
            instance_id uuid,
            headers json
        )
        """

    /// gox stopped with rows still PENDING while writers keep inserting: every pending row is published once,
    /// the rows gox had SENT are not, every row committed while outbox-cdc starts is published once (from the
    /// snapshot or from the slot, never both), and a restart on the slot republishes nothing.
    @Test func fromAGoxTableEveryPendingRowIsPublishedOnce() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql(Self.goxTable)
        let topic = "gox_\(database.suffix)"
        try database.sql("""
            INSERT INTO gox_outbox (created_timestamp, status, topic, partition, key, message, headers) VALUES
              ('2024-05-06 07:08:09.123456', 'SENT', '\(topic)', 0, 'sent-0', '\\x00', NULL),
              ('2024-05-06 07:08:10.5', 'PENDING', '\(topic)', 2, 'pending-1', '\\x00ff7f80', '[{"key": "trace", "value": "abc"}, {"key": "empty", "value": null}]'),
              ('2024-05-06 07:08:11', 'PENDING', '\(topic)', 1, 'pending-2', '\\x68656c6c6f', NULL),
              ('2024-05-06 07:08:12', 'PENDING', '\(topic)', 3, 'pending-3', '\\x', '[]')
            """)

        let connector = try ConnectorProcess(database: database, extra: ["--table-format", "gox", "--table", "public.gox_outbox"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        // Writers keep committing, one row a transaction, while outbox-cdc creates its slot and reads.
        let written = 100
        let writer = try database.connect()
        defer { writer.close() }
        for index in 0..<written {
            try writer.query("INSERT INTO gox_outbox (topic, partition, key, message) VALUES ('\(topic)', \(index % 4), 'during-\(index)', '\\x01')")
            usleep(5_000)
        }
        try waitFor("the handover to finish", timeout: .seconds(60)) { connector.log.contains("handed over") }
        try database.sql("INSERT INTO gox_outbox (topic, partition, key, message) VALUES ('\(topic)', 0, 'after-1', '\\x02')")

        let reader = try TopicReader(topics: [topic])
        try reader.read(until: 3 + written + 1, log: connector)
        try reader.drain(for: .seconds(2))
        let keys = reader.records.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }
        #expect(Set(keys).count == keys.count, "no row published twice: \(keys.count) records, \(Set(keys).count) keys")
        #expect(!keys.contains("sent-0"), "the row gox had sent is not published again")
        let expectedKeys = Set(["pending-1", "pending-2", "pending-3", "after-1"] + (0..<written).map { "during-\($0)" })
        #expect(Set(keys) == expectedKeys, "missing: \(expectedKeys.subtracting(keys).sorted())")

        // Each pending row as gox would have published it: its partition, bytes, headers and creation time.
        let byKey = Dictionary(reader.records.map { (String(decoding: $0.key ?? [], as: UTF8.self), $0) }) { first, _ in first }
        let first = try #require(byKey["pending-1"])
        #expect(first.partition == 2 && first.value == [0x00, 0xFF, 0x7F, 0x80])
        #expect(first.headers == [KafkaHeader(name: "trace", value: Array("abc".utf8)), KafkaHeader(name: "empty", value: nil)])
        #expect(first.timestamp == 1_714_979_290_500, "created_timestamp 2024-05-06 07:08:10.5 UTC")
        let second = try #require(byKey["pending-2"])
        #expect(second.partition == 1 && second.value == Array("hello".utf8) && second.headers.isEmpty)
        let third = try #require(byKey["pending-3"])
        #expect(third.partition == 3 && third.value == [] && third.headers.isEmpty)

        // A restart finds the slot and streams from it: nothing is published again.
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
        let restarted = try ConnectorProcess(database: database, extra: ["--table-format", "gox", "--table", "public.gox_outbox"])
        defer {
            restarted.terminate()
            _ = restarted.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        try database.sql("INSERT INTO gox_outbox (topic, partition, key, message) VALUES ('\(topic)', 0, 'after-restart', '\\x03')")
        try reader.read(until: 3 + written + 2, log: restarted)
        try reader.drain(for: .seconds(2))
        #expect(reader.records.count == 3 + written + 2, "only the new row after the restart")
        #expect(!restarted.log.contains("taking over"), "no second handover")
    }

    /// Killed before Kafka acknowledged the pending rows (here: no broker at all), outbox-cdc leaves no slot
    /// behind: the temporary slot dies with its connection, so the next start hands over again and the
    /// pending rows are not skipped.
    @Test func killedDuringTheHandoverItLeavesNoSlotAndTheNextStartHandsOverAgain() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql(Self.goxTable)
        let topic = "gox_\(database.suffix)"
        try database.sql("""
            INSERT INTO gox_outbox (topic, partition, key, message)
            SELECT '\(topic)', n % 4, 'pending-' || n, '\\x01' FROM generate_series(1, 50) AS n
            """)
        let slot = "slot_\(database.suffix)"
        let unreachable = try ConnectorProcess(database: database, brokers: "127.0.0.1:1", extra: ["--table-format", "gox", "--table", "public.gox_outbox"])
        try waitFor("the handover to start", timeout: .seconds(30)) { unreachable.log.contains("taking over") }
        unreachable.killHard()
        try waitFor("the temporary slot to go", timeout: .seconds(10)) {
            try database.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE '\(slot)%'").rows.isEmpty
        }

        let connector = try ConnectorProcess(database: database, extra: ["--table-format", "gox", "--table", "public.gox_outbox"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        let reader = try TopicReader(topics: [topic])
        try reader.read(until: 50, log: connector)
        try waitFor("the slot to be created after the handover", timeout: .seconds(30)) { try database.slot(slot) != nil }
    }

    /// Stopping the previous relay (here: Debezium, whose slot and publication outbox-cdc is pointed at)
    /// and starting outbox-cdc on its slot: what Debezium confirmed is not published again, what it had not
    /// confirmed is, and streaming goes on.
    @Test func onDebeziumsSlotOutboxCDCResumesFromItsConfirmedPosition() throws {
        let golden = try GoldenFixture("string-string")
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }
        let aggregate = "Handover\(database.suffix)"
        func insert(_ id: Int) throws {
            try database.sql("""
                INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload)
                VALUES ('00000000-0000-4000-8000-\(String(format: "%012d", id))', '\(aggregate)', 'order-\(id)', 'Created', '{"n": \(id)}')
                """)
        }
        // What Debezium left behind: its publication and slot, confirmed past event 1 but not event 2.
        try database.sql("CREATE PUBLICATION \(database.publication) FOR TABLE public.outbox")
        try database.sql("SELECT pg_create_logical_replication_slot('\(database.slot)', 'pgoutput')")
        try insert(1)
        try database.sql("SELECT pg_replication_slot_advance('\(database.slot)', pg_current_wal_lsn())")
        try insert(2)

        let configURL = try database.configFile(for: golden)
        let connector = try ConnectorProcess(["--debezium-config", configURL.path, "--brokers", try TestStack.brokers()])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: database.slot)
        try insert(3)

        let reader = try TopicReader(topics: ["outbox.event.\(aggregate)"])
        try reader.read(until: 2, log: connector)
        try reader.drain(for: .seconds(2))
        let keys = reader.records.map { String(decoding: $0.key ?? [], as: UTF8.self) }
        #expect(keys == ["order-2", "order-3"], "\(keys)\n\(connector.log)")
        #expect(!connector.log.contains("created replication slot"), "Debezium's slot is used, not a new one")
    }
}

