import Foundation
import KafkaClient
import Testing
import PostgresLSN
import WALReader

/// Waits for the old relay's pending query to find nothing; on a timeout, records what explains it: the
/// rows left, the slot's position against the server's, and the connector's lines about marks.
func waitForMarks(_ database: TestDatabase, pendingQuery: String, slot: String, connector: ConnectorProcess, timeout: Duration = .seconds(60)) throws {
    do {
        try waitFor("the relay's marks", timeout: timeout) { try database.sql(pendingQuery).rows.isEmpty }
    } catch {
        let left = try database.sql(pendingQuery).rows.compactMap { $0.first ?? nil }
        let positions = try database.sql("SELECT confirmed_flush_lsn::text, pg_current_wal_lsn()::text FROM pg_replication_slots WHERE slot_name = '\(slot)'").rows
        let lines = connector.log.split(separator: "\n").filter { line in
            ["mark", "warning", "error", "critical", "handed", "streaming", "interrupted", "resum"].contains { line.contains($0) }
        }
        Issue.record("""
            \(left.count) rows unmarked (e.g. \(left.prefix(20))); slot confirmed, server WAL: \(positions)
            \(lines.joined(separator: "\n"))
            """)
        throw error
    }
}

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

        let arguments = ["--table-format", "kafka-outbox-relay", "--table", "public.kafka_outbox", "--log-level", "debug"]
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
        try waitForMarks(database, pendingQuery: Self.relayClaimQuery, slot: "slot_\(database.suffix)", connector: connector)
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

extension KafkaOutboxRelayTakeoverTests {
    /// Marks that fail (here a trigger refuses every update of the table until the test lets it) are counted,
    /// logged and tried again, and meanwhile the slot is confirmed as if marking did not exist.
    @Test func failedMarksAreRetriedAndNeverHoldBackTheSlot() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql(Self.migratedTable)
        try database.sql("""
            CREATE TABLE block_marks (blocked boolean NOT NULL);
            INSERT INTO block_marks VALUES (true);
            CREATE FUNCTION refuse_marks() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF (SELECT blocked FROM block_marks) THEN RAISE EXCEPTION 'marks refused by the test'; END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_marks BEFORE UPDATE ON kafka_outbox FOR EACH ROW EXECUTE FUNCTION refuse_marks();
            """)
        let topic = "kor_marks_\(database.suffix)"
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database, extra: ["--table-format", "kafka-outbox-relay", "--table", "public.kafka_outbox"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: slot)
        try database.sql("INSERT INTO kafka_outbox (topic, payload_json, payload_headers, key) SELECT '\(topic)', '{}', '{}', 'k' || n FROM generate_series(1, 10) AS n")
        let position = try database.sql("SELECT pg_current_wal_lsn()").rows.first?.first ?? nil
        let written = try #require(position.flatMap { LSN($0) })
        let reader = try TopicReader(topics: [topic])
        try reader.read(until: 10, log: connector)
        try waitFor("the slot to be confirmed past the rows", timeout: .seconds(15)) {
            (try database.slot(slot)?.confirmed).map { $0 >= written } ?? false
        }
        try waitFor("a failed batch to be logged", timeout: .seconds(15)) { connector.log.contains("marking published rows failed; trying the batch again") }
        #expect(try database.sql(Self.relayClaimQuery).rows.count == 10, "nothing marked while the table refuses")

        try database.sql("UPDATE block_marks SET blocked = false")
        try waitFor("the batch to succeed on a later try", timeout: .seconds(60)) { try database.sql(Self.relayClaimQuery).rows.isEmpty }
        #expect(connector.log.contains("marks refused by the test"), "the failure names its cause")
    }
}

