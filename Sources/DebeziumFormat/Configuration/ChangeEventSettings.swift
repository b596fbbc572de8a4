/// The settings of a Debezium PostgreSQL connector that publishes its change events (no EventRouter in
/// `transforms`, or ExtractNewRecordState), validated: what decides the change records' topics, keys, values
/// and headers. Settings whose records outbox-cdc does not reproduce are refused by key, never ignored:
/// another transform, a transform option not reproduced, `message.key.columns`, column filters, a topic
/// naming strategy other than the default, binary or interval modes other than the defaults.
public struct ChangeEventSettings: Sendable, Equatable {
    // `skipped.operations` and the heartbeat keys are `ReplicationSettings`': they apply whatever the records.
    public var topicDelimiter = "."
    public var tombstonesOnDelete = true
    public var valueModes = ColumnValueModes()
    /// ExtractNewRecordState, when `transforms` lists it.
    public var extractNewRecordState: ExtractNewRecordState?
    /// Settings that are valid but do nothing, one line each, for the caller to log.
    public var warnings: [String] = []

    public static let extractNewRecordStateClass = "io.debezium.transforms.ExtractNewRecordState"
    static let defaultNamingStrategies: Set<String> = [
        "io.debezium.schema.DefaultTopicNamingStrategy", "io.debezium.schema.SchemaTopicNamingStrategy",
    ]

    public init() {}

    /// Reads a flat connector config (`fileKey` says how the user's file spells a key, for messages).
    public init(connector: OrderedConfig, fileKey: @escaping (String) -> String = { $0 }) throws(DebeziumConfigError) {
        var reader = SettingsReader(config: connector, fileKey: fileKey)
        try self.init(reading: &reader)
    }

    init(reading reader: inout SettingsReader) throws(DebeziumConfigError) {
        topicDelimiter = reader.string("topic.delimiter", default: topicDelimiter)
        if let strategy = reader.string("topic.naming.strategy"), !Self.defaultNamingStrategies.contains(strategy) {
            throw .invalid(key: reader.fileKey("topic.naming.strategy"), value: strategy,
                           expected: "io.debezium.schema.DefaultTopicNamingStrategy (outbox-cdc names topics <topic.prefix>.<schema>.<table>)")
        }
        tombstonesOnDelete = try reader.bool("tombstones.on.delete", default: tombstonesOnDelete)
        valueModes.decimal = try reader.choice("decimal.handling.mode", default: valueModes.decimal)
        valueModes.time = try reader.choice("time.precision.mode", default: valueModes.time)
        for (key, only) in [("binary.handling.mode", "bytes"), ("interval.handling.mode", "numeric")] {
            if let value = reader.string(key), value.lowercased() != only {
                throw .invalid(key: reader.fileKey(key), value: value, expected: "\(only) (the only mode whose records outbox-cdc reproduces)")
            }
        }
        for key in ["message.key.columns", "column.include.list", "column.exclude.list", "column.mask.hash", "column.truncate.to"] {
            if let value = reader.string(key), !value.isEmpty {
                throw .invalid(key: reader.fileKey(key), value: value, expected: "unset: outbox-cdc keys records by the primary key and publishes every column")
            }
        }
        extractNewRecordState = try Self.readTransforms(&reader, warnings: &warnings)
    }

    /// At most one transform, ExtractNewRecordState; its keys read, the ones not reproduced refused by name.
    private static func readTransforms(_ reader: inout SettingsReader, warnings: inout [String]) throws(DebeziumConfigError) -> ExtractNewRecordState? {
        let transformsKey = reader.fileKey("transforms")
        let aliases = (reader.string("transforms") ?? "").commaSeparatedEntries
        guard !aliases.isEmpty else { return nil }
        var others: [String] = []
        var unwrap: String?
        for alias in aliases {
            let typeKey = "transforms.\(alias).type"
            guard let type = reader.string(typeKey) else {
                throw .missingRequired(key: reader.fileKey(typeKey), hint: "the class of transform \(alias)")
            }
            if type == extractNewRecordStateClass, unwrap == nil {
                unwrap = alias
            } else {
                others.append("\(alias) (\(type))")
            }
        }
        guard others.isEmpty, let alias = unwrap else {
            throw .unsupportedTransforms(key: transformsKey, transforms: others)
        }
        let prefix = "transforms.\(alias)."
        var transform = ExtractNewRecordState()
        if let mode = reader.string(prefix + "delete.tombstone.handling.mode") {
            guard let handling = ExtractNewRecordState.DeleteHandling(rawValue: mode.lowercased()) else {
                throw .invalid(key: reader.fileKey(prefix + "delete.tombstone.handling.mode"), value: mode,
                               expected: "drop, tombstone, rewrite, rewrite-with-tombstone or delete-to-tombstone")
            }
            transform.deleteHandling = handling
        }
        // The keys before delete.tombstone.handling.mode: Debezium 3.6.3 reads and ignores them (golden
        // unwrap-legacy-drop, -rewrite, -none-keep: a delete is the default's null-valued record whatever they say).
        let ignored = ["delete.handling.mode", "drop.tombstones"].filter { reader.string(prefix + $0) != nil }
        if !ignored.isEmpty {
            warnings.append("\(ignored.map { reader.fileKey(prefix + $0) }.joined(separator: ", ")): Debezium 3.6.3 ignores these older ExtractNewRecordState keys, and so does outbox-cdc; delete.tombstone.handling.mode decides what becomes of deletes")
        }
        if let fields = reader.string(prefix + "add.fields") {
            transform.addedFields = fields.commaSeparatedEntries.map(ExtractNewRecordState.AddedField.init)
        }
        transform.addedFieldsPrefix = reader.string(prefix + "add.fields.prefix", default: transform.addedFieldsPrefix)
        if let headers = reader.string(prefix + "add.headers") {
            transform.addedHeaders = headers.commaSeparatedEntries.map(ExtractNewRecordState.AddedField.init)
        }
        transform.addedHeadersPrefix = reader.string(prefix + "add.headers.prefix", default: transform.addedHeadersPrefix)
        transform.routeByField = reader.string(prefix + "route.by.field").flatMap { $0.isEmpty ? nil : $0 }
        // Any other key of the transform changes its records in a way not reproduced here.
        let read: Set<String> = [
            "type", "delete.tombstone.handling.mode", "delete.handling.mode", "drop.tombstones", "add.fields", "add.fields.prefix",
            "add.headers", "add.headers.prefix", "route.by.field",
        ]
        for key in reader.config.keys where key.hasPrefix(prefix) && !read.contains(String(key.dropFirst(prefix.count))) {
            throw .invalid(key: reader.fileKey(key), value: reader.raw(key) ?? "", expected: "unset: outbox-cdc does not reproduce this ExtractNewRecordState option")
        }
        return transform
    }
}
