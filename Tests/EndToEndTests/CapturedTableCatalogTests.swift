@testable import Connector
@testable import DebeziumFormat
import Foundation
import PostgresNames
import Testing
import TestSupport
import WALReader

/// A captured table read from the real catalog (primary key, NOT NULL, defaults, enum labels) gives the
/// schemas Debezium 3.6.3 wrote for the same table: the golden case's setup SQL is run in a database of its
/// own, and the key and value schemas outbox-cdc builds from the catalog must be the bytes of Debezium's.
@Suite("Captured tables from the catalog, as Debezium 3.6.3 describes them")
struct CapturedTableCatalogTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var table: String
        /// ExtractNewRecordState: the value schema is the row's, not the envelope's.
        var unwrapped = false
        /// SQL replaced in the setup (an extension the test servers may lack, for a default of the same kind).
        var replacing: [(String, String)] = []
        var description: String { name }
    }

    static let cases = [
        Case(name: "change-types-schemas", table: "change_types"),
        Case(name: "change-types-time-connect", table: "change_types"),
        Case(name: "change-replica-full", table: "items"),
        Case(name: "change-toast", table: "docs"),
        // uuid_generate_v4() comes from uuid-ossp; gen_random_uuid() is built in: both are function calls, whose
        // default Debezium writes as the nil UUID.
        Case(name: "golang-debezium-outbox", table: "outbox_events", unwrapped: true, replacing: [
            ("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\";", ""), ("uuid_generate_v4()", "gen_random_uuid()"),
        ]),
    ]

    @Test(arguments: cases)
    func schemasFromTheCatalogAreDebeziums(_ golden: Case) throws {
        let fixture = try GoldenFixture(golden.name)
        var setup = try fixture.setupSQL
        for (from, to) in golden.replacing { setup = setup.replacingOccurrences(of: from, with: to) }
        let database = try GoldenDatabase(setupSQL: setup)
        defer { database.drop() }
        let connection = try PostgresConnection.connect(ConnectionSettings(database.url))
        defer { connection.close() }

        let settings = try ChangeEventSettings(connector: Self.connectorConfig(fixture))
        let table = try connection.capturedTable(QualifiedTableName(schema: "public", name: golden.table), modes: settings.valueModes)
        let record = try #require(try Self.firstChangeRecord(fixture))
        let prefix = try #require(record.topic.split(separator: ".").first.map(String.init))
        let builder = try ChangeEventRecordBuilder(table: table, topicPrefix: prefix)

        var valueSchema = builder.envelopeSchema
        if golden.unwrapped {
            valueSchema = builder.rowSchema
            valueSchema.optional = false
        }
        let debeziums = try Self.schemaMember(of: try #require(record.value))
        #expect(Self.schemaJSON(valueSchema) == debeziums, "ours \(Self.schemaJSON(valueSchema))\nDebezium's \(debeziums)")
        #expect(Self.schemaJSON(try #require(builder.keySchema)) == (try Self.schemaMember(of: try #require(record.key))))
    }

    @Test("A column of a type not reproduced is refused at start, naming the column and its type")
    func unsupportedColumnIsNamed() throws {
        let database = try GoldenDatabase(setupSQL: "CREATE TABLE public.places (id integer PRIMARY KEY, spot point, addr inet)")
        defer { database.drop() }
        let connection = try PostgresConnection.connect(ConnectionSettings(database.url))
        defer { connection.close() }
        do {
            _ = try connection.capturedTable(QualifiedTableName(schema: "public", name: "places"), modes: ColumnValueModes())
            Issue.record("a point column was accepted")
        } catch {
            #expect(error.description.contains("column spot") && error.description.contains("point"), "\(error)")
        }
        #expect(throws: CapturedTableError.self) {
            try connection.capturedTable(QualifiedTableName(schema: "public", name: "absent"), modes: ColumnValueModes())
        }
    }

    private static func connectorConfig(_ fixture: GoldenFixture) throws -> OrderedConfig {
        try JavaProperties.parse(String(contentsOf: fixture.directory.appendingPathComponent("connector.properties.used"), encoding: .utf8)).entries
    }

    /// The case's first record of a captured table that has a value (not a heartbeat, not a tombstone).
    private static func firstChangeRecord(_ fixture: GoldenFixture) throws -> (topic: String, key: [UInt8]?, value: [UInt8]?)? {
        for line in try String(contentsOf: fixture.directory.appendingPathComponent("records.jsonl"), encoding: .utf8).split(separator: "\n") {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let topic = record["topic"] as? String, !topic.hasPrefix("__"), let value = record["value_hex"] as? String else { continue }
            return (topic, (record["key_hex"] as? String).flatMap { bytes(hex: $0) }, bytes(hex: value))
        }
        return nil
    }

    /// The `schema` member of a JsonConverter record with schemas: the text between `{"schema":` and `,"payload":`.
    private static func schemaMember(of bytes: [UInt8]) throws -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        let start = try #require(text.range(of: "{\"schema\":")).upperBound
        // The first: a column named payload has the same member in the payload that follows.
        let end = try #require(text.range(of: ",\"payload\":")).lowerBound
        return String(text[start ..< end])
    }

    private static func schemaJSON(_ schema: ConnectSchema) -> String {
        var writer = JacksonJSONWriter()
        try? ConnectRecordSerializer.write(schema, fieldName: nil, to: &writer, depth: 1)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
