import PgOutputDecoder
import PostgresLSN
import TestSupport
import Testing

/// Malformed input must produce a `PgOutputDecodingError`, never a trap and never a wrong message. Each case
/// replays a fixture message in the decoder state it was captured in (inside or outside a streamed block).
@Suite("Truncated, extended and corrupted input")
struct RobustnessTests {
    /// Every strict prefix of every captured message fails as truncated (or empty). No prefix of a pgoutput
    /// message is itself a valid message: every variable part is announced by a count or length, or ends
    /// with a NUL, before it starts, so cutting anywhere leaves a field short.
    @Test("every strict prefix is rejected as truncated", arguments: Fixture.all)
    func everyPrefixIsTruncated(fixture: Fixture) throws {
        var cases = 0
        for entry in try fixture.decodeAll() {
            for length in 0..<entry.bytes.count {
                var decoder = entry.decoderBefore
                cases += 1
                do {
                    let message = try decoder.decode(entry.bytes[..<length])
                    Issue.record("\(fixture.name) message \(entry.index) prefix \(length) decoded as \(message)")
                } catch .emptyMessage {
                    #expect(length == 0)
                } catch .truncated(let type, _, let needed, let available, let offset) {
                    #expect(type == entry.bytes[0])
                    #expect(needed > available)
                    #expect(offset + available == length, "available bytes are counted from the failing offset")
                } catch {
                    Issue.record("\(fixture.name) message \(entry.index) prefix \(length): unexpected \(error)")
                }
                // A failed decode leaves the stream state as it was.
                #expect(decoder.isInsideStreamBlock == entry.decoderBefore.isInsideStreamBlock)
            }
        }
        #expect(cases > 100)
    }

