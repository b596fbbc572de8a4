import Foundation
import Yams

/// The native configuration file, `--config FILE` (YAML): every setting a flag holds, under the flag's
/// long name without the dashes. A flag or an `OUTBOX_CDC_*` variable overrides the file; the file
/// overrides the defaults. `kafka-property` and `kafka-secret-file` are maps, merged property by property
/// with the variables and flags of the same name.
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
/// kafka-secret-file:
///   sasl.password: /run/secrets/kafka-password
/// ```
struct ConfigFile {
    /// Keys the file may hold, each with the variable it stands in for. `kafka-property` and
    /// `kafka-secret-file` are apart: maps.
    static let variables: [String: String] = [
        "db": "OUTBOX_CDC_DB", "brokers": "OUTBOX_CDC_BROKERS", "debezium-config": "OUTBOX_CDC_DEBEZIUM_CONFIG",
        "slot": "OUTBOX_CDC_SLOT", "publication": "OUTBOX_CDC_PUBLICATION", "table": "OUTBOX_CDC_TABLE",
        "message-prefix": "OUTBOX_CDC_MESSAGE_PREFIX", "no-create": "OUTBOX_CDC_NO_CREATE",
        "no-failover-slot": "OUTBOX_CDC_NO_FAILOVER_SLOT",
        "metrics-address": "OUTBOX_CDC_METRICS_ADDRESS", "ready-max-lag-bytes": "OUTBOX_CDC_READY_MAX_LAG_BYTES",
        "ready-max-ack-wait-ms": "OUTBOX_CDC_READY_MAX_ACK_WAIT_MS", "db-password-file": "OUTBOX_CDC_DB_PASSWORD_FILE",
        "traceparent-column": "OUTBOX_CDC_TRACEPARENT_COLUMN",
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
        "mark-published": "OUTBOX_CDC_MARK_PUBLISHED", "mark-published-as": "OUTBOX_CDC_MARK_PUBLISHED_AS",
        "retention": "OUTBOX_CDC_RETENTION", "retention-column": "OUTBOX_CDC_RETENTION_COLUMN",
    ]

    /// The keys of the two maps. `kafka-secret-files` is the spelling of earlier versions (then a
    /// comma-separated text like the variable), still read.
    static let kafkaPropertyKey = "kafka-property"
    static let kafkaSecretFileKeys: Set = ["kafka-secret-file", "kafka-secret-files"]

    /// One entry of `kafka-property` (property → value) or `kafka-secret-file` (property → path), with its
    /// place in the file for messages.
    struct KafkaEntry {
        var name: String
        var value: String
        var origin: SettingOrigin
    }

    /// Settings by variable name.
    var values: [String: String] = [:]
    /// The key and line of each of `values`, by variable name.
    var origins: [String: SettingOrigin] = [:]
    /// `kafka-property`, in file order.
    var kafkaProperties: [KafkaEntry] = []
    /// `kafka-secret-file`, in file order.
    var kafkaSecretFiles: [KafkaEntry] = []

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
        var secretFileKeyGiven: String?
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                throw UsageError("--config: \(path) has a key that is not text")
            }
            let origin = SettingOrigin.configFile(key: key, path: path, line: keyNode.mark?.line)
            if key == Self.kafkaPropertyKey {
                kafkaProperties = try Self.kafkaEntries(value, key: key, path: path, origin: origin,
                                                        expected: "must be a mapping (linger.ms: 5) or a list of key=value")
                continue
            }
            if Self.kafkaSecretFileKeys.contains(key) {
                if let other = secretFileKeyGiven {
                    throw UsageError("--config: \(path) has both \(other) and \(key); they are one setting, keep kafka-secret-file")
                }
                secretFileKeyGiven = key
                kafkaSecretFiles = try Self.kafkaEntries(value, key: key, path: path, origin: origin,
                                                         expected: "must map librdkafka properties to files (sasl.password: /run/secrets/kafka-password)")
                continue
            }
            guard let variable = Self.variables[key] else {
                unknown.append(key)
                continue
            }
            guard let scalar = value.scalar else {
                throw UsageError("--config: \(origin) must be a single value, not a list or a mapping")
            }
            // `~` / `null` leaves the setting unset; numbers and booleans keep their text.
            if value.tag.rawValue == Tag.Name.null.rawValue { continue }
            values[variable] = scalar.string
            origins[variable] = origin
        }
        guard unknown.isEmpty else {
            throw UsageError("--config: \(path) has unknown setting(s) \(unknown.sorted().joined(separator: ", ")); the keys are the flags' long names without dashes (see --help)")
        }
    }

    /// A mapping (`linger.ms: 5`), a list of `key=value` texts, or one comma-separated `key=value` text (as
    /// the variables hold them); each entry keeps its line.
    private static func kafkaEntries(_ node: Node, key: String, path: String, origin: SettingOrigin, expected: String) throws -> [KafkaEntry] {
        let isSecretFiles = kafkaSecretFileKeys.contains(key)
        func entry(_ text: String, line: Int?) throws -> KafkaEntry {
            guard let separator = text.firstIndex(of: "="), separator != text.startIndex else {
                throw UsageError("--config: \(origin) \(expected), not '\(text.prefix(while: { $0 != "=" }))'")
            }
            let name = String(text[..<separator]).trimmingSpaces
            return KafkaEntry(name: name, value: String(text[text.index(after: separator)...]),
                              origin: .configFile(key: "\(key) \(name)", path: path, line: line ?? origin.line))
        }
        if let mapping = node.mapping {
            return try mapping.map { nameNode, value in
                guard let name = nameNode.string else {
                    throw UsageError("--config: \(origin) has a property name that is not text")
                }
                let entryOrigin = SettingOrigin.configFile(key: "\(key) \(name)", path: path, line: nameNode.mark?.line)
                guard let text = value.scalar?.string else {
                    throw UsageError("--config: \(entryOrigin) must be \(isSecretFiles ? "a file's path" : "a single value"), not a list or a mapping")
                }
                return KafkaEntry(name: name, value: text, origin: entryOrigin)
            }
        }
        if let sequence = node.sequence {
            return try sequence.map { item in
                guard let text = item.scalar?.string else {
                    throw UsageError("--config: \(origin) must list \(isSecretFiles ? "property=path" : "key=value") texts")
                }
                return try entry(text, line: item.mark?.line)
            }
        }
        if let text = node.scalar?.string {
            return try text.split(separator: ",").map { try entry(String($0), line: nil) }
        }
        throw UsageError("--config: \(origin) \(expected)")
    }
}

extension SettingOrigin {
    /// The line in the configuration file, if it came from there.
    var line: Int? {
        if case .configFile(_, _, let line) = self { return line }
        return nil
    }
}

extension Environment {
    /// The file's settings under the variables: a variable already set wins over the file.
    mutating func layer(_ file: ConfigFile) {
        for (variable, value) in file.values where self[variable] == nil {
            values[variable] = value
            fileOrigins[variable] = file.origins[variable]
        }
        configKafkaProperties = file.kafkaProperties
        configKafkaSecretFiles = file.kafkaSecretFiles
    }
}
