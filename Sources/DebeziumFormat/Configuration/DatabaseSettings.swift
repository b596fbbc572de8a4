/// How the Debezium PostgreSQL connector reaches the database (`database.*`), with Debezium 3.x's defaults.
/// `password` and `sslPassword` are `SecretString`s, so no description of these settings shows them.
public struct DatabaseSettings: Sendable, Equatable {
    /// `database.sslmode`, with libpq's and pgjdbc's meanings.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable
        case allow
        /// Debezium's default.
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var hostname: String
    /// `database.port`, 5432 by default.
    public var port = 5432
    public var user: String
    public var password: SecretString?
    /// `database.dbname`.
    public var databaseName: String
    public var sslMode = SSLMode.prefer
    /// `database.sslcert`: the client certificate file.
    public var sslCertificate: String?
    /// `database.sslkey`: the client key file.
    public var sslKey: String?
    /// `database.sslpassword`: the client key's password.
    public var sslPassword: SecretString?
    /// `database.sslrootcert`: the CA certificates to verify the server with.
    public var sslRootCertificate: String?
    /// `database.tcpKeepAlive`, true by default.
    public var tcpKeepAlive = true
    /// `database.initial.statements`, as written: SQL run on each new connection, `;`-separated (`;;` for a
    /// literal semicolon).
    public var initialStatements: String?

    public init(hostname: String, user: String, databaseName: String) {
        self.hostname = hostname
        self.user = user
        self.databaseName = databaseName
    }

    static func read(_ reader: inout SettingsReader) throws(DebeziumConfigError) -> DatabaseSettings {
        var settings = DatabaseSettings(
            hostname: try reader.required("database.hostname", hint: "the PostgreSQL server's host name"),
            user: try reader.required("database.user", hint: "the role the connector logs in as"),
            databaseName: try reader.required("database.dbname", hint: "the database that holds the outbox table"))
        settings.port = try reader.integer(
            "database.port", default: settings.port, range: 1...65_535, expected: "a port number from 1 to 65535")
        // Passwords are taken as written: a trailing space may be part of one.
        settings.password = reader.raw("database.password").map(SecretString.init)
        settings.sslMode = try reader.choice("database.sslmode", default: settings.sslMode)
        settings.sslCertificate = reader.string("database.sslcert")
        settings.sslKey = reader.string("database.sslkey")
        settings.sslPassword = reader.raw("database.sslpassword").map(SecretString.init)
        settings.sslRootCertificate = reader.string("database.sslrootcert")
        settings.tcpKeepAlive = try reader.bool("database.tcpKeepAlive", default: settings.tcpKeepAlive)
        settings.initialStatements = reader.raw("database.initial.statements")
        return settings
    }
}

/// What the connector streams and how (`plugin.name`, `slot.*`, `publication.*`, filters, snapshot), with
/// Debezium 3.x's defaults. The plugin is always pgoutput: anything else is refused when reading.
public struct ReplicationSettings: Sendable, Equatable {
    /// `publication.autocreate.mode`.
    public enum PublicationAutocreateMode: String, Sendable, CaseIterable {
        /// Create the publication `FOR ALL TABLES` when missing (Debezium's default).
        case allTables = "all_tables"
        /// Never create it; it must exist.
        case disabled
        /// Create it for the tables the include/exclude lists select.
        case filtered
        /// Create it with no tables.
        case noTables = "no_tables"
    }

    /// `snapshot.mode`, reduced to the modes outbox-cdc honours for an outbox.
    public enum SnapshotMode: String, Sendable {
        /// Publish the rows already in the outbox table when no position is stored yet (Debezium's default).
        case initial
        /// Stream only changes from now on (`no_data`, or its pre-3.0 name `never`).
        case noData = "no_data"
        /// As `initial` where outbox-cdc is concerned: its position is the slot's, so "no position stored" and
        /// "the stored position is gone" are both a missing slot.
        case whenNeeded = "when_needed"
        /// The snapshot, then nothing streamed.
        case initialOnly = "initial_only"

