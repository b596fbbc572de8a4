import Foundation
import KafkaClient
import PostgresLSN
import Testing
import WALReader

/// Outbox tables shaped the way real applications make them (eventrouter layout: id uuid, aggregatetype,
/// aggregateid, type, payload), and the ways applications write to them, through the executable against the
/// real PostgreSQL and broker. What each record must be is read back from PostgreSQL's own text output of
/// the row, never written down here.
///
/// Synchronous and serialized for the reason given in StreamingTests.
@Suite("Outbox tables as applications make them", .serialized)
struct OutboxShapesTests {
    /// Key and routing columns of other types than text. The key is the column's text output, the topic
    /// `outbox.event.` and the aggregatetype's text output.
    @Test("aggregateid bigint, aggregatetype an ENUM, aggregateid uuid, varchar(255) columns: key and topic are the columns' text output",
          arguments: ["aggregateid bigint", "aggregatetype enum", "aggregateid uuid", "varchar(255)"])
    func keyAndRoutingColumnsOfOtherTypes(shape: String) throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let suffix = database.suffix
        try database.sql("DROP TABLE outbox")
        var rows: [String] = []
        switch shape {
        case "aggregateid bigint":
            try database.sql("""
                CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype text NOT NULL, aggregateid bigint NOT NULL,
                                     type text NOT NULL, payload jsonb)
                """)
            rows = ["42", "-7", "0", "9223372036854775807", "-9223372036854775808"].map { key in
                "(gen_random_uuid(), 'order_\(suffix)', \(key), 'created', '{\"k\": \(key)}')"
            }
        case "aggregatetype enum":
            try database.sql("CREATE TYPE aggregate_kind AS ENUM ('order_\(suffix)', 'Customer_\(suffix)', 'shipment-\(suffix)')")
            try database.sql("""
                CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype aggregate_kind NOT NULL, aggregateid text NOT NULL,
                                     type text NOT NULL, payload jsonb)
                """)
            rows = ["order_\(suffix)", "Customer_\(suffix)", "shipment-\(suffix)", "order_\(suffix)"].enumerated().map { index, kind in
                "(gen_random_uuid(), '\(kind)', 'agg-\(index)', 'created', '{\"n\": \(index)}')"
            }
        case "aggregateid uuid":
            try database.sql("""
                CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype text NOT NULL, aggregateid uuid NOT NULL,
                                     type text NOT NULL, payload jsonb)
                """)
            // An upper-case input: the key is the uuid's output (lower case), not what the statement said.
            rows = ["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "'{a0eebc999c0b4ef8bb6d6bb9bd380a12}'", "gen_random_uuid()"].map { key in
                "(gen_random_uuid(), 'order_\(suffix)', \(key), 'created', '{\"uuid\": true}')"
            }
        case "varchar(255)":
            try database.sql("""
                CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, aggregateid varchar(255) NOT NULL,
                                     type varchar(255) NOT NULL, payload jsonb)
                """)
            let long = String(repeating: "x", count: 255 - 4)
            rows = ["'plain'", "'ключ-ü-😀'", "'long\(long)'", "''"].map { key in
                "(gen_random_uuid(), 'order_\(suffix)', \(key), 'OrderCreated', '{\"v\": \"varchar\"}')"
            }
        default:
            Issue.record("unknown shape \(shape)")
            return
        }
        try database.createWitnessSlot()
        let slot = "slot_\(suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES " + rows.joined(separator: ", "))

        let expected = try database.expectedRecords()
        #expect(expected.count == rows.count)
        let reader = try TopicReader(topics: Array(Set(expected.map(\.topic))))
        try reader.read(until: expected.count, log: connector)
        try reader.drain(for: .seconds(1))
        expectExactly(expected, reader.records, log: connector)

        try stopAndCheckSlot(connector, database: database, slot: slot)
    }

    /// Generated columns (not sent by pgoutput, one of them placed before the mapped columns) and columns
    /// filled by defaults, the event id among them.
    @Test("Generated columns beside the mapped ones and columns filled by their defaults")
    func generatedColumnsAndDefaults() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let type = "gen_\(database.suffix)"
        try database.sql("DROP TABLE outbox")
        try database.sql("""
            CREATE TABLE outbox (
                id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                topic_hint text GENERATED ALWAYS AS ('x' || aggregatetype) STORED,
                aggregatetype text NOT NULL,
                aggregateid text NOT NULL DEFAULT 'default-key',
                type text NOT NULL DEFAULT 'created',
                occurred_at timestamptz NOT NULL DEFAULT now(),
                payload jsonb DEFAULT '{"defaulted":   true}',
                payload_length int GENERATED ALWAYS AS (length(payload::text)) STORED
            )
            """)
        try database.createWitnessSlot()
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)

        let explicitID = UUID().uuidString.lowercased()
        let connection = try database.connect()
        defer { connection.close() }
        try connection.query("BEGIN")
        try connection.query("INSERT INTO outbox (aggregatetype, aggregateid, payload) VALUES ('\(type)', 'k-1', '{\"b\": 2, \"a\": 1}')")
        try connection.query("INSERT INTO outbox (aggregatetype) VALUES ('\(type)')")
        try connection.query("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(explicitID)', '\(type)', 'k-2', 'updated', NULL)")
        try connection.query("INSERT INTO outbox (aggregatetype, aggregateid, payload) VALUES ('\(type)', 'k-1', DEFAULT)")
        try connection.query("COMMIT")

        let expected = try database.expectedRecords()
        #expect(expected.count == 4)
        #expect(try database.sql("SELECT count(*) FROM outbox WHERE topic_hint = 'x\(type)' AND payload_length IS NOT DISTINCT FROM length(payload::text)").rows.first?.first == "4")
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        try reader.read(until: expected.count, log: connector)
        try reader.drain(for: .seconds(1))
        expectExactly(expected, reader.records, log: connector)
        #expect(reader.records.contains { $0.value == nil }, "the NULL payload is a null value")

        try stopAndCheckSlot(connector, database: database, slot: slot)
    }

    /// The table's history before outbox-cdc ever saw it: an unrelated column dropped, the payload dropped
    /// and added back as jsonb, the key dropped and added back (now after the payload), a column added with
    /// a default. The dropped columns stay in the catalog (attisdropped), the live ones move.
    @Test("Columns dropped and re-added before outbox-cdc starts: the values are the live columns'")
    func columnsDroppedAndReAddedBeforeStart() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let type = "altered_\(database.suffix)"
        try database.sql("DROP TABLE outbox")
        try database.sql("""
            CREATE TABLE outbox (id uuid PRIMARY KEY, legacy_note text DEFAULT 'old', aggregatetype text NOT NULL,
                                 aggregateid text NOT NULL, type text NOT NULL, payload text, created_at timestamptz DEFAULT now())
            """)
        // A row written under the old layout stays in the table, as it would in an application's.
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES (gen_random_uuid(), '\(type)', 'old', 't', 'old text payload')")
        try database.sql("ALTER TABLE outbox DROP COLUMN legacy_note")
        try database.sql("ALTER TABLE outbox DROP COLUMN payload")
        try database.sql("ALTER TABLE outbox ADD COLUMN payload jsonb")
        try database.sql("ALTER TABLE outbox DROP COLUMN aggregateid")
        try database.sql("ALTER TABLE outbox ADD COLUMN aggregateid text NOT NULL DEFAULT 'unset'")
        try database.sql("ALTER TABLE outbox ADD COLUMN tenant text DEFAULT 'acme'")
        let live = try database.sql("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'outbox'::regclass AND attnum > 0 AND NOT attisdropped").rows.first?.first ?? nil
        #expect(live == "id,aggregatetype,type,created_at,payload,aggregateid,tenant")
        let dropped = try database.sql("SELECT count(*) FROM pg_attribute WHERE attrelid = 'outbox'::regclass AND attisdropped").rows.first?.first ?? nil
        #expect(dropped == "3")

        try database.createWitnessSlot()
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        let startedAt = try #require(try database.sql("SELECT now()::text").rows.first?.first ?? nil)
        let connection = try database.connect()
        defer { connection.close() }
        try connection.query("BEGIN")
        try connection.query("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES (gen_random_uuid(), '\(type)', 'k-1', 'created', '{\"after\": \"alter\", \"n\": 1}')")
        try connection.query("INSERT INTO outbox (id, aggregatetype, type, payload, tenant) VALUES (gen_random_uuid(), '\(type)', 'created', '[1, 2, 3]', 'other')")
        try connection.query("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES (gen_random_uuid(), '\(type)', 'k-3', 'created', NULL)")
        try connection.query("COMMIT")

        let expected = try database.expectedRecords(where: "created_at >= '\(startedAt)'")
        #expect(expected.count == 3)
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        try reader.read(until: expected.count, log: connector)
        try reader.drain(for: .seconds(1))
        expectExactly(expected, reader.records, log: connector)

        try stopAndCheckSlot(connector, database: database, slot: slot)
    }

    /// Bulk loads with COPY (through psql, as an application's migration or batch job does; heap multi-insert
    /// in the WAL, several batches of it), and `INSERT … ON CONFLICT DO NOTHING`: rows that conflict with
    /// committed rows or with earlier rows of the same statement are not inserted and not published.
    @Test("Rows written with COPY FROM STDIN and with INSERT … ON CONFLICT DO NOTHING publish once each")
    func copyAndInsertOnConflictDoNothing() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let copied = "copied_\(database.suffix)"
        let upserted = "upserted_\(database.suffix)"
        try database.createWitnessSlot()
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)

        // COPY: 2,500 rows in one statement (more than one multi-insert batch), keys shared so order shows.
        let copyCount = 2500
        var lines: [String] = []
        for n in 0 ..< copyCount {
            let payload = n % 500 == 7 ? "\\N" : "{\"n\": \(n), \"tab\": \"a\\\\tb\"}"
            lines.append([UUID().uuidString.lowercased(), copied, "key-\(n % 13)", "created", payload].joined(separator: "\t"))
        }
        let copy = try runPsql(database, command: "COPY outbox (id, aggregatetype, aggregateid, type, payload) FROM STDIN", input: lines.joined(separator: "\n") + "\n")
        #expect(copy.status == 0, "\(copy.output)")
        #expect(copy.output.contains("COPY \(copyCount)"), "\(copy.output)")

        // ON CONFLICT DO NOTHING: two rows first, then a statement that repeats both ids (other payloads),
        // repeats one of its own new ids, and adds two new rows.
        let ids = (0 ..< 4).map { _ in UUID().uuidString.lowercased() }
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(ids[0])', '\(upserted)', 'u-0', 'first', '{\"first\": 0}'), ('\(ids[1])', '\(upserted)', 'u-1', 'first', '{\"first\": 1}')")
        let connection = try database.connect()
        defer { connection.close() }
        try connection.query("BEGIN")
        try connection.query("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(ids[0])', '\(upserted)', 'u-0', 'again', '{\"again\": 0}') ON CONFLICT DO NOTHING")
        try connection.query("""
            INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES
              ('\(ids[2])', '\(upserted)', 'u-2', 'new', '{"new": 2}'),
              ('\(ids[1])', '\(upserted)', 'u-1', 'again', '{"again": 1}'),
              ('\(ids[2])', '\(upserted)', 'u-2', 'again', '{"again": 2}'),
              ('\(ids[3])', '\(upserted)', 'u-3', 'new', '{"new": 3}')
            ON CONFLICT (id) DO NOTHING
            """)
        try connection.query("COMMIT")
        #expect(try database.sql("SELECT count(*) FROM outbox WHERE aggregatetype = '\(upserted)'").rows.first?.first == "4")
        #expect(try database.sql("SELECT count(*) FROM outbox WHERE type = 'again'").rows.first?.first == "0")

        let expected = try database.expectedRecords()
        #expect(expected.count == copyCount + 4)
        let reader = try TopicReader(topics: ["outbox.event.\(copied)", "outbox.event.\(upserted)"])
        try reader.read(until: expected.count, log: connector)
        try reader.drain(for: .seconds(1))
        expectExactly(expected, reader.records, log: connector)

        // Each key's copied rows arrive in the order of the COPY input.
        let lineOfID = Dictionary(uniqueKeysWithValues: lines.enumerated().map { (String($0.element.prefix(36)), $0.offset) })
        var lastLine: [String: Int] = [:]
        var violations: [String] = []
        for record in reader.records.filter({ $0.topic == "outbox.event.\(copied)" }).sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            guard let id = record.idHeader, let line = lineOfID[id], let key = record.key?.utf8String else { continue }
            if let last = lastLine[key], line < last { violations.append("\(key): line \(line) after \(last)") }
            lastLine[key] = line
        }
        #expect(violations.isEmpty, "\(violations.prefix(5))")

        try stopAndCheckSlot(connector, database: database, slot: slot)
    }

    /// Savepoints inside a committed transaction: what a ROLLBACK TO undid is not published; what came before
    /// it, after it, and in a released savepoint is.
    @Test("A savepoint rolled back inside a committed transaction: its rows do not publish, the others do")
    func rolledBackSavepoint() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let type = "savepoint_\(database.suffix)"
        try database.createWitnessSlot()
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)

        let ids = (0 ..< 7).map { _ in UUID().uuidString.lowercased() }
        func insert(_ index: Int) -> String {
            "INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(ids[index])', '\(type)', 'k', 't', '{\"step\": \(index)}')"
        }
        let connection = try database.connect()
        defer { connection.close() }
        try connection.query("BEGIN")
        try connection.query(insert(0)) // before the savepoint: published
        try connection.query("SAVEPOINT a")
        try connection.query(insert(1)) // rolled back
        try connection.query("SAVEPOINT b")
        try connection.query(insert(2)) // rolled back with a
        try connection.query("ROLLBACK TO SAVEPOINT a")
        try connection.query(insert(3)) // after the rollback: published
        try connection.query("SAVEPOINT c")
        try connection.query(insert(4)) // released: published
        try connection.query("RELEASE SAVEPOINT c")
        try connection.query("SAVEPOINT d")
        try connection.query(insert(5)) // rolled back
        // The statement that fails takes its own rows with it, as an application's error handling does.
        #expect(throws: PostgresError.self) { try connection.query(insert(0)) }
        try connection.query("ROLLBACK TO SAVEPOINT d")
        try connection.query(insert(6)) // published
        try connection.query("COMMIT")

        let expected = try database.expectedRecords()
        #expect(Set(expected.map(\.id)) == [ids[0], ids[3], ids[4], ids[6]])
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        try reader.read(until: expected.count, log: connector)
        try reader.drain(for: .seconds(1))
        expectExactly(expected, reader.records, log: connector)
        // One key, one transaction: the order of the statements.
        let steps = reader.records.sorted { $0.offset < $1.offset }.compactMap(\.idHeader).compactMap { ids.firstIndex(of: $0) }
        #expect(steps == [0, 3, 4, 6])

        try stopAndCheckSlot(connector, database: database, slot: slot)
    }

    /// Two-phase commit: a prepared transaction publishes once, at COMMIT PREPARED and not before (while a
    /// transaction committed after the PREPARE publishes at once); a ROLLBACK PREPARED publishes nothing.
    @Test("PREPARE TRANSACTION publishes nothing until COMMIT PREPARED, then once; ROLLBACK PREPARED publishes nothing")
    func twoPhaseCommit() throws {
        let database = try TestDatabase()
        let committedGID = "shapes_commit_\(database.suffix)"
        let abortedGID = "shapes_abort_\(database.suffix)"
        defer { database.drop() }
        defer {
            // A prepared transaction outlives its session and would keep the database from being dropped.
            for gid in [committedGID, abortedGID] {
                _ = try? database.sql("ROLLBACK PREPARED '\(gid)'")
            }
        }
        let type = "twophase_\(database.suffix)"
        try database.createWitnessSlot()
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])

        func insert(_ id: String, _ key: String) -> String {
            "INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(id)', '\(type)', '\(key)', 't', '{\"key\": \"\(key)\"}')"
        }
        let prepared = UUID().uuidString.lowercased()
        let aborted = UUID().uuidString.lowercased()
        let between = UUID().uuidString.lowercased()
        let last = UUID().uuidString.lowercased()
        let connection = try database.connect()
        defer { connection.close() }
        try connection.query("BEGIN")
        try connection.query(insert(prepared, "prepared"))
        try connection.query("PREPARE TRANSACTION '\(committedGID)'")
        try connection.query("BEGIN")
        try connection.query(insert(aborted, "aborted"))
        try connection.query("PREPARE TRANSACTION '\(abortedGID)'")
        #expect(try database.sql("SELECT count(*) FROM pg_prepared_xacts WHERE gid IN ('\(committedGID)', '\(abortedGID)')").rows.first?.first == "2")

        // A transaction committed while both are prepared publishes at once; the prepared ones do not.
        try database.sql(insert(between, "between"))
        try reader.read(until: 1, log: connector)
        try reader.drain(for: .seconds(1))
        #expect(reader.records.compactMap(\.idHeader) == [between], "only the committed transaction before COMMIT PREPARED:\n\(connector.log)")

        try database.sql("COMMIT PREPARED '\(committedGID)'")
        try database.sql("ROLLBACK PREPARED '\(abortedGID)'")
        try database.sql(insert(last, "last"))
        let expected = try database.expectedRecords()
        #expect(Set(expected.map(\.id)) == [prepared, between, last])
        try reader.read(until: expected.count, log: connector)
        try reader.drain(for: .seconds(1))
        expectExactly(expected, reader.records, log: connector)

        try stopAndCheckSlot(connector, database: database, slot: slot)
    }

    /// "Later" may be after a restart of outbox-cdc: a transaction prepared while one instance streams and
    /// committed while the next one does is published once, by the next one. (The first may have confirmed
    /// past the PREPARE record while it waited: the COMMIT PREPARED still decodes the whole transaction.)
    @Test("A transaction prepared before a restart of outbox-cdc and committed after it publishes once")
    func twoPhaseCommitAcrossARestart() throws {
        let database = try TestDatabase()
        let gid = "shapes_restart_\(database.suffix)"
        defer { database.drop() }
        defer { _ = try? database.sql("ROLLBACK PREPARED '\(gid)'") }
        let type = "twophase_restart_\(database.suffix)"
        try database.createWitnessSlot()
        let slot = "slot_\(database.suffix)"
        let first = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])

        let prepared = UUID().uuidString.lowercased()
        let before = UUID().uuidString.lowercased()
        let connection = try database.connect()
        defer { connection.close() }
        try connection.query("BEGIN")
        try connection.query("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(prepared)', '\(type)', 'k', 't', '{\"prepared\": true}')")
        try connection.query("PREPARE TRANSACTION '\(gid)'")
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(before)', '\(type)', 'k', 't', '{\"before\": true}')")
        try reader.read(until: 1, log: first)
        try reader.drain(for: .seconds(1))
        #expect(reader.records.compactMap(\.idHeader) == [before])
        first.terminate()
        #expect(first.waitForExit(timeout: .seconds(30)) == 0, "\(first.log)")

        let second = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        try reader.drain(for: .seconds(1))
        #expect(reader.records.compactMap(\.idHeader) == [before], "nothing republished, nothing early:\n\(second.log)")
        try database.sql("COMMIT PREPARED '\(gid)'")
        let expected = try database.expectedRecords()
        try reader.read(until: expected.count, log: second)
        try reader.drain(for: .seconds(1))
        expectExactly(expected, reader.records, log: second)

        try stopAndCheckSlot(second, database: database, slot: slot)
    }

    /// The usual outbox pattern deletes the row in the transaction that inserted it: published. Updates of
    /// outbox rows (payload, routing columns, the id; under REPLICA IDENTITY FULL, as tables made for Debezium
    /// often are) publish nothing; a row updated in its inserting transaction publishes as it was inserted.
    @Test("INSERT then DELETE in one transaction publishes; an UPDATE of an outbox row publishes nothing")
    func insertThenDeleteAndUpdates() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let type = "lifecycle_\(database.suffix)"
        let moved = "moved_\(database.suffix)"
        try database.sql("ALTER TABLE outbox REPLICA IDENTITY FULL")
        try database.createWitnessSlot()
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)

        let ids = (0 ..< 6).map { _ in UUID().uuidString.lowercased() }
        func insert(_ index: Int) -> String {
            "INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(ids[index])', '\(type)', 'k-\(index % 2)', 'created', '{\"n\": \(index), \"state\": \"inserted\"}')"
        }
        let connection = try database.connect()
        defer { connection.close() }
        var expected: [ExpectedRecord] = []

        // 0: inserted and deleted in one transaction, the table left empty.
        try connection.query("BEGIN")
        try connection.query(insert(0))
        expected += try ExpectedRecord.rows(connection, where: "id = '\(ids[0])'")
        try connection.query("DELETE FROM outbox WHERE id = '\(ids[0])'")
        try connection.query("COMMIT")
        #expect(try database.sql("SELECT count(*) FROM outbox").rows.first?.first == "0")

        // 1, 2, 3: inserted and kept.
        try connection.query("BEGIN")
        for index in 1 ... 3 { try connection.query(insert(index)) }
        try connection.query("COMMIT")
        expected += try ExpectedRecord.rows(connection, where: "id IN ('\(ids[1])', '\(ids[2])', '\(ids[3])')")

        // 4: updated in the transaction that inserted it; the record is the insert's.
        try connection.query("BEGIN")
        try connection.query(insert(4))
        expected += try ExpectedRecord.rows(connection, where: "id = '\(ids[4])'")
        try connection.query("UPDATE outbox SET payload = '{\"state\": \"updated in its transaction\"}', type = 'updated' WHERE id = '\(ids[4])'")
        try connection.query("COMMIT")

        // Updates after the fact: payload and type; routing columns (to another topic); the id; then deletes.
        try connection.query("UPDATE outbox SET payload = '{\"state\": \"updated\"}', type = 'updated' WHERE id = '\(ids[1])'")
        try connection.query("UPDATE outbox SET aggregatetype = '\(moved)', aggregateid = 'moved' WHERE id = '\(ids[2])'")
        try connection.query("UPDATE outbox SET id = gen_random_uuid() WHERE id = '\(ids[3])'")
        try connection.query("UPDATE outbox SET payload = payload")
        try connection.query("DELETE FROM outbox WHERE type = 'updated'")

        // 5: a last insert, so that whatever the updates might have published would have arrived before it.
        try connection.query(insert(5))
        expected += try ExpectedRecord.rows(connection, where: "id = '\(ids[5])'")
        #expect(Set(expected.map(\.id)) == Set(ids))

        let reader = try TopicReader(topics: ["outbox.event.\(type)", "outbox.event.\(moved)"])
        try reader.read(until: expected.count, log: connector)
        try reader.drain(for: .seconds(1))
        expectExactly(expected, reader.records, log: connector)

        try stopAndCheckSlot(connector, database: database, slot: slot)
    }
}

