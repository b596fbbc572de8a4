@testable import DebeziumFormat
import Foundation
import PgOutputDecoder
import Testing
import TestSupport

/// Each column type of a captured table against the real Debezium 3.6.3's change events
/// (Fixtures/goldens/change-types-*): the pgoutput stream of the same changes (`pgoutput.txt`, read from a
/// second slot beside Debezium's) is decoded, each row's columns are typed by `ChangeEventColumnType`, and
/// the row struct's schema and payload must be the bytes inside Debezium's record value.
///
/// What the catalog tells besides pgoutput (NOT NULL, the enum's labels, the defaults Debezium derives from
/// the column defaults) is given here from the case's setup SQL.
@Suite("Change event column types, as Debezium 3.6.3 wrote them")
struct ChangeEventColumnGoldenTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var modes: ColumnValueModes
        var schemas: Bool
        var description: String { name }
    }

    static let cases = [
        Case(name: "change-types-schemas", modes: ColumnValueModes(), schemas: true),
        Case(name: "change-types-noschemas", modes: ColumnValueModes(), schemas: false),
        Case(name: "change-types-decimal-string", modes: ColumnValueModes(decimal: .string), schemas: true),
        Case(name: "change-types-decimal-double", modes: ColumnValueModes(decimal: .double), schemas: true),
        Case(name: "change-types-time-connect", modes: ColumnValueModes(time: .connect), schemas: true),
    ]

    /// From change-types.setup.sql: the NOT NULL columns and the defaults Debezium gives their schemas.
    static let notNull: [String: ConnectData] = [
        "id": .int64(0), "c_serial": .int32(0), "c_bigserial": .int64(0), "c_text_nn": .string("default text"), "c_int_nn": .int32(42),
    ]
    static let moodLabels = ["sad", "ok", "happy"]

    @Test(arguments: cases)
    func everyColumnOfEveryRowIsDebeziums(_ golden: Case) throws {
        let directory = try #require(Bundle.module.url(forResource: golden.name, withExtension: nil, subdirectory: "Fixtures/goldens"))
        let changes = try Self.changes(in: directory.appendingPathComponent("pgoutput.txt"))
        let serializer = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": "false"]))
        var rowsChecked = 0
        var schemaChecked = false
        for line in try String(contentsOf: directory.appendingPathComponent("records.jsonl"), encoding: .utf8).split(separator: "\n") {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let valueHex = record["value_hex"] as? String, !valueHex.isEmpty else { continue }
            let valueText = String(decoding: try #require(bytes(hex: valueHex)), as: UTF8.self)
            let value = try #require(try JSONSerialization.jsonObject(with: Data(valueText.utf8)) as? [String: Any])
            let payload = try #require((golden.schemas ? value["payload"] : value) as? [String: Any])
            guard payload["after"] is [String: Any] else { continue }
            let source = try #require(payload["source"] as? [String: Any])
            let lsn = try #require((source["lsn"] as? NSNumber)?.uint64Value)
            let (relation, row) = try #require(changes[lsn], "no pgoutput change at LSN \(lsn)")
            let prefix = try #require(source["name"] as? String)

            var fields: [ConnectField] = []
            var values: [ConnectData] = []
            for (column, datum) in zip(relation.columns, row) {
                let type = ChangeEventColumnType(
                    type: PostgresColumnType(oid: column.typeOID, typmod: column.typeModifier),
                    enumLabels: column.name == "c_mood" ? Self.moodLabels : nil, modes: golden.modes
                )
                var schema = try type.schema(optional: Self.notNull[column.name] == nil)
                schema.defaultValue = Self.notNull[column.name]
                fields.append(ConnectField(name: column.name, schema: schema))
                guard case .text(let text) = datum else {
                    values.append(.null)
                    continue
                }
                values.append(try type.data(text: text))
            }
            let rowSchema = ConnectSchema.struct(name: "\(prefix).public.change_types.Value", optional: true, fields: fields)
            let written = try #require(try serializer.serialize(.struct(values), schema: rowSchema))
            let expected = "\"after\":" + String(decoding: written, as: UTF8.self) + ",\"source\":"
            #expect(valueText.contains(expected), "row at LSN \(lsn): ours \(expected)\nDebezium's \(valueText)")
            rowsChecked += 1

            if golden.schemas {
                var schemaJSON = JacksonJSONWriter()
                try ConnectRecordSerializer.write(rowSchema, fieldName: "after", to: &schemaJSON, depth: 2)
                let ours = String(decoding: schemaJSON.bytes, as: UTF8.self)
                #expect(valueText.contains(ours), "the row schema: ours \(ours)\nDebezium's \(valueText.prefix(6000))")
                schemaChecked = true
            }
        }
        #expect(rowsChecked >= 7, "every created or updated row of the case")
        #expect(schemaChecked == golden.schemas)
    }

    @Test("Types Debezium's change events are not reproduced for are refused, not guessed")
    func otherTypesAreRefused() {
        for oid: UInt32 in [142 /* xml */, 869 /* inet */, 790 /* money */, 1005 /* int2[] */, 600 /* point */] {
            #expect(throws: ChangeEventValueError.unsupportedType(oid: oid)) {
                try ChangeEventColumnType(type: PostgresColumnType(oid: oid)).schema(optional: true)
            }
        }
    }

    @Test("Values whose Debezium form is not reproduced are errors naming them")
    func unreproducedValuesAreErrors() throws {
        let date = ChangeEventColumnType(type: PostgresColumnType(oid: 1082))
        let milliseconds = ChangeEventColumnType(type: PostgresColumnType(oid: 1114), modes: ColumnValueModes(time: .connect))
        #expect(throws: ChangeEventValueError.self) { try milliseconds.data(text: "infinity") }
        #expect(throws: ChangeEventValueError.self) { try date.data(text: "2024-13-01") }
        let array = ChangeEventColumnType(type: PostgresColumnType(oid: 1009))
        #expect(throws: ChangeEventValueError.self) { try array.data(text: "{{a,b},{c,d}}") }
        #expect(throws: ChangeEventValueError.self) { try array.data(text: "{\"unterminated}") }
        let numeric = ChangeEventColumnType(type: PostgresColumnType(oid: 1700))
        #expect(throws: ChangeEventValueError.self) { try numeric.data(text: "1.2.3") }
        #expect(try numeric.data(text: "NaN") == .null, "Debezium writes NaN as null in precise mode")
        let interval = ChangeEventColumnType(type: PostgresColumnType(oid: 1186))
        #expect(throws: ChangeEventValueError.self) { try interval.data(text: "3 fortnights") }
        #expect(try interval.data(text: "178000000 years") == .int64(.max), "a long saturates, as Java's cast does")
    }

    @Test("Decimal bytes are BigInteger.toByteArray of the unscaled value: two's complement, fewest bytes")
    func decimalBytesAreJavasBigIntegerBytes() throws {
        let cases: [(String, Int, [UInt8])] = [
            ("0", 0, [0x00]), ("127", 0, [0x7F]), ("128", 0, [0x00, 0x80]), ("-1", 0, [0xFF]), ("-128", 0, [0x80]),
            ("-129", 0, [0xFF, 0x7F]), ("-32768", 0, [0x80, 0x00]), ("2.00", 2, [0x00, 0xC8]), ("-0.01", 2, [0xFF]),
            ("1.5", 3, [0x05, 0xDC]),
        ]
        for (text, scale, expected) in cases {
            #expect(DecimalText(text)?.unscaledBytes(scale: scale) == expected, "\(text) at scale \(scale)")
        }
        #expect(DecimalText("1.234")?.unscaledBytes(scale: 2) == nil, "more digits than the scale: never rounded")
        for malformed in ["", ".", "1.", "-", "1e5", "1,5", "١"] {
            #expect(DecimalText(malformed) == nil, "\(malformed)")
        }
    }

    /// Every Insert and Update's new row in `pgoutput.txt`, by the message's LSN, with the Relation that
    /// describes it.
    static func changes(in url: URL) throws -> [UInt64: (PgOutputMessage.Relation, [ChangeEventColumnValue])] {
        var changes: [UInt64: (PgOutputMessage.Relation, [ChangeEventColumnValue])] = [:]
        for streamed in try ChangeEventRecordGoldenTests.stream(in: url) {
            switch streamed.change {
            case .insert(let new), .read(let new), .update(_, _, let new): changes[streamed.lsn] = (streamed.relation, new)
            case .delete, .truncate: break
            }
        }
        return changes
    }
}

