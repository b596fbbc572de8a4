import PostgresLSN
import PostgresWire
import TestSupport
import Testing
@testable import WALReader

@Suite("ReplicationMessage.parse")
struct ReplicationMessageParseTests {
    /// A 'w' message written out byte by byte: walStart 16/B374D848, walEnd 16/B374D900, server time
    /// 0x0002_9A3B_4C5D_6E7F µs, payload "B...".
    static let literalXLogData: [UInt8] = [
        0x77,
        0x00, 0x00, 0x00, 0x16, 0xB3, 0x74, 0xD8, 0x48,
        0x00, 0x00, 0x00, 0x16, 0xB3, 0x74, 0xD9, 0x00,
        0x00, 0x02, 0x9A, 0x3B, 0x4C, 0x5D, 0x6E, 0x7F,
        0x42, 0x01, 0x02, 0x03,
    ]

    /// A 'k' message written out byte by byte: walEnd 1/2, server time -1, reply requested.
    static let literalKeepalive: [UInt8] = [
        0x6B,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x01,
    ]

    static func xLogData(walStart: UInt64, walEnd: UInt64, time: Int64, payload: [UInt8]) -> [UInt8] {
        [kindW] + bigEndian(walStart) + bigEndian(walEnd) + bigEndian(time) + payload
    }

    static func keepalive(walEnd: UInt64, time: Int64, reply: UInt8) -> [UInt8] {
        [kindK] + bigEndian(walEnd) + bigEndian(time) + [reply]
    }

    @Test func xLogDataFieldsFromLiteralBytes() throws {
        let message = try ReplicationMessage.parse(Self.literalXLogData[...])
        guard case .xLogData(let data) = message else {
            Issue.record("expected XLogData, got \(message)")
            return
        }
        #expect(data.walStart == LSN(0x16_B374_D848))
        #expect(data.walStart.description == "16/B374D848")
        #expect(data.walEnd == LSN(0x16_B374_D900))
        #expect(data.serverTime == PostgresTimestamp(microsecondsSincePostgresEpoch: 0x0002_9A3B_4C5D_6E7F))
        #expect(Array(data.payload) == [0x42, 0x01, 0x02, 0x03])
    }

    @Test func keepaliveFieldsFromLiteralBytes() throws {
        let message = try ReplicationMessage.parse(Self.literalKeepalive[...])
        guard case .primaryKeepalive(let keepalive) = message else {
            Issue.record("expected a keepalive, got \(message)")
            return
        }
        #expect(keepalive.walEnd == LSN(0x1_0000_0002))
        #expect(keepalive.walEnd.description == "1/2")
        #expect(keepalive.serverTime.rawValue == -1)
        #expect(keepalive.replyRequested)
    }

    @Test(arguments: [(UInt8(0), false), (1, true), (2, true), (0xFF, true)])
    func keepaliveReplyFlag(byte: UInt8, expected: Bool) throws {
        let message = try ReplicationMessage.parse(Self.keepalive(walEnd: 42, time: 7, reply: byte)[...])
        #expect(message == .primaryKeepalive(.init(walEnd: LSN(42), serverTime: PostgresTimestamp(microsecondsSincePostgresEpoch: 7), replyRequested: expected)))
    }