        /// Whether a start that creates the slot first publishes the rows already there.
        public var takesInitialSnapshot: Bool { self != .noData }
    }

    /// A change kind of `skipped.operations`.
    public enum Operation: String, Sendable, CaseIterable {
        case create = "c"
        case update = "u"
        case delete = "d"
        case truncate = "t"
    }

    /// One `name=value` of `slot.stream.params`, passed to the output plugin when streaming starts.
    public struct StreamParameter: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var slotName = "debezium"
    public var publicationName = "dbz_publication"
    public var publicationAutocreateMode = PublicationAutocreateMode.allTables
    /// `schema.include.list`, `schema.exclude.list`, `table.include.list`, `table.exclude.list`: comma-separated
    /// regular expressions, as written (trimmed); nil when not set.
    public var schemaIncludeList: String?
    public var schemaExcludeList: String?
    public var tableIncludeList: String?
    public var tableExcludeList: String?
    /// `slot.stream.params`, in order.
    public var streamParameters: [StreamParameter] = []
    /// `slot.drop.on.stop`.
    public var dropSlotOnStop = false
    /// `publish.via.partition.root`: Debezium creates its publication `WITH (publish_via_partition_root = true)`
    /// (it never changes an existing one's).
    public var publishViaPartitionRoot = false
    /// `slot.failover`, when the file sets it (Debezium's default is false; outbox-cdc's is true).
    public var slotFailover: Bool?
    /// `status.update.interval.ms`: how often the confirmed position is reported to the server.
    public var statusUpdateInterval = Duration.milliseconds(10_000)
    /// `heartbeat.interval.ms`; zero disables heartbeats.
    public var heartbeatInterval = Duration.zero
    /// `heartbeat.action.query`, as written.
    public var heartbeatActionQuery: String?
    /// `topic.heartbeat.prefix` (or the older `heartbeat.topics.prefix`): the heartbeat records' topic is
    /// `<prefix>.<topic.prefix>`.
    public var heartbeatTopicsPrefix = DebeziumHeartbeatRecord.defaultTopicsPrefix
    /// `message.prefix.include.list` and `message.prefix.exclude.list`: logical decoding message prefixes.
    public var messagePrefixIncludeList: String?
    public var messagePrefixExcludeList: String?
    /// `skipped.operations`; Debezium skips truncates by default.
    public var skippedOperations: Set<Operation> = [.truncate]
    public var snapshotMode = SnapshotMode.initial

    public init() {}

