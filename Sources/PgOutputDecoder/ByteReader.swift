import PostgresLSN

/// A bounds-checked, big-endian cursor over one pgoutput message.
///
/// Every read checks the remaining length first and throws `.truncated` instead of trapping; positions never
/// pass `endIndex`, so index arithmetic here cannot overflow. `field` names what is being read, for errors
/// only: it is a `StaticString` so the successful path never builds a `String`.
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    let messageType: UInt8
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>, messageType: UInt8) {
        self.bytes = bytes
        self.messageType = messageType
        self.position = bytes.startIndex
    }

    /// Bytes from the start of the message, as reported in errors.
    var offset: Int { position - bytes.startIndex }

    var remaining: Int { bytes.endIndex - position }

    var isAtEnd: Bool { position == bytes.endIndex }

    private func require(_ count: Int, _ field: StaticString) throws(PgOutputDecodingError) {
        guard count <= remaining else {
            throw .truncated(
                messageType: messageType, field: "\(field)", needed: count, available: remaining, offset: offset)
        }
    }

    mutating func readUInt8(_ field: StaticString) throws(PgOutputDecodingError) -> UInt8 {
        try require(1, field)
        let value = bytes[position]
        position += 1
        return value
    }

    mutating func readUInt16(_ field: StaticString) throws(PgOutputDecodingError) -> UInt16 {
        try require(2, field)
        let value = UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])
        position += 2
        return value
    }

    mutating func readUInt32(_ field: StaticString) throws(PgOutputDecodingError) -> UInt32 {
        try require(4, field)
        var value: UInt32 = 0
        for index in position..<(position + 4) {
            value = value << 8 | UInt32(bytes[index])
        }
        position += 4
        return value
    }

    mutating func readInt32(_ field: StaticString) throws(PgOutputDecodingError) -> Int32 {
        Int32(bitPattern: try readUInt32(field))
    }

    mutating func readUInt64(_ field: StaticString) throws(PgOutputDecodingError) -> UInt64 {
        try require(8, field)
        var value: UInt64 = 0
        for index in position..<(position + 8) {
            value = value << 8 | UInt64(bytes[index])
        }
        position += 8
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
        try require(count, field)
        let value = bytes[position..<(position + count)]
        position += count
        return value
    }

    /// A NUL-terminated UTF-8 string; the terminator is consumed. A missing terminator means the message was
    /// cut short, so it is reported as truncation.
    mutating func readCString(_ field: StaticString) throws(PgOutputDecodingError) -> String {
        let start = offset
        guard let terminator = bytes[position...].firstIndex(of: 0) else {
            throw .truncated(
                messageType: messageType, field: "\(field) (NUL-terminated)", needed: remaining + 1,
                available: remaining, offset: start)
        }
        guard let value = String(validating: bytes[position..<terminator], as: UTF8.self) else {
            throw .invalidUTF8(messageType: messageType, field: "\(field)", offset: start)
        }
        position = terminator + 1
        return value
    }
}
