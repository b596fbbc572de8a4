import Foundation
import KafkaClient
import Testing
import TestSupport

/// outbox-cdc run from the Debezium configs that publish change events (no EventRouter; ExtractNewRecordState
/// or no transform) against the records the real Debezium 3.6.3 wrote under them
/// (DebeziumFormatTests/Fixtures/goldens/change-*, unwrap-*, golang-debezium-outbox): the same SQL, the same
/// topics, partitions, keys, values and headers, in the same order per partition.
///
/// A second run of the same SQL cannot repeat the WAL positions, transaction ids and commit times of the
/// capture, nor its database name: those values (`source.lsn`, `txId`, `sequence`, `ts_*`, `db`, and what
/// `add.fields` / `add.headers` copy of them) are compared for their presence and form, every other byte
/// exactly. `ChangeEventRecordGoldenTests` compares them byte for byte from the capture's own pgoutput stream.
@Suite("Debezium change events, end to end", .serialized)
struct ChangeEventGoldenTests {
    static let cases = [
        "change-types-schemas", "change-types-noschemas", "change-types-decimal-string", "change-types-decimal-double",
        "change-types-time-connect", "change-replica-full",
        "change-tombstones-off", "change-truncate", "change-toast", "unwrap-defaults-schemas", "unwrap-drop-tombstones",
        "unwrap-options", "unwrap-truncate", "unwrap-route-by-field", "change-heartbeat", "change-snapshot",
        "change-snapshot-initial-only", "change-snapshot-when-needed", "unwrap-delete-drop", "unwrap-delete-rewrite-tombstone",
        "unwrap-delete-to-tombstone",
        "unwrap-legacy-drop", "unwrap-legacy-rewrite", "unwrap-legacy-none-keep", "errors-tolerance-all-route",
        "errors-tolerance-all-transform",
    ]

    @Test(arguments: cases)
    func outboxCDCWritesDebeziumsChangeEvents(caseName: String) throws {
        try Self.check(caseName)
    }

    /// `publication.autocreate.mode=all_tables` with `skipped.operations=u,d` (goldens/change-all-tables): the
    /// publication outbox-cdc creates is the one Debezium created (FOR ALL TABLES, inserts and truncates).
    @Test func thePublicationIsCreatedAsDebeziumCreatesIt() throws {
        try Self.run("change-all-tables", inspect: { database in
            let row = try database.sql("""
                SELECT puballtables, pubinsert, pubupdate, pubdelete, pubtruncate, pubviaroot FROM pg_publication WHERE pubname = '\(database.publication)'
                """).rows.first
            // As pgoutput.txt's header records Debezium's: puballtables=t pubinsert=t pubupdate=f pubdelete=f pubtruncate=t pubviaroot=f.
            #expect(row == ["t", "t", "f", "f", "t", "f"])
        })
    }

    /// Debezium Server's Kafka sink (goldens-server/change-events*): the same change events through its
    /// formats, the keys of a key change and the transform's headers through its header format.
    @Test(arguments: ["change-events", "change-events-unwrap", "change-events-unwrap-schemas", "change-events-heartbeat"])
    func outboxCDCWritesDebeziumServersChangeEvents(caseName: String) throws {
        try Self.run(caseName, root: "goldens-server")
    }

    /// PostgreSQL's special values: each as Debezium wrote it, but for the one value outbox-cdc does not
    /// reproduce (a timestamp past 64-bit microseconds, which Debezium overflows into another instant). Under
    /// `--on-error skip` that row alone is left out, and the log names it; by default outbox-cdc stops there.
    @Test(arguments: ["change-types-special", "change-types-special-decimal-string"])
    func specialValuesAreDebeziumsButTheOverflowingTimestamp(caseName: String) throws {
        let overflowingRowKey = #""payload":{"id":14}}"#
        let (_, log) = try Self.run(caseName, arguments: ["--on-error", "skip"], leavingOut: { record in
            record.key.map { String(decoding: $0, as: UTF8.self).hasSuffix(overflowingRowKey) } ?? false
        })
        #expect(log.contains("294276-12-31 23:59:59.999999"), "the skipped value is named:\n\(log)")
    }

