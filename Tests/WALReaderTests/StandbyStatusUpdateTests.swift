import PostgresLSN
import PostgresWire
import TestSupport
import Testing
import WALReader

@Suite("StandbyStatusUpdate")
struct StandbyStatusUpdateTests {
    @Test func exactWireBytes() {
        let update = StandbyStatusUpdate(
            written: LSN(0x0000_0016_B374_D848),
            flushed: LSN(0x0102_0304_0506_0708),
            applied: LSN(0xA1A2_A3A4_A5A6_A7A8),
            clientTime: PostgresTimestamp(microsecondsSincePostgresEpoch: -2),
            replyRequested: true
        )
        let expected: [UInt8] = [
            0x72, // 'r'
            0x00, 0x00, 0x00, 0x16, 0xB3, 0x74, 0xD8, 0x48,
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
            0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8,
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
            0x01,
        ]
        #expect(update.bytes == expected)
    }

    @Test func confirmedReportsOnePositionThreeTimesWithoutReply() {
        // 2024-01-01T00:00:00Z is 757_382_400 s after 2000-01-01.
        let update = StandbyStatusUpdate(confirmed: LSN(0x1_0000_00FF), clientTime: PostgresTimestamp(microsecondsSincePostgresEpoch: 757_382_400_000_000))
        #expect(update.written == LSN(0x1_0000_00FF))
        #expect(update.flushed == LSN(0x1_0000_00FF))
        #expect(update.applied == LSN(0x1_0000_00FF))
        #expect(!update.replyRequested)
        let position: [UInt8] = [0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xFF]
        let time: [UInt8] = [0x00, 0x02, 0xB0, 0xD5, 0xD4, 0xE9, 0x40, 0x00] // 757_382_400_000_000
        #expect(update.bytes == [0x72] + position + position + position + time + [0x00])
    }

    @Test func zeroPositionsAreSentAsZeros() {
        let update = StandbyStatusUpdate(confirmed: .zero, clientTime: PostgresTimestamp(microsecondsSincePostgresEpoch: 0))
        #expect(update.bytes == [0x72] + [UInt8](repeating: 0, count: 33))
    }

    @Test func randomUpdatesEncodeEveryFieldAtItsOffset() {
        var random = SplitMix64(seed: 42)
        for _ in 0..<2_000 {
            let written = random.next(), flushed = random.next(), applied = random.next()
            let time = Int64(bitPattern: random.next())
            let reply = Bool.random(using: &random)
            let bytes = StandbyStatusUpdate(
                written: LSN(written), flushed: LSN(flushed), applied: LSN(applied),
                clientTime: PostgresTimestamp(microsecondsSincePostgresEpoch: time), replyRequested: reply
            ).bytes
            #expect(bytes.count == 34)
            #expect(bytes[0] == UInt8(ascii: "r"))
            #expect(readBigEndian(bytes, at: 1) == written)
            #expect(readBigEndian(bytes, at: 9) == flushed)
            #expect(readBigEndian(bytes, at: 17) == applied)
            #expect(Int64(bitPattern: readBigEndian(bytes, at: 25)) == time)
            #expect(bytes[33] == (reply ? 1 : 0))
        }
    }

    @Test func nowIsAPlausibleWallClockTime() {
        let now = PostgresTimestamp.now
        // After 2024-01-01 and before 2100-01-01 (both in µs since 2000-01-01).
        #expect(now.rawValue > 757_382_400_000_000)
        #expect(now.rawValue < 3_155_760_000_000_000)
    }
}
