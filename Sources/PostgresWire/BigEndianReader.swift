/// A bounds-checked cursor over bytes that PostgreSQL's protocols write: big-endian integers, byte runs and
/// NUL-terminated strings.
///
/// A read that would pass the end returns nil and leaves the cursor where it was, so nothing here traps on
/// input; positions never pass `bytes.endIndex`, so no index arithmetic can overflow. What a short read
/// means (a truncated message, and which field) is the caller's to say.
public struct BigEndianReader: Sendable {
    /// The bytes being read.
    public let bytes: ArraySlice<UInt8>
    /// The index in `bytes` of the next byte to read.
    @usableFromInline
    var index: Int

    @inlinable
    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    /// Bytes read so far (the offset of the next byte from the start).
    @inlinable
    public var offset: Int { index - bytes.startIndex }

    /// How many bytes are left.
    @inlinable
    public var remainingCount: Int { bytes.endIndex - index }

    /// The bytes not read yet, a slice of `bytes`.
    @inlinable
    public var remainingBytes: ArraySlice<UInt8> { bytes[index...] }

    @inlinable
    public var isAtEnd: Bool { index == bytes.endIndex }

    @inlinable
    public mutating func readUInt8() -> UInt8? {
        guard index < bytes.endIndex else { return nil }
        let value = bytes[index]
        index += 1
        return value
    }

    @inlinable
    public mutating func readUInt16() -> UInt16? {
        guard remainingCount >= 2 else { return nil }
        let value = UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
        index += 2
        return value
    }

    @inlinable
    public mutating func readUInt32() -> UInt32? {
        guard remainingCount >= 4 else { return nil }
        var value: UInt32 = 0
        for position in index..<(index + 4) {
            value = value << 8 | UInt32(bytes[position])
        }
        index += 4
        return value
    }

    @inlinable
    public mutating func readUInt64() -> UInt64? {
        guard remainingCount >= 8 else { return nil }
        var value: UInt64 = 0
        for position in index..<(index + 8) {
            value = value << 8 | UInt64(bytes[position])
        }
        index += 8
        return value
    }

    @inlinable
    public mutating func readInt32() -> Int32? {
        readUInt32().map { Int32(bitPattern: $0) }
    }

    @inlinable
    public mutating func readInt64() -> Int64? {
        readUInt64().map { Int64(bitPattern: $0) }
    }

    /// The next `count` bytes as a slice of `bytes` (no copy); nil when fewer are left or `count` is negative.
    @inlinable
    public mutating func readBytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, count <= remainingCount else { return nil }
        let value = bytes[index..<(index + count)]
        index += count
        return value
    }

    /// The bytes up to the next NUL, without it; the NUL is consumed. Nil when no NUL is left.
    @inlinable
    public mutating func readNULTerminated() -> ArraySlice<UInt8>? {
        guard let terminator = bytes[index...].firstIndex(of: 0) else { return nil }
        let value = bytes[index..<terminator]
        index = terminator + 1
        return value
    }
}

extension Array where Element == UInt8 {
    /// Appends `value`'s bytes, most significant first, as PostgreSQL's protocols write integers.
    @inlinable
    public mutating func appendBigEndian<Value: FixedWidthInteger>(_ value: Value) {
        var shift = Value.bitWidth - 8
        while shift >= 0 {
            append(UInt8(truncatingIfNeeded: value >> shift))
            shift -= 8
        }
    }
}
