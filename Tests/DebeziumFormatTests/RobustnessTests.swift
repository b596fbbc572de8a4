import DebeziumFormat
import Testing
import TestSupport

/// Damaged files must end in a typed error or a result, never in a trap: the reader runs on whatever a
/// user points `--debezium-config` at.
@Suite("Robustness against damaged files")
struct RobustnessTests {
    static let fixtures = [
        "kafka-connect-orders-outbox.json", "connect-standalone-inventory-outbox.properties",
        "debezium-server-shop-outbox.properties",
    ]

    /// Characters the three syntaxes give meaning to, plus a few that no syntax expects.
    static let significant: [Character] = [
        "\\", "=", ":", "#", "!", "{", "}", "[", "]", "\"", "'", ",", "$", "%", "\n", "\r", "\t", " ", "u", "0",
        "\u{FEFF}", "é", "😀", "\u{0}", ";", "/", "*",
    ]

    @Test(arguments: fixtures)
    func randomDamageEndsInATypedErrorOrAResult(_ fixture: String) throws {
        let original = Array(try ConfigFixture.text(fixture))
        var random = SplitMix64(seed: 0xDEB3_2105 &+ UInt64(fixture.utf8.count))
        let environment = ["DB_PASSWORD": "p", "KAFKA_USER": "u", "KAFKA_PASSWORD": "k"]
        var outcomes = (parsed: 0, settings: 0, failed: 0)
        for _ in 0..<400 {
            var text = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                Self.damage(&text, using: &random)
            }
            do {
                let file = try DebeziumConfigFile.parse(String(text), environment: environment)
                outcomes.parsed += 1
                _ = try DebeziumSettings(file)
                _ = try LibrdkafkaProducerConfig(file)
                outcomes.settings += 1
            } catch {
                outcomes.failed += 1
                #expect(!error.description.isEmpty)
                if let key = error.key { #expect(!key.isEmpty) }
            }
        }
        // Both paths are exercised: some damage is harmless, some is fatal.
        #expect(outcomes.parsed > 0)
        #expect(outcomes.failed > 0)
    }

    private static func damage(_ text: inout [Character], using random: inout SplitMix64) {
        guard !text.isEmpty else {
            text.append(significant.randomElement(using: &random) ?? "x")
            return
        }
        let position = Int.random(in: 0..<text.count, using: &random)
        switch Int.random(in: 0..<5, using: &random) {
        case 0:
            let end = min(text.count, position + Int.random(in: 1...40, using: &random))
            text.removeSubrange(position..<end)
        case 1:
            text.insert(significant.randomElement(using: &random) ?? "x", at: position)
        case 2:
            text[position] = significant.randomElement(using: &random) ?? "x"
        case 3:
            let end = min(text.count, position + Int.random(in: 1...80, using: &random))
            text.insert(contentsOf: text[position..<end], at: Int.random(in: 0...text.count, using: &random))
        default:
            text.removeSubrange(position...)
        }
    }
}
