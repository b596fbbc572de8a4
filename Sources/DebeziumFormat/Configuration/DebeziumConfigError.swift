/// Why a Debezium configuration file cannot be used. Each description is one line that names the key (or the
/// line) to fix, spelled as in the user's file.
///
/// No case ever carries the value of a sensitive key (`SensitiveKeys.isSensitive`): where a value is part of
/// the error, it is replaced by `[redacted]` when the error is made, and again when it is described.
public enum DebeziumConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    // MARK: Syntax

    /// A `\u` escape in a `.properties` file is not followed by four hex digits (`java.util.Properties`
    /// rejects the whole file for this). `line` is the 1-based line where the logical line starts.
    case malformedUnicodeEscape(line: Int)
    /// The text starts with `{` but is not valid JSON. `line` and `column` are 1-based.
    case invalidJSON(line: Int, column: Int, reason: String)
    /// A connector config value in JSON is `null`, an object or an array; Kafka Connect only takes strings,
    /// numbers and booleans. `found` says which.
    case jsonValueNotScalar(key: String, found: String)
    /// The REST body's `name` and its `config.name` differ; Kafka Connect rejects such a request.
    case connectorNameMismatch(name: String, configName: String)
    /// The text is none of the three supported forms; each attempt says why it did not match.
    case unrecognizedForm(attempts: [String])

    // MARK: Debezium Server

    /// `debezium.sink.type` is missing (`value` nil) or not `kafka`.
    case unsupportedSink(key: String, value: String?)
    /// A Quarkus expression `${name}` names no key of the file, no environment variable, and has no default.
    case unresolvedExpression(key: String, expression: String)
    /// A Quarkus expression is unterminated, empty, or refers back to itself.
    case malformedExpression(key: String, reason: String)

    // MARK: Connector settings

    /// A key Debezium requires is absent. `hint` says what to put there.
    case missingRequired(key: String, hint: String)
    /// A value cannot be read as what the key takes (an integer, a boolean, one of a set of words).
    case invalidValue(key: String, value: String, expected: String)
    /// `connector.class` is not Debezium's PostgreSQL connector.
    case unsupportedConnectorClass(key: String, value: String)
    /// `plugin.name` is absent (`value` nil: Debezium then uses decoderbufs) or not `pgoutput`.
    case unsupportedPlugin(key: String, value: String?)
    /// `snapshot.mode` is one that outbox-cdc does not honour.
    case unsupportedSnapshotMode(key: String, value: String)
    /// A `key.converter`, `value.converter` or `header.converter` class outbox-cdc cannot reproduce.
    case unsupportedConverter(key: String, value: String)
    /// More than one transform is an EventRouter; `names` are their aliases.
    case multipleEventRouters(key: String, names: [String])
    /// Transforms besides one EventRouter, or besides one ExtractNewRecordState; each entry is `alias (type)`.
    case unsupportedTransforms(key: String, transforms: [String])
    /// An entry of `table.fields.additional.placement` is not `column:placement[:alias]`.
    case invalidAdditionalPlacement(key: String, entry: String, reason: String)

    // MARK: Kafka producer

    /// A Java producer setting has no librdkafka equivalent that keeps its meaning. `reason` says what to use
    /// instead; it never quotes the value.
    case unsupportedProducerSetting(key: String, reason: String)

    /// An `invalidValue` error whose value is replaced by `[redacted]` when `key` is sensitive, so the secret
    /// never enters the error at all.
    static func invalid(key: String, value: String, expected: String) -> DebeziumConfigError {
        .invalidValue(key: key, value: SensitiveKeys.displayValue(value, forKey: key), expected: expected)
    }

    /// The key the error is about, spelled as in the user's file, when there is one.
    public var key: String? {
        switch self {
        case .malformedUnicodeEscape, .invalidJSON, .unrecognizedForm:
            return nil
        case .connectorNameMismatch:
            return "name"
        case .jsonValueNotScalar(let key, _), .unsupportedSink(let key, _), .unresolvedExpression(let key, _),
            .malformedExpression(let key, _), .missingRequired(let key, _), .invalidValue(let key, _, _),
            .unsupportedConnectorClass(let key, _), .unsupportedPlugin(let key, _),
            .unsupportedSnapshotMode(let key, _), .unsupportedConverter(let key, _),
            .multipleEventRouters(let key, _), .unsupportedTransforms(let key, _),
            .invalidAdditionalPlacement(let key, _, _), .unsupportedProducerSetting(let key, _):
            return key
        }
    }

    public var description: String {
        switch self {
        case .malformedUnicodeEscape(let line):
            return "line \(line): malformed \\uXXXX escape (a \\u must be followed by four hex digits;"
                + " write \\\\u for a literal backslash-u)"
        case .invalidJSON(let line, let column, let reason):
            return "invalid JSON at line \(line), column \(column): \(reason)"
        case .jsonValueNotScalar(let key, let found):
            return "\(key) is \(found); Kafka Connect takes only strings, numbers and booleans as config values"
        case .connectorNameMismatch(let name, let configName):
            return "the connector is named \"\(name)\" but config.name is \"\(configName)\";"
                + " Kafka Connect rejects this: make them equal or drop config.name"
        case .unrecognizedForm(let attempts):
            return "not a Debezium configuration file: tried " + attempts.joined(separator: "; ")
        case .unsupportedSink(let key, let value):
            guard let value else {
                return "\(key) is not set; outbox-cdc replaces a Debezium Server with the Kafka sink: set \(key)=kafka"
            }
            return "\(key) is \"\(value)\"; outbox-cdc replaces a Debezium Server with the Kafka sink only"
                + " (\(key)=kafka)"
        case .unresolvedExpression(let key, let expression):
            return "\(key): \(expression) names no key of the file and no environment variable, and has no"
                + " default (\(expression.dropLast()):default}); for a literal \(expression) write $\(expression)"
        case .malformedExpression(let key, let reason):
            return "\(key): \(reason)"
        case .missingRequired(let key, let hint):
            return "\(key) is required: \(hint)"
        case .invalidValue(let key, let value, let expected):
            if SensitiveKeys.isSensitive(key) {
                return "invalid value for \(key) (not shown: the key is sensitive); expected \(expected)"
            }
            return "invalid value \"\(value)\" for \(key); expected \(expected)"
        case .unsupportedConnectorClass(let key, let value):
            return "\(key) is \"\(value)\"; outbox-cdc replaces io.debezium.connector.postgresql.PostgresConnector only"
        case .unsupportedPlugin(let key, let value):
            guard let value else {
                return "\(key) is not set, and Debezium's default is decoderbufs; outbox-cdc reads pgoutput only:"
                    + " the file must set \(key)=pgoutput (the connector it replaces must have used pgoutput too)"
            }
            return "\(key) is \"\(value)\"; outbox-cdc reads pgoutput only: set \(key)=pgoutput"
        case .unsupportedSnapshotMode(let key, let value):
            return "\(key) is \"\(value)\"; outbox-cdc honours only no_data (or never, its name before Debezium 3.0),"
                + " initial, when_needed and initial_only"
        case .unsupportedConverter(let key, let value):
            return "\(key) is \"\(value)\"; outbox-cdc reproduces only StringConverter, JsonConverter,"
                + " ByteArrayConverter, BinaryDataConverter and (for headers) SimpleHeaderConverter"
        case .multipleEventRouters(let key, let names):
            return "\(key) lists more than one EventRouter transform (\(names.joined(separator: ", ")));"
                + " outbox-cdc routes one outbox"
        case .unsupportedTransforms(let key, let transforms):
            return "\(key) lists transforms outbox-cdc does not run (it runs one EventRouter, or one ExtractNewRecordState"
                + " or none for Debezium's change events): " + transforms.joined(separator: ", ")
        case .invalidAdditionalPlacement(let key, let entry, let reason):
            return "invalid entry \"\(entry)\" in \(key): \(reason); expected column:placement[:alias] with"
                + " placement header, envelope or partition"
        case .unsupportedProducerSetting(let key, let reason):
            return "\(key): \(reason)"
        }
    }
}
