import DebeziumFormat
import Foundation
import Testing
import TestSupport

/// Records captured from the real Debezium 3.6.3 (scripts/capture-debezium-goldens; each case's folder holds
/// the SQL and properties that made them). The same rows were captured under several converters, so the
/// StringConverter capture gives each record's Kafka Connect key and value exactly as Debezium held them
/// before converting; every other capture must then be what `ConnectRecordSerializer` makes of those.
@Suite("Golden records from Debezium 3.6.3")
struct GoldenRecordTests {
    /// Cases whose outbox table is `public.outbox` with a nullable `aggregateid varchar` and a nullable
    /// `payload jsonb` (see their setup.sql), so both schemas are optional strings, the value's named Json.
    static let jsonbCases = ["json-schemas", "json-noschemas", "string-key-json-value", "string-string"]

    /// Captures of the same rows, and the capture whose converters write Kafka Connect's values unchanged
    /// (StringConverter for jsonb text, ByteArrayConverter for bytea), with the value's schema.
    static let convertedCases: [(caseName: String, source: String, payloadIsBytes: Bool)] =
        jsonbCases.map { ($0, "string-string", false) }
        + ["bytea-bytearray", "bytea-binarydata", "bytea-json-schemas"].map { ($0, "bytea-bytearray", true) }

    @Test(arguments: convertedCases.map(\.caseName))
    func keysAndValuesAreTheConvertersOutput(caseName: String) throws {
        let setup = try #require(Self.convertedCases.first { $0.caseName == caseName })
        let connectValues = try GoldenCase.load(setup.source).recordsByEventID()
        let golden = try GoldenCase.load(caseName)
        let keySerializer = ConnectRecordSerializer(converter: try golden.converter("KEY"))
        let valueSerializer = ConnectRecordSerializer(converter: try golden.converter("VAL"))
        let valueSchema = setup.payloadIsBytes ? ConnectSchema(type: .bytes, optional: true) : .json(optional: true)
        let records = try golden.records()
        #expect(records.count == Int(golden.environment["EXPECTED_RECORDS"] ?? ""), "the capture is complete")
        for record in records {
            let eventID = try #require(record.headerText("id"))
            let source = try #require(connectValues[eventID], "event \(eventID) is in the \(setup.source) capture")
            let key = try keySerializer.serialize(source.key.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null,
                                                  schema: ConnectSchema(type: .string, optional: true))
            let sourceValue: ConnectData = source.value.map {
                setup.payloadIsBytes ? .bytes($0) : .string(String(decoding: $0, as: UTF8.self))
            } ?? .null
            let value = try valueSerializer.serialize(sourceValue, schema: valueSchema)
            #expect(key == record.key, "key of \(eventID) in \(caseName): \(text(key)) vs \(text(record.key))")
            #expect(value == record.value, "value of \(eventID) in \(caseName): \(text(value)) vs \(text(record.value))")
        }
    }

