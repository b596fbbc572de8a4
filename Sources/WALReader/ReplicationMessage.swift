import Glibc
public import PostgresLSN

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
        public var serverTime: PostgresMicroseconds
        /// The output plugin's message, a slice of the bytes given to `parse`.
        public var payload: ArraySlice<UInt8>
    }

    public struct PrimaryKeepalive: Sendable, Equatable {
        /// The end of WAL the server has sent so far.
        public var walEnd: LSN
        public var serverTime: PostgresMicroseconds
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
                serverTime: PostgresMicroseconds(time), payload: reader.remaining
            ))
        case UInt8(ascii: "k"):
            guard let walEnd = reader.readUInt64(), let time = reader.readInt64(), let reply = reader.readUInt8()
            else { throw .truncated(kind: kind, length: bytes.count) }
            guard reader.remaining.isEmpty else { throw .trailingBytes(kind: kind, count: reader.remaining.count) }
            return .primaryKeepalive(PrimaryKeepalive(
                walEnd: LSN(walEnd), serverTime: PostgresMicroseconds(time), replyRequested: reply != 0
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

/// The standby status update ('r') a client sends to report how far it has processed the stream.
///
/// For a logical slot the server takes `flush` as the new `confirmed_flush_lsn`: everything before it
/// may be discarded and is never sent again. All three positions are always set explicitly (never left
/// at 0/0 or copied from what was merely received), because that is where at-least-once is won or lost.
public struct StandbyStatusUpdate: Sendable, Equatable {
    public var written: LSN
    public var flushed: LSN
    public var applied: LSN
    public var clientTime: PostgresMicroseconds
    public var replyRequested: Bool

    public init(written: LSN, flushed: LSN, applied: LSN, clientTime: PostgresMicroseconds, replyRequested: Bool = false) {
        self.written = written
        self.flushed = flushed
        self.applied = applied
        self.clientTime = clientTime
        self.replyRequested = replyRequested
    }

    /// A status that reports `confirmed` as written, flushed and applied.
    public init(confirmed: LSN, clientTime: PostgresMicroseconds) {
        self.init(written: confirmed, flushed: confirmed, applied: confirmed, clientTime: clientTime)
    }

    /// The 34-byte wire form.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "r")]
        bytes.reserveCapacity(34)
        bytes.appendBigEndian(written.rawValue)
        bytes.appendBigEndian(flushed.rawValue)
        bytes.appendBigEndian(applied.rawValue)
        bytes.appendBigEndian(UInt64(bitPattern: clientTime.rawValue))
        bytes.append(replyRequested ? 1 : 0)
        return bytes
    }
}

/// A PostgreSQL timestamp on the wire: microseconds since 2000-01-01 00:00:00 UTC.
public struct PostgresMicroseconds: RawRepresentable, Hashable, Comparable, Sendable {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ rawValue: Int64) { self.rawValue = rawValue }

    /// Microseconds between the Unix epoch and PostgreSQL's, 2000-01-01.
    public static let unixEpochOffset: Int64 = 946_684_800_000_000

    public init(unixMicroseconds: Int64) {
        self.rawValue = unixMicroseconds &- Self.unixEpochOffset
    }

    public var unixMicroseconds: Int64 { rawValue &+ Self.unixEpochOffset }

    /// The wall-clock time now.
    public static var now: PostgresMicroseconds {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return PostgresMicroseconds(unixMicroseconds: Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1000)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Reads big-endian integers from a byte slice; returns nil instead of reading past the end.
struct BigEndianReader {
    private(set) var remaining: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        self.remaining = bytes
    }

    mutating func readUInt8() -> UInt8? {
        remaining.popFirst()
    }

    mutating func readUInt64() -> UInt64? {
        guard remaining.count >= 8 else { return nil }
        var value: UInt64 = 0
        for byte in remaining.prefix(8) {
            value = value << 8 | UInt64(byte)
        }
        remaining = remaining.dropFirst(8)
        return value
    }

    mutating func readInt64() -> Int64? {
        readUInt64().map { Int64(bitPattern: $0) }
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
