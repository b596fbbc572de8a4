public import PostgresLSN
public import PostgresWire

/// One CopyData message of the streaming replication protocol, as the server sends it: either WAL
/// (for a logical slot, one output-plugin message) or a keepalive.
///
/// This is the envelope only; the payload of `XLogData` is the output plugin's business (see the
/// PgOutputDecoder module).
public enum ReplicationMessage: Sendable, Equatable {
    case xLogData(XLogData)
    case primaryKeepalive(PrimaryKeepalive)

    public struct XLogData: Sendable, Equatable {
        /// The WAL position the payload starts at.
        public var walStart: LSN
        /// The server's current end of WAL.
        public var walEnd: LSN
        public var serverTime: PostgresTimestamp
        /// The output plugin's message, a slice of the bytes given to `parse`.
        public var payload: ArraySlice<UInt8>
    }

    public struct PrimaryKeepalive: Sendable, Equatable {
        /// The end of WAL the server has sent so far.
        public var walEnd: LSN
        public var serverTime: PostgresTimestamp
        /// The server wants a standby status update now, or it will time the connection out.
        public var replyRequested: Bool
    }

    /// Parses one CopyData payload. Never traps: anything else than a well-formed 'w' or 'k' message throws.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws(ReplicationMessageError) -> ReplicationMessage {
        guard let kind = bytes.first else { throw .empty }
        var reader = BigEndianReader(bytes.dropFirst())
        switch kind {
        case UInt8(ascii: "w"):
            guard let walStart = reader.readUInt64(), let walEnd = reader.readUInt64(),
                  let time = reader.readInt64()
            else { throw .truncated(kind: kind, length: bytes.count) }
            return .xLogData(XLogData(
                walStart: LSN(walStart), walEnd: LSN(walEnd),
                serverTime: PostgresTimestamp(microsecondsSincePostgresEpoch: time), payload: reader.remainingBytes
            ))
        case UInt8(ascii: "k"):
            guard let walEnd = reader.readUInt64(), let time = reader.readInt64(), let reply = reader.readUInt8()
            else { throw .truncated(kind: kind, length: bytes.count) }
            guard reader.isAtEnd else { throw .trailingBytes(kind: kind, count: reader.remainingCount) }
            return .primaryKeepalive(PrimaryKeepalive(
                walEnd: LSN(walEnd), serverTime: PostgresTimestamp(microsecondsSincePostgresEpoch: time), replyRequested: reply != 0
            ))
        default:
            throw .unknownKind(kind)
        }
    }
}

public enum ReplicationMessageError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case unknownKind(UInt8)
    case truncated(kind: UInt8, length: Int)
    case trailingBytes(kind: UInt8, count: Int)

    public var description: String {
        switch self {
        case .empty:
            return "empty replication message"
        case .unknownKind(let kind):
            return "unknown replication message kind 0x\(String(kind, radix: 16))"
        case .truncated(let kind, let length):
            return "replication message '\(Character(Unicode.Scalar(kind)))' truncated at \(length) bytes"
        case .trailingBytes(let kind, let count):
            return "replication message '\(Character(Unicode.Scalar(kind)))' has \(count) unexpected trailing bytes"
        }
    }
}
