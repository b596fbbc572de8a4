@testable import Connector
import KafkaClient
import PgOutputDecoder
import PostgresLSN
import PostgresNames
import Testing

private typealias Relation = PgOutputMessage.Relation
private typealias Value = PgOutputMessage.TupleData.Column

private enum OID {
    static let int4: UInt32 = 23
    static let int2: UInt32 = 21
    static let bytea: UInt32 = 17
    static let bool: UInt32 = 16
    static let bpchar: UInt32 = 1042
    static let varchar: UInt32 = 1043
    static let json: UInt32 = 114
    static let timestamp: UInt32 = 1114
    static let int8: UInt32 = 20
}

private func relation(_ table: QualifiedTableName, _ columns: [(String, UInt32)]) -> Relation {
    Relation(
        transactionID: nil, relationID: 7, namespace: table.schema, name: table.name, replicaIdentity: .default,
        columns: columns.map { Relation.Column(flags: 0, name: $0.0, typeOID: $0.1, typeModifier: -1) }
    )
}

private func text(_ value: String) -> Value { .text(utf8(value)) }

private func insert(_ values: [Value]) -> PgOutputMessage.Insert {
    PgOutputMessage.Insert(transactionID: nil, relationID: 7, newTuple: PgOutputMessage.TupleData(columns: values))
}

/// sarama's hash partitioner, against vectors computed apart from this code (Python: FNV-1a 32-bit, read as
/// int32, Go's truncating remainder, negated when negative; cross-checked against Go's hash/fnv values).
@Suite struct SaramaHashPartitionerTests {
    @Test(arguments: [
        ("", [0, 0, 3, 2, 3] as [Int32]),
        ("a", [0, 0, 0, 6, 0]),
        ("key-1", [0, 1, 2, 1, 10]),
        ("order-42", [0, 2, 0, 4, 8]),
        ("é", [0, 0, 1, 2, 9]),
        ("partition-key-with-a-longer-text", [0, 2, 2, 4, 2]),
        ("0", [0, 0, 3, 0, 3]),
        ("zz", [0, 0, 1, 0, 9]),
    ])
    func placesKeysAsSaramaDoes(key: String, partitions: [Int32]) {
        let hash = SaramaHashPartitioner.hash(Array(key.utf8))
        for (count, expected) in zip([1, 3, 4, 7, 12] as [Int32], partitions) {
            #expect(SaramaHashPartitioner.partition(hash: hash, partitions: count) == expected, "\(key) among \(count)")
        }
    }

    @Test func hashesAreFNV1aReadAsSigned() {
        #expect(SaramaHashPartitioner.hash([]) == Int32(bitPattern: 0x811C_9DC5))
        #expect(SaramaHashPartitioner.hash(Array("a".utf8)) == Int32(bitPattern: 0xE40C_292C))
        #expect(SaramaHashPartitioner.hash(Array("key-1".utf8)) == 1_474_311_238)
    }

    @Test func theMostNegativeHashStaysInRange() {
        #expect(SaramaHashPartitioner.partition(hash: .min, partitions: 7) == 2)
        #expect(SaramaHashPartitioner.partition(hash: .min, partitions: 1) == 0)
    }
}

@Suite struct KafkaOutboxRelayFormatTests {
    static let table = QualifiedTableName(schema: "public", name: "kafka_outbox")
    /// The columns in the order its migrations leave them.
    static let columns: [(String, UInt32)] = [
        ("id", OID.int4), ("batch_id", OID.bpchar), ("push_started_at", OID.timestamp), ("push_completed_at", OID.timestamp),
        ("topic", OID.varchar), ("payload_json", OID.json), ("payload_headers", OID.json), ("push_attempts", OID.int2),
        ("errored", OID.int2), ("error_reason", OID.varchar), ("created_at", OID.timestamp), ("partition_key", OID.varchar),
        ("key", OID.varchar),
    ]

    static func row(topic: String = "orders", payload: String = #"{"a":  1}"#, headers: String = "{}", partitionKey: String = "", key: String = "") -> PgOutputMessage.Insert {
        insert([
            text("41"), .null, .null, .null, text(topic), text(payload), text(headers), text("0"), text("0"), text(""),
            text("2024-01-02 03:04:05.678"), text(partitionKey), text(key),
        ])
    }

    func event(_ row: PgOutputMessage.Insert) throws -> OutboxEvent {
        var mapper = OutboxEventMapper(table: Self.table, format: .kafkaOutboxRelay)
        try mapper.register(relation(Self.table, Self.columns))
        return try #require(try mapper.event(for: row))
    }

