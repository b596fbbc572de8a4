import DebeziumFormat
import Foundation
import Testing
import TestSupport

/// Logical decoding messages next to outbox inserts (golden `logical-message`): the EventRouter passes them
/// through to `<topic.prefix>.message` with Debezium's message key and envelope and no headers.
@Suite("Logical decoding messages, as captured")
struct LogicalMessageGoldenTests {
    /// logical-message/rows.sql's four `pg_logical_emit_message` calls, in order: (transactional, prefix,
    /// content).
    static let messages: [(transactional: Bool, prefix: String, content: [UInt8])] = [
        (true, "outbox", Array(#"{"a":1}"#.utf8)),
        (false, "outbox", Array("non-transactional".utf8)),
        (true, "other", Array("in a transaction".utf8)),
        (true, "outbox", [0x00, 0xFF]),
    ]

    /// Key, topic, headers and value bytes; the LSNs, transaction ids and times, which differ from run to
    /// run, are taken from each captured value and substituted; everything else comes from the SQL and
    /// the config (`topic.prefix` dbzlm, `database.dbname` dbz_golden_logical_message).
    @Test func messagesAreReproduced() throws {
        let golden = try GoldenCase.load("logical-message")
        let settings = try golden.settings()
        let topic = LogicalDecodingMessageRecord.topic(topicPrefix: settings.topicPrefix)
        let captured = try golden.capturedRecords().filter { $0.topic == topic }
        #expect(captured.count == Self.messages.count)
        for (message, record) in zip(Self.messages, captured) {
            let runFields = try RunFields(record: record)
            #expect(runFields.hasTransactionID == message.transactional)
            let built = LogicalDecodingMessageRecord(
                prefix: message.prefix, content: message.content, transactionID: runFields.transactionID,
                lsn: runFields.lsn, lastCommitLSN: runFields.lastCommitLSN,
                commitTimeMicroseconds: runFields.commitTimeMicroseconds,
                processingTimeMilliseconds: runFields.processingTimeMilliseconds)
            let key = try built.key(converter: try golden.converter("KEY"))
            let value = try built.value(converter: try golden.converter("VAL"), topicPrefix: settings.topicPrefix,
                                        databaseName: settings.database.databaseName)
            #expect(key == record.key, "\(shown(key)) vs \(shown(record.key))")
            #expect(value == record.value, "\n  built    \(shown(value))\n  captured \(shown(record.value))")
            #expect(record.headers.isEmpty)
            #expect(record.partition == keyHashPartition(try #require(key)))
        }
    }

    /// The inserts beside the messages are routed as always.
    @Test func theOutboxRowsBesideThemAreReproduced() throws {
        let table = OutboxTable.standard()
        try expectRowsMatchCapture("logical-message", table: table, rows: [
            try table.row("00000000-0000-4000-8000-000000000001", "Order", "order-1", "OrderCreated", #"{"n": 1}"#),
            try table.row("00000000-0000-4000-8000-000000000002", "Order", "order-2", "OrderCreated", #"{"n": 2}"#),
            try table.row("00000000-0000-4000-8000-000000000003", "Order", "order-3", "OrderCreated", #"{"n": 3}"#),
        ])
    }

    /// Only JsonConverter without schemas was captured for the value; other converters are refused.
    @Test(arguments: [
        ConverterSetting(kind: .json, options: ["schemas.enable": "true"]), ConverterSetting(kind: .string),
        ConverterSetting(kind: .byteArray), ConverterSetting(kind: .binaryData),
    ])
    func otherValueConvertersAreRefused(converter: ConverterSetting) {
        let message = LogicalDecodingMessageRecord(prefix: "outbox", content: [1], transactionID: 1, lsn: 2, lastCommitLSN: 1,
                                                   commitTimeMicroseconds: 0, processingTimeMilliseconds: 0)
        #expect(throws: LogicalDecodingMessageRecord.ValueError.unsupportedConverter(converter.kind, schemasEnabled: converter.schemasEnabled)) {
            _ = try message.value(converter: converter, topicPrefix: "p", databaseName: "d")
        }
    }

    /// The run-dependent members of a captured message value.
    struct RunFields {
        var processingTimeMilliseconds: Int64
        var commitTimeMicroseconds: Int64
        var transactionID: Int64?
        var hasTransactionID: Bool { transactionID != nil }
        var lsn: UInt64
        var lastCommitLSN: UInt64?

        init(record: CapturedRecord) throws {
            let value = try #require(record.value)
            let envelope = try #require(try JSONSerialization.jsonObject(with: Data(value)) as? [String: Any])
            let source = try #require(envelope["source"] as? [String: Any])
            processingTimeMilliseconds = try #require((envelope["ts_ms"] as? NSNumber)?.int64Value)
            commitTimeMicroseconds = try #require((source["ts_us"] as? NSNumber)?.int64Value)
            transactionID = (source["txId"] as? NSNumber)?.int64Value
            lsn = try #require((source["lsn"] as? NSNumber)?.uint64Value)
            let sequenceText = try #require(source["sequence"] as? String)
            let sequence = try #require(try JSONSerialization.jsonObject(with: Data(sequenceText.utf8)) as? [Any])
            lastCommitLSN = (sequence.first as? String).flatMap { UInt64($0) }
        }
    }
}
