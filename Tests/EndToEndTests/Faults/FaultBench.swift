import Foundation
import KafkaClient
import PostgresLSN
import WALReader

/// One scenario's moving parts: a database holding the outbox, the connector's slot and a witness slot on
/// it, a broker of the scenario's own, a collector reading every event topic and a monitor of the slot.
final class FaultBench {
    let url: String
    let suffix: String
    let slot: String
    let publication: String
    let witness: String
    let broker: OwnBroker
    let types: [String]
    let topics: [String]
    let collector: EventCollector
    let monitor: SlotMonitor
    /// The `--status-interval-ms` the bench starts outbox-cdc with: 200 ms (the suite's), or nil for
    /// outbox-cdc's default (1000 ms).
    var statusIntervalMilliseconds: Int? = 200

    /// `url` is a database that already has the outbox table; `broker` defaults to a fresh Tansu.
    init(
        url: String, suffix: String, broker: OwnBroker? = nil, typeCount: Int = 4, topicPrefix: String = "outbox.event.",
        monitorInterval: Duration = .milliseconds(50)
    ) throws {
        self.url = url
        self.suffix = suffix
        slot = "slot_\(suffix)"
        publication = "pub_\(suffix)"
        witness = "witness_\(suffix)"
        self.broker = try broker ?? OwnBroker()
        types = (0 ..< typeCount).map { "fault\($0)_\(suffix)" }
        topics = types.map { topicPrefix + $0 }
        // The witness first: it sees every transaction the connector's slot will.
        try createWitnessSlot(url: url, name: witness)
        collector = try EventCollector(brokers: self.broker.brokers, topics: topics)
        monitor = SlotMonitor(url: url, slot: slot, interval: monitorInterval)
    }

    /// A bench on a fresh database of the shared stack's PostgreSQL.
    convenience init(database: TestDatabase, broker: OwnBroker? = nil, typeCount: Int = 4, topicPrefix: String = "outbox.event.") throws {
        try self.init(url: database.url, suffix: database.suffix, broker: broker, typeCount: typeCount, topicPrefix: topicPrefix)
    }

    /// Starts outbox-cdc on the bench's database, slot and broker.
    func connector(_ extra: [String] = []) throws -> ConnectorProcess {
        let interval = statusIntervalMilliseconds.map { ["--status-interval-ms", String($0)] } ?? []
        return try ConnectorProcess(["--db", url, "--brokers", broker.brokers, "--slot", slot, "--publication", publication] + interval + extra)
    }

    /// Starts outbox-cdc and waits until it streams from the slot.
    func startConnector(_ extra: [String] = []) throws -> ConnectorProcess {
        let process = try connector(extra)
        try waitUntilStreaming()
        return process
    }

    /// A steady load over the bench's aggregate types: `transactionsPerSecond` × `rows` events a second.
    func load(transactionsPerSecond: Double, rows: Int = 10, maxEvents: Int? = nil) -> LoadGenerator {
        LoadGenerator(transactionsPerSecond: transactionsPerSecond, maxEvents: maxEvents, writer: LoadGenerator.outbox(url: url, types: types, rows: rows))
    }

    @discardableResult
    func sql(_ statement: String) throws -> QueryResult {
        try runSQL(url, statement)
    }

    /// Waits until a process streams from the slot (active, and consistent: `confirmed_flush_lsn` set).
    func waitUntilStreaming(timeout: Duration = .seconds(60)) throws {
        try waitFor("slot \(slot) to stream", timeout: timeout) {
            monitor.samples.last.map { $0.active && $0.confirmed != nil } ?? false
        }
    }

    /// The transaction end of a committed row (by its id) from the witness.
    func commitEnd(ofEvent id: String, table: String = "outbox") throws -> LSN? {
        guard let xid = try sql("SELECT xmin::text FROM \(table) WHERE id = '\(id)'").rows.first?.first ?? nil else { return nil }
        let result = try sql("SELECT lsn::text FROM pg_logical_slot_peek_changes('\(witness)', NULL, NULL) WHERE xid = '\(xid)'::xid AND data LIKE 'COMMIT%'")
        return result.rows.first?.first.flatMap { $0 }.flatMap { LSN($0) }
    }

    /// Waits until Kafka holds every event committed so far (from `load`), up to `timeout`.
    @discardableResult
    func waitForAll(of load: LoadGenerator, timeout: Duration = .seconds(120)) -> Duration? {
        collector.waitForAll(load.events.map(\.id), timeout: timeout)
    }

    func audit(committedSQL: String = FaultAudit.eventRouterCommitted, accountedFor: Set<String> = [], settle: Bool = true) throws -> FaultAudit {
        if settle { collector.settle() }
        return try FaultAudit.run(url: url, slot: slot, witness: witness, collector: collector, monitor: monitor, committedSQL: committedSQL, accountedFor: accountedFor)
    }

    /// Stops the threads and the broker (the database is the caller's).
    func finish() {
        monitor.stop()
        collector.stop()
        broker.stop()
    }
}

extension ConnectorProcess {
    /// Peak RSS in MiB, nil once the process has exited.
    var peakResidentMiB: Double? { peakResidentBytes.map { Double($0) / 1_048_576 } }

    /// How many times the log says `text`.
    func logCount(_ text: String) -> Int { log.components(separatedBy: text).count - 1 }
}

func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
