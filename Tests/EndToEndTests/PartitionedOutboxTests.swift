import Foundation
import PostgresLSN
import Testing

/// Outbox tables partitioned by time (the usual way to keep an outbox small: drop an old partition rather
/// than DELETE and VACUUM), rows of other tables in the same transactions, and names as psql users write
/// them. A committed outbox row is published, or outbox-cdc stops, or it counts and logs why not.
@Suite("Partitioned outboxes and rows outbox-cdc does not publish", .serialized)
struct PartitionedOutboxTests {
    /// The outbox replaced by a table partitioned by month, with two partitions.
    private static func partitionOutbox(_ database: TestDatabase) throws {
        try database.sql("""
            DROP TABLE outbox;
            CREATE TABLE outbox (id uuid NOT NULL, aggregatetype text NOT NULL, aggregateid text NOT NULL, type text NOT NULL,
                payload jsonb, created_at timestamptz NOT NULL, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);
            CREATE TABLE outbox_2026_01 PARTITION OF outbox FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
            CREATE TABLE outbox_2026_02 PARTITION OF outbox FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
            """)
    }

    /// Inserts one transaction of rows, each at its `created_at` (so in the partition of that month).
    private static func insert(_ database: TestDatabase, type: String, at times: [String]) throws -> [String] {
        let ids = times.map { _ in UUID().uuidString.lowercased() }
        let values = zip(ids, times).map { id, time in "('\(id)', '\(type)', 'key-\(time.prefix(7))', 't', '{\"at\": \"\(time)\"}', '\(time)')" }
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, created_at) VALUES \(values.joined(separator: ", "))")
        return ids
    }

    @Test("A partitioned outbox: rows of every partition arrive, through a partition attached while streaming, one created, and one detached and dropped before its rows were read")
    func partitionedOutboxEndToEnd() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try Self.partitionOutbox(database)
        try database.createWitnessSlot()
        let type = "Part\(database.suffix)"
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        var connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        var written = try Self.insert(database, type: type, at: ["2026-01-05", "2026-02-07", "2026-01-09"])
        written += try Self.insert(database, type: type, at: ["2026-02-11"])

        // Daily rotation while streaming: a table attached as a partition, and a partition created.
        try database.sql("""
            CREATE TABLE outbox_2026_03 (LIKE outbox INCLUDING DEFAULTS);
            ALTER TABLE outbox ATTACH PARTITION outbox_2026_03 FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
            CREATE TABLE outbox_2026_04 PARTITION OF outbox FOR VALUES FROM ('2026-04-01') TO ('2026-05-01');
            """)
        written += try Self.insert(database, type: type, at: ["2026-03-02", "2026-04-03", "2026-01-20"])
        try reader.read(until: written.count, log: connector)
        #expect(connector.log.contains("\"cdc.table\":\"public.outbox\"") || connector.log.contains("partitioned table with 2 partition(s)"),
                "the start log says the table is partitioned:\n\(connector.log)")
        #expect(connector.log.contains("publish_via_partition_root = true"), "and how its rows reach the publication:\n\(connector.log)")
        let publication = try database.sql("SELECT pubviaroot FROM pg_publication WHERE pubname = 'pub_\(database.suffix)'")
        #expect(publication[0, "pubviaroot"] == "t", "outbox-cdc creates its publication via the partition root")
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")

        // While outbox-cdc is down, rows go to the January partition, which is then detached and dropped:
        // the WAL still holds the rows, and the walsender names them by the root as the catalog was then.
        let whileDown = try Self.insert(database, type: type, at: ["2026-01-30", "2026-01-31"])
        written += whileDown
        try database.sql("ALTER TABLE outbox DETACH PARTITION outbox_2026_01; DROP TABLE outbox_2026_01")
        connector = try ConnectorProcess(database: database)
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        written += try Self.insert(database, type: type, at: ["2026-02-28"])
        try reader.read(until: written.count, log: connector)
        try reader.drain(for: .seconds(1))
        #expect(reader.eventIDs == Set(written), "every row, and none twice: \(reader.records.count) records for \(written.count) rows")
        #expect(reader.records.count == written.count)
        let keys = Set(reader.records.compactMap { $0.key?.utf8String })
        #expect(keys == ["key-2026-01", "key-2026-02", "key-2026-03", "key-2026-04"])
        #expect(!connector.log.contains("not published"), "no row of a partition is called another table's:\n\(connector.log)")

        // The slot moves to the last transaction once all is acknowledged, never past an unpublished row.
        let lastCommit = try #require(try database.witnessedCommitEnds().last)
        try waitFor("the slot to confirm the last transaction", timeout: .seconds(10)) {
            (try database.slot("slot_\(database.suffix)")?.confirmed).map { $0 >= lastCommit } ?? false
        }

        let status = try ConnectorProcess(["status", "--db", database.url, "--slot", "slot_\(database.suffix)", "--publication", "pub_\(database.suffix)"])
        _ = status.waitForExit(timeout: .seconds(30))
        #expect(status.log.contains("outbox table   public.outbox: partitioned table with 3 partition(s); rows published under the partitioned table's name (publish_via_partition_root = true)"), "\(status.log)")
        #expect(status.log.contains("partitions   public.outbox_2026_02, public.outbox_2026_03, public.outbox_2026_04"), "\(status.log)")
    }

    @Test("An existing publication that names partitions' rows by the partition: outbox-cdc stops at start with the ALTER PUBLICATION to run, before any slot exists")
    func publicationWithoutViaRootIsRefusedAtStart() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try Self.partitionOutbox(database)
        try database.sql("CREATE PUBLICATION pub_\(database.suffix) FOR TABLE outbox WITH (publish = 'insert')")
        let connector = try ConnectorProcess(database: database)
        let status = connector.waitForExit(timeout: .seconds(30))
        #expect(status == 1, "\(connector.log)")
        #expect(connector.log.contains("ALTER PUBLICATION pub_\(database.suffix) SET (publish_via_partition_root = true)"), "\(connector.log)")
        #expect(try database.slot("slot_\(database.suffix)") == nil, "nothing was read")

        // After the ALTER the same start streams.
        try database.sql("ALTER PUBLICATION pub_\(database.suffix) SET (publish_via_partition_root = true)")
        let type = "Altered\(database.suffix)"
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let again = try ConnectorProcess(database: database)
        defer {
            again.terminate()
            _ = again.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        let ids = try Self.insert(database, type: type, at: ["2026-01-02", "2026-02-03"])
        try reader.read(until: 2, log: again)
        #expect(reader.eventIDs == Set(ids))
    }

    @Test("Rows a slot decoded while the publication still named partitions are mapped to the outbox, even for a partition dropped since")
    func rowsNamedByTheirPartitionAreStillPublished() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try Self.partitionOutbox(database)
        let slot = "slot_\(database.suffix)", publication = "pub_\(database.suffix)"
        // A slot and publication made by hand, without publish_via_partition_root, as another tool would.
        try database.sql("CREATE PUBLICATION \(publication) FOR TABLE outbox WITH (publish = 'insert')")
        try database.sql("SELECT pg_create_logical_replication_slot('\(slot)', 'pgoutput')")
        let type = "Named\(database.suffix)"
        var written = try Self.insert(database, type: type, at: ["2026-01-03", "2026-02-04"])
        // A partition made, written and dropped before outbox-cdc ever reads: the catalog forgets it.
        try database.sql("CREATE TABLE outbox_2026_05 PARTITION OF outbox FOR VALUES FROM ('2026-05-01') TO ('2026-06-01')")
        written += try Self.insert(database, type: type, at: ["2026-05-05"])
        try database.sql("ALTER TABLE outbox DETACH PARTITION outbox_2026_05; DROP TABLE outbox_2026_05")
        try database.sql("ALTER PUBLICATION \(publication) SET (publish_via_partition_root = true)")
        written += try Self.insert(database, type: type, at: ["2026-02-09"])

        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let connector = try ConnectorProcess(database: database)
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try reader.read(until: written.count, log: connector)
        try reader.drain(for: .seconds(1))
        #expect(reader.eventIDs == Set(written), "\(connector.log)")
        #expect(reader.records.count == written.count)
        #expect(connector.log.contains("rows of public.outbox_2026_01 are published as rows of the outbox table public.outbox"), "\(connector.log)")
        #expect(connector.log.contains("rows of public.outbox_2026_05, which no longer exists, are published as rows of the outbox table public.outbox"), "\(connector.log)")
    }

    @Test("A FOR ALL TABLES publication: another table written in the same transactions is counted and logged by name, the outbox rows are published")
    func otherTablesAreCountedAndLogged() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let publication = "pub_\(database.suffix)"
        try database.sql("""
            CREATE TABLE "Orders" (id bigint PRIMARY KEY, total numeric);
            CREATE TABLE outbox_archive (LIKE outbox INCLUDING ALL);
            CREATE PUBLICATION \(publication) FOR ALL TABLES;
            """)
        let port = try freeLoopbackPort()
        let type = "AllTables\(database.suffix)"
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let connector = try ConnectorProcess(database: database, extra: ["--metrics-address", "127.0.0.1:\(port)"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        var ids: [String] = []
        for order in 1 ... 3 {
            let id = UUID().uuidString.lowercased()
            ids.append(id)
            try database.sql("""
                BEGIN;
                INSERT INTO "Orders" VALUES (\(order), \(order * 10));
                INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(id)', '\(type)', 'order-\(order)', 'created', '{}');
                UPDATE "Orders" SET total = total + 1 WHERE id = \(order);
                UPDATE outbox SET type = 'seen' WHERE id = '\(id)';
                INSERT INTO outbox_archive SELECT * FROM outbox WHERE id = '\(id)';
                DELETE FROM outbox WHERE id = '\(id)';
                COMMIT;
                """)
        }
        try reader.read(until: 3, log: connector)
        try reader.drain(for: .milliseconds(500))
        #expect(reader.eventIDs == Set(ids))
        #expect(reader.records.count == 3)
        let logLine = "rows of public.\"Orders\" are not published: it is not an outbox table"
        #expect(connector.log.components(separatedBy: logLine).count == 2, "logged once, at info, by name:\n\(connector.log)")
        // A copy with the outbox's columns is not published either, but warned about: it could be a detached partition.
        #expect(connector.log.contains("warning") && connector.log.contains("rows of public.outbox_archive are not published: it has the outbox's columns"),
                "\(connector.log)")
        try waitFor("the ignored rows to be counted", timeout: .seconds(5)) {
            let scrape = Scrape(try httpGet(port: port, "/metrics").body)
            return scrape["outbox_cdc_rows_ignored_total{table=\"public.\\\"Orders\\\"\",reason=\"other_table\"}"] == 6
                && scrape["outbox_cdc_rows_ignored_total{table=\"public.outbox\",reason=\"update\"}"] == 3
                && scrape["outbox_cdc_rows_ignored_total{table=\"public.outbox\",reason=\"delete\"}"] == 3
                && scrape["outbox_cdc_rows_ignored_total{table=\"public.outbox_archive\",reason=\"other_table\"}"] == 3
        }
    }

    @Test("Inheritance children: rows inserted into a child are the outbox's; a child the publication leaves out stops outbox-cdc with the statement to run")
    func inheritanceChildren() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql("CREATE TABLE outbox_eu (region text NOT NULL DEFAULT 'eu') INHERITS (outbox)")
        let type = "Inherit\(database.suffix)"
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let connector = try ConnectorProcess(database: database)
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        let ids = (0 ..< 2).map { _ in UUID().uuidString.lowercased() }
        try database.sql("""
            INSERT INTO outbox_eu (id, aggregatetype, aggregateid, type, payload) VALUES ('\(ids[0])', '\(type)', 'eu-1', 't', '{}');
            INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(ids[1])', '\(type)', 'any-1', 't', '{}');
            """)
        try reader.read(until: 2, log: connector)
        #expect(reader.eventIDs == Set(ids))
        #expect(connector.log.contains("rows of public.outbox_eu are published as rows of the outbox table public.outbox"), "\(connector.log)")
        #expect(connector.log.contains("table with 1 inheritance child(ren)"), "\(connector.log)")

        // A child made while streaming is not in the publication: its rows would never be sent, so outbox-cdc stops.
        try database.sql("CREATE TABLE outbox_us () INHERITS (outbox)")
        #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        #expect(connector.log.contains("ALTER PUBLICATION pub_\(database.suffix) ADD TABLE public.outbox_us"), "\(connector.log)")
    }

    @Test("A publication that filters the outbox's rows is named at start: what it leaves out can be neither published nor counted")
    func rowFiltersAreWarnedAbout() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql("CREATE PUBLICATION pub_\(database.suffix) FOR TABLE outbox WHERE (aggregatetype <> 'internal') WITH (publish = 'insert')")
        let connector = try ConnectorProcess(database: database)
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        try waitFor("the warning", timeout: .seconds(10)) { connector.log.contains("the publication filters the rows of an outbox table") }
        #expect(connector.log.contains("aggregatetype <> 'internal'::text"), "\(connector.log)")
    }

    @Test("Names as psql users write them: a quoted mixed-case schema and table")
    func quotedMixedCaseNames() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql("""
            CREATE SCHEMA "Sales";
            CREATE TABLE "Sales"."Outbox" (LIKE outbox INCLUDING ALL);
            """)
        let type = "Quoted\(database.suffix)"
        // Unquoted, the name folds to sales.outbox, which does not exist: the error prints names as psql needs them.
        let folded = try ConnectorProcess(database: database, extra: ["--table", "Sales.Outbox"])
        #expect(folded.waitForExit(timeout: .seconds(30)) == 1)
        #expect(folded.log.contains("the outbox table sales.outbox does not exist"), "\(folded.log)")

        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let connector = try ConnectorProcess(database: database, extra: ["--table", "\"Sales\".\"Outbox\""])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        let id = UUID().uuidString.lowercased()
        try database.sql("INSERT INTO \"Sales\".\"Outbox\" (id, aggregatetype, aggregateid, type, payload) VALUES ('\(id)', '\(type)', 'k', 't', '{}')")
        try reader.read(until: 1, log: connector)
        #expect(reader.eventIDs == [id])
        let published = try database.sql("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = 'pub_\(database.suffix)'")
        #expect(published[0, "schemaname"] == "Sales" && published[0, "tablename"] == "Outbox")
    }
}
