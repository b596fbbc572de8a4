import ArgumentParser
import KafkaClient
import Logging
import OperatorSettings
import Threads

/// `outbox-cdc tail`: prints the records of Kafka topics, to see events arrive (the demo, debugging).
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the records of Kafka topics as they arrive (reads partitions directly, no consumer group)."
    )

    @Option(help: "Kafka bootstrap servers. [env: OUTBOX_CDC_BROKERS]")
    var brokers: String?

    @Option(help: ArgumentHelp(
        "The main command's YAML file: tail reads its brokers, kafka-property and kafka-secret-file. [env: OUTBOX_CDC_CONFIG]",
        valueName: "file"))
    var config: String?

    @Option(name: .customLong("kafka-property"), help: ArgumentHelp(
        "A librdkafka property for the consumer, key=value; repeat for more. Merged property by property with OUTBOX_CDC_KAFKA_PROPERTIES and the file's kafka-property, as for the main command, so that tail reaches the same cluster (security.protocol=SASL_SSL, …). [env: OUTBOX_CDC_KAFKA_PROPERTIES, comma-separated]",
        valueName: "key=value"))
    var kafkaProperties: [String] = []

    @Option(name: .customLong("kafka-secret-file"), help: ArgumentHelp(
        "A librdkafka property whose value is read from a file, property=path (e.g. sasl.password=/run/secrets/kafka); repeat for more. Never printed. [env: OUTBOX_CDC_KAFKA_SECRET_FILES, comma-separated]",
        valueName: "property=path"))
    var kafkaSecretFiles: [String] = []

    @Option(name: .customLong("topic"), help: "A topic to read; repeat for more.")
    var topics: [String] = []

    @Flag(name: .customLong("from-beginning"), help: "Read each partition from its start rather than only new records.")
    var fromBeginning = false

    @Option(help: "Stop after this many records.")
    var count: Int?

    @Option(name: .customLong("timeout-s"), help: "Stop after this many seconds without a new record.")
    var timeoutSeconds: Int?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        var environment = Environment.current
        let logger: Logger
        let brokers: String
        let kafkaLayers: KafkaPropertyLayers
        do {
            if let path = environment.resolve(config, "OUTBOX_CDC_CONFIG") {
                environment.layer(try ConfigFile(path: path))
            }
            logger = try logging.bootstrap(environment: environment)
            guard let resolved = try environment.brokers(self.brokers) else {
                throw UsageError("--brokers is required (or set OUTBOX_CDC_BROKERS)")
            }
            brokers = resolved
            kafkaLayers = try kafkaPropertyLayers(propertyFlags: kafkaProperties, secretFileFlags: kafkaSecretFiles, environment)
        } catch let error as UsageError {
            throw ValidationError(error.description)
        }
        guard !topics.isEmpty else { throw ValidationError("name at least one --topic") }
        logKafkaProperties(kafkaLayers, to: logger)
        let topics = topics, fromBeginning = fromBeginning, count = count
        let idleTimeout: Duration? = timeoutSeconds.map { .seconds($0) }
        let consumerProperties = kafkaLayers.properties
        try await DedicatedThread.run(name: "cdc-tail") {
            let consumer = try KafkaConsumer(brokers: brokers, configuration: consumerProperties, logger: logger)
            defer { consumer.close() }
            for topic in topics {
                // Asked before reading it: reading creates a topic on brokers that create topics on first
                // use, and a misspelt name would then wait in silence on an empty new topic.
                if try !consumer.topicExists(topic) {
                    logger.warning("topic \(topic) does not exist, or these credentials may not describe it: check its name; waiting for records all the same (brokers that create topics on first use create it now)", metadata: [
                        "kafka.topic": "\(topic)", "kafka.brokers": "\(brokers)",
                    ])
                }
                try consumer.assign(topic: topic, from: fromBeginning ? .beginning : .end)
            }
            var printed = 0
            var lastRecord = ContinuousClock.now
            while count.map({ printed < $0 }) ?? true {
                if let idleTimeout, lastRecord.duration(to: .now) > idleTimeout { break }
                guard let record = try consumer.poll(timeout: .milliseconds(200)) else { continue }
                print(Self.render(record))
                printed += 1
                lastRecord = .now
            }
        }
    }

    /// `topic[partition]@offset key=… headers={…} value=…`, bytes shown as UTF-8 text.
    static func render(_ record: KafkaRecord) -> String {
        func text(_ bytes: [UInt8]?) -> String {
            bytes.map { String(decoding: $0, as: UTF8.self) } ?? "null"
        }
        let headers = record.headers.map { "\($0.name)=\(text($0.value))" }.joined(separator: ", ")
        return "\(record.topic)[\(record.partition)]@\(record.offset) key=\(text(record.key)) headers={\(headers)} value=\(text(record.value))"
    }
}
