import DebeziumFormat
import Foundation
import Testing

/// Outputs of the JDK that captured the goldens (OpenJDK 17.0.15), written by
/// Fixtures/java/JavaReference.java: Java's `Double.toString` (which Jackson, StringConverter and
/// SimpleHeaderConverter write for doubles) and Kafka Connect's `RegexRouter` logic (`matches()` then
/// `replaceFirst`). The goldens hold only four doubles and one regex; these hold thousands of cases.
@Suite("Java reference outputs (OpenJDK 17.0.15)")
struct JavaReferenceTests {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/java"))
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// Every double of double-tostring.tsv, written through StringConverter (Java's `toString`) and
    /// JsonConverter (Jackson's `writeNumber`, which quotes NaN and the infinities).
    @Test func doublesAreWrittenAsJavaWritesThem() throws {
        let text = StringConverterProbe()
        let json = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": "false"]))
        var checked = 0
        for line in try Self.fixture("double-tostring.tsv").split(separator: "\n") {
            let parts = line.split(separator: "\t")
            let bits = try #require(UInt64(parts[0], radix: 16))
            let expected = String(parts[1])
            let value = Double(bitPattern: bits)
            let rendered = try text.render(value)
            #expect(rendered == expected, "bits \(parts[0]): \(rendered ?? "") vs Java \(expected)")
            let quoted = value.isFinite ? expected : "\"\(expected)\""
            #expect(try json.serialize(.float64(value), schema: ConnectSchema(type: .float64, optional: false)).map { String(decoding: $0, as: UTF8.self) } == quoted)
            checked += 1
        }
        #expect(checked > 7000)
    }

    /// Every float of float-tostring.tsv, through JsonConverter (Jackson's `writeNumber(float)`, a `real`
    /// column's value) and StringConverter.
    @Test func floatsAreWrittenAsJavaWritesThem() throws {
        let text = StringConverterProbe()
        let json = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": "false"]))
        var checked = 0
        for line in try Self.fixture("float-tostring.tsv").split(separator: "\n") {
            let parts = line.split(separator: "\t")
            let bits = try #require(UInt32(parts[0], radix: 16))
            let expected = String(parts[1])
            let value = Float(bitPattern: bits)
            let rendered = try text.render(value)
            #expect(rendered == expected, "bits \(parts[0]): \(rendered ?? "") vs Java \(expected)")
            let quoted = value.isFinite ? expected : "\"\(expected)\""
            #expect(try json.serialize(.float32(value), schema: ConnectSchema(type: .float32, optional: false)).map { String(decoding: $0, as: UTF8.self) } == quoted)
            checked += 1
        }
        #expect(checked > 7000)
    }

    /// Every (regex, replacement, value) of regex-router.jsonl: the topic Java's RegexRouter gives, or, where
    /// Java throws (on compiling the regex, or on the first matching value), a refusal when the router is
    /// made. Values with U+000B or U+000C are checked only for the default regex shape (ICU's `.` differs).
    @Test func routingMatchesJavasRegexRouter() throws {
        var checked = 0
        for line in try Self.fixture("regex-router.jsonl").split(separator: "\n") {
            let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String])
            let (regex, replacement, value, result) = (row[0], row[1], row[2], row[3])
            let router: OutboxTopicRouter
            switch Result(catching: { () throws(EventRouterConfigurationError) in try OutboxTopicRouter(regex: regex, replacement: replacement) }) {
            case .success(let made):
                router = made
            case .failure(.invalidTopicRegex):
                #expect(result.hasPrefix("!regex: "), "\(regex): Java compiles it")
                checked += 1
                continue
            case .failure(.invalidTopicReplacement(_, let reason)):
                // Java throws only for values that match; other values keep their name there.
                #expect(result == "!replacement: \(reason)" || result == value, "\(regex) \(replacement) \(value.debugDescription): \(result)")
                checked += 1
                continue
            case .failure(let error):
                Issue.record("unexpected \(error)")
                continue
            }
            #expect(!result.hasPrefix("!"), "\(regex) \(replacement): Java throws \(result)")
            let icuDiffers = regex != "(?<routedByValue>.*)" && value.unicodeScalars.contains { $0 == "\u{0B}" || $0 == "\u{0C}" }
            if !icuDiffers {
                #expect(router.topic(forRoutedByValue: value) == result, "\(regex) \(replacement) \(value.debugDescription)")
            }
            checked += 1
        }
        #expect(checked > 100)
    }
}

/// `StringConverter`'s text of a double (Java's `Double.toString`).
private struct StringConverterProbe {
    let serializer = ConnectRecordSerializer(converter: ConverterSetting(kind: .string))

    func render(_ value: Double) throws -> String? {
        try serializer.serialize(.float64(value), schema: ConnectSchema(type: .float64, optional: false)).map { String(decoding: $0, as: UTF8.self) }
    }

    func render(_ value: Float) throws -> String? {
        try serializer.serialize(.float32(value), schema: ConnectSchema(type: .float32, optional: false)).map { String(decoding: $0, as: UTF8.self) }
    }
}
