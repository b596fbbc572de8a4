import Foundation
import KafkaClient
import Testing
import TestSupport
import WALReader

/// The drop-in promise, end to end: outbox-cdc run from the very connector configuration the real
/// Debezium 3.6.3 ran with, on the same SQL, writes the same records byte for byte. The expectations are
/// the records Debezium wrote, captured by scripts/capture-debezium-goldens into
/// Tests/DebeziumFormatTests/Fixtures/goldens/<case>/ beside the SQL and properties that made them.
///
/// Compared: topic, partition, key bytes, value bytes, header names, order and values. Not compared, as
/// the product promises them in meaning only: the record timestamp (Debezium's processing time) and the
/// `__debezium.context.runId` value (a UUID v7 per start; checked to be one, and the one outbox-cdc logs).
@Suite("Debezium golden records, end to end", .serialized)
struct DebeziumGoldenTests {
    static let cases = [
        "json-schemas", "json-noschemas", "string-key-json-value", "string-string",
        "bytea-bytearray", "bytea-binarydata", "bytea-json-schemas",
        // NOT NULL aggregateid and payload: the schemas say optional=false.
        "json-schemas-notnull",
        // uuid key and payload: io.debezium.data.Uuid.
        "uuid-json-schemas",
        // Rows in the table before the start: snapshot.mode=initial publishes them like inserts.
        "snapshot",
        // The Event Router's options: routing by regex, tombstones, header/envelope/partition placements,
        // the event timestamp, schema versions, JSON expansion; the context headers off.
        "routing", "tombstone-text", "additional-placement", "additional-placement-noschemas", "envelope-unversioned",
        "expand-json", "expand-json-noschemas", "expand-json-optional-bytes", "extended-headers-off",
        // heartbeat.action.query runs each interval; no heartbeat record reaches Kafka.
        "heartbeat-action-query",
        // Outbox rows beside logical decoding messages (the messages: see logicalDecodingMessages…).
        "logical-message",
        // Three outbox tables at once (json, text and varchar payloads).
        "payload-types",
        // A partitioned outbox, its rows in two partitions: published when the publication names them by the
        // partitioned table, made by hand or through publish.via.partition.root=true.
        "partitioned-viaroot", "partitioned-viaroot-property",
        // table.include.list=public.outbox_d.* (a regular expression, as Debezium reads it) matching the partitions.
        "partitioned-include-partitions",
    ]

    @Test(arguments: cases)
    func outboxCDCWritesDebeziumsRecords(caseName: String) throws {
        let golden = try GoldenFixture(caseName)
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }

        let configURL = try database.configFile(for: golden)

        // The topics are shared with earlier runs: this run's records are those after what is there now.
        let expected = try golden.expectedRecords()
        let expectedMessages = try golden.expectedMessageRecords()
        let reader = try TopicReader(topics: try golden.recordTopics())
        try reader.catchUp()
        let earlier = reader.records.count

