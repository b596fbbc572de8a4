import DebeziumFormat
import Foundation
import Synchronization
import Testing
import TestSupport

/// `table.expand.json.payload` (and `table.json.payload.null.behavior`) against the records Debezium 3.6.3
/// published (goldens `expand-json`, `expand-json-noschemas`, `expand-json-optional-bytes`,
/// `expand-json-fatal`).
@Suite("Expanded JSON payloads, as captured")
struct ExpandJSONGoldenTests {
    static let table = OutboxTable.standard()

    /// sql/expand-json-objects.rows.sql in commit order. The payloads are PostgreSQL's jsonb output of the
    /// inserted literals (what pgoutput sends and Debezium parses): keys ordered by length then bytes,
    /// `", "`/`": "` separators, `1.5e3` → `1500`, `1e-3` → `0.001`, `12.50` and `1.0` keeping their scale.
    static func rows() throws -> [[String: ConnectValue]] {
        let payloads: [String?] = [
            #"{"id": 1, "ok": true, "long": 3000000000, "name": "Zoë 😀 \"q\"", "none": null, "rate": 1500, "tags": ["x", "y"], "price": 12.50, "nested": {"a": [1, 2, 3], "b": {"c": "d"}}}"#,
            nil,
            #"{"n": null, "s": "x", "list": [], "empty": {}}"#,
            "{}",
            #"{"d": 1.0, "e": 0.001, "f": 0.1, "i": 1, "neg": -7}"#,
            #"{"items": [{"a": 1}, {"b": "x"}, {"a": 2, "c": null}]}"#,
            #"{"mixed": [1, "two", null]}"#,
            #"{"nums": [1, 2.5]}"#,
            #"{"": 4, "m": [[1, 2], [3]], "1x": 2, "é": 3, "a-b": 1}"#,
            #"{"last": true}"#,
        ]
        let keys: [(String, String, String)] = [
            ("Order", "order-1", "OrderCreated"), ("Order", "order-2", "OrderCancelled"), ("Order", "order-3", "OrderNoted"),
            ("Customer", "customer-a", "CustomerCreated"), ("Customer", "customer-b", "CustomerCreated"),
            ("Customer", "customer-c", "CustomerCreated"), ("Customer", "customer-d", "CustomerNoted"),
            ("Customer", "customer-e", "CustomerNoted"), ("Customer", "customer-f", "CustomerNoted"),
            ("Customer", "customer-g", "CustomerCreated"),
        ]
        return try zip(keys, payloads).enumerated().map { index, row in
            let id = "00000000-0000-4000-8000-00000000000" + String(index + 1, radix: 16)
            return try table.row(id, row.0.0, row.0.1, row.0.2, row.1)
        }
    }

