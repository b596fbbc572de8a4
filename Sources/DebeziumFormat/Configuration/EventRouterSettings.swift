/// The Debezium outbox EventRouter transform's settings, with Debezium 3.x's defaults
/// (`io.debezium.transforms.outbox.EventRouter`, keys under `transforms.<alias>.`).
public struct EventRouterSettings: Sendable, Equatable {
    public static let className = "io.debezium.transforms.outbox.EventRouter"

    /// What the transform does with an outbox change that is not an insert (`table.op.invalid.behavior`).
    public enum InvalidOperationBehavior: String, Sendable, CaseIterable {
        /// Log a warning and skip it (Debezium's default).
        case warn
        /// Log an error and skip it.
        case error
        /// Stop the connector.
        case fatal
    }

    /// How an expanded JSON payload treats `null` fields (`table.json.payload.null.behavior`).
    public enum JSONPayloadNullBehavior: String, Sendable, CaseIterable {
        /// Drop null fields (Debezium's default).
        case ignore
        /// Keep them as optional bytes.
        case optionalBytes = "optional_bytes"
    }

    /// One entry of `table.fields.additional.placement`: `column:placement[:alias]`.
    public struct AdditionalField: Sendable, Equatable {
        public enum Placement: String, Sendable, CaseIterable {
            /// A Kafka header named `alias`.
            case header
            /// A field named `alias` of the value envelope.
            case envelope
            /// The Kafka partition number.
            case partition
        }

        public var column: String
        public var placement: Placement
        /// The header or envelope field name; the column name when the entry gives none.
        public var alias: String

        public init(column: String, placement: Placement, alias: String? = nil) {
            self.column = column
            self.placement = placement
            self.alias = alias ?? column
        }
    }

    /// The transform's alias in `transforms` (`outbox` in `transforms=outbox`).
    public var alias: String
    /// `table.field.event.id`: the column with the event id, sent as header `id`.
    public var eventIDColumn = "id"
    /// `table.field.event.key`: the column with the message key.
    public var eventKeyColumn = "aggregateid"
    /// `table.field.event.payload`: the column with the payload.
    public var payloadColumn = "payload"
    /// `table.field.event.timestamp`: the column with the message timestamp; nil uses the change's timestamp.
    public var timestampColumn: String?
    /// `table.field.event.schema.version`: the column with the value schema version; nil for none.
    public var schemaVersionColumn: String?
    /// `table.fields.additional.placement`, in order.
    public var additionalFields: [AdditionalField] = []
    /// `table.fields.additional.error.on.missing`: fail when an additional column is missing.
    public var additionalFieldsErrorOnMissing = true
    /// `route.by.field`: the column whose value names the topic.
    public var routeByField = "aggregatetype"
    /// `route.topic.regex`: a Java regular expression applied to the `route.by.field` value.
    public var routeTopicRegex = "(?<routedByValue>.*)"
    /// `route.topic.replacement`: the topic, with `${routedByValue}` (or other groups of the regex).
    public var routeTopicReplacement = "outbox.event.${routedByValue}"
    /// `route.tombstone.on.empty.payload`: an empty or null payload becomes a tombstone.
    public var tombstoneOnEmptyPayload = false
    /// `table.op.invalid.behavior`.
    public var invalidOperationBehavior = InvalidOperationBehavior.warn
    /// `table.expand.json.payload`: send a JSON string payload as structured JSON.
    public var expandJSONPayload = false
    /// `table.json.payload.null.behavior`.
    public var jsonPayloadNullBehavior = JSONPayloadNullBehavior.ignore
    /// `tracing.span.context.field`: the column with a serialized tracing span context.
    public var tracingSpanContextField = "tracingspancontext"
    /// `tracing.operation.name`.
    public var tracingOperationName = "debezium-read"
    /// `tracing.with.context.field.only`: trace only events that carry a span context.
    public var tracingWithContextFieldOnly = false
    /// Kafka Connect's `transforms.<alias>.predicate`: the predicate that limits the transform; nil for none.
    public var predicate: String?
    /// Kafka Connect's `transforms.<alias>.negate`: apply the transform where the predicate does not match.
    public var negate = false

    public init(alias: String) {
        self.alias = alias
    }

