public import KafkaClient

/// W3C Trace Context from an outbox row (pure): the `traceparent` a service wrote beside its event, as a
/// header that carries the trace on through Kafka.
public enum TraceContext {
    /// The `traceparent` (and `tracestate`) headers from a column's text: either a bare traceparent, or
    /// Java properties text as Debezium's `tracingspancontext` column holds (`traceparent=…`,
    /// `tracestate=…`, with `\` escapes). Nothing when the traceparent is not a valid one.
    public static func headers(from text: ArraySlice<UInt8>) -> [KafkaHeader] {
        let string = String(decoding: text, as: UTF8.self)
        let trimmed = string.trimmingWhitespace
        if isValidTraceparent(trimmed) {
            return [KafkaHeader(name: "traceparent", string: trimmed)]
        }
        var properties: [String: String] = [:]
        for line in string.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let entry = line.trimmingWhitespace
            guard !entry.hasPrefix("#"), !entry.hasPrefix("!"), let separator = entry.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            properties[String(entry[..<separator]).trimmingWhitespace] = unescaped(String(entry[entry.index(after: separator)...]).trimmingWhitespace)
        }
        guard let traceparent = properties["traceparent"], isValidTraceparent(traceparent) else { return [] }
        var headers = [KafkaHeader(name: "traceparent", string: traceparent)]
        if let state = properties["tracestate"], !state.isEmpty { headers.append(KafkaHeader(name: "tracestate", string: state)) }
        return headers
    }

    /// `version-traceid-parentid-flags`: lowercase hex of 2, 32, 16 and 2 digits; version ff, an all-zero
    /// trace id and an all-zero parent id are invalid. Later versions may append fields after a dash.
    public static func isValidTraceparent(_ text: String) -> Bool {
        let fields = text.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 4 else { return false }
        let lengths = [2, 32, 16, 2]
        for (field, length) in zip(fields, lengths) {
            guard field.utf8.count == length, field.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return false }
        }
        guard fields[0] != "ff", fields[1].utf8.contains(where: { $0 != 48 }), fields[2].utf8.contains(where: { $0 != 48 }) else { return false }
        // Version 00 has exactly four fields.
        return fields[0] != "00" || fields.count == 4
    }

    /// Java properties escapes: `\=`, `\:`, `\\` and the like stand for the character after the backslash.
    private static func unescaped(_ text: String) -> String {
        var result = ""
        var escaping = false
        for character in text {
            if escaping {
                result.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}

extension StringProtocol {
    fileprivate var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
