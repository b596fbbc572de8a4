import PostgresWire
import TestSupport
import Testing

@Suite("BigEndianReader")
struct BigEndianReaderTests {
    @Test func integersAreReadMostSignificantByteFirst() {
        let bytes: [UInt8] = [
            0xAB,
            0x12, 0x34,
            0x89, 0xAB, 0xCD, 0xEF,
            0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
        ]
        var reader = BigEndianReader(bytes[...])
        #expect(reader.readUInt8() == 0xAB)
        #expect(reader.readUInt16() == 0x1234)
        #expect(reader.readUInt32() == 0x89AB_CDEF)
        #expect(reader.readUInt64() == 0x0123_4567_89AB_CDEF)
        #expect(reader.isAtEnd)
        #expect(reader.offset == bytes.count)
        #expect(reader.readUInt8() == nil)
    }

    @Test func signedIntegersAreTheirBitPatterns() {
        let bytes: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFE] + [0x80, 0, 0, 0, 0, 0, 0, 0]
        var reader = BigEndianReader(bytes[...])
        #expect(reader.readInt32() == -2)
        #expect(reader.readInt64() == Int64.min)
    }

    /// A read past the end returns nil and leaves the cursor where it was, whatever its width.
    @Test func shortReadsReturnNilAndMoveNothing() {
        for count in 0..<8 {
            let bytes = [UInt8](repeating: 0x5A, count: count)
            var reader = BigEndianReader(bytes[...])
            #expect(reader.readUInt64() == nil)
            #expect(reader.readInt64() == nil)
            if count < 4 {
                #expect(reader.readUInt32() == nil)
                #expect(reader.readInt32() == nil)
            }
            if count < 2 { #expect(reader.readUInt16() == nil) }
            if count < 1 { #expect(reader.readUInt8() == nil) }
            #expect(reader.readBytes(count + 1) == nil)
            #expect(reader.offset == 0)
            #expect(reader.remainingCount == count)
            #expect(Array(reader.remainingBytes) == bytes)
        }
    }

    /// Offsets count from the slice's start, and what is read are slices of the input.
    @Test func slicesThatDoNotStartAtZero() {
        let buffer: [UInt8] = [0xEE, 0xEE, 0x00, 0x2A, 0x41, 0x42, 0x00, 0x43, 0xDD]
        var reader = BigEndianReader(buffer[2..<8])
        #expect(reader.offset == 0)
        #expect(reader.readUInt16() == 42)
        #expect(reader.offset == 2)
        let text = reader.readNULTerminated()
        #expect(text.map(Array.init) == [0x41, 0x42])
        #expect(text?.startIndex == 4)
        #expect(reader.offset == 5)
        #expect(reader.remainingBytes == buffer[7..<8])
        #expect(reader.readNULTerminated() == nil, "no NUL before the end of the slice")
        #expect(reader.readBytes(1) == buffer[7..<8])
        #expect(reader.isAtEnd)
    }

    @Test func byteRuns() {
        let bytes: [UInt8] = [1, 2, 3]
        var reader = BigEndianReader(bytes[...])
        #expect(reader.readBytes(-1) == nil)
        #expect(reader.readBytes(0)?.isEmpty == true)
        #expect(reader.readBytes(4) == nil)
        #expect(reader.readBytes(2).map(Array.init) == [1, 2])
        #expect(reader.readBytes(Int.max) == nil)
        #expect(reader.readBytes(1).map(Array.init) == [3])
        #expect(reader.readBytes(0)?.isEmpty == true)
    }

    @Test func nulTerminatedStrings() {
        let bytes: [UInt8] = [0, 0x61, 0, 0x62]
        var reader = BigEndianReader(bytes[...])
        #expect(reader.readNULTerminated()?.isEmpty == true)
        #expect(reader.readNULTerminated().map(Array.init) == [0x61])
        #expect(reader.readNULTerminated() == nil)
        #expect(reader.offset == 3)
    }

    @Test func writtenIntegersAreReadBack() {
        var bytes: [UInt8] = []
        bytes.appendBigEndian(UInt8(0x7F))
        bytes.appendBigEndian(UInt16(0xBEEF))
        bytes.appendBigEndian(Int32(-3))
        bytes.appendBigEndian(UInt64(0x0102_0304_0506_0708))
        bytes.appendBigEndian(Int64.min)
        #expect(bytes == [0x7F, 0xBE, 0xEF, 0xFF, 0xFF, 0xFF, 0xFD, 1, 2, 3, 4, 5, 6, 7, 8, 0x80, 0, 0, 0, 0, 0, 0, 0])
        var reader = BigEndianReader(bytes[...])
        #expect(reader.readUInt8() == 0x7F)
        #expect(reader.readUInt16() == 0xBEEF)
        #expect(reader.readInt32() == -3)
        #expect(reader.readUInt64() == 0x0102_0304_0506_0708)
        #expect(reader.readInt64() == Int64.min)
        #expect(reader.isAtEnd)
    }

    /// Random bytes read by a random sequence of reads agree with an independent oracle, and no read traps
    /// or moves the cursor past the end.
    @Test(arguments: [UInt64(1), 2, 0xB16_E4D1A4])
    func randomReadsAgreeWithTheOracle(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...24, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let start = Int.random(in: 0...bytes.count, using: &random)
            let slice = bytes[start...]
            var reader = BigEndianReader(slice)
            var position = slice.startIndex
            func oracle(_ width: Int) -> UInt64? {
                guard slice.endIndex - position >= width else { return nil }
                defer { position += width }
                return slice[position..<(position + width)].reduce(0) { $0 << 8 | UInt64($1) }
            }
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                switch Int.random(in: 0..<6, using: &random) {
                case 0: #expect(reader.readUInt8().map(UInt64.init) == oracle(1))
                case 1: #expect(reader.readUInt16().map(UInt64.init) == oracle(2))
                case 2: #expect(reader.readUInt32().map(UInt64.init) == oracle(4))
                case 3: #expect(reader.readUInt64() == oracle(8))
                case 4:
                    let count = Int.random(in: -2...10, using: &random)
                    let expected = count >= 0 && slice.endIndex - position >= count ? Array(slice[position..<(position + count)]) : nil
                    if let expected { position += expected.count }
                    #expect(reader.readBytes(count).map(Array.init) == expected)
                default:
                    let terminator = slice[position...].firstIndex(of: 0)
                    let expected = terminator.map { Array(slice[position..<$0]) }
                    if let terminator { position = terminator + 1 }
                    #expect(reader.readNULTerminated().map(Array.init) == expected)
                }
                #expect(reader.offset == position - slice.startIndex)
                #expect(reader.remainingCount == slice.endIndex - position)
            }
        }
    }
}
