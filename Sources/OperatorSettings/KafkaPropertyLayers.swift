/// The librdkafka properties an operator set, in every layer they can be set in, resolved property by
/// property: one `--kafka-property` flag overrides that property only, never the whole list the
/// environment or the configuration file holds.
///
/// A higher layer wins (flag over environment over configuration file over a Debezium configuration's
/// producer settings). Within one layer a value read from a secret file wins over a plain property of the
/// same name, because naming a secret file is the deliberate choice; within one layer and kind the value set
/// last wins, as with a repeated flag.
public struct KafkaPropertyLayers: Sendable {
    /// Where a property was set, lowest first.
    public enum Layer: Int, Sendable, Comparable, CaseIterable {
        /// The producer settings of a `--debezium-config` file.
        case debeziumConfig
        /// `kafka-property` or `kafka-secret-file` in the YAML configuration file.
        case configFile
        /// `OUTBOX_CDC_KAFKA_PROPERTIES` or `OUTBOX_CDC_KAFKA_SECRET_FILES`.
        case environment
        /// `--kafka-property` or `--kafka-secret-file`.
        case flag

        public static func < (lhs: Layer, rhs: Layer) -> Bool { lhs.rawValue < rhs.rawValue }

        /// The name the start log gives it.
        public var name: String {
            switch self {
            case .debeziumConfig: "debezium config"
            case .configFile: "config file"
            case .environment: "environment"
            case .flag: "flag"
            }
        }
    }

    /// One property's value, with where it came from.
    public struct Setting: Sendable, Hashable {
        public var value: String
        public var layer: Layer
        public var isFromSecretFile: Bool

        /// `secret file` for a value read from one, else its layer's name.
        public var sourceName: String { isFromSecretFile ? "secret file" : layer.name }

        /// Whether `other`, set after this one, replaces it.
        fileprivate func isReplaced(by other: Setting) -> Bool {
            if other.layer != layer { return other.layer > layer }
            return other.isFromSecretFile || !isFromSecretFile
        }
    }

    /// A property as the start log shows it.
    public struct Described: Sendable, Hashable {
        public var property: String
        /// The value, or `[redacted]` for a secret.
        public var shownValue: String
        public var source: String

        public init(property: String, shownValue: String, source: String) {
            self.property = property
            self.shownValue = shownValue
            self.source = source
        }
    }

    public static let redactedValue = "[redacted]"

    /// The winning setting of each property.
    public private(set) var settings: [String: Setting] = [:]

    public init() {}

    /// Sets `property` in `layer`; it takes effect unless a higher layer (or, in this layer, a secret file)
    /// already set it.
    public mutating func set(_ property: String, to value: String, in layer: Layer, fromSecretFile: Bool = false) {
        let setting = Setting(value: value, layer: layer, isFromSecretFile: fromSecretFile)
        if let current = settings[property], !current.isReplaced(by: setting) { return }
        settings[property] = setting
    }

    /// Sets each of `properties` in `layer`, in order.
    public mutating func set(_ properties: [(name: String, value: String)], in layer: Layer, fromSecretFile: Bool = false) {
        for (name, value) in properties {
            set(name, to: value, in: layer, fromSecretFile: fromSecretFile)
        }
    }

    /// Every setting of `other` applied over these, each by the same rule.
    public mutating func apply(_ other: KafkaPropertyLayers) {
        for (property, setting) in other.settings {
            set(property, to: setting.value, in: setting.layer, fromSecretFile: setting.isFromSecretFile)
        }
    }

    /// The resolved properties, for librdkafka.
    public var properties: [String: String] {
        settings.mapValues(\.value)
    }

    /// Each property by name, with its source; the value is redacted when it came from a secret file or
    /// `isSensitive` says its name holds a secret.
    public func described(isSensitive: (String) -> Bool) -> [Described] {
        settings.sorted { $0.key < $1.key }.map { property, setting in
            let secret = setting.isFromSecretFile || isSensitive(property)
            return Described(property: property, shownValue: secret ? Self.redactedValue : setting.value, source: setting.sourceName)
        }
    }
}
