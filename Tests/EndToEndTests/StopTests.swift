import Foundation
import Testing

/// How a stop ends, for a supervisor to tell apart: complete (0), out of time with events Kafka had not
/// acknowledged (75, EX_TEMPFAIL: the next start repeats them), or cut short by a second signal (128+signo).
@Suite("Exit statuses of a stop", .serialized)
struct StopTests {
    @Test("A stop that reaches --shutdown-timeout-s with events unacknowledged exits 75; a second signal exits 128+signo")
    func incompleteStopsAreNotZero() throws {
        let broker = try OwnBroker()
        defer { broker.stop() }
        let database = try TestDatabase()
        defer { database.drop() }
        let connector = try ConnectorProcess(database: database, brokers: broker.brokers, extra: ["--shutdown-timeout-s", "1"])
        defer {
            broker.resume()
            connector.killHard()
        }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        var writer = try OutboxWriter(database: database)
        _ = try writer.commit([("Warm\(database.suffix)", "k")])
        let reader = try TopicReader(brokers: broker.brokers, topics: ["outbox.event.Warm\(database.suffix)"])
        try reader.read(until: 1, log: connector)

        broker.pause()
        _ = try writer.commit([("Stuck\(database.suffix)", "k")])
        try waitFor("the event to be handed to Kafka", timeout: .seconds(10)) { try database.slot("slot_\(database.suffix)")?.confirmed != nil }
        usleep(500_000)
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 75, "\(connector.log)")
        #expect(connector.log.contains("stopped with events Kafka had not acknowledged"), "\(connector.log)")
        broker.resume()

        // With the broker paused again, a second SIGTERM does not wait for the shutdown timeout.
        let second = try ConnectorProcess(database: database, brokers: broker.brokers, extra: ["--shutdown-timeout-s", "60"])
        defer { second.killHard() }
        try database.waitUntilActive(slot: "slot_\(database.suffix)")
        broker.pause()
        _ = try writer.commit([("Stuck\(database.suffix)", "k2")])
        usleep(500_000)
        second.terminate()
        try waitFor("the first signal to be taken", timeout: .seconds(10)) { second.log.contains("signal received: stopping") }
        second.terminate()
        #expect(second.waitForExit(timeout: .seconds(10)) == 128 + SIGTERM, "\(second.log)")
    }
}

/// What Kafka has acknowledged reaches the slot within milliseconds, not at the next status interval, so that
/// a crash repeats as little as the acknowledgements allow.
@Suite("Prompt confirmation", .serialized)
struct PromptConfirmationTests {
    @Test("With --status-interval-ms 10000, the slot is confirmed past an acknowledged transaction well within a second")
    func theSlotFollowsTheAcknowledgements() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess([
            "--db", database.url, "--brokers", try TestStack.brokers(), "--slot", slot,
            "--publication", "pub_\(database.suffix)", "--status-interval-ms", "10000",
        ])
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        try database.waitUntilActive(slot: slot)
        try database.createWitnessSlot()
        let type = "Prompt\(database.suffix)"
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        var writer = try OutboxWriter(database: database)
        for round in 1 ... 3 {
            _ = try writer.commit([(type, "k")])
            let end = try #require(try database.witnessedCommitEnds().last)
            try reader.read(until: round, log: connector)
            let acknowledged = ContinuousClock.now
            try waitFor("the slot to pass the acknowledged transaction", timeout: .seconds(1)) {
                (try database.slot(slot)?.confirmed).map { $0 >= end } ?? false
            }
            print("prompt confirmation: round \(round), slot confirmed \(ContinuousClock.now - acknowledged) after the record was read from Kafka")
        }
    }
}