    /// NOT NULL `aggregateid` and `payload` columns: Debezium's key and value schemas say `optional: false`
    /// (json-schemas-notnull), where nullable columns give `optional: true`.
    @Test func notNullColumnsGiveRequiredSchemas() throws {
        let golden = try GoldenCase.load("json-schemas-notnull")
        let keySerializer = ConnectRecordSerializer(converter: try golden.converter("KEY"))
        let valueSerializer = ConnectRecordSerializer(converter: try golden.converter("VAL"))
        let payloads = ["00000000-0000-4000-8000-000000000001": ("order-1", #"{"n": 1}"#),
                        "00000000-0000-4000-8000-000000000002": ("order-2", "[]")]
        let records = try golden.records()
        #expect(records.count == 2)
        for record in records {
            let eventID = try #require(record.headerText("id"))
            let (key, payload) = try #require(payloads[eventID])
            let keyBytes = try keySerializer.serialize(.string(key), schema: ConnectSchema(type: .string, optional: false))
            let valueBytes = try valueSerializer.serialize(.string(payload), schema: .json(optional: false))
            #expect(keyBytes == record.key, "key of \(eventID): \(text(keyBytes)) vs \(text(record.key))")
            #expect(valueBytes == record.value, "value of \(eventID): \(text(valueBytes)) vs \(text(record.value))")
        }
    }

    /// `extended.headers.enabled=false`: the EventRouter's `id` is the only header; key and value are as
    /// without it.
    @Test func withoutExtendedHeadersOnlyTheEventIDIsAHeader() throws {
        let same = try GoldenCase.load("string-key-json-value").recordsByEventID()
        let records = try GoldenCase.load("extended-headers-off").records()
        #expect(records.count == 11)
        for record in records {
            #expect(record.headers.map(\.name) == ["id"])
            let eventID = try #require(record.headerText("id"))
            let other = try #require(same[eventID])
            #expect(record.key == other.key && record.value == other.value && record.topic == other.topic)
        }
    }

    /// json, text and varchar payload columns under JsonConverter with schemas: json keeps Debezium's Json
    /// name, text and varchar are plain optional strings. The Connect value is read back from the captured
    /// envelope, so writing it again must give the captured bytes exactly (Jackson's escaping included:
    /// control characters, DEL, U+2028, surrogate pairs, `</script>`).
    @Test func payloadColumnTypesHaveTheirSchemas() throws {
        let golden = try GoldenCase.load("payload-types")
        let valueSerializer = ConnectRecordSerializer(converter: try golden.converter("VAL"))
        var seen: Set<String> = []
        for record in try golden.records() {
            let captured = try #require(record.value)
            let envelope = try #require(try JSONSerialization.jsonObject(with: Data(captured)) as? [String: Any])
            let payload: ConnectData = (envelope["payload"] as? String).map { .string($0) } ?? .null
            let schema: ConnectSchema = record.topic.hasSuffix(".Json") ? .json(optional: true) : ConnectSchema(type: .string, optional: true)
            let value = try valueSerializer.serialize(payload, schema: schema)
            #expect(value == record.value, "\(record.topic): \(text(value)) vs \(text(record.value))")
            seen.insert(record.topic)
        }
        #expect(seen == ["outbox.event.Json", "outbox.event.Text", "outbox.event.Varchar"])
    }

    /// The headers Debezium 3.3+ adds, then the EventRouter's `id`. Values are plain UTF-8 whatever the
    /// converters; only `runId` changes from one start of the connector to the next.
    @Test(arguments: convertedCases.map(\.caseName))
    func headersAreTheContextHeadersThenTheEventID(caseName: String) throws {
        let golden = try GoldenCase.load(caseName)
        let prefix = try #require(golden.environment["DBZ_NAME"])
        for record in try golden.records() {
            #expect(record.headers.map(\.name) == [
                "__debezium.context.connectorLogicalName", "__debezium.context.taskId",
                "__debezium.context.connectorName", "__debezium.context.runId", "id",
            ])
            #expect(record.headerText("__debezium.context.connectorLogicalName") == prefix)
            #expect(record.headerText("__debezium.context.taskId") == "0")
            #expect(record.headerText("__debezium.context.connectorName") == "postgresql")
            let runID = try #require(record.headerText("__debezium.context.runId"))
            #expect(UUID(uuidString: runID) != nil && runID.dropFirst(14).first == "7", "a UUID v7: \(runID)")
        }
    }

    /// The Java client's default partitioner: murmur2 of the *converted* key bytes, positive, modulo the
    /// partition count (4 in every capture). librdkafka's `murmur2_random`, outbox-cdc's default, is the
    /// same function, so the serialized key alone decides the partition.
    @Test(arguments: convertedCases.map(\.caseName))
    func partitionIsMurmur2OfTheSerializedKey(caseName: String) throws {
        var checked = 0
        for record in try GoldenCase.load(caseName).records() {
            guard let key = record.key else { continue }
            #expect(record.partition == Int((kafkaMurmur2(key) & 0x7FFF_FFFF) % 4), "\(text(key))")
            checked += 1
        }
        #expect(checked >= 8)
    }

    @Test func jacksonEscapingMatchesTheCapture() throws {
        let serializer = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": "false"]))
        let written = try serializer.serialize(.string("a\"b\\c\u{1}\u{1F}\n\t\u{8}\u{C}\r/é😀\u{2028}</script>"), schema: .json(optional: true))
        #expect(written.map(text) == #""a\"b\\c\u0001\u001F\n\t\b\f\r/é\uD83D\uDE00\#u{2028}</script>""#)
    }

    @Test func bytesAreBase64InJSON() throws {
        let serializer = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": "false"]))
        for (bytes, expected) in [([UInt8](), "\"\""), ([0x00], "\"AA==\""), ([0x00, 0xFF], "\"AP8=\""), ([0xDE, 0xAD, 0xBE], "\"3q2+\"")] {
            #expect(try serializer.serialize(.bytes(bytes), schema: ConnectSchema(type: .bytes, optional: true)).map(text) == expected)
        }
    }

    @Test func convertersRefuseTheWrongKindOfColumn() {
        #expect(throws: ConnectSerializationError.stringConverterGotBytes) {
            try ConnectRecordSerializer(converter: ConverterSetting(kind: .string)).serialize(.bytes([1]), schema: ConnectSchema(type: .bytes, optional: true))
        }
        #expect(throws: ConnectSerializationError.bytesConverterGotText(.byteArray)) {
            try ConnectRecordSerializer(converter: ConverterSetting(kind: .byteArray)).serialize(.string("x"), schema: ConnectSchema(type: .string, optional: true))
        }
    }
}

