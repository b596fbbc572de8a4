@testable import DebeziumFormat
import Foundation
import PgOutputDecoder
import Testing
import TestSupport

/// Whole change-event records against the real Debezium 3.6.3's (Fixtures/goldens/change-*): the case's
/// pgoutput stream (`pgoutput.txt`, the same changes Debezium read) goes through `ChangeEventRecordBuilder`,
/// and every record Debezium wrote must come out byte for byte, key and value, with the same leading
/// headers. Only the envelope's processing time (top-level `ts_*`) is Debezium's own moment: it is taken
/// from its record and given to the builder.
@Suite("Change event records, as Debezium 3.6.3 wrote them")
struct ChangeEventRecordGoldenTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var table: String
        var modes: ColumnValueModes = ColumnValueModes()
        var schemas = true
        var tombstones = true
        var description: String { name }
    }

    static let cases = [
        Case(name: "change-types-schemas", table: "change_types"),
        Case(name: "change-types-noschemas", table: "change_types", schemas: false),
        Case(name: "change-types-decimal-string", table: "change_types", modes: ColumnValueModes(decimal: .string)),
        Case(name: "change-types-time-connect", table: "change_types", modes: ColumnValueModes(time: .connect)),
        Case(name: "change-replica-full", table: "items"),
        Case(name: "change-tombstones-off", table: "items", tombstones: false),
        Case(name: "change-truncate", table: "items"),
        Case(name: "change-toast", table: "docs"),
    ]

    /// What the catalog says of each case's table (its setup SQL): NOT NULL columns with the schema default
    /// Debezium gives them (nil: none), the primary key, enum labels.
    static let notNull: [String: [String: ConnectData?]] = [
        "change_types": ["id": .int64(0), "c_serial": .int32(0), "c_bigserial": .int64(0), "c_text_nn": .string("default text"), "c_int_nn": .int32(42)],
        "items": ["id": nil, "name": nil],
        "docs": ["id": nil, "title": nil],
    ]

    @Test(arguments: cases)
    func everyRecordIsDebeziums(_ golden: Case) throws {
        let directory = try #require(Bundle.module.url(forResource: golden.name, withExtension: nil, subdirectory: "Fixtures/goldens"))
        let converter = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": golden.schemas ? "true" : "false"]))
        let stream = try Self.stream(in: directory.appendingPathComponent("pgoutput.txt"))
        let goldenLines = try String(contentsOf: directory.appendingPathComponent("records.jsonl"), encoding: .utf8).split(separator: "\n")
        let firstRecord = try #require(try JSONSerialization.jsonObject(with: Data(goldenLines[0].utf8)) as? [String: Any])
        let prefix = try #require((firstRecord["topic"] as? String)?.split(separator: ".").first.map(String.init))

        var builder: ChangeEventRecordBuilder?
        // Each change's source, and a function from a processing time to its records' bytes.
        var byLSN: [UInt64: (ChangeEventSource, TableChange)] = [:]
        for change in stream {
            let relation = change.relation
            let notNull = try #require(Self.notNull[relation.name])
            let table = CapturedTable(schema: relation.namespace, name: relation.name, columns: relation.columns.map { column in
                CapturedTable.Column(
                    name: column.name,
                    type: ChangeEventColumnType(
                        type: PostgresColumnType(oid: column.typeOID, typmod: column.typeModifier),
                        enumLabels: column.name == "c_mood" ? ["sad", "ok", "happy"] : nil, modes: golden.modes
                    ),
                    optional: notNull.index(forKey: column.name) == nil, defaultValue: notNull[column.name] ?? nil, isKey: column.name == "id"
                )
            })
            builder = try ChangeEventRecordBuilder(table: table, topicPrefix: prefix, tombstonesOnDelete: golden.tombstones)
            let database = "dbz_golden_" + golden.name.replacingOccurrences(of: "-", with: "_")
            byLSN[change.lsn] = (ChangeEventSource(
                connectorName: prefix, database: database, commitMicroseconds: change.commitMicroseconds,
                transactionID: change.transactionID, lsn: change.lsn, lastCommitLSN: change.lastCommitLSN
            ), change.change)
        }
        let recordBuilder = try #require(builder)

        var tombstoneKeys: [[UInt8]] = []
        var ourTombstoneKeys: [[UInt8]] = []
        var checked = 0
        for line in goldenLines {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let keyBytes = (record["key_hex"] as? String).flatMap(bytes(hex:))
            guard let valueHex = record["value_hex"] as? String else {
                tombstoneKeys.append(try #require(keyBytes))
                continue
            }
            let valueBytes = try #require(bytes(hex: valueHex))
            let value = try #require(try JSONSerialization.jsonObject(with: Data(valueBytes)) as? [String: Any])
            let payload = try #require((golden.schemas ? value["payload"] : value) as? [String: Any])
            let source = try #require(payload["source"] as? [String: Any])
            let lsn = try #require((source["lsn"] as? NSNumber)?.uint64Value)
            let processed = try #require((payload["ts_ns"] as? NSNumber)?.int64Value)
            let (changeSource, change) = try #require(byLSN[lsn], "no change at LSN \(lsn)")
            let ours = try recordBuilder.records(for: change, source: changeSource, processedNanoseconds: processed)
            // The record of this op among the change's records (a key change makes a delete and a create).
            let op = try #require(payload["op"] as? String)
            let candidates = try ours.filter { ourRecord in
                guard let ourValue = ourRecord.value, let bytes = try converter.serialize(ourValue) else { return false }
                return String(decoding: bytes, as: UTF8.self).contains("\"op\":\"\(op)\"")
            }
            let match = try #require(candidates.first, "no \(op) record for LSN \(lsn)")
            let matchValue = try #require(match.value)
            let ourValueBytes = try #require(try converter.serialize(matchValue))
            #expect(String(decoding: ourValueBytes, as: UTF8.self) == String(decoding: valueBytes, as: UTF8.self), "value at LSN \(lsn), op \(op)")
            let ourKeyBytes = try match.key.flatMap { key in try converter.serialize(key) }
            #expect(ourKeyBytes == keyBytes, "key at LSN \(lsn): \(String(decoding: ourKeyBytes ?? [], as: UTF8.self)) vs \(String(decoding: keyBytes ?? [], as: UTF8.self))")
            #expect(match.topic == record["topic"] as? String)
            let headers = try #require(record["headers"] as? [[Any]])
            let leading = headers.prefix { ($0.first as? String)?.hasPrefix("__debezium.context.") == false }
            #expect(leading.map { $0.first as? String } == match.leadingHeaders.map { Optional($0.name) }, "leading headers at LSN \(lsn)")
            for (header, ourHeader) in zip(leading, match.leadingHeaders) {
                let text = (header[1] as? String).flatMap(bytes(hex:)).map { String(decoding: $0, as: UTF8.self) }
                #expect(text == ChangeEventRecordBuilder.keyText(ourHeader.key))
            }
            if op == "d" {
                ourTombstoneKeys += try ours.filter { $0.value == nil }.compactMap { tombstone in try tombstone.key.flatMap { try converter.serialize($0) } }
            }
            checked += 1
        }
        #expect(ourTombstoneKeys.sorted { $0.lexicographicallyPrecedes($1) } == tombstoneKeys.sorted { $0.lexicographicallyPrecedes($1) }, "tombstones")
        #expect(checked == goldenLines.count - tombstoneKeys.count && checked > 0)
    }

    struct StreamedChange {
        var lsn: UInt64
        var relation: PgOutputMessage.Relation
        var change: TableChange
        var transactionID: UInt32
        var commitMicroseconds: Int64
        var lastCommitLSN: UInt64?
    }

    /// The changes of `pgoutput.txt` in order, with their transaction's xid and commit time and the end LSN
    /// of the transaction committed before.
    static func stream(in url: URL) throws -> [StreamedChange] {
        var decoder = PgOutputDecoder(protocolVersion: 1)
        var relations: [UInt32: PgOutputMessage.Relation] = [:]
        var changes: [StreamedChange] = []
        var transactionID: UInt32 = 0
        var commitMicroseconds: Int64 = 0
        var lastCommitLSN: UInt64?
        func values(_ tuple: PgOutputMessage.TupleData) -> [ChangeEventColumnValue] {
            tuple.columns.map { column in
                switch column {
                case .null: .null
                case .unchangedToast: .unchangedToast
                case .text(let bytes): .text(String(decoding: bytes, as: UTF8.self))
                case .binary: .null
                }
            }
        }
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 3 else { continue }
            let halves = parts[0].split(separator: "/")
            let lsn = try #require(UInt64(halves[0], radix: 16).flatMap { high in UInt64(halves[1], radix: 16).map { high << 32 | $0 } })
            transactionID = UInt32(parts[1]) ?? transactionID
            func append(_ relationID: UInt32, _ change: TableChange) throws {
                changes.append(StreamedChange(
                    lsn: lsn, relation: try #require(relations[relationID]), change: change, transactionID: transactionID,
                    commitMicroseconds: commitMicroseconds, lastCommitLSN: lastCommitLSN
                ))
            }
            switch try decoder.decode(try #require(bytes(hex: String(parts[2])))) {
            case .begin(let begin):
                commitMicroseconds = try #require(begin.commitTimestamp.unixEpochMicroseconds)
                transactionID = begin.transactionID
            case .commit(let commit):
                lastCommitLSN = commit.endLSN.rawValue
            case .relation(let relation):
                relations[relation.relationID] = relation
            case .insert(let insert):
                try append(insert.relationID, .insert(new: values(insert.newTuple)))
            case .update(let update):
                let old = update.oldTuple.map { values($0.tuple) }
                try append(update.relationID, .update(old: old, oldIsKeyOnly: update.oldTuple?.kind == .key, new: values(update.newTuple)))
            case .delete(let delete):
                try append(delete.relationID, .delete(old: values(delete.oldTuple.tuple), oldIsKeyOnly: delete.oldTuple.kind == .key))
            case .truncate(let truncate):
                for relationID in truncate.relationIDs { try append(relationID, .truncate) }
            default:
                break
            }
        }
        return changes
    }
}

