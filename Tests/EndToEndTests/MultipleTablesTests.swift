import Foundation
import Testing

/// `--table a,b`: several outbox tables of one layout in one publication and one slot.
@Suite("Several outbox tables")
struct MultipleTablesTests {
    @Test func rowsOfEveryNamedTableArePublishedAndOthersAreNot() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql("CREATE TABLE outbox_b (LIKE outbox INCLUDING ALL)")
        try database.sql("CREATE TABLE outbox_c (LIKE outbox INCLUDING ALL)")
        let type = "Multi\(database.suffix)"
        let connector = try ConnectorProcess(database: database, extra: ["--table", "public.outbox,public.outbox_b"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        let ids = (0..<3).map { _ in UUID().uuidString.lowercased() }
        for (id, table) in zip(ids, ["outbox", "outbox_b", "outbox_c"]) {
            try database.sql("INSERT INTO \(table) (id, aggregatetype, aggregateid, type, payload) VALUES ('\(id)', '\(type)', 'k', 't', '{}')")
        }
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        try reader.read(until: 2, log: connector)
        try reader.drain(for: .seconds(1))
        #expect(reader.eventIDs == [ids[0], ids[1]], "outbox_c is not named")
        let published = try database.sql("SELECT tablename FROM pg_publication_tables WHERE pubname = 'pub_\(database.suffix)' ORDER BY 1")
        #expect(published.rows.map { $0.first ?? nil } == ["outbox", "outbox_b"])
    }
}