/// Column defaults as Debezium's schemas carry them: the captured ones (change-types, golang-debezium-outbox)
/// and the rules they follow (literals read, function calls as the type's placeholder, no default otherwise).
@Suite("Debezium's column defaults")
struct DebeziumColumnDefaultTests {
    private func type(_ oid: UInt32, typmod: Int32 = -1, labels: [String]? = nil, modes: ColumnValueModes = ColumnValueModes()) -> ChangeEventColumnType {
        ChangeEventColumnType(type: PostgresColumnType(oid: oid, typmod: typmod), enumLabels: labels, modes: modes)
    }

    @Test("The defaults the goldens show")
    func capturedDefaults() {
        #expect(DebeziumColumnDefault.value(expression: "nextval('change_types_id_seq'::regclass)", type: type(20)) == .int64(0))
        #expect(DebeziumColumnDefault.value(expression: "nextval('change_types_c_serial_seq'::regclass)", type: type(23)) == .int32(0))
        #expect(DebeziumColumnDefault.value(expression: "'default text'::text", type: type(25)) == .string("default text"))
        #expect(DebeziumColumnDefault.value(expression: "42", type: type(23)) == .int32(42))
        #expect(DebeziumColumnDefault.value(expression: "uuid_generate_v4()", type: type(2950)) == .string("00000000-0000-0000-0000-000000000000"))
        #expect(DebeziumColumnDefault.value(expression: "now()", type: type(1184)) == .string("1970-01-01T00:00:00.000000Z"))
    }

