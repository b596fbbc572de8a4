import DebeziumFormat
import Foundation
import Testing
import TestSupport

/// A captured record with every field of records.jsonl (GoldenCase.Record leaves out offset and timestamp).
struct CapturedRecord {
    var topic: String
    var partition: Int
    var timestamp: Int64
    var key: [UInt8]?
    var value: [UInt8]?
    var headers: [RecordHeader]

    var eventID: String? {
        headers.first { $0.name == "id" }?.value.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The headers after Debezium's four `__debezium.context.*` ones (which the Connector writes).
    var outboxHeaders: [RecordHeader] {
        headers.filter { !$0.name.hasPrefix("__debezium.context.") }
    }
}

extension GoldenCase {
    func capturedRecords() throws -> [CapturedRecord] {
        let text = try String(contentsOf: directory.appendingPathComponent("records.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let headers = try #require(object["headers"] as? [[Any]]).map { pair in
                RecordHeader(name: pair.first as? String ?? "", value: (pair.last as? String).flatMap { bytes(hex: $0) })
            }
            return CapturedRecord(
                topic: try #require(object["topic"] as? String),
                partition: try #require(object["partition"] as? Int),
                timestamp: try #require((object["timestamp"] as? NSNumber)?.int64Value),
                key: (object["key_hex"] as? String).flatMap { bytes(hex: $0) },
                value: (object["value_hex"] as? String).flatMap { bytes(hex: $0) },
                headers: headers)
        }
    }

    /// The case's captured records by their `id` header.
    func capturedRecordsByEventID() throws -> [String: CapturedRecord] {
        var byID: [String: CapturedRecord] = [:]
        for record in try capturedRecords() {
            if let id = record.eventID { byID[id] = record }
        }
        return byID
    }

    /// The connector config the capture ran with (`connector.properties.used`), read by DebeziumSettings;
    /// the capture's `${…}` placeholders are filled with stand-ins.
    func settings() throws -> DebeziumSettings {
        var text = try String(contentsOf: directory.appendingPathComponent("connector.properties.used"), encoding: .utf8)
        for (placeholder, standIn) in [("${PGPORT}", "5432"), ("${PGPASSWORD}", "secret"), ("${BROKER_PORT}", "9092"),
                                       ("${REST_PORT}", "8083"), ("${DBZ_WORK}", "/tmp")] {
            text = text.replacingOccurrences(of: placeholder, with: standIn)
        }
        return try DebeziumSettings(try DebeziumConfigFile.parse(text))
    }
}

/// An outbox table as a case's setup.sql creates it: each column's type and nullability.
struct OutboxTable {
    var schema = "public"
    var name = "outbox"
    var columns: [(name: String, type: PostgresColumnType, nullable: Bool)]

    /// `id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, aggregateid varchar(255), type
    /// varchar(255) NOT NULL, payload <payloadType>`, then `extra`.
    static func standard(payload: PostgresColumnType = .jsonb,
                         extra: [(name: String, type: PostgresColumnType, nullable: Bool)] = []) -> OutboxTable {
        OutboxTable(columns: [
            ("id", .uuid, false), ("aggregatetype", .varchar, false), ("aggregateid", .varchar, true),
            ("type", .varchar, false), ("payload", payload, true),
        ] + extra)
    }

    /// One row from its columns' text output (nil for NULL), in column order.
    func row(_ texts: String?...) throws -> [String: ConnectValue] {
        #expect(texts.count == columns.count, "one text per column")
        var row: [String: ConnectValue] = [:]
        for (column, text) in zip(columns, texts) {
            row[column.name] = try column.type.connectValue(text: text, optional: column.nullable)
        }
        return row
    }
}

/// One record as the building blocks make it.
struct BuiltRecord {
    var topic: String
    var key: [UInt8]?
    var value: [UInt8]?
    /// `id`, then the header placements (the `__debezium.context.*` headers are the Connector's).
    var headers: [RecordHeader]
    var partition: Int32?
    var timestampMilliseconds: Int64?
    var warning: String?
}

/// How the Connector wires the DebeziumFormat building blocks for one EventRouter config: built once per
/// run, then fed every row in commit order.
struct OutboxRecordPipeline {
    let router: OutboxTopicRouter
    var values: OutboxValueBuilder
    let headerPlacements: OutboxHeaderPlacements
    let partition: OutboxPartitionPlacement?
    let eventTimestamp: EventTimestampField?
    let keySerializer: ConnectRecordSerializer
    let valueSerializer: ConnectRecordSerializer
    let eventRouter: EventRouterSettings
    let rowSchemaName: String

