import Foundation
import KafkaClient
import Testing
import WALReader

/// Taking over kafka-outbox-relay's table: the records as the relay published them, the handover of its
/// pending rows while writers keep committing, a restart, the way back (its own claim query finds nothing
/// to send after outbox-cdc) and its cleanup.
@Suite("Taking over kafka-outbox-relay", .serialized)
struct KafkaOutboxRelayTakeoverTests {
    /// The table as the relay's golang-migrate migrations leave it (inviqa/kafka-outbox-relay,
    /// outbox/data/migrations/postgres: 20210422155457, 20210831114807, 20220408111504), with golang-migrate's
    /// version table at the last version.
    static let migratedTable = """
        CREATE TABLE IF NOT EXISTS kafka_outbox_schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
        CREATE TABLE IF NOT EXISTS kafka_outbox(
            id SERIAL PRIMARY KEY,
            batch_id CHAR(36) NULL,
            push_started_at timestamp NULL,
            push_completed_at timestamp NULL,
            topic VARCHAR(255) NOT NULL,
            payload_json json NOT NULL,
            payload_headers json NOT NULL,
            push_attempts smallint NOT NULL DEFAULT 0,
            errored smallint NOT NULL DEFAULT 0,
            error_reason VARCHAR (255) NOT NULL DEFAULT '',
            created_at timestamp DEFAULT CURRENT_TIMESTAMP
        );
        CREATE INDEX IF NOT EXISTS outbox_push_completed_at ON kafka_outbox(push_completed_at);
        ALTER TABLE kafka_outbox ADD COLUMN partition_key VARCHAR(255) NOT NULL DEFAULT '';
        ALTER TABLE kafka_outbox ADD COLUMN key VARCHAR(255) NOT NULL DEFAULT '';
        CREATE INDEX IF NOT EXISTS outbox_batch_query ON kafka_outbox(batch_id, created_at);
        TRUNCATE kafka_outbox_schema_migrations;
        INSERT INTO kafka_outbox_schema_migrations (version, dirty) VALUES (20220408111504, false);
        """

    /// The relay's claim query (outbox/data/repository.go), without its LIMIT: the rows it would send next.
    static let relayClaimQuery = """
        SELECT id FROM kafka_outbox WHERE ((batch_id IS NULL AND push_started_at IS NULL)
          OR (batch_id IS NOT NULL AND push_completed_at IS NULL AND push_started_at < (now() AT TIME ZONE 'utc') - interval '10 minutes'))
          AND errored = 0 ORDER BY created_at ASC
        """

