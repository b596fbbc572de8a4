import Clocks
public import PostgresLSN
public import PostgresWire

/// The standby status update ('r') a client sends to report how far it has processed the stream.
///
/// For a logical slot the server takes `flush` as the new `confirmed_flush_lsn`: everything before it
/// may be discarded and is never sent again. All three positions are always set explicitly (never left
/// at 0/0 or copied from what was merely received), because that is where at-least-once is won or lost.
public struct StandbyStatusUpdate: Sendable, Equatable {
    public var written: LSN
    public var flushed: LSN
    public var applied: LSN
    public var clientTime: PostgresTimestamp
    public var replyRequested: Bool

    public init(written: LSN, flushed: LSN, applied: LSN, clientTime: PostgresTimestamp, replyRequested: Bool = false) {
        self.written = written
        self.flushed = flushed
        self.applied = applied
        self.clientTime = clientTime
        self.replyRequested = replyRequested
    }

    /// A status that reports `confirmed` as written, flushed and applied.
    public init(confirmed: LSN, clientTime: PostgresTimestamp) {
        self.init(written: confirmed, flushed: confirmed, applied: confirmed, clientTime: clientTime)
    }

    /// The 34-byte wire form.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "r")]
        bytes.reserveCapacity(34)
        bytes.appendBigEndian(written.rawValue)
        bytes.appendBigEndian(flushed.rawValue)
        bytes.appendBigEndian(applied.rawValue)
        bytes.appendBigEndian(clientTime.microsecondsSincePostgresEpoch)
        bytes.append(replyRequested ? 1 : 0)
        return bytes
    }
}

extension PostgresTimestamp {
    /// The wall-clock time now, as a status update's client time.
    public static var now: PostgresTimestamp {
        PostgresTimestamp(
            microsecondsSincePostgresEpoch: WallClock.nowMicroseconds() &- PostgresTimestamp.postgresEpochInUnixMicroseconds)
    }
}
