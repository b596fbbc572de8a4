import Foundation
import KafkaClient
import Testing
import WALReader

/// Debezium's initial snapshot under change events, while the application keeps writing: read in the snapshot
/// the new slot exports, so every row is published once — a row committed before the slot's snapshot as a
/// read, one committed after it as a create — and a restart on the slot snapshots nothing again.
@Suite("Change-event snapshot under concurrent writes", .serialized)
struct ChangeEventSnapshotTests {
    @Test func everyRowIsPublishedOnceAsAReadOrACreate() throws {
        let database = try GoldenDatabase(setupSQL: """
            CREATE TABLE public.orders (id integer PRIMARY KEY, note text NOT NULL);
            INSERT INTO public.orders SELECT n, 'before ' || n FROM generate_series(1, 2000) AS n;
            """)
        defer { database.drop() }
        let prefix = "snap\(database.suffix)"
        let topic = "\(prefix).public.orders"
        let stack = try #require(URLComponents(string: try TestStack.databaseURL()))
        let config = """
            connector.class=io.debezium.connector.postgresql.PostgresConnector
            plugin.name=pgoutput
            database.hostname=\(stack.host ?? "127.0.0.1")
            database.port=\(stack.port ?? 5432)
            database.user=\(stack.user ?? "postgres")
            database.password=\(stack.password ?? "")
            database.dbname=\(database.name)
            topic.prefix=\(prefix)
            table.include.list=public.orders
            slot.name=\(database.slot)
            publication.name=\(database.publication)
            publication.autocreate.mode=filtered
            key.converter=org.apache.kafka.connect.json.JsonConverter
            key.converter.schemas.enable=false
            value.converter=org.apache.kafka.connect.json.JsonConverter
            value.converter.schemas.enable=false

            """
        let configURL = FileManager.default.temporaryDirectory.appendingPathComponent("snapshot-\(database.suffix).properties")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: configURL) }
        let arguments = ["--debezium-config", configURL.path, "--brokers", try TestStack.brokers()]

        let connector = try ConnectorProcess(arguments)
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        // One row a transaction while outbox-cdc creates its slot and reads the snapshot.
        let writer = try PostgresConnection.connect(ConnectionSettings(database.url))
        defer { writer.close() }
        let concurrent = 300
        for index in 0..<concurrent {
            try writer.query("INSERT INTO public.orders VALUES (\(10_000 + index), 'during')")
            usleep(3_000)
        }
        try waitFor("the snapshot", timeout: .seconds(60)) { connector.log.contains("snapshot published") }
        try writer.query("INSERT INTO public.orders VALUES (20000, 'after')")

        let reader = try TopicReader(topics: [topic])
        try reader.read(until: 2000 + concurrent + 1, log: connector)
        try reader.drain(for: .seconds(2))
        var ops: [Int: [String]] = [:]
        var markers: [String] = []
        for record in reader.records {
            let value = try #require(try JSONSerialization.jsonObject(with: Data(record.value ?? [])) as? [String: Any])
            let after = try #require(value["after"] as? [String: Any])
            let id = try #require(after["id"] as? Int)
            let op = try #require(value["op"] as? String)
            ops[id, default: []].append(op)
            if op == "r" { markers.append(try #require((value["source"] as? [String: Any])?["snapshot"] as? String)) }
        }
        let expected = Set(Array(1...2000) + (0..<concurrent).map { 10_000 + $0 } + [20000])
        #expect(Set(ops.keys) == expected, "missing: \(expected.subtracting(ops.keys).sorted().prefix(10))")
        #expect(ops.values.allSatisfy { $0.count == 1 }, "doubled: \(ops.filter { $0.value.count > 1 }.keys.sorted().prefix(10))")
        #expect((1...2000).allSatisfy { ops[$0] == ["r"] }, "the rows there before the slot are reads")
        #expect(ops[20000] == ["c"], "a row after the snapshot is a create")
        #expect(markers.count(where: { $0 == "first" }) == 1 && markers.count(where: { $0 == "last" }) == 1, "one first, one last")
        // Rows committed while the slot was being made are reads too, if its snapshot saw them.
        #expect(markers.count >= 2000 && markers.count(where: { $0 == "true" }) == markers.count - 2, "the rest in between")

        // A restart finds the slot: no second snapshot, only what is new.
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
        let restarted = try ConnectorProcess(arguments)
        defer {
            restarted.terminate()
            _ = restarted.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: database.slot)
        try writer.query("INSERT INTO public.orders VALUES (20001, 'after restart')")
        let before = reader.records.count
        try reader.read(until: before + 1, log: restarted)
        try reader.drain(for: .seconds(2))
        #expect(reader.records.count == before + 1, "only the new row")
        #expect(!restarted.log.contains("initial snapshot"), "no second snapshot")
    }
}
