import KafkaClient
public import PgOutputDecoder

/// The outbox without a table: applications call `pg_logical_emit_message(true, prefix, content)` in the
/// transaction of their business change, and the message becomes a Kafka record. Nothing is stored in a
/// table, so there is nothing to vacuum or clean up; the WAL carries the event and the slot delivers it.
///
/// Two prefixes, `<prefix>` being `outbox` unless configured:
/// - `<prefix>:<topic>`: the content is the record value, as is (any bytes); no key, no headers.
/// - `<prefix>-envelope:<topic>`: the content is a JSON object
///   `{"key": "…", "headers": {"name": "value", …}, "value": …}`. All members are optional. A string
///   `value` is written as its text, any other JSON value as written, a missing or null one as a null
///   value. A string or null `key`; header values are strings or null.
public struct LogicalMessageRouter: Sendable, Equatable {
    public let prefix: String
    private let rawPrefix: String
    private let envelopePrefix: String

    public init(prefix: String = "outbox") {
        self.prefix = prefix
        rawPrefix = prefix + ":"
        envelopePrefix = prefix + "-envelope:"
    }

    /// The record for a message with one of the two prefixes; nil for any other message.
    public func event(for message: PgOutputMessage.LogicalMessage) throws(LogicalMessageError) -> OutboxEvent? {
        let envelope: Bool
        let topic: Substring
        if message.prefix.hasPrefix(envelopePrefix) {
            envelope = true
            topic = message.prefix.dropFirst(envelopePrefix.count)
        } else if message.prefix.hasPrefix(rawPrefix) {
            envelope = false
            topic = message.prefix.dropFirst(rawPrefix.count)
        } else {
            return nil
        }
        // The message's WAL position identifies it in logs; there is no id column.
        let position = Array("\(message.lsn)".utf8)[...]
        guard !topic.isEmpty else { throw .noTopic(prefix: message.prefix, lsn: "\(message.lsn)") }
        var event = OutboxEvent(topic: String(topic), key: nil, value: message.content, eventID: position, payloadKind: .text)
        event.idHeader = false
        guard envelope else { return event }
        event.value = nil
        var reader = JSONScanner(bytes: message.content, column: "message content")
        do {
            try reader.object { reader, member throws(RowHeadersError) in
                switch member {
                case "key":
                    switch try reader.scalar() {
                    case .string(let text): event.key = Array(text.utf8)[...]
                    case .null: event.key = nil
                    case .other: throw .wrongShape(column: "the envelope's key", expected: "a string or null")
                    }
                case "value":
                    switch try reader.scalar() {
                    case .string(let text): event.value = Array(text.utf8)[...]
                    case .null: event.value = nil
                    case .other(let json): event.value = json
                    }
                case "headers":
                    try reader.object { reader, name throws(RowHeadersError) in
                        switch try reader.scalar() {
                        case .string(let text): event.headers.append(KafkaHeader(name: name, value: Array(text.utf8)))
                        case .null: event.headers.append(KafkaHeader(name: name, value: nil))
                        case .other: throw .wrongShape(column: "the envelope's header \(name)", expected: "a string or null")
                        }
                    }
                default:
                    throw .wrongShape(column: "the envelope", expected: "only key, value and headers, not \(member)")
                }
            }
            try reader.end()
        } catch {
            throw .badEnvelope(error, prefix: message.prefix, lsn: "\(message.lsn)")
        }
        return event
    }
}

/// Why a logical decoding message with the outbox prefix cannot become a record.
public enum LogicalMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    case noTopic(prefix: String, lsn: String)
    case badEnvelope(RowHeadersError, prefix: String, lsn: String)

    public var description: String {
        switch self {
        case .noTopic(let prefix, let lsn):
            return "the message at \(lsn) has the prefix '\(prefix)', which names no topic after the colon"
        case .badEnvelope(let error, let prefix, let lsn):
            return "the message at \(lsn) (prefix '\(prefix)') is not a valid envelope: \(error)"
        }
    }
}