    @Test func xLogDataWithEmptyPayload() throws {
        let bytes = Self.xLogData(walStart: 1, walEnd: UInt64.max, time: Int64.min, payload: [])
        #expect(bytes.count == 25)
        let message = try ReplicationMessage.parse(bytes[...])
        #expect(message == .xLogData(.init(
            walStart: LSN(1), walEnd: LSN(UInt64.max), serverTime: PostgresTimestamp(microsecondsSincePostgresEpoch: Int64.min), payload: []
        )))
    }

    /// The payload is a slice of the input (no copy), and parsing works on slices that do not start at 0.
    @Test func payloadIsASliceOfTheInputAtAnyOffset() throws {
        let message = Self.xLogData(walStart: 0xAB, walEnd: 0xCD, time: 99, payload: Array("hello".utf8))
        let buffer: [UInt8] = [0xEE, 0xEE, 0xEE] + message + [0xDD]
        let slice = buffer[3..<(3 + message.count)]
        guard case .xLogData(let data) = try ReplicationMessage.parse(slice) else {
            Issue.record("expected XLogData")
            return
        }
        #expect(data.walStart == LSN(0xAB))
        #expect(data.walEnd == LSN(0xCD))
        #expect(data.serverTime.rawValue == 99)
        #expect(Array(data.payload) == Array("hello".utf8))
        #expect(data.payload.startIndex == 3 + 25)
        #expect(data.payload.endIndex == 3 + message.count)
    }

    @Test func emptyInputThrowsEmpty() {
        #expect(throws: ReplicationMessageError.empty) { try ReplicationMessage.parse([]) }
    }

    @Test func everyTruncationOfAnXLogDataHeaderThrows() {
        let full = Self.literalXLogData
        #expect(throws: ReplicationMessageError.empty) { try ReplicationMessage.parse(full[..<0]) }
        for length in 1..<25 {
            #expect(throws: ReplicationMessageError.truncated(kind: kindW, length: length), "length \(length)") {
                try ReplicationMessage.parse(full[..<length])
            }
        }
    }

    /// Past the 25-byte header every prefix is a well-formed message with a shorter payload: the
    /// envelope cannot tell, so it must hand the exact prefix on.
    @Test func truncatingAnXLogDataPayloadShortensThePayload() throws {
        let full = Self.literalXLogData
        for length in 25...full.count {
            guard case .xLogData(let data) = try ReplicationMessage.parse(full[..<length]) else {
                Issue.record("length \(length): expected XLogData")
                continue
            }
            #expect(Array(data.payload) == Array(full[25..<length]))
            #expect(data.walStart == LSN(0x16_B374_D848))
        }
    }

    @Test func everyTruncationOfAKeepaliveThrows() {
        let full = Self.literalKeepalive
        #expect(full.count == 18)
        #expect(throws: ReplicationMessageError.empty) { try ReplicationMessage.parse(full[..<0]) }
        for length in 1..<18 {
            #expect(throws: ReplicationMessageError.truncated(kind: kindK, length: length), "length \(length)") {
                try ReplicationMessage.parse(full[..<length])
            }
        }
    }

    @Test(arguments: [1, 2, 7, 8, 100])
    func trailingBytesAfterAKeepaliveThrow(extra: Int) {
        let bytes = Self.literalKeepalive + [UInt8](repeating: 0, count: extra)
        #expect(throws: ReplicationMessageError.trailingBytes(kind: kindK, count: extra)) {
            try ReplicationMessage.parse(bytes[...])
        }
    }

    /// Every first byte other than 'w' and 'k' is rejected, however long the rest is. That includes
    /// 'r' (the client's own status update), 'W'/'K' and the CopyData tag 'd'.
    @Test func unknownKindsThrow() {
        for kind in UInt8.min...UInt8.max where kind != kindW && kind != kindK {
            for tail in [[], [UInt8](repeating: 0, count: 17), [UInt8](repeating: 0, count: 24)] {
                #expect(throws: ReplicationMessageError.unknownKind(kind)) {
                    try ReplicationMessage.parse(([kind] + tail)[...])
                }
            }
        }
    }

    @Test func errorDescriptionsNameTheProblem() {
        #expect(ReplicationMessageError.empty.description.contains("empty"))
        #expect(ReplicationMessageError.unknownKind(0xAB).description.contains("0xab"))
        let truncated = ReplicationMessageError.truncated(kind: kindW, length: 12).description
        #expect(truncated.contains("'w'") && truncated.contains("12"))
        let trailing = ReplicationMessageError.trailingBytes(kind: kindK, count: 3).description
        #expect(trailing.contains("'k'") && trailing.contains("3"))
    }

    // MARK: - Randomized

    /// What a correct parser must do with `bytes`, derived from the protocol documentation alone.
    enum Oracle: Equatable {
        case xLogData(walStart: UInt64, walEnd: UInt64, time: Int64, payload: [UInt8])
        case keepalive(walEnd: UInt64, time: Int64, reply: Bool)
        case error(ReplicationMessageError)

        init(_ bytes: [UInt8]) {
            guard let kind = bytes.first else {
                self = .error(.empty)
                return
            }
            switch kind {
            case kindW where bytes.count >= 25:
                self = .xLogData(
                    walStart: readBigEndian(bytes, at: 1), walEnd: readBigEndian(bytes, at: 9),
                    time: Int64(bitPattern: readBigEndian(bytes, at: 17)), payload: Array(bytes[25...]))
            case kindW:
                self = .error(.truncated(kind: kind, length: bytes.count))
            case kindK where bytes.count == 18:
                self = .keepalive(
                    walEnd: readBigEndian(bytes, at: 1), time: Int64(bitPattern: readBigEndian(bytes, at: 9)),
                    reply: bytes[17] != 0)
            case kindK where bytes.count < 18:
                self = .error(.truncated(kind: kind, length: bytes.count))
            case kindK:
                self = .error(.trailingBytes(kind: kind, count: bytes.count - 18))
            default:
                self = .error(.unknownKind(kind))
            }
        }

        init(parsing bytes: [UInt8]) {
            do {
                switch try ReplicationMessage.parse(bytes[...]) {
                case .xLogData(let data):
                    self = .xLogData(
                        walStart: data.walStart.rawValue, walEnd: data.walEnd.rawValue,
                        time: data.serverTime.rawValue, payload: Array(data.payload))
                case .primaryKeepalive(let keepalive):
                    self = .keepalive(
                        walEnd: keepalive.walEnd.rawValue, time: keepalive.serverTime.rawValue,
                        reply: keepalive.replyRequested)
                }
            } catch {
                self = .error(error)
            }
        }
    }

    /// Seeded random corruption of valid envelopes: truncation, extension, byte flips, kind changes and
    /// pure noise. The parser must never trap, and must agree with the oracle on every input.
    @Test(arguments: [UInt64(1), 2, 3, 0xDEAD_BEEF])
    func randomCorruptionNeverCrashesAndMatchesTheOracle(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var outcomes: [String: Int] = [:]
        for _ in 0..<5_000 {
            var bytes: [UInt8]
            if Bool.random(using: &random) {
                let payload = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                bytes = Self.xLogData(
                    walStart: random.next(), walEnd: random.next(), time: Int64(bitPattern: random.next()), payload: payload)
            } else {
                bytes = Self.keepalive(
                    walEnd: random.next(), time: Int64(bitPattern: random.next()), reply: UInt8.random(in: 0...2, using: &random))
            }
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                switch Int.random(in: 0..<6, using: &random) {
                case 0:
                    bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
                case 1:
                    bytes += (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                case 2 where !bytes.isEmpty:
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                case 3 where !bytes.isEmpty:
                    bytes[0] = [kindW, kindK, UInt8(ascii: "r"), 0][Int.random(in: 0..<4, using: &random)]
                case 4:
                    bytes = (0..<Int.random(in: 0...30, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                default:
                    if !bytes.isEmpty { bytes.remove(at: Int.random(in: 0..<bytes.count, using: &random)) }
                }
            }
            let expected = Oracle(bytes)
            let actual = Oracle(parsing: bytes)
            #expect(actual == expected, "input \(bytes)")
            switch expected {
            case .xLogData: outcomes["w", default: 0] += 1
            case .keepalive: outcomes["k", default: 0] += 1
            case .error: outcomes["error", default: 0] += 1
            }
        }
        // The corruption must actually exercise both the success and the failure paths.
        #expect(outcomes["w", default: 0] > 100)
        #expect(outcomes["k", default: 0] > 100)
        #expect(outcomes["error", default: 0] > 100)
    }
}
