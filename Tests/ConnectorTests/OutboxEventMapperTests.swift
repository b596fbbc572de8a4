@testable import Connector
import DebeziumFormat
import KafkaClient
import PgOutputDecoder
import PostgresLSN
import PostgresNames
import Testing

private typealias Relation = PgOutputMessage.Relation
private typealias Insert = PgOutputMessage.Insert
private typealias Value = PgOutputMessage.TupleData.Column

/// Type OIDs from pg_type.
private enum OID {
    static let bytea: UInt32 = 17
    static let text: UInt32 = 25
    static let json: UInt32 = 114
    static let varchar: UInt32 = 1043
    static let timestamptz: UInt32 = 1184
    static let uuid: UInt32 = 2950
    static let jsonb: UInt32 = 3802
}

private let outboxTable = QualifiedTableName(schema: "public", name: "outbox")
private let outboxID: UInt32 = 16_384

private func relation(
    id: UInt32 = outboxID, schema: String = "public", name: String = "outbox", _ columns: [(String, UInt32)]
) -> Relation {
    Relation(
        transactionID: nil, relationID: id, namespace: schema, name: name, replicaIdentity: .default,
        columns: columns.enumerated().map { index, column in
            Relation.Column(flags: index == 0 ? 1 : 0, name: column.0, typeOID: column.1, typeModifier: -1)
        }
    )
}

/// The Debezium outbox layout: id, aggregatetype, aggregateid, type, payload (with `payloadType`).
private func standardRelation(id: UInt32 = outboxID, payloadType: UInt32 = OID.jsonb) -> Relation {
    relation(id: id, [
        ("id", OID.uuid), ("aggregatetype", OID.varchar), ("aggregateid", OID.varchar),
        ("type", OID.varchar), ("payload", payloadType),
    ])
}

private func text(_ value: String) -> Value { .text(utf8(value)) }

private func insert(id: UInt32 = outboxID, _ values: [Value]) -> Insert {
    Insert(transactionID: nil, relationID: id, newTuple: PgOutputMessage.TupleData(columns: values))
}