    @Test("a byte after a complete message is rejected as trailing", arguments: Fixture.all)
    func trailingBytesAreRejected(fixture: Fixture) throws {
        var random = SplitMix64(seed: 0x7EA1_1176)
        for entry in try fixture.decodeAll() {
            for extra in [[0], [UInt8.random(in: 0...255, using: &random)], entry.bytes] {
                var decoder = entry.decoderBefore
                #expect(throws: PgOutputDecodingError.unexpectedTrailingBytes(
                    messageType: entry.bytes[0], count: extra.count, offset: entry.bytes.count)
                ) {
                    try decoder.decode(entry.bytes + extra)
                }
            }
        }
    }

    /// The decoder reads slices of a larger buffer (the connector passes the XLogData payload in place):
    /// results and error offsets must not depend on where the slice starts.
    @Test("decoding a slice in the middle of a buffer", arguments: Fixture.all)
    func decodesSlicesWithNonZeroStart(fixture: Fixture) throws {
        for entry in try fixture.decodeAll() {
            let buffer = [0xAA, 0xBB, 0xCC] + entry.bytes + [0xDD]
            let slice = buffer[3..<(3 + entry.bytes.count)]
            var decoder = entry.decoderBefore
            #expect(try decoder.decode(slice) == entry.message)

            var truncating = entry.decoderBefore
            let cut = buffer[3..<(3 + entry.bytes.count - 1)]
            do {
                _ = try truncating.decode(cut)
                Issue.record("a truncated slice decoded")
            } catch .truncated(_, _, _, let available, let offset) {
                #expect(offset + available == entry.bytes.count - 1)
            } catch .emptyMessage {
                #expect(entry.bytes.count == 1)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    /// Seeded random mutations of every captured message: byte flips, insertions, deletions, and length or
    /// count fields overwritten with extreme values. Each must decode or throw; reaching the end without a
    /// trap is the test. The kinds of error seen are checked too, so the mutations demonstrably reach deep
    /// into the decoder rather than all failing at the first byte.
    @Test("seeded random corruption never traps")
    func randomCorruption() throws {
        var random = SplitMix64(seed: 0x5EED_0F_C0DE)
        var outcomes: [String: Int] = [:]
        var cases = 0
        let extremes: [[UInt8]] = [
            [0x7F, 0xFF, 0xFF, 0xFF], [0x80, 0x00, 0x00, 0x00], [0xFF, 0xFF, 0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0xFE],
            [0x00, 0x01, 0x00, 0x00], [0xFF, 0xFF], [0x7F, 0xFF], [0x00, 0x00, 0x00, 0x00],
        ]
        for fixture in Fixture.all {
            for entry in try fixture.decodeAll() {
                for _ in 0..<40 {
                    var bytes = entry.bytes
                    let mutations = Int.random(in: 1...3, using: &random)
                    for _ in 0..<mutations {
                        mutate(&bytes, extremes: extremes, using: &random)
                    }
                    var decoder = entry.decoderBefore
                    cases += 1
                    do {
                        let message = try decoder.decode(bytes)
                        outcomes["decoded", default: 0] += 1
                        checkSlicesLieInside(message, input: bytes)
                    } catch {
                        outcomes[Self.caseName(error), default: 0] += 1
                        #expect(decoder.isInsideStreamBlock == entry.decoderBefore.isInsideStreamBlock)
                    }
                }
            }
        }
        #expect(cases >= 5000)
        for expected in [
            "decoded", "truncated", "invalidLength", "invalidTupleColumnKind", "unexpectedTrailingBytes",
            "unknownMessageType", "invalidUTF8",
        ] {
            #expect(outcomes[expected, default: 0] > 0, "no mutation produced \(expected): \(outcomes)")
        }
    }

    /// Entirely random bytes, with every message type byte in front, in both stream states.
    @Test("random bodies behind every type byte never trap")
    func randomBodies() {
        var random = SplitMix64(seed: 42)
        for version in 1...4 {
            for insideStream in [false, true] {
                for type in UInt8(0)...UInt8(255) {
                    for _ in 0..<12 {
                        var decoder = PgOutputDecoder(protocolVersion: version)
                        if insideStream { _ = try? decoder.decode([0x53, 0, 0, 0, 9, 1]) }
                        let length = Int.random(in: 0...48, using: &random)
                        var bytes = [type]
                        for _ in 0..<length { bytes.append(UInt8.random(in: 0...255, using: &random)) }
                        if let message = try? decoder.decode(bytes) {
                            checkSlicesLieInside(message, input: bytes)
                        }
                    }
                }
            }
        }
    }

    private func mutate(_ bytes: inout [UInt8], extremes: [[UInt8]], using random: inout SplitMix64) {
        switch Int.random(in: 0..<6, using: &random) {
        case 0 where !bytes.isEmpty: // flip bits of one byte
            let index = Int.random(in: 0..<bytes.count, using: &random)
            bytes[index] ^= UInt8.random(in: 1...255, using: &random)
        case 1: // insert a byte
            let index = Int.random(in: 0...bytes.count, using: &random)
            bytes.insert(UInt8.random(in: 0...255, using: &random), at: index)
        case 2 where !bytes.isEmpty: // delete a run
            let index = Int.random(in: 0..<bytes.count, using: &random)
            let count = min(Int.random(in: 1...4, using: &random), bytes.count - index)
            bytes.removeSubrange(index..<(index + count))
        case 3 where bytes.count > 1: // an extreme length or count at any position (the type byte is kept)
            let value = extremes[Int.random(in: 0..<extremes.count, using: &random)]
            let index = Int.random(in: 1..<bytes.count, using: &random)
            for (offset, byte) in value.enumerated() where index + offset < bytes.count {
                bytes[index + offset] = byte
            }
        case 4 where bytes.count > 1: // a zero byte, which ends C strings early
            bytes[Int.random(in: 1..<bytes.count, using: &random)] = 0
        default: // a byte that is invalid as UTF-8 anywhere
            if bytes.count > 1 {
                bytes[Int.random(in: 1..<bytes.count, using: &random)] = 0xFF
            }
        }
    }

    /// A successful decode of mutated bytes may be nonsense, but its slices must be real parts of the input.
    private func checkSlicesLieInside(_ message: PgOutputMessage, input: [UInt8]) {
        var slices: [ArraySlice<UInt8>] = []
        func collect(_ tuple: PgOutputMessage.TupleData) {
            for column in tuple.columns { if let bytes = column.bytes { slices.append(bytes) } }
        }
        switch message {
        case .insert(let m): collect(m.newTuple)
        case .update(let m): collect(m.newTuple); if let old = m.oldTuple { collect(old.tuple) }
        case .delete(let m): collect(m.oldTuple.tuple)
        case .message(let m): slices.append(m.content)
        default: break
        }
        for slice in slices {
            #expect(slice.startIndex >= 0 && slice.endIndex <= input.count)
            #expect(slice.elementsEqual(input[slice.indices]))
        }
    }

    private static func caseName(_ error: PgOutputDecodingError) -> String {
        switch error {
        case .emptyMessage: "emptyMessage"
        case .unknownMessageType: "unknownMessageType"
        case .messageTypeNotInProtocolVersion: "messageTypeNotInProtocolVersion"
        case .truncated: "truncated"
        case .invalidLength: "invalidLength"
        case .invalidTupleColumnKind: "invalidTupleColumnKind"
        case .invalidTupleMarker: "invalidTupleMarker"
        case .invalidFieldValue: "invalidFieldValue"
        case .invalidUTF8: "invalidUTF8"
        case .unexpectedTrailingBytes: "unexpectedTrailingBytes"
        case .streamStateViolation: "streamStateViolation"
        }
    }
}
