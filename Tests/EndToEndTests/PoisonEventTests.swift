import Foundation
import KafkaClient
import PostgresLSN
import Testing

/// Events that can never be published as they are, under each `--on-error` policy: nothing is dropped
/// silently, and the slot never passes an event that was neither published nor dead-lettered nor skipped.
@Suite("Poison events", .serialized)
struct PoisonEventTests {
    /// Three transactions: a good event, a poison one, a good one. Returns their ids and the poison one's
    /// commit end (from a witness slot).
    private func writeAroundPoison(_ database: TestDatabase, type: String, poison: String) throws -> (good: [String], poison: String) {
        let ids = (0..<3).map { _ in UUID().uuidString.lowercased() }
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(ids[0])', '\(type)', 'k1', 'created', '{\"n\": 1}')")
        try database.sql(poison.replacingOccurrences(of: "$ID", with: ids[1]))
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(ids[2])', '\(type)', 'k1', 'created', '{\"n\": 3}')")
        return ([ids[0], ids[2]], ids[1])
    }

    private func currentWAL(_ database: TestDatabase) throws -> LSN {
        let text = try #require(try database.sql("SELECT pg_current_wal_lsn()").rows.first?.first ?? nil)
        return try #require(LSN(text))
    }

    /// An empty routing value: no topic to publish to.
    private static let unroutable = "INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('$ID', '', 'k1', 'created', '{\"n\": 2}')"

    @Test func byDefaultOutboxCDCStopsAtThePoisonEventNamingItAndItsPosition() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let type = "Poison\(database.suffix)"
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        let (good, poison) = try writeAroundPoison(database, type: type, poison: Self.unroutable)

        #expect(connector.waitForExit(timeout: .seconds(30)) == 1, "\(connector.log)")
        #expect(connector.log.contains(poison) && connector.log.contains("cannot be routed"), "names the event:\n\(connector.log)")
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        try reader.drain(for: .seconds(2))
        #expect(reader.eventIDs == [good[0]], "the event before it is published, none after it")
        // The slot stays before the poison event: a restart meets it again.
        let confirmed = try #require(try database.slot(slot)?.confirmed)
        let poisonCommit = try currentWAL(database)
        #expect(confirmed < poisonCommit)
        let restarted = try ConnectorProcess(database: database)
        #expect(restarted.waitForExit(timeout: .seconds(30)) == 1, "meets it again:\n\(restarted.log)")
    }

    /// A topic the broker will not create (Tansu refuses names Kafka forbids, with INVALID_TOPIC): the error
    /// names the topic and the event, and the slot does not move past it.
    @Test func aTopicTheBrokerRefusesStopsOutboxCDCNamingTopicAndEvent() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        // WAL is the cluster's: other tests write it too, so the two transactions' ends come from a witness.
        try database.createWitnessSlot()
        let good = UUID().uuidString.lowercased(), refused = UUID().uuidString.lowercased()
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(good)', 'Fine\(database.suffix)', 'k', 't', '{}')")
        try database.sql("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ('\(refused)', 'no such/topic \(database.suffix)', 'k', 't', '{}')")

        #expect(connector.waitForExit(timeout: .seconds(60)) == 1, "\(connector.log)")
        #expect(connector.log.contains("Kafka refused event \(refused) for topic outbox.event.no such/topic \(database.suffix)"), "\(connector.log)")
        let ends = try database.witnessedCommitEnds()
        try #require(ends.count == 2, "\(ends)")
        let confirmed = try #require(try database.slot(slot)?.confirmed)
        #expect(confirmed >= ends[0], "the event before it is confirmed")
        #expect(confirmed < ends[1], "the slot stays before the refused event")
        let reader = try TopicReader(topics: ["outbox.event.Fine\(database.suffix)"])
        try reader.read(until: 1, log: connector)
        #expect(reader.eventIDs == [good])
    }

    @Test func skipLogsAndCountsThePoisonEventAndGoesOn() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let type = "Poison\(database.suffix)"
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database, extra: ["--on-error", "skip"])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: slot)
        let (good, poison) = try writeAroundPoison(database, type: type, poison: Self.unroutable)
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        try reader.read(until: 2, log: connector)
        #expect(reader.eventIDs == Set(good))
        #expect(connector.log.contains("skipped an event") && connector.log.contains(poison), "\(connector.log)")
        let written = try currentWAL(database)
        try waitFor("the slot to pass the skipped event", timeout: .seconds(30)) {
            (try database.slot(slot)?.confirmed).map { $0 >= written } ?? false
        }
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0)
        #expect(connector.log.contains("cdc.events_skipped=1"), "counted at stop:\n\(connector.log)")
    }

    /// An unroutable row and a record above librdkafka's message.max.bytes both go to the dead-letter topic,
    /// with headers saying why; the stream goes on and the slot moves past them.
    @Test func dlqPublishesThePoisonEventsWithTheirErrorAndGoesOn() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let type = "Poison\(database.suffix)"
        let slot = "slot_\(database.suffix)"
        let deadLetters = "dlq_\(database.suffix)"
        let connector = try ConnectorProcess(database: database, extra: ["--on-error", "dlq", "--dead-letter-topic", deadLetters])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: slot)
        let (good, unroutable) = try writeAroundPoison(database, type: type, poison: Self.unroutable)
        let oversized = UUID().uuidString.lowercased()
        // 1.5 MB: above librdkafka's default message.max.bytes (1,000,000), refused when it is handed over.
        try database.sql("""
            INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload)
            VALUES ('\(oversized)', '\(type)', 'k2', 'created', jsonb_build_object('blob', repeat('x', 1500000)))
            """)

        let events = try TopicReader(topics: ["outbox.event.\(type)"])
        try events.read(until: 2, log: connector)
        #expect(events.eventIDs == Set(good))
        let letters = try TopicReader(topics: [deadLetters])
        try letters.read(until: 2, log: connector)
        let byEvent = Dictionary(letters.records.map { (String(decoding: $0.headerText("outbox-cdc.error.event_id").map { Array($0.utf8) } ?? [], as: UTF8.self), $0) }) { first, _ in first }

        let row = try #require(byEvent[unroutable], "the unroutable row is a dead letter: \(byEvent.keys)")
        let columns = try #require(try JSONSerialization.jsonObject(with: Data(row.value ?? [])) as? [String: Any])
        #expect(columns["id"] as? String == unroutable && columns["aggregatetype"] as? String == "" && columns["aggregateid"] as? String == "k1")
        #expect(row.headerText("outbox-cdc.error")?.contains("cannot be routed") == true)
        #expect(row.headerText("outbox-cdc.error.lsn") != nil && row.headerText("outbox-cdc.error.table") == "public.outbox")

        let big = try #require(byEvent[oversized], "the oversized record is a dead letter")
        // A value too large for Kafka is too large for the dead-letter topic too: its size is said instead.
        #expect(big.value == nil && Int(big.headerText("outbox-cdc.error.value_bytes") ?? "") ?? 0 > 1_500_000)
        #expect(big.key == Array("k2".utf8) && big.headerText("id") == oversized, "the original key and headers")
        #expect(big.headerText("outbox-cdc.error.topic") == "outbox.event.\(type)")
        #expect(big.headerText("outbox-cdc.error")?.contains("MSG_SIZE_TOO_LARGE") == true, "\(big.headerText("outbox-cdc.error") ?? "")")

        let written = try currentWAL(database)
        try waitFor("the slot to pass the dead letters", timeout: .seconds(30)) {
            (try database.slot(slot)?.confirmed).map { $0 >= written } ?? false
        }
    }
}