// MARK: - Helpers of this suite

/// What one outbox row must become in Kafka, from PostgreSQL's text output of its columns.
private struct ExpectedRecord: Hashable, CustomStringConvertible {
    var id: String
    var topic: String
    var key: String?
    var value: String?

    init(id: String, topic: String, key: String?, value: String?) {
        self.id = id
        self.topic = topic
        self.key = key
        self.value = value
    }

    init(_ record: KafkaRecord) {
        self.init(id: record.idHeader ?? "(no id header)", topic: record.topic, key: record.key?.utf8String, value: record.value?.utf8String)
    }

    var description: String { "\(id) \(topic) key=\(key ?? "null") value=\(value ?? "null")" }

    /// The records the outbox rows matching `condition` must give, as `connection` sees them (inside its
    /// transaction, for a row about to be deleted or updated).
    static func rows(_ connection: PostgresConnection, where condition: String = "true") throws -> [ExpectedRecord] {
        try connection.query("""
            SELECT id::text, 'outbox.event.' || aggregatetype::text, aggregateid::text, payload::text FROM outbox WHERE \(condition)
            """).rows.map { ExpectedRecord(id: $0[0] ?? "(null)", topic: $0[1] ?? "(null)", key: $0[2], value: $0[3]) }
    }
}

private extension TestDatabase {
    func expectedRecords(where condition: String = "true") throws -> [ExpectedRecord] {
        let connection = try connect()
        defer { connection.close() }
        return try ExpectedRecord.rows(connection, where: condition)
    }
}

