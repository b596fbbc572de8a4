import Foundation
import Synchronization
import Testing
import WALReader

/// PostgreSQL 17 and later carry a failover slot to a standby (`sync_replication_slots = on`): after the
/// standby is promoted, outbox-cdc, given both hosts with `target_session_attrs=read-write`, resumes there.
@Suite("Primary failover", .enabled(if: PostgresUnderTest.majorVersion >= 17, "failover slots need PostgreSQL 17 or later"))
struct FailoverTests {
    @Test func afterThePrimaryCrashesAndTheStandbyIsPromotedEveryCommittedEventArrives() throws {
        let pair = try FailoverPair()
        defer { pair.stop() }
        let (primary, standby) = (pair.primary, pair.standby)
        // Synchronous replication: a commit the writer saw succeed is on the standby, so "every committed
        // event arrives" is a promise PostgreSQL lets us make. synchronized_standby_slots keeps the
        // logical walsender from sending what the standby has not yet received.
        try query(primary.url, "ALTER SYSTEM SET synchronous_standby_names = '*'")
        try query(primary.url, "ALTER SYSTEM SET synchronized_standby_slots = 'standby1'")
        try query(primary.url, "SELECT pg_reload_conf()")

        let suffix = String(UInt64.random(in: 0 ... .max), radix: 36)
        let aggregateType = "Failover\(suffix)"
        let bothHosts = pair.bothHosts
        let connector = try pair.startConnector()
        #expect(try query(primary.url, "SELECT failover FROM pg_replication_slots WHERE slot_name = 'failover_slot'").rows.first?.first == "t",
                "outbox-cdc creates a failover slot")
        #expect(connector.log.contains("pg.slot.failover=true") || connector.log.contains("\"pg.slot.failover\":\"true\""), "\(connector.log)")

        let writer = try ContinuousWriter(url: bothHosts, aggregateType: aggregateType)
        defer { writer.stop() }
        try waitFor("the standby to hold a synchronised copy of the slot", timeout: .seconds(60)) { try pair.standbyHoldsTheSlot() }
        try waitFor("events to flow", timeout: .seconds(30)) { writer.acknowledged.count >= 200 }

        let crashed = ContinuousClock.now
        try primary.crash()
        try standby.promote()
        let promoted = ContinuousClock.now
        try waitFor("outbox-cdc to stream from the promoted standby", timeout: .seconds(60)) {
            try query(standby.url, "SELECT active FROM pg_replication_slots WHERE slot_name = 'failover_slot'").rows.first?.first == "t"
        }
        let resumed = ContinuousClock.now
        let writtenBeforeCrash = writer.acknowledged.count
        try waitFor("the writer to commit on the new primary", timeout: .seconds(60)) { writer.acknowledged.count >= writtenBeforeCrash + 200 }
        writer.stop()