/// The way back to gox and goharvest: after outbox-cdc has published, the relay's own pending query finds
/// nothing to send, and the marks themselves are never published.
@Suite("The way back to gox and goharvest", .serialized)
struct PollerRollbackTests {
    /// goharvest's table as its README has users create it (github.com/obsidiandynamics/goharvest).
    static let goharvestTable = """
        CREATE TABLE IF NOT EXISTS outbox (
          id                  BIGSERIAL PRIMARY KEY,
          create_time         TIMESTAMP WITH TIME ZONE NOT NULL,
          kafka_topic         VARCHAR(249) NOT NULL,
          kafka_key           VARCHAR(100) NOT NULL,
          kafka_value         VARCHAR(10000),
          kafka_header_keys   TEXT[] NOT NULL,
          kafka_header_values TEXT[] NOT NULL,
          leader_id           UUID
        )
        """

    @Test func afterOutboxCDCGoxFindsNoPendingRow() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql(HandoverTests.goxTable)
        let topic = "gox_back_\(database.suffix)"
        try database.sql("""
            INSERT INTO gox_outbox (status, topic, partition, key, message) VALUES
              ('SENT', '\(topic)', 0, 'sent-0', '\\x00'), ('PENDING', '\(topic)', 1, 'pending-1', '\\x01')
            """)
        let connector = try ConnectorProcess(database: database, extra: ["--table-format", "gox", "--table", "public.gox_outbox"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        try database.sql("INSERT INTO gox_outbox (topic, partition, key, message) SELECT '\(topic)', n % 4, 'new-' || n, '\\x02' FROM generate_series(1, 20) AS n")
        let reader = try TopicReader(topics: [topic])
        try reader.read(until: 21, log: connector)
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")

        // gox's own query for what to send next.
        #expect(try database.sql("SELECT id FROM gox_outbox WHERE status = 'PENDING'").rows.isEmpty, "\(connector.log)")
        let sent = try database.sql("SELECT count(*) FROM gox_outbox WHERE status = 'SENT' AND updated_timestamp IS NOT NULL")
        #expect(sent.rows == [["21"]], "each published row is SENT with its update time")
        try reader.drain(for: .seconds(2))
        #expect(reader.records.count == 21, "the marks (updates) are not published")
    }

    @Test func afterOutboxCDCGoharvestFindsNoRowLeft() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql("DROP TABLE IF EXISTS public.outbox")
        try database.sql(Self.goharvestTable)
        let topic = "goharvest_back_\(database.suffix)"
        try database.sql("""
            INSERT INTO outbox (create_time, kafka_topic, kafka_key, kafka_value, kafka_header_keys, kafka_header_values)
            VALUES (now(), '\(topic)', 'pending-1', 'hello', '{trace}', '{abc}')
            """)
        // Every row pending before the start, none after: the handover's own commit confirms them all, and
        // their marks (deletes) must not wait for a later delivery report that never comes.
        try database.sql("""
            INSERT INTO outbox (create_time, kafka_topic, kafka_key, kafka_value, kafka_header_keys, kafka_header_values)
            SELECT now(), '\(topic)', 'new-' || n, 'v' || n, '{}', '{}' FROM generate_series(1, 20) AS n
            """)
        let connector = try ConnectorProcess(database: database, extra: ["--table-format", "goharvest", "--table", "public.outbox"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        let reader = try TopicReader(topics: [topic])
        try reader.read(until: 21, log: connector)
        let first = try #require(reader.records.first { $0.key == Array("pending-1".utf8) })
        #expect(first.value == Array("hello".utf8) && first.headers == [KafkaHeader(name: "trace", value: Array("abc".utf8))])
        // goharvest publishes every row in its table and deletes what it sent: nothing is left for it, while
        // outbox-cdc still runs.
        try waitFor("the rows to be deleted as goharvest does", timeout: .seconds(15)) { try database.sql("SELECT id FROM outbox").rows.isEmpty }
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
        try reader.drain(for: .seconds(2))
        #expect(reader.records.count == 21, "the deletes are not published")
    }
}

/// `--retention` and `outbox-cdc cleanup`: rows deleted after their commit are still published, since the
/// slot's WAL holds their inserts; partitions old enough are dropped; the old relay's dead letters stay.
@Suite("Retention", .serialized)
struct RetentionTests {
    /// Inserts numbered rows into kafka_outbox, one a transaction, on a thread of its own until stopped.
    final class Writer: @unchecked Sendable {
        private let lock = NSLock()
        private var stopRequested = false
        private var count = 0
        private var failure: String?
        private let finished = DispatchSemaphore(value: 0)

        init(database: TestDatabase, topic: String) {
            let url = database.url
            Thread.detachNewThread { [self] in
                defer { finished.signal() }
                do {
                    let connection = try PostgresConnection.connect(ConnectionSettings(url))
                    defer { connection.close() }
                    while !lock.withLock({ stopRequested }) {
                        let number = lock.withLock { count }
                        try connection.query("""
                            INSERT INTO kafka_outbox (topic, payload_json, payload_headers, key) VALUES ('\(topic)', '{"n": \(number)}', '{}', 'row-\(number)')
                            """)
                        lock.withLock { count += 1 }
                        usleep(3_000)
                    }
                } catch {
                    lock.withLock { failure = "\(error)" }
                }
            }
        }

        /// Stops writing; returns how many rows were committed.
        func stop() throws -> Int {
            lock.withLock { stopRequested = true }
            finished.wait()
            if let failure = lock.withLock({ failure }) { throw TestSetupError("the writer failed: \(failure)") }
            return lock.withLock { count }
        }

        var written: Int { lock.withLock { count } }
    }

    private func run(_ arguments: [String]) throws -> (status: Int32?, output: String) {
        let process = try ConnectorProcess(arguments)
        let status = process.waitForExit(timeout: .seconds(60))
        return (status, process.log)
    }

    /// Writers never stop; outbox-cdc runs with a one-second retention by creation time, is stopped, and
    /// while it is stopped a cleanup deletes rows it has not read yet; restarted, it publishes every row
    /// ever committed all the same.
    @Test func rowsDeletedBeforeOutboxCDCReadThemAreStillPublished() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql(KafkaOutboxRelayTakeoverTests.migratedTable)
        let topic = "retention_\(database.suffix)"
        let slot = "slot_\(database.suffix)"
        let retention = ["--table-format", "kafka-outbox-relay", "--table", "public.kafka_outbox", "--retention", "1s", "--retention-column", "created_at"]
        let cleanup = ["cleanup", "--db", database.url, "--slot", slot] + retention

        // Before the slot exists, a row's only copy is the table: cleanup refuses.
        let refused = try run(cleanup)
        #expect(refused.status == 1 && refused.output.contains("the replication slot \(slot) does not exist"), "\(refused.output)")

        let writer = Writer(database: database, topic: topic)
        let first = try ConnectorProcess(database: database, extra: retention)
        try database.waitUntilActive(slot: slot)
        try waitFor("rows to be written and deleted", timeout: .seconds(30)) {
            first.log.contains("retention: deleted outbox rows")
        }
        first.terminate()
        #expect(first.waitForExit(timeout: .seconds(30)) == 0, "\(first.log)")
        let stoppedAt = writer.written
        // outbox-cdc lags: rows committed from here on are unread when the cleanup deletes them.
        usleep(1_500_000)
        let cleaned = try run(cleanup)
        #expect(cleaned.status == 0 && cleaned.output.contains("deleted"), "\(cleaned.output)")
        let unreadDeleted = try database.sql("""
            SELECT count(*) FROM generate_series(\(stoppedAt + 1), \(writer.written - 1)) AS n
            WHERE NOT EXISTS (SELECT 1 FROM kafka_outbox WHERE key = 'row-' || n)
            """).rows.first?.first ?? nil
        #expect((unreadDeleted.flatMap { Int($0) } ?? 0) > 0, "the cleanup deleted rows outbox-cdc had not read: \(cleaned.output)")

        let second = try ConnectorProcess(database: database, extra: retention)
        defer {
            second.terminate()
            _ = second.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: slot)
        usleep(1_000_000)
        let written = try writer.stop()
        let reader = try TopicReader(topics: [topic])
        try reader.read(until: written, timeout: .seconds(90), log: second)
        try reader.drain(for: .seconds(2))
        let keys = Set(reader.records.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } })
        let missing = (0..<written).filter { !keys.contains("row-\($0)") }
        #expect(missing.isEmpty, "every committed row is published: \(missing.count) of \(written) missing, e.g. \(missing.prefix(10))")
        let left = try database.sql("SELECT count(*) FROM kafka_outbox").rows.first?.first ?? nil
        #expect((left.flatMap { Int($0) } ?? written) < written, "rows were deleted all along (\(left ?? "?") of \(written) left)")
    }

    /// A kafka_outbox partitioned by month of created_at: `cleanup` drops the partitions whose upper bound is
    /// past the retention age, keeps one that holds a dead letter (deleting its other old rows), and leaves
    /// the current partition's rows alone.
    @Test func oldPartitionsAreDroppedButNotWithDeadLetters() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql("""
            CREATE TABLE kafka_outbox (
                id SERIAL, batch_id CHAR(36) NULL, push_started_at timestamp NULL, push_completed_at timestamp NULL,
                topic VARCHAR(255) NOT NULL, payload_json json NOT NULL, payload_headers json NOT NULL,
                push_attempts smallint NOT NULL DEFAULT 0, errored smallint NOT NULL DEFAULT 0,
                error_reason VARCHAR (255) NOT NULL DEFAULT '', created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
                partition_key VARCHAR(255) NOT NULL DEFAULT '', key VARCHAR(255) NOT NULL DEFAULT '',
                PRIMARY KEY (id, created_at)
            ) PARTITION BY RANGE (created_at);
            CREATE TABLE kafka_outbox_2020_01 PARTITION OF kafka_outbox FOR VALUES FROM ('2020-01-01') TO ('2020-02-01');
            CREATE TABLE kafka_outbox_2020_02 PARTITION OF kafka_outbox FOR VALUES FROM ('2020-02-01') TO ('2020-03-01');
            CREATE TABLE kafka_outbox_now PARTITION OF kafka_outbox FOR VALUES FROM ('2020-03-01') TO (MAXVALUE);
            INSERT INTO kafka_outbox (topic, payload_json, payload_headers, created_at) VALUES
              ('t', '{}', '{}', '2020-01-05'), ('t', '{}', '{}', '2020-01-06'), ('t', '{}', '{}', '2020-02-05');
            INSERT INTO kafka_outbox (topic, payload_json, payload_headers, created_at, errored) VALUES ('t', '{}', '{}', '2020-02-06', 1);
            INSERT INTO kafka_outbox (topic, payload_json, payload_headers) VALUES ('t', '{}', '{}');
            """)
        let slot = "slot_\(database.suffix)"
        try database.sql("SELECT pg_create_logical_replication_slot('\(slot)', 'pgoutput')")
        let cleaned = try run([
            "cleanup", "--db", database.url, "--slot", slot, "--table", "public.kafka_outbox", "--table-format", "kafka-outbox-relay",
            "--retention", "30d", "--retention-column", "created_at",
        ])
        #expect(cleaned.status == 0, "\(cleaned.output)")
        #expect(cleaned.output.contains("dropped partitions public.kafka_outbox_2020_01"), "\(cleaned.output)")
        #expect(cleaned.output.contains("kept partitions holding dead letters public.kafka_outbox_2020_02"), "\(cleaned.output)")
        let partitions = try database.sql("SELECT relname FROM pg_class WHERE relname LIKE 'kafka_outbox_20%' AND relkind = 'r' ORDER BY relname").rows
        #expect(partitions == [["kafka_outbox_2020_02"]], "the dropped partition is gone, not merely detached")
        let left = try database.sql("SELECT created_at::date::text, errored FROM kafka_outbox ORDER BY created_at").rows
        #expect(left.count == 2 && left.first == ["2020-02-06", "1"], "the dead letter and the current row: \(left)")
    }
}