    /// Whether `type` names the EventRouter: its class name or its simple name, which Kafka Connect also
    /// accepts as an alias.
    static func isEventRouter(_ type: String) -> Bool {
        type == className || type == "EventRouter"
    }

    /// Reads the transform `alias`'s keys.
    static func read(alias: String, _ reader: inout SettingsReader) throws(DebeziumConfigError) -> EventRouterSettings {
        let prefix = "transforms.\(alias)."
        var settings = EventRouterSettings(alias: alias)
        reader.consume(prefix + "type")
        settings.eventIDColumn = reader.string(prefix + "table.field.event.id", default: settings.eventIDColumn)
        settings.eventKeyColumn = reader.string(prefix + "table.field.event.key", default: settings.eventKeyColumn)
        settings.payloadColumn = reader.string(prefix + "table.field.event.payload", default: settings.payloadColumn)
        settings.timestampColumn = reader.string(prefix + "table.field.event.timestamp")
        settings.schemaVersionColumn = reader.string(prefix + "table.field.event.schema.version")
        let placementKey = prefix + "table.fields.additional.placement"
        if let placements = reader.string(placementKey) {
            settings.additionalFields = try parseAdditionalFields(placements, key: reader.fileKey(placementKey))
        }
        settings.additionalFieldsErrorOnMissing = try reader.bool(
            prefix + "table.fields.additional.error.on.missing", default: settings.additionalFieldsErrorOnMissing)
        settings.routeByField = reader.string(prefix + "route.by.field", default: settings.routeByField)
        settings.routeTopicRegex = reader.string(prefix + "route.topic.regex", default: settings.routeTopicRegex)
        settings.routeTopicReplacement = reader.string(
            prefix + "route.topic.replacement", default: settings.routeTopicReplacement)
        settings.tombstoneOnEmptyPayload = try reader.bool(
            prefix + "route.tombstone.on.empty.payload", default: settings.tombstoneOnEmptyPayload)
        settings.invalidOperationBehavior = try reader.choice(
            prefix + "table.op.invalid.behavior", default: settings.invalidOperationBehavior)
        settings.expandJSONPayload = try reader.bool(prefix + "table.expand.json.payload", default: settings.expandJSONPayload)
        settings.jsonPayloadNullBehavior = try reader.choice(
            prefix + "table.json.payload.null.behavior", default: settings.jsonPayloadNullBehavior)
        settings.tracingSpanContextField = reader.string(
            prefix + "tracing.span.context.field", default: settings.tracingSpanContextField)
        settings.tracingOperationName = reader.string(prefix + "tracing.operation.name", default: settings.tracingOperationName)
        settings.tracingWithContextFieldOnly = try reader.bool(
            prefix + "tracing.with.context.field.only", default: settings.tracingWithContextFieldOnly)
        settings.predicate = reader.string(prefix + "predicate")
        settings.negate = try reader.bool(prefix + "negate", default: settings.negate)
        return settings
    }

    /// Parses `column:placement[:alias],…` as Debezium does: entries and parts trimmed, placement matched
    /// case-insensitively, exactly two or three non-empty parts per entry.
    static func parseAdditionalFields(_ text: String, key: String) throws(DebeziumConfigError) -> [AdditionalField] {
        var fields: [AdditionalField] = []
        for rawEntry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = rawEntry.trimmingBlanks
            guard !entry.isEmpty else {
                throw .invalidAdditionalPlacement(key: key, entry: entry, reason: "an empty entry (a stray comma)")
            }
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(\.trimmingBlanks)
            guard parts.count == 2 || parts.count == 3 else {
                throw .invalidAdditionalPlacement(key: key, entry: entry, reason: "\(parts.count) colon-separated parts")
            }
            guard parts.allSatisfy({ !$0.isEmpty }) else {
                throw .invalidAdditionalPlacement(key: key, entry: entry, reason: "an empty part")
            }
            guard let placement = AdditionalField.Placement(rawValue: parts[1].lowercased()) else {
                throw .invalidAdditionalPlacement(key: key, entry: entry, reason: "unknown placement \"\(parts[1])\"")
            }
            fields.append(AdditionalField(column: parts[0], placement: placement, alias: parts.count == 3 ? parts[2] : nil))
        }
        return fields
    }
}