        // Every row the new primary holds was committed: each must reach Kafka. Every commit the writer saw
        // succeed must be among them (synchronous replication's side of the promise).
        let rows = Set(try query(standby.url, "SELECT id::text FROM outbox").rows.compactMap { $0.first ?? nil })
        #expect(writer.acknowledged.isSubset(of: rows), "a commit acknowledged to the writer is missing after the promotion")
        let reader = try TopicReader(topics: ["outbox.event.\(aggregateType)"])
        try reader.read(until: rows.count, timeout: .seconds(90), log: connector)
        try reader.drain(for: .seconds(2))
        let lost = rows.subtracting(reader.eventIDs)
        let duplicates = reader.records.count - reader.eventIDs.count
        #expect(lost.isEmpty, "\(lost.count) committed events never arrived")
        #expect(reader.eventIDs.isSubset(of: rows), "only committed events are published")
        #expect(connector.isRunning, "outbox-cdc reconnected rather than stopped:\n\(connector.log)")
        // A new timeline: the fork rule decides where streaming resumes, never the same-history shortcut.
        #expect(connector.log.contains("the server is on a new timeline"), "\(connector.log)")
        #expect(!connector.log.contains("past the slot's confirmed position"), "\(connector.log)")
        print("""
            failover: \(rows.count) events committed (\(writtenBeforeCrash) before the crash), lost \(lost.count), \
            duplicates \(duplicates); promotion took \(crashed.duration(to: promoted)), streaming again \
            \(promoted.duration(to: resumed)) after it (\(crashed.duration(to: resumed)) after the crash)
            """)
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
    }

    /// An asynchronous standby that missed the end of the old primary's WAL: its history forks before what
    /// outbox-cdc had confirmed there. The events the old primary alone had were published and are gone from
    /// the database (PostgreSQL's loss, not the relay's); every event the new primary commits after the fork
    /// must still arrive, though its WAL positions lie below the old confirmed position.
    @Test func afterAFailoverToAStandbyThatMissedTheEndOfTheWALTheNewPrimarysEventsStillArrive() throws {
        let pair = try FailoverPair()
        defer { pair.stop() }
        let (primary, standby) = (pair.primary, pair.standby)
        let type = "Forked\(String(UInt64.random(in: 0 ... .max), radix: 36))"
        func insert(_ url: String, _ count: Int) throws -> [String] {
            let ids = (0 ..< count).map { _ in UUID().uuidString.lowercased() }
            try query(url, "INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES "
                + ids.map { "('\($0)', '\(type)', 'k', 't', '{\"pad\": \"\(String(repeating: "x", count: 200))\"}')" }.joined(separator: ", "))
            return ids
        }
        let connector = try pair.startConnector()
        defer {
            connector.terminate()
            _ = connector.waitForExit(timeout: .seconds(30))
        }
        let reader = try TopicReader(topics: ["outbox.event.\(type)"])
        var shared = try insert(primary.url, 20)
        try waitFor("the standby to hold a synchronised copy of the slot", timeout: .seconds(60)) {
            shared += try insert(primary.url, 1)
            return try pair.standbyHoldsTheSlot()
        }
        try reader.read(until: shared.count, log: connector)
        let beforeSync = try query(standby.url, "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'failover_slot'").rows.first?.first ?? nil

        // The standby stops receiving (no primary_conninfo, so its WAL receiver ends, with nothing buffered
        // to read later); the old primary goes on alone, and outbox-cdc publishes and confirms.
        try query(standby.url, "ALTER SYSTEM SET primary_conninfo = ''")
        try query(standby.url, "SELECT pg_reload_conf()")
        try waitFor("the standby's WAL receiver to stop", timeout: .seconds(30)) {
            try query(standby.url, "SELECT count(*) FROM pg_stat_wal_receiver").rows.first?.first == "0"
        }
        let oldPrimaryOnly = try insert(primary.url, 1000)
        try reader.read(until: shared.count + oldPrimaryOnly.count, log: connector)
        try waitFor("outbox-cdc to confirm past the standby's end", timeout: .seconds(30)) {
            let confirmed = try query(primary.url, "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'failover_slot'").rows.first?.first ?? nil
            let flushed = try query(standby.url, "SELECT pg_last_wal_receive_lsn()").rows.first?.first ?? nil
            guard let confirmed, let flushed else { return false }
            return try query(primary.url, "SELECT '\(confirmed)'::pg_lsn > '\(flushed)'::pg_lsn").rows.first?.first == "t"
        }
        try primary.crash()
        try standby.promote()

        // The new primary writes from the fork on: below the position outbox-cdc confirmed on the old one.
        let afterFork = try insert(standby.url, 5)
        try waitFor("outbox-cdc to stream from the promoted standby", timeout: .seconds(60)) {
            try query(standby.url, "SELECT active FROM pg_replication_slots WHERE slot_name = 'failover_slot'").rows.first?.first == "t"
        }
        let later = try insert(standby.url, 5)
        try reader.read(until: shared.count + oldPrimaryOnly.count + 10, timeout: .seconds(60), log: connector)
        try reader.drain(for: .seconds(2))
        let rows = Set(try query(standby.url, "SELECT id::text FROM outbox").rows.compactMap { $0.first ?? nil })
        let missing = rows.subtracting(reader.eventIDs)
        #expect(missing.isEmpty, "\(missing.count) events committed on the new primary never arrived:\n\(connector.log)")
        #expect(Set(afterFork + later).isSubset(of: reader.eventIDs))
        #expect(connector.log.contains("history forked before the position outbox-cdc had confirmed"), "\(connector.log)")
        print("async failover: \(oldPrimaryOnly.count) events published from the old primary alone (gone from the database), \(missing.count) of the new primary's missing; synced slot was at \(beforeSync ?? "?")")
    }

}

