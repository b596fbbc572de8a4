@testable import Connector
import DebeziumFormat
import Foundation
import KafkaClient
import Testing

/// Kafka records from Debezium's change-event records, as a Kafka Connect worker writes them: converters,
/// header order, heartbeats on partition 0 without headers.
@Suite("ChangeEventRecordWriter")
struct ChangeEventRecordWriterTests {
    private static let settings = DebeziumRecordSettings(
        keyConverter: ConverterSetting(kind: .json, options: ["schemas.enable": "false"]),
        valueConverter: ConverterSetting(kind: .json, options: ["schemas.enable": "false"]),
        topicPrefix: "shop", contextHeaders: true, runID: "0192f0c4-0000-7000-8000-000000000000",
        records: .changeEvents(ChangeEventSettings())
    )

    private static let items = CapturedTable(schema: "public", name: "items", columns: [
        CapturedTable.Column(name: "id", type: ChangeEventColumnType(type: .int4), optional: false, isKey: true),
        CapturedTable.Column(name: "name", type: ChangeEventColumnType(type: .text), optional: false, isKey: false),
    ])

    private static func source(lsn: UInt64) -> ChangeEventSource {
        ChangeEventSource(connectorName: "shop", database: "shop", commitMicroseconds: 1_714_979_289_123_456, transactionID: 900, lsn: lsn, lastCommitLSN: 100)
    }

    @Test("A key change: newkey or oldkey first, then the context headers; key and value through the converters")
    func keyChangeHeadersComeFirst() throws {
        let builder = try ChangeEventRecordBuilder(table: Self.items, topicPrefix: "shop")
        let records = try builder.records(
            for: .update(old: [.text("2"), .null], oldIsKeyOnly: true, new: [.text("100"), .text("pear")]),
            source: Self.source(lsn: 4096), processedNanoseconds: 1_714_979_290_000_000_000
        )
        let writer = ChangeEventRecordWriter(settings: Self.settings)
        let events = try records.map { try writer.event(for: $0) }
        #expect(events.map(\.topic) == ["shop.public.items", "shop.public.items", "shop.public.items"])
        #expect(events.map { $0.key.map { String(decoding: $0, as: UTF8.self) } } == [#"{"id":2}"#, #"{"id":2}"#, #"{"id":100}"#])
        #expect(events[1].value == nil, "the tombstone")
        let delete = String(decoding: try #require(events[0].value), as: UTF8.self)
        #expect(delete.hasPrefix(#"{"before":{"id":2,"name":""},"after":null,"source":{"version":"3.6.3.Final","connector":"postgresql","name":"shop""#), "\(delete)")
        let contextNames = ["__debezium.context.connectorLogicalName", "__debezium.context.taskId", "__debezium.context.connectorName", "__debezium.context.runId"]
        #expect(events[0].headers.map(\.name) == ["__debezium.newkey"] + contextNames)
        #expect(events[0].headers.first?.value == Array(#"{"id":100}"#.utf8))
        #expect(events[2].headers.map(\.name) == ["__debezium.oldkey"] + contextNames)
        #expect(events[2].headers.first?.value == Array(#"{"id":2}"#.utf8))
        #expect(events.allSatisfy { $0.partition == nil && $0.timestamp == nil && !$0.idHeader })
    }

    @Test("ExtractNewRecordState's add.headers follow the context headers, as SimpleHeaderConverter text")
    func addedHeadersFollowTheContextHeaders() throws {
        let builder = try ChangeEventRecordBuilder(table: Self.items, topicPrefix: "shop")
        let transform = ExtractNewRecordState(addedHeaders: [.init("op"), .init("lsn")])
        let insert = try #require(try builder.records(
            for: .insert(new: [.text("1"), .text("apple")]), source: Self.source(lsn: 8192), processedNanoseconds: 0
        ).first)
        let record = try #require(try transform.apply(insert))
        let event = try ChangeEventRecordWriter(settings: Self.settings).event(for: record)
        #expect(event.headers.map(\.name).suffix(2) == ["__op", "__lsn"])
        #expect(event.headers.suffix(2).map(\.value) == [Array("c".utf8), Array("8192".utf8)])
        #expect(event.value.map { String(decoding: $0, as: UTF8.self) } == #"{"id":1,"name":"apple"}"#)
    }

    @Test("A heartbeat is Debezium's (change-heartbeat): partition 0, no headers")
    func heartbeatIsDebeziums() throws {
        var settings = Self.settings
        settings.keyConverter = ConverterSetting(kind: .json, options: ["schemas.enable": "true"])
        settings.valueConverter = ConverterSetting(kind: .json, options: ["schemas.enable": "true"])
        settings.topicPrefix = "dbzchb"
        let event = try ChangeEventRecordWriter(settings: settings).heartbeat(heartbeatTopicsPrefix: "__debezium-heartbeat", milliseconds: 1_796_315_155_545)
        #expect(event.topic == "__debezium-heartbeat.dbzchb")
        #expect(event.partition == 0 && event.headers.isEmpty)
        #expect(event.key.map { String(decoding: $0, as: UTF8.self) }
            == #"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1},"payload":{"serverName":"dbzchb"}}"#)
        #expect(event.value.map { String(decoding: $0, as: UTF8.self) }
            == #"{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.Heartbeat","version":1},"payload":{"ts_ms":1796315155545}}"#)
    }
}