    static func read(_ reader: inout SettingsReader) throws(DebeziumConfigError) -> ReplicationSettings {
        var settings = ReplicationSettings()
        guard let plugin = reader.string("plugin.name") else {
            throw .unsupportedPlugin(key: reader.fileKey("plugin.name"), value: nil)
        }
        guard plugin.lowercased() == "pgoutput" else {
            throw .unsupportedPlugin(key: reader.fileKey("plugin.name"), value: plugin)
        }
        settings.slotName = reader.string("slot.name", default: settings.slotName)
        // Debezium's own check, from PostgreSQL's rule for slot names.
        guard !settings.slotName.isEmpty, settings.slotName.utf8.count <= 63,
            settings.slotName.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
        else {
            throw .invalid(
                key: reader.fileKey("slot.name"), value: settings.slotName,
                expected: "at most 63 lowercase letters, digits and underscores")
        }
        settings.publicationName = reader.string("publication.name", default: settings.publicationName)
        settings.publicationAutocreateMode = try reader.choice(
            "publication.autocreate.mode", default: settings.publicationAutocreateMode)
        settings.schemaIncludeList = reader.string("schema.include.list")
        settings.schemaExcludeList = reader.string("schema.exclude.list")
        settings.tableIncludeList = reader.string("table.include.list")
        settings.tableExcludeList = reader.string("table.exclude.list")
        try rejectBoth("schema.include.list", "schema.exclude.list", settings.schemaIncludeList, settings.schemaExcludeList, reader)
        try rejectBoth("table.include.list", "table.exclude.list", settings.tableIncludeList, settings.tableExcludeList, reader)
        if let parameters = reader.string("slot.stream.params") {
            settings.streamParameters = try parseStreamParameters(parameters, key: reader.fileKey("slot.stream.params"))
        }
        settings.dropSlotOnStop = try reader.bool("slot.drop.on.stop", default: settings.dropSlotOnStop)
        settings.publishViaPartitionRoot = try reader.bool("publish.via.partition.root", default: false)
        if reader.string("slot.failover") != nil {
            settings.slotFailover = try reader.bool("slot.failover", default: false)
        }
        settings.statusUpdateInterval = .milliseconds(try reader.integer(
            "status.update.interval.ms", default: 10_000, range: 1...Int(Int32.max),
            expected: "a positive number of milliseconds"))
        settings.heartbeatInterval = .milliseconds(try reader.integer(
            "heartbeat.interval.ms", default: 0, range: 0...Int(Int32.max),
            expected: "a number of milliseconds, 0 to disable"))
        settings.heartbeatActionQuery = reader.string("heartbeat.action.query")
        settings.heartbeatTopicsPrefix = reader.string("topic.heartbeat.prefix") ?? reader.string("heartbeat.topics.prefix")
            ?? settings.heartbeatTopicsPrefix
        settings.messagePrefixIncludeList = reader.string("message.prefix.include.list")
        settings.messagePrefixExcludeList = reader.string("message.prefix.exclude.list")
        try rejectBoth(
            "message.prefix.include.list", "message.prefix.exclude.list", settings.messagePrefixIncludeList,
            settings.messagePrefixExcludeList, reader)
        if let operations = reader.raw("skipped.operations") {
            settings.skippedOperations = try parseSkippedOperations(operations, key: reader.fileKey("skipped.operations"))
        }
        if let mode = reader.string("snapshot.mode") {
            switch mode.lowercased() {
            case "initial": settings.snapshotMode = .initial
            case "no_data", "never": settings.snapshotMode = .noData
            case "when_needed": settings.snapshotMode = .whenNeeded
            case "initial_only": settings.snapshotMode = .initialOnly
            default: throw .unsupportedSnapshotMode(key: reader.fileKey("snapshot.mode"), value: mode)
            }
        }
        return settings
    }

    /// Debezium refuses an include list and an exclude list of the same kind together.
    private static func rejectBoth(
        _ includeKey: String, _ excludeKey: String, _ include: String?, _ exclude: String?, _ reader: SettingsReader
    ) throws(DebeziumConfigError) {
        guard include != nil, let exclude else { return }
        throw .invalid(
            key: reader.fileKey(excludeKey), value: exclude,
            expected: "no \(reader.fileKey(excludeKey)) when \(reader.fileKey(includeKey)) is set (Debezium allows only one)")
    }

    /// `name=value;name=value`, as Debezium splits it; empty entries (a trailing `;`) are skipped.
    static func parseStreamParameters(_ text: String, key: String) throws(DebeziumConfigError) -> [StreamParameter] {
        var parameters: [StreamParameter] = []
        for entry in text.split(separator: ";") {
            let trimmed = entry.trimmingBlanks
            guard !trimmed.isEmpty else { continue }
            let parts = trimmed.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].trimmingBlanks.isEmpty, !parts[1].trimmingBlanks.isEmpty else {
                throw .invalid(key: key, value: text, expected: "name=value pairs separated by ';'")
            }
            parameters.append(StreamParameter(name: parts[0].trimmingBlanks, value: parts[1].trimmingBlanks))
        }
        return parameters
    }

    /// `none`, or a comma-separated list of `c`, `u`, `d`, `t`.
    static func parseSkippedOperations(_ text: String, key: String) throws(DebeziumConfigError) -> Set<Operation> {
        let expected = "none, or a comma-separated list of c, u, d and t"
        if text.trimmingBlanks.lowercased() == "none" { return [] }
        var operations: Set<Operation> = []
        let entries = text.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingBlanks)
        for entry in entries {
            guard let operation = Operation(rawValue: entry.lowercased()) else {
                throw .invalid(key: key, value: text, expected: expected)
            }
            operations.insert(operation)
        }
        return operations
    }
}
