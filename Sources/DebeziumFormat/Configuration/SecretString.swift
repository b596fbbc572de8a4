/// Decides which configuration keys hold secrets, so that no error, warning or description prints them.
public enum SensitiveKeys {
    /// Name fragments that mark a key as secret. `password` covers `database.password`,
    /// `database.sslpassword`, `ssl.key.password`, `ssl.keystore.password` and `sasl.password`; `jaas` covers
    /// `sasl.jaas.config`, whose value embeds a password; the others cover OAuth client secrets, tokens and
    /// inline PEM private keys.
    static let secretFragments = [
        "password", "secret", "jaas", "token", "credential", "sasl.oauthbearer.config", "ssl.key.pem",
        "ssl.keystore.key",
    ]

    /// Whether the value of `key` must never be shown. Matching is by fragment and case-insensitive, so any
    /// prefix (`debezium.source.`, `producer.override.`) or spelling still counts.
    public static func isSensitive(_ key: String) -> Bool {
        let name = key.lowercased()
        return secretFragments.contains { name.contains($0) }
    }

    /// `value`, or `[redacted]` when `key` is sensitive.
    public static func displayValue(_ value: String, forKey key: String) -> String {
        isSensitive(key) ? SecretString.redactedText : value
    }
}

/// A secret (a password) that prints as `[redacted]` everywhere: in `description`, in string interpolation,
/// in `dump` and in the reflection of any type that contains it. Read `value` only to hand it to the library
/// that needs it.
public struct SecretString: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    static let redactedText = "[redacted]"

    /// The secret itself.
    public var value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { Self.redactedText }
    public var debugDescription: String { Self.redactedText }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