    init(golden: GoldenCase, table: OutboxTable) throws {
        let settings = try golden.settings()
        eventRouter = try #require(settings.eventRouter)
        let schemas = Dictionary(uniqueKeysWithValues: table.columns.map { ($0.name, try? $0.type.connectSchema(optional: $0.nullable)) })
        router = try OutboxTopicRouter(settings: eventRouter)
        values = try OutboxValueBuilder(settings: eventRouter)
        headerPlacements = OutboxHeaderPlacements(settings: eventRouter)
        partition = try OutboxPartitionPlacement(settings: eventRouter) { schemas[$0] ?? nil }
        eventTimestamp = try eventRouter.timestampColumn.map { column in try EventTimestampField(column: column, schema: schemas[column] ?? nil) }
        keySerializer = ConnectRecordSerializer(converter: try golden.converter("KEY"))
        valueSerializer = ConnectRecordSerializer(converter: try golden.converter("VAL"))
        rowSchemaName = OutboxValueBuilder.rowSchemaName(topicPrefix: settings.topicPrefix, schema: table.schema, table: table.name)
    }

    mutating func record(for row: [String: ConnectValue]) throws -> BuiltRecord {
        func column(_ name: String) throws -> ConnectValue { try #require(row[name], "column \(name)") }
        let routedBy: String? = if case .string(let text) = try column(eventRouter.routeByField).data { text } else { nil }
        let topic = try router.topic(forRoutedByValue: routedBy, column: eventRouter.routeByField)
        var version: Int32?
        if let versionColumn = eventRouter.schemaVersionColumn, case .int32(let number) = try column(versionColumn).data {
            version = number
        }
        let output = try values.value(for: OutboxValueBuilder.Row(
            payload: try column(eventRouter.payloadColumn),
            envelopeValues: try values.envelopeColumns.map(column),
            schemaVersion: version,
            routedByValue: routedBy ?? "",
            rowSchemaName: rowSchemaName))
        let key = try column(eventRouter.eventKeyColumn)
        let id = try column(eventRouter.eventIDColumn).data
        return BuiltRecord(
            topic: topic,
            key: try keySerializer.serialize(key),
            value: try output.value.flatMap { value in try valueSerializer.serialize(value) },
            headers: [RecordHeader(name: "id", value: try SimpleHeaderConverter.headerValue(id, name: "id"))]
                + (try headerPlacements.headers(values: headerPlacements.columns.map { try column($0).data })),
            partition: try partition.flatMap { placement in try placement.partition(try column(placement.column).data) },
            timestampMilliseconds: try eventTimestamp.flatMap { field in try field.milliseconds(try column(field.column).data) },
            warning: output.warning)
    }
}

/// Builds the rows of a case in commit order and compares each with the captured record of its event id:
/// topic, key, value, `id` and placement headers, the partition (a placed one, else the key hash when there
/// is a key) and the timestamp when it comes from a column. Every captured record must be matched.
@discardableResult
func expectRowsMatchCapture(
    _ caseName: String, table: OutboxTable, rows: [[String: ConnectValue]],
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> [String: BuiltRecord] {
    let golden = try GoldenCase.load(caseName)
    var pipeline = try OutboxRecordPipeline(golden: golden, table: table)
    let captured = try golden.capturedRecordsByEventID()
    #expect(captured.count == rows.count, "\(caseName): one captured record per row", sourceLocation: sourceLocation)
    var built: [String: BuiltRecord] = [:]
    for row in rows {
        let record = try pipeline.record(for: row)
        let id = try #require(record.headers.first?.value.map { String(decoding: $0, as: UTF8.self) })
        built[id] = record
        let capture = try #require(captured[id], "\(caseName): event \(id) was captured", sourceLocation: sourceLocation)
        #expect(record.topic == capture.topic, "\(caseName) \(id) topic", sourceLocation: sourceLocation)
        #expect(record.key == capture.key, "\(caseName) \(id) key: \(shown(record.key)) vs \(shown(capture.key))", sourceLocation: sourceLocation)
        #expect(record.value == capture.value,
                "\(caseName) \(id) value:\n  built    \(shown(record.value))\n  captured \(shown(capture.value))", sourceLocation: sourceLocation)
        #expect(record.headers == capture.outboxHeaders, "\(caseName) \(id) headers", sourceLocation: sourceLocation)
        if let partition = record.partition {
            #expect(Int(partition) == capture.partition, "\(caseName) \(id) placed partition", sourceLocation: sourceLocation)
        } else if let key = record.key {
            #expect(keyHashPartition(key) == capture.partition, "\(caseName) \(id) key-hash partition", sourceLocation: sourceLocation)
        }
        if let timestamp = record.timestampMilliseconds {
            #expect(timestamp == capture.timestamp, "\(caseName) \(id) timestamp from the column", sourceLocation: sourceLocation)
        }
    }
    return built
}

/// Bytes as text, for messages.
func shown(_ bytes: [UInt8]?) -> String {
    bytes.map { String(decoding: $0, as: UTF8.self) } ?? "(null)"
}

/// The Java producer's partition for a keyed record (4 partitions in every capture).
func keyHashPartition(_ key: [UInt8]) -> Int {
    Int((kafkaMurmur2(key) & 0x7FFF_FFFF) % 4)
}
