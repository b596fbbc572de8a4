@testable import Connector
import Foundation
import Testing

/// outbox-event-bus's record values against the bytes the real Jackson wrote for the same fields, configured
/// as the relay configures it (Fixtures/outbox-event-bus: JacksonValues.java, its README for the facts).
@Suite struct OutboxEventBusGoldenTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var topic: String
        var uuid: String
        var messageType: String
        var mimeType: String
        var payload: [UInt8]
        var epochSecond: Int64
        var nanos: Int64
        var testDescription: String { name }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/outbox-event-bus")

    static let cases: [Case] = {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("cases.json").path),
              let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { return [] }
        return list.compactMap { entry in
            guard let name = entry["name"] as? String, let topic = entry["topic"] as? String, let uuid = entry["uuid"] as? String,
                  let messageType = entry["msgType"] as? String, let mimeType = entry["mimeType"] as? String,
                  let hex = entry["payloadHex"] as? String, let timestamp = entry["timestamp"] as? [String: Any],
                  let seconds = (timestamp["epochSecond"] as? NSNumber)?.int64Value, let nanos = (timestamp["nanos"] as? NSNumber)?.int64Value
            else { return nil }
            var payload: [UInt8] = []
            var digits = hex.utf8.makeIterator()
            while let high = digits.next(), let low = digits.next() {
                guard let byte = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
                payload.append(byte)
            }
            return Case(name: name, topic: topic, uuid: uuid, messageType: messageType, mimeType: mimeType, payload: payload,
                        epochSecond: seconds, nanos: nanos)
        }
    }()

    @Test func everyCaseIsRead() {
        #expect(Self.cases.count >= 39)
    }

    @Test(arguments: cases)
    func theValueIsJacksons(_ golden: Case) throws {
        let expected = try #require(FileManager.default.contents(atPath: Self.directory.appendingPathComponent("\(golden.name).value").path))
        // outbox-cdc's clock gives microseconds; a golden instant with nanoseconds keeps its own text (the
        // instant's form is checked on its own below).
        let timestamp = golden.nanos % 1000 == 0
            ? OutboxEventBusEnvelope.instantText(microseconds: golden.epochSecond * 1_000_000 + golden.nanos / 1000)
            : Self.javaInstantText(in: [UInt8](expected))
        let value = OutboxEventBusEnvelope.render(
            topic: Array(golden.topic.utf8), uuid: Array(golden.uuid.utf8), timestamp: timestamp, messageType: Array(golden.messageType.utf8),
            mimeType: Array(golden.mimeType.utf8), payload: golden.payload
        )
        #expect(value == [UInt8](expected), "\(String(decoding: value, as: UTF8.self))\n---\n\(String(decoding: expected, as: UTF8.self))")
    }

    /// The `"timestamp" : "…"` text of a golden value.
    static func javaInstantText(in value: [UInt8]) -> String {
        let text = String(decoding: value, as: UTF8.self)
        guard let start = text.range(of: "\"timestamp\" : \"") else { return "" }
        return String(text[start.upperBound...].prefix { $0 != "\"" })
    }

    /// Java's UTF-8 replacement where it differs from Swift's (after ED), and where both agree.
    @Test(arguments: [
        ([0xED, 0xA0, 0x80] as [UInt8], "\u{FFFD}"),
        ([0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80], "\u{FFFD}\u{FFFD}"),
        ([0xED, 0xA0], "\u{FFFD}"),
        ([0xC0, 0xAF], "\u{FFFD}\u{FFFD}"),
        ([0xF4, 0x90, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xF0, 0x9F, 0x98], "\u{FFFD}"),
        ([0x61, 0xFF, 0x62], "a\u{FFFD}b"),
        ([0xE2, 0x82], "\u{FFFD}"),
        ([0xF0, 0x9F, 0x98, 0x80], "😀"),
        ([0xED, 0x9F, 0xBF], "\u{D7FF}"),
    ])
    func malformedUTF8IsReplacedAsJavaDoes(bytes: [UInt8], expected: String) {
        #expect(OutboxEventBusEnvelope.validUTF8(bytes) == Array(expected.utf8))
    }
}