/// `source.snapshot` of the initial snapshot's reads, as Debezium's relational snapshot marks them.
@Suite("Snapshot markers")
struct SnapshotMarkerTests {
    /// goldens/change-snapshot: items 1-3, then tags 10-11.
    @Test func theCapturedSnapshotsMarkers() {
        let rows: [(table: Int, first: Bool, last: Bool)] = [(0, true, false), (0, false, false), (0, false, true), (1, true, false), (1, false, true)]
        let markers = rows.enumerated().map { index, row in
            SnapshotMarker.of(firstTable: row.table == 0, lastTable: row.table == 1, firstInTable: row.first, lastInTable: row.last, lastOfSnapshot: index == rows.count - 1)
        }
        #expect(markers.map(\.rawValue) == ["first", "true", "last_in_data_collection", "first_in_data_collection", "last"])
    }

    /// A single row of the first of two tables is the snapshot's first (first beats last-in-table), of the last
    /// table its last; when the last table is empty, the snapshot's last row is `last` whatever its table.
    @Test func singleRowsAndEmptyTables() {
        #expect(SnapshotMarker.of(firstTable: true, lastTable: false, firstInTable: true, lastInTable: true, lastOfSnapshot: false) == .first)
        #expect(SnapshotMarker.of(firstTable: false, lastTable: true, firstInTable: true, lastInTable: true, lastOfSnapshot: true) == .last)
        #expect(SnapshotMarker.of(firstTable: false, lastTable: false, firstInTable: true, lastInTable: true, lastOfSnapshot: false) == .lastInDataCollection)
        #expect(SnapshotMarker.of(firstTable: true, lastTable: false, firstInTable: false, lastInTable: true, lastOfSnapshot: true) == .last)
        #expect(SnapshotMarker.of(firstTable: true, lastTable: true, firstInTable: true, lastInTable: true, lastOfSnapshot: true) == .last)
    }