private func standardRow(
    id: Value = text("5f0c3b4e-8d2a-4c59-9a7e-0e1f2a3b4c5d"), type: Value = text("Order"),
    key: Value = text("order-17"), payload: Value = text(#"{"total": 42}"#)
) -> Insert {
    insert([id, type, key, text("OrderCreated"), payload])
}

private func mapper(_ relations: Relation...) throws -> OutboxEventMapper {
    var mapper = OutboxEventMapper(table: outboxTable)
    for relation in relations { try mapper.register(relation) }
    return mapper
}

private func bytes(_ slice: ArraySlice<UInt8>?) -> [UInt8]? { slice.map(Array.init) }

@Suite("OutboxEventMapper")
struct OutboxEventMapperTests {
    @Test func mapsAnOutboxRowTheWayTheEventRouterDoes() throws {
        var mapper = try mapper(standardRelation())
        let event = try #require(try mapper.event(for: standardRow()))
        #expect(event.topic == "outbox.event.Order")
        #expect(bytes(event.key) == Array("order-17".utf8))
        #expect(bytes(event.value) == Array(#"{"total": 42}"#.utf8))
        #expect(bytes(event.eventID) == Array("5f0c3b4e-8d2a-4c59-9a7e-0e1f2a3b4c5d".utf8))
        #expect(event.eventIDText == "5f0c3b4e-8d2a-4c59-9a7e-0e1f2a3b4c5d")
    }

    @Test func columnsAreFoundByNameInAnyOrderAmongOthers() throws {
        var mapper = try mapper(relation([
            ("created_at", OID.timestamptz), ("payload", OID.json), ("tenant", OID.text),
            ("aggregateid", OID.text), ("id", OID.uuid), ("aggregatetype", OID.text),
        ]))
        let row = insert([
            text("2024-01-01 00:00:00+00"), text("[1,2]"), text("acme"), text("cust-9"), text("e-1"), text("Customer"),
        ])
        let event = try #require(try mapper.event(for: row))
        #expect(event.topic == "outbox.event.Customer")
        #expect(bytes(event.key) == Array("cust-9".utf8))
        #expect(bytes(event.value) == Array("[1,2]".utf8))
        #expect(event.eventIDText == "e-1")
    }

    @Test func binaryFormatColumnsArePassedThrough() throws {
        var mapper = try mapper(standardRelation())
        let uuid: [UInt8] = [0x5F, 0x0C, 0x3B, 0x4E, 0x8D, 0x2A, 0x4C, 0x59, 0x9A, 0x7E, 0x0E, 0x1F, 0x2A, 0x3B, 0x4C, 0x5D]
        let jsonb: [UInt8] = [0x01] + Array("{}".utf8) // jsonb's binary send format: version 1, then text
        let event = try #require(try mapper.event(for: standardRow(id: .binary(uuid[...]), payload: .binary(jsonb[...]))))
        #expect(bytes(event.eventID) == uuid)
        #expect(bytes(event.value) == jsonb)
    }

    // MARK: - NULLs

    @Test func nullPayloadIsATombstone() throws {
        var mapper = try mapper(standardRelation())
        let event = try #require(try mapper.event(for: standardRow(payload: .null)))
        #expect(event.value == nil)
        #expect(event.topic == "outbox.event.Order")
    }

    @Test func nullByteaPayloadIsATombstone() throws {
        var mapper = try mapper(standardRelation(payloadType: OID.bytea))
        let event = try #require(try mapper.event(for: standardRow(payload: .null)))
        #expect(event.value == nil)
    }

    @Test func nullKeyAndIdAreNil() throws {
        var mapper = try mapper(standardRelation())
        let event = try #require(try mapper.event(for: standardRow(id: .null, key: .null)))
        #expect(event.key == nil)
        #expect(event.eventID == nil)
        #expect(event.eventIDText == "(null)")
    }

    @Test func emptyPayloadIsAnEmptyValueNotATombstone() throws {
        var mapper = try mapper(standardRelation(payloadType: OID.text))
        let event = try #require(try mapper.event(for: standardRow(payload: text(""))))
        #expect(event.value != nil)
        #expect(event.value?.isEmpty == true)
    }

    // MARK: - Routing

    @Test func nullAggregateTypeIsAnError() throws {
        var mapper = try mapper(standardRelation())
        #expect(throws: OutboxMappingError.missingRoutingValue(column: "aggregatetype", eventID: "e-7")) {
            try mapper.event(for: standardRow(id: text("e-7"), type: .null))
        }
    }

    @Test func emptyAggregateTypeIsAnError() throws {
        var mapper = try mapper(standardRelation())
        #expect(throws: OutboxMappingError.missingRoutingValue(column: "aggregatetype", eventID: "e-8")) {
            try mapper.event(for: standardRow(id: text("e-8"), type: text("")))
        }
        #expect(throws: OutboxMappingError.missingRoutingValue(column: "aggregatetype", eventID: "(null)")) {
            try mapper.event(for: standardRow(id: .null, type: .binary([])))
        }
    }

    @Test func topicsFollowTheAggregateTypeOfEachRow() throws {
        var mapper = try mapper(standardRelation())
        var topics: [String] = []
        for type in ["Order", "Customer", "Order", "Bestellung-ü", "order", "Customer"] {
            topics.append(try #require(try mapper.event(for: standardRow(type: text(type)))).topic)
        }
        #expect(topics == [
            "outbox.event.Order", "outbox.event.Customer", "outbox.event.Order", "outbox.event.Bestellung-ü",
            "outbox.event.order", "outbox.event.Customer",
        ])
    }

    /// The topic cache is keyed by the aggregatetype bytes; slices at different offsets of different
    /// buffers must hit the same entry, and its size limit (10,000) must not break the mapping.
    @Test func topicCacheStaysCorrectPastItsLimit() throws {
        var mapper = try mapper(standardRelation())
        for round in 0..<2 {
            for number in stride(from: 0, to: 10_050, by: 1) {
                let name = "T\(number)"
                let buffer = Array("padding-\(round)-\(name)".utf8)
                let slice = buffer[(buffer.count - name.utf8.count)...]
                let event = try #require(try mapper.event(for: standardRow(type: .text(slice))))
                if event.topic != "outbox.event.\(name)" {
                    Issue.record("round \(round): \(name) mapped to \(event.topic)")
                    return
                }
            }
        }
    }

    // MARK: - Relations

    @Test func rowsOfOtherRelationsAreIgnored() throws {
        var mapper = try mapper(
            relation(id: 1, name: "orders", [("id", OID.uuid), ("total", OID.text)]),
            relation(id: 2, schema: "audit", name: "outbox", [("x", OID.text)]),
            relation(id: 3, name: "outbox2", standardRelation().columns.map { ($0.name, $0.typeOID) }),
            standardRelation()
        )
        #expect(try mapper.event(for: insert(id: 1, [text("a"), text("b")])) == nil)
        #expect(try mapper.event(for: insert(id: 2, [text("a"), text("b"), text("c")])) == nil, "column count is not checked for other tables")
        #expect(try mapper.event(for: insert(id: 3, standardRow().newTuple.columns)) == nil)
        #expect(try mapper.event(for: standardRow()) != nil)
    }

    @Test func otherSchemaOutboxIsTheOneMappedWhenConfigured() throws {
        var mapper = OutboxEventMapper(table: QualifiedTableName(schema: "sales", name: "outbox"))
        try mapper.register(standardRelation(id: 10))
        try mapper.register(relation(id: 11, schema: "sales", name: "outbox", standardRelation().columns.map { ($0.name, $0.typeOID) }))
        #expect(try mapper.event(for: insert(id: 10, standardRow().newTuple.columns)) == nil)
        #expect(try mapper.event(for: insert(id: 11, standardRow().newTuple.columns))?.topic == "outbox.event.Order")
    }

    @Test func insertBeforeItsRelationIsAnError() throws {
        var mapper = try mapper(standardRelation())
        #expect(throws: OutboxMappingError.unknownRelation(99)) {
            try mapper.event(for: insert(id: 99, standardRow().newTuple.columns))
        }
        var empty = OutboxEventMapper(table: outboxTable)
        #expect(throws: OutboxMappingError.unknownRelation(outboxID)) { try empty.event(for: standardRow()) }
    }

    @Test func missingColumnsAreReportedInOrder() {
        var mapper = OutboxEventMapper(table: outboxTable)
        #expect(throws: OutboxMappingError.columnsMissing(["aggregateid", "payload"], table: outboxTable)) {
            try mapper.register(relation([("id", OID.uuid), ("aggregatetype", OID.text), ("body", OID.jsonb)]))
        }
        #expect(throws: OutboxMappingError.columnsMissing(["id", "aggregatetype", "aggregateid", "payload"], table: outboxTable)) {
            try mapper.register(relation([]))
        }
        // Names are case-sensitive, as PostgreSQL stores them.
        #expect(throws: OutboxMappingError.columnsMissing(["id"], table: outboxTable)) {
            try mapper.register(relation([("ID", OID.uuid), ("aggregatetype", OID.text), ("aggregateid", OID.text), ("payload", OID.text)]))
        }
    }

    @Test func otherTablesMayLackTheOutboxColumns() throws {
        var mapper = OutboxEventMapper(table: outboxTable)
        try mapper.register(relation(id: 5, name: "orders", [("total", OID.text)]))
        #expect(try mapper.event(for: insert(id: 5, [text("3")])) == nil)
    }

    @Test func columnCountMismatchIsAnError() throws {
        var mapper = try mapper(standardRelation())
        let five = standardRow().newTuple.columns
        #expect(throws: OutboxMappingError.columnCountMismatch(expected: 5, actual: 4)) {
            try mapper.event(for: insert(Array(five.dropLast())))
        }
        #expect(throws: OutboxMappingError.columnCountMismatch(expected: 5, actual: 6)) {
            try mapper.event(for: insert(five + [text("extra")]))
        }
        #expect(throws: OutboxMappingError.columnCountMismatch(expected: 5, actual: 0)) {
            try mapper.event(for: insert([]))
        }
    }

    /// After ALTER TABLE the server sends a new Relation message with the same id: it replaces the
    /// layout (columns moved, added, varchar retyped to text), and rows in the old shape no longer fit.
    @Test func aNewRelationMessageReplacesTheLayout() throws {
        var mapper = try mapper(standardRelation())
        #expect(try mapper.event(for: standardRow())?.topic == "outbox.event.Order")

        try mapper.register(relation([
            ("tenant", OID.text), ("payload", OID.jsonb), ("id", OID.uuid), ("aggregateid", OID.text),
            ("aggregatetype", OID.text), ("type", OID.text),
        ]))
        let event = try #require(try mapper.event(for: insert([
            text("acme"), text(#"{"n": 2}"#), text("e-2"), text("k-2"), text("Invoice"), text("InvoiceSent"),
        ])))
        #expect(event.topic == "outbox.event.Invoice")
        #expect(bytes(event.key) == Array("k-2".utf8))
        #expect(bytes(event.value) == Array(#"{"n": 2}"#.utf8))
        #expect(event.eventIDText == "e-2")
        #expect(throws: OutboxMappingError.columnCountMismatch(expected: 6, actual: 5)) {
            try mapper.event(for: standardRow())
        }
    }

    @Test func relationIdReusedForAnotherTableStopsMapping() throws {
        var mapper = try mapper(standardRelation())
        try mapper.register(relation(name: "renamed_outbox", standardRelation().columns.map { ($0.name, $0.typeOID) }))
        #expect(try mapper.event(for: standardRow()) == nil)
    }

    // MARK: - bytea

    @Test func byteaPayloadIsUnescaped() throws {
        var mapper = try mapper(standardRelation(payloadType: OID.bytea))
        let event = try #require(try mapper.event(for: standardRow(payload: text(#"\x00ff7B2261223A317D"#))))
        #expect(bytes(event.value) == [0x00, 0xFF] + Array(#"{"a":1}"#.utf8))
    }

    @Test func emptyByteaIsAnEmptyValue() throws {
        var mapper = try mapper(standardRelation(payloadType: OID.bytea))
        let event = try #require(try mapper.event(for: standardRow(payload: text(#"\x"#))))
        #expect(event.value != nil)
        #expect(event.value?.isEmpty == true)
    }

    @Test func textPayloadThatLooksLikeByteaIsLeftAlone() throws {
        var mapper = try mapper(standardRelation(payloadType: OID.text))
        let event = try #require(try mapper.event(for: standardRow(payload: text(#"\x4142"#))))
        #expect(bytes(event.value) == Array(#"\x4142"#.utf8))
    }

    @Test(arguments: [#"\x4"#, #"\xZZ"#, #"\x41G2"#, "4142", "", #"\"#, #"\X41"#, #"\\x41"#, "abc\\000"])
    func malformedByteaIsAnError(payload: String) throws {
        var mapper = try mapper(standardRelation(payloadType: OID.bytea))
        #expect(throws: OutboxMappingError.malformedBytea(eventID: "e-9")) {
            try mapper.event(for: standardRow(id: text("e-9"), payload: text(payload)))
        }
    }

    // MARK: - Through the decoder

    /// Hand-built pgoutput bytes decoded by `PgOutputDecoder`: the values the mapper sees are slices
    /// deep inside the message buffer, not arrays of their own.
    @Test func mapsRowsDecodedFromWireBytes() throws {
        var decoder = PgOutputDecoder(protocolVersion: 1)
        var relationBytes: [UInt8] = [UInt8(ascii: "R")] + be32(outboxID) + cString("public") + cString("outbox")
        relationBytes += [UInt8(ascii: "d")] + be16(4)
        for (flags, name, type) in [(UInt8(1), "id", OID.uuid), (0, "aggregatetype", OID.text), (0, "aggregateid", OID.text), (0, "payload", OID.bytea)] {
            relationBytes += [flags] + cString(name) + be32(type) + be32(UInt32(bitPattern: -1))
        }
        guard case .relation(let decodedRelation) = try decoder.decode(relationBytes) else {
            Issue.record("not a Relation")
            return
        }
        var mapper = OutboxEventMapper(table: outboxTable)
        try mapper.register(decodedRelation)

        func column(_ value: String) -> [UInt8] { [UInt8(ascii: "t")] + be32(UInt32(value.utf8.count)) + Array(value.utf8) }
        let insertBytes: [UInt8] = [UInt8(ascii: "I")] + be32(outboxID) + [UInt8(ascii: "N")] + be16(4)
            + column("e-42") + column("Shipment") + [UInt8(ascii: "n")] + column(#"\xCAFEbabe"#)
        guard case .insert(let decodedInsert) = try decoder.decode(insertBytes) else {
            Issue.record("not an Insert")
            return
        }
        let event = try #require(try mapper.event(for: decodedInsert))
        #expect(event.topic == "outbox.event.Shipment")
        #expect(event.key == nil)
        #expect(bytes(event.value) == [0xCA, 0xFE, 0xBA, 0xBE])
        #expect(event.eventIDText == "e-42")
    }

    // MARK: - bytea text (HexText.bytea, which the mapping uses)

    @Test(arguments: [
        (#"\x"#, [UInt8]()),
        (#"\x00"#, [0x00]),
        (#"\x00ff10"#, [0x00, 0xFF, 0x10]),
        (#"\xDEADBEEF"#, [0xDE, 0xAD, 0xBE, 0xEF]),
        (#"\xdeadbeef"#, [0xDE, 0xAD, 0xBE, 0xEF]),
        (#"\xDeAdBeEf"#, [0xDE, 0xAD, 0xBE, 0xEF]),
        (#"\x0123456789abcdefABCDEF"#, [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xAB, 0xCD, 0xEF]),
    ])
    func unescapeValidBytea(text: String, expected: [UInt8]) {
        #expect(HexText.bytea(utf8(text)) == expected)
    }

    @Test(arguments: [
        "", "\\", "x", "x00", #"\X00"#, #"/x00"#, #"\x0"#, #"\x123"#, #"\xg0"#, #"\x0g"#, #"\xgg"#,
        #"\x0 "#, #"\x 0"#, #"\x00 "#, #"\x-1"#, #"\x+1"#,
        // The characters just outside each digit range.
        #"\x/0"#, #"\x:0"#, #"\x@0"#, #"\xG0"#, #"\x`0"#, #"\xg0"#,
        // The escape format (bytea_output = escape) is not hex.
        #"abc\000"#,
    ])
    func unescapeRejectsMalformedText(text: String) {
        #expect(HexText.bytea(utf8(text)) == nil)
    }

    @Test func unescapeRejectsNonASCIIDigits() {
        #expect(HexText.bytea([0x5C, 0x78, 0xC3, 0xA9]) == nil) // \x then "é"
        #expect(HexText.bytea([0x5C, 0x78, 0x30, 0x00]) == nil) // \x0 then NUL
    }

    @Test func unescapeEveryByteValueInBothCases() {
        let lower = Array("0123456789abcdef".utf8), upper = Array("0123456789ABCDEF".utf8)
        for digits in [lower, upper] {
            var text = Array(#"\x"#.utf8)
            for byte in 0...255 { text += [digits[byte >> 4], digits[byte & 0xF]] }
            #expect(HexText.bytea(text[...]) == (0...255).map { UInt8($0) })
        }
    }

    @Test func unescapeWorksOnSlicesThatDoNotStartAtZero() {
        let buffer = Array(#"junk\x4142zz"#.utf8)
        #expect(HexText.bytea(buffer[4..<10]) == [0x41, 0x42])
        #expect(HexText.bytea(buffer[4..<9]) == nil, "odd length")
        #expect(HexText.bytea(buffer[4..<12]) == nil, "zz is not hex")
        #expect(HexText.bytea(buffer[4..<6]) == [])
    }
}

private func be32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (24 - 8 * UInt32($0))) & 0xFF) } }
private func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
private func cString(_ value: String) -> [UInt8] { Array(value.utf8) + [0] }

/// The polling relays' tables (gox, goharvest) and the generic column mapping.
@Suite("Mapping gox, goharvest and generic tables")
struct TableFormatMappingTests {
    private static let smallint: UInt32 = 21
    private static let timestamp: UInt32 = 1114
    private static let textArray: UInt32 = 1009

    /// gox's columns (its migrations): id, created_timestamp, updated_timestamp, status, topic, partition,
    /// key, message bytea, instance_id, headers json.
    private func goxRelation() -> Relation {
        relation([
            ("id", OID.uuid), ("created_timestamp", Self.timestamp), ("updated_timestamp", Self.timestamp),
            ("status", OID.varchar), ("topic", OID.varchar), ("partition", Self.smallint), ("key", OID.varchar),
            ("message", OID.bytea), ("instance_id", OID.uuid), ("headers", OID.json),
        ])
    }

    @Test func goxRowsKeepTheirTopicPartitionBytesHeadersAndTime() throws {
        var mapper = OutboxEventMapper(table: outboxTable, format: .gox)
        try mapper.register(goxRelation())
        let event = try #require(try mapper.event(for: insert([
            text("5f0c3b4e-8d2a-4c59-9a7e-0e1f2a3b4c5d"), text("2024-05-06 07:08:09.123456"), .null, text("PENDING"),
            text("client-events-v1"), text("3"), text("client-17"), text("\\x00ff"), .null,
            text(#"[{"key": "trace", "value": "a\"b"}, {"key": "n", "value": 7}, {"key": "gone", "value": null}]"#),
        ])))
        #expect(event.topic == "client-events-v1", "the topic column as is, no prefix")
        #expect(event.partition == 3)
        #expect(event.key.map(Array.init) == Array("client-17".utf8))
        #expect(event.value.map(Array.init) == [0x00, 0xFF])
        #expect(event.timestamp == 1_714_979_289_123, "µs truncated to ms, read as UTC")
        #expect(event.headers == [
            KafkaHeader(name: "trace", value: Array(#"a"b"#.utf8)), KafkaHeader(name: "n", value: Array("7".utf8)),
            KafkaHeader(name: "gone", value: nil),
        ])
    }

    @Test func goharvestHeadersComeFromTwoTextArrays() throws {
        var mapper = OutboxEventMapper(table: outboxTable, format: .goharvest)
        try mapper.register(relation([
            ("id", 20), ("create_time", 1184), ("kafka_topic", OID.varchar), ("kafka_key", OID.varchar),
            ("kafka_value", OID.varchar), ("kafka_header_keys", Self.textArray), ("kafka_header_values", Self.textArray),
            ("leader_id", OID.uuid),
        ]))
        let event = try #require(try mapper.event(for: insert([
            text("42"), text("2024-05-06 07:08:09+02"), text("orders"), text("order-1"), text(#"{"a":1}"#),
            text(#"{trace,"content type","NULL"}"#), text(#"{abc,"text/plain; charset=\"utf-8\"",NULL}"#), .null,
        ])))
        #expect(event.topic == "orders" && event.partition == nil && event.timestamp == nil)
        #expect(event.value.map(Array.init) == Array(#"{"a":1}"#.utf8))
        #expect(event.headers == [
            KafkaHeader(name: "trace", value: Array("abc".utf8)),
            KafkaHeader(name: "content type", value: Array(#"text/plain; charset="utf-8""#.utf8)),
            KafkaHeader(name: "NULL", value: nil),
        ])
    }

    @Test func headerArraysOfDifferentLengthsAreAnError() throws {
        var mapper = OutboxEventMapper(table: outboxTable, format: .goharvest)
        try mapper.register(relation([
            ("id", 20), ("kafka_topic", OID.varchar), ("kafka_key", OID.varchar), ("kafka_value", OID.varchar),
            ("kafka_header_keys", Self.textArray), ("kafka_header_values", Self.textArray),
        ]))
        #expect(throws: OutboxMappingError.badHeaders(.arrayLengthsDiffer(names: 2, values: 1), eventID: "1")) {
            try mapper.event(for: insert([text("1"), text("t"), text("k"), text("v"), text("{a,b}"), text("{x}")]))
        }
    }

    @Test func aPartitionThatIsNoPartitionIsAnError() throws {
        var mapper = OutboxEventMapper(table: outboxTable, format: .gox)
        try mapper.register(goxRelation())
        let row = { (partition: String) in
            insert([text("e1"), .null, .null, text("PENDING"), text("t"), text(partition), text("k"), text("\\x"), .null, .null])
        }
        #expect(throws: OutboxMappingError.badPartition(column: "partition", eventID: "e1")) { try mapper.event(for: row("-1")) }
        #expect(throws: OutboxMappingError.badPartition(column: "partition", eventID: "e1")) { try mapper.event(for: row("x")) }
        #expect(try mapper.event(for: row("0"))?.partition == 0)
    }

    @Test func aMissingColumnIsNamed() throws {
        var mapper = OutboxEventMapper(table: outboxTable, format: .gox)
        #expect(throws: OutboxMappingError.columnsMissing(["partition", "headers"], table: outboxTable)) {
            try mapper.register(relation([
                ("id", OID.uuid), ("created_timestamp", Self.timestamp), ("topic", OID.varchar), ("key", OID.varchar),
                ("message", OID.bytea),
            ]))
        }
    }

    @Test func aGenericObjectOfHeadersKeepsItsOrder() throws {
        let format = OutboxTableFormat(
            name: "generic", topic: .column("destination"), key: nil, value: "body", eventID: nil, idHeader: false,
            headers: .jsonObject(column: "meta")
        )
        var mapper = OutboxEventMapper(table: outboxTable, format: format)
        try mapper.register(relation([("destination", OID.text), ("body", OID.jsonb), ("meta", OID.jsonb)]))
        let event = try #require(try mapper.event(for: insert([
            text("audit"), text(#"{"x": 1}"#), text(#"{"b": "2", "a": {"nested": [1, true]}, "\u00e9": "\ud83d\ude00"}"#),
        ])))
        #expect(event.key == nil && event.payloadKind == .json)
        #expect(event.headers == [
            KafkaHeader(name: "b", value: Array("2".utf8)),
            KafkaHeader(name: "a", value: Array(#"{"nested": [1, true]}"#.utf8)),
            KafkaHeader(name: "é", value: Array("😀".utf8)),
        ])
    }
}