private func text(_ bytes: [UInt8]?) -> String {
    bytes.map { String(decoding: $0, as: UTF8.self) } ?? "(null)"
}

/// One captured case: its case.env and its records.jsonl.
struct GoldenCase {
    struct Record {
        var topic: String
        var partition: Int
        var key: [UInt8]?
        var value: [UInt8]?
        var headers: [(name: String, value: [UInt8]?)]

        func header(_ name: String) -> [UInt8]? {
            headers.first { $0.name == name }?.value
        }

        func headerText(_ name: String) -> String? {
            header(name).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    var name: String
    var directory: URL
    var environment: [String: String]

    static func load(_ name: String) throws -> GoldenCase {
        let directory = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/goldens"))
        let environment = caseEnvironment(try String(contentsOf: directory.appendingPathComponent("case.env"), encoding: .utf8))
        return GoldenCase(name: name, directory: directory, environment: environment)
    }

    /// The converter the capture ran with: `DBZ_<KEY|VAL>_CONV` and `DBZ_<KEY|VAL>_SCHEMAS` (debezium.sh's
    /// defaults: JsonConverter, schemas enabled).
    func converter(_ slot: String) throws -> ConverterSetting {
        let className = environment["DBZ_\(slot)_CONV"] ?? ConverterKind.json.rawValue
        let kind = try #require(ConverterKind(className: className), "converter \(className)")
        return ConverterSetting(kind: kind, options: ["schemas.enable": environment["DBZ_\(slot)_SCHEMAS"] ?? "true"])
    }

    func records() throws -> [Record] {
        let text = try String(contentsOf: directory.appendingPathComponent("records.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let headers = try #require(object["headers"] as? [[Any]]).map { pair in
                (name: pair.first as? String ?? "", value: (pair.last as? String).flatMap { bytes(hex: $0) })
            }
            return Record(
                topic: try #require(object["topic"] as? String),
                partition: try #require(object["partition"] as? Int),
                key: (object["key_hex"] as? String).flatMap { bytes(hex: $0) },
                value: (object["value_hex"] as? String).flatMap { bytes(hex: $0) },
                headers: headers
            )
        }
    }

    /// Each record's key and value by its `id` header.
    func recordsByEventID() throws -> [String: Record] {
        var byID: [String: Record] = [:]
        for record in try records() {
            if let id = record.headerText("id") { byID[id] = record }
        }
        return byID
    }
}