        let connector = try ConnectorProcess([
            "--debezium-config", configURL.path, "--brokers", try TestStack.brokers(), "--log-format", "json",
        ])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: database.slot)
        let runID = try #require(try runIDLogged(by: connector), "outbox-cdc logs its Debezium run id:\n\(connector.log)")
        try database.sql(golden.rowsSQL)
        try reader.read(until: earlier + expected.count + expectedMessages.count, log: connector)
        try reader.drain(for: .seconds(1))
        let fresh = reader.records[earlier...]
        var ours: [String: KafkaRecord] = [:]
        for record in fresh {
            if let id = record.headerText("id") { ours[id] = record }
        }
        #expect(fresh.count == expected.count + expectedMessages.count, "no record twice, none extra: \(fresh.count)\n\(connector.log)")
        #expect(ours.count == expected.count, "records of this run: \(ours.keys.sorted())\n\(connector.log)")
        // Messages: topic, partition, key and no headers exactly; the value but for its run-dependent fields.
        let messages = try fresh.filter { $0.headerText("id") == nil }.map { got in
            "\(got.topic)/\(got.partition) \(text(got.key)) headers:\(got.headers.count) \(try Self.runIndependent(got.value))"
        }
        let wantedMessages = try expectedMessages.map { want in
            "\(want.topic)/\(want.partition) \(text(want.key)) headers:\(want.headers.count) \(try Self.runIndependent(want.value))"
        }
        #expect(messages.sorted() == wantedMessages.sorted(), "\(caseName) messages")
        for (id, want) in expected {
            let got = try #require(ours[id], "event \(id) arrived")
            #expect(got.topic == want.topic, "\(caseName) \(id) topic")
            // A null key has no hash: the Java client and librdkafka each pick a partition of their own.
            if want.key != nil {
                #expect(got.partition == want.partition, "\(caseName) \(id) partition")
            }
            #expect(text(got.key) == text(want.key) && got.key == want.key, "\(caseName) \(id) key: \(text(got.key)) vs \(text(want.key))")
            #expect(text(got.value) == text(want.value) && got.value == want.value, "\(caseName) \(id) value: \(text(got.value)) vs \(text(want.value))")
            // The run id is one per start: the one this start logged.
            let wantHeaders = want.headers.map { $0.name == "__debezium.context.runId" ? KafkaHeader(name: $0.name, value: Array(runID.utf8)) : $0 }
            #expect(got.headers == wantHeaders, "\(caseName) \(id) headers: \(got.headers.map(\.name))")
        }
    }

    /// What outbox-cdc cannot reproduce yet is refused at start, naming the key, before anything is read.
    @Test(arguments: [
        ("transforms.outbox.table.op.invalid.behavior=fatal", "transforms.outbox.table.op.invalid.behavior"),
        ("transforms.outbox.route.topic.regex=(?<routedByValue", "transforms.outbox.route.topic.regex"),
        ("plugin.name=decoderbufs", "plugin.name"),
        ("table.include.list=public.(outbox", "table.include.list"),
        ("skipped.operations=c,t", "skipped.operations"),
        ("database.initial.statements=SET search_path TO app", "database.initial.statements"),
    ])
    func settingsNotReproducedAreRefusedByKey(line: String, key: String) throws {
        let golden = try GoldenFixture("json-schemas")
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }
        let configURL = try database.configFile(for: golden, extra: line + "\n")
        let connector = try ConnectorProcess(["--debezium-config", configURL.path, "--brokers", try TestStack.brokers()])
        let status = connector.waitForExit(timeout: .seconds(30))
        #expect(status != nil && status != 0, "outbox-cdc refuses to start")
        #expect(connector.log.contains(key), "the error names \(key):\n\(connector.log)")
        #expect(!connector.log.contains("password="), "no password in the output")
        #expect(!connector.log.contains("outbox-cdc starting"), "refused before anything connects")
    }

    /// Where Debezium's task dies on a row, outbox-cdc stops too, having published what Debezium published
    /// before it, naming the setting, and without confirming past the row.
    @Test(arguments: [
        ("event-timestamp-timestamptz", "table.field.event.timestamp"),
        ("expand-json-fatal", "Invalid type for ARRAY"),
    ])
    func whereDebeziumsTaskDiesOutboxCDCStops(caseName: String, message: String) throws {
        let golden = try GoldenFixture(caseName)
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }
        let configURL = try database.configFile(for: golden)
        let expected = try golden.expectedRecords()
        let reader = try TopicReader(topics: try golden.recordTopics().isEmpty ? golden.topics : golden.recordTopics())
        try reader.catchUp()
        let earlier = reader.records.count

        let connector = try ConnectorProcess(["--debezium-config", configURL.path, "--brokers", try TestStack.brokers()])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        if caseName == "event-timestamp-timestamptz" {
            // The column's type is known from the first Relation message, so no row is needed: at the start.
            #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        } else {
            try database.waitUntilActive(slot: database.slot)
            try database.sql(golden.rowsSQL)
            #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        }
        #expect(connector.log.contains(message), "\(connector.log)")
        try reader.drain(for: .seconds(2))
        let fresh = reader.records[earlier...].compactMap { $0.headerText("id") }
        #expect(Set(fresh) == Set(expected.keys), "what Debezium published before its task died, and no more")
    }

    /// A partitioned outbox under a configuration with which Debezium publishes none of its rows (captured:
    /// partitioned-default-publication and partitioned-filtered-publication, no record in 40 s, nothing
    /// logged): outbox-cdc stops at start instead, saying what makes both publish, and reads nothing.
    @Test(arguments: ["partitioned-default-publication", "partitioned-filtered-publication"])
    func whereDebeziumDropsAPartitionedOutboxOutboxCDCStops(caseName: String) throws {
        let golden = try GoldenFixture(caseName)
        #expect(try golden.expectedRecords().isEmpty, "Debezium published nothing")
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }
        let connector = try ConnectorProcess(["--debezium-config", try database.configFile(for: golden).path, "--brokers", try TestStack.brokers()])
        #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        #expect(connector.log.contains("set publish.via.partition.root=true"), "\(connector.log)")
        #expect(try database.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = '\(database.slot)'").rows.isEmpty, "no slot: nothing was read")

        // An existing publication without publish_via_partition_root (Debezium never alters it): the ALTER to run.
        try database.sql("CREATE PUBLICATION \(database.publication) FOR TABLE public.outbox")
        let again = try ConnectorProcess(["--debezium-config", try database.configFile(for: golden).path, "--brokers", try TestStack.brokers()])
        #expect(again.waitForExit(timeout: .seconds(30)) == 1, "\(again.log)")
        #expect(again.log.contains("SET (publish_via_partition_root = true)"), "\(again.log)")
    }

    /// table.include.list as Debezium reads it, per row: a partition created while streaming that the pattern
    /// matches is published like the others (its key has the same NOT NULL schema); one it does not match
    /// would be dropped by Debezium, so outbox-cdc stops there, the slot before it.
    @Test func aPartitionCreatedWhileStreamingFollowsThePattern() throws {
        let golden = try GoldenFixture("partitioned-include-partitions")
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }
        let reader = try TopicReader(topics: ["outbox.event.Order"])
        try reader.catchUp()
        let earlier = reader.records.count
        let connector = try ConnectorProcess(["--debezium-config", try database.configFile(for: golden).path, "--brokers", try TestStack.brokers()])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: database.slot)
        let matched = UUID().uuidString.lowercased(), unmatched = UUID().uuidString.lowercased()
        try database.sql("""
            CREATE TABLE public.outbox_d3 PARTITION OF public.outbox FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
            INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload, created_at)
              VALUES ('\(matched)', 'Order', 'order-d3', 'OrderCreated', '{"part": "d3"}', '2027-03-01');
            """)
        try reader.read(until: earlier + 1, log: connector)
        let record = try #require(reader.records[earlier...].first { $0.headerText("id") == matched })
        #expect(String(decoding: record.key ?? [], as: UTF8.self) == #"{"schema":{"type":"string","optional":false},"payload":"order-d3"}"#)
        try database.sql("""
            CREATE TABLE public.outbox_x PARTITION OF public.outbox FOR VALUES FROM ('2028-01-01') TO ('2029-01-01');
            INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload, created_at)
              VALUES ('\(unmatched)', 'Order', 'order-x', 'OrderCreated', '{"part": "x"}', '2028-03-01');
            """)
        #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        #expect(connector.log.contains("under the name of its partition or child public.outbox_x"), "\(connector.log)")
        try reader.drain(for: .seconds(1))
        #expect(!reader.records[earlier...].contains { $0.headerText("id") == unmatched })
    }

    /// `heartbeat.interval.ms` with `heartbeat.action.query`: the query runs once an interval, as in Debezium.
    @Test func theHeartbeatActionQueryRunsEachInterval() throws {
        let golden = try GoldenFixture("heartbeat-action-query")
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }
        let connector = try ConnectorProcess(["--debezium-config", try database.configFile(for: golden).path, "--brokers", try TestStack.brokers()])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: database.slot)
        try waitFor("three heartbeats", timeout: .seconds(15)) {
            let count = try database.sql("SELECT count(*) FROM public.heartbeat").rows.first?.first ?? nil
            return Int(count ?? "0") ?? 0 >= 3
        }
    }

    /// `heartbeat.interval.ms`: a heartbeat record every interval on `__debezium-heartbeat.<topic.prefix>`, as
    /// Debezium with the EventRouter writes it (golden heartbeat-records): partition 0, no headers, its key,
    /// and a value that differs from Debezium's only in its time; the outbox row's record as before.
    @Test func heartbeatRecordsAreDebeziums() throws {
        let golden = try GoldenFixture("heartbeat-records")
        let records = try golden.allRecords()
        let theirs = try #require(records.first { $0.topic.hasPrefix("__debezium-heartbeat.") })
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }
        let reader = try TopicReader(topics: [theirs.topic])
        try reader.catchUp()
        let earlier = reader.records.count
        let started = Int64(Date().timeIntervalSince1970 * 1000)
        let connector = try ConnectorProcess(["--debezium-config", try database.configFile(for: golden).path, "--brokers", try TestStack.brokers()])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: database.slot)
        let ours = Array(try reader.read(until: earlier + 3, log: connector)[earlier...])
        let timeInValue = /"ts_ms":(\d+)/
        for record in ours {
            #expect(record.partition == 0 && record.headers.isEmpty, "\(record)")
            #expect(record.key == theirs.key)
            let text = String(decoding: record.value ?? [], as: UTF8.self)
            let time = try #require(text.firstMatch(of: timeInValue).flatMap { Int64($0.output.1) })
            #expect(time >= started && time <= Int64(Date().timeIntervalSince1970 * 1000), "the heartbeat's own time: \(text)")
            #expect(text.replacing(timeInValue, with: "") == String(decoding: theirs.value ?? [], as: UTF8.self).replacing(timeInValue, with: ""))
        }
        // One an interval (1 s): three take about two intervals, never three at once.
        let times = ours.compactMap { String(decoding: $0.value ?? [], as: UTF8.self).firstMatch(of: timeInValue).flatMap { Int64($0.output.1) } }
        #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 >= 500 }, "\(times)")
    }

    /// Kafka Connect's `errors.tolerance=all` (the seed project's connector sets it): a record Kafka refuses is
    /// logged and skipped, and what follows is published, as `--on-error skip` does; the dead-letter queue keys
    /// (sink connectors only) are accepted with a warning.
    @Test func errorsToleranceAllSkipsWhatCannotBePublished() throws {
        let golden = try GoldenFixture("json-schemas")
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }
        let extra = "errors.tolerance=all\nerrors.deadletterqueue.topic.name=debezium-deadletter\nerrors.retry.delay.max.ms=1000\n"
        let connector = try ConnectorProcess(["--debezium-config", try database.configFile(for: golden, extra: extra).path, "--brokers", try TestStack.brokers()])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: database.slot)
        let topic = "outbox.event.Fine\(database.suffix)"
        let reader = try TopicReader(topics: [topic])
        let refused = UUID().uuidString.lowercased(), after = UUID().uuidString.lowercased()
        try database.sql("INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(refused)', 'no such/topic', 'k', 't', '{}')")
        try database.sql("INSERT INTO public.outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(after)', 'Fine\(database.suffix)', 'k', 't', '{}')")
        let records = try reader.read(until: 1, log: connector)
        #expect(records.first?.headerText("id") == after)
        // The refusal's report may come after the next record's acknowledgement.
        try waitFor("the refused event to be skipped", timeout: .seconds(30)) {
            connector.log.contains("skipped an event Kafka refuses") && connector.log.contains(refused)
        }
        #expect(connector.isRunning, "\(connector.log)")
        #expect(connector.log.contains("sink connectors only"), "the dead-letter queue keys warn: \(connector.log)")
    }

    /// `slot.drop.on.stop=true`: after an orderly stop the slot is gone. `slot.stream.params` options that
    /// would change what outbox-cdc decodes (`binary`) are left out, so streaming works.
    @Test func slotDropOnStopIsHonoured() throws {
        let golden = try GoldenFixture("string-string")
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }
        let configURL = try database.configFile(for: golden, extra: "slot.drop.on.stop=true\nslot.stream.params=binary=true\n")
        let connector = try ConnectorProcess(["--debezium-config", configURL.path, "--brokers", try TestStack.brokers()])
        try database.waitUntilActive(slot: database.slot)
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
        #expect(connector.log.contains("dropped replication slot"), "\(connector.log)")
        #expect(try database.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = '\(database.slot)'").rows.isEmpty)
    }

    /// A message record's value with what differs from run to run (Debezium's processing time, the
    /// commit's time, LSNs and transaction id, and the database, whose name is the test's) left out; member order kept, as the text's keys in order.
    private static func runIndependent(_ value: [UInt8]?) throws -> String {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(value ?? [])) as? [String: Any])
        var source = try #require(object["source"] as? [String: Any])
        for field in ["ts_ms", "ts_us", "ts_ns", "sequence", "txId", "lsn", "db"] { source[field] = source[field] is NSNull ? "null" : "set" }
        var rest = object
        rest["ts_ms"] = "set"
        rest["source"] = source
        let keys = String(decoding: value ?? [], as: UTF8.self).matches(of: /"([a-z_]+)":/).map { String($0.output.1) }
        let normalized = try JSONSerialization.data(withJSONObject: rest, options: [.sortedKeys])
        return keys.joined(separator: ",") + " " + String(decoding: normalized, as: UTF8.self)
    }

}

