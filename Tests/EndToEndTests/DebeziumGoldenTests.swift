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
        // Rows in the table before the start: snapshot.mode=initial publishes them like inserts.
        "snapshot",
        // payload-types streams three outbox tables at once, which outbox-cdc does not do yet; its
        // records are checked by DebeziumFormatTests' GoldenRecordTests.
    ]

    @Test(arguments: cases)
    func outboxCDCWritesDebeziumsRecords(caseName: String) throws {
        let golden = try GoldenFixture(caseName)
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }

        let configURL = FileManager.default.temporaryDirectory.appendingPathComponent("dbz-\(database.suffix).properties")
        try golden.connectorProperties(database: database).write(to: configURL, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: configURL) }

        let connector = try ConnectorProcess([
            "--debezium-config", configURL.path, "--brokers", try TestStack.brokers(), "--log-format", "json",
        ])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: database.slot)
        let runID = try #require(try runIDLogged(by: connector), "outbox-cdc logs its Debezium run id:\n\(connector.log)")
        let consumer = try KafkaConsumer(brokers: TestStack.brokers(), logger: TestStack.logger)
        defer { consumer.close() }
        for topic in golden.topics { try consumer.assign(topic: topic, from: .beginning) }
        try database.sql(golden.rowsSQL)

        // The topics are shared with earlier runs: this start's records are the ones with its run id.
        let expected = try golden.expectedRecords()
        var ours: [String: KafkaRecord] = [:]
        let deadline = ContinuousClock.now + .seconds(60)
        while ours.count < expected.count, ContinuousClock.now < deadline {
            guard let record = try consumer.poll(timeout: .milliseconds(100)),
                  record.headerText("__debezium.context.runId") == runID, let id = record.headerText("id") else { continue }
            ours[id] = record
        }
        #expect(ours.count == expected.count, "records of this run: \(ours.keys.sorted())\n\(connector.log)")
        for (id, want) in expected {
            let got = try #require(ours[id], "event \(id) arrived")
            #expect(got.topic == want.topic, "\(caseName) \(id) topic")
            // A null key has no hash: the Java client and librdkafka each pick a partition of their own.
            if want.key != nil {
                #expect(got.partition == want.partition, "\(caseName) \(id) partition")
            }
            #expect(text(got.key) == text(want.key) && got.key == want.key, "\(caseName) \(id) key: \(text(got.key)) vs \(text(want.key))")
            #expect(text(got.value) == text(want.value) && got.value == want.value, "\(caseName) \(id) value: \(text(got.value)) vs \(text(want.value))")
            let wantHeaders = want.headers.map { $0.name == "__debezium.context.runId" ? KafkaHeader(name: $0.name, value: Array(runID.utf8)) : $0 }
            #expect(got.headers == wantHeaders, "\(caseName) \(id) headers: \(got.headers.map(\.name))")
        }
    }

    /// What outbox-cdc cannot reproduce yet is refused at start, naming the key, before anything is read.
    @Test(arguments: [
        ("transforms.outbox.route.topic.regex=(?<routedByValue>.*)Created", "transforms.outbox.route.topic.regex"),
        ("transforms.outbox.table.fields.additional.placement=type:header:eventType", "transforms.outbox.table.fields.additional.placement"),
        ("plugin.name=decoderbufs", "plugin.name"),
        ("table.include.list=public.outbox,public.other", "table.include.list"),
        ("heartbeat.interval.ms=1000", "heartbeat.interval.ms"),
        ("skipped.operations=c,t", "skipped.operations"),
        ("database.initial.statements=SET search_path TO app", "database.initial.statements"),
    ])
    func settingsNotReproducedAreRefusedByKey(line: String, key: String) throws {
        let golden = try GoldenFixture("json-schemas")
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }
        let configURL = FileManager.default.temporaryDirectory.appendingPathComponent("dbz-\(database.suffix).properties")
        try (golden.connectorProperties(database: database) + line + "\n").write(to: configURL, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: configURL) }
        let connector = try ConnectorProcess(["--debezium-config", configURL.path, "--brokers", try TestStack.brokers()])
        let status = connector.waitForExit(timeout: .seconds(30))
        #expect(status != nil && status != 0, "outbox-cdc refuses to start")
        #expect(connector.log.contains(key), "the error names \(key):\n\(connector.log)")
        #expect(!connector.log.contains(try #require(URLComponents(string: try TestStack.databaseURL())?.password)), "no password in the output")
    }

    /// `slot.drop.on.stop=true`: after an orderly stop the slot is gone. `slot.stream.params` options that
    /// would change what outbox-cdc decodes (`binary`) are left out, so streaming works.
    @Test func slotDropOnStopIsHonoured() throws {
        let golden = try GoldenFixture("string-string")
        let database = try GoldenDatabase(setupSQL: golden.setupSQL)
        defer { database.drop() }
        let configURL = FileManager.default.temporaryDirectory.appendingPathComponent("dbz-\(database.suffix).properties")
        try (golden.connectorProperties(database: database) + "slot.drop.on.stop=true\nslot.stream.params=binary=true\n")
            .write(to: configURL, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: configURL) }
        let connector = try ConnectorProcess(["--debezium-config", configURL.path, "--brokers", try TestStack.brokers()])
        try database.waitUntilActive(slot: database.slot)
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
        #expect(connector.log.contains("dropped replication slot"), "\(connector.log)")
        #expect(try database.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = '\(database.slot)'").rows.isEmpty)
    }

    private func runIDLogged(by connector: ConnectorProcess) throws -> String? {
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

    init(setupSQL: String) throws {
        name = "golden_\(suffix)"
        let admin = try PostgresConnection.connect(ConnectionSettings(TestStack.databaseURL()))
        defer { admin.close() }
        try admin.query("CREATE DATABASE \(name)")
        url = TestDatabase.replacingDatabase(in: try TestStack.databaseURL(), with: name)
        try sql(setupSQL)
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

    init(_ name: String) throws {
        directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("DebeziumFormatTests/Fixtures/goldens/\(name)")
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
    func expectedRecords() throws -> [String: Record] {
        var byID: [String: Record] = [:]
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
            if let id = headers.first(where: { $0.name == "id" })?.value { byID[String(decoding: id, as: UTF8.self)] = record }
        }
        return byID
    }
}
