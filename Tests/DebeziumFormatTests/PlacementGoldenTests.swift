import DebeziumFormat
import Testing
import TestSupport

/// `table.fields.additional.placement` (envelope, header, partition), `table.field.event.schema.version` and
/// `table.field.event.timestamp` against the records Debezium 3.6.3 published (goldens
/// `additional-placement`, `additional-placement-noschemas`, `envelope-unversioned`,
/// `event-timestamp-timestamptz`).
@Suite("Placements, envelope schema cache and event timestamp, as captured")
struct PlacementGoldenTests {
    /// sql/outbox-placed-fields.setup.sql.
    static let placedTable = OutboxTable.standard(extra: [
        ("created_at", .timestamp, true), ("schema_version", .int4, true), ("tenant", .varchar, true), ("part", .int4, true),
    ])

    /// sql/placed-fields.rows.sql, in commit order.
    static func placedRows() throws -> [[String: ConnectValue]] {
        let table = placedTable
        return [
            try table.row("00000000-0000-4000-8000-000000000001", "Order", "order-1", "OrderCreated", #"{"orderId": 1}"#,
                          "2024-05-06 07:08:09.123456", "3", "acme", "2"),
            try table.row("00000000-0000-4000-8000-000000000002", "Order", "order-2", "OrderShipped", nil,
                          "2024-05-06 07:08:09", nil, "globex", "0"),
            try table.row("00000000-0000-4000-8000-000000000003", "Order", nil, "OrderOrphaned", #"{"orphan": true}"#,
                          nil, "1", nil, nil),
            try table.row("00000000-0000-4000-8000-000000000004", "Customer", "customer-a", "CustomerCreated", #"{"n": [1, 2]}"#,
                          "1999-12-31 23:59:59.999", "2", "acme", "3"),
            try table.row("00000000-0000-4000-8000-000000000005", "Customer", "customer-b", "CustomerCreated", #"{"name": "B"}"#,
                          "2030-01-01 00:00:00", "1", "acme", "1"),
            try table.row("00000000-0000-4000-8000-000000000006", "Customer", "customer-c", "CustomerCreated", #"{"name": "C"}"#,
                          "2030-01-01 00:00:00.000001", "1", "initech", "1"),
            try table.row("00000000-0000-4000-8000-000000000007", "Customer", "customer-d", "CustomerCreated", #"{"name": "D"}"#,
                          "2030-01-01 00:00:00.0009", "1", "globex", nil),
        ]
    }

    /// Envelope `{payload, tenant}` named `dbzap.public.outbox.<aggregatetype>.Value` with `version` =
    /// schema_version, cached per version (the Customer rows of version 1 reuse the Order row's name; the
    /// NULL version has no `version` member); headers `eventType`, `aggregatetype` after `id`; partition =
    /// `part` (NULL → key hash); timestamp = created_at µs / 1000.
    @Test(arguments: ["additional-placement", "additional-placement-noschemas"])
    func placedFieldsAreReproduced(caseName: String) throws {
        let built = try expectRowsMatchCapture(caseName, table: Self.placedTable, rows: try Self.placedRows())
        #expect(built.values.compactMap(\.timestampMilliseconds).count == 6, "every non-NULL created_at sets the timestamp")
        #expect(built.values.compactMap(\.partition).count == 5, "every non-NULL part sets the partition")
    }

    /// envelope-unversioned: no schema-version column, so one envelope schema per payload schema (here per
    /// table), named after the first aggregatetype seen (`…Order.Value` on the Customer record too); int,
    /// timestamp and boolean headers as SimpleHeaderConverter writes them, NULL → a header without value.
    @Test func unversionedEnvelopeAndTypedHeadersAreReproduced() throws {
        let table = OutboxTable.standard(extra: [
            ("tenant", .varchar, true), ("seq", .int4, true), ("created_at", .timestamp, true), ("flag", .boolean, true),
        ])
        let rows = [
            try table.row("00000000-0000-4000-8000-000000000001", "Order", "order-1", "OrderCreated", #"{"n": 1}"#,
                          "acme", "42", "2024-05-06 07:08:09.123456", "t"),
            try table.row("00000000-0000-4000-8000-000000000002", "Customer", "customer-a", "CustomerCreated", #"{"n": 2}"#,
                          "globex", "-1", "1970-01-01 00:00:00", "f"),
            try table.row("00000000-0000-4000-8000-000000000003", "Order", "order-2", "OrderCreated", nil, nil, nil, nil, nil),
        ]
        try expectRowsMatchCapture("envelope-unversioned", table: table, rows: rows)
    }

    /// A record's Kafka timestamp from `created_at`: PostgreSQL's text → µs since 1970 read as UTC → / 1000
    /// truncated; compared with the timestamps Debezium gave the captured records.
    @Test func eventTimestampsFromTimestampText() throws {
        let captured = try GoldenCase.load("additional-placement").capturedRecordsByEventID()
        let createdAt = [
            "00000000-0000-4000-8000-000000000001": "2024-05-06 07:08:09.123456",
            "00000000-0000-4000-8000-000000000002": "2024-05-06 07:08:09",
            "00000000-0000-4000-8000-000000000004": "1999-12-31 23:59:59.999",
            "00000000-0000-4000-8000-000000000005": "2030-01-01 00:00:00",
            "00000000-0000-4000-8000-000000000006": "2030-01-01 00:00:00.000001",
            "00000000-0000-4000-8000-000000000007": "2030-01-01 00:00:00.0009",
        ]
        for (id, text) in createdAt {
            let record = try #require(captured[id])
            #expect(try DebeziumTimestamp.epochMilliseconds(text) == record.timestamp, "\(text)")
        }
    }