    @Test func theValueIsTheStoredJSONAndTheKeyTheKeyColumn() throws {
        let event = try event(Self.row(payload: #"{"b" : [1, 2],  "a":"é"}"#, key: "order-42"))
        #expect(event.topic == "orders")
        #expect(event.value.map(Array.init) == Array(#"{"b" : [1, 2],  "a":"é"}"#.utf8))
        #expect(event.key.map(Array.init) == Array("order-42".utf8))
        #expect(event.headers.isEmpty && !event.idHeader && event.timestamp == nil)
        #expect(event.eventIDText == "41")
    }

    @Test func anEmptyKeyIsNoKeyAndThePartitionIsLeftToChance() throws {
        let event = try event(Self.row(partitionKey: "customer-7", key: ""))
        #expect(event.key == nil)
        #expect(event.partitionKeyHash == nil, "sarama places a keyless record at random, whatever its partition key")
    }

    @Test func thePartitionKeyPlacesTheRecordElseTheKey() throws {
        let byPartitionKey = try event(Self.row(partitionKey: "key-1", key: "order-42"))
        #expect(byPartitionKey.partitionKeyHash == 1_474_311_238)
        #expect(byPartitionKey.key.map(Array.init) == Array("order-42".utf8))
        let byKey = try event(Self.row(partitionKey: "", key: "key-1"))
        #expect(byKey.partitionKeyHash == 1_474_311_238)
    }

    @Test func headersTakeStringsAndNumbersAsWrittenAndNullForTheRest() throws {
        let event = try event(Self.row(headers: #"{"trace": "abc", "n": 1.50, "neg": -2e3, "yes": true, "none": null, "o": {"x": 1}, "a": [1], "é": "ü"}"#))
        #expect(event.headers == [
            KafkaHeader(name: "trace", value: Array("abc".utf8)), KafkaHeader(name: "n", value: Array("1.50".utf8)),
            KafkaHeader(name: "neg", value: Array("-2e3".utf8)), KafkaHeader(name: "yes", value: nil),
            KafkaHeader(name: "none", value: nil), KafkaHeader(name: "o", value: nil), KafkaHeader(name: "a", value: nil),
            KafkaHeader(name: "é", value: Array("ü".utf8)),
        ])
    }

    @Test(arguments: ["{}", "", " ", "null", " {} "])
    func noHeaders(text: String) throws {
        #expect(try event(Self.row(headers: text)).headers.isEmpty)
    }

    @Test func aNameGivenTwiceKeepsItsLastValueAtItsFirstPlace() throws {
        let event = try event(Self.row(headers: #"{"a": "1", "b": "2", "a": "3"} trailing text ignored"#))
        #expect(event.headers == [KafkaHeader(name: "a", value: Array("3".utf8)), KafkaHeader(name: "b", value: Array("2".utf8))])
    }

    @Test(arguments: [#"["a"]"#, #""text""#, "1", #"{"a": }"#, #"{"a": "b""#])
    func headersThatAreNoObjectAreRefused(text: String) throws {
        var mapper = OutboxEventMapper(table: Self.table, format: .kafkaOutboxRelay)
        try mapper.register(relation(Self.table, Self.columns))
        #expect(throws: OutboxMappingError.self) { try mapper.event(for: Self.row(headers: text)) }
    }

    @Test func anEmptyTopicIsRefused() throws {
        var mapper = OutboxEventMapper(table: Self.table, format: .kafkaOutboxRelay)
        try mapper.register(relation(Self.table, Self.columns))
        #expect(throws: OutboxMappingError.missingRoutingValue(column: "topic", eventID: "41")) { try mapper.event(for: Self.row(topic: "")) }
    }
}

@Suite struct OutboxEventBusFormatTests {
    static let table = QualifiedTableName(schema: "public", name: "recorded_events")
    static let columns: [(String, UInt32)] = [
        ("id", OID.int8), ("topic", OID.varchar), ("delivered", OID.bool), ("uuid", OID.varchar), ("stored_timestamp", OID.timestamp),
        ("send_timestamp", OID.timestamp), ("msg_type", OID.varchar), ("mime_type", OID.varchar), ("payload", OID.bytea),
    ]

    @Test func theValueIsTheEnvelopeAroundThePayloadWithThePublicationTime() throws {
        // 2024-01-02T03:04:05.678901Z
        var mapper = OutboxEventMapper(table: Self.table, format: .outboxEventBus, wallClock: { 1_704_164_645_678_901 })
        try mapper.register(relation(Self.table, Self.columns))
        let row = insert([
            text("9"), text("orders"), text("f"), text("6f1c0d3e-2b7a-4f4e-9a55-0a1b2c3d4e5f"), text("2024-01-02 03:04:00"), .null,
            text("OrderPlaced"), text("application/json"), text(#"\x7b2261223a22c3a9227d"#),
        ])
        let event = try #require(try mapper.event(for: row))
        let expected = """
            {
              "topic" : "orders",
              "uuid" : "6f1c0d3e-2b7a-4f4e-9a55-0a1b2c3d4e5f",
              "timestamp" : "2024-01-02T03:04:05.678901Z",
              "msgType" : "OrderPlaced",
              "mimeType" : "application/json",
              "payload" : "{\\"a\\":\\"é\\"}"
            }
            """
        #expect(event.value.map { String(decoding: $0, as: UTF8.self) } == expected)
        #expect(event.key == nil && event.headers.isEmpty && event.partitionKeyHash == nil)
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"), (1_500_000, "1970-01-01T00:00:01.500Z"), (1_000_001, "1970-01-01T00:00:01.000001Z"),
        (1_704_164_645_670_000, "2024-01-02T03:04:05.670Z"), (-1, "1969-12-31T23:59:59.999999Z"),
    ])
    func instantsAreWrittenAsJavaWritesThem(microseconds: Int64, expected: String) {
        #expect(OutboxEventBusEnvelope.instantText(microseconds: microseconds) == expected)
    }
}

@Suite struct PublishedRowLedgerTests {
    static let table = QualifiedTableName(schema: "public", name: "kafka_outbox")

    @Test func rowsComeOutOnlyOnceTheirTransactionIsConfirmedInOrder() {
        var tracker = CheckpointTracker(confirmed: .zero)
        var ledger = PublishedRowLedger()
        let first = tracker.beginTransaction()
        tracker.eventProduced(in: first)
        ledger.note(PublishedRow(table: Self.table, primaryKey: "1"), in: first)
        _ = tracker.commitTransaction(first, endLSN: LSN(100))
        let second = tracker.beginTransaction()
        tracker.eventProduced(in: second)
        tracker.eventProduced(in: second)
        ledger.note(PublishedRow(table: Self.table, primaryKey: "2"), in: second)
        ledger.note(PublishedRow(table: Self.table, primaryKey: "3"), in: second)
        _ = tracker.commitTransaction(second, endLSN: LSN(200))

        // The second transaction acknowledged first: nothing is confirmed, nothing marked.
        _ = tracker.eventAcknowledged(in: second)
        _ = tracker.eventAcknowledged(in: second)
        #expect(ledger.takeConfirmed(from: &tracker).isEmpty)
        _ = tracker.eventAcknowledged(in: first)
        #expect(ledger.takeConfirmed(from: &tracker).map(\.primaryKey) == ["1", "2", "3"])
        #expect(ledger.isEmpty)
    }

    @Test func theRowsOfAnAbandonedTransactionAreNotMarked() {
        var tracker = CheckpointTracker(confirmed: .zero)
        var ledger = PublishedRowLedger()
        let broken = tracker.beginTransaction()
        tracker.eventProduced(in: broken)
        ledger.note(PublishedRow(table: Self.table, primaryKey: "1"), in: broken)
        tracker.abandonOpenTransaction()
        _ = tracker.eventAcknowledged(in: broken)
        // Read again after the reconnect, under a new ticket.
        let again = tracker.beginTransaction()
        tracker.eventProduced(in: again)
        ledger.note(PublishedRow(table: Self.table, primaryKey: "1"), in: again)
        _ = tracker.commitTransaction(again, endLSN: LSN(300))
        _ = tracker.eventAcknowledged(in: again)
        #expect(ledger.takeConfirmed(from: &tracker).map(\.primaryKey) == ["1"], "once, for the transaction that was confirmed")
    }

    @Test func arrayTextQuotesEveryElement() {
        #expect(PostgresArrayText.of(["1", #"a"b"#, #"c\d"#, "", "é"]) == #"{"1","a\"b","c\\d","","é"}"#)
    }

    @Test(arguments: [
        ("FOR VALUES FROM ('2026-01-01 00:00:00') TO ('2026-02-01 00:00:00')", "2026-02-01 00:00:00" as String?),
        ("FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2026-02-01 00:00:00+00')", "2026-02-01 00:00:00+00"),
        ("FOR VALUES FROM ('2026-01-01 00:00:00') TO (MAXVALUE)", nil),
        ("DEFAULT", nil),
        ("FOR VALUES IN ('a')", nil),
        ("FOR VALUES FROM ('a', 1) TO ('b', 2)", nil),
    ])
    func rangePartitionUpperBounds(bound: String, expected: String?) {
        #expect(OutboxRetention.upperBound(bound) == expected)
    }
}
