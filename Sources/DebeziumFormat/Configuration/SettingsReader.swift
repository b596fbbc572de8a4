/// Reads typed values out of a connector config, remembering which keys were read so that the rest can be
/// reported as unknown, and naming keys in errors as the user's file spells them.
///
/// Parsing follows Kafka's `ConfigDef` and Debezium's `Configuration`: values are trimmed (Java's
/// `String.trim`), booleans are `true`/`false` in any case, integers are decimal with an optional sign, and
/// enumerated values match case-insensitively.
struct SettingsReader {
    let config: OrderedConfig
    /// How the user's file spells a connector key.
    let fileKey: (String) -> String
    private(set) var consumed: Set<String> = []

    init(config: OrderedConfig, fileKey: @escaping (String) -> String) {
        self.config = config
        self.fileKey = fileKey
    }

    /// Marks `key` as read without reading it (known keys whose value is taken elsewhere or not at all).
    mutating func consume(_ key: String) {
        consumed.insert(key)
    }

    /// The value exactly as written, or nil when absent.
    mutating func raw(_ key: String) -> String? {
        consumed.insert(key)
        return config[key]
    }

    /// The trimmed value, or nil when absent or blank.
    mutating func string(_ key: String) -> String? {
        guard let value = raw(key)?.trimmingBlanks, !value.isEmpty else { return nil }
        return value
    }

    mutating func string(_ key: String, default defaultValue: String) -> String {
        string(key) ?? defaultValue
    }

    /// The trimmed value; absent or blank is an error that says what to put there.
    mutating func required(_ key: String, hint: String) throws(DebeziumConfigError) -> String {
        guard let value = string(key) else { throw .missingRequired(key: fileKey(key), hint: hint) }
        return value
    }

    mutating func bool(_ key: String, default defaultValue: Bool) throws(DebeziumConfigError) -> Bool {
        guard let text = string(key) else { return defaultValue }
        guard let value = Self.parseBool(text) else {
            throw .invalid(key: fileKey(key), value: text, expected: "true or false")
        }
        return value
    }

    mutating func integer(
        _ key: String, default defaultValue: Int, range: ClosedRange<Int>, expected: String
    ) throws(DebeziumConfigError) -> Int {
        guard let text = string(key) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw .invalid(key: fileKey(key), value: text, expected: expected)
        }
        return value
    }

    /// A value that must be one of `Choice`'s raw values, compared case-insensitively.
    mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ key: String, default defaultValue: Choice
    ) throws(DebeziumConfigError) -> Choice where Choice.RawValue == String {
        guard let text = string(key) else { return defaultValue }
        guard let value = Choice.allCases.first(where: { $0.rawValue == text.lowercased() }) else {
            throw .invalid(
                key: fileKey(key), value: text,
                expected: "one of " + Choice.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return value
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text.trimmingBlanks.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }
}

extension StringProtocol {
    /// The comma-separated entries, trimmed, blanks dropped (how Kafka and Debezium read a list value).
    var commaSeparatedEntries: [String] {
        split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingBlanks).filter { !$0.isEmpty }
    }
}