private func text(_ bytes: [UInt8]?) -> String {
    bytes.map { String(decoding: $0, as: UTF8.self) } ?? "(null)"
}

extension KafkaRecord {
    func headerText(_ name: String) -> String? {
        headers.first { $0.name == name }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A database of the golden case's own schema (its setup.sql), dropped with its slot at the end.
final class GoldenDatabase: @unchecked Sendable {
    let suffix = String(UInt64.random(in: 0 ... .max), radix: 36)
    let name: String
    let url: String
    var slot: String { "golden_\(suffix)" }
    var publication: String { "golden_pub_\(suffix)" }

    /// Files written for this database's runs, removed with it.
    private var files: [URL] = []

    /// Debezium's connector configuration for this database (plus `extra` properties lines), as a file.
    func configFile(for golden: GoldenFixture, extra: String = "") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dbz-\(suffix)-\(files.count).properties")
        try (golden.connectorProperties(database: self) + extra).write(to: url, atomically: true, encoding: .utf8)
        files.append(url)
        return url
    }

    init(setupSQL: String) throws {
        name = "golden_\(suffix)"
        let admin = try PostgresConnection.connect(ConnectionSettings(TestStack.databaseURL()))
        defer { admin.close() }
        try admin.query("CREATE DATABASE \(name)")
        url = TestDatabase.replacingDatabase(in: try TestStack.databaseURL(), with: name)
        try sql(setupSQL)
        // A case's own publication (setup.sql makes it under the capture script's name) becomes this database's.
        if try !sql("SELECT 1 FROM pg_publication WHERE pubname = 'dbz_golden_pub'").rows.isEmpty {
            try sql("ALTER PUBLICATION dbz_golden_pub RENAME TO \(publication)")
        }
    }

    @discardableResult
    func sql(_ statement: String) throws -> QueryResult {
        let connection = try PostgresConnection.connect(ConnectionSettings(url))
        defer { connection.close() }
        return try connection.query(statement)
    }

    func waitUntilActive(slot name: String) throws {
        try waitFor("slot \(name) to stream", timeout: .seconds(30)) {
            let result = try sql("SELECT active, confirmed_flush_lsn IS NOT NULL AS ready FROM pg_replication_slots WHERE slot_name = '\(name)'")
            return result.rows.first.map { $0 == ["t", "t"] } ?? false
        }
    }

    func drop() {
        files.forEach { try? FileManager.default.removeItem(at: $0) }
        guard let admin = try? PostgresConnection.connect(ConnectionSettings(TestStack.databaseURL())) else { return }
        defer { admin.close() }
        for _ in 0 ..< 100 {
            let remaining = try? admin.query("SELECT count(*) FROM pg_replication_slots WHERE database = '\(name)' AND active")
            if remaining?.rows.first?.first == "0" { break }
            usleep(100_000)
        }
        _ = try? admin.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '\(name)'")
        _ = try? admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}

/// One captured case, read from the DebeziumFormatTests fixtures.
struct GoldenFixture {
    let directory: URL
    let environment: [String: String]

    /// A case of `goldens` (Kafka Connect) or, with `root: "goldens-server"`, of Debezium Server.
    init(_ name: String, root: String = "goldens") throws {
        directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("DebeziumFormatTests/Fixtures/\(root)/\(name)")
        let environment = caseEnvironment(try String(contentsOf: directory.appendingPathComponent("case.env"), encoding: .utf8))
        self.environment = environment
    }

    /// Cases that share their SQL name the shared file in case.env (`SETUP_SQL=../sql/…`).
    var setupSQL: String { get throws { try sqlFile(environment["SETUP_SQL"] ?? "setup.sql") } }
    var rowsSQL: String { get throws { try sqlFile(environment["ROWS_SQL"] ?? "rows.sql") } }

    private func sqlFile(_ relativePath: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(relativePath).standardizedFileURL, encoding: .utf8)
    }
    var topics: [String] { (environment["TOPICS"] ?? "").split(separator: " ").map(String.init) }

    /// The connector configuration Debezium ran with, pointed at this test's database, slot and
    /// publication, plus the converters its worker ran with (a connector may set them itself).
    func connectorProperties(database: GoldenDatabase) throws -> String {
        let stack = try #require(URLComponents(string: try TestStack.databaseURL()))
        var lines: [String] = []
        for line in try String(contentsOf: directory.appendingPathComponent("connector.properties.used"), encoding: .utf8).split(separator: "\n") {
            switch line.split(separator: "=", maxSplits: 1).first.map(String.init) {
            case "database.port": lines.append("database.port=\(stack.port ?? 5432)")
            case "database.password": lines.append("database.password=\(stack.password ?? "")")
            case "database.user": lines.append("database.user=\(stack.user ?? "postgres")")
            case "database.hostname": lines.append("database.hostname=\(stack.host ?? "127.0.0.1")")
            case "database.dbname": lines.append("database.dbname=\(database.name)")
            case "slot.name": lines.append("slot.name=\(database.slot)")
            case "publication.name": lines.append("publication.name=\(database.publication)")
            default: lines.append(String(line))
            }
        }
        for line in try String(contentsOf: directory.appendingPathComponent("worker.properties.used"), encoding: .utf8).split(separator: "\n")
        where line.hasPrefix("key.converter") || line.hasPrefix("value.converter") || line.hasPrefix("header.converter") {
            lines.append(String(line))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    struct Record {
        var topic: String
        var partition: Int32
        var key: [UInt8]?
        var value: [UInt8]?
        var headers: [KafkaHeader]
    }

    /// Debezium's records by event id.
    /// A Debezium Server case's application.properties, pointed at `database`: its `${PGPORT}`-style
    /// expressions are left for outbox-cdc to expand from the environment, as Debezium Server would.
    func serverProperties(database: GoldenDatabase) throws -> String {
        try String(contentsOf: directory.appendingPathComponent("application.properties"), encoding: .utf8)
            .split(separator: "\n").map { line in
                switch line.split(separator: "=", maxSplits: 1).first {
                case "debezium.source.database.dbname": return "debezium.source.database.dbname=\(database.name)"
                case "debezium.source.slot.name": return "debezium.source.slot.name=\(database.slot)"
                case "debezium.source.publication.name": return "debezium.source.publication.name=\(database.publication)"
                default: return String(line)
                }
            }.joined(separator: "\n") + "\n"
    }

    /// Every topic the captured records went to (a routing case's unmatched values name topics of their own).
    func recordTopics() throws -> [String] {
        var topics: [String] = []
        for record in try allRecords() where !topics.contains(record.topic) { topics.append(record.topic) }
        return topics
    }

    /// The captured records without an `id` header (logical decoding messages), in capture order.
    func expectedMessageRecords() throws -> [Record] {
        try allRecords().filter { record in !record.headers.contains { $0.name == "id" } }
    }

    func expectedRecords() throws -> [String: Record] {
        var byID: [String: Record] = [:]
        for record in try allRecords() {
            if let id = record.headers.first(where: { $0.name == "id" })?.value { byID[String(decoding: id, as: UTF8.self)] = record }
        }
        return byID
    }

    func allRecords() throws -> [Record] {
        var records: [Record] = []
        for line in try String(contentsOf: directory.appendingPathComponent("records.jsonl"), encoding: .utf8).split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let headers = try #require(object["headers"] as? [[Any]]).map { pair in
                KafkaHeader(name: pair.first as? String ?? "", value: (pair.last as? String).flatMap(bytes(hex:)))
            }
            let record = Record(
                topic: try #require(object["topic"] as? String), partition: Int32(try #require(object["partition"] as? Int)),
                key: (object["key_hex"] as? String).flatMap(bytes(hex:)), value: (object["value_hex"] as? String).flatMap(bytes(hex:)),
                headers: headers
            )
            records.append(record)
        }
        return records
    }
}

/// The `__debezium.context.runId` a start of outbox-cdc logged (one per start, as Debezium draws one per task start).
func runIDLogged(by connector: ConnectorProcess) throws -> String? {
    var found: String?
    try waitFor("the Debezium run id in the log", timeout: .seconds(30)) {
        for line in connector.log.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let runID = object["debezium.run_id"] as? String else { continue }
            found = runID
            return true
        }
        return false
    }
    return found
}