    /// Struct schemas named `payload`/`payload.<field>`, int32/int64/double, nulls and empty arrays dropped
    /// (or optional bytes), the merged element struct of `items`, `12.50` → `12.5`, `1.0` kept; the mixed
    /// array, the int+double array and the empty member name go out unexpanded; NULL stays a Json null.
    @Test(arguments: ["expand-json", "expand-json-noschemas", "expand-json-optional-bytes"])
    func expandedPayloadsAreReproduced(caseName: String) throws {
        let built = try expectRowsMatchCapture(caseName, table: Self.table, rows: try Self.rows())
        let warned = built.filter { $0.value.warning != nil }.map(\.key).sorted()
        #expect(warned == [
            "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000007",
            "00000000-0000-4000-8000-000000000008", "00000000-0000-4000-8000-000000000009",
        ], "Debezium warns for the NULL payload and the three failed expansions")
    }

    /// expand-json-fatal: `{"ok": 1}` is published; the top-level array `[1, 2]` gets an ARRAY schema while
    /// its value stays the string, and JsonConverter fails: `Invalid type for ARRAY: class
    /// java.lang.String`, the task dies and the third row is never published.
    @Test func aTopLevelArrayFailsTheRecordAsInDebezium() throws {
        let golden = try GoldenCase.load("expand-json-fatal")
        let captured = try golden.capturedRecords()
        #expect(captured.count == 1)
        var pipeline = try OutboxRecordPipeline(golden: golden, table: Self.table)
        let first = try pipeline.record(for: try Self.table.row("00000000-0000-4000-8000-000000000001", "Order", "order-1", "OrderCreated", #"{"ok": 1}"#))
        #expect(first.value == captured.first?.value, "\(shown(first.value)) vs \(shown(captured.first?.value))")
        #expect(first.key == captured.first?.key)
        #expect(throws: ConnectSerializationError.invalidType(schemaType: "ARRAY", javaClass: "class java.lang.String")) {
            _ = try pipeline.record(for: try Self.table.row("00000000-0000-4000-8000-000000000002", "Order", "order-2", "OrderItems", "[1, 2]"))
        }
    }

    /// The README's first run of expand-json: an integer beyond 64 bits types as a double, its BigDecimal
    /// value fails, and JsonConverter then meets the string under the STRUCT schema.
    @Test func anIntegerBeyond64BitsFailsTheRecord() throws {
        var pipeline = try OutboxRecordPipeline(golden: try GoldenCase.load("expand-json"), table: Self.table)
        #expect(throws: ConnectSerializationError.invalidType(schemaType: "STRUCT", javaClass: "class java.lang.String")) {
            _ = try pipeline.record(for: try Self.table.row("00000000-0000-4000-8000-000000000001", "Order", "order-1", "OrderCreated",
                                                            #"{"big": 12345678901234567890}"#))
        }
    }

    /// Payloads Jackson cannot read, or that `parseJsonPayload` does not hand to Jackson, go out exactly as
    /// without expansion (compared with the same row through the non-expanding json-schemas capture's
    /// config), with a warning.
    @Test(arguments: [
        #"{"a": }"#, #"{"a": 1"#, #"{"a": 01}"#, #"{"a": NaN}"#, #"{'a': 1}"#, "{\"a\": \"\u{1}\"}", #"{"a": tru}"#,
        " {\"a\": 1}", "", "plain text", #""a string""#, "42",
        "{\"a\": " + String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000) + "}",
    ])
    func unreadablePayloadsStayUnexpanded(text: String) throws {
        let table = OutboxTable.standard(payload: .text)
        let row = try table.row("00000000-0000-4000-8000-000000000001", "Order", "order-1", "OrderCreated", text)
        var expanding = try OutboxRecordPipeline(golden: try GoldenCase.load("expand-json"), table: table)
        var plain = try OutboxRecordPipeline(golden: try GoldenCase.load("payload-types"), table: table)
        let expanded = try expanding.record(for: row)
        #expect(expanded.value == (try plain.record(for: row)).value, "\(shown(expanded.value))")
        #expect(expanded.warning != nil)
    }

    /// Jackson reads up to 1000 levels, and Debezium expands what it reads; outbox-cdc expands up to
    /// `maximumExpansionDepth` levels and refuses a deeper (readable) payload rather than publishing
    /// other bytes. Past 1000 levels Jackson fails, and the payload goes out unexpanded (see above).
    @Test(arguments: [JSONPayloadExpander.maximumExpansionDepth + 1, 1000])
    func payloadsDeeperThanTheExpansionLimitAreRefused(depth: Int) throws {
        let table = OutboxTable.standard(payload: .text)
        let deep = "{\"a\": " + String(repeating: "[", count: depth - 1) + "1" + String(repeating: "]", count: depth - 1) + "}"
        let row = try table.row("00000000-0000-4000-8000-000000000001", "Order", "order-1", "OrderCreated", deep)
        var pipeline = try OutboxRecordPipeline(golden: try GoldenCase.load("expand-json"), table: table)
        #expect(throws: OutboxRecordError.payloadTooDeepToExpand(depth: depth, limit: JSONPayloadExpander.maximumExpansionDepth)) {
            _ = try pipeline.record(for: row)
        }
    }

    /// Expansion and writing recurse once per nesting level; at the expansion limit they must still fit the
    /// 512 KiB stack of a secondary thread (in this unoptimized test build, whose frames are larger than a
    /// release build's), with the schema written too (twice as deep as the value).
    @Test func maximumDepthFitsASecondaryThreadStack() throws {
        let levels = JSONPayloadExpander.maximumExpansionDepth - 1
        let deepest = "{\"a\": " + String(repeating: "[", count: levels - 1) + "{}" + String(repeating: "]", count: levels - 1) + "}"
        let outcome = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            // The parser keeps its own stack: far deeper input than Jackson reads is refused, not a crash.
            let tooDeep = "[" + String(repeating: "[", count: 100_000)
            let refused = (try? JSONPayloadExpander().expand(ConnectValue(schema: nil, data: .string(tooDeep))))?.warning != nil
            let result = try? JSONPayloadExpander().expand(ConnectValue(schema: .json(optional: true), data: .string(deepest)))
            let serializer = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": "true"]))
            let written = result.flatMap { try? serializer.serialize($0.value) }
            outcome.withLock { $0 = refused ? written.map { String(decoding: $0, as: UTF8.self) } : nil }
            done.signal()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        done.wait()
        let written = try #require(outcome.withLock { $0 })
        #expect(written.hasSuffix(",\"payload\":{\"a\":" + String(repeating: "[", count: levels - 1) + "{}" + String(repeating: "]", count: levels - 1) + "}}"))
    }
}
