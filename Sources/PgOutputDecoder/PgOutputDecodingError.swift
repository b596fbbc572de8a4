/// Why a pgoutput message could not be decoded.
///
/// Every offset is counted in bytes from the start of the message (offset 0 is the message type byte), so it
/// can be matched against a hex dump of the XLogData payload. `messageType` is the raw first byte, kept raw
/// because an error may concern a byte that is not a known type.
public enum PgOutputDecodingError: Error, Sendable, Hashable {
    /// The payload had no bytes at all, not even a message type.
    case emptyMessage

    /// The first byte is not a pgoutput message type of protocol versions 1 to 4.
    case unknownMessageType(UInt8)

    /// The message type exists, but only from `minimumVersion` on, and the decoder was configured for an
    /// older protocol version: the server and the decoder disagree about the protocol.
    case messageTypeNotInProtocolVersion(messageType: UInt8, minimumVersion: Int, configuredVersion: Int)

    /// The message ended before `field` was complete: `needed` bytes were required at `offset` and only
    /// `available` remained. A C string without its NUL terminator is reported here too, with `needed` one
    /// more than `available`.
    case truncated(messageType: UInt8, field: String, needed: Int, available: Int, offset: Int)

    /// A signed length or count field holds a value the protocol never sends (a negative one).
    case invalidLength(messageType: UInt8, field: String, length: Int32, offset: Int)

    /// A tuple column starts with a byte other than 'n', 'u', 't' or 'b'.
    case invalidTupleColumnKind(UInt8, offset: Int)

    /// Where a tuple was announced ('N' new, 'K' key, 'O' old), another byte was found.
    case invalidTupleMarker(messageType: UInt8, found: UInt8, expected: String, offset: Int)

    /// A one-byte field holds a value outside its documented set (a replica identity, a boolean flag).
    case invalidFieldValue(messageType: UInt8, field: String, value: UInt8, offset: Int)

    /// A string field (a name, a prefix, a GID) is not valid UTF-8. The decoder rejects it rather than
    /// repairing it, since names are used to route rows and a replaced character would route them silently
    /// elsewhere.
    case invalidUTF8(messageType: UInt8, field: String, offset: Int)

    /// The message was complete before its last byte: `count` bytes remained at `offset`. pgoutput messages
    /// have an exact length, so extra bytes mean the framing or the protocol version is wrong.
    case unexpectedTrailingBytes(messageType: UInt8, count: Int, offset: Int)

    /// A message arrived where the stream-block state forbids it: a Stream Stop outside a streamed block, or
    /// a Stream Start, a transaction boundary or a stream end (commit, abort, prepare) inside one.
    case streamStateViolation(messageType: UInt8, insideStreamBlock: Bool)
}

extension PgOutputDecodingError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .emptyMessage:
            return "empty pgoutput message: no message type byte"
        case .unknownMessageType(let type):
            return "unknown pgoutput message type \(MessageType.describe(type))"
        case .messageTypeNotInProtocolVersion(let type, let minimumVersion, let configuredVersion):
            return "pgoutput \(MessageType.describe(type)) message needs protocol version \(minimumVersion) or later,"
                + " but the decoder is configured for version \(configuredVersion)"
        case .truncated(let type, let field, let needed, let available, let offset):
            return "pgoutput \(MessageType.describe(type)) message truncated at offset \(offset):"
                + " \(field) needs \(needed) byte\(needed == 1 ? "" : "s"), \(available) available"
        case .invalidLength(let type, let field, let length, let offset):
            return "pgoutput \(MessageType.describe(type)) message has invalid \(field) \(length) at offset \(offset)"
        case .invalidTupleColumnKind(let kind, let offset):
            return "invalid tuple column kind \(MessageType.describeByte(kind)) at offset \(offset);"
                + " expected 'n', 'u', 't' or 'b'"
        case .invalidTupleMarker(let type, let found, let expected, let offset):
            return "pgoutput \(MessageType.describe(type)) message has tuple marker \(MessageType.describeByte(found))"
                + " at offset \(offset); expected \(expected)"
        case .invalidFieldValue(let type, let field, let value, let offset):
            return "pgoutput \(MessageType.describe(type)) message has invalid \(field)"
                + " \(MessageType.describeByte(value)) at offset \(offset)"
        case .invalidUTF8(let type, let field, let offset):
            return "pgoutput \(MessageType.describe(type)) message has a \(field) that is not valid UTF-8 at offset \(offset)"
        case .unexpectedTrailingBytes(let type, let count, let offset):
            return "pgoutput \(MessageType.describe(type)) message has \(count) unexpected trailing"
                + " byte\(count == 1 ? "" : "s") at offset \(offset)"
        case .streamStateViolation(let type, let insideStreamBlock):
            return "pgoutput \(MessageType.describe(type)) message is not allowed "
                + (insideStreamBlock ? "inside a streamed block (after Stream Start)" : "outside a streamed block")
        }
    }
}
