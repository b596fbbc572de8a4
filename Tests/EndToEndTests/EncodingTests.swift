import Foundation
import Testing

/// A database whose encoding is not UTF-8: text reaches Kafka as UTF-8 (as Debezium delivers it), bytes
/// stay as they are.
@Suite("Database encodings")
struct EncodingTests {
    @Test func inALatin1DatabaseKeyHeadersAndTextPayloadArriveAsUTF8() throws {
        let database = try TestDatabase(outboxPayloadType: "text", encoding: "LATIN1")
        defer { database.drop() }
        #expect(try database.sql("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()").rows.first?.first == "LATIN1")
        try database.sql("ALTER TABLE outbox ADD COLUMN headers jsonb")
        let connector = try ConnectorProcess(database: database, extra: ["--headers-column", "headers"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        let type = "Latin\(database.suffix)"
        let id = UUID().uuidString.lowercased()
        // Every character below exists in LATIN1; the test's connection says it speaks UTF-8 (independently of
        // what outbox-cdc's connections say) and the server converts.
        let key = "clé-ü", payload = "Grüße, à bientôt ½", header = "naïve façade"
        let writer = try database.connect()
        defer { writer.close() }
        try writer.query("SET client_encoding TO 'UTF8'")
        try writer.query("""
            INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, headers)
            VALUES ('\(id)', '\(type)', '\(key)', 't', '\(payload)', '{"note": "\(header)"}')
            """)
        // Stored as LATIN1: one byte per character.
        #expect(try writer.query("SELECT octet_length(aggregateid) FROM outbox").rows.first?.first == "\(key.count)")

        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let record = try #require(try reader.read(until: 1, log: connector).first)
        #expect(record.key == Array(key.utf8))
        #expect(record.value == Array(payload.utf8))
        let note = record.header("note") ?? nil
        #expect(note == Array(header.utf8))
        #expect(record.idHeader == id)
    }

    @Test func inALatin1DatabaseABytePayloadStaysRaw() throws {
        let database = try TestDatabase(outboxPayloadType: "bytea", encoding: "LATIN1")
        defer { database.drop() }
        let connector = try ConnectorProcess(database: database)
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        let type = "LatinBytes\(database.suffix)"
        // E9 is é in LATIN1, C3 A9 in UTF-8; FF and 00 are no text at all: bytea is never converted.
        try database.sql("""
            INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload)
            VALUES ('\(UUID().uuidString.lowercased())', '\(type)', 'k', 't', '\\xe9ff00c3a9'::bytea)
            """)
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let record = try #require(try reader.read(until: 1, log: connector).first)
        #expect(record.value == [0xE9, 0xFF, 0x00, 0xC3, 0xA9])
    }
}
