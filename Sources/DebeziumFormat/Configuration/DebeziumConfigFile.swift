/// A Debezium deployment's configuration file, normalised to what Kafka Connect hands the connector: one
/// flat, ordered connector config, plus the Kafka producer settings and the Debezium Server output format.
///
/// Three forms are read:
/// - **Kafka Connect REST JSON**: `{"name": "…", "config": {…}}` (the body of `POST /connectors`, or the
///   answer of `GET /connectors/<name>`), or a bare config object with `connector.class` (the body of
///   `PUT /connectors/<name>/config`). Numbers and booleans become strings as Kafka Connect makes them.
/// - **Kafka Connect connector `.properties`** (standalone mode): plain connector keys.
/// - **Debezium Server `application.properties`**: `debezium.source.X` becomes `X`; `debezium.transforms*`
///   and `debezium.predicates*` become `transforms*` and `predicates*`; `debezium.sink.kafka.producer.X`
///   becomes producer property `X`; `debezium.format.*` is kept as `serverFormat`; Quarkus expressions are
///   expanded (`QuarkusExpressions`). Only the Kafka sink is accepted.
///
/// In the Kafka Connect forms, `producer.override.X` becomes producer property `X`; every other key,
/// converter keys included, stays in `connector`.
public struct DebeziumConfigFile: Sendable, Equatable {
    public enum Form: String, Sendable, Equatable, CustomStringConvertible {
        case kafkaConnectJSON
        case kafkaConnectProperties
        case debeziumServer

        public var description: String {
            switch self {
            case .kafkaConnectJSON: return "Kafka Connect REST JSON"
            case .kafkaConnectProperties: return "Kafka Connect connector properties"
            case .debeziumServer: return "Debezium Server application.properties"
            }
        }
    }

    public var form: Form
    /// The connector's name: the JSON `name` (or `config.name`), the properties `name`, or Debezium Server's
    /// `debezium.source.name`; nil when the file gives none.
    public var name: String?
    /// The connector config, flat, in file order, with the keys Kafka Connect would hand the connector.
    public var connector: OrderedConfig
    /// Kafka Java producer properties, prefix (`producer.override.`, `debezium.sink.kafka.producer.`) removed.
    public var producer: OrderedConfig
    /// Debezium Server's `debezium.format.*` settings; nil for the Kafka Connect forms.
    public var serverFormat: ServerFormat?
    /// Warnings produced while normalising (ignored profile keys, unread Debezium Server keys, unresolved
    /// config provider references), one line each, for the caller to log. Never contains a value.
    public var notes: [String]

    public init(
        form: Form, name: String? = nil, connector: OrderedConfig = [:], producer: OrderedConfig = [:],
        serverFormat: ServerFormat? = nil, notes: [String] = []
    ) {
        self.form = form
        self.name = name
        self.connector = connector
        self.producer = producer
        self.serverFormat = serverFormat
        self.notes = notes
    }

    /// The Kafka bootstrap servers, from the producer's `bootstrap.servers`; nil when the file does not set
    /// them (a Kafka Connect connector config usually leaves them to the worker).
    public var brokers: String? { producer["bootstrap.servers"] }

    /// `key` of `connector` as the user wrote it in the file, for messages: `debezium.source.X` or
    /// `debezium.transforms.X` for Debezium Server, `key` itself otherwise.
    public func fileKey(forConnectorKey key: String) -> String {
        guard form == .debeziumServer else { return key }
        if key == "transforms" || key.hasPrefix("transforms.") || key == "predicates" || key.hasPrefix("predicates.") {
            return DebeziumServerKeys.root + key
        }
        return DebeziumServerKeys.source + key
    }

    /// `key` of `producer` as the user wrote it in the file, for messages.
    public func fileKey(forProducerKey key: String) -> String {
        switch form {
        case .debeziumServer: return DebeziumServerKeys.kafkaProducer + key
        case .kafkaConnectJSON, .kafkaConnectProperties: return KafkaConnectKeys.producerOverride + key
        }
    }