    @Test("Literals are read and converted as values; what is not read gives no default")
    func literalsAndTheRest() {
        #expect(DebeziumColumnDefault.value(expression: "'it''s'::character varying", type: type(1043)) == .string("it's"))
        #expect(DebeziumColumnDefault.value(expression: "true", type: type(16)) == .boolean(true))
        #expect(DebeziumColumnDefault.value(expression: "'9223372036854775807'::bigint", type: type(20)) == .int64(.max))
        #expect(DebeziumColumnDefault.value(expression: "12.5", type: type(1700, typmod: (10 << 16 | 2) + 4)) == .bytes([0x04, 0xE2]))
        #expect(DebeziumColumnDefault.value(expression: "12.5", type: type(1700)) == nil, "a VariableScaleDecimal struct is no default")
        #expect(DebeziumColumnDefault.value(expression: "12.5", type: type(1700, modes: ColumnValueModes(decimal: .string))) == .string("12.5"))
        #expect(DebeziumColumnDefault.value(expression: "'ok'::mood", type: type(99_999, labels: ["sad", "ok"])) == .string("ok"))
        #expect(DebeziumColumnDefault.value(expression: "CURRENT_DATE", type: type(1082)) == .int32(0))
        #expect(DebeziumColumnDefault.value(expression: "'2024-05-06'::date", type: type(1082)) == .int32(19849))
        #expect(DebeziumColumnDefault.value(expression: "'{}'::jsonb", type: type(3802)) == .string("{}"))
        #expect(DebeziumColumnDefault.value(expression: "gen_random_uuid()", type: type(25)) == .string(""))
        #expect(DebeziumColumnDefault.value(expression: "NULL::text", type: type(25)) == nil)
        #expect(DebeziumColumnDefault.value(expression: "'\\x00'::bytea", type: type(17)) == nil, "no reader for bytea")
        #expect(DebeziumColumnDefault.value(expression: "(-1)", type: type(23)) == nil, "not a literal Debezium reads")
        #expect(DebeziumColumnDefault.value(expression: nil, type: type(23)) == nil)
    }
}

