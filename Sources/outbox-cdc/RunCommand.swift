import ArgumentParser
import Foundation
import Connector
import DebeziumFormat
@preconcurrency import Dispatch
import Glibc
import KafkaClient
import Logging
import OperatorSettings
import PostgresNames
import Synchronization
import Threads
import WALReader

/// `outbox-cdc [run] --db … --brokers …`: stream the outbox to Kafka until SIGTERM or SIGINT.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Stream outbox INSERTs from a pgoutput slot to Kafka (the default command)."
    )

    @Option(help: ArgumentHelp(
        "A YAML file holding any of these settings under the flags' long names (db: …, table-format: gox, kafka-property: {linger.ms: 5}); flags and OUTBOX_CDC_* variables override it. [env: OUTBOX_CDC_CONFIG]",
        valueName: "file"))
    var config: String?

    @Option(help: "PostgreSQL connection URL or key=value string; the role needs REPLICATION. [env: OUTBOX_CDC_DB]")
    var db: String?

    @Option(help: "Kafka bootstrap servers, host:port[,host:port]. [env: OUTBOX_CDC_BROKERS]")
    var brokers: String?

    @Option(name: .customLong("debezium-config"), help: ArgumentHelp(
        "Run from a Debezium PostgreSQL connector's own configuration (Kafka Connect JSON or .properties, or Debezium Server application.properties), writing the records Debezium writes. Replaces --db, --slot, --publication and --table. [env: OUTBOX_CDC_DEBEZIUM_CONFIG]",
        valueName: "file"))
    var debeziumConfig: String?

    @Option(help: "Logical replication slot (pgoutput). [env: OUTBOX_CDC_SLOT] (default: outbox)")
    var slot: String?

    @Option(help: "Publication of the outbox table. [env: OUTBOX_CDC_PUBLICATION] (default: outbox_pub)")
    var publication: String?

    @Option(help: "The outbox table, schema.table (several of one layout comma-separated), or none for the table-less outbox (logical decoding messages only). [env: OUTBOX_CDC_TABLE] (default: public.outbox)")
    var table: String?

    @Option(name: .customLong("message-prefix"), help: ArgumentHelp(
        "Publish pg_logical_emit_message messages whose prefix is <prefix>:<topic> (content = value) or <prefix>-envelope:<topic> (a JSON envelope with key, headers and value); none publishes no messages. [env: OUTBOX_CDC_MESSAGE_PREFIX] (default: outbox)",
        valueName: "prefix"))
    var messagePrefix: String?

    @OptionGroup var tableFormat: TableFormatOptions

    @OptionGroup var takeover: TakeoverOptions

    @Flag(name: .customLong("no-create"), help: "Never create the publication or the slot; fail if they are missing. [env: OUTBOX_CDC_NO_CREATE]")
    var noCreate = false

    @Option(name: .customLong("kafka-property"), help: ArgumentHelp(
        "A librdkafka property, key=value; repeat for more. Overrides the defaults (enable.idempotence=true, acks=all, partitioner=murmur2_random, linger.ms=0, max.in.flight.requests.per.connection=1, message.timeout.ms=0), and the same property of OUTBOX_CDC_KAFKA_PROPERTIES or the file, property by property. [env: OUTBOX_CDC_KAFKA_PROPERTIES, comma-separated]",
        valueName: "key=value"))
    var kafkaProperties: [String] = []

    @Option(name: .customLong("kafka-secret-file"), help: ArgumentHelp(
        "A librdkafka property whose value is read from a file, property=path (e.g. sasl.password=/run/secrets/kafka); repeat for more. Never printed. Merged property by property with OUTBOX_CDC_KAFKA_SECRET_FILES and the file's kafka-secret-file. [env: OUTBOX_CDC_KAFKA_SECRET_FILES, comma-separated]",
        valueName: "property=path"))
    var kafkaSecretFiles: [String] = []

    @Option(name: .customLong("db-password-file"), help: "Read the PostgreSQL password from this file rather than the URL. [env: OUTBOX_CDC_DB_PASSWORD_FILE]")
    var dbPasswordFile: String?

    @Option(name: .customLong("on-error"), help: ArgumentHelp(
        "An event that can never be published (unmappable row, or a record Kafka refuses: too large, invalid or forbidden topic): fail (stop without confirming past it), dlq (publish it to --dead-letter-topic with error headers and go on) or skip (log, count, go on). With --debezium-config the default is skip when the file sets errors.tolerance=all. [env: OUTBOX_CDC_ON_ERROR] (default: fail)",
        valueName: "policy"))
    var onError: String?

    @Option(name: .customLong("dead-letter-topic"), help: "The dead-letter topic for --on-error dlq. [env: OUTBOX_CDC_DEAD_LETTER_TOPIC] (default: outbox-cdc.dlq)")
    var deadLetterTopic: String?

    @Option(name: .customLong("on-slot-lost"), help: ArgumentHelp(
        "A slot that was dropped or invalidated (wal_status = lost): fail (stop, saying what may be lost and how to recover) or recreate (create it anew, logging the gap at error level). [env: OUTBOX_CDC_ON_SLOT_LOST] (default: fail)",
        valueName: "policy"))
    var onSlotLost: String?

    @Flag(name: .customLong("no-failover-slot"), help: "Do not make the slot a failover slot (PostgreSQL 17 and later make one by default, so that a standby with sync_replication_slots = on carries it through a promotion). [env: OUTBOX_CDC_NO_FAILOVER_SLOT]")
    var noFailoverSlot = false

    @Option(name: .customLong("heartbeat-interval-ms"), help: ArgumentHelp(
        "Write a non-transactional logical decoding message (prefix outbox-cdc.heartbeat, never published) at this interval, so that the slot moves on in a database where nothing else writes; 0 for none. [env: OUTBOX_CDC_HEARTBEAT_INTERVAL_MS] (default: 0)"))
    var heartbeatIntervalMilliseconds: Int?

    @Option(name: .customLong("status-interval-ms"), help: "How often to confirm the slot position, in milliseconds. [env: OUTBOX_CDC_STATUS_INTERVAL_MS] (default: 1000)")
    var statusIntervalMilliseconds: Int?

    @Option(name: .customLong("shutdown-timeout-s"), help: "How long a stop waits for Kafka acknowledgements, in seconds. [env: OUTBOX_CDC_SHUTDOWN_TIMEOUT_S] (default: 30)")
    var shutdownTimeoutSeconds: Int?

    @Flag(name: .customLong("stream-in-progress"), help: "Let the server stream large transactions before they commit (pgoutput streaming; protocol 2 and later). outbox-cdc holds their events in memory until the commit and drops those of aborted ones. Off, the server spills them to its disk instead and memory stays bounded. [env: OUTBOX_CDC_STREAM_IN_PROGRESS]")
    var streamInProgress = false

    @Option(name: .customLong("stream-max-held-bytes"), help: "With --stream-in-progress: the most bytes of streamed transactions to hold in memory; past it, outbox-cdc reconnects without streaming and the server spills instead. [env: OUTBOX_CDC_STREAM_MAX_HELD_BYTES] (default: 67108864)")
    var streamMaxHeldBytes: Int?

    @Option(name: .customLong("protocol-version"), help: "pgoutput protocol version 1-4; default: the highest the server speaks. [env: OUTBOX_CDC_PROTOCOL_VERSION]")
    var protocolVersion: Int?

    @OptionGroup var logging: LoggingOptions

    @OptionGroup var observability: ObservabilityOptions

    func run() async throws {
        var environment = Environment.current
        let logger: Logger
        let configuration: ConnectorConfiguration
        let kafkaLayers: KafkaPropertyLayers
        let observed: ObservabilityOptions.Settings
        do {
            if let path = environment.resolve(config, "OUTBOX_CDC_CONFIG") {
                environment.layer(try ConfigFile(path: path))
            }
            logger = try logging.bootstrap(environment: environment)
            observed = try observability.settings(environment)
            if let path = environment.resolve(debeziumConfig, "OUTBOX_CDC_DEBEZIUM_CONFIG") {
                let debezium = try debeziumConfiguration(path: path, environment)
                debezium.warnings.forEach { logger.warning("\($0)", metadata: ["cdc.debezium_config": "\(path)"]) }
                var settings = debezium.configuration
                kafkaLayers = debezium.kafkaLayers
                settings.onError = try errorPolicy(environment, default: debezium.defaultErrorPolicy)
                settings.onSlotLost = try slotLostPolicy(environment)
                if try noFailoverSlot(environment) { settings.failoverSlot = false }
                settings.streamInProgress = try streamInProgress(environment, protocolVersion: settings.protocolVersion)
                let takeover = try self.takeover.resolve(format: settings.tableFormat, environment)
                guard takeover.mark == nil else {
                    throw UsageError("--mark-published sets a polling relay's marks, which a Debezium deployment's outbox has none of")
                }
                settings.retention = takeover.retention
                configuration = settings
            } else {
                var settings: ConnectorConfiguration
                (settings, kafkaLayers) = try connectorConfiguration(environment)
                settings.onError = try errorPolicy(environment)
                settings.onSlotLost = try slotLostPolicy(environment)
                settings.failoverSlot = try !noFailoverSlot(environment)
                settings.streamInProgress = try streamInProgress(environment, protocolVersion: settings.protocolVersion)
                settings.streamMaxHeldBytes = try integer(streamMaxHeldBytes, "OUTBOX_CDC_STREAM_MAX_HELD_BYTES", "--stream-max-held-bytes", environment, range: 1 << 16 ... Int.max) ?? settings.streamMaxHeldBytes
                let heartbeat = try integer(heartbeatIntervalMilliseconds, "OUTBOX_CDC_HEARTBEAT_INTERVAL_MS", "--heartbeat-interval-ms", environment, range: 0...86_400_000) ?? 0
                if heartbeat > 0 { settings.heartbeat = .walMessage(every: .milliseconds(heartbeat)) }
                configuration = settings
            }
        } catch let error as UsageError {
            throw ValidationError(error.description)
        }
        logKafkaProperties(kafkaLayers, to: logger)
        if let warning = configuration.database.passwordGivenTwiceWarning {
            logger.warning("\(warning)")
        }
        // Before the connector exists: its metrics are created once, in its initializer.
        let registry = ObservabilityOptions.bootstrapMetrics(observed)
        let timings = EventTimings()
        let connector = OutboxConnector(configuration: configuration, logger: logger, timingObserver: timings.observer)
        let endpoint: OperationsEndpoint?
        do {
            // Resolving the address may block (DNS): not on the cooperative pool.
            endpoint = try await DedicatedThread.run(name: "cdc-http-bind") { [observed] in
                try ObservabilityOptions.serve(observed, registry: registry, connector: connector, logger: logger)
            }
        } catch let error as UsageError {
            throw ValidationError(error.description)
        }
        defer { endpoint?.stop() }
        let signals = SignalHandlers(logger: logger) { connector.stop() }
        defer { signals.cancel() }
        defer { timings.log(to: logger) }
        do {
            try await connector.run()
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        let unacknowledged = connector.eventsUnacknowledgedAtStop
        if unacknowledged > 0 {
            // Not a clean stop: a supervisor should know that the next start repeats these.
            logger.error("stopped with events Kafka had not acknowledged within --shutdown-timeout-s; the next start publishes them again", metadata: [
                "kafka.outstanding": .stringConvertible(unacknowledged), "exit.status": .stringConvertible(Self.unacknowledgedExitStatus),
            ])
            throw ExitCode(Self.unacknowledgedExitStatus)
        }
    }

    /// EX_TEMPFAIL: the stop was orderly but incomplete; a restart finishes it.
    static let unacknowledgedExitStatus: Int32 = 75

    func debeziumConfiguration(path: String, _ environment: Environment) throws -> DebeziumRunConfiguration {
        let replaced = ([("--db", db), ("--db-password-file", dbPasswordFile ?? environment["OUTBOX_CDC_DB_PASSWORD_FILE"]), ("--slot", slot), ("--publication", publication), ("--table", table), ("--message-prefix", messagePrefix)] + tableFormat.flagsGiven)
            .filter { $0.1 != nil }.map(\.0)
        guard replaced.isEmpty else {
            throw UsageError("\(replaced.joined(separator: ", ")) cannot be combined with --debezium-config, which sets them from the file")
        }
        let brokers = try environment.brokers(brokers)
        return try DebeziumRunConfiguration(
            path: path, brokersFlag: brokers,
            kafkaOverrides: try kafkaPropertyLayers(propertyFlags: kafkaProperties, secretFileFlags: kafkaSecretFiles, environment),
            environment: ProcessInfo.processInfo.environment
        )
    }

    /// The configuration, and the Kafka properties of every layer (for the start log).
    func connectorConfiguration(_ environment: Environment) throws -> (ConnectorConfiguration, KafkaPropertyLayers) {
        let database = try environment.databaseSettings(db, passwordFile: dbPasswordFile, purpose: "the PostgreSQL connection URL, e.g. postgres://app@db:5432/app")
        guard let brokers = try environment.brokers(brokers) else {
            throw UsageError("--brokers is required (or set OUTBOX_CDC_BROKERS): Kafka bootstrap servers, e.g. kafka:9092")
        }
        let tableText = environment.resolve(table, "OUTBOX_CDC_TABLE") ?? "public.outbox"
        let readsTable = tableText != "none"
        let tables: [QualifiedTableName]
        do {
            tables = readsTable ? try QualifiedTableName.parseList(tableText) : [QualifiedTableName(schema: "public", name: "outbox")]
        } catch {
            throw UsageError("--table: \(error) (several tables of one layout comma-separated, or none)")
        }
        guard let table = tables.first else { throw UsageError("--table names no table") }
        let messagePrefixText = environment.resolve(messagePrefix, "OUTBOX_CDC_MESSAGE_PREFIX") ?? "outbox"
        let messagePrefix = messagePrefixText == "none" ? nil : messagePrefixText
        guard messagePrefix != nil || readsTable else {
            throw UsageError("--table none with --message-prefix none would publish nothing: give the messages' prefix")
        }
        guard messagePrefix.map({ !$0.isEmpty && !$0.contains(":") }) ?? true else {
            throw UsageError("--message-prefix must be a non-empty word without ':', not '\(messagePrefixText)'")
        }
        let kafkaLayers = try kafkaPropertyLayers(propertyFlags: kafkaProperties, secretFileFlags: kafkaSecretFiles, environment)
        let statusInterval = try integer(statusIntervalMilliseconds, "OUTBOX_CDC_STATUS_INTERVAL_MS", "--status-interval-ms", environment, range: 10...600_000) ?? 1000
        let shutdownTimeout = try integer(shutdownTimeoutSeconds, "OUTBOX_CDC_SHUTDOWN_TIMEOUT_S", "--shutdown-timeout-s", environment, range: 0...3600) ?? 30
        let protocolVersion = try integer(self.protocolVersion, "OUTBOX_CDC_PROTOCOL_VERSION", "--protocol-version", environment, range: 1...4)
        let slot = environment.resolve(slot, "OUTBOX_CDC_SLOT") ?? "outbox"
        let publication = environment.resolve(publication, "OUTBOX_CDC_PUBLICATION") ?? "outbox_pub"
        let noCreate = try self.noCreate || (environment.bool("OUTBOX_CDC_NO_CREATE") ?? false)
        let (format, publishPending) = try tableFormat.resolve(environment)
        var configuration = ConnectorConfiguration(
            database: database,
            brokers: brokers,
            slot: slot,
            publication: publication,
            table: table,
            createMissing: !noCreate,
            kafkaProperties: kafkaLayers.properties,
            statusInterval: .milliseconds(statusInterval),
            shutdownTimeout: .seconds(shutdownTimeout),
            protocolVersion: protocolVersion,
            tableFormat: format,
            publishPendingRows: publishPending,
            readsTable: readsTable,
            messagePrefix: messagePrefix
        )
        configuration.additionalTables = Array(tables.dropFirst())
        let takeover = try self.takeover.resolve(format: format, environment)
        configuration.markPublished = readsTable ? takeover.mark : nil
        configuration.retention = readsTable ? takeover.retention : nil
        return (configuration, kafkaLayers)
    }

    /// `--stream-in-progress`, which protocol 1 cannot do.
    func streamInProgress(_ environment: Environment, protocolVersion: Int?) throws -> Bool {
        let streaming = try streamInProgress || (environment.bool("OUTBOX_CDC_STREAM_IN_PROGRESS") ?? false)
        if streaming, protocolVersion == 1 {
            throw UsageError("--stream-in-progress needs pgoutput protocol 2 or later, but --protocol-version is 1")
        }
        return streaming
    }

    /// `--no-failover-slot`.
    func noFailoverSlot(_ environment: Environment) throws -> Bool {
        try noFailoverSlot || (environment.bool("OUTBOX_CDC_NO_FAILOVER_SLOT") ?? false)
    }

    /// `--on-slot-lost`.
    func slotLostPolicy(_ environment: Environment) throws -> SlotLostPolicy {
        let text = environment.resolve(onSlotLost, "OUTBOX_CDC_ON_SLOT_LOST") ?? "fail"
        guard let policy = SlotLostPolicy(rawValue: text) else {
            throw UsageError("--on-slot-lost must be fail or recreate, not '\(text)'")
        }
        return policy
    }

    /// `--on-error` and `--dead-letter-topic`; `defaultPolicy` when neither `--on-error` nor its variable is
    /// given (a Debezium config's error handling decides it).
    func errorPolicy(_ environment: Environment, default defaultPolicy: ErrorPolicy = .fail) throws -> ErrorPolicy {
        let topic = environment.resolve(deadLetterTopic, "OUTBOX_CDC_DEAD_LETTER_TOPIC")
        guard let chosen = environment.resolve(onError, "OUTBOX_CDC_ON_ERROR") else {
            guard topic == nil else { throw UsageError("--dead-letter-topic is for --on-error dlq") }
            return defaultPolicy
        }
        switch chosen {
        case "fail":
            guard topic == nil else { throw UsageError("--dead-letter-topic is for --on-error dlq") }
            return .fail
        case "skip":
            guard topic == nil else { throw UsageError("--dead-letter-topic is for --on-error dlq") }
            return .skip
        case "dlq":
            let name = topic ?? "outbox-cdc.dlq"
            guard !name.isEmpty, name.count <= 249, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw UsageError("--dead-letter-topic must be a Kafka topic name (letters, digits, '.', '_', '-'; at most 249), not '\(name)'")
            }
            return .deadLetter(topic: name)
        case let other:
            throw UsageError("--on-error must be fail, dlq or skip, not '\(other)'")
        }
    }

    private func integer(_ flag: Int?, _ variable: String, _ name: String, _ environment: Environment, range: ClosedRange<Int>) throws -> Int? {
        try environment.integer(flag, variable, name, range: range)
    }
}

