/// The typed meaning of a Debezium PostgreSQL outbox connector config: everything outbox-cdc needs to take
/// the connector's place, validated, with Debezium 3.x's defaults where the file is silent.
///
/// Reading refuses what outbox-cdc cannot reproduce (another connector, a plugin other than pgoutput, a
/// transform besides the EventRouter or ExtractNewRecordState, an unknown converter, a snapshot mode other
/// than `initial` and `no_data`) with an error naming the key. Keys it does not know are not errors: they are collected in
/// `unknownKeys` for one warning, while the Kafka Connect and Debezium keys that have no bearing on an
/// outbox relay (`KnownKeys`) pass silently.
public struct DebeziumSettings: Sendable, Equatable {
    public static let postgresConnectorClass = "io.debezium.connector.postgresql.PostgresConnector"

    /// The connector's name, when the file gives one.
    public var name: String?
    /// `topic.prefix`: required since Debezium 2.0; it names the heartbeat and transaction topics.
    public var topicPrefix: String
    public var database: DatabaseSettings
    public var replication: ReplicationSettings
    /// The converters the config sets; nil ones are the Kafka Connect worker's. Debezium Server files choose
    /// their serialisation with `DebeziumConfigFile.serverFormat` instead.
    public var converters: ConverterSettings
    /// The Event Router's outbox events, or (no EventRouter in `transforms`) the captured tables' change events.
    public var records: DebeziumRecordKind
    /// `extended.headers.enabled`: Debezium 3.x adds `__debezium.context.*` headers to each record by default.
    public var extendedHeadersEnabled = true
    /// Whether a record that cannot be published is logged and skipped rather than stopping the connector:
    /// Kafka Connect's `errors.tolerance=all`, which a 4.x worker applies to a source task's conversion,
    /// transformation and production. outbox-cdc's `--on-error skip` when no `--on-error` is given.
    public var skipsRecordsThatFail = false
    /// Keys neither read nor known to be irrelevant, spelled as in the file, in file order.
    public var unknownKeys: [String]
    /// Settings that are valid but do not do what they seem to, one line each, for the caller to log.
    public var warnings: [String]

    /// Reads the settings of `file`'s connector config; errors name keys as `file` spells them.
    public init(_ file: DebeziumConfigFile) throws(DebeziumConfigError) {
        try self.init(connector: file.connector, name: file.name, fileKey: file.fileKey(forConnectorKey:))
    }

    /// Reads the settings of a flat connector config. `fileKey` says how the user's file spells a key, for
    /// messages.
    public init(
        connector: OrderedConfig, name: String? = nil, fileKey: @escaping (String) -> String = { $0 }
    ) throws(DebeziumConfigError) {
        var reader = SettingsReader(config: connector, fileKey: fileKey)
        var warnings: [String] = []

        guard let connectorClass = reader.string("connector.class") else {
            throw .missingRequired(key: fileKey("connector.class"), hint: Self.postgresConnectorClass)
        }
        guard Self.isPostgresConnector(connectorClass) else {
            throw .unsupportedConnectorClass(key: fileKey("connector.class"), value: connectorClass)
        }
        let replication = try ReplicationSettings.read(&reader)
        if connector["snapshot.mode"]?.trimmingBlanks.lowercased() == "never" {
            warnings.append("\(fileKey("snapshot.mode"))=never is Debezium 2.x's name for no_data (Debezium 3.x refuses it): outbox-cdc reads it as no_data, publishing nothing that was written before the slot existed")
        }
        let database = try DatabaseSettings.read(&reader)
        guard let topicPrefix = reader.string("topic.prefix") else {
            let hint = connector.contains("database.server.name")
                ? "Debezium 2.0 replaced \(fileKey("database.server.name")) with \(fileKey("topic.prefix")): rename the key"
                : "the prefix of the connector's topic names, such as its logical server name"
            throw .missingRequired(key: fileKey("topic.prefix"), hint: hint)
        }
        guard topicPrefix.unicodeScalars.allSatisfy(Self.isTopicNameCharacter) else {
            throw .invalid(
                key: fileKey("topic.prefix"), value: topicPrefix,
                expected: "letters, digits, '.', '_' and '-' only (it is part of Kafka topic names)")
        }
        let converters = try ConverterSettings.read(&reader, warnings: &warnings)
        let records = try Self.readTransforms(&reader, warnings: &warnings)
        let extendedHeadersEnabled = try reader.bool("extended.headers.enabled", default: true)
        let skipsRecordsThatFail = try Self.readErrorHandling(&reader, connector: connector, fileKey: fileKey, warnings: &warnings)

        let dynamicPrefixes = ["converters", "post.processors"].flatMap { key in
            (connector[key] ?? "").commaSeparatedEntries.map { $0 + "." }
        }
        self.name = name
        self.topicPrefix = topicPrefix
        self.database = database
        self.replication = replication
        self.converters = converters
        self.records = records
        self.extendedHeadersEnabled = extendedHeadersEnabled
        self.skipsRecordsThatFail = skipsRecordsThatFail
        self.unknownKeys = connector.keys
            .filter { !reader.consumed.contains($0) && !KnownKeys.isKnown($0, dynamicPrefixes: dynamicPrefixes) }
            .map(fileKey)
        self.warnings = warnings
    }