@Suite("Decimal bytes of long numerics")
struct LongDecimalTests {
    @Test("PostgreSQL's longest numeric converts (limb by limb, not digit by digit), and multi-limb values are exact")
    func longestNumeric() throws {
        // 131,072 digits before the point: 10^131071 has a 1 and 131,071 zeros.
        let text = "1" + String(repeating: "0", count: 131_071)
        let bytes = try #require(DecimalText(text)?.unscaledBytes(scale: 0))
        // 10^131071 < 2^435411: 54,427 bytes with a leading sign byte at most.
        #expect(bytes.count > 54_000 && bytes.count < 54_500)
        #expect(bytes[0] & 0x80 == 0, "positive")
        // 2^64 = 18446744073709551616: the bytes 0x01 and eight zeros.
        #expect(DecimalText("18446744073709551616")?.unscaledBytes(scale: 0) == [0x01, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(DecimalText("-18446744073709551616")?.unscaledBytes(scale: 0) == [0xFF, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(DecimalText("4294967295")?.unscaledBytes(scale: 0) == [0x00, 0xFF, 0xFF, 0xFF, 0xFF])
    }
}

/// PostgreSQL's special values (change-types-special, -decimal-string): each column of each row is either
/// Debezium's value byte for byte (its sentinels for infinite dates and timestamps included), or refused as not
/// reproduced (a timestamp past 64-bit microseconds, whose overflowed value Debezium writes) — never something else.
@Suite("Special values, as Debezium 3.6.3 wrote them")
struct SpecialValueGoldenTests {
    @Test(arguments: [("change-types-special", ColumnValueModes()), ("change-types-special-decimal-string", ColumnValueModes(decimal: .string))])
    func everyValueIsDebeziumsOrRefused(_ caseName: String, _ modes: ColumnValueModes) throws {
        let directory = try #require(Bundle.module.url(forResource: caseName, withExtension: nil, subdirectory: "Fixtures/goldens"))
        let changes = try ChangeEventColumnGoldenTests.changes(in: directory.appendingPathComponent("pgoutput.txt"))
        let json = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": "false"]))
        var matched = 0
        var refused: [String] = []
        for line in try String(contentsOf: directory.appendingPathComponent("records.jsonl"), encoding: .utf8).split(separator: "\n") {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let valueHex = record["value_hex"] as? String else { continue }
            let valueText = String(decoding: try #require(bytes(hex: valueHex)), as: UTF8.self)
            let value = try #require(try JSONSerialization.jsonObject(with: Data(valueText.utf8)) as? [String: Any])
            let payload = try #require(value["payload"] as? [String: Any])
            guard payload["after"] is [String: Any] else { continue }
            let lsn = try #require(((payload["source"] as? [String: Any])?["lsn"] as? NSNumber)?.uint64Value)
            let (relation, streamedRow) = try #require(changes[lsn])
            // The row's JSON as Debezium wrote it: between "after": and ,"source":.
            let after = try #require(valueText.range(of: "\"after\":").map { valueText[$0.upperBound...] })
            let row = try #require(after.range(of: ",\"source\":").map { String(after[..<$0.lowerBound]) })
            for (column, datum) in zip(relation.columns, streamedRow) {
                guard case .text(let text) = datum else { continue }
                let type = ChangeEventColumnType(type: PostgresColumnType(oid: column.typeOID, typmod: column.typeModifier), modes: modes)
                do {
                    let data = try type.data(text: text)
                    let written = String(decoding: try #require(try json.serialize(data, schema: try type.schema(optional: true))), as: UTF8.self)
                    let member = "\"\(column.name)\":\(written)"
                    #expect(row.contains(member + ",") || row.hasSuffix(member + "}"), "\(column.name) = \(text): ours \(member) in \(row)")
                    matched += 1
                } catch ChangeEventValueError.notReproduced {
                    refused.append("\(column.name) \(text)")
                }
            }
        }
        #expect(matched > 40)
        // Exactly the value whose overflow Debezium writes.
        #expect(refused.sorted() == ["c_timestamp 294276-12-31 23:59:59.999999"], "\(refused)")
    }
}
