import CLibRdKafka
import Clocks

/// Builds `rd_kafka_conf_t` objects from string properties, keeping secrets out of every message.
public enum LibrdkafkaConfiguration {
    /// Property names whose values are secrets (or locate/contain key material). Their values never appear
    /// in an error or a log line, even when librdkafka's own text quotes them (it does: an unparsable
    /// `sasl.oauthbearer.config` is logged verbatim).
    public static func isSensitive(_ property: String) -> Bool {
        let name = property.lowercased()
        return name.contains("password") || name.contains("secret") || name.contains("sasl.jaas")
            || name.contains("ssl.key") || name.contains("sasl.oauthbearer")
    }

    /// What to scrub for the sensitive properties of `configuration`: each whole value, and each of its
    /// space- or comma-separated parts (for `key=value` parts, the value) of 4 or more characters, because
    /// librdkafka quotes parts of values too ("Unrecognized sasl.oauthbearer.config beginning at: <rest>").
    /// Longest first, so a secret containing another is replaced whole.
    static func secretValues(of configuration: [String: String]) -> [String] {
        var secrets = Set<String>()
        for (property, value) in configuration where isSensitive(property) && !value.isEmpty {
            secrets.insert(value)
            for part in value.split(whereSeparator: { $0.isWhitespace || $0 == "," }) {
                let secretPart = part.firstIndex(of: "=").map { part[part.index(after: $0)...] } ?? part
                if secretPart.count >= 4 { secrets.insert(String(secretPart)) }
            }
        }
        return secrets.sorted { $0.count > $1.count }
    }

    /// `text` with every occurrence of any of `secrets` replaced by `[redacted]`.
    static func redact(_ text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacing(secret, with: "[redacted]")
        }
        return result
    }

    /// `text` with every sensitive value of `configuration` replaced by `[redacted]`.
    static func redact(_ text: String, configuration: [String: String]) -> String {
        redact(text, secrets: secretValues(of: configuration))
    }

    /// A new `rd_kafka_conf_t` holding `configuration`; the caller owns it (until `rd_kafka_new` succeeds).
    ///
    /// Properties are applied in name order so that the first bad one reported is deterministic.
    static func makeConf(_ configuration: [String: String]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: RD_KAFKA_RESP_ERR__FAIL.rawValue, message: "rd_kafka_conf_new failed")
        }
        for (property, value) in configuration.sorted(by: { $0.key < $1.key }) {
            do {
                try set(property, value, on: conf, configuration: configuration)
            } catch {
                rd_kafka_conf_destroy(conf)
                throw error
            }
        }
        return conf
    }

    /// Sets one property; on failure the error names the property and (unless sensitive) librdkafka's reason.
    static func set(
        _ property: String, _ value: String, on conf: OpaquePointer, configuration: [String: String]
    ) throws(KafkaError) {
        var reason = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, property, value, &reason, reason.count)
        guard result != RD_KAFKA_CONF_OK else { return }
        let message: String
        if isSensitive(property) {
            // librdkafka's text for an invalid value can quote the value itself.
            message = result == RD_KAFKA_CONF_UNKNOWN
                ? "unknown configuration property \"\(property)\""
                : "invalid value for configuration property \"\(property)\" (value not shown: the property is sensitive)"
        } else {
            message = redact(String(nulTerminated: reason), configuration: configuration)
        }
        throw KafkaError(
            code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
            message: message,
            property: property,
            isFatal: false,
            isRetriable: false
        )
    }

    /// Calls `rd_kafka_new`, which takes ownership of `conf` only when it succeeds; on failure this destroys
    /// `conf`, so either way the caller must not touch `conf` afterwards.
    static func makeClient(
        type: rd_kafka_type_t, conf: OpaquePointer, configuration: [String: String]
    ) throws(KafkaError) -> OpaquePointer {
        var reason = [CChar](repeating: 0, count: 512)
        if let handle = rd_kafka_new(type, conf, &reason, reason.count) {
            return handle
        }
        rd_kafka_conf_destroy(conf)
        throw KafkaError(
            code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
            message: redact(String(nulTerminated: reason), configuration: configuration),
            isFatal: false,
            isRetriable: false
        )
    }
}

extension Duration {
    /// Whole milliseconds for librdkafka timeouts, rounded up (so a tiny positive timeout still waits) and
    /// clamped to `0...Int32.max`.
    var librdkafkaMilliseconds: Int32 {
        guard self > .zero else { return 0 }
        if components.seconds >= Int64(Int32.max) / 1000 { return Int32.max }
        return Int32(clamping: millisecondsRoundedUp)
    }
}

extension String {
    /// The text in a buffer librdkafka filled with a NUL-terminated string.
    init(nulTerminated buffer: [CChar]) {
        self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