    /// event-timestamp-timestamptz: a `timestamptz` column kills Debezium's task on the first row
    /// (`DataException: Field 'created_at' is not of type INT64`) and nothing is published. Here the field
    /// is refused when it is made, with the error naming the key.
    @Test func aTimestamptzEventTimestampIsRefused() throws {
        let golden = try GoldenCase.load("event-timestamp-timestamptz")
        #expect(try golden.capturedRecords().isEmpty)
        #expect(try golden.settings().eventRouter?.timestampColumn == "created_at")
        let table = OutboxTable.standard(extra: [("created_at", .timestamptz, true)])
        #expect {
            _ = try OutboxRecordPipeline(golden: golden, table: table)
        } throws: { error in
            guard case EventRouterConfigurationError.eventTimestampColumnType(column: "created_at", _) = error else { return false }
            let text = "\(error)"
            return text.hasPrefix("table.field.event.timestamp: ") && text.contains("Field 'created_at' is not of type INT64")
        }
    }

    /// Debezium reads the partition with `getInt32` and the version with `getInt32`: other column types
    /// are refused when the placement is made; a negative partition fails the row.
    @Test func partitionPlacementsCheckTheirColumn() throws {
        #expect(throws: EventRouterConfigurationError.partitionColumnType(column: "part", found: "INT64")) {
            _ = try OutboxPartitionPlacement(column: "part", schema: try PostgresColumnType.int8.connectSchema(optional: true))
        }
        #expect(throws: EventRouterConfigurationError.partitionColumnType(column: "part", found: "missing")) {
            _ = try OutboxPartitionPlacement(column: "part", schema: nil)
        }
        let placement = try OutboxPartitionPlacement(column: "part", schema: try PostgresColumnType.int4.connectSchema(optional: true))
        #expect(throws: OutboxRecordError.negativePartition(-1)) { _ = try placement.partition(.int32(-1)) }
        #expect(try placement.partition(.null) == nil)
    }

    /// Envelope names must be distinct and not `payload` (Kafka's SchemaBuilder rejects duplicates); a
    /// row must bring one value per envelope column.
    @Test func envelopeMisconfigurationsAreRefused() throws {
        var settings = EventRouterSettings(alias: "outbox")
        settings.additionalFields = [.init(column: "body", placement: .envelope, alias: "payload")]
        #expect(throws: EventRouterConfigurationError.duplicateEnvelopeField(name: "payload")) {
            _ = try OutboxValueBuilder(settings: settings)
        }
        settings.additionalFields = [.init(column: "a", placement: .envelope, alias: "x"), .init(column: "b", placement: .envelope, alias: "x")]
        #expect(throws: EventRouterConfigurationError.duplicateEnvelopeField(name: "x")) {
            _ = try OutboxValueBuilder(settings: settings)
        }
        settings.additionalFields = [.init(column: "tenant", placement: .envelope)]
        var builder = try OutboxValueBuilder(settings: settings)
        #expect(throws: OutboxRecordError.placementValueCount(expected: 1, got: 0)) {
            _ = try builder.value(for: .init(payload: ConnectValue(schema: .json(optional: true), data: .null),
                                             routedByValue: "Order", rowSchemaName: "p.public.outbox.Value"))
        }
    }

    /// The version cache is per version number whatever the payload: a later row whose (expanded) payload
    /// schema differs from the cached one cannot be put into it, and Debezium's `Struct.put` fails the task.
    @Test func aCachedVersionedEnvelopeRejectsADifferentPayloadSchema() throws {
        var settings = EventRouterSettings(alias: "outbox")
        settings.expandJSONPayload = true
        settings.schemaVersionColumn = "schema_version"
        settings.additionalFields = [.init(column: "tenant", placement: .envelope)]
        var builder = try OutboxValueBuilder(settings: settings)
        let tenant = try PostgresColumnType.varchar.connectValue(text: "acme", optional: true)
        func row(_ json: String) -> OutboxValueBuilder.Row {
            .init(payload: ConnectValue(schema: .json(optional: true), data: .string(json)), envelopeValues: [tenant],
                  schemaVersion: 1, routedByValue: "Order", rowSchemaName: "p.public.outbox.Value")
        }
        _ = try builder.value(for: row(#"{"a": 1}"#))
        _ = try builder.value(for: row(#"{"a": 2}"#))
        #expect(throws: OutboxRecordError.envelopeValueRejected(field: "payload", reason: "Struct schemas do not match.")) {
            _ = try builder.value(for: row(#"{"b": "x"}"#))
        }
    }

    /// Header values whose SimpleHeaderConverter text is not reproduced are refused, not guessed.
    @Test func unsupportedHeaderValuesAreRefused() {
        #expect(throws: OutboxRecordError.unsupportedHeaderValue(name: "blob", javaClass: "class [B")) {
            _ = try SimpleHeaderConverter.headerValue(.bytes([1, 2]), name: "blob")
        }
    }
}