    /// Kafka Connect's `errors.*` and Debezium's `event.processing.failure.handling.mode`: whether failing records
    /// are skipped. Debezium's mode alone (warn, skip, ignore) covers only rows Debezium cannot turn into events,
    /// not records Kafka refuses, which still stop its task: outbox-cdc, with one policy for both, stops then
    /// and says so in a warning (stopping where Debezium would skip, never skipping where it would stop). The
    /// dead-letter queue keys, which Kafka Connect applies to sink connectors only, are accepted with a warning
    /// that they do nothing; retries concern failures outbox-cdc's deterministic conversions do not have;
    /// outbox-cdc always logs a skipped record's id (never its content).
    private static func readErrorHandling(
        _ reader: inout SettingsReader, connector: OrderedConfig, fileKey: (String) -> String, warnings: inout [String]
    ) throws(DebeziumConfigError) -> Bool {
        let tolerance = reader.string("errors.tolerance")?.lowercased() ?? "none"
        guard tolerance == "none" || tolerance == "all" else {
            throw .invalid(key: fileKey("errors.tolerance"), value: tolerance, expected: "none or all")
        }
        let failureMode = reader.string("event.processing.failure.handling.mode")?.lowercased() ?? "fail"
        guard ["fail", "warn", "skip", "ignore"].contains(failureMode) else {
            throw .invalid(key: fileKey("event.processing.failure.handling.mode"), value: failureMode, expected: "fail, warn, skip or ignore")
        }
        let deadLetterKeys = connector.keys.filter { $0.hasPrefix("errors.deadletterqueue.") }
        if !deadLetterKeys.isEmpty {
            deadLetterKeys.forEach { reader.consume($0) }
            warnings.append("\(deadLetterKeys.map(fileKey).joined(separator: ", ")): Kafka Connect applies its dead-letter queue to sink connectors only, so Debezium never used it; outbox-cdc ignores it too (--on-error dlq sends records that cannot be published to a topic of its own)")
        }
        if tolerance == "none", failureMode != "fail" {
            warnings.append("\(fileKey("event.processing.failure.handling.mode"))=\(failureMode) without \(fileKey("errors.tolerance"))=all: outbox-cdc stops at a record it cannot publish (Debezium would skip a row it cannot decode but stop at a record Kafka refuses); set \(fileKey("errors.tolerance"))=all or --on-error skip to skip both")
        }
        return tolerance == "all"
    }

    /// The connector class as written or as one of the aliases Kafka Connect accepts for it
    /// (`PostgresConnector`, `Postgres`).
    static func isPostgresConnector(_ className: String) -> Bool {
        [postgresConnectorClass, "PostgresConnector", "Postgres"].contains(className)
    }

    static func isTopicNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || scalar == "." || scalar == "_" || scalar == "-"
    }

    /// Finds the one EventRouter among `transforms` and reads it; any other transform beside it is an error,
    /// since outbox-cdc would silently publish something else than the connector did. Without an EventRouter
    /// the connector publishes change events: `ChangeEventSettings` reads them (and ExtractNewRecordState).
    private static func readTransforms(_ reader: inout SettingsReader, warnings: inout [String]) throws(DebeziumConfigError) -> DebeziumRecordKind {
        let transformsKey = reader.fileKey("transforms")
        let listed = reader.string("transforms") ?? ""
        let aliases = listed.commaSeparatedEntries
        var seen: Set<String> = []
        var routers: [String] = []
        var others: [String] = []
        for alias in aliases {
            guard seen.insert(alias).inserted else {
                throw .invalid(key: transformsKey, value: listed, expected: "each transform alias once")
            }
            let typeKey = "transforms.\(alias).type"
            guard let type = reader.string(typeKey) else {
                throw .missingRequired(key: reader.fileKey(typeKey), hint: "the class of transform \(alias)")
            }
            if EventRouterSettings.isEventRouter(type) {
                routers.append(alias)
            } else {
                others.append("\(alias) (\(type))")
            }
        }
        guard let router = routers.first else {
            let changeEvents = try ChangeEventSettings(reading: &reader)
            warnings += changeEvents.warnings
            return .changeEvents(changeEvents)
        }
        guard routers.count == 1 else { throw .multipleEventRouters(key: transformsKey, names: routers) }
        guard others.isEmpty else { throw .unsupportedTransforms(key: transformsKey, transforms: others) }
        return .outboxEvents(try EventRouterSettings.read(alias: router, &reader))
    }

    /// The Event Router's settings, when the connector has one.
    public var eventRouter: EventRouterSettings? {
        if case .outboxEvents(let router) = records { router } else { nil }
    }
}

/// What a Debezium PostgreSQL connector publishes.
public enum DebeziumRecordKind: Sendable, Equatable {
    /// The Outbox Event Router's events, one per outbox row.
    case outboxEvents(EventRouterSettings)
    /// Debezium's change events of the captured tables (create, update, delete, truncate), or with
    /// ExtractNewRecordState the rows they carry.
    case changeEvents(ChangeEventSettings)
}