    /// Reads `text`, the contents of a configuration file, in whichever of the three forms it is.
    ///
    /// Detection: text whose first non-blank character is `{` is JSON; properties with a key under
    /// `debezium.source.` or `debezium.sink.` are Debezium Server; properties with `connector.class` are a
    /// Kafka Connect connector. `environment` serves Debezium Server's `${NAME}` expressions; the caller
    /// passes the process environment (or none, to allow only the file's own keys and defaults).
    public static func parse(
        _ text: String, environment: [String: String] = [:]
    ) throws(DebeziumConfigError) -> DebeziumConfigFile {
        // A UTF-8 byte order mark is not part of the first key or of the JSON.
        let content = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
        let firstScalar = content.unicodeScalars.first { !($0.properties.isWhitespace) }
        if firstScalar == "{" {
            return try parseKafkaConnectJSON(content)
        }
        let properties = try JavaProperties.parse(content).entries
        if properties.keys.contains(where: DebeziumServerKeys.marksServerFile) {
            return try DebeziumServerKeys.normalise(properties, environment: environment)
        }
        guard properties.contains("connector.class") else {
            throw .unrecognizedForm(attempts: [
                "Kafka Connect REST JSON (the text does not start with '{')",
                "Debezium Server application.properties (no debezium.source.* or debezium.sink.* key)",
                "Kafka Connect connector properties (no connector.class key)"
                    + (properties.isEmpty ? "; the file defines no key at all" : ""),
            ])
        }
        var file = KafkaConnectKeys.split(properties, form: .kafkaConnectProperties)
        file.name = properties["name"]
        return file
    }

    private static func parseKafkaConnectJSON(_ text: String) throws(DebeziumConfigError) -> DebeziumConfigFile {
        guard case .object(let members) = try JSONReader.parse(text) else {
            // Unreachable: text starting with `{` parses as an object or fails. Kept total for safety.
            throw .unrecognizedForm(attempts: ["Kafka Connect REST JSON (the text is not a JSON object)"])
        }
        if let configMember = members.last(where: { $0.name == "config" }) {
            guard case .object(let configMembers) = configMember.value else {
                throw .unrecognizedForm(attempts: [
                    "Kafka Connect REST JSON (\"config\" is \(configMember.value.kindDescription), not an object)"
                ])
            }
            let config = try scalarConfig(configMembers)
            var topLevelName: String?
            var notes: [String] = []
            for member in members where member.name != "config" {
                switch member.name {
                case "name": topLevelName = try scalarText(member.value, key: "name")
                // The rest of a `GET /connectors/<name>` answer: nothing for the connector.
                case "tasks", "type": break
                default: notes.append("ignored top-level JSON member \"\(member.name)\": only \"name\" and \"config\" are read")
                }
            }
            if let topLevelName, let configName = config["name"], configName != topLevelName {
                throw .connectorNameMismatch(name: topLevelName, configName: configName)
            }
            var file = KafkaConnectKeys.split(config, form: .kafkaConnectJSON)
            file.name = topLevelName ?? config["name"]
            file.notes = notes + file.notes
            return file
        }
        guard members.contains(where: { $0.name == "connector.class" }) else {
            throw .unrecognizedForm(attempts: [
                "Kafka Connect REST JSON (the object has no \"config\" object)",
                "Kafka Connect connector config JSON, as for PUT /connectors/<name>/config (no \"connector.class\" key)",
            ])
        }
        let config = try scalarConfig(members)
        var file = KafkaConnectKeys.split(config, form: .kafkaConnectJSON)
        file.name = config["name"]
        return file
    }

    private static func scalarConfig(_ members: [(name: String, value: JSONValue)]) throws(DebeziumConfigError) -> OrderedConfig {
        var config = OrderedConfig()
        for member in members {
            config[member.name] = try scalarText(member.value, key: member.name)
        }
        return config
    }

    /// The string Kafka Connect makes of a JSON config value: a string as is, a number as written, a boolean
    /// as `true`/`false`.
    private static func scalarText(_ value: JSONValue, key: String) throws(DebeziumConfigError) -> String {
        switch value {
        case .string(let text), .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null, .array, .object: throw .jsonValueNotScalar(key: key, found: value.kindDescription)
        }
    }
}

/// Debezium Server's `debezium.format.*` settings: the serialisation of keys, values and headers.
public struct ServerFormat: Sendable, Equatable {
    /// Debezium Server's format when `debezium.format.key`, `.value` or `.header` is not set.
    public static let defaultFormat = "json"