    /// sarama's hash partitioner, written here apart from outbox-cdc's: FNV-1a 32-bit as int32, Go's `%`, abs.
    static func saramaPartition(_ key: String, partitions: Int) -> Int32 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in key.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        let signed = Int64(Int32(bitPattern: hash))
        return Int32(abs(signed % Int64(partitions)))
    }

    struct PendingRow {
        var payload: String
        var headers: String
        var partitionKey: String
        var key: String
        /// The headers the relay sends for `headers`.
        var expectedHeaders: [KafkaHeader]
    }

    static let pendingRows = [
        PendingRow(payload: #"{"order": 1,  "items" : [1, 2]}"#, headers: #"{"trace": "abc", "attempt": 2, "ratio": 1.50, "flag": true, "none": null}"#,
                   partitionKey: "", key: "order-1", expectedHeaders: [
                       KafkaHeader(name: "trace", value: Array("abc".utf8)), KafkaHeader(name: "attempt", value: Array("2".utf8)),
                       KafkaHeader(name: "ratio", value: Array("1.50".utf8)), KafkaHeader(name: "flag", value: nil), KafkaHeader(name: "none", value: nil),
                   ]),
        PendingRow(payload: #"{"order":2,"note":"é \"quoted\""}"#, headers: "{}", partitionKey: "customer-7", key: "order-2", expectedHeaders: []),
        PendingRow(payload: #"[1,2,3]"#, headers: #"{"only": "one"}"#, partitionKey: "customer-7", key: "", expectedHeaders: [
            KafkaHeader(name: "only", value: Array("one".utf8)),
        ]),
        PendingRow(payload: #""just a string""#, headers: "{}", partitionKey: "", key: "partition-key-with-a-longer-text", expectedHeaders: []),
    ]

    /// The relay stopped with rows pending, one it had completed and one it gave up on, while writers keep
    /// inserting: each pending and new row is published once as the relay would have (value as stored, key,
    /// headers, partition by sarama's hash of partition_key else key), the completed and errored rows are not;
    /// every published row gets the relay's completion mark, so its own claim query finds nothing; the
    /// errored row is left alone; a restart republishes nothing; retention deletes completed rows only.
    @Test func theRelaysTableIsTakenOverAndHandedBack() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql(Self.migratedTable)
        let topic = "kor_\(database.suffix)"
        try database.sql("""
            INSERT INTO kafka_outbox (topic, payload_json, payload_headers, key, push_started_at, push_completed_at, push_attempts, batch_id)
            VALUES ('\(topic)', '{"done": true}', '{}', 'completed-0', now() - interval '3 hours', now() - interval '3 hours', 1, '6b1d6c2e-0f0e-4d7b-9a1c-3f2e1d0c9b8a')
            """)
        try database.sql("""
            INSERT INTO kafka_outbox (topic, payload_json, payload_headers, key, push_attempts, errored, error_reason)
            VALUES ('\(topic)', '{"dead": true}', '{}', 'errored-0', 3, 1, 'kafka: broker not available')
            """)
        for (index, row) in Self.pendingRows.enumerated() {
            try database.sql("""
                INSERT INTO kafka_outbox (topic, payload_json, payload_headers, partition_key, key, created_at)
                VALUES ('\(topic)', '\(row.payload.replacingOccurrences(of: "'", with: "''"))', '\(row.headers)', '\(row.partitionKey)', '\(row.key)',
                        '2024-05-06 07:08:0\(index)')
                """)
        }

        let arguments = ["--table-format", "kafka-outbox-relay", "--table", "public.kafka_outbox"]
        let connector = try ConnectorProcess(database: database, extra: arguments)
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        // Writers keep committing, as the relay's producers do, while outbox-cdc creates its slot.
        let written = 100
        let writer = try database.connect()
        defer { writer.close() }
        for index in 0..<written {
            try writer.query("""
                INSERT INTO kafka_outbox (topic, payload_json, payload_headers, key) VALUES ('\(topic)', '{"during": \(index)}', '{}', 'during-\(index)')
                """)
            usleep(5_000)
        }
        try waitFor("the handover to finish", timeout: .seconds(60)) { connector.log.contains("handed over") }
        let total = Self.pendingRows.count + written
        let reader = try TopicReader(topics: [topic])
        try reader.read(until: total, log: connector)
        try reader.drain(for: .seconds(2))
        #expect(reader.records.count == total, "each row once: \(reader.records.count) records for \(total) rows")
        let values = reader.records.map { String(decoding: $0.value ?? [], as: UTF8.self) }
        #expect(!values.contains(#"{"done": true}"#) && !values.contains(#"{"dead": true}"#), "neither the completed nor the errored row")
        #expect(Set(values) == Set(Self.pendingRows.map(\.payload) + (0..<written).map { #"{"during": \#($0)}"# }))
        #expect(connector.log.contains("dead_letter_rows=1"), "the errored row is counted at start")

        // Each pending row as the relay would have sent it.
        let partitions = try reader.consumer.partitionCount(topic: topic)
        for row in Self.pendingRows {
            let record = try #require(reader.records.first { $0.value == Array(row.payload.utf8) })
            #expect(record.key == (row.key.isEmpty ? nil : Array(row.key.utf8)), "\(row.key)")
            #expect(record.headers == row.expectedHeaders, "\(row.headers)")
            if !row.key.isEmpty {
                let placedBy = row.partitionKey.isEmpty ? row.key : row.partitionKey
                #expect(record.partition == Self.saramaPartition(placedBy, partitions: partitions), "\(placedBy) among \(partitions)")
            }
        }
        // The vectors the test's own partitioner gives, computed apart (Python) for 4 and 12 partitions.
        #expect(Self.saramaPartition("partition-key-with-a-longer-text", partitions: 12) == 2 && Self.saramaPartition("a", partitions: 7) == 6)

        // The way back: every published row carries the relay's completion mark.
        try waitFor("the relay's marks", timeout: .seconds(30)) { try database.sql(Self.relayClaimQuery).rows.isEmpty }
        let marked = try database.sql("SELECT count(*) FROM kafka_outbox WHERE push_completed_at IS NOT NULL AND push_attempts = 1 AND batch_id IS NOT NULL AND error_reason = ''")
        let unmarked = try database.sql("SELECT id, key, push_attempts, batch_id, push_completed_at FROM kafka_outbox WHERE NOT (push_completed_at IS NOT NULL AND push_attempts = 1 AND batch_id IS NOT NULL AND error_reason = '')")
        #expect(marked.rows.first?.first == "\(total)", "the published rows; others: \(unmarked.rows)")
        // The relay's own cleanup, by default: rows completed over an hour ago are deleted.
        #expect(try database.sql("SELECT count(*) FROM kafka_outbox WHERE key = 'completed-0'").rows == [["0"]])
        let errored = try database.sql("SELECT push_completed_at IS NULL, push_attempts, error_reason FROM kafka_outbox WHERE errored = 1")
        #expect(errored.rows == [["t", "3", "kafka: broker not available"]], "the relay's dead letter is left as it was")

        // A restart with a short retention: nothing published again, the completed rows deleted, not the errored one.
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
        let restarted = try ConnectorProcess(database: database, extra: arguments + ["--retention", "1s"])
        defer {
            restarted.terminate()
            _ = restarted.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        try database.sql("INSERT INTO kafka_outbox (topic, payload_json, payload_headers, key) VALUES ('\(topic)', '{\"after\": \"restart\"}', '{}', 'after')")
        try reader.read(until: total + 1, log: restarted)
        try reader.drain(for: .seconds(2))
        #expect(reader.records.count == total + 1, "only the new row after the restart")
        #expect(!restarted.log.contains("taking over"), "no second handover")
        try waitFor("retention to delete the completed rows", timeout: .seconds(30)) {
            try database.sql("SELECT count(*) FROM kafka_outbox").rows.first?.first == "1"
        }
        #expect(try database.sql("SELECT errored FROM kafka_outbox").rows == [["1"]], "only the dead letter is left")
        #expect(restarted.log.contains("retention: deleting outbox rows older than the retention age"))
        #expect(reader.records.count == total + 1, "deleting published rows publishes nothing")
    }
}
