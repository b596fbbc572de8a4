import Foundation
import PgOutputDecoder
import PostgresLSN
import Testing

/// A fixture captured by scripts/capture-pgoutput-fixtures: one pgoutput message per line, in hex.
struct Fixture: CustomTestStringConvertible, Sendable {
    let name: String
    let protocolVersion: Int
    /// Whether the capture used `streaming = parallel`; it changes the wire format from protocol 4 on only.
    let parallelStreaming: Bool

    init(name: String, protocolVersion: Int, parallelStreaming: Bool = false) {
        self.name = name
        self.protocolVersion = protocolVersion
        self.parallelStreaming = parallelStreaming
    }

    static let all: [Fixture] = [
        Fixture(name: "proto1_basic", protocolVersion: 1),
        Fixture(name: "proto1_update_delete", protocolVersion: 1),
        Fixture(name: "proto1_toast", protocolVersion: 1),
        Fixture(name: "proto1_truncate", protocolVersion: 1),
        Fixture(name: "proto1_messages", protocolVersion: 1),
        Fixture(name: "proto1_origin", protocolVersion: 1),
        Fixture(name: "proto1_type", protocolVersion: 1),
        Fixture(name: "proto1_binary", protocolVersion: 1),
        Fixture(name: "proto2_streaming", protocolVersion: 2),
        Fixture(name: "proto3_two_phase", protocolVersion: 3),
        Fixture(name: "proto4_parallel_streaming", protocolVersion: 4, parallelStreaming: true),
        Fixture(name: "proto4_stream_abort", protocolVersion: 4, parallelStreaming: true),
    ]

    var testDescription: String { name }

    /// The raw messages, in capture order. Comment lines ('#') and blank lines are skipped.
    func messages() throws -> [[UInt8]] {
        let url = try #require(
            Bundle.module.url(forResource: name, withExtension: "hex", subdirectory: "Fixtures"),
            "fixture \(name).hex is missing from the test bundle")
        let text = try String(contentsOf: url, encoding: .utf8)
        var messages: [[UInt8]] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let bytes: [UInt8]? = hexBytes(trimmed)
            messages.append(try #require(bytes, "fixture \(name) has a line that is not hex: \(trimmed.prefix(40))"))
        }
        return messages
    }

    /// A decoder configured as the capture's replication connection was.
    func makeDecoder() -> PgOutputDecoder {
        PgOutputDecoder(protocolVersion: protocolVersion, parallelStreaming: parallelStreaming)
    }

    /// Every message decoded in order by one decoder, each paired with the decoder state it was decoded in,
    /// so that other tests can replay a single message in its context.
    func decodeAll() throws -> [DecodedMessage] {
        var decoder = makeDecoder()
        var result: [DecodedMessage] = []
        for (index, bytes) in try messages().enumerated() {
            let before = decoder
            do {
                let message = try decoder.decode(bytes)
                result.append(DecodedMessage(index: index, bytes: bytes, decoderBefore: before, message: message))
            } catch {
                Issue.record("\(name) message \(index) failed to decode: \(error)")
                throw error
            }
        }
        return result
    }
}

struct DecodedMessage {
    let index: Int
    let bytes: [UInt8]
    let decoderBefore: PgOutputDecoder
    let message: PgOutputMessage
}

func hexBytes(_ hex: some StringProtocol) -> [UInt8]? {
    let digits = Array(hex.utf8)
    guard digits.count.isMultiple(of: 2) else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
        index += 2
    }
    return bytes
}

private func hexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Builds pgoutput messages by hand, field by field, big-endian as on the wire. Each call returns a new
/// builder, so vectors read as one chained expression.
struct MessageBuilder {
    let bytes: [UInt8]

    init(_ type: Character) {
        bytes = [type.asciiValue ?? 0]
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    func raw(_ value: [UInt8]) -> Self {
        Self(bytes: bytes + value)
    }

    func byte(_ value: UInt8) -> Self {
        raw([value])
    }

    func char(_ value: Character) -> Self {
        byte(value.asciiValue ?? 0)
    }

    func uint16(_ value: UInt16) -> Self {
        raw([UInt8(value >> 8), UInt8(value & 0xFF)])
    }

    func uint32(_ value: UInt32) -> Self {
        raw(stride(from: 24, through: 0, by: -8).map { UInt8(truncatingIfNeeded: value >> UInt32($0)) })
    }

    func int32(_ value: Int32) -> Self {
        uint32(UInt32(bitPattern: value))
    }

    func uint64(_ value: UInt64) -> Self {
        raw(stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: value >> UInt64($0)) })
    }

    func int64(_ value: Int64) -> Self {
        uint64(UInt64(bitPattern: value))
    }

    func cString(_ value: String) -> Self {
        raw(Array(value.utf8) + [0])
    }

    /// A tuple of text columns (nil = 'n').
    func textTuple(_ values: [String?]) -> Self {
        values.reduce(uint16(UInt16(values.count))) { builder, value in
            guard let value else { return builder.char("n") }
            return builder.char("t").int32(Int32(value.utf8.count)).raw(Array(value.utf8))
        }
    }
}

extension PgOutputMessage.TupleData {
    /// Text columns as Strings, for readable expectations; "<null>", "<unchanged>" and "<binary>" otherwise.
    var texts: [String] {
        columns.map { column in
            switch column {
            case .null: "<null>"
            case .unchangedToast: "<unchanged>"
            case .text(let bytes): String(decoding: bytes, as: UTF8.self)
            case .binary: "<binary>"
            }
        }
    }
}

extension PgOutputMessage {
    var caseName: String {
        switch self {
        case .begin: "begin"
        case .commit: "commit"
        case .origin: "origin"
        case .relation: "relation"
        case .type: "type"
        case .insert: "insert"
        case .update: "update"
        case .delete: "delete"
        case .truncate: "truncate"
        case .message: "message"
        case .streamStart: "streamStart"
        case .streamStop: "streamStop"
        case .streamCommit: "streamCommit"
        case .streamAbort: "streamAbort"
        case .beginPrepare: "beginPrepare"
        case .prepare: "prepare"
        case .commitPrepared: "commitPrepared"
        case .rollbackPrepared: "rollbackPrepared"
        case .streamPrepare: "streamPrepare"
        }
    }

    /// The in-stream xid of a change message; nil for other messages.
    var streamedTransactionID: UInt32?? {
        switch self {
        case .relation(let m): m.transactionID
        case .type(let m): m.transactionID
        case .insert(let m): m.transactionID
        case .update(let m): m.transactionID
        case .delete(let m): m.transactionID
        case .truncate(let m): m.transactionID
        case .message(let m): m.transactionID
        default: nil
        }
    }
}