    /// `debezium.format.key` (`json`, `jsonbytearray`, `avro`, `protobuf`, `cloudevents`, `simplestring`,
    /// `binary`…), as written; nil when not set.
    public var key: String?
    /// `debezium.format.value`, as written; nil when not set.
    public var value: String?
    /// `debezium.format.header`, as written; nil when not set.
    public var header: String?
    /// `debezium.format.key.*`, prefix removed (`schemas.enable`…).
    public var keyOptions: OrderedConfig
    /// `debezium.format.value.*`, prefix removed.
    public var valueOptions: OrderedConfig
    /// `debezium.format.header.*`, prefix removed.
    public var headerOptions: OrderedConfig

    public init(
        key: String? = nil, value: String? = nil, header: String? = nil, keyOptions: OrderedConfig = [:],
        valueOptions: OrderedConfig = [:], headerOptions: OrderedConfig = [:]
    ) {
        self.key = key
        self.value = value
        self.header = header
        self.keyOptions = keyOptions
        self.valueOptions = valueOptions
        self.headerOptions = headerOptions
    }
}

/// The Kafka Connect forms: every key is a connector key except the per-connector producer overrides.
enum KafkaConnectKeys {
    static let producerOverride = "producer.override."

    static func split(_ config: OrderedConfig, form: DebeziumConfigFile.Form) -> DebeziumConfigFile {
        var file = DebeziumConfigFile(form: form)
        var providerKeys: [String] = []
        for (key, value) in config {
            if key.hasPrefix(producerOverride) && key.count > producerOverride.count {
                file.producer[String(key.dropFirst(producerOverride.count))] = value
            } else {
                file.connector[key] = value
            }
            if containsConfigProviderReference(value) { providerKeys.append(key) }
        }
        if !providerKeys.isEmpty {
            file.notes.append(
                "config provider references (${provider:path:key}) are not resolved by outbox-cdc and are used"
                    + " literally: " + providerKeys.joined(separator: ", "))
        }
        return file
    }

    /// Whether `value` holds a Kafka config provider reference, `${provider:[path:]key}`. The EventRouter's
    /// own `${routedByValue}` has no colon, so it does not count.
    static func containsConfigProviderReference(_ value: String) -> Bool {
        var rest = Substring(value)
        while let start = rest.firstRange(of: "${") {
            let after = rest[start.upperBound...]
            guard let close = after.firstIndex(of: "}") else { return false }
            if after[..<close].contains(":") { return true }
            rest = after[after.index(after: close)...]
        }
        return false
    }
}

/// The Debezium Server form: which keys it has and how they map to a connector config.
enum DebeziumServerKeys {
    static let root = "debezium."
    static let source = "debezium.source."
    static let sink = "debezium.sink."
    static let sinkType = "debezium.sink.type"
    static let kafkaSink = "debezium.sink.kafka."
    static let kafkaProducer = "debezium.sink.kafka.producer."
    static let format = "debezium.format."
    static let transforms = "debezium.transforms"
    static let predicates = "debezium.predicates"

    /// Whether `key` (or its unprofiled form, for `%dev.debezium.source.…`) marks a Debezium Server file.
    static func marksServerFile(_ key: String) -> Bool {
        let unprofiled = profileAndKey(key)?.key ?? key
        return unprofiled.hasPrefix(source) || unprofiled.hasPrefix(sink)
    }

    /// `%profile.key` split into its profile and key; nil when `key` has no profile prefix.
    static func profileAndKey(_ key: String) -> (profile: String, key: String)? {
        guard key.hasPrefix("%"), let dot = key.firstIndex(of: ".") else { return nil }
        return (String(key[key.index(after: key.startIndex)..<dot]), String(key[key.index(after: dot)...]))
    }

