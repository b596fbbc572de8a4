/// The converter classes outbox-cdc can reproduce byte for byte.
public enum ConverterKind: String, Sendable, CaseIterable {
    case string = "org.apache.kafka.connect.storage.StringConverter"
    case json = "org.apache.kafka.connect.json.JsonConverter"
    case byteArray = "org.apache.kafka.connect.converters.ByteArrayConverter"
    case binaryData = "io.debezium.converters.BinaryDataConverter"
    /// A header converter only.
    case simpleHeader = "org.apache.kafka.connect.storage.SimpleHeaderConverter"

    /// The kind a class name denotes: the full class name, or the aliases Kafka Connect also accepts for a
    /// plugin, its simple name (`JsonConverter`) and its simple name without the `Converter` suffix (`Json`).
    public init?(className: String) {
        let name = className.trimmingBlanks
        let match = Self.allCases.first { kind in
            let simpleName = String(kind.rawValue.split(separator: ".").last ?? "")
            let suffix = kind == .simpleHeader ? "HeaderConverter" : "Converter"
            let prunedName = simpleName.hasSuffix(suffix) ? String(simpleName.dropLast(suffix.count)) : simpleName
            return name == kind.rawValue || name == simpleName || name == prunedName
        }
        guard let match else { return nil }
        self = match
    }
}

/// One converter as the connector config sets it: `value.converter=…` and its `value.converter.*` options.
public struct ConverterSetting: Sendable, Equatable {
    public var kind: ConverterKind
    /// The `<slot>.converter.*` options, prefix removed (`schemas.enable`, `converter.encoding`…).
    public var options: OrderedConfig

    public init(kind: ConverterKind, options: OrderedConfig = [:]) {
        self.kind = kind
        self.options = options
    }

    /// For `JsonConverter`, whether it wraps data in a `{"schema":…,"payload":…}` envelope: the
    /// `schemas.enable` option, `true` when not set. Nil for the other kinds, which have no such option.
    public var schemasEnabled: Bool? {
        guard kind == .json else { return nil }
        return options["schemas.enable"].flatMap(SettingsReader.parseBool) ?? true
    }
}

/// The three converters of a connector config. Nil means the config does not set that converter, so the
/// Kafka Connect worker's converter applies; `resolved(withWorkerDefaults:)` fills those in.
public struct ConverterSettings: Sendable, Equatable {
    public var key: ConverterSetting?
    public var value: ConverterSetting?
    public var header: ConverterSetting?

    public init(key: ConverterSetting? = nil, value: ConverterSetting? = nil, header: ConverterSetting? = nil) {
        self.key = key
        self.value = value
        self.header = header
    }

    /// A stock Kafka Connect worker (`connect-distributed.properties` as shipped): JsonConverter with
    /// schemas enabled for keys and values, SimpleHeaderConverter for headers.
    public static let stockWorker = ConverterSettings(
        key: ConverterSetting(kind: .json, options: ["schemas.enable": "true"]),
        value: ConverterSetting(kind: .json, options: ["schemas.enable": "true"]),
        header: ConverterSetting(kind: .simpleHeader)
    )

    /// These settings with each unset converter taken from `workerDefaults`.
    public func resolved(withWorkerDefaults workerDefaults: ConverterSettings = .stockWorker) -> ConverterSettings {
        ConverterSettings(
            key: key ?? workerDefaults.key, value: value ?? workerDefaults.value,
            header: header ?? workerDefaults.header)
    }

    /// Reads `key.converter`, `value.converter`, `header.converter` and their options.
    static func read(_ reader: inout SettingsReader, warnings: inout [String]) throws(DebeziumConfigError) -> ConverterSettings {
        ConverterSettings(
            key: try readSlot("key.converter", headerSlot: false, reader: &reader, warnings: &warnings),
            value: try readSlot("value.converter", headerSlot: false, reader: &reader, warnings: &warnings),
            header: try readSlot("header.converter", headerSlot: true, reader: &reader, warnings: &warnings))
    }

    private static func readSlot(
        _ slot: String, headerSlot: Bool, reader: inout SettingsReader, warnings: inout [String]
    ) throws(DebeziumConfigError) -> ConverterSetting? {
        let options = reader.config.subset(withPrefix: slot + ".")
        for option in options.keys { reader.consume(slot + "." + option) }
        guard let className = reader.string(slot) else {
            if !options.isEmpty {
                // Kafka Connect hands converter options to a converter only when the connector config names
                // the class; otherwise the worker's converter runs with the worker's options.
                warnings.append(
                    "\(options.keys.map { reader.fileKey(slot + "." + $0) }.joined(separator: ", ")) set without"
                        + " \(reader.fileKey(slot)): Kafka Connect ignores converter options unless the connector"
                        + " config names the converter class")
            }
            return nil
        }
        guard let kind = ConverterKind(className: className), headerSlot || kind != .simpleHeader else {
            throw .unsupportedConverter(key: reader.fileKey(slot), value: className)
        }
        let setting = ConverterSetting(kind: kind, options: options)
        if kind == .json, let text = options["schemas.enable"], SettingsReader.parseBool(text) == nil {
            throw .invalid(key: reader.fileKey(slot + ".schemas.enable"), value: text, expected: "true or false")
        }
        return setting
    }
}
