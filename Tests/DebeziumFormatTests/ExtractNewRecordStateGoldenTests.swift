@testable import DebeziumFormat
import Foundation
import Testing
import TestSupport

/// ExtractNewRecordState and heartbeats against the real Debezium 3.6.3 (Fixtures/goldens/unwrap-*,
/// golang-debezium-outbox): the case's pgoutput stream through `ChangeEventRecordBuilder` and the transform
/// must give Debezium's records byte for byte, key, value and the headers after the context headers, in
/// the order Debezium wrote each key's records.
@Suite("ExtractNewRecordState and heartbeats, as Debezium 3.6.3 wrote them")
struct ExtractNewRecordStateGoldenTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var transform: ExtractNewRecordState
        var schemas = true
        /// `topic.prefix`, when the records' topics do not begin with it (routed by a row's value).
        var topicPrefix: String?
        var description: String { name }
    }

    static let cases = [
        Case(name: "unwrap-defaults-schemas", transform: ExtractNewRecordState()),
        Case(name: "unwrap-drop-tombstones", transform: ExtractNewRecordState(), schemas: false),
        Case(name: "unwrap-options", transform: ExtractNewRecordState(
            deleteHandling: .rewrite, addedFields: ["op", "table", "lsn", "source.ts_ms"].map(ExtractNewRecordState.AddedField.init),
            addedHeaders: ["db", "op"].map(ExtractNewRecordState.AddedField.init)
        )),
        // Each record on the topic its `name` says (a delete's from `before`, REPLICA IDENTITY FULL).
        Case(name: "unwrap-route-by-field", transform: ExtractNewRecordState(routeByField: "name"), topicPrefix: "dbzurf"),
        // A NULL route value keeps the record's own topic.
        Case(name: "errors-tolerance-all-route", transform: ExtractNewRecordState(routeByField: "topic"), topicPrefix: "dbzeta"),
        Case(name: "unwrap-delete-drop", transform: ExtractNewRecordState(deleteHandling: .drop)),
        Case(name: "unwrap-delete-rewrite-tombstone", transform: ExtractNewRecordState(deleteHandling: .rewriteWithTombstone)),
        Case(name: "unwrap-delete-to-tombstone", transform: ExtractNewRecordState(deleteHandling: .deleteToTombstone)),
        // The older keys (delete.handling.mode, drop.tombstones), which 3.6.3 ignores: the defaults' records.
        Case(name: "unwrap-legacy-drop", transform: ExtractNewRecordState()),
        Case(name: "unwrap-legacy-rewrite", transform: ExtractNewRecordState()),
        Case(name: "unwrap-legacy-none-keep", transform: ExtractNewRecordState()),
        // Truncates (skipped.operations=none): the transform drops them.
        Case(name: "unwrap-truncate", transform: ExtractNewRecordState()),
        // The seed project's connector: skipped.operations=u,d keeps updates and deletes out of the publication.
        Case(name: "golang-debezium-outbox", transform: ExtractNewRecordState()),
    ]

    /// The NOT NULL columns of the cases' tables and the schema defaults Debezium gives them, and the
    /// nullable columns with a default.
    static let columns: [String: [String: (optional: Bool, defaultValue: ConnectData?)]] = [
        "items": ["id": (false, nil), "name": (false, nil)],
        "outbox_events": [
            "id": (false, .string("00000000-0000-0000-0000-000000000000")), "aggregate_id": (false, nil), "aggregate_type": (false, nil),
            "event_type": (false, nil), "payload": (false, nil), "created_at": (true, .string("1970-01-01T00:00:00.000000Z")),
        ],
    ]

    @Test(arguments: cases)
    func everyRecordIsDebeziums(_ golden: Case) throws {
        let directory = try #require(Bundle.module.url(forResource: golden.name, withExtension: nil, subdirectory: "Fixtures/goldens"))
        let converter = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": golden.schemas ? "true" : "false"]))
        let lines = try String(contentsOf: directory.appendingPathComponent("records.jsonl"), encoding: .utf8).split(separator: "\n")
        let records = try lines.map { line in try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) }
        let changeRecords = records.filter { ($0["topic"] as? String)?.hasPrefix("__debezium-heartbeat.") == false }
        let prefix = try #require(golden.topicPrefix ?? (changeRecords.first?["topic"] as? String)?.split(separator: ".").first.map(String.init))

        // Ours, in stream order, grouped by key bytes.
        var ours: [[UInt8]: [ChangeEventRecord]] = [:]
        for change in try ChangeEventRecordGoldenTests.stream(in: directory.appendingPathComponent("pgoutput.txt")) {
            let facts = try #require(Self.columns[change.relation.name])
            let table = CapturedTable(schema: change.relation.namespace, name: change.relation.name, columns: change.relation.columns.map { column in
                CapturedTable.Column(
                    name: column.name, type: ChangeEventColumnType(type: PostgresColumnType(oid: column.typeOID, typmod: column.typeModifier)),
                    optional: facts[column.name]?.optional ?? true, defaultValue: facts[column.name]?.defaultValue ?? nil, isKey: column.name == "id"
                )
            })
            let builder = try ChangeEventRecordBuilder(table: table, topicPrefix: prefix)
            let source = ChangeEventSource(
                connectorName: prefix, database: "dbz_golden_" + golden.name.replacingOccurrences(of: "-", with: "_"),
                commitMicroseconds: change.commitMicroseconds, transactionID: change.transactionID, lsn: change.lsn, lastCommitLSN: change.lastCommitLSN
            )
            for record in try builder.records(for: change.change, source: source, processedNanoseconds: 0) {
                guard let transformed = try golden.transform.apply(record) else { continue }
                let key = try #require(try transformed.key.flatMap { try converter.serialize($0) })
                ours[key, default: []].append(transformed)
            }
        }

        var theirs: [[UInt8]: [[String: Any]]] = [:]
        for record in changeRecords {
            let key = try #require((record["key_hex"] as? String).flatMap(bytes(hex:)))
            theirs[key, default: []].append(record)
        }
        #expect(Set(ours.keys) == Set(theirs.keys), "the same keys")
        var checked = 0
        for (key, theirRecords) in theirs {
            let ourRecords = ours[key] ?? []
            #expect(ourRecords.count == theirRecords.count, "records of key \(String(decoding: key, as: UTF8.self))")
            for (ourRecord, theirRecord) in zip(ourRecords, theirRecords) {
                let theirValue = (theirRecord["value_hex"] as? String).flatMap(bytes(hex:))
                let ourValue = try ourRecord.value.flatMap { try converter.serialize($0) }
                #expect(ourValue.map { String(decoding: $0, as: UTF8.self) } == theirValue.map { String(decoding: $0, as: UTF8.self) })
                #expect(ourRecord.topic == theirRecord["topic"] as? String)
                let headers = try #require(theirRecord["headers"] as? [[Any]]).dropFirst(4)
                #expect(headers.map { $0.first as? String } == ourRecord.trailingHeaders.map { Optional($0.name) })
                for (header, ourHeader) in zip(headers, ourRecord.trailingHeaders) {
                    let expected = (header[1] as? String).flatMap(bytes(hex:))
                    #expect(try SimpleHeaderConverter.headerValue(ourHeader.value.data, name: ourHeader.name) == expected)
                }
                checked += 1
            }
        }
        #expect(checked == changeRecords.count && checked > 0)

        // Heartbeats: key and value as Debezium's, at their time.
        let jsonWithSchemas = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": golden.schemas ? "true" : "false"]))
        for heartbeat in records where (heartbeat["topic"] as? String)?.hasPrefix("__debezium-heartbeat.") == true {
            #expect(heartbeat["topic"] as? String == DebeziumHeartbeatRecord.topic(topicPrefix: prefix))
            #expect(heartbeat["partition"] as? Int == 0)
            let key = try #require((heartbeat["key_hex"] as? String).flatMap(bytes(hex:)))
            #expect(try jsonWithSchemas.serialize(DebeziumHeartbeatRecord.key(topicPrefix: prefix)) == key)
            let valueBytes = try #require((heartbeat["value_hex"] as? String).flatMap(bytes(hex:)))
            let value = try #require(try JSONSerialization.jsonObject(with: Data(valueBytes)) as? [String: Any])
            let payload = try #require((golden.schemas ? value["payload"] : value) as? [String: Any])
            let milliseconds = try #require((payload["ts_ms"] as? NSNumber)?.int64Value)
            #expect(try jsonWithSchemas.serialize(DebeziumHeartbeatRecord.value(milliseconds: milliseconds)) == valueBytes)
        }
    }

    @Test("The plain change events' heartbeats (change-heartbeat) are Debezium's")
    func heartbeatsOfPlainChangeEvents() throws {
        let directory = try #require(Bundle.module.url(forResource: "change-heartbeat", withExtension: nil, subdirectory: "Fixtures/goldens"))
        let json = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": "true"]))
        var heartbeats = 0
        for line in try String(contentsOf: directory.appendingPathComponent("records.jsonl"), encoding: .utf8).split(separator: "\n") {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let topic = record["topic"] as? String, topic.hasPrefix("__debezium-heartbeat.") else { continue }
            let prefix = String(topic.dropFirst("__debezium-heartbeat.".count))
            #expect((record["headers"] as? [Any])?.isEmpty == true, "heartbeats carry no headers")
            let key = try #require((record["key_hex"] as? String).flatMap(bytes(hex:)))
            #expect(try json.serialize(DebeziumHeartbeatRecord.key(topicPrefix: prefix)) == key)
            let valueBytes = try #require((record["value_hex"] as? String).flatMap(bytes(hex:)))
            let value = try #require(try JSONSerialization.jsonObject(with: Data(valueBytes)) as? [String: Any])
            let milliseconds = try #require(((value["payload"] as? [String: Any])?["ts_ms"] as? NSNumber)?.int64Value)
            #expect(try json.serialize(DebeziumHeartbeatRecord.value(milliseconds: milliseconds)) == valueBytes)
            heartbeats += 1
        }
        #expect(heartbeats >= 2)
    }
}
