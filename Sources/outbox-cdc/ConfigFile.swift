import Foundation
import Yams

/// The native configuration file, `--config FILE` (YAML): every setting a flag holds, under the flag's
/// long name without the dashes. A flag or an `OUTBOX_CDC_*` variable overrides the file; the file
/// overrides the defaults.
///
/// ```yaml
/// db: postgres://outbox_cdc@db:5432/app   # a password is better in OUTBOX_CDC_DB or a .pgpass file
/// brokers: kafka-1:9092,kafka-2:9092
/// slot: outbox
/// table: public.outbox
/// table-format: gox
/// kafka-property:
///   linger.ms: 5
///   compression.type: lz4
/// ```
struct ConfigFile {
    /// Keys the file may hold, each with the variable it stands in for. `kafka-property` is apart: a mapping.
    static let variables: [String: String] = [
        "db": "OUTBOX_CDC_DB", "brokers": "OUTBOX_CDC_BROKERS", "debezium-config": "OUTBOX_CDC_DEBEZIUM_CONFIG",
        "slot": "OUTBOX_CDC_SLOT", "publication": "OUTBOX_CDC_PUBLICATION", "table": "OUTBOX_CDC_TABLE",
        "message-prefix": "OUTBOX_CDC_MESSAGE_PREFIX", "no-create": "OUTBOX_CDC_NO_CREATE",
        "no-failover-slot": "OUTBOX_CDC_NO_FAILOVER_SLOT",
        "metrics-address": "OUTBOX_CDC_METRICS_ADDRESS", "ready-max-lag-bytes": "OUTBOX_CDC_READY_MAX_LAG_BYTES",
        "ready-max-ack-wait-ms": "OUTBOX_CDC_READY_MAX_ACK_WAIT_MS", "db-password-file": "OUTBOX_CDC_DB_PASSWORD_FILE",
        "kafka-secret-files": "OUTBOX_CDC_KAFKA_SECRET_FILES", "traceparent-column": "OUTBOX_CDC_TRACEPARENT_COLUMN",
        "stream-max-held-bytes": "OUTBOX_CDC_STREAM_MAX_HELD_BYTES", "stream-in-progress": "OUTBOX_CDC_STREAM_IN_PROGRESS",
        "status-interval-ms": "OUTBOX_CDC_STATUS_INTERVAL_MS", "shutdown-timeout-s": "OUTBOX_CDC_SHUTDOWN_TIMEOUT_S",
        "protocol-version": "OUTBOX_CDC_PROTOCOL_VERSION", "log-level": "OUTBOX_CDC_LOG_LEVEL",
        "log-format": "OUTBOX_CDC_LOG_FORMAT", "table-format": "OUTBOX_CDC_TABLE_FORMAT",
        "topic-column": "OUTBOX_CDC_TOPIC_COLUMN", "key-column": "OUTBOX_CDC_KEY_COLUMN",
        "value-column": "OUTBOX_CDC_VALUE_COLUMN", "id-column": "OUTBOX_CDC_ID_COLUMN",
        "partition-column": "OUTBOX_CDC_PARTITION_COLUMN", "timestamp-column": "OUTBOX_CDC_TIMESTAMP_COLUMN",
        "headers-column": "OUTBOX_CDC_HEADERS_COLUMN", "headers-format": "OUTBOX_CDC_HEADERS_FORMAT",
        "header-names-column": "OUTBOX_CDC_HEADER_NAMES_COLUMN", "header-values-column": "OUTBOX_CDC_HEADER_VALUES_COLUMN",
        "pending-condition": "OUTBOX_CDC_PENDING_CONDITION", "publish-pending": "OUTBOX_CDC_PUBLISH_PENDING",
        "on-error": "OUTBOX_CDC_ON_ERROR", "heartbeat-interval-ms": "OUTBOX_CDC_HEARTBEAT_INTERVAL_MS",
        "on-slot-lost": "OUTBOX_CDC_ON_SLOT_LOST", "dead-letter-topic": "OUTBOX_CDC_DEAD_LETTER_TOPIC",
    ]

    /// Settings by variable name.
    var values: [String: String] = [:]
    /// `kafka-property`, as `key=value` texts in file order.
    var kafkaProperties: [String] = []

    init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw UsageError("--config: cannot read \(path): \(error.localizedDescription)")
        }
        try self.init(yaml: text, path: path)
    }

    init(yaml text: String, path: String) throws {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw UsageError("--config: \(path) is not valid YAML: \(error)")
        }
        guard let root else { return }
        guard let mapping = root.mapping else {
            throw UsageError("--config: \(path) must be a mapping of settings (db: …, brokers: …)")
        }
        var unknown: [String] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                throw UsageError("--config: \(path) has a key that is not text")
            }
            if key == "kafka-property" {
                kafkaProperties = try Self.kafkaProperties(value, path: path)
                continue
            }
            guard let variable = Self.variables[key] else {
                unknown.append(key)
                continue
            }
            guard let scalar = value.scalar else {
                throw UsageError("--config: \(key) in \(path) must be a single value, not a list or a mapping")
            }
            // `~` / `null` leaves the setting unset; numbers and booleans keep their text.
            if value.tag.rawValue == Tag.Name.null.rawValue { continue }
            values[variable] = scalar.string
        }
        guard unknown.isEmpty else {
            throw UsageError("--config: \(path) has unknown setting(s) \(unknown.sorted().joined(separator: ", ")); the keys are the flags' long names without dashes (see --help)")
        }
    }

    /// A mapping (`linger.ms: 5`) or a list of `key=value` texts.
    private static func kafkaProperties(_ node: Node, path: String) throws -> [String] {
        if let mapping = node.mapping {
            return try mapping.map { key, value in
                guard let name = key.string, let text = value.scalar?.string else {
                    throw UsageError("--config: kafka-property in \(path) must map librdkafka property names to single values")
                }
                return "\(name)=\(text)"
            }
        }
        if let sequence = node.sequence {
            return try sequence.map { item in
                guard let text = item.scalar?.string else {
                    throw UsageError("--config: kafka-property in \(path) must list key=value texts")
                }
                return text
            }
        }
        throw UsageError("--config: kafka-property in \(path) must be a mapping (linger.ms: 5) or a list of key=value")
    }
}

extension Environment {
    /// The file's settings under the variables: a variable already set wins over the file.
    mutating func layer(_ file: ConfigFile) {
        for (variable, value) in file.values where self[variable] == nil {
            values[variable] = value
        }
        configKafkaProperties = file.kafkaProperties
    }
}