    /// A read is a create's record with op `r` and the marker in `source.snapshot`.
    @Test func aReadIsOpRWithItsMarker() throws {
        let table = CapturedTable(schema: "public", name: "tags", columns: [
            CapturedTable.Column(name: "id", type: ChangeEventColumnType(type: .int4), optional: false, isKey: true),
            CapturedTable.Column(name: "label", type: ChangeEventColumnType(type: .text), optional: false, isKey: false),
        ])
        let builder = try ChangeEventRecordBuilder(table: table, topicPrefix: "dbzcsn")
        var source = ChangeEventSource(connectorName: "dbzcsn", database: "app", commitMicroseconds: 1_796_324_514_557_422, transactionID: 8494, lsn: 1_077_874_296, lastCommitLSN: nil)
        source.snapshot = .firstInDataCollection
        let records = try builder.records(for: .read(new: [.text("10"), .text("fruit")]), source: source, processedNanoseconds: 0)
        let json = ConnectRecordSerializer(converter: ConverterSetting(kind: .json, options: ["schemas.enable": "false"]))
        let read = try #require(records.first?.value)
        let value = String(decoding: try #require(try json.serialize(read)), as: UTF8.self)
        #expect(records.count == 1)
        #expect(value.contains(#""op":"r""#) && value.contains(#""snapshot":"first_in_data_collection""#) && value.contains(#""before":null,"after":{"id":10,"label":"fruit"}"#), "\(value)")
        #expect(value.contains(#""sequence":"[null,\"1077874296\"]""#), "\(value)")
    }
}