    /// The seed project's own deployment (golang-debezium-outbox's `outbox-connector`), its config as it
    /// registers it (`snapshot.mode=never` included), its table and its rows; then what its consumer reads.
    @Test func theGolangDebeziumOutboxDeploymentRunsUnchanged() throws {
        let (records, log) = try Self.run("golang-debezium-outbox", configEdit: { properties in
            // The project's file says never (Debezium 2.x's name); the capture had to say no_data, which 3.6.3 wants.
            let lines = properties.replacingOccurrences(of: "snapshot.mode=no_data", with: "snapshot.mode=never").split(separator: "\n")
            // As the project registers it: Kafka Connect's REST JSON, named outbox-connector (a later line wins, as in
            // a properties file).
            var config: [String: String] = [:]
            for line in lines where !line.hasPrefix("#") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                // The capture's worker named the connector by its prefix; the project names it in the JSON.
                guard parts.count == 2, parts[0] != "name" else { continue }
                config[parts[0]] = parts[1]
            }
            let registration: [String: Any] = ["name": "outbox-connector", "config": config]
            let json = try JSONSerialization.data(withJSONObject: registration, options: [.prettyPrinted, .sortedKeys])
            return String(decoding: json, as: UTF8.self)
        })
        #expect(log.contains("snapshot.mode=never is Debezium 2.x's name for no_data"), "never is read as no_data, with a warning:\n\(log)")
        #expect(log.contains("errors.deadletterqueue.topic.name"), "the dead-letter keys are accepted with a warning:\n\(log)")
        // Its consumer: JsonConverter's {"schema":…,"payload":…}; it takes payload.id, payload.payload (the
        // jsonb as Debezium's io.debezium.data.Json text), aggregate_type, event_type, aggregate_id, created_at.
        let events = try records.filter { $0.topic == "dbz.public.outbox_events" }.map { record in
            let envelope = try #require(try JSONSerialization.jsonObject(with: Data(record.value ?? [])) as? [String: Any])
            #expect(envelope["schema"] is [String: Any], "JsonConverter's schema")
            return try #require(envelope["payload"] as? [String: Any])
        }.sorted { ($0["id"] as? String ?? "") < ($1["id"] as? String ?? "") }
        #expect(events.compactMap { $0["id"] as? String } == [
            "6f1c2a4e-0d0b-4c57-9b1e-0c2a5e9f0001", "6f1c2a4e-0d0b-4c57-9b1e-0c2a5e9f0002", "6f1c2a4e-0d0b-4c57-9b1e-0c2a5e9f0003",
        ], "the three inserts, and neither the update nor the delete (skipped.operations=u,d)")
        #expect(events.map { $0["event_type"] as? String } == ["OrderCreated", "OrderPaid", "CustomerRenamed"])
        #expect(events.map { $0["aggregate_type"] as? String } == ["Order", "Order", "Customer"])
        #expect(events.first?["created_at"] as? String == "2024-05-06T07:08:09.123456Z")
        let payload = try #require(events.first?["payload"] as? String)
        let order = try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any])
        #expect((order["customer"] as? [String: Any])?["name"] as? String == "Zoë Ångström")
    }

    /// Runs outbox-cdc on the case and compares; returns this run's records.
    @discardableResult
    static func check(_ caseName: String, configEdit: (String) throws -> String = { $0 }) throws -> [KafkaRecord] {
        try run(caseName, configEdit: configEdit).records
    }

    /// Runs outbox-cdc on the case with `arguments` besides the config and compares with Debezium's records but
    /// those `leavingOut` picks; returns this run's records and outbox-cdc's log.
    /// `root`: `goldens` (Kafka Connect) or `goldens-server` (Debezium Server's application.properties).
    @discardableResult
    static func run(
        _ caseName: String, root: String = "goldens", configEdit: (String) throws -> String = { $0 }, arguments: [String] = [],
        leavingOut: (GoldenFixture.Record) -> Bool = { _ in false }, inspect: (GoldenDatabase) throws -> Void = { _ in }
    ) throws -> (records: [KafkaRecord], log: String) {
        let golden = try GoldenFixture(caseName, root: root)
        let database = try GoldenDatabase(setupSQL: try setupSQL(of: golden))
        defer { database.drop() }
        let configURL: URL
        var environment: [String: String] = [:]
        if root == "goldens-server" {
            configURL = FileManager.default.temporaryDirectory.appendingPathComponent("dbzsrv-\(database.suffix).properties")
            try golden.serverProperties(database: database).write(to: configURL, atomically: true, encoding: .utf8)
            // The ${...} expressions of the case's file, as the capture set them.
            let stack = try #require(URLComponents(string: try TestStack.databaseURL()))
            environment = [
                "PGPORT": "\(stack.port ?? 5432)", "PGUSER": stack.user ?? "postgres", "PGPASSWORD": stack.password ?? "",
                "BROKER_PORT": "9092", "DBZSRV_WORK": FileManager.default.temporaryDirectory.path,
            ]
        } else {
            configURL = try database.configFile(for: golden)
        }
        try configEdit(try String(contentsOf: configURL, encoding: .utf8)).write(to: configURL, atomically: true, encoding: .utf8)

        // Heartbeats come at an interval, as many as the run lasts: compared as the distinct records they are.
        let captured = try golden.allRecords().filter { !leavingOut($0) }
        let expected = captured.filter { !isHeartbeat($0.topic) }
        let expectedHeartbeats = captured.filter { isHeartbeat($0.topic) }
        let reader = try TopicReader(topics: golden.topics)
        try reader.catchUp()
        let earlier = reader.records.count

        let connector = try ConnectorProcess([
            "--debezium-config", configURL.path, "--brokers", try TestStack.brokers(), "--log-format", "json",
        ] + arguments, environment: environment)
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        do {
            if try String(contentsOf: configURL, encoding: .utf8).contains("snapshot.mode=initial_only") {
                // Nothing streams, as under Debezium: the slot is never active. The snapshot is published before this.
                try waitFor("the snapshot", timeout: .seconds(30)) { connector.log.contains("nothing is streamed") }
            } else {
                try database.waitUntilActive(slot: database.slot)
            }
        } catch {
            Issue.record("\(caseName): outbox-cdc did not stream\n\(connector.log)")
            throw error
        }
        let runID = try #require(try runIDLogged(by: connector), "outbox-cdc logs its Debezium run id:\n\(connector.log)")
        // The capture's psql ran with PGTZ=UTC.
        try database.sql("SET TIME ZONE 'UTC';\n" + (try golden.rowsSQL))
        do {
            try waitFor("\(caseName)'s records", timeout: .seconds(60)) {
                try reader.drain(for: .milliseconds(200))
                let fresh = reader.records[earlier...]
                return fresh.count(where: { !isHeartbeat($0.topic) }) >= expected.count
                    && (expectedHeartbeats.isEmpty || fresh.contains { isHeartbeat($0.topic) })
            }
        } catch {
            Issue.record("\(caseName): \(reader.records.count - earlier) records\n\(connector.log)")
            throw error
        }
        try reader.drain(for: .seconds(1))
        let all = Array(reader.records[earlier...])
        let fresh = all.filter { !isHeartbeat($0.topic) }
        #expect(fresh.count == expected.count, "\(caseName): \(fresh.count) records, Debezium wrote \(expected.count)\n\(connector.log)")
        let heartbeats = all.filter { isHeartbeat($0.topic) }
        let ourBeats = Set(try partitionedDescriptions(heartbeats.map { ($0.topic, $0.partition, $0.key, $0.value, $0.headers) }, runID: nil).values.joined())
        let theirBeats = Set(try partitionedDescriptions(expectedHeartbeats.map { ($0.topic, $0.partition, $0.key, $0.value, $0.headers) }, runID: nil).values.joined())
        #expect(ourBeats == theirBeats, "\(caseName) heartbeats")

        let ours = try partitionedDescriptions(fresh.map { ($0.topic, $0.partition, $0.key, $0.value, $0.headers) }, runID: nil)
        let theirs = try partitionedDescriptions(expected.map { ($0.topic, $0.partition, $0.key, $0.value, $0.headers) }, runID: runID)
        #expect(ours.keys.sorted() == theirs.keys.sorted(), "\(caseName) partitions")
        for (partition, records) in theirs {
            let got = ours[partition] ?? []
            #expect(got.count == records.count, "\(caseName) \(partition): \(got.count) records vs \(records.count)")
            for (index, (mine, want)) in zip(got, records).enumerated() {
                #expect(mine == want, "\(caseName) \(partition) record \(index)")
            }
        }
        if try String(contentsOf: configURL, encoding: .utf8).contains("errors.tolerance=all") {
            // Skipped as Kafka Connect's errors.tolerance=all skips what fails, each logged.
            let skipped = connector.log.split(separator: "\n").filter { $0.contains("skipped an event") }
            #expect(skipped.count == (Self.recordsDebeziumSkips[caseName] ?? 0), "\(connector.log)")
            #expect(!connector.log.contains("\"level\":\"critical\""), "it goes on:\n\(connector.log)")
        } else if arguments.isEmpty {
            #expect(!connector.log.contains("\"level\":\"error\""), "no error logged:\n\(connector.log)")
        }
        try inspect(database)
        return (all, connector.log)
    }

    /// Cases under `errors.tolerance=all` whose capture shows Debezium skipping records that fail, and how many.
    static let recordsDebeziumSkips = ["errors-tolerance-all-transform": 2]

    static func isHeartbeat(_ topic: String) -> Bool {
        topic.hasPrefix("__debezium-heartbeat.")
    }

    /// The case's setup. PostgreSQL builds without uuid-ossp (the PyPI build of 18) get gen_random_uuid(),
    /// which Debezium describes the same way (a function default gives no schema default).
    static func setupSQL(of golden: GoldenFixture) throws -> String {
        let sql = try golden.setupSQL
        guard sql.contains("uuid-ossp"), !(try uuidOSSPAvailable()) else { return sql }
        return sql.replacingOccurrences(of: "CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\";", with: "")
            .replacingOccurrences(of: "uuid_generate_v4()", with: "gen_random_uuid()")
    }

    private static func uuidOSSPAvailable() throws -> Bool {
        let probe = try GoldenDatabase(setupSQL: "SELECT 1")
        defer { probe.drop() }
        return try !probe.sql("SELECT 1 FROM pg_available_extensions WHERE name = 'uuid-ossp'").rows.isEmpty
    }

    /// Each record as text with its run-dependent values masked, by partition in order. A null key's record
    /// goes to a partition of the producer's choosing (the Java client's and librdkafka's differ): those are
    /// grouped by topic alone. `runID`: the run id to put in Debezium's `__debezium.context.runId` header.
    static func partitionedDescriptions(
        _ records: [(topic: String, partition: Int32, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader])], runID: String?
    ) throws -> [String: [String]] {
        var byPartition: [String: [String]] = [:]
        for record in records {
            let partition = record.key == nil ? "\(record.topic)/(null key)" : "\(record.topic)/\(record.partition)"
            let headers = record.headers.map { header in
                let text = header.value.map { String(decoding: $0, as: UTF8.self) } ?? "(null)"
                if header.name == "__debezium.context.runId", let runID {
                    // The capture's run id, in whatever form the header converter wrote it, is this start's.
                    return "\(header.name)=" + text.replacingOccurrences(of: #"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"#, with: runID, options: .regularExpression)
                }
                return "\(header.name)=\(masked(text, headerName: header.name))"
            }
            byPartition[partition, default: []].append([
                "key " + (record.key.map { masked(String(decoding: $0, as: UTF8.self)) } ?? "(null)"),
                "value " + (record.value.map { masked(String(decoding: $0, as: UTF8.self)) } ?? "(null)"),
                "headers " + headers.joined(separator: " "),
            ].joined(separator: "\n"))
        }
        return byPartition
    }

    /// The values no second run can repeat, masked by field name: WAL positions, transaction ids, commit and
    /// processing times, the database name, `sequence` (with `add.fields`' `__`-prefixed copies), and the
    /// `created_at` a row took from now().
    static func masked(_ text: String, headerName: String? = nil) -> String {
        if let headerName, headerName.range(of: #"(lsn|ts_ms|ts_us|ts_ns|txId|db|sequence)$"#, options: .regularExpression) != nil {
            return "(run)"
        }
        var text = text
        for (pattern, replacement) in [
            (#""([A-Za-z_]*)(ts_ms|ts_us|ts_ns|txId|lsn)":-?[0-9]+"#, #""$1$2":(run)"#),
            (#""([A-Za-z_]*)(sequence|db)":"(\\.|[^"\\])*""#, #""$1$2":(run)"#),
            (#""created_at":"(?!2024-05-06)[^"]*""#, #""created_at":(now)"#),
        ] {
            text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return text
    }
}