/// One info line per librdkafka property an operator set, naming the layer it came from, so that a property
/// that did not arrive (or arrived from an unexpected place) shows at start. Values from secret files, and
/// those of properties either secret rule names (DebeziumFormat's for configuration keys, KafkaClient's for
/// librdkafka's own messages), are shown as `[redacted]`.
func logKafkaProperties(_ layers: KafkaPropertyLayers, to logger: Logger) {
    let isSecret = { (property: String) in SensitiveKeys.isSensitive(property) || LibrdkafkaConfiguration.isSensitive(property) }
    for described in layers.described(isSensitive: isSecret) {
        logger.info("kafka property", metadata: [
            "kafka.property": "\(described.property)", "kafka.value": "\(described.shownValue)", "kafka.source": "\(described.source)",
        ])
    }
}

/// SIGTERM and SIGINT ask for an orderly stop; a second one exits at once.
final class SignalHandlers {
    private let sources: [any DispatchSourceSignal]

    init(logger: Logger, onStop: @escaping @Sendable () -> Void) {
        let received = SignalCounter()
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if received.increment() > 1 {
                    // As a shell reports death by that signal; what Kafka did not acknowledge is resent at restart.
                    logger.warning("second signal: exiting without waiting for Kafka", metadata: ["exit.status": .stringConvertible(128 + number)])
                    exit(128 + number)
                }
                logger.info("signal received: stopping", metadata: ["signal": .stringConvertible(number)])
                onStop()
            }
            source.resume()
            return source
        }
    }

    func cancel() {
        sources.forEach { $0.cancel() }
    }
}

final class SignalCounter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() -> Int { count.add(1, ordering: .relaxed).newValue }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
