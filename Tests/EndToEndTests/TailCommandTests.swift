import Foundation
import KafkaClient
import Testing

/// `outbox-cdc tail` against the real broker: it takes the main command's Kafka settings, so that it can
/// reach the cluster the relay writes to, and says when a topic does not exist.
@Suite("outbox-cdc tail")
struct TailCommandTests {
    private func temporaryFile(_ content: String, extension fileExtension: String = "") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tail-\(UUID().uuidString)\(fileExtension)").path
        guard FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw TestSetupError("cannot write \(path)")
        }
        return path
    }

    /// Writes one record to `topic` and waits for the broker's acknowledgement.
    private func produce(_ value: String, to topic: String) throws {
        let producer = try KafkaProducer(
            configuration: KafkaProducer.configuration(brokers: try TestStack.brokers(), clientID: "tail-tests"),
            logger: TestStack.logger, deliveryHandler: { _ in })
        defer { producer.shutdown() }
        guard case .enqueued = producer.produce(topic: topic, key: Array("k".utf8), value: Array(value.utf8), correlation: 1) else {
            throw TestSetupError("could not enqueue a record for \(topic)")
        }
        guard producer.flush(timeout: .seconds(30)) else { throw TestSetupError("no acknowledgement for \(topic)") }
    }

    private func topicName(_ purpose: String) -> String {
        "tail_\(purpose)_\(String(UInt64.random(in: 0 ... .max), radix: 36))"
    }

    @Test func tailTakesTheConfigFileTheVariablesAndTheKafkaFlags() throws {
        let topic = topicName("settings")
        try produce("read through every layer", to: topic)
        let secret = "tail-secret-\(UUID().uuidString)"
        let secretPath = try temporaryFile(secret + "\n")
        let config = try temporaryFile("brokers: \(try TestStack.brokers())\nkafka-property:\n  client.id: tail-from-the-file\n", extension: ".yaml")
        defer { [secretPath, config].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        let tail = try ConnectorProcess([
            "tail", "--config", config, "--topic", topic, "--from-beginning", "--count", "1", "--timeout-s", "30",
            "--kafka-property", "fetch.wait.max.ms=20", "--kafka-secret-file", "sasl.password=\(secretPath)",
        ], environment: ["OUTBOX_CDC_KAFKA_PROPERTIES": "fetch.min.bytes=1"])
        #expect(tail.waitForExit(timeout: .seconds(60)) == 0, "\(tail.log)")
        #expect(tail.log.contains("\(topic)[") && tail.log.contains("key=k headers={} value=read through every layer"), "\(tail.log)")
        for expected in ["kafka.property=client.id kafka.source=config file kafka.value=tail-from-the-file",
                         "kafka.property=fetch.wait.max.ms kafka.source=flag kafka.value=20",
                         "kafka.property=fetch.min.bytes kafka.source=environment kafka.value=1",
                         "kafka.property=sasl.password kafka.source=secret file kafka.value=[redacted]"] {
            #expect(tail.log.contains(expected), "'\(expected)' in:\n\(tail.log)")
        }
        #expect(!tail.log.contains(secret), "the secret is in the output")
    }

    /// An unknown property in the variable stops tail: the variable's properties reach its consumer.
    @Test func theVariablesPropertiesReachTheConsumer() throws {
        let tail = try ConnectorProcess(["tail", "--brokers", try TestStack.brokers(), "--topic", topicName("unknown"), "--timeout-s", "3"],
                                        environment: ["OUTBOX_CDC_KAFKA_PROPERTIES": "no.such.property=1"])
        let status = tail.waitForExit(timeout: .seconds(30))
        #expect(status != nil && status != 0, "\(tail.log)")
        #expect(tail.log.contains("no.such.property"), "\(tail.log)")
    }

    /// A topic name never used before does not exist: tail warns. Tansu creates a topic when it is first
    /// read or written, so once a record was written the same name draws no warning.
    @Test func aTopicThatDoesNotExistIsWarnedAbout() throws {
        let topic = topicName("missing")
        let warning = "topic \(topic) does not exist"
        let first = try ConnectorProcess(["tail", "--brokers", try TestStack.brokers(), "--topic", topic, "--timeout-s", "2"])
        #expect(first.waitForExit(timeout: .seconds(30)) == 0, "\(first.log)")
        #expect(first.log.contains(warning), "\(first.log)")

        try produce("now it exists", to: topic)
        let second = try ConnectorProcess(["tail", "--brokers", try TestStack.brokers(), "--topic", topic, "--from-beginning", "--count", "1", "--timeout-s", "30"])
        #expect(second.waitForExit(timeout: .seconds(30)) == 0, "\(second.log)")
        #expect(second.log.contains("value=now it exists"), "\(second.log)")
        #expect(!second.log.contains(warning), "\(second.log)")
    }
}
