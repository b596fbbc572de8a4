import Foundation
import Testing
import WALReader

/// `--stream-in-progress`: the server streams large transactions before they commit (the stack's
/// logical_decoding_work_mem is 64kB, so a few thousand rows suffice). Nothing of a transaction is published
/// before its Stream Commit, nothing of an aborted transaction or subtransaction ever.
@Suite("Streaming of in-progress transactions")
struct StreamInProgressTests {
    @Test func nothingIsPublishedBeforeStreamCommitAndNothingOfAnAbortedTransaction() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database, extra: ["--stream-in-progress", "--log-level", "debug"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: slot)
        #expect(connector.log.contains("pgoutput.streaming=on") || connector.log.contains("pgoutput.streaming=parallel"), "\(connector.log)")
        let committed = "Committed\(database.suffix)", aborted = "Aborted\(database.suffix)", kept = "Kept\(database.suffix)"
        let reader = try TopicReader(topics: ["outbox.event.\(committed)", "outbox.event.\(aborted)", "outbox.event.\(kept)"])

        // The server counts the transactions it streamed: each big one below must have been streamed.
        var streamedSoFar = try streamedTransactions(database, slot: slot)
        func waitUntilStreamed() throws {
            try waitFor("the server to stream the open transaction", timeout: .seconds(30)) {
                try streamedTransactions(database, slot: slot) > streamedSoFar
            }
            streamedSoFar = try streamedTransactions(database, slot: slot)
        }
        let writer = try database.connect()
        defer { writer.close() }
        func insert(_ type: String, _ count: Int) throws -> [String] {
            let ids = (0 ..< count).map { _ in UUID().uuidString.lowercased() }
            try writer.query("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES "
                + ids.map { "('\($0)', '\(type)', 'k', 't', '{\"padding\": \"\(String(repeating: "p", count: 100))\"}')" }.joined(separator: ", "))
            return ids
        }

        // A committed transaction: streamed while open, yet nothing reaches Kafka before the commit.
        try writer.query("BEGIN")
        let committedIDs = try insert(committed, 3000)
        try waitUntilStreamed()
        try reader.drain(for: .seconds(2))
        #expect(reader.records.isEmpty, "published before its commit: \(reader.records.count) records")
        try writer.query("COMMIT")
        try reader.read(until: 3000, log: connector)

        // An aborted transaction: streamed, then rolled back.
        try writer.query("BEGIN")
        _ = try insert(aborted, 3000)
        try waitUntilStreamed()
        try writer.query("ROLLBACK")

        // A subtransaction streamed and rolled back inside a transaction that commits.
        try writer.query("BEGIN")
        var keptIDs = try insert(kept, 5)
        try writer.query("SAVEPOINT big")
        _ = try insert(aborted, 3000)
        try waitUntilStreamed()
        try writer.query("ROLLBACK TO SAVEPOINT big")
        keptIDs += try insert(kept, 5)
        try writer.query("COMMIT")

        try reader.read(until: 3010, log: connector)
        try reader.drain(for: .seconds(2))
        let byTopic = Dictionary(grouping: reader.records, by: \.topic)
        #expect(Set((byTopic["outbox.event.\(committed)"] ?? []).compactMap(\.idHeader)) == Set(committedIDs))
        #expect(Set((byTopic["outbox.event.\(kept)"] ?? []).compactMap(\.idHeader)) == Set(keptIDs))
        let abortedPublished = byTopic["outbox.event.\(aborted)"]?.count ?? 0
        #expect(abortedPublished == 0, "events of aborted (sub)transactions were published")
        #expect(connector.log.contains("streamed transaction committed"), "\(connector.log.suffix(2000))")
    }

    /// Holding a streamed transaction past --stream-max-held-bytes turns streaming off: outbox-cdc reconnects
    /// without it, the server spills the transaction and sends it at commit, and nothing is lost.
    @Test func pastTheMemoryBoundStreamingIsTurnedOffAndTheTransactionStillArrivesWhole() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database, extra: ["--stream-in-progress", "--stream-max-held-bytes", "65536"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: slot)
        let type = "Bounded\(database.suffix)"
        let writer = try database.connect()
        defer { writer.close() }
        try writer.query("BEGIN")
        let ids = (0 ..< 3000).map { _ in UUID().uuidString.lowercased() }
        try writer.query("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES "
            + ids.map { "('\($0)', '\(type)', 'k', 't', '{\"padding\": \"\(String(repeating: "p", count: 100))\"}')" }.joined(separator: ", "))
        try waitFor("outbox-cdc to turn streaming off", timeout: .seconds(30)) { connector.log.contains("reconnecting without --stream-in-progress") }
        try waitFor("the next session to stream without it", timeout: .seconds(30)) {
            connector.log.contains("pgoutput.streaming=off")
        }
        try writer.query("COMMIT")
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        try reader.read(until: 3000, log: connector)
        try reader.drain(for: .seconds(1))
        #expect(reader.eventIDs == Set(ids))
        #expect(reader.records.count == 3000, "nothing of the transaction was published before its commit, so nothing twice")
    }

    private func streamedTransactions(_ database: TestDatabase, slot: String) throws -> Int {
        let result = try database.sql("SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = '\(slot)'")
        return Int(result.rows.first?.first.flatMap { $0 } ?? "0") ?? 0
    }
}