@discardableResult
private func query(_ url: String, _ statement: String) throws -> QueryResult {
    let connection = try PostgresConnection.connect(ConnectionSettings(url))
    defer { connection.close() }
    return try connection.query(statement)
}

/// A primary with an outbox table, and a pg_basebackup standby of it that synchronises slots, streaming.
private struct FailoverPair {
    let primary: ThrowawayCluster
    let standby: ThrowawayCluster

    init() throws {
        let primary = try ThrowawayCluster(walLevel: "logical")
        do {
            standby = try ThrowawayCluster(standbyOf: primary, physicalSlot: "standby1", settings: [
                "sync_replication_slots": "on", "hot_standby_feedback": "on",
            ])
        } catch {
            primary.stop()
            throw error
        }
        self.primary = primary
        do {
            try waitFor("the standby to stream from the primary", timeout: .seconds(30)) {
                try query(primary.url, "SELECT state FROM pg_stat_replication").rows.first?.first == "streaming"
            }
            try query(primary.url, """
                CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype text NOT NULL, aggregateid text NOT NULL,
                                     type text NOT NULL, payload jsonb, created_at timestamptz NOT NULL DEFAULT now())
                """)
        } catch {
            stop()
            throw error
        }
    }

    /// Both hosts: libpq connects to whichever accepts writes.
    var bothHosts: String {
        "postgres://postgres@127.0.0.1:\(primary.port),127.0.0.1:\(standby.port)/postgres?target_session_attrs=read-write&connect_timeout=2"
    }

    /// outbox-cdc on `bothHosts`, once its slot streams on the primary.
    func startConnector() throws -> ConnectorProcess {
        let connector = try ConnectorProcess([
            "--db", bothHosts, "--brokers", try TestStack.brokers(), "--slot", "failover_slot", "--publication", "failover_pub",
            "--status-interval-ms", "200",
        ])
        try waitFor("the slot to stream on the primary", timeout: .seconds(30)) {
            try query(primary.url, "SELECT active AND confirmed_flush_lsn IS NOT NULL FROM pg_replication_slots WHERE slot_name = 'failover_slot'")
                .rows.first?.first == "t"
        }
        return connector
    }

    /// The standby holds a synchronised copy of the slot that survives a promotion (a persistent one).
    func standbyHoldsTheSlot() throws -> Bool {
        try query(standby.url, "SELECT synced AND NOT temporary FROM pg_replication_slots WHERE slot_name = 'failover_slot'")
            .rows.first?.first == "t"
    }

    func stop() {
        standby.stop()
        primary.stop()
    }
}

/// Commits one outbox row at a time on its own thread until stopped, reconnecting after any error, and
/// keeps the ids whose COMMIT succeeded. A commit cut off by the crash is in doubt: it is not counted,
/// and the test learns from the new primary whether it happened.
private final class ContinuousWriter: Sendable {
    private let state = Mutex<(acknowledged: Set<String>, stop: Bool)>(([], false))
    private let finished = Mutex(false)

    init(url: String, aggregateType: String) throws {
        let settings = try ConnectionSettings(url)
        Thread.detachNewThread { [self] in
            var connection: PostgresConnection?
            var sequence = 0
            while !state.withLock({ $0.stop }) {
                do {
                    let open = try connection ?? PostgresConnection.connect(settings)
                    connection = open
                    let id = UUID().uuidString.lowercased()
                    try open.query("""
                        INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload)
                        VALUES ('\(id)', '\(aggregateType)', 'k\(sequence % 4)', 'created', '{"seq": \(sequence)}')
                        """)
                    sequence += 1
                    state.withLock { _ = $0.acknowledged.insert(id) }
                    usleep(2_000)
                } catch {
                    connection?.close()
                    connection = nil
                    usleep(50_000)
                }
            }
            connection?.close()
            finished.withLock { $0 = true }
        }
    }

    var acknowledged: Set<String> { state.withLock { $0.acknowledged } }

    /// Stops the thread and waits for it, so no commit lands after the caller reads the database.
    func stop() {
        state.withLock { $0.stop = true }
        while !finished.withLock({ $0 }) { usleep(10_000) }
    }
}
