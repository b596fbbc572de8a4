import Foundation
import Testing

/// librdkafka properties from every layer (flags, OUTBOX_CDC_* variables, the YAML file, secret files) merge
/// property by property, and the start log says where each came from without showing a secret.
@Suite("Kafka properties from every layer")
struct KafkaPropertyLayersTests {
    private func temporaryFile(_ content: String, extension fileExtension: String = "") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("layers-\(UUID().uuidString)\(fileExtension)").path
        guard FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw TestSetupError("cannot write \(path)")
        }
        return path
    }

    /// The `kafka property` lines of a JSON log: property → (shown value, source).
    private func startLog(_ log: String) -> [String: (value: String, source: String)] {
        var properties: [String: (value: String, source: String)] = [:]
        for line in log.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["msg"] as? String == "kafka property",
                  let property = object["kafka.property"] as? String, let value = object["kafka.value"] as? String,
                  let source = object["kafka.source"] as? String else { continue }
            properties[property] = (value, source)
        }
        return properties
    }

    /// The shipped ConfigMap keeps TLS and SASL in OUTBOX_CDC_KAFKA_PROPERTIES; a flag must not drop them.
    /// An unknown property in the variable shows that the variable's list still reaches librdkafka.
    @Test func oneFlagKeepsTheVariablesProperties() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let connector = try ConnectorProcess(
            ["--db", database.url, "--brokers", try TestStack.brokers(), "--slot", "slot_\(database.suffix)",
             "--publication", "pub_\(database.suffix)", "--kafka-property", "linger.ms=1"],
            environment: ["OUTBOX_CDC_KAFKA_PROPERTIES": "client.id=from-the-variable,no.such.property=1"])
        #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        #expect(connector.log.contains("no.such.property"), "\(connector.log)")
    }

    @Test func oneSecretFileFlagKeepsTheVariablesSecretFiles() throws {
        let flagSecret = try temporaryFile("flag-secret\n")
        defer { try? FileManager.default.removeItem(atPath: flagSecret) }
        let connector = try ConnectorProcess(
            ["--db", "postgres://u@127.0.0.1:1/db", "--brokers", "127.0.0.1:1", "--kafka-secret-file", "ssl.key.password=\(flagSecret)"],
            environment: ["OUTBOX_CDC_KAFKA_SECRET_FILES": "sasl.password=/nonexistent/variable-kafka-password"])
        #expect(connector.waitForExit(timeout: .seconds(30)) == 64, "\(connector.log)")
        #expect(connector.log.contains("OUTBOX_CDC_KAFKA_SECRET_FILES sasl.password: cannot read /nonexistent/variable-kafka-password: no such file"),
                "\(connector.log)")
    }

    /// Every layer at once: a flag over the variable over the file, secret files from all three, and the
    /// start log naming each source. The relay publishes with the result; no secret reaches the log.
    @Test func eachPropertyComesFromItsHighestLayerAndTheStartLogSaysWhich() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let fileSecret = "file-secret-\(UUID().uuidString)", variableSecret = "variable-secret-\(UUID().uuidString)"
        let flagSecret = "flag-secret-\(UUID().uuidString)", plainSecret = "plain-secret-\(UUID().uuidString)"
        let fileSecretPath = try temporaryFile(fileSecret + "\r\n")
        let variableSecretPath = try temporaryFile(variableSecret)
        let flagSecretPath = try temporaryFile(flagSecret + "\n")
        let config = try temporaryFile("""
            kafka-property:
              client.id: from-the-file
              linger.ms: 9
              statistics.interval.ms: 0
            kafka-secret-file:
              sasl.password: \(fileSecretPath)
            """, extension: ".yaml")
        defer { [fileSecretPath, variableSecretPath, flagSecretPath, config].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        let connector = try ConnectorProcess([
            "--config", config, "--db", database.url, "--brokers", try TestStack.brokers(),
            "--slot", "slot_\(database.suffix)", "--publication", "pub_\(database.suffix)", "--log-format", "json",
            "--kafka-property", "linger.ms=2", "--kafka-secret-file", "ssl.keystore.password=\(flagSecretPath)",
        ], environment: [
            "OUTBOX_CDC_KAFKA_PROPERTIES": "linger.ms=4,statistics.interval.ms=60000,ssl.key.password=\(plainSecret)",
            "OUTBOX_CDC_KAFKA_SECRET_FILES": "sasl.oauthbearer.client.secret=\(variableSecretPath)",
        ])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        var writer = try OutboxWriter(database: database)
        let events = try writer.commit([("Layers\(database.suffix)", "k")])
        let reader = try TopicReader(topics: ["outbox.event.Layers\(database.suffix)"])
        try reader.read(until: 1, log: connector)
        #expect(reader.eventIDs == Set(events.map(\.id)))

        let logged = startLog(connector.log)
        let expected: [String: (value: String, source: String)] = [
            "client.id": ("from-the-file", "config file"),
            "linger.ms": ("2", "flag"),
            "statistics.interval.ms": ("60000", "environment"),
            "ssl.key.password": ("[redacted]", "environment"),
            "sasl.password": ("[redacted]", "secret file"),
            "sasl.oauthbearer.client.secret": ("[redacted]", "secret file"),
            "ssl.keystore.password": ("[redacted]", "secret file"),
        ]
        #expect(Set(logged.keys) == Set(expected.keys), "\(connector.log)")
        for (property, want) in expected {
            #expect(logged[property]?.value == want.value && logged[property]?.source == want.source,
                    "\(property): \(String(describing: logged[property])), want \(want)")
        }
        for secret in [fileSecret, variableSecret, flagSecret, plainSecret] {
            #expect(!connector.log.contains(secret), "a secret is in the log")
        }
    }

    /// With --debezium-config the file's producer settings are the lowest layer; the variable and the flags
    /// override them property by property.
    @Test func debeziumProducerSettingsAreOverriddenPropertyByProperty() throws {
        let properties = try temporaryFile("""
            connector.class=io.debezium.connector.postgresql.PostgresConnector
            database.hostname=127.0.0.1
            database.port=1
            database.user=nobody
            database.dbname=nothing
            topic.prefix=layers
            plugin.name=pgoutput
            table.include.list=public.outbox
            transforms=outbox
            transforms.outbox.type=io.debezium.transforms.outbox.EventRouter
            producer.override.compression.type=zstd
            producer.override.linger.ms=7
            producer.override.batch.size=100000
            """, extension: ".properties")
        defer { try? FileManager.default.removeItem(atPath: properties) }
        let arguments = ["--debezium-config", properties, "--brokers", try TestStack.brokers(), "--log-format", "json",
                         "--kafka-property", "compression.type=lz4"]
        let connector = try ConnectorProcess(arguments, environment: ["OUTBOX_CDC_KAFKA_PROPERTIES": "linger.ms=3"])
        // The database does not exist: the relay retries it, after logging its Kafka properties.
        try waitFor("the start log", timeout: .seconds(30)) { connector.log.contains("outbox-cdc starting") }
        let logged = startLog(connector.log)
        #expect(logged["compression.type"]?.value == "lz4" && logged["compression.type"]?.source == "flag", "\(connector.log)")
        #expect(logged["linger.ms"]?.value == "3" && logged["linger.ms"]?.source == "environment", "\(connector.log)")
        #expect(logged["batch.size"]?.value == "100000" && logged["batch.size"]?.source == "debezium config", "\(connector.log)")

        let unknown = try ConnectorProcess(arguments, environment: ["OUTBOX_CDC_KAFKA_PROPERTIES": "no.such.property=1"])
        #expect(unknown.waitForExit(timeout: .seconds(30)) == 1, "\(unknown.log)")
        #expect(unknown.log.contains("no.such.property"), "\(unknown.log)")
    }
}