    static func normalise(
        _ properties: OrderedConfig, environment: [String: String]
    ) throws(DebeziumConfigError) -> DebeziumConfigFile {
        var file = DebeziumConfigFile(form: .debeziumServer)
        var format = ServerFormat()
        var generalOptions = OrderedConfig()
        var unprofiled = OrderedConfig()
        for (key, value) in properties {
            if let (profile, profiledKey) = profileAndKey(key) {
                var note = "ignored \(key): Quarkus profile keys are not applied"
                if profile == "prod" {
                    note += " (Debezium Server runs the prod profile by default, so write it as \(profiledKey))"
                }
                file.notes.append(note)
            } else {
                unprofiled[key] = value
            }
        }
        let expressions = QuarkusExpressions(properties: unprofiled, environment: environment)
        var sinkTypeValue: String?
        for (key, rawValue) in unprofiled where key.hasPrefix(root) {
            // MicroProfile Config treats an empty value as not set.
            guard !rawValue.isEmpty else { continue }
            if key == sinkType {
                sinkTypeValue = try expressions.expand(rawValue, key: key).trimmingBlanks
                continue
            }
            guard let destination = destination(of: key) else {
                if key.hasPrefix(sink) && !key.hasPrefix(kafkaSink) { continue }
                file.notes.append("ignored \(key): not a setting outbox-cdc reads")
                continue
            }
            let value = try expressions.expand(rawValue, key: key)
            switch destination {
            case .connector(let connectorKey): file.connector[connectorKey] = value
            case .producer(let producerKey): file.producer[producerKey] = value
            case .format(let part): format[part] = value
            case .formatOption(let part, let option): format[part, option] = value
            case .formatOptionForAll(let option): generalOptions[option] = value
            }
        }
        // Debezium Server copies `debezium.format.X` to each converter that does not set X itself.
        for (option, value) in generalOptions {
            for part in ServerFormat.Part.allCases where format[part, option] == nil { format[part, option] = value }
        }
        guard sinkTypeValue == "kafka" else {
            throw .unsupportedSink(key: sinkType, value: sinkTypeValue)
        }
        file.name = file.connector["name"]
        file.serverFormat = format
        return file
    }

    enum Destination {
        case connector(String)
        case producer(String)
        case format(ServerFormat.Part)
        case formatOption(ServerFormat.Part, String)
        /// `debezium.format.X` for no part: every part's `X` unless that part sets it itself.
        case formatOptionForAll(String)
    }

    /// Where a `debezium.*` key goes; nil for one outbox-cdc does not read.
    static func destination(of key: String) -> Destination? {
        if key.hasPrefix(source) && key.count > source.count {
            return .connector(String(key.dropFirst(source.count)))
        }
        for prefix in [transforms, predicates] where key == prefix || key.hasPrefix(prefix + ".") {
            return .connector(String(key.dropFirst(root.count)))
        }
        if key.hasPrefix(kafkaProducer) && key.count > kafkaProducer.count {
            return .producer(String(key.dropFirst(kafkaProducer.count)))
        }
        guard key.hasPrefix(format) else { return nil }
        let rest = key.dropFirst(format.count)
        for part in ServerFormat.Part.allCases {
            if rest == part.rawValue { return .format(part) }
            let optionPrefix = part.rawValue + "."
            if rest.hasPrefix(optionPrefix) && rest.count > optionPrefix.count {
                return .formatOption(part, String(rest.dropFirst(optionPrefix.count)))
            }
        }
        return rest.isEmpty ? nil : .formatOptionForAll(String(rest))
    }
}

extension ServerFormat {
    /// The three things Debezium Server serialises.
    enum Part: String, CaseIterable {
        case key, value, header
    }

    subscript(part: Part) -> String? {
        get {
            switch part {
            case .key: return key
            case .value: return value
            case .header: return header
            }
        }
        set {
            switch part {
            case .key: key = newValue
            case .value: value = newValue
            case .header: header = newValue
            }
        }
    }

    subscript(part: Part, option: String) -> String? {
        get {
            switch part {
            case .key: return keyOptions[option]
            case .value: return valueOptions[option]
            case .header: return headerOptions[option]
            }
        }
        set {
            switch part {
            case .key: keyOptions[option] = newValue
            case .value: valueOptions[option] = newValue
            case .header: headerOptions[option] = newValue
            }
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing control characters and spaces (U+0000 to U+0020), as Java's
    /// `String.trim`, which Kafka's `ConfigDef` and Debezium apply to values, removes them.
    var trimmingBlanks: String {
        let isBlank: (Character) -> Bool = { $0.unicodeScalars.allSatisfy { $0.value <= 0x20 } }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
