import Foundation
import KafkaClient
import PostgresLSN
import Testing
import WALReader

/// The core promise against the real PostgreSQL and the real (Tansu) broker, through the executable.
///
/// The tests block (libpq, Kafka polls, child processes) and are synchronous on purpose: `#expect`
/// attributes issues through task-locals, which a thread of our own would not carry. The suite is
/// serialized, so it holds at most one thread of the pool.
@Suite("Streaming end to end", .serialized)
struct StreamingTests {
    @Test("1,000 events in 100 transactions across 5 aggregate types arrive with topic, key, value and id header, in per-key commit order")
    func thousandEventsAcrossFiveTypes() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let types = (0 ..< 5).map { "type\($0)_\(database.suffix)" }
        let reader = try TopicReader(topics: types.map { "outbox.event.\($0)" })
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: "slot_\(database.suffix)")

        var writer = try OutboxWriter(database: database)
        var written: [WrittenEvent] = []
        for transaction in 0 ..< 100 {
            let rows = (0 ..< 10).map { index in
                let n = transaction * 10 + index
                return (aggregateType: types[n % 5], aggregateID: "agg-\(n % 37)")
            }
            written += try writer.commit(rows)
        }
        let records = try reader.read(until: 1000, log: connector)
        try reader.drain(for: .milliseconds(500))

        #expect(reader.records.count == 1000, "exactly once in the absence of faults")
        // What PostgreSQL itself prints for each payload is what the value must be.
        let canonical = try database.sql("SELECT id::text, payload::text FROM outbox")
        let payloadByID = Dictionary(uniqueKeysWithValues: canonical.rows.map { ($0[0] ?? "", $0[1] ?? "") })
        let writtenByID = Dictionary(uniqueKeysWithValues: written.map { ($0.id, $0) })
        for record in records {
            let id = try #require(record.idHeader)
            let event = try #require(writtenByID[id], "unknown id \(id)")
            #expect(record.topic == "outbox.event.\(event.aggregateType)")
            #expect(record.key?.utf8String == event.aggregateID)
            #expect(record.value?.utf8String == payloadByID[id])
            #expect(record.headers.map(\.name) == ["id"])
            #expect(id.count == 36)
        }
        #expect(Set(records.compactMap(\.idHeader)) == Set(written.map(\.id)))
        let order = verifyPerKeyOrder(records, written: written)
        #expect(order.orderViolations.isEmpty, "\(order.orderViolations.prefix(5))")

        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
    }

    @Test("Payloads of type bytea, text and json arrive as their bytes; a NULL payload as a null value", arguments: ["bytea", "text", "json"])
    func payloadTypes(type payloadType: String) throws {
        let database = try TestDatabase(outboxPayloadType: payloadType)
        defer { database.drop() }
        let type = "payload_\(payloadType)_\(database.suffix)"
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: "slot_\(database.suffix)")

        // Raw bytes for bytea (a NUL and bytes that are not UTF-8 among them); for json and text the text
        // exactly as written (json keeps the input's spacing). Empty is not NULL; '' is not valid json.
        var payloads: [String: (sql: String, expected: [UInt8]?)] = ["b-null": ("NULL", nil)]
        if payloadType == "bytea" {
            payloads["a-bytes"] = ("'\\x00ff7b2268223a317d'::bytea", [0x00, 0xFF, 0x7B, 0x22, 0x68, 0x22, 0x3A, 0x31, 0x7D])
            payloads["c-empty"] = ("''::bytea", [])
        } else {
            payloads["a-text"] = ("'{\"h\":  1}'", Array("{\"h\":  1}".utf8))
            if payloadType == "text" { payloads["c-empty"] = ("''", []) }
        }
        let connection = try database.connect()
        defer { connection.close() }
        for (key, payload) in payloads.sorted(by: { $0.key < $1.key }) {
            try connection.query("INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES (gen_random_uuid(), '\(type)', '\(key)', 't', \(payload.sql))")
        }
        try reader.read(until: payloads.count, log: connector)
        for record in reader.records {
            let key = try #require(record.key?.utf8String)
            let expected = try #require(payloads[key])
            #expect(record.value == expected.expected, "payload of \(key)")
        }
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
    }

    @Test("An insert deleted in the same transaction is still published; updates, deletes and other tables publish nothing")
    func insertDeletedInSameTransaction() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql("CREATE TABLE other (id serial PRIMARY KEY, note text)")
        let type = "deleted_\(database.suffix)"
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: "slot_\(database.suffix)")

        var writer = try OutboxWriter(database: database)
        // The common pattern: write the event and delete the row at once, so the table stays empty.
        let deleted = try writer.commit([(type, "a-1")], extraSQL: "DELETE FROM outbox")
        let kept = try writer.commit([(type, "a-2")])
        try database.sql("UPDATE outbox SET type = 'changed'")
        try database.sql("DELETE FROM outbox")
        try database.sql("INSERT INTO other (note) VALUES ('not an event')")
        let last = try writer.commit([(type, "a-3")])

        try reader.read(until: 3, log: connector)
        try reader.drain(for: .seconds(1))
        #expect(reader.records.compactMap(\.idHeader).sorted() == (deleted + kept + last).map(\.id).sorted())
        // Only the last event's row is still in the table; the published ones were all deleted.
        #expect(try database.sql("SELECT id::text FROM outbox").rows.map { $0.first ?? nil } == [last[0].id])

        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
    }

    @Test("kill -9 while 20,000 events are written, then a restart: every event arrives at least once, in per-key order")
    func killNineDuringTwentyThousandEvents() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let types = (0 ..< 4).map { "crash\($0)_\(database.suffix)" }
        let slot = "slot_\(database.suffix)"
        let reader = try TopicReader(topics: types.map { "outbox.event.\($0)" })
        let first = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        let createdAt = try #require(try database.slot(slot)?.confirmed)

        var writer = try OutboxWriter(database: database)
        var written: [WrittenEvent] = []
        let started = ContinuousClock.now
        var killedAt: Int?
        var publishedBeforeKill = 0
        var confirmedAtKill: LSN?
        var restarted: ConnectorProcess?
        var restartTime: ContinuousClock.Instant?
        for transaction in 0 ..< 1000 {
            let rows = (0 ..< 20).map { index in
                let n = transaction * 20 + index
                return (aggregateType: types[n % 4], aggregateID: "key-\(n % 101)")
            }
            written += try writer.commit(rows)
            // Kill mid-stream, while writes go on: once the first instance has published part of what
            // was written and confirmed some of it, so the restart resumes from inside the stream.
            if killedAt == nil, written.count >= 4000 {
                try reader.drain(for: .milliseconds(1))
                if reader.eventIDs.count >= 2000, let confirmed = try database.slot(slot)?.confirmed, confirmed > createdAt {
                    first.killHard()
                    killedAt = written.count
                    confirmedAtKill = confirmed
                    try reader.drain(for: .milliseconds(300))
                    publishedBeforeKill = reader.eventIDs.count
                }
            }
        }
        // The rest of the 20,000 waits in the slot. The killed walsender may hold it for a moment: the new
        // process waits for it (the hot-standby path).
        restarted = try ConnectorProcess(database: database)
        restartTime = .now
        let writeSeconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
        let deadline = ContinuousClock.now + .seconds(120)
        let expected = Set(written.map(\.id))
        while reader.eventIDs.count < expected.count, ContinuousClock.now < deadline {
            try reader.drain(for: .milliseconds(250))
        }
        let caughtUp = ContinuousClock.now
        let missing = expected.subtracting(reader.eventIDs)
        var diagnosis = ""
        if !missing.isEmpty {
            // Producer side or consumer side? The slot is confirmed only after Kafka acknowledged, and
            // a fresh consumer shows whether the broker holds what the first one did not see.
            let fresh = try TopicReader(topics: types.map { "outbox.event.\($0)" })
            try fresh.drain(for: .seconds(5))
            let walEnd = try database.sql("SELECT pg_current_wal_lsn()::text AS lsn")[0, "lsn"] ?? "?"
            diagnosis = "slot confirmed at \(String(describing: try database.slot(slot)?.confirmed)), WAL end \(walEnd); a fresh consumer sees \(expected.subtracting(fresh.eventIDs).count) missing of \(fresh.records.count) records"
        }
        #expect(missing.isEmpty, "\(missing.count) events never arrived; \(diagnosis); log:\n\(restarted?.log ?? "")")
        let order = verifyPerKeyOrder(reader.records, written: written)
        #expect(order.orderViolations.isEmpty, "\(order.orderViolations.prefix(5))")
        #expect(killedAt != nil, "the first instance never confirmed anything")
        #expect(publishedBeforeKill >= 2000, "the kill did not land mid-stream")
        #expect(try #require(confirmedAtKill) > createdAt, "the killed instance had confirmed nothing")

        if let restartTime {
            let seconds = Double((caughtUp - restartTime).components.seconds) + Double((caughtUp - restartTime).components.attoseconds) / 1e18
            print("kill -9 test: \(written.count) events written in \(String(format: "%.2f", writeSeconds)) s; after the restart the backlog of \(written.count - (killedAt ?? 0))+ events was in Kafka within \(String(format: "%.2f", seconds)) s (\(Int(Double(written.count - (killedAt ?? 0)) / seconds)) events/s, process start included); killed after \(killedAt ?? 0) were written, having published \(publishedBeforeKill) with the slot confirmed at \(confirmedAtKill.map(String.init(describing:)) ?? "-") (confirmations trail acknowledgements by up to one status interval); duplicates after the restart: \(order.duplicates); connector peak RSS \((restarted?.peakResidentBytes ?? 0) / 1_048_576) MiB")
        }
        restarted?.terminate()
        #expect(restarted?.waitForExit(timeout: .seconds(30)) == 0, "\(restarted?.log ?? "")")
    }

    @Test("After SIGTERM the slot is confirmed at the end of the last acknowledged transaction, and a restart republishes nothing")
    func sigtermConfirmsExactlyAndRestartRepublishesNothing() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        let type = "term_\(database.suffix)"
        let slot = "slot_\(database.suffix)"
        try database.createWitnessSlot()
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)

        var writer = try OutboxWriter(database: database)
        var written: [WrittenEvent] = []
        for transaction in 0 ..< 50 {
            written += try writer.commit((0 ..< 10).map { (type, "k-\(($0 + transaction) % 7)") })
        }
        try reader.read(until: written.count, log: connector)
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")

        let lastEnd = try #require(try database.witnessedCommitEnds().last)
        let confirmed = try #require(try database.slot(slot)?.confirmed)
        // Nothing acknowledged is left unconfirmed. (The confirmed position may lie past the last
        // transaction's end: while idle, the connector confirms the server's WAL end, which other
        // databases move. That it never passes an unacknowledged event is the broker-unreachable test.)
        #expect(confirmed >= lastEnd, "confirmed \(confirmed) is before the last transaction's end \(lastEnd)")
        // The slot holds no outbox row after its confirmed position.
        let pending = try database.sql("SELECT count(*) FROM pg_logical_slot_peek_binary_changes('\(slot)', NULL, NULL, 'proto_version', '1', 'publication_names', 'pub_\(database.suffix)') WHERE substr(data, 1, 1) = 'I'")
        #expect(pending.rows.first?.first == "0")

        let restarted = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        try reader.drain(for: .seconds(3))
        #expect(reader.records.count == written.count, "a restart republished \(reader.records.count - written.count) records")
        restarted.terminate()
        #expect(restarted.waitForExit(timeout: .seconds(30)) == 0, "\(restarted.log)")
        // Idle, the restarted connector may confirm WAL other databases wrote; never less.
        #expect(try #require(try database.slot(slot)?.confirmed) >= confirmed)
    }

    @Test("Writes to a table outside the publication move confirmed_flush_lsn while the outbox is idle")
    func idleOutboxDoesNotPinWAL() throws {
        let database = try TestDatabase()
        defer { database.drop() }
        try database.sql("CREATE TABLE busy (id serial PRIMARY KEY, note text)")
        let slot = "slot_\(database.suffix)"
        let connector = try ConnectorProcess(database: database)
        try database.waitUntilActive(slot: slot)
        let before = try #require(try database.slot(slot)?.confirmed)
        for _ in 0 ..< 20 {
            try database.sql("INSERT INTO busy (note) SELECT repeat('x', 200) FROM generate_series(1, 50)")
        }
        let written = try #require(try database.sql("SELECT pg_current_wal_lsn()")[0, "pg_current_wal_lsn"].flatMap { LSN($0) })
        #expect(written > before)
        try waitFor("confirmed_flush_lsn to pass \(written)", timeout: .seconds(20)) {
            (try database.slot(slot)?.confirmed).flatMap { $0 }.map { $0 >= written } ?? false
        }
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
    }
}