@Suite("The outbox table changes while streaming")
struct SchemaChangeMappingTests {
    @Test func aMappedColumnRetypedIsAnErrorNamingItAndAnAddedColumnIsNot() throws {
        var mapper = OutboxEventMapper(table: outboxTable)
        try mapper.register(standardRelation())
        // A column added: a new Relation message with one more column, mapped as before.
        try mapper.register(relation([
            ("id", OID.uuid), ("aggregatetype", OID.varchar), ("aggregateid", OID.varchar), ("type", OID.varchar),
            ("payload", OID.jsonb), ("tenant", OID.text),
        ]))
        let event = try #require(try mapper.event(for: insert([
            text("e1"), text("Order"), text("k"), text("t"), text("{}"), text("acme"),
        ])))
        #expect(event.topic == "outbox.event.Order")
        // jsonb to json is read the same way; jsonb to bytea is not.
        try mapper.register(standardRelation(payloadType: OID.json))
        #expect(throws: OutboxMappingError.columnRetyped("payload", table: outboxTable, from: OID.json, to: OID.bytea)) {
            try mapper.register(standardRelation(payloadType: OID.bytea))
        }
    }

    @Test func aMappedColumnDroppedOrRenamedIsNamed() throws {
        var mapper = OutboxEventMapper(table: outboxTable)
        try mapper.register(standardRelation())
        #expect(throws: OutboxMappingError.columnsMissing(["aggregateid"], table: outboxTable)) {
            try mapper.register(relation([
                ("id", OID.uuid), ("aggregatetype", OID.varchar), ("aggregate_id", OID.varchar), ("type", OID.varchar), ("payload", OID.jsonb),
            ]))
        }
    }
}
