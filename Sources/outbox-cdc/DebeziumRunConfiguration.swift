import Clocks
import Connector
import DebeziumFormat
import Foundation
import Logging
import OperatorSettings
import PostgresNames
import WALReader

/// `--debezium-config FILE`: the connector configuration a Debezium deployment's own file describes.
///
/// The PostgreSQL connection, slot, publication and outbox (or captured) tables; every Outbox Event Router
/// setting, or without an EventRouter the change events' settings (ExtractNewRecordState too); the key and
/// value converters (Kafka Connect's, or Debezium Server's formats and header format); the
/// `__debezium.context.*` headers; snapshot, heartbeat and slot settings; the producer settings. A setting
/// outbox-cdc does not reproduce is refused with an error naming its key, never silently changed.
struct DebeziumRunConfiguration {
    var configuration: ConnectorConfiguration
    /// One line each, for the log at start (unknown keys, settings with no effect here).
    var warnings: [String]
    /// The producer settings of the file as the lowest layer, with the operator's layers over them.
    var kafkaLayers: KafkaPropertyLayers
    /// `--on-error` when the operator gives none: skip under `errors.tolerance=all`, else fail.
    var defaultErrorPolicy: ErrorPolicy = .fail

    /// `kafkaOverrides`: the configuration file's, the variables' and the flags' Kafka properties, which
    /// override the file's producer settings property by property.
    init(path: String, brokersFlag: String?, kafkaOverrides: KafkaPropertyLayers, environment: [String: String]) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw UsageError("--debezium-config: cannot read \(path): \(error.localizedDescription)")
        }
        let file: DebeziumConfigFile
        let settings: DebeziumSettings
        let producer: LibrdkafkaProducerConfig
        do {
            file = try DebeziumConfigFile.parse(text, environment: environment)
            settings = try DebeziumSettings(file)
            producer = try LibrdkafkaProducerConfig(file)
        } catch {
            throw UsageError("--debezium-config \(path): \(error)")
        }
        var warnings = file.notes + settings.warnings
        if !settings.unknownKeys.isEmpty {
            warnings.append("keys outbox-cdc does not know, ignored: \(settings.unknownKeys.joined(separator: ", "))")
        }
        if !producer.unmappedKeys.isEmpty {
            warnings.append("producer settings with no librdkafka equivalent, ignored: \(producer.unmappedKeys.joined(separator: ", "))")
        }
        let router = settings.eventRouter
        try Self.refuseUnsupported(settings, file: file)

        guard let brokers = brokersFlag ?? file.brokers else {
            throw UsageError("--brokers is required: \(path) names no bootstrap servers (producer.override.bootstrap.servers or debezium.sink.kafka.producer.bootstrap.servers)")
        }
        let (key, value, sink) = try Self.converters(settings, file: file)
        let (includeList, tables) = try Self.outboxTables(settings.replication, file: file)
        var kafkaLayers = KafkaPropertyLayers()
        for (name, propertyValue) in producer.properties where name != "bootstrap.servers" {
            kafkaLayers.set(name, to: propertyValue, in: .debeziumConfig)
        }
        kafkaLayers.apply(kafkaOverrides)
        self.kafkaLayers = kafkaLayers
        var records = DebeziumRecordSettings(
            keyConverter: key, valueConverter: value, topicPrefix: settings.topicPrefix,
            contextHeaders: settings.extendedHeadersEnabled, runID: Self.uuidV7(), records: settings.records,
            messagePrefixIncludeList: settings.replication.messagePrefixIncludeList,
            messagePrefixExcludeList: settings.replication.messagePrefixExcludeList, sink: sink
        )
        if case .changeEvents = settings.records { records.skippedOperations = settings.replication.skippedOperations }
        // Debezium runs the action query (if any) once an interval and writes a heartbeat record, which the
        // EventRouter passes on (golden heartbeat-records).
        if settings.replication.heartbeatInterval > .zero { records.heartbeatTopicsPrefix = settings.replication.heartbeatTopicsPrefix }

        configuration = ConnectorConfiguration(
            database: try Self.connectionSettings(settings.database),
            brokers: brokers,
            slot: settings.replication.slotName,
            publication: settings.replication.publicationName,
            table: tables[0],
            // Debezium creates a missing slot whatever the publication mode.
            createMissing: true,
            kafkaProperties: kafkaLayers.properties,
            statusInterval: settings.replication.statusUpdateInterval,
            tableFormat: router.map { .eventRouter(id: $0.eventIDColumn, key: $0.eventKeyColumn, payload: $0.payloadColumn, routeBy: $0.routeByField) } ?? .eventRouter,
            // Debezium's initial snapshot of an outbox: the rows already in the table when the slot is created
            // are published first, read in the snapshot the slot starts from, routed like inserts.
            // Under change events, the snapshot of every captured table.
            publishPendingRows: settings.replication.snapshotMode.takesInitialSnapshot,
            // Debezium publishes logical decoding messages its own way (`<topic.prefix>.message`), not as
            // outbox-cdc's table-less records.
            messagePrefix: nil,
            recordFormat: .debezium(records)
        )
        if case .changeEvents = settings.records {
            configuration.publishedOperations = Self.publishedOperations(skipping: settings.replication.skippedOperations)
        }
        configuration.streamsChanges = settings.replication.snapshotMode != .initialOnly
        configuration.extraPluginOptions = settings.replication.streamParameters.map { ($0.name, $0.value) }
        configuration.additionalTables = Array(tables.dropFirst())
        configuration.debeziumTableIncludeList = includeList
        configuration.dropSlotOnStop = settings.replication.dropSlotOnStop
        // Debezium creates its publication without it unless told: a partitioned outbox then publishes nothing
        // through Debezium, and outbox-cdc stops at start instead (see README).
        configuration.publicationViaPartitionRoot = settings.replication.publishViaPartitionRoot
        configuration.createMissingPublication = settings.replication.publicationAutocreateMode != .disabled
        // Debezium's statement for its default mode, so that what its list matches later is published too.
        configuration.createPublicationForAllTables = settings.replication.publicationAutocreateMode == .allTables
        // Unset, outbox-cdc's default holds: a failover slot where the server has them.
        if let failover = settings.replication.slotFailover { configuration.failoverSlot = failover }
        if settings.replication.heartbeatInterval > .zero {
            configuration.heartbeat = Heartbeat(interval: settings.replication.heartbeatInterval, statement: settings.replication.heartbeatActionQuery)
        }
        self.warnings = warnings
        defaultErrorPolicy = settings.skipsRecordsThatFail ? .skip : .fail
    }

    /// The operations of the publication Debezium creates for its change events: those `skipped.operations`
    /// leaves in, and truncates always (its default skips them, yet its publication carries them).
    static func publishedOperations(skipping skipped: Set<ReplicationSettings.Operation>) -> String {
        let operations: [(ReplicationSettings.Operation, String)] = [(.create, "insert"), (.update, "update"), (.delete, "delete")]
        return (operations.filter { !skipped.contains($0.0) }.map(\.1) + ["truncate"]).joined(separator: ", ")
    }

    /// Settings whose effect outbox-cdc does not reproduce: refused by key rather than ignored, because
    /// ignoring them would change the records consumers get.
    private static func refuseUnsupported(_ settings: DebeziumSettings, file: DebeziumConfigFile) throws {
        guard let router = settings.eventRouter else {
            try refuseUnsupportedForChangeEvents(settings, file: file)
            return
        }
        let routerPrefix = "transforms.\(router.alias)."
        // The routing and value settings are checked now, before anything connects: Debezium would find
        // most of these only at the first row. The errors begin with the router key they are about.
        do {
            _ = try OutboxTopicRouter(settings: router)
            _ = try OutboxValueBuilder(settings: router)
        } catch {
            throw UsageError("\(file.fileKey(forConnectorKey: routerPrefix))\(error)")
        }
        var unsupported: [String] = []
        // outbox-cdc's publication carries inserts only, so it never sees the update that would stop Debezium.
        if router.invalidOperationBehavior == .fatal { unsupported.append(routerPrefix + "table.op.invalid.behavior") }
        if router.predicate != nil { unsupported.append(routerPrefix + "predicate") }
        // Debezium would then publish nothing from the outbox: surely not what is meant.
        if settings.replication.skippedOperations.contains(.create) { unsupported.append("skipped.operations") }
        if settings.database.initialStatements != nil { unsupported.append("database.initial.statements") }
        guard unsupported.isEmpty else {
            let keys = unsupported.map { file.fileKey(forConnectorKey: $0) }
            throw UsageError("outbox-cdc does not reproduce \(keys.joined(separator: ", ")) yet; remove \(keys.count == 1 ? "it" : "them") or keep Debezium for this connector")
        }
    }

    /// What change events outbox-cdc cannot reproduce yet.
    private static func refuseUnsupportedForChangeEvents(_ settings: DebeziumSettings, file: DebeziumConfigFile) throws {
        var unsupported: [String] = []
        if settings.database.initialStatements != nil { unsupported.append("database.initial.statements") }
        guard unsupported.isEmpty else {
            let keys = unsupported.map { file.fileKey(forConnectorKey: $0) }
            throw UsageError("outbox-cdc does not reproduce \(keys.joined(separator: ", ")) yet; remove \(keys.count == 1 ? "it" : "them") or keep Debezium for this connector")
        }
    }

    /// The converters of a Kafka Connect file (the stock worker's where the file sets none), or those a
    /// Debezium Server file's `debezium.format.*` names.
    private static func converters(_ settings: DebeziumSettings, file: DebeziumConfigFile) throws -> (key: ConverterSetting, value: ConverterSetting, sink: DebeziumSink) {
        guard let format = file.serverFormat else {
            let resolved = settings.converters.resolved()
            guard let key = resolved.key, let value = resolved.value else {
                throw UsageError("--debezium-config: no key or value converter could be resolved")
            }
            if let header = resolved.header, header.kind != .simpleHeader {
                throw UsageError("header.converter=\(header.kind.rawValue) is not reproduced by outbox-cdc yet; it writes SimpleHeaderConverter's headers (Kafka Connect's default)")
            }
            return (key, value, .kafkaConnect)
        }
        // Debezium Server's formats (DebeziumServer.getFormat, the engine's ConverterBuilder); `<part>.class`
        // replaces the format's converter.
        func converter(_ name: String?, options: OrderedConfig, key: String) throws -> ConverterSetting {
            if let className = options["class"] {
                guard let kind = ConverterKind(className: className), kind != .simpleHeader else {
                    throw UsageError("\(key).class=\(className) is not reproduced by outbox-cdc yet")
                }
                return ConverterSetting(kind: kind, options: options)
            }
            switch name ?? ServerFormat.defaultFormat {
            // jsonbytearray writes JsonConverter's bytes too; only the engine's Java type differs.
            case "json", "jsonbytearray": return ConverterSetting(kind: .json, options: options)
            case "simplestring": return ConverterSetting(kind: .string, options: options)
            case "binary": return ConverterSetting(kind: .binaryData, options: options)
            case let other:
                throw UsageError("\(key)=\(other) is not reproduced by outbox-cdc yet; use json, jsonbytearray, simplestring or binary")
            }
        }
        let headerKey = "debezium.format.header"
        let headers: ServerHeaderFormat
        if let className = format.headerOptions["class"] {
            guard ConverterKind(className: className) == .simpleHeader else {
                throw UsageError("\(headerKey).class=\(className) is not reproduced by outbox-cdc yet")
            }
            headers = .simpleText
        } else {
            switch format.header ?? ServerFormat.defaultFormat {
            case "json", "jsonbytearray":
                headers = .json(schemas: format.headerOptions["schemas.enable"].map { $0.lowercased() != "false" } ?? true)
            case let other:
                throw UsageError("\(headerKey)=\(other) is not reproduced by outbox-cdc yet; use json, jsonbytearray, or \(headerKey).class=org.apache.kafka.connect.storage.SimpleHeaderConverter")
            }
        }
        return (
            try converter(format.key, options: format.keyOptions, key: "debezium.format.key"),
            try converter(format.value, options: format.valueOptions, key: "debezium.format.value"),
            .debeziumServer(headers: headers)
        )
    }

    /// `table.include.list`: Debezium's case-insensitive regular expressions of `schema.table`; the outbox
    /// tables are those of the catalog it matches, found at each start. Until then the configuration names the
    /// entries that read as plain names (for the start log), or `public.outbox`.
    private static func outboxTables(_ replication: ReplicationSettings, file: DebeziumConfigFile) throws -> (TableIncludeList, [QualifiedTableName]) {
        let key = file.fileKey(forConnectorKey: "table.include.list")
        guard let text = replication.tableIncludeList else {
            throw UsageError("\(key) must name the outbox table(s) (schema.table, comma-separated; Debezium reads each as a regular expression)")
        }
        let list: TableIncludeList
        do {
            list = try TableIncludeList(text)
        } catch {
            throw UsageError("\(key)=\(text): \(error)")
        }
        var tables: [QualifiedTableName] = []
        for rawEntry in text.split(separator: ",") {
            let entry = rawEntry.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\\.", with: ".")
            let parts = entry.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty }),
                  entry.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else { continue }
            let table = QualifiedTableName(schema: String(parts[0]), name: String(parts[1]))
            if !tables.contains(table) { tables.append(table) }
        }
        return (list, tables.isEmpty ? [QualifiedTableName(schema: "public", name: "outbox")] : tables)
    }

    /// A libpq connection string from `database.*`, each value quoted as libpq requires.
    private static func connectionSettings(_ database: DatabaseSettings) throws -> ConnectionSettings {
        func quoted(_ value: String) -> String {
            "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        }
        var parts = [
            "host=\(quoted(database.hostname))", "port=\(database.port)", "user=\(quoted(database.user))",
            "dbname=\(quoted(database.databaseName))", "sslmode=\(database.sslMode.rawValue)",
        ]
        if let password = database.password { parts.append("password=\(quoted(password.value))") }
        if let file = database.sslCertificate { parts.append("sslcert=\(quoted(file))") }
        if let file = database.sslKey { parts.append("sslkey=\(quoted(file))") }
        if let file = database.sslRootCertificate { parts.append("sslrootcert=\(quoted(file))") }
        if let password = database.sslPassword { parts.append("sslpassword=\(quoted(password.value))") }
        parts.append("keepalives=\(database.tcpKeepAlive ? 1 : 0)")
        do {
            return try ConnectionSettings(parts.joined(separator: " "))
        } catch {
            throw UsageError("--debezium-config: the database.* settings do not make a connection string: \(error)")
        }
    }

    /// A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits; Debezium draws one per
    /// task start for the `__debezium.context.runId` header.
    static func uuidV7() -> String {
        var bytes = (0 ..< 16).map { _ in UInt8.random(in: 0 ... 255) }
        let milliseconds = UInt64(clamping: WallClock.nowMilliseconds())
        for index in 0 ..< 6 {
            bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index)))
        }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return [hex[0 ..< 4], hex[4 ..< 6], hex[6 ..< 8], hex[8 ..< 10], hex[10 ..< 16]].map { $0.joined() }.joined(separator: "-")
    }
}