/// Taking over outbox-event-bus's (ktor-event-bus's) `recorded_events`: the envelope byte for byte as the
/// real Jackson writes it (Tests/ConnectorTests/Fixtures/outbox-event-bus), the handover of undelivered rows
/// while writers keep committing, a restart, and the way back: its poll finds nothing left to deliver.
@Suite("Taking over outbox-event-bus", .serialized)
struct OutboxEventBusTakeoverTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ConnectorTests/Fixtures/outbox-event-bus")

    struct Golden {
        var name: String
        var payloadHex: String
        var msgType: String
        var mimeType: String
        var value: String
    }

    /// The goldens of payloads (the metadata and instant cases are unit-tested): each as a pending row.
    static func goldens() throws -> [Golden] {
        let data = try #require(FileManager.default.contents(atPath: fixtures.appendingPathComponent("cases.json").path))
        let cases = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return try cases.compactMap { entry in
            guard let name = entry["name"] as? String, !name.hasPrefix("ts-"), !name.hasPrefix("metadata-") else { return nil }
            let value = try #require(FileManager.default.contents(atPath: fixtures.appendingPathComponent("\(name).value").path))
            return Golden(
                name: name, payloadHex: try #require(entry["payloadHex"] as? String), msgType: try #require(entry["msgType"] as? String),
                mimeType: try #require(entry["mimeType"] as? String), value: String(decoding: value, as: UTF8.self)
            )
        }
    }

    /// The table as Exposed 0.17 creates the relay's reference store (Fixtures/outbox-event-bus/table.sql).
    static func createTable(_ database: TestDatabase) throws {
        let sql = try String(contentsOf: fixtures.appendingPathComponent("table.sql"), encoding: .utf8)
        for statement in sql.split(separator: "\n").filter({ !$0.hasPrefix("--") && !$0.isEmpty }) {
            try database.sql(String(statement))
        }
    }

    /// The relay's poll (LocalEventStoreSql.getPendingEventsToBeSent), without its LIMIT 100.
    static let relayPoll = "SELECT id FROM recorded_events WHERE recorded_events.delivered = false"

    @Test func theRelaysTableIsTakenOverAndHandedBack() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try Self.createTable(database)
        let topic = "oeb_\(database.suffix)"
        let goldens = try Self.goldens()
        #expect(goldens.count >= 25)
        func uuid(_ index: Int) -> String { "00000000-0000-4000-8000-\(String(format: "%012d", index))" }
        // Delivered a week and more ago (the relay's cleanup age is 7 days), and delivered yesterday.
        try database.sql("""
            INSERT INTO recorded_events (topic, delivered, uuid, stored_timestamp, send_timestamp, msg_type, mime_type, payload) VALUES
              ('\(topic)', true, '\(uuid(900))', now() - interval '8 days', now() - interval '8 days', 'Old', 'text/plain', '\\x6f6c64'),
              ('\(topic)', true, '\(uuid(901))', now() - interval '1 day', now() - interval '1 day', 'Sent', 'text/plain', '\\x73656e74')
            """)
        for (index, golden) in goldens.enumerated() {
            try database.sql("""
                INSERT INTO recorded_events (topic, delivered, uuid, stored_timestamp, msg_type, mime_type, payload)
                VALUES ('\(topic)', false, '\(uuid(index))', now(), '\(golden.msgType)', '\(golden.mimeType)', '\\x\(golden.payloadHex)')
                """)
        }

        let arguments = ["--table-format", "outbox-event-bus", "--table", "public.recorded_events", "--log-level", "debug"]
        let startedAt = Date()
        let connector = try ConnectorProcess(database: database, extra: arguments)
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        let written = 60
        let writer = try database.connect()
        defer { writer.close() }
        for index in 0..<written {
            try writer.query("""
                INSERT INTO recorded_events (topic, delivered, uuid, stored_timestamp, msg_type, mime_type, payload)
                VALUES ('\(topic)', false, '\(uuid(1000 + index))', now(), 'During', 'application/json', convert_to('{"during": \(index)}', 'UTF8'))
                """)
            usleep(5_000)
        }
        try waitFor("the handover to finish", timeout: .seconds(60)) { connector.log.contains("handed over") }
        let total = goldens.count + written
        let reader = try TopicReader(topics: [topic])
        try reader.read(until: total, log: connector)
        try reader.drain(for: .seconds(2))
        #expect(reader.records.count == total, "each undelivered row once, no delivered row: \(reader.records.count) of \(total)")

        // Each golden row's value is Jackson's, but for the fields a run cannot repeat: the topic and uuid
        // (one test topic, unique uuids) and the publication instant, checked for its form and time.
        let byUUID = Dictionary(reader.records.compactMap { record -> (String, KafkaRecord)? in
            let text = String(decoding: record.value ?? [], as: UTF8.self)
            guard let start = text.range(of: "\"uuid\" : \"") else { return nil }
            return (String(text[start.upperBound...].prefix(36)), record)
        }) { first, _ in first }
        let windowStart = startedAt.addingTimeInterval(-1)
        let windowEnd = Date().addingTimeInterval(1)
        let instant = ISO8601DateFormatter()
        instant.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for (index, golden) in goldens.enumerated() {
            let record = try #require(byUUID[uuid(index)], "\(golden.name)")
            #expect(record.key == nil && record.headers.isEmpty, "\(golden.name)")
            let value = String(decoding: record.value ?? [], as: UTF8.self)
            let published = Self.field("timestamp", in: value)
            let time = instant.date(from: published) ?? ISO8601DateFormatter().date(from: published)
            #expect(time.map { $0 >= windowStart && $0 <= windowEnd } == true, "\(golden.name): \(published)")
            let expected = golden.value
                .replacingOccurrences(of: "\"topic\" : \"orders\"", with: "\"topic\" : \"\(topic)\"")
                .replacingOccurrences(of: "\"uuid\" : \"\(Self.field("uuid", in: golden.value))\"", with: "\"uuid\" : \"\(uuid(index))\"")
                .replacingOccurrences(of: "\"timestamp\" : \"\(Self.field("timestamp", in: golden.value))\"", with: "\"timestamp\" : \"\(published)\"")
            #expect(record.value == Array(expected.utf8), "\(golden.name):\n\(value)\n---\n\(expected)")
        }

        // The way back: the relay's poll finds nothing, each row delivered with its send time.
        try waitForMarks(database, pendingQuery: Self.relayPoll, slot: "slot_\(database.suffix)", connector: connector)
        #expect(try database.sql("SELECT count(*) FROM recorded_events WHERE send_timestamp IS NULL").rows == [["0"]])
        // Its cleanup, by default: delivered over 7 days ago is deleted.
        try waitFor("the default retention", timeout: .seconds(30)) {
            try database.sql("SELECT count(*) FROM recorded_events WHERE uuid = '\(uuid(900))'").rows == [["0"]]
        }
        #expect(try database.sql("SELECT count(*) FROM recorded_events WHERE uuid = '\(uuid(901))'").rows == [["1"]])

        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
        let restarted = try ConnectorProcess(database: database, extra: arguments)
        defer {
            restarted.terminate()
            _ = restarted.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        try database.sql("""
            INSERT INTO recorded_events (topic, delivered, uuid, stored_timestamp, msg_type, mime_type, payload)
            VALUES ('\(topic)', false, '\(uuid(2000))', now(), 'After', 'text/plain', '\\x6166746572')
            """)
        try reader.read(until: total + 1, log: restarted)
        try reader.drain(for: .seconds(2))
        #expect(reader.records.count == total + 1, "only the new row after the restart: the marks published nothing")
        #expect(!restarted.log.contains("taking over"), "no second handover")
    }

    static func field(_ name: String, in value: String) -> String {
        guard let start = value.range(of: "\"\(name)\" : \"") else { return "" }
        return String(value[start.upperBound...].prefix { $0 != "\"" })
    }
}