/// Every expected record arrived exactly once, with the right topic, key, value and only the `id` header;
/// nothing else arrived.
private func expectExactly(_ expected: [ExpectedRecord], _ records: [KafkaRecord], log connector: ConnectorProcess, sourceLocation: SourceLocation = #_sourceLocation) {
    let received = records.map(ExpectedRecord.init)
    let missing = Set(expected).subtracting(received)
    let unexpected = Set(received).subtracting(expected)
    #expect(missing.isEmpty && unexpected.isEmpty,
            "missing \(missing.count): \(missing.prefix(5).map(\.description)); unexpected \(unexpected.count): \(unexpected.prefix(5).map(\.description))\nlog:\n\(connector.log)",
            sourceLocation: sourceLocation)
    #expect(received.count == expected.count, "\(received.count) records for \(expected.count) events (duplicates: \(received.count - Set(received).count))", sourceLocation: sourceLocation)
    let badHeaders = records.filter { $0.headers.map(\.name) != ["id"] }
    #expect(badHeaders.isEmpty, "headers other than [id]: \(badHeaders.prefix(3).map { $0.headers.map(\.name) })", sourceLocation: sourceLocation)
}

/// SIGTERM, exit 0, and the slot confirmed at least to the end of the last transaction the witness saw.
private func stopAndCheckSlot(_ connector: ConnectorProcess, database: TestDatabase, slot: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    connector.terminate()
    #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)", sourceLocation: sourceLocation)
    let lastEnd = try #require(try database.witnessedCommitEnds().last, sourceLocation: sourceLocation)
    let confirmed = try #require(try database.slot(slot)?.confirmed, sourceLocation: sourceLocation)
    #expect(confirmed >= lastEnd, "confirmed \(confirmed) is before the last transaction's end \(lastEnd)", sourceLocation: sourceLocation)
}

/// Runs `psql -c command` on the test's database with `input` on its standard input (for COPY FROM STDIN,
/// which the tests' libpq helper does not speak); returns its exit status and its output.
private func runPsql(_ database: TestDatabase, command: String, input: String) throws -> (status: Int32, output: String) {
    let bundled = "\(PostgresUnderTest.binaries)/psql"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: bundled) ? bundled : "/usr/bin/psql")
    process.arguments = ["-X", "-v", "ON_ERROR_STOP=1", "-d", database.url, "-c", command]
    let stdin = Pipe()
    let output = Pipe()
    process.standardInput = stdin
    process.standardOutput = output
    process.standardError = output
    try process.run()
    // Write from another thread: psql's output could fill its pipe while we still write its input.
    let data = Data(input.utf8)
    let writer = Thread {
        stdin.fileHandleForWriting.write(data)
        try? stdin.fileHandleForWriting.close()
    }
    writer.start()
    let printed = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: printed, as: UTF8.self))
}
