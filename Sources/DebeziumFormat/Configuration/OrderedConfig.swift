/// A flat `key → value` configuration that remembers the order keys first appeared in.
///
/// Order matters to people reading what outbox-cdc understood of their file (warnings list keys in file
/// order), not to lookups. Setting a key that is already present replaces its value but keeps its first
/// position, which is how `java.util.Properties` and Kafka Connect treat a key given twice.
///
/// Values may be secrets (`database.password`, `sasl.jaas.config`): `description`, `debugDescription` and the
/// reflection (`dump`) show `[redacted]` for every key that `SensitiveKeys.isSensitive` matches.
public struct OrderedConfig: Sendable, Equatable {
    /// The keys, in the order they first appeared.
    public private(set) var keys: [String] = []
    /// The values by key.
    public private(set) var values: [String: String] = [:]

    public init() {}

    /// The entries in order; a later duplicate replaces the value of an earlier one in place.
    public init<Entries: Sequence>(_ entries: Entries) where Entries.Element == (String, String) {
        for (key, value) in entries { self[key] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// The value for `key`; assigning `nil` removes the key, assigning a value to a present key keeps its
    /// position.
    public subscript(key: String) -> String? {
        get { values[key] }
        set {
            guard let newValue else {
                if values.removeValue(forKey: key) != nil { keys.removeAll { $0 == key } }
                return
            }
            if values.updateValue(newValue, forKey: key) == nil { keys.append(key) }
        }
    }

    public func contains(_ key: String) -> Bool { values[key] != nil }

    /// The entries in order, as `(key, value)` pairs.
    public var entries: [(key: String, value: String)] {
        keys.compactMap { key in values[key].map { (key: key, value: $0) } }
    }

    /// The entries whose key starts with `prefix`, with the prefix removed, in order. An entry whose key is
    /// exactly `prefix` is left out (its remaining key would be empty).
    public func subset(withPrefix prefix: String) -> OrderedConfig {
        var result = OrderedConfig()
        for key in keys where key.hasPrefix(prefix) && key.count > prefix.count {
            result[String(key.dropFirst(prefix.count))] = values[key]
        }
        return result
    }
}

extension OrderedConfig: Sequence {
    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> {
        entries.makeIterator()
    }
}

extension OrderedConfig: ExpressibleByDictionaryLiteral {
    /// Literal order is kept, so tests can write the expected result in file order.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }
}

extension OrderedConfig: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `[key: value, …]` in order, with sensitive values shown as `[redacted]`.
    public var description: String {
        let parts = entries.map { entry in
            "\(entry.key): \(SensitiveKeys.displayValue(entry.value, forKey: entry.key))"
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    public var debugDescription: String { description }

    /// Reflection shows the redacted entries, so `dump` cannot reach a secret through the storage.
    public var customMirror: Mirror {
        Mirror(
            self,
            unlabeledChildren: entries.map { "\($0.key): \(SensitiveKeys.displayValue($0.value, forKey: $0.key))" },
            displayStyle: .collection
        )
    }
}
