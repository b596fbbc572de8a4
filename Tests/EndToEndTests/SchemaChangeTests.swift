import Foundation
import Testing

/// The outbox table changes while outbox-cdc streams from it.
@Suite("Schema changes while streaming")
struct SchemaChangeTests {
    /// A column added is ignored; TRUNCATE is logged and ignored (with a publication that publishes it, as
    /// Debezium's do); a mapped column dropped stops outbox-cdc with the column, the table and the LSN named,
    /// and the slot stays before the row it could not map.
    @Test func addedColumnsAndTruncateAreIgnoredAndADroppedMappedColumnStops() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let type = "Schema\(database.suffix)"
        let slot = "slot_\(database.suffix)"
        try database.sql("CREATE PUBLICATION pub_\(database.suffix) FOR TABLE outbox")
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        let ids = (0..<3).map { _ in UUID().uuidString.lowercased() }
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(ids[0])', '\(type)', 'k', 't', '{}')")
        try database.sql("ALTER TABLE outbox ADD COLUMN tenant text")
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, tenant) VALUES ('\(ids[1])', '\(type)', 'k', 't', '{}', 'acme')")
        try database.sql("TRUNCATE outbox")
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        try reader.read(until: 2, log: connector)
        try waitFor("the TRUNCATE to be logged", timeout: .seconds(10)) { connector.log.contains("TRUNCATE of the outbox table ignored") }

        try database.sql("ALTER TABLE outbox DROP COLUMN aggregateid")
        try database.sql("INSERT INTO outbox (id, aggregatetype, type, payload) VALUES ('\(ids[2])', '\(type)', 't', '{}')")
        let stopped = try #require(try database.sql("SELECT pg_current_wal_lsn()").rows.first?.first ?? nil)
        #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        #expect(connector.log.contains("aggregateid") && connector.log.contains("public.outbox") && connector.log.contains("cannot map the outbox row at"),
                "names the column, the table and the LSN:\n\(connector.log)")
        let confirmed = try #require(try database.slot(slot)?.confirmed)
        let before = try database.sql("SELECT '\(confirmed)'::pg_lsn < '\(stopped)'::pg_lsn").rows.first?.first ?? nil
        #expect(before == "t", "the slot stays before the row it could not map")
        try reader.drain(for: .seconds(1))
        #expect(reader.eventIDs == [ids[0], ids[1]])
    }

    /// pgoutput's stream carries no DDL: outbox-cdc asks, while streaming, whether its table still exists and
    /// is still published, and stops with an error that says which and what to do.
    @Test(arguments: [
        ("ALTER PUBLICATION pub_%@ DROP TABLE outbox", "was removed from the publication 'pub_%@' while outbox-cdc was streaming"),
        ("DROP TABLE outbox", "was dropped from database 'e2e_%@' while outbox-cdc was streaming"),
    ])
    func theOutboxTableDroppedOrUnpublishedWhileStreamingStops(statement: String, error: String) throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let type = "Gone\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(UUID().uuidString.lowercased())', '\(type)', 'k', 't', '{}')")
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        try reader.read(until: 1, log: connector)
        try database.sql(statement.replacingOccurrences(of: "%@", with: database.suffix))
        #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        #expect(connector.log.contains(error.replacingOccurrences(of: "%@", with: database.suffix)), "\(connector.log)")
    }

    /// A mapped column renamed, or retyped to one read differently: the next row stops outbox-cdc with the
    /// column, the table and the LSN named, and the slot stays before that row.
    @Test(arguments: [
        ("ALTER TABLE outbox RENAME COLUMN aggregateid TO aggregate_key",
         "INSERT INTO outbox (id, aggregatetype, aggregate_key, type, payload) VALUES ('%id', '%type', 'k', 't', '{}')",
         "no column(s) aggregateid"),
        ("ALTER TABLE outbox ALTER COLUMN payload TYPE bytea USING convert_to(payload::text, 'UTF8')",
         "INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('%id', '%type', 'k', 't', '\\x7b7d')",
         "the column payload of the outbox table public.outbox changed its type"),
    ])
    func aMappedColumnRenamedOrRetypedStops(change: String, insert: String, error: String) throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let type = "Changed\(database.suffix)"
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        let before = UUID().uuidString.lowercased()
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(before)', '\(type)', 'k', 't', '{}')")
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        try reader.read(until: 1, log: connector)
        try database.sql(change)
        try database.sql(insert.replacingOccurrences(of: "%id", with: UUID().uuidString.lowercased()).replacingOccurrences(of: "%type", with: type))
        let stopped = try #require(try database.sql("SELECT pg_current_wal_lsn()").rows.first?.first ?? nil)
        #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        #expect(connector.log.contains(error) && connector.log.contains("public.outbox") && connector.log.contains("cannot map the outbox row at"),
                "names the column, the table and the LSN:\n\(connector.log)")
        let confirmed = try #require(try database.slot(slot)?.confirmed)
        #expect(try database.sql("SELECT '\(confirmed)'::pg_lsn < '\(stopped)'::pg_lsn").rows.first?.first == "t",
                "the slot stays before the row it could not map")
        try reader.drain(for: .seconds(1))
        #expect(reader.eventIDs == [before])
    }
}
