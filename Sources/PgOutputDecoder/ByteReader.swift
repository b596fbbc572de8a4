import PostgresLSN
import PostgresWire

/// The cursor over one pgoutput message: `BigEndianReader`'s bounds-checked reads, with a short read or a
/// value pgoutput never sends turned into the typed error that names the message and the field.
///
/// `field` names what is being read, for errors only: it is a `StaticString` so the successful path never
/// builds a `String`.
struct ByteReader {
    private var reader: BigEndianReader
    let messageType: UInt8

    init(_ bytes: ArraySlice<UInt8>, messageType: UInt8) {
        self.reader = BigEndianReader(bytes)
        self.messageType = messageType
    }

    /// Bytes from the start of the message, as reported in errors.
    var offset: Int { reader.offset }

    var remaining: Int { reader.remainingCount }

    var isAtEnd: Bool { reader.isAtEnd }

    private func truncated(_ needed: Int, _ field: StaticString) -> PgOutputDecodingError {
        .truncated(messageType: messageType, field: "\(field)", needed: needed, available: remaining, offset: offset)
    }

    mutating func readUInt8(_ field: StaticString) throws(PgOutputDecodingError) -> UInt8 {
        guard let value = reader.readUInt8() else { throw truncated(1, field) }
        return value
    }

    mutating func readUInt16(_ field: StaticString) throws(PgOutputDecodingError) -> UInt16 {
        guard let value = reader.readUInt16() else { throw truncated(2, field) }
        return value
    }

    mutating func readUInt32(_ field: StaticString) throws(PgOutputDecodingError) -> UInt32 {
        guard let value = reader.readUInt32() else { throw truncated(4, field) }
        return value
    }

    mutating func readInt32(_ field: StaticString) throws(PgOutputDecodingError) -> Int32 {
        guard let value = reader.readInt32() else { throw truncated(4, field) }
        return value
    }

    mutating func readUInt64(_ field: StaticString) throws(PgOutputDecodingError) -> UInt64 {
        guard let value = reader.readUInt64() else { throw truncated(8, field) }
        return value
    }

    mutating func readLSN(_ field: StaticString) throws(PgOutputDecodingError) -> LSN {
        LSN(rawValue: try readUInt64(field))
    }

    mutating func readTimestamp(_ field: StaticString) throws(PgOutputDecodingError) -> PostgresTimestamp {
        PostgresTimestamp(microsecondsSincePostgresEpoch: Int64(bitPattern: try readUInt64(field)))
    }

    /// A 0/1 byte; PostgreSQL sends nothing else in its boolean fields.
    mutating func readBoolean(_ field: StaticString) throws(PgOutputDecodingError) -> Bool {
        let start = offset
        switch try readUInt8(field) {
        case 0: return false
        case 1: return true
        case let other:
            throw .invalidFieldValue(messageType: messageType, field: "\(field)", value: other, offset: start)
        }
    }

    /// A signed Int32 length; the protocol never sends a negative one in pgoutput (NULL is a column kind,
    /// not a length of -1 as in the extended query protocol).
    mutating func readLength(_ field: StaticString) throws(PgOutputDecodingError) -> Int {
        let start = offset
        let length = try readInt32(field)
        guard length >= 0 else {
            throw .invalidLength(messageType: messageType, field: "\(field)", length: length, offset: start)
        }
        return Int(length)
    }

    /// `count` bytes as a slice of the input: no copy.
    mutating func readBytes(_ count: Int, _ field: StaticString) throws(PgOutputDecodingError) -> ArraySlice<UInt8> {
        guard let value = reader.readBytes(count) else { throw truncated(count, field) }
        return value
    }

    /// A NUL-terminated UTF-8 string; the terminator is consumed. A missing terminator means the message was
    /// cut short, so it is reported as truncation.
    mutating func readCString(_ field: StaticString) throws(PgOutputDecodingError) -> String {
        let start = offset
        var cursor = reader
        guard let bytes = cursor.readNULTerminated() else {
            throw .truncated(
                messageType: messageType, field: "\(field) (NUL-terminated)", needed: remaining + 1,
                available: remaining, offset: start)
        }
        guard let value = String(validating: bytes, as: UTF8.self) else {
            throw .invalidUTF8(messageType: messageType, field: "\(field)", offset: start)
        }
        reader = cursor
        return value
    }
}
