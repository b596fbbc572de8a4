import Foundation
import Synchronization
import Testing
import WALReader

/// PostgreSQL 17 and later carry a failover slot to a standby (`sync_replication_slots = on`): after the
/// standby is promoted, outbox-cdc, given both hosts with `target_session_attrs=read-write`, resumes there.
@Suite("Primary failover", .enabled(if: PostgresUnderTest.majorVersion >= 17, "failover slots need PostgreSQL 17 or later"))
struct FailoverTests {
    @Test func afterThePrimaryCrashesAndTheStandbyIsPromotedEveryCommittedEventArrives() throws {
        let primary = try ThrowawayCluster(walLevel: "logical")
        defer { primary.stop() }
        let standby = try ThrowawayCluster(standbyOf: primary, physicalSlot: "standby1", settings: [
            "sync_replication_slots": "on", "hot_standby_feedback": "on",
        ])
        defer { standby.stop() }
        try waitFor("the standby to stream from the primary", timeout: .seconds(30)) {
            try query(primary.url, "SELECT state FROM pg_stat_replication").rows.first?.first == "streaming"
        }
        // Synchronous replication: a commit the writer saw succeed is on the standby, so "every committed
        // event arrives" is a promise PostgreSQL lets us make. synchronized_standby_slots keeps the
        // logical walsender from sending what the standby has not yet received.
        try query(primary.url, "ALTER SYSTEM SET synchronous_standby_names = '*'")
        try query(primary.url, "ALTER SYSTEM SET synchronized_standby_slots = 'standby1'")
        try query(primary.url, "SELECT pg_reload_conf()")
        try query(primary.url, """
            CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype text NOT NULL, aggregateid text NOT NULL,
                                 type text NOT NULL, payload jsonb, created_at timestamptz NOT NULL DEFAULT now())
            """)

        let suffix = String(UInt64.random(in: 0 ... .max), radix: 36)
        let aggregateType = "Failover\(suffix)"
        let bothHosts = "postgres://postgres@127.0.0.1:\(primary.port),127.0.0.1:\(standby.port)/postgres?target_session_attrs=read-write&connect_timeout=2"
        let connector = try ConnectorProcess([
            "--db", bothHosts, "--brokers", try TestStack.brokers(), "--slot", "failover_slot", "--publication", "failover_pub",
            "--status-interval-ms", "200",
        ])
        try waitFor("the slot to stream on the primary", timeout: .seconds(30)) {
            try query(primary.url, "SELECT active AND confirmed_flush_lsn IS NOT NULL FROM pg_replication_slots WHERE slot_name = 'failover_slot'")
                .rows.first?.first == "t"
        }
        #expect(try query(primary.url, "SELECT failover FROM pg_replication_slots WHERE slot_name = 'failover_slot'").rows.first?.first == "t",
                "outbox-cdc creates a failover slot")
        #expect(connector.log.contains("pg.slot.failover=true") || connector.log.contains("\"pg.slot.failover\":\"true\""), "\(connector.log)")

        let writer = try ContinuousWriter(url: bothHosts, aggregateType: aggregateType)
        defer { writer.stop() }
        // Only a synced slot that is persistent (not temporary) survives a promotion.
        try waitFor("the standby to hold a synchronised copy of the slot", timeout: .seconds(60)) {
            try query(standby.url, "SELECT synced AND NOT temporary FROM pg_replication_slots WHERE slot_name = 'failover_slot'")
                .rows.first?.first == "t"
        }
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
        print("""
            failover: \(rows.count) events committed (\(writtenBeforeCrash) before the crash), lost \(lost.count), \
            duplicates \(duplicates); promotion took \(crashed.duration(to: promoted)), streaming again \
            \(promoted.duration(to: resumed)) after it (\(crashed.duration(to: resumed)) after the crash)
            """)
        connector.terminate()
        #expect(connector.waitForExit(timeout: .seconds(30)) == 0, "\(connector.log)")
    }

    @discardableResult
    private func query(_ url: String, _ statement: String) throws -> QueryResult {
        let connection = try PostgresConnection.connect(ConnectionSettings(url))
        defer { connection.close() }
        return try connection.query(statement)
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
