import Foundation
import Testing

/// `--config FILE`: the YAML file holds what the flags hold, and flags and variables override it.
@Suite("The configuration file", .serialized)
struct ConfigFileTests {
    private func write(_ yaml: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-cdc-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func everySettingCanComeFromTheFile() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let topic = "config_\(database.suffix)"
        let file = try write("""
            # a table-less outbox with its own message prefix, configured by file alone
            db: \(database.url)
            brokers: \(try TestStack.brokers())
            slot: slot_\(database.suffix)
            publication: pub_\(database.suffix)
            table: none
            message-prefix: app
            status-interval-ms: 200
            log-format: json
            kafka-property:
              linger.ms: 1
              client.id: from-the-file
            """)
        defer { try? FileManager.default.removeItem(at: file) }
        let connector = try ConnectorProcess(["--config", file.path])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        try database.sql("SELECT pg_logical_emit_message(true, 'app:\(topic)', 'from the file')")
        let reader = try TopicReader(topics: [topic])
        let records = try reader.read(until: 1, log: connector)
        #expect(records.first?.value == Array("from the file".utf8))
        #expect(connector.log.hasPrefix("{"), "log-format json came from the file")
    }

    @Test func aFlagOverridesTheFile() throws {
        let file = try write("brokers: file-broker:9092\ntable-format: nonsense\n")
        defer { try? FileManager.default.removeItem(at: file) }
        let connector = try ConnectorProcess(["--config", file.path, "--db", try TestStack.databaseURL(), "--table-format", "bogus"])
        #expect(connector.waitForExit(timeout: .seconds(30)) != 0)
        #expect(connector.log.contains("'bogus'") && !connector.log.contains("nonsense"), "the flag's value is the one judged:\n\(connector.log)")
    }

    @Test(arguments: [
        ("brokers: a\nslots: typo\nlinger: 5\n", "unknown setting(s) linger, slots"),
        ("brokers: [a, b]\n", "brokers ("),
        ("db: 'unclosed\n", "not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
        ("kafka-property: 5\n", "kafka-property"),
    ])
    func aBadFileIsAnErrorNamingWhatToFix(yaml: String, message: String) throws {
        let file = try write(yaml)
        defer { try? FileManager.default.removeItem(at: file) }
        let connector = try ConnectorProcess(["--config", file.path])
        #expect(connector.waitForExit(timeout: .seconds(30)) != 0)
        #expect(connector.log.contains(message), "\(connector.log)")
    }

    /// A bad value in the file is named by its key, the file and the line, not by a variable never set.
    @Test(arguments: [
        ("status-interval-ms: soon\n", "status-interval-ms (PATH, line 3) must be a whole number, not 'soon'"),
        ("no-create: perhaps\n", "no-create (PATH, line 3) must be true or false, not 'perhaps'"),
        ("db-password-file: /nonexistent/db-password\n", "db-password-file (PATH, line 3): cannot read /nonexistent/db-password: no such file"),
        ("slot: s\nkafka-secret-file:\n  sasl.password: /nonexistent/kafka-password\n",
         "kafka-secret-file sasl.password (PATH, line 5): cannot read /nonexistent/kafka-password: no such file"),
        ("kafka-secret-file:\n  sasl.password: [a, b]\n", "kafka-secret-file sasl.password (PATH, line 4) must be a file's path"),
        ("kafka-secret-file: /run/secrets/kafka\n", "kafka-secret-file (PATH, line 3) must map librdkafka properties to files"),
        ("kafka-property:\n  linger.ms: {a: 1}\n", "kafka-property linger.ms (PATH, line 4) must be a single value"),
        ("kafka-secret-files: sasl.password=/nonexistent/old-spelling\n",
         "kafka-secret-files sasl.password (PATH, line 3): cannot read /nonexistent/old-spelling: no such file"),
    ])
    func aBadValueIsNamedByKeyFileAndLine(setting: String, message: String) throws {
        let file = try write("brokers: 127.0.0.1:1\ndb: postgres://u@127.0.0.1:1/db\n" + setting)
        defer { try? FileManager.default.removeItem(at: file) }
        let connector = try ConnectorProcess(["--config", file.path])
        #expect(connector.waitForExit(timeout: .seconds(30)) == 64, "\(connector.log)")
        let expected = message.replacingOccurrences(of: "PATH", with: file.path)
        #expect(connector.log.contains(expected), "want \(expected) in:\n\(connector.log)")
    }

    @Test func theDatabaseURLIsNamedByKeyFileAndLineToo() throws {
        let file = try write("brokers: b:9\ndb: 'postgres://u@[::1/db'\n")
        defer { try? FileManager.default.removeItem(at: file) }
        let connector = try ConnectorProcess(["--config", file.path])
        #expect(connector.waitForExit(timeout: .seconds(30)) == 64, "\(connector.log)")
        #expect(connector.log.contains("db (\(file.path), line 2): invalid database connection string"), "\(connector.log)")
    }
}
